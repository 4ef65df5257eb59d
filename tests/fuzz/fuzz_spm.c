/* fuzz_spm.c - the USE-Lite SentencePiece tokenizer: NFKC, the space
 * marks and the Viterbi over any bytes. The vocabulary is the converted
 * model's when MEMEX_USE_GGUF names one (8,000 pieces), else a tiny
 * built-in one that still has the awkward cases: a reserved piece, a
 * duplicate, a piece of score 0, an emoji piece (two UTF-16 units). */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../../common/status.h"
#include "../../engine/gguf.h"
#include "../../engine/spm.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define SP "\xe2\x96\x81"

static struct spm *tiny_vocab(void)
{
	static const char *const pieces[] = {
		"\xef\xbf\xbd",
		"<s>",
		SP,
		SP "a",
		"a",
		"b",
		SP "ab",
		"ab",
		"x",
		"x",
		SP "the",
		"the",
		"e",
		"\xc3\xa9",
		"\xf0\x9f\x98\x80",
		":",
		SP ":",
		"fi",
		"\t",
		"\xe6\x97\xa5",
	};
	static const double scores[] = {
		0, 0, -1, -2, -3, -3, -1.5, -2.5, -4, -4.5, -0.5, -3, -2, -5, -1, 0, 0, -2, -6, -7,
	};
	enum { N = sizeof pieces / sizeof pieces[0] };
	size_t lens[N];
	for (size_t i = 0; i < N; i++)
		lens[i] = strlen(pieces[i]);
	struct spm *t = NULL;
	return spm_new(pieces, lens, scores, N, 2, 0, &t) == 0 ? t : NULL;
}

static struct spm *model_vocab(const char *path)
{
	struct gguf *g = NULL;
	struct spm *t = NULL;
	char err[256];
	if (gguf_open(path, &g, err, sizeof err) == 0)
		spm_open_gguf(g, &t, err, sizeof err);
	gguf_close(g);
	return t;
}

/* Built on the first input and kept for the process: the fuzzer's only
 * state, read-only once made. */
static struct spm *vocab(void)
{
	static struct spm *t;
	if (!t) {
		const char *path = getenv("MEMEX_USE_GGUF");
		t = path && *path ? model_vocab(path) : tiny_vocab();
		if (!t)
			abort(); /* a setup error, not a finding */
	}
	return t;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const struct spm *t = vocab();
	const char *text = (const char *)data;
	int32_t ids[64];
	size_t n = 0, n0 = 0, nn = 0;
	char *norm = NULL;
	int rc = spm_tokenize(t, text, size, ids, 64, &n);
	if (rc == MX_ETOOBIG)
		return 0;
	if (rc)
		abort();
	/* the count does not depend on the room given */
	if (spm_tokenize(t, text, size, NULL, 0, &n0) || n0 != n)
		abort();
	/* no tokens exactly when nothing is left after normalizing */
	if (spm_normalize(text, size, &norm, &nn) || (nn == 0) != (n == 0) || strlen(norm) != nn)
		abort();
	/* every id is in the vocabulary, unknowns never follow each other,
	 * and the pieces are no longer than the text they came from */
	size_t bytes = 0;
	for (size_t i = 0; i < n && i < 64; i++) {
		size_t len = 0;
		if (!spm_piece(t, ids[i], &len))
			abort();
		if (ids[i] == spm_unk(t) && i > 0 && ids[i - 1] == spm_unk(t))
			abort();
		if (ids[i] != spm_unk(t))
			bytes += len;
	}
	if (bytes > nn)
		abort();
	free(norm);
	return 0;
}
