/*
 * qmat.c - the qmat.h API: sizes, activation preparation (ggml's Q8_0 and
 * Q8_K quantization), the choice of kernel family, and the driver that
 * walks a product in tiles and calls a family's row kernels.
 *
 * Tiling: activation vectors QMAT_SG at a time (a super-group, some
 * 100 KB, that stays in L2); within it rows QMAT_RT at a time; within a
 * row tile, activation vectors QMAT_NA at a time, each row kernel (or
 * four-row or two-row kernel) decoding a weight block once for all of
 * them. A tile of
 * weights (QMAT_RT rows, a few tens of KB for the models we run) stays in
 * L1/L2 while the activation groups pass over it, so prefill reads each
 * weight from memory once per super-group; decode (n == 1) is a single
 * stream over the rows.
 */
#include "qmat.h"

#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#if defined(__x86_64__)
#include <cpuid.h>
#endif

#include "gguf.h"
#include "qmat_int.h"
#include "quant.h"

enum { QMAT_MAX_BLCK = 256, QMAT_RT = 16, QMAT_SG = 64 };

/* ---- types and sizes --------------------------------------------------------- */

/* The kernel slot of wtype, or -1 (dequantize in float). */
static int slot_of(uint32_t wtype)
{
	switch (wtype) {
	case GGML_F32: return QS_F32;
	case GGML_F16: return QS_F16;
	case GGML_BF16: return QS_BF16;
	case GGML_Q8_0: return QS_Q8_0;
	case GGML_Q4_0: return QS_Q4_0;
	case GGML_Q4_1: return QS_Q4_1;
	case GGML_Q5_0: return QS_Q5_0;
	case GGML_Q5_1: return QS_Q5_1;
	case GGML_Q4_K: return QS_Q4_K;
	case GGML_Q5_K: return QS_Q5_K;
	case GGML_Q6_K: return QS_Q6_K;
	default: return -1;
	}
}

enum act_form { ACT_F32, ACT_Q8_0, ACT_Q8_K };

static enum act_form act_form(const struct qmat_kernels *kk, uint32_t wtype)
{
	if (kk->exact)
		return ACT_F32;
	switch (slot_of(wtype)) {
	case QS_Q8_0:
	case QS_Q4_0:
	case QS_Q4_1:
	case QS_Q5_0:
	case QS_Q5_1: return ACT_Q8_0;
	case QS_Q4_K:
	case QS_Q5_K:
	case QS_Q6_K: return ACT_Q8_K;
	default: return ACT_F32;
	}
}

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

size_t qmat_act_bytes_with(const struct qmat_kernels *kk, uint32_t wtype, uint64_t k)
{
	size_t b;
	switch (act_form(kk, wtype)) {
	case ACT_Q8_0: b = (size_t)k + 8 * (size_t)(k / 32); break;
	case ACT_Q8_K: b = (size_t)k + 4 * (size_t)(k / 256) + 2 * (size_t)(k / 16); break;
	default: b = (size_t)k * sizeof(float); break;
	}
	return (b + 63) & ~(size_t)63;
}

size_t qmat_act_bytes(uint32_t wtype, uint64_t k)
{
	return qmat_act_bytes_with(qmat_kernels_default(), wtype, k);
}

/* ---- activation quantization --------------------------------------------------- */

void qmat_act_prepare_with(const struct qmat_kernels *kk, uint32_t wtype, const float *x,
			   uint64_t k, void *act)
{
	uint8_t *a = act;
	qmat_quant_fn quant_block = kk->quant ? kk->quant : qmat_ref_quant;
	size_t bytes = qmat_act_bytes_with(kk, wtype, k);
	switch (act_form(kk, wtype)) {
	case ACT_Q8_0: {
		int8_t *q = (int8_t *)a;
		float *d = (float *)(void *)(a + k), *sd = d + k / 32;
		for (uint64_t b = 0; b < k / 32; b++) {
			d[b] = quant_block(x + 32 * b, 32, q + 32 * b);
			int sum = 0;
			for (int j = 0; j < 32; j++)
				sum += q[32 * b + j];
			sd[b] = d[b] * (float)sum;
		}
		memset(a + k + 8 * (k / 32), 0, bytes - (k + 8 * (k / 32)));
		break;
	}
	case ACT_Q8_K: {
		int8_t *q = (int8_t *)a;
		float *d = (float *)(void *)(a + k);
		int16_t *bs = (int16_t *)(void *)(a + k + 4 * (k / 256));
		for (uint64_t b = 0; b < k / 256; b++)
			d[b] = quant_block(x + 256 * b, 256, q + 256 * b);
		for (uint64_t s = 0; s < k / 16; s++) {
			int sum = 0;
			for (int j = 0; j < 16; j++)
				sum += q[16 * s + j];
			bs[s] = (int16_t)sum;
		}
		size_t used = k + 4 * (k / 256) + 2 * (k / 16);
		memset(a + used, 0, bytes - used);
		break;
	}
	default:
		memcpy(a, x, (size_t)k * sizeof *x);
		memset(a + k * sizeof *x, 0, bytes - k * sizeof *x);
		break;
	}
}

/* ---- kernel families ------------------------------------------------------------- */

#if defined(__x86_64__) && defined(__GNUC__)
/* F16C by CPUID (leaf 1, ECX bit 29): clang 14's __builtin_cpu_supports
 * does not know "f16c". */
static bool cpu_has_f16c(void)
{
	unsigned a, b, c, d;
	return __get_cpuid(1, &a, &b, &c, &d) && (c & bit_F16C);
}
#endif

static bool cpu_has(const char *name)
{
#if defined(__x86_64__) && defined(__GNUC__)
	__builtin_cpu_init();
	if (!strcmp(name, "avx2"))
		return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma") &&
		       cpu_has_f16c();
	if (!strcmp(name, "avx512"))
		return cpu_has("avx2") && __builtin_cpu_supports("avx512f") &&
		       __builtin_cpu_supports("avx512bw") && __builtin_cpu_supports("avx512vl") &&
		       __builtin_cpu_supports("avx512vnni");
#endif
	return !strcmp(name, "ref") || !strcmp(name, "exact");
}

const struct qmat_kernels *qmat_kernels_get(const char *name)
{
	static const struct qmat_kernels *const all[] = {
		&qmat_kernels_exact,
		&qmat_kernels_ref,
#if defined(__x86_64__) && defined(__GNUC__)
		&qmat_kernels_avx2,
		&qmat_kernels_avx512,
#endif
	};
	for (size_t i = 0; i < sizeof all / sizeof all[0]; i++)
		if (name && !strcmp(all[i]->name, name))
			return cpu_has(name) ? all[i] : NULL;
	return NULL;
}

static const struct qmat_kernels *kernels_pick(void)
{
	const char *env = getenv("MEMEX_KERNELS");
	const struct qmat_kernels *kk = env ? qmat_kernels_get(env) : NULL;
	if (kk)
		return kk;
	if ((kk = qmat_kernels_get("avx512")) || (kk = qmat_kernels_get("avx2")))
		return kk;
	return &qmat_kernels_ref;
}

const struct qmat_kernels *qmat_kernels_default(void)
{
	/* threads racing here compute the same answer */
	static _Atomic(const struct qmat_kernels *) chosen;
	const struct qmat_kernels *kk = atomic_load_explicit(&chosen, memory_order_acquire);
	if (!kk) {
		kk = kernels_pick();
		atomic_store_explicit(&chosen, kk, memory_order_release);
	}
	return kk;
}

const char *qmat_kernels_name(const struct qmat_kernels *kk)
{
	return kk ? kk->name : "none";
}

/* ---- the driver ------------------------------------------------------------------ */

void qmat_gemm_with(const struct qmat_kernels *kk, uint32_t wtype, const void *W, uint64_t k,
		    const void *act, size_t act_stride, size_t n, uint64_t r0, uint64_t r1,
		    float *Y, size_t ldy)
{
	if (!kk || !qmat_supported(wtype, k) || r1 <= r0 || n == 0)
		return;
	size_t rb = qmat_row_bytes(wtype, k);
	int slot = kk->exact ? -1 : slot_of(wtype);
	qmat_row_fn fn = slot >= 0 ? kk->row[slot] : NULL;
	qmat_rows2_fn fn2 = slot >= 0 && n > 1 ? kk->rows2[slot] : NULL;
	qmat_rows2_fn fn4 = slot >= 0 && n > 1 ? kk->rows4[slot] : NULL;
	if (slot >= 0 && n >= QMAT_PANEL_MIN && kk->gemm[slot] &&
	    kk->gemm[slot](W, k, act, act_stride, n, r0, r1, Y, ldy))
		return;
	if (slot >= 0 && !fn)
		fn = qmat_kernels_ref.row[slot];
	const uint8_t *w0 = W, *a0 = act;
	/* activation super-groups keep the vectors a row tile meets in L2 */
	for (size_t g = 0; g < n; g += QMAT_SG) {
		size_t ge = g + QMAT_SG < n ? g + QMAT_SG : n;
		for (uint64_t rt = r0; rt < r1; rt += QMAT_RT) {
			uint64_t re = rt + QMAT_RT < r1 ? rt + QMAT_RT : r1;
			for (size_t i = g; i < ge; i += QMAT_NA) {
				size_t na = ge - i < QMAT_NA ? ge - i : QMAT_NA;
				const uint8_t *a = a0 + i * act_stride;
				uint64_t r = rt;
				for (; fn4 && r + 4 <= re; r += 4)
					fn4(w0 + r * rb, rb, k, a, act_stride, na, Y + i * ldy + r,
					    ldy);
				for (; fn2 && r + 2 <= re; r += 2)
					fn2(w0 + r * rb, rb, k, a, act_stride, na, Y + i * ldy + r,
					    ldy);
				for (; r < re; r++) {
					const uint8_t *w = w0 + r * rb;
					float *y = Y + i * ldy + r;
					if (fn)
						fn(w, k, a, act_stride, na, y, ldy);
					else
						qmat_ref_row_dequant(wtype, w, k, a, act_stride, na,
								     y, ldy);
				}
			}
		}
	}
}

void qmat_act_prepare(uint32_t wtype, const float *x, uint64_t k, void *act)
{
	qmat_act_prepare_with(qmat_kernels_default(), wtype, x, k, act);
}

void qmat_gemm(uint32_t wtype, const void *W, uint64_t k, const void *act, size_t act_stride,
	       size_t n, uint64_t r0, uint64_t r1, float *Y, size_t ldy)
{
	qmat_gemm_with(qmat_kernels_default(), wtype, W, k, act, act_stride, n, r0, r1, Y, ldy);
}
