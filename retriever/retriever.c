/*
 * retriever.c - query parsing, BM25 search and citations.
 */
#include "retriever.h"
#include "retriever_int.h"

#include <glib.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "../common/buf.h"
#include "../common/status.h"
#include "../common/utf8.h"
#include "../engine/engine.h"

#define RET_MAX_TERMS 64
#define RET_MAX_QUERY 4096

struct ret_params ret_params_default(void)
{
	return (struct ret_params){ .limit = 10,
				    .per_doc = true,
				    .snippet_tokens = 24,
				    .rrf_k = 60,
				    .w_bm25 = 1,
				    .w_dense = 0.3,
				    .convex = true };
}

/* Words too common to help a BM25 ranking of a question. */
static const char *const stopwords[] = {
	"a",	 "about", "an",	    "and",    "are",  "as",   "at",    "be",	"by",	 "can",
	"could", "did",	  "do",	    "does",   "for",  "from", "had",   "has",	"have",	 "how",
	"i",	 "if",	  "in",	    "is",     "it",   "its",  "me",    "my",	"of",	 "on",
	"or",	 "our",	  "please", "should", "tell", "that", "the",   "their", "there", "this",
	"to",	 "was",	  "we",	    "were",   "what", "when", "where", "which", "who",	 "whom",
	"why",	 "will",  "with",   "would",  "you",  "your",
};

bool ret_is_stopword(const char *w, size_t n)
{
	for (size_t i = 0; i < sizeof stopwords / sizeof stopwords[0]; i++)
		if (strlen(stopwords[i]) == n && !strncasecmp(w, stopwords[i], n))
			return true;
	return false;
}

/* The length of the word character at s (a letter or digit in any
 * script, as FTS5's unicode61 tokenizer sees them), or 0. */
static size_t word_char(const char *s, size_t n)
{
	uint32_t cp = 0;
	size_t k = mx_utf8_decode((const unsigned char *)s, n, &cp);
	return k && g_unichar_isalnum((gunichar)cp) ? k : 0;
}

static bool is_word(const char *s, size_t n)
{
	return word_char(s, n) > 0;
}

/* Appends s[0..n) as an FTS5 string: double quotes doubled. */
static int append_quoted(struct mx_buf *b, const char *s, size_t n)
{
	int rc = mx_buf_append(b, "\"", 1);
	for (size_t i = 0; i < n && !rc; i++)
		rc = s[i] == '"' ? mx_buf_append(b, "\"\"", 2) : mx_buf_append(b, s + i, 1);
	return rc ? rc : mx_buf_append(b, "\"", 1);
}

char *ret_query_to_fts(const char *query, bool any, bool drop_stopwords, int *rc)
{
	struct mx_buf b;
	mx_buf_init(&b, RET_MAX_QUERY * 4);
	size_t n = strlen(query), i = 0, terms = 0;
	const char *joiner = any ? " OR " : " AND ";
	*rc = 0;
	if (n > RET_MAX_QUERY)
		n = RET_MAX_QUERY;
	while (i < n && terms < RET_MAX_TERMS && !*rc) {
		unsigned char c = (unsigned char)query[i];
		if (c == '"') {
			/* a phrase: the words up to the closing quote */
			const char *end = memchr(query + i + 1, '"', n - i - 1);
			size_t j = end ? (size_t)(end - query) : n;
			bool has_word = false;
			for (size_t k = i + 1; k < j && !has_word; k++)
				has_word = is_word(query + k, j - k);
			if (has_word) {
				if (terms++)
					*rc = mx_buf_appends(&b, joiner);
				if (!*rc)
					*rc = append_quoted(&b, query + i + 1, j - i - 1);
			}
			i = j + 1;
			continue;
		}
		if (!is_word(query + i, n - i)) {
			i++;
			continue;
		}
		size_t j = i, w;
		while (j < n && (w = word_char(query + j, n - j)))
			j += w;
		bool prefix = j < n && query[j] == '*';
		if (!(drop_stopwords && !prefix && ret_is_stopword(query + i, j - i))) {
			if (terms++)
				*rc = mx_buf_appends(&b, joiner);
			if (!*rc)
				*rc = append_quoted(&b, query + i, j - i);
			if (!*rc && prefix)
				*rc = mx_buf_append(&b, "*", 1);
		}
		i = j + prefix;
	}
	if (*rc) {
		mx_buf_free(&b);
		*rc = MX_ENOMEM;
		return NULL;
	}
	if (!terms) {
		mx_buf_free(&b);
		/* a question of stop words only: search them after all */
		if (drop_stopwords)
			return ret_query_to_fts(query, any, false, rc);
		*rc = MX_EEMPTY;
		return NULL;
	}
	return mx_buf_detach(&b);
}

/* ===================================================================== */
/* filters                                                               */
/* ===================================================================== */

/* Parses YYYY, YYYY-MM or YYYY-MM-DD; *next is the start of the following
 * period (for before:/after: of a whole month or year). */
/* Up to max digits at *p (at least one), moved past; -1 for none. */
static int take_digits(const char **p, int max)
{
	int v = 0, k = 0;
	while (k < max && (*p)[k] >= '0' && (*p)[k] <= '9')
		v = v * 10 + ((*p)[k++] - '0');
	*p += k;
	return k ? v : -1;
}

static int days_in_month(int y, int m)
{
	static const int days[12] = { 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 };
	bool leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
	return m == 2 && leap ? 29 : days[m - 1];
}

/* YYYY, YYYY-M[M] or YYYY-M[M]-D[D] (a day that exists, year 1900 or
 * later): the first second of that span and of the next one. On error, err
 * names the date and what is wrong with it. */
static int parse_day(const char *s, int64_t *start, int64_t *next, char *err, size_t errsz)
{
	static const char *const months[12] = { "January", "February", "March",	"April",
						 "May",	    "June",	"July",		"August",
						 "September", "October", "November", "December" };
	const char *p = s;
	int parts = 1, m = 1, d = 1;
	int y = (p[0] >= '0' && p[0] <= '9') ? take_digits(&p, 4) : -1;
	bool shape = y >= 0 && p - s == 4;
	if (shape && *p == '-') {
		p++;
		parts++;
		shape = (m = take_digits(&p, 2)) >= 0;
		if (shape && *p == '-') {
			p++;
			parts++;
			shape = (d = take_digits(&p, 2)) >= 0;
		}
	}
	if (!shape || *p) {
		snprintf(err, errsz, "'%s' is not a date (YYYY-MM-DD, YYYY-MM or YYYY)", s);
		return MX_EINVAL;
	}
	if (y < 1900) {
		snprintf(err, errsz, "'%s': dates start at 1900", s);
		return MX_EINVAL;
	}
	if (m < 1 || m > 12) {
		snprintf(err, errsz, "'%s' is not a date: there is no month %d", s, m);
		return MX_EINVAL;
	}
	if (d < 1 || d > days_in_month(y, m)) {
		snprintf(err, errsz, "'%s' is not a date: %s %d has %d days", s, months[m - 1], y,
			 days_in_month(y, m));
		return MX_EINVAL;
	}
	struct tm a = { .tm_year = y - 1900, .tm_mon = m - 1, .tm_mday = d };
	struct tm b = a;
	if (parts == 1)
		b.tm_year++;
	else if (parts == 2)
		b.tm_mon++;
	else
		b.tm_mday++;
	*start = (int64_t)timegm(&a);
	*next = (int64_t)timegm(&b);
	return 0;
}

void ret_query_clear(struct ret_query *q)
{
	free(q->text);
	free(q->subject);
	free(q->from);
	free(q->to);
	free(q->folder);
	free(q->type);
	free(q->tag);
	memset(q, 0, sizeof *q);
}

int ret_query_parse(const char *query, struct ret_query *q, char *err, size_t errsz)
{
	static const char *const keys[] = { "from",   "to",  "subject", "folder", "type", "after",
					    "before", "has", "is",	"tag",	  NULL };
	struct mx_buf text;
	int rc = 0;
	memset(q, 0, sizeof *q);
	mx_buf_init(&text, RET_MAX_QUERY);
	size_t n = strlen(query);
	for (size_t i = 0; i < n && !rc;) {
		while (i < n && (query[i] == ' ' || query[i] == '\t'))
			i++;
		if (i >= n)
			break;
		/* a token: up to white space, with "quoted" parts kept whole */
		size_t j = i;
		bool inq = false;
		while (j < n && (inq || (query[j] != ' ' && query[j] != '\t'))) {
			inq ^= query[j] == '"';
			j++;
		}
		const char *colon = memchr(query + i, ':', j - i);
		size_t k = colon ? (size_t)(colon - (query + i)) : 0;
		int which = -1;
		for (int w = 0; colon && keys[w]; w++)
			if (strlen(keys[w]) == k && !strncasecmp(query + i, keys[w], k))
				which = w;
		if (which < 0 || colon + 1 >= query + j) {
			/* plain words */
			if (text.len)
				rc = mx_buf_append(&text, " ", 1);
			if (!rc)
				rc = mx_buf_append(&text, query + i, j - i);
			i = j;
			continue;
		}
		/* the value, without its quotes */
		const char *v = colon + 1;
		size_t vl = (size_t)(query + j - v);
		if (vl >= 2 && v[0] == '"' && v[vl - 1] == '"')
			v++, vl -= 2;
		char *val = strndup(v, vl);
		if (!val) {
			rc = MX_ENOMEM;
			break;
		}
		q->has_filter = true;
		char **slot = NULL;
		switch (which) {
		case 0: slot = &q->from; break;
		case 1: slot = &q->to; break;
		case 2: slot = &q->subject; break;
		case 3: slot = &q->folder; break;
		case 4: slot = &q->type; break;
		case 9: slot = &q->tag; break;
		case 5:
		case 6: {
			int64_t a, b;
			if (parse_day(val, &a, &b, err, errsz)) {
				rc = MX_EINVAL;
			} else if (which == 5) {
				q->filter.after = a;
			} else {
				q->filter.before = a;
			}
			free(val);
			break;
		}
		case 7:
			if (!strcasecmp(val, "attachment") || !strcasecmp(val, "attachments")) {
				q->filter.has_attachment = true;
			} else {
				snprintf(err, errsz, "unknown has:%s (has:attachment)", val);
				rc = MX_EINVAL;
			}
			free(val);
			break;
		default:
			if (!strcasecmp(val, "unread")) {
				q->filter.unread = true;
			} else {
				snprintf(err, errsz, "unknown is:%s (is:unread)", val);
				rc = MX_EINVAL;
			}
			free(val);
			break;
		}
		if (slot) {
			free(*slot); /* the last of a repeated filter wins */
			*slot = val;
		}
		i = j;
	}
	if (!rc && !(q->text = mx_buf_detach(&text)))
		rc = MX_ENOMEM;
	mx_buf_free(&text);
	if (rc) {
		ret_query_clear(q);
		return rc;
	}
	q->filter.from = q->from;
	q->filter.to = q->to;
	q->filter.folder = q->folder;
	q->filter.type = q->type;
	q->filter.tag = q->tag;
	return 0;
}

/* The MATCH expression for the query's words and subject: words, then
 * "title : term" for each subject word; NULL with MX_EEMPTY when there are
 * none. */
static char *build_match(const struct ret_query *q, bool any, bool drop_stop, int *rc)
{
	int trc = 0, src = MX_EEMPTY;
	char *t = q->text[0] ? ret_query_to_fts(q->text, any, drop_stop, &trc) : NULL;
	char *s = q->subject ? ret_query_to_fts(q->subject, false, false, &src) : NULL;
	if ((!t && trc == MX_ENOMEM) || (!s && src == MX_ENOMEM)) {
		free(t);
		free(s);
		*rc = MX_ENOMEM;
		return NULL;
	}
	if (!s) {
		*rc = t ? 0 : MX_EEMPTY;
		return t;
	}
	/* every subject term restricted to the title column */
	struct mx_buf b;
	mx_buf_init(&b, RET_MAX_QUERY * 8);
	int r = 0;
	if (t)
		r = mx_buf_appendf(&b, "(%s) AND ", t);
	r = r ? r : mx_buf_appends(&b, "title : (");
	r = r ? r : mx_buf_appends(&b, s);
	r = r ? r : mx_buf_appends(&b, ")");
	free(t);
	free(s);
	if (r) {
		mx_buf_free(&b);
		*rc = MX_ENOMEM;
		return NULL;
	}
	*rc = 0;
	return mx_buf_detach(&b);
}

/* The BM25 leg: as described in retriever.h. */
static int search_bm25(struct store *st, const struct ret_query *q, const struct ret_params *p,
		       size_t limit, int snippet_tokens, struct ret_result *res)
{
	int rc;
	res->match = build_match(q, p->question, p->question, &rc);
	if (!res->match) {
		if (rc == MX_EEMPTY && q->has_filter)
			rc = store_filter_list(st, &q->filter, limit, &res->hits, &res->n);
		return rc;
	}
	rc = store_fts_search(st, res->match, &q->filter, limit, p->per_doc, snippet_tokens,
			      &res->hits, &res->n);
	if (!rc && res->n == 0 && !p->question && q->text[0]) {
		char *any = build_match(q, true, false, &rc);
		if (any) {
			free(res->match);
			res->match = any;
			res->relaxed = true;
			rc = store_fts_search(st, res->match, &q->filter, limit, p->per_doc,
					      snippet_tokens, &res->hits, &res->n);
		}
	}
	return rc;
}

static int cand_cmp(const void *a, const void *b)
{
	float x = ((const struct ret_cand *)a)->score, y = ((const struct ret_cand *)b)->score;
	return x < y ? 1 : x > y ? -1 : 0;
}

static bool has_word(const char *s)
{
	for (size_t i = 0, n = strlen(s); i < n; i++)
		if (is_word(s + i, n - i))
			return true;
	return false;
}

/* The dense leg in three steps, so that hybrid search can run the middle
 * one (which touches no SQLite: the query's embedding and the int8 scan,
 * the leg's bulk) in a thread beside the BM25 leg. */
struct dense {
	const struct store_vecset *vs;
	struct store_vecset own; /* when the caller gave no vectors */
	const char *text;	 /* what is embedded */
	float *qv;		 /* the query's vector (d) */
	int d;
	size_t keep;	    /* candidates of the first scan */
	struct ret_cand *c; /* the first scan's, best first */
	size_t nc;
	int rc; /* of the scan step */
	char err[160];
};

static void dense_clear(struct dense *ds)
{
	free(ds->qv);
	free(ds->c);
	store_vecset_free(&ds->own);
}

/* Step 1: what needs the store (the vectors when not given). */
static int dense_prepare(struct store *st, const struct ret_query *q, const struct ret_params *p,
			 size_t limit, struct dense *ds)
{
	memset(ds, 0, sizeof *ds);
	ds->d = p->embedder ? eng_embedder_dims(p->embedder) : p->dims;
	ds->text = q->subject && !q->text[0] ? q->subject : q->text;
	if (!p->query_vec && !has_word(ds->text))
		return MX_EEMPTY;
	if (!(ds->qv = malloc((size_t)ds->d * sizeof *ds->qv)))
		return MX_ENOMEM;
	ds->vs = p->vecs;
	if (!ds->vs) {
		int rc = store_vecset_load(st, p->model_id, &ds->own);
		if (rc)
			return rc;
		ds->vs = &ds->own;
	}
	if (ds->vs->dims != ds->d) {
		snprintf(ds->err, sizeof ds->err, "the index's vectors do not fit the embedder");
		return MX_EINVAL;
	}
	/* A wider first pass than asked (int8 scores are close, not exact) */
	ds->keep = limit * 4 + 100;
	return 0;
}

/* Step 2: the query's vector and the first int8 scan (no store). */
struct dense_job {
	struct dense *ds;
	const struct ret_params *p;
};

static void *dense_scan(void *arg)
{
	struct dense_job *j = arg;
	struct dense *ds = j->ds;
	if (j->p->query_vec) {
		memcpy(ds->qv, j->p->query_vec, (size_t)ds->d * sizeof *ds->qv);
	} else if ((ds->rc = eng_embed(j->p->embedder, &ds->text, 1, ENG_QUERY, ds->qv))) {
		snprintf(ds->err, sizeof ds->err, "%s", eng_errmsg(j->p->embedder));
		return NULL;
	}
	ds->rc = ret_vscan(ds->vs, ds->qv, ds->keep, &ds->c, &ds->nc);
	return NULL;
}

/* Step 3: rescore the candidates with float32, keep a document's best
 * chunk, apply the filters; with filters, scan wider again until enough
 * candidates pass them or the whole index was looked at. */
static int dense_finish(struct store *st, const struct ret_query *q, const struct ret_params *p,
			size_t limit, struct dense *ds, struct ret_result *res)
{
	const struct store_vecset *vs = ds->vs;
	struct ret_cand *c = ds->c;
	size_t nc = ds->nc;
	float *v = NULL;
	bool *found = NULL;
	int64_t *ids = NULL;
	int rc = 0, d = ds->d;
	const float *qv = ds->qv;
	/* the subject filter: in the BM25 leg it is part of the MATCH */
	struct store_filter f = q->filter;
	f.title = q->subject;
	ds->c = NULL; /* ours now */
	bool filtered = q->has_filter || q->subject;
	for (size_t keep = ds->keep;; keep *= 8) {
		free(ids);
		free(v);
		free(found);
		ids = NULL;
		store_hits_free(res->hits, res->n);
		res->hits = NULL;
		res->n = 0;
		if (keep != ds->keep) {
			free(c);
			c = NULL;
			if ((rc = ret_vscan(vs, qv, keep, &c, &nc)))
				goto out;
		}
		v = malloc((nc ? nc : 1) * (size_t)d * sizeof *v);
		found = malloc((nc ? nc : 1) * sizeof *found);
		ids = malloc((nc ? nc : 1) * sizeof *ids);
		if (!v || !found || !ids) {
			rc = MX_ENOMEM;
			goto out;
		}
		for (size_t i = 0; i < nc; i++)
			ids[i] = c[i].chunk_id;
		if ((rc = store_vectors_get(st, p->model_id, ids, nc, d, v, found)))
			goto out;
		for (size_t i = 0; i < nc; i++)
			if (found[i]) {
				const float *x = v + i * (size_t)d;
				float s = 0;
				for (int j = 0; j < d; j++)
					s += qv[j] * x[j];
				c[i].score = s;
			}
		qsort(c, nc, sizeof *c, cand_cmp);
		/* one chunk per document, in order, above the similarity floor */
		size_t k = 0;
		for (size_t i = 0; i < nc && c[i].score >= p->min_dense; i++) {
			bool seen = false;
			for (size_t j = 0; p->per_doc && j < i && !seen; j++)
				seen = c[j].doc_id == c[i].doc_id;
			if (!seen)
				ids[k++] = c[i].chunk_id;
		}
		/* the hits, a page at a time until the filter let enough through */
		for (size_t from = 0; from < k && res->n < limit;) {
			size_t page = k - from < limit * 2 ? k - from : limit * 2;
			struct store_hit *h = NULL;
			size_t nh = 0;
			if ((rc = store_hits_for_chunks(st, ids + from, page, &f, &h, &nh)))
				goto out;
			struct store_hit *all = realloc(res->hits, (res->n + nh + 1) * sizeof *all);
			if (!all) {
				store_hits_free(h, nh);
				rc = MX_ENOMEM;
				goto out;
			}
			res->hits = all;
			if (nh)
				memcpy(res->hits + res->n, h, nh * sizeof *h);
			res->n += nh;
			free(h);
			from += page;
		}
		bool floor_reached = nc && c[nc - 1].score < p->min_dense;
		if (!filtered || res->n >= limit || keep >= vs->n || floor_reached)
			break;
	}
	/* scores back onto the hits, and the limit */
	for (size_t i = 0; i < res->n; i++)
		for (size_t j = 0; j < nc; j++)
			if (c[j].chunk_id == res->hits[i].chunk_id) {
				res->hits[i].score = -c[j].score; /* lower is better, as bm25 */
				break;
			}
	for (; res->n > limit; res->n--)
		store_hit_clear(&res->hits[res->n - 1]);
out:
	free(ids);
	free(v);
	free(found);
	free(c);
	return rc;
}

/* The vector leg: scan the int8 copies, rescore the best with float32,
 * keep a document's best chunk, apply the filters. */
static int search_dense(struct store *st, const struct ret_query *q, const struct ret_params *p,
			size_t limit, struct ret_result *res)
{
	struct dense ds;
	struct dense_job job = { &ds, p };
	int rc = dense_prepare(st, q, p, limit, &ds);
	if (!rc) {
		dense_scan(&job);
		rc = ds.rc;
	}
	if (!rc)
		rc = dense_finish(st, q, p, limit, &ds, res);
	if (ds.err[0])
		snprintf(res->err, sizeof res->err, "%s", ds.err);
	dense_clear(&ds);
	return rc;
}

void ret_leg_range(const struct ret_result *r, double *lo, double *hi)
{
	*lo = *hi = 0;
	for (size_t i = 0; i < r->n; i++) {
		double x = -r->hits[i].score;
		if (i == 0 || x < *lo)
			*lo = x;
		if (i == 0 || x > *hi)
			*hi = x;
	}
}

double ret_leg_score(const struct ret_params *p, bool dense, const struct ret_result *r, size_t i,
		     double lo, double hi)
{
	double w = dense ? p->w_dense : p->w_bm25;
	if (!p->convex)
		return w / (p->rrf_k + (double)i + 1);
	if (!dense) /* BM25, scaled to 0..1 */
		return w * (hi > lo ? (-r->hits[i].score - lo) / (hi - lo) : 1);
	return w * -r->hits[i].score; /* the cosine */
}

/* Reciprocal rank fusion of the two legs, by document. */
static int fuse(const struct ret_params *p, size_t limit, struct ret_result *bm,
		struct ret_result *dn, struct ret_result *res)
{
	size_t n = bm->n + dn->n;
	struct fused {
		int64_t doc;
		double score;
		struct store_hit *hit;
		bool from_bm;
	} *f = calloc(n ? n : 1, sizeof *f);
	if (!f)
		return MX_ENOMEM;
	size_t k = 0;
	for (int leg = 0; leg < 2; leg++) {
		struct ret_result *r = leg ? dn : bm;
		double lo, hi;
		ret_leg_range(r, &lo, &hi);
		for (size_t i = 0; i < r->n; i++) {
			size_t j = 0;
			while (j < k && f[j].doc != r->hits[i].doc_id)
				j++;
			if (j == k)
				f[k++] = (struct fused){ r->hits[i].doc_id, 0, &r->hits[i],
							 leg == 0 };
			f[j].score += ret_leg_score(p, leg == 1, r, i, lo, hi);
		}
	}
	/* best first (insertion sort: n is a few hundred) */
	for (size_t a = 1; a < k; a++)
		for (size_t b = a; b > 0 && f[b - 1].score < f[b].score; b--) {
			struct fused t = f[b];
			f[b] = f[b - 1];
			f[b - 1] = t;
		}
	size_t m = k < limit ? k : limit;
	res->hits = calloc(m ? m : 1, sizeof *res->hits);
	if (!res->hits) {
		free(f);
		return MX_ENOMEM;
	}
	for (size_t i = 0; i < m; i++) {
		res->hits[i] = *f[i].hit;
		res->hits[i].score = -f[i].score;
		memset(f[i].hit, 0, sizeof *f[i].hit); /* moved */
	}
	res->n = m;
	free(f);
	return 0;
}

static const char *const mode_names[] = { "bm25", "dense", "hybrid" };

const char *ret_mode_name(enum ret_mode m)
{
	return (unsigned)m < 3 ? mode_names[m] : "?";
}

int ret_mode_parse(const char *name, enum ret_mode *m)
{
	for (int i = 0; i < 3; i++)
		if (!strcmp(name, mode_names[i])) {
			*m = (enum ret_mode)i;
			return 0;
		}
	return MX_EINVAL;
}

int ret_search(struct store *st, const char *query, const struct ret_params *p,
	       struct ret_result *res)
{
	struct ret_query q;
	int rc;
	memset(res, 0, sizeof *res);
	if ((rc = ret_query_parse(query, &q, res->err, sizeof res->err)))
		return rc;
	enum ret_mode mode = p->embedder || p->query_vec ? p->mode : RET_BM25;
	if (mode == RET_BM25) {
		rc = search_bm25(st, &q, p, p->limit, p->snippet_tokens, res);
	} else if (mode == RET_DENSE) {
		rc = search_dense(st, &q, p, p->limit, res);
		if (rc == MX_EEMPTY && q.has_filter)
			rc = store_filter_list(st, &q.filter, p->limit, &res->hits, &res->n);
	} else {
		/* each leg ranks more than asked, then they are fused */
		struct ret_result bm, dn;
		size_t leg = p->limit * 4 < 100 ? 100 : p->limit * 4;
		memset(&bm, 0, sizeof bm);
		memset(&dn, 0, sizeof dn);
		/* the dense leg's scan runs in a thread beside the BM25 leg */
		struct dense ds;
		struct dense_job job = { &ds, p };
		pthread_t tid;
		int drc = dense_prepare(st, &q, p, leg, &ds);
		bool threaded = !drc && pthread_create(&tid, NULL, dense_scan, &job) == 0;
		rc = search_bm25(st, &q, p, leg, 0, &bm);
		if (threaded)
			pthread_join(tid, NULL);
		else if (!drc)
			dense_scan(&job);
		if (!drc)
			drc = ds.rc;
		bool bm_empty = rc == MX_EEMPTY;
		if (bm_empty)
			rc = 0;
		if (!rc && !drc)
			drc = dense_finish(st, &q, p, leg, &ds, &dn);
		if (ds.err[0])
			snprintf(dn.err, sizeof dn.err, "%s", ds.err);
		dense_clear(&ds);
		if (drc == MX_EEMPTY) {
			drc = bm_empty ? MX_EEMPTY : 0;
			if (bm_empty && q.has_filter) /* filters alone: the newest */
				drc = store_filter_list(st, &q.filter, p->limit, &dn.hits, &dn.n);
		}
		rc = rc ? rc : drc;
		if (!rc) {
			rc = fuse(p, p->limit, &bm, &dn, res);
			res->match = bm.match;
			bm.match = NULL;
			res->relaxed = bm.relaxed;
		}
		/* highlighted snippets for the hits shown only */
		if (!rc && res->match)
			rc = store_add_snippets(st, res->match, p->snippet_tokens, res->hits,
						res->n);
		if (dn.err[0])
			snprintf(res->err, sizeof res->err, "%s", dn.err);
		ret_result_clear(&bm);
		ret_result_clear(&dn);
	}
	ret_query_clear(&q);
	return rc;
}

void ret_result_clear(struct ret_result *res)
{
	store_hits_free(res->hits, res->n);
	free(res->match);
	memset(res, 0, sizeof *res);
}

void ret_date_ymd(int64_t t, char *buf, size_t n)
{
	time_t tt = (time_t)t;
	struct tm tm;
	if (n)
		buf[0] = '\0';
	if (t && gmtime_r(&tt, &tm))
		strftime(buf, n, "%Y-%m-%d", &tm);
}

void ret_citation(const struct store_hit *h, char *buf, size_t n)
{
	if (h->parent_message_id && h->type && strcmp(h->type, "mail")) {
		snprintf(buf, n, "attachment '%s' of <%s>", h->title ? h->title : "?",
			 h->parent_message_id);
		return;
	}
	if (h->type && !strcmp(h->type, "mail")) {
		char date[16];
		ret_date_ymd(h->date, date, sizeof date);
		snprintf(buf, n, "<%s> %s, %s%s%s", h->message_id ? h->message_id : "?",
			 h->title && *h->title ? h->title : "(no subject)",
			 h->author ? h->author : "(unknown sender)", date[0] ? ", " : "", date);
		return;
	}
	const char *sep = h->path && h->path[0] ? "/" : "";
	char lines[48] = "", page[32] = "";
	if (h->line_start > 0 && h->line_end >= h->line_start)
		snprintf(lines, sizeof lines, ":%lld-%lld", (long long)h->line_start,
			 (long long)h->line_end);
	if (h->page_start > 0)
		snprintf(page, sizeof page, " p. %d", h->page_start);
	snprintf(buf, n, "%s%s%s%s%s%s%s", h->source_path, sep, h->path, lines, page,
		 h->heading && *h->heading ? " \u00a7 " : "", h->heading ? h->heading : "");
}
