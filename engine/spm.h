/*
 * spm.h - the SentencePiece unigram tokenizer of Universal Sentence Encoder
 * Lite, as the TensorFlow.js Tokenizer of @tensorflow-models/universal-
 * sentence-encoder 1.3.3 runs it (the ids the model was used with).
 *
 * The vocabulary is tokenizer.ggml.tokens (UTF-8 pieces, U+2581 "▁" for a
 * space) with their log-probabilities, of a GGUF whose tokenizer.ggml.model
 * is "use-spm" (written by use_convert()). Encoding a text:
 *
 *   1. the text ends at its first NUL byte; invalid UTF-8 becomes U+FFFD;
 *   2. NFKC; an empty result has no tokens; otherwise every U+0020 becomes
 *      "▁" and one "▁" is put in front (tabs and newlines stay as they are);
 *   3. Viterbi over the code points: a piece of the vocabulary (except the
 *      first use.tokenizer.reserved_count entries) that matches at a
 *      position scores its log-probability; where no piece at all starts at
 *      a position, that one code point is an unknown of score 0 and id
 *      tokenizer.ggml.unknown_token_id. The TF.js quirks are kept: the
 *      best score of a position counts as unset while it is exactly 0, ties
 *      go to the later start, a piece listed twice takes its last id and
 *      score, and the walk back from the end steps over the UTF-16 length
 *      of each chosen piece's text;
 *   4. runs of unknowns become one unknown.
 *
 * Scores are summed in double precision from the exact JSON values (the
 * f32 tokenizer.ggml.scores plus use.tokenizer.scores_residual, two f32
 * per piece, that restore the double), as JavaScript does: near-ties decide
 * like the reference.
 *
 * A tokenizer is immutable once built: it may be used from several threads.
 */
#ifndef MX_SPM_H
#define MX_SPM_H

#include <stddef.h>
#include <stdint.h>

struct gguf;
struct spm;

/* Most bytes spm_tokenize() takes, and most its NFKC may make of them
 * (MX_ETOOBIG beyond). */
#define SPM_MAX_INPUT	   (1u << 20)
#define SPM_MAX_NORMALIZED (4u << 20)

/* Builds the tokenizer from g's tokenizer.* metadata (the pieces are copied:
 * g may be closed afterwards). 0, or MX_EUNSUPPORTED (not a "use-spm"
 * vocabulary), MX_ECORRUPT (missing or inconsistent metadata), MX_ENOMEM;
 * the reason is written to err. *out is NULL on failure; free it with
 * spm_free(). */
int spm_open_gguf(const struct gguf *g, struct spm **out, char *err, size_t errsz);

/* Builds a tokenizer from n pieces (UTF-8, lens[i] bytes each) and their
 * scores; the first `reserved` pieces are never matched; unk is the id of
 * unknown characters. For tests and the fuzz target. 0, MX_EINVAL or
 * MX_ENOMEM. */
int spm_new(const char *const *pieces, const size_t *lens, const double *scores, size_t n,
	    size_t reserved, int32_t unk, struct spm **out);
void spm_free(struct spm *t); /* NULL is fine */

/* Steps 1 and 2 above: text[0..len) -> *out (malloc'd, NUL-terminated,
 * caller frees; *outlen bytes, 0 for a text without tokens). 0, MX_ENOMEM,
 * or MX_ETOOBIG (over SPM_MAX_INPUT or SPM_MAX_NORMALIZED). */
int spm_normalize(const char *text, size_t len, char **out, size_t *outlen);

/* Tokenizes text[0..len) (any bytes). Writes the first cap ids to out (out
 * may be NULL when cap is 0) and the number of ids of the whole text to *n,
 * which may be more than cap. 0, MX_ENOMEM or MX_ETOOBIG. */
int spm_tokenize(const struct spm *t, const char *text, size_t len, int32_t *out, size_t cap,
		 size_t *n);

size_t spm_n_vocab(const struct spm *t);
int32_t spm_unk(const struct spm *t);
/* The piece of id (borrowed, not NUL-terminated), or NULL when out of range. */
const char *spm_piece(const struct spm *t, int32_t id, size_t *len);

#endif
