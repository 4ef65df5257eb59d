/* test_documents.c - notes metadata, HTML files, archives (with a zip
 * bomb), ignore rules, content sniffing, and XML that must stay inert. */
#include <archive.h>
#include <archive_entry.h>
#include <libxml/parser.h>
#include <libxml/tree.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "../common/fsutil.h"
#include "../common/status.h"
#include "../common/utf8.h"
#include "../connectors/conn.h"
#include "harness.h"

static int parse(const struct conn_ops *ops, const char *path, const char *data, size_t len,
		 struct conn_doc *d)
{
	conn_doc_init(d);
	return ops->parse(path, data, len, d);
}

static void note_tags_links_headings(void)
{
	const char *s = "---\n"
			"title: Trip\n"
			"tags: [Travel, lisbon]\n"
			"aliases:\n"
			"  - Lisbon trip\n"
			"---\n"
			"# Plan\n"
			"See [[packing-list]] and [[Journal|my journal]] #portugal #123\n"
			"## Flights\n"
			"```\n"
			"# not a heading #notatag\n"
			"```\n"
			"SR 1471 #travel\n";
	struct conn_doc d;
	CHECK_EQ_INT(parse(&conn_note_ops, "n/trip.md", s, strlen(s), &d), 0);
	CHECK_STR(d.title, "Trip (also: Lisbon trip)");
	CHECK_STR(d.tags, "travel lisbon portugal");
	CHECK_STR(d.links, "packing-list\nJournal");
	CHECK_EQ_INT(d.nsections, 2);
	if (d.nsections == 2) {
		CHECK_STR(d.sections[0].heading, "Plan");
		CHECK_STR(d.sections[1].heading, "Plan > Flights");
		CHECK(!strncmp(d.text + d.sections[1].start, "## Flights", 10));
	}
	conn_doc_clear(&d);
	const char *o = "#+TITLE: Projects\n#+FILETAGS: :work:home:\n* Harbor\n** Ticketing\n";
	CHECK_EQ_INT(parse(&conn_note_ops, "p.org", o, strlen(o), &d), 0);
	CHECK_STR(d.tags, "work home");
	CHECK_EQ_INT(d.nsections, 2);
	if (d.nsections == 2)
		CHECK_STR(d.sections[1].heading, "Harbor > Ticketing");
	conn_doc_clear(&d);
}

static void html_headings_and_boilerplate(void)
{
	const char *h = "<html><head><title>Guide</title><meta name=author content='Ann B'>"
			"<style>.x{color:red}</style><script>var secret=1;</script></head><body>"
			"<nav><a href=/>Home</a> | <a href=/about>About us</a></nav>"
			"<h1>Install</h1><p>Run <b>make</b> &amp; wait.</p>"
			"<h2>Debian</h2><ul><li>apt-get</li><li>dpkg</li></ul>"
			"<table><tr><td>a</td><td>b</td></tr></table>"
			"<footer>Copyright boilerplate</footer></body></html>";
	struct conn_doc d;
	CHECK_EQ_INT(parse(&conn_html_ops, "g.html", h, strlen(h), &d), 0);
	CHECK_STR(d.title, "Guide");
	CHECK_STR(d.author, "Ann B");
	CHECK_STR(d.type, "html");
	CHECK(strstr(d.text, "Run make & wait.") != NULL);
	CHECK(strstr(d.text, "apt-get\ndpkg") != NULL);
	CHECK(strstr(d.text, "a b") != NULL);
	CHECK(!strstr(d.text, "secret") && !strstr(d.text, "color") &&
	      !strstr(d.text, "About us") && !strstr(d.text, "Copyright"));
	CHECK_EQ_INT(d.nsections, 2);
	if (d.nsections == 2) {
		CHECK_STR(d.sections[0].heading, "Install");
		CHECK_STR(d.sections[1].heading, "Install > Debian");
	}
	conn_doc_clear(&d);
}

/* An archive in memory: n entries of (name, data, len). */
struct ent {
	const char *name;
	const char *data;
	size_t len;
};

static char *make_archive(bool tar_gz, const struct ent *e, size_t n, size_t *outlen)
{
	size_t cap = 64u << 20, used = 0;
	char *buf = malloc(cap);
	struct archive *a = archive_write_new();
	if (tar_gz) {
		archive_write_set_format_pax_restricted(a);
		archive_write_add_filter_gzip(a);
	} else {
		archive_write_set_format_zip(a);
	}
	archive_write_open_memory(a, buf, cap, &used);
	for (size_t i = 0; i < n; i++) {
		struct archive_entry *ae = archive_entry_new();
		archive_entry_set_pathname(ae, e[i].name);
		archive_entry_set_size(ae, (la_int64_t)e[i].len);
		archive_entry_set_filetype(ae, AE_IFREG);
		archive_entry_set_perm(ae, 0644);
		archive_write_header(a, ae);
		archive_write_data(a, e[i].data, e[i].len);
		archive_entry_free(ae);
	}
	archive_write_close(a);
	archive_write_free(a);
	*outlen = used;
	return buf;
}

static void archive_entries_become_children(void)
{
	const char *inner_note = "# Inner\nnested apricots\n";
	struct ent in[] = { { "deep/inner.md", inner_note, strlen(inner_note) } };
	size_t ilen = 0;
	char *inner = make_archive(false, in, 1, &ilen);
	struct ent e[] = {
		{ "notes/a.md", "# Alpha\nfirst apricots\n", 23 },
		{ "page.html", "<h1>Page</h1><p>second apricots</p>", 35 },
		{ "photo.jpg", "\xff\xd8\xff\xe0", 4 },
		{ "inner.zip", inner, ilen },
	};
	size_t len = 0;
	char *zip = make_archive(false, e, 4, &len);
	struct conn_doc d;
	CHECK(conn_sniff("x.bin", zip, len) == &conn_archive_ops);
	CHECK_EQ_INT(parse(&conn_archive_ops, "box.zip", zip, len, &d), 0);
	CHECK_STR(d.type, "archive");
	CHECK(strstr(d.text, "photo.jpg") != NULL); /* names are searchable */
	CHECK_EQ_INT(d.nchildren, 3);
	if (d.nchildren == 3) {
		CHECK_STR(d.children[0].title, "Alpha");
		CHECK_STR(d.children[0].part, "1");
		CHECK(strstr(d.children[1].text, "second apricots") != NULL);
		CHECK_STR(d.children[2].type, "archive");
		CHECK_EQ_INT(d.children[2].nchildren, 1);
		if (d.children[2].nchildren == 1)
			CHECK(strstr(d.children[2].children[0].text, "nested apricots") != NULL);
	}
	conn_doc_clear(&d);
	free(zip);
	/* tar.gz too */
	char *tgz = make_archive(true, e, 2, &len);
	CHECK(conn_sniff("x", tgz, len) == &conn_archive_ops);
	CHECK_EQ_INT(parse(&conn_archive_ops, "box.tar.gz", tgz, len, &d), 0);
	CHECK_EQ_INT(d.nchildren, 2);
	conn_doc_clear(&d);
	free(tgz);
	free(inner);
}

static void zip_bomb_refused_quickly(void)
{
	/* 200 MB of zeros deflate to a few hundred KB */
	size_t big = 200u << 20;
	char *zeros = calloc(1, big);
	struct ent e[] = { { "bomb.txt", zeros, big } };
	size_t len = 0;
	char *zip = make_archive(false, e, 1, &len);
	free(zeros);
	CHECK(len < (2u << 20));
	struct conn_doc d;
	/* CPU time, which a busy machine does not stretch as it does wall time */
	struct timespec c0, c1;
	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &c0);
	int rc = parse(&conn_archive_ops, "bomb.zip", zip, len, &d);
	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &c1);
	double secs = (double)(c1.tv_sec - c0.tv_sec) + (double)(c1.tv_nsec - c0.tv_nsec) / 1e9;
	CHECK_EQ_INT(rc, MX_ETOOBIG);
	CHECK(strstr(d.err, "zip bomb") || strstr(d.err, "over"));
	CHECK(secs < 1.0);
	conn_doc_clear(&d);
	free(zip);
}

static void ignore_rules(void)
{
	const char *t = test_tmpdir();
	test_write_str(t, ".memexignore",
		       "# comments\n*.log\n/drafts/\nsecret?.md\n**/tmp/**\n!build/\n");
	struct conn_ignore *ig = NULL;
	CHECK_EQ_INT(conn_ignore_load(t, &ig), 0);
	CHECK(conn_ignore_match(ig, "node_modules", true));   /* default */
	CHECK(conn_ignore_match(ig, "a/b/x.o", false));	      /* default */
	CHECK(!conn_ignore_match(ig, "build", true));	      /* re-included */
	CHECK(conn_ignore_match(ig, "x/y/debug.log", false)); /* any depth */
	CHECK(conn_ignore_match(ig, "drafts", true));	      /* anchored folder */
	CHECK(!conn_ignore_match(ig, "notes/drafts", true));
	CHECK(!conn_ignore_match(ig, "drafts", false)); /* folders only */
	CHECK(conn_ignore_match(ig, "secret1.md", false));
	CHECK(!conn_ignore_match(ig, "secret12.md", false));
	CHECK(conn_ignore_match(ig, "a/tmp/b/c.md", false));
	CHECK(!conn_ignore_match(ig, "a/tmpx/c.md", false));
	CHECK(!conn_ignore_match(ig, "notes/plan.md", false));
	conn_ignore_free(ig);
}

static void sniff_and_utf16(void)
{
	CHECK(conn_sniff("report", "%PDF-1.7\n", 9) == NULL ||
	      conn_sniff("report", "%PDF-1.7\n", 9) != &conn_note_ops);
	CHECK(conn_sniff("page", "  <!DOCTYPE html><p>x", 21) == &conn_html_ops);
	CHECK(conn_sniff("page.txt", "<!DOCTYPE html><p>x", 19) == NULL);
	const char le[] = "h\0e\0l\0l\0o\0 \0w\0o\0r\0l\0d\0";
	CHECK_STR(conn_utf16_kind(le, sizeof le - 1), "UTF-16LE");
	CHECK(conn_utf16_kind("hello world, plain", 18) == NULL);
	struct conn_doc d;
	CHECK_EQ_INT(parse(&conn_note_ops, "x.txt", le, sizeof le - 1, &d), 0);
	CHECK_STR(d.text, "hello world");
	conn_doc_clear(&d);
}

/* The text of an XML document's root, as documents would read it. */
static char *xml_text(const char *xml)
{
	xmlDoc *doc = conn_xml_read(xml, strlen(xml));
	if (!doc)
		return strdup("");
	xmlChar *c = xmlNodeGetContent(xmlDocGetRootElement(doc));
	char *s = strdup(c ? (const char *)c : "");
	xmlFree(c);
	xmlFreeDoc(doc);
	return s;
}

static void xml_stays_inert(void)
{
	double t0 = conn_now();
	char *t = xml_text("<?xml version=\"1.0\"?>\n"
			   "<!DOCTYPE r [<!ENTITY x SYSTEM \"file:///etc/passwd\">]>\n"
			   "<r>before &x; after</r>");
	CHECK(!strstr(t, "root:"));
	CHECK(strstr(t, "before") != NULL);
	free(t);
	t = xml_text(
		"<?xml version=\"1.0\"?>\n<!DOCTYPE lolz [\n"
		"<!ENTITY lol \"lol\">\n"
		"<!ENTITY lol1 \"&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;\">\n"
		"<!ENTITY lol2 \"&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;\">\n"
		"<!ENTITY lol3 \"&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;\">\n"
		"<!ENTITY lol4 \"&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;\">\n"
		"<!ENTITY lol5 \"&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;\">\n"
		"<!ENTITY lol6 \"&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;\">\n"
		"<!ENTITY lol7 \"&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;\">\n"
		"<!ENTITY lol8 \"&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;\">\n"
		"<!ENTITY lol9 \"&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;\">\n"
		"]>\n<lolz>&lol9;</lolz>");
	CHECK(strlen(t) < 1000000);
	free(t);
	/* the same through the HTML reader of an .xhtml file */
	const char *x = "<!DOCTYPE html [<!ENTITY x SYSTEM \"file:///etc/passwd\">]>"
			"<html><body><p>kept &x; text</p></body></html>";
	struct conn_doc d;
	CHECK_EQ_INT(parse(&conn_html_ops, "x.xhtml", x, strlen(x), &d), 0);
	CHECK(!strstr(d.text, "root:"));
	conn_doc_clear(&d);
	CHECK(conn_now() - t0 < 1.0);
}

static void mail_document_attachment_is_a_child(void)
{
	const char *m = "From: a@b.example\nSubject: the report\nMIME-Version: 1.0\n"
			"Content-Type: multipart/mixed; boundary=XX\n\n"
			"--XX\nContent-Type: text/plain\n\nsee the attached page\n"
			"--XX\nContent-Type: text/html; name=report.html\n"
			"Content-Disposition: attachment; filename=report.html\n"
			"Content-Transfer-Encoding: base64\n\n"
			"PGgxPlF1YXJ0ZXJseTwvaDE+PHA+cmV2ZW51ZSBncmV3IGJ5IGEgbG90PC9wPg==\n"
			"--XX--\n";
	struct conn_doc d;
	CHECK_EQ_INT(parse(&conn_mail_ops, "x", m, strlen(m), &d), 0);
	CHECK_EQ_INT(d.natts, 1);
	CHECK_EQ_INT(d.nchildren, 1);
	if (d.nchildren == 1) {
		CHECK_STR(d.children[0].type, "html");
		CHECK(strstr(d.children[0].text, "revenue grew by a lot") != NULL);
		CHECK_EQ_INT(d.children[0].nsections, 1);
	}
	conn_doc_clear(&d);
}

static void shared_html_and_notes_phrases(void)
{
	const char *sh = test_shared();
	if (!sh) {
		printf("    skip: ../shared not found\n");
		return;
	}
	static const struct {
		const char *file;
		const struct conn_ops *ops;
		const char *phrase;
	} cases[] = {
		{ "data/docs/pandoc-testfiles/html-reader.html", &conn_html_ops,
		  "This is a set of tests for pandoc" },
		{ "data/docs/unstructured-example-docs/example-10k-1p.html", &conn_html_ops,
		  "Galaxy Gaming, Inc." },
		{ "data/docs/pandoc-testfiles/lhs-test.markdown", &conn_note_ops, "unsplit" },
		{ "data/docs/pandoc-testfiles/org-select-tags.org", &conn_note_ops,
		  "ancestor of something tagged" },
	};
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		char path[1024], *data = NULL;
		size_t len = 0;
		snprintf(path, sizeof path, "%s/%s", sh, cases[i].file);
		if (!CHECK(mx_read_file(path, 64u << 20, &data, &len) == 0)) {
			printf("    cannot read %s\n", path);
			continue;
		}
		struct conn_doc d;
		CHECK_EQ_INT(parse(cases[i].ops, path, data, len, &d), 0);
		if (!CHECK(d.text && strstr(d.text, cases[i].phrase)))
			printf("    %s lacks \"%s\"\n", cases[i].file, cases[i].phrase);
		conn_doc_clear(&d);
		free(data);
	}
}

/* clang-format off */
static const struct test_case tests[] = {
	TEST(note_tags_links_headings),
	TEST(html_headings_and_boilerplate),
	TEST(archive_entries_become_children),
	TEST(zip_bomb_refused_quickly),
	TEST(ignore_rules),
	TEST(sniff_and_utf16),
	TEST(xml_stays_inert),
	TEST(mail_document_attachment_is_a_child),
	TEST(shared_html_and_notes_phrases),
};
/* clang-format on */
TEST_MAIN(tests)
