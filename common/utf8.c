#include "utf8.h"

#include <stdlib.h>
#include <string.h>

#include "status.h"

size_t mx_utf8_decode(const unsigned char *s, size_t n, uint32_t *cp)
{
	if (n == 0)
		return 0;
	unsigned c = s[0];
	size_t len;
	uint32_t v, min;
	if (c < 0x80) {
		if (cp)
			*cp = c;
		return 1;
	} else if (c >= 0xC2 && c <= 0xDF) {
		len = 2, v = c & 0x1F, min = 0x80;
	} else if (c >= 0xE0 && c <= 0xEF) {
		len = 3, v = c & 0x0F, min = 0x800;
	} else if (c >= 0xF0 && c <= 0xF4) {
		len = 4, v = c & 0x07, min = 0x10000;
	} else {
		return 0;
	}
	if (n < len)
		return 0;
	for (size_t i = 1; i < len; i++) {
		if ((s[i] & 0xC0) != 0x80)
			return 0;
		v = (v << 6) | (s[i] & 0x3F);
	}
	if (v < min || v > 0x10FFFF || (v >= 0xD800 && v <= 0xDFFF))
		return 0;
	if (cp)
		*cp = v;
	return len;
}

bool mx_utf8_is_valid(const char *s, size_t n)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t i = 0;
	while (i < n) {
		if (p[i] < 0x80) {
			i++;
			continue;
		}
		size_t k = mx_utf8_decode(p + i, n - i, NULL);
		if (!k)
			return false;
		i += k;
	}
	return true;
}

/* Length of the maximal invalid subpart at p (at least 1), following the
 * Unicode recommendation: a truncated but otherwise valid prefix is one
 * subpart. */
static size_t invalid_span(const unsigned char *p, size_t n)
{
	unsigned c = p[0];
	size_t want;
	if (c >= 0xC2 && c <= 0xDF)
		want = 2;
	else if (c >= 0xE0 && c <= 0xEF)
		want = 3;
	else if (c >= 0xF0 && c <= 0xF4)
		want = 4;
	else
		return 1;
	size_t i = 1;
	while (i < want && i < n && (p[i] & 0xC0) == 0x80) {
		/* second-byte ranges that rule out overlongs and surrogates */
		if (i == 1 && ((c == 0xE0 && p[1] < 0xA0) || (c == 0xED && p[1] > 0x9F) ||
			       (c == 0xF0 && p[1] < 0x90) || (c == 0xF4 && p[1] > 0x8F)))
			break;
		i++;
	}
	return i;
}

int mx_utf8_repair(const char *s, size_t n, char **out, size_t *outlen, size_t *nrepl)
{
	const unsigned char *p = (const unsigned char *)s;
	/* worst case: every byte becomes a 3-byte U+FFFD */
	if (n > (SIZE_MAX - 1) / 3)
		return MX_ETOOBIG;
	char *o = malloc(n * 3 + 1);
	if (!o)
		return MX_ENOMEM;
	size_t i = 0, j = 0, r = 0;
	while (i < n) {
		size_t k = p[i] < 0x80 ? 1 : mx_utf8_decode(p + i, n - i, NULL);
		if (k) {
			memcpy(o + j, p + i, k);
			i += k, j += k;
		} else {
			i += invalid_span(p + i, n - i);
			memcpy(o + j, "\xEF\xBF\xBD", 3);
			j += 3;
			r++;
		}
	}
	o[j] = '\0';
	*out = o;
	if (outlen)
		*outlen = j;
	if (nrepl)
		*nrepl = r;
	return 0;
}

size_t mx_utf8_floor(const char *s, size_t n)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t i = n, back = 0;
	while (i > 0 && back < 3 && (p[i - 1] & 0xC0) == 0x80)
		i--, back++;
	if (i == 0 || p[i - 1] < 0xC0)
		return n; /* no lead byte to protect */
	unsigned lead = p[i - 1];
	size_t need = lead >= 0xF0 ? 4 : lead >= 0xE0 ? 3 : 2;
	return back + 1 >= need ? n : i - 1;
}

size_t mx_utf8_count(const char *s, size_t n)
{
	size_t c = 0;
	for (size_t i = 0; i < n; i++)
		if (((unsigned char)s[i] & 0xC0) != 0x80)
			c++;
	return c;
}
