/* ucat.c - code point -> category over the embedded ranges (ucat.h). */
#include "ucat.h"

enum ucat ucat_of(uint32_t c)
{
	if (c > 0x10FFFF)
		return UCAT_NONE;
	/* the last entry whose first code point is <= c */
	unsigned lo = 0, hi = ucat_n_ranges;
	while (hi - lo > 1) {
		unsigned mid = lo + (hi - lo) / 2;
		if ((ucat_ranges[mid] >> 3) <= c)
			lo = mid;
		else
			hi = mid;
	}
	return (enum ucat)(ucat_ranges[lo] & 7);
}

bool ucat_is_space(uint32_t c)
{
	if (c < 0x80)
		return c == ' ' || (c >= 0x09 && c <= 0x0D);
	return c == 0x85 || c == 0xA0 || c == 0x1680 || (c >= 0x2000 && c <= 0x200A) ||
	       c == 0x2028 || c == 0x2029 || c == 0x202F || c == 0x205F || c == 0x3000;
}
