/*
 * vscan.c - exact nearest-neighbour scan over int8 vectors.
 *
 * Score of row i for query q: dot(q8, v8_i) * qscale * vscale_i (both
 * vectors symmetric-int8 copies of L2-normalized floats, so this
 * approximates the cosine). Rows are scored a block at a time by an AVX2
 * kernel, or a plain one on machines without it. The best `keep` rows are
 * kept in a min-heap.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../common/status.h"
#include "retriever.h"

/* int8 dot products of one query with a block of rows:
 * out[r] = q (d) . rows[r*d .. r*d+d) for r < nrows. The AVX2 kernel widens
 * 16 int8 at a time to int16 and multiply-adds pairs into int32 lanes
 * (|products| <= 127*127, so pairs never overflow); the plain one is for
 * machines without AVX2. Chosen once per scan with __builtin_cpu_supports. */
static void dots_i8_plain(const int8_t *q, const int8_t *rows, size_t nrows, int d, int32_t *out)
{
	for (size_t r = 0; r < nrows; r++) {
		const int8_t *v = rows + r * (size_t)d;
		int32_t s = 0;
		for (int i = 0; i < d; i++)
			s += (int32_t)q[i] * (int32_t)v[i];
		out[r] = s;
	}
}

#if defined(__x86_64__) && defined(__GNUC__)
#include <immintrin.h>
__attribute__((target("avx2"))) static void dots_i8_avx2(const int8_t *q, const int8_t *rows,
							   size_t nrows, int d, int32_t *out)
{
	int d16 = d & ~15;
	for (size_t r = 0; r < nrows; r++) {
		const int8_t *v = rows + r * (size_t)d;
		__m256i acc0 = _mm256_setzero_si256(), acc1 = _mm256_setzero_si256();
		int i = 0;
		for (; i + 32 <= d16; i += 32) {
			__m256i a0 = _mm256_cvtepi8_epi16(_mm_loadu_si128((const __m128i *)(q + i)));
			__m256i b0 = _mm256_cvtepi8_epi16(_mm_loadu_si128((const __m128i *)(v + i)));
			__m256i a1 = _mm256_cvtepi8_epi16(
				_mm_loadu_si128((const __m128i *)(q + i + 16)));
			__m256i b1 = _mm256_cvtepi8_epi16(
				_mm_loadu_si128((const __m128i *)(v + i + 16)));
			acc0 = _mm256_add_epi32(acc0, _mm256_madd_epi16(a0, b0));
			acc1 = _mm256_add_epi32(acc1, _mm256_madd_epi16(a1, b1));
		}
		for (; i < d16; i += 16) {
			__m256i a = _mm256_cvtepi8_epi16(_mm_loadu_si128((const __m128i *)(q + i)));
			__m256i b = _mm256_cvtepi8_epi16(_mm_loadu_si128((const __m128i *)(v + i)));
			acc0 = _mm256_add_epi32(acc0, _mm256_madd_epi16(a, b));
		}
		__m256i acc = _mm256_add_epi32(acc0, acc1);
		__m128i h = _mm_add_epi32(_mm256_castsi256_si128(acc),
					  _mm256_extracti128_si256(acc, 1));
		h = _mm_add_epi32(h, _mm_shuffle_epi32(h, 0x4e));
		h = _mm_add_epi32(h, _mm_shuffle_epi32(h, 0xb1));
		int32_t s = _mm_cvtsi128_si32(h);
		for (; i < d; i++)
			s += (int32_t)q[i] * (int32_t)v[i];
		out[r] = s;
	}
}
#endif

typedef void (*dots_fn)(const int8_t *, const int8_t *, size_t, int, int32_t *);

static dots_fn dots_pick(void)
{
#if defined(__x86_64__) && defined(__GNUC__)
	__builtin_cpu_init();
	if (__builtin_cpu_supports("avx2"))
		return dots_i8_avx2;
#endif
	return dots_i8_plain;
}

static void sift_down(struct ret_cand *h, size_t n, size_t i)
{
	for (;;) {
		size_t l = 2 * i + 1, r = l + 1, m = i;
		if (l < n && h[l].score < h[m].score)
			m = l;
		if (r < n && h[r].score < h[m].score)
			m = r;
		if (m == i)
			return;
		struct ret_cand t = h[i];
		h[i] = h[m];
		h[m] = t;
		i = m;
	}
}

static int cand_desc(const void *a, const void *b)
{
	float x = ((const struct ret_cand *)a)->score, y = ((const struct ret_cand *)b)->score;
	return x < y ? 1 : x > y ? -1 : 0;
}

int ret_vscan(const struct store_vecset *vs, const float *query, size_t keep, struct ret_cand **out,
	      size_t *n)
{
	*out = NULL;
	*n = 0;
	if (keep == 0 || vs->n == 0)
		return 0;
	int d = vs->dims;
	int8_t *q = malloc((size_t)d);
	struct ret_cand *h = malloc((keep < vs->n ? keep : vs->n) * sizeof *h);
	if (!q || !h) {
		free(q);
		free(h);
		return MX_ENOMEM;
	}
	float mx = 0;
	for (int i = 0; i < d; i++)
		mx = query[i] > mx ? query[i] : -query[i] > mx ? -query[i] : mx;
	float qs = mx > 0 ? mx / 127.0f : 1.0f;
	for (int i = 0; i < d; i++) {
		float x = query[i] / qs;
		q[i] = (int8_t)(x > 127 ? 127 : x < -127 ? -127 : (x < 0 ? x - 0.5f : x + 0.5f));
	}
	enum { BLOCK = 256 };
	int32_t dots[BLOCK];
	dots_fn dots_i8 = dots_pick();
	size_t k = 0;
	for (size_t i = 0; i < vs->n; i++) {
		if (i % BLOCK == 0)
			dots_i8(q, vs->q + i * (size_t)d, vs->n - i < BLOCK ? vs->n - i : BLOCK, d,
				dots);
		float s = (float)dots[i % BLOCK] * qs * vs->scale[i];
		if (k < keep && k < vs->n) {
			h[k++] = (struct ret_cand){ vs->chunk_id[i], vs->doc_id[i], s };
			if (k == keep || k == vs->n)
				for (size_t j = k / 2; j-- > 0;)
					sift_down(h, k, j);
		} else if (s > h[0].score) {
			h[0] = (struct ret_cand){ vs->chunk_id[i], vs->doc_id[i], s };
			sift_down(h, k, 0);
		}
	}
	qsort(h, k, sizeof *h, cand_desc);
	free(q);
	*out = h;
	*n = k;
	return 0;
}
