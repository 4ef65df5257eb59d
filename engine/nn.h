/*
 * nn.h - the element-wise kernels of the encoders' forward passes (the
 * matrix products are BLAS): a plain-C reference (nn_ref.c) and AVX2
 * versions (nn_avx2.c) with the same contracts, one set chosen at run time
 * by what the CPU has. test_bert compares every fast kernel with its
 * reference.
 */
#ifndef MX_NN_H
#define MX_NN_H

#include <stddef.h>
#include <stdint.h>

struct nn_kernels {
	const char *name; /* "reference", "avx2" */
	/* x (n) := LayerNorm(x + y + yb) = (z - mean) / sqrt(var + eps) * g + b
	 * with z = x + y + yb (y and yb may be NULL: left out; yb is the bias
	 * of the product that made y). Sums in double (reference) or in lanes
	 * of double (avx2): results agree to a few float ulps. */
	void (*add_layer_norm)(float *x, const float *y, const float *yb, int n, const float *g,
			       const float *b, float eps);
	/* row (n) := softmax(row), n >= 1. exp is expf (reference) or a
	 * polynomial within 2 ulps of it (avx2). */
	void (*softmax)(float *row, int n);
	/* x (rows, cols) := GELU(x + bias) (bias: cols, or NULL), GELU read
	 * from table (65536 floats: GELU of each binary16 value, nn_gelu_table)
	 * at its argument rounded to binary16 (nearest even); 0 for <= -10, the
	 * argument itself for >= 10 (and nan). Both versions give the same
	 * bits. */
	void (*gelu)(const float *table, float *x, size_t rows, int cols, const float *bias);
};

/* The kernels for this CPU (static; chosen on the first call). */
const struct nn_kernels *nn_kernels_best(void);
/* The plain-C reference. */
const struct nn_kernels *nn_kernels_ref(void);
/* The AVX2 set, or NULL when the CPU lacks AVX2/FMA/F16C. */
const struct nn_kernels *nn_kernels_avx2(void);

/* Fills table (65536 floats) with ggml's tanh-approximated GELU of each
 * binary16 value, itself rounded through binary16. */
void nn_gelu_table(float *table);

#endif
