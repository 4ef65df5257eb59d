/*
 * convo.h - a conversation over the index: each question is rewritten
 * into a standalone query before retrieval, so that a follow-up ("and
 * when did she reply?") finds what the conversation was about.
 *
 * A struct ret_convo keeps the turns: the question as typed, the
 * standalone query that ran, and what the answer was about (the sender
 * and the subject or title of the document it cited first).
 *
 * Without a chat model the rewrite is by rule (ret_convo_rewrite):
 *   - a question is a follow-up when there is a previous turn and it
 *     starts with "and", "also", "but", "so", "what about", "how about",
 *     or holds a pronoun (she, he, her, him, they, them, it, this, that,
 *     there, then, ...), or has fewer than two content words;
 *   - a follow-up keeps its own words (a leading "and", "also", "but",
 *     "so" dropped) and gains the content words of the previous query
 *     that it lacks (at most 8; the previous query was itself made
 *     standalone, so a chain of follow-ups keeps its subject), and, when
 *     it has a personal pronoun (she, he, her, him, his, they, them,
 *     their), the name of the person the previous answer cited;
 *   - any other question runs as typed.
 * With a chat model the caller sends ret_convo_prompt() and uses the
 * model's first line as the query (falling back to the rule when it gives
 * nothing usable).
 */
#ifndef MX_CONVO_H
#define MX_CONVO_H

#include <stdbool.h>
#include <stddef.h>

#define RET_CONVO_TURNS 64   /* turns kept; older ones are dropped */
#define RET_CONVO_TEXT	4096 /* bytes of a question, query or about */

struct ret_convo_turn {
	char *question; /* as typed (malloc'd) */
	char *query;	/* the standalone query that ran (malloc'd) */
	char *person;	/* the sender the answer cited first, or "" (malloc'd) */
	char *topic;	/* that document's subject or title, or "" (malloc'd) */
};

struct ret_convo;

int ret_convo_new(struct ret_convo **out); /* 0 or MX_ENOMEM */
void ret_convo_free(struct ret_convo *c);  /* NULL is fine */
void ret_convo_clear(struct ret_convo *c); /* forgets every turn */

/* The turns, oldest first (borrowed until the conversation changes). */
const struct ret_convo_turn *ret_convo_turns(const struct ret_convo *c, size_t *n);

/* Records a turn (strings copied, each cut at RET_CONVO_TEXT bytes;
 * person and topic may be NULL). The oldest turn goes beyond
 * RET_CONVO_TURNS. 0 or MX_ENOMEM. */
int ret_convo_add(struct ret_convo *c, const char *question, const char *query, const char *person,
		  const char *topic);

/* Whether q reads as a follow-up of the previous turn (see above); false
 * when there is none. */
bool ret_convo_is_followup(const struct ret_convo *c, const char *q);

/* The standalone query for question q by rule (see above): *out
 * malloc'd (caller frees); *rewritten says whether it differs from q. 0 or
 * MX_ENOMEM. */
int ret_convo_rewrite(const struct ret_convo *c, const char *q, char **out, bool *rewritten);

/* The instructions and the user message that ask a chat model for the
 * standalone query: the last few turns and the new question. *user
 * malloc'd (caller frees); the system text is static. 0 or MX_ENOMEM. */
int ret_convo_prompt(const struct ret_convo *c, const char *q, const char **system, char **user);

/* A model's reply made a query: its first non-empty line, without quotes
 * or a "Query:" label, at most 300 bytes; NULL (nothing usable) when
 * empty or without a letter or digit. malloc'd. */
char *ret_convo_clean_reply(const char *reply);

#endif
