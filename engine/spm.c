/*
 * spm.c - the SentencePiece unigram tokenizer of USE-Lite (see spm.h for the
 * rules it follows and why).
 *
 * The vocabulary lives in one open-addressing hash table that holds every
 * piece and every code-point prefix of a piece (prefix-only entries have id
 * -1). Matching at a position then extends one code point at a time and
 * stops at the first prefix the table does not know: what a trie walk
 * does, without a trie.
 *
 * Outline of spm_tokenize():
 *   1. normalize (NFKC, "▁" for spaces and in front);
 *   2. code-point offsets of the normalized text;
 *   3. forward Viterbi: positions in increasing order, each relaxing the
 *      ends of the pieces that start there (an unknown code point where
 *      none does). Relaxing in order of start is the order in which the
 *      TF.js loop visits the candidates of an end, so ties decide alike;
 *   4. the walk back from the end, merging runs of unknowns, reversed.
 */
#include "spm.h"

#include <glib.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../common/status.h"
#include "../common/utf8.h"
#include "gguf.h"
#include "vocab.h"

/* U+2581 LOWER ONE EIGHTH BLOCK: a space in SentencePiece pieces */
#define SPACE_MARK     "\xe2\x96\x81"
#define SPACE_MARK_LEN 3

/* Vocabularies beyond this are refused (USE-Lite has 8,000 pieces). */
#define MAX_VOCAB (1u << 22)

struct entry {
	uint64_t hash;
	uint32_t off; /* the bytes are pool[off .. off + len) */
	uint32_t len; /* 0: an empty slot */
	int32_t id;   /* -1: only a prefix of longer pieces */
	double score;
};

struct spm {
	size_t n;	     /* vocabulary size */
	char *pool;	     /* the bytes of every piece, back to back */
	size_t *off;	     /* piece i is pool[off[i] .. off[i + 1]) */
	uint32_t *u16len;    /* UTF-16 length of each piece (at least 1) */
	struct entry *slots; /* mask + 1 entries, a power of two */
	size_t mask;
	size_t max_cp; /* the longest matchable piece, in code points */
	int32_t unk;
};

/* ---- the prefix table --------------------------------------------------- */

/* The slot of s[0..len) with hash h: the entry, or the empty slot where it
 * would go. */
static struct entry *slot_of(const struct spm *t, uint64_t h, const char *s, size_t len)
{
	size_t i = (size_t)h & t->mask;
	for (;;) {
		struct entry *e = &t->slots[i];
		if (e->len == 0)
			return e;
		if (e->hash == h && e->len == len && memcmp(t->pool + e->off, s, len) == 0)
			return e;
		i = (i + 1) & t->mask;
	}
}

/* Code points of s[0..len), or 0 if it is not valid UTF-8. */
static size_t count_cp(const char *s, size_t len)
{
	size_t k = 0;
	for (size_t i = 0; i < len; k++) {
		size_t l = mx_utf8_decode((const unsigned char *)s + i, len - i, NULL);
		if (!l)
			return 0;
		i += l;
	}
	return k;
}

static uint32_t utf16_len(const char *s, size_t len)
{
	uint32_t k = 0;
	for (size_t i = 0; i < len;) {
		uint32_t cp = 0;
		size_t l = mx_utf8_decode((const unsigned char *)s + i, len - i, &cp);
		if (!l) { /* an invalid byte: as one unit */
			l = 1;
			cp = 0xfffd;
		}
		k += cp > 0xffff ? 2 : 1;
		i += l;
	}
	return k ? k : 1; /* the walk back must move */
}

/* Puts piece id and all its code-point prefixes into the table. A piece
 * listed again replaces the earlier one's id and score (the TF.js trie
 * overwrites its node). */
static void insert_piece(struct spm *t, int32_t id, double score)
{
	const char *s = t->pool + t->off[id];
	size_t len = t->off[id + 1] - t->off[id], cp = 0;
	uint64_t h = ENG_FNV_BASIS;
	for (size_t i = 0; i < len;) {
		size_t l = mx_utf8_decode((const unsigned char *)s + i, len - i, NULL);
		h = eng_fnv1a(h, s + i, l);
		i += l;
		cp++;
		struct entry *e = slot_of(t, h, s, i);
		if (e->len == 0)
			*e = (struct entry){ h, (uint32_t)t->off[id], (uint32_t)i, -1, 0.0 };
		if (i == len) {
			e->id = id;
			e->score = score;
		}
	}
	if (cp > t->max_cp)
		t->max_cp = cp;
}

int spm_new(const char *const *pieces, const size_t *lens, const double *scores, size_t n,
	    size_t reserved, int32_t unk, struct spm **out)
{
	*out = NULL;
	if (n == 0 || n > MAX_VOCAB || reserved > n || unk < 0 || (size_t)unk >= n)
		return MX_EINVAL;
	int rc = 0;
	size_t total = 0, prefixes = 0;
	for (size_t i = 0; i < n; i++) {
		if (lens[i] > UINT32_MAX - total)
			return MX_EINVAL;
		total += lens[i];
		if (i >= reserved)
			prefixes += count_cp(pieces[i], lens[i]);
	}
	struct spm *t = calloc(1, sizeof *t);
	if (!t)
		return MX_ENOMEM;
	t->n = n;
	t->unk = unk;
	size_t cap = 16;
	while (cap < 2 * prefixes)
		cap *= 2;
	t->mask = cap - 1;
	t->pool = malloc(total ? total : 1);
	t->off = malloc((n + 1) * sizeof *t->off);
	t->u16len = malloc(n * sizeof *t->u16len);
	t->slots = calloc(cap, sizeof *t->slots);
	if (!t->pool || !t->off || !t->u16len || !t->slots) {
		rc = MX_ENOMEM;
		goto out;
	}
	t->off[0] = 0;
	for (size_t i = 0; i < n; i++) {
		if (lens[i])
			memcpy(t->pool + t->off[i], pieces[i], lens[i]);
		t->off[i + 1] = t->off[i] + lens[i];
		t->u16len[i] = utf16_len(pieces[i], lens[i]);
	}
	/* Empty pieces and pieces that are not UTF-8 can never match a
	 * normalized text: they stay out of the table. */
	for (size_t i = reserved; i < n; i++)
		if (count_cp(pieces[i], lens[i]))
			insert_piece(t, (int32_t)i, scores[i]);
out:
	if (rc) {
		spm_free(t);
		return rc;
	}
	*out = t;
	return 0;
}

void spm_free(struct spm *t)
{
	if (!t)
		return;
	free(t->pool);
	free(t->off);
	free(t->u16len);
	free(t->slots);
	free(t);
}

/* ---- from a GGUF ---------------------------------------------------------- */

int spm_open_gguf(const struct gguf *g, struct spm **out, char *err, size_t errsz)
{
	*out = NULL;
	int rc = 0;
	const char *model = NULL, **pieces = NULL;
	size_t mlen = 0, *lens = NULL;
	float *hi = NULL, *lo = NULL;
	double *scores = NULL;
	enum gguf_vtype elem;
	uint64_t n = 0, nres = 0;
	uint32_t reserved = 0, unk = 0;

	if (gguf_get_str(g, "tokenizer.ggml.model", &model, &mlen))
		return mx_fail(err, errsz, MX_ECORRUPT, "no tokenizer.ggml.model in the model");
	if (mlen != 7 || memcmp(model, "use-spm", 7) != 0)
		return mx_fail(err, errsz, MX_EUNSUPPORTED, "tokenizer '%.*s' is not use-spm",
			    (int)(mlen > 32 ? 32 : mlen), model);
	if (gguf_get_arr(g, "tokenizer.ggml.tokens", &elem, &n) || elem != GGUF_STRING || n == 0 ||
	    n > MAX_VOCAB)
		return mx_fail(err, errsz, MX_ECORRUPT,
			    "tokenizer.ggml.tokens is missing or malformed");
	if (gguf_get_arr(g, "tokenizer.ggml.scores", &elem, &nres) || nres != n)
		return mx_fail(err, errsz, MX_ECORRUPT,
			    "tokenizer.ggml.scores is missing or of another length");
	if (gguf_get_u32(g, "use.tokenizer.reserved_count", &reserved) || reserved > n)
		return mx_fail(err, errsz, MX_ECORRUPT,
			    "use.tokenizer.reserved_count is missing or too large");
	rc = gguf_get_u32(g, "tokenizer.ggml.unknown_token_id", &unk);
	if ((rc && rc != MX_ENOTFOUND) || unk >= n)
		return mx_fail(err, errsz, MX_ECORRUPT, "bad tokenizer.ggml.unknown_token_id");
	rc = 0;
	pieces = malloc((size_t)n * sizeof *pieces);
	lens = malloc((size_t)n * sizeof *lens);
	hi = malloc((size_t)n * sizeof *hi);
	lo = calloc(2 * (size_t)n, sizeof *lo);
	scores = malloc((size_t)n * sizeof *scores);
	if (!pieces || !lens || !hi || !lo || !scores) {
		rc = mx_fail(err, errsz, MX_ENOMEM, "out of memory");
		goto out;
	}
	for (uint64_t i = 0; i < n; i++)
		if (gguf_get_arr_str(g, "tokenizer.ggml.tokens", i, &pieces[i], &lens[i])) {
			rc = mx_fail(err, errsz, MX_ECORRUPT, "tokenizer.ggml.tokens: bad entry %llu",
				  (unsigned long long)i);
			goto out;
		}
	if (gguf_get_arr_f32(g, "tokenizer.ggml.scores", hi, n)) {
		rc = mx_fail(err, errsz, MX_ECORRUPT, "tokenizer.ggml.scores is not a float array");
		goto out;
	}
	/* the residuals that restore the double values are optional */
	if (gguf_get_arr(g, "use.tokenizer.scores_residual", &elem, &nres) == 0 &&
	    (elem != GGUF_F32 || nres != 2 * n ||
	     gguf_get_arr_f32(g, "use.tokenizer.scores_residual", lo, 2 * n))) {
		rc = mx_fail(err, errsz, MX_ECORRUPT, "use.tokenizer.scores_residual is malformed");
		goto out;
	}
	for (uint64_t i = 0; i < n; i++)
		scores[i] = ((double)hi[i] + (double)lo[2 * i]) + (double)lo[2 * i + 1];
	rc = spm_new(pieces, lens, scores, (size_t)n, reserved, (int32_t)unk, out);
	if (rc == MX_EINVAL)
		rc = mx_fail(err, errsz, MX_ECORRUPT, "the vocabulary is too large");
	else if (rc)
		rc = mx_fail(err, errsz, rc, "out of memory");
out:
	free(pieces);
	free(lens);
	free(hi);
	free(lo);
	free(scores);
	return rc;
}

/* ---- normalization ---------------------------------------------------------- */

int spm_normalize(const char *text, size_t len, char **out, size_t *outlen)
{
	*out = NULL;
	*outlen = 0;
	len = strnlen(text, len);
	if (len > SPM_MAX_INPUT)
		return MX_ETOOBIG;
	char *valid = NULL, *res = NULL;
	size_t vlen = 0;
	int rc = mx_utf8_repair(text, len, &valid, &vlen, NULL);
	if (rc)
		return rc;
	gchar *nfkc = g_utf8_normalize(valid, (gssize)vlen, G_NORMALIZE_NFKC);
	if (!nfkc) { /* only for invalid UTF-8, which the repair removed */
		rc = MX_EINVAL;
		goto out;
	}
	size_t nl = strlen(nfkc), spaces = 0;
	for (size_t i = 0; i < nl; i++)
		spaces += nfkc[i] == ' ';
	size_t total = nl ? SPACE_MARK_LEN + nl + spaces * (SPACE_MARK_LEN - 1) : 0;
	if (total > SPM_MAX_NORMALIZED) {
		rc = MX_ETOOBIG;
		goto out;
	}
	if (!(res = malloc(total + 1))) {
		rc = MX_ENOMEM;
		goto out;
	}
	size_t k = 0;
	if (nl) {
		memcpy(res, SPACE_MARK, SPACE_MARK_LEN);
		k = SPACE_MARK_LEN;
	}
	for (size_t i = 0; i < nl; i++) {
		if (nfkc[i] == ' ') {
			memcpy(res + k, SPACE_MARK, SPACE_MARK_LEN);
			k += SPACE_MARK_LEN;
		} else {
			res[k++] = nfkc[i];
		}
	}
	res[k] = '\0';
	*out = res;
	*outlen = k;
out:
	g_free(nfkc);
	free(valid);
	return rc;
}

/* ---- Viterbi ------------------------------------------------------------------ */

/* The lattice of one text: best score and last piece of each code-point
 * position (0 .. m), the TF.js "best" and "words" arrays. */
struct lattice {
	double *best;
	int32_t *word;
};

/* A candidate piece id of score sc from start s to end e. TF.js takes it
 * when the end has no score yet (exactly 0) or it is at least as good. */
static void relax(struct lattice *lt, size_t s, size_t e, double sc, int32_t id)
{
	double v = sc + lt->best[s];
	if (lt->best[e] == 0.0 || v >= lt->best[e]) {
		lt->best[e] = v;
		lt->word[e] = id;
	}
}

int spm_tokenize(const struct spm *t, const char *text, size_t len, int32_t *out, size_t cap,
		 size_t *n)
{
	*n = 0;
	char *s = NULL;
	size_t slen = 0, m = 0, *cpoff = NULL;
	struct lattice lt = { NULL, NULL };
	int32_t *rev = NULL;
	int rc = spm_normalize(text, len, &s, &slen);
	if (rc)
		return rc;
	if (slen == 0)
		goto out;

	/* code-point offsets: cp i is s[cpoff[i] .. cpoff[i + 1]) */
	cpoff = malloc((slen + 1) * sizeof *cpoff);
	if (!cpoff) {
		rc = MX_ENOMEM;
		goto out;
	}
	for (size_t i = 0; i < slen; m++) {
		size_t l = mx_utf8_decode((const unsigned char *)s + i, slen - i, NULL);
		cpoff[m] = i;
		i += l ? l : 1;
	}
	cpoff[m] = slen;
	lt.best = calloc(m + 1, sizeof *lt.best);
	lt.word = malloc((m + 1) * sizeof *lt.word);
	rev = malloc(m * sizeof *rev);
	if (!lt.best || !lt.word || !rev) {
		rc = MX_ENOMEM;
		goto out;
	}
	for (size_t i = 0; i <= m; i++)
		lt.word[i] = t->unk;

	for (size_t i = 0; i < m; i++) {
		uint64_t h = ENG_FNV_BASIS;
		bool matched = false;
		size_t lmax = m - i < t->max_cp ? m - i : t->max_cp;
		for (size_t l = 1; l <= lmax; l++) {
			size_t a = cpoff[i + l - 1], b = cpoff[i + l];
			h = eng_fnv1a(h, s + a, b - a);
			const struct entry *e = slot_of(t, h, s + cpoff[i], b - cpoff[i]);
			if (e->len == 0)
				break;
			if (e->id >= 0) {
				relax(&lt, i, i + l, e->score, e->id);
				matched = true;
			}
		}
		if (!matched)
			relax(&lt, i, i + 1, 0.0, t->unk);
	}

	/* back from the end, one chosen piece at a time */
	size_t k = 0;
	bool prev_unk = false;
	for (size_t pos = m; pos > 0;) {
		int32_t id = lt.word[pos];
		if (!(prev_unk && id == t->unk))
			rev[k++] = id;
		prev_unk = id == t->unk;
		size_t step = t->u16len[id];
		pos = step < pos ? pos - step : 0;
	}
	for (size_t i = 0; i < k && i < cap; i++)
		out[i] = rev[k - 1 - i];
	*n = k;
out:
	free(rev);
	free(lt.best);
	free(lt.word);
	free(cpoff);
	free(s);
	return rc;
}

size_t spm_n_vocab(const struct spm *t)
{
	return t->n;
}

int32_t spm_unk(const struct spm *t)
{
	return t->unk;
}

const char *spm_piece(const struct spm *t, int32_t id, size_t *len)
{
	if (id < 0 || (size_t)id >= t->n)
		return NULL;
	*len = t->off[id + 1] - t->off[id];
	return t->pool + t->off[id];
}
