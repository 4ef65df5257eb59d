/*
 * cmd_eval_ask.c - memex eval ask: measure answers on a question set.
 *
 *   memex eval ask [--mode bm25|hybrid|all] [--calibrate] [--pool N] [-v] [--json]
 *                  [--cv-abstention] [--train-abstention] [FILE...]
 *
 * FILE (default data/sample/questions.jsonl) holds one question a line:
 *   {"id", "question", "answerable": bool, "sources": [paths relative to
 *    the folder of FILE], "key": "a short string the answer must hold"}
 * The folders beside FILE (data/sample: mail, notes, docs) go into a
 * throwaway index in a temporary folder, embedded with the configured
 * embedder; files beside FILE (the question set itself, FACTS.md) stay
 * out. Each question runs through the answer path of `memex ask`. The
 * figures, per retrieval mode: how often an expected source is among the
 * answer's citations (and in the context at all), how often the
 * extractive answer holds the key fact, and the abstention's precision and
 * recall on the unanswerable questions. Several FILEs (all in one folder)
 * are run over one index and pooled: the figures of each, then of them
 * all. --calibrate searches the abstention thresholds on the (pooled) set
 * and measures them by leave-one-out. --cv-abstention measures the learned
 * abstention model (retriever/abstain.h) by leave-one-set-out next to the
 * rules; --train-abstention fits it on all the FILEs and prints the table
 * compiled into retriever/abstain.c.
 */
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <getopt.h>
#include <json-c/json.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "../common/status.h"
#include "../connectors/conn.h"
#include "../engine/chat.h"
#include "../engine/engine.h"
#include "../indexer/indexer.h"
#include "../retriever/abstain.h"
#include "../retriever/answer.h"
#include "cli.h"

#define EA_MAX_QUESTIONS 10000
#define EA_MAX_SOURCES	 8
#define EA_LINE_MAX	 (1u << 20)
#define EA_MAX_TOKENS	 128 /* of a written answer, by default */

struct ea_q {
	char *id, *question, *key;
	bool answerable;
	char *src[EA_MAX_SOURCES]; /* absolute paths */
	size_t nsrc;
	size_t file; /* which FILE of the command line it comes from */
	/* results of the last mode run */
	double coverage, cosine, sent_cosine;
	bool cited, in_ctx, key_found, abstained, asks_id, id_found, asks_typed, typed_found;
	bool entity_missing, head_missing;
	bool declined;	  /* the chat model said the data does not hold it */
	const char *kind; /* ret_answer.kind (static) */
	double slot;
	int novelty;
	double x[RET_ABST_NFEAT]; /* the learned model's features */
	size_t nctx;
	double ms; /* the answer path's wall time */
};

struct ea_set {
	struct ea_q *q;
	size_t n;
};

static void set_free(struct ea_set *s)
{
	for (size_t i = 0; i < s->n; i++) {
		free(s->q[i].id);
		free(s->q[i].question);
		free(s->q[i].key);
		for (size_t k = 0; k < s->q[i].nsrc; k++)
			free(s->q[i].src[k]);
	}
	free(s->q);
}

static const char *jstr(json_object *o, const char *key)
{
	json_object *v;
	return json_object_object_get_ex(o, key, &v) && json_object_is_type(v, json_type_string)
		       ? json_object_get_string(v)
		       : NULL;
}

/* Appends the questions of path (FILE number file) to the set; the corpus
 * folder is dir. -1 after an error. */
static int set_load(const char *path, const char *dir, size_t file, struct ea_set *s)
{
	size_t first = s->n;
	FILE *f = fopen(path, "r");
	if (!f) {
		cli_error("cannot read '%s': %s", path, strerror(errno));
		return -1;
	}
	char *line = NULL;
	size_t cap = 0, lineno = 0, len;
	bool cut;
	int rc = 0, r;
	while (!rc && (r = cli_read_line(f, EA_LINE_MAX, &line, &cap, &len, &cut)) != 0) {
		lineno++;
		if (r < 0 || cut || s->n >= EA_MAX_QUESTIONS) {
			cli_error("'%s': line %zu: too long, or too many questions", path, lineno);
			rc = -1;
			break;
		}
		if (strspn(line, " \t\r\n") == len)
			continue;
		json_object *o = json_tokener_parse(line), *ans, *srcs;
		const char *q = o ? jstr(o, "question") : NULL;
		if (!q || !json_object_object_get_ex(o, "answerable", &ans)) {
			cli_error("'%s': line %zu: not a question (needs \"question\" and "
				  "\"answerable\")",
				  path, lineno);
			json_object_put(o);
			rc = -1;
			break;
		}
		struct ea_q *v = realloc(s->q, (s->n + 1) * sizeof *v);
		if (!v) {
			json_object_put(o);
			rc = -1;
			break;
		}
		s->q = v;
		struct ea_q *e = &s->q[s->n++];
		memset(e, 0, sizeof *e);
		e->file = file;
		char idbuf[32];
		snprintf(idbuf, sizeof idbuf, "%zu", lineno);
		e->id = strdup(jstr(o, "id") ? jstr(o, "id") : idbuf);
		e->question = strdup(q);
		e->key = jstr(o, "key") ? strdup(jstr(o, "key")) : NULL;
		e->answerable = json_object_get_boolean(ans);
		if (json_object_object_get_ex(o, "sources", &srcs) &&
		    json_object_is_type(srcs, json_type_array))
			for (size_t k = 0;
			     k < json_object_array_length(srcs) && e->nsrc < EA_MAX_SOURCES; k++) {
				const char *sp =
					json_object_get_string(json_object_array_get_idx(srcs, k));
				size_t n = strlen(dir) + strlen(sp ? sp : "") + 2;
				char *full = malloc(n);
				if (full && sp) {
					snprintf(full, n, "%s/%s", dir, sp);
					e->src[e->nsrc++] = full;
				} else {
					free(full);
				}
			}
		if (!e->id || !e->question || (e->answerable && (!e->key || !e->nsrc))) {
			cli_error("'%s': line %zu: an answerable question needs \"sources\" and "
				  "\"key\"",
				  path, lineno);
			rc = -1;
		}
		json_object_put(o);
	}
	free(line);
	fclose(f);
	if (!rc && s->n == first) {
		cli_error("'%s' holds no questions", path);
		rc = -1;
	}
	return rc;
}

/* Adds every folder in dir as a source and indexes it; with an embedder,
 * embeds the chunks (its model id in *model). -1 after an error. */
static int build_index(struct cli *c, struct store *st, const char *dir, struct eng_embedder *e,
		       int64_t *model, size_t *ndocs)
{
	DIR *d = opendir(dir);
	if (!d) {
		cli_error("cannot read '%s': %s", dir, strerror(errno));
		return -1;
	}
	struct dirent *de;
	int rc = 0;
	while (!rc && (de = readdir(d))) {
		char p[8192];
		struct stat sb;
		const char *type = NULL;
		if (de->d_name[0] == '.')
			continue;
		snprintf(p, sizeof p, "%s/%s", dir, de->d_name);
		if (stat(p, &sb) || !S_ISDIR(sb.st_mode) || conn_detect_source(p, &type))
			continue;
		int64_t id;
		if (store_source_add(st, p, type, &id)) {
			cli_error("%s", store_errmsg(st));
			rc = -1;
		}
	}
	closedir(d);
	if (rc)
		return rc;
	struct idx_params ip = idx_params_default();
	ip.chunk = c->cfg.chunk;
	ip.max_file_size = c->cfg.max_file_size;
	struct indexer *ix = idx_new(st, &ip);
	struct idx_stats s = { 0 };
	int irc = ix ? idx_run(ix, NULL, &s) : MX_ENOMEM;
	if (irc && irc != MX_EPARTIAL) {
		cli_error("cannot index '%s': %s", dir, ix ? idx_errmsg(ix) : "out of memory");
		idx_free(ix);
		return -1;
	}
	*ndocs = (size_t)(s.added);
	if (e) {
		uint64_t n = 0;
		if (store_model_id(st, eng_embedder_fingerprint(e), eng_embedder_dims(e),
				   eng_embedder_name(e), model) ||
		    idx_embed(ix, e, *model, &n)) {
			cli_error("cannot embed the corpus: %s", idx_errmsg(ix));
			idx_free(ix);
			return -1;
		}
	}
	idx_free(ix);
	return 0;
}

/* Whether the key fact is in s: case and runs of white space ignored. */
static bool holds_key(const char *s, const char *key)
{
	for (; *s; s++) {
		const char *a = s, *b = key;
		while (*a && *b) {
			if (*b == ' ' && (*a == ' ' || *a == '\n' || *a == '\t')) {
				while (*a == ' ' || *a == '\n' || *a == '\t')
					a++;
				while (*b == ' ')
					b++;
				continue;
			}
			if (tolower((unsigned char)*a) != tolower((unsigned char)*b))
				break;
			a++, b++;
		}
		if (!*b)
			return true;
	}
	return false;
}

static bool is_source(const struct ea_q *q, const struct store_hit *h)
{
	char full[8192];
	snprintf(full, sizeof full, "%s%s%s", h->source_path, h->path[0] ? "/" : "", h->path);
	for (size_t k = 0; k < q->nsrc; k++)
		if (!strcmp(full, q->src[k]))
			return true;
	return false;
}

/* Runs every question in one mode; fills the per-question results. */
/* A monotonic clock in milliseconds. */
static double now_ms(void)
{
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)t.tv_sec * 1e3 + (double)t.tv_nsec / 1e6;
}

/* With a chat model ch, the written answer of question q from its context
 * a (ret_answer_generate, citations checked): what is cited, whether the
 * key fact is in it, whether the model declined (then withheld). */
static int write_answer(struct ea_q *q, struct ret_answer *a, struct chat *ch,
			const struct ret_answer_params *p)
{
	char *reply = NULL;
	int rc = ret_answer_generate(a, q->question, ch, NULL, NULL, p->ret.embedder,
				     p->min_support, &reply, NULL);
	if (rc) {
		cli_error("question %s: the chat model failed: %s", q->id,
			  a->err[0] ? a->err : mx_strerror(rc));
		free(reply);
		return -1;
	}
	q->declined = ret_answer_declines(reply);
	q->abstained |= q->declined;
	q->key_found = q->key && reply && holds_key(reply, q->key);
	/* a citation counts when the check finds it supported */
	q->cited = false;
	for (size_t k = 0; k < a->nsent; k++)
		for (size_t j = 0; j < a->nctx && a->sent[k].cite && a->sent[k].supported; j++)
			if (a->ctx[j].cite == a->sent[k].cite)
				q->cited |= is_source(q, &a->ctx[j].hit);
	free(reply);
	return 0;
}

static int run_set(struct cli *c, struct store *st, struct ea_set *s, struct eng_embedder *e,
		   int64_t model, long pool, struct chat *ch, size_t max_tokens, bool verbose)
{
	for (size_t i = 0; i < s->n; i++) {
		struct ea_q *q = &s->q[i];
		struct ret_answer_params p = ret_answer_params_default(e != NULL);
		struct ret_answer a;
		p.ret.embedder = e;
		p.ret.model_id = model;
		p.ret.mode = e ? RET_HYBRID : RET_BM25;
		p.ret.w_dense = c->cfg.w_dense;
		p.ret.min_dense = c->cfg.min_dense;
		p.ret.convex = c->cfg.convex;
		p.ret.rrf_k = c->cfg.rrf_k;
		p.no_abstain = true; /* the answer is measured on its own */
		if (pool >= 0)
			p.pool = (size_t)pool;
		if (ch)
			cli_ask_fit_window(ch, max_tokens, &p);
		double t0 = now_ms();
		int rc = ret_answer_run(st, q->question, &p, &a);
		q->ms = now_ms() - t0;
		if (rc && rc != MX_EEMPTY) {
			cli_error("question %s: %s", q->id, a.err[0] ? a.err : store_errmsg(st));
			ret_answer_clear(&a);
			return -1;
		}
		q->coverage = a.coverage;
		q->cosine = a.cosine;
		q->sent_cosine = a.sent_cosine;
		q->abstained = ret_answer_abstains(&p, &a);
		q->nctx = a.nctx;
		q->asks_id = a.asks_id;
		q->id_found = a.id_found;
		q->asks_typed = a.asks_typed;
		q->typed_found = a.typed_found;
		q->entity_missing = a.entity_missing;
		q->head_missing = a.head_missing;
		q->kind = a.kind;
		q->slot = a.slot;
		q->novelty = a.novelty;
		ret_abstain_features(&a, q->x);
		q->cited = q->in_ctx = q->key_found = false;
		for (size_t k = 0; k < a.nctx; k++)
			q->in_ctx |= is_source(q, &a.ctx[k].hit);
		for (size_t k = 0; k < a.nsent; k++) {
			q->cited |= is_source(q, &a.ctx[a.sent[k].chunk].hit);
			if (q->key)
				q->key_found |= holds_key(a.sent[k].text, q->key);
		}
		q->declined = false;
		if (ch && a.nctx) {
			t0 = now_ms();
			if (write_answer(q, &a, ch, &p)) {
				ret_answer_clear(&a);
				return -1;
			}
			q->ms += now_ms() - t0;
		}
		if (verbose) {
			char safe[512];
			fprintf(stderr,
				"%-4s %s coverage %.2f cosine %5.2f sentence %5.2f %-7s slot %5.2f new %2d %s ",
				q->id, q->answerable ? "A" : "U", q->coverage, q->cosine,
				q->sent_cosine, a.kind ? a.kind : "-", a.slot, a.novelty,
				q->asks_id	? (q->id_found ? "id found  " : "id absent ")
				: q->asks_typed ? (q->typed_found ? "kind found" : "kind lacks")
						: "          ");
			fprintf(stderr, "%s",
				q->entity_missing ? "name absent "
				: q->head_missing ? "what absent "
						  : "            ");
			fprintf(stderr, "%s%s%s%s %s\n", q->declined ? "declined " : "",
				q->abstained ? "abstain " : "answer  ",
				q->answerable ? (q->cited ? "cited " : "----- ") : "",
				q->answerable ? (q->key_found ? "key " : "--- ") : "",
				cli_safe(q->question, safe, sizeof safe));
		}
		ret_answer_clear(&a);
	}
	return 0;
}

/* ---- figures and calibration --------------------------------------------- */

struct ea_fig {
	size_t na, nu;		   /* answerable, unanswerable */
	size_t cited, in_ctx, key; /* over answerable, abstention applied */
	size_t cited_all, key_all; /* without abstention */
	size_t abst_u, abst_a;	   /* unanswerable / answerable abstained */
	size_t decl_u, decl_a;	   /* of those, declined by the chat model */
	double ms_sum, ms_max;	   /* the answer path's time, all questions */
};

static bool decide(const struct ea_q *q, double tc, double tk, bool emb)
{
	struct ret_answer_params p = ret_answer_params_default(emb);
	struct ret_answer a = { .nctx = q->nctx,
				.coverage = q->coverage,
				.cosine = q->cosine,
				.asks_id = q->asks_id,
				.id_found = q->id_found,
				.asks_typed = q->asks_typed,
				.typed_found = q->typed_found,
				.entity_missing = q->entity_missing,
				.head_missing = q->head_missing,
				.kind = q->kind,
				.slot = q->slot,
				.novelty = q->novelty };
	p.min_coverage = tc;
	p.min_cos = tk;
	return ret_answer_abstains(&p, &a);
}

/* The figures of the questions of FILE number file (SIZE_MAX: all). */
static void figures(const struct ea_set *s, size_t file, struct ea_fig *f)
{
	memset(f, 0, sizeof *f);
	for (size_t i = 0; i < s->n; i++) {
		const struct ea_q *q = &s->q[i];
		if (file != SIZE_MAX && q->file != file)
			continue;
		f->ms_sum += q->ms;
		if (q->ms > f->ms_max)
			f->ms_max = q->ms;
		if (!q->answerable) {
			f->nu++;
			f->abst_u += q->abstained;
			f->decl_u += q->declined;
			continue;
		}
		f->na++;
		f->cited_all += q->cited;
		f->key_all += q->key_found;
		f->abst_a += q->abstained;
		f->decl_a += q->declined;
		if (!q->abstained) {
			f->cited += q->cited;
			f->in_ctx += q->in_ctx;
			f->key += q->key_found;
		}
	}
}

/* The goals of the answers (issue #6): at least 90% of answerable
 * questions answered (and cited), at least 80% of unanswerable ones
 * withheld. */
#define GOAL_ANSWERED 0.90
#define GOAL_WITHHELD 0.80

static double goal_margin(double a, double u, double *ans, double *abst);

/* How well thresholds tc, tk meet both goals over the questions but skip
 * (SIZE_MAX: none): the smaller of the two margins, answerable answered
 * share minus GOAL_ANSWERED and unanswerable withheld share minus
 * GOAL_WITHHELD, plus a hundredth of the balanced accuracy to tell apart
 * thresholds whose smaller margin is the same. The shares answered and
 * withheld go to *ans and *abst when those are not NULL. */
static double goal_score(const struct ea_set *s, double tc, double tk, bool emb, size_t skip,
			 size_t skip_file, double *ans, double *abst)
{
	double ra = 0, ru = 0, na = 0, nu = 0;
	for (size_t i = 0; i < s->n; i++) {
		if (i == skip || s->q[i].file == skip_file)
			continue;
		bool ab = decide(&s->q[i], tc, tk, emb);
		if (s->q[i].answerable) {
			na++;
			ra += !ab;
		} else {
			nu++;
			ru += ab;
		}
	}
	return goal_margin(na ? ra / na : 1, nu ? ru / nu : 1, ans, abst);
}

/* The score of goal_score from the shares answered (a) and withheld (u). */
static double goal_margin(double a, double u, double *ans, double *abst)
{
	if (ans)
		*ans = a;
	if (abst)
		*abst = u;
	double m = a - GOAL_ANSWERED < u - GOAL_WITHHELD ? a - GOAL_ANSWERED : u - GOAL_WITHHELD;
	return m + 0.01 * (0.5 * a + 0.5 * u);
}

/* The grids: coverage 0, 0.01, ..., 1; cosine 0.30, 0.31, ..., 0.90, then
 * none (no cosine rule). */
#define GRID_C	     101
#define GRID_K	     62
#define GRID_C_AT(i) ((i)*0.01)
#define GRID_K_AT(i) ((i) == GRID_K - 1 ? 2.0 : 0.3 + (i)*0.01)

/* The middle of the run of grid points around at whose value is best
 * (within 1e-12); v holds n values. */
static int plateau_mid(const double *v, int n, int at, double best)
{
	int lo = at, hi = at;
	while (lo > 0 && v[lo - 1] >= best - 1e-12)
		lo--;
	while (hi + 1 < n && v[hi + 1] >= best - 1e-12)
		hi++;
	return (lo + hi) / 2;
}

/* The best thresholds on the set without question skip: a grid over
 * coverage (and cosine with an embedder). Of equally good thresholds the
 * one in the middle of its plateau is taken, each way (the largest
 * margin to the questions on either side), not the one at its edge. */
static void grid(const struct ea_set *s, bool emb, size_t skip, size_t skip_file, double *tc,
		 double *tk)
{
	static double v[GRID_C][GRID_K];
	double best = -1, col[GRID_C > GRID_K ? GRID_C : GRID_K];
	int bc = 0, bk = GRID_K - 1, nk = emb ? GRID_K : 1;
	for (int ic = 0; ic < GRID_C; ic++)
		for (int ik = 0; ik < nk; ik++) {
			int k = emb ? ik : GRID_K - 1;
			v[ic][k] = goal_score(s, GRID_C_AT(ic), GRID_K_AT(k), emb, skip, skip_file,
					      NULL, NULL);
			if (v[ic][k] > best + 1e-12) {
				best = v[ic][k];
				bc = ic;
				bk = k;
			}
		}
	for (int ic = 0; ic < GRID_C; ic++)
		col[ic] = v[ic][bk];
	bc = plateau_mid(col, GRID_C, bc, best);
	if (emb) {
		for (int ik = 0; ik < GRID_K; ik++)
			col[ik] = v[bc][ik];
		/* "none" is the end of the cosine's run, not a point of it */
		int mid = plateau_mid(col, GRID_K - 1, bk < GRID_K - 1 ? bk : GRID_K - 2, best);
		if (bk < GRID_K - 1 || col[mid] >= best - 1e-12)
			bk = bk < GRID_K - 1 ? mid : bk;
	}
	*tc = GRID_C_AT(bc);
	*tk = GRID_K_AT(bk);
}

static void pct(char *buf, size_t n, size_t a, size_t b)
{
	snprintf(buf, n, "%zu/%zu (%.1f%%)", a, b, b ? 100.0 * (double)a / (double)b : 0.0);
}

static json_object *fig_json(const struct ea_fig *f)
{
	json_object *o = json_object_new_object();
	json_object_object_add(o, "answerable", json_object_new_int64((int64_t)f->na));
	json_object_object_add(o, "unanswerable", json_object_new_int64((int64_t)f->nu));
	json_object_object_add(o, "source_cited", json_object_new_int64((int64_t)f->cited));
	json_object_object_add(o, "source_in_context", json_object_new_int64((int64_t)f->in_ctx));
	json_object_object_add(o, "key_fact", json_object_new_int64((int64_t)f->key));
	json_object_object_add(o, "source_cited_no_abstention",
			       json_object_new_int64((int64_t)f->cited_all));
	json_object_object_add(o, "key_fact_no_abstention",
			       json_object_new_int64((int64_t)f->key_all));
	json_object_object_add(o, "unanswerable_abstained",
			       json_object_new_int64((int64_t)f->abst_u));
	json_object_object_add(o, "answerable_abstained",
			       json_object_new_int64((int64_t)f->abst_a));
	json_object_object_add(o, "unanswerable_declined",
			       json_object_new_int64((int64_t)f->decl_u));
	json_object_object_add(o, "answerable_declined", json_object_new_int64((int64_t)f->decl_a));
	size_t ab = f->abst_u + f->abst_a;
	json_object_object_add(o, "abstention_precision",
			       json_object_new_double(ab ? (double)f->abst_u / (double)ab : 0));
	json_object_object_add(
		o, "abstention_recall",
		json_object_new_double(f->nu ? (double)f->abst_u / (double)f->nu : 0));
	size_t nq = f->na + f->nu;
	json_object_object_add(o, "ms_per_question",
			       json_object_new_double(nq ? f->ms_sum / (double)nq : 0));
	json_object_object_add(o, "ms_max", json_object_new_double(f->ms_max));
	return o;
}

static void fig_print(const char *mode, const struct ea_fig *f)
{
	char a[64], b[64], k[64], u[64], ca[64], ka[64];
	pct(a, sizeof a, f->cited, f->na);
	pct(b, sizeof b, f->in_ctx, f->na);
	pct(k, sizeof k, f->key, f->na);
	pct(u, sizeof u, f->abst_u, f->nu);
	pct(ca, sizeof ca, f->cited_all, f->na);
	pct(ka, sizeof ka, f->key_all, f->na);
	size_t ab = f->abst_u + f->abst_a;
	printf("%s:\n", mode);
	printf("  expected source cited     %s  (in the context: %s)\n", a, b);
	printf("  key fact in the answer    %s\n", k);
	printf("  without abstention        source cited %s, key fact %s\n", ca, ka);
	printf("  unanswerable abstained    %s  (recall)\n", u);
	printf("  answerable abstained      %zu; abstention precision %.1f%%\n", f->abst_a,
	       ab ? 100.0 * (double)f->abst_u / (double)ab : 0.0);
	if (f->decl_u || f->decl_a)
		printf("  declined by the model     %zu unanswerable, %zu answerable\n", f->decl_u,
		       f->decl_a);
	size_t nq = f->na + f->nu;
	printf("  time per question         %.0f ms mean, %.0f ms at most\n",
	       nq ? f->ms_sum / (double)nq : 0.0, f->ms_max);
}

/* Calibrates on the whole set and by leave-one-out; prints both. */
static json_object *calibrate(struct ea_set *s, bool emb, bool json)
{
	double tc, tk;
	grid(s, emb, SIZE_MAX, SIZE_MAX, &tc, &tk);
	/* leave-one-out: each question decided by thresholds fit without it */
	size_t ok_a = 0, ok_u = 0, na = 0, nu = 0;
	for (size_t i = 0; i < s->n; i++) {
		double c, k;
		grid(s, emb, i, SIZE_MAX, &c, &k);
		bool ab = decide(&s->q[i], c, k, emb);
		if (s->q[i].answerable) {
			na++;
			ok_a += !ab;
		} else {
			nu++;
			ok_u += ab;
		}
	}
	if (!json) {
		printf("  calibrated on all: coverage >= %.2f", tc);
		if (emb && tk <= 1)
			printf(" or cosine >= %.3f", tk);
		double sa, su;
		goal_score(s, tc, tk, emb, SIZE_MAX, SIZE_MAX, &sa, &su);
		printf(" (answerable answered %.1f%%, unanswerable withheld %.1f%%)\n", 100 * sa,
		       100 * su);
		printf("  leave-one-out: answerable answered %zu/%zu, unanswerable abstained "
		       "%zu/%zu\n",
		       ok_a, na, ok_u, nu);
	}
	json_object *o = json_object_new_object();
	json_object_object_add(o, "min_coverage", json_object_new_double(tc));
	json_object_object_add(o, "min_cos", emb && tk <= 1 ? json_object_new_double(tk) : NULL);
	json_object_object_add(o, "loo_answerable_answered", json_object_new_int64((int64_t)ok_a));
	json_object_object_add(o, "loo_unanswerable_abstained",
			       json_object_new_int64((int64_t)ok_u));
	return o;
}

/* ---- the learned abstention model (abstain.h) ----------------------------- */

#define LR_L2	1.0 /* the fit's L2 weight (standardised features; few questions) */
#define LR_GRID 101 /* thresholds on p: 0, 0.01, ..., 1 */

static bool lr_decide(const struct ea_q *q, const struct ret_abst_model *m)
{
	return !q->nctx || ret_abstain_prob(m->w, q->x) < m->min_p;
}

/* goal_score for the model m over the questions not of FILE skip_file,
 * but counting an answerable question as answered only when the answer
 * cites an expected source (the goal is citing it). */
static double lr_score(const struct ea_set *s, const struct ret_abst_model *m, size_t skip_file)
{
	double ra = 0, ru = 0, na = 0, nu = 0;
	for (size_t i = 0; i < s->n; i++) {
		if (s->q[i].file == skip_file)
			continue;
		bool ab = lr_decide(&s->q[i], m);
		if (s->q[i].answerable) {
			na++;
			ra += !ab && s->q[i].cited;
		} else {
			nu++;
			ru += ab;
		}
	}
	return goal_margin(na ? ra / na : 1, nu ? ru / nu : 1, NULL, NULL);
}

/* Fits the model on the questions not of FILE skip_file (SIZE_MAX: all).
 * The labels: "answer" for an answerable question whose expected source
 * the answer cites, "withhold" for an unanswerable one; an answerable
 * question answered from other sources is left out (either decision fails
 * it). Then the threshold on p that best meets the goals on all those
 * files' questions (lr_score; the middle of its plateau). -1 when
 * there is nothing to fit or no memory. */
static int lr_train(const struct ea_set *s, size_t skip_file, struct ret_abst_model *m)
{
	double *x = malloc((s->n ? s->n : 1) * RET_ABST_NFEAT * sizeof *x);
	int *y = malloc((s->n ? s->n : 1) * sizeof *y);
	size_t n = 0;
	int rc = -1;
	if (!x || !y) {
		cli_error("out of memory");
		goto out;
	}
	for (size_t i = 0; i < s->n; i++) {
		const struct ea_q *q = &s->q[i];
		if (q->file == skip_file || !q->nctx || (q->answerable && !q->cited))
			continue;
		memcpy(x + n * RET_ABST_NFEAT, q->x, sizeof q->x);
		y[n++] = q->answerable;
	}
	if (ret_abstain_fit(x, y, n, LR_L2, m->w)) {
		cli_error("no questions to learn the abstention from");
		goto out;
	}
	double v[LR_GRID], best = -2;
	int at = 0;
	for (int t = 0; t < LR_GRID; t++) {
		m->min_p = t * 0.01;
		v[t] = lr_score(s, m, skip_file);
		if (v[t] > best + 1e-12) {
			best = v[t];
			at = t;
		}
	}
	m->min_p = plateau_mid(v, LR_GRID, at, best) * 0.01;
	rc = 0;
out:
	free(x);
	free(y);
	return rc;
}

/* The three abstentions' counts on some questions. */
struct lr_cv {
	size_t na, nu;
	size_t cited[3], withheld[3]; /* rules as set, rules re-calibrated, learned */
};

static void lr_cv_add(struct lr_cv *c, const struct ea_q *q, const bool ab[3])
{
	if (q->answerable)
		c->na++;
	else
		c->nu++;
	for (int k = 0; k < 3; k++) {
		if (q->answerable)
			c->cited[k] += !ab[k] && q->cited;
		else
			c->withheld[k] += ab[k];
	}
}

static json_object *lr_cv_json(const char *name, const struct lr_cv *c, bool json)
{
	static const char *const what[3] = { "rules", "rules_recalibrated", "learned" };
	static const char *const label[3] = { "rules as set", "rules re-calibrated",
					      "learned model" };
	json_object *o = json_object_new_object();
	json_object_object_add(o, "set", cli_json_string(name));
	json_object_object_add(o, "answerable", json_object_new_int64((int64_t)c->na));
	json_object_object_add(o, "unanswerable", json_object_new_int64((int64_t)c->nu));
	if (!json)
		printf("  %s:\n", name);
	for (int k = 0; k < 3; k++) {
		json_object *f = json_object_new_object();
		json_object_object_add(f, "source_cited",
				       json_object_new_int64((int64_t)c->cited[k]));
		json_object_object_add(f, "unanswerable_abstained",
				       json_object_new_int64((int64_t)c->withheld[k]));
		json_object_object_add(o, what[k], f);
		if (!json) {
			char a[64], u[64];
			pct(a, sizeof a, c->cited[k], c->na);
			pct(u, sizeof u, c->withheld[k], c->nu);
			printf("    %-20s source cited %-16s unanswerable abstained %s\n", label[k],
			       a, u);
		}
	}
	return o;
}

/* Leave-one-set-out over the FILEs: each file's questions decided by the
 * rules as compiled in, by the rules' thresholds calibrated on the other
 * files, and by the model fit (and its threshold calibrated) on the other
 * files; each file's figures, then pooled. */
static json_object *lr_cross_validate(const struct ea_set *s, bool emb, size_t nfiles,
				      const char *const *files, bool json)
{
	json_object *arr = json_object_new_array();
	struct lr_cv all = { 0 };
	if (!json)
		printf("  abstention, leave one set out (train on the others, test on it):\n");
	for (size_t fi = 0; fi < nfiles; fi++) {
		struct lr_cv c = { 0 };
		struct ret_abst_model m;
		double tc, tk;
		grid(s, emb, SIZE_MAX, fi, &tc, &tk);
		if (lr_train(s, fi, &m)) {
			json_object_put(arr);
			return NULL;
		}
		for (size_t i = 0; i < s->n; i++) {
			const struct ea_q *q = &s->q[i];
			if (q->file != fi)
				continue;
			bool ab[3] = { q->abstained, decide(q, tc, tk, emb), lr_decide(q, &m) };
			lr_cv_add(&c, q, ab);
			lr_cv_add(&all, q, ab);
		}
		json_object_array_add(arr, lr_cv_json(files[fi], &c, json));
	}
	json_object_array_add(arr, lr_cv_json("all sets pooled", &all, json));
	return arr;
}

/* Fits the model on all the questions and prints it as abstain.c's table. */
static json_object *lr_train_all(const struct ea_set *s, bool emb, bool json)
{
	struct ret_abst_model m;
	if (lr_train(s, SIZE_MAX, &m))
		return NULL;
	json_object *o = json_object_new_object(), *w = json_object_new_array();
	for (size_t k = 0; k < RET_ABST_NW; k++)
		json_object_array_add(w, json_object_new_double(m.w[k]));
	json_object_object_add(o, "w", w);
	json_object_object_add(o, "min_p", json_object_new_double(m.min_p));
	if (!json) {
		printf("  learned abstention (retriever/abstain.c, model_%s):\n"
		       "\t.w = { ",
		       emb ? "hybrid" : "bm25");
		for (size_t k = 0; k < RET_ABST_NW; k++)
			printf("%.4f%s", m.w[k], k + 1 < RET_ABST_NW ? ", " : " },\n");
		printf("\t.min_p = %.2f,\n", m.min_p);
	}
	return o;
}

/* ---- the command ------------------------------------------------------- */

int cmd_eval_ask(struct cli *c, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "mode", required_argument, NULL, 'm' },
		{ "json", no_argument, NULL, 'j' },
		{ "calibrate", no_argument, NULL, 'c' },
		{ "verbose", no_argument, NULL, 'v' },
		{ "pool", required_argument, NULL, 'p' },
		{ "cv-abstention", no_argument, NULL, 'X' },
		{ "train-abstention", no_argument, NULL, 'T' },
		{ "model", required_argument, NULL, 'M' },
		{ "max-tokens", required_argument, NULL, 'K' },
		{ NULL, 0, NULL, 0 },
	};
	long pool = -1;
	size_t max_tokens = EA_MAX_TOKENS;
	const char *mode = NULL, *chat_model = NULL;
	struct chat *ch = NULL;
	bool json = false, calib = false, verbose = false, cv = false, train = false;
	int opt;
	while ((opt = getopt_long(argc, argv, "v", opts, NULL)) != -1) {
		if (opt == 'm')
			mode = optarg;
		else if (opt == 'j')
			json = true;
		else if (opt == 'c')
			calib = true;
		else if (opt == 'v')
			verbose = true;
		else if (opt == 'X')
			cv = true;
		else if (opt == 'T')
			train = true;
		else if (opt == 'M')
			chat_model = optarg;
		else if (opt == 'K') {
			if (cli_parse_count(optarg, 1, 4096, &max_tokens)) {
				cli_error("--max-tokens takes a number from 1 to 4096, not '%s'",
					  optarg);
				return CLI_USAGE;
			}
		} else if (opt == 'p') {
			size_t n;
			if (cli_parse_count(optarg, 0, 1000, &n)) {
				cli_error("--pool takes a number of documents from 0 to 1000, not "
					  "'%s'",
					  optarg);
				return CLI_USAGE;
			}
			pool = (long)n;
		} else
			return cli_usage(cli_command_find("eval"), true);
	}
	if (mode && strcmp(mode, "bm25") && strcmp(mode, "hybrid") && strcmp(mode, "all")) {
		cli_error("--mode takes bm25, hybrid or all, not '%s'", mode);
		return CLI_USAGE;
	}
	if (chat_model && (calib || cv || train)) {
		cli_error("--model measures the written answers as they are; --calibrate, "
			  "--cv-abstention and --train-abstention fit the extractive rules: run "
			  "them without it");
		return CLI_USAGE;
	}
	if (cv && argc - optind < 2) {
		cli_error(
			"--cv-abstention leaves one question set out at a time: give two FILEs or "
			"more");
		return CLI_USAGE;
	}
	static const char *const dflt[] = { "data/sample/questions.jsonl" };
	const char *const *files = optind < argc ? (const char *const *)argv + optind : dflt;
	size_t nfiles = optind < argc ? (size_t)(argc - optind) : 1;
	const char *file = files[0];
	char *abs = NULL, *dir = NULL;
	char tdir[4096] = "", dbp[4200] = "";
	struct ea_set set = { 0 };
	struct eng_embedder *emb = NULL;
	struct store *st = NULL;
	json_object *out = NULL;
	int ret = CLI_ERR;
	/* every FILE's folder must be the first one's: one corpus, one index */
	for (size_t i = 0; i < nfiles; i++) {
		free(abs);
		if (!(abs = cli_abspath(files[i])))
			goto out;
		*strrchr(abs, '/') = '\0'; /* cli_abspath's result is absolute */
		if (!dir) {
			dir = abs;
			abs = NULL;
		} else if (strcmp(dir, abs)) {
			cli_error("'%s' is not in the folder of '%s': the question sets must share "
				  "one corpus",
				  files[i], file);
			goto out;
		}
		free(abs);
		if (!(abs = cli_abspath(files[i])) || set_load(abs, dir, i, &set))
			goto out;
	}
	if ((!mode || strcmp(mode, "bm25")) && cli_embedder_open(c, &emb))
		goto out;
	if (mode && !strcmp(mode, "hybrid") && !emb) {
		cli_error("--mode hybrid needs an embedder ('make model', or the embedder key of "
			  "the configuration)");
		ret = CLI_USAGE;
		goto out;
	}
	if (chat_model && cli_chat_open(c, chat_model, false, max_tokens, &ch))
		goto out;
	if (cli_tmp_index_make(tdir, sizeof tdir, dbp, sizeof dbp))
		goto out;
	if (store_open(dbp, STORE_CREATE, &st)) {
		cli_error("cannot make the evaluation index: %s", store_errmsg(st));
		goto out;
	}
	int64_t model = 0;
	size_t ndocs = 0;
	if (!json)
		fprintf(stderr, "indexing %s%s...\n", dir, emb ? " and embedding it" : "");
	if (build_index(c, st, dir, emb, &model, &ndocs))
		goto out;
	for (size_t fi = 0; fi < nfiles && !json; fi++) {
		size_t n = 0, na = 0;
		for (size_t i = 0; i < set.n; i++)
			if (set.q[i].file == fi) {
				n++;
				na += set.q[i].answerable;
			}
		printf("%s: %zu questions (%zu answerable, %zu unanswerable) over %zu documents\n",
		       files[fi], n, na, n - na, ndocs);
	}
	out = json_object_new_object();
	json_object_object_add(out, "file", cli_json_string(file));
	json_object *jfiles = json_object_new_array();
	json_object_object_add(out, "files", jfiles);
	for (size_t fi = 0; fi < nfiles; fi++) {
		json_object *o = json_object_new_object();
		json_object_object_add(o, "file", cli_json_string(files[fi]));
		json_object_array_add(jfiles, o);
	}
	json_object_object_add(out, "questions", json_object_new_int64((int64_t)set.n));
	json_object_object_add(out, "documents", json_object_new_int64((int64_t)ndocs));
	/* BM25 alone, then hybrid with the embedder */
	for (int m = 0; m < 2; m++) {
		bool use_emb = m == 1;
		if (use_emb && !emb)
			continue;
		if (mode && strcmp(mode, "all") && strcmp(mode, use_emb ? "hybrid" : "bm25"))
			continue;
		if (run_set(c, st, &set, use_emb ? emb : NULL, model, pool, ch, max_tokens,
			    verbose))
			goto out;
		struct ea_fig f;
		char name[4400];
		/* each FILE's figures when there are several, then all of them */
		for (size_t fi = 0; fi < nfiles && nfiles > 1; fi++) {
			figures(&set, fi, &f);
			snprintf(name, sizeof name, "%s%s%s%s%s, %s", use_emb ? "hybrid (" : "bm25",
				 use_emb ? eng_embedder_name(emb) : "", use_emb ? ")" : "",
				 ch ? ", written by " : "", ch ? eng_llm_arch(chat_llm(ch)) : "",
				 files[fi]);
			json_object_object_add(json_object_array_get_idx(jfiles, fi),
					       use_emb ? "hybrid" : "bm25", fig_json(&f));
			if (!json)
				fig_print(name, &f);
		}
		figures(&set, SIZE_MAX, &f);
		snprintf(name, sizeof name, "%s%s%s%s%s%s", use_emb ? "hybrid (" : "bm25",
			 use_emb ? eng_embedder_name(emb) : "", use_emb ? ")" : "",
			 ch ? ", written by " : "", ch ? eng_llm_arch(chat_llm(ch)) : "",
			 nfiles > 1 ? ", all sets pooled" : "");
		json_object *fo = fig_json(&f);
		if (!json)
			fig_print(name, &f);
		if (calib)
			json_object_object_add(fo, "calibration", calibrate(&set, use_emb, json));
		if (cv) {
			json_object *o = lr_cross_validate(&set, use_emb, nfiles, files, json);
			if (!o) {
				json_object_put(fo);
				goto out;
			}
			json_object_object_add(fo, "abstention_cv", o);
		}
		if (train) {
			json_object *o = lr_train_all(&set, use_emb, json);
			if (!o) {
				json_object_put(fo);
				goto out;
			}
			json_object_object_add(fo, "abstention_model", o);
		}
		json_object_object_add(out, use_emb ? "hybrid" : "bm25", fo);
	}
	if (json)
		cli_json_print(json_object_get(out));
	ret = CLI_OK;
out:
	json_object_put(out);
	store_close(st);
	chat_close(ch);
	eng_embedder_close(emb);
	set_free(&set);
	cli_tmp_index_remove(tdir);
	free(abs);
	free(dir);
	return ret;
}
