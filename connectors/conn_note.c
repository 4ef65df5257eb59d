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

#include "../common/buf.h"
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

/* Tags and aliases gathered while reading a note. */
struct meta {
	struct mx_buf tags;    /* space-separated, lower case, unique */
	struct mx_buf aliases; /* ", "-separated */
	int list;	       /* front-matter key whose "- item" lines follow:
				  0 none, 1 tags, 2 aliases */
};

/* Adds a tag: '#' and quotes stripped, lower case, at most 64 bytes, once. */
static void add_tag(struct meta *m, const char *s, size_t n)
{
	while (n && (*s == '#' || *s == '"' || *s == '\'' || *s == ' ' || *s == ':'))
		s++, n--;
	while (n && (s[n - 1] == '"' || s[n - 1] == '\'' || s[n - 1] == ' ' || s[n - 1] == ':' ||
		     s[n - 1] == ','))
		n--;
	if (n == 0 || n > 64)
		return;
	char t[65];
	for (size_t i = 0; i < n; i++) {
		char c = s[i];
		t[i] = (c >= 'A' && c <= 'Z') ? (char)(c - 'A' + 'a') : (c == ' ' ? '-' : c);
	}
	t[n] = '\0';
	/* once: look for " t " in " tags " */
	const char *h = m->tags.data;
	for (const char *p = h; p && (p = strstr(p, t)); p++)
		if ((p == h || p[-1] == ' ') && (p[n] == ' ' || p[n] == '\0'))
			return;
	if (m->tags.len)
		mx_buf_append(&m->tags, " ", 1);
	mx_buf_append(&m->tags, t, n);
}

/* Items of "[a, b]" or "a, b" or "a b" (or org's ":a:b:"): each handed to
 * fn. */
static void each_listed(const char *v, size_t n, void (*fn)(struct meta *, const char *, size_t),
			struct meta *m, bool spaces_split)
{
	bool colons = memchr(v, ':', n) != NULL && spaces_split;
	while (n && (*v == ' ' || *v == '['))
		v++, n--;
	while (n && (v[n - 1] == ' ' || v[n - 1] == ']' || v[n - 1] == '\r'))
		n--;
	size_t i = 0;
	while (i < n) {
		size_t j = i;
		while (j < n && v[j] != ',' && !(spaces_split && v[j] == ' ') &&
		       !(colons && v[j] == ':'))
			j++;
		fn(m, v + i, j - i);
		i = j + 1;
	}
}

static void add_alias(struct meta *m, const char *s, size_t n)
{
	while (n && (*s == ' ' || *s == '"' || *s == '\''))
		s++, n--;
	while (n && (s[n - 1] == ' ' || s[n - 1] == '"' || s[n - 1] == '\''))
		n--;
	if (!n || n > 128)
		return;
	if (m->aliases.len)
		mx_buf_appends(&m->aliases, ", ");
	mx_buf_append(&m->aliases, s, n);
}

/* Reads a line of the front matter: flat "key: value" pairs, and "- item"
 * lines under tags/aliases. */
static void front_matter_key(struct conn_doc *doc, struct meta *m, const char *s, size_t ll)
{
	size_t i = 0;
	while (i < ll && (s[i] == ' ' || s[i] == '\t'))
		i++;
	if (i < ll && s[i] == '-' && m->list) {
		if (m->list == 1)
			add_tag(m, s + i + 1, ll - i - 1);
		else
			add_alias(m, s + i + 1, ll - i - 1);
		return;
	}
	m->list = 0;
	const char *c = memchr(s, ':', ll);
	if (!c || i > 0)
		return;
	size_t kl = (size_t)(c - s);
	const char *v = c + 1;
	size_t vl = ll - kl - 1;
	bool empty = true;
	for (size_t k = 0; k < vl; k++)
		empty = empty && (v[k] == ' ' || v[k] == '\t' || v[k] == '\r');
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
	} else if ((kl == 4 && !strncasecmp(s, "tags", 4)) ||
		   (kl == 3 && !strncasecmp(s, "tag", 3)) ||
		   (kl == 8 && !strncasecmp(s, "keywords", 8))) {
		if (empty)
			m->list = 1;
		else
			each_listed(v, vl, add_tag, m, !memchr(v, ',', vl));
	} else if ((kl == 7 && !strncasecmp(s, "aliases", 7)) ||
		   (kl == 5 && !strncasecmp(s, "alias", 5))) {
		if (empty)
			m->list = 2;
		else
			each_listed(v, vl, add_alias, m, false);
	}
}

/* If text opens with front matter, reads it and returns the byte offset
 * where the body starts (and the lines skipped); else 0. */
static size_t front_matter(struct conn_doc *doc, struct meta *m, const char *s, size_t n,
			   int64_t *lines)
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
		front_matter_key(doc, m, s + off, ll);
		off += next;
	}
	/* no closing line: not front matter after all */
	free(doc->title);
	free(doc->author);
	doc->title = doc->author = NULL;
	doc->date = 0;
	mx_buf_reset(&m->tags);
	mx_buf_reset(&m->aliases);
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

/* ===================================================================== */
/* the body: headings, inline #tags, [[links]]                           */
/* ===================================================================== */

/* Whether c may be part of an inline tag (letters of any script, digits,
 * '_', '-', '/'). */
static bool tag_char(unsigned char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
	       c == '_' || c == '-' || c == '/' || c >= 0x80;
}

/* Inline "#tag" in a line: after the start or white space or '(', not a
 * heading mark, and not all digits (#123 is an issue number). */
static void line_tags(struct meta *m, const char *l, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		if (l[i] != '#' ||
		    (i > 0 && l[i - 1] != ' ' && l[i - 1] != '\t' && l[i - 1] != '('))
			continue;
		size_t j = i + 1;
		bool alpha = false;
		while (j < n && tag_char((unsigned char)l[j])) {
			alpha = alpha || !(l[j] >= '0' && l[j] <= '9');
			j++;
		}
		if (j > i + 1 && alpha)
			add_tag(m, l + i + 1, j - i - 1);
		i = j;
	}
}

/* "[[target]]", "[[target|alias]]", "[[target#heading]]": the targets. */
static void line_links(struct mx_buf *links, const char *l, size_t n)
{
	for (size_t i = 0; i + 1 < n; i++) {
		if (l[i] != '[' || l[i + 1] != '[')
			continue;
		size_t j = i + 2, end = 0;
		while (j + 1 < n && !(l[j] == ']' && l[j + 1] == ']'))
			j++;
		if (j + 1 >= n)
			break;
		end = j;
		size_t t = i + 2;
		while (t < end && l[t] != '|' && l[t] != '#')
			t++;
		size_t s0 = i + 2;
		while (s0 < t && l[s0] == ' ')
			s0++;
		while (t > s0 && l[t - 1] == ' ')
			t--;
		if (t > s0 && t - s0 <= 256) {
			if (links->len)
				mx_buf_append(links, "\n", 1);
			mx_buf_append(links, l + s0, t - s0);
		}
		i = end + 1;
	}
}

/* The heading a line makes, if any: its level (1-6) and text. Markdown
 * "## Text", org "** Text". */
static int heading_of(const char *l, size_t n, bool org, const char **text, size_t *tlen)
{
	char mark = org ? '*' : '#';
	size_t h = 0;
	while (h < n && l[h] == mark)
		h++;
	if (h == 0 || h >= n || l[h] != ' ' || (!org && h > 6))
		return 0;
	size_t s0 = h + 1, e = n;
	while (e > s0 && (l[e - 1] == ' ' || l[e - 1] == '\r' || (!org && l[e - 1] == '#')))
		e--;
	if (e <= s0)
		return 0;
	*text = l + s0;
	*tlen = e - s0;
	return h > 6 ? 6 : (int)h;
}

static int add_section(struct conn_doc *doc, size_t *cap, size_t start, char *const path[6])
{
	if (doc->nsections == *cap) {
		size_t c = *cap ? *cap * 2 : 16;
		struct conn_section *v = realloc(doc->sections, c * sizeof *v);
		if (!v)
			return MX_ENOMEM;
		doc->sections = v;
		*cap = c;
	}
	size_t n = 0;
	for (int i = 0; i < 6; i++)
		if (path[i])
			n += strlen(path[i]) + 3;
	char *h = malloc(n + 1), *o = h;
	if (!h)
		return MX_ENOMEM;
	for (int i = 0; i < 6; i++) {
		if (!path[i])
			continue;
		if (o > h) {
			memcpy(o, " > ", 3);
			o += 3;
		}
		size_t k = strlen(path[i]);
		memcpy(o, path[i], k);
		o += k;
	}
	*o = '\0';
	doc->sections[doc->nsections++] = (struct conn_section){ start, h, 0 };
	return 0;
}

/* One pass over the body's lines: headings become sections (outside code
 * fences), inline #tags and [[links]] are gathered. */
static int scan_body(struct conn_doc *doc, struct meta *m, struct mx_buf *links, bool org)
{
	char *path[6] = { 0 };
	size_t cap = 0, off = 0, next;
	bool fence = false;
	int rc = 0;
	const char *t = doc->text;
	while (off < doc->text_len && !rc) {
		const char *l = t + off;
		size_t ll = line_at(l, doc->text_len - off, &next);
		if (ll >= 3 && (!memcmp(l, "```", 3) || !memcmp(l, "~~~", 3)))
			fence = !fence;
		else if (org && ll >= 13 && !strncasecmp(l, "#+filetags:", 11))
			each_listed(l + 11, ll - 11, add_tag, m, true);
		else if (!fence) {
			const char *ht;
			size_t hl;
			int level = heading_of(l, ll, org, &ht, &hl);
			if (level) {
				for (int i = level - 1; i < 6; i++) {
					free(path[i]);
					path[i] = NULL;
				}
				path[level - 1] =
					conn_clean_field(strndup(ht, hl > 256 ? 256 : hl));
				rc = add_section(doc, &cap, off, path);
			}
			if (!org || !level)
				line_tags(m, l, ll);
			line_links(links, l, ll);
		}
		off += next;
	}
	for (int i = 0; i < 6; i++)
		free(path[i]);
	return rc;
}

static int note_parse(const char *path, const char *data, size_t len, struct conn_doc *doc)
{
	int rc;
	struct meta m = { 0 };
	struct mx_buf links;
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
	mx_buf_init(&m.tags, 8192);
	mx_buf_init(&m.aliases, 4096);
	mx_buf_init(&links, 256 * 1024);
	const char *ext = strrchr(b, '.');
	bool markdown = ext && (!strcasecmp(ext, ".md") || !strcasecmp(ext, ".markdown") ||
				!strcasecmp(ext, ".mdown") || !strcasecmp(ext, ".mkd"));
	bool org = ext && !strcasecmp(ext, ".org");
	doc->type = markdown || org ? "note" : "text";
	doc->line_base = 0;
	size_t body = front_matter(doc, &m, doc->text, doc->text_len, &doc->line_base);
	if (body) {
		memmove(doc->text, doc->text + body, doc->text_len - body + 1);
		doc->text_len -= body;
	}
	if (markdown || org)
		rc = scan_body(doc, &m, &links, org);
	if (!rc && !doc->title)
		doc->title = find_title(doc->text, doc->text_len);
	doc->title = conn_clean_field(doc->title);
	doc->author = conn_clean_field(doc->author);
	if (!doc->title)
		doc->title = conn_clean_field(title_from_name(path));
	if (!doc->title)
		doc->title = strdup("(untitled)");
	if (!doc->title)
		rc = MX_ENOMEM;
	/* aliases join the title, so that a search by any name finds it */
	if (!rc && m.aliases.len) {
		size_t n = strlen(doc->title) + m.aliases.len + 16;
		char *t = malloc(n);
		if (t) {
			snprintf(t, n, "%s (also: %s)", doc->title, m.aliases.data);
			free(doc->title);
			doc->title = t;
		}
	}
	if (!rc && m.tags.len && !(doc->tags = mx_buf_detach(&m.tags)))
		rc = MX_ENOMEM;
	if (!rc && links.len && !(doc->links = mx_buf_detach(&links)))
		rc = MX_ENOMEM;
	mx_buf_free(&m.tags);
	mx_buf_free(&m.aliases);
	mx_buf_free(&links);
	return rc;
}

const struct conn_ops conn_note_ops = { "note", note_parse };
