/*
 * qmat_int.h - internals shared by the qmat kernel families: the prepared
 * activation layouts of qmat.h and the per-row kernel each family gives
 * for each weight type.
 *
 * A row kernel computes one weight row against na <= QMAT_NA prepared
 * activation vectors:
 *     y[i * ldy] = sum_j w[j] * X_i[j]   for i < na,
 * X_i at act + i * act_stride. qmat.c's driver walks row tiles and
 * activation groups and calls it (or, for n > 1, a four-row or two-row
 * kernel where the family has one); a family without a kernel for a type
 * (NULL) falls back to the plain-C one.
 */
#ifndef MX_QMAT_INT_H
#define MX_QMAT_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "gguf.h"

/* QMAT_PANEL_MIN: the fewest activation vectors for which the driver
 * hands a product to a family's whole-product kernel (gemm below). */
enum { QMAT_NA = 4, QMAT_PANEL_MIN = 8 };

typedef void (*qmat_row_fn)(const uint8_t *w, uint64_t k, const uint8_t *act, size_t act_stride,
			    size_t na, float *y, size_t ldy);
/* The same for two rows, w and w + rb: y[i * ldy] and y[i * ldy + 1]. */
typedef void (*qmat_rows2_fn)(const uint8_t *w, size_t rb, uint64_t k, const uint8_t *act,
			      size_t act_stride, size_t na, float *y, size_t ldy);

/* The whole product of qmat_gemm() (qmat.h) for n >= QMAT_PANEL_MIN; false
 * (nothing written) when its scratch could not be allocated. */
typedef bool (*qmat_gemm_fn)(const uint8_t *w, uint64_t k, const uint8_t *act, size_t act_stride,
			     size_t n, uint64_t r0, uint64_t r1, float *y, size_t ldy);

/* Indexes of the types with their own kernels. */
enum qmat_slot {
	QS_F32,
	QS_F16,
	QS_BF16,
	QS_Q8_0,
	QS_Q4_0,
	QS_Q4_1,
	QS_Q5_0,
	QS_Q5_1,
	QS_Q4_K,
	QS_Q5_K,
	QS_Q6_K,
	QS_N
};

/* x (n values, n a multiple of 32) -> q with one scale, returned:
 * d = amax / 127, q = round-to-nearest-even(x * (1 / d)) clamped to
 * [-127, 127], NaN to 0, ignoring NaN in amax. Every family's version gives
 * the same bytes as the plain-C one (qmat_ref_quant). */
typedef float (*qmat_quant_fn)(const float *x, int n, int8_t *q);

struct qmat_kernels {
	const char *name;
	bool exact; /* float activations and the dequantizing kernel for every type */
	qmat_row_fn row[QS_N];
	qmat_quant_fn quant;
	qmat_rows2_fn rows2[QS_N]; /* optional, for n > 1 */
	qmat_rows2_fn rows4[QS_N]; /* optional, for n > 1: four rows, w + r * rb for r < 4,
				      y[i * ldy + r] */
	qmat_gemm_fn gemm[QS_N];   /* optional, for n >= QMAT_PANEL_MIN */
};

float qmat_ref_quant(const float *x, int n, int8_t *q);

extern const struct qmat_kernels qmat_kernels_exact;
extern const struct qmat_kernels qmat_kernels_ref;
extern const struct qmat_kernels qmat_kernels_avx2;
extern const struct qmat_kernels qmat_kernels_avx512;

/* The plain-C dequantize-and-multiply kernel for the types without a slot
 * (float activations). */
void qmat_ref_row_dequant(uint32_t wtype, const uint8_t *w, uint64_t k, const uint8_t *act,
			  size_t act_stride, size_t na, float *y, size_t ldy);

/* ---- prepared activations ------------------------------------------------- */

/* Q8_0 form (32-block weights): int8 q[k]; float d[k / 32]; float s[k / 32]
 * (s = d * sum of the block's q, for the weights' minimums). */
static inline const int8_t *qmat_a8_q(const uint8_t *act)
{
	return (const int8_t *)act;
}
static inline const float *qmat_a8_d(const uint8_t *act, uint64_t k)
{
	return (const float *)(const void *)(act + k);
}
static inline const float *qmat_a8_s(const uint8_t *act, uint64_t k)
{
	return (const float *)(const void *)(act + k + 4 * (k / 32));
}
/* Q8_K form (K-quants): int8 q[k]; float d[k / 256]; int16 bsums[k / 16]. */
static inline const int16_t *qmat_ak_bsums(const uint8_t *act, uint64_t k)
{
	return (const int16_t *)(const void *)(act + k + 4 * (k / 256));
}

/* Little-endian scalars at any alignment. */
static inline uint16_t qmat_rd16(const uint8_t *p)
{
	return (uint16_t)(p[0] | p[1] << 8);
}
static inline uint32_t qmat_rd32(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

/* 6-bit scale and min j of a Q4_K/Q5_K super-block's 12 scale bytes. */
static inline void qmat_k4_scale_min(const uint8_t *s, int j, int *sc, int *m)
{
	if (j < 4) {
		*sc = s[j] & 63;
		*m = s[j + 4] & 63;
	} else {
		*sc = (s[j + 4] & 0x0f) | (s[j - 4] >> 6) << 4;
		*m = (s[j + 4] >> 4) | (s[j] >> 6) << 4;
	}
}

#endif
