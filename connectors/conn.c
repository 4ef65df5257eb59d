/*
 * conn.c - connector table, source detection and text helpers shared by
 * the connectors.
 */
#include "conn.h"

#include <dirent.h>
#include <errno.h>
#include <iconv.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

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

static const struct {
	const char *ext;
	const struct conn_ops *ops;
} by_ext[] = {
	{ "md", &conn_note_ops },  { "markdown", &conn_note_ops }, { "mdown", &conn_note_ops },
	{ "mkd", &conn_note_ops }, { "txt", &conn_note_ops },	   { "text", &conn_note_ops },
	{ "org", &conn_note_ops }, { "eml", &conn_mail_ops },
};

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
	if (!strcmp(source_type, "mbox")) {
		snprintf(why, whysz, "mbox files are not read yet");
		return NULL;
	}
	const char *ext = ext_of(path);
	if (!ext) /* no extension: the note connector sniffs the content */
		return &conn_note_ops;
	for (size_t i = 0; i < sizeof by_ext / sizeof by_ext[0]; i++)
		if (!strcasecmp(ext, by_ext[i].ext))
			return by_ext[i].ops;
	snprintf(why, whysz, "unsupported file type '.%.32s'", ext);
	return NULL;
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

/* iconv from `from` to UTF-8; MX_EENCODING when the bytes do not convert. */
static int convert(const char *from, const char *data, size_t len, char **out, size_t *outlen)
{
	iconv_t cd = iconv_open("UTF-8", from);
	if (cd == (iconv_t)-1)
		return MX_EENCODING;
	int rc = 0;
	size_t cap = len * 2 + 16; /* grows when needed */
	char *buf = malloc(cap);
	if (!buf) {
		iconv_close(cd);
		return MX_ENOMEM;
	}
	char *in = (char *)data, *o = buf;
	size_t inleft = len, oleft = cap - 1;
	while (inleft > 0) {
		if (iconv(cd, &in, &inleft, &o, &oleft) != (size_t)-1)
			continue;
		if (errno == E2BIG) {
			size_t used = (size_t)(o - buf);
			cap *= 2;
			char *nb = realloc(buf, cap);
			if (!nb) {
				rc = MX_ENOMEM;
				break;
			}
			buf = nb;
			o = buf + used;
			oleft = cap - used - 1;
		} else {
			rc = MX_EENCODING;
			break;
		}
	}
	iconv_close(cd);
	if (rc) {
		free(buf);
		return rc;
	}
	*o = '\0';
	*out = buf;
	*outlen = (size_t)(o - buf);
	return 0;
}

int conn_text_to_utf8(const char *data, size_t len, struct conn_doc *doc)
{
	const unsigned char *p = (const unsigned char *)data;
	char *conv = NULL;
	size_t convlen = 0;
	int rc;

	if (len >= 3 && p[0] == 0xEF && p[1] == 0xBB && p[2] == 0xBF) {
		data += 3, len -= 3;
	} else if (len >= 2 && ((p[0] == 0xFF && p[1] == 0xFE) || (p[0] == 0xFE && p[1] == 0xFF))) {
		const char *enc = p[0] == 0xFF ? "UTF-16LE" : "UTF-16BE";
		rc = convert(enc, data + 2, len - 2, &conv, &convlen);
		if (rc == MX_ENOMEM)
			return rc;
		if (rc == 0) {
			snprintf(doc->note, sizeof doc->note, "converted from %s", enc);
			data = conv, len = convlen;
		}
		/* an odd or broken UTF-16 file falls through to repair */
	}
	if (!conv && conn_looks_binary(data, len)) {
		snprintf(doc->err, sizeof doc->err, "binary content in a text file");
		return MX_EBINARY;
	}
	if (!conv && !mx_utf8_is_valid(data, len)) {
		/* Legacy 8-bit text: windows-1252 is the likeliest, and a
		 * superset of ISO-8859-1's printable range. */
		rc = convert("WINDOWS-1252", data, len, &conv, &convlen);
		if (rc == MX_ENOMEM)
			return rc;
		if (rc == 0) {
			snprintf(doc->note, sizeof doc->note,
				 "not UTF-8; converted from windows-1252");
			data = conv, len = convlen;
		}
	}
	rc = mx_utf8_repair(data, len, &doc->text, &doc->text_len, &doc->nreplaced);
	free(conv);
	if (!rc && doc->nreplaced && !doc->note[0])
		snprintf(doc->note, sizeof doc->note, "%zu invalid byte sequences replaced",
			 doc->nreplaced);
	return rc;
}
