/*
 * sentrank.c - the sentence stage of answers: documents reranked by their
 * sentence closest to the question (see answer.h, ret_answer_params.pool).
 *
 * A chunk's vector is the mean of many lines, so one line that answers a
 * question in other words ("How big is my flat?" against "Size: 2 rooms and
 * kitchen, 58 square metres") is diluted, and BM25 has no word to find. The
 * stage takes a wider pool than the context needs from both legs of hybrid
 * search, embeds the sentences of the pool's chunks, and adds the best
 * sentence's cosine as a third term to the score fusion of the two legs.
 * The sentence vectors are kept for the extractive answer, which needs them
 * for the context's sentences anyway.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../common/status.h"
#include "../engine/engine.h"
#include "answer.h"
#include "retriever_int.h"

#define LEG_HITS      100  /* documents of each leg, for the fusion's scores */
#define POOL_SENT_MAX 256  /* sentences embedded for one question */
#define CHUNK_SCAN    1000 /* chunks nearest the question, for more_chunks */

void ret_rerank_order(const double *fused, const double *best_sent, size_t n, double w_sent,
		      size_t *order)
{
	for (size_t i = 0; i < n; i++)
		order[i] = i;
	/* insertion sort, stable: n is a few dozen */
	for (size_t a = 1; a < n; a++)
		for (size_t b = a; b > 0; b--) {
			size_t x = order[b - 1], y = order[b];
			double sx = fused[x] + w_sent * best_sent[x];
			double sy = fused[y] + w_sent * best_sent[y];
			if (sx >= sy)
				break;
			order[b - 1] = y;
			order[b] = x;
		}
}

/* ---- the sentence vectors of one answer ---------------------------------- */

void ret_sentvecs_clear(struct ret_sentvecs *c)
{
	if (!c)
		return;
	for (size_t i = 0; i < c->n; i++)
		free(c->e[i].v);
	free(c->e);
	memset(c, 0, sizeof *c);
}

const float *ret_sentvecs_find(const struct ret_sentvecs *c, int64_t chunk_id, size_t nsent)
{
	for (size_t i = 0; c && i < c->n; i++)
		if (c->e[i].chunk_id == chunk_id && c->e[i].nsent == nsent)
			return c->e[i].v;
	return NULL;
}

/* Takes v (nsent * dims floats, malloc'd) in every case. */
static int sentvecs_add(struct ret_sentvecs *c, int64_t chunk_id, size_t nsent, float *v)
{
	if (c->n == c->cap) {
		size_t nc = c->cap ? c->cap * 2 : 16;
		struct ret_sentvec *e = realloc(c->e, nc * sizeof *e);
		if (!e) {
			free(v);
			return MX_ENOMEM;
		}
		c->e = e;
		c->cap = nc;
	}
	c->e[c->n++] = (struct ret_sentvec){ .chunk_id = chunk_id, .nsent = nsent, .v = v };
	return 0;
}

/* ---- the stage ----------------------------------------------------------- */

static int cand_cmp(const void *x, const void *y)
{
	float a = ((const struct ret_cand *)x)->score, b = ((const struct ret_cand *)y)->score;
	return a < b ? 1 : a > b ? -1 : 0;
}

/* A document of the union of the two legs. */
struct pdoc {
	int64_t doc;
	double fused;		   /* the legs' fusion, as ret_search's */
	size_t rank_bm, rank_dn;   /* in each leg, SIZE_MAX: not found */
	struct store_hit *bm, *dn; /* each leg's chunk (borrowed) */
	struct store_hit *more;	   /* a closer chunk than the dense leg's (owned) */
	double sent_bm, sent_dn;   /* their best sentence's cosine */
	bool pooled;
};

/* The best cosine of h's sentences with the question; the vectors go to
 * the cache. *budget counts down the sentences still allowed. */
static int chunk_best(struct eng_embedder *e, const float *qv, int d, const struct store_hit *h,
		      struct ret_sentvecs *cache, size_t *budget, double *best)
{
	const char *t = h->text ? h->text : "";
	struct ret_span *sp = NULL;
	size_t ns = 0;
	char **own = NULL;
	float *v = NULL;
	*best = 0;
	const float *have = NULL;
	int rc = ret_sentences_split(t, strlen(t), &sp, &ns);
	if (rc || !ns)
		goto out;
	if (!(have = ret_sentvecs_find(cache, h->chunk_id, ns))) {
		if (ns > *budget)
			goto out; /* over the budget: the fusion alone ranks it */
		own = calloc(ns, sizeof *own);
		v = malloc(ns * (size_t)d * sizeof *v);
		if (!own || !v) {
			rc = MX_ENOMEM;
			goto out;
		}
		for (size_t i = 0; i < ns; i++)
			if (!(own[i] = strndup(t + sp[i].start, sp[i].end - sp[i].start))) {
				rc = MX_ENOMEM;
				goto out;
			}
		if ((rc = eng_embed(e, (const char *const *)own, ns, ENG_PASSAGE, v)))
			goto out;
		*budget -= ns;
		if ((rc = sentvecs_add(cache, h->chunk_id, ns, v))) {
			v = NULL;
			goto out;
		}
		have = v;
		v = NULL; /* the cache's */
	}
	for (size_t i = 0; i < ns; i++) {
		double s = 0;
		for (int j = 0; j < d; j++)
			s += (double)qv[j] * have[i * (size_t)d + j];
		if (s > *best)
			*best = s;
	}
out:
	for (size_t i = 0; own && i < ns; i++)
		free(own[i]);
	free(own);
	free(v);
	free(sp);
	return rc;
}

/* For each pooled document, its chunks among the CHUNK_SCAN nearest the
 * question, up to `chunks` of them nearest first, scored as chunk_best;
 * the best raises the document's sent_dn (and the chunk becomes its dn
 * hit, owned in pd->more). */
static int more_chunks(struct store *st, const struct ret_params *rp, const float *qv, int d,
		       struct pdoc *pd, size_t np, size_t chunks, struct ret_sentvecs *cache,
		       size_t *budget)
{
	struct ret_cand *c = NULL;
	size_t nc = 0;
	int rc = ret_vscan(rp->vecs, qv, CHUNK_SCAN, &c, &nc);
	if (rc)
		return rc;
	qsort(c, nc, sizeof *c, cand_cmp);
	for (size_t i = 0; i < np && !rc; i++) {
		if (!pd[i].pooled)
			continue;
		size_t taken = 0;
		for (size_t k = 0; k < nc && taken < chunks && !rc; k++) {
			if (c[k].doc_id != pd[i].doc)
				continue;
			taken++;
			if ((pd[i].bm && pd[i].bm->chunk_id == c[k].chunk_id) ||
			    (pd[i].dn && pd[i].dn->chunk_id == c[k].chunk_id))
				continue;
			struct store_hit *h = NULL;
			size_t nh = 0;
			if ((rc = store_hits_for_chunks(st, &c[k].chunk_id, 1, NULL, &h, &nh)))
				break;
			double b = 0;
			if (nh == 1 &&
			    !(rc = chunk_best(rp->embedder, qv, d, &h[0], cache, budget, &b)) &&
			    b > pd[i].sent_dn) {
				pd[i].sent_dn = b;
				store_hits_free(pd[i].more, pd[i].more ? 1 : 0);
				pd[i].more = h;
				pd[i].dn = h;
				continue;
			}
			store_hits_free(h, nh);
		}
	}
	free(c);
	return rc;
}

static int pdoc_cmp_fused(const void *x, const void *y)
{
	const struct pdoc *a = x, *b = y;
	return a->fused < b->fused ? 1 : a->fused > b->fused ? -1 : 0;
}

int ret_sentence_stage(struct store *st, const char *question, const struct ret_params *rp,
		       size_t pool, size_t chunks, double w_sent, const float *qv,
		       struct ret_sentvecs *cache, size_t keep, struct ret_result *r)
{
	struct ret_params lp = *rp;
	struct ret_result bm = { 0 }, dn = { 0 };
	struct pdoc *pd = NULL;
	double *fused = NULL, *best = NULL;
	size_t *order = NULL, *idx = NULL, np = 0;
	struct eng_embedder *e = rp->embedder;
	int d = e ? eng_embedder_dims(e) : 0, rc;
	if (!e || !qv || !pool)
		return 0;
	lp.query_vec = qv;
	lp.dims = d;
	lp.per_doc = true;
	lp.question = true;
	lp.limit = LEG_HITS;
	lp.snippet_tokens = 0;
	lp.mode = RET_BM25;
	rc = ret_search(st, question, &lp, &bm);
	if (rc && rc != MX_EEMPTY)
		goto out;
	lp.mode = RET_DENSE;
	rc = ret_search(st, question, &lp, &dn);
	if (rc && rc != MX_EEMPTY)
		goto out;
	rc = 0;
	if (!bm.n && !dn.n)
		goto out; /* the first search's hits stand */
	pd = calloc(bm.n + dn.n, sizeof *pd);
	if (!pd) {
		rc = MX_ENOMEM;
		goto out;
	}
	/* the fusion of ret_search (retriever.c, fuse) per document */
	for (int leg = 0; leg < 2; leg++) {
		struct ret_result *l = leg ? &dn : &bm;
		double lo, hi;
		ret_leg_range(l, &lo, &hi);
		for (size_t i = 0; i < l->n; i++) {
			size_t j = 0;
			while (j < np && pd[j].doc != l->hits[i].doc_id)
				j++;
			if (j == np)
				pd[np++] = (struct pdoc){ .doc = l->hits[i].doc_id,
							  .rank_bm = SIZE_MAX,
							  .rank_dn = SIZE_MAX };
			if (leg) {
				pd[j].rank_dn = i;
				pd[j].dn = &l->hits[i];
			} else {
				pd[j].rank_bm = i;
				pd[j].bm = &l->hits[i];
			}
			pd[j].fused += ret_leg_score(rp, leg == 1, l, i, lo, hi);
		}
	}
	qsort(pd, np, sizeof *pd, pdoc_cmp_fused);
	/* the pool: the fusion's best, and each leg's best, which the other
	 * leg may have pushed down (a paraphrase has no word for BM25) */
	for (size_t i = 0; i < np; i++)
		pd[i].pooled = i < pool || pd[i].rank_dn < pool / 2 || pd[i].rank_bm < pool / 2;
	size_t budget = POOL_SENT_MAX;
	for (size_t i = 0; i < np; i++) {
		if (!pd[i].pooled)
			continue;
		if (pd[i].bm &&
		    (rc = chunk_best(e, qv, d, pd[i].bm, cache, &budget, &pd[i].sent_bm)))
			goto out;
		if (pd[i].dn && (!pd[i].bm || pd[i].dn->chunk_id != pd[i].bm->chunk_id) &&
		    (rc = chunk_best(e, qv, d, pd[i].dn, cache, &budget, &pd[i].sent_dn)))
			goto out;
		if (pd[i].dn && pd[i].bm && pd[i].dn->chunk_id == pd[i].bm->chunk_id)
			pd[i].sent_dn = pd[i].sent_bm;
	}
	/* more chunks of the pooled documents: a document's chunks nearest the
	 * question, up to `chunks` of them (the dense leg kept one) */
	if (chunks > 1 && rp->vecs &&
	    (rc = more_chunks(st, rp, qv, d, pd, np, chunks, cache, &budget)))
		goto out;
	/* rerank the pool */
	fused = calloc(np, sizeof *fused);
	best = calloc(np, sizeof *best);
	order = calloc(np, sizeof *order);
	idx = calloc(np, sizeof *idx);
	if (!fused || !best || !order || !idx) {
		rc = MX_ENOMEM;
		goto out;
	}
	size_t n = 0;
	for (size_t i = 0; i < np; i++)
		if (pd[i].pooled) {
			idx[n] = i;
			fused[n] = pd[i].fused;
			best[n] = pd[i].sent_bm > pd[i].sent_dn ? pd[i].sent_bm : pd[i].sent_dn;
			n++;
		}
	ret_rerank_order(fused, best, n, w_sent, order);
	size_t m = n < keep ? n : keep;
	struct store_hit *hits = calloc(m ? m : 1, sizeof *hits);
	if (!hits) {
		rc = MX_ENOMEM;
		goto out;
	}
	for (size_t k = 0; k < m; k++) {
		struct pdoc *p = &pd[idx[order[k]]];
		/* the document's chunk with the closer sentence; BM25's on a tie */
		struct store_hit *h = p->bm && (!p->dn || p->sent_bm >= p->sent_dn) ? p->bm : p->dn;
		hits[k] = *h;
		hits[k].score = -(fused[order[k]] + w_sent * best[order[k]]);
		memset(h, 0, sizeof *h); /* moved */
	}
	if (bm.match &&
	    (rc = store_add_snippets(st, bm.match, rp->snippet_tokens > 0 ? rp->snippet_tokens : 24,
				     hits, m))) {
		store_hits_free(hits, m);
		goto out;
	}
	ret_result_clear(r);
	r->hits = hits;
	r->n = m;
	r->match = bm.match;
	r->relaxed = bm.relaxed;
	bm.match = NULL;
out:
	ret_result_clear(&bm);
	ret_result_clear(&dn);
	for (size_t i = 0; pd && i < np; i++)
		store_hits_free(pd[i].more, pd[i].more ? 1 : 0);
	free(pd);
	free(fused);
	free(best);
	free(order);
	free(idx);
	return rc;
}
