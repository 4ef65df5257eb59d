/*
 * conn_note.c - plain text, markdown and org notes.
 *
 * Markdown may open with YAML front matter between '---' lines; its title,
 * author and date keys are read (a line-based reading of flat keys, enough
 * for metadata; tags, aliases and links belong to the documents issue). The
 * front matter is not part of the indexed text, and line_base records how
 * many lines it took so citations still point at the file's lines.
 * The title is the front matter's, else org's #+TITLE, else the first
 * heading, else the file name without its extension.
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "../common/status.h"
#include "../common/utf8.h"
#include "conn.h"

static char *dup_trim(const char *s, size_t n)
{
	while (n && isspace((unsigned char)*s))
		s++, n--;
	while (n && isspace((unsigned char)s[n - 1]))
		n--;
	if (n >= 2 && ((s[0] == '"' && s[n - 1] == '"') || (s[0] == '\'' && s[n - 1] == '\'')))
		s++, n -= 2;
	if (n > 512) /* a title, not a body; cut on a character boundary */
		n = mx_utf8_floor(s, 512);
	char *p = malloc(n + 1);
	if (p) {
		memcpy(p, s, n);
		p[n] = '\0';
	}
	return p;
}

/* Parses "YYYY-MM-DD" with an optional "[T ]HH:MM[:SS]" as UTC. */
static int64_t parse_date(const char *s)
{
	int y, mo, d, h = 0, mi = 0, sec = 0;
	while (*s == ' ' || *s == '"' || *s == '\'')
		s++;
	if (sscanf(s, "%4d-%2d-%2d", &y, &mo, &d) != 3)
		return 0;
	if (strlen(s) > 10 && (s[10] == 'T' || s[10] == ' '))
		sscanf(s + 11, "%2d:%2d:%2d", &h, &mi, &sec);
	if (y < 1900 || y > 9999 || mo < 1 || mo > 12 || d < 1 || d > 31 || h < 0 || h > 23 ||
	    mi < 0 || mi > 59 || sec < 0 || sec > 60)
		return 0;
	struct tm tm = { .tm_year = y - 1900,
			 .tm_mon = mo - 1,
			 .tm_mday = d,
			 .tm_hour = h,
			 .tm_min = mi,
			 .tm_sec = sec };
	return (int64_t)timegm(&tm);
}

/* Length of the line at s (without its newline) and the offset of the
 * next line. */
static size_t line_at(const char *s, size_t n, size_t *next)
{
	const char *nl = memchr(s, '\n', n);
	size_t ll = nl ? (size_t)(nl - s) : n;
	*next = nl ? ll + 1 : n;
	if (ll && s[ll - 1] == '\r')
		ll--;
	return ll;
}

static bool line_is(const char *s, size_t ll, const char *what)
{
	return ll == strlen(what) && !memcmp(s, what, ll);
}

/* Reads a key of the flat front matter; sets the matching doc field. */
static void front_matter_key(struct conn_doc *doc, const char *s, size_t ll)
{
	const char *c = memchr(s, ':', ll);
	if (!c || s[0] == ' ' || s[0] == '\t' || s[0] == '-')
		return;
	size_t kl = (size_t)(c - s);
	const char *v = c + 1;
	size_t vl = ll - kl - 1;
	if (kl == 5 && !strncasecmp(s, "title", 5) && !doc->title) {
		doc->title = dup_trim(v, vl);
	} else if (kl == 6 && !strncasecmp(s, "author", 6) && !doc->author) {
		doc->author = dup_trim(v, vl);
	} else if ((kl == 4 && !strncasecmp(s, "date", 4)) ||
		   (kl == 7 && !strncasecmp(s, "created", 7))) {
		char *t = dup_trim(v, vl);
		if (t && !doc->date)
			doc->date = parse_date(t);
		free(t);
	}
}

/* If text opens with front matter, reads it and returns the byte offset
 * where the body starts (and the lines skipped); else 0. */
static size_t front_matter(struct conn_doc *doc, const char *s, size_t n, int64_t *lines)
{
	size_t next, ll = line_at(s, n, &next);
	if (!line_is(s, ll, "---"))
		return 0;
	size_t off = next;
	int64_t k = 1;
	/* a bounded look: front matter is short */
	while (off < n && off < 65536) {
		ll = line_at(s + off, n - off, &next);
		k++;
		if (line_is(s + off, ll, "---") || line_is(s + off, ll, "...")) {
			*lines = k;
			return off + next;
		}
		front_matter_key(doc, s + off, ll);
		off += next;
	}
	/* no closing line: not front matter after all */
	free(doc->title);
	free(doc->author);
	doc->title = doc->author = NULL;
	doc->date = 0;
	return 0;
}

/* The first org #+TITLE or markdown/org heading in the first lines. */
static char *find_title(const char *s, size_t n)
{
	size_t off = 0, next;
	for (int i = 0; i < 200 && off < n; i++, off += next) {
		const char *l = s + off;
		size_t ll = line_at(l, n - off, &next);
		if (ll > 8 && !strncasecmp(l, "#+title:", 8))
			return dup_trim(l + 8, ll - 8);
		size_t h = 0;
		while (h < ll && h < 6 && (l[h] == '#' || l[h] == '*'))
			h++;
		if (h > 0 && h < ll && l[h] == ' ' && (l[0] == '#' || l[0] == '*') &&
		    l[h - 1] == l[0]) {
			bool same = true;
			for (size_t j = 0; j < h; j++)
				same = same && l[j] == l[0];
			if (same && ll - h > 1)
				return dup_trim(l + h + 1, ll - h - 1);
		}
	}
	return NULL;
}

static char *title_from_name(const char *path)
{
	const char *b = strrchr(path, '/');
	b = b ? b + 1 : path;
	const char *d = strrchr(b, '.');
	size_t n = d && d != b ? (size_t)(d - b) : strlen(b);
	return dup_trim(b, n);
}

static int note_parse(const char *path, const char *data, size_t len, struct conn_doc *doc)
{
	int rc;
	if (len == 0) {
		snprintf(doc->err, sizeof doc->err, "empty file");
		return MX_EEMPTY;
	}
	/* A file with no extension in a notes folder may be a message. */
	const char *b = strrchr(path, '/');
	b = b ? b + 1 : path;
	if (*b && !strchr(b + 1, '.') && conn_looks_like_mail(data, len))
		return conn_mail_ops.parse(path, data, len, doc);

	if ((rc = conn_text_to_utf8(data, len, doc)))
		return rc;
	const char *ext = strrchr(b, '.');
	bool markdown = ext && (!strcasecmp(ext, ".md") || !strcasecmp(ext, ".markdown") ||
				!strcasecmp(ext, ".mdown") || !strcasecmp(ext, ".mkd"));
	doc->type = markdown ? "note" : ext && !strcasecmp(ext, ".org") ? "note" : "text";
	doc->line_base = 0;
	size_t body = front_matter(doc, doc->text, doc->text_len, &doc->line_base);
	if (body) {
		memmove(doc->text, doc->text + body, doc->text_len - body + 1);
		doc->text_len -= body;
	}
	if (!doc->title)
		doc->title = find_title(doc->text, doc->text_len);
	doc->title = conn_clean_field(doc->title);
	doc->author = conn_clean_field(doc->author);
	if (!doc->title)
		doc->title = conn_clean_field(title_from_name(path));
	if (!doc->title)
		doc->title = strdup("(untitled)");
	if (!doc->title)
		return MX_ENOMEM;
	return 0;
}

const struct conn_ops conn_note_ops = { "note", note_parse };
