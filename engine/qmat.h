/*
 * qmat.h - products of quantized weight matrices with float activations,
 * the inner loop of the chat model (and of anything else that multiplies
 * by GGUF weights in place, without dequantizing them first).
 *
 * A weight matrix W is a GGUF tensor of shape [k, rows]: rows rows of k
 * values of type wtype, each row k / blck blocks (quant.h), rows packed
 * one after another (row r starts at r * qmat_row_bytes(wtype, k)). W is
 * borrowed (typically the mmapped model file) and only read.
 *
 * Activations are prepared once per input vector into the format the
 * kernels for wtype want (qmat_act_prepare): the reference keeps float32,
 * faster kernels may quantize them (Q8_0 for 32-blocks, Q8_K for
 * K-quants) the way ggml does. Callers treat the prepared form as opaque
 * bytes of qmat_act_bytes(wtype, k).
 *
 * Shapes:
 *   qmat_gemm: Y[i * ldy + r] = sum_j W[r][j] * X_i[j]
 *              for i < n (prepared activations act + i * act_stride) and
 *              r0 <= r < r1. Rows outside [r0, r1) are not touched, so
 *              threads split a product by row ranges.
 * k must be a multiple of the type's block length (qmat_supported()).
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
/* Bytes of one prepared activation vector of k values. */
size_t qmat_act_bytes(uint32_t wtype, uint64_t k);
/* x (k floats) -> act (qmat_act_bytes(wtype, k) bytes, caller's). */
void qmat_act_prepare(uint32_t wtype, const float *x, uint64_t k, void *act);
/* The product above. W rows of wtype, k values each. */
void qmat_gemm(uint32_t wtype, const void *W, uint64_t k, const void *act, size_t act_stride,
	       size_t n, uint64_t r0, uint64_t r1, float *Y, size_t ldy);

#endif
