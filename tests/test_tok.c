/* test_tok.c - the chat-model tokenizers (byte-level BPE, SentencePiece
 * BPE) against llama.cpp's results (../shared/fixtures/tokenizers), and
 * their edges: round trips, caps, special tokens, hostile vocabularies. */
#include <json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../common/fsutil.h"
#include "../common/status.h"
#include "../engine/gguf.h"
#include "../engine/tok.h"
#include "../engine/ucat.h"
#include "harness.h"

/* ---- helpers ---------------------------------------------------------- */

/* The tokenizer of tokenizers/ggml-vocab-NAME.gguf, or NULL (a skip when
 * the fixtures are absent, a failed check when it does not open). */
static struct tok *open_vocab(const char *name)
{
	char rel[256], path[4096];
	snprintf(rel, sizeof rel, "tokenizers/ggml-vocab-%s.gguf", name);
	if (!test_fixture(path, sizeof path, rel))
		return NULL;
	struct gguf *g = NULL;
	struct tok *t = NULL;
	char err[256] = "";
	int rc = gguf_open(path, &g, err, sizeof err);
	if (CHECK_EQ_INT(rc, 0)) {
		rc = tok_open_gguf(g, &t, err, sizeof err);
		CHECK_EQ_INT(rc, 0);
	}
	if (rc)
		printf("    %s: %s\n", path, err);
	gguf_close(g);
	return t;
}

static size_t encode(const struct tok *t, const char *s, size_t len, unsigned flags, int32_t **ids)
{
	size_t n = 0;
	*ids = NULL;
	CHECK_EQ_INT(tok_encode(t, s, len, flags, NULL, 0, &n), 0);
	if (n) {
		*ids = malloc(n * sizeof **ids);
		size_t n2 = 0;
		CHECK_EQ_INT(tok_encode(t, s, len, flags, *ids, n, &n2), 0);
		CHECK_EQ_INT(n2, n);
	}
	return n;
}

/* ---- llama.cpp's test cases ------------------------------------------------ */

/* Every case of the vocabulary's .inp/.out (llama.cpp's
 * test-tokenizer-0: add_special and parse_special off). */
static size_t tok_case(const void *ctx, const char *s, size_t len, int32_t **ids)
{
	return encode(ctx, s, len, 0, ids);
}

static void llama_cases(const char *name)
{
	char rel[256], vpath[4096];
	snprintf(rel, sizeof rel, "tokenizers/ggml-vocab-%s.gguf", name);
	if (!test_fixture(vpath, sizeof vpath, rel))
		return;
	struct tok *t = open_vocab(name);
	if (CHECK(t != NULL))
		test_llama_cases(vpath, name, tok_case, t);
	tok_free(t);
}

/* NAME.tokens.json: every text in llama.cpp's three modes, and the extra
 * texts (special-token text included). */
static void tokens_json(const char *name)
{
	char rel[256], jpath[4096];
	snprintf(rel, sizeof rel, "tokenizers/%s.tokens.json", name);
	if (!test_fixture(jpath, sizeof jpath, rel))
		return;
	struct tok *t = open_vocab(name);
	json_object *root = json_object_from_file(jpath);
	if (!CHECK(t != NULL) || !CHECK(root != NULL))
		goto out;
	static const struct {
		const char *key;
		unsigned flags;
	} modes[] = {
		{ "tokens", 0 },
		{ "tokens_add_special", TOK_ADD_SPECIAL },
		{ "tokens_add_special_parse_special", TOK_ADD_SPECIAL | TOK_PARSE_SPECIAL },
	};
	size_t total = 0, same = 0;
	for (int set = 0; set < 2; set++) {
		json_object *tests;
		if (!CHECK(json_object_object_get_ex(root, set ? "extra_tests" : "tests", &tests)))
			continue;
		for (size_t i = 0; i < json_object_array_length(tests); i++) {
			json_object *x = json_object_array_get_idx(tests, i), *text, *want;
			if (!CHECK(json_object_object_get_ex(x, "text", &text)))
				continue;
			const char *s = json_object_get_string(text);
			size_t len = (size_t)json_object_get_string_len(text);
			for (size_t m = 0; m < sizeof modes / sizeof modes[0]; m++) {
				if (!CHECK(json_object_object_get_ex(x, modes[m].key, &want)))
					continue;
				int32_t *got;
				size_t n = encode(t, s, len, modes[m].flags, &got);
				if (!test_ids_equal_json(got, n, want, s))
					printf("      (mode %s)\n", modes[m].key);
				else
					same++;
				total++;
				free(got);
			}
		}
	}
	printf("    %s: %zu/%zu (text, mode) pairs identical\n", name, same, total);
	CHECK_EQ_INT(total, 3 * (46 + 12));
	CHECK_EQ_INT(same, total);
out:
	json_object_put(root);
	tok_free(t);
}

/* The prompts of the decoder fixtures (llama/NAME.greedy.json), tokenized by
 * llama.cpp with add_special and parse_special: longer texts (486 and 549
 * tokens), German, Japanese, emoji, and <|endoftext|> parsed. The
 * vocabulary is read from the model file itself. */
static void model_prompts(void)
{
	static const char *const models[] = {
		"llama/qwen2-s-f16",
		"llama/llama-s-tied-q4_k_m",
		"llama/llama-s-untied-theta1e5-q4_0",
	};
	for (size_t mi = 0; mi < sizeof models / sizeof *models; mi++) {
		char rel[256], gpath[4096], jpath[4096];
		snprintf(rel, sizeof rel, "%s.gguf", models[mi]);
		if (!test_fixture(gpath, sizeof gpath, rel))
			continue;
		snprintf(rel, sizeof rel, "%s.greedy.json", models[mi]);
		if (!test_fixture(jpath, sizeof jpath, rel))
			continue;
		struct gguf *g = NULL;
		struct tok *t = NULL;
		char err[256] = "";
		if (!CHECK_EQ_INT(gguf_open(gpath, &g, err, sizeof err), 0) ||
		    !CHECK_EQ_INT(tok_open_gguf(g, &t, err, sizeof err), 0)) {
			printf("    %s: %s\n", gpath, err);
			gguf_close(g);
			continue;
		}
		json_object *root = json_object_from_file(jpath), *prompts;
		size_t same = 0, total = 0;
		if (CHECK(root != NULL) &&
		    CHECK(json_object_object_get_ex(root, "prompts", &prompts))) {
			for (size_t i = 0; i < json_object_array_length(prompts); i++) {
				json_object *p = json_object_array_get_idx(prompts, i), *text,
					    *want;
				if (!CHECK(json_object_object_get_ex(p, "text", &text)) ||
				    !CHECK(json_object_object_get_ex(p, "tokens", &want)))
					continue;
				const char *s = json_object_get_string(text);
				int32_t *got;
				size_t n = encode(t, s, (size_t)json_object_get_string_len(text),
						  TOK_ADD_SPECIAL | TOK_PARSE_SPECIAL, &got);
				same += test_ids_equal_json(got, n, want, s);
				total++;
				free(got);
			}
		}
		printf("    %s: %zu/%zu prompts identical\n", models[mi], same, total);
		CHECK_EQ_INT(total, 8);
		CHECK_EQ_INT(same, total);
		json_object_put(root);
		tok_free(t);
		gguf_close(g);
	}
}

static void gpt2_cases(void)
{
	llama_cases("gpt-2");
}
static void starcoder_cases(void)
{
	llama_cases("starcoder");
}
static void llama_spm_cases(void)
{
	llama_cases("llama-spm");
}
static void phi3_cases(void)
{
	llama_cases("phi-3");
}
static void gpt2_json(void)
{
	tokens_json("gpt-2");
}
static void starcoder_json(void)
{
	tokens_json("starcoder");
}
static void llama_spm_json(void)
{
	tokens_json("llama-spm");
}
static void phi3_json(void)
{
	tokens_json("phi-3");
}

/* ---- round trips ------------------------------------------------------------ */

static const char *const round_texts[] = {
	"",
	" ",
	"Hello world",
	"  two leading spaces and trailing  ",
	"tabs\tand\nnew\r\nlines\n\n\n",
	"naïve café — “quotes” … 日本語のテキスト 한국어 🦙🔥👍🏽 👨\u200d👩\u200d👧",
	"numbers 1234567 3.14159 1,000,000 $5.99",
	"code: def f(x):\n    return x ** 2  # comment\n",
	"'s 't 're 've 'm 'll 'd 'S 'T 'RE",
	"\xc2\xa0nbsp\xe2\x80\x89thin\xe2\x80\x8bzero-width",
	"<|endoftext|> <s> </s> [INST] special-looking text",
};

/* decode(encode(x)) == x for valid UTF-8 (no "▁" in it) without the BOS */
static void round_trip(void)
{
	static const char *const names[] = { "gpt-2", "starcoder", "llama-spm", "phi-3" };
	for (size_t v = 0; v < 4; v++) {
		struct tok *t = open_vocab(names[v]);
		if (!t)
			continue;
		size_t ok = 0, total = 0;
		for (size_t i = 0; i < sizeof round_texts / sizeof *round_texts; i++) {
			const char *s = round_texts[i];
			int32_t *ids;
			size_t n = encode(t, s, strlen(s), 0, &ids);
			char buf[4096];
			size_t len;
			tok_decode(t, ids, n, false, true, buf, sizeof buf, &len);
			/* phi-3 splits </s> (a user-defined token) even without
			 * parsing; its piece is its text again */
			bool same = len == strlen(s) && !memcmp(buf, s, len);
			if (!same)
				printf("    %s: \"%s\" -> \"%s\"\n", names[v], s, buf);
			ok += same;
			total++;
			free(ids);
		}
		printf("    %s: %zu/%zu round trips\n", names[v], ok, total);
		CHECK_EQ_INT(ok, total);
		tok_free(t);
	}
}

/* ---- metadata, pieces, specials ------------------------------------------------ */

static void vocab_facts(void)
{
	struct tok *t = open_vocab("phi-3");
	if (t) {
		CHECK_EQ_INT(tok_kind(t), TOK_KIND_SPM);
		CHECK_EQ_INT(tok_n_vocab(t), 32064);
		CHECK_EQ_INT(tok_bos(t), 1);
		CHECK_EQ_INT(tok_eos(t), 32000);
		CHECK_EQ_INT(tok_eot(t), 32007); /* <|end|> */
		CHECK(tok_add_bos(t));
		CHECK(!tok_add_eos(t));
		CHECK(tok_is_eog(t, 32000));
		CHECK(tok_is_eog(t, 32007));
		CHECK(!tok_is_eog(t, 1));
		CHECK_EQ_INT(tok_type(t, 32007), TOK_TYPE_CONTROL);
		CHECK_EQ_INT(tok_type(t, 2), TOK_TYPE_USER_DEFINED);
		CHECK_EQ_INT(tok_type(t, 99999), TOK_TYPE_UNDEFINED);
		size_t l;
		const char *p = tok_piece(t, 32007, false, &l);
		CHECK_EQ_INT(l, 0);
		p = tok_piece(t, 32007, true, &l);
		CHECK(l == 7 && !memcmp(p, "<|end|>", 7));
		p = tok_piece(t, 15043, false, &l); /* ▁Hello */
		CHECK(l == 6 && !memcmp(p, " Hello", 6));
		p = tok_piece(t, 3 + 0xE6, false, &l); /* <0xE6> */
		CHECK(l == 1 && (unsigned char)p[0] == 0xE6);
		CHECK_EQ_INT(tok_lookup(t, "<|user|>", 8), 32010);
		p = tok_piece(t, -1, true, &l);
		CHECK_EQ_INT(l, 0);
		CHECK(tok_text(t, 32064, &l) == NULL);
		tok_free(t);
	}
	t = open_vocab("gpt-2");
	if (t) {
		CHECK_EQ_INT(tok_kind(t), TOK_KIND_BPE);
		CHECK_STR(tok_pre(t), "gpt-2");
		CHECK_EQ_INT(tok_bos(t), 50256);
		CHECK(!tok_add_bos(t));
		CHECK(tok_is_eog(t, 50256));
		size_t l;
		const char *p = tok_piece(t, 220, false, &l); /* "Ġ" */
		CHECK(l == 1 && p[0] == ' ');
		p = tok_piece(t, 198, false, &l); /* "Ċ" */
		CHECK(l == 1 && p[0] == '\n');
		tok_free(t);
	}
}

/* The first cap ids are written, all are counted; the cap on input. */
static void caller_buffer_and_caps(void)
{
	struct tok *t = open_vocab("gpt-2");
	if (!t)
		return;
	int32_t v[4] = { -7, -7, -7, -7 };
	size_t n = 0;
	const char *s = "Hello world Hello world";
	CHECK_EQ_INT(tok_encode(t, s, strlen(s), 0, v, 3, &n), 0);
	CHECK_EQ_INT(n, 4);
	CHECK_EQ_INT(v[0], 15496);
	CHECK_EQ_INT(v[1], 995);
	CHECK_EQ_INT(v[3], -7);
	char *big = malloc(TOK_MAX_INPUT + 1);
	memset(big, 'a', TOK_MAX_INPUT + 1);
	CHECK_EQ_INT(tok_encode(t, big, TOK_MAX_INPUT + 1, 0, NULL, 0, &n), MX_ETOOBIG);
	struct tok_seg segs[2] = { { big, TOK_MAX_INPUT, false }, { big, 1, true } };
	CHECK_EQ_INT(tok_encode_segs(t, segs, 2, false, NULL, 0, &n), MX_ETOOBIG);
	/* one long word of letters merges in reasonable time */
	CHECK_EQ_INT(tok_encode(t, big, 200000, 0, NULL, 0, &n), 0);
	CHECK(n > 0 && n < 200000);
	free(big);
	/* invalid UTF-8 is U+FFFD, decoded back as its bytes */
	int32_t *ids;
	n = encode(t,
		   "a\xff"
		   "b",
		   3, 0, &ids);
	char buf[64];
	size_t len;
	tok_decode(t, ids, n, false, false, buf, sizeof buf, &len);
	CHECK_STR(buf, "a\xef\xbf\xbd"
		       "b");
	/* a short buffer holds a prefix and says how much was needed */
	tok_decode(t, ids, n, false, false, buf, 3, &len);
	CHECK_EQ_INT(len, 5);
	CHECK_EQ_INT(strlen(buf), 2);
	free(ids);
	tok_free(t);
}

/* Segments: content is never parsed for control tokens, template text is;
 * the result equals encoding the concatenation when the content has no
 * special-token text. */
static void segments(void)
{
	struct tok *t = open_vocab("phi-3");
	if (!t)
		return;
	struct tok_seg a[] = {
		{ "<|user|>\n", 9, true },
		{ "Hello", 5, false },
		{ "<|end|>\n<|assistant|>\n", 22, true },
	};
	int32_t v[32];
	size_t n;
	CHECK_EQ_INT(tok_encode_segs(t, a, 3, true, v, 32, &n), 0);
	static const int32_t want[] = { 1, 32010, 15043, 32007, 32001 };
	CHECK(n == 5 && !memcmp(v, want, sizeof want));
	int32_t *w;
	const char *all = "<|user|>\nHello<|end|>\n<|assistant|>\n";
	size_t m = encode(t, all, strlen(all), TOK_ADD_SPECIAL | TOK_PARSE_SPECIAL, &w);
	CHECK(m == n && !memcmp(v, w, n * sizeof *v));
	free(w);
	/* injected control text in content stays text */
	struct tok_seg b[] = {
		{ "<|user|>\n", 9, true },
		{ "<|end|>", 7, false },
	};
	CHECK_EQ_INT(tok_encode_segs(t, b, 2, false, v, 32, &n), 0);
	CHECK(n > 2 && v[0] == 32010);
	for (size_t i = 1; i < n; i++)
		CHECK(v[i] != 32007);
	/* the strip after <|user|> reaches into content that starts with
	 * white space, as in the concatenated text */
	struct tok_seg c[] = {
		{ "<|user|>", 8, true },
		{ "\n  Hi", 5, false },
	};
	CHECK_EQ_INT(tok_encode_segs(t, c, 2, false, v, 32, &n), 0);
	m = encode(t, "<|user|>\n  Hi", 13, TOK_PARSE_SPECIAL, &w);
	CHECK(m == n && !memcmp(v, w, n * sizeof *v));
	free(w);
	tok_free(t);
}

static void unicode_classes(void)
{
	CHECK_EQ_INT(ucat_of('a'), UCAT_LETTER);
	CHECK_EQ_INT(ucat_of('7'), UCAT_NUMBER);
	CHECK_EQ_INT(ucat_of('!'), UCAT_PUNCT);
	CHECK_EQ_INT(ucat_of('$'), UCAT_SYMBOL);
	CHECK_EQ_INT(ucat_of(0x00E9), UCAT_LETTER);  /* é */
	CHECK_EQ_INT(ucat_of(0x0301), UCAT_MARK);    /* combining acute */
	CHECK_EQ_INT(ucat_of(0x0660), UCAT_NUMBER);  /* Arabic-Indic zero */
	CHECK_EQ_INT(ucat_of(0x2163), UCAT_NUMBER);  /* Roman numeral four (Nl) */
	CHECK_EQ_INT(ucat_of(0x4E00), UCAT_LETTER);  /* CJK */
	CHECK_EQ_INT(ucat_of(0x1F999), UCAT_SYMBOL); /* llama emoji */
	CHECK_EQ_INT(ucat_of(0x200B), UCAT_CONTROL); /* zero width space (Cf) */
	CHECK_EQ_INT(ucat_of(0x0378), UCAT_NONE);    /* unassigned */
	CHECK_EQ_INT(ucat_of(0x2EBF0), UCAT_LETTER); /* CJK Ext. I (15.1) */
	CHECK_EQ_INT(ucat_of(0x10FFFF), UCAT_NONE);
	CHECK_EQ_INT(ucat_of(0x110000), UCAT_NONE);
	CHECK(ucat_is_space(0x3000));
	CHECK(ucat_is_space('\v'));
	CHECK(!ucat_is_space(0x200B));
	CHECK(!ucat_is_space(0x1C));
}

/* ---- hostile vocabularies -------------------------------------------------------- */

/* A GGUF in memory with the given tokenizer.* keys (strings of tokens,
 * merges and a few scalars). */
struct gbuf {
	unsigned char *p;
	size_t n, cap;
};

static void put(struct gbuf *b, const void *d, size_t n)
{
	if (b->n + n > b->cap) {
		b->cap = (b->n + n) * 2;
		b->p = realloc(b->p, b->cap);
	}
	memcpy(b->p + b->n, d, n);
	b->n += n;
}
static void put_u32(struct gbuf *b, uint32_t v)
{
	put(b, &v, 4);
}
static void put_u64(struct gbuf *b, uint64_t v)
{
	put(b, &v, 8);
}
static void put_str(struct gbuf *b, const char *s)
{
	put_u64(b, strlen(s));
	put(b, s, strlen(s));
}

static struct tok *tiny(const char *model, const char *pre, const char *const *toks, size_t nt,
			const char *const *merges, size_t nm, const int32_t *types, int32_t bos,
			int *rc_out)
{
	struct gbuf b = { 0 };
	put(&b, "GGUF", 4);
	put_u32(&b, 3);
	put_u64(&b, 0);
	uint64_t nkv = 2 + (pre != NULL) + (merges != NULL) + (types != NULL) + (bos != -2);
	put_u64(&b, nkv);
	put_str(&b, "tokenizer.ggml.model");
	put_u32(&b, GGUF_STRING);
	put_str(&b, model);
	if (pre) {
		put_str(&b, "tokenizer.ggml.pre");
		put_u32(&b, GGUF_STRING);
		put_str(&b, pre);
	}
	put_str(&b, "tokenizer.ggml.tokens");
	put_u32(&b, GGUF_ARRAY);
	put_u32(&b, GGUF_STRING);
	put_u64(&b, nt);
	for (size_t i = 0; i < nt; i++)
		put_str(&b, toks[i]);
	if (merges) {
		put_str(&b, "tokenizer.ggml.merges");
		put_u32(&b, GGUF_ARRAY);
		put_u32(&b, GGUF_STRING);
		put_u64(&b, nm);
		for (size_t i = 0; i < nm; i++)
			put_str(&b, merges[i]);
	}
	if (types) {
		put_str(&b, "tokenizer.ggml.token_type");
		put_u32(&b, GGUF_ARRAY);
		put_u32(&b, GGUF_I32);
		put_u64(&b, nt);
		put(&b, types, nt * 4);
	}
	if (bos != -2) {
		put_str(&b, "tokenizer.ggml.bos_token_id");
		put_u32(&b, GGUF_U32);
		put_u32(&b, (uint32_t)bos);
	}
	while (b.n % 32)
		put(&b, "", 1);
	struct gguf *g = NULL;
	struct tok *t = NULL;
	char err[256] = "";
	int rc = gguf_open_memory(b.p, b.n, &g, err, sizeof err);
	if (rc == 0)
		rc = tok_open_gguf(g, &t, err, sizeof err);
	if (rc && !rc_out)
		printf("    tiny vocab: %s\n", err);
	if (rc_out)
		*rc_out = rc;
	gguf_close(g);
	free(b.p);
	return t;
}

static void hostile_vocab(void)
{
	static const char *const toks[] = { "a", "b", "ab", "<|x|>", "\xc4\xa0" };
	static const char *const merges[] = { "a b", "nospace", "a b", " x", "ab ab" };
	static const int32_t types[] = { 1, 1, 1, 3, 1 };
	int rc;
	struct tok *t = tiny("gpt2", "gpt-2", toks, 5, merges, 5, types, -2, &rc);
	CHECK_EQ_INT(rc, 0);
	if (t) {
		int32_t v[16];
		size_t n;
		/* bytes without tokens are dropped (no byte fallback in BPE) */
		CHECK_EQ_INT(tok_encode(t, "ab c ab", 7, 0, v, 16, &n), 0);
		CHECK(n >= 2 && v[0] == 2);
		CHECK_EQ_INT(tok_encode(t, "<|x|>ab", 7, TOK_PARSE_SPECIAL, v, 16, &n), 0);
		CHECK(n == 2 && v[0] == 3 && v[1] == 2);
		CHECK_EQ_INT(tok_bos(t), -1); /* the default 11 is past 5 tokens */
		tok_free(t);
	}
	/* bad metadata is refused with a reason */
	t = tiny("gpt2", "gpt-2", toks, 5, merges, 5, types, 99, &rc);
	CHECK(t == NULL);
	CHECK_EQ_INT(rc, MX_ECORRUPT);
	t = tiny("gpt2", "no-such-pre", toks, 5, merges, 5, types, -2, &rc);
	CHECK(t == NULL);
	CHECK_EQ_INT(rc, MX_EUNSUPPORTED);
	t = tiny("gpt2", "gpt-2", toks, 5, NULL, 0, types, -2, &rc);
	CHECK(t == NULL);
	CHECK_EQ_INT(rc, MX_ECORRUPT);
	t = tiny("bert", NULL, toks, 5, NULL, 0, NULL, -2, &rc);
	CHECK(t == NULL);
	CHECK_EQ_INT(rc, MX_EUNSUPPORTED);
	/* SPM without scores, byte tokens or the default specials */
	t = tiny("llama", NULL, toks, 5, NULL, 0, NULL, -2, &rc);
	CHECK_EQ_INT(rc, 0);
	if (t) {
		int32_t v[16];
		size_t n;
		CHECK_EQ_INT(tok_encode(t, "ab zz", 5, TOK_ADD_SPECIAL, v, 16, &n), 0);
		CHECK(n >= 1 && v[0] == 1); /* default BOS id 1 */
		tok_free(t);
	}
}

/* ---- pre-tokenizers without a fixture vocabulary ------------------------------ */

/* GPT-2's byte encoder, written out again: byte b as a code point */
static unsigned enc_cp(unsigned b)
{
	bool keep = (b >= 0x21 && b <= 0x7E) || (b >= 0xA1 && b <= 0xAC) || b >= 0xAE;
	if (keep)
		return b;
	unsigned n = 0;
	for (unsigned c = 0; c < b; c++)
		n += !((c >= 0x21 && c <= 0x7E) || (c >= 0xA1 && c <= 0xAC) || c >= 0xAE);
	return 0x100 + n;
}

/* A byte-level vocabulary: the 256 byte tokens (ids 0..255), then words
 * (ids 256...), with merges; for watching where a pre-tokenizer cuts. */
static struct tok *byte_vocab(const char *pre, const char *const *words, size_t nw,
			      const char *const *merges, size_t nm)
{
	static char bytes[256][4];
	const char *toks[256 + 16];
	for (unsigned b = 0; b < 256; b++) {
		unsigned c = enc_cp(b);
		if (c < 0x80) {
			bytes[b][0] = (char)c;
			bytes[b][1] = 0;
		} else {
			bytes[b][0] = (char)(0xC0 | (c >> 6));
			bytes[b][1] = (char)(0x80 | (c & 0x3F));
			bytes[b][2] = 0;
		}
		toks[b] = bytes[b];
	}
	for (size_t i = 0; i < nw && i < 16; i++)
		toks[256 + i] = words[i];
	return tiny("gpt2", pre, toks, 256 + nw, merges, nm, NULL, -2, NULL);
}

static bool ids_are(const struct tok *t, const char *text, const int32_t *want, size_t nwant)
{
	int32_t v[64];
	size_t n;
	if (tok_encode(t, text, strlen(text), 0, v, 64, &n) || n != nwant ||
	    memcmp(v, want, n * sizeof *v)) {
		printf("    \"%s\":\n", text);
		test_print_ids("got", v, n < 64 ? n : 64);
		test_print_ids("expected", want, nwant);
		return false;
	}
	return true;
}

/* Llama 3: whole words are looked up (ignore_merges), so the ids show the
 * words: contractions, letters with one leading non-letter, digits in
 * threes, white space up to the last newline, white space before a word. */
static void pre_llama3(void)
{
	/* Ġ = space, Ċ = newline */
	static const char *const w[] = { "Hello",
					 "\xc4\xa0world",
					 "'s",
					 "\xc4\xa0",
					 "123",
					 "45",
					 "\xc4\xa0\xc4\x8a\xc4\x8a",
					 "\xc4\xa0x",
					 "'S",
					 "(hello",
					 "\xc4\xa0!!" };
	static const char *const m[] = { "q z" }; /* none that applies */
	struct tok *t = byte_vocab("llama-bpe", w, 11, m, 1);
	if (!CHECK(t != NULL))
		return;
	static const int32_t a[] = { 256, 257, 258, 259, 260, 261, 262, 259, 263 };
	CHECK(ids_are(t, "Hello world's 12345 \n\n  x", a, 9));
	static const int32_t b[] = { 264, 265, 266 }; /* 'S  (hello  " !!" */
	CHECK(ids_are(t, "'S(hello !!", b, 3));
	/* llama-bpe adds a BOS; without a bos_token_id it is llama.cpp's default 11 */
	CHECK(tok_add_bos(t));
	CHECK_EQ_INT(tok_bos(t), 11);
	tok_free(t);
}

/* Qwen2: like Llama 3 but every digit alone, and merges apply. */
static void pre_qwen2(void)
{
	/* U+0378 (unassigned) is bytes CD B8, byte-encoded as "Í¸" */
	static const char *const w[] = {
		"ab", "12", "'S", "'Sx", "!\xc3\x8d", "!\xc3\x8d\xc2\xb8"
	};
	static const char *const m[] = { "a b",	 "1 2",	       "' S",
					 "'S x", "! \xc3\x8d", "!\xc3\x8d \xc2\xb8" };
	struct tok *t = byte_vocab("qwen2", w, 6, m, 6);
	if (!CHECK(t != NULL))
		return;
	/* the byte tokens are in byte order: the id of '1' is '1' */
	static const int32_t a[] = { 256, '1', '2' };
	CHECK(ids_are(t, "ab12", a, 3));
	static const int32_t b[] = { 258, 'x' }; /* the contraction first */
	CHECK(ids_are(t, "'Sx", b, 2));
	/* std::regex sees an unassigned code point as "other": one word */
	static const int32_t d[] = { 261 };
	CHECK(ids_are(t, "!\xcd\xb8", d, 1));
	tok_free(t);
	/* the same vocabulary with gpt-2: "12" is one word, merged */
	t = byte_vocab("gpt-2", w, 6, m, 6);
	if (CHECK(t != NULL)) {
		static const int32_t c[] = { 256, 257 };
		CHECK(ids_are(t, "ab12", c, 2));
		tok_free(t);
	}
}

static const struct test_case tests[] = {
	TEST(gpt2_cases),
	TEST(starcoder_cases),
	TEST(llama_spm_cases),
	TEST(phi3_cases),
	TEST(gpt2_json),
	TEST(starcoder_json),
	TEST(llama_spm_json),
	TEST(phi3_json),
	TEST(round_trip),
	TEST(vocab_facts),
	TEST(caller_buffer_and_caps),
	TEST(segments),
	TEST(unicode_classes),
	TEST(hostile_vocab),
	TEST(pre_llama3),
	TEST(pre_qwen2),
	TEST(model_prompts),
};

TEST_MAIN(tests)
