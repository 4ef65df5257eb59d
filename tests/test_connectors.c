/* test_connectors.c - notes and mail parsing, encodings, source detection. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

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

static void note_front_matter_and_lines(void)
{
	const char *s = "---\ntitle: \"Lisbon packing list\"\nauthor: Maya\ndate: 2026-10-01\n"
			"tags: [travel]\n---\n# Heading\n\nSocks.\n";
	struct conn_doc d;
	CHECK_EQ_INT(parse(&conn_note_ops, "n/pack.md", s, strlen(s), &d), 0);
	CHECK_STR(d.title, "Lisbon packing list");
	CHECK_STR(d.author, "Maya");
	CHECK_EQ_INT(d.date, 1790812800); /* 2026-10-01T00:00:00Z */
	CHECK_EQ_INT(d.line_base, 6);
	CHECK_STR(d.text, "# Heading\n\nSocks.\n");
	CHECK_STR(d.type, "note");
	conn_doc_clear(&d);
}

static void note_titles_fall_back(void)
{
	struct conn_doc d;
	const char *h = "intro line\n## Second level heading\ntext\n";
	CHECK_EQ_INT(parse(&conn_note_ops, "x/a.md", h, strlen(h), &d), 0);
	CHECK_STR(d.title, "Second level heading");
	conn_doc_clear(&d);
	const char *o = "#+TITLE: Projects 2026\n* One\n";
	CHECK_EQ_INT(parse(&conn_note_ops, "x/p.org", o, strlen(o), &d), 0);
	CHECK_STR(d.title, "Projects 2026");
	conn_doc_clear(&d);
	const char *t = "just text, #hashtag is not a heading\n";
	CHECK_EQ_INT(parse(&conn_note_ops, "x/plain notes.txt", t, strlen(t), &d), 0);
	CHECK_STR(d.title, "plain notes");
	CHECK_STR(d.type, "text");
	conn_doc_clear(&d);
	/* an unterminated front matter is text */
	const char *u = "---\ntitle: x\nno end\n";
	CHECK_EQ_INT(parse(&conn_note_ops, "x/u.md", u, strlen(u), &d), 0);
	CHECK_EQ_INT(d.line_base, 0);
	CHECK_STR(d.title, "u");
	CHECK(strstr(d.text, "title: x") != NULL);
	conn_doc_clear(&d);
}

static void note_encodings(void)
{
	struct conn_doc d;
	/* UTF-16LE with BOM: "Hé" */
	const char u16[] = "\xff\xfeH\x00\xe9\x00\n\x00";
	CHECK_EQ_INT(parse(&conn_note_ops, "a.txt", u16, sizeof u16 - 1, &d), 0);
	CHECK_STR(d.text, "H\xc3\xa9\n");
	CHECK(strstr(d.note, "UTF-16LE") != NULL);
	conn_doc_clear(&d);
	/* Latin-1 / windows-1252: "Kära €" */
	const char l1[] = "K\xe4ra \x80\n";
	CHECK_EQ_INT(parse(&conn_note_ops, "b.txt", l1, sizeof l1 - 1, &d), 0);
	CHECK_STR(d.text, "K\xc3\xa4ra \xe2\x82\xac\n");
	CHECK(strstr(d.note, "windows-1252") != NULL);
	conn_doc_clear(&d);
	/* a UTF-8 BOM is dropped */
	const char bom[] = "\xef\xbb\xbfhello";
	CHECK_EQ_INT(parse(&conn_note_ops, "c.txt", bom, sizeof bom - 1, &d), 0);
	CHECK_STR(d.text, "hello");
	conn_doc_clear(&d);
}

static void note_binary_and_empty_refused(void)
{
	struct conn_doc d;
	const char bin[] = "\x7f"
			   "ELF\x02\x01\x01\x00\x00\x00\x00";
	CHECK_EQ_INT(parse(&conn_note_ops, "x.md", bin, sizeof bin - 1, &d), MX_EBINARY);
	CHECK(strstr(d.err, "binary") != NULL);
	conn_doc_clear(&d);
	CHECK_EQ_INT(parse(&conn_note_ops, "x.md", "", 0, &d), MX_EEMPTY);
	conn_doc_clear(&d);
}

static const char mail1[] =
	"From: =?iso-8859-1?Q?Birgitta_=C5berg?= <birgitta@example.org>\n"
	"To: Maya <maya@lindqvist.example>, Olle <olle@example.org>\n"
	"Cc: Team <team@example.org>\n"
	"Subject: Hello\n\tfolded subject\n"
	"Date: Tue, 03 Nov 2026 09:15:00 +0100\n"
	"Message-ID: <abc@example.org>\n"
	"MIME-Version: 1.0\n"
	"Content-Type: multipart/alternative; boundary=XX\n\n"
	"--XX\nContent-Type: text/html\n\n<p>html</p>\n"
	"--XX\nContent-Type: text/plain; charset=iso-8859-1\n"
	"Content-Transfer-Encoding: quoted-printable\n\nK=E4ra Maya,\nsm=F6r.\n--XX--\n";

static void mail_headers_and_body(void)
{
	struct conn_doc d;
	CHECK_EQ_INT(parse(&conn_mail_ops, "cur/1", mail1, sizeof mail1 - 1, &d), 0);
	CHECK_STR(d.type, "mail");
	CHECK_STR(d.title, "Hello folded subject");
	CHECK_STR(d.author, "Birgitta \xc3\x85"
			    "berg <birgitta@example.org>");
	CHECK_STR(
		d.recipients,
		"Maya <maya@lindqvist.example>, Olle <olle@example.org>, Team <team@example.org>");
	CHECK_STR(d.message_id, "abc@example.org");
	CHECK_EQ_INT(d.date, 1793693700);
	CHECK(d.text && strstr(d.text, "K\xc3\xa4ra Maya") != NULL);
	CHECK(d.text && strstr(d.text, "sm\xc3\xb6r.") != NULL);
	CHECK(d.text && strstr(d.text, "html") == NULL);
	CHECK_EQ_INT(d.line_base, -1);
	conn_doc_clear(&d);
}

static void mail_not_a_message(void)
{
	struct conn_doc d;
	const char *s = "just some words\nwith no headers at all\n";
	CHECK(parse(&conn_mail_ops, "x", s, strlen(s), &d) != 0);
	CHECK(d.err[0] != '\0');
	conn_doc_clear(&d);
	CHECK(!conn_looks_like_mail(s, strlen(s)));
	CHECK(conn_looks_like_mail(mail1, sizeof mail1 - 1));
	/* an mbox "From " line before the headers */
	const char *m = "From someone Tue Nov  3 09:15:00 2026\nFrom: a@b.example\n"
			"Subject: s\n\nbody\n";
	CHECK_EQ_INT(parse(&conn_mail_ops, "y", m, strlen(m), &d), 0);
	CHECK_STR(d.title, "s");
	CHECK_STR(d.text, "body\n");
	conn_doc_clear(&d);
}

/* Golden checks on data/sample's ISO-8859-1 and quoted-printable mails. */
static void sample_mail_charsets(void)
{
	const char *sample = test_sample();
	if (!CHECK(sample != NULL))
		return;
	static const struct {
		const char *file, *title, *needle;
	} cases[] = {
		{ "mail/cur/1792081325.M345489P5147.maya-laptop:2,FRS",
		  "F\xc3\xb6"
		  "delsedagsmiddag den 7 november",
		  "Sm\xc3\xa4lt sm\xc3\xb6ret" },
		{ "mail/.Travel/cur/1785232924.M226704P4592.maya-laptop:2,S", NULL,
		  "Armaz\xc3\xa9m 7, Doca de Alc\xc3\xa2ntara" },
	};
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		char *p = mx_path_join(sample, cases[i].file), *data = NULL;
		size_t len = 0;
		struct conn_doc d;
		if (!CHECK(mx_read_file(p, 1 << 20, &data, &len) == 0)) {
			free(p);
			continue;
		}
		CHECK_EQ_INT(parse(&conn_mail_ops, p, data, len, &d), 0);
		if (cases[i].title)
			CHECK_STR(d.title, cases[i].title);
		CHECK(d.text && strstr(d.text, cases[i].needle) != NULL);
		CHECK(d.text && mx_utf8_is_valid(d.text, d.text_len));
		conn_doc_clear(&d);
		free(data);
		free(p);
	}
}

static void choose_connector_by_name(void)
{
	char why[128];
	CHECK(conn_for_file("notes", "a/b.md", why, sizeof why) == &conn_note_ops);
	CHECK(conn_for_file("notes", "a/b.ORG", why, sizeof why) == &conn_note_ops);
	CHECK(conn_for_file("notes", "a/m.eml", why, sizeof why) == &conn_mail_ops);
	CHECK(conn_for_file("notes", "README", why, sizeof why) == &conn_note_ops);
	CHECK(conn_for_file("notes", "a/photo.jpg", why, sizeof why) == NULL);
	CHECK(strstr(why, ".jpg") != NULL);
	CHECK(conn_for_file("maildir", "cur/1:2,S", why, sizeof why) == &conn_mail_ops);
	CHECK(conn_walk_wants_dir("maildir", ".Travel"));
	CHECK(!conn_walk_wants_dir("maildir", "tmp"));
	CHECK(!conn_walk_wants_dir("notes", ".obsidian"));
	CHECK(!conn_walk_wants_file("notes", ".hidden.md"));
	CHECK(!conn_walk_wants_file("notes", "draft.md~"));
}

static void detect_sources(void)
{
	const char *t = test_tmpdir();
	char *md = mx_path_join(t, "Mail"), *notes = mx_path_join(t, "notes");
	test_write_str(t, "Mail/cur/1:2,S", mail1);
	test_write_str(t, "Mail/new/.keep", "");
	test_write_str(t, "notes/a.md", "# a\n");
	test_write_str(t, "single.eml", mail1);
	test_write_str(t, "box", "From a@b Tue Nov  3 09:15:00 2026\nSubject: x\n\nhi\n");
	test_write_str(t, "empty.md", "");
	test_write_str(t, "pic.jpg", "\xff\xd8\xff");
	const char *type = NULL;
	CHECK_EQ_INT(conn_detect_source(md, &type), 0);
	CHECK_STR(type, "maildir");
	CHECK_EQ_INT(conn_detect_source(notes, &type), 0);
	CHECK_STR(type, "notes");
	char *p = mx_path_join(t, "single.eml");
	CHECK_EQ_INT(conn_detect_source(p, &type), 0);
	CHECK_STR(type, "eml");
	free(p);
	p = mx_path_join(t, "box");
	CHECK_EQ_INT(conn_detect_source(p, &type), 0);
	CHECK_STR(type, "mbox");
	free(p);
	p = mx_path_join(t, "empty.md");
	CHECK_EQ_INT(conn_detect_source(p, &type), MX_EEMPTY);
	free(p);
	p = mx_path_join(t, "pic.jpg");
	CHECK_EQ_INT(conn_detect_source(p, &type), MX_EUNSUPPORTED);
	free(p);
	p = mx_path_join(t, "fifo");
	mkfifo(p, 0600);
	CHECK_EQ_INT(conn_detect_source(p, &type), MX_ENOTREG);
	free(p);
	/* a folder of loose message files, as notmuch's corpora are */
	for (int i = 0; i < 5; i++) {
		char name[32];
		snprintf(name, sizeof name, "loose/msg-%d", i);
		test_write_str(t, name, mail1);
	}
	p = mx_path_join(t, "loose");
	CHECK_EQ_INT(conn_detect_source(p, &type), 0);
	CHECK_STR(type, "maildir");
	free(p);
	free(md);
	free(notes);
}

static void clean_field_collapses(void)
{
	char *s = strdup("  a\tb \n c  ");
	s = conn_clean_field(s);
	CHECK_STR(s, "a b c");
	free(s);
	CHECK(conn_clean_field(strdup(" \t ")) == NULL);
}

static void nul_and_odd_utf16_become_fffd(void)
{
	struct conn_doc d;
	/* UTF-16LE with a stray odd byte at the end */
	const char u16[] = "\xff\xfeh\x00i\x00\x41";
	CHECK_EQ_INT(parse(&conn_note_ops, "a.txt", u16, sizeof u16 - 1, &d), 0);
	CHECK_STR(d.text, "hi\xef\xbf\xbd");
	conn_doc_clear(&d);
	/* a NUL past the first 8 KiB: replaced, not kept */
	size_t n = 9000;
	char *big = malloc(n + 16);
	memset(big, 'a', n);
	memcpy(big + n, " x\0y zed", 8);
	CHECK_EQ_INT(parse(&conn_note_ops, "b.txt", big, n + 8, &d), 0);
	CHECK_EQ_INT(strlen(d.text), d.text_len);
	CHECK(strstr(d.text, "x\xef\xbf\xbdy zed") != NULL);
	conn_doc_clear(&d);
	free(big);
}

static void long_sender_name_is_not_fatal(void)
{
	/* a 5000-character From name once came back as "out of memory" */
	size_t n = 5000;
	char *m = malloc(n + 200);
	int k = snprintf(m, 200, "From: ");
	memset(m + k, 'N', n);
	snprintf(m + k + n, 200, " <a@b.example>\nSubject: s\n\nbody\n");
	struct conn_doc d;
	CHECK_EQ_INT(parse(&conn_mail_ops, "x", m, strlen(m), &d), 0);
	CHECK_STR(d.title, "s");
	conn_doc_clear(&d);
	free(m);
}

static void mail_uuencoded_body(void)
{
	const char *m = "From: a@b.example\nSubject: uu\nMIME-Version: 1.0\n"
			"Content-Type: text/plain; charset=utf-8\n"
			"Content-Transfer-Encoding: x-uuencode\n\n"
			"begin 644 note.txt\n"
			"M2&5L;&\\@9G)O;2!A('5U96YC;V1E9\"!B;V1Y+\"!W:71H('5M;&%U=',Z(,.D\n"
			"$P[8N\"@  \n`\nend\n";
	struct conn_doc d;
	CHECK_EQ_INT(parse(&conn_mail_ops, "x", m, strlen(m), &d), 0);
	CHECK(d.text &&
	      strstr(d.text, "Hello from a uuencoded body, with umlauts: \xc3\xa4\xc3\xb6.") !=
		      NULL);
	conn_doc_clear(&d);
}

/* clang-format off */
static const struct test_case tests[] = {
	TEST(note_front_matter_and_lines),
	TEST(note_titles_fall_back),
	TEST(note_encodings),
	TEST(note_binary_and_empty_refused),
	TEST(mail_headers_and_body),
	TEST(mail_not_a_message),
	TEST(sample_mail_charsets),
	TEST(choose_connector_by_name),
	TEST(detect_sources),
	TEST(clean_field_collapses),
	TEST(nul_and_odd_utf16_become_fffd),
	TEST(long_sender_name_is_not_fatal),
	TEST(mail_uuencoded_body),
};
/* clang-format on */
TEST_MAIN(tests)
