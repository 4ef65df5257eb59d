/* test_pdf.c - the PDF (poppler) and RTF connectors, on real files from
 * ../shared/data/docs, on fixtures in tests/data/docs and on small inline
 * RTF. */
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

#include "../common/fsutil.h"
#include "../common/status.h"
#include "../common/utf8.h"
#include "../connectors/conn.h"
#include "harness.h"

/* until conn.h declares them */

static int parse(const struct conn_ops *ops, const char *path, const char *data, size_t len,
		 struct conn_doc *d)
{
	conn_doc_init(d);
	return ops->parse(path, data, len, d);
}

static int parse_str(const char *rtf, struct conn_doc *d)
{
	return parse(&conn_rtf_ops, "t.rtf", rtf, strlen(rtf), d);
}

/* Reads and parses ../shared/data/docs/rel; false (and a failed check)
 * when the file cannot be read. */
static bool parse_shared(const char *shared, const char *rel, const struct conn_ops *ops,
			 struct conn_doc *d, int *rc)
{
	char *dir = mx_path_join(shared, "data/docs"), *p = mx_path_join(dir, rel), *data = NULL;
	size_t len = 0;
	bool ok = CHECK(mx_read_file(p, 64u << 20, &data, &len) == 0);
	if (!ok)
		printf("    cannot read %s\n", p);
	else
		*rc = parse(ops, p, data, len, d);
	free(data);
	free(p);
	free(dir);
	return ok;
}

/* tests/data/docs/name, read from the repository's root or tests/. */
static bool read_fixture(const char *name, char **data, size_t *len)
{
	static const char *const dirs[] = { "tests/data/docs", "data/docs" };
	for (size_t i = 0; i < sizeof dirs / sizeof dirs[0]; i++) {
		char *p = mx_path_join(dirs[i], name);
		int rc = mx_read_file(p, 1 << 20, data, len);
		free(p);
		if (rc == 0)
			return true;
	}
	return false;
}

/* Whether the doc's text and sections are well formed. */
static bool doc_ok(const struct conn_doc *d)
{
	if (!d->text || strlen(d->text) != d->text_len || !mx_utf8_is_valid(d->text, d->text_len))
		return false;
	for (size_t i = 0; i < d->nsections; i++) {
		if (d->sections[i].start > d->text_len)
			return false;
		if (i && d->sections[i].start < d->sections[i - 1].start)
			return false;
	}
	return (!d->title || mx_utf8_is_valid(d->title, strlen(d->title))) &&
	       (!d->author || mx_utf8_is_valid(d->author, strlen(d->author)));
}

/* Whether needle is in the text of the section(s) on page `page`. */
static bool on_page(const struct conn_doc *d, const char *needle, int page)
{
	const char *hit = d->text ? strstr(d->text, needle) : NULL;
	if (!hit)
		return false;
	size_t off = (size_t)(hit - d->text);
	for (size_t i = 0; i < d->nsections; i++) {
		size_t end = i + 1 < d->nsections ? d->sections[i + 1].start : d->text_len;
		if (d->sections[i].page == page && off >= d->sections[i].start && off < end)
			return true;
	}
	return false;
}

/* ===================================================================== */
/* PDF                                                                   */
/* ===================================================================== */

/* Phrases checked against `pdftotext -f N -l N`. */
static void pdf_phrases_and_pages(void)
{
	const char *shared = test_shared();
	if (!shared) {
		printf("    skip: ../shared not found\n");
		return;
	}
	static const struct {
		const char *file, *phrase;
		int page;
	} cases[] = {
		{ "unstructured-example-docs/pdf/fake-memo.pdf", "20,000 bottles of water", 1 },
		{ "unstructured-example-docs/pdf/multi-column.pdf", "995.0 questions per second",
		  7 },
		{ "unstructured-example-docs/pdf/reliance.pdf", "Reliance at a Glance", 3 },
		{ "unstructured-example-docs/language-docs/fr_olap.pdf",
		  "Mesure de qualit\xc3\xa9 d\xe2\x80\x99un r\xc3\xa9sum\xc3\xa9", 5 },
		/* pages 2 and 3 have no text layer; 3 has a text box */
		{ "unstructured-example-docs/pdf/layout-parser-paper-with-empty-pages.pdf",
		  "This page is intentionally left blank", 3 },
		{ "unstructured-example-docs/pdf/layout-parser-paper-with-empty-pages.pdf",
		  "DL has the potential to transform DIA pipelines", 4 },
		/* encrypted with an empty user password: readable */
		{ "unstructured-example-docs/pdf/copy-protected.pdf",
		  "there are several practical difficulties", 2 },
	};
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		struct conn_doc d;
		int rc = -1;
		if (!parse_shared(shared, cases[i].file, &conn_pdf_ops, &d, &rc))
			continue;
		if (!CHECK_EQ_INT(rc, 0))
			printf("    %s: %s\n", cases[i].file, d.err);
		CHECK_STR(d.type, "pdf");
		CHECK_EQ_INT(d.line_base, -1);
		CHECK(doc_ok(&d));
		if (!CHECK(on_page(&d, cases[i].phrase, cases[i].page)))
			printf("    '%s' not on page %d of %s\n", cases[i].phrase, cases[i].page,
			       cases[i].file);
		CHECK(strchr(d.text ? d.text : "", '\f') == NULL);
		conn_doc_clear(&d);
	}
}

static void pdf_metadata(void)
{
	const char *shared = test_shared();
	if (!shared) {
		printf("    skip: ../shared not found\n");
		return;
	}
	struct conn_doc d;
	int rc = -1;
	if (parse_shared(shared, "unstructured-example-docs/pdf/embedded-images-tables.pdf",
			 &conn_pdf_ops, &d, &rc)) {
		CHECK_EQ_INT(rc, 0);
		CHECK_STR(d.title, "Data on environmental sustainable corrosion inhibitor for "
				   "stainless steel in aggressive environment");
		CHECK_STR(d.author, "Omotayo Sanni");
		CHECK_EQ_INT(d.date, 1546027873); /* 2018-12-28T20:11:13Z, pdfinfo */
		CHECK(d.text && strstr(d.text, "Anodic and cathodic polarization curve"));
		conn_doc_clear(&d);
	}
	if (parse_shared(shared, "unstructured-example-docs/pdf/interface-config-guide-p93.pdf",
			 &conn_pdf_ops, &d, &rc)) {
		CHECK_EQ_INT(rc, 0);
		CHECK_STR(d.title, "Interface Configuration Guide");
		CHECK_STR(d.author, "Nokia");
		CHECK(d.text && strstr(d.text, "Port Cross-Connect"));
		conn_doc_clear(&d);
	}
	/* an empty Title entry is no title */
	if (parse_shared(shared, "unstructured-example-docs/pdf/multi-column-2p.pdf", &conn_pdf_ops,
			 &d, &rc)) {
		CHECK_EQ_INT(rc, 0);
		CHECK(d.title == NULL);
		CHECK(d.author == NULL);
		conn_doc_clear(&d);
	}
}

static void pdf_encrypted_refused(void)
{
	struct conn_doc d;
	char *data = NULL;
	size_t len = 0;
	/* made with qpdf --encrypt (a user password) from a one-line PDF */
	if (CHECK(read_fixture("encrypted.pdf", &data, &len))) {
		CHECK_EQ_INT(parse(&conn_pdf_ops, "e.pdf", data, len, &d), MX_EUNSUPPORTED);
		CHECK(strstr(d.err, "encrypted") != NULL);
		CHECK(d.text == NULL);
		conn_doc_clear(&d);
		free(data);
	}
	const char *shared = test_shared();
	int rc = 0;
	if (shared && parse_shared(shared, "unstructured-example-docs/pdf/password.pdf",
				   &conn_pdf_ops, &d, &rc)) {
		CHECK_EQ_INT(rc, MX_EUNSUPPORTED);
		CHECK(strstr(d.err, "encrypted") != NULL);
		conn_doc_clear(&d);
	}
}

static void pdf_image_only_refused(void)
{
	struct conn_doc d;
	char *data = NULL;
	size_t len = 0;
	/* one page that draws a 4x4 image and no text */
	if (CHECK(read_fixture("image-only.pdf", &data, &len))) {
		CHECK_EQ_INT(parse(&conn_pdf_ops, "i.pdf", data, len, &d), MX_EUNSUPPORTED);
		CHECK(strstr(d.err, "image-only") != NULL);
		conn_doc_clear(&d);
		free(data);
	}
	const char *shared = test_shared();
	int rc = 0;
	if (shared && parse_shared(shared, "unstructured-example-docs/pdf/loremipsum-flat.pdf",
				   &conn_pdf_ops, &d, &rc)) {
		CHECK_EQ_INT(rc, MX_EUNSUPPORTED);
		CHECK(strstr(d.err, "image-only") != NULL);
		conn_doc_clear(&d);
	}
}

static void pdf_broken_input(void)
{
	struct conn_doc d;
	const char *s = "%PDF-1.4\nnot really a pdf\n";
	CHECK_EQ_INT(parse(&conn_pdf_ops, "b.pdf", s, strlen(s), &d), MX_EINVAL);
	CHECK(d.err[0] != '\0');
	conn_doc_clear(&d);
	CHECK_EQ_INT(parse(&conn_pdf_ops, "b.pdf", "", 0, &d), MX_EEMPTY);
	conn_doc_clear(&d);
	const char *t = "{\\rtf1 not a pdf}";
	CHECK(parse(&conn_pdf_ops, "b.pdf", t, strlen(t), &d) != 0);
	CHECK(d.err[0] != '\0');
	conn_doc_clear(&d);
	/* the first half of a real file */
	const char *shared = test_shared();
	if (!shared)
		return;
	char *dir = mx_path_join(shared, "data/docs/unstructured-example-docs/pdf");
	char *p = mx_path_join(dir, "multi-column-2p.pdf"), *data = NULL;
	size_t len = 0;
	if (CHECK(mx_read_file(p, 16u << 20, &data, &len) == 0)) {
		int rc = parse(&conn_pdf_ops, p, data, len / 2, &d);
		CHECK(rc == 0 ? doc_ok(&d) : d.err[0] != '\0');
		conn_doc_clear(&d);
	}
	free(data);
	free(p);
	free(dir);
}

/* ===================================================================== */
/* RTF                                                                   */
/* ===================================================================== */

static void rtf_files(void)
{
	const char *shared = test_shared();
	if (!shared) {
		printf("    skip: ../shared not found\n");
		return;
	}
	/* phrases read off the files by hand */
	static const struct {
		const char *file, *phrase;
	} cases[] = {
		{ "pandoc-testfiles/rtf/accent.rtf", "le caf\xc3\xa9 o\xc3\xb9 on ne fume pas" },
		{ "unstructured-example-docs/language-docs/eng_spa_mult.rtf",
		  "dotados como est\xc3\xa1n de raz\xc3\xb3n y conciencia" },
		{ "unstructured-example-docs/fake-doc.rtf", "Row 2, Cell 1 Row 2, Cell 2" },
		{ "pandoc-testfiles/rtf/link.rtf", "pandoc" },
		{ "pandoc-testfiles/writer.rtf", "This is a set of tests for pandoc." },
	};
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		struct conn_doc d;
		int rc = -1;
		if (!parse_shared(shared, cases[i].file, &conn_rtf_ops, &d, &rc))
			continue;
		CHECK_EQ_INT(rc, 0);
		CHECK_STR(d.type, "rtf");
		CHECK(doc_ok(&d));
		if (!CHECK(d.text && strstr(d.text, cases[i].phrase)))
			printf("    '%s' not in %s\n", cases[i].phrase, cases[i].file);
		/* no font names, colours, field codes or style names */
		CHECK(d.text && !strstr(d.text, "Helvetica") && !strstr(d.text, "HYPERLINK") &&
		      !strstr(d.text, "Times New Roman") && !strstr(d.text, "Normal;"));
		conn_doc_clear(&d);
	}
	/* \info and \outlinelevel */
	struct conn_doc d;
	int rc = -1;
	if (parse_shared(shared, "pandoc-testfiles/rtf/list_complex.rtf", &conn_rtf_ops, &d, &rc)) {
		CHECK_EQ_INT(rc, 0);
		CHECK_STR(d.title, "Text before list");
		CHECK_STR(d.author, "Cynthia Johnson");
		CHECK_EQ_INT(d.date, 1066074900); /* \creatim 2003-10-13 19:55 */
		conn_doc_clear(&d);
	}
	if (parse_shared(shared, "pandoc-testfiles/rtf/heading.rtf", &conn_rtf_ops, &d, &rc)) {
		CHECK_EQ_INT(rc, 0);
		CHECK_STR(d.text, "Heading 1\n\nHeading 2\n\nHeading 3\n\nParagraph");
		if (CHECK_EQ_INT(d.nsections, 3))
			CHECK_STR(d.sections[2].heading, "Heading 1 > Heading 2 > Heading 3");
		conn_doc_clear(&d);
	}
	/* hidden text (\v) is not text */
	if (parse_shared(shared, "pandoc-testfiles/rtf/formatting.rtf", &conn_rtf_ops, &d, &rc)) {
		CHECK_EQ_INT(rc, 0);
		CHECK(d.text && strstr(d.text, "This is hidden: .") != NULL);
		conn_doc_clear(&d);
	}
}

static void rtf_escapes(void)
{
	struct conn_doc d;
	/* \uN with the default \uc1 skip, negative N, \ucN, a surrogate pair */
	const char *u = "{\\rtf1\\ansi \\u8216?hi\\u8217? \\u-3913? {\\uc2\\u228\\'e8a}b "
			"\\u-10179?\\u-8704?}";
	CHECK_EQ_INT(parse_str(u, &d), 0);
	CHECK_STR(d.text, "\xe2\x80\x98hi\xe2\x80\x99 \xef\x82\xb7 \xc3\xa4"
			  "b \xf0\x9f\x98\x80");
	conn_doc_clear(&d);
	/* \'hh in windows-1251 */
	const char *c =
		"{\\rtf1\\ansi\\ansicpg1251 \\'cf\\'f0\\'e8\\'e2\\'e5\\'f2, \\'ec\\'e8\\'f0}";
	CHECK_EQ_INT(parse_str(c, &d), 0);
	CHECK_STR(d.text, "\xd0\x9f\xd1\x80\xd0\xb8\xd0\xb2\xd0\xb5\xd1\x82, "
			  "\xd0\xbc\xd0\xb8\xd1\x80");
	conn_doc_clear(&d);
	/* the default is windows-1252; a Greek font's \fcharset161 is 1253 */
	const char *f = "{\\rtf1\\ansi\\deff0{\\fonttbl{\\f0 Arial;}{\\f1\\fcharset161 Greek;}}"
			"caf\\'e9 {\\f1 \\'e1\\'e2} \\'80}";
	CHECK_EQ_INT(parse_str(f, &d), 0);
	CHECK_STR(d.text, "caf\xc3\xa9 \xce\xb1\xce\xb2 \xe2\x82\xac");
	conn_doc_clear(&d);
	/* control symbols, \tab, \line, \par and escaped braces */
	const char *s = "{\\rtf1 a\\{b\\}c\\\\d\\~e\\-f\\_g\\tab h\\line i\\par j\\\nk}";
	CHECK_EQ_INT(parse_str(s, &d), 0);
	CHECK_STR(d.text, "a{b}c\\d\xc2\xa0"
			  "ef\xe2\x80\x91g h\ni\n\nj\n\nk");
	conn_doc_clear(&d);
	/* a control word's delimiting space is not text; line ends are not */
	const char *w = "{\\rtf1 {\\b bold}\r\n{\\i it}alic \\par1\\b0 x}";
	CHECK_EQ_INT(parse_str(w, &d), 0);
	CHECK_STR(d.text, "bolditalic\n\nx");
	conn_doc_clear(&d);
}

static void rtf_destinations_and_info(void)
{
	struct conn_doc d;
	const char *s = "{\\rtf1\\ansi{\\fonttbl{\\f0\\fswiss Helvetica;}}"
			"{\\colortbl;\\red255\\green0\\blue0;}"
			"{\\stylesheet{\\s0 Normal;}}"
			"{\\info{\\title Trip \\'e0 Lisbon}{\\author Maya  L.}{\\company ACME}"
			"{\\creatim\\yr2024\\mo2\\dy3\\hr4\\min5}}"
			"{\\*\\generator Writer 1.0;}{\\header Page header}{\\footer Page footer}"
			"{\\pict\\pngblip 89504e47}{\\object{\\*\\objdata 0102}{\\result res}}"
			"{\\*\\bkmkstart x}{\\field{\\*\\fldinst HYPERLINK \"u\"}{\\fldrslt link}} "
			"a\\bin3 }{}b\\pard\\outlinelevel0 Intro\\par\\pard Body text.\\par}";
	CHECK_EQ_INT(parse_str(s, &d), 0);
	CHECK_STR(d.title, "Trip \xc3\xa0 Lisbon");
	CHECK_STR(d.author, "Maya L.");
	CHECK_EQ_INT(d.date, 1706933100); /* 2024-02-03T04:05:00Z */
	CHECK_STR(d.text, "link ab\n\nIntro\n\nBody text.");
	if (CHECK_EQ_INT(d.nsections, 1)) {
		CHECK_STR(d.sections[0].heading, "Intro");
		CHECK_EQ_INT(d.sections[0].start, strlen("link ab\n\n"));
	}
	CHECK_EQ_INT(d.line_base, -1);
	conn_doc_clear(&d);
}

static void rtf_nesting_and_truncation(void)
{
	struct conn_doc d;
	/* 1,500 nested groups are refused, 900 are fine */
	size_t n = 1500;
	char *deep = malloc(n * 2 + 16);
	if (!CHECK(deep != NULL))
		return;
	memcpy(deep, "{\\rtf1 ", 7);
	memset(deep + 7, '{', n);
	memcpy(deep + 7 + n, "x", 2);
	CHECK_EQ_INT(parse_str(deep, &d), MX_EINVAL);
	CHECK(strstr(d.err, "nested too deeply") != NULL);
	conn_doc_clear(&d);
	deep[7 + 900] = 'x';
	deep[7 + 901] = '\0';
	CHECK_EQ_INT(parse_str(deep, &d), 0);
	CHECK_STR(d.text, "x");
	conn_doc_clear(&d);
	free(deep);
	/* truncated anywhere: what was read is kept */
	const char *t = "{\\rtf1\\ansi {\\b Hello} wor";
	CHECK_EQ_INT(parse_str(t, &d), 0);
	CHECK_STR(d.text, "Hello wor");
	conn_doc_clear(&d);
	const char *full = "{\\rtf1\\ansi\\ansicpg1252{\\fonttbl{\\f0 A;}}{\\info{\\title T}}"
			   "caf\\'e9 \\u8364? {\\*\\x y} \\bin9 ab\\par}";
	for (size_t k = 0; k <= strlen(full); k++) {
		char *p = strndup(full, k);
		if (!p)
			break;
		int rc = parse(&conn_rtf_ops, "t.rtf", p, k, &d);
		CHECK(rc == 0 ? doc_ok(&d) : (rc == MX_EINVAL || rc == MX_EEMPTY));
		conn_doc_clear(&d);
		free(p);
	}
	/* what comes after the document's group is not read */
	const char *after = "{\\rtf1 in}out";
	CHECK_EQ_INT(parse_str(after, &d), 0);
	CHECK_STR(d.text, "in");
	conn_doc_clear(&d);
}

static void rtf_not_rtf(void)
{
	struct conn_doc d;
	const char *s = "{\\pard plain text\\par}";
	CHECK_EQ_INT(parse_str(s, &d), MX_EINVAL);
	CHECK_STR(d.err, "not an RTF file");
	conn_doc_clear(&d);
	CHECK_EQ_INT(parse(&conn_rtf_ops, "e.rtf", "", 0, &d), MX_EEMPTY);
	conn_doc_clear(&d);
	/* a control word with a huge parameter and a 40-letter name */
	const char *w = "{\\rtf1 \\u99999999999999999 ?\\abcdefghijabcdefghijabcdefghijabcdefghij x"
			"\\uc-5\\u65? y\\bin-3 z}";
	CHECK_EQ_INT(parse_str(w, &d), 0);
	CHECK_STR(d.text, "\xef\xbf\xbdxA? yz");
	conn_doc_clear(&d);
}

/* ===================================================================== */
/* every file of the corpus                                              */
/* ===================================================================== */

struct sweep {
	int files, parsed, refused;
};

static void sweep_dir(const char *dir, int depth, struct sweep *s)
{
	DIR *dh = opendir(dir);
	if (!dh || depth > 8) {
		if (dh)
			closedir(dh);
		return;
	}
	struct dirent *e;
	while ((e = readdir(dh))) {
		if (e->d_name[0] == '.')
			continue;
		char *p = mx_path_join(dir, e->d_name);
		struct stat st;
		if (!p || lstat(p, &st) != 0) {
			free(p);
			continue;
		}
		if (S_ISDIR(st.st_mode)) {
			sweep_dir(p, depth + 1, s);
			free(p);
			continue;
		}
		const char *ext = strrchr(e->d_name, '.');
		const struct conn_ops *ops = NULL;
		if (ext && !strcasecmp(ext, ".pdf"))
			ops = &conn_pdf_ops;
		else if (ext && !strcasecmp(ext, ".rtf"))
			ops = &conn_rtf_ops;
		char *data = NULL;
		size_t len = 0;
		if (ops && S_ISREG(st.st_mode) &&
		    CHECK(mx_read_file(p, 64u << 20, &data, &len) == 0)) {
			struct conn_doc d;
			int rc = parse(ops, p, data, len, &d);
			s->files++;
			if (rc == 0) {
				s->parsed++;
				if (!CHECK(doc_ok(&d)))
					printf("    %s: bad text or sections\n", p);
			} else {
				s->refused++;
				if (!CHECK(d.err[0] != '\0'))
					printf("    %s: status %d without a reason\n", p, rc);
				printf("    %s: %s\n", e->d_name, d.err);
			}
			conn_doc_clear(&d);
		}
		free(data);
		free(p);
	}
	closedir(dh);
}

static void corpus_sweep(void)
{
	const char *shared = test_shared();
	if (!shared) {
		printf("    skip: ../shared not found\n");
		return;
	}
	char *dir = mx_path_join(shared, "data/docs");
	struct sweep s = { 0, 0, 0 };
	sweep_dir(dir, 0, &s);
	printf("    %d files: %d parsed, %d refused\n", s.files, s.parsed, s.refused);
	CHECK(s.files >= 50);
	CHECK(s.parsed >= s.files - 6);
	free(dir);
}

/* clang-format off */
static const struct test_case tests[] = {
	TEST(pdf_phrases_and_pages),
	TEST(pdf_metadata),
	TEST(pdf_encrypted_refused),
	TEST(pdf_image_only_refused),
	TEST(pdf_broken_input),
	TEST(rtf_files),
	TEST(rtf_escapes),
	TEST(rtf_destinations_and_info),
	TEST(rtf_nesting_and_truncation),
	TEST(rtf_not_rtf),
	TEST(corpus_sweep),
};
/* clang-format on */

TEST_MAIN(tests)
