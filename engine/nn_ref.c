/*
 * nn_ref.c - the reference element-wise kernels (nn.h), and the choice of
 * the kernel set for this CPU.
 */
#include <math.h>
#include <stdbool.h>
#include <string.h>

#include "nn.h"
#include "quant.h"

void nn_gelu_table(float *t)
{
	for (uint32_t i = 0; i < 65536; i++) {
		float x = quant_f16_to_f32((uint16_t)i);
		float g = 0.5f * x * (1.0f + tanhf(0.7978845608f * x * (1.0f + 0.044715f * x * x)));
		t[i] = quant_f16_to_f32(quant_f32_to_f16(g));
	}
}

/* The binary16 bits of v for |v| < 10 (no overflow, no nan), rounded to
 * nearest even like quant_f32_to_f16() but branch-light for the hot loop: a
 * normal result rounds by adding 0xfff plus the lowest kept bit; a
 * subnormal one by adding 0.5f, whose unit in the last place is 2^-24,
 * the binary16 subnormal step. */
static inline uint32_t f16_small(float v)
{
	uint32_t x, ax, h;
	memcpy(&x, &v, sizeof x);
	ax = x & 0x7fffffffu;
	if (ax < 0x38800000u) {
		float a = fabsf(v) + 0.5f;
		memcpy(&h, &a, sizeof h);
		h -= 0x3f000000u;
	} else {
		h = ((ax + 0xfffu + ((ax >> 13) & 1)) >> 13) - 0x1c000u;
	}
	return ((x >> 16) & 0x8000u) | h;
}

static void gelu_ref(const float *t, float *x, size_t rows, int cols, const float *bias)
{
	for (size_t r = 0; r < rows; r++, x += cols)
		for (int i = 0; i < cols; i++) {
			float v = bias ? x[i] + bias[i] : x[i];
			if (v <= -10.0f)
				x[i] = 0.0f;
			else if (v < 10.0f)
				x[i] = t[f16_small(v)];
			else
				x[i] = v;
		}
}

static void add_layer_norm_ref(float *x, const float *y, const float *yb, int n, const float *g,
			       const float *b, float eps)
{
	if (y)
		for (int i = 0; i < n; i++)
			x[i] += yb ? y[i] + yb[i] : y[i];
	double sum = 0;
	for (int i = 0; i < n; i++)
		sum += x[i];
	float mean = (float)(sum / n);
	double var = 0;
	for (int i = 0; i < n; i++) {
		x[i] -= mean;
		var += (double)x[i] * x[i];
	}
	float scale = 1.0f / sqrtf((float)(var / n) + eps);
	for (int i = 0; i < n; i++)
		x[i] = x[i] * scale * g[i] + b[i];
}

static void softmax_ref(float *row, int n)
{
	float max = row[0];
	for (int c = 1; c < n; c++)
		if (row[c] > max)
			max = row[c];
	double sum = 0;
	for (int c = 0; c < n; c++) {
		row[c] = expf(row[c] - max);
		sum += row[c];
	}
	float inv = (float)(1.0 / sum);
	for (int c = 0; c < n; c++)
		row[c] *= inv;
}

static const struct nn_kernels ref = { "reference", add_layer_norm_ref, softmax_ref, gelu_ref };

const struct nn_kernels *nn_kernels_ref(void)
{
	return &ref;
}

const struct nn_kernels *nn_kernels_best(void)
{
	const struct nn_kernels *k = nn_kernels_avx2();
	return k ? k : &ref;
}
