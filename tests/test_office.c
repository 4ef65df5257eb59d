/* test_office.c - the document connectors: docx, pptx, xlsx, odt/odp/ods,
 * epub. Real files from ../shared/data/docs (phrases checked beforehand
 * with Python's zipfile and XML modules), packages built here with
 * libarchive's writer (ODF presentations and spreadsheets, which the
 * shared data lacks), and hostile packages: entity bombs, external
 * entities, a zip bomb, encrypted and broken files. */
#include <archive.h>
#include <archive_entry.h>
#include <dirent.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

#include "../common/fsutil.h"
#include "../common/status.h"
#include "../common/utf8.h"
#include "../connectors/conn.h"
#include "../connectors/conn_int.h"
#include "harness.h"

/* Until conn.h declares them. */

/* ---- helpers ------------------------------------------------------------ */

static int parse(const struct conn_ops *ops, const char *path, const char *data, size_t len,
		 struct conn_doc *d)
{
	conn_doc_init(d);
	return ops->parse(path, data, len, d);
}

/* Parses ../shared/data/docs/rel; false (a skip printed) without ../shared. */
static bool parse_shared(const struct conn_ops *ops, const char *rel, int *rc, struct conn_doc *d)
{
	const char *sh = test_shared();
	char path[4096];
	char *data = NULL;
	size_t len = 0;
	conn_doc_init(d);
	if (!sh) {
		printf("    skip: ../shared not found\n");
		return false;
	}
	snprintf(path, sizeof path, "%s/data/docs/%s", sh, rel);
	if (!CHECK(mx_read_file(path, 64u << 20, &data, &len) == 0))
		return false;
	*rc = ops->parse(path, data, len, d);
	free(data);
	return true;
}

static bool has_section(const struct conn_doc *d, const char *heading)
{
	for (size_t i = 0; i < d->nsections; i++)
		if (d->sections[i].heading && !strcmp(d->sections[i].heading, heading))
			return true;
	return false;
}

/* The invariants every parse keeps: valid UTF-8, sections sorted and
 * inside the text, a title, the type, no line mapping. */
static void check_doc(const struct conn_doc *d, const char *type)
{
	CHECK(d->text != NULL);
	if (!d->text)
		return;
	CHECK_EQ_INT(strlen(d->text), d->text_len);
	CHECK(mx_utf8_is_valid(d->text, d->text_len));
	CHECK(d->title != NULL && mx_utf8_is_valid(d->title, strlen(d->title)));
	CHECK(!d->author || mx_utf8_is_valid(d->author, strlen(d->author)));
	CHECK_STR(d->type, type);
	CHECK_EQ_INT(d->line_base, -1);
	for (size_t i = 0; i < d->nsections; i++) {
		CHECK(d->sections[i].start <= d->text_len);
		CHECK(i == 0 || d->sections[i].start > d->sections[i - 1].start);
		const char *h = d->sections[i].heading;
		CHECK(!h || mx_utf8_is_valid(h, strlen(h)));
	}
}

struct zent {
	const char *name;
	const char *data; /* NULL: `size` bytes of `fill` */
	size_t size;
	char fill;
	bool stored; /* not deflated */
};

/* A zip of the entries (deflated, the mimetype stored first as ODF and
 * EPUB want). *len its size; malloc'd. Aborts the run on a writer error,
 * which is not what is tested. */
static char *make_zip(const struct zent *e, size_t n, size_t cap, size_t *len)
{
	struct archive *a = archive_write_new();
	char *buf = malloc(cap);
	size_t used = 0;
	if (!a || !buf || archive_write_set_format_zip(a) != ARCHIVE_OK ||
	    archive_write_open_memory(a, buf, cap, &used) != ARCHIVE_OK) {
		fprintf(stderr, "archive writer: %s\n", a ? archive_error_string(a) : "no memory");
		exit(2);
	}
	char *block = malloc(1 << 16);
	if (!block)
		exit(2);
	for (size_t i = 0; i < n; i++) {
		struct archive_entry *en = archive_entry_new();
		size_t size = e[i].data ? strlen(e[i].data) : e[i].size;
		if (!strcmp(e[i].name, "mimetype") || e[i].stored)
			archive_write_zip_set_compression_store(a);
		else
			archive_write_zip_set_compression_deflate(a);
		archive_entry_set_pathname(en, e[i].name);
		archive_entry_set_filetype(en, AE_IFREG);
		archive_entry_set_perm(en, 0644);
		archive_entry_set_size(en, (la_int64_t)size);
		if (archive_write_header(a, en) != ARCHIVE_OK) {
			fprintf(stderr, "archive writer: %s\n", archive_error_string(a));
			exit(2);
		}
		if (e[i].data) {
			archive_write_data(a, e[i].data, size);
		} else {
			memset(block, e[i].fill, 1 << 16);
			for (size_t done = 0; done < size;) {
				size_t k = size - done < (1 << 16) ? size - done : (1 << 16);
				if (archive_write_data(a, block, k) < 0) {
					fprintf(stderr, "archive writer: %s\n",
						archive_error_string(a));
					exit(2);
				}
				done += k;
			}
		}
		archive_entry_free(en);
	}
	if (archive_write_close(a) != ARCHIVE_OK) {
		fprintf(stderr, "archive writer: %s\n", archive_error_string(a));
		exit(2);
	}
	archive_write_free(a);
	free(block);
	*len = used;
	return buf;
}

#define W_NS "xmlns:w=\"http://schemas.openxmlformats.org/wordprocessingml/2006/main\""

/* A docx whose word/document.xml is doc (core properties and rels
 * optional: the connector falls back to the usual part names). */
static char *make_docx(const char *docxml, size_t *len)
{
	struct zent e[] = { { .name = "word/document.xml", .data = docxml } };
	return make_zip(e, 1, 1 << 20, len);
}

/* ---- docx --------------------------------------------------------------- */

static void docx_fake(void)
{
	struct conn_doc d;
	int rc;
	if (!parse_shared(&conn_docx_ops, "unstructured-example-docs/fake.docx", &rc, &d))
		return;
	CHECK_EQ_INT(rc, 0);
	check_doc(&d, "docx");
	CHECK(strstr(d.text, "Lorem ipsum dolor sit amet.") != NULL);
	CHECK_STR(d.author, "Mr. Miagi");
	CHECK_EQ_INT(d.date, 1387840500); /* dcterms:modified 2013-12-23T23:15:00Z */
	CHECK_STR(d.title, "fake");	  /* an empty dc:title: the file name */
	conn_doc_clear(&d);
}

static void docx_headings(void)
{
	struct conn_doc d;
	int rc;
	if (!parse_shared(&conn_docx_ops, "pandoc-testfiles/docx/headers.docx", &rc, &d))
		return;
	CHECK_EQ_INT(rc, 0);
	check_doc(&d, "docx");
	CHECK(strstr(d.text, "Some more plain text.") != NULL);
	CHECK(has_section(&d, "A Test of Headers > Second Level > Third level"));
	CHECK_STR(d.title, "A Test of Headers"); /* no dc:title: the first heading */
	CHECK_STR(d.author, "Jesse Rosenthal");
	CHECK_EQ_INT(d.date, 1402600080); /* 2014-06-12T19:08:00Z */
	conn_doc_clear(&d);
}

static void docx_tables_and_notes(void)
{
	struct conn_doc d;
	int rc;
	if (!parse_shared(&conn_docx_ops, "pandoc-testfiles/docx/tables.docx", &rc, &d))
		return;
	CHECK_EQ_INT(rc, 0);
	check_doc(&d, "docx");
	/* cells by spaces, rows by lines */
	CHECK(strstr(d.text, "Name Game Fame Blame\nLebron James Basketball Very High Leaving "
			     "Cleveland\n") != NULL);
	conn_doc_clear(&d);
	if (!parse_shared(&conn_docx_ops, "pandoc-testfiles/docx/notes.docx", &rc, &d))
		return;
	CHECK_EQ_INT(rc, 0);
	check_doc(&d, "docx");
	CHECK(has_section(&d, "Footnotes"));
	const char *f = strstr(d.text, "Footnotes");
	CHECK(f && strstr(f, "My note.") && strstr(f, "This is an endnote"));
	CHECK_STR(d.title, "A footnote");
	conn_doc_clear(&d);
}

static void docx_built(void)
{
	/* styles by name ("heading 2" under a localised id), lists as lines,
	 * tabs, breaks, deleted text dropped, a text box read once */
	const char *doc =
		"<?xml version=\"1.0\"?><w:document " W_NS
		" xmlns:mc=\"http://schemas.openxmlformats.org/markup-compatibility/2006\">"
		"<w:body><w:p><w:pPr><w:pStyle w:val=\"Title\"/></w:pPr><w:r><w:t>Trip "
		"plan</w:t></w:r></w:p>"
		"<w:p><w:pPr><w:pStyle w:val=\"berschrift2\"/></w:pPr><w:r><w:t>Packing</w:t></w:r></w:p>"
		"<w:p><w:pPr><w:numPr><w:ilvl w:val=\"0\"/></w:numPr></w:pPr><w:r><w:t>socks</w:t></w:r></w:p>"
		"<w:p><w:pPr><w:numPr><w:ilvl w:val=\"0\"/></w:numPr></w:pPr><w:r><w:t>boots</w:t></w:r></w:p>"
		"<w:p><w:r><w:t>A</w:t><w:tab/><w:t>B</w:t><w:br/><w:t>C</w:t></w:r>"
		"<w:del><w:r><w:delText>gone</w:delText></w:r></w:del>"
		"<w:ins><w:r><w:t xml:space=\"preserve\"> added</w:t></w:r></w:ins></w:p>"
		"<w:p><w:r><mc:AlternateContent><mc:Choice><w:drawing><w:txbxContent><w:p><w:r>"
		"<w:t>boxed</w:t></w:r></w:p></w:txbxContent></w:drawing></mc:Choice><mc:Fallback>"
		"<w:pict><w:txbxContent><w:p><w:r><w:t>boxed</w:t></w:r></w:p></w:txbxContent>"
		"</w:pict></mc:Fallback></mc:AlternateContent></w:r></w:p>"
		"</w:body></w:document>";
	const char *styles = "<?xml version=\"1.0\"?><w:styles " W_NS ">"
			     "<w:style w:type=\"paragraph\" w:styleId=\"berschrift2\">"
			     "<w:name w:val=\"heading 2\"/></w:style></w:styles>";
	const char *core =
		"<?xml version=\"1.0\"?><cp:coreProperties "
		"xmlns:cp=\"http://schemas.openxmlformats.org/package/2006/metadata/core-properties\" "
		"xmlns:dc=\"http://purl.org/dc/elements/1.1/\" "
		"xmlns:dcterms=\"http://purl.org/dc/terms/\"><dc:creator>Maya  Costa</dc:creator>"
		"<dcterms:created>2024-03-01T10:00:00+01:00</dcterms:created></cp:coreProperties>";
	struct zent e[] = { { .name = "word/document.xml", .data = doc },
			    { .name = "word/styles.xml", .data = styles },
			    { .name = "docProps/core.xml", .data = core } };
	size_t len;
	char *zip = make_zip(e, 3, 1 << 20, &len);
	struct conn_doc d;
	CHECK_EQ_INT(parse(&conn_docx_ops, "x/trip.docx", zip, len, &d), 0);
	check_doc(&d, "docx");
	CHECK_STR(d.text, "Trip plan\n\nPacking\n\nsocks\nboots\n\nA B\nC added\n\nboxed");
	CHECK(has_section(&d, "Trip plan > Packing"));
	CHECK_STR(d.author, "Maya Costa");
	CHECK_EQ_INT(d.date, 1709283600); /* 2024-03-01T09:00:00Z */
	CHECK_STR(d.title, "Trip plan");
	conn_doc_clear(&d);
	free(zip);
}

/* ---- pptx --------------------------------------------------------------- */

static void pptx_slides(void)
{
	struct conn_doc d;
	int rc;
	if (!parse_shared(&conn_pptx_ops, "unstructured-example-docs/fake-power-point.pptx", &rc,
			  &d))
		return;
	CHECK_EQ_INT(rc, 0);
	check_doc(&d, "pptx");
	CHECK(has_section(&d, "Slide 1: Adding a Bullet Slide"));
	CHECK(strstr(d.text, "Find the bullet slide layout") != NULL);
	CHECK_STR(d.title, "Adding a Bullet Slide");
	conn_doc_clear(&d);
	if (!parse_shared(&conn_pptx_ops, "pandoc-testfiles/pptx-reader/basic.pptx", &rc, &d))
		return;
	CHECK_EQ_INT(rc, 0);
	check_doc(&d, "pptx");
	CHECK_STR(d.author, "Anton Antic");
	CHECK(has_section(&d, "Slide 1: LLMs"));
	CHECK(has_section(&d, "Slide 3: Table"));
	CHECK(strstr(d.text, "EW maintained list of") != NULL);
	CHECK(strstr(d.text, "Name Anton Antich") != NULL); /* a table row */
	CHECK(strstr(d.text, "Vector DBs") != NULL);	    /* SmartArt data */
	conn_doc_clear(&d);
}

static void pptx_notes(void)
{
	struct conn_doc d;
	int rc;
	if (!parse_shared(&conn_pptx_ops, "pandoc-testfiles/pptx/speaker-notes/output.pptx", &rc,
			  &d))
		return;
	CHECK_EQ_INT(rc, 0);
	check_doc(&d, "pptx");
	CHECK(has_section(&d, "Slide 1") && has_section(&d, "Slide 4"));
	CHECK(strstr(d.text, "Here is a slide.\n\nNotes:\nHere is a note.") != NULL);
	/* the slide number placeholder of the notes page is not text */
	CHECK(strstr(d.text, "formatting.\n\nSlide 2") != NULL);
	conn_doc_clear(&d);
}

/* ---- xlsx --------------------------------------------------------------- */

static void xlsx_sheets(void)
{
	struct conn_doc d;
	int rc;
	if (!parse_shared(&conn_xlsx_ops, "unstructured-example-docs/stanley-cups.xlsx", &rc, &d))
		return;
	CHECK_EQ_INT(rc, 0);
	check_doc(&d, "xlsx");
	CHECK(has_section(&d, "Stanley Cups"));
	CHECK(has_section(&d, "Stanley Cups Since 67"));
	CHECK(strstr(d.text, "Team\tLocation\tStanley Cups\nBlues\tSTL\t1.0\n") != NULL);
	CHECK(strstr(d.text, "Maple Leafs\tTOR\t13.0") != NULL);
	conn_doc_clear(&d);
	if (!parse_shared(&conn_xlsx_ops, "pandoc-testfiles/xlsx-reader/basic.xlsx", &rc, &d))
		return;
	CHECK_EQ_INT(rc, 0);
	check_doc(&d, "xlsx");
	CHECK(has_section(&d, "Main") && has_section(&d, "Secondary"));
	CHECK(strstr(d.text, "James Bond") != NULL);
	CHECK(strstr(d.text, "Just a random cell") != NULL);
	CHECK_STR(d.author, "Anton Antic");
	CHECK_EQ_INT(d.date, 1762344931); /* 2025-11-05T12:15:31Z */
	conn_doc_clear(&d);
}

static void xlsx_encrypted(void)
{
	struct conn_doc d;
	int rc;
	if (!parse_shared(&conn_xlsx_ops, "unstructured-example-docs/password_protected.xlsx", &rc,
			  &d))
		return;
	CHECK_EQ_INT(rc, MX_EUNSUPPORTED);
	CHECK(strstr(d.err, "encrypted") != NULL);
	CHECK(d.text == NULL);
	conn_doc_clear(&d);
}

static void xlsx_built_cells(void)
{
	/* shared, inline, boolean, number and error cells; a phonetic run
	 * that is not text */
	const char *wb = "<?xml version=\"1.0\"?><workbook "
			 "xmlns=\"http://schemas.openxmlformats.org/spreadsheetml/2006/main\" "
			 "xmlns:r=\"http://schemas.openxmlformats.org/officeDocument/2006/"
			 "relationships\"><sheets><sheet name=\"Q1 &amp; Q2\" sheetId=\"1\" "
			 "r:id=\"rId1\"/></sheets></workbook>";
	const char *rels = "<?xml version=\"1.0\"?><Relationships "
			   "xmlns=\"http://schemas.openxmlformats.org/package/2006/relationships\">"
			   "<Relationship Id=\"rId1\" Type=\"http://schemas.openxmlformats.org/"
			   "officeDocument/2006/relationships/worksheet\" "
			   "Target=\"/xl/worksheets/../worksheets/s1.xml\"/></Relationships>";
	const char *sst = "<?xml version=\"1.0\"?><sst "
			  "xmlns=\"http://schemas.openxmlformats.org/spreadsheetml/2006/main\">"
			  "<si><t>Rent</t></si><si><r><t>Tok</t></r><r><t>yo</t></r><rPh><t>"
			  "tokyo</t></rPh></si></sst>";
	const char *sheet = "<?xml version=\"1.0\"?><worksheet "
			    "xmlns=\"http://schemas.openxmlformats.org/spreadsheetml/2006/main\">"
			    "<sheetData><row r=\"1\"><c t=\"s\"><v>0</v></c><c><v>1200.5</v></c>"
			    "<c t=\"b\"><v>1</v></c></row><row r=\"2\"><c t=\"s\"><v>1</v></c>"
			    "<c t=\"inlineStr\"><is><t>flat</t></is></c><c t=\"e\"><v>#DIV/0!</v>"
			    "</c><c t=\"s\"><v>99</v></c></row></sheetData></worksheet>";
	struct zent e[] = { { .name = "xl/workbook.xml", .data = wb },
			    { .name = "xl/_rels/workbook.xml.rels", .data = rels },
			    { .name = "xl/sharedStrings.xml", .data = sst },
			    { .name = "xl/worksheets/s1.xml", .data = sheet } };
	size_t len;
	char *zip = make_zip(e, 4, 1 << 20, &len);
	struct conn_doc d;
	CHECK_EQ_INT(parse(&conn_xlsx_ops, "budget.xlsx", zip, len, &d), 0);
	check_doc(&d, "xlsx");
	CHECK_STR(d.text, "Q1 & Q2\n\nRent\t1200.5\tTRUE\nTokyo\tflat\t#DIV/0!");
	CHECK(has_section(&d, "Q1 & Q2"));
	CHECK_STR(d.title, "budget");
	conn_doc_clear(&d);
	free(zip);
}

/* A sheet of more cells than the cap: cut, and the note says so. */
static void xlsx_cell_cap(void)
{
	const char *wb =
		"<workbook xmlns=\"http://schemas.openxmlformats.org/spreadsheetml/2006/main\" "
		"xmlns:r=\"http://schemas.openxmlformats.org/officeDocument/2006/"
		"relationships\"><sheets><sheet name=\"Big\" r:id=\"rId1\"/></sheets>"
		"</workbook>";
	const char *rels = "<Relationships "
			   "xmlns=\"http://schemas.openxmlformats.org/package/2006/relationships\">"
			   "<Relationship Id=\"rId1\" Type=\"http://schemas.openxmlformats.org/"
			   "officeDocument/2006/relationships/worksheet\" Target=\"sheet.xml\"/>"
			   "</Relationships>";
	static const char head[] = "<worksheet "
				   "xmlns=\"http://schemas.openxmlformats.org/spreadsheetml/2006/"
				   "main\"><sheetData>";
	static const char tail[] = "</sheetData></worksheet>";
	static const char cell[] = "<c><v>7</v></c>";
	size_t cap = sizeof head + sizeof tail + 1000 * (11 + 101 * (sizeof cell - 1));
	char *sheet = malloc(cap), *o = sheet;
	memcpy(o, head, sizeof head - 1);
	o += sizeof head - 1;
	for (int r = 0; r < 1000; r++) { /* 101,000 cells */
		memcpy(o, "<row>", 5);
		o += 5;
		for (int c = 0; c < 101; c++) {
			memcpy(o, cell, sizeof cell - 1);
			o += sizeof cell - 1;
		}
		memcpy(o, "</row>", 6);
		o += 6;
	}
	memcpy(o, tail, sizeof tail);
	/* stored: highly repetitive XML deflated would look like a zip bomb */
	struct zent e[] = { { .name = "xl/workbook.xml", .data = wb },
			    { .name = "xl/_rels/workbook.xml.rels", .data = rels },
			    { .name = "xl/sheet.xml", .data = sheet, .stored = true } };
	size_t len;
	char *zip = make_zip(e, 3, 4u << 20, &len);
	struct conn_doc d;
	CHECK_EQ_INT(parse(&conn_xlsx_ops, "big.xlsx", zip, len, &d), 0);
	check_doc(&d, "xlsx");
	size_t sevens = 0;
	for (size_t i = 0; i < d.text_len; i++)
		sevens += d.text[i] == '7';
	CHECK_EQ_INT(sevens, 100000);
	CHECK_STR(d.note, "sheet 'Big' cut at 100000 cells");
	conn_doc_clear(&d);
	free(zip);
	free(sheet);
}

/* ---- odt, odp, ods ------------------------------------------------------ */

static void odt_headings(void)
{
	struct conn_doc d;
	int rc;
	if (!parse_shared(&conn_odf_ops, "pandoc-testfiles/odt/odt/headers.odt", &rc, &d))
		return;
	CHECK_EQ_INT(rc, 0);
	check_doc(&d, "odt");
	CHECK(has_section(&d, "A header (Lv 1) > Another header (Lv 2)"));
	CHECK(has_section(&d, "Back to Level 1"));
	CHECK(strstr(d.text, "Another paragraph") != NULL);
	CHECK_STR(d.author, "Martin Linnemann");
	CHECK_EQ_INT(d.date, 1425231562); /* dc:date 2015-03-01T17:39:22.18 */
	conn_doc_clear(&d);
	if (!parse_shared(&conn_odf_ops, "unstructured-example-docs/simple.odt", &rc, &d))
		return;
	CHECK_EQ_INT(rc, 0);
	check_doc(&d, "odt");
	CHECK(has_section(&d, "These are a few of my favorite things:"));
	CHECK(strstr(d.text, "This is my first thought. This is my second thought.") != NULL);
	CHECK(d.author == NULL); /* empty in meta.xml */
	conn_doc_clear(&d);
}

static void odt_table_and_notes(void)
{
	struct conn_doc d;
	int rc;
	if (!parse_shared(&conn_odf_ops, "unstructured-example-docs/fake.odt", &rc, &d))
		return;
	CHECK_EQ_INT(rc, 0);
	check_doc(&d, "odt");
	CHECK(strstr(d.text, "Lorem ipsum dolor sit amet.\n\nHeader row Mon Wed Fri\nColor Blue "
			     "Red Green\n") != NULL);
	CHECK_EQ_INT(d.date, 1694613754); /* dc:date 2023-09-13T14:02:34.367419807 */
	conn_doc_clear(&d);
	if (!parse_shared(&conn_odf_ops, "pandoc-testfiles/odt/odt/footnote.odt", &rc, &d))
		return;
	CHECK_EQ_INT(rc, 0);
	check_doc(&d, "odt");
	CHECK(has_section(&d, "Footnotes"));
	CHECK_STR(d.title, "footnote"); /* not the notes' heading */
	conn_doc_clear(&d);
}

#define ODF_DECL "<?xml version=\"1.0\"?>"
#define ODF_ROOT                                                                                   \
	"<office:document-content "                                                                \
	"xmlns:office=\"urn:oasis:names:tc:opendocument:xmlns:office:1.0\" "                       \
	"xmlns:text=\"urn:oasis:names:tc:opendocument:xmlns:text:1.0\" "                           \
	"xmlns:table=\"urn:oasis:names:tc:opendocument:xmlns:table:1.0\" "                         \
	"xmlns:draw=\"urn:oasis:names:tc:opendocument:xmlns:drawing:1.0\" "                        \
	"xmlns:presentation=\"urn:oasis:names:tc:opendocument:xmlns:presentation:1.0\">"

#define ODF_META                                                                                   \
	"<?xml version=\"1.0\"?><office:document-meta "                                            \
	"xmlns:office=\"urn:oasis:names:tc:opendocument:xmlns:office:1.0\" "                       \
	"xmlns:meta=\"urn:oasis:names:tc:opendocument:xmlns:meta:1.0\" "                           \
	"xmlns:dc=\"http://purl.org/dc/elements/1.1/\"><office:meta>"

static char *make_odf(const char *mime, const char *content, const char *meta, size_t *len)
{
	struct zent e[3];
	size_t n = 0;
	if (mime)
		e[n++] = (struct zent){ .name = "mimetype", .data = mime };
	e[n++] = (struct zent){ .name = "content.xml", .data = content };
	if (meta)
		e[n++] = (struct zent){ .name = "meta.xml", .data = meta };
	return make_zip(e, n, 1 << 20, len);
}

static void odp_slides(void)
{
	const char *content = ODF_DECL ODF_ROOT
		"<office:body><office:presentation>"
		"<draw:page draw:name=\"page1\"><draw:frame presentation:class=\"title\">"
		"<draw:text-box><text:p>Lisbon trip</text:p></draw:text-box></draw:frame>"
		"<draw:frame presentation:class=\"outline\"><draw:text-box><text:list>"
		"<text:list-item><text:p>Flights on<text:s text:c=\"3\"/>Friday</text:p>"
		"</text:list-item><text:list-item><text:p>Hotel in Alfama</text:p>"
		"</text:list-item></text:list></draw:text-box></draw:frame>"
		"<presentation:notes><draw:page-thumbnail/><draw:frame "
		"presentation:class=\"notes\"><draw:text-box><text:p>Book the tram "
		"tickets</text:p></draw:text-box></draw:frame></presentation:notes>"
		"</draw:page><draw:page draw:name=\"page2\"><draw:frame><draw:text-box>"
		"<text:p>Budget<text:tab/>900<text:line-break/>euros</text:p>"
		"</draw:text-box></draw:frame></draw:page>"
		"</office:presentation></office:body></office:document-content>";
	const char *meta = ODF_META "<dc:title>Trip deck</dc:title><meta:initial-creator>Maya"
				    "</meta:initial-creator><dc:creator>Leo</dc:creator>"
				    "<meta:creation-date>2024-05-15T21:26:37Z</meta:creation-date>"
				    "</office:meta></office:document-meta>";
	size_t len;
	char *zip =
		make_odf("application/vnd.oasis.opendocument.presentation", content, meta, &len);
	struct conn_doc d;
	CHECK_EQ_INT(parse(&conn_odf_ops, "deck.odp", zip, len, &d), 0);
	check_doc(&d, "odp");
	CHECK_STR(d.text, "Slide 1: Lisbon trip\n\nFlights on Friday\nHotel in Alfama\n\n"
			  "Notes:\nBook the tram tickets\n\nSlide 2\n\nBudget 900\neuros");
	CHECK(has_section(&d, "Slide 1: Lisbon trip") && has_section(&d, "Slide 2"));
	CHECK_STR(d.title, "Trip deck");
	CHECK_STR(d.author, "Maya");
	CHECK_EQ_INT(d.date, 1715808397);
	conn_doc_clear(&d);
	free(zip);

	/* no mimetype entry: the body tells; no meta: the file name titles */
	const char *c2 = ODF_DECL ODF_ROOT "<office:body><office:presentation><draw:page>"
					   "<draw:custom-shape><text:p>Quarterly review</text:p>"
					   "</draw:custom-shape></draw:page></office:presentation>"
					   "</office:body></office:document-content>";
	zip = make_odf(NULL, c2, NULL, &len);
	CHECK_EQ_INT(parse(&conn_odf_ops, "dir/review.odp", zip, len, &d), 0);
	check_doc(&d, "odp");
	CHECK_STR(d.text, "Slide 1\n\nQuarterly review");
	CHECK_STR(d.title, "review");
	conn_doc_clear(&d);
	free(zip);
}

static void ods_sheets(void)
{
	const char *content = ODF_DECL ODF_ROOT
		"<office:body><office:spreadsheet>"
		"<table:table table:name=\"Budget\"><table:table-column "
		"table:number-columns-repeated=\"1024\"/>"
		"<table:table-row><table:table-cell office:value-type=\"string\">"
		"<text:p>Rent</text:p></table:table-cell><table:table-cell "
		"table:number-columns-repeated=\"3\"/><table:table-cell "
		"office:value-type=\"float\" office:value=\"1200\"><text:p>1,200"
		"</text:p></table:table-cell><table:table-cell "
		"table:number-columns-repeated=\"16000\"/></table:table-row>"
		"<table:table-row table:number-rows-repeated=\"1048000\"><table:table-cell "
		"table:number-columns-repeated=\"1024\"/></table:table-row>"
		"</table:table><table:table table:name=\"Notes sheet\">"
		"<table:table-header-rows><table:table-row><table:table-cell "
		"table:number-columns-repeated=\"2\"><text:p>x</text:p></table:table-cell>"
		"<table:table-cell office:value-type=\"float\" office:value=\"42\"/>"
		"</table:table-row></table:table-header-rows></table:table>"
		"</office:spreadsheet></office:body></office:document-content>";
	size_t len;
	char *zip = make_odf("application/vnd.oasis.opendocument.spreadsheet", content, NULL, &len);
	struct conn_doc d;
	CHECK_EQ_INT(parse(&conn_odf_ops, "money.ods", zip, len, &d), 0);
	check_doc(&d, "ods");
	CHECK_STR(d.text, "Budget\n\nRent\t1,200\n\nNotes sheet\n\nx\tx\t42");
	CHECK(has_section(&d, "Budget") && has_section(&d, "Notes sheet"));
	CHECK_EQ_INT(d.note[0], 0);
	conn_doc_clear(&d);
	free(zip);

	/* a repeated non-empty row stops at the cap of cells per sheet */
	const char *big =
		ODF_DECL ODF_ROOT "<office:body><office:spreadsheet><table:table "
				  "table:name=\"Big\"><table:table-row "
				  "table:number-rows-repeated=\"1000000\"><table:table-cell "
				  "table:number-columns-repeated=\"3\"><text:p>ab</text:p>"
				  "</table:table-cell></table:table-row></table:table>"
				  "</office:spreadsheet></office:body></office:document-content>";
	zip = make_odf("application/vnd.oasis.opendocument.spreadsheet-template", big, NULL, &len);
	CHECK_EQ_INT(parse(&conn_odf_ops, "big.ots", zip, len, &d), 0);
	check_doc(&d, "ods");
	CHECK(strstr(d.note, "100000 cells") != NULL);
	CHECK_EQ_INT(d.text_len, strlen("Big\n\n") + 100000 * 3 - 1);
	conn_doc_clear(&d);
	free(zip);
}

static void odf_refused(void)
{
	size_t len;
	struct conn_doc d;
	char *zip = make_odf("application/vnd.oasis.opendocument.graphics",
			     ODF_DECL ODF_ROOT "</office:document-content>", NULL, &len);
	CHECK_EQ_INT(parse(&conn_odf_ops, "a.odg", zip, len, &d), MX_EUNSUPPORTED);
	CHECK(strstr(d.err, "mimetype") != NULL);
	conn_doc_clear(&d);
	free(zip);
	/* an encrypted content.xml, as the manifest says */
	const char *man = "<?xml version=\"1.0\"?><manifest:manifest "
			  "xmlns:manifest=\"urn:oasis:names:tc:opendocument:xmlns:manifest:1.0\">"
			  "<manifest:file-entry manifest:full-path=\"content.xml\">"
			  "<manifest:encryption-data/></manifest:file-entry></manifest:manifest>";
	struct zent e[] = { { .name = "mimetype",
			      .data = "application/vnd.oasis.opendocument.text" },
			    { .name = "content.xml", .data = "\x93\x11garbage" },
			    { .name = "META-INF/manifest.xml", .data = man } };
	zip = make_zip(e, 3, 1 << 20, &len);
	CHECK_EQ_INT(parse(&conn_odf_ops, "secret.odt", zip, len, &d), MX_EUNSUPPORTED);
	CHECK_STR(d.err, "encrypted document");
	conn_doc_clear(&d);
	free(zip);
}

/* ---- epub --------------------------------------------------------------- */

static void epub_wasteland(void)
{
	struct conn_doc d;
	int rc;
	if (!parse_shared(&conn_epub_ops, "pandoc-testfiles/epub/wasteland.epub", &rc, &d))
		return;
	CHECK_EQ_INT(rc, 0);
	check_doc(&d, "epub");
	CHECK_STR(d.title, "The Waste Land");
	CHECK_STR(d.author, "T.S. Eliot");
	CHECK_EQ_INT(d.date, 1314835200); /* dc:date 2011-09-01 */
	CHECK(has_section(&d, "The Waste Land > I. THE BURIAL OF THE DEAD"));
	CHECK(strstr(d.text, "April is the cruellest month, breeding") != NULL);
	conn_doc_clear(&d);
}

static void epub_winter_sports(void)
{
	struct conn_doc d;
	int rc;
	if (!parse_shared(&conn_epub_ops, "unstructured-example-docs/winter-sports.epub", &rc, &d))
		return;
	CHECK_EQ_INT(rc, 0);
	check_doc(&d, "epub");
	CHECK_STR(d.title, "Winter Sports in Switzerland");
	CHECK_STR(d.author, "E. F. Benson");
	CHECK_EQ_INT(d.date, 1566518400); /* the first dc:date, 2019-08-23 */
	CHECK(has_section(&d, "WINTER SPORTS IN SWITZERLAND > CHAPTER IV TOBOGGANING"));
	CHECK(strstr(d.text, "TOBOGGANING") != NULL);
	conn_doc_clear(&d);
}

#define OPF_HEAD                                                                                   \
	"<?xml version=\"1.0\"?><package xmlns=\"http://www.idpf.org/2007/opf\" version=\"2.0\">"  \
	"<metadata xmlns:dc=\"http://purl.org/dc/elements/1.1/\">"

static void epub_built(void)
{
	const char *container =
		"<?xml version=\"1.0\"?><container version=\"1.0\" "
		"xmlns=\"urn:oasis:names:tc:opendocument:xmlns:container\"><rootfiles>"
		"<rootfile full-path=\"OPS/book.opf\" "
		"media-type=\"application/oebps-package+xml\"/></rootfiles></container>";
	const char *opf =
		OPF_HEAD "<dc:title>Two chapters</dc:title><dc:creator>A. One</dc:creator>"
			 "<dc:creator>B. Two</dc:creator><dc:date>2020-02</dc:date></metadata>"
			 "<manifest><item id=\"c2\" href=\"text/ch%202.html\" "
			 "media-type=\"text/html\"/><item id=\"c1\" href=\"../OPS/text/ch1.xhtml\" "
			 "media-type=\"application/xhtml+xml\"/><item id=\"evil\" "
			 "href=\"../../etc/passwd\" media-type=\"application/xhtml+xml\"/>"
			 "</manifest><spine><itemref idref=\"c1\"/><itemref idref=\"evil\"/>"
			 "<itemref idref=\"c2\"/></spine></package>";
	/* XHTML with an XHTML DOCTYPE (entities left undeclared) */
	const char *ch1 =
		"<?xml version=\"1.0\"?><!DOCTYPE html PUBLIC \"-//W3C//DTD XHTML 1.1//EN\" "
		"\"http://www.w3.org/TR/xhtml11/DTD/xhtml11.dtd\"><html "
		"xmlns=\"http://www.w3.org/1999/xhtml\"><head><title>t</title><style>p "
		"{}</style></head><body><h1>First</h1><p>Caf&eacute;&nbsp;au "
		"lait</p><ul><li>one</li><li>two</li></ul><table><tr><td>a</td><td>b"
		"</td></tr></table><script>var x;</script></body></html>";
	/* tag soup: read by the HTML parser */
	const char *ch2 = "<html><body><h2>Second<p>loose <b>bold<br>next</body>";
	struct zent e[] = { { .name = "mimetype", .data = "application/epub+zip" },
			    { .name = "META-INF/container.xml", .data = container },
			    { .name = "OPS/book.opf", .data = opf },
			    { .name = "OPS/text/ch1.xhtml", .data = ch1 },
			    { .name = "OPS/text/ch 2.html", .data = ch2 } };
	size_t len;
	char *zip = make_zip(e, 5, 1 << 20, &len);
	struct conn_doc d;
	CHECK_EQ_INT(parse(&conn_epub_ops, "b.epub", zip, len, &d), 0);
	check_doc(&d, "epub");
	CHECK_STR(d.text, "First\n\nCaf\xc3\xa9\xc2\xa0"
			  "au lait\n\none\ntwo\n\na b\n\nSecond\n\n"
			  "loose bold\nnext");
	CHECK(has_section(&d, "First") && has_section(&d, "First > Second"));
	CHECK_STR(d.title, "Two chapters");
	CHECK_STR(d.author, "A. One, B. Two");
	CHECK_EQ_INT(d.date, 1580515200); /* 2020-02-01 */
	conn_doc_clear(&d);
	free(zip);
	/* no container */
	struct zent e2[] = { { .name = "mimetype", .data = "application/epub+zip" } };
	zip = make_zip(e2, 1, 1 << 20, &len);
	CHECK_EQ_INT(parse(&conn_epub_ops, "c.epub", zip, len, &d), MX_EINVAL);
	CHECK(strstr(d.err, "container") != NULL);
	conn_doc_clear(&d);
	free(zip);
}

/* ---- every shared file -------------------------------------------------- */

struct sweep {
	int ok, failed;
};

static const struct conn_ops *ops_for(const char *path, const char **type)
{
	static const struct {
		const char *ext, *type;
		const struct conn_ops *ops;
	} t[] = {
		{ ".docx", "docx", &conn_docx_ops }, { ".pptx", "pptx", &conn_pptx_ops },
		{ ".xlsx", "xlsx", &conn_xlsx_ops }, { ".odt", "odt", &conn_odf_ops },
		{ ".odp", "odp", &conn_odf_ops },    { ".ods", "ods", &conn_odf_ops },
		{ ".epub", "epub", &conn_epub_ops },
	};
	size_t n = strlen(path);
	for (size_t i = 0; i < sizeof t / sizeof t[0]; i++) {
		size_t k = strlen(t[i].ext);
		if (n > k && !strcasecmp(path + n - k, t[i].ext)) {
			*type = t[i].type;
			return t[i].ops;
		}
	}
	return NULL;
}

static void sweep_file(const char *path, struct sweep *s)
{
	const char *type;
	const struct conn_ops *ops = ops_for(path, &type);
	char *data = NULL;
	size_t len = 0;
	if (!ops || mx_read_file(path, 64u << 20, &data, &len))
		return;
	struct conn_doc d;
	double t0 = conn_now();
	int rc = parse(ops, path, data, len, &d);
	if (!CHECK(conn_now() - t0 < 10))
		printf("    slow: %s\n", path);
	if (rc == 0) {
		check_doc(&d, type);
		s->ok++;
	} else {
		if (!CHECK(d.err[0] && d.text == NULL))
			printf("    no reason: %s\n", path);
		printf("    refused %s: %s\n", path, d.err);
		s->failed++;
	}
	conn_doc_clear(&d);
	free(data);
}

static void sweep_dir(const char *dir, int depth, struct sweep *s)
{
	DIR *d = depth < 16 ? opendir(dir) : NULL;
	struct dirent *e;
	while (d && (e = readdir(d))) {
		char path[4096];
		struct stat sb;
		if (e->d_name[0] == '.')
			continue;
		snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
		if (lstat(path, &sb) != 0)
			continue;
		if (S_ISDIR(sb.st_mode))
			sweep_dir(path, depth + 1, s);
		else if (S_ISREG(sb.st_mode))
			sweep_file(path, s);
	}
	if (d)
		closedir(d);
}

static void every_shared_document(void)
{
	const char *sh = test_shared();
	struct sweep s = { 0, 0 };
	char dir[4096];
	if (!sh) {
		printf("    skip: ../shared not found\n");
		return;
	}
	snprintf(dir, sizeof dir, "%s/data/docs", sh);
	sweep_dir(dir, 0, &s);
	printf("    %d parsed, %d refused\n", s.ok, s.failed);
	CHECK(s.ok >= 300);
	CHECK(s.failed <= 2); /* password_protected.xlsx */
}

/* Broken copies of real files (truncated, bytes flipped) never crash. */
static void damaged_files(void)
{
	static const char *const files[] = { "pandoc-testfiles/docx/notes.docx",
					     "unstructured-example-docs/fake-power-point.pptx",
					     "unstructured-example-docs/stanley-cups.xlsx",
					     "pandoc-testfiles/odt/odt/headers.odt",
					     "pandoc-testfiles/epub/wasteland.epub" };
	const char *sh = test_shared();
	if (!sh) {
		printf("    skip: ../shared not found\n");
		return;
	}
	uint32_t seed = 12345;
	for (size_t f = 0; f < sizeof files / sizeof files[0]; f++) {
		char path[4096];
		char *data = NULL;
		size_t len = 0;
		const char *type;
		snprintf(path, sizeof path, "%s/data/docs/%s", sh, files[f]);
		const struct conn_ops *ops = ops_for(path, &type);
		if (!CHECK(mx_read_file(path, 64u << 20, &data, &len) == 0))
			continue;
		char *copy = malloc(len + 1);
		for (int round = 0; round < 40 && copy; round++) {
			memcpy(copy, data, len + 1);
			size_t n = len;
			if (round % 2 == 0) {
				seed = seed * 1103515245u + 12345u;
				n = len ? (seed >> 8) % len : 0;
				copy[n] = '\0';
			} else {
				for (int k = 0; k < 8; k++) {
					seed = seed * 1103515245u + 12345u;
					copy[(seed >> 8) % len] ^= (char)(1u << (seed & 7));
				}
			}
			struct conn_doc d;
			int rc = parse(ops, path, copy, n, &d);
			if (rc == 0)
				check_doc(&d, type);
			else
				CHECK(d.err[0] != '\0');
			conn_doc_clear(&d);
		}
		free(copy);
		free(data);
	}
}

/* ---- hostile packages --------------------------------------------------- */

static void not_packages(void)
{
	struct conn_doc d;
	const char junk[] = "just some text, not a zip";
	CHECK_EQ_INT(parse(&conn_docx_ops, "a.docx", junk, sizeof junk - 1, &d), MX_EINVAL);
	CHECK(d.err[0] != '\0');
	conn_doc_clear(&d);
	CHECK_EQ_INT(parse(&conn_epub_ops, "a.epub", "", 0, &d), MX_EINVAL);
	CHECK(d.err[0] != '\0');
	conn_doc_clear(&d);
	const char ole[] = "\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1 legacy";
	CHECK_EQ_INT(parse(&conn_pptx_ops, "old.pptx", ole, sizeof ole - 1, &d), MX_EUNSUPPORTED);
	CHECK_STR(d.err, "encrypted or legacy binary document");
	conn_doc_clear(&d);
	/* a zip that is no Word document */
	struct zent e[] = { { .name = "hello.txt", .data = "hi" } };
	size_t len;
	char *zip = make_zip(e, 1, 1 << 16, &len);
	CHECK_EQ_INT(parse(&conn_docx_ops, "b.docx", zip, len, &d), MX_EINVAL);
	CHECK_STR(d.err, "not a Word document: no word/document.xml");
	conn_doc_clear(&d);
	CHECK_EQ_INT(parse(&conn_pptx_ops, "b.pptx", zip, len, &d), MX_EINVAL);
	CHECK(strstr(d.err, "ppt/presentation.xml") != NULL);
	conn_doc_clear(&d);
	CHECK_EQ_INT(parse(&conn_xlsx_ops, "b.xlsx", zip, len, &d), MX_EINVAL);
	CHECK(strstr(d.err, "xl/workbook.xml") != NULL);
	conn_doc_clear(&d);
	CHECK_EQ_INT(parse(&conn_odf_ops, "b.odt", zip, len, &d), MX_EINVAL);
	CHECK(strstr(d.err, "content.xml") != NULL);
	conn_doc_clear(&d);
	free(zip);
}

static void billion_laughs(void)
{
	const char *doc =
		"<?xml version=\"1.0\"?><!DOCTYPE w:document [<!ENTITY lol \"lol\">"
		"<!ENTITY lol1 \"&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;\">"
		"<!ENTITY lol2 \"&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;\">"
		"<!ENTITY lol3 \"&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;\">"
		"<!ENTITY lol4 \"&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;\">"
		"<!ENTITY lol5 \"&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;\">"
		"<!ENTITY lol6 \"&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;\">"
		"<!ENTITY lol7 \"&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;\">"
		"<!ENTITY lol8 \"&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;\">"
		"<!ENTITY lol9 \"&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;\">"
		"]><w:document " W_NS "><w:body><w:p><w:pPr><w:pStyle w:val=\"&lol9;\"/></w:pPr>"
		"<w:r><w:t>safe &lol9; text</w:t></w:r></w:p></w:body></w:document>";
	size_t len;
	char *zip = make_docx(doc, &len);
	struct conn_doc d;
	double t0 = conn_now();
	int rc = parse(&conn_docx_ops, "bomb.docx", zip, len, &d);
	CHECK(conn_now() - t0 < 1.0);
	if (rc == 0) {
		check_doc(&d, "docx");
		CHECK(d.text_len < 1000);
		CHECK(strstr(d.text, "lollol") == NULL);
	} else {
		CHECK(d.err[0] != '\0');
	}
	conn_doc_clear(&d);
	free(zip);
}

/* Whether text holds any line of /etc/passwd (its first 12 bytes). */
static bool leaks_passwd(const char *text)
{
	char *pw = NULL;
	size_t n = 0;
	bool leak = strstr(text, "root:") != NULL;
	if (mx_read_file("/etc/passwd", 1 << 20, &pw, &n) != 0)
		return leak;
	for (char *line = pw; !leak && line && *line;) {
		char *nl = strchr(line, '\n');
		size_t ll = nl ? (size_t)(nl - line) : strlen(line);
		if (ll >= 12) {
			char probe[13];
			memcpy(probe, line, 12);
			probe[12] = '\0';
			leak = strstr(text, probe) != NULL;
		}
		line = nl ? nl + 1 : NULL;
	}
	free(pw);
	return leak;
}

static void external_entities(void)
{
	const char *doc = "<?xml version=\"1.0\"?><!DOCTYPE w [<!ENTITY x SYSTEM "
			  "\"file:///etc/passwd\"><!ENTITY % p SYSTEM \"file:///etc/passwd\"> %p;]>"
			  "<w:document " W_NS "><w:body><w:p><w:r><w:t>before &x; after</w:t>"
			  "</w:r></w:p></w:body></w:document>";
	size_t len;
	char *zip = make_docx(doc, &len);
	struct conn_doc d;
	double t0 = conn_now();
	int rc = parse(&conn_docx_ops, "xxe.docx", zip, len, &d);
	CHECK(conn_now() - t0 < 1.0);
	if (rc == 0) {
		check_doc(&d, "docx");
		CHECK(!leaks_passwd(d.text));
		CHECK(strstr(d.text, "before") != NULL);
	} else {
		CHECK(d.err[0] != '\0');
	}
	conn_doc_clear(&d);
	free(zip);
	/* the same in an EPUB chapter and an ODF content.xml */
	const char *container =
		"<?xml version=\"1.0\"?><container><rootfiles><rootfile full-path=\"b.opf\"/>"
		"</rootfiles></container>";
	const char *opf = OPF_HEAD "<dc:title>&x;</dc:title></metadata><manifest><item id=\"a\" "
				   "href=\"a.xhtml\" media-type=\"application/xhtml+xml\"/>"
				   "</manifest><spine><itemref idref=\"a\"/></spine></package>";
	const char *ch = "<?xml version=\"1.0\"?><!DOCTYPE html [<!ENTITY x SYSTEM "
			 "\"file:///etc/passwd\">]><html xmlns=\"http://www.w3.org/1999/xhtml\">"
			 "<body><p>start &x; end</p></body></html>";
	struct zent e[] = { { .name = "META-INF/container.xml", .data = container },
			    { .name = "b.opf", .data = opf },
			    { .name = "a.xhtml", .data = ch } };
	zip = make_zip(e, 3, 1 << 20, &len);
	rc = parse(&conn_epub_ops, "xxe.epub", zip, len, &d);
	if (rc == 0) {
		check_doc(&d, "epub");
		CHECK(!leaks_passwd(d.text) && !leaks_passwd(d.title));
		CHECK(strstr(d.text, "start") != NULL);
	} else {
		CHECK(d.err[0] != '\0');
	}
	conn_doc_clear(&d);
	free(zip);
	const char *content =
		ODF_DECL "<!DOCTYPE o [<!ENTITY x SYSTEM \"file:///etc/passwd\">]>" ODF_ROOT
			 "<office:body><office:text><text:p>odf &x; text</text:p>"
			 "</office:text></office:body></office:document-content>";
	zip = make_odf("application/vnd.oasis.opendocument.text", content, NULL, &len);
	rc = parse(&conn_odf_ops, "xxe.odt", zip, len, &d);
	if (rc == 0) {
		check_doc(&d, "odt");
		CHECK(!leaks_passwd(d.text));
		CHECK(strstr(d.text, "odf") != NULL);
	} else {
		CHECK(d.err[0] != '\0');
	}
	conn_doc_clear(&d);
	free(zip);
}

static void zip_bomb(void)
{
	/* 300 MB of spaces deflate to about 300 KB */
	struct zent e[] = { { .name = "word/document.xml", .size = 300u << 20, .fill = ' ' } };
	size_t len;
	char *zip = make_zip(e, 1, 4u << 20, &len);
	CHECK(len < (2u << 20));
	struct conn_doc d;
	double t0 = conn_now();
	CHECK_EQ_INT(parse(&conn_docx_ops, "bomb.docx", zip, len, &d), MX_ETOOBIG);
	CHECK(conn_now() - t0 < 5.0);
	CHECK(strstr(d.err, "over") != NULL); /* "... expands over 200 times ..." */
	CHECK(d.text == NULL);
	conn_doc_clear(&d);
	free(zip);
	/* several entries of 50 MB of zeros: the total or the ratio stops it */
	struct zent z[] = { { .name = "word/document.xml", .data = "<w:document " W_NS "/>" },
			    { .name = "word/media/a.bin", .size = 50u << 20, .fill = 0 },
			    { .name = "word/media/b.bin", .size = 50u << 20, .fill = 0 },
			    { .name = "word/media/c.bin", .size = 50u << 20, .fill = 0 } };
	zip = make_zip(z, 4, 4u << 20, &len);
	t0 = conn_now();
	CHECK_EQ_INT(parse(&conn_docx_ops, "zeros.docx", zip, len, &d), MX_ETOOBIG);
	CHECK(conn_now() - t0 < 5.0);
	CHECK(strstr(d.err, "over") != NULL);
	conn_doc_clear(&d);
	free(zip);
}

/* ---- helpers of the package readers ------------------------------------ */

static void package_names_and_dates(void)
{
	static const struct {
		const char *base, *target, *want;
	} r[] = {
		{ "word/document.xml", "media/a.png", "word/media/a.png" },
		{ "ppt/slides/slide1.xml", "../notesSlides/notesSlide1.xml",
		  "ppt/notesSlides/notesSlide1.xml" },
		{ "xl/workbook.xml", "/xl/worksheets/sheet1.xml", "xl/worksheets/sheet1.xml" },
		{ "OEBPS/content.opf", "Text/ch%201.xhtml#frag", "OEBPS/Text/ch 1.xhtml" },
		{ "OEBPS/content.opf", "./a/./b/../c.xhtml", "OEBPS/a/c.xhtml" },
		{ "OEBPS/content.opf", "../../../etc/passwd", NULL },
		{ "content.opf", "../x", NULL },
		{ "a/b.xml", "http://example.com/x", NULL },
		{ "a/b.xml", "file:///etc/passwd", NULL },
		{ "a/b.xml", "x%00y", NULL },
		{ "a/b.xml", "", NULL },
		{ NULL, "META-INF/../OPS/book.opf", "OPS/book.opf" },
	};
	for (size_t i = 0; i < sizeof r / sizeof r[0]; i++) {
		char *got = conn_pkg_resolve(r[i].base, r[i].target);
		if (r[i].want)
			CHECK_STR(got, r[i].want);
		else if (!CHECK(got == NULL))
			printf("    resolve(%s, %s) gave %s\n", r[i].base, r[i].target, got);
		free(got);
	}
	CHECK_EQ_INT(conn_pkg_date("1970-01-01T00:00:00Z"), 0);
	CHECK_EQ_INT(conn_pkg_date("2013-12-23T23:15:00Z"), 1387840500);
	CHECK_EQ_INT(conn_pkg_date("2024-03-01T10:00:00+01:00"), 1709283600);
	CHECK_EQ_INT(conn_pkg_date("2024-02-29"), 1709164800);
	CHECK_EQ_INT(conn_pkg_date("2011"), 1293840000);
	CHECK_EQ_INT(conn_pkg_date(" 2015-03-01T17:39:22.18"), 1425231562);
	CHECK_EQ_INT(conn_pkg_date("2023-02-29"), 0);
	CHECK_EQ_INT(conn_pkg_date("2023-13-01"), 0);
	CHECK_EQ_INT(conn_pkg_date("yesterday"), 0);
	CHECK_EQ_INT(conn_pkg_date("2023-01-01T25:00"), 0);
	CHECK_EQ_INT(conn_pkg_date(NULL), 0);
}

/* clang-format off */
static const struct test_case tests[] = {
	TEST(docx_fake),
	TEST(docx_headings),
	TEST(docx_tables_and_notes),
	TEST(docx_built),
	TEST(pptx_slides),
	TEST(pptx_notes),
	TEST(xlsx_sheets),
	TEST(xlsx_encrypted),
	TEST(xlsx_built_cells),
	TEST(xlsx_cell_cap),
	TEST(odt_headings),
	TEST(odt_table_and_notes),
	TEST(odp_slides),
	TEST(ods_sheets),
	TEST(odf_refused),
	TEST(epub_wasteland),
	TEST(epub_winter_sports),
	TEST(epub_built),
	TEST(every_shared_document),
	TEST(damaged_files),
	TEST(not_packages),
	TEST(billion_laughs),
	TEST(external_entities),
	TEST(zip_bomb),
	TEST(package_names_and_dates),
};
/* clang-format on */
TEST_MAIN(tests)
