/*
 * convo.c - conversation turns and the rewrite of follow-up questions into
 * standalone queries (see convo.h).
 */
#include "convo.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "../common/buf.h"
#include "../common/status.h"
#include "../common/utf8.h"
#include "retriever_int.h"

#define ADD_WORDS    8	 /* words a follow-up gains from the previous query */
#define PROMPT_TURNS 4	 /* turns shown to a model for the rewrite */
#define REPLY_MAX    300 /* bytes of a model's query */

struct ret_convo {
	struct ret_convo_turn t[RET_CONVO_TURNS];
	size_t n;
};

int ret_convo_new(struct ret_convo **out)
{
	*out = calloc(1, sizeof **out);
	return *out ? 0 : MX_ENOMEM;
}

static void turn_clear(struct ret_convo_turn *t)
{
	free(t->question);
	free(t->query);
	free(t->person);
	free(t->topic);
	memset(t, 0, sizeof *t);
}

void ret_convo_clear(struct ret_convo *c)
{
	for (size_t i = 0; c && i < c->n; i++)
		turn_clear(&c->t[i]);
	if (c)
		c->n = 0;
}

void ret_convo_free(struct ret_convo *c)
{
	ret_convo_clear(c);
	free(c);
}

const struct ret_convo_turn *ret_convo_turns(const struct ret_convo *c, size_t *n)
{
	*n = c->n;
	return c->t;
}

static char *dup_cut(const char *s)
{
	size_t n = s ? strnlen(s, RET_CONVO_TEXT) : 0;
	n = mx_utf8_floor(s ? s : "", n);
	char *d = malloc(n + 1);
	if (d) {
		if (n)
			memcpy(d, s, n);
		d[n] = '\0';
	}
	return d;
}

int ret_convo_add(struct ret_convo *c, const char *question, const char *query, const char *person,
		  const char *topic)
{
	struct ret_convo_turn t = { dup_cut(question), dup_cut(query), dup_cut(person),
				    dup_cut(topic) };
	if (!t.question || !t.query || !t.person || !t.topic) {
		turn_clear(&t);
		return MX_ENOMEM;
	}
	if (c->n == RET_CONVO_TURNS) {
		turn_clear(&c->t[0]);
		memmove(c->t, c->t + 1, (RET_CONVO_TURNS - 1) * sizeof c->t[0]);
		c->n--;
	}
	c->t[c->n++] = t;
	return 0;
}

/* ===================================================================== */
/* the rule                                                              */
/* ===================================================================== */

static const char *const personal[] = { "she",	"he",	"her",	 "him",	   "his", "hers",
					"they", "them", "their", "theirs", NULL };
static const char *const other_refs[] = { "it",	   "its",  "this", "that", "these", "those",
					  "there", "then", "one",  "same", NULL };
static const char *const openers[] = { "and", "also", "but", "so", NULL };
/* Question words and fillers: not content. */
static const char *const fillers[] = { "what",	"when",	 "where", "who",  "whom", "why",
				       "how",	"which", "did",	  "does", "do",	  "is",
				       "are",	"was",	 "were",  "much", "many", "about",
				       "again", "else",	 "then",  "ok",	  "okay", NULL };

static bool in_list(const char *w, size_t n, const char *const *list)
{
	for (size_t i = 0; list[i]; i++)
		if (strlen(list[i]) == n && !strncasecmp(w, list[i], n))
			return true;
	return false;
}

/* The next word of s at *i (letters, digits, '-', '\'' and bytes of
 * UTF-8 sequences): its start and length, 0 at the end. */
static size_t next_word(const char *s, size_t *i, size_t *start)
{
	while (s[*i] && !(isalnum((unsigned char)s[*i]) || (unsigned char)s[*i] >= 0x80))
		(*i)++;
	*start = *i;
	while (s[*i] && (isalnum((unsigned char)s[*i]) || (unsigned char)s[*i] >= 0x80 ||
			 ((s[*i] == '-' || s[*i] == '\'') && isalnum((unsigned char)s[*i + 1]))))
		(*i)++;
	return *i - *start;
}

static bool is_content(const char *w, size_t n)
{
	return !ret_is_stopword(w, n) && !in_list(w, n, fillers) && !in_list(w, n, personal) &&
	       !in_list(w, n, other_refs) && !in_list(w, n, openers) &&
	       (n > 1 || isdigit((unsigned char)w[0]));
}

/* Whether s holds word w[0, n) (case-insensitive). */
static bool has_word(const char *s, const char *w, size_t n)
{
	size_t i = 0, st, l;
	while ((l = next_word(s, &i, &st)))
		if (l == n && !strncasecmp(s + st, w, n))
			return true;
	return false;
}

struct look {
	bool personal, other, opener;
	size_t content;
};

static struct look look_at(const char *q)
{
	struct look k = { 0 };
	size_t i = 0, st, l, nth = 0;
	while ((l = next_word(q, &i, &st))) {
		if (in_list(q + st, l, personal))
			k.personal = true;
		else if (in_list(q + st, l, other_refs))
			k.other = true;
		else if (is_content(q + st, l))
			k.content++;
		if (nth++ == 0 && in_list(q + st, l, openers))
			k.opener = true;
	}
	if (!strncasecmp(q, "what about", 10) || !strncasecmp(q, "how about", 9))
		k.opener = true;
	return k;
}

bool ret_convo_is_followup(const struct ret_convo *c, const char *q)
{
	if (!c->n)
		return false;
	struct look k = look_at(q);
	return k.opener || k.personal || k.other || k.content < 2;
}

int ret_convo_rewrite(const struct ret_convo *c, const char *q, char **out, bool *rewritten)
{
	struct mx_buf b;
	*rewritten = false;
	mx_buf_init(&b, 2 * RET_CONVO_TEXT);
	if (!ret_convo_is_followup(c, q)) {
		*out = dup_cut(q);
		return *out ? 0 : MX_ENOMEM;
	}
	const struct ret_convo_turn *prev = &c->t[c->n - 1];
	struct look k = look_at(q);
	int rc = 0;
	/* the question without its leading "and" */
	size_t i = 0, st, l;
	l = next_word(q, &i, &st);
	const char *body = l && in_list(q + st, l, openers) ? q + i : q;
	while (*body == ' ' || *body == ',')
		body++;
	rc = mx_buf_appends(&b, body);
	/* the person the last answer was about */
	if (!rc && k.personal && prev->person[0] &&
	    !has_word(q, prev->person, strcspn(prev->person, " ")))
		rc = mx_buf_appendf(&b, " %s", prev->person);
	/* the previous query's content words this one lacks */
	size_t added = 0;
	i = 0;
	while (!rc && added < ADD_WORDS && (l = next_word(prev->query, &i, &st))) {
		const char *w = prev->query + st;
		if (!is_content(w, l) || has_word(b.data ? b.data : "", w, l))
			continue;
		rc = mx_buf_appendf(&b, " %.*s", (int)l, w);
		added++;
	}
	if (rc) {
		mx_buf_free(&b);
		return MX_ENOMEM;
	}
	*out = mx_buf_detach(&b);
	if (!*out)
		*out = dup_cut(q);
	if (!*out)
		return MX_ENOMEM;
	*rewritten = strcmp(*out, q) != 0;
	return 0;
}

/* ===================================================================== */
/* the model's rewrite                                                   */
/* ===================================================================== */

static const char rewrite_system[] =
	"You rewrite the user's last question as one standalone search query for their personal "
	"mail and documents. Resolve pronouns and references (she, it, that, there) from the "
	"conversation. Keep names, dates and key words. Reply with the query only, on one line.";

int ret_convo_prompt(const struct ret_convo *c, const char *q, const char **system, char **user)
{
	struct mx_buf b;
	int rc = 0;
	mx_buf_init(&b, 8 * RET_CONVO_TEXT);
	*system = rewrite_system;
	size_t from = c->n > PROMPT_TURNS ? c->n - PROMPT_TURNS : 0;
	if (c->n)
		rc = mx_buf_appends(&b, "Conversation so far:\n");
	for (size_t i = from; i < c->n && !rc; i++) {
		const struct ret_convo_turn *t = &c->t[i];
		rc = mx_buf_appendf(&b, "User: %s\n", t->question);
		if (!rc && (t->person[0] || t->topic[0]))
			rc = mx_buf_appendf(&b, "(answered from: %s%s%s)\n", t->topic,
					    t->person[0] && t->topic[0] ? ", from " : "",
					    t->person);
	}
	if (!rc)
		rc = mx_buf_appendf(&b, "\nLast question: %s\nStandalone query:", q);
	if (rc) {
		mx_buf_free(&b);
		return MX_ENOMEM;
	}
	*user = mx_buf_detach(&b);
	return *user ? 0 : MX_ENOMEM;
}

char *ret_convo_clean_reply(const char *reply)
{
	if (!reply)
		return NULL;
	const char *s = reply;
	/* the first line with a letter or digit */
	for (;;) {
		while (*s == '\n' || *s == '\r' || *s == ' ' || *s == '\t')
			s++;
		size_t n = strcspn(s, "\r\n");
		bool any = false;
		for (size_t i = 0; i < n && !any; i++)
			any = isalnum((unsigned char)s[i]) || (unsigned char)s[i] >= 0x80;
		if (any || !*s)
			break;
		s += n;
	}
	if (!strncasecmp(s, "query:", 6))
		s += 6;
	else if (!strncasecmp(s, "standalone query:", 17))
		s += 17;
	while (*s == ' ' || *s == '"' || *s == '\'' || *s == '`')
		s++;
	size_t n = strcspn(s, "\r\n");
	while (n && (s[n - 1] == ' ' || s[n - 1] == '"' || s[n - 1] == '\'' || s[n - 1] == '`'))
		n--;
	if (n > REPLY_MAX)
		n = mx_utf8_floor(s, REPLY_MAX);
	bool any = false;
	for (size_t i = 0; i < n && !any; i++)
		any = isalnum((unsigned char)s[i]) || (unsigned char)s[i] >= 0x80;
	if (!any)
		return NULL;
	/* control bytes of a random model are not a query */
	char *d = malloc(n + 1);
	if (!d)
		return NULL;
	for (size_t i = 0; i < n; i++)
		d[i] = (unsigned char)s[i] < 0x20 ? ' ' : s[i];
	d[n] = '\0';
	return d;
}
