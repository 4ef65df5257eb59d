/*
 * ucat.h - Unicode general categories for the tokenizers' pre-splitting.
 *
 * The byte-level BPE pre-tokenizers (tok.c) split text by classes of code
 * points: \p{L} letters, \p{N} numbers, \s white space, and "anything
 * else". The classes come from an embedded table (ucat_tab.c, generated
 * once by engine/tools/gen_ucat.c and committed), not from the C library
 * or the locale, so that tokens are the same on every machine.
 *
 * White space is the Unicode White_Space property: U+0009..U+000D, U+0020,
 * U+0085, U+00A0, U+1680, U+2000..U+200A, U+2028, U+2029, U+202F, U+205F,
 * U+3000 (what llama.cpp's tokenizers use).
 */
#ifndef MX_UCAT_H
#define MX_UCAT_H

#include <stdbool.h>
#include <stdint.h>

enum ucat {
	UCAT_NONE = 0, /* unassigned (Cn), or past U+10FFFF */
	UCAT_LETTER = 1,
	UCAT_NUMBER = 2,
	UCAT_PUNCT = 3,
	UCAT_SYMBOL = 4,
	UCAT_MARK = 5,
	UCAT_SEPARATOR = 6, /* Zs, Zl, Zp */
	UCAT_CONTROL = 7,   /* Cc, Cf, Co, Cs */
};

/* The table: sorted entries (first code point << 3) | category. */
extern const uint32_t ucat_ranges[];
extern const unsigned ucat_n_ranges;

/* The category of code point c. */
enum ucat ucat_of(uint32_t c);
bool ucat_is_space(uint32_t c);

#endif
