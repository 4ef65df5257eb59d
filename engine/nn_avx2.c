/*
 * nn_avx2.c - the element-wise kernels (nn.h) with AVX2, FMA and F16C,
 * compiled for those instructions function by function (the rest of the
 * program runs anywhere) and used only where the CPU has them.
 */
#include <immintrin.h>
#include <math.h>
#include <stdbool.h>

#include "nn.h"

#define AVX2 __attribute__((target("avx2,fma,f16c")))

/* Horizontal sums. */
AVX2 static float hsum_ps(__m256 v)
{
	__m128 s = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
	s = _mm_add_ps(s, _mm_movehl_ps(s, s));
	s = _mm_add_ss(s, _mm_movehdup_ps(s));
	return _mm_cvtss_f32(s);
}

AVX2 static double hsum_pd(__m256d v)
{
	__m128d s = _mm_add_pd(_mm256_castpd256_pd128(v), _mm256_extractf128_pd(v, 1));
	s = _mm_add_sd(s, _mm_unpackhi_pd(s, s));
	return _mm_cvtsd_f64(s);
}

AVX2 static float hmax_ps(__m256 v)
{
	__m128 s = _mm_max_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
	s = _mm_max_ps(s, _mm_movehl_ps(s, s));
	s = _mm_max_ss(s, _mm_movehdup_ps(s));
	return _mm_cvtss_f32(s);
}

/* The sum of 8 floats in double: two lanes of 4. */
AVX2 static __m256d add_pd8(__m256d acc, __m256 v)
{
	acc = _mm256_add_pd(acc, _mm256_cvtps_pd(_mm256_castps256_ps128(v)));
	return _mm256_add_pd(acc, _mm256_cvtps_pd(_mm256_extractf128_ps(v, 1)));
}

AVX2 static __m256d fma_pd8(__m256d acc, __m256 v)
{
	__m256d lo = _mm256_cvtps_pd(_mm256_castps256_ps128(v)),
		hi = _mm256_cvtps_pd(_mm256_extractf128_ps(v, 1));
	acc = _mm256_fmadd_pd(lo, lo, acc);
	return _mm256_fmadd_pd(hi, hi, acc);
}

AVX2 static void add_layer_norm_avx2(float *x, const float *y, const float *yb, int n,
				     const float *g, const float *b, float eps)
{
	int i = 0, n8 = n & ~7;
	__m256d s = _mm256_setzero_pd();
	double tail = 0;
	for (; i < n8; i += 8) {
		__m256 v = _mm256_loadu_ps(x + i);
		if (y) {
			__m256 w = _mm256_loadu_ps(y + i);
			if (yb)
				w = _mm256_add_ps(w, _mm256_loadu_ps(yb + i));
			v = _mm256_add_ps(v, w);
			_mm256_storeu_ps(x + i, v);
		}
		s = add_pd8(s, v);
	}
	for (; i < n; i++) {
		if (y)
			x[i] += yb ? y[i] + yb[i] : y[i];
		tail += x[i];
	}
	float mean = (float)((hsum_pd(s) + tail) / n);
	__m256 vm = _mm256_set1_ps(mean);
	__m256d q = _mm256_setzero_pd();
	tail = 0;
	for (i = 0; i < n8; i += 8) {
		__m256 v = _mm256_sub_ps(_mm256_loadu_ps(x + i), vm);
		_mm256_storeu_ps(x + i, v);
		q = fma_pd8(q, v);
	}
	for (; i < n; i++) {
		x[i] -= mean;
		tail += (double)x[i] * x[i];
	}
	float scale = 1.0f / sqrtf((float)((hsum_pd(q) + tail) / n) + eps);
	__m256 vs = _mm256_set1_ps(scale);
	for (i = 0; i < n8; i += 8) {
		/* (x * scale) * g + b, rounded as the reference rounds it */
		__m256 v = _mm256_mul_ps(_mm256_mul_ps(_mm256_loadu_ps(x + i), vs),
					 _mm256_loadu_ps(g + i));
		_mm256_storeu_ps(x + i, _mm256_add_ps(v, _mm256_loadu_ps(b + i)));
	}
	for (; i < n; i++)
		x[i] = x[i] * scale * g[i] + b[i];
}

/* exp(x) for x <= 0 (softmax arguments): Cody-Waite reduction x = k ln2 + r,
 * |r| <= ln2 / 2, a degree-6 polynomial (Cephes' expf coefficients), then
 * 2^k through the exponent bits. Below -87.3 the result is 0 (expf gives
 * denormals there, which a softmax sum cannot tell from 0). */
AVX2 static __m256 exp_neg(__m256 x)
{
	const __m256 lo = _mm256_set1_ps(-87.3f);
	__m256 zero_mask = _mm256_cmp_ps(x, lo, _CMP_LT_OQ);
	x = _mm256_max_ps(x, lo);
	__m256 k = _mm256_round_ps(_mm256_mul_ps(x, _mm256_set1_ps(1.44269504088896341f)),
				   _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
	__m256 r = _mm256_fnmadd_ps(k, _mm256_set1_ps(0.693359375f), x);
	r = _mm256_fnmadd_ps(k, _mm256_set1_ps(-2.12194440e-4f), r);
	__m256 p = _mm256_set1_ps(1.9875691500e-4f);
	p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(1.3981999507e-3f));
	p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(8.3334519073e-3f));
	p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(4.1665795894e-2f));
	p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(1.6666665459e-1f));
	p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(5.0000001201e-1f));
	__m256 r2 = _mm256_mul_ps(r, r);
	p = _mm256_fmadd_ps(p, r2, _mm256_add_ps(r, _mm256_set1_ps(1.0f)));
	__m256i e = _mm256_slli_epi32(_mm256_add_epi32(_mm256_cvtps_epi32(k), _mm256_set1_epi32(127)),
				      23);
	p = _mm256_mul_ps(p, _mm256_castsi256_ps(e));
	return _mm256_andnot_ps(zero_mask, p);
}

AVX2 static void softmax_avx2(float *row, int n)
{
	int c = 0, n8 = n & ~7;
	float max = row[0];
	if (n8) {
		__m256 m = _mm256_loadu_ps(row);
		for (c = 8; c < n8; c += 8)
			m = _mm256_max_ps(m, _mm256_loadu_ps(row + c));
		max = hmax_ps(m);
	}
	for (c = n8; c < n; c++)
		if (row[c] > max)
			max = row[c];
	__m256 vmax = _mm256_set1_ps(max), s = _mm256_setzero_ps();
	for (c = 0; c < n8; c += 8) {
		__m256 v = exp_neg(_mm256_sub_ps(_mm256_loadu_ps(row + c), vmax));
		_mm256_storeu_ps(row + c, v);
		s = _mm256_add_ps(s, v);
	}
	float sum = hsum_ps(s);
	if (c < n) { /* the tail through one padded vector */
		float tmp[8];
		for (int i = 0; i < 8; i++)
			tmp[i] = c + i < n ? row[c + i] - max : -INFINITY;
		__m256 v = exp_neg(_mm256_loadu_ps(tmp));
		_mm256_storeu_ps(tmp, v);
		for (int i = 0; c + i < n; i++) {
			row[c + i] = tmp[i];
			sum += tmp[i];
		}
	}
	__m256 inv = _mm256_set1_ps(1.0f / sum);
	for (c = 0; c < n8; c += 8)
		_mm256_storeu_ps(row + c, _mm256_mul_ps(_mm256_loadu_ps(row + c), inv));
	for (; c < n; c++)
		row[c] *= 1.0f / sum;
}

AVX2 static void gelu_avx2(const float *t, float *x, size_t rows, int cols, const float *bias)
{
	const __m256 lo = _mm256_set1_ps(-10.0f), hi = _mm256_set1_ps(10.0f);
	for (size_t r = 0; r < rows; r++, x += cols) {
		int i = 0;
		for (; i + 8 <= cols; i += 8) {
			__m256 v = _mm256_loadu_ps(x + i);
			if (bias)
				v = _mm256_add_ps(v, _mm256_loadu_ps(bias + i));
			/* binary16 bits, nearest even (F16C), as indexes */
			__m128i h = _mm256_cvtps_ph(v, _MM_FROUND_TO_NEAREST_INT);
			__m256i idx = _mm256_cvtepu16_epi32(h);
			__m256 gl = _mm256_i32gather_ps(t, idx, 4);
			__m256 in = _mm256_and_ps(_mm256_cmp_ps(v, lo, _CMP_GT_OQ),
						  _mm256_cmp_ps(v, hi, _CMP_LT_OQ));
			__m256 keep = _mm256_cmp_ps(v, lo, _CMP_NLE_UQ); /* v > -10 or nan */
			/* in range: the table; >= 10 or nan: v; <= -10: 0 */
			_mm256_storeu_ps(x + i, _mm256_blendv_ps(_mm256_and_ps(v, keep), gl, in));
		}
		for (; i < cols; i++) {
			float v = bias ? x[i] + bias[i] : x[i];
			if (v <= -10.0f)
				x[i] = 0.0f;
			else if (v < 10.0f)
				x[i] = t[_cvtss_sh(v, _MM_FROUND_TO_NEAREST_INT)];
			else
				x[i] = v;
		}
	}
}

static const struct nn_kernels avx2 = { "avx2", add_layer_norm_avx2, softmax_avx2, gelu_avx2 };

const struct nn_kernels *nn_kernels_avx2(void)
{
	__builtin_cpu_init();
	if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma"))
		return &avx2;
	return NULL;
}
