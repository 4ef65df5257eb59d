/*
 * summary.c - extractive and written summaries, thread fields, dates (see
 * summary.h).
 */
#include "summary.h"

#include <ctype.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "../common/buf.h"
#include "../common/status.h"
#include "../common/utf8.h"
#include "../engine/chat.h"
#include "../engine/engine.h"

#define GROUP_MAX    192	 /* sentences scored together (n^2 similarities) */
#define CAND_TOTAL   65536	 /* candidate sentences of one summary */
#define TERMS_SENT   64		 /* content words of a sentence, for similarity */
#define STEM_BYTES   6		 /* a word's bytes that count in the comparison */
#define SHORT_WORDS  8		 /* a sentence shorter than this scores less */
#define ITERATIONS   40		 /* of the power iteration */
#define GEN_ROUNDS   4		 /* reduce rounds of a written summary */
#define GEN_PART_MIN 256	 /* bytes: a smaller part is not worth a call */
#define GEN_OUT_MAX  (64u << 10) /* bytes of a part summary kept */
#define MMR_LAMBDA   0.6	 /* centrality against redundancy */

struct ret_summary_params ret_summary_params_default(void)
{
	return (struct ret_summary_params){ .sentences = 5, .per_window = 3, .damping = 0.85 };
}

/* ===================================================================== */
/* scoring                                                               */
/* ===================================================================== */

/* ret_summary_eligible with at least min_words words; with fewer than 4
 * (the rules' short sentences: "Sounds good!", "Booked.") a salutation
 * or sign-off ("Hello,", "Thanks,", "Best regards,") is not one either. */
static bool eligible(const char *s, size_t n, size_t min_words)
{
	size_t words = 0, letters = 0, bytes = 0;
	bool in = false;
	static const char *const greetings[] = { "hi ",	      "hello ",	      "hey ",
						 "dear ",     "hej ",	      "hallo ",
						 "greetings", "good morning", NULL };
	if (n && (s[0] == '|' || s[0] == '#'))
		return false; /* a table row, a heading */
	for (size_t i = 0; greetings[i]; i++)
		if (n > strlen(greetings[i]) && !strncasecmp(s, greetings[i], strlen(greetings[i])))
			return false; /* "Hi Jonas, Maya and Priya," */
	/* a patch trailer: "Signed-off-by: ...", "Acked-by: ..." */
	size_t w = 0;
	while (w < n && w < 32 && (isalpha((unsigned char)s[w]) || s[w] == '-'))
		w++;
	if (w > 3 && w < n && s[w] == ':' && !strncasecmp(s + w - 3, "-by", 3))
		return false;
	/* a line quoted in the "LK> " style that the mail reader left in */
	for (size_t i = 0; i < n; i++) {
		if (i && s[i - 1] != '\n')
			continue;
		size_t j = i;
		while (j < n && (s[j] == ' ' || s[j] == '\t'))
			j++;
		size_t k = j;
		while (k < n && k - j < 5 && isalpha((unsigned char)s[k]))
			k++;
		if (k < n && s[k] == '>' && (k + 1 == n || s[k + 1] == ' '))
			return false;
	}
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];
		bool sp = isspace(c);
		if (!sp) {
			bytes++;
			if (isalpha(c) || c >= 0x80)
				letters++;
		}
		if (!sp && !in)
			words++;
		in = !sp;
	}
	size_t lower = 0, upper = 0;
	for (size_t i = 0; i < n; i++) {
		lower += islower((unsigned char)s[i]) != 0;
		upper += isupper((unsigned char)s[i]) != 0;
	}
	if (upper > 3 && !lower)
		return false; /* a heading in capitals */
	if (min_words < 4) {
		size_t e = n;
		while (e && isspace((unsigned char)s[e - 1]))
			e--;
		if (e && s[e - 1] == ',')
			return false; /* "Hello,", "Best regards," */
		static const char *const alone[] = { "hi", "hello", "hey", "hej", "hallo", NULL };
		size_t a = 0;
		while (a < e && isalpha((unsigned char)s[a]))
			a++;
		bool whole = a == e || a + 1 == e; /* one word, maybe "!" or "." */
		for (size_t i = 0; alone[i] && whole; i++)
			if (a == strlen(alone[i]) && !strncasecmp(s, alone[i], a))
				return false; /* "Hi!", "Hej" */
	}
	return words >= min_words && letters && letters * 2 >= bytes;
}

bool ret_summary_eligible(const char *s, size_t n)
{
	return eligible(s, n, 4);
}

/* A sentence's content words, as sorted unique hashes. */
struct wordset {
	uint64_t *h;
	double *wt;  /* idf squared of each */
	double norm; /* the sum of wt */
	size_t n;
};

static int u64_cmp(const void *x, const void *y)
{
	uint64_t a = *(const uint64_t *)x, b = *(const uint64_t *)y;
	return a < b ? -1 : a > b;
}

static int wordset_of(const char *s, struct wordset *w)
{
	struct ret_terms t;
	int rc = ret_terms_of(s, strlen(s), TERMS_SENT, &t);
	w->h = NULL;
	w->wt = NULL;
	w->n = 0;
	if (rc)
		return rc;
	w->h = malloc((t.n ? t.n : 1) * sizeof *w->h);
	w->wt = malloc((t.n ? t.n : 1) * sizeof *w->wt);
	if (!w->h || !w->wt) {
		ret_terms_clear(&t);
		return MX_ENOMEM;
	}
	for (size_t i = 0; i < t.n; i++) {
		uint64_t h = 1469598103934665603ull;
		for (size_t k = 0; t.t[i][k] && k < STEM_BYTES; k++)
			h = (h ^ (unsigned char)t.t[i][k]) * 1099511628211ull;
		w->h[i] = h;
	}
	qsort(w->h, t.n, sizeof *w->h, u64_cmp);
	for (size_t i = 0; i < t.n; i++)
		if (!w->n || w->h[w->n - 1] != w->h[i])
			w->h[w->n++] = w->h[i];
	ret_terms_clear(&t);
	return 0;
}

/* Similarities of n sentences: cosines of embeddings (negative ones as 0),
 * or of their sets of content words. sim is n * n. */
static int similarities(const char *const *sents, size_t n, const struct ret_summary_params *p,
			double *sim, char *err, size_t errsz)
{
	int rc = 0;
	if (p->embedder) {
		int d = eng_embedder_dims(p->embedder);
		float *v = d > 0 ? malloc(n * (size_t)d * sizeof *v) : NULL;
		if (!v)
			return MX_ENOMEM;
		if ((rc = eng_embed(p->embedder, sents, n, ENG_PASSAGE, v))) {
			snprintf(err, errsz, "%s", eng_errmsg(p->embedder));
			free(v);
			return rc;
		}
		for (size_t i = 0; i < n; i++)
			for (size_t j = i; j < n; j++) {
				double s = 0;
				for (int k = 0; k < d; k++)
					s += (double)v[i * (size_t)d + (size_t)k] *
					     v[j * (size_t)d + (size_t)k];
				sim[i * n + j] = sim[j * n + i] = s > 0 ? s : 0;
			}
		free(v);
		return 0;
	}
	/* each sentence's content words (ret_terms_of), as sorted hashes of
	 * their first STEM_BYTES bytes: "booking" and "bookings" are one */
	struct wordset *w = calloc(n ? n : 1, sizeof *w);
	if (!w)
		return MX_ENOMEM;
	size_t total = 0;
	for (size_t i = 0; i < n && !rc; i++) {
		rc = wordset_of(sents[i], &w[i]);
		total += w[i].n;
	}
	/* inverse document frequencies among these sentences: a word in
	 * every sentence ("said", "but") tells nothing about centrality */
	uint64_t *all = rc ? NULL : malloc((total ? total : 1) * sizeof *all);
	if (!rc && !all)
		rc = MX_ENOMEM;
	size_t na = 0;
	for (size_t i = 0; i < n && !rc; i++)
		for (size_t k = 0; k < w[i].n; k++)
			all[na++] = w[i].h[k];
	if (!rc)
		qsort(all, na, sizeof *all, u64_cmp);
	for (size_t i = 0; i < n && !rc; i++) {
		w[i].norm = 0;
		for (size_t k = 0; k < w[i].n; k++) {
			/* df: the run of this hash in all */
			size_t lo = 0, hi = na;
			while (lo < hi) {
				size_t mid = lo + (hi - lo) / 2;
				if (all[mid] < w[i].h[k])
					lo = mid + 1;
				else
					hi = mid;
			}
			size_t df = 0;
			while (lo + df < na && all[lo + df] == w[i].h[k])
				df++;
			double idf = log((1.0 + (double)n) / (double)(df ? df : 1));
			w[i].wt[k] = idf * idf;
			w[i].norm += w[i].wt[k];
		}
	}
	for (size_t i = 0; i < n && !rc; i++) {
		sim[i * n + i] = w[i].norm > 0 ? 1 : 0;
		for (size_t j = i + 1; j < n; j++) {
			/* the cosine of the two sets, words weighted by idf */
			double common = 0;
			for (size_t a = 0, b = 0; a < w[i].n && b < w[j].n;) {
				if (w[i].h[a] == w[j].h[b]) {
					common += w[i].wt[a];
					a++;
					b++;
				} else if (w[i].h[a] < w[j].h[b]) {
					a++;
				} else {
					b++;
				}
			}
			double s = common > 0 ? common / sqrt(w[i].norm * w[j].norm) : 0;
			sim[i * n + j] = sim[j * n + i] = s;
		}
	}
	free(all);
	for (size_t i = 0; i < n; i++) {
		free(w[i].h);
		free(w[i].wt);
	}
	free(w);
	return rc;
}

/* Scales v[0, n) to 0..1 (all 1 when they are equal). */
static void unit_range(double *v, size_t n)
{
	double lo = INFINITY, hi = -INFINITY;
	for (size_t i = 0; i < n; i++) {
		lo = v[i] < lo ? v[i] : lo;
		hi = v[i] > hi ? v[i] : hi;
	}
	for (size_t i = 0; i < n; i++)
		v[i] = hi > lo ? (v[i] - lo) / (hi - lo) : 1;
}

int ret_summary_score(const char *const *sents, size_t n, const struct ret_summary_params *p,
		      double *score, double *sim_out, char *err, size_t errsz)
{
	if (!n)
		return 0;
	double *sim = sim_out ? sim_out : malloc(n * n * sizeof *sim);
	double *rank = malloc(n * sizeof *rank), *next = malloc(n * sizeof *next);
	double *deg = malloc(n * sizeof *deg), *cen = malloc(n * sizeof *cen);
	int rc = 0;
	if (!sim || !rank || !next || !deg || !cen) {
		rc = MX_ENOMEM;
		goto out;
	}
	if ((rc = similarities(sents, n, p, sim, err, errsz)))
		goto out;
	/* TextRank: r = (1 - d) / n + d * W^T r, W the similarity graph
	 * without self-loops, rows normalised; a sentence like no other gives
	 * its rank to all */
	for (size_t i = 0; i < n; i++) {
		deg[i] = 0;
		for (size_t j = 0; j < n; j++)
			deg[i] += i == j ? 0 : sim[i * n + j];
		/* the centroid's similarity: the mean similarity to the others */
		cen[i] = n > 1 ? deg[i] / (double)(n - 1) : 1;
		rank[i] = 1.0 / (double)n;
	}
	double d = p->damping > 0 && p->damping < 1 ? p->damping : 0.85;
	for (int it = 0; it < ITERATIONS; it++) {
		double dangling = 0;
		for (size_t i = 0; i < n; i++)
			if (deg[i] <= 0)
				dangling += rank[i];
		for (size_t j = 0; j < n; j++) {
			double s = dangling / (double)n;
			for (size_t i = 0; i < n; i++)
				if (i != j && deg[i] > 0)
					s += rank[i] * sim[i * n + j] / deg[i];
			next[j] = (1 - d) / (double)n + d * s;
		}
		double delta = 0;
		for (size_t i = 0; i < n; i++) {
			delta += fabs(next[i] - rank[i]);
			rank[i] = next[i];
		}
		if (delta < 1e-9)
			break;
	}
	unit_range(rank, n);
	unit_range(cen, n);
	/* a short sentence ("Not at all," said Andrew.) seldom sums much up:
	 * below SHORT_WORDS words the score falls with the length */
	for (size_t i = 0; i < n; i++) {
		size_t words = 0;
		bool in = false;
		for (const char *c = sents[i]; *c; c++) {
			bool sp = isspace((unsigned char)*c);
			words += !sp && !in;
			in = !sp;
		}
		double len = words >= SHORT_WORDS ? 1 : (double)words / SHORT_WORDS;
		score[i] = (0.5 * rank[i] + 0.5 * cen[i]) * len;
	}
out:
	if (sim != sim_out)
		free(sim);
	free(rank);
	free(next);
	free(deg);
	free(cen);
	return rc;
}

/* Sorts a few indices into increasing order (insertion). */
static void sort_indices(size_t *v, size_t m)
{
	for (size_t i = 1; i < m; i++)
		for (size_t j = i; j > 0 && v[j - 1] > v[j]; j--) {
			size_t t = v[j];
			v[j] = v[j - 1];
			v[j - 1] = t;
		}
}

size_t ret_summary_pick(const double *score, size_t n, size_t k, size_t *out)
{
	size_t m = 0;
	/* k best by insertion (k is small), then in source order */
	for (size_t i = 0; i < n; i++) {
		size_t at = m;
		while (at > 0 && score[out[at - 1]] < score[i])
			at--;
		if (at >= k)
			continue;
		size_t last = m < k ? m : k - 1;
		memmove(out + at + 1, out + at, (last - at) * sizeof *out);
		out[at] = i;
		if (m < k)
			m++;
	}
	sort_indices(out, m);
	return m;
}

/* The k best by MMR (score against similarity to those already picked),
 * in increasing order. */
static size_t pick_diverse(const double *score, const double *sim, size_t n, size_t k, size_t *out)
{
	size_t m = ret_mmr_select(score, sim, n, k, MMR_LAMBDA, -1, out);
	sort_indices(out, m);
	return m;
}

/* ===================================================================== */
/* candidates and rounds                                                 */
/* ===================================================================== */

/* A candidate sentence: segment (message) and span. */
struct cand {
	size_t seg;
	struct ret_span sp;
	double score;
};

struct cands {
	struct cand *v;
	size_t n, cap;
};

/* A text to take sentences from. */
struct seg {
	const char *text;
	size_t len;
	const struct ret_span *skip;
	size_t nskip;
};

static bool skipped(const struct seg *s, struct ret_span sp)
{
	for (size_t i = 0; i < s->nskip; i++)
		if (sp.start < s->skip[i].end && s->skip[i].start < sp.end)
			return true;
	return false;
}

/* The end of a part of text starting at a, at most max bytes: after a
 * blank line, else a newline, else a space in its second half. */
static size_t part_end(const char *t, size_t a, size_t len, size_t max)
{
	if (len - a <= max)
		return len;
	size_t e = a + max, lo = a + max / 2;
	for (size_t i = e; i > lo + 1; i--)
		if (t[i - 1] == '\n' && t[i - 2] == '\n')
			return i;
	for (size_t i = e; i > lo; i--)
		if (t[i - 1] == '\n' || t[i - 1] == ' ')
			return i;
	size_t k = mx_utf8_floor(t + a, max);
	return a + (k ? k : max);
}

/* Whether the sentence t[g) lies on a Markdown heading line ("## 3. Scope":
 * the splitter cuts "## 3." from "Scope", which alone looks like text). */
static bool on_heading(const char *t, struct ret_span g)
{
	size_t a = g.start;
	while (a > 0 && t[a - 1] != '\n')
		a--;
	while (a < g.start && (t[a] == ' ' || t[a] == '\t'))
		a++;
	size_t h = a;
	while (h < g.start && t[h] == '#')
		h++;
	return h > a && h < g.start && (t[h] == ' ' || t[h] == '\t') &&
	       !memchr(t + g.start, '\n', g.end - g.start);
}

/* Appends the eligible sentences of segment si. *truncated when it passes
 * RET_SUM_MAX_TEXT or the candidates run out. */
static int cands_add(struct cands *c, const struct seg *s, size_t si, size_t min_words,
		     bool *truncated)
{
	size_t len = s->len;
	if (len > RET_SUM_MAX_TEXT) {
		len = mx_utf8_floor(s->text, RET_SUM_MAX_TEXT);
		*truncated = true;
	}
	for (size_t a = 0; a < len;) {
		size_t e = part_end(s->text, a, len, RET_SUM_WINDOW);
		struct ret_span *sp = NULL;
		size_t ns = 0;
		int rc = ret_sentences_split(s->text + a, e - a, &sp, &ns);
		if (rc)
			return rc;
		for (size_t i = 0; i < ns; i++) {
			struct ret_span g = { a + sp[i].start, a + sp[i].end };
			if (skipped(s, g) || on_heading(s->text, g) ||
			    !eligible(s->text + g.start, g.end - g.start, min_words))
				continue;
			if (c->n >= CAND_TOTAL) {
				*truncated = true;
				break;
			}
			if (c->n == c->cap) {
				size_t cap = c->cap ? c->cap * 2 : 64;
				struct cand *v = realloc(c->v, cap * sizeof *v);
				if (!v) {
					free(sp);
					return MX_ENOMEM;
				}
				c->v = v;
				c->cap = cap;
			}
			c->v[c->n++] = (struct cand){ si, g, 0 };
		}
		free(sp);
		a = e;
	}
	return 0;
}

/* Scores the candidates idx[0, n) together into c->v[].score and their
 * similarities into sim (n * n). */
static int score_group(struct cands *c, const struct seg *segs, const size_t *idx, size_t n,
		       const struct ret_summary_params *p, double *sim, char *err, size_t errsz)
{
	char **own = calloc(n ? n : 1, sizeof *own);
	double *sc = calloc(n ? n : 1, sizeof *sc);
	int rc = 0;
	if (!own || !sc) {
		rc = MX_ENOMEM;
		goto out;
	}
	for (size_t i = 0; i < n; i++) {
		const struct cand *x = &c->v[idx[i]];
		own[i] = strndup(segs[x->seg].text + x->sp.start, x->sp.end - x->sp.start);
		if (!own[i]) {
			rc = MX_ENOMEM;
			goto out;
		}
	}
	if ((rc = ret_summary_score((const char *const *)own, n, p, sc, sim, err, errsz)))
		goto out;
	for (size_t i = 0; i < n; i++)
		c->v[idx[i]].score = sc[i];
out:
	for (size_t i = 0; own && i < n; i++)
		free(own[i]);
	free(own);
	free(sc);
	return rc;
}

/* FNV-1a of a sentence, white space runs as one space. */
static uint64_t sent_hash(const char *s, size_t n)
{
	uint64_t h = 1469598103934665603ull;
	bool sp = false;
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];
		if (isspace(c)) {
			sp = true;
			continue;
		}
		if (sp)
			h = (h ^ ' ') * 1099511628211ull;
		sp = false;
		h = (h ^ c) * 1099511628211ull;
	}
	return h;
}

struct hashed {
	uint64_t h;
	size_t i;
};

static int hashed_cmp(const void *x, const void *y)
{
	const struct hashed *a = x, *b = y;
	if (a->h != b->h)
		return a->h < b->h ? -1 : 1;
	return a->i < b->i ? -1 : a->i > b->i;
}

/* Drops the repeats of a sentence (a disclaimer, a repeated line): the
 * first stays. */
static int cands_dedup(struct cands *c, const struct seg *segs)
{
	if (c->n < 2)
		return 0;
	struct hashed *h = malloc(c->n * sizeof *h);
	bool *drop = calloc(c->n, sizeof *drop);
	if (!h || !drop) {
		free(h);
		free(drop);
		return MX_ENOMEM;
	}
	for (size_t i = 0; i < c->n; i++) {
		const struct cand *x = &c->v[i];
		h[i] = (struct hashed){
			sent_hash(segs[x->seg].text + x->sp.start, x->sp.end - x->sp.start), i
		};
	}
	qsort(h, c->n, sizeof *h, hashed_cmp);
	for (size_t i = 1; i < c->n; i++)
		if (h[i].h == h[i - 1].h)
			drop[h[i].i] = true;
	size_t o = 0;
	for (size_t i = 0; i < c->n; i++)
		if (!drop[i])
			c->v[o++] = c->v[i];
	c->n = o;
	free(h);
	free(drop);
	return 0;
}

/* Picks the k most central candidates of all segments, in source order
 * (segment, then offset), into *out (indices into c->v, malloc'd). */
static int extract_segs(const struct seg *segs, size_t nseg, const struct ret_summary_params *p,
			struct cands *c, size_t k, size_t **out, size_t *nout, bool *truncated,
			char *err, size_t errsz)
{
	size_t *live = NULL, *next = NULL, *pick = NULL;
	double *sc = NULL, *sim = NULL;
	int rc = 0;
	*out = NULL;
	*nout = 0;
	for (size_t i = 0; i < nseg; i++)
		if ((rc = cands_add(c, &segs[i], i, 4, truncated)))
			return rc;
	if ((rc = cands_dedup(c, segs)))
		return rc;
	if (!c->n || !k)
		return 0;
	size_t per = p->per_window ? p->per_window : 3;
	size_t nl = c->n;
	live = malloc(nl * sizeof *live);
	next = malloc(nl * sizeof *next);
	sc = malloc(nl * sizeof *sc);
	pick = malloc((k > per ? k : per) * sizeof *pick);
	sim = malloc((nl < GROUP_MAX ? nl * nl : GROUP_MAX * GROUP_MAX) * sizeof *sim);
	if (!live || !next || !sc || !pick || !sim) {
		rc = MX_ENOMEM;
		goto out;
	}
	for (size_t i = 0; i < nl; i++)
		live[i] = i;
	/* map: groups of GROUP_MAX consecutive candidates keep their best;
	 * until the survivors fit one group. By shared words: embedding every
	 * sentence of a book would take minutes; the embedder (if any) ranks
	 * the survivors */
	struct ret_summary_params pm = *p;
	pm.embedder = NULL;
	while (nl > GROUP_MAX) {
		size_t nn = 0;
		for (size_t g = 0; g < nl; g += GROUP_MAX) {
			size_t gn = nl - g < GROUP_MAX ? nl - g : GROUP_MAX;
			if ((rc = score_group(c, segs, live + g, gn, &pm, sim, err, errsz)))
				goto out;
			for (size_t i = 0; i < gn; i++)
				sc[i] = c->v[live[g + i]].score;
			size_t m = pick_diverse(sc, sim, gn, per, pick);
			for (size_t i = 0; i < m; i++)
				next[nn++] = live[g + pick[i]];
		}
		if (nn >= nl)
			break;
		memcpy(live, next, nn * sizeof *live);
		nl = nn;
	}
	/* reduce: the survivors together */
	if ((rc = score_group(c, segs, live, nl, p, sim, err, errsz)))
		goto out;
	for (size_t i = 0; i < nl; i++)
		sc[i] = c->v[live[i]].score;
	size_t m = pick_diverse(sc, sim, nl, k, pick);
	for (size_t i = 0; i < m; i++)
		next[i] = live[pick[i]];
	*out = malloc((m ? m : 1) * sizeof **out);
	if (!*out) {
		rc = MX_ENOMEM;
		goto out;
	}
	memcpy(*out, next, m * sizeof **out);
	*nout = m;
out:
	free(live);
	free(next);
	free(sc);
	free(sim);
	free(pick);
	return rc;
}

int ret_summary_extract(const char *text, size_t len, const struct ret_span *skip, size_t nskip,
			const struct ret_summary_params *p, struct ret_sum_sent **out, size_t *n,
			bool *truncated, char *err, size_t errsz)
{
	struct seg s = { text, len, skip, nskip };
	struct cands c = { 0 };
	size_t *pick = NULL, np = 0;
	bool tr = false;
	*out = NULL;
	*n = 0;
	int rc = extract_segs(&s, 1, p, &c, p->sentences, &pick, &np, &tr, err, errsz);
	if (!rc && np) {
		*out = malloc(np * sizeof **out);
		if (!*out)
			rc = MX_ENOMEM;
		for (size_t i = 0; !rc && i < np; i++)
			(*out)[i] = (struct ret_sum_sent){ c.v[pick[i]].sp, c.v[pick[i]].score };
		if (!rc)
			*n = np;
	}
	if (truncated)
		*truncated = tr;
	free(pick);
	free(c.v);
	return rc;
}

/* ===================================================================== */
/* dates                                                                 */
/* ===================================================================== */

static const char *const months[] = { "jan", "feb", "mar", "apr", "may", "jun",
				      "jul", "aug", "sep", "oct", "nov", "dec" };
static const char *const wdays[] = { "sunday",	 "monday", "tuesday", "wednesday",
				     "thursday", "friday", "saturday" };
#define DAY 86400

/* A word of s: [a, b) letters or digits. */
struct word {
	size_t a, b;
};

static size_t words_of(const char *s, size_t n, struct word *w, size_t max)
{
	size_t k = 0;
	for (size_t i = 0; i < n && k < max;) {
		if (!isalnum((unsigned char)s[i])) {
			i++;
			continue;
		}
		size_t j = i;
		while (j < n && isalnum((unsigned char)s[j]))
			j++;
		w[k++] = (struct word){ i, j };
		i = j;
	}
	return k;
}

static bool word_is(const char *s, struct word w, const char *lit)
{
	size_t l = strlen(lit);
	return w.b - w.a == l && !strncasecmp(s + w.a, lit, l);
}

/* The month (0-11) a word names ("nov", "November", "Sept"), or -1. */
static int month_of(const char *s, struct word w)
{
	static const char *const full[] = { "january",	 "february", "march",	 "april",
					    "may",	 "june",     "july",	 "august",
					    "september", "october",  "november", "december" };
	size_t l = w.b - w.a;
	for (int m = 0; m < 12; m++) {
		if (l == 3 && !strncasecmp(s + w.a, months[m], 3))
			return m;
		if (l == strlen(full[m]) && !strncasecmp(s + w.a, full[m], l))
			return m;
	}
	if (l == 4 && !strncasecmp(s + w.a, "sept", 4))
		return 8;
	return -1;
}

/* A day of the month: "21", "21st", "3rd"; or -1. */
static int mday_of(const char *s, struct word w)
{
	size_t i = w.a;
	int d = 0;
	while (i < w.b && isdigit((unsigned char)s[i]) && i - w.a < 2)
		d = d * 10 + (s[i++] - '0');
	if (i == w.a || d < 1 || d > 31)
		return -1;
	size_t rest = w.b - i;
	if (rest == 0)
		return d;
	if (rest == 2 && (!strncasecmp(s + i, "st", 2) || !strncasecmp(s + i, "nd", 2) ||
			  !strncasecmp(s + i, "rd", 2) || !strncasecmp(s + i, "th", 2)))
		return d;
	return -1;
}

static int year_of(const char *s, struct word w)
{
	if (w.b - w.a != 4)
		return -1;
	int y = 0;
	for (size_t i = w.a; i < w.b; i++) {
		if (!isdigit((unsigned char)s[i]))
			return -1;
		y = y * 10 + (s[i] - '0');
	}
	return y >= 1970 && y <= 2200 ? y : -1;
}

/* Two digits as a number, or -1. */
static int two_digits(const char *s)
{
	if (!isdigit((unsigned char)s[0]) || !isdigit((unsigned char)s[1]))
		return -1;
	return (s[0] - '0') * 10 + (s[1] - '0');
}

static int64_t midnight(int64_t t)
{
	return t - ((t % DAY) + DAY) % DAY;
}

/* Midnight UTC of y-m-d (m 0-11), or -1 for a day that does not exist. */
static int64_t ymd(int y, int m, int d)
{
	struct tm tm = { .tm_year = y - 1900, .tm_mon = m, .tm_mday = d, .tm_hour = 12 };
	time_t t = timegm(&tm);
	struct tm back;
	if (t == (time_t)-1 || !gmtime_r(&t, &back) || back.tm_mday != d)
		return -1;
	return midnight((int64_t)t);
}

/* A day without a year: ref's year, or the next when it is long past. */
static int64_t day_near(int m, int d, int64_t ref)
{
	time_t r = (time_t)(ref ? ref : 0);
	struct tm tm;
	int y = 1970;
	if (ref && gmtime_r(&r, &tm))
		y = tm.tm_year + 1900;
	int64_t t = ymd(y, m, d);
	if (t >= 0 && ref && t < midnight(ref) - 60 * (int64_t)DAY)
		t = ymd(y + 1, m, d);
	return t;
}

static int wday_of(int64_t t)
{
	/* 1970-01-01 was a Thursday (4) */
	int64_t days = midnight(t) / DAY;
	return (int)(((days % 7) + 7 + 4) % 7);
}

/* ret_date_find; without weekdays (and relative words) when !relative */
static bool date_find(const char *s, size_t n, int64_t ref, bool relative, int64_t *day,
		      struct ret_span *where)
{
	struct word w[256];
	size_t nw = words_of(s, n, w, 256);
	for (size_t i = 0; i < nw; i++) {
		int64_t t = -1;
		size_t first = i, last = i;
		/* 2026-11-21 */
		int y = year_of(s, w[i]);
		if (y > 0 && i + 2 < nw && w[i + 1].a == w[i].b + 1 && s[w[i].b] == '-' &&
		    w[i + 2].a == w[i + 1].b + 1 && s[w[i + 1].b] == '-' &&
		    w[i + 1].b - w[i + 1].a == 2 && w[i + 2].b - w[i + 2].a == 2) {
			int m = two_digits(s + w[i + 1].a), d = two_digits(s + w[i + 2].a);
			if (m >= 1 && m <= 12)
				t = ymd(y, m - 1, d);
			last = i + 2;
		}
		/* 21 November [2026], 21st of November */
		int md = t < 0 ? mday_of(s, w[i]) : -1;
		if (md > 0 && i + 1 < nw) {
			size_t j = i + 1;
			if (word_is(s, w[j], "of") && j + 1 < nw)
				j++;
			int m = month_of(s, w[j]);
			if (m >= 0) {
				last = j;
				int yy = j + 1 < nw ? year_of(s, w[j + 1]) : -1;
				if (yy > 0) {
					last = j + 1;
					t = ymd(yy, m, md);
				} else {
					t = ref ? day_near(m, md, ref) : -1;
				}
			}
		}
		/* November 21[st][, 2026] */
		int mo = t < 0 ? month_of(s, w[i]) : -1;
		if (mo >= 0 && i + 1 < nw && (md = mday_of(s, w[i + 1])) > 0) {
			last = i + 1;
			int yy = i + 2 < nw ? year_of(s, w[i + 2]) : -1;
			if (yy > 0) {
				last = i + 2;
				t = ymd(yy, mo, md);
			} else {
				t = ref ? day_near(mo, md, ref) : -1;
			}
		}
		/* "the 9th": that day of ref's month, or of the next when past */
		if (t < 0 && ref && mo < 0 && w[i].b - w[i].a >= 3 &&
		    !isdigit((unsigned char)s[w[i].b - 1]) && (md = mday_of(s, w[i])) > 0 &&
		    i > 0 && word_is(s, w[i - 1], "the")) {
			time_t r = (time_t)ref;
			struct tm tm;
			if (gmtime_r(&r, &tm)) {
				t = ymd(tm.tm_year + 1900, tm.tm_mon, md);
				if (t >= 0 && t < midnight(ref))
					t = ymd(tm.tm_year + 1900 + (tm.tm_mon == 11),
						(tm.tm_mon + 1) % 12, md);
				first = i - 1;
			}
		}
		/* relative to when it was written */
		if (t < 0 && ref && relative) {
			int64_t today = midnight(ref);
			if (word_is(s, w[i], "today") || word_is(s, w[i], "tonight") ||
			    word_is(s, w[i], "eod"))
				t = today;
			else if (word_is(s, w[i], "tomorrow"))
				t = today + DAY;
			else if (word_is(s, w[i], "eow"))
				t = today + DAY * ((5 - wday_of(today) + 7) % 7);
			else if (word_is(s, w[i], "end") && i + 2 < nw &&
				 word_is(s, w[i + 1], "of")) {
				size_t j = i + 2;
				if (word_is(s, w[j], "the") && j + 1 < nw)
					j++;
				if (word_is(s, w[j], "week")) {
					t = today + DAY * ((5 - wday_of(today) + 7) % 7);
					last = j;
				} else if (word_is(s, w[j], "month")) {
					time_t r = (time_t)ref;
					struct tm tm;
					if (gmtime_r(&r, &tm)) {
						tm.tm_mon++;
						tm.tm_mday = 1;
						tm.tm_hour = 12;
						t = midnight((int64_t)timegm(&tm)) - DAY;
						last = j;
					}
				}
			} else if (word_is(s, w[i], "next") && i + 1 < nw &&
				   word_is(s, w[i + 1], "week")) {
				int wd = wday_of(today);
				t = today + DAY * (7 - (wd + 6) % 7);
				last = i + 1;
			} else {
				for (int k = 0; k < 7; k++)
					if (word_is(s, w[i], wdays[k])) {
						int ahead = (k - wday_of(today) + 7) % 7;
						t = today + DAY * (ahead ? ahead : 7);
						break;
					}
				/* "Friday 26 June", "Friday, June 26", "Friday the
				 * 26th": the date it names, not the next Friday */
				int64_t named;
				struct ret_span at;
				if (t >= 0 && i + 1 < nw &&
				    (isdigit((unsigned char)s[w[i + 1].a]) ||
				     month_of(s, w[i + 1]) >= 0 || word_is(s, w[i + 1], "the")) &&
				    date_find(s + w[i + 1].a, n - w[i + 1].a, ref, false, &named,
					      &at) &&
				    at.start == 0) {
					t = named;
					*day = t;
					*where = (struct ret_span){ w[i].a, w[i + 1].a + at.end };
					return true;
				}
			}
		}
		if (t >= 0) {
			*day = t;
			*where = (struct ret_span){ w[first].a, w[last].b };
			return true;
		}
	}
	return false;
}

bool ret_date_find(const char *s, size_t n, int64_t ref, int64_t *day, struct ret_span *where)
{
	return date_find(s, n, ref, true, day, where);
}

/* ===================================================================== */
/* threads                                                               */
/* ===================================================================== */

static char *dup_range(const char *s, size_t n)
{
	char *d = malloc(n + 1);
	if (d) {
		memcpy(d, s, n);
		d[n] = '\0';
	}
	return d;
}

static void trim(const char **s, size_t *n)
{
	while (*n && (isspace((unsigned char)**s) || **s == '"' || **s == '\'')) {
		(*s)++;
		(*n)--;
	}
	while (*n && (isspace((unsigned char)(*s)[*n - 1]) || (*s)[*n - 1] == '"' ||
		      (*s)[*n - 1] == '\''))
		(*n)--;
}

static int person_add(struct ret_participant **v, size_t *n, size_t *cap, const char *name,
		      size_t nl, const char *addr, size_t al)
{
	trim(&name, &nl);
	trim(&addr, &al);
	if (!al || !memchr(addr, '@', al))
		return 0;
	if (*n == *cap) {
		size_t c = *cap ? *cap * 2 : 8;
		struct ret_participant *x = realloc(*v, c * sizeof *x);
		if (!x)
			return MX_ENOMEM;
		*v = x;
		*cap = c;
	}
	struct ret_participant *p = &(*v)[*n];
	p->name = dup_range(name, nl);
	p->addr = dup_range(addr, al);
	p->sent = 0;
	if (!p->name || !p->addr) {
		free(p->name);
		free(p->addr);
		return MX_ENOMEM;
	}
	for (char *c = p->addr; *c; c++)
		*c = (char)tolower((unsigned char)*c);
	if (!strcasecmp(p->name, p->addr))
		p->name[0] = '\0'; /* "x@y <x@y>" */
	(*n)++;
	return 0;
}

int ret_addresses_parse(const char *s, struct ret_participant **v, size_t *n, size_t *cap)
{
	if (!s)
		return 0;
	size_t len = strnlen(s, 1u << 16);
	for (size_t a = 0; a < len;) {
		/* one entry: up to a comma outside quotes and <> */
		size_t e = a;
		bool quote = false, angle = false;
		for (; e < len; e++) {
			if (s[e] == '"')
				quote = !quote;
			else if (s[e] == '<' && !quote)
				angle = true;
			else if (s[e] == '>' && !quote)
				angle = false;
			else if (s[e] == ',' && !quote && !angle)
				break;
		}
		const char *lt = memchr(s + a, '<', e - a);
		const char *gt = lt ? memchr(lt, '>', (size_t)(s + e - lt)) : NULL;
		int rc;
		if (lt && gt)
			rc = person_add(v, n, cap, s + a, (size_t)(lt - (s + a)), lt + 1,
					(size_t)(gt - lt - 1));
		else
			rc = person_add(v, n, cap, "", 0, s + a, e - a);
		if (rc)
			return rc;
		a = e + 1;
	}
	return 0;
}

/* Whether lower-case s holds phrase ph as whole words. */
static bool has_phrase(const char *s, const char *ph)
{
	size_t l = strlen(ph);
	for (const char *p = strstr(s, ph); p; p = strstr(p + 1, ph)) {
		bool before = p == s || !isalnum((unsigned char)p[-1]);
		bool after = !isalnum((unsigned char)p[l]);
		if (before && after)
			return true;
	}
	return false;
}

static bool has_any(const char *s, const char *const *list)
{
	for (size_t i = 0; list[i]; i++)
		if (has_phrase(s, list[i]))
			return true;
	return false;
}

static const char *const decision_words[] = {
	"decided",	  "we decide",	      "agreed",
	"we agree",	  "let's go with",    "lets go with",
	"we'll go with",  "we will go with",  "going with",
	"approved",	  "settled on",	      "the decision",
	"final decision", "we chose",	      "we have chosen",
	"signed off",	  "confirmed",	      "is booked",
	"are booked",	  "has been booked",  "will go ahead",
	"works for us",	  "works for me",     "sounds good",
	"go ahead",	  "we're going with", NULL
};
static const char *const request_words[] = { "please",	 "could you", "can you", "would you",
					     "will you", "kindly",    NULL };
static const char *const action_words[] = {
	"need to",   "needs to", "have to",	 "has to",	  "must",	   "you should",
	"we should", "i should", "don't forget", "do not forget", "remember to",   "make sure",
	"todo",	     "to do",	 "action item",	 "let me know",	  "i will",	   "i'll",
	"we will",   "we'll",	 "deadline",	 "due",		  "no later than", NULL
};
/* Verbs that start an instruction: "Send the draft to ...". */
static const char *const imperatives[] = {
	"send",	   "review", "check",  "call",	  "book",    "pay",	 "sign",    "bring",
	"confirm", "submit", "update", "fix",	  "reply",   "schedule", "prepare", "remember",
	"add",	   "remove", "buy",    "pick",	  "renew",   "register", "fill",    "complete",
	"read",	   "write",  "email",  "forward", "arrange", "order",	 "cancel",  "return",
	"print",   "upload", "share",  "invite",  "ask",     "tell",	 "note",    "bring",
	"contact", "finish", "make",   "water",	  "take",    NULL
};
static const char *const deadline_words[] = { "by", "before", "due", NULL };

/* The kinds a sentence of thread text is (bits 1 << kind). */
static unsigned classify(const char *s, size_t n, int64_t ref, int64_t *due,
			 struct ret_span *due_sp)
{
	char low[640];
	size_t l = n < sizeof low - 1 ? n : sizeof low - 1;
	for (size_t i = 0; i < l; i++)
		low[i] = (char)tolower((unsigned char)s[i]);
	low[l] = '\0';
	size_t e = l;
	while (e && (low[e - 1] == ')' || low[e - 1] == '"' || low[e - 1] == '\'' ||
		     isspace((unsigned char)low[e - 1])))
		e--;
	bool question = e && low[e - 1] == '?';
	bool request = has_any(low, request_words);
	unsigned k = 0;
	*due = 0;
	bool dated = ret_date_find(s, n, ref, due, due_sp);
	/* the first word, for imperatives */
	size_t a = 0;
	while (a < l && !isalpha((unsigned char)low[a]))
		a++;
	size_t b = a;
	while (b < l && isalpha((unsigned char)low[b]))
		b++;
	bool imperative = false;
	for (size_t i = 0; imperatives[i] && b > a; i++)
		if (strlen(imperatives[i]) == b - a && !memcmp(low + a, imperatives[i], b - a))
			imperative = true;
	bool deadline = false;
	if (dated && due_sp->start > 0 && due_sp->start <= l) {
		/* "by Friday": a deadline word just before the date */
		size_t j = due_sp->start;
		while (j && isspace((unsigned char)low[j - 1]))
			j--;
		size_t w = j;
		while (w && isalpha((unsigned char)low[w - 1]))
			w--;
		for (size_t i = 0; deadline_words[i]; i++)
			if (strlen(deadline_words[i]) == j - w &&
			    !memcmp(low + w, deadline_words[i], j - w))
				deadline = true;
	}
	if (request || imperative || deadline || has_any(low, action_words))
		k |= 1u << RET_ITEM_ACTION;
	if (question && !request)
		k |= 1u << RET_ITEM_QUESTION;
	if (!question && has_any(low, decision_words))
		k |= 1u << RET_ITEM_DECISION;
	if (!dated)
		*due = 0;
	return k;
}

void ret_thread_summary_clear(struct ret_thread_summary *s)
{
	for (size_t i = 0; i < s->npeople; i++) {
		free(s->people[i].name);
		free(s->people[i].addr);
	}
	free(s->people);
	free(s->timeline);
	free(s->timeline_end);
	free(s->items);
	memset(s, 0, sizeof *s);
}

static int item_push(struct ret_thread_summary *s, size_t *cap, const struct ret_thread_item *it)
{
	if (s->nitems == *cap) {
		size_t c = *cap ? *cap * 2 : 16;
		struct ret_thread_item *v = realloc(s->items, c * sizeof *v);
		if (!v)
			return MX_ENOMEM;
		s->items = v;
		*cap = c;
	}
	s->items[s->nitems++] = *it;
	return 0;
}

/* The address of a message's sender, lower case, into buf ("" if none). */
static void sender_addr(const char *author, char *buf, size_t n)
{
	struct ret_participant *v = NULL;
	size_t k = 0, cap = 0;
	buf[0] = '\0';
	if (ret_addresses_parse(author, &v, &k, &cap) == 0 && k)
		snprintf(buf, n, "%s", v[0].addr);
	for (size_t i = 0; i < k; i++) {
		free(v[i].name);
		free(v[i].addr);
	}
	free(v);
}

static int people_of(const struct ret_thread_msg *m, size_t n, struct ret_thread_summary *out)
{
	struct ret_participant *all = NULL;
	size_t na = 0, cap = 0, pcap = 0;
	int rc = 0;
	/* pass 0: senders; pass 1: recipients */
	for (int pass = 0; pass < 2 && !rc; pass++)
		for (size_t i = 0; i < n && !rc; i++) {
			size_t from = na;
			rc = ret_addresses_parse(pass ? m[i].recipients : m[i].author, &all, &na,
						 &cap);
			for (size_t j = from; j < na && !rc; j++) {
				size_t k = 0;
				while (k < out->npeople && strcmp(out->people[k].addr, all[j].addr))
					k++;
				if (k == out->npeople) {
					if (out->npeople == pcap) {
						size_t c = pcap ? pcap * 2 : 8;
						struct ret_participant *x =
							realloc(out->people, c * sizeof *x);
						if (!x) {
							rc = MX_ENOMEM;
							break;
						}
						out->people = x;
						pcap = c;
					}
					out->people[out->npeople++] = all[j];
					all[j].name = all[j].addr = NULL;
				} else if (!out->people[k].name[0] && all[j].name[0]) {
					/* a later entry gives the name */
					free(out->people[k].name);
					out->people[k].name = all[j].name;
					all[j].name = NULL;
				}
				if (!pass && j == from)
					out->people[k].sent++;
			}
		}
	for (size_t j = 0; j < na; j++) {
		free(all[j].name);
		free(all[j].addr);
	}
	free(all);
	return rc;
}

int ret_thread_summarize(const struct ret_thread_msg *m, size_t n,
			 const struct ret_summary_params *p, struct ret_thread_summary *out)
{
	memset(out, 0, sizeof *out);
	if (!n)
		return MX_EEMPTY;
	struct seg *segs = calloc(n, sizeof *segs);
	struct cands c = { 0 }, r = { 0 };
	size_t *pick = NULL, np = 0, cap = 0;
	char(*addr)[256] = calloc(n, sizeof *addr);
	int rc = 0;
	out->timeline = calloc(n, sizeof *out->timeline);
	out->timeline_end = calloc(n, sizeof *out->timeline_end);
	if (!segs || !addr || !out->timeline || !out->timeline_end) {
		rc = MX_ENOMEM;
		goto out;
	}
	if ((rc = people_of(m, n, out)))
		goto out;
	for (size_t i = 0; i < n; i++) {
		segs[i] = (struct seg){ m[i].text ? m[i].text : "", m[i].text ? m[i].len : 0,
					m[i].skip, m[i].nskip };
		sender_addr(m[i].author, addr[i], sizeof addr[i]);
	}
	/* the gist */
	if ((rc = extract_segs(segs, n, p, &c, p->sentences, &pick, &np, &out->truncated, out->err,
			       sizeof out->err)))
		goto out;
	for (size_t i = 0; i < np; i++) {
		const struct cand *x = &c.v[pick[i]];
		struct ret_thread_item it = {
			.kind = RET_ITEM_GIST, .msg = x->seg, .sp = x->sp, .score = x->score
		};
		if ((rc = item_push(out, &cap, &it)))
			goto out;
	}
	/* the first sentence of each message, one that does not end in ':'
	 * (an attribution, "... wrote:") when there is one; of a message
	 * without a summary sentence, its first short one ("Sounds good!") */
	bool cut = false;
	for (size_t i = 0; i < n && !rc; i++)
		rc = cands_add(&r, &segs[i], i, 1, &cut);
	if (rc || (rc = cands_dedup(&r, segs)))
		goto out;
	for (size_t i = 0; i < n; i++)
		out->timeline[i] = out->timeline_end[i] = SIZE_MAX;
	for (int pass = 0; pass < 4; pass++) {
		const struct cands *from = pass < 2 ? &c : &r;
		for (size_t j = 0; j < from->n; j++) {
			size_t i = from->v[j].seg;
			struct ret_span sp = from->v[j].sp;
			if (out->timeline[i] != SIZE_MAX ||
			    (!(pass & 1) && m[i].text[sp.end - 1] == ':'))
				continue;
			out->timeline[i] = sp.start;
			out->timeline_end[i] = sp.end;
		}
	}
	/* the rule-found items, kind by kind: in the summary's candidates, and
	 * a short sentence may be a decision ("Sounds good!", "Agreed.") */
	for (int kind = RET_ITEM_DECISION; kind <= RET_ITEM_ACTION; kind++)
		for (size_t jc = 0, jr = 0; jc < c.n || jr < r.n;) {
			/* both lists are in thread order: merge them */
			bool from_c =
				jr == r.n || (jc < c.n && (c.v[jc].seg < r.v[jr].seg ||
							   (c.v[jc].seg == r.v[jr].seg &&
							    c.v[jc].sp.start <= r.v[jr].sp.start)));
			const struct cand *x = from_c ? &c.v[jc++] : &r.v[jr++];
			const struct ret_thread_msg *msg = &m[x->seg];
			if (!from_c &&
			    (kind != RET_ITEM_DECISION ||
			     eligible(msg->text + x->sp.start, x->sp.end - x->sp.start, 4)))
				continue; /* the short ones only, and only as decisions */
			struct ret_thread_item it = { .kind = (enum ret_item_kind)kind,
						      .msg = x->seg,
						      .sp = x->sp };
			unsigned k = classify(msg->text + x->sp.start, x->sp.end - x->sp.start,
					      msg->date, &it.due, &it.due_sp);
			if (!(k & (1u << kind)))
				continue;
			if (kind == RET_ITEM_ACTION && it.due) {
				it.due_sp.start += x->sp.start;
				it.due_sp.end += x->sp.start;
			} else {
				it.due = 0;
				it.due_sp = (struct ret_span){ 0, 0 };
			}
			if (kind == RET_ITEM_QUESTION) {
				/* open until someone else writes after it */
				it.open = true;
				for (size_t l = x->seg + 1; l < n && it.open; l++)
					if (strcmp(addr[l], addr[x->seg]) || !addr[l][0])
						it.open = false;
			}
			if ((rc = item_push(out, &cap, &it)))
				goto out;
		}
out:
	free(segs);
	free(addr);
	free(pick);
	free(c.v);
	free(r.v);
	return rc;
}

/* ===================================================================== */
/* written summaries                                                     */
/* ===================================================================== */

const char *ret_summary_instructions_doc(void)
{
	return "Summarize the following text in a few sentences. Use only what the text says; "
	       "keep names, numbers and dates exact. If it has sections, say what each is about.";
}

const char *ret_summary_instructions_thread(void)
{
	return "Summarize the following mail thread: what it is about, what was decided, which "
	       "questions are still open, and who must do what by when. Use only what the "
	       "messages say; keep names and dates exact.";
}

/* One reply of ch to a fresh conversation: system sys, user text. */
static int one_call(struct chat *ch, const char *sys, const char *user, size_t ulen,
		    ret_stream_fn fn, void *ctx, char **reply, char *err, size_t errsz)
{
	struct chat_session *s = NULL;
	*reply = NULL;
	int rc = chat_session_new(&s);
	if (!rc)
		rc = chat_session_add(s, CHAT_ROLE_SYSTEM, sys, strlen(sys));
	if (!rc)
		rc = chat_session_add(s, CHAT_ROLE_USER, user, ulen);
	if (!rc) {
		rc = chat_reply(ch, s, fn, ctx, reply, NULL, NULL);
		if (rc && rc != MX_ETOOBIG)
			snprintf(err, errsz, "%s", chat_errmsg(ch));
	}
	chat_session_free(s);
	return rc;
}

int ret_summary_generate(struct chat *ch, const char *instructions, const char *text, size_t len,
			 ret_stream_fn fn, void *ctx, ret_progress_fn progress, void *pctx,
			 char **reply, struct ret_gen_stats *stats, char *err, size_t errsz)
{
	const char *sys = instructions ? instructions : ret_summary_instructions_doc();
	struct ret_gen_stats st = { 0 };
	struct mx_buf next;
	char *cur = dup_range(text, len), *part = NULL;
	size_t clen = len;
	/* a part's budget: half the window for the text (the rest for the
	 * instructions and the reply), at about 3 bytes a token */
	size_t budget = (size_t)(chat_n_ctx(ch) > 0 ? chat_n_ctx(ch) : 2048) / 2 * 3;
	int rc = 0;
	*reply = NULL;
	mx_buf_init(&next, RET_SUM_MAX_TEXT);
	if (!cur)
		return MX_ENOMEM;
	for (;;) {
		/* the whole (or what the parts made of it) in one call */
		if (clen <= budget) {
			st.calls++;
			rc = one_call(ch, sys, cur, clen, fn, ctx, reply, err, errsz);
			if (rc != MX_ETOOBIG)
				break;
			budget = clen / 2;
		}
		if (budget < GEN_PART_MIN || st.rounds >= GEN_ROUNDS) {
			rc = MX_ETOOBIG;
			snprintf(err, errsz,
				 "the text does not fit the chat model's window even in parts");
			break;
		}
		/* map: each part summarised on its own */
		size_t parts = 0;
		mx_buf_reset(&next);
		bool again = false;
		for (size_t a = 0; a < clen && !rc;) {
			size_t e = part_end(cur, a, clen, budget);
			char *r = NULL;
			free(part);
			part = dup_range(cur + a, e - a);
			if (!part) {
				rc = MX_ENOMEM;
				break;
			}
			st.calls++;
			if (progress)
				progress(pctx, st.rounds, parts + 1, (clen + budget - 1) / budget);
			rc = one_call(ch, sys, part, e - a, NULL, NULL, &r, err, errsz);
			if (rc == MX_ETOOBIG) {
				/* smaller parts, and this round again */
				rc = 0;
				budget /= 2;
				again = true;
				break;
			}
			if (rc)
				break;
			size_t rl = strlen(r);
			if (rl > GEN_OUT_MAX)
				rl = mx_utf8_floor(r, GEN_OUT_MAX);
			if (mx_buf_append(&next, r, rl) || mx_buf_appends(&next, "\n\n"))
				rc = MX_ENOMEM;
			free(r);
			parts++;
			a = e;
		}
		if (rc)
			break;
		if (again)
			continue;
		if (!st.parts)
			st.parts = parts;
		st.rounds++;
		free(cur);
		clen = next.len;
		cur = mx_buf_detach(&next);
		if (!cur) {
			cur = dup_range("", 0);
			clen = 0;
			if (!cur) {
				rc = MX_ENOMEM;
				break;
			}
		}
	}
	if (!st.parts)
		st.parts = 1;
	if (stats)
		*stats = st;
	if (rc) {
		free(*reply);
		*reply = NULL;
	}
	free(part);
	free(cur);
	mx_buf_free(&next);
	return rc;
}
