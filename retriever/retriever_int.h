/*
 * retriever_int.h - what the files of the retriever share, not for
 * callers.
 */
#ifndef MX_RETRIEVER_INT_H
#define MX_RETRIEVER_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Whether the n bytes at w are a word too common to help rank a question
 * (case-insensitive, ASCII). */
bool ret_is_stopword(const char *w, size_t n);

/* "YYYY-MM-DD" (UTC) of epoch seconds t into buf; "" for 0. */
void ret_date_ymd(int64_t t, char *buf, size_t n);

/* The sentence vectors made for one answer, per chunk (sentences as
 * ret_sentences_split cuts its text), so that the extractive answer does
 * not embed them again. */
struct ret_sentvec {
	int64_t chunk_id;
	size_t nsent;
	float *v; /* nsent * dims, malloc'd */
};
struct ret_sentvecs {
	struct ret_sentvec *e;
	size_t n, cap;
};
/* The vectors of chunk_id's nsent sentences, or NULL (borrowed). */
const float *ret_sentvecs_find(const struct ret_sentvecs *c, int64_t chunk_id, size_t nsent);
void ret_sentvecs_clear(struct ret_sentvecs *c);

struct store;
struct ret_params;
struct ret_result;
/* The fusion of hybrid search, a leg's share of a document's score: the
 * range of the leg's scores (lo..hi, of -hit.score), and hit i's share:
 * with convex fusion BM25 scaled to 0..1 times w_bm25, or the cosine times
 * w_dense; else w / (rrf_k + rank + 1). */
void ret_leg_range(const struct ret_result *r, double *lo, double *hi);
double ret_leg_score(const struct ret_params *p, bool dense, const struct ret_result *r, size_t i,
		     double lo, double hi);
/* The sentence stage (sentrank.c): the question's BM25 and dense legs
 * (LEG_HITS documents each, rp's embedder, model and fusion weights; qv its
 * vector), fused per document as ret_search fuses them; the pool is the
 * fusion's best `pool` documents and each leg's best pool / 2; the
 * sentences of their chunks are embedded (into cache, at most
 * POOL_SENT_MAX) and each document scores fusion + w_sent * its best
 * sentence's cosine. *r is replaced by the best `keep` documents, each with
 * the chunk that has its closer sentence. Without an embedder or with pool
 * 0, or when neither leg finds anything, *r is left as it is. 0,
 * MX_ENOMEM, or a store or embedder error. */
int ret_sentence_stage(struct store *st, const char *question, const struct ret_params *rp,
		       size_t pool, size_t chunks, double w_sent, const float *qv,
		       struct ret_sentvecs *cache, size_t keep, struct ret_result *r);

#endif
