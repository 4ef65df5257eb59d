/*
 * quote.c - find the parts of a message that repeat other messages:
 * quoted replies, their "On ... wrote:" attributions, Outlook's
 * "-----Original Message-----" blocks, and signatures.
 *
 * Outline: one pass over the lines. A run of lines that start with '>'
 * (after optional blanks), with the blank lines inside it, is a quote; an
 * attribution line (or two) right before it joins it. An Outlook header
 * line, or a "From:" line after a line of underscores, starts a block
 * that runs to the end. A "-- " line (the standard signature separator,
 * or "--" as clients that trim spaces send it) starts the signature,
 * which runs to the end when at most 20 lines follow.
 */
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "../common/status.h"
#include "conn.h"

#define SIG_MAX_LINES 20

struct line {
	size_t start, end; /* without the newline */
	size_t next;	   /* start of the next line */
};

static bool blank(const char *t, const struct line *l)
{
	for (size_t i = l->start; i < l->end; i++)
		if (t[i] != ' ' && t[i] != '\t' && t[i] != '\r')
			return false;
	return true;
}

static bool quoted(const char *t, const struct line *l)
{
	size_t i = l->start;
	while (i < l->end && (t[i] == ' ' || t[i] == '\t'))
		i++;
	return i < l->end && t[i] == '>';
}

static size_t trimmed_end(const char *t, const struct line *l)
{
	size_t e = l->end;
	while (e > l->start && (t[e - 1] == ' ' || t[e - 1] == '\t' || t[e - 1] == '\r'))
		e--;
	return e;
}

static bool ends_with(const char *t, const struct line *l, const char *suffix)
{
	size_t e = trimmed_end(t, l), n = strlen(suffix);
	return e - l->start >= n && !strncasecmp(t + e - n, suffix, n);
}

static bool starts_with(const char *t, const struct line *l, const char *prefix)
{
	size_t n = strlen(prefix);
	return l->end - l->start >= n && !strncasecmp(t + l->start, prefix, n);
}

/* "On Tue, 3 Nov 2026, Anna wrote:" and its common translations. */
static bool attribution_end(const char *t, const struct line *l)
{
	static const char *const ends[] = { "wrote:",	"writes:",   "a écrit :", "a écrit:",
					    "schrieb:", "escribió:", "scrisse:",  "skrev:",
					    "schreef:", NULL };
	for (size_t i = 0; ends[i]; i++)
		if (ends_with(t, l, ends[i]))
			return true;
	return false;
}

static bool outlook_header(const char *t, const struct line *l)
{
	size_t i = l->start;
	while (i < l->end && (t[i] == ' ' || t[i] == '\t'))
		i++;
	struct line m = { i, l->end, l->next };
	return starts_with(t, &m, "-----Original Message-----") ||
	       starts_with(t, &m, "----- Original Message -----") ||
	       starts_with(t, &m, "-----Ursprüngliche Nachricht-----") ||
	       starts_with(t, &m, "-----Message d'origine-----");
}

static bool underscores(const char *t, const struct line *l)
{
	size_t n = 0;
	for (size_t i = l->start; i < l->end; i++) {
		if (t[i] != '_' && t[i] != '\r')
			return false;
		n += t[i] == '_';
	}
	return n >= 20;
}

static int push(struct conn_span **v, size_t *n, size_t *cap, size_t s, size_t e)
{
	if (*n && (*v)[*n - 1].end >= s) { /* merge with the previous span */
		if (e > (*v)[*n - 1].end)
			(*v)[*n - 1].end = e;
		return 0;
	}
	if (*n == *cap) {
		size_t c = *cap ? *cap * 2 : 8;
		struct conn_span *nv = realloc(*v, c * sizeof *nv);
		if (!nv)
			return MX_ENOMEM;
		*v = nv;
		*cap = c;
	}
	(*v)[(*n)++] = (struct conn_span){ s, e };
	return 0;
}

int conn_find_quotes(const char *t, size_t len, struct conn_span **spans, size_t *nspans)
{
	struct line *ls = NULL;
	size_t nl = 0, cap = 0;
	struct conn_span *v = NULL;
	size_t n = 0, vcap = 0;
	int rc = 0;
	*spans = NULL;
	*nspans = 0;
	for (size_t i = 0; i < len;) {
		const char *nlp = memchr(t + i, '\n', len - i);
		size_t e = nlp ? (size_t)(nlp - t) : len;
		if (nl == cap) {
			size_t c = cap ? cap * 2 : 64;
			struct line *nv = realloc(ls, c * sizeof *nv);
			if (!nv) {
				rc = MX_ENOMEM;
				goto out;
			}
			ls = nv;
			cap = c;
		}
		ls[nl++] = (struct line){ i, e, nlp ? e + 1 : len };
		i = nlp ? e + 1 : len;
	}
	for (size_t i = 0; i < nl && !rc; i++) {
		const struct line *l = &ls[i];
		/* blocks that run to the end */
		bool sig = (l->end - l->start == 3 && !strncmp(t + l->start, "-- ", 3)) ||
			   (trimmed_end(t, l) - l->start == 2 && !strncmp(t + l->start, "--", 2));
		if ((sig && nl - i - 1 <= SIG_MAX_LINES) || outlook_header(t, l) ||
		    (underscores(t, l) && i + 1 < nl && starts_with(t, &ls[i + 1], "From:"))) {
			rc = push(&v, &n, &vcap, l->start, len);
			break;
		}
		if (!quoted(t, l))
			continue;
		/* a quote block: '>' lines and blank lines between them */
		size_t j = i;
		while (j + 1 < nl &&
		       (quoted(t, &ls[j + 1]) ||
			(blank(t, &ls[j + 1]) && j + 2 < nl && quoted(t, &ls[j + 2]))))
			j++;
		size_t start = l->start;
		/* the attribution: the non-blank line(s) just before */
		size_t k = i;
		while (k > 0 && blank(t, &ls[k - 1]) && k + 2 > i)
			k--;
		if (k > 0 && attribution_end(t, &ls[k - 1])) {
			start = ls[k - 1].start;
			if (k > 1 && !blank(t, &ls[k - 2]) && starts_with(t, &ls[k - 2], "On ") &&
			    !starts_with(t, &ls[k - 1], "On "))
				start = ls[k - 2].start; /* "On ...,\n Anna wrote:" */
		}
		rc = push(&v, &n, &vcap, start, ls[j].next);
		i = j;
	}
out:
	free(ls);
	if (rc) {
		free(v);
		return rc;
	}
	*spans = v;
	*nspans = n;
	return 0;
}
