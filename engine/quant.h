/*
 * quant.h - ggml tensor types: their block layouts and the plain-C
 * reference dequantization (engine/quant_ref.c).
 *
 * A tensor row of n values of a block type is n / blck consecutive blocks
 * (n must be a multiple of blck). All multi-byte fields are little endian
 * and unaligned inside a block; "half" is an IEEE 754 binary16, "bf16" the
 * upper 16 bits of a binary32. Layouts, in byte order:
 *
 *   F32   blck 1     4 bytes   float
 *   F16   blck 1     2 bytes   half
 *   BF16  blck 1     2 bytes   bf16
 *   Q4_0  blck 32   18 bytes   half d; u8 qs[16]
 *         element j < 16 is the low nibble of qs[j], element j + 16 its
 *         high nibble; value = d * (q - 8)
 *   Q4_1  blck 32   20 bytes   half d; half m; u8 qs[16]
 *         nibbles as Q4_0; value = d * q + m
 *   Q5_0  blck 32   22 bytes   half d; u32 qh; u8 qs[16]
 *         nibbles as Q4_0, bit 4 of element j is bit j of qh;
 *         value = d * (q - 16)
 *   Q5_1  blck 32   24 bytes   half d; half m; u32 qh; u8 qs[16]
 *         as Q5_0; value = d * q + m
 *   Q8_0  blck 32   34 bytes   half d; i8 qs[32]; value = d * q
 *   Q8_1  blck 32   36 bytes   half d; half s (sum, unused here); i8 qs[32];
 *         value = d * q
 *
 * K-quants: super-blocks of 256 values in sub-blocks of 16 or 32.
 *
 *   Q2_K  84 bytes   u8 scales[16]; u8 qs[64]; half d; half dmin
 *         16 sub-blocks of 16: scales[i] low nibble is the scale, high
 *         nibble the min; value = d * sc * q - dmin * m, q 2 bits. The
 *         2-bit fields: for each half h (128 values, qs[32h..32h+31]) and
 *         shift s = 0, 2, 4, 6, values 128h + 32(s/2) + l (l < 32) are
 *         (qs[32h + l] >> s) & 3; sub-block i covers values 16i..16i+15.
 *   Q3_K 110 bytes   u8 hmask[32]; u8 qs[64]; u8 scales[12]; half d
 *         16 sub-blocks of 16 with 6-bit scales biased by 32: the low 4
 *         bits of scale j are scales[j] & 15 (j < 8) or scales[j - 8] >> 4,
 *         the high 2 bits (scales[8 + j % 4] >> (2 * (j / 4))) & 3. The low
 *         2 bits of q are laid out as Q2_K's; value k's third bit is bit
 *         (k / 32) of hmask[k % 32], and a CLEAR bit subtracts 4:
 *         value = d * (sc - 32) * (q2 - (hbit ? 0 : 4)).
 *   Q4_K 144 bytes   half d; half dmin; u8 scales[12]; u8 qs[128]
 *         8 sub-blocks of 32, 6-bit scale sc and min m each, packed:
 *         j < 4: sc = scales[j] & 63, m = scales[j + 4] & 63;
 *         j >= 4: sc = (scales[j + 4] & 15) | (scales[j - 4] >> 6) << 4,
 *                 m = (scales[j + 4] >> 4) | (scales[j] >> 6) << 4.
 *         qs in 4 chunks of 32 bytes: chunk c holds sub-block 2c in its
 *         low nibbles and sub-block 2c + 1 in its high nibbles;
 *         value = d * sc * q - dmin * m.
 *   Q5_K 176 bytes   half d; half dmin; u8 scales[12]; u8 qh[32]; u8 qs[128]
 *         as Q4_K, plus bit 4 of value 32j + l is bit j of qh[l].
 *   Q6_K 210 bytes   u8 ql[128]; u8 qh[64]; i8 scales[16]; half d
 *         16 sub-blocks of 16, value = d * scales[i] * (q - 32), q 6 bits:
 *         per half h (ql[64h..], qh[32h..]) and l < 32, the four values
 *         128h + l + 32k (k = 0..3) take the low/high nibble of ql[64h + l]
 *         (k = 0, 2) or of ql[64h + 32 + l] (k = 1, 3) and bits 2k..2k+1 of
 *         qh[32h + l] as bits 4..5.
 *   Q8_K 292 bytes   f32 d; i8 qs[256]; i16 bsums[16]; value = d * q
 *
 * Other ggml types (IQ*, TQ*, MXFP4, I8..I64, F64) have known sizes, so
 * that a file holding them can be checked, but are not dequantized.
 */
#ifndef MX_QUANT_H
#define MX_QUANT_H

#include <stdbool.h>
#include <stdint.h>

/* Block length (values) and block size (bytes) of a ggml type; false for
 * a type id ggml does not define. */
bool quant_layout(uint32_t type, uint32_t *blck, uint32_t *size);
/* Whether quant_dequant_row() handles the type. */
bool quant_can_dequant(uint32_t type);
/* "F32", "Q4_K", ... or "unknown"; static storage. */
const char *quant_type_name(uint32_t type);

float quant_f16_to_f32(uint16_t h);
/* float -> binary16 bits, rounded to nearest even (as F16C does). */
uint16_t quant_f32_to_f16(float f);
float quant_bf16_to_f32(uint16_t h);

/* Dequantizes n values (a multiple of the type's block length) of type
 * from src (n / blck blocks, any alignment) into dst. The caller checks
 * quant_can_dequant() and the sizes; a type it does not handle gives
 * zeros. */
void quant_dequant_row(uint32_t type, const void *src, float *dst, uint64_t n);

#endif
