/* fuzz_odf.c - the OpenDocument connector (odt, odp, ods). An input that
 * is a zip ("PK") is parsed as it is; any other input is taken as XML and
 * packed (with libarchive's writer) as content.xml and meta.xml under a
 * mimetype the input's size chooses, so that the XML walks are fuzzed
 * without the zip in the way. */
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
		check(&conn_odf_ops, "f.odt", buf, size);
		free(buf);
		return 0;
	}
	static const char *const mimes[] = { "application/vnd.oasis.opendocument.text",
					     "application/vnd.oasis.opendocument.presentation",
					     "application/vnd.oasis.opendocument.spreadsheet" };
	const char *mime = mimes[size % 3];
	const struct part p[] = { { "mimetype", mime, strlen(mime) },
				  { "content.xml", buf, size },
				  { "meta.xml", buf, size } };
	size_t zl = 0;
	char *z = zip_of(p, 3, &zl);
	if (z)
		check(&conn_odf_ops, "f.odt", z, zl);
	free(z);
	free(buf);
	return 0;
}
