/*
 * vscan.c - exact nearest-neighbour scan over int8 vectors.
 *
 * Score of row i for query q: dot(q8, v8_i) * qscale * vscale_i (both
 * vectors symmetric-int8 copies of L2-normalized floats, so this
 * approximates the cosine). The int8 dot product is compiled for AVX-512BW,
 * AVX2 and plain x86-64, the best chosen once at load time by the C
 * library (GCC target_clones). The best `keep` rows are kept in a min-heap.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../common/status.h"
#include "retriever.h"

/* int8 dot product of n values: a (n) . b (n) -> int32 */
__attribute__((target_clones("arch=skylake-avx512", "avx2", "default"))) static int32_t
dot_i8(const int8_t *a, const int8_t *b, int n)
{
	int32_t s = 0;
	for (int i = 0; i < n; i++)
		s += (int32_t)a[i] * (int32_t)b[i];
	return s;
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
	size_t k = 0;
	for (size_t i = 0; i < vs->n; i++) {
		float s = (float)dot_i8(q, vs->q + i * (size_t)d, d) * qs * vs->scale[i];
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
