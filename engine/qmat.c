/*
 * qmat.c - the plain-C reference for qmat.h: float32 activations, each
 * weight block dequantized (quant_ref.c) and multiplied in float. Slow
 * but exact to float rounding; SIMD kernels are checked against it.
 */
#include "qmat.h"

#include <string.h>

#include "quant.h"

enum { QMAT_MAX_BLCK = 256 };

bool qmat_supported(uint32_t wtype, uint64_t k)
{
	uint32_t blck, size;
	if (!quant_layout(wtype, &blck, &size) || !quant_can_dequant(wtype))
		return false;
	return blck <= QMAT_MAX_BLCK && k > 0 && k % blck == 0;
}

size_t qmat_row_bytes(uint32_t wtype, uint64_t k)
{
	uint32_t blck, size;
	if (!quant_layout(wtype, &blck, &size) || blck == 0)
		return 0;
	return (size_t)(k / blck) * size;
}

size_t qmat_act_bytes(uint32_t wtype, uint64_t k)
{
	(void)wtype;
	return (size_t)k * sizeof(float);
}

void qmat_act_prepare(uint32_t wtype, const float *x, uint64_t k, void *act)
{
	(void)wtype;
	memcpy(act, x, (size_t)k * sizeof *x);
}

/* one row of W against one float vector, a block at a time */
static float row_dot(uint32_t wtype, uint32_t blck, uint32_t size, const uint8_t *w,
		     const float *x, uint64_t k)
{
	float tmp[QMAT_MAX_BLCK];
	double sum = 0;
	for (uint64_t j = 0; j < k; j += blck, w += size) {
		quant_dequant_row(wtype, w, tmp, blck);
		float s = 0;
		for (uint32_t t = 0; t < blck; t++)
			s += tmp[t] * x[j + t];
		sum += s;
	}
	return (float)sum;
}

void qmat_gemm(uint32_t wtype, const void *W, uint64_t k, const void *act, size_t act_stride,
	       size_t n, uint64_t r0, uint64_t r1, float *Y, size_t ldy)
{
	uint32_t blck, size;
	if (!qmat_supported(wtype, k) || !quant_layout(wtype, &blck, &size))
		return;
	size_t rb = qmat_row_bytes(wtype, k);
	for (size_t i = 0; i < n; i++) {
		const float *x = (const float *)((const uint8_t *)act + i * act_stride);
		for (uint64_t r = r0; r < r1; r++)
			Y[i * ldy + r] = row_dot(wtype, blck, size, (const uint8_t *)W + r * rb, x, k);
	}
}
