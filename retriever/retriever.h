/*
 * retriever.h - turn a user's query into ranked, cited passages.
 *
 * Now: BM25 over the FTS5 index (title and author weighted above body),
 * one hit per document by default. The user's words never reach FTS5 as
  * syntax: each word becomes a quoted term, "double-quoted text" a phrase,
 * and a trailing '*' a prefix. Filters may stand among the words:
  *   from:X  to:X  subject:X  folder:X  type:X  tag:X  after:DATE  before:DATE
 *   has:attachment  is:unread
 * (X a word or "quoted text"; DATE YYYY-MM-DD, YYYY-MM or YYYY, UTC; after
 * includes the day, before excludes it). A query of filters alone lists
 * the newest matching documents. A search first requires every term; if that
 * finds nothing it falls back to any term (and says so). Questions (ask)
 * use any term with common words removed. The vector leg and fusion come
 * with the embeddings issue.
 */
#ifndef MX_RETRIEVER_H
#define MX_RETRIEVER_H

#include <stdbool.h>
#include <stddef.h>

#include "../store/store.h"

struct eng_embedder;

enum ret_mode { RET_BM25 = 0, RET_DENSE = 1, RET_HYBRID = 2 };
/* A mode's name ("bm25", "dense", "hybrid"; static), and back: 0, or
 * MX_EINVAL for a name that is none of them. */
const char *ret_mode_name(enum ret_mode m);
int ret_mode_parse(const char *name, enum ret_mode *m);

struct ret_params {
	size_t limit;	    /* hits wanted (default 10) */
	enum ret_mode mode; /* default RET_BM25 until vectors exist */
	bool per_doc;	    /* at most one hit per document (default true) */
	bool question;	    /* natural-language question: any term, no
			      stop words (default false) */
	int snippet_tokens; /* snippet length, 1 to 64 (default 24) */
	/* The vector legs (dense, hybrid): the embedder (borrowed), its model
	 * id in the store, and its vectors loaded for scanning (borrowed; when
	 * NULL they are loaded for the call). */
	struct eng_embedder *embedder;
	int64_t model_id;
	const struct store_vecset *vecs;
	const float *query_vec; /* the query's vector when already known (bench),
				   else the embedder makes it */
	int dims;		/* with query_vec and no embedder */
	double rrf_k;		/* reciprocal rank fusion constant (default 60) */
	bool convex;		/* fuse scores (BM25 min-max normalised + w * cosine)
				 instead of ranks (default true) */
	double w_bm25, w_dense; /* fusion weights (default 1 and 0.3: calibrated
				   on SciFact with USE-Lite, see README) */
	float min_dense;	/* cosine below which a chunk is no dense hit
				   (default 0: none; cosines are not comparable
				   across embedders, so it is calibrated per
				   model: config dense_min_score) */
};
struct ret_params ret_params_default(void);

struct ret_result {
	struct store_hit *hits; /* best first */
	size_t n;
	bool relaxed;  /* no hit had every term; any term was used */
	char *match;   /* the FTS5 expression that ran, or NULL */
	char err[160]; /* why a query was refused (MX_EINVAL) */
};

/* A query split into free text and filters. */
struct ret_query {
	char *text;			       /* the words, filters removed (malloc'd) */
	char *subject;			       /* subject: words, or NULL (malloc'd) */
	char *from, *to, *folder, *type, *tag; /* or NULL (malloc'd) */
	struct store_filter filter;	       /* points into the strings above */
	bool has_filter;
};
/* Splits a query. MX_EINVAL with the reason in err (a bad date, an
 * unknown has:/is: value), or MX_ENOMEM. Clear with ret_query_clear(). */
int ret_query_parse(const char *query, struct ret_query *q, char *err, size_t errsz);
void ret_query_clear(struct ret_query *q);

/* A vector-scan candidate. */
struct ret_cand {
	int64_t chunk_id, doc_id;
	float score;
};
/* The best `keep` rows of vs for a query vector (dims floats), best first;
 * *out malloc'd. Exact over all rows (int8 scores). */
int ret_vscan(const struct store_vecset *vs, const float *query, size_t keep, struct ret_cand **out,
	      size_t *n);

/* Runs a query. *res is filled on success; free it with
 * ret_result_clear(). MX_EEMPTY when the query has no searchable word and
 * no filter, MX_EINVAL for a bad filter (reason in res->err), else a store
 * error with the message in store_errmsg(st). */
int ret_search(struct store *st, const char *query, const struct ret_params *p,
	       struct ret_result *res);
void ret_result_clear(struct ret_result *res);

/* Builds the FTS5 expression for a query (malloc'd; caller frees): terms
 * joined by " AND " or " OR ". NULL with *rc = MX_EEMPTY when there is no
 * word, MX_ENOMEM on allocation failure. */
char *ret_query_to_fts(const char *query, bool any, bool drop_stopwords, int *rc);

/* A one-line citation for a hit, written into buf (always terminated):
  * "path:12-30 § Heading > Sub" for files (" p. 3" for a PDF page),
 * "<message-id> Subject, Sender, YYYY-MM-DD" for mail, "attachment 'NAME'
 * of <message-id>" for a mail attachment. */
void ret_citation(const struct store_hit *h, char *buf, size_t n);

#endif
