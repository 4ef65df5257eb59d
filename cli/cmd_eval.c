/*
 * cmd_eval.c - memex eval: measure retrieval on a benchmark.
 *
 *   memex eval beir DIR [--mode bm25|dense|hybrid|all] [-n N] [--json]
 *   memex eval pii FILE [--json]      (cmd_eval_pii.c)
 *
 * DIR is a BEIR folder: corpus.jsonl ({"_id", "title", "text"}),
 * queries.jsonl ({"_id", "text"}) and qrels/test.tsv (query-id, corpus-id,
 * score, with a header line). The corpus goes into a throwaway index in a
 * temporary folder (never the user's), each document chunked as memex
 * chunks files; each test query runs through the retriever as a question
 * (any term), one hit per document; the figures are nDCG@10 (linear gain,
 * as trec_eval), Recall@100 and MRR@10, averaged over the queries that
 * have judgements.
 */
#include <errno.h>
#include <getopt.h>
#include <json-c/json.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "../common/fsutil.h"
#include "../common/status.h"
#include "../engine/engine.h"
#include "../indexer/indexer.h"
#include "../retriever/retriever.h"
#include "cli.h"

#define EVAL_LINE_MAX (16u << 20)

struct qrel {
	char *qid, *did;
	int rel;
};

struct evalq {
	char *qid, *text;
};

/* Calls fn for each line of a file (lines up to EVAL_LINE_MAX). */
static int each_line(const char *path, int (*fn)(char *line, void *ctx), void *ctx)
{
	FILE *f = fopen(path, "r");
	if (!f) {
		cli_error("cannot read '%s': %s", path, strerror(errno));
		return -1;
	}
	char *line = NULL;
	size_t cap = 0, n;
	bool cut;
	int rc = 0, r;
	while (!rc && (r = cli_read_line(f, EVAL_LINE_MAX, &line, &cap, &n, &cut)) != 0) {
		if (r < 0 || cut) {
			cli_error("'%s': %s", path, r < 0 ? "out of memory" : "a line is too long");
			rc = -1;
			break;
		}
		while (n && line[n - 1] == '\r')
			line[--n] = '\0';
		if (n)
			rc = fn(line, ctx);
	}
	free(line);
	fclose(f);
	return rc;
}

static const char *jstr(json_object *o, const char *key)
{
	json_object *v;
	return json_object_object_get_ex(o, key, &v) && json_object_is_type(v, json_type_string)
		       ? json_object_get_string(v)
		       : NULL;
}

struct loader {
	struct store *st;
	int64_t src;
	struct idx_chunk_params chunk;
	size_t ndocs;
	int err;
};

static int load_doc(char *line, void *ctx)
{
	struct loader *l = ctx;
	json_object *o = json_tokener_parse(line);
	if (!o)
		return 0; /* a broken line is skipped */
	const char *id = jstr(o, "_id"), *title = jstr(o, "title"), *text = jstr(o, "text");
	int rc = 0;
	if (id && text) {
		struct idx_span *sp = NULL;
		size_t ns = 0;
		size_t len = strlen(text);
		if (idx_chunk_text(text, len, -1, &l->chunk, &sp, &ns) == 0) {
			struct store_chunk *ch = calloc(ns ? ns : 1, sizeof *ch);
			if (ch) {
				for (size_t i = 0; i < ns; i++)
					ch[i] = (struct store_chunk){
						.text = text + sp[i].start,
						.text_len = sp[i].end - sp[i].start,
						.byte_start = (int64_t)sp[i].start,
						.byte_end = (int64_t)sp[i].end
					};
				if (!ns)
					ch[0] = (struct store_chunk){ .text = "", .text_len = 0 };
				struct store_doc d = { .source_id = l->src,
						       .path = id,
						       .part = "",
						       .hash = "",
						       .type = "beir",
						       .title = title,
						       .status = "ok" };
				if (store_doc_put(l->st, &d, ch, ns ? ns : 1, NULL)) {
					cli_error("%s", store_errmsg(l->st));
					rc = -1;
				}
				l->ndocs++;
				free(ch);
			}
			free(sp);
		}
	}
	json_object_put(o);
	return rc;
}

struct qlist {
	struct evalq *v;
	size_t n, cap;
	struct qrel *r;
	size_t nr, rcap;
	bool header_seen;
};

static int load_query(char *line, void *ctx)
{
	struct qlist *q = ctx;
	json_object *o = json_tokener_parse(line);
	if (!o)
		return 0;
	const char *id = jstr(o, "_id"), *text = jstr(o, "text");
	if (id && text) {
		if (q->n == q->cap) {
			size_t c = q->cap ? q->cap * 2 : 256;
			struct evalq *v = realloc(q->v, c * sizeof *v);
			if (!v) {
				json_object_put(o);
				return -1;
			}
			q->v = v;
			q->cap = c;
		}
		q->v[q->n++] = (struct evalq){ strdup(id), strdup(text) };
	}
	json_object_put(o);
	return 0;
}

static int load_qrel(char *line, void *ctx)
{
	struct qlist *q = ctx;
	char *save = NULL;
	char *a = strtok_r(line, "\t", &save), *b = strtok_r(NULL, "\t", &save),
	     *c = strtok_r(NULL, "\t", &save);
	if (!a || !b || !c)
		return 0;
	if (!q->header_seen && !strcmp(a, "query-id")) {
		q->header_seen = true;
		return 0;
	}
	if (q->nr == q->rcap) {
		size_t cap = q->rcap ? q->rcap * 2 : 512;
		struct qrel *v = realloc(q->r, cap * sizeof *v);
		if (!v)
			return -1;
		q->r = v;
		q->rcap = cap;
	}
	q->r[q->nr++] = (struct qrel){ strdup(a), strdup(b), (int)strtol(c, NULL, 10) };
	return 0;
}

/* Relevance of document did for query qid (0 if not judged). */
static int rel_of(const struct qlist *q, const char *qid, const char *did)
{
	for (size_t i = 0; i < q->nr; i++)
		if (!strcmp(q->r[i].qid, qid) && !strcmp(q->r[i].did, did))
			return q->r[i].rel;
	return 0;
}

struct figures {
	double ndcg10, recall100, mrr10, ms;
	size_t nq;
};

static int run_mode(struct store *st, const struct qlist *q, enum ret_mode mode,
		    struct eng_embedder *emb, int64_t model, const struct store_vecset *vs,
		    double w_dense, double rrf_k, float min_dense, bool convex_fusion,
		    struct figures *f)
{
	memset(f, 0, sizeof *f);
	double t0 = cli_now();
	for (size_t i = 0; i < q->n; i++) {
		const char *qid = q->v[i].qid;
		/* the judgements of this query, and the ideal DCG */
		int rels[64];
		size_t nrel = 0, nrelevant = 0;
		for (size_t k = 0; k < q->nr; k++)
			if (!strcmp(q->r[k].qid, qid) && q->r[k].rel > 0) {
				if (nrel < 64)
					rels[nrel++] = q->r[k].rel;
				nrelevant++;
			}
		if (!nrelevant)
			continue;
		struct ret_params p = ret_params_default();
		p.limit = 100;
		p.question = true;
		p.mode = mode;
		p.embedder = emb;
		p.model_id = model;
		p.vecs = vs;
		p.w_dense = w_dense;
		p.rrf_k = rrf_k;
		p.min_dense = min_dense;
		p.convex = convex_fusion;
		struct ret_result res;
		int rc = ret_search(st, q->v[i].text, &p, &res);
		if (rc && rc != MX_EEMPTY) {
			cli_error("query %s failed: %s", qid,
				  res.err[0] ? res.err : store_errmsg(st));
			ret_result_clear(&res);
			return -1;
		}
		double dcg = 0, idcg = 0, mrr = 0;
		size_t found = 0;
		for (size_t k = 0; k < res.n; k++) {
			int r = rel_of(q, qid, res.hits[k].path);
			if (k < 10 && r > 0) {
				dcg += r / log2((double)k + 2);
				if (mrr == 0)
					mrr = 1.0 / (double)(k + 1);
			}
			found += r > 0;
		}
		/* ideal: judgements sorted descending */
		for (size_t a = 1; a < nrel; a++)
			for (size_t b = a; b > 0 && rels[b - 1] < rels[b]; b--) {
				int t = rels[b];
				rels[b] = rels[b - 1];
				rels[b - 1] = t;
			}
		for (size_t k = 0; k < nrel && k < 10; k++)
			idcg += rels[k] / log2((double)k + 2);
		f->ndcg10 += idcg > 0 ? dcg / idcg : 0;
		f->recall100 += (double)found / (double)nrelevant;
		f->mrr10 += mrr;
		f->nq++;
		ret_result_clear(&res);
	}
	if (f->nq) {
		f->ndcg10 /= (double)f->nq;
		f->recall100 /= (double)f->nq;
		f->mrr10 /= (double)f->nq;
		f->ms = (cli_now() - t0) * 1000.0 / (double)f->nq;
	}
	return 0;
}

static int eval_beir(struct cli *c, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "mode", required_argument, NULL, 'm' },
		{ "json", no_argument, NULL, 'j' },
		{ "w-dense", required_argument, NULL, 'w' },
		{ "rrf-k", required_argument, NULL, 'k' },
		{ "sweep", no_argument, NULL, 's' },
		{ "convex", no_argument, NULL, 'x' },
		{ NULL, 0, NULL, 0 },
	};
	const char *mode = "all";
	bool json = false, sweep = false, convex = c->cfg.convex;
	double w_dense = c->cfg.w_dense, rrf_k = c->cfg.rrf_k;
	int opt;
	while ((opt = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		if (opt == 'm')
			mode = optarg;
		else if (opt == 'j')
			json = true;
		else if (opt == 'w')
			w_dense = strtod(optarg, NULL);
		else if (opt == 'k')
			rrf_k = strtod(optarg, NULL);
		else if (opt == 's')
			sweep = true;
		else if (opt == 'x')
			convex = true;
		else
			return cli_usage(cli_command_find("eval"), true);
	}
	if (optind + 1 != argc)
		return cli_usage(cli_command_find("eval"), true);
	const char *dir = argv[optind];
	bool want[3] = { false, false, false };
	enum ret_mode one;
	if (!strcmp(mode, "all"))
		want[0] = want[1] = want[2] = true;
	else if (!ret_mode_parse(mode, &one))
		want[one] = true;
	else {
		cli_error("--mode takes bm25, dense, hybrid or all, not '%s'", mode);
		return CLI_USAGE;
	}
	char tdir[4096], dbp[4200], path[4300];
	if (cli_tmp_index_make(tdir, sizeof tdir, dbp, sizeof dbp))
		return CLI_ERR;
	struct store *st = NULL;
	struct qlist q = { 0 };
	struct eng_embedder *emb = NULL;
	struct store_vecset vs = { 0 };
	int64_t model = 0;
	int ret = CLI_ERR;
	double t0 = cli_now();
	if (store_open(dbp, STORE_CREATE, &st)) {
		cli_error("cannot make the evaluation index: %s", store_errmsg(st));
		goto out;
	}
	struct loader l = { .st = st, .chunk = c->cfg.chunk };
	if (store_source_add(st, dir, "beir", &l.src) || store_begin(st)) {
		cli_error("%s", store_errmsg(st));
		goto out;
	}
	snprintf(path, sizeof path, "%s/corpus.jsonl", dir);
	if (each_line(path, load_doc, &l) || store_commit(st))
		goto out;
	double t_index = cli_now() - t0;
	snprintf(path, sizeof path, "%s/queries.jsonl", dir);
	if (each_line(path, load_query, &q))
		goto out;
	snprintf(path, sizeof path, "%s/qrels/test.tsv", dir);
	if (each_line(path, load_qrel, &q))
		goto out;
	struct figures fig[3];
	bool done[3] = { false, false, false };
	/* the vector legs: embed the corpus with the configured embedder */
	double t_embed = 0;
	if ((want[1] || want[2] || sweep) && cli_embedder_open(c, &emb))
		goto out;
	if (emb) {
		struct idx_params ip = idx_params_default();
		struct indexer *ix = idx_new(st, &ip);
		uint64_t n = 0;
		double te = cli_now();
		if (!ix ||
		    store_model_id(st, eng_embedder_fingerprint(emb), eng_embedder_dims(emb),
				   eng_embedder_name(emb), &model) ||
		    idx_embed(ix, emb, model, &n)) {
			cli_error("cannot embed the corpus: %s",
				  ix ? idx_errmsg(ix) : "out of memory");
			idx_free(ix);
			goto out;
		}
		idx_free(ix);
		t_embed = cli_now() - te;
		if (store_vecset_load(st, model, &vs)) {
			cli_error("%s", store_errmsg(st));
			goto out;
		}
		fprintf(stderr, "embedded %llu chunks with %s in %.1f s (%.1f chunks/s)\n",
			(unsigned long long)n, eng_embedder_name(emb), t_embed,
			t_embed > 0 ? (double)n / t_embed : 0.0);
	}
	for (int m = 0; m < 3; m++) {
		if (!want[m] || (m > 0 && !emb))
			continue;
		if (run_mode(st, &q, (enum ret_mode)m, emb, model, &vs, w_dense, rrf_k,
			     c->cfg.min_dense, convex, &fig[m]))
			goto out;
		done[m] = true;
	}
	/* calibration: hybrid over a range of dense weights */
	if (sweep && emb) {
		static const double ws[] = { 0.05, 0.1, 0.2, 0.3, 0.5, 0.7, 1.0 };
		printf("hybrid by dense weight (BM25 weight 1, k %.0f):\n", rrf_k);
		for (size_t i = 0; i < sizeof ws / sizeof ws[0]; i++) {
			struct figures f;
			if (run_mode(st, &q, RET_HYBRID, emb, model, &vs, ws[i], rrf_k,
				     c->cfg.min_dense, convex, &f))
				goto out;
			printf("  w_dense %.2f  nDCG@10 %.4f  Recall@100 %.4f  MRR@10 %.4f\n",
			       ws[i], f.ndcg10, f.recall100, f.mrr10);
		}
	}
	if (json) {
		json_object *o = json_object_new_object();
		json_object_object_add(o, "dataset", cli_json_string(dir));
		json_object_object_add(o, "documents", json_object_new_int64((int64_t)l.ndocs));
		json_object_object_add(o, "index_seconds", json_object_new_double(t_index));
		for (int m = 0; m < 3; m++) {
			if (!done[m])
				continue;
			json_object *x = json_object_new_object();
			json_object_object_add(x, "queries",
					       json_object_new_int64((int64_t)fig[m].nq));
			json_object_object_add(x, "ndcg@10", json_object_new_double(fig[m].ndcg10));
			json_object_object_add(x, "recall@100",
					       json_object_new_double(fig[m].recall100));
			json_object_object_add(x, "mrr@10", json_object_new_double(fig[m].mrr10));
			json_object_object_add(x, "ms_per_query",
					       json_object_new_double(fig[m].ms));
			json_object_object_add(o, ret_mode_name((enum ret_mode)m), x);
		}
		cli_json_print(o);
	} else {
		printf("%s: %zu documents indexed in %.1f s\n", dir, l.ndocs, t_index);
		printf("  mode    queries  nDCG@10  Recall@100  MRR@10  ms/query\n");
		for (int m = 0; m < 3; m++) {
			if (done[m])
				printf("  %-7s %7zu  %7.4f  %10.4f  %6.4f  %8.1f\n",
				       ret_mode_name((enum ret_mode)m), fig[m].nq, fig[m].ndcg10,
				       fig[m].recall100, fig[m].mrr10, fig[m].ms);
			else if (want[m])
				printf("  %-7s (needs an embedder: 'memex model convert', or the\n"
				       "           embedder key of the configuration)\n",
				       ret_mode_name((enum ret_mode)m));
		}
	}
	ret = CLI_OK;
out:
	store_vecset_free(&vs);
	eng_embedder_close(emb);
	store_close(st);
	for (size_t i = 0; i < q.n; i++) {
		free(q.v[i].qid);
		free(q.v[i].text);
	}
	free(q.v);
	for (size_t i = 0; i < q.nr; i++) {
		free(q.r[i].qid);
		free(q.r[i].did);
	}
	free(q.r);
	cli_tmp_index_remove(tdir);
	return ret;
}

int cmd_eval_pii(struct cli *c, int argc, char **argv); /* cmd_eval_pii.c */

int cmd_eval(struct cli *c, int argc, char **argv)
{
	if (argc >= 2 && !strcmp(argv[1], "beir"))
		return eval_beir(c, argc - 1, argv + 1);
	if (argc >= 2 && !strcmp(argv[1], "ask"))
		return cmd_eval_ask(c, argc - 1, argv + 1);
	if (argc >= 2 && !strcmp(argv[1], "pii"))
		return cmd_eval_pii(c, argc - 1, argv + 1);
	if (argc >= 2 && !strcmp(argv[1], "router"))
		return cmd_eval_router(c, argc - 1, argv + 1);
	return cli_usage(cli_command_find("eval"), true);
}
