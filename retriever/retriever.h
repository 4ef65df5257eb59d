/*
 * retriever.h - turn a user's query into ranked, cited passages.
 *
 * Now: BM25 over the FTS5 index (title and author weighted above body),
 * one hit per document by default. The user's words never reach FTS5 as
 * syntax: each word becomes a quoted term, "double-quoted text" a phrase,
 * and a trailing '*' a prefix. A search first requires every term; if that
 * finds nothing it falls back to any term (and says so). Questions (ask)
 * use any term with common words removed. The vector leg and fusion come
 * with the embeddings issue.
 */
#ifndef MX_RETRIEVER_H
#define MX_RETRIEVER_H

#include <stdbool.h>
#include <stddef.h>

#include "../store/store.h"

struct ret_params {
	size_t limit;	    /* hits wanted (default 10) */
	bool per_doc;	    /* at most one hit per document (default true) */
	bool question;	    /* natural-language question: any term, no
			      stop words (default false) */
	int snippet_tokens; /* snippet length, 1 to 64 (default 24) */
};
struct ret_params ret_params_default(void);

struct ret_result {
	struct store_hit *hits; /* best first */
	size_t n;
	bool relaxed; /* no hit had every term; any term was used */
	char *match;  /* the FTS5 expression that ran */
};

/* Runs a query. *res is filled on success; free it with
 * ret_result_clear(). MX_EEMPTY when the query has no searchable word,
 * else a store error with the message in store_errmsg(st). */
int ret_search(struct store *st, const char *query, const struct ret_params *p,
	       struct ret_result *res);
void ret_result_clear(struct ret_result *res);

/* Builds the FTS5 expression for a query (malloc'd; caller frees): terms
 * joined by " AND " or " OR ". NULL with *rc = MX_EEMPTY when there is no
 * word, MX_ENOMEM on allocation failure. */
char *ret_query_to_fts(const char *query, bool any, bool drop_stopwords, int *rc);

/* A one-line citation for a hit, written into buf (always terminated):
 * "path:12-30" for files, "<message-id> Subject, Sender, YYYY-MM-DD" for
 * mail. */
void ret_citation(const struct store_hit *h, char *buf, size_t n);

#endif
