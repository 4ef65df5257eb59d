/*
 * conn.c - connector table, source detection and text helpers shared by
 * the connectors.
 */
#include "conn.h"

#include <dirent.h>
#include <errno.h>
#include <iconv.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

#include "../common/buf.h"
#include "../common/fsutil.h"
#include "../common/status.h"
#include "../common/utf8.h"

void conn_doc_init(struct conn_doc *d)
{
	memset(d, 0, sizeof *d);
	d->type = "";
}

void conn_doc_clear(struct conn_doc *d)
{
	free(d->title);
	free(d->author);
	free(d->recipients);
	free(d->message_id);
	free(d->text);
	free(d->in_reply_to);
	free(d->refs);
	free(d->list_id);
	free(d->part);
	for (size_t i = 0; i < d->naddrs; i++) {
		free(d->addrs[i].name);
		free(d->addrs[i].addr);
	}
	free(d->addrs);
	for (size_t i = 0; i < d->natts; i++) {
		free(d->atts[i].name);
		free(d->atts[i].mime_type);
	}
	free(d->atts);
	free(d->quoted);
	for (size_t i = 0; i < d->nchildren; i++)
		conn_doc_clear(&d->children[i]);
	free(d->children);
	for (size_t i = 0; i < d->nsections; i++)
		free(d->sections[i].heading);
	free(d->sections);
	free(d->tags);
	free(d->links);
	conn_doc_init(d);
}

char *conn_clean_field(char *s)
{
	if (!s)
		return NULL;
	if (!mx_utf8_is_valid(s, strlen(s))) {
		char *fixed = NULL;
		int rc = mx_utf8_repair(s, strlen(s), &fixed, NULL, NULL);
		free(s);
		if (rc)
			return NULL;
		s = fixed;
	}
	char *o = s;
	bool space = false;
	for (const char *p = s; *p; p++) {
		if ((unsigned char)*p <= ' ' || *p == 0x7f) {
			space = o != s;
			continue;
		}
		if (space)
			*o++ = ' ';
		space = false;
		*o++ = *p;
	}
	*o = '\0';
	if (o == s) {
		free(s);
		return NULL;
	}
	return s;
}

/* ===================================================================== */
/* choosing a connector                                                  */
/* ===================================================================== */

/* clang-format off */
static const struct {
	const char *ext;
	const struct conn_ops *ops;
} by_ext[] = {
	{ "md", &conn_note_ops },
	{ "markdown", &conn_note_ops },
	{ "mdown", &conn_note_ops },
	{ "mkd", &conn_note_ops },
	{ "txt", &conn_note_ops },
	{ "text", &conn_note_ops },
	{ "org", &conn_note_ops },
	{ "rst", &conn_note_ops },
	{ "adoc", &conn_note_ops },
	{ "asciidoc", &conn_note_ops },
	{ "tex", &conn_note_ops },
	{ "latex", &conn_note_ops },
	{ "csv", &conn_note_ops },
	{ "tsv", &conn_note_ops },
	{ "wiki", &conn_note_ops },
	{ "log", &conn_note_ops },
	{ "eml", &conn_mail_ops },
	{ "html", &conn_html_ops },
	{ "htm", &conn_html_ops },
	{ "xhtml", &conn_html_ops },
	{ "pdf", &conn_pdf_ops },
	{ "rtf", &conn_rtf_ops },
	{ "docx", &conn_docx_ops },
	{ "pptx", &conn_pptx_ops },
	{ "xlsx", &conn_xlsx_ops },
	{ "odt", &conn_odf_ops },
	{ "odp", &conn_odf_ops },
	{ "ods", &conn_odf_ops },
	{ "epub", &conn_epub_ops },
	{ "zip", &conn_archive_ops },
	{ "tar", &conn_archive_ops },
	{ "tgz", &conn_archive_ops },
	{ "tzst", &conn_archive_ops },
	{ "gz", &conn_archive_ops },
	{ "zst", &conn_archive_ops },
	{ "bz2", &conn_archive_ops },
	{ "xz", &conn_archive_ops },
};
/* clang-format on */

/* The connector for a type name ("docx"), through the table. */
static const struct conn_ops *ops_for_ext(const char *ext)
{
	for (size_t i = 0; i < sizeof by_ext / sizeof by_ext[0]; i++)
		if (!strcasecmp(ext, by_ext[i].ext))
			return by_ext[i].ops;
	return NULL;
}

static bool has_bytes(const char *data, size_t len, const char *what)
{
	size_t n = strlen(what);
	return n <= len && memmem(data, len, what, n) != NULL;
}

const struct conn_ops *conn_sniff(const char *path, const char *data, size_t len)
{
	const unsigned char *p = (const unsigned char *)data;
	if (len >= 5 && !memcmp(data, "%PDF-", 5))
		return ops_for_ext("pdf");
	if (len >= 5 && !memcmp(data, "{\\rtf", 5))
		return ops_for_ext("rtf");
	if (len >= 4 && !memcmp(data, "PK\x03\x04", 4)) {
		/* ODF and EPUB store "mimetype" first, uncompressed */
		if (len > 38 && !memcmp(data + 30, "mimetype", 8)) {
			if (has_bytes(data + 38, len - 38 < 64 ? len - 38 : 64,
				      "application/epub+zip"))
				return ops_for_ext("epub");
			if (has_bytes(data + 38, len - 38 < 80 ? len - 38 : 80,
				      "application/vnd.oasis.opendocument"))
				return ops_for_ext("odt");
		}
		if (has_bytes(data, len, "[Content_Types].xml")) {
			if (has_bytes(data, len, "word/document.xml"))
				return ops_for_ext("docx");
			if (has_bytes(data, len, "ppt/presentation.xml"))
				return ops_for_ext("pptx");
			if (has_bytes(data, len, "xl/workbook.xml"))
				return ops_for_ext("xlsx");
		}
		return &conn_archive_ops;
	}
	if ((len >= 2 && p[0] == 0x1f && p[1] == 0x8b) ||
	    (len >= 4 && p[0] == 0x28 && p[1] == 0xb5 && p[2] == 0x2f && p[3] == 0xfd) ||
	    (len >= 3 && !memcmp(data, "BZh", 3)) ||
	    (len >= 6 && !memcmp(data,
				 "\xfd"
				 "7zXZ\0",
				 6)) ||
	    (len >= 262 && !memcmp(data + 257, "ustar", 5)))
		return &conn_archive_ops;
	/* HTML only decides for a name without an extension */
	const char *b = strrchr(path, '/');
	b = b ? b + 1 : path;
	if (!strchr(b, '.')) {
		size_t i = 0;
		while (i < len && i < 512 &&
		       (data[i] == ' ' || data[i] == '\n' || data[i] == '\r' || data[i] == '\t'))
			i++;
		if (len - i >= 14 && (!strncasecmp(data + i, "<!doctype html", 14) ||
				      !strncasecmp(data + i, "<html", 5)))
			return &conn_html_ops;
	}
	return NULL;
}

static const char *basename_of(const char *path)
{
	const char *s = strrchr(path, '/');
	return s ? s + 1 : path;
}

/* Extension after the last dot of the base name, or NULL. */
static const char *ext_of(const char *path)
{
	const char *b = basename_of(path);
	const char *d = strrchr(b, '.');
	return d && d != b && d[1] ? d + 1 : NULL;
}

const struct conn_ops *conn_for_file(const char *source_type, const char *path, char *why,
				     size_t whysz)
{
	if (!strcmp(source_type, "maildir") || !strcmp(source_type, "eml"))
		return &conn_mail_ops;
	if (!strcmp(source_type, "mbox"))
		return &conn_mail_ops;
	const char *ext = ext_of(path);
	if (!ext) /* no extension: the note connector sniffs the content */
		return &conn_note_ops;
	const struct conn_ops *ops = ops_for_ext(ext);
	if (ops)
		return ops;
	snprintf(why, whysz, "unsupported file type '.%.32s'", ext);
	return NULL;
}

const struct conn_ops *conn_choose(const char *source_type, const char *path, const char *data,
				   size_t len, char *why, size_t whysz)
{
	const struct conn_ops *by_name = conn_for_file(source_type, path, why, whysz);
	const char *b = strrchr(path, '/');
	b = b ? b + 1 : path;
	/* a text extension keeps its reader (a binary .md is reported as
	 * binary, not read as whatever its first bytes suggest) */
	if (strcmp(source_type, "notes") || (by_name == &conn_note_ops && strchr(b, '.')))
		return by_name;
	const struct conn_ops *ops = conn_sniff(path, data, len);
	return ops ? ops : by_name;
}

bool conn_walk_wants_dir(const char *source_type, const char *name)
{
	if (!strcmp(source_type, "maildir")) {
		if (!strcmp(name, "tmp"))
			return false;
		if (name[0] == '.')
			return strcmp(name, ".") && strcmp(name, "..") &&
			       strcmp(name, ".notmuch") && strcmp(name, ".git");
		return true;
	}
	return name[0] != '.';
}

bool conn_walk_wants_file(const char *source_type, const char *name)
{
	(void)source_type;
	if (name[0] == '.')
		return false;
	/* editor and tool droppings */
	size_t n = strlen(name);
	if (n && name[n - 1] == '~')
		return false;
	if (!strcmp(name, "dovecot.index") || !strncmp(name, "dovecot-", 8) ||
	    !strcmp(name, "maildirfolder") || !strcmp(name, "subscriptions"))
		return false;
	return true;
}

bool conn_is_source_type(const char *type)
{
	return !strcmp(type, "notes") || !strcmp(type, "maildir") || !strcmp(type, "mbox") ||
	       !strcmp(type, "eml");
}

bool conn_looks_like_mail(const char *data, size_t len)
{
	/* The first line is "From " (mbox-style) or a header field; and a
	 * few well-known header fields appear before the first blank line. */
	size_t lim = len < 16384 ? len : 16384;
	size_t i = 0, known = 0;
	bool first = true;
	while (i < lim) {
		const char *line = data + i;
		const char *nl = memchr(line, '\n', lim - i);
		size_t ll = nl ? (size_t)(nl - line) : lim - i;
		if (ll && line[ll - 1] == '\r')
			ll--;
		if (ll == 0)
			break;
		if (first && ll > 5 && !memcmp(line, "From ", 5)) {
			/* mbox separator */
		} else if (line[0] == ' ' || line[0] == '\t') {
			if (first)
				return false;
		} else {
			const char *c = memchr(line, ':', ll);
			if (!c || c == line)
				return false;
			for (const char *p = line; p < c; p++)
				if (*p <= 32 || *p >= 127)
					return false;
			static const char *const names[] = {
				"from",		"to",		"subject",     "date",
				"message-id",	"received",	"return-path", "mime-version",
				"delivered-to", "cc",		"reply-to",    "in-reply-to",
				"references",	"content-type",
			};
			size_t nl2 = (size_t)(c - line);
			for (size_t k = 0; k < sizeof names / sizeof names[0]; k++)
				if (strlen(names[k]) == nl2 && !strncasecmp(line, names[k], nl2))
					known++;
		}
		first = false;
		if (!nl)
			break;
		i = (size_t)(nl - data) + 1;
	}
	return known >= 2;
}

bool conn_looks_binary(const char *data, size_t len)
{
	const unsigned char *p = (const unsigned char *)data;
	if (len >= 2 && ((p[0] == 0xFF && p[1] == 0xFE) || (p[0] == 0xFE && p[1] == 0xFF)))
		return false; /* UTF-16 text with a BOM */
	size_t lim = len < 8192 ? len : 8192, ctl = 0;
	for (size_t i = 0; i < lim; i++) {
		if (p[i] == 0)
			return true;
		if (p[i] < 32 && p[i] != '\n' && p[i] != '\r' && p[i] != '\t' && p[i] != '\f' &&
		    p[i] != 0x1B)
			ctl++;
	}
	return lim && ctl * 10 > lim;
}

/* ===================================================================== */
/* source detection                                                      */
/* ===================================================================== */

static bool is_dir(const char *dir, const char *name)
{
	char *p = mx_path_join(dir, name);
	struct stat sb;
	bool r = p && stat(p, &sb) == 0 && S_ISDIR(sb.st_mode);
	free(p);
	return r;
}

/* Samples up to `want` regular files below dir (breadth limited to depth
 * 3), counting those that look like mail. */
static void sample_mail(const char *dir, int depth, size_t want, size_t *seen, size_t *mail)
{
	DIR *d = opendir(dir);
	if (!d)
		return;
	struct dirent *e;
	while (*seen < want && (e = readdir(d))) {
		if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, ".."))
			continue;
		char *p = mx_path_join(dir, e->d_name);
		struct stat sb;
		if (!p || lstat(p, &sb) != 0) {
			free(p);
			continue;
		}
		if (S_ISDIR(sb.st_mode) && depth < 3 && conn_walk_wants_dir("maildir", e->d_name)) {
			sample_mail(p, depth + 1, want, seen, mail);
		} else if (S_ISREG(sb.st_mode) && sb.st_size > 0 &&
			   conn_walk_wants_file("maildir", e->d_name)) {
			char *data = NULL;
			size_t len = 0;
			(*seen)++;
			/* only the head matters; skip very large files */
			if (mx_read_file(p, 1 << 20, &data, &len) == 0 &&
			    conn_looks_like_mail(data, len))
				(*mail)++;
			free(data);
		}
		free(p);
	}
	closedir(d);
}

int conn_detect_source(const char *path, const char **type)
{
	struct stat sb;
	if (stat(path, &sb) != 0)
		return mx_status_from_errno(errno);
	if (S_ISDIR(sb.st_mode)) {
		if (is_dir(path, "cur") && is_dir(path, "new")) {
			*type = "maildir";
			return 0;
		}
		size_t seen = 0, mail = 0;
		sample_mail(path, 0, 40, &seen, &mail);
		*type = seen >= 3 && mail * 10 >= seen * 6 ? "maildir" : "notes";
		return 0;
	}
	if (!S_ISREG(sb.st_mode))
		return MX_ENOTREG;
	if (sb.st_size == 0)
		return MX_EEMPTY;
	char *data = NULL;
	size_t len = 0;
	int rc = mx_read_file(path, 1 << 20, &data, &len);
	if (rc == MX_ETOOBIG) {
		/* a large file: look at its head only */
		FILE *f = fopen(path, "rb");
		if (!f)
			return mx_status_from_errno(errno);
		data = malloc(4097);
		len = data ? fread(data, 1, 4096, f) : 0;
		fclose(f);
		if (!data)
			return MX_ENOMEM;
		data[len] = '\0';
		rc = 0;
	}
	if (rc)
		return rc;
	char why[64];
	if (len > 5 && !memcmp(data, "From ", 5))
		*type = "mbox";
	else if (conn_looks_like_mail(data, len))
		*type = "eml";
	else if (conn_for_file("notes", path, why, sizeof why) == &conn_note_ops)
		*type = "notes";
	else
		rc = MX_EUNSUPPORTED;
	free(data);
	return rc;
}

/* ===================================================================== */
/* text to UTF-8                                                         */
/* ===================================================================== */

/* Whether an iconv name means UTF-8 (or its ASCII subset). */
static bool is_utf8_name(const char *c)
{
	return !strcasecmp(c, "utf-8") || !strcasecmp(c, "utf8") || !strcasecmp(c, "us-ascii") ||
	       !strcasecmp(c, "ascii");
}

static int to_utf8_raw(const char *from, const char *data, size_t len, char **out, size_t *outlen,
		       size_t *nrepl)
{
	*nrepl = 0;
	/* declared UTF-8: invalid bytes are replaced, the rest is trusted */
	if (from && is_utf8_name(from))
		return mx_utf8_repair(data, len, out, outlen, nrepl);
	iconv_t cd = (iconv_t)-1;
	if (from)
		cd = iconv_open("UTF-8", from);
	if (cd == (iconv_t)-1) {
		if (mx_utf8_is_valid(data, len))
			return mx_utf8_repair(data, len, out, outlen, nrepl);
		/* unknown, missing or wrong charset on 8-bit text */
		cd = iconv_open("UTF-8", "WINDOWS-1252");
		if (cd == (iconv_t)-1)
			return mx_utf8_repair(data, len, out, outlen, nrepl);
	}
	if (len > (SIZE_MAX - 16) / 4) {
		iconv_close(cd);
		return MX_ETOOBIG;
	}
	/* 4 output bytes per input byte covers every charset to UTF-8, and
	 * 3 per byte the U+FFFD replacements */
	size_t cap = len * 4 + 16;
	char *buf = malloc(cap);
	if (!buf) {
		iconv_close(cd);
		return MX_ENOMEM;
	}
	char *in = (char *)data, *o = buf;
	size_t inleft = len, oleft = cap - 1;
	while (inleft > 0) {
		if (iconv(cd, &in, &inleft, &o, &oleft) != (size_t)-1)
			break;
		if (errno == EILSEQ || errno == EINVAL) {
			/* an invalid or truncated sequence: U+FFFD, skip a byte */
			if (oleft < 3)
				break;
			memcpy(o, "\xEF\xBF\xBD", 3);
			o += 3, oleft -= 3;
			in++, inleft--;
			(*nrepl)++;
			iconv(cd, NULL, NULL, NULL, NULL);
		} else {
			break; /* E2BIG cannot happen with this cap */
		}
	}
	iconv(cd, NULL, NULL, &o, &oleft); /* flush shift states */
	iconv_close(cd);
	*o = '\0';
	/* iconv's output is UTF-8 by construction; check anyway, cheaply */
	size_t n = (size_t)(o - buf);
	if (!mx_utf8_is_valid(buf, n)) {
		size_t extra = 0;
		int rc = mx_utf8_repair(buf, n, out, outlen, &extra);
		free(buf);
		*nrepl += extra;
		return rc;
	}
	*out = buf;
	*outlen = n;
	return 0;
}

/* NUL bytes would cut text short in SQLite and C strings: each becomes
 * U+FFFD, counted as a replacement. */
static int replace_nuls(char **out, size_t *outlen, size_t *nrepl)
{
	size_t nuls = 0;
	for (size_t i = 0; i < *outlen; i++)
		nuls += (*out)[i] == '\0';
	if (!nuls)
		return 0;
	char *o = malloc(*outlen + nuls * 2 + 1);
	if (!o)
		return MX_ENOMEM;
	size_t k = 0;
	for (size_t i = 0; i < *outlen; i++) {
		if ((*out)[i]) {
			o[k++] = (*out)[i];
		} else {
			memcpy(o + k, "\xEF\xBF\xBD", 3);
			k += 3;
		}
	}
	o[k] = '\0';
	free(*out);
	*out = o;
	*outlen = k;
	*nrepl += nuls;
	return 0;
}

int conn_to_utf8(const char *from, const char *data, size_t len, char **out, size_t *outlen,
		 size_t *nrepl)
{
	int rc = to_utf8_raw(from, data, len, out, outlen, nrepl);
	if (!rc && (rc = replace_nuls(out, outlen, nrepl))) {
		free(*out);
		*out = NULL;
	}
	return rc;
}

const char *conn_utf16_kind(const char *data, size_t len)
{
	const unsigned char *p = (const unsigned char *)data;
	if (len >= 2 && p[0] == 0xFF && p[1] == 0xFE)
		return "UTF-16LE";
	if (len >= 2 && p[0] == 0xFE && p[1] == 0xFF)
		return "UTF-16BE";
	/* no BOM: text in the Latin range has a NUL in every other byte */
	size_t n = (len < 4096 ? len : 4096) & ~(size_t)1, even = 0, odd = 0;
	if (n < 8)
		return NULL;
	for (size_t i = 0; i < n; i += 2) {
		even += p[i] == 0;
		odd += p[i + 1] == 0;
	}
	size_t pairs = n / 2;
	if (odd * 10 >= pairs * 7 && even * 20 <= pairs)
		return "UTF-16LE";
	if (even * 10 >= pairs * 7 && odd * 20 <= pairs)
		return "UTF-16BE";
	return NULL;
}

int conn_text_to_utf8(const char *data, size_t len, struct conn_doc *doc)
{
	const unsigned char *p = (const unsigned char *)data;
	const char *from = NULL;
	if (len >= 3 && p[0] == 0xEF && p[1] == 0xBB && p[2] == 0xBF) {
		data += 3, len -= 3;
	} else if ((from = conn_utf16_kind(data, len))) {
		if (len >= 2 && ((p[0] == 0xFF && p[1] == 0xFE) || (p[0] == 0xFE && p[1] == 0xFF)))
			data += 2, len -= 2;
		snprintf(doc->note, sizeof doc->note, "converted from %s", from);
	}
	if (!from && conn_looks_binary(data, len)) {
		snprintf(doc->err, sizeof doc->err, "binary content in a text file");
		return MX_EBINARY;
	}
	if (!from && !mx_utf8_is_valid(data, len)) {
		/* legacy 8-bit text: windows-1252 is the likeliest, and a
		 * superset of ISO-8859-1's printable range */
		from = "WINDOWS-1252";
		snprintf(doc->note, sizeof doc->note, "not UTF-8; converted from windows-1252");
	}
	int rc = conn_to_utf8(from, data, len, &doc->text, &doc->text_len, &doc->nreplaced);
	if (!rc && doc->nreplaced && !doc->note[0])
		snprintf(doc->note, sizeof doc->note, "%zu invalid byte sequences replaced",
			 doc->nreplaced);
	return rc;
}

int conn_doc_indexable(const struct conn_doc *doc, char **out, size_t *outlen)
{
	char *o = malloc(doc->text_len + 1);
	if (!o)
		return MX_ENOMEM;
	size_t k = 0, pos = 0;
	for (size_t i = 0; i < doc->nquoted; i++) {
		const struct conn_span *q = &doc->quoted[i];
		if (q->start < pos || q->end > doc->text_len || q->start > q->end)
			continue; /* not sorted or out of range: ignore */
		memcpy(o + k, doc->text + pos, q->start - pos);
		k += q->start - pos;
		if (k && o[k - 1] != '\n' && q->end > q->start)
			o[k++] = '\n';
		pos = q->end;
	}
	memcpy(o + k, doc->text + pos, doc->text_len - pos);
	k += doc->text_len - pos;
	o[k] = '\0';
	*out = o;
	*outlen = k;
	return 0;
}

/* ===================================================================== */
/* Maildir names                                                         */
/* ===================================================================== */

int conn_maildir_meta(const char *relpath, char **folder, char **flags)
{
	*folder = *flags = NULL;
	const char *base = strrchr(relpath, '/');
	size_t dirlen = base ? (size_t)(base - relpath) : 0;
	base = base ? base + 1 : relpath;
	bool in_new = false;
	/* drop a trailing cur/ or new/ */
	size_t end = dirlen;
	const char *last = relpath;
	for (size_t i = 0; i < dirlen; i++)
		if (relpath[i] == '/')
			last = relpath + i + 1;
	size_t lastlen = (size_t)(relpath + dirlen - last);
	if (lastlen == 3 && (!strncmp(last, "cur", 3) || !strncmp(last, "new", 3))) {
		in_new = !strncmp(last, "new", 3);
		end = last > relpath ? (size_t)(last - relpath) - 1 : 0;
	}
	struct mx_buf f;
	mx_buf_init(&f, 4096);
	int rc = 0;
	for (size_t i = 0; i < end && !rc;) {
		size_t j = i;
		while (j < end && relpath[j] != '/')
			j++;
		const char *c = relpath + i;
		size_t cl = j - i;
		if (f.len)
			rc = mx_buf_append(&f, "/", 1);
		if (!rc && cl > 1 && c[0] == '.') {
			/* Maildir++: ".A.B" is A/B */
			for (size_t k = 1; k < cl && !rc; k++)
				rc = mx_buf_append(&f, c[k] == '.' ? "/" : c + k, 1);
		} else if (!rc) {
			rc = mx_buf_append(&f, c, cl);
		}
		i = j + 1;
	}
	if (!rc && f.len == 0)
		rc = mx_buf_appends(&f, "INBOX");
	if (rc) {
		mx_buf_free(&f);
		return rc;
	}
	*folder = mx_buf_detach(&f);
	/* flags: the capitals after ":2,", sorted */
	char fl[32];
	size_t k = 0;
	const char *info = strstr(base, ":2,");
	if (info && !in_new)
		for (const char *p = info + 3; *p && k < sizeof fl - 1; p++)
			if (*p >= 'A' && *p <= 'Z' && !memchr(fl, *p, k))
				fl[k++] = *p;
	for (size_t a = 1; a < k; a++) /* insertion sort of a few letters */
		for (size_t b = a; b > 0 && fl[b - 1] > fl[b]; b--) {
			char t = fl[b];
			fl[b] = fl[b - 1];
			fl[b - 1] = t;
		}
	fl[k] = '\0';
	*flags = strdup(fl);
	if (!*flags) {
		free(*folder);
		*folder = NULL;
		return MX_ENOMEM;
	}
	return 0;
}

bool conn_maildir_key(const char *relpath, char *buf, size_t n)
{
	const char *base = strrchr(relpath, '/');
	base = base ? base + 1 : relpath;
	size_t len = strcspn(base, ":");
	if (len == 0 || len >= n)
		return false;
	memcpy(buf, base, len);
	buf[len] = '\0';
	return true;
}

/* ===================================================================== */
/* reading a document back                                               */
/* ===================================================================== */

int conn_load(const char *source_type, const char *abs, const char *part, size_t max,
	      struct conn_doc *doc)
{
	int rc;
	const char *rest = part ? part : "";
	if (!strcmp(source_type, "mbox")) {
		/* the message at the offset the part names */
		char *end = NULL;
		unsigned long long off = strtoull(rest, &end, 10);
		if (end == rest)
			return MX_EINVAL;
		rest = *end == '/' ? end + 1 : end;
		struct conn_mbox *mb = NULL;
		struct conn_mbox_msg m;
		if ((rc = conn_mbox_open(abs, off, max, &mb)))
			return rc;
		rc = conn_mbox_next(mb, &m);
		if (rc == 1 && (m.offset != off || m.too_big))
			rc = MX_ENOTFOUND;
		else if (rc == 1)
			rc = conn_mail_ops.parse(abs, m.data, m.len, doc);
		else if (rc == 0)
			rc = MX_ENOTFOUND;
		conn_mbox_close(mb);
		if (rc)
			return rc;
	} else {
		char *data = NULL, why[128];
		size_t len = 0;
		if ((rc = mx_read_file(abs, max, &data, &len)))
			return rc;
		const struct conn_ops *ops =
			conn_choose(source_type, abs, data, len, why, sizeof why);
		rc = ops ? ops->parse(abs, data, len, doc) : MX_EUNSUPPORTED;
		free(data);
		if (rc)
			return rc;
	}
	/* descend into children: "1/2" */
	while (*rest) {
		char *end = NULL;
		unsigned long k = strtoul(rest, &end, 10);
		if (end == rest || k == 0 || k > doc->nchildren)
			return MX_ENOTFOUND;
		struct conn_doc child = doc->children[k - 1];
		/* take the child out so that clearing the parent spares it */
		conn_doc_init(&doc->children[k - 1]);
		conn_doc_clear(doc);
		*doc = child;
		rest = *end == '/' ? end + 1 : end;
	}
	return 0;
}
