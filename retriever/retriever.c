/*
 * retriever.c - query parsing, BM25 search and citations.
 */
#include "retriever.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "../common/buf.h"
#include "../common/status.h"

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

/* Word characters: ASCII letters and digits, and every non-ASCII byte
 * (the FTS5 tokenizer decides what a non-ASCII word is). */
static bool is_word(unsigned char c)
{
	return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	       c == '_' || c >= 0x80;
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
			for (size_t k = i + 1; k < j; k++)
				has_word = has_word || is_word((unsigned char)query[k]);
			if (has_word) {
				if (terms++)
					*rc = mx_buf_appends(&b, joiner);
				if (!*rc)
					*rc = append_quoted(&b, query + i + 1, j - i - 1);
			}
			i = j + 1;
			continue;
		}
		if (!is_word(c)) {
			i++;
			continue;
		}
		size_t j = i;
		while (j < n && is_word((unsigned char)query[j]))
			j++;
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

int ret_search(struct store *st, const char *query, const struct ret_params *p,
	       struct ret_result *res)
{
	int rc;
	memset(res, 0, sizeof *res);
	res->match = ret_query_to_fts(query, p->question, p->question, &rc);
	if (!res->match)
		return rc;
	rc = store_fts_search(st, res->match, p->limit, p->per_doc, p->snippet_tokens, &res->hits,
			      &res->n);
	if (!rc && res->n == 0 && !p->question) {
		char *any = ret_query_to_fts(query, true, false, &rc);
		if (!any)
			return rc;
		free(res->match);
		res->match = any;
		res->relaxed = true;
		rc = store_fts_search(st, res->match, p->limit, p->per_doc, p->snippet_tokens,
				      &res->hits, &res->n);
	}
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
	if (h->line_start > 0 && h->line_end >= h->line_start)
		snprintf(buf, n, "%s%s%s:%lld-%lld", h->source_path, sep, h->path,
			 (long long)h->line_start, (long long)h->line_end);
	else
		snprintf(buf, n, "%s%s%s", h->source_path, sep, h->path);
}
