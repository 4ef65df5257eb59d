/* fuzz_wordpiece.c - the WordPiece tokenizer on arbitrary bytes, with the
 * bert-bge vocabulary of the shared fixtures (nothing is run without it).
 * Checks: ids are in the vocabulary, [CLS]/[SEP] frame the ids when asked
 * for, a short buffer gets a prefix of the full result, and the count
 * does not depend on the buffer. */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../../engine/gguf.h"
#include "../../engine/wordpiece.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Loaded once per process: a fuzz target's own state, not the library's. */
static struct wordpiece *vocab(void)
{
	static struct wordpiece *wp;
	static bool tried;
	if (tried)
		return wp;
	tried = true;
	static const char *const paths[] = {
		"../shared/fixtures/tokenizers/ggml-vocab-bert-bge.gguf",
		"../../shared/fixtures/tokenizers/ggml-vocab-bert-bge.gguf",
	};
	for (size_t i = 0; i < sizeof paths / sizeof paths[0] && !wp; i++) {
		struct gguf *g = NULL;
		char err[256];
		if (gguf_open(paths[i], &g, err, sizeof err) == 0)
			wp_open_gguf(g, &wp, err, sizeof err);
		gguf_close(g);
	}
	return wp;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const struct wordpiece *wp = vocab();
	if (!wp || size > (1u << 16))
		return 0;
	const char *text = (const char *)data;
	for (unsigned flags = 0; flags < 4; flags++) {
		size_t n = 0, n2 = 0;
		if (wp_tokenize(wp, text, size, flags, NULL, 0, &n))
			return 0; /* out of memory */
		int32_t *ids = malloc((n ? n : 1) * sizeof *ids);
		if (!ids)
			return 0;
		if (wp_tokenize(wp, text, size, flags, ids, n, &n2) || n2 != n)
			abort();
		for (size_t i = 0; i < n; i++)
			if (ids[i] < 0 || (size_t)ids[i] >= wp_n_vocab(wp))
				abort();
		if (flags & WP_ADD_SPECIAL) {
			if (n < 2 || ids[0] != wp_cls(wp) || ids[n - 1] != wp_sep(wp))
				abort();
		}
		/* a buffer of half the size gets the first half */
		size_t half = n / 2;
		int32_t *part = malloc((half ? half : 1) * sizeof *part);
		if (part) {
			if (wp_tokenize(wp, text, size, flags, part, half, &n2) || n2 != n ||
			    (half && memcmp(part, ids, half * sizeof *ids)))
				abort();
			free(part);
		}
		free(ids);
	}
	return 0;
}
