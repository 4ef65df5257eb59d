/*
 * qmat_ref.c - the plain-C kernel family of qmat: each row kernel takes the
 * prepared activations of qmat.h, forms the integer dot product of every
 * (sub-)block exactly, and combines the blocks in float with the weight and
 * activation scales. The SIMD families must agree with it up to float
 * summation order; it in turn agrees with the exact float product up to the
 * activation rounding (qmat.h).
 */
#include <math.h>
#include <string.h>

#include "qmat_int.h"
#include "quant.h"

/* ---- float weights (float activations) ------------------------------------- */

static float dot_f32(const uint8_t *w, const float *x, uint64_t k)
{
	float s = 0;
	for (uint64_t j = 0; j < k; j++) {
		float v;
		memcpy(&v, w + 4 * j, 4);
		s += v * x[j];
	}
	return s;
}

static float dot_f16(const uint8_t *w, const float *x, uint64_t k)
{
	float s = 0;
	for (uint64_t j = 0; j < k; j++)
		s += quant_f16_to_f32(qmat_rd16(w + 2 * j)) * x[j];
	return s;
}

static float dot_bf16(const uint8_t *w, const float *x, uint64_t k)
{
	float s = 0;
	for (uint64_t j = 0; j < k; j++)
		s += quant_bf16_to_f32(qmat_rd16(w + 2 * j)) * x[j];
	return s;
}

/* ---- 32-blocks against Q8_0 activations ---------------------------------- */

static float dot_q8_0(const uint8_t *w, const uint8_t *act, uint64_t k)
{
	const int8_t *q = qmat_a8_q(act);
	const float *d = qmat_a8_d(act, k);
	float s = 0;
	for (uint64_t b = 0; b < k / 32; b++, w += 34, q += 32) {
		const int8_t *wq = (const int8_t *)(w + 2);
		int sum = 0;
		for (int j = 0; j < 32; j++)
			sum += wq[j] * q[j];
		s += quant_f16_to_f32(qmat_rd16(w)) * d[b] * (float)sum;
	}
	return s;
}

static float dot_q4_0(const uint8_t *w, const uint8_t *act, uint64_t k)
{
	const int8_t *q = qmat_a8_q(act);
	const float *d = qmat_a8_d(act, k);
	float s = 0;
	for (uint64_t b = 0; b < k / 32; b++, w += 18, q += 32) {
		const uint8_t *qs = w + 2;
		int sum = 0;
		for (int j = 0; j < 16; j++)
			sum += ((qs[j] & 15) - 8) * q[j] + ((qs[j] >> 4) - 8) * q[j + 16];
		s += quant_f16_to_f32(qmat_rd16(w)) * d[b] * (float)sum;
	}
	return s;
}

/* Q4_1, Q5_0, Q5_1: value j of a block (nibble, plus the fifth bit from
 * qh), before offset or minimum. */
static int q5_bit(uint32_t qh, int j)
{
	return (int)((qh >> j) & 1) << 4;
}

static float dot_q4_1(const uint8_t *w, const uint8_t *act, uint64_t k)
{
	const int8_t *q = qmat_a8_q(act);
	const float *d = qmat_a8_d(act, k), *sa = qmat_a8_s(act, k);
	float s = 0;
	for (uint64_t b = 0; b < k / 32; b++, w += 20, q += 32) {
		const uint8_t *qs = w + 4;
		int sum = 0;
		for (int j = 0; j < 16; j++)
			sum += (qs[j] & 15) * q[j] + (qs[j] >> 4) * q[j + 16];
		s += quant_f16_to_f32(qmat_rd16(w)) * d[b] * (float)sum +
		     quant_f16_to_f32(qmat_rd16(w + 2)) * sa[b];
	}
	return s;
}

static float dot_q5_0(const uint8_t *w, const uint8_t *act, uint64_t k)
{
	const int8_t *q = qmat_a8_q(act);
	const float *d = qmat_a8_d(act, k);
	float s = 0;
	for (uint64_t b = 0; b < k / 32; b++, w += 22, q += 32) {
		uint32_t qh = qmat_rd32(w + 2);
		const uint8_t *qs = w + 6;
		int sum = 0;
		for (int j = 0; j < 16; j++)
			sum += (((qs[j] & 15) | q5_bit(qh, j)) - 16) * q[j] +
			       (((qs[j] >> 4) | q5_bit(qh, j + 16)) - 16) * q[j + 16];
		s += quant_f16_to_f32(qmat_rd16(w)) * d[b] * (float)sum;
	}
	return s;
}

static float dot_q5_1(const uint8_t *w, const uint8_t *act, uint64_t k)
{
	const int8_t *q = qmat_a8_q(act);
	const float *d = qmat_a8_d(act, k), *sa = qmat_a8_s(act, k);
	float s = 0;
	for (uint64_t b = 0; b < k / 32; b++, w += 24, q += 32) {
		uint32_t qh = qmat_rd32(w + 4);
		const uint8_t *qs = w + 8;
		int sum = 0;
		for (int j = 0; j < 16; j++)
			sum += ((qs[j] & 15) | q5_bit(qh, j)) * q[j] +
			       ((qs[j] >> 4) | q5_bit(qh, j + 16)) * q[j + 16];
		s += quant_f16_to_f32(qmat_rd16(w)) * d[b] * (float)sum +
		     quant_f16_to_f32(qmat_rd16(w + 2)) * sa[b];
	}
	return s;
}

/* ---- K-quants against Q8_K activations ------------------------------------- */

/* Q4_K (q5 false) and Q5_K: sum_b d da sum_j sc_j (q_j . a_j) - dmin da
 * sum_j m_j bsum32_j over the 8 sub-blocks j of 32. */
static float dot_k45(const uint8_t *w, const uint8_t *act, uint64_t k, bool q5)
{
	const int8_t *q = qmat_a8_q(act);
	const float *da = qmat_a8_d(act, k);
	const int16_t *bs = qmat_ak_bsums(act, k);
	const size_t bsz = q5 ? 176 : 144;
	float s = 0;
	for (uint64_t b = 0; b < k / 256; b++, w += bsz, q += 256, bs += 16) {
		const uint8_t *qh = w + 16, *qs = w + (q5 ? 48 : 16);
		int sumi = 0, summ = 0;
		for (int j = 0; j < 8; j++) {
			int sc, m;
			qmat_k4_scale_min(w + 4, j, &sc, &m);
			const uint8_t *c = qs + 32 * (j / 2);
			int shift = 4 * (j & 1), sub = 0;
			for (int l = 0; l < 32; l++) {
				int v = (c[l] >> shift) & 15;
				if (q5)
					v |= ((qh[l] >> j) & 1) << 4;
				sub += v * q[32 * j + l];
			}
			sumi += sc * sub;
			summ += m * (bs[2 * j] + bs[2 * j + 1]);
		}
		s += quant_f16_to_f32(qmat_rd16(w)) * da[b] * (float)sumi -
		     quant_f16_to_f32(qmat_rd16(w + 2)) * da[b] * (float)summ;
	}
	return s;
}

static float dot_q4_k(const uint8_t *w, const uint8_t *act, uint64_t k)
{
	return dot_k45(w, act, k, false);
}

static float dot_q5_k(const uint8_t *w, const uint8_t *act, uint64_t k)
{
	return dot_k45(w, act, k, true);
}

static float dot_q6_k(const uint8_t *w, const uint8_t *act, uint64_t k)
{
	const int8_t *q = qmat_a8_q(act);
	const float *da = qmat_a8_d(act, k);
	float s = 0;
	for (uint64_t b = 0; b < k / 256; b++, w += 210, q += 256) {
		const uint8_t *ql = w, *qh = w + 128;
		const int8_t *sc = (const int8_t *)(w + 192);
		int sumi = 0;
		for (int h = 0; h < 2; h++) {
			for (int g = 0; g < 4; g++) { /* values 128h + 32g + l */
				const uint8_t *lo = ql + 64 * h + 32 * (g & 1);
				int shift = 4 * (g >> 1);
				for (int half = 0; half < 2; half++) {
					int sub = 0;
					for (int l = 16 * half; l < 16 * half + 16; l++) {
						int v = ((lo[l] >> shift) & 15) |
							((qh[32 * h + l] >> (2 * g)) & 3) << 4;
						sub += (v - 32) * q[128 * h + 32 * g + l];
					}
					sumi += sc[8 * h + 2 * g + half] * sub;
				}
			}
		}
		s += quant_f16_to_f32(qmat_rd16(w + 208)) * da[b] * (float)sumi;
	}
	return s;
}

/* ---- activation quantization ------------------------------------------------ */

/* qmat_int.h; nearbyintf rounds ties to even in the default rounding mode */
float qmat_ref_quant(const float *x, int n, int8_t *q)
{
	float amax = 0;
	for (int j = 0; j < n; j++) {
		float a = fabsf(x[j]);
		amax = a > amax ? a : amax;
	}
	float d = amax / 127.0f, id = d != 0 ? 1.0f / d : 0.0f;
	for (int j = 0; j < n; j++) {
		float v = nearbyintf(x[j] * id);
		/* NaN (from a hostile model's inf/NaN activations) becomes 0 */
		v = v > 127.0f ? 127.0f : v < -127.0f ? -127.0f : v == v ? v : 0.0f;
		q[j] = (int8_t)v;
	}
	return d;
}

/* ---- row kernels --------------------------------------------------------------- */

#define REF_ROW_FLOAT(name, dot)                                                                   \
	static void name(const uint8_t *w, uint64_t k, const uint8_t *act, size_t act_stride,      \
			 size_t na, float *y, size_t ldy)                                          \
	{                                                                                          \
		for (size_t i = 0; i < na; i++)                                                    \
			y[i * ldy] =                                                               \
				dot(w, (const float *)(const void *)(act + i * act_stride), k);    \
	}
#define REF_ROW_INT(name, dot)                                                                     \
	static void name(const uint8_t *w, uint64_t k, const uint8_t *act, size_t act_stride,      \
			 size_t na, float *y, size_t ldy)                                          \
	{                                                                                          \
		for (size_t i = 0; i < na; i++)                                                    \
			y[i * ldy] = dot(w, act + i * act_stride, k);                              \
	}

REF_ROW_FLOAT(row_f32, dot_f32)
REF_ROW_FLOAT(row_f16, dot_f16)
REF_ROW_FLOAT(row_bf16, dot_bf16)
REF_ROW_INT(row_q8_0, dot_q8_0)
REF_ROW_INT(row_q4_0, dot_q4_0)
REF_ROW_INT(row_q4_1, dot_q4_1)
REF_ROW_INT(row_q5_0, dot_q5_0)
REF_ROW_INT(row_q5_1, dot_q5_1)
REF_ROW_INT(row_q4_k, dot_q4_k)
REF_ROW_INT(row_q5_k, dot_q5_k)
REF_ROW_INT(row_q6_k, dot_q6_k)

const struct qmat_kernels qmat_kernels_ref = {
	.name = "ref",
	.row = { [QS_F32] = row_f32,
		 [QS_F16] = row_f16,
		 [QS_BF16] = row_bf16,
		 [QS_Q8_0] = row_q8_0,
		 [QS_Q4_0] = row_q4_0,
		 [QS_Q4_1] = row_q4_1,
		 [QS_Q5_0] = row_q5_0,
		 [QS_Q5_1] = row_q5_1,
		 [QS_Q4_K] = row_q4_k,
		 [QS_Q5_K] = row_q5_k,
		 [QS_Q6_K] = row_q6_k },
	.quant = qmat_ref_quant,
};

/* The exact family: no row kernels, every type dequantized (below). */
const struct qmat_kernels qmat_kernels_exact = {
	.name = "exact",
	.exact = true,
	.quant = qmat_ref_quant,
};

/* Types without a slot (and every type in the exact family): each block dequantized (quant_ref.c), then a float
 * dot with the float activations. */
void qmat_ref_row_dequant(uint32_t wtype, const uint8_t *w, uint64_t k, const uint8_t *act,
			  size_t act_stride, size_t na, float *y, size_t ldy)
{
	enum { MAX_BLCK = 256 };
	float tmp[MAX_BLCK];
	uint32_t blck, size;
	if (!quant_layout(wtype, &blck, &size) || blck > MAX_BLCK)
		return;
	for (size_t i = 0; i < na; i++) {
		const float *x = (const float *)(const void *)(act + i * act_stride);
		const uint8_t *p = w;
		double sum = 0;
		for (uint64_t j = 0; j < k; j += blck, p += size) {
			quant_dequant_row(wtype, p, tmp, blck);
			float s = 0;
			for (uint32_t t = 0; t < blck; t++)
				s += tmp[t] * x[j + t];
			sum += s;
		}
		y[i * ldy] = (float)sum;
	}
}
