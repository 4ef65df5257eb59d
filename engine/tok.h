/*
 * tok.h - the tokenizers of chat models, built from the tokenizer.*
 * metadata of a GGUF file, with the ids llama.cpp (d01ac08d) gives.
 *
 * Two kinds, by tokenizer.ggml.model:
 *
 *   "gpt2"  byte-level BPE (GPT-2, Llama-3, Qwen2, StarCoder, SmolLM...).
 *           The text is cut into words by the pre-tokenizer that
 *           tokenizer.ggml.pre names (a regular expression, implemented
 *           here by hand over ucat.h's Unicode classes):
 *             gpt-2 (also mpt, olmo, jais, trillion, phi-2):
 *               's|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+
 *             llama-bpe (llama3, llama-v3, falcon3, dbrx, smaug-bpe): case-
 *               insensitive contractions, [^\r\n\p{L}\p{N}]?\p{L}+, \p{N}{1,3},
 *               ' ?[^\s\p{L}\p{N}]+[\r\n]*', \s*[\r\n]+, \s+(?!\S), \s+
 *             qwen2 (deepseek-r1-qwen, stablelm2, megrez): as llama-bpe
 *               but digits one by one
 *             starcoder (smollm, refact, command-r, codeshell, exaone,
 *               minerva-7b): every \p{N} alone first, then gpt-2 inside
 *               each piece
 *             falcon, default: punctuation runs, gpt-2, three-digit groups
 *           Every byte of a word becomes one of 256 printable code points
 *           (GPT-2's byte encoder) and the word is merged pairwise by the
 *           rank of tokenizer.ggml.merges (lowest rank first, leftmost on
 *           ties). llama-bpe looks a whole word up first (ignore_merges).
 *
 *   "llama" SentencePiece BPE (Llama-2, Mistral, Phi-3, Gemma...): no
 *           pre-tokenizer; " " becomes U+2581 "▁" and a "▁" is put in
 *           front of every text run that starts the input or follows a
 *           special token (unless tokenizer.ggml.add_space_prefix is
 *           false); code points are merged pairwise, highest
 *           tokenizer.ggml.scores first; what is left that is not a token
 *           becomes byte tokens <0xNN> (byte fallback).
 *
 * Special tokens: the text is first cut at the text of special tokens
 * (longest first), as llama.cpp's partitioning does: CONTROL and UNKNOWN
 * tokens only with TOK_PARSE_SPECIAL, USER_DEFINED tokens always. For
 * Phi-3 vocabularies (general.name) specials swallow the white space
 * after them, as llama.cpp does. Without TOK_PARSE_SPECIAL, "<|im_end|>"
 * in a text is ordinary text: untrusted text (mail, documents, what the
 * user types) must never be encoded with it. tok_encode_segs() encodes a
 * prompt made of template text (specials parsed) and content (not parsed)
 * as if it were one text.
 *
 * Invalid UTF-8 becomes U+FFFD (BPE) or byte tokens (SPM). Inputs are
 * capped at TOK_MAX_INPUT bytes.
 *
 * A tokenizer is immutable once built: it may be used from several threads.
 */
#ifndef MX_TOK_H
#define MX_TOK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct gguf;
struct tok;

#define TOK_MAX_INPUT (1u << 20) /* bytes of text one encode call takes */

enum tok_kind {
	TOK_KIND_BPE = 1, /* "gpt2" */
	TOK_KIND_SPM = 2, /* "llama" */
};

/* tokenizer.ggml.token_type values */
enum tok_type {
	TOK_TYPE_UNDEFINED = 0,
	TOK_TYPE_NORMAL = 1,
	TOK_TYPE_UNKNOWN = 2,
	TOK_TYPE_CONTROL = 3,
	TOK_TYPE_USER_DEFINED = 4,
	TOK_TYPE_UNUSED = 5,
	TOK_TYPE_BYTE = 6,
};

enum tok_flags {
	TOK_ADD_SPECIAL = 1,   /* BOS/EOS as the vocabulary's add_bos/add_eos say */
	TOK_PARSE_SPECIAL = 2, /* control-token text in the input becomes the token */
};

/* One part of a prompt: template text (special = true: control-token
 * text in it becomes the token) or content (special = false). */
struct tok_seg {
	const char *text; /* borrowed */
	size_t len;
	bool special;
};

/* Builds the tokenizer from g's tokenizer.* metadata (everything is
 * copied: g may be closed afterwards). 0, or MX_EUNSUPPORTED (another
 * tokenizer model or an unknown pre-tokenizer), MX_ECORRUPT (missing or
 * inconsistent metadata), MX_ENOMEM; the reason is written to err. *out
 * is NULL on failure; free it with tok_free(). */
int tok_open_gguf(const struct gguf *g, struct tok **out, char *err, size_t errsz);
void tok_free(struct tok *t); /* NULL is fine */

/* Tokenizes text[0..len) (any bytes) with flags (enum tok_flags). Writes
 * the first cap ids to out (out may be NULL when cap is 0) and the number
 * of ids of the whole text to *n, which may be more than cap. 0,
 * MX_ENOMEM, or MX_ETOOBIG (len over TOK_MAX_INPUT). */
int tok_encode(const struct tok *t, const char *text, size_t len, unsigned flags, int32_t *out,
	       size_t cap, size_t *n);
/* The same over the concatenation of segs[0..nseg) (together at most
 * TOK_MAX_INPUT bytes), special-token text parsed only in the segments
 * that say so; add_special as TOK_ADD_SPECIAL. */
int tok_encode_segs(const struct tok *t, const struct tok_seg *segs, size_t nseg, bool add_special,
		    int32_t *out, size_t cap, size_t *n);

/* The bytes token id stands for (borrowed, *len bytes, not NUL-terminated;
 * may be a part of a UTF-8 sequence): byte-level BPE decoded, "▁" as a
 * space, <0xNN> as its byte. Control and unknown tokens are "" unless
 * special is true (then their text, "<|im_end|>"). "" for an id out of
 * range. */
const char *tok_piece(const struct tok *t, int32_t id, bool special, size_t *len);

/* Decodes ids[0..n) into buf (cap bytes, NUL-terminated when cap > 0;
 * *len is the full length, which may be cap or more: then buf holds a
 * prefix). With strip_space, the one space an SPM vocabulary put in front
 * of the text is removed from the first piece, so that decoding what
 * tok_encode() made without TOK_ADD_SPECIAL gives the text back. */
void tok_decode(const struct tok *t, const int32_t *ids, size_t n, bool special, bool strip_space,
		char *buf, size_t cap, size_t *len);

enum tok_kind tok_kind(const struct tok *t);
const char *tok_pre(const struct tok *t); /* the pre-tokenizer's name ("" for SPM) */
size_t tok_n_vocab(const struct tok *t);
/* Special ids, -1 when the vocabulary has none. */
int32_t tok_bos(const struct tok *t);
int32_t tok_eos(const struct tok *t);
int32_t tok_eot(const struct tok *t);
int32_t tok_unk(const struct tok *t);
bool tok_add_bos(const struct tok *t);
bool tok_add_eos(const struct tok *t);
/* Whether id ends a generation (EOS, EOT, EOM and the tokens spelled
 * <|eot_id|>, <|im_end|>, <|end|>, <end_of_turn>, <|endoftext|>,
 * <|eom_id|>, <EOT>, <|end_of_text|>). */
bool tok_is_eog(const struct tok *t, int32_t id);
/* The ids for which tok_is_eog() holds (borrowed), *n of them. */
const int32_t *tok_eog_ids(const struct tok *t, size_t *n);
enum tok_type tok_type(const struct tok *t, int32_t id); /* UNDEFINED out of range */
/* The token's text as stored in the vocabulary (borrowed, not
 * NUL-terminated), or NULL for an id out of range. */
const char *tok_text(const struct tok *t, int32_t id, size_t *len);
/* The id of the exact vocabulary entry s[0..len), or -1. */
int32_t tok_lookup(const struct tok *t, const char *s, size_t len);

#endif
