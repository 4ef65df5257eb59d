/*
 * pkg_fuzz.h - what the fuzz targets of zip packages (OOXML, ODF, EPUB)
 * share: packing arbitrary XML into a package with libarchive's writer, and
 * the invariants every parse must keep. Included by one target each; test
 * code only.
 */
#ifndef MX_PKG_FUZZ_H
#define MX_PKG_FUZZ_H

#include <archive.h>
#include <archive_entry.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../../common/utf8.h"
#include "../../connectors/conn.h"
#include "conn_fuzz.h"

struct part {
	const char *name, *data;
	size_t len;
};

/* A stored zip of the parts, malloc'd; NULL on a writer error. */
static char *zip_of(const struct part *p, size_t n, size_t *len)
{
	size_t cap = 4096;
	for (size_t i = 0; i < n; i++)
		cap += p[i].len + 512;
	struct archive *a = archive_write_new();
	char *buf = malloc(cap);
	size_t used = 0;
	bool ok = a && buf && archive_write_set_format_zip(a) == ARCHIVE_OK &&
		  archive_write_zip_set_compression_store(a) == ARCHIVE_OK &&
		  archive_write_open_memory(a, buf, cap, &used) == ARCHIVE_OK;
	for (size_t i = 0; ok && i < n; i++) {
		struct archive_entry *e = archive_entry_new();
		archive_entry_set_pathname(e, p[i].name);
		archive_entry_set_filetype(e, AE_IFREG);
		archive_entry_set_perm(e, 0644);
		archive_entry_set_size(e, (la_int64_t)p[i].len);
		ok = archive_write_header(a, e) == ARCHIVE_OK &&
		     archive_write_data(a, p[i].data, p[i].len) == (la_ssize_t)p[i].len;
		archive_entry_free(e);
	}
	ok = ok && archive_write_close(a) == ARCHIVE_OK;
	if (a)
		archive_write_free(a);
	if (!ok) {
		free(buf);
		return NULL;
	}
	*len = used;
	return buf;
}

/* What every parse promises. */
static void check(const struct conn_ops *ops, const char *name, const char *buf, size_t len)
{
	struct conn_doc d;
	conn_doc_init(&d);
	if (ops->parse(name, buf, len, &d) == 0) {
		if (!d.text || strlen(d.text) != d.text_len ||
		    !mx_utf8_is_valid(d.text, d.text_len) || !d.title ||
		    !mx_utf8_is_valid(d.title, strlen(d.title)) ||
		    (d.author && !mx_utf8_is_valid(d.author, strlen(d.author))) || !d.type[0])
			abort();
		for (size_t i = 0; i < d.nsections; i++) {
			const char *h = d.sections[i].heading;
			if (d.sections[i].start > d.text_len ||
			    (i && d.sections[i].start <= d.sections[i - 1].start) ||
			    (h && !mx_utf8_is_valid(h, strlen(h))))
				abort();
		}
	} else if (!d.err[0] || d.text) {
		abort(); /* a failure says why, and leaves no text */
	}
	conn_doc_clear(&d);
}

#endif
