#include "hash.h"

#include <glib.h>
#include <string.h>

void mx_sha256_hex(const void *data, size_t len, char out[MX_SHA256_HEX_LEN + 1])
{
	GChecksum *ck = g_checksum_new(G_CHECKSUM_SHA256);
	const unsigned char *p = data;
	/* g_checksum_update takes a gssize: feed large inputs in pieces */
	while (len > 0) {
		size_t n = len > (1u << 30) ? (1u << 30) : len;
		g_checksum_update(ck, p, (gssize)n);
		p += n;
		len -= n;
	}
	const char *hex = g_checksum_get_string(ck);
	memcpy(out, hex, MX_SHA256_HEX_LEN);
	out[MX_SHA256_HEX_LEN] = '\0';
	g_checksum_free(ck);
}
