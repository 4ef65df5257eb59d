/*
 * cmd_bench.c - memex bench: figures, not tests.
 *
 *   memex bench index [--runs N] [--json] PATH...
 *
 * Reads every file of the PATHs into memory first (so the disk is out of
 * the figure), then times what indexing does to them short of the store
 * and the embedder: parse (connectors), drop quoted text, chunk. It reports
 * the best of N runs (the machines are shared and noisy) as documents/s and
 * MB/s, overall and per document type.
 */
#include <cblas.h>
#include <dirent.h>
#include <getopt.h>
#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <math.h>
#include <time.h>
#include <unistd.h>

#include "../common/fsutil.h"
#include "../common/status.h"
#include "../connectors/conn.h"
#include "../engine/engine.h"
#include "../indexer/indexer.h"
#include "../retriever/retriever.h"
#include "../store/store.h"
#include "bench.h"
#include "cli.h"

#define BENCH_MAX_FILES 1000000
#define BENCH_KINDS	16

struct bench_file {
	char *path;
	const char *type; /* the source type it came from */
	char *data;
	size_t len;
};

struct bench_set {
	struct bench_file *v;
	size_t n, cap;
	size_t bytes;
};

struct bench_kind {
	const char *type;
	double secs;
	size_t files, docs, bytes;
};

/* CPU time of the whole process (every thread) */
static double cpu_now(void)
{
	struct timespec t;
	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t);
	return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

static int add_file(struct bench_set *s, const char *path, const char *type, size_t max)
{
	char why[128];
	if (!conn_for_file(type, path, why, sizeof why) || s->n >= BENCH_MAX_FILES)
		return 0;
	char *data = NULL;
	size_t len = 0;
	if (mx_read_file(path, max, &data, &len) || len == 0) {
		free(data);
		return 0;
	}
	if (s->n == s->cap) {
		size_t c = s->cap ? s->cap * 2 : 256;
		struct bench_file *v = realloc(s->v, c * sizeof *v);
		if (!v) {
			free(data);
			return MX_ENOMEM;
		}
		s->v = v;
		s->cap = c;
	}
	s->v[s->n++] = (struct bench_file){ strdup(path), type, data, len };
	s->bytes += len;
	return 0;
}

static int add_tree(struct bench_set *s, const char *dir, const char *type, size_t max, int depth)
{
	DIR *d = depth < 64 ? opendir(dir) : NULL;
	if (!d)
		return 0;
	struct dirent *e;
	int rc = 0;
	while (!rc && (e = readdir(d))) {
		if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, ".."))
			continue;
		char *p = mx_path_join(dir, e->d_name);
		struct stat sb;
		if (!p) {
			rc = MX_ENOMEM;
			break;
		}
		if (lstat(p, &sb) == 0 && S_ISDIR(sb.st_mode) &&
		    conn_walk_wants_dir(type, e->d_name))
			rc = add_tree(s, p, type, max, depth + 1);
		else if (S_ISREG(sb.st_mode) && conn_walk_wants_file(type, e->d_name))
			rc = add_file(s, p, type, max);
		free(p);
	}
	closedir(d);
	return rc;
}

static struct bench_kind *kind_of(struct bench_kind *k, size_t *nk, const char *type)
{
	for (size_t i = 0; i < *nk; i++)
		if (!strcmp(k[i].type, type))
			return &k[i];
	if (*nk == BENCH_KINDS)
		return &k[BENCH_KINDS - 1]; /* more types than rows: lump the rest */
	k[*nk] = (struct bench_kind){ type, 0, 0, 0, 0 };
	return &k[(*nk)++];
}

/* Parse, unquote and chunk one document and its children; counts docs. */
static size_t work_doc(const struct conn_doc *d, const struct idx_chunk_params *cp)
{
	size_t docs = 1;
	char *itext = NULL;
	size_t ilen = 0;
	struct idx_span *sp = NULL;
	size_t nsp = 0;
	if (d->nquoted && conn_doc_indexable(d, &itext, &ilen) == 0) {
		idx_chunk_text(itext, ilen, d->line_base, cp, &sp, &nsp);
		free(itext);
	} else {
		idx_chunk_text(d->text, d->text_len, d->line_base, cp, &sp, &nsp);
	}
	free(sp);
	for (size_t i = 0; i < d->nchildren; i++)
		docs += work_doc(&d->children[i], cp);
	return docs;
}

/* One run over the set; per-type figures added to k. */
static void run_once(const struct bench_set *s, const struct idx_chunk_params *cp,
		     struct bench_kind *k, size_t *nk, size_t max)
{
	for (size_t i = 0; i < s->n; i++) {
		const struct bench_file *f = &s->v[i];
		char why[128];
		double t0 = cli_now();
		size_t docs = 0;
		const char *type = "failed";
		if (!strcmp(f->type, "mbox")) {
			struct conn_mbox *mb = NULL;
			struct conn_mbox_msg m;
			if (conn_mbox_open(f->path, 0, max, &mb) == 0) {
				while (conn_mbox_next(mb, &m) == 1) {
					struct conn_doc d;
					conn_doc_init(&d);
					if (!m.too_big &&
					    conn_mail_ops.parse(f->path, m.data, m.len, &d) == 0)
						docs += work_doc(&d, cp);
					conn_doc_clear(&d);
				}
				conn_mbox_close(mb);
			}
			type = "mbox";
		} else {
			const struct conn_ops *ops =
				conn_choose(f->type, f->path, f->data, f->len, why, sizeof why);
			struct conn_doc d;
			conn_doc_init(&d);
			if (ops && ops->parse(f->path, f->data, f->len, &d) == 0) {
				docs = work_doc(&d, cp);
				type = d.type;
			}
			conn_doc_clear(&d);
		}
		struct bench_kind *kk = kind_of(k, nk, type);
		kk->secs += cli_now() - t0;
		kk->docs += docs;
		kk->files++;
		kk->bytes += f->len;
	}
}

static int bench_index(struct cli *c, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "runs", required_argument, NULL, 'r' },
		{ "json", no_argument, NULL, 'j' },
		{ NULL, 0, NULL, 0 },
	};
	size_t runs = 5;
	bool json = false;
	int opt;
	while ((opt = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		if (opt == 'r' && !cli_parse_count(optarg, 1, 100, &runs))
			continue;
		if (opt == 'j') {
			json = true;
			continue;
		}
		return cli_usage(cli_command_find("bench"), true);
	}
	if (optind >= argc)
		return cli_usage(cli_command_find("bench"), true);
	struct bench_set s = { 0 };
	int ret = CLI_OK;
	for (int i = optind; i < argc && ret == CLI_OK; i++) {
		const char *type = NULL;
		struct stat sb;
		if (conn_detect_source(argv[i], &type) || stat(argv[i], &sb) != 0) {
			cli_error("cannot read '%s' for the benchmark", argv[i]);
			ret = CLI_ERR;
		} else if (S_ISDIR(sb.st_mode)) {
			if (add_tree(&s, argv[i], type, c->cfg.max_file_size, 0))
				ret = CLI_ERR;
		} else if (add_file(&s, argv[i], type, c->cfg.max_file_size)) {
			ret = CLI_ERR;
		}
	}
	if (ret == CLI_OK && s.n == 0) {
		cli_error("no file to read in the given paths");
		ret = CLI_ERR;
	}
	if (ret != CLI_OK)
		goto out;
	struct bench_kind best[BENCH_KINDS], cur[BENCH_KINDS];
	size_t nbest = 0;
	double best_total = 0;
	for (size_t r = 0; r < runs; r++) {
		size_t ncur = 0;
		run_once(&s, &c->cfg.chunk, cur, &ncur, c->cfg.max_file_size);
		double total = 0;
		for (size_t k = 0; k < ncur; k++)
			total += cur[k].secs;
		if (r == 0 || total < best_total) {
			best_total = total;
			memcpy(best, cur, ncur * sizeof *cur);
			nbest = ncur;
		}
	}
	size_t docs = 0;
	for (size_t k = 0; k < nbest; k++)
		docs += best[k].docs;
	double mb = (double)s.bytes / 1e6;
	if (json) {
		json_object *o = json_object_new_object();
		json_object_object_add(o, "files", json_object_new_int64((int64_t)s.n));
		json_object_object_add(o, "documents", json_object_new_int64((int64_t)docs));
		json_object_object_add(o, "megabytes", json_object_new_double(mb));
		json_object_object_add(o, "runs", json_object_new_int64((int64_t)runs));
		json_object_object_add(o, "seconds", json_object_new_double(best_total));
		json_object_object_add(o, "documents_per_second",
				       json_object_new_double((double)docs / best_total));
		json_object_object_add(o, "mb_per_second", json_object_new_double(mb / best_total));
		json_object *per = json_object_new_object();
		for (size_t k = 0; k < nbest; k++) {
			json_object *x = json_object_new_object();
			json_object_object_add(x, "documents",
					       json_object_new_int64((int64_t)best[k].docs));
			json_object_object_add(x, "seconds", json_object_new_double(best[k].secs));
			json_object_object_add(
				x, "mb_per_second",
				json_object_new_double((double)best[k].bytes / 1e6 / best[k].secs));
			json_object_object_add(per, best[k].type, x);
		}
		json_object_object_add(o, "by_type", per);
		cli_json_print(o);
		goto out;
	}
	printf("bench index: %zu files, %zu documents, %.1f MB; parse + unquote + chunk, "
	       "best of %zu runs\n",
	       s.n, docs, mb, runs);
	printf("  all        %8.0f documents/s  %7.1f MB/s  (%.3f s)\n", (double)docs / best_total,
	       mb / best_total, best_total);
	for (size_t k = 0; k < nbest; k++) {
		if (!strcmp(best[k].type, "failed")) {
			printf("  (%zu files could not be parsed; 'memex index' records why)\n",
			       best[k].files);
			continue;
		}
		printf("  %-10s %8.0f documents/s  %7.1f MB/s  (%zu documents)\n", best[k].type,
		       (double)best[k].docs / best[k].secs,
		       (double)best[k].bytes / 1e6 / best[k].secs, best[k].docs);
	}
out:
	for (size_t i = 0; i < s.n; i++) {
		free(s.v[i].path);
		free(s.v[i].data);
	}
	free(s.v);
	return ret;
}

/* ===================================================================== */
/* bench search                                                          */
/* ===================================================================== */

/* xorshift64*: reproducible synthetic data */
static uint64_t rnd(uint64_t *s)
{
	*s ^= *s >> 12;
	*s ^= *s << 25;
	*s ^= *s >> 27;
	return *s * 2685821657736338717ull;
}

static long rss_kb(const char *field)
{
	FILE *f = fopen("/proc/self/status", "r");
	char line[256];
	long v = -1;
	if (!f)
		return -1;
	while (fgets(line, sizeof line, f))
		if (!strncmp(line, field, strlen(field)))
			v = strtol(line + strlen(field), NULL, 10);
	fclose(f);
	return v;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return x < y ? -1 : x > y;
}

/* A vocabulary of made-up words for the synthetic index and its queries. */
enum { NWORDS = 20000 };

static void make_words(char (*words)[16], uint64_t *seed)
{
	static const char *syl[] = { "ka",  "lo",  "mi",  "ne",	 "ru",	"sa",  "ti",
				     "vo",  "ze",  "pa",  "dor", "fen", "gil", "hap",
				     "jun", "mek", "nor", "pis", "qua", "sel" };
	for (size_t w = 0; w < NWORDS; w++) {
		int k = 2 + (int)(rnd(seed) % 3);
		words[w][0] = '\0';
		for (int j = 0; j < k; j++)
			strncat(words[w], syl[rnd(seed) % 20], 15 - strlen(words[w]));
	}
}

/* Fills the empty index st with n chunks of random text (Zipf-like words)
 * and random unit vectors of dims under model. */
static int build_synthetic(struct store *st, const char *dir, size_t n, size_t dims,
			   char (*words)[16], uint64_t *seed, int64_t *model, float *v)
{
	int64_t src = 0;
	if (store_source_add(st, dir, "bench", &src) ||
	    store_model_id(st, "bench:random", (int)dims, "random", model) || store_begin(st))
		return -1;
	char text[1024];
	for (size_t i = 0; i < n; i++) {
		size_t len = 0;
		for (int j = 0; j < 60 && len < sizeof text - 20; j++) {
			/* Zipf-like: low word ids are common */
			uint64_t r = rnd(seed) % NWORDS;
			r = r * r / NWORDS;
			len += (size_t)snprintf(text + len, sizeof text - len, "%s ", words[r]);
		}
		char p[32];
		snprintf(p, sizeof p, "d%zu", i);
		struct store_chunk ch = { .text = text, .text_len = len };
		int64_t id = 0;
		struct store_doc d = { .source_id = src,
				       .path = p,
				       .part = "",
				       .hash = "",
				       .type = "bench",
				       .title = words[i % NWORDS],
				       .status = "ok" };
		if (store_doc_put(st, &d, &ch, 1, &id))
			return -1;
		float norm = 0;
		for (size_t j = 0; j < dims; j++) {
			v[j] = (float)((double)(rnd(seed) >> 11) / 9007199254740992.0 - 0.5);
			norm += v[j] * v[j];
		}
		for (size_t j = 0; j < dims; j++)
			v[j] /= sqrtf(norm);
		if (store_vector_put(st, store_last_chunk_id(st), *model, v, (int)dims))
			return -1;
		if (i % 20000 == 19999) {
			if (store_commit(st) || store_begin(st))
				return -1;
			fprintf(stderr, "\r  %zu chunks", i + 1);
		}
	}
	fprintf(stderr, "\r\033[K");
	return store_commit(st) ? -1 : 0;
}

static int bench_search(struct cli *c, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "chunks", required_argument, NULL, 'c' },
		{ "dims", required_argument, NULL, 'd' },
		{ "queries", required_argument, NULL, 'q' },
		{ "mode", required_argument, NULL, 'm' },
		{ "index", required_argument, NULL, 'i' },
		{ "mmap", required_argument, NULL, 'M' },
		{ NULL, 0, NULL, 0 },
	};
	size_t n = 100000, dims = 512, nq = 200, mmap_mb = 4096;
	enum ret_mode mode = RET_HYBRID;
	const char *keep = NULL;
	int opt;
	(void)c;
	while ((opt = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		if (opt == 'm' && !ret_mode_parse(optarg, &mode))
			continue;
		if (opt == 'i') {
			keep = optarg;
			continue;
		}
		if ((opt == 'c' && !cli_parse_count(optarg, 100, 10000000, &n)) ||
		    (opt == 'M' && !cli_parse_count(optarg, 0, 1 << 20, &mmap_mb)) ||
		    (opt == 'd' && !cli_parse_count(optarg, 8, 4096, &dims)) ||
		    (opt == 'q' && !cli_parse_count(optarg, 1, 100000, &nq)))
			continue;
		return cli_usage(cli_command_find("bench"), true);
	}
	char dir[4096], db[4200];
	const char *tmp = getenv("TMPDIR");
	struct stat sb;
	bool reuse = keep && stat(keep, &sb) == 0;
	if (keep) {
		snprintf(db, sizeof db, "%s", keep);
		snprintf(dir, sizeof dir, "%s", keep);
		char *slash = strrchr(dir, '/');
		if (slash)
			*slash = '\0';
		else
			snprintf(dir, sizeof dir, ".");
	} else {
		snprintf(dir, sizeof dir, "%s/memex-bench-XXXXXX", tmp && *tmp ? tmp : "/tmp");
		if (!mkdtemp(dir)) {
			cli_error("cannot make a temporary folder");
			return CLI_ERR;
		}
		snprintf(db, sizeof db, "%s/index.db", dir);
	}
	struct store *st = NULL;
	struct store_vecset vs = { 0 };
	float *v = malloc(dims * sizeof *v);
	double *lat = malloc(nq * sizeof *lat);
	int ret = CLI_ERR;
	int64_t model = 0;
	uint64_t seed = 0x9e3779b97f4a7c15ull;
	char(*words)[16] = malloc(NWORDS * sizeof *words);
	if (!v || !lat || !words || store_open(db, STORE_CREATE, &st)) {
		cli_error("cannot set up the benchmark: %s",
			  st ? store_errmsg(st) : "out of memory");
		goto out;
	}
	make_words(words, &seed);
	double t_build = 0, t0 = cli_now();
	if (reuse) {
		if (store_model_id(st, "bench:random", (int)dims, "random", &model))
			goto fail;
	} else {
		fprintf(stderr,
			"bench search: building %zu chunks of random text and %zu-d vectors...\n", n,
			dims);
		if (build_synthetic(st, dir, n, dims, words, &seed, &model, v))
			goto fail;
		t_build = cli_now() - t0;
	}
	if (store_set_mmap(st, (int64_t)mmap_mb << 20))
		goto fail;
	t0 = cli_now();
	if (store_vecset_load(st, model, &vs))
		goto fail;
	double t_load = cli_now() - t0;
	if (reuse && (vs.n != n || vs.dims != (int)dims)) {
		cli_error("'%s' holds %zu vectors of %d dimensions, not %zu of %zu: give its "
			  "--chunks and --dims, or another --index",
			  keep, vs.n, vs.dims, n, dims);
		goto out;
	}
	/* the queries have a seed of their own: the same with a kept index */
	seed = 0x2545f4914f6cdd1dull;
	for (size_t i = 0; i < nq; i++) {
		char q[128];
		snprintf(q, sizeof q, "%s %s", words[rnd(&seed) % 2000], words[rnd(&seed) % 5000]);
		for (size_t j = 0; j < dims; j++)
			v[j] = (float)((double)(rnd(&seed) >> 11) / 9007199254740992.0 - 0.5);
		struct ret_params p = ret_params_default();
		p.mode = mode;
		p.question = true;
		p.query_vec = v;
		p.dims = (int)dims;
		p.model_id = model;
		p.vecs = &vs;
		struct ret_result res;
		double q0 = cli_now();
		int rc = ret_search(st, q, &p, &res);
		lat[i] = (cli_now() - q0) * 1000;
		ret_result_clear(&res);
		if (rc && rc != MX_EEMPTY)
			goto fail;
	}
	qsort(lat, nq, sizeof *lat, cmp_double);
	printf("bench search: %zu chunks, %zu-d vectors, %zu %s queries%s\n", n, dims, nq,
	       ret_mode_name(mode),
	       mode == RET_HYBRID ? " (BM25 + exact int8 scan + float32 rescoring + fusion)" :
	       mode == RET_DENSE  ? " (exact int8 scan + float32 rescoring)" :
				    "");
	if (reuse)
		printf("  index %s reused; vectors loaded in %.2f s\n", keep, t_load);
	else
		printf("  build %.1f s; vectors loaded in %.2f s\n", t_build, t_load);
	printf("  latency p50 %.1f ms, p95 %.1f ms, max %.1f ms (index mapped up to %zu MB)\n",
	       lat[nq / 2],
	       lat[(nq * 95) / 100 < nq ? (nq * 95) / 100 : nq - 1], lat[nq - 1], mmap_mb);
	/* the index file is mapped: its pages count in VmRSS but belong to the
	 * page cache (shared, clean, dropped under pressure); private memory
	 * is what the process holds itself */
	printf("  resident memory %.0f MB: %.0f MB private (the vectors' int8 copy: %.0f MB), "
	       "%.0f MB of the mapped index file\n",
	       (double)rss_kb("VmRSS:") / 1024, (double)rss_kb("RssAnon:") / 1024,
	       (double)vs.n * ((size_t)vs.dims + sizeof *vs.scale + sizeof *vs.chunk_id +
			       sizeof *vs.doc_id) / 1048576,
	       (double)rss_kb("RssFile:") / 1024);
	ret = CLI_OK;
	goto out;
fail:
	cli_error("benchmark failed: %s", store_errmsg(st));
out:
	store_vecset_free(&vs);
	store_close(st);
	free(v);
	free(lat);
	free(words);
	if (!keep) {
		cli_index_files_remove(db);
		rmdir(dir);
	}
	return ret;
}

/* ===================================================================== */
/* bench embed                                                           */
/* ===================================================================== */

/* The machine's single-precision matrix product rate, best of 3 runs of a
 * 1024 x 1024 x 1024 product (OpenBLAS on threads threads, 0: its own
 * thread count), in wall time or, with cpu_time, in CPU time, which the
 * load of a shared machine moves less. */
static double sgemm_best(int threads, bool cpu_time)
{
	enum { N = 1024 };
	float *a = malloc((size_t)N * N * sizeof *a), *b = malloc((size_t)N * N * sizeof *b),
	      *c = malloc((size_t)N * N * sizeof *c);
	double best = 0;
	if (a && b && c) {
		for (size_t i = 0; i < (size_t)N * N; i++) {
			a[i] = (float)(i % 7) * 0.1f;
			b[i] = (float)(i % 5) * 0.1f;
		}
		int was = openblas_get_num_threads();
		if (threads > 0)
			openblas_set_num_threads(threads);
		for (int r = 0; r < 4; r++) {
			double t0 = cpu_time ? cpu_now() : cli_now();
			cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, N, N, N, 1.0f, a, N, b,
				    N, 0.0f, c, N);
			double g = 2.0 * N * N * N / ((cpu_time ? cpu_now() : cli_now()) - t0) / 1e9;
			if (r > 0 && g > best) /* the first run warms up */
				best = g;
		}
		openblas_set_num_threads(was);
	}
	free(a);
	free(b);
	free(c);
	return best;
}

/* bench.h */
double bench_sgemm_gflops(int threads)
{
	return sgemm_best(threads, false);
}

static int bench_embed(struct cli *c, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "runs", required_argument, NULL, 'r' },
		{ NULL, 0, NULL, 0 },
	};
	size_t runs = 3;
	int opt;
	while ((opt = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		if (opt == 'r' && !cli_parse_count(optarg, 1, 100, &runs))
			continue;
		return cli_usage(cli_command_find("bench"), true);
	}
	if (optind + 1 < argc)
		return cli_usage(cli_command_find("bench"), true);
	struct eng_embedder *e = NULL;
	char err[256];
	if (optind < argc) {
		struct eng_params p = eng_params_default();
		if (eng_embedder_open(argv[optind], &p, &e, err, sizeof err)) {
			cli_error("cannot load '%s': %s", argv[optind], err);
			return CLI_ERR;
		}
	} else if (cli_embedder_open(c, &e)) {
		return CLI_ERR;
	}
	if (!e) {
		cli_error("no embedder: give a GGUF file or see 'memex model info'");
		return CLI_ERR;
	}
	/* 32 texts of 126 common English words: 128 tokens with [CLS] and
	 * [SEP] for a WordPiece (BERT) embedder */
	enum { NT = 32 };
	static const char *const w[] = { "the",	      "committee", "reviewed", "quarterly",
					 "budget",    "and",	   "asked",    "for",
					 "a",	      "revised",   "plan",     "before",
					 "the",	      "meeting",   "on",       "Thursday",
					 "morning",   "with",	   "several",  "open",
					 "questions", "about",	   "travel" };
	char *texts[NT] = { 0 };
	int d = eng_embedder_dims(e);
	float *out = malloc((size_t)NT * (size_t)d * sizeof *out);
	int ret = CLI_ERR;
	for (int i = 0; i < NT; i++) {
		texts[i] = malloc(2048);
		if (!texts[i])
			goto out;
		size_t len = 0;
		for (int k = 0; k < 126; k++)
			len += (size_t)snprintf(
				texts[i] + len, 2048 - len, "%s ",
				w[(size_t)(i * 7 + k * 3) % (sizeof w / sizeof w[0])]);
	}
	if (!out)
		goto out;
	double gf = sgemm_best(0, false), gf_core = sgemm_best(1, true);
	double best = 0, best_cpu = 0;
	for (size_t r = 0; r < runs; r++) {
		double t0 = cli_now(), c0 = cpu_now();
		if (eng_embed(e, (const char *const *)texts, NT, ENG_PASSAGE, out)) {
			cli_error("embedding failed: %s", eng_errmsg(e));
			goto out;
		}
		double cps = NT / (cli_now() - t0), cpc = NT / (cpu_now() - c0);
		best = cps > best ? cps : best;
		best_cpu = cpc > best_cpu ? cpc : best_cpu;
	}
	double flops = eng_embedder_flops_per_token(e) * 128;
	double achieved = best * flops / 1e9, per_core = best_cpu * flops / 1e9;
	printf("bench embed: %s (%d dims), %d texts of 128 tokens per batch, best of %zu\n",
	       eng_embedder_name(e), d, NT, runs);
	printf("  %.1f chunks/s; encoder %.1f GFLOP/s (%.2f GFLOP per chunk)\n", best, achieved,
	       flops / 1e9);
	printf("  machine sgemm (OpenBLAS, same run) %.1f GFLOP/s: the encoder reaches %.0f%% of it\n",
	       gf, gf > 0 ? 100 * achieved / gf : 0.0);
	printf("  per CPU second: %.1f chunks, %.1f GFLOP; sgemm on one core %.1f GFLOP per CPU "
	       "second: %.0f%%\n",
	       best_cpu, per_core, gf_core, gf_core > 0 ? 100 * per_core / gf_core : 0.0);
	ret = CLI_OK;
out:
	for (int i = 0; i < NT; i++)
		free(texts[i]);
	free(out);
	eng_embedder_close(e);
	return ret;
}

int cmd_bench(struct cli *c, int argc, char **argv)
{
	if (argc >= 2 && !strcmp(argv[1], "index"))
		return bench_index(c, argc - 1, argv + 1);
	if (argc >= 2 && !strcmp(argv[1], "search"))
		return bench_search(c, argc - 1, argv + 1);
	if (argc >= 2 && !strcmp(argv[1], "embed"))
		return bench_embed(c, argc - 1, argv + 1);
	if (argc >= 2 && !strcmp(argv[1], "qmat"))
		return bench_qmat(c, argc - 1, argv + 1);
	if (argc >= 2 && !strcmp(argv[1], "llm"))
		return bench_llm(c, argc - 1, argv + 1);
	return cli_usage(cli_command_find("bench"), true);
}
