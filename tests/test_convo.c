/* test_convo.c - conversations over the index: which questions are
 * follow-ups, their rewrite into standalone queries by rule, the prompt for
 * a model's rewrite and the cleaning of its reply, the turn window. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../common/status.h"
#include "../retriever/convo.h"
#include "harness.h"

static char *rewrite(struct ret_convo *c, const char *q, bool *rw)
{
	char *out = NULL;
	CHECK_EQ_INT(ret_convo_rewrite(c, q, &out, rw), 0);
	return out;
}

static void followups(void)
{
	struct ret_convo *c = NULL;
	CHECK_EQ_INT(ret_convo_new(&c), 0);
	/* nothing before: nothing is a follow-up */
	CHECK(!ret_convo_is_followup(c, "and who sent it?"));
	CHECK_EQ_INT(ret_convo_add(c, "when is my dentist appointment?",
				   "when is my dentist appointment?", "Majorna Tandvård",
				   "Booking confirmation"),
		     0);
	CHECK(ret_convo_is_followup(c, "and who sent it?"));
	CHECK(ret_convo_is_followup(c, "And when did she reply?"));
	CHECK(ret_convo_is_followup(c, "what about Friday?"));
	CHECK(ret_convo_is_followup(c, "how much?"));	   /* no content words */
	CHECK(ret_convo_is_followup(c, "where is that?")); /* a reference */
	CHECK(!ret_convo_is_followup(c, "How often should I water the monstera?"));
	CHECK(!ret_convo_is_followup(c, "What is my Granit Boulder membership number?"));
	/* words that merely start like an opener or a pronoun */
	CHECK(!ret_convo_is_followup(c, "Android phone insurance policy number"));
	CHECK(!ret_convo_is_followup(c, "theatre tickets Hamnhallen November"));
	ret_convo_free(c);
}

static void rewrites(void)
{
	struct ret_convo *c = NULL;
	bool rw = true;
	CHECK_EQ_INT(ret_convo_new(&c), 0);
	char *q = rewrite(c, "and who sent it?", &rw);
	CHECK_STR(q, "and who sent it?"); /* no previous turn */
	CHECK(!rw);
	free(q);
	CHECK_EQ_INT(ret_convo_add(c, "when is my dentist appointment?",
				   "when is my dentist appointment?", "Majorna Tandvård",
				   "Booking confirmation"),
		     0);
	/* the opener dropped, the previous query's content words added */
	q = rewrite(c, "and who sent it?", &rw);
	CHECK_STR(q, "who sent it? dentist appointment");
	CHECK(rw);
	free(q);
	/* a personal pronoun brings the person the last answer cited */
	q = rewrite(c, "And when did she reply?", &rw);
	CHECK_STR(q, "when did she reply? Majorna Tandvård dentist appointment");
	free(q);
	/* words the question has are not added twice */
	q = rewrite(c, "what about the dentist price?", &rw);
	CHECK_STR(q, "what about the dentist price? appointment");
	free(q);
	/* a standalone question runs as typed */
	q = rewrite(c, "How often should I water the monstera?", &rw);
	CHECK_STR(q, "How often should I water the monstera?");
	CHECK(!rw);
	free(q);
	/* a chain: the standalone query carries the subject on */
	CHECK_EQ_INT(ret_convo_add(c, "and who sent it?", "who sent it? dentist appointment",
				   "Majorna Tandvård", NULL),
		     0);
	q = rewrite(c, "and their phone number?", &rw);
	CHECK_STR(q, "their phone number? Majorna Tandvård sent dentist appointment");
	free(q);
	size_t n;
	const struct ret_convo_turn *t = ret_convo_turns(c, &n);
	CHECK_EQ_INT(n, 2);
	CHECK_STR(t[1].topic, "");
	ret_convo_clear(c);
	t = ret_convo_turns(c, &n);
	CHECK_EQ_INT(n, 0);
	q = rewrite(c, "and who sent it?", &rw);
	CHECK(!rw);
	free(q);
	ret_convo_free(c);
	ret_convo_free(NULL);
}

static void turn_window(void)
{
	struct ret_convo *c = NULL;
	CHECK_EQ_INT(ret_convo_new(&c), 0);
	char q[64];
	for (int i = 0; i < RET_CONVO_TURNS + 5; i++) {
		snprintf(q, sizeof q, "question %d", i);
		CHECK_EQ_INT(ret_convo_add(c, q, q, NULL, NULL), 0);
	}
	size_t n;
	const struct ret_convo_turn *t = ret_convo_turns(c, &n);
	CHECK_EQ_INT(n, RET_CONVO_TURNS);
	CHECK_STR(t[0].question, "question 5");
	snprintf(q, sizeof q, "question %d", RET_CONVO_TURNS + 4);
	CHECK_STR(t[n - 1].query, q);
	/* a long text is cut (at a character) */
	char *big = malloc(3 * RET_CONVO_TEXT);
	memset(big, 'a', 3 * RET_CONVO_TEXT - 1);
	big[3 * RET_CONVO_TEXT - 1] = '\0';
	CHECK_EQ_INT(ret_convo_add(c, big, big, big, big), 0);
	t = ret_convo_turns(c, &n);
	CHECK_EQ_INT(strlen(t[n - 1].question), RET_CONVO_TEXT);
	free(big);
	ret_convo_free(c);
}

static void model_prompt_and_reply(void)
{
	struct ret_convo *c = NULL;
	const char *sys = NULL;
	char *user = NULL;
	CHECK_EQ_INT(ret_convo_new(&c), 0);
	CHECK_EQ_INT(ret_convo_add(c, "when is my dentist appointment?", "dentist appointment",
				   "Majorna Tandvård", "Booking confirmation"),
		     0);
	CHECK_EQ_INT(ret_convo_prompt(c, "and who sent it?", &sys, &user), 0);
	CHECK(sys && strstr(sys, "standalone search query"));
	CHECK(user && strstr(user, "User: when is my dentist appointment?\n"));
	CHECK(user && strstr(user, "(answered from: Booking confirmation, from Majorna Tandvård)"));
	CHECK(user && strstr(user, "Last question: and who sent it?\nStandalone query:"));
	free(user);
	ret_convo_free(c);

	char *r = ret_convo_clean_reply("\n\n  Query: \"dentist appointment sender\"\nmore text");
	CHECK_STR(r, "dentist appointment sender");
	free(r);
	r = ret_convo_clean_reply("Standalone query: who sent the dentist booking");
	CHECK_STR(r, "who sent the dentist booking");
	free(r);
	CHECK(ret_convo_clean_reply("") == NULL);
	CHECK(ret_convo_clean_reply(" \n ... \n\"\"") == NULL);
	CHECK(ret_convo_clean_reply(NULL) == NULL);
	r = ret_convo_clean_reply("a\tb\x01"
				  "c");
	CHECK_STR(r, "a b c");
	free(r);
	char longr[1000];
	memset(longr, 'x', sizeof longr - 1);
	longr[sizeof longr - 1] = '\0';
	r = ret_convo_clean_reply(longr);
	CHECK(r && strlen(r) == 300);
	free(r);
}

static const struct test_case tests[] = {
	TEST(followups),
	TEST(rewrites),
	TEST(turn_window),
	TEST(model_prompt_and_reply),
};

TEST_MAIN(tests)
