/*
 * qmat.h - products of quantized weight matrices with float activations,
 * the inner loop of the chat model (and of anything else that multiplies
 * by GGUF weights in place, without dequantizing them first).
 *
 * A weight matrix W is a GGUF tensor of shape [k, rows]: rows rows of k
 * values of type wtype, each row k / blck blocks (quant.h), rows packed
 * one after another (row r starts at r * qmat_row_bytes(wtype, k)). W is
 * borrowed (typically the mmapped model file), only read, and may have any
 * alignment.
 *
 * Activations are prepared once per input vector into the format the
 * kernels for wtype want (qmat_act_prepare). Callers treat the prepared
 * form as opaque bytes of qmat_act_bytes(wtype, k); each prepared vector
 * must start at a multiple of 4 bytes (malloc'd buffers with act_stride =
 * qmat_act_bytes(), which is a multiple of 64, are). The formats, for k
 * values, are the same for every kernel family:
 *
 *   Q4_0, Q4_1, Q5_0,    int8 q[k]; float d[k / 32]; float s[k / 32]
 *   Q5_1, Q8_0 weights   ggml's Q8_0 quantization of x per block b of 32
 *       values: amax = max |x|, d = amax / 127, q = round-to-nearest-even
 *       (x / d); s = d * sum of the block's q, as ggml's Q8_1 (for the
 *       weights' minimums of Q4_1/Q5_1). ggml keeps d and s in half
 *       precision; we keep the floats.
 *   Q4_K, Q5_K, Q6_K     int8 q[k]; float d[k / 256]; int16 bsums[k / 16]
 *       ggml's Q8_K: the same per super-block of 256 values, plus the sum
 *       of each 16 q (the K-quant kernels fold the weights' minimums and
 *       offsets in with them).
 *   every other type     float x[k] (exact; F32/F16/BF16 weights are
 *       converted to float and multiplied in float, and the types without
 *       an integer kernel are dequantized block by block).
 *
 * Accuracy: the integer paths differ from the exact product only by the
 * rounding of x to d * q, at most d / 2 = amax(block) / 254 per value, so
 * |y - exact| <= sum over blocks of amax_b / 254 * sum_b |w| (plus float
 * rounding). tests/test_qmat.c checks that bound against a float
 * oracle, and every SIMD family against the plain-C one on the same
 * prepared activations (there only float summation order differs).
 *
 * Shapes:
 *   qmat_gemm: Y[i * ldy + r] = sum_j W[r][j] * X_i[j]
 *              for i < n (prepared activations act + i * act_stride) and
 *              r0 <= r < r1. Rows outside [r0, r1) are not touched, so
 *              threads split a product by row ranges.
 * k must be a multiple of the type's block length (qmat_supported()).
 * With n > 1 each weight block is decoded once for up to 4 activation
 * rows (prefill; the avx512 family takes 4 weight rows x 4 activation
 * rows per register tile); from n = 8 on, the avx512 and avx2 families
 * multiply the integer types but Q8_1/Q2_K/Q3_K (and, with avx2, Q4_K) on
 * token panels instead: the prepared activations of 8 to 32 tokens
 * transposed so that each lane of an integer dot holds one token's block
 * dot (qmat_x86.inc), some 1.5 (avx2) to 2.5 (avx512) times the int8
 * throughput of the row kernels. With n == 1 the weights stream through
 * once (decode).
 *
 * Kernel families: "ref" (plain C, any machine), "avx2" (AVX2 + FMA +
 * F16C) and "avx512" (AVX-512 F/BW/VL with VNNI for the integer dots and
 * 512-bit float kernels). The best one the CPU has is picked at the first
 * product; the environment variable MEMEX_KERNELS=ref|avx2|avx512|exact
 * forces one (ignored, with the automatic choice, when the CPU lacks it).
 * "exact" is the oracle, never picked by itself: float activations for
 * every type and each weight block dequantized (quant_ref.c), exact to
 * float rounding and slow; its prepared activations are floats, so its
 * products take only activations it prepared (qmat_act_bytes and
 * qmat_act_prepare follow the family in use, so callers that keep to the
 * default family never see the difference).
 */
#ifndef MX_QMAT_H
#define MX_QMAT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Whether products with weights of wtype and rows of k values work. */
bool qmat_supported(uint32_t wtype, uint64_t k);
/* Bytes of one weight row. */
size_t qmat_row_bytes(uint32_t wtype, uint64_t k);
/* Bytes of one prepared activation vector of k values (a multiple of 64),
 * for the default family (see "exact" below). */
size_t qmat_act_bytes(uint32_t wtype, uint64_t k);
/* x (k floats) -> act (qmat_act_bytes(wtype, k) bytes, caller's). */
void qmat_act_prepare(uint32_t wtype, const float *x, uint64_t k, void *act);
/* The product above. W rows of wtype, k values each. */
void qmat_gemm(uint32_t wtype, const void *W, uint64_t k, const void *act, size_t act_stride,
	       size_t n, uint64_t r0, uint64_t r1, float *Y, size_t ldy);

/* ---- kernel families (tests and benchmarks) ------------------------------ */

/* A kernel family; static storage, never freed. */
struct qmat_kernels;

/* The family called name ("ref", "avx2", "avx512", "exact"), or NULL when the name
 * is unknown or this CPU lacks the instructions it needs. */
const struct qmat_kernels *qmat_kernels_get(const char *name);
/* The family qmat_gemm() uses (chosen once, see above). */
const struct qmat_kernels *qmat_kernels_default(void);
/* Its name, static storage. */
const char *qmat_kernels_name(const struct qmat_kernels *kk);
/* qmat_act_bytes() and qmat_act_prepare() for the family kk (every
 * family but "exact" prepares the same bytes; the SIMD ones faster). */
size_t qmat_act_bytes_with(const struct qmat_kernels *kk, uint32_t wtype, uint64_t k);
void qmat_act_prepare_with(const struct qmat_kernels *kk, uint32_t wtype, const float *x,
			   uint64_t k, void *act);
/* qmat_gemm() with the family kk. */
void qmat_gemm_with(const struct qmat_kernels *kk, uint32_t wtype, const void *W, uint64_t k,
		    const void *act, size_t act_stride, size_t n, uint64_t r0, uint64_t r1,
		    float *Y, size_t ldy);

#endif
