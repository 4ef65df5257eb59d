/*
 * builder.c - build a document's text with sections (see conn.h).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "../common/status.h"
#include "../common/utf8.h"
#include "conn.h"

double conn_now(void)
{
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

void conn_builder_init(struct conn_builder *b, size_t max, double deadline)
{
	memset(b, 0, sizeof *b);
	b->max = max;
	b->deadline = deadline;
}

void conn_builder_free(struct conn_builder *b)
{
	free(b->text);
	for (size_t i = 0; i < 6; i++)
		free(b->path[i]);
	for (size_t i = 0; i < b->nsecs; i++)
		free(b->secs[i].heading);
	free(b->secs);
	memset(b, 0, sizeof *b);
}

/* Checks the deadline every so often (a clock read is not free). */
static int tick(struct conn_builder *b)
{
	if (b->deadline > 0 && (++b->ticks & 255) == 0 && conn_now() > b->deadline)
		return MX_ETOOBIG;
	return 0;
}

static int put(struct conn_builder *b, const char *s, size_t n)
{
	if (b->truncated)
		return 0;
	if (n > b->max - b->len) {
		n = mx_utf8_floor(s, b->max - b->len);
		b->truncated = true;
	}
	if (b->len + n + 1 > b->cap) {
		size_t c = b->cap ? b->cap : 4096;
		while (c < b->len + n + 1)
			c *= 2;
		char *p = realloc(b->text, c);
		if (!p)
			return MX_ENOMEM;
		b->text = p;
		b->cap = c;
	}
	memcpy(b->text + b->len, s, n);
	b->len += n;
	b->text[b->len] = '\0';
	return 0;
}

/* Emits what separation is pending before new text. */
static int flush(struct conn_builder *b)
{
	int rc = 0;
	if (b->len == 0) {
		b->pending = 0;
		b->space = false;
		return 0;
	}
	if (b->pending)
		rc = put(b, b->pending > 1 ? "\n\n" : "\n", b->pending > 1 ? 2 : 1);
	else if (b->space)
		rc = put(b, " ", 1);
	b->pending = 0;
	b->space = false;
	return rc;
}

static bool is_blank(unsigned char c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v';
}

int conn_builder_text(struct conn_builder *b, const char *s, size_t n)
{
	int rc = tick(b);
	if (rc)
		return rc;
	/* repair first: formats may carry invalid bytes */
	char *fixed = NULL;
	size_t flen = 0;
	if (!mx_utf8_is_valid(s, n)) {
		if ((rc = mx_utf8_repair(s, n, &fixed, &flen, NULL)))
			return rc;
		s = fixed, n = flen;
	}
	size_t i = 0;
	while (i < n && !rc) {
		if (is_blank((unsigned char)s[i]) || s[i] == '\0') {
			b->space = true;
			i++;
			continue;
		}
		size_t j = i;
		while (j < n && !is_blank((unsigned char)s[j]) && s[j] != '\0')
			j++;
		if (!(rc = flush(b)))
			rc = put(b, s + i, j - i);
		i = j;
	}
	free(fixed);
	return rc;
}

int conn_builder_raw(struct conn_builder *b, const char *s, size_t n)
{
	int rc = tick(b);
	char *fixed = NULL;
	size_t flen = 0;
	if (rc)
		return rc;
	if (!mx_utf8_is_valid(s, n)) {
		if ((rc = mx_utf8_repair(s, n, &fixed, &flen, NULL)))
			return rc;
		s = fixed, n = flen;
	}
	if (!(rc = flush(b)))
		rc = put(b, s, n);
	free(fixed);
	return rc;
}

int conn_builder_space(struct conn_builder *b)
{
	b->space = true;
	return 0;
}

int conn_builder_line(struct conn_builder *b)
{
	if (b->pending < 1)
		b->pending = 1;
	return 0;
}

int conn_builder_paragraph(struct conn_builder *b)
{
	b->pending = 2;
	return 0;
}

/* The heading path as "A > B > C", malloc'd; NULL when empty. */
static char *path_string(const struct conn_builder *b)
{
	size_t n = 0;
	for (int i = 0; i < 6; i++)
		if (b->path[i])
			n += strlen(b->path[i]) + 3;
	if (!n)
		return NULL;
	char *s = malloc(n + 1), *o = s;
	if (!s)
		return NULL;
	for (int i = 0; i < 6; i++) {
		if (!b->path[i])
			continue;
		if (o > s) {
			memcpy(o, " > ", 3);
			o += 3;
		}
		size_t k = strlen(b->path[i]);
		memcpy(o, b->path[i], k);
		o += k;
	}
	*o = '\0';
	return s;
}

/* Starts a section at the current end of the text. */
static int section(struct conn_builder *b)
{
	if (b->nsecs == b->secs_cap) {
		size_t c = b->secs_cap ? b->secs_cap * 2 : 16;
		struct conn_section *v = realloc(b->secs, c * sizeof *v);
		if (!v)
			return MX_ENOMEM;
		b->secs = v;
		b->secs_cap = c;
	}
	/* the section starts where its text will: after pending breaks */
	size_t start = b->len + (b->len ? (size_t)b->pending : 0);
	struct conn_section s = { start, path_string(b), b->page };
	/* a section with no text yet is replaced, not stacked */
	if (b->nsecs && b->secs[b->nsecs - 1].start >= start) {
		free(b->secs[b->nsecs - 1].heading);
		b->secs[b->nsecs - 1] = s;
	} else {
		b->secs[b->nsecs++] = s;
	}
	return 0;
}

int conn_builder_heading(struct conn_builder *b, int level, const char *title)
{
	if (level < 1)
		level = 1;
	if (level > 6)
		level = 6;
	for (int i = level - 1; i < 6; i++) {
		free(b->path[i]);
		b->path[i] = NULL;
	}
	/* the title, folded to one line and capped */
	char *t = title ? conn_clean_field(strndup(title, 256)) : NULL;
	b->path[level - 1] = t;
	int rc;
	if ((rc = conn_builder_paragraph(b)) || (rc = section(b)))
		return rc;
	if (t && (rc = conn_builder_text(b, t, strlen(t))))
		return rc;
	return conn_builder_paragraph(b);
}

int conn_builder_page(struct conn_builder *b, int page)
{
	b->page = page;
	conn_builder_paragraph(b);
	return section(b);
}

int conn_builder_finish(struct conn_builder *b, struct conn_doc *doc)
{
	if (!b->text) {
		int rc = put(b, "", 0);
		if (rc)
			return rc;
	}
	/* sections that start past the end (a trailing heading with no text)
	 * are dropped */
	while (b->nsecs && b->secs[b->nsecs - 1].start > b->len) {
		free(b->secs[b->nsecs - 1].heading);
		b->nsecs--;
	}
	if (b->truncated && !doc->note[0])
		snprintf(doc->note, sizeof doc->note, "text cut at %zu bytes", b->max);
	free(doc->text);
	doc->text = b->text;
	doc->text_len = b->len;
	doc->sections = b->secs;
	doc->nsections = b->nsecs;
	b->text = NULL;
	b->secs = NULL;
	b->nsecs = 0;
	conn_builder_free(b);
	return 0;
}
