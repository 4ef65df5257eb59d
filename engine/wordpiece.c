/*
 * wordpiece.c - the BERT WordPiece tokenizer (see wordpiece.h for the
 * rules it follows and why).
 *
 * Outline of wp_tokenize():
 *   1. with WP_ADD_SPECIAL, [CLS];
 *   2. the text is cut into fragments at special-token text (only when
 *      the vocabulary has tokens that apply: control tokens with
 *      WP_PARSE_SPECIAL, user-defined ones always), longest token first;
 *   3. each plain fragment is normalized code point by code point into
 *      words (classify()), and each finished word goes through the greedy
 *      longest-match cut (cut_word());
 *   4. with WP_ADD_SPECIAL, [SEP].
 * Ids are counted past cap without being written, so that the caller
 * learns how many the whole text has.
 */
#include "wordpiece.h"

#include <glib.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../common/status.h"
#include "../common/utf8.h"
#include "gguf.h"
#include "vocab.h"

/* U+2581 LOWER ONE EIGHTH BLOCK: the "phantom space" that marks the
 * vocabulary entries that start a word. */
#define PHANTOM	    "\xe2\x96\x81"
#define PHANTOM_LEN 3

/* llama.cpp token types (tokenizer.ggml.token_type) */
enum { TT_NORMAL = 1, TT_UNKNOWN = 2, TT_CONTROL = 3 };

struct special {
	int32_t id;
	size_t len;	 /* of its text */
	bool parse_only; /* split out only with WP_PARSE_SPECIAL */
};

struct wordpiece {
	struct eng_vocab v; /* the entries, by id and by text */
	int32_t cls, sep, unk, pad;
	struct special *specials; /* longest text first */
	size_t n_specials;
	bool any_always; /* some special is split out even without parsing */
};

/* ---- the vocabulary hash table ------------------------------------------ */

int32_t wp_lookup(const struct wordpiece *wp, const char *s, size_t len)
{
	return eng_vocab_lookup(&wp->v, s, len);
}

/* ---- loading ------------------------------------------------------------ */

static const char K_TOKENS[] = "tokenizer.ggml.tokens";
static const char K_TYPES[] = "tokenizer.ggml.token_type";

/* The id of a special token: the metadata key if present (checked), else
 * the entry spelled name, else -1. */
static int special_id(const struct wordpiece *wp, const struct gguf *g, const char *key,
		      const char *name, int32_t *id, char *err, size_t errsz)
{
	uint32_t v;
	int rc = gguf_get_u32(g, key, &v);
	if (rc == 0) {
		if (v >= wp->v.n) {
			snprintf(err, errsz, "%s is %u, past the %zu tokens", key, (unsigned)v,
				 wp->v.n);
			return MX_ECORRUPT;
		}
		*id = (int32_t)v;
		return 0;
	}
	if (rc != MX_ENOTFOUND) {
		snprintf(err, errsz, "%s is not an unsigned integer", key);
		return MX_ECORRUPT;
	}
	*id = wp_lookup(wp, name, strlen(name));
	return 0;
}

static int cmp_special(const void *a, const void *b)
{
	const struct special *x = a, *y = b;
	if (x->len != y->len)
		return x->len > y->len ? -1 : 1;
	return (x->id > y->id) - (x->id < y->id);
}

/* Which entries are special (split out of the text before WordPiece):
 * all but the normal ones, as in llama.cpp; control and unknown ones only
 * when parsing specials. Without a type array there are none. */
static int load_specials(struct wordpiece *wp, const struct gguf *g, char *err, size_t errsz)
{
	enum gguf_vtype elem;
	uint64_t nt;
	int rc = gguf_get_arr(g, K_TYPES, &elem, &nt);
	if (rc == MX_ENOTFOUND)
		return 0;
	if (rc || nt != wp->v.n) {
		snprintf(err, errsz, "%s does not have one integer per token", K_TYPES);
		return MX_ECORRUPT;
	}
	int32_t *types = malloc(wp->v.n * sizeof *types);
	if (!types)
		return MX_ENOMEM;
	if (gguf_get_arr_i32(g, K_TYPES, types, wp->v.n)) {
		snprintf(err, errsz, "%s does not have one integer per token", K_TYPES);
		rc = MX_ECORRUPT;
		goto out;
	}
	size_t k = 0;
	for (size_t i = 0; i < wp->v.n; i++)
		if (types[i] != TT_NORMAL && wp->v.off[i + 1] > wp->v.off[i])
			k++;
	if (!k)
		goto out;
	if (!(wp->specials = calloc(k, sizeof *wp->specials))) {
		rc = MX_ENOMEM;
		goto out;
	}
	for (size_t i = 0; i < wp->v.n; i++) {
		if (types[i] == TT_NORMAL || wp->v.off[i + 1] == wp->v.off[i])
			continue;
		struct special *s = &wp->specials[wp->n_specials++];
		s->id = (int32_t)i;
		s->len = wp->v.off[i + 1] - wp->v.off[i];
		s->parse_only = types[i] == TT_CONTROL || types[i] == TT_UNKNOWN;
		wp->any_always |= !s->parse_only;
	}
	qsort(wp->specials, wp->n_specials, sizeof *wp->specials, cmp_special);
out:
	free(types);
	return rc;
}

int wp_open_gguf(const struct gguf *g, struct wordpiece **out, char *err, size_t errsz)
{
	*out = NULL;
	if (errsz)
		err[0] = '\0';
	const char *model;
	size_t mlen;
	if (gguf_get_str(g, "tokenizer.ggml.model", &model, &mlen)) {
		snprintf(err, errsz, "no tokenizer.ggml.model in the model");
		return MX_ECORRUPT;
	}
	if (mlen != 4 || memcmp(model, "bert", 4)) {
		snprintf(err, errsz, "tokenizer '%.*s' is not WordPiece (\"bert\")",
			 (int)(mlen > 32 ? 32 : mlen), model);
		return MX_EUNSUPPORTED;
	}
	enum gguf_vtype elem;
	uint64_t n;
	if (gguf_get_arr(g, K_TOKENS, &elem, &n) || elem != GGUF_STRING || n == 0 ||
	    n > INT32_MAX - 1) {
		snprintf(err, errsz, "%s is missing or not a non-empty string array", K_TOKENS);
		return MX_ECORRUPT;
	}
	int rc = 0;
	struct wordpiece *wp = calloc(1, sizeof *wp);
	if (!wp)
		return MX_ENOMEM;
	if ((rc = eng_vocab_load(&wp->v, g, K_TOKENS, (size_t)n, err, errsz)))
		goto fail;
	if ((rc = special_id(wp, g, "tokenizer.ggml.cls_token_id", "[CLS]", &wp->cls, err,
			     errsz)) ||
	    (rc = special_id(wp, g, "tokenizer.ggml.seperator_token_id", "[SEP]", &wp->sep, err,
			     errsz)) ||
	    (rc = special_id(wp, g, "tokenizer.ggml.unknown_token_id", "[UNK]", &wp->unk, err,
			     errsz)) ||
	    (rc = special_id(wp, g, "tokenizer.ggml.padding_token_id", "[PAD]", &wp->pad, err,
			     errsz)))
		goto fail;
	if (wp->cls < 0 || wp->sep < 0 || wp->unk < 0) {
		snprintf(err, errsz, "the vocabulary has no %s token",
			 wp->cls < 0   ? "[CLS]"
			 : wp->sep < 0 ? "[SEP]"
				       : "[UNK]");
		rc = MX_ECORRUPT;
		goto fail;
	}
	if ((rc = load_specials(wp, g, err, errsz)))
		goto fail;
	*out = wp;
	return 0;
fail:
	if (rc == MX_ENOMEM && errsz && !err[0])
		snprintf(err, errsz, "out of memory loading the vocabulary");
	if (rc == MX_ETOOBIG && errsz && !err[0])
		snprintf(err, errsz, "the vocabulary is too large");
	wp_free(wp);
	return rc;
}

void wp_free(struct wordpiece *wp)
{
	if (!wp)
		return;
	free(wp->specials);
	eng_vocab_clear(&wp->v);
	free(wp);
}

size_t wp_n_vocab(const struct wordpiece *wp)
{
	return wp->v.n;
}

int32_t wp_cls(const struct wordpiece *wp)
{
	return wp->cls;
}

int32_t wp_sep(const struct wordpiece *wp)
{
	return wp->sep;
}

int32_t wp_unk(const struct wordpiece *wp)
{
	return wp->unk;
}

int32_t wp_pad(const struct wordpiece *wp)
{
	return wp->pad;
}

const char *wp_token(const struct wordpiece *wp, int32_t id, size_t *len)
{
	if (id < 0 || (size_t)id >= wp->v.n)
		return NULL;
	*len = wp->v.off[id + 1] - wp->v.off[id];
	return wp->v.pool + wp->v.off[id];
}

/* ---- normalization -------------------------------------------------------- */

enum ch_class {
	CH_WORD,  /* part of the current word */
	CH_SOLO,  /* a word of its own */
	CH_SPACE, /* ends the current word */
	CH_DROP,  /* ignored */
};

/* The White_Space property outside ASCII. */
static bool is_white(uint32_t c)
{
	return c == 0x85 || c == 0xA0 || c == 0x1680 || (c >= 0x2000 && c <= 0x200A) ||
	       c == 0x2028 || c == 0x2029 || c == 0x202F || c == 0x205F || c == 0x3000;
}

/* CJK ideographs as BERT (and llama.cpp) count them; the range starting
 * at 0x2B920 is what the reference implementations use. */
static bool is_cjk(uint32_t c)
{
	return (c >= 0x4E00 && c <= 0x9FFF) || (c >= 0x3400 && c <= 0x4DBF) ||
	       (c >= 0x20000 && c <= 0x2A6DF) || (c >= 0x2A700 && c <= 0x2B73F) ||
	       (c >= 0x2B740 && c <= 0x2B81F) || (c >= 0x2B920 && c <= 0x2CEAF) ||
	       (c >= 0xF900 && c <= 0xFAFF) || (c >= 0x2F800 && c <= 0x2FA1F);
}

/* The simple lowercase mapping of UnicodeData.txt. GLib's covers only
 * letters (Lu, Lt); the two other ranges that have one are added. */
static uint32_t to_lower(uint32_t c)
{
	if (c >= 0x2160 && c <= 0x216F) /* ROMAN NUMERAL ONE.. (Nl) */
		return c + 0x10;
	if (c >= 0x24B6 && c <= 0x24CF) /* CIRCLED LATIN CAPITAL LETTER A.. (So) */
		return c + 0x1A;
	return g_unichar_tolower(c);
}

/* What code point cp becomes (*low) and how it splits words. The first
 * code point of the canonical decomposition replaces cp before anything
 * else is asked, so "é" is "e" and U+2260 (not equal) is "=". */
static enum ch_class classify(uint32_t cp, uint32_t *low)
{
	if (cp >= 0x80) {
		gunichar d[G_UNICHAR_MAX_DECOMPOSITION_LENGTH];
		if (g_unichar_fully_decompose(cp, FALSE, d, G_N_ELEMENTS(d)) > 0)
			cp = d[0];
	}
	if (cp < 0x80) {
		if (cp == ' ' || (cp >= 0x09 && cp <= 0x0D))
			return CH_SPACE;
		if (cp < 0x20 || cp == 0x7F)
			return CH_DROP;
		bool lower = cp >= 'a' && cp <= 'z', upper = cp >= 'A' && cp <= 'Z';
		bool digit = cp >= '0' && cp <= '9';
		*low = upper ? cp + ('a' - 'A') : cp;
		/* every other printable ASCII character is punctuation or a
		 * symbol */
		return lower || upper || digit ? CH_WORD : CH_SOLO;
	}
	if (is_white(cp))
		return CH_SPACE;
	if (cp == 0xFFFD)
		return CH_DROP;
	switch (g_unichar_type(cp)) {
	case G_UNICODE_CONTROL:
	case G_UNICODE_FORMAT:
	case G_UNICODE_PRIVATE_USE:
	case G_UNICODE_SURROGATE: return CH_DROP;
	case G_UNICODE_CONNECT_PUNCTUATION:
	case G_UNICODE_DASH_PUNCTUATION:
	case G_UNICODE_CLOSE_PUNCTUATION:
	case G_UNICODE_FINAL_PUNCTUATION:
	case G_UNICODE_INITIAL_PUNCTUATION:
	case G_UNICODE_OTHER_PUNCTUATION:
	case G_UNICODE_OPEN_PUNCTUATION: *low = to_lower(cp); return CH_SOLO;
	default: *low = to_lower(cp); return is_cjk(cp) ? CH_SOLO : CH_WORD;
	}
}

/* ---- WordPiece -------------------------------------------------------------- */

/* Where ids go: the first cap are stored, all are counted. */
struct sink {
	int32_t *out;
	size_t cap;
	size_t n;
};

static void emit(struct sink *k, int32_t id)
{
	if (k->n < k->cap)
		k->out[k->n] = id;
	k->n++;
}

/* w[0..n) is PHANTOM + a word: the longest entry that matches at the
 * current position wins, from the start to the end; when nothing matches
 * at some position the pieces so far are taken back and the word is one
 * [UNK]. */
static void cut_word(const struct wordpiece *wp, const char *w, size_t n, struct sink *k)
{
	size_t start = k->n, i = 0;
	while (i < n) {
		size_t j = n - i > wp->v.max_len ? i + wp->v.max_len : n;
		int32_t id = -1;
		for (; j > i; j--)
			if ((id = wp_lookup(wp, w + i, j - i)) >= 0)
				break;
		if (id < 0) {
			k->n = start;
			break;
		}
		emit(k, id);
		i = j;
	}
	if (k->n == start)
		emit(k, wp->unk);
}

/* Normalizes and cuts one plain fragment. word holds at least
 * PHANTOM_LEN + 2 * len bytes (a code point never grows to more than
 * twice its UTF-8 length: ASCII stays one byte, and nothing grows past
 * four bytes) and starts with PHANTOM. */
static void tokenize_plain(const struct wordpiece *wp, const unsigned char *s, size_t len,
			   char *word, struct sink *k)
{
	size_t wl = PHANTOM_LEN;
	for (size_t i = 0; i < len;) {
		uint32_t cp = 0, low = 0;
		size_t step = mx_utf8_decode(s + i, len - i, &cp);
		if (!step) { /* an invalid byte: dropped, as U+FFFD would be */
			i++;
			continue;
		}
		i += step;
		switch (classify(cp, &low)) {
		case CH_DROP: break;
		case CH_SPACE:
			if (wl > PHANTOM_LEN)
				cut_word(wp, word, wl, k);
			wl = PHANTOM_LEN;
			break;
		case CH_SOLO:
			if (wl > PHANTOM_LEN)
				cut_word(wp, word, wl, k);
			wl = PHANTOM_LEN + (size_t)g_unichar_to_utf8(low, word + PHANTOM_LEN);
			cut_word(wp, word, wl, k);
			wl = PHANTOM_LEN;
			break;
		case CH_WORD: wl += (size_t)g_unichar_to_utf8(low, word + wl); break;
		}
	}
	if (wl > PHANTOM_LEN)
		cut_word(wp, word, wl, k);
}

/* ---- special-token fragments -------------------------------------------------- */

struct frag {
	size_t off, len;
	int32_t id; /* a special token, or -1 for plain text */
};

struct frags {
	struct frag *v;
	size_t n, cap;
};

static int frag_push(struct frags *f, size_t off, size_t len, int32_t id)
{
	if (f->n == f->cap) {
		size_t cap = f->cap ? 2 * f->cap : 16;
		struct frag *v = realloc(f->v, cap * sizeof *v);
		if (!v)
			return MX_ENOMEM;
		f->v = v;
		f->cap = cap;
	}
	f->v[f->n++] = (struct frag){ off, len, id };
	return 0;
}

/* Splits the plain fragments of *cur at every occurrence of each special
 * token in turn (longest tokens first, occurrences left to right), as
 * llama.cpp's partitioning does. */
static int split_specials(const struct wordpiece *wp, const char *text, size_t len, bool parse,
			  struct frags *cur)
{
	int rc = 0;
	struct frags next = { 0 };
	if ((rc = frag_push(cur, 0, len, -1)))
		goto out;
	for (size_t s = 0; s < wp->n_specials; s++) {
		const struct special *sp = &wp->specials[s];
		if (sp->parse_only && !parse)
			continue;
		const char *t = wp->v.pool + wp->v.off[sp->id];
		size_t tl = sp->len;
		next.n = 0;
		for (size_t i = 0; i < cur->n; i++) {
			struct frag f = cur->v[i];
			if (f.id >= 0) {
				if ((rc = frag_push(&next, f.off, f.len, f.id)))
					goto out;
				continue;
			}
			size_t p = f.off, end = f.off + f.len;
			const char *q;
			while (p < end && (q = memmem(text + p, end - p, t, tl))) {
				size_t at = (size_t)(q - text);
				if (at > p && (rc = frag_push(&next, p, at - p, -1)))
					goto out;
				if ((rc = frag_push(&next, at, tl, sp->id)))
					goto out;
				p = at + tl;
			}
			if (p < end && (rc = frag_push(&next, p, end - p, -1)))
				goto out;
		}
		struct frags tmp = *cur;
		*cur = next;
		next = tmp;
	}
out:
	free(next.v);
	return rc;
}

int wp_tokenize(const struct wordpiece *wp, const char *text, size_t len, unsigned flags,
		int32_t *out, size_t cap, size_t *n)
{
	*n = 0;
	if (len > (SIZE_MAX - PHANTOM_LEN - 8) / 2)
		return MX_ETOOBIG;
	int rc = 0;
	struct sink k = { out, out ? cap : 0, 0 };
	struct frags fr = { 0 };
	char *word = malloc(PHANTOM_LEN + 2 * len + 8);
	if (!word)
		return MX_ENOMEM;
	memcpy(word, PHANTOM, PHANTOM_LEN);
	bool parse = flags & WP_PARSE_SPECIAL;
	if (flags & WP_ADD_SPECIAL)
		emit(&k, wp->cls);
	if (wp->n_specials && (parse || wp->any_always)) {
		if ((rc = split_specials(wp, text, len, parse, &fr)))
			goto out;
		for (size_t i = 0; i < fr.n; i++) {
			if (fr.v[i].id >= 0)
				emit(&k, fr.v[i].id);
			else
				tokenize_plain(wp, (const unsigned char *)text + fr.v[i].off,
					       fr.v[i].len, word, &k);
		}
	} else {
		tokenize_plain(wp, (const unsigned char *)text, len, word, &k);
	}
	if (flags & WP_ADD_SPECIAL)
		emit(&k, wp->sep);
	*n = k.n;
out:
	free(fr.v);
	free(word);
	return rc;
}
