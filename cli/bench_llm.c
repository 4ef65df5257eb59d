/*
 * bench_llm.c - memex bench qmat: the chat model's matrix products alone.
 *
 *   memex bench qmat [--shape S] [--type T,...] [--kernels K,...] [--threads N]
 *                    [--runs N]
 *   memex bench llm [--threads N] [--runs N] MODEL
 *
 * 'bench llm' decodes at the width params.decode_threads takes from
 * MEMEX_DECODE_THREADS (adaptive when unset) and prints the chooser's
 * counters and the mean tokens/s besides the median.
 *
 * Builds random weights of a real model's shapes (every projection of
 * every layer, and the output head) and runs them the way a forward pass
 * does, on the engine's thread pool, each product split by rows:
 *   decode   one token: each matrix once against one activation vector;
 *            tokens/s, and the weight bytes streamed per second as a share
 *            of the machine's read bandwidth (the roofline of decode);
 *   prefill  128 and 512 tokens at once (the head for the last one only,
 *            as llama.cpp does); tokens/s and GFLOP/s (2 x weights x
 *            tokens) as a share of sgemm.
 * Read bandwidth, copy bandwidth and sgemm are measured in the same run
 * (the machine is shared; ratios are what compare across runs). Attention,
 * norms and activations are not included: that is 'bench llm', which
 * runs a whole model (engine/llm.h) the same way.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../engine/gguf.h"
#include "../engine/llm.h"
#include "../engine/qmat.h"
#include "../engine/quant.h"
#include "../engine/threadpool.h"
#include "bench.h"
#include "cli.h"

enum { BP_MAX = 16 };

/* ===================================================================== */
/* threads: the engine's pool (engine/threadpool.h)                      */
/* ===================================================================== */

/* [*a, *b) of 0..n for thread tid of nth, in multiples of m */
static void bsplit(uint64_t n, int tid, int nth, uint64_t m, uint64_t *a, uint64_t *b)
{
	uint64_t chunks = (n + m - 1) / m;
	uint64_t c0 = chunks * (uint64_t)tid / (uint64_t)nth,
		 c1 = chunks * (uint64_t)(tid + 1) / (uint64_t)nth;
	*a = c0 * m < n ? c0 * m : n;
	*b = c1 * m < n ? c1 * m : n;
}

/* ===================================================================== */
/* memory bandwidth                                                      */
/* ===================================================================== */

typedef uint64_t bench_v2u __attribute__((vector_size(16)));

struct bw_job {
	uint8_t *buf;
	size_t off, len; /* the chunk this pass works on */
	bool copy;
	uint64_t sink[BP_MAX];
};

static void bw_fn(void *arg, int tid, int nth)
{
	struct bw_job *j = arg;
	uint64_t a, b;
	if (j->copy) {
		size_t half = j->len / 2;
		bsplit(half, tid, nth, 4096, &a, &b);
		memcpy(j->buf + j->off + half + a, j->buf + j->off + a, b - a);
		return;
	}
	bsplit(j->len, tid, nth, 4096, &a, &b);
	const uint8_t *p = j->buf + j->off;
	bench_v2u s0 = { 0, 0 }, s1 = s0, s2 = s0, s3 = s0;
	for (size_t i = a; i < b; i += 64) {
		bench_v2u v0, v1, v2, v3;
		memcpy(&v0, p + i, 16);
		memcpy(&v1, p + i + 16, 16);
		memcpy(&v2, p + i + 32, 16);
		memcpy(&v3, p + i + 48, 16);
		s0 += v0;
		s1 += v1;
		s2 += v2;
		s3 += v3;
	}
	s0 += s1 + s2 + s3;
	j->sink[tid] = s0[0] + s0[1];
}

/* Read and copy bandwidth (GB/s; a copy counts its bytes read and written)
 * over 512 MB, far beyond the caches, in 32 chunks of 16 MB: each chunk's
 * best time over 5 passes (the first warms up), summed, as for the
 * products. */
static int bench_bandwidth(int nth, double *read_gbs, double *copy_gbs)
{
	enum { CHUNKS = 32, PASSES = 5 };
	const size_t chunk = (size_t)16 << 20;
	struct bw_job j = { .len = chunk };
	struct eng_pool *p = NULL;
	double brd[CHUNKS], bcp[CHUNKS];
	j.buf = malloc(chunk * CHUNKS);
	if (!j.buf)
		return -1;
	memset(j.buf, 1, chunk * CHUNKS);
	if (eng_pool_new(nth, &p)) {
		free(j.buf);
		return -1;
	}
	for (int c = 0; c < CHUNKS; c++)
		brd[c] = bcp[c] = 1e300;
	for (int r = 0; r < PASSES; r++) {
		for (int c = 0; c < CHUNKS; c++) {
			j.off = (size_t)c * chunk;
			j.copy = false;
			double t0 = cli_now();
			eng_pool_run(p, bw_fn, &j);
			double t = cli_now() - t0;
			if (r > 0 && t < brd[c])
				brd[c] = t;
		}
		for (int c = 0; c < CHUNKS; c++) {
			j.off = (size_t)c * chunk;
			j.copy = true;
			double t0 = cli_now();
			eng_pool_run(p, bw_fn, &j);
			double t = cli_now() - t0;
			if (r > 0 && t < bcp[c])
				bcp[c] = t;
		}
	}
	double trd = 0, tcp = 0;
	for (int c = 0; c < CHUNKS; c++) {
		trd += brd[c];
		tcp += bcp[c];
	}
	*read_gbs = (double)(chunk * CHUNKS) / trd / 1e9;
	*copy_gbs = (double)(chunk * CHUNKS) / tcp / 1e9;
	eng_pool_free(p);
	free(j.buf);
	return 0;
}

/* The limits of the machine for nth threads, printed: read bandwidth
 * (*rd, GB/s), copy bandwidth and sgemm (*gf, GFLOP/s). -1 when out of
 * memory. */
static int bench_machine(int nth, double *rd, double *gf)
{
	double cp = 0;
	if (bench_bandwidth(nth, rd, &cp))
		return -1;
	*gf = bench_sgemm_gflops(nth);
	printf("  machine, same run: read %.1f GB/s, copy %.1f GB/s (512 MB, %d threads); "
	       "sgemm %.1f GFLOP/s (OpenBLAS, %d threads)\n",
	       *rd, cp, nth, *gf, nth);
	return 0;
}

/* ===================================================================== */
/* model shapes and random weights                                       */
/* ===================================================================== */

struct bshape {
	const char *key, *name;
	uint64_t hidden, ff, layers, heads, kv_heads, vocab;
};

static const struct bshape bshapes[] = {
	{ "135m", "SmolLM2-135M", 576, 1536, 30, 9, 3, 49152 },
	{ "360m", "SmolLM2-360M", 960, 2560, 32, 15, 5, 49152 },
	{ "0.5b", "Qwen2.5-0.5B", 896, 4864, 24, 14, 2, 151936 },
	/* every width a multiple of 256, for the K-quants */
	{ "1.1b", "TinyLlama-1.1B", 2048, 5632, 22, 32, 4, 32000 },
};

/* The products of one layer: q, k, v (same input), o, gate, up (same
 * input), down. */
enum { BM_Q, BM_K, BM_V, BM_O, BM_GATE, BM_UP, BM_DOWN, BM_N };

struct bmat {
	uint64_t k, rows;
	uint8_t *w;
	size_t bytes;
};

struct bmodel {
	const struct bshape *s;
	uint32_t wtype;
	struct bmat m[64][BM_N];
	struct bmat head;
	double bytes_token, params_layers, params_head;
};

static uint64_t bench_rng = 0x2545f4914f6cdd1du;

static uint64_t brnd(void)
{
	bench_rng ^= bench_rng << 13;
	bench_rng ^= bench_rng >> 7;
	bench_rng ^= bench_rng << 17;
	return bench_rng;
}

/* Random bytes with every scale (and F16/F32/BF16 value) a modest finite
 * number, so that no kernel meets NaN or subnormal arithmetic. */
static int bmat_make(struct bmat *m, uint32_t wtype, uint64_t k, uint64_t rows)
{
	uint32_t blck, size;
	quant_layout(wtype, &blck, &size);
	m->k = k;
	m->rows = rows;
	m->bytes = qmat_row_bytes(wtype, k) * rows;
	m->w = malloc(m->bytes + 8);
	if (!m->w)
		return -1;
	for (size_t i = 0; i < m->bytes; i += 8) {
		uint64_t r = brnd();
		memcpy(m->w + i, &r, 8);
	}
	size_t nb = m->bytes / size;
	for (size_t b = 0; b < nb; b++) {
		uint8_t *p = m->w + b * size;
		static const uint8_t h[2] = { 0x00, 0x20 }; /* 2^-7 */
		switch (wtype) {
		case GGML_F32: {
			float v = (float)(brnd() % 2001) / 1000.0f - 1.0f;
			memcpy(p, &v, 4);
			break;
		}
		case GGML_F16:
		case GGML_BF16: p[1] = (uint8_t)((p[1] & 0x83) | 0x1c); break;
		case GGML_Q6_K: memcpy(p + 208, h, 2); break;
		case GGML_Q2_K:
			memcpy(p + 80, h, 2);
			memcpy(p + 82, h, 2);
			break;
		case GGML_Q3_K: memcpy(p + 108, h, 2); break;
		case GGML_Q4_1:
		case GGML_Q5_1:
		case GGML_Q4_K:
		case GGML_Q5_K:
			memcpy(p, h, 2);
			memcpy(p + 2, h, 2);
			break;
		default: memcpy(p, h, 2); break;
		}
	}
	return 0;
}

static void bmodel_free(struct bmodel *bm)
{
	for (uint64_t l = 0; l < 64; l++)
		for (int i = 0; i < BM_N; i++)
			free(bm->m[l][i].w);
	free(bm->head.w);
	memset(bm, 0, sizeof *bm);
}

static int bmodel_make(struct bmodel *bm, const struct bshape *s, uint32_t wtype)
{
	memset(bm, 0, sizeof *bm);
	bm->s = s;
	bm->wtype = wtype;
	uint64_t hd = s->hidden / s->heads, kv = hd * s->kv_heads;
	for (uint64_t l = 0; l < s->layers && l < 64; l++) {
		struct bmat *m = bm->m[l];
		if (bmat_make(&m[BM_Q], wtype, s->hidden, s->hidden) ||
		    bmat_make(&m[BM_K], wtype, s->hidden, kv) ||
		    bmat_make(&m[BM_V], wtype, s->hidden, kv) ||
		    bmat_make(&m[BM_O], wtype, s->hidden, s->hidden) ||
		    bmat_make(&m[BM_GATE], wtype, s->hidden, s->ff) ||
		    bmat_make(&m[BM_UP], wtype, s->hidden, s->ff) ||
		    bmat_make(&m[BM_DOWN], wtype, s->ff, s->hidden)) {
			bmodel_free(bm);
			return -1;
		}
		for (int i = 0; i < BM_N; i++) {
			bm->bytes_token += (double)m[i].bytes;
			bm->params_layers += (double)m[i].k * (double)m[i].rows;
		}
	}
	if (bmat_make(&bm->head, wtype, s->hidden, s->vocab)) {
		bmodel_free(bm);
		return -1;
	}
	bm->bytes_token += (double)bm->head.bytes;
	bm->params_head = (double)s->hidden * (double)s->vocab;
	return 0;
}

/* ===================================================================== */
/* running the products                                                  */
/* ===================================================================== */

struct brun {
	const struct qmat_kernels *kk;
	uint32_t wtype;
	size_t n;	/* activation vectors */
	const float *x; /* n x k inputs */
	uint8_t *act;	/* n prepared vectors */
	size_t act_stride;
	const struct bmat *m;
	float *y; /* n x rows */
};

static void prep_fn(void *arg, int tid, int nth)
{
	struct brun *r = arg;
	uint64_t a, b;
	bsplit(r->n, tid, nth, 1, &a, &b);
	for (uint64_t i = a; i < b; i++)
		qmat_act_prepare_with(r->kk, r->wtype, r->x + i * r->m->k, r->m->k,
				      r->act + i * r->act_stride);
}

static void gemm_fn(void *arg, int tid, int nth)
{
	struct brun *r = arg;
	uint64_t a, b;
	bsplit(r->m->rows, tid, nth, 16, &a, &b);
	if (a < b)
		qmat_gemm_with(r->kk, r->wtype, r->m->w, r->m->k, r->act, r->act_stride, r->n, a, b,
			       r->y, r->m->rows);
}

/* Product j of a forward pass (the BM_N of each layer, then the head)
 * and the best time seen for it. */
enum { BT_MAX = 64 * BM_N + 1 };

/* The products of one forward pass over n tokens (the head for the
 * last), each timed; best[j] keeps the fastest time of product j over the
 * passes. x holds n x ff floats, act and y room for n vectors of the
 * widest matrix. */
static void bforward(struct eng_pool *p, const struct bmodel *bm, struct brun *r, size_t n,
		     double *best)
{
	const struct bshape *s = bm->s;
	size_t j = 0;
	for (uint64_t l = 0; l < s->layers; l++) {
		for (int i = 0; i < BM_N; i++, j++) {
			double t0 = cli_now();
			r->m = &bm->m[l][i];
			r->n = n;
			r->act_stride = qmat_act_bytes_with(r->kk, bm->wtype, r->m->k);
			/* k and v reuse q's prepared input, up reuses gate's; the
			 * preparation is timed with the first */
			if (i != BM_K && i != BM_V && i != BM_UP)
				eng_pool_run(p, prep_fn, r);
			eng_pool_run(p, gemm_fn, r);
			double t = cli_now() - t0;
			best[j] = t < best[j] ? t : best[j];
		}
	}
	double t0 = cli_now();
	r->m = &bm->head;
	r->n = 1;
	r->act_stride = qmat_act_bytes_with(r->kk, bm->wtype, r->m->k);
	eng_pool_run(p, prep_fn, r);
	eng_pool_run(p, gemm_fn, r);
	double t = cli_now() - t0;
	best[j] = t < best[j] ? t : best[j];
}

static double best_reset_sum(double *best, bool reset)
{
	double sum = 0;
	for (size_t j = 0; j < BT_MAX; j++) {
		if (best[j] < 1e30)
			sum += best[j];
		if (reset)
			best[j] = 1e300;
	}
	return sum;
}

struct bresult {
	double decode_tps, prefill_tps[2];
};

static const size_t prefill_n[2] = { 128, 512 };

/* Tokens/s from the sum of each product's best time over the runs: a
 * product that a busy machine's scheduler interrupted in one run counts
 * with its time from another. */
static int bench_model(const struct bmodel *bm, const struct qmat_kernels *kk, int nth, size_t runs,
		       struct bresult *res)
{
	const struct bshape *s = bm->s;
	size_t nmax = prefill_n[1], ny = nmax * s->ff > s->vocab ? nmax * s->ff : s->vocab;
	size_t ab = qmat_act_bytes_with(kk, bm->wtype, s->ff);
	float *x = malloc(nmax * s->ff * sizeof *x);
	uint8_t *act = malloc(nmax * ab);
	float *y = malloc(ny * sizeof *y);
	double *best = malloc(BT_MAX * sizeof *best);
	struct eng_pool *p = NULL;
	int rc = -1;
	memset(res, 0, sizeof *res);
	if (!x || !act || !y || !best)
		goto out;
	for (size_t i = 0; i < nmax * s->ff; i++)
		x[i] = (float)(brnd() % 2001) / 1000.0f - 1.0f;
	if (eng_pool_new(nth, &p))
		goto out;
	struct brun r = { .kk = kk, .wtype = bm->wtype, .x = x, .act = act, .y = y };
	best_reset_sum(best, true);
	bforward(p, bm, &r, 1, best); /* warm-up */
	best_reset_sum(best, true);
	for (size_t run = 0; run < 8 * runs; run++)
		bforward(p, bm, &r, 1, best);
	res->decode_tps = 1 / best_reset_sum(best, true);
	for (int pi = 0; pi < 2; pi++) {
		for (size_t run = 0; run < runs; run++)
			bforward(p, bm, &r, prefill_n[pi], best);
		res->prefill_tps[pi] = (double)prefill_n[pi] / best_reset_sum(best, true);
	}
	eng_pool_free(p);
	rc = 0;
out:
	free(x);
	free(act);
	free(y);
	free(best);
	return rc;
}

/* ===================================================================== */
/* the command                                                           */
/* ===================================================================== */

static bool parse_type(const char *name, uint32_t *type)
{
	for (uint32_t t = 0; t < 64; t++) {
		if (!strcmp(quant_type_name(t), name) && qmat_supported(t, 256)) {
			*type = t;
			return true;
		}
	}
	return false;
}

static double loadavg(void)
{
	double l = -1;
	FILE *f = fopen("/proc/loadavg", "r");
	if (f) {
		if (fscanf(f, "%lf", &l) != 1)
			l = -1;
		fclose(f);
	}
	return l;
}

int bench_qmat(struct cli *c, int argc, char **argv)
{
	(void)c;
	static const struct option opts[] = {
		{ "shape", required_argument, NULL, 's' },
		{ "type", required_argument, NULL, 't' },
		{ "kernels", required_argument, NULL, 'k' },
		{ "threads", required_argument, NULL, 'j' },
		{ "runs", required_argument, NULL, 'r' },
		{ NULL, 0, NULL, 0 },
	};
	const char *shape = "135m", *types = "Q8_0,Q4_0,Q4_K,Q6_K", *kernels = NULL;
	size_t nth = 2, runs = 3;
	int opt;
	while ((opt = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		if (opt == 's')
			shape = optarg;
		else if (opt == 't')
			types = optarg;
		else if (opt == 'k')
			kernels = optarg;
		else if (opt == 'j' && !cli_parse_count(optarg, 1, BP_MAX, &nth))
			continue;
		else if (opt == 'r' && !cli_parse_count(optarg, 1, 100, &runs))
			continue;
		else
			return cli_usage(cli_command_find("bench"), true);
	}
	if (optind != argc)
		return cli_usage(cli_command_find("bench"), true);
	const struct bshape *s = NULL;
	for (size_t i = 0; i < sizeof bshapes / sizeof bshapes[0]; i++)
		if (!strcmp(bshapes[i].key, shape))
			s = &bshapes[i];
	if (!s) {
		cli_error("unknown shape '%s' (135m, 360m, 0.5b or 1.1b)", shape);
		return CLI_USAGE;
	}
	/* the lists: types and kernel families */
	uint32_t tlist[16];
	const struct qmat_kernels *klist[8];
	size_t nt = 0, nk = 0;
	char buf[256];
	snprintf(buf, sizeof buf, "%s", types);
	for (char *sv = NULL, *t = strtok_r(buf, ",", &sv); t; t = strtok_r(NULL, ",", &sv)) {
		if (nt == 16 || !parse_type(t, &tlist[nt])) {
			cli_error("unknown or unsupported weight type '%s'", t);
			return CLI_USAGE;
		}
		nt++;
	}
	if (kernels) {
		snprintf(buf, sizeof buf, "%s", kernels);
		for (char *sv = NULL, *t = strtok_r(buf, ",", &sv); t;
		     t = strtok_r(NULL, ",", &sv)) {
			if (nk == 8 || !(klist[nk] = qmat_kernels_get(t))) {
				cli_error("kernel family '%s' unknown or not on this CPU", t);
				return CLI_USAGE;
			}
			nk++;
		}
	} else {
		klist[nk++] = qmat_kernels_default();
	}
	double load0 = loadavg();
	printf("bench qmat: %s shapes (hidden %llu, ff %llu, %llu layers, vocab %llu), "
	       "%zu threads\n",
	       s->name, (unsigned long long)s->hidden, (unsigned long long)s->ff,
	       (unsigned long long)s->layers, (unsigned long long)s->vocab, nth);
	fflush(stdout);
	double rd = 0, gf = 0;
	if (bench_machine((int)nth, &rd, &gf)) {
		cli_error("out of memory");
		return CLI_ERR;
	}
	printf("  %-7s %-7s %8s | %8s %6s %5s | %9s %7s %5s | %9s %7s %5s\n", "type", "kernels",
	       "MB/tok", "decode/s", "GB/s", "%rd", "pp128/s", "GFLOP/s", "%sg", "pp512/s",
	       "GFLOP/s", "%sg");
	for (size_t ti = 0; ti < nt; ti++) {
		struct bmodel bm;
		if (!qmat_supported(tlist[ti], s->hidden) || !qmat_supported(tlist[ti], s->ff)) {
			printf("  %-7s (rows of %llu values do not divide into its blocks)\n",
			       quant_type_name(tlist[ti]), (unsigned long long)s->hidden);
			continue;
		}
		if (bmodel_make(&bm, s, tlist[ti])) {
			cli_error("out of memory");
			return CLI_ERR;
		}
		for (size_t ki = 0; ki < nk; ki++) {
			struct bresult res;
			if (bench_model(&bm, klist[ki], (int)nth, runs, &res)) {
				bmodel_free(&bm);
				cli_error("out of memory");
				return CLI_ERR;
			}
			double gbs = res.decode_tps * bm.bytes_token / 1e9;
			double g[2];
			for (int pi = 0; pi < 2; pi++)
				g[pi] = res.prefill_tps[pi] *
					(2 * bm.params_layers +
					 2 * bm.params_head / (double)prefill_n[pi]) /
					1e9;
			printf("  %-7s %-7s %8.1f | %8.1f %6.1f %4.0f%% | %9.1f %7.1f %4.0f%% | "
			       "%9.1f %7.1f %4.0f%%\n",
			       quant_type_name(tlist[ti]), qmat_kernels_name(klist[ki]),
			       bm.bytes_token / 1e6, res.decode_tps, gbs,
			       rd > 0 ? 100 * gbs / rd : 0, res.prefill_tps[0], g[0],
			       gf > 0 ? 100 * g[0] / gf : 0, res.prefill_tps[1], g[1],
			       gf > 0 ? 100 * g[1] / gf : 0);
			fflush(stdout);
		}
		bmodel_free(&bm);
	}
	printf("  load average %.2f at the start, %.2f at the end (%ld CPUs)\n", load0, loadavg(),
	       sysconf(_SC_NPROCESSORS_ONLN));
	return CLI_OK;
}

/* ===================================================================== */
/* memex bench llm                                                       */
/* ===================================================================== */

static int cmp_dbl(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return x < y ? -1 : x > y;
}

/* Bytes of weights one decoded token reads: every matrix, the output
 * matrix included (token_embd only when it is the tied output; otherwise
 * one row of it is read). */
static double llm_weight_bytes(const struct gguf *g, double *head_params)
{
	double bytes = 0;
	bool tied = gguf_tensor(g, "output.weight") == NULL;
	*head_params = 0;
	for (size_t i = 0; i < gguf_n_tensors(g); i++) {
		const struct gguf_tensor *t = gguf_tensor_at(g, i);
		if (t->n_dims < 2)
			continue;
		bool embd = t->name_len == 17 && !memcmp(t->name, "token_embd.weight", 17);
		bool out = t->name_len == 13 && !memcmp(t->name, "output.weight", 13);
		if (embd && !tied)
			continue;
		if (out || (embd && tied))
			*head_params = (double)t->ne[0] * (double)t->ne[1];
		bytes += (double)t->nbytes;
	}
	return bytes;
}

int bench_llm(struct cli *c, int argc, char **argv)
{
	(void)c;
	static const struct option opts[] = {
		{ "threads", required_argument, NULL, 'j' },
		{ "runs", required_argument, NULL, 'r' },
		{ NULL, 0, NULL, 0 },
	};
	size_t nth = 2, runs = 3;
	int opt;
	while ((opt = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		if (opt == 'j' && !cli_parse_count(optarg, 1, BP_MAX, &nth))
			continue;
		else if (opt == 'r' && !cli_parse_count(optarg, 1, 100, &runs))
			continue;
		return cli_usage(cli_command_find("bench"), true);
	}
	if (optind + 1 != argc)
		return cli_usage(cli_command_find("bench"), true);
	const char *path = argv[optind];
	enum { DECODE = 32, NPP = 2 };
	static const size_t pp[NPP] = { 128, 512 };
	struct eng_llm_params lp = eng_llm_params_default();
	lp.threads = (int)nth;
	lp.n_ctx = 1024;
	struct eng_llm *m = NULL;
	char err[256];
	int32_t *tok = NULL;
	int ret = CLI_ERR;
	if (eng_llm_open(path, &lp, &m, err, sizeof err)) {
		cli_error("cannot load '%s': %s", path, err);
		return CLI_ERR;
	}
	double load0 = loadavg();
	double head_params, wbytes = llm_weight_bytes(eng_llm_gguf(m), &head_params);
	double fpt = eng_llm_flops_per_token(m);
	printf("bench llm: %s (%s, %.0f MB of weights per token), %zu threads, kernels %s\n", path,
	       eng_llm_arch(m), wbytes / 1e6, nth, qmat_kernels_name(qmat_kernels_default()));
	fflush(stdout);
	double rd = 0, gf = 0;
	if (bench_machine((int)nth, &rd, &gf)) {
		cli_error("out of memory");
		goto out;
	}
	int nv = eng_llm_n_vocab(m);
	tok = malloc((pp[NPP - 1] + DECODE) * sizeof *tok);
	if (!tok)
		goto out;
	for (size_t i = 0; i < pp[NPP - 1] + DECODE; i++)
		tok[i] = (int32_t)(brnd() % (uint64_t)nv);
	const float *logits;
	/* prefill: the best of runs */
	for (int pi = 0; pi < NPP; pi++) {
		if (pp[pi] + DECODE > (size_t)eng_llm_n_ctx(m))
			continue;
		double best = 1e300;
		for (size_t r = 0; r < runs + 1; r++) {
			eng_llm_reset(m);
			double t0 = cli_now();
			if (eng_llm_decode(m, tok, pp[pi], &logits)) {
				cli_error("decoding failed: %s", eng_llm_errmsg(m));
				goto out;
			}
			double t = cli_now() - t0;
			if (r > 0 && t < best) /* the first run warms up */
				best = t;
		}
		double tps = (double)pp[pi] / best;
		double flops = (fpt - 2 * head_params) * (double)pp[pi] + 2 * head_params;
		double g = flops / best / 1e9;
		printf("  prefill %4zu tokens: %8.1f tokens/s, %6.1f GFLOP/s = %3.0f%% of sgemm\n",
		       pp[pi], tps, g, gf > 0 ? 100 * g / gf : 0);
		fflush(stdout);
	}
	/* decode: DECODE tokens after a 16-token prompt, runs times */
	double *tt = malloc(DECODE * runs * sizeof *tt);
	if (!tt)
		goto out;
	size_t nt = 0;
	double tsum = 0;
	for (size_t r = 0; r < runs; r++) {
		eng_llm_reset(m);
		if (eng_llm_decode(m, tok, 16, &logits)) {
			free(tt);
			cli_error("decoding failed: %s", eng_llm_errmsg(m));
			goto out;
		}
		for (int i = 0; i < DECODE; i++) {
			double t0 = cli_now();
			if (eng_llm_decode(m, tok + 16 + i, 1, &logits)) {
				free(tt);
				cli_error("decoding failed: %s", eng_llm_errmsg(m));
				goto out;
			}
			tt[nt] = cli_now() - t0;
			tsum += tt[nt++];
		}
	}
	qsort(tt, nt, sizeof *tt, cmp_dbl);
	double med = tt[nt / 2], best = tt[0];
	free(tt);
	printf("  decode: %.1f tokens/s (median of %zu tokens), %.1f at best: %.1f GB/s of weights "
	       "= %.0f%% of read bandwidth (best)\n",
	       1 / med, nt, 1 / best, wbytes / best / 1e9,
	       rd > 0 ? 100 * wbytes / best / 1e9 / rd : 0);
	struct eng_llm_width_stats ws = eng_llm_decode_width(m);
	if (lp.decode_threads == 0)
		printf("  decode width adaptive (MEMEX_DECODE_THREADS unset or auto): %.0f%% of "
		       "steps on 1 thread, %lld probes, %lld moves; mean %.1f tokens/s\n",
		       ws.steps ? 100.0 * (double)ws.solo_steps / (double)ws.steps : 0, ws.probes,
		       ws.moves, (double)nt / tsum);
	else
		printf("  decode width pinned (MEMEX_DECODE_THREADS=%d): %d thread(s); mean %.1f "
		       "tokens/s\n",
		       lp.decode_threads, ws.threads, (double)nt / tsum);
	printf("  load average %.2f at the start, %.2f at the end (%ld CPUs)\n", load0, loadavg(),
	       sysconf(_SC_NPROCESSORS_ONLN));
	ret = CLI_OK;
out:
	free(tok);
	eng_llm_close(m);
	return ret;
}
