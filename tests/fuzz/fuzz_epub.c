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
#include "pkg_fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *buf = fuzz_conn_input(data, size);
	if (!buf)
		return 0;
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
