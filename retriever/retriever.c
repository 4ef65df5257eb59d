/*
 * retriever.c - query parsing, BM25 search and citations.
 */
#include "retriever.h"

#include <glib.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "../common/buf.h"
#include "../common/status.h"
#include "../common/utf8.h"

#define RET_MAX_TERMS 64
#define RET_MAX_QUERY 4096

struct ret_params ret_params_default(void)
{
	return (struct ret_params){ .limit = 10, .per_doc = true, .snippet_tokens = 24 };
}

/* Words too common to help a BM25 ranking of a question. */
static const char *const stopwords[] = {
	"a",	 "about", "an",	    "and",    "are",  "as",   "at",    "be",	"by",	 "can",
	"could", "did",	  "do",	    "does",   "for",  "from", "had",   "has",	"have",	 "how",
	"i",	 "if",	  "in",	    "is",     "it",   "its",  "me",    "my",	"of",	 "on",
	"or",	 "our",	  "please", "should", "tell", "that", "the",   "their", "there", "this",
	"to",	 "was",	  "we",	    "were",   "what", "when", "where", "which", "who",	 "whom",
	"why",	 "will",  "with",   "would",  "you",  "your",
};

static bool is_stopword(const char *w, size_t n)
{
	for (size_t i = 0; i < sizeof stopwords / sizeof stopwords[0]; i++)
		if (strlen(stopwords[i]) == n && !strncasecmp(w, stopwords[i], n))
			return true;
	return false;
}

/* The length of the word character at s (a letter or digit in any
 * script, as FTS5's unicode61 tokenizer sees them), or 0. */
static size_t word_char(const char *s, size_t n)
{
	uint32_t cp = 0;
	size_t k = mx_utf8_decode((const unsigned char *)s, n, &cp);
	return k && g_unichar_isalnum((gunichar)cp) ? k : 0;
}

static bool is_word(const char *s, size_t n)
{
	return word_char(s, n) > 0;
}

/* Appends s[0..n) as an FTS5 string: double quotes doubled. */
static int append_quoted(struct mx_buf *b, const char *s, size_t n)
{
	int rc = mx_buf_append(b, "\"", 1);
	for (size_t i = 0; i < n && !rc; i++)
		rc = s[i] == '"' ? mx_buf_append(b, "\"\"", 2) : mx_buf_append(b, s + i, 1);
	return rc ? rc : mx_buf_append(b, "\"", 1);
}

char *ret_query_to_fts(const char *query, bool any, bool drop_stopwords, int *rc)
{
	struct mx_buf b;
	mx_buf_init(&b, RET_MAX_QUERY * 4);
	size_t n = strlen(query), i = 0, terms = 0;
	const char *joiner = any ? " OR " : " AND ";
	*rc = 0;
	if (n > RET_MAX_QUERY)
		n = RET_MAX_QUERY;
	while (i < n && terms < RET_MAX_TERMS && !*rc) {
		unsigned char c = (unsigned char)query[i];
		if (c == '"') {
			/* a phrase: the words up to the closing quote */
			const char *end = memchr(query + i + 1, '"', n - i - 1);
			size_t j = end ? (size_t)(end - query) : n;
			bool has_word = false;
			for (size_t k = i + 1; k < j && !has_word; k++)
				has_word = is_word(query + k, j - k);
			if (has_word) {
				if (terms++)
					*rc = mx_buf_appends(&b, joiner);
				if (!*rc)
					*rc = append_quoted(&b, query + i + 1, j - i - 1);
			}
			i = j + 1;
			continue;
		}
		if (!is_word(query + i, n - i)) {
			i++;
			continue;
		}
		size_t j = i, w;
		while (j < n && (w = word_char(query + j, n - j)))
			j += w;
		bool prefix = j < n && query[j] == '*';
		if (!(drop_stopwords && !prefix && is_stopword(query + i, j - i))) {
			if (terms++)
				*rc = mx_buf_appends(&b, joiner);
			if (!*rc)
				*rc = append_quoted(&b, query + i, j - i);
			if (!*rc && prefix)
				*rc = mx_buf_append(&b, "*", 1);
		}
		i = j + prefix;
	}
	if (*rc) {
		mx_buf_free(&b);
		*rc = MX_ENOMEM;
		return NULL;
	}
	if (!terms) {
		mx_buf_free(&b);
		/* a question of stop words only: search them after all */
		if (drop_stopwords)
			return ret_query_to_fts(query, any, false, rc);
		*rc = MX_EEMPTY;
		return NULL;
	}
	return mx_buf_detach(&b);
}

/* ===================================================================== */
/* filters                                                               */
/* ===================================================================== */

/* Parses YYYY, YYYY-MM or YYYY-MM-DD; *next is the start of the following
 * period (for before:/after: of a whole month or year). */
static int parse_day(const char *s, int64_t *start, int64_t *next)
{
	int y = 0, m = 1, d = 1, n = 0;
	char tail = 0;
	int got = sscanf(s, "%4d%n-%2d%n-%2d%n%c", &y, &n, &m, &n, &d, &n, &tail);
	if (got < 1 || s[n] != '\0' || y < 1900 || y > 9999 || m < 1 || m > 12 || d < 1 || d > 31)
		return MX_EINVAL;
	size_t len = strlen(s);
	struct tm a = { .tm_year = y - 1900, .tm_mon = m - 1, .tm_mday = d };
	struct tm b = a;
	if (len == 4)
		b.tm_year++;
	else if (len == 7)
		b.tm_mon++;
	else
		b.tm_mday++;
	*start = (int64_t)timegm(&a);
	*next = (int64_t)timegm(&b);
	return 0;
}

void ret_query_clear(struct ret_query *q)
{
	free(q->text);
	free(q->subject);
	free(q->from);
	free(q->to);
	free(q->folder);
	free(q->type);
	free(q->tag);
	memset(q, 0, sizeof *q);
}

int ret_query_parse(const char *query, struct ret_query *q, char *err, size_t errsz)
{
	static const char *const keys[] = { "from",   "to",  "subject", "folder", "type", "after",
					    "before", "has", "is",	"tag",	  NULL };
	struct mx_buf text;
	int rc = 0;
	memset(q, 0, sizeof *q);
	mx_buf_init(&text, RET_MAX_QUERY);
	size_t n = strlen(query);
	for (size_t i = 0; i < n && !rc;) {
		while (i < n && (query[i] == ' ' || query[i] == '\t'))
			i++;
		if (i >= n)
			break;
		/* a token: up to white space, with "quoted" parts kept whole */
		size_t j = i;
		bool inq = false;
		while (j < n && (inq || (query[j] != ' ' && query[j] != '\t'))) {
			inq ^= query[j] == '"';
			j++;
		}
		const char *colon = memchr(query + i, ':', j - i);
		size_t k = colon ? (size_t)(colon - (query + i)) : 0;
		int which = -1;
		for (int w = 0; colon && keys[w]; w++)
			if (strlen(keys[w]) == k && !strncasecmp(query + i, keys[w], k))
				which = w;
		if (which < 0 || colon + 1 >= query + j) {
			/* plain words */
			if (text.len)
				rc = mx_buf_append(&text, " ", 1);
			if (!rc)
				rc = mx_buf_append(&text, query + i, j - i);
			i = j;
			continue;
		}
		/* the value, without its quotes */
		const char *v = colon + 1;
		size_t vl = (size_t)(query + j - v);
		if (vl >= 2 && v[0] == '"' && v[vl - 1] == '"')
			v++, vl -= 2;
		char *val = strndup(v, vl);
		if (!val) {
			rc = MX_ENOMEM;
			break;
		}
		q->has_filter = true;
		char **slot = NULL;
		switch (which) {
		case 0: slot = &q->from; break;
		case 1: slot = &q->to; break;
		case 2: slot = &q->subject; break;
		case 3: slot = &q->folder; break;
		case 4: slot = &q->type; break;
		case 9: slot = &q->tag; break;
		case 5:
		case 6: {
			int64_t a, b;
			if (parse_day(val, &a, &b)) {
				snprintf(err, errsz,
					 "'%s' is not a date (YYYY-MM-DD, YYYY-MM or YYYY)", val);
				rc = MX_EINVAL;
			} else if (which == 5) {
				q->filter.after = a;
			} else {
				q->filter.before = a;
			}
			free(val);
			break;
		}
		case 7:
			if (!strcasecmp(val, "attachment") || !strcasecmp(val, "attachments")) {
				q->filter.has_attachment = true;
			} else {
				snprintf(err, errsz, "unknown has:%s (has:attachment)", val);
				rc = MX_EINVAL;
			}
			free(val);
			break;
		default:
			if (!strcasecmp(val, "unread")) {
				q->filter.unread = true;
			} else {
				snprintf(err, errsz, "unknown is:%s (is:unread)", val);
				rc = MX_EINVAL;
			}
			free(val);
			break;
		}
		if (slot) {
			free(*slot); /* the last of a repeated filter wins */
			*slot = val;
		}
		i = j;
	}
	if (!rc && !(q->text = mx_buf_detach(&text)))
		rc = MX_ENOMEM;
	mx_buf_free(&text);
	if (rc) {
		ret_query_clear(q);
		return rc;
	}
	q->filter.from = q->from;
	q->filter.to = q->to;
	q->filter.folder = q->folder;
	q->filter.type = q->type;
	q->filter.tag = q->tag;
	return 0;
}

/* The MATCH expression for the query's words and subject: words, then
 * "title : term" for each subject word; NULL with MX_EEMPTY when there are
 * none. */
static char *build_match(const struct ret_query *q, bool any, bool drop_stop, int *rc)
{
	int trc = 0, src = MX_EEMPTY;
	char *t = q->text[0] ? ret_query_to_fts(q->text, any, drop_stop, &trc) : NULL;
	char *s = q->subject ? ret_query_to_fts(q->subject, false, false, &src) : NULL;
	if ((!t && trc == MX_ENOMEM) || (!s && src == MX_ENOMEM)) {
		free(t);
		free(s);
		*rc = MX_ENOMEM;
		return NULL;
	}
	if (!s) {
		*rc = t ? 0 : MX_EEMPTY;
		return t;
	}
	/* every subject term restricted to the title column */
	struct mx_buf b;
	mx_buf_init(&b, RET_MAX_QUERY * 8);
	int r = 0;
	if (t)
		r = mx_buf_appendf(&b, "(%s) AND ", t);
	r = r ? r : mx_buf_appends(&b, "title : (");
	r = r ? r : mx_buf_appends(&b, s);
	r = r ? r : mx_buf_appends(&b, ")");
	free(t);
	free(s);
	if (r) {
		mx_buf_free(&b);
		*rc = MX_ENOMEM;
		return NULL;
	}
	*rc = 0;
	return mx_buf_detach(&b);
}

int ret_search(struct store *st, const char *query, const struct ret_params *p,
	       struct ret_result *res)
{
	struct ret_query q;
	int rc;
	memset(res, 0, sizeof *res);
	if ((rc = ret_query_parse(query, &q, res->err, sizeof res->err)))
		return rc;
	res->match = build_match(&q, p->question, p->question, &rc);
	if (!res->match) {
		if (rc == MX_EEMPTY && q.has_filter)
			rc = store_filter_list(st, &q.filter, p->limit, &res->hits, &res->n);
		ret_query_clear(&q);
		return rc;
	}
	rc = store_fts_search(st, res->match, &q.filter, p->limit, p->per_doc, p->snippet_tokens,
			      &res->hits, &res->n);
	if (!rc && res->n == 0 && !p->question && q.text[0]) {
		char *any = build_match(&q, true, false, &rc);
		if (any) {
			free(res->match);
			res->match = any;
			res->relaxed = true;
			rc = store_fts_search(st, res->match, &q.filter, p->limit, p->per_doc,
					      p->snippet_tokens, &res->hits, &res->n);
		}
	}
	ret_query_clear(&q);
	return rc;
}

void ret_result_clear(struct ret_result *res)
{
	store_hits_free(res->hits, res->n);
	free(res->match);
	memset(res, 0, sizeof *res);
}

void ret_citation(const struct store_hit *h, char *buf, size_t n)
{
	if (h->parent_message_id && h->type && strcmp(h->type, "mail")) {
		snprintf(buf, n, "attachment '%s' of <%s>", h->title ? h->title : "?",
			 h->parent_message_id);
		return;
	}
	if (h->type && !strcmp(h->type, "mail")) {
		char date[16] = "";
		if (h->date) {
			time_t t = (time_t)h->date;
			struct tm tm;
			if (gmtime_r(&t, &tm))
				strftime(date, sizeof date, "%Y-%m-%d", &tm);
		}
		snprintf(buf, n, "<%s> %s, %s%s%s", h->message_id ? h->message_id : "?",
			 h->title && *h->title ? h->title : "(no subject)",
			 h->author ? h->author : "(unknown sender)", date[0] ? ", " : "", date);
		return;
	}
	const char *sep = h->path && h->path[0] ? "/" : "";
	char lines[48] = "", page[32] = "";
	if (h->line_start > 0 && h->line_end >= h->line_start)
		snprintf(lines, sizeof lines, ":%lld-%lld", (long long)h->line_start,
			 (long long)h->line_end);
	if (h->page_start > 0)
		snprintf(page, sizeof page, " p. %d", h->page_start);
	snprintf(buf, n, "%s%s%s%s%s%s%s", h->source_path, sep, h->path, lines, page,
		 h->heading && *h->heading ? " \u00a7 " : "", h->heading ? h->heading : "");
}
