/*
 * zip.c - archives in memory with hard limits, over libarchive.
 *
 * Office files and EPUBs are zips; sources may hold zip and tar archives.
 * Everything read from them is counted against the limits as it is read
 * (never trusting the sizes the archive declares): total and per-entry
 * uncompressed bytes, the ratio of uncompressed to compressed bytes (a zip
 * bomb has a ratio in the thousands), the number of entries, and a time
 * limit. Passing any of them stops the read with the reason.
 */
#include <archive.h>
#include <archive_entry.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#include "../common/status.h"
#include "conn.h"

struct conn_zip {
	struct conn_zip_entry *v;
	size_t n, cap;
};

struct conn_limits conn_limits_default(void)
{
	return (struct conn_limits){
		.max_total = 256ull << 20,
		.max_entry = 64ull << 20,
		.max_ratio = 200,
		.max_entries = 10000,
		.max_depth = 3,
		.seconds = 30,
	};
}

void conn_zip_close(struct conn_zip *z)
{
	if (!z)
		return;
	for (size_t i = 0; i < z->n; i++) {
		free((char *)z->v[i].name);
		free((char *)z->v[i].data);
	}
	free(z->v);
	free(z);
}

const struct conn_zip_entry *conn_zip_find(const struct conn_zip *z, const char *name)
{
	for (size_t i = 0; i < z->n; i++)
		if (!strcmp(z->v[i].name, name))
			return &z->v[i];
	return NULL;
}

size_t conn_zip_count(const struct conn_zip *z)
{
	return z->n;
}

const struct conn_zip_entry *conn_zip_entry(const struct conn_zip *z, size_t i)
{
	return i < z->n ? &z->v[i] : NULL;
}

/* Whether data is gzip whose first bytes decompress to compressed data
 * again (gzip, bzip2, xz, zstd). libarchive stacks decompression filters
 * by itself while it opens, up to 25 deep, and a small gzip of a gzip of
 * ... then takes minutes and gigabytes before any limit can act. */
static bool nested_compression(const char *data, size_t len)
{
	const unsigned char *p = (const unsigned char *)data;
	if (len < 18 || p[0] != 0x1f || p[1] != 0x8b)
		return false;
	unsigned char out[16];
	z_stream z = { 0 };
	if (inflateInit2(&z, 16 + MAX_WBITS) != Z_OK)
		return false;
	z.next_in = (unsigned char *)data;
	z.avail_in = len > UINT32_MAX ? UINT32_MAX : (uInt)len;
	z.next_out = out;
	z.avail_out = sizeof out;
	while (z.avail_out > 0) {
		int r = inflate(&z, Z_NO_FLUSH);
		if (r != Z_OK)
			break;
	}
	size_t n = sizeof out - z.avail_out;
	inflateEnd(&z);
	return (n >= 2 && out[0] == 0x1f && out[1] == 0x8b) || (n >= 3 && !memcmp(out, "BZh", 3)) ||
	       (n >= 6 && !memcmp(out,
				  "\xfd"
				  "7zXZ\0",
				  6)) ||
	       (n >= 4 && out[0] == 0x28 && out[1] == 0xb5 && out[2] == 0x2f && out[3] == 0xfd);
}

int conn_zip_open(const char *data, size_t len, const struct conn_limits *lim,
		  bool (*want)(const char *name, void *ctx), void *ctx, struct conn_zip **out,
		  char *err, size_t errsz)
{
	struct archive *a = archive_read_new();
	struct archive_entry *e;
	struct conn_zip *z = calloc(1, sizeof *z);
	char *buf = NULL;
	int rc = 0;
	uint64_t total = 0;
	size_t entries = 0;
	double deadline = lim->seconds > 0 ? conn_now() + lim->seconds : 0;
	*out = NULL;
	if (!a || !z) {
		rc = MX_ENOMEM;
		goto out;
	}
	archive_read_support_format_zip(a);
	archive_read_support_format_tar(a);
	archive_read_support_format_gnutar(a);
	archive_read_support_filter_gzip(a);
	archive_read_support_filter_zstd(a);
	archive_read_support_filter_bzip2(a);
	archive_read_support_filter_xz(a);
	if (nested_compression(data, len)) {
		snprintf(err, errsz, "archive compressed more than once");
		rc = MX_ETOOBIG;
		goto out;
	}
	if (archive_read_open_memory(a, data, len) != ARCHIVE_OK) {
		snprintf(err, errsz, "not an archive: %s", archive_error_string(a));
		rc = MX_EINVAL;
		goto out;
	}
	/* libarchive stacks decompression filters by itself (up to 25
	 * deep): a gzip of a gzip of ... can take minutes and gigabytes.
	 * Archives have at most one compression layer. */
	if (archive_filter_count(a) > 2) {
		snprintf(err, errsz, "archive compressed more than once (%d layers)",
			 archive_filter_count(a) - 1);
		rc = MX_ETOOBIG;
		goto out;
	}
	int r;
	while ((r = archive_read_next_header(a, &e)) == ARCHIVE_OK) {
		if (++entries > lim->max_entries) {
			snprintf(err, errsz, "archive has more than %zu entries", lim->max_entries);
			rc = MX_ETOOBIG;
			goto out;
		}
		const char *name = archive_entry_pathname(e);
		if (!name || archive_entry_filetype(e) != AE_IFREG)
			continue;
		bool keep = !want || want(name, ctx);
		size_t got = 0, cap = 0;
		buf = NULL;
		for (;;) {
			char block[65536];
			la_ssize_t k = archive_read_data(a, block, sizeof block);
			if (k < 0) {
				snprintf(err, errsz, "broken archive entry '%.100s': %s", name,
					 archive_error_string(a));
				rc = MX_EINVAL;
				goto out;
			}
			if (k == 0)
				break;
			total += (uint64_t)k;
			if (got + (size_t)k > lim->max_entry) {
				snprintf(err, errsz, "archive entry '%.100s' is over %llu bytes",
					 name, (unsigned long long)lim->max_entry);
				rc = MX_ETOOBIG;
				goto out;
			}
			if (total > lim->max_total) {
				snprintf(err, errsz, "archive expands to over %llu bytes",
					 (unsigned long long)lim->max_total);
				rc = MX_ETOOBIG;
				goto out;
			}
			/* a zip bomb: far more out than in (small archives may
			 * legitimately reach high ratios: judge past 1 MiB) */
			if (total > (1u << 20) && total / (len ? len : 1) > lim->max_ratio) {
				snprintf(err, errsz,
					 "archive expands over %llu times its size (a zip bomb?)",
					 (unsigned long long)lim->max_ratio);
				rc = MX_ETOOBIG;
				goto out;
			}
			if (deadline > 0 && conn_now() > deadline) {
				snprintf(err, errsz, "time limit (%.0f s) reading the archive",
					 lim->seconds);
				rc = MX_ETOOBIG;
				goto out;
			}
			if (!keep)
				continue;
			if (got + (size_t)k + 1 > cap) {
				size_t c = cap ? cap * 2 : 65536;
				while (c < got + (size_t)k + 1)
					c *= 2;
				char *p = realloc(buf, c);
				if (!p) {
					rc = MX_ENOMEM;
					goto out;
				}
				buf = p;
				cap = c;
			}
			memcpy(buf + got, block, (size_t)k);
			got += (size_t)k;
		}
		if (!keep)
			continue;
		if (z->n == z->cap) {
			size_t c = z->cap ? z->cap * 2 : 32;
			struct conn_zip_entry *v = realloc(z->v, c * sizeof *v);
			if (!v) {
				rc = MX_ENOMEM;
				goto out;
			}
			z->v = v;
			z->cap = c;
		}
		if (!buf && !(buf = malloc(1))) {
			rc = MX_ENOMEM;
			goto out;
		}
		buf[got] = '\0';
		char *nm = strdup(name);
		if (!nm) {
			rc = MX_ENOMEM;
			goto out;
		}
		z->v[z->n++] = (struct conn_zip_entry){ nm, buf, got };
		buf = NULL;
	}
	if (r != ARCHIVE_EOF) {
		snprintf(err, errsz, "broken archive: %s", archive_error_string(a));
		rc = MX_EINVAL;
	}
out:
	free(buf);
	if (a)
		archive_read_free(a);
	if (rc) {
		conn_zip_close(z);
		return rc;
	}
	*out = z;
	return 0;
}
