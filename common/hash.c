#include "hash.h"

#include <errno.h>
#include <glib.h>
#include <string.h>
#include <unistd.h>

#include "fsutil.h"
#include "status.h"

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

int mx_sha256_fd(int fd, char out[MX_SHA256_HEX_LEN + 1])
{
	enum { PIECE = 1 << 20 };
	unsigned char *buf = g_try_malloc(PIECE);
	if (!buf)
		return MX_ENOMEM;
	GChecksum *ck = g_checksum_new(G_CHECKSUM_SHA256);
	int rc = 0;
	for (;;) {
		ssize_t n = read(fd, buf, PIECE);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			rc = mx_status_from_errno(errno);
			break;
		}
		if (n == 0)
			break;
		g_checksum_update(ck, buf, n);
	}
	if (!rc) {
		memcpy(out, g_checksum_get_string(ck), MX_SHA256_HEX_LEN);
		out[MX_SHA256_HEX_LEN] = '\0';
	}
	g_checksum_free(ck);
	g_free(buf);
	return rc;
}
