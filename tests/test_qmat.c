/* test_qmat.c - the quantized matrix products (engine/qmat.h): every kernel
 * family this CPU has, for every weight type with a kernel (and two without,
 * which fall back to dequantizing), against
 *   - an exact oracle: the weights dequantized by quant_ref.c and multiplied
 *     in double with the float activations. The integer paths may differ by
 *     the activation rounding: each x moves by at most d / 2 = amax / 254 of
 *     its block (32 values for Q8_0/Q4_0, 256 for the K-quants), so
 *     |y - exact| <= sum_blocks amax_b / 254 * sum_{j in b} |w_j|; plus
 *     float summation, bounded by (k + 4) u * sum_j |x_j| * max_j |w_j|
 *     (u = 2^-24, the worst case of a k-term sum; a wrong kernel is off by
 *     about |y|, some 1/sqrt(k) of that scale, far above it);
 *   - for the SIMD families, the plain-C family on the same prepared
 *     activations: the integer block sums are exact in both, so only float
 *     summation order differs (the float slack above).
 * Shapes: k of one block, several and odd numbers of blocks (49 for the
 * 32-blocks: more than one chunk of the avx512 Q8_0 prefill panels); n =
 * 1, 2, 3, 7, 16, 33, 70, 133 activation vectors; a row range not starting at 0 of an
 * odd number of rows; weights at
 * an odd address; Y with ldy > rows and its other entries checked
 * untouched. */
#include <float.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../engine/gguf.h"
#include "../engine/qmat.h"
#include "../engine/quant.h"
#include "harness.h"

static uint64_t rng = 0x9e3779b97f4a7c15u;

static uint32_t rnd32(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return (uint32_t)(rng >> 11);
}

/* uniform in [-1, 1) */
static float rndf(void)
{
	return (float)(rnd32() % 2000001u) / 1000000.0f - 1.0f;
}

/* A positive half in [2^-9, 2^-4): exponent 6..10, random mantissa. */
static uint16_t rnd_half(void)
{
	return (uint16_t)((6 + rnd32() % 5) << 10 | (rnd32() & 0x3ff));
}

static void put16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)v;
	p[1] = (uint8_t)(v >> 8);
}

/* rows random rows of wtype (k values each) at w: random bytes with the
 * half scales made finite and moderate. */
static void fill_weights(uint32_t wtype, uint8_t *w, uint64_t k, size_t rows)
{
	size_t rb = qmat_row_bytes(wtype, k), nbytes = rb * rows;
	for (size_t i = 0; i < nbytes; i++)
		w[i] = (uint8_t)rnd32();
	uint32_t blck, size;
	quant_layout(wtype, &blck, &size);
	for (size_t r = 0; r < rows; r++) {
		uint8_t *row = w + r * rb;
		for (uint64_t b = 0; b < k / blck; b++) {
			uint8_t *p = row + b * size;
			switch (wtype) {
			case GGML_F32: {
				float v = rndf();
				memcpy(p, &v, 4);
				break;
			}
			case GGML_F16:
				put16(p, (uint16_t)(rnd_half() | (rnd32() & 1) << 15));
				break;
			case GGML_BF16: {
				float v = rndf();
				uint32_t u;
				memcpy(&u, &v, 4);
				put16(p, (uint16_t)(u >> 16));
				break;
			}
			case GGML_Q8_0:
			case GGML_Q4_0:
			case GGML_Q5_0: put16(p, rnd_half()); break;
			case GGML_Q4_1:
			case GGML_Q5_1:
				put16(p, rnd_half());
				put16(p + 2, rnd_half());
				break;
			case GGML_Q4_K:
			case GGML_Q5_K:
				put16(p, rnd_half());
				put16(p + 2, rnd_half());
				break;
			case GGML_Q2_K:
				put16(p + 80, rnd_half());
				put16(p + 82, rnd_half());
				break;
			case GGML_Q6_K: put16(p + 208, rnd_half()); break;
			case GGML_Q3_K: put16(p + 108, rnd_half()); break;
			}
		}
	}
}

/* The oracle and the two tolerances for one row and one activation
 * vector: exact (double), the activation-rounding bound, the float slack. */
struct expect {
	double exact, actq, slack;
};

static int act_block(uint32_t wtype)
{
	switch (wtype) {
	case GGML_Q8_0:
	case GGML_Q4_0:
	case GGML_Q4_1:
	case GGML_Q5_0:
	case GGML_Q5_1: return 32;
	case GGML_Q4_K:
	case GGML_Q5_K:
	case GGML_Q6_K: return 256;
	default: return 0; /* float activations */
	}
}

static struct expect oracle(uint32_t wtype, const float *wf, const float *x, uint64_t k)
{
	struct expect e = { 0, 0, 0 };
	double sx = 0, wmax = 0;
	for (uint64_t j = 0; j < k; j++) {
		e.exact += (double)wf[j] * x[j];
		sx += fabs(x[j]);
		wmax = fabs(wf[j]) > wmax ? fabs(wf[j]) : wmax;
	}
	int ab = act_block(wtype);
	for (uint64_t b0 = 0; ab && b0 < k; b0 += (uint64_t)ab) {
		double amax = 0, sw = 0;
		for (int j = 0; j < ab; j++) {
			amax = fabs(x[b0 + j]) > amax ? fabs(x[b0 + j]) : amax;
			sw += fabs(wf[b0 + j]);
		}
		e.actq += amax / 254.0 * 1.0001 * sw;
	}
	e.slack = (double)(k + 4) * (FLT_EPSILON / 2) * sx * wmax + 1e-30;
	return e;
}

static size_t n_fail_report;

/* One product shape with one family: returns false on any mismatch. */
static bool run_case(const struct qmat_kernels *kk, uint32_t wtype, uint64_t k, size_t n)
{
	enum { ROWS = 21, R0 = 3, R1 = 20, LDY = 25 }; /* 17 rows: a tile of 16 and one */
	const struct qmat_kernels *ref = qmat_kernels_get("ref");
	bool exact = !strcmp(qmat_kernels_name(kk), "exact");
	size_t rb = qmat_row_bytes(wtype, k);
	size_t ab = qmat_act_bytes_with(kk, wtype, k), abr = qmat_act_bytes_with(ref, wtype, k);
	uint8_t *wbuf = malloc(rb * ROWS + 1);
	float *wf = malloc((size_t)k * ROWS * sizeof *wf);
	float *x = malloc((size_t)k * n * sizeof *x);
	uint8_t *act = malloc(ab * n), *actr = malloc(abr * n);
	float *y = malloc((size_t)LDY * n * sizeof *y), *yr = malloc((size_t)LDY * n * sizeof *yr);
	bool ok = wbuf && wf && x && act && actr && y && yr;
	if (!ok)
		goto out;
	uint8_t *w = wbuf + 1; /* odd address */
	fill_weights(wtype, w, k, ROWS);
	for (size_t r = 0; r < ROWS; r++)
		quant_dequant_row(wtype, w + r * rb, wf + r * k, k);
	for (size_t i = 0; i < n; i++) {
		for (uint64_t j = 0; j < k; j++)
			x[i * k + j] = rndf() * (float)(1 + i % 3);
		if (i % 5 == 4) /* a block of zeros: d = 0 */
			memset(x + i * k, 0, (k < 32 ? k : 32) * sizeof *x);
		qmat_act_prepare_with(kk, wtype, x + i * k, k, act + i * ab);
		qmat_act_prepare_with(ref, wtype, x + i * k, k, actr + i * abr);
	}
	for (size_t i = 0; i < (size_t)LDY * n; i++)
		y[i] = yr[i] = -12345.0f;
	qmat_gemm_with(kk, wtype, w, k, act, ab, n, R0, R1, y, LDY);
	qmat_gemm_with(ref, wtype, w, k, actr, abr, n, R0, R1, yr, LDY);
	for (size_t i = 0; i < n && ok; i++) {
		for (size_t r = 0; r < LDY && ok; r++) {
			float got = y[i * LDY + r];
			if (r < R0 || r >= R1) {
				if (got != -12345.0f) {
					printf("    %s %s k=%llu n=%zu: Y[%zu][%zu] outside the rows "
					       "written\n",
					       qmat_kernels_name(kk), quant_type_name(wtype),
					       (unsigned long long)k, n, i, r);
					ok = false;
				}
				continue;
			}
			struct expect e = oracle(wtype, wf + r * k, x + i * k, k);
			if (exact) /* float activations: float rounding only */
				e.actq = 0;
			double err = fabs((double)got - e.exact);
			/* the exact family against the plain-C one: both within
			 * their bounds of the oracle */
			double err_ref = fabs((double)got - (double)yr[i * LDY + r]);
			double tol_ref = 2 * e.slack;
			if (exact)
				tol_ref =
					oracle(wtype, wf + r * k, x + i * k, k).actq + 4 * e.slack;
			if (!(err <= e.actq + 2 * e.slack) || !(err_ref <= tol_ref)) {
				if (n_fail_report++ < 10)
					printf("    %s %s k=%llu n=%zu i=%zu r=%zu: got %.9g exact "
					       "%.9g (tol %.3g), ref %.9g (tol %.3g)\n",
					       qmat_kernels_name(kk), quant_type_name(wtype),
					       (unsigned long long)k, n, i, r, got, e.exact,
					       e.actq + 2 * e.slack, yr[i * LDY + r], tol_ref);
				ok = false;
			}
		}
	}
out:
	free(wbuf);
	free(wf);
	free(x);
	free(act);
	free(actr);
	free(y);
	free(yr);
	return ok;
}

static const uint32_t kernel_types[] = { GGML_F32,  GGML_F16,  GGML_BF16, GGML_Q8_0,
					 GGML_Q4_0, GGML_Q4_1, GGML_Q5_0, GGML_Q5_1,
					 GGML_Q4_K, GGML_Q5_K, GGML_Q6_K };

static void family(const char *name)
{
	const struct qmat_kernels *kk = qmat_kernels_get(name);
	if (!kk) {
		printf("    skip: this CPU lacks the '%s' kernels\n", name);
		return;
	}
	/* 70: two super-groups of the row kernels' driver; 133: two of the
	 * avx512 prefill panels, the last with a panel of 5 */
	static const size_t ns[] = { 1, 2, 3, 7, 16, 33, 70, 133 };
	size_t cases = 0, bad = 0;
	for (size_t t = 0; t < sizeof kernel_types / sizeof kernel_types[0]; t++) {
		uint32_t wt = kernel_types[t], blck, size;
		quant_layout(wt, &blck, &size);
		uint64_t ks[6];
		size_t nk = 5;
		if (blck == 1) {
			ks[0] = 1, ks[1] = 7, ks[2] = 40, ks[3] = 67, ks[4] = 576;
		} else {
			/* one block, two, three (odd), odd many, a model's width */
			ks[0] = blck, ks[1] = 2 * blck, ks[2] = 3 * blck, ks[3] = 9 * blck;
			ks[4] = blck == 32 ? 576 : 1536;
			if (blck == 32) /* 49 blocks: the prefill panels' k in three chunks */
				ks[nk++] = 49 * 32;
		}
		for (size_t ki = 0; ki < nk; ki++) {
			for (size_t ni = 0; ni < sizeof ns / sizeof ns[0]; ni++) {
				cases++;
				if (!run_case(kk, wt, ks[ki], ns[ni]))
					bad++;
			}
		}
	}
	printf("    %s: %zu cases, %zu wrong\n", name, cases, bad);
	CHECK_EQ_INT(bad, 0);
}

static void test_ref(void)
{
	family("ref");
}

static void test_avx2(void)
{
	family("avx2");
}

static void test_avx512(void)
{
	family("avx512");
}

static void test_exact(void)
{
	family("exact");
}

/* Types without their own kernel dequantize a block at a time in every
 * family (float activations, so within float slack of the oracle). */
static void test_fallback_types(void)
{
	static const char *const fams[] = { "ref", "avx2", "avx512", "exact" };
	for (size_t f = 0; f < 4; f++) {
		const struct qmat_kernels *kk = qmat_kernels_get(fams[f]);
		if (!kk)
			continue;
		CHECK(run_case(kk, GGML_Q3_K, 768, 3));
		CHECK(run_case(kk, GGML_Q2_K, 512, 2));
	}
}

/* The prepared Q8_0 and Q8_K forms: ggml's scale, rounding and sums. */
static void test_act_prepare(void)
{
	enum { K = 512 };
	float x[K];
	for (int j = 0; j < K; j++)
		x[j] = rndf() * 3;
	const struct qmat_kernels *ref = qmat_kernels_get("ref");
	size_t ab = qmat_act_bytes_with(ref, GGML_Q8_0, K);
	CHECK_EQ_INT(ab % 64, 0);
	CHECK(ab >= K + 8 * (K / 32));
	uint8_t *a = calloc(1, ab);
	CHECK(a != NULL);
	if (!a)
		return;
	qmat_act_prepare_with(ref, GGML_Q8_0, x, K, a);
	const int8_t *q = (const int8_t *)a;
	const float *d = (const float *)(void *)(a + K), *sd = d + K / 32;
	for (int b = 0; b < K / 32; b++) {
		int sum = 0;
		for (int j = 0; j < 32; j++)
			sum += q[32 * b + j];
		CHECK(sd[b] == d[b] * (float)sum);
		float amax = 0;
		for (int j = 0; j < 32; j++)
			amax = fabsf(x[32 * b + j]) > amax ? fabsf(x[32 * b + j]) : amax;
		CHECK(d[b] == amax / 127.0f);
		for (int j = 0; j < 32; j++)
			CHECK(fabsf(d[b] * q[32 * b + j] - x[32 * b + j]) <= d[b] * 0.5001f);
	}
	free(a);
	ab = qmat_act_bytes_with(ref, GGML_Q4_K, K);
	CHECK(ab >= K + 4 * (K / 256) + 2 * (K / 16));
	a = calloc(1, ab);
	CHECK(a != NULL);
	if (!a)
		return;
	qmat_act_prepare_with(ref, GGML_Q6_K, x, K, a);
	q = (const int8_t *)a;
	const int16_t *bs = (const int16_t *)(void *)(a + K + 4 * (K / 256));
	for (int s = 0; s < K / 16; s++) {
		int sum = 0;
		for (int j = 0; j < 16; j++)
			sum += q[16 * s + j];
		CHECK_EQ_INT(bs[s], sum);
	}
	/* non-finite inputs must not be undefined behaviour */
	x[7] = NAN;
	x[300] = INFINITY;
	qmat_act_prepare_with(ref, GGML_Q6_K, x, K, a);
	qmat_act_prepare_with(ref, GGML_Q8_0, x, K, a);
	free(a);
}

/* Every family prepares the same bytes as the plain-C one: random values,
 * exact ties (amax 127 makes d = 1, so x.5 is a tie, rounded to even),
 * zeros, subnormals, huge values, infinities and NaN. */
static void test_act_prepare_families(void)
{
	enum { K = 512 };
	static const char *const fams[] = { "avx2", "avx512" };
	static const uint32_t types[] = { GGML_Q8_0, GGML_Q4_K, GGML_F16 };
	float x[K];
	const struct qmat_kernels *ref = qmat_kernels_get("ref");
	for (size_t f = 0; f < 2; f++) {
		const struct qmat_kernels *kk = qmat_kernels_get(fams[f]);
		if (!kk) {
			printf("    skip: this CPU lacks the '%s' kernels\n", fams[f]);
			continue;
		}
		for (int variant = 0; variant < 6; variant++) {
			for (int j = 0; j < K; j++) {
				x[j] = rndf() * 5;
				if (variant == 1)
					x[j] = (float)((int)(rnd32() % 255) - 127) +
					       0.5f * (float)(j & 1);
				if (variant == 2)
					x[j] = j % 3 ? 0.0f : 1e-40f * (float)(j % 7);
				if (variant == 3)
					x[j] = rndf() * 1e30f;
			}
			if (variant == 1)
				for (int b = 0; b < K; b += 32)
					x[b] = 127.0f; /* d = 1: the halves are ties */
			if (variant == 4)
				x[33] = INFINITY, x[300] = -INFINITY;
			if (variant == 5)
				x[40] = NAN, x[41] = 1e38f, x[290] = NAN, x[63] = NAN, x[511] = NAN;
			for (size_t t = 0; t < 3; t++) {
				size_t ab = qmat_act_bytes_with(ref, types[t], K);
				uint8_t *a1 = malloc(ab), *a2 = malloc(ab);
				CHECK(a1 && a2);
				if (a1 && a2) {
					qmat_act_prepare_with(ref, types[t], x, K, a1);
					qmat_act_prepare_with(kk, types[t], x, K, a2);
					if (memcmp(a1, a2, ab))
						printf("    %s %s variant %d: prepared bytes differ\n",
						       fams[f], quant_type_name(types[t]), variant);
					CHECK(!memcmp(a1, a2, ab));
				}
				free(a1);
				free(a2);
			}
		}
	}
}

static void test_families(void)
{
	CHECK(qmat_kernels_get("ref") != NULL);
	CHECK(qmat_kernels_get("sse9") == NULL);
	CHECK(qmat_kernels_get(NULL) == NULL);
	const struct qmat_kernels *dflt = qmat_kernels_default();
	CHECK(dflt != NULL);
	printf("    default family: %s\n", qmat_kernels_name(dflt));
	CHECK(qmat_kernels_get(qmat_kernels_name(dflt)) == dflt);
	/* qmat_gemm is the default family's product */
	enum { K = 256 };
	size_t rb = qmat_row_bytes(GGML_Q4_K, K), ab = qmat_act_bytes(GGML_Q4_K, K);
	uint8_t *w = malloc(rb * 4), *a = malloc(ab);
	float x[K], y1[4], y2[4];
	CHECK(w && a);
	if (w && a) {
		fill_weights(GGML_Q4_K, w, K, 4);
		for (int j = 0; j < K; j++)
			x[j] = rndf();
		qmat_act_prepare(GGML_Q4_K, x, K, a);
		qmat_gemm(GGML_Q4_K, w, K, a, ab, 1, 0, 4, y1, 4);
		qmat_gemm_with(dflt, GGML_Q4_K, w, K, a, ab, 1, 0, 4, y2, 4);
		CHECK(!memcmp(y1, y2, sizeof y1));
	}
	free(w);
	free(a);
	CHECK(!qmat_supported(GGML_Q4_K, 128));
	CHECK(!qmat_supported(GGML_Q8_0, 0));
	CHECK(qmat_supported(GGML_F32, 3));
	CHECK(!qmat_supported(99, 256));
}

static const struct test_case tests[] = {
	TEST(test_ref),
	TEST(test_avx2),
	TEST(test_avx512),
	TEST(test_exact),
	TEST(test_fallback_types),
	TEST(test_act_prepare),
	TEST(test_act_prepare_families),
	TEST(test_families),
};

TEST_MAIN(tests)
