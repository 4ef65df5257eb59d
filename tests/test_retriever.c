/* test_retriever.c - query translation (no FTS5 syntax from users),
 * fallback to any term, citations. */
#include <stdlib.h>
#include <string.h>

#include "../common/fsutil.h"
#include "../common/status.h"
#include "../retriever/retriever.h"
#include "../store/store.h"
#include "harness.h"

static void query_quotes_every_term(void)
{
	int rc;
	char *m = ret_query_to_fts("dentist appointment", false, false, &rc);
	CHECK_STR(m, "\"dentist\" AND \"appointment\"");
	free(m);
	/* FTS5 operators and columns are just words */
	m = ret_query_to_fts("title:x NEAR(a b) OR -c \"d e\" f*", false, false, &rc);
	CHECK_STR(m, "\"title\" AND \"x\" AND \"NEAR\" AND \"a\" AND \"b\" AND \"OR\" AND \"c\" "
		     "AND \"d e\" AND \"f\"*");
	free(m);
	/* a quote inside a phrase cannot escape */
	m = ret_query_to_fts("\"unterminated phrase", true, false, &rc);
	CHECK_STR(m, "\"unterminated phrase\"");
	free(m);
	m = ret_query_to_fts("when is my dentist appointment?", true, true, &rc);
	CHECK_STR(m, "\"dentist\" OR \"appointment\"");
	free(m);
	/* only stop words: search them after all */
	m = ret_query_to_fts("what is it", true, true, &rc);
	CHECK_STR(m, "\"what\" OR \"is\" OR \"it\"");
	free(m);
	m = ret_query_to_fts(" ?! ", false, false, &rc);
	CHECK(m == NULL);
	CHECK_EQ_INT(rc, MX_EEMPTY);
	/* punctuation of any script separates words; it is not a term */
	m = ret_query_to_fts("flight \xe2\x80\x94 lisbon \xe2\x86\x92 foo_bar \xc2\xa9", false,
			     false, &rc);
	CHECK_STR(m, "\"flight\" AND \"lisbon\" AND \"foo\" AND \"bar\"");
	free(m);
	m = ret_query_to_fts("K\xc3\xa4ra", false, false, &rc);
	CHECK_STR(m, "\"K\xc3\xa4ra\"");
	free(m);
}

static void search_falls_back_to_any_term(void)
{
	const char *t = test_tmpdir();
	char *db = mx_path_join(t, "index.db");
	struct store *st = NULL;
	CHECK_EQ_INT(store_open(db, STORE_CREATE, &st), 0);
	int64_t src = 0;
	store_source_add(st, "/n", "notes", &src);
	const char *text = "The dentist appointment is on Tuesday.";
	struct store_chunk ch = {
		.text = text, .text_len = strlen(text), .line_start = 3, .line_end = 4
	};
	struct store_doc d = { .source_id = src,
			       .path = "dentist.md",
			       .hash = "h",
			       .type = "note",
			       .title = "Health",
			       .status = "ok" };
	CHECK_EQ_INT(store_doc_put(st, &d, &ch, 1, NULL), 0);
	struct ret_params p = ret_params_default();
	struct ret_result r;
	CHECK_EQ_INT(ret_search(st, "dentist tuesday", &p, &r), 0);
	CHECK_EQ_INT(r.n, 1);
	CHECK(!r.relaxed);
	ret_result_clear(&r);
	CHECK_EQ_INT(ret_search(st, "dentist wednesday", &p, &r), 0);
	CHECK_EQ_INT(r.n, 1);
	CHECK(r.relaxed);
	if (r.n == 1) {
		char cite[256];
		ret_citation(&r.hits[0], cite, sizeof cite);
		CHECK_STR(cite, "/n/dentist.md:3-4");
	}
	ret_result_clear(&r);
	/* stemming: "appointments" finds "appointment" */
	CHECK_EQ_INT(ret_search(st, "appointments", &p, &r), 0);
	CHECK_EQ_INT(r.n, 1);
	ret_result_clear(&r);
	CHECK_EQ_INT(ret_search(st, "zebra", &p, &r), 0);
	CHECK_EQ_INT(r.n, 0);
	ret_result_clear(&r);
	CHECK_EQ_INT(ret_search(st, "...", &p, &r), MX_EEMPTY);
	ret_result_clear(&r);
	store_close(st);
	free(db);
}

static void mail_citation(void)
{
	struct store_hit h = { 0 };
	h.type = "mail";
	h.message_id = "abc@example.org";
	h.title = "Your booking";
	h.author = "Airline <a@example.org>";
	h.date = 1791417600; /* 2026-10-08 */
	char c[256];
	ret_citation(&h, c, sizeof c);
	CHECK_STR(c, "<abc@example.org> Your booking, Airline <a@example.org>, 2026-10-08");
}

/* clang-format off */
static const struct test_case tests[] = {
	TEST(query_quotes_every_term),
	TEST(search_falls_back_to_any_term),
	TEST(mail_citation),
};
/* clang-format on */
TEST_MAIN(tests)
