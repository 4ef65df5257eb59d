/* test_pii.c - the PII sanitizer: detectors, placeholders, re-identification. */
#include <stdlib.h>
#include <string.h>

#include "../common/status.h"
#include "../router/sanitize.h"
#include "harness.h"

/* Sanitizes s with a fresh or given sanitizer; the result is the caller's. */
static char *san(struct rtr_sanitizer *s, const char *text)
{
	char *out = NULL;
	int rc = rtr_sanitize(s, text, strlen(text), &out, NULL, NULL);
	CHECK_EQ_INT(rc, 0);
	return out;
}

static void contacts_and_round_trip(void)
{
	struct rtr_sanitizer *s = rtr_sanitizer_new(NULL);
	CHECK(s != NULL);
	CHECK_EQ_INT(rtr_sanitizer_add_contact(s, "Zorblat Quexley", "zq@example.org"), 0);
	char *o = san(s, "Ask zorblat  quexley (zq@example.org) or Quexley, Zorblat.");
	CHECK_STR(o, "Ask <PERSON_1> (<EMAIL_1>) or <PERSON_2>.");
	char *r = NULL;
	const char *reply = "Dear <PERSON_1>, mail <EMAIL_1>; <PERSON_9> <X_1>";
	CHECK_EQ_INT(rtr_reidentify(s, reply, strlen(reply), &r), 0);
	CHECK_STR(r, "Dear zorblat  quexley, mail zq@example.org; <PERSON_9> <X_1>");
	free(r);
	free(o);
	rtr_sanitizer_free(s);
}

static const struct test_case tests[] = {
	TEST(contacts_and_round_trip),
};

TEST_MAIN(tests)
