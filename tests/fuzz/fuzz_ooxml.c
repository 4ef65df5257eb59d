/* fuzz_ooxml.c - the docx, pptx and xlsx connectors. An input that is a
 * zip ("PK") is parsed as each of the three; any other input is taken as
 * XML and packed (with libarchive's writer) as word/document.xml, as a
 * slide, and as a worksheet and its shared strings, so that the XML walks
 * are fuzzed without the zip in the way. */
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
		check(&conn_docx_ops, "f.docx", buf, size);
		check(&conn_pptx_ops, "f.pptx", buf, size);
		check(&conn_xlsx_ops, "f.xlsx", buf, size);
		free(buf);
		return 0;
	}
	static const char pres[] =
		"<p:presentation xmlns:p=\"http://schemas.openxmlformats.org/presentationml/2006/"
		"main\"/>";
	static const char wb[] =
		"<workbook xmlns=\"http://schemas.openxmlformats.org/spreadsheetml/2006/main\" "
		"xmlns:r=\"http://schemas.openxmlformats.org/officeDocument/2006/relationships\">"
		"<sheets><sheet name=\"S\" r:id=\"rId1\"/></sheets></workbook>";
	static const char wbrels[] =
		"<Relationships xmlns=\"http://schemas.openxmlformats.org/package/2006/"
		"relationships\"><Relationship Id=\"rId1\" Type=\"http://schemas.openxmlformats.org/"
		"officeDocument/2006/relationships/worksheet\" Target=\"worksheets/sheet1.xml\"/>"
		"</Relationships>";
	const struct part docx[] = { { "word/document.xml", buf, size },
				     { "word/footnotes.xml", buf, size } };
	const struct part pptx[] = { { "ppt/presentation.xml", pres, sizeof pres - 1 },
				     { "ppt/slides/slide1.xml", buf, size } };
	const struct part xlsx[] = { { "xl/workbook.xml", wb, sizeof wb - 1 },
				     { "xl/_rels/workbook.xml.rels", wbrels, sizeof wbrels - 1 },
				     { "xl/worksheets/sheet1.xml", buf, size },
				     { "xl/sharedStrings.xml", buf, size } };
	const struct {
		const struct conn_ops *ops;
		const char *name;
		const struct part *p;
		size_t n;
	} kinds[] = { { &conn_docx_ops, "f.docx", docx, 2 },
		      { &conn_pptx_ops, "f.pptx", pptx, 2 },
		      { &conn_xlsx_ops, "f.xlsx", xlsx, 4 } };
	for (size_t k = 0; k < 3; k++) {
		size_t zl = 0;
		char *z = zip_of(kinds[k].p, kinds[k].n, &zl);
		if (z)
			check(kinds[k].ops, kinds[k].name, z, zl);
		free(z);
	}
	free(buf);
	return 0;
}
