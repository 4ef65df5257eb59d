/*
 * tok.c - byte-level BPE and SentencePiece BPE tokenizers (see tok.h for
 * the rules and why they are these).
 *
 * Outline of an encode call:
 *   1. the segments are laid side by side in one buffer, each a raw
 *      fragment; special-token text is cut out of the raw fragments
 *      (longest token first, occurrences left to right), stripping the
 *      white space next to tokens that have the lstrip/rstrip attribute;
 *   2. consecutive raw fragments are joined again (content between two
 *      pieces of template text is one text, as in the rendered prompt);
 *   3. each raw run goes through bpe_run() (pre-split into words, byte
 *      encoding, merges) or spm_run() (escaping, merges, byte fallback);
 *      special fragments are their id.
 * Ids are counted past cap without being written, so that the caller
 * learns how many the whole text has.
 */
#include "tok.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../common/status.h"
#include "gguf.h"
#include "ucat.h"
#include "vocab.h"

#define SPM_SPACE     "\xe2\x96\x81" /* U+2581 */
#define SPM_SPACE_LEN 3
#define MAX_EOG	      16

enum pre {
	PRE_NONE, /* SPM */
	PRE_GPT2,
	PRE_LLAMA3,
	PRE_QWEN2,
	PRE_STARCODER,
	PRE_FALCON,
	PRE_DEFAULT,
};

struct special {
	int32_t id;
	size_t len;	 /* of its text */
	bool parse_only; /* CONTROL/UNKNOWN: split out only when parsing */
	bool lstrip, rstrip;
};

struct merge {
	size_t off;   /* "left right" in mpool */
	size_t len;   /* of the whole string */
	size_t split; /* the space: left is [0, split), right (split, len) */
};

struct tok {
	enum tok_kind kind;
	enum pre pre;
	char pre_name[32];
	struct eng_vocab v; /* the token texts, by id and by text */
	float *scores;	    /* SPM */
	uint8_t *types;	    /* enum tok_type */
	char *dpool;	    /* decoded pieces */
	size_t *doff;
	/* BPE merges */
	char *mpool;
	struct merge *merges;
	size_t n_merges;
	int32_t *mslots; /* merge hash, index into merges, -1 empty */
	size_t mmask;
	int32_t byte_tok[256];	/* SPM <0xNN>, BPE the 1-byte string */
	int16_t cp_byte[0x144]; /* BPE: code point of the byte encoder -> byte, or -1 */
	int32_t bos, eos, eot, eom, unk;
	bool add_bos, add_eos, add_space_prefix, ignore_merges;
	int32_t eog[MAX_EOG];
	size_t n_eog;
	struct special *specials; /* longest text first */
	size_t n_specials;
};

/* ---- hashing -------------------------------------------------------------- */

int32_t tok_lookup(const struct tok *t, const char *s, size_t len)
{
	return eng_vocab_lookup(&t->v, s, len);
}

static uint64_t merge_hash(const char *l, size_t ll, const char *r, size_t rl)
{
	return eng_fnv1a(eng_fnv1a(eng_fnv1a(ENG_FNV_BASIS, l, ll), " ", 1), r, rl);
}

/* The rank of merging l with r, or -1. */
static int32_t merge_rank(const struct tok *t, const char *l, size_t ll, const char *r, size_t rl)
{
	if (!t->n_merges)
		return -1;
	size_t i = (size_t)merge_hash(l, ll, r, rl) & t->mmask;
	for (;;) {
		int32_t m = t->mslots[i];
		if (m < 0)
			return -1;
		const struct merge *g = &t->merges[m];
		const char *s = t->mpool + g->off;
		if (g->split == ll && g->len == ll + 1 + rl && !memcmp(s, l, ll) &&
		    !memcmp(s + ll + 1, r, rl))
			return m;
		i = (i + 1) & t->mmask;
	}
}

/* The first of equal merges keeps its rank (llama.cpp's emplace). */
static void insert_merge(struct tok *t, int32_t m)
{
	const struct merge *g = &t->merges[m];
	const char *s = t->mpool + g->off;
	size_t i = (size_t)eng_fnv1a(ENG_FNV_BASIS, s, g->len) & t->mmask;
	for (;;) {
		int32_t cur = t->mslots[i];
		if (cur < 0) {
			t->mslots[i] = m;
			return;
		}
		const struct merge *c = &t->merges[cur];
		if (c->len == g->len && c->split == g->split &&
		    !memcmp(t->mpool + c->off, s, g->len))
			return;
		i = (i + 1) & t->mmask;
	}
}

/* ---- the GPT-2 byte encoder ------------------------------------------------ */

/* Byte b is shown as code point byte_cp(b): the printable Latin-1 bytes
 * as themselves, the others as U+0100 upwards in byte order. */
static uint32_t byte_cp(unsigned b)
{
	if ((b >= 0x21 && b <= 0x7E) || (b >= 0xA1 && b <= 0xAC) || (b >= 0xAE))
		return b;
	unsigned n = 0;
	for (unsigned c = 0; c < b; c++)
		if (!((c >= 0x21 && c <= 0x7E) || (c >= 0xA1 && c <= 0xAC) || (c >= 0xAE)))
			n++;
	return 0x100 + n;
}

static size_t utf8_put(uint32_t c, char *o)
{
	if (c < 0x80) {
		o[0] = (char)c;
		return 1;
	}
	if (c < 0x800) {
		o[0] = (char)(0xC0 | (c >> 6));
		o[1] = (char)(0x80 | (c & 0x3F));
		return 2;
	}
	if (c < 0x10000) {
		o[0] = (char)(0xE0 | (c >> 12));
		o[1] = (char)(0x80 | ((c >> 6) & 0x3F));
		o[2] = (char)(0x80 | (c & 0x3F));
		return 3;
	}
	o[0] = (char)(0xF0 | (c >> 18));
	o[1] = (char)(0x80 | ((c >> 12) & 0x3F));
	o[2] = (char)(0x80 | ((c >> 6) & 0x3F));
	o[3] = (char)(0x80 | (c & 0x3F));
	return 4;
}

/* Decodes one code point leniently, as llama.cpp does: the lead byte sets
 * the length and only the continuation bytes are checked (overlong forms
 * and surrogates pass); anything else is U+FFFD for one byte. */
static size_t utf8_get(const unsigned char *s, size_t n, uint32_t *cp)
{
	unsigned c = s[0];
	size_t len = c < 0x80 ? 1 : c < 0xC0 ? 0 : c < 0xE0 ? 2 : c < 0xF0 ? 3 : c < 0xF8 ? 4 : 0;
	if (len == 1) {
		*cp = c;
		return 1;
	}
	if (!len || len > n)
		goto bad;
	uint32_t v = c & (0x7F >> len);
	for (size_t i = 1; i < len; i++) {
		if ((s[i] & 0xC0) != 0x80)
			goto bad;
		v = v << 6 | (s[i] & 0x3F);
	}
	*cp = v > 0x10FFFF ? 0xFFFD : v;
	return len;
bad:
	*cp = 0xFFFD;
	return 1;
}

/* The length of the "character" at a lead byte, as SentencePiece sees
 * it (by its high bits only). */
static size_t lead_len(unsigned char c)
{
	static const uint8_t tab[16] = { 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 2, 2, 3, 4 };
	return tab[c >> 4];
}

/* ---- growable scratch -------------------------------------------------------- */

static int grow(void **p, size_t *cap, size_t need, size_t elem)
{
	if (need <= *cap)
		return 0;
	size_t c = *cap ? *cap : 64;
	while (c < need)
		c *= 2;
	void *q = realloc(*p, c * elem);
	if (!q)
		return MX_ENOMEM;
	*p = q;
	*cap = c;
	return 0;
}

struct sink {
	int32_t *out;
	size_t cap;
	size_t n;
};

static void emit(struct sink *k, int32_t id)
{
	if (id < 0)
		return;
	if (k->n < k->cap)
		k->out[k->n] = id;
	k->n++;
}

/* ---- pair merging (both kinds) ------------------------------------------------ */

struct sym {
	size_t start, n; /* bytes in the text being merged; n 0 = merged away */
	int32_t prev, next;
};

struct pair {
	double key; /* higher first */
	int32_t left, right;
	size_t ln, rn; /* the sizes when queued: stale if either changed */
};

struct work {
	struct sym *syms;
	size_t syms_cap;
	struct pair *heap;
	size_t heap_n, heap_cap;
	char *buf; /* encoded word / escaped text */
	size_t buf_cap;
	uint32_t *cps;
	size_t cps_cap;
	uint8_t *fl;
	size_t fl_cap;
	size_t *cuts; /* word boundaries (code point indices) */
	size_t cuts_n, cuts_cap;
	size_t *cuts2;
	size_t cuts2_n, cuts2_cap;
};

static bool pair_before(const struct pair *a, const struct pair *b)
{
	return a->key > b->key || (a->key == b->key && a->left < b->left);
}

static int heap_push(struct work *w, struct pair p)
{
	if (grow((void **)&w->heap, &w->heap_cap, w->heap_n + 1, sizeof *w->heap))
		return MX_ENOMEM;
	size_t i = w->heap_n++;
	while (i) {
		size_t up = (i - 1) / 2;
		if (!pair_before(&p, &w->heap[up]))
			break;
		w->heap[i] = w->heap[up];
		i = up;
	}
	w->heap[i] = p;
	return 0;
}

static struct pair heap_pop(struct work *w)
{
	struct pair top = w->heap[0], last = w->heap[--w->heap_n];
	size_t i = 0, n = w->heap_n;
	for (;;) {
		size_t c = 2 * i + 1;
		if (c >= n)
			break;
		if (c + 1 < n && pair_before(&w->heap[c + 1], &w->heap[c]))
			c++;
		if (!pair_before(&w->heap[c], &last))
			break;
		w->heap[i] = w->heap[c];
		i = c;
	}
	if (n)
		w->heap[i] = last;
	return top;
}

/* Queues the pair (left, right) of w->buf's symbols if the vocabulary
 * merges it: BPE by merge rank, SPM by the score of the joined token. */
static int try_pair(const struct tok *t, struct work *w, int32_t left, int32_t right)
{
	if (left < 0 || right < 0)
		return 0;
	const struct sym *l = &w->syms[left], *r = &w->syms[right];
	double key;
	if (t->kind == TOK_KIND_BPE) {
		int32_t rank = merge_rank(t, w->buf + l->start, l->n, w->buf + r->start, r->n);
		if (rank < 0)
			return 0;
		key = -(double)rank;
	} else {
		int32_t id = tok_lookup(t, w->buf + l->start, l->n + r->n);
		if (id < 0)
			return 0;
		key = t->scores ? t->scores[id] : 0.0;
	}
	return heap_push(w, (struct pair){ key, left, right, l->n, r->n });
}

/* Merges w->buf[0..len) cut into characters; leaves the symbol chain in
 * w->syms (symbol 0 first). */
static int merge_all(const struct tok *t, struct work *w, size_t len, size_t *nsyms)
{
	int rc;
	size_t ns = 0;
	for (size_t i = 0; i < len;) {
		size_t cl = lead_len((unsigned char)w->buf[i]);
		if (cl > len - i)
			cl = len - i;
		if ((rc = grow((void **)&w->syms, &w->syms_cap, ns + 1, sizeof *w->syms)))
			return rc;
		w->syms[ns] = (struct sym){ i, cl, (int32_t)ns - 1, -1 };
		if (ns)
			w->syms[ns - 1].next = (int32_t)ns;
		ns++;
		i += cl;
	}
	*nsyms = ns;
	w->heap_n = 0;
	for (size_t i = 1; i < ns; i++)
		if ((rc = try_pair(t, w, (int32_t)i - 1, (int32_t)i)))
			return rc;
	while (w->heap_n) {
		struct pair p = heap_pop(w);
		struct sym *l = &w->syms[p.left], *r = &w->syms[p.right];
		if (!l->n || !r->n || l->n != p.ln || r->n != p.rn)
			continue; /* one side changed since it was queued */
		l->n += r->n;
		r->n = 0;
		l->next = r->next;
		if (r->next >= 0)
			w->syms[r->next].prev = p.left;
		if ((rc = try_pair(t, w, l->prev, p.left)) ||
		    (rc = try_pair(t, w, p.left, l->next)))
			return rc;
	}
	return 0;
}

/* The merged symbols of w->buf as ids: each its token, or else its bytes
 * (SPM: <0xNN>, the unknown token when even that is missing; BPE: the
 * one-byte tokens, dropped when missing, as llama.cpp does). */
static void emit_symbols(const struct tok *t, const struct work *w, struct sink *k)
{
	for (int32_t i = 0; i >= 0; i = w->syms[i].next) {
		const struct sym *y = &w->syms[i];
		int32_t id = tok_lookup(t, w->buf + y->start, y->n);
		if (id >= 0) {
			emit(k, id);
			continue;
		}
		for (size_t j = 0; j < y->n; j++) {
			int32_t b = t->byte_tok[(unsigned char)w->buf[y->start + j]];
			emit(k, b >= 0 || t->kind == TOK_KIND_BPE ? b : t->unk);
		}
	}
}

/* ---- SentencePiece BPE ----------------------------------------------------------- */

/* One raw text run: escaped (with the prefix space when asked), merged,
 * then each symbol is its token or its bytes. */
static int spm_run(const struct tok *t, struct work *w, const char *s, size_t len, bool prefix,
		   struct sink *k)
{
	size_t nsp = 0;
	for (size_t i = 0; i < len; i++)
		nsp += s[i] == ' ';
	size_t need = len + 2 * nsp + (prefix ? SPM_SPACE_LEN : 0);
	int rc = grow((void **)&w->buf, &w->buf_cap, need + 1, 1);
	if (rc)
		return rc;
	size_t o = 0;
	if (prefix) {
		memcpy(w->buf, SPM_SPACE, SPM_SPACE_LEN);
		o = SPM_SPACE_LEN;
	}
	for (size_t i = 0; i < len; i++) {
		if (s[i] == ' ') {
			memcpy(w->buf + o, SPM_SPACE, SPM_SPACE_LEN);
			o += SPM_SPACE_LEN;
		} else {
			w->buf[o++] = s[i];
		}
	}
	size_t ns;
	if (!o || (rc = merge_all(t, w, o, &ns)))
		return rc;
	emit_symbols(t, w, k);
	return 0;
}

/* ---- byte-level BPE: pre-tokenizers ---------------------------------------------- */

enum {
	F_L = 1,   /* letter */
	F_N = 2,   /* number */
	F_WS = 4,  /* white space */
	F_P = 8,   /* punctuation */
	F_DEF = 16 /* assigned (has a category) or white space */
};

static uint8_t flags_of(uint32_t c)
{
	enum ucat k = ucat_of(c);
	uint8_t f = 0;
	if (ucat_is_space(c))
		f |= F_WS;
	if (k == UCAT_LETTER)
		f |= F_L;
	else if (k == UCAT_NUMBER)
		f |= F_N;
	else if (k == UCAT_PUNCT)
		f |= F_P;
	if (k != UCAT_NONE || (f & F_WS))
		f |= F_DEF;
	return f;
}

/* A splitter cuts the piece [b, e) of the code points; cut positions
 * are appended (the end of each word). */
struct split {
	const uint32_t *c;
	const uint8_t *fl;
	size_t b, e;
	size_t prev;
	struct work *w;
	int rc;
};

static uint8_t F(const struct split *p, size_t i)
{
	return i < p->e ? p->fl[i] : 0;
}

static uint32_t C(const struct split *p, size_t i)
{
	return i < p->e ? p->c[i] : 0xFFFFFFFFu;
}

static void cut(struct split *p, size_t end)
{
	if (end <= p->prev || p->rc)
		return;
	struct work *w = p->w;
	if ((p->rc = grow((void **)&w->cuts2, &w->cuts2_cap, w->cuts2_n + 1, sizeof(size_t))))
		return;
	w->cuts2[w->cuts2_n++] = end;
	p->prev = end;
}

static uint32_t ascii_lower(uint32_t c)
{
	return c >= 'A' && c <= 'Z' ? c + 32 : c;
}

/* 's|'t|'re|'ve|'m|'ll|'d at pos: its length, or 0 */
static size_t contraction(const struct split *p, size_t pos, bool fold)
{
	if (C(p, pos) != '\'' || pos + 1 >= p->e)
		return 0;
	uint32_t a = C(p, pos + 1), b = pos + 2 < p->e ? C(p, pos + 2) : 0;
	if (fold) {
		a = ascii_lower(a);
		b = ascii_lower(b);
	}
	if (a == 's' || a == 't' || a == 'm' || a == 'd')
		return 2;
	if ((a == 'r' && b == 'e') || (a == 'v' && b == 'e') || (a == 'l' && b == 'l'))
		return 3;
	return 0;
}

/* 's|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+
 * (unassigned code points are not "other" here, as in llama.cpp's
 * hand-written version of it) */
static void split_gpt2(struct split *p)
{
	for (size_t pos = p->b, seen = SIZE_MAX; pos < p->e;) {
		if (pos == seen) { /* no rule took anything: never loop */
			cut(p, ++pos);
			continue;
		}
		seen = pos;
		uint32_t c = C(p, pos);
		size_t k = contraction(p, pos, false);
		if (k) {
			pos += k;
			cut(p, pos);
			continue;
		}
		uint8_t f2 = c == ' ' ? F(p, pos + 1) : F(p, pos);
		if (f2 & (F_L | F_N)) {
			uint8_t want = f2 & F_L ? F_L : F_N;
			pos += c == ' ';
			while (F(p, pos) & want)
				pos++;
			cut(p, pos);
			continue;
		}
		if (!(f2 & (F_WS | F_L | F_N)) && (f2 & F_DEF)) {
			pos += c == ' ';
			while (!(F(p, pos) & (F_WS | F_L | F_N)) && (F(p, pos) & F_DEF))
				pos++;
			cut(p, pos);
			continue;
		}
		size_t nws = 0;
		while (F(p, pos + nws) & F_WS)
			nws++;
		if (nws > 1 && pos + nws < p->e)
			pos += nws - 1; /* \s+(?!\S): leave one for the next word */
		else if (nws)
			pos += nws;
		else
			pos++;
		cut(p, pos);
	}
}

/* (?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,maxd}|
 * ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+
 * regex_std: "other" is any code point, as std::regex sees it (qwen2),
 * rather than any assigned one (llama-bpe, hand-written in llama.cpp). */
static void split_llama3(struct split *p, size_t maxd, bool regex_std)
{
	for (size_t pos = p->b, seen = SIZE_MAX; pos < p->e;) {
		if (pos == seen) { /* no rule took anything: never loop */
			cut(p, ++pos);
			continue;
		}
		seen = pos;
		uint32_t c = C(p, pos);
		uint8_t f = F(p, pos);
		size_t k = contraction(p, pos, true);
		if (k) {
			pos += k;
			cut(p, pos);
			continue;
		}
		if (!(c == '\r' || c == '\n' || (f & F_N)) &&
		    ((f & F_L) || (F(p, pos + 1) & F_L))) {
			pos++;
			while (F(p, pos) & F_L)
				pos++;
			cut(p, pos);
			continue;
		}
		if (f & F_N) {
			size_t ini = pos;
			while (F(p, pos) & F_N) {
				if (++pos - ini >= maxd) {
					cut(p, pos);
					ini = pos;
				}
			}
			cut(p, pos);
			continue;
		}
		uint8_t f2 = c == ' ' ? F(p, pos + 1) : f;
		bool in2 = regex_std ? (c == ' ' ? pos + 1 < p->e : true) : (f & F_DEF);
		if (!(f2 & (F_WS | F_L | F_N)) && in2) {
			pos += c == ' ';
			while (pos < p->e && !(F(p, pos) & (F_WS | F_L | F_N)) &&
			       (regex_std || (F(p, pos) & F_DEF)))
				pos++;
			while (C(p, pos) == '\r' || C(p, pos) == '\n')
				pos++;
			cut(p, pos);
			continue;
		}
		size_t nws = 0, last_nl = 0;
		while (F(p, pos + nws) & F_WS) {
			uint32_t d = C(p, pos + nws);
			if (d == '\r' || d == '\n')
				last_nl = pos + nws + 1;
			nws++;
		}
		if (last_nl)
			pos = last_nl;
		else if (nws > 1 && pos + nws < p->e)
			pos += nws - 1;
		else if (nws)
			pos += nws;
		else
			pos++;
		cut(p, pos);
	}
}

/* Runs of code points that pass `in` are words; so is the text between
 * them. */
static void split_runs(struct split *p, bool (*in)(uint32_t, uint8_t))
{
	for (size_t pos = p->b; pos < p->e;) {
		bool r = in(p->c[pos], p->fl[pos]);
		while (pos < p->e && in(p->c[pos], p->fl[pos]) == r)
			pos++;
		cut(p, pos);
	}
}

static bool is_num(uint32_t c, uint8_t f)
{
	(void)c;
	return f & F_N;
}

/* \p{N} alone: every number its own word */
static void split_each_num(struct split *p)
{
	for (size_t pos = p->b; pos < p->e;) {
		if (p->fl[pos] & F_N) {
			cut(p, ++pos);
			continue;
		}
		while (pos < p->e && !(p->fl[pos] & F_N))
			pos++;
		cut(p, pos);
	}
}

static bool is_punct_default(uint32_t c, uint8_t f)
{
	return (f & F_P) || c == '$' || c == '+' || c == '<' || c == '=' || c == '>' || c == '^' ||
	       c == '~' || c == '|';
}

static bool is_punct_falcon(uint32_t c, uint8_t f)
{
	return is_punct_default(c, f) || c == '`';
}

/* [0-9][0-9][0-9], left to right */
static void split_triples(struct split *p)
{
	for (size_t pos = p->b; pos < p->e;) {
		if (pos + 3 <= p->e && p->c[pos] - '0' < 10 && p->c[pos + 1] - '0' < 10 &&
		    p->c[pos + 2] - '0' < 10) {
			cut(p, pos);
			pos += 3;
			cut(p, pos);
			continue;
		}
		pos++;
	}
	cut(p, p->e);
}

enum stage {
	ST_GPT2,
	ST_LLAMA3,
	ST_QWEN2,
	ST_EACH_NUM,
	ST_PUNCT,
	ST_PUNCT_FALCON,
	ST_NUMS,
	ST_TRIPLES
};

/* Applies one stage to every current word: the ends of the words in
 * w->cuts become the finer cut (built in w->cuts2, then swapped in). */
static int run_stage(struct work *w, const uint32_t *c, const uint8_t *fl, enum stage st)
{
	struct split p = { c, fl, 0, 0, 0, w, 0 };
	w->cuts2_n = 0;
	size_t b = 0;
	for (size_t i = 0; i < w->cuts_n && !p.rc; i++) {
		p.b = p.prev = b;
		p.e = w->cuts[i];
		switch (st) {
		case ST_GPT2: split_gpt2(&p); break;
		case ST_LLAMA3: split_llama3(&p, 3, false); break;
		case ST_QWEN2: split_llama3(&p, 1, true); break;
		case ST_EACH_NUM: split_each_num(&p); break;
		case ST_PUNCT: split_runs(&p, is_punct_default); break;
		case ST_PUNCT_FALCON: split_runs(&p, is_punct_falcon); break;
		case ST_NUMS: split_runs(&p, is_num); break;
		case ST_TRIPLES: split_triples(&p); break;
		}
		cut(&p, p.e);
		b = p.e;
	}
	size_t *tv = w->cuts, tc = w->cuts_cap;
	w->cuts = w->cuts2;
	w->cuts_cap = w->cuts2_cap;
	w->cuts_n = w->cuts2_n;
	w->cuts2 = tv;
	w->cuts2_cap = tc;
	return p.rc;
}

static int pre_split(const struct tok *t, struct work *w, const uint32_t *c, const uint8_t *fl,
		     size_t n)
{
	static const enum stage gpt2[] = { ST_GPT2 }, llama3[] = { ST_LLAMA3 },
				qwen2[] = { ST_QWEN2 }, starcoder[] = { ST_EACH_NUM, ST_GPT2 },
				falcon[] = { ST_PUNCT_FALCON, ST_GPT2, ST_TRIPLES },
				deflt[] = { ST_PUNCT, ST_GPT2, ST_NUMS, ST_TRIPLES };
	const enum stage *sv;
	size_t ns;
	switch (t->pre) {
	case PRE_LLAMA3: sv = llama3, ns = 1; break;
	case PRE_QWEN2: sv = qwen2, ns = 1; break;
	case PRE_STARCODER: sv = starcoder, ns = 2; break;
	case PRE_FALCON: sv = falcon, ns = 3; break;
	case PRE_DEFAULT: sv = deflt, ns = 4; break;
	default: sv = gpt2, ns = 1; break;
	}
	int rc = grow((void **)&w->cuts, &w->cuts_cap, 1, sizeof(size_t));
	if (rc)
		return rc;
	w->cuts[0] = n;
	w->cuts_n = 1;
	for (size_t i = 0; i < ns; i++)
		if ((rc = run_stage(w, c, fl, sv[i])))
			return rc;
	return 0;
}

/* One word (code points c[0..n)): byte-encoded into w->buf and merged. */
static int bpe_word(const struct tok *t, struct work *w, const uint32_t *c, size_t n,
		    struct sink *k)
{
	int rc = grow((void **)&w->buf, &w->buf_cap, 8 * n + 1, 1);
	if (rc)
		return rc;
	size_t o = 0;
	for (size_t i = 0; i < n; i++) {
		char u[4];
		size_t ul = utf8_put(c[i], u);
		for (size_t j = 0; j < ul; j++)
			o += utf8_put(byte_cp((unsigned char)u[j]), w->buf + o);
	}
	if (t->ignore_merges) {
		int32_t id = tok_lookup(t, w->buf, o);
		if (id >= 0) {
			emit(k, id);
			return 0;
		}
	}
	size_t ns;
	if (!o || (rc = merge_all(t, w, o, &ns)))
		return rc;
	emit_symbols(t, w, k);
	return 0;
}

static int bpe_run(const struct tok *t, struct work *w, const char *s, size_t len, struct sink *k)
{
	int rc;
	if ((rc = grow((void **)&w->cps, &w->cps_cap, len + 1, sizeof *w->cps)) ||
	    (rc = grow((void **)&w->fl, &w->fl_cap, len + 1, 1)))
		return rc;
	size_t n = 0;
	for (size_t i = 0; i < len;) {
		i += utf8_get((const unsigned char *)s + i, len - i, &w->cps[n]);
		w->fl[n] = flags_of(w->cps[n]);
		n++;
	}
	if (!n)
		return 0;
	if ((rc = pre_split(t, w, w->cps, w->fl, n)))
		return rc;
	size_t b = 0;
	for (size_t i = 0; i < w->cuts_n; i++) {
		size_t e = w->cuts[i];
		if (e > b && (rc = bpe_word(t, w, w->cps + b, e - b, k)))
			return rc;
		b = e;
	}
	return 0;
}

/* ---- special-token fragments ------------------------------------------------------ */

struct frag {
	size_t off, len;
	int32_t id;   /* a special token, or -1 for raw text */
	int32_t spec; /* index into specials for tokens */
	bool parse;   /* raw: control tokens are looked for in it */
};

struct frags {
	struct frag *v;
	size_t n, cap;
};

static int frag_push(struct frags *f, struct frag x)
{
	int rc = grow((void **)&f->v, &f->cap, f->n + 1, sizeof *f->v);
	if (rc)
		return rc;
	f->v[f->n++] = x;
	return 0;
}

static bool is_cspace(char c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\v' || c == '\f' || c == '\r';
}

/* Cuts the raw fragments of *cur at every occurrence of each special
 * token in turn (longest first, left to right), stripping the white space
 * beside the tokens that ask for it. */
static int split_specials(const struct tok *t, const char *text, struct frags *cur)
{
	int rc = 0;
	struct frags next = { 0 };
	for (size_t s = 0; s < t->n_specials; s++) {
		const struct special *sp = &t->specials[s];
		const char *tt = t->v.pool + t->v.off[sp->id];
		size_t tl = sp->len;
		next.n = 0;
		for (size_t i = 0; i < cur->n; i++) {
			struct frag f = cur->v[i];
			if (f.id >= 0 || (sp->parse_only && !f.parse)) {
				if ((rc = frag_push(&next, f)))
					goto out;
				continue;
			}
			size_t p = f.off, end = f.off + f.len;
			const char *q;
			while (p < end && (q = memmem(text + p, end - p, tt, tl))) {
				size_t at = (size_t)(q - text), left = at;
				if (sp->lstrip)
					while (left > p && is_cspace(text[left - 1]))
						left--;
				if (left > p &&
				    (rc = frag_push(&next,
						    (struct frag){ p, left - p, -1, -1, f.parse })))
					goto out;
				if ((rc = frag_push(&next, (struct frag){ at, tl, sp->id,
									  (int32_t)s, false })))
					goto out;
				p = at + tl;
				if (sp->rstrip)
					while (p < end && is_cspace(text[p]))
						p++;
			}
			if (p < end &&
			    (rc = frag_push(&next, (struct frag){ p, end - p, -1, -1, f.parse })))
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

/* Stripping that reaches over a segment boundary (a token at the end of a
 * template segment followed by content that starts with white space). */
static void strip_across(const struct tok *t, const char *text, struct frags *fr)
{
	for (size_t i = 0; i < fr->n; i++) {
		if (fr->v[i].id < 0)
			continue;
		const struct special *sp = &t->specials[fr->v[i].spec];
		for (size_t j = i + 1; sp->rstrip && j < fr->n && fr->v[j].id < 0; j++) {
			struct frag *g = &fr->v[j];
			while (g->len && is_cspace(text[g->off])) {
				g->off++;
				g->len--;
			}
			if (g->len)
				break;
		}
		for (size_t j = i; sp->lstrip && j-- > 0 && fr->v[j].id < 0;) {
			struct frag *g = &fr->v[j];
			while (g->len && is_cspace(text[g->off + g->len - 1]))
				g->len--;
			if (g->len)
				break;
		}
	}
}

static void work_free(struct work *w)
{
	free(w->syms);
	free(w->heap);
	free(w->buf);
	free(w->cps);
	free(w->fl);
	free(w->cuts);
	free(w->cuts2);
}

int tok_encode_segs(const struct tok *t, const struct tok_seg *segs, size_t nseg, bool add_special,
		    int32_t *out, size_t cap, size_t *n)
{
	*n = 0;
	size_t total = 0;
	for (size_t i = 0; i < nseg; i++) {
		if (segs[i].len > TOK_MAX_INPUT - total)
			return MX_ETOOBIG;
		total += segs[i].len;
	}
	int rc = 0;
	struct sink k = { out, out ? cap : 0, 0 };
	struct frags fr = { 0 };
	struct work w = { 0 };
	char *text = malloc(total + 1), *run = NULL;
	if (!text)
		return MX_ENOMEM;
	size_t o = 0;
	for (size_t i = 0; i < nseg; i++) {
		if (segs[i].len)
			memcpy(text + o, segs[i].text, segs[i].len);
		if (segs[i].len &&
		    (rc = frag_push(&fr, (struct frag){ o, segs[i].len, -1, -1, segs[i].special })))
			goto out;
		o += segs[i].len;
	}
	if ((rc = split_specials(t, text, &fr)))
		goto out;
	strip_across(t, text, &fr);
	if (!(run = malloc(total + 1))) {
		rc = MX_ENOMEM;
		goto out;
	}
	if (add_special && t->add_bos)
		emit(&k, t->bos);
	bool prev_special = true;
	for (size_t i = 0; i < fr.n;) {
		if (fr.v[i].id >= 0) {
			emit(&k, fr.v[i].id);
			prev_special = true;
			i++;
			continue;
		}
		size_t rl = 0;
		for (; i < fr.n && fr.v[i].id < 0; i++) {
			memcpy(run + rl, text + fr.v[i].off, fr.v[i].len);
			rl += fr.v[i].len;
		}
		if (!rl)
			continue;
		if (t->kind == TOK_KIND_SPM)
			rc = spm_run(t, &w, run, rl, t->add_space_prefix && prev_special, &k);
		else
			rc = bpe_run(t, &w, run, rl, &k);
		if (rc)
			goto out;
		prev_special = false;
	}
	if (add_special && t->add_eos)
		emit(&k, t->eos);
	*n = k.n;
out:
	work_free(&w);
	free(fr.v);
	free(run);
	free(text);
	return rc;
}

int tok_encode(const struct tok *t, const char *text, size_t len, unsigned flags, int32_t *out,
	       size_t cap, size_t *n)
{
	struct tok_seg s = { text, len, (flags & TOK_PARSE_SPECIAL) != 0 };
	return tok_encode_segs(t, &s, 1, (flags & TOK_ADD_SPECIAL) != 0, out, cap, n);
}

/* ---- decoding -------------------------------------------------------------------- */

static bool shows_text(enum tok_type ty)
{
	return ty == TOK_TYPE_CONTROL || ty == TOK_TYPE_UNKNOWN;
}

const char *tok_piece(const struct tok *t, int32_t id, bool special, size_t *len)
{
	if (id < 0 || (size_t)id >= t->v.n) {
		*len = 0;
		return "";
	}
	if (special && shows_text((enum tok_type)t->types[id])) {
		*len = t->v.off[id + 1] - t->v.off[id];
		return t->v.pool + t->v.off[id];
	}
	*len = t->doff[id + 1] - t->doff[id];
	return t->dpool + t->doff[id];
}

void tok_decode(const struct tok *t, const int32_t *ids, size_t n, bool special, bool strip_space,
		char *buf, size_t cap, size_t *len)
{
	size_t o = 0;
	bool strip = strip_space && t->add_space_prefix && t->kind == TOK_KIND_SPM;
	for (size_t i = 0; i < n; i++) {
		size_t pl;
		const char *p = tok_piece(t, ids[i], special, &pl);
		if (strip && pl && p[0] == ' ') {
			p++;
			pl--;
		}
		if (pl)
			strip = false;
		if (o < cap)
			memcpy(buf + o, p, pl < cap - o ? pl : cap - o);
		o += pl;
	}
	if (cap)
		buf[o < cap ? o : cap - 1] = '\0';
	*len = o;
}

/* The decoded form of token i into dst (room for 4 x its text). */
static size_t decode_token(const struct tok *t, size_t i, char *dst)
{
	const char *s = t->v.pool + t->v.off[i];
	size_t len = t->v.off[i + 1] - t->v.off[i], o = 0;
	enum tok_type ty = (enum tok_type)t->types[i];
	if (ty == TOK_TYPE_USER_DEFINED) {
		memcpy(dst, s, len);
		return len;
	}
	if (t->kind == TOK_KIND_SPM) {
		if (ty == TOK_TYPE_BYTE) {
			unsigned v;
			char tail;
			char tmp[16];
			if (len == 6 && (memcpy(tmp, s, 6), tmp[6] = 0, 1) &&
			    sscanf(tmp, "<0x%2x%c", &v, &tail) == 2 && tail == '>') {
				dst[0] = (char)v;
				return 1;
			}
			return 0;
		}
		if (ty != TOK_TYPE_NORMAL)
			return 0;
		for (size_t j = 0; j < len;) {
			if (len - j >= SPM_SPACE_LEN && !memcmp(s + j, SPM_SPACE, SPM_SPACE_LEN)) {
				dst[o++] = ' ';
				j += SPM_SPACE_LEN;
			} else {
				dst[o++] = s[j++];
			}
		}
		return o;
	}
	if (ty != TOK_TYPE_NORMAL)
		return 0;
	for (size_t j = 0; j < len;) {
		uint32_t cp;
		size_t step = utf8_get((const unsigned char *)s + j, len - j, &cp);
		int b = cp < 0x144 ? t->cp_byte[cp] : -1;
		if (b >= 0) {
			dst[o++] = (char)b;
		} else { /* not from the byte encoder: kept as it is */
			memcpy(dst + o, s + j, step);
			o += step;
		}
		j += step;
	}
	return o;
}

/* ---- loading ------------------------------------------------------------------ */

static const char K_TOKENS[] = "tokenizer.ggml.tokens";
static const char K_TYPES[] = "tokenizer.ggml.token_type";
static const char K_SCORES[] = "tokenizer.ggml.scores";
static const char K_MERGES[] = "tokenizer.ggml.merges";

/* An id from metadata: 0 (found, in range, or absent: *id untouched) or
 * MX_ECORRUPT. */
static int meta_id(const struct tok *t, const struct gguf *g, const char *key, int32_t *id,
		   char *err, size_t errsz)
{
	uint32_t v;
	int rc = gguf_get_u32(g, key, &v);
	if (rc == MX_ENOTFOUND)
		return 0;
	if (rc) {
		int32_t sv;
		if (gguf_get_i32(g, key, &sv) == 0 && sv == -1) {
			*id = -1;
			return 0;
		}
		snprintf(err, errsz, "%s is not an unsigned integer", key);
		return MX_ECORRUPT;
	}
	if (v >= t->v.n) {
		snprintf(err, errsz, "%s is %u, past the %zu tokens", key, (unsigned)v, t->v.n);
		return MX_ECORRUPT;
	}
	*id = (int32_t)v;
	return 0;
}

static void meta_bool(const struct gguf *g, const char *key, bool *v)
{
	bool b;
	if (gguf_get_bool(g, key, &b) == 0)
		*v = b;
}

static int load_types_scores(struct tok *t, const struct gguf *g, char *err, size_t errsz)
{
	enum gguf_vtype elem;
	uint64_t nt;
	int rc = 0;
	if (!(t->types = malloc(t->v.n)))
		return MX_ENOMEM;
	memset(t->types, TOK_TYPE_NORMAL, t->v.n);
	if (gguf_get_arr(g, K_TYPES, &elem, &nt) == 0) {
		int32_t *v = malloc(t->v.n * sizeof *v);
		if (!v)
			return MX_ENOMEM;
		if (nt != t->v.n || gguf_get_arr_i32(g, K_TYPES, v, t->v.n)) {
			snprintf(err, errsz, "%s does not have one integer per token", K_TYPES);
			rc = MX_ECORRUPT;
		} else {
			for (size_t i = 0; i < t->v.n; i++)
				t->types[i] =
					v[i] >= 0 && v[i] <= 6 ? (uint8_t)v[i] : TOK_TYPE_UNDEFINED;
		}
		free(v);
		if (rc)
			return rc;
	}
	if (t->kind == TOK_KIND_SPM && gguf_get_arr(g, K_SCORES, &elem, &nt) == 0) {
		if (!(t->scores = malloc(t->v.n * sizeof *t->scores)))
			return MX_ENOMEM;
		if (nt != t->v.n || gguf_get_arr_f32(g, K_SCORES, t->scores, t->v.n)) {
			snprintf(err, errsz, "%s does not have one number per token", K_SCORES);
			return MX_ECORRUPT;
		}
	}
	return 0;
}

static int load_merges(struct tok *t, const struct gguf *g, char *err, size_t errsz)
{
	enum gguf_vtype elem;
	uint64_t nm;
	if (gguf_get_arr(g, K_MERGES, &elem, &nm)) {
		snprintf(err, errsz, "a BPE vocabulary without %s", K_MERGES);
		return MX_ECORRUPT;
	}
	if (elem != GGUF_STRING || nm > INT32_MAX / 4) {
		snprintf(err, errsz, "%s is not a string array", K_MERGES);
		return MX_ECORRUPT;
	}
	size_t total = 0, n = 0;
	if (nm && !(t->merges = malloc(nm * sizeof *t->merges)))
		return MX_ENOMEM;
	for (uint64_t i = 0; i < nm; i++) {
		const char *s;
		size_t len;
		if (gguf_get_arr_str(g, K_MERGES, i, &s, &len)) {
			snprintf(err, errsz, "merge %llu cannot be read", (unsigned long long)i);
			return MX_ECORRUPT;
		}
		if (len > SIZE_MAX / 2 - total)
			return MX_ETOOBIG;
		const char *sp = len > 1 ? memchr(s + 1, ' ', len - 1) : NULL;
		/* a merge without a space never applies; it keeps its rank */
		t->merges[n++] = (struct merge){ total, len, sp ? (size_t)(sp - s) : SIZE_MAX };
		total += len;
	}
	t->n_merges = n;
	if (!(t->mpool = malloc(total ? total : 1)))
		return MX_ENOMEM;
	for (size_t i = 0; i < n; i++) {
		const char *s;
		size_t len;
		gguf_get_arr_str(g, K_MERGES, i, &s, &len);
		memcpy(t->mpool + t->merges[i].off, s, len);
	}
	size_t cap = 16;
	while (cap < 2 * n)
		cap *= 2;
	t->mmask = cap - 1;
	if (!(t->mslots = malloc(cap * sizeof *t->mslots)))
		return MX_ENOMEM;
	memset(t->mslots, 0xff, cap * sizeof *t->mslots);
	for (size_t i = 0; i < n; i++)
		if (t->merges[i].split != SIZE_MAX)
			insert_merge(t, (int32_t)i);
	return 0;
}

static int load_pieces(struct tok *t)
{
	if (!(t->doff = malloc((t->v.n + 1) * sizeof *t->doff)))
		return MX_ENOMEM;
	size_t total = t->v.off[t->v.n];
	if (!(t->dpool = malloc(total ? total : 1)))
		return MX_ENOMEM;
	/* every piece is at most as long as its text: bytes shrink, "▁"
	 * (3 bytes) becomes one */
	size_t o = 0;
	for (size_t i = 0; i < t->v.n; i++) {
		t->doff[i] = o;
		o += decode_token(t, i, t->dpool + o);
	}
	t->doff[t->v.n] = o;
	return 0;
}

static int cmp_special(const void *a, const void *b)
{
	const struct special *x = a, *y = b;
	if (x->len != y->len)
		return x->len > y->len ? -1 : 1;
	return (x->id > y->id) - (x->id < y->id);
}

static bool name_has(const char *s, size_t len, const char *word)
{
	size_t wl = strlen(word);
	for (size_t i = 0; i + wl <= len; i++) {
		size_t j = 0;
		while (j < wl && (char)((s[i + j] >= 'A' && s[i + j] <= 'Z') ? s[i + j] + 32
									     : s[i + j]) == word[j])
			j++;
		if (j == wl)
			return true;
	}
	return false;
}

static bool text_is(const struct tok *t, size_t id, const char *s)
{
	size_t l = strlen(s);
	return t->v.off[id + 1] - t->v.off[id] == l && !memcmp(t->v.pool + t->v.off[id], s, l);
}

static int load_specials(struct tok *t, const struct gguf *g)
{
	size_t k = 0;
	for (size_t i = 0; i < t->v.n; i++) {
		uint8_t ty = t->types[i];
		if ((ty == TOK_TYPE_CONTROL || ty == TOK_TYPE_USER_DEFINED ||
		     ty == TOK_TYPE_UNKNOWN) &&
		    t->v.off[i + 1] > t->v.off[i])
			k++;
	}
	if (!k)
		return 0;
	if (!(t->specials = calloc(k, sizeof *t->specials)))
		return MX_ENOMEM;
	const char *name;
	size_t nl = 0;
	bool phi3 = gguf_get_str(g, "general.name", &name, &nl) == 0 &&
		    (name_has(name, nl, "phi-3") || name_has(name, nl, "phi3"));
	for (size_t i = 0; i < t->v.n; i++) {
		uint8_t ty = t->types[i];
		if (!(ty == TOK_TYPE_CONTROL || ty == TOK_TYPE_USER_DEFINED ||
		      ty == TOK_TYPE_UNKNOWN) ||
		    t->v.off[i + 1] == t->v.off[i])
			continue;
		struct special *s = &t->specials[t->n_specials++];
		s->id = (int32_t)i;
		s->len = t->v.off[i + 1] - t->v.off[i];
		s->parse_only = ty != TOK_TYPE_USER_DEFINED;
		/* Phi-3's specials eat the white space after them, except
		 * these three (llama.cpp sets this by the model's name) */
		s->rstrip = phi3 && !text_is(t, i, "<unk>") && !text_is(t, i, "<s>") &&
			    !text_is(t, i, "<|endoftext|>");
	}
	qsort(t->specials, t->n_specials, sizeof *t->specials, cmp_special);
	return 0;
}

static void add_eog(struct tok *t, int32_t id)
{
	if (id < 0)
		return;
	for (size_t i = 0; i < t->n_eog; i++)
		if (t->eog[i] == id)
			return;
	if (t->n_eog < MAX_EOG)
		t->eog[t->n_eog++] = id;
}

static void find_eog(struct tok *t)
{
	static const char *const eot_names[] = { "<|eot_id|>",	  "<|im_end|>",	   "<|end|>",
						 "<end_of_turn>", "<|endoftext|>", "<EOT>",
						 "_<EOT>" };
	static const char *const eog_names[] = {
		"<|eot_id|>", "<|im_end|>", "<|end|>", "<end_of_turn>",	 "<|endoftext|>",
		"<|eom_id|>", "<EOT>",	    "_<EOT>",  "<|end_of_text|>"
	};
	if (t->eot < 0)
		for (size_t i = 0; i < sizeof eot_names / sizeof *eot_names && t->eot < 0; i++)
			t->eot = tok_lookup(t, eot_names[i], strlen(eot_names[i]));
	if (t->eom < 0)
		t->eom = tok_lookup(t, "<|eom_id|>", 10);
	add_eog(t, t->eos);
	add_eog(t, t->eot);
	add_eog(t, t->eom);
	for (size_t i = 0; i < sizeof eog_names / sizeof *eog_names; i++)
		add_eog(t, tok_lookup(t, eog_names[i], strlen(eog_names[i])));
}

/* tokenizer.ggml.pre -> the splitter, and the flags llama.cpp ties to it */
static int set_pre(struct tok *t, const char *s, size_t len)
{
	static const struct {
		const char *name;
		enum pre pre;
	} tab[] = {
		{ "gpt-2", PRE_GPT2 },
		{ "phi-2", PRE_GPT2 },
		{ "mpt", PRE_GPT2 },
		{ "olmo", PRE_GPT2 },
		{ "jais", PRE_GPT2 },
		{ "trillion", PRE_GPT2 },
		{ "llama-bpe", PRE_LLAMA3 },
		{ "llama3", PRE_LLAMA3 },
		{ "llama-v3", PRE_LLAMA3 },
		{ "falcon3", PRE_LLAMA3 },
		{ "dbrx", PRE_LLAMA3 },
		{ "smaug-bpe", PRE_LLAMA3 },
		{ "qwen2", PRE_QWEN2 },
		{ "deepseek-r1-qwen", PRE_QWEN2 },
		{ "stablelm2", PRE_QWEN2 },
		{ "megrez", PRE_QWEN2 },
		{ "starcoder", PRE_STARCODER },
		{ "smollm", PRE_STARCODER },
		{ "refact", PRE_STARCODER },
		{ "command-r", PRE_STARCODER },
		{ "codeshell", PRE_STARCODER },
		{ "exaone", PRE_STARCODER },
		{ "minerva-7b", PRE_STARCODER },
		{ "falcon", PRE_FALCON },
		{ "default", PRE_DEFAULT },
	};
	if (!s) {
		s = "default";
		len = 7;
	}
	for (size_t i = 0; i < sizeof tab / sizeof *tab; i++) {
		if (strlen(tab[i].name) == len && !memcmp(tab[i].name, s, len)) {
			t->pre = tab[i].pre;
			snprintf(t->pre_name, sizeof t->pre_name, "%s", tab[i].name);
			t->ignore_merges = t->pre == PRE_LLAMA3;
			t->add_bos = t->pre == PRE_LLAMA3;
			return 0;
		}
	}
	return MX_EUNSUPPORTED;
}

int tok_open_gguf(const struct gguf *g, struct tok **out, char *err, size_t errsz)
{
	*out = NULL;
	if (errsz)
		err[0] = '\0';
	const char *model, *pre = NULL;
	size_t mlen, plen = 0;
	if (gguf_get_str(g, "tokenizer.ggml.model", &model, &mlen)) {
		snprintf(err, errsz, "no tokenizer.ggml.model in the model");
		return MX_ECORRUPT;
	}
	enum tok_kind kind;
	if (mlen == 4 && !memcmp(model, "gpt2", 4))
		kind = TOK_KIND_BPE;
	else if (mlen == 5 && !memcmp(model, "llama", 5))
		kind = TOK_KIND_SPM;
	else {
		snprintf(err, errsz,
			 "tokenizer '%.*s' is not supported (only \"gpt2\" and \"llama\")",
			 (int)(mlen > 32 ? 32 : mlen), model);
		return MX_EUNSUPPORTED;
	}
	enum gguf_vtype elem;
	uint64_t n;
	if (gguf_get_arr(g, K_TOKENS, &elem, &n) || elem != GGUF_STRING || n == 0 ||
	    n > INT32_MAX / 4) {
		snprintf(err, errsz, "%s is missing or not a non-empty string array", K_TOKENS);
		return MX_ECORRUPT;
	}
	int rc = 0;
	struct tok *t = calloc(1, sizeof *t);
	if (!t)
		return MX_ENOMEM;
	t->kind = kind;
	t->v.n = (size_t)n;
	t->eot = t->eom = -1;
	if (kind == TOK_KIND_SPM) {
		t->pre = PRE_NONE;
		t->bos = 1, t->eos = 2, t->unk = 0;
		t->add_bos = true;
		t->add_space_prefix = true;
	} else {
		if (gguf_get_str(g, "tokenizer.ggml.pre", &pre, &plen))
			pre = NULL;
		if (set_pre(t, pre, plen)) {
			snprintf(err, errsz, "unknown pre-tokenizer '%.*s'",
				 (int)(plen > 32 ? 32 : plen), pre);
			rc = MX_EUNSUPPORTED;
			goto fail;
		}
		t->bos = t->eos = 11, t->unk = -1;
	}
	/* defaults past a small vocabulary are no ids */
	if ((size_t)t->bos >= t->v.n)
		t->bos = -1;
	if ((size_t)t->eos >= t->v.n)
		t->eos = -1;
	if (t->unk >= 0 && (size_t)t->unk >= t->v.n)
		t->unk = -1;
	if ((rc = eng_vocab_load(&t->v, g, K_TOKENS, t->v.n, err, errsz)) ||
	    (rc = load_types_scores(t, g, err, errsz)))
		goto fail;
	if (kind == TOK_KIND_BPE && (rc = load_merges(t, g, err, errsz)))
		goto fail;
	if ((rc = meta_id(t, g, "tokenizer.ggml.bos_token_id", &t->bos, err, errsz)) ||
	    (rc = meta_id(t, g, "tokenizer.ggml.eos_token_id", &t->eos, err, errsz)) ||
	    (rc = meta_id(t, g, "tokenizer.ggml.eot_token_id", &t->eot, err, errsz)) ||
	    (rc = meta_id(t, g, "tokenizer.ggml.eom_token_id", &t->eom, err, errsz)) ||
	    (rc = meta_id(t, g, "tokenizer.ggml.unknown_token_id", &t->unk, err, errsz)))
		goto fail;
	meta_bool(g, "tokenizer.ggml.add_bos_token", &t->add_bos);
	meta_bool(g, "tokenizer.ggml.add_eos_token", &t->add_eos);
	meta_bool(g, "tokenizer.ggml.add_space_prefix", &t->add_space_prefix);
	if (kind == TOK_KIND_BPE)
		t->add_space_prefix = false;
	if (t->add_bos && t->bos < 0)
		t->add_bos = false;
	if (t->add_eos && t->eos < 0)
		t->add_eos = false;
	for (unsigned b = 0; b < 256; b++) {
		if (kind == TOK_KIND_SPM) {
			char name[8];
			snprintf(name, sizeof name, "<0x%02X>", b);
			t->byte_tok[b] = tok_lookup(t, name, 6);
		} else {
			char c = (char)b;
			t->byte_tok[b] = tok_lookup(t, &c, 1);
		}
	}
	for (size_t i = 0; i < 0x144; i++)
		t->cp_byte[i] = -1;
	for (unsigned b = 0; b < 256; b++)
		t->cp_byte[byte_cp(b)] = (int16_t)b;
	if ((rc = load_pieces(t)) || (rc = load_specials(t, g)))
		goto fail;
	find_eog(t);
	*out = t;
	return 0;
fail:
	if (rc == MX_ENOMEM && errsz && !err[0])
		snprintf(err, errsz, "out of memory loading the vocabulary");
	if (rc == MX_ETOOBIG && errsz && !err[0])
		snprintf(err, errsz, "the vocabulary is too large");
	tok_free(t);
	return rc;
}

void tok_free(struct tok *t)
{
	if (!t)
		return;
	free(t->specials);
	free(t->mslots);
	free(t->merges);
	free(t->mpool);
	free(t->doff);
	free(t->dpool);
	free(t->types);
	free(t->scores);
	eng_vocab_clear(&t->v);
	free(t);
}

/* ---- accessors -------------------------------------------------------------------- */

enum tok_kind tok_kind(const struct tok *t)
{
	return t->kind;
}

const char *tok_pre(const struct tok *t)
{
	return t->pre_name;
}

size_t tok_n_vocab(const struct tok *t)
{
	return t->v.n;
}

int32_t tok_bos(const struct tok *t)
{
	return t->bos;
}

int32_t tok_eos(const struct tok *t)
{
	return t->eos;
}

int32_t tok_eot(const struct tok *t)
{
	return t->eot;
}

int32_t tok_unk(const struct tok *t)
{
	return t->unk;
}

bool tok_add_bos(const struct tok *t)
{
	return t->add_bos;
}

bool tok_add_eos(const struct tok *t)
{
	return t->add_eos;
}

bool tok_is_eog(const struct tok *t, int32_t id)
{
	for (size_t i = 0; i < t->n_eog; i++)
		if (t->eog[i] == id)
			return true;
	return false;
}

const int32_t *tok_eog_ids(const struct tok *t, size_t *n)
{
	*n = t->n_eog;
	return t->eog;
}

enum tok_type tok_type(const struct tok *t, int32_t id)
{
	if (id < 0 || (size_t)id >= t->v.n)
		return TOK_TYPE_UNDEFINED;
	return (enum tok_type)t->types[id];
}

const char *tok_text(const struct tok *t, int32_t id, size_t *len)
{
	if (id < 0 || (size_t)id >= t->v.n)
		return NULL;
	*len = t->v.off[id + 1] - t->v.off[id];
	return t->v.pool + t->v.off[id];
}
