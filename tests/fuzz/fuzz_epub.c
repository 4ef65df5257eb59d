/* fuzz_epub.c - the EPUB connector. An input that is a zip ("PK") is
 * parsed as it is; any other input is taken as XML or HTML and packed (with
 * libarchive's writer) as a book's chapter, and as its package document,
 * so that the OPF and chapter walks are fuzzed without the zip in the
 * way. */
#include <archive.h>
#include <archive_entry.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../../common/utf8.h"
#include "../../connectors/conn.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Until conn.h declares it. */

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

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static int inited;
	if (!inited) {
		conn_global_init();
		inited = 1;
	}
	char *buf = malloc(size + 1);
	if (!buf)
		return 0;
	memcpy(buf, data, size);
	buf[size] = '\0';
	if (size >= 2 && buf[0] == 'P' && buf[1] == 'K') {
		check(&conn_epub_ops, "f.epub", buf, size);
		free(buf);
		return 0;
	}
	static const char container[] =
		"<container xmlns=\"urn:oasis:names:tc:opendocument:xmlns:container\"><rootfiles>"
		"<rootfile full-path=\"OPS/book.opf\" media-type=\"application/oebps-package+xml\"/>"
		"</rootfiles></container>";
	static const char opf[] =
		"<package xmlns=\"http://www.idpf.org/2007/opf\"><metadata "
		"xmlns:dc=\"http://purl.org/dc/elements/1.1/\"><dc:title>T</dc:title></metadata>"
		"<manifest><item id=\"a\" href=\"text/a.xhtml\" "
		"media-type=\"application/xhtml+xml\"/></manifest><spine><itemref idref=\"a\"/>"
		"</spine></package>";
	static const char chapter[] = "<html xmlns=\"http://www.w3.org/1999/xhtml\"><body><h1>H"
				      "</h1><p>text</p></body></html>";
	const struct part as_chapter[] = { { "META-INF/container.xml", container,
					     sizeof container - 1 },
					   { "OPS/book.opf", opf, sizeof opf - 1 },
					   { "OPS/text/a.xhtml", buf, size } };
	const struct part as_opf[] = { { "META-INF/container.xml", container,
					 sizeof container - 1 },
				       { "OPS/book.opf", buf, size },
				       { "OPS/text/a.xhtml", chapter, sizeof chapter - 1 } };
	size_t zl = 0;
	char *z = zip_of(size % 2 ? as_opf : as_chapter, 3, &zl);
	if (z)
		check(&conn_epub_ops, "f.epub", z, zl);
	free(z);
	free(buf);
	return 0;
}
