/*
 * quant_ref.c - plain-C reference dequantization of ggml tensor types (the
 * block layouts are in quant.h). Faster kernels elsewhere must match these
 * bit for bit; each value is computed in the order ggml's reference does,
 * (d * sc) * q - (dmin * m), so that results equal ggml's to_float.
 */
#include <string.h>

#include "gguf.h"
#include "quant.h"

#if !defined(__BYTE_ORDER__) || __BYTE_ORDER__ != __ORDER_LITTLE_ENDIAN__
#error "memex reads GGUF tensor data in place and needs a little-endian host"
#endif

struct type_info {
	const char *name;
	uint32_t blck;
	uint32_t size;
	bool dequant;
	void (*block)(const uint8_t *b, float *y); /* one block; NULL for F32/F16/BF16 */
};

/* ---- scalar conversions ---------------------------------------------------- */

static float f32_from_bits(uint32_t u)
{
	float f;
	memcpy(&f, &u, sizeof f);
	return f;
}

/* float -> binary16 bits, rounding to nearest even (as the F16C
 * instructions ggml uses do) */
uint16_t quant_f32_to_f16(float f)
{
	uint32_t x;
	memcpy(&x, &f, sizeof x);
	uint32_t sign = (x >> 16) & 0x8000u, ax = x & 0x7fffffffu;
	if (ax >= 0x7f800000u) /* inf, nan */
		return (uint16_t)(sign | 0x7c00u | (ax > 0x7f800000u ? 0x200u : 0));
	int e = (int)(ax >> 23) - 127 + 15; /* the binary16 biased exponent */
	if (e >= 31)
		return (uint16_t)(sign | 0x7c00u);
	uint32_t m = (ax & 0x7fffffu) | 0x800000u, shift, h;
	if (e >= 1) {
		shift = 13;
		h = ((uint32_t)e << 10) | ((m >> 13) & 0x3ffu);
	} else {
		shift = (uint32_t)(14 - e); /* a subnormal result */
		if (shift > 24)
			return (uint16_t)sign;
		h = m >> shift;
	}
	uint32_t rem = m & ((1u << shift) - 1), half = 1u << (shift - 1);
	if (rem > half || (rem == half && (h & 1)))
		h++; /* a carry into the exponent is still right */
	return (uint16_t)(sign | h);
}

float quant_f16_to_f32(uint16_t h)
{
	uint32_t sign = (uint32_t)(h & 0x8000u) << 16;
	uint32_t exp = (h >> 10) & 0x1fu;
	uint32_t mant = h & 0x3ffu;
	if (exp == 0) {
		/* zero or subnormal: mant * 2^-24, exact in a float */
		float v = (float)mant * 0x1p-24f;
		return sign ? -v : v;
	}
	if (exp == 31) /* inf, or nan with its payload kept */
		return f32_from_bits(sign | 0x7f800000u | (mant << 13));
	return f32_from_bits(sign | ((exp + 112) << 23) | (mant << 13));
}

float quant_bf16_to_f32(uint16_t h)
{
	return f32_from_bits((uint32_t)h << 16);
}

static uint16_t rd16(const uint8_t *p)
{
	return (uint16_t)(p[0] | (p[1] << 8));
}

static uint32_t rd32(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static float half_at(const uint8_t *p)
{
	return quant_f16_to_f32(rd16(p));
}

/* ---- 32-value blocks ------------------------------------------------------- */

static void dq_q4_0(const uint8_t *b, float *y)
{
	float d = half_at(b);
	const uint8_t *qs = b + 2;
	for (int j = 0; j < 16; j++) {
		y[j] = (float)((qs[j] & 0x0f) - 8) * d;
		y[j + 16] = (float)((qs[j] >> 4) - 8) * d;
	}
}

static void dq_q4_1(const uint8_t *b, float *y)
{
	float d = half_at(b), m = half_at(b + 2);
	const uint8_t *qs = b + 4;
	for (int j = 0; j < 16; j++) {
		y[j] = (float)(qs[j] & 0x0f) * d + m;
		y[j + 16] = (float)(qs[j] >> 4) * d + m;
	}
}

static void dq_q5_0(const uint8_t *b, float *y)
{
	float d = half_at(b);
	uint32_t qh = rd32(b + 2);
	const uint8_t *qs = b + 6;
	for (int j = 0; j < 16; j++) {
		int h0 = (int)((qh >> j) & 1u) << 4;
		int h1 = (int)((qh >> (j + 16)) & 1u) << 4;
		y[j] = (float)(((qs[j] & 0x0f) | h0) - 16) * d;
		y[j + 16] = (float)(((qs[j] >> 4) | h1) - 16) * d;
	}
}

static void dq_q5_1(const uint8_t *b, float *y)
{
	float d = half_at(b), m = half_at(b + 2);
	uint32_t qh = rd32(b + 4);
	const uint8_t *qs = b + 8;
	for (int j = 0; j < 16; j++) {
		int h0 = (int)((qh >> j) & 1u) << 4;
		int h1 = (int)((qh >> (j + 16)) & 1u) << 4;
		y[j] = (float)((qs[j] & 0x0f) | h0) * d + m;
		y[j + 16] = (float)((qs[j] >> 4) | h1) * d + m;
	}
}

/* Q8_1 has its (unused) sum s between d and qs */
static void dq_q8(const uint8_t *b, size_t qs_at, float *y)
{
	float d = half_at(b);
	const int8_t *qs = (const int8_t *)(b + qs_at);
	for (int j = 0; j < 32; j++)
		y[j] = (float)qs[j] * d;
}

static void dq_q8_0(const uint8_t *b, float *y)
{
	dq_q8(b, 2, y);
}

static void dq_q8_1(const uint8_t *b, float *y)
{
	dq_q8(b, 4, y);
}

/* ---- K-quants (256-value super-blocks) ------------------------------------- */

static void dq_q2_k(const uint8_t *b, float *y)
{
	const uint8_t *scales = b, *q = b + 16;
	float d = half_at(b + 80), dmin = half_at(b + 82);
	int is = 0;
	for (int h = 0; h < 2; h++, q += 32) {
		for (int shift = 0; shift < 8; shift += 2) {
			for (int half = 0; half < 2; half++, is++) {
				float dl = d * (float)(scales[is] & 0x0f);
				float ml = dmin * (float)(scales[is] >> 4);
				for (int l = 0; l < 16; l++)
					*y++ = dl * (float)((q[l + 16 * half] >> shift) & 3) - ml;
			}
		}
	}
}

static int q3_k_scale(const uint8_t *s, int j)
{
	int lo = j < 8 ? s[j] & 0x0f : s[j - 8] >> 4;
	int hi = (s[8 + j % 4] >> (2 * (j / 4))) & 3;
	return (lo | hi << 4) - 32;
}

static void dq_q3_k(const uint8_t *b, float *y)
{
	const uint8_t *hm = b, *q = b + 32, *scales = b + 96;
	float d = half_at(b + 108);
	int is = 0;
	unsigned m = 1;
	for (int h = 0; h < 2; h++, q += 32) {
		for (int shift = 0; shift < 8; shift += 2, m <<= 1) {
			for (int half = 0; half < 2; half++, is++) {
				float dl = d * (float)q3_k_scale(scales, is);
				for (int l = 16 * half; l < 16 * half + 16; l++) {
					int v = ((q[l] >> shift) & 3) - ((hm[l] & m) ? 0 : 4);
					*y++ = dl * (float)v;
				}
			}
		}
	}
}

/* The 6-bit scale and min of sub-block j (0..7) of Q4_K and Q5_K. */
static void k4_scale_min(const uint8_t *s, int j, int *sc, int *m)
{
	if (j < 4) {
		*sc = s[j] & 63;
		*m = s[j + 4] & 63;
	} else {
		*sc = (s[j + 4] & 0x0f) | (s[j - 4] >> 6) << 4;
		*m = (s[j + 4] >> 4) | (s[j] >> 6) << 4;
	}
}

static void dq_q4_k(const uint8_t *b, float *y)
{
	float d = half_at(b), dmin = half_at(b + 2);
	const uint8_t *scales = b + 4, *q = b + 16;
	for (int j = 0; j < 8; j += 2, q += 32) {
		int sc, m;
		k4_scale_min(scales, j, &sc, &m);
		float d1 = d * (float)sc, m1 = dmin * (float)m;
		k4_scale_min(scales, j + 1, &sc, &m);
		float d2 = d * (float)sc, m2 = dmin * (float)m;
		for (int l = 0; l < 32; l++)
			*y++ = d1 * (float)(q[l] & 0x0f) - m1;
		for (int l = 0; l < 32; l++)
			*y++ = d2 * (float)(q[l] >> 4) - m2;
	}
}

static void dq_q5_k(const uint8_t *b, float *y)
{
	float d = half_at(b), dmin = half_at(b + 2);
	const uint8_t *scales = b + 4, *qh = b + 16, *ql = b + 48;
	for (int j = 0; j < 8; j += 2, ql += 32) {
		int sc, m;
		k4_scale_min(scales, j, &sc, &m);
		float d1 = d * (float)sc, m1 = dmin * (float)m;
		k4_scale_min(scales, j + 1, &sc, &m);
		float d2 = d * (float)sc, m2 = dmin * (float)m;
		unsigned u1 = 1u << j, u2 = 2u << j;
		for (int l = 0; l < 32; l++)
			*y++ = d1 * (float)((ql[l] & 0x0f) + ((qh[l] & u1) ? 16 : 0)) - m1;
		for (int l = 0; l < 32; l++)
			*y++ = d2 * (float)((ql[l] >> 4) + ((qh[l] & u2) ? 16 : 0)) - m2;
	}
}

static void dq_q6_k(const uint8_t *b, float *y)
{
	const uint8_t *ql = b, *qh = b + 128;
	const int8_t *sc = (const int8_t *)(b + 192);
	float d = half_at(b + 208);
	for (int h = 0; h < 2; h++, y += 128, ql += 64, qh += 32, sc += 8) {
		for (int l = 0; l < 32; l++) {
			int is = l / 16;
			int q1 = ((ql[l] & 0x0f) | ((qh[l] >> 0) & 3) << 4) - 32;
			int q2 = ((ql[l + 32] & 0x0f) | ((qh[l] >> 2) & 3) << 4) - 32;
			int q3 = ((ql[l] >> 4) | ((qh[l] >> 4) & 3) << 4) - 32;
			int q4 = ((ql[l + 32] >> 4) | ((qh[l] >> 6) & 3) << 4) - 32;
			y[l] = d * (float)sc[is] * (float)q1;
			y[l + 32] = d * (float)sc[is + 2] * (float)q2;
			y[l + 64] = d * (float)sc[is + 4] * (float)q3;
			y[l + 96] = d * (float)sc[is + 6] * (float)q4;
		}
	}
}

static void dq_q8_k(const uint8_t *b, float *y)
{
	float d = f32_from_bits(rd32(b));
	const int8_t *qs = (const int8_t *)(b + 4);
	for (int j = 0; j < 256; j++)
		y[j] = d * (float)qs[j];
}

/* ---- the table ------------------------------------------------------------- */

/* Indexed by ggml type id; entries with a NULL name are ids ggml does not
 * define (4 and 5 were Q4_2/Q4_3, 31..33 were removed Q4_0_x_y layouts). */
static const struct type_info types[] = {
	[GGML_F32] = { "F32", 1, 4, true, NULL },
	[GGML_F16] = { "F16", 1, 2, true, NULL },
	[GGML_Q4_0] = { "Q4_0", 32, 18, true, dq_q4_0 },
	[GGML_Q4_1] = { "Q4_1", 32, 20, true, dq_q4_1 },
	[GGML_Q5_0] = { "Q5_0", 32, 22, true, dq_q5_0 },
	[GGML_Q5_1] = { "Q5_1", 32, 24, true, dq_q5_1 },
	[GGML_Q8_0] = { "Q8_0", 32, 34, true, dq_q8_0 },
	[GGML_Q8_1] = { "Q8_1", 32, 36, true, dq_q8_1 },
	[GGML_Q2_K] = { "Q2_K", 256, 84, true, dq_q2_k },
	[GGML_Q3_K] = { "Q3_K", 256, 110, true, dq_q3_k },
	[GGML_Q4_K] = { "Q4_K", 256, 144, true, dq_q4_k },
	[GGML_Q5_K] = { "Q5_K", 256, 176, true, dq_q5_k },
	[GGML_Q6_K] = { "Q6_K", 256, 210, true, dq_q6_k },
	[GGML_Q8_K] = { "Q8_K", 256, 292, true, dq_q8_k },
	[16] = { "IQ2_XXS", 256, 66, false, NULL },
	[17] = { "IQ2_XS", 256, 74, false, NULL },
	[18] = { "IQ3_XXS", 256, 98, false, NULL },
	[19] = { "IQ1_S", 256, 50, false, NULL },
	[20] = { "IQ4_NL", 32, 18, false, NULL },
	[21] = { "IQ3_S", 256, 110, false, NULL },
	[22] = { "IQ2_S", 256, 82, false, NULL },
	[23] = { "IQ4_XS", 256, 136, false, NULL },
	[24] = { "I8", 1, 1, false, NULL },
	[25] = { "I16", 1, 2, false, NULL },
	[26] = { "I32", 1, 4, false, NULL },
	[27] = { "I64", 1, 8, false, NULL },
	[28] = { "F64", 1, 8, false, NULL },
	[29] = { "IQ1_M", 256, 56, false, NULL },
	[GGML_BF16] = { "BF16", 1, 2, true, NULL },
	[34] = { "TQ1_0", 256, 54, false, NULL },
	[35] = { "TQ2_0", 256, 66, false, NULL },
	[39] = { "MXFP4", 32, 17, false, NULL },
};

static const struct type_info *type_info(uint32_t type)
{
	if (type >= sizeof types / sizeof types[0] || !types[type].name)
		return NULL;
	return &types[type];
}

bool quant_layout(uint32_t type, uint32_t *blck, uint32_t *size)
{
	const struct type_info *ti = type_info(type);
	if (!ti)
		return false;
	*blck = ti->blck;
	*size = ti->size;
	return true;
}

bool quant_can_dequant(uint32_t type)
{
	const struct type_info *ti = type_info(type);
	return ti && ti->dequant;
}

const char *quant_type_name(uint32_t type)
{
	const struct type_info *ti = type_info(type);
	return ti ? ti->name : "unknown";
}

/* ---- rows -------------------------------------------------------------------- */

void quant_dequant_row(uint32_t type, const void *src, float *dst, uint64_t n)
{
	const uint8_t *s = src;
	const struct type_info *ti = type_info(type);
	if (!ti || !ti->dequant || n % ti->blck) {
		memset(dst, 0, n * sizeof *dst);
		return;
	}
	switch (type) {
	case GGML_F32: memcpy(dst, s, n * sizeof *dst); return;
	case GGML_F16:
		for (uint64_t i = 0; i < n; i++)
			dst[i] = quant_f16_to_f32(rd16(s + 2 * i));
		return;
	case GGML_BF16:
		for (uint64_t i = 0; i < n; i++)
			dst[i] = quant_bf16_to_f32(rd16(s + 2 * i));
		return;
	}
	for (uint64_t i = 0, nb = n / ti->blck; i < nb; i++, s += ti->size, dst += ti->blck)
		ti->block(s, dst);
}
