/* fuzz_tok.c - the chat-model tokenizers (tok.h).
 *
 * An input that starts with "TMPL" is a chat template (Jinja text): it is
 * recognised or not, and a conversation is rendered with it; the segments
 * must tile the prompt, and content must stay in content segments.
 * An input that starts with "GGUF" is a vocabulary: it is opened as one
 * (hostile metadata must be refused or work, never crash) and, if it
 * opens, a fixed text is encoded and decoded with it. Any other input is
 * text: its first byte picks one of the fixture vocabularies (gpt-2,
 * starcoder, llama-spm, phi-3; nothing is run without ../shared) and the
 * flags, the rest is encoded. Checks: ids are in the vocabulary, a short
 * buffer gets a prefix of the full result, the count does not depend on
 * the buffer, and a segmented encode of the same text with the same
 * parsing gives the same ids. */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../../engine/chat_tmpl.h"
#include "../../engine/gguf.h"
#include "../../engine/tok.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define NV 4

/* Loaded once per process: a fuzz target's own state, not the library's. */
static struct tok *vocab(unsigned i)
{
	static struct tok *v[NV];
	static bool tried[NV];
	static const char *const names[NV] = { "gpt-2", "starcoder", "llama-spm", "phi-3" };
	static const char *const dirs[] = { "../shared/fixtures/tokenizers",
					    "../../shared/fixtures/tokenizers" };
	if (tried[i])
		return v[i];
	tried[i] = true;
	for (size_t d = 0; d < sizeof dirs / sizeof *dirs && !v[i]; d++) {
		char path[512];
		struct gguf *g = NULL;
		char err[256];
		snprintf(path, sizeof path, "%s/ggml-vocab-%s.gguf", dirs[d], names[i]);
		if (gguf_open(path, &g, err, sizeof err) == 0)
			tok_open_gguf(g, &v[i], err, sizeof err);
		gguf_close(g);
	}
	return v[i];
}

static void check_text(const struct tok *t, const char *text, size_t size, unsigned flags,
		       bool seg_check)
{
	size_t n = 0, n2 = 0;
	if (tok_encode(t, text, size, flags, NULL, 0, &n))
		return; /* out of memory */
	int32_t *ids = malloc((n ? n : 1) * sizeof *ids);
	if (!ids)
		return;
	if (tok_encode(t, text, size, flags, ids, n, &n2) || n2 != n)
		abort();
	for (size_t i = 0; i < n; i++)
		if (ids[i] < 0 || (size_t)ids[i] >= tok_n_vocab(t))
			abort();
	size_t half = n / 2;
	int32_t *part = malloc((half ? half : 1) * sizeof *part);
	if (part) {
		if (tok_encode(t, text, size, flags, part, half, &n2) || n2 != n ||
		    (half && memcmp(part, ids, half * sizeof *ids)))
			abort();
		free(part);
	}
	/* the same text cut in two segments of the same kind: same ids */
	struct tok_seg s[2] = { { text, size / 3, (flags & TOK_PARSE_SPECIAL) != 0 },
				{ text + size / 3, size - size / 3,
				  (flags & TOK_PARSE_SPECIAL) != 0 } };
	int32_t *seg = malloc((n ? n : 1) * sizeof *seg);
	if (seg && seg_check && !(flags & TOK_PARSE_SPECIAL)) {
		/* (with parsing, or a user-defined token, which is split
		 * out always, a token may straddle the cut) */
		if (tok_encode_segs(t, s, 2, flags & TOK_ADD_SPECIAL, seg, n, &n2) == 0 &&
		    (n2 != n || (n && memcmp(seg, ids, n * sizeof *ids))))
			abort();
	}
	free(seg);
	char buf[256];
	size_t len;
	tok_decode(t, ids, n, flags & 1, true, buf, sizeof buf, &len);
	free(ids);
}

static void check_template(const char *j, size_t len)
{
	static const struct chat_msg m[] = {
		{ CHAT_ROLE_SYSTEM, "sys", 3 },
		{ CHAT_ROLE_USER, " u1 <|im_end|> ", 15 },
		{ CHAT_ROLE_ASSISTANT, "a1\n", 3 },
		{ CHAT_ROLE_USER, "u2", 2 },
	};
	struct chat_tmpl *t = NULL;
	if (chat_tmpl_new(j, len, "<s>", "</s>", &t))
		return;
	for (int gen = 0; gen < 2; gen++) {
		struct chat_prompt p;
		if (chat_tmpl_render(t, m, 4, gen, &p))
			continue;
		size_t at = 0;
		for (size_t i = 0; i < p.n_segs; i++) {
			if (p.segs[i].off != at || !p.segs[i].len)
				abort();
			if (p.segs[i].special &&
			    memmem(p.text + p.segs[i].off, p.segs[i].len, "u1", 2))
				abort(); /* content in template text */
			at += p.segs[i].len;
		}
		if (at != p.len || strlen(p.text) != p.len)
			abort();
		chat_prompt_free(&p);
	}
	chat_tmpl_free(t);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size >= 4 && !memcmp(data, "TMPL", 4)) {
		check_template((const char *)data + 4, size - 4);
		return 0;
	}
	if (size >= 4 && !memcmp(data, "GGUF", 4)) {
		struct gguf *g = NULL;
		struct tok *t = NULL;
		char err[256];
		if (gguf_open_memory(data, size, &g, err, sizeof err) == 0 &&
		    tok_open_gguf(g, &t, err, sizeof err) == 0) {
			static const char s[] =
				"Hello <s> world <|im_end|> 123 'll \xff\xfe\n\n !\xcd\xb8 "
				"\xe2\x80\x83x\r\n";
			check_text(t, s, sizeof s - 1, TOK_ADD_SPECIAL | TOK_PARSE_SPECIAL, false);
			check_text(t, s, sizeof s - 1, 0, false);
		}
		tok_free(t);
		gguf_close(g);
		return 0;
	}
	if (size < 1 || size > (1u << 16))
		return 0;
	const struct tok *t = vocab(data[0] % NV);
	if (!t)
		return 0;
	/* phi-3's only user-defined token is </s> */
	bool seg = data[0] % NV != 3 || !memmem(data + 1, size - 1, "</s>", 4);
	check_text(t, (const char *)data + 1, size - 1, (data[0] / NV) & 3, seg);
	return 0;
}
