/*
 * wordpiece.h - the BERT WordPiece tokenizer, read from a GGUF vocabulary.
 *
 * The vocabulary is tokenizer.ggml.tokens of a GGUF whose
 * tokenizer.ggml.model is "bert". GGUF files written by llama.cpp's
 * converter spell it in "phantom space" form: a token that starts a word
 * carries a leading U+2581 ("\xe2\x96\x81the"), a continuation piece has
 * its "##" removed ("ing"), and bracketed specials stay as they are
 * ("[CLS]"). The results equal llama.cpp's WPM tokenizer, quirks included:
 *
 *   1. text is decoded as UTF-8 (invalid bytes are dropped); every code
 *      point is replaced by the first code point of its canonical
 *      decomposition (NFD), which strips accents of precomposed letters
 *      (a lone combining mark in the text is kept);
 *   2. White_Space characters end a word; NUL, U+FFFD and characters of
 *      the categories Cc, Cf, Co and Cs are dropped; everything else is
 *      lower-cased (simple mapping);
 *   3. punctuation (P*), ASCII symbols and CJK ideographs are words of
 *      their own;
 *   4. each word, with U+2581 prepended, is cut greedily into the longest
 *      vocabulary entries from its start; a word with a part that matches
 *      nothing becomes one [UNK] (there is no length limit on words).
 *
 * Special tokens: with WP_ADD_SPECIAL the ids are [CLS] ... [SEP]. With
 * WP_PARSE_SPECIAL the text of control tokens ("[SEP]", "[MASK]") found in
 * the input becomes those tokens, as llama.cpp's parse_special does;
 * without it such text is tokenized as ordinary words (what untrusted
 * documents should get). Tokens of the user-defined type are always split
 * out, as in llama.cpp.
 *
 * A tokenizer is immutable once built: it may be used from several threads.
 */
#ifndef MX_WORDPIECE_H
#define MX_WORDPIECE_H

#include <stddef.h>
#include <stdint.h>

struct gguf;
struct wordpiece;

enum wp_flags {
	WP_ADD_SPECIAL = 1,   /* [CLS] first, [SEP] last */
	WP_PARSE_SPECIAL = 2, /* special-token text in the input becomes the token */
};

/* Builds the tokenizer from g's tokenizer.* metadata (the strings are
 * copied: g may be closed afterwards). [CLS], [SEP], [UNK] and [PAD] come
 * from tokenizer.ggml.{cls,seperator,unknown,padding}_token_id, or else
 * from the tokens of those names. 0, or MX_EUNSUPPORTED (not a "bert"
 * vocabulary), MX_ECORRUPT (missing or inconsistent metadata), MX_ENOMEM;
 * the reason is written to err. *out is NULL on failure; free it with
 * wp_free(). */
int wp_open_gguf(const struct gguf *g, struct wordpiece **out, char *err, size_t errsz);
void wp_free(struct wordpiece *wp); /* NULL is fine */

/* Tokenizes text[0..len) (any bytes) with flags (enum wp_flags). Writes
 * the first cap ids to out (out may be NULL when cap is 0) and the number
 * of ids the whole text has to *n, which may be more than cap. 0, or
 * MX_ENOMEM; MX_ETOOBIG when len is so large that scratch sizes would
 * overflow. */
int wp_tokenize(const struct wordpiece *wp, const char *text, size_t len, unsigned flags,
		int32_t *out, size_t cap, size_t *n);

size_t wp_n_vocab(const struct wordpiece *wp);
int32_t wp_cls(const struct wordpiece *wp);
int32_t wp_sep(const struct wordpiece *wp);
int32_t wp_unk(const struct wordpiece *wp);
int32_t wp_pad(const struct wordpiece *wp);
/* The vocabulary entry of id (as stored, phantom-space form; borrowed, not
 * NUL-terminated), or NULL for an id out of range. */
const char *wp_token(const struct wordpiece *wp, int32_t id, size_t *len);
/* The id of the exact entry s[0..len), or -1. */
int32_t wp_lookup(const struct wordpiece *wp, const char *s, size_t len);

#endif
