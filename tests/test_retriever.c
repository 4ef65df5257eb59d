/* test_retriever.c - query translation (no FTS5 syntax from users),
 * fallback to any term, citations. */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
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

static uint64_t rs = 88172645463325252ull;
static float frand(void)
{
	rs ^= rs << 13;
	rs ^= rs >> 7;
	rs ^= rs << 17;
	return (float)((double)(rs >> 11) / 9007199254740992.0 - 0.5);
}

static void unit(float *v, int d)
{
	float n = 0;
	for (int i = 0; i < d; i++)
		n += v[i] * v[i];
	for (int i = 0; i < d; i++)
		v[i] /= sqrtf(n);
}

static void vscan_finds_nearest(void)
{
	enum { N = 600, D = 64 };
	static float v[N][D];
	static int8_t q8[N * D];
	float sc[N];
	int64_t ids[N];
	for (int i = 0; i < N; i++) {
		for (int j = 0; j < D; j++)
			v[i][j] = frand();
		unit(v[i], D);
		float mx = 0;
		for (int j = 0; j < D; j++)
			mx = fabsf(v[i][j]) > mx ? fabsf(v[i][j]) : mx;
		sc[i] = mx / 127;
		for (int j = 0; j < D; j++)
			q8[i * D + j] = (int8_t)lrintf(v[i][j] / sc[i]);
		ids[i] = i + 1;
	}
	struct store_vecset vs = {
		.n = N, .dims = D, .q = q8, .scale = sc, .chunk_id = ids, .doc_id = ids
	};
	/* the query is row 123 itself, slightly moved */
	float q[D];
	for (int j = 0; j < D; j++)
		q[j] = v[123][j] + 0.01f * frand();
	struct ret_cand *c = NULL;
	size_t n = 0;
	CHECK_EQ_INT(ret_vscan(&vs, q, 10, &c, &n), 0);
	CHECK_EQ_INT(n, 10);
	if (n)
		CHECK_EQ_INT(c[0].chunk_id, 124);
	for (size_t i = 1; i < n; i++)
		CHECK(c[i - 1].score >= c[i].score);
	/* the int8 scores stay close to the float cosines */
	for (size_t i = 0; i < n; i++) {
		float dot = 0;
		for (int j = 0; j < D; j++)
			dot += q[j] * v[c[i].chunk_id - 1][j];
		CHECK(fabsf(dot - c[i].score) < 0.03f);
	}
	free(c);
	CHECK_EQ_INT(ret_vscan(&vs, q, 0, &c, &n), 0);
	CHECK_EQ_INT(n, 0);
}

/* Every row's score is the exact int8 dot product, whatever the width
 * (vector body and scalar tail) and across the scan's blocks of rows. */
static void vscan_scores_exact(void)
{
	enum { N = 600 };
	static const int dims[] = { 1, 7, 16, 40, 100, 512 };
	for (size_t t = 0; t < sizeof dims / sizeof *dims; t++) {
		int d = dims[t];
		int8_t *q8 = malloc((size_t)N * d);
		float *sc = malloc(N * sizeof *sc), *q = malloc((size_t)d * sizeof *q);
		int64_t *ids = malloc(N * sizeof *ids);
		int8_t *qq = malloc((size_t)d);
		for (int i = 0; i < N * d; i++)
			q8[i] = (int8_t)(i % 3 == 0   ? 127
					 : i % 3 == 1 ? -127
						      : (int)(frand() * 200));
		for (int i = 0; i < N; i++) {
			sc[i] = 0.001f * (float)(1 + i % 7);
			ids[i] = i + 1;
		}
		float mx = 0;
		for (int j = 0; j < d; j++) {
			q[j] = frand();
			mx = fabsf(q[j]) > mx ? fabsf(q[j]) : mx;
		}
		float qs = mx / 127.0f;
		for (int j = 0; j < d; j++) {
			float x = q[j] / qs;
			qq[j] = (int8_t)(x > 127    ? 127
					 : x < -127 ? -127
						    : (x < 0 ? x - 0.5f : x + 0.5f));
		}
		struct store_vecset vs = {
			.n = N, .dims = d, .q = q8, .scale = sc, .chunk_id = ids, .doc_id = ids
		};
		struct ret_cand *c = NULL;
		size_t n = 0;
		CHECK_EQ_INT(ret_vscan(&vs, q, N, &c, &n), 0);
		CHECK_EQ_INT(n, N);
		int bad = 0;
		for (size_t i = 0; i < n; i++) {
			int64_t r = c[i].chunk_id - 1;
			int32_t dot = 0;
			for (int j = 0; j < d; j++)
				dot += (int32_t)qq[j] * q8[r * d + j];
			bad += (float)dot * qs * sc[r] != c[i].score;
		}
		CHECK_EQ_INT(bad, 0);
		free(c);
		free(q8);
		free(sc);
		free(q);
		free(ids);
		free(qq);
	}
}

static void dense_and_hybrid_search(void)
{
	enum { D = 32 };
	const char *t = test_tmpdir();
	char *db = mx_path_join(t, "index.db");
	struct store *st = NULL;
	CHECK_EQ_INT(store_open(db, STORE_CREATE, &st), 0);
	int64_t src = 0, model = 0;
	store_source_add(st, "/n", "notes", &src);
	CHECK_EQ_INT(store_model_id(st, "test:32", D, "test", &model), 0);
	static const char *const texts[] = { "an apple orchard in autumn", "ships in the harbour",
					     "a recipe for apple pie", "the dentist appointment" };
	float vec[4][D];
	for (int i = 0; i < 4; i++) {
		for (int j = 0; j < D; j++)
			vec[i][j] = frand();
		unit(vec[i], D);
		char path[16];
		snprintf(path, sizeof path, "d%d.md", i);
		struct store_chunk ch = { .text = texts[i], .text_len = strlen(texts[i]) };
		struct store_doc d = { .source_id = src,
				       .path = path,
				       .hash = "h",
				       .type = "note",
				       .title = path,
				       .status = "ok" };
		CHECK_EQ_INT(store_doc_put(st, &d, &ch, 1, NULL), 0);
		CHECK_EQ_INT(store_vector_put(st, store_last_chunk_id(st), model, vec[i], D), 0);
	}
	struct store_vecset vs;
	CHECK_EQ_INT(store_vecset_load(st, model, &vs), 0);
	CHECK_EQ_INT(vs.n, 4);
	/* dense: the query vector is document 1's */
	struct ret_params p = ret_params_default();
	p.mode = RET_DENSE;
	p.query_vec = vec[1];
	p.dims = D;
	p.model_id = model;
	p.vecs = &vs;
	struct ret_result r;
	CHECK_EQ_INT(ret_search(st, "boats", &p, &r), 0);
	CHECK(r.n >= 1);
	if (r.n)
		CHECK_STR(r.hits[0].path, "d1.md");
	ret_result_clear(&r);
	/* a filter applies to the vector leg too */
	CHECK_EQ_INT(ret_search(st, "boats type:mail", &p, &r), 0);
	CHECK_EQ_INT(r.n, 0);
	ret_result_clear(&r);
	/* hybrid: BM25 finds the two apple documents (d0 first), the vector
	 * leg puts d2 first; with the dense leg weighted 2, d2 leads the fused
	 * list whatever rank d0 has in the vector leg */
	p.mode = RET_HYBRID;
	p.query_vec = vec[2];
	p.question = true;
	p.w_dense = 2;
	CHECK_EQ_INT(ret_search(st, "apple", &p, &r), 0);
	CHECK(r.n >= 2);
	if (r.n >= 2) {
		CHECK_STR(r.hits[0].path, "d2.md");
		CHECK_STR(r.hits[1].path, "d0.md");
	}
	ret_result_clear(&r);
	store_vecset_free(&vs);
	store_close(st);
	free(db);
}

static void dense_filters_reach_far_documents(void)
{
	/* 600 notes close to the query and one mail far from it: a dense
	 * search for mail must still find the mail (once the filter was
	 * applied only to the nearest few hundred chunks) */
	enum { D = 16, N = 600 };
	const char *t = test_tmpdir();
	char *db = mx_path_join(t, "index.db");
	struct store *st = NULL;
	CHECK_EQ_INT(store_open(db, STORE_CREATE, &st), 0);
	int64_t src = 0, model = 0;
	store_source_add(st, "/n", "notes", &src);
	store_model_id(st, "test:16", D, "test", &model);
	float q[D], v[D];
	for (int j = 0; j < D; j++)
		q[j] = j == 0 ? 1.0f : 0.0f;
	store_begin(st);
	for (int i = 0; i <= N; i++) {
		char path[32];
		snprintf(path, sizeof path, "%s%d", i == N ? "mail" : "note", i);
		struct store_chunk ch = { .text = "words", .text_len = 5 };
		struct store_doc d = { .source_id = src,
				       .path = path,
				       .hash = "h",
				       .type = i == N ? "mail" : "note",
				       .title = path,
				       .status = "ok" };
		CHECK_EQ_INT(store_doc_put(st, &d, &ch, 1, NULL), 0);
		for (int j = 0; j < D; j++)
			v[j] = i == N ? (j == 1 ? 1.0f : 0.0f) : (j == 0 ? 1.0f : 0.01f * frand());
		unit(v, D);
		store_vector_put(st, store_last_chunk_id(st), model, v, D);
	}
	store_commit(st);
	struct store_vecset vs;
	CHECK_EQ_INT(store_vecset_load(st, model, &vs), 0);
	struct ret_params p = ret_params_default();
	p.mode = RET_DENSE;
	p.limit = 3;
	p.query_vec = q;
	p.dims = D;
	p.model_id = model;
	p.vecs = &vs;
	struct ret_result r;
	CHECK_EQ_INT(ret_search(st, "anything type:mail", &p, &r), 0);
	CHECK_EQ_INT(r.n, 1);
	if (r.n)
		CHECK_STR(r.hits[0].type, "mail");
	ret_result_clear(&r);
	/* no word at all is no query, in every mode */
	p.mode = RET_HYBRID;
	p.query_vec = NULL;
	p.embedder = NULL;
	CHECK_EQ_INT(ret_search(st, "!!!", &p, &r), MX_EEMPTY);
	ret_result_clear(&r);
	store_vecset_free(&vs);
	store_close(st);
	free(db);
}


/* after:/before: take days that exist: a month has its own length, and
 * February 29 only in a leap year (2000 and 2028 are, 1900 and 2026 are
 * not). The error names the date. */
static void query_dates_must_exist(void)
{
	static const struct {
		const char *q;
		int64_t after; /* -1: rejected */
	} cases[] = {
		{ "after:2028-02-29", 1835395200 },
		{ "after:2000-02-29", 951782400 },
		{ "after:2026-04-30", 1777507200 },
		{ "after:2026-12-31", 1798675200 },
		{ "after:2026-01", 1767225600 },
		{ "after:2026", 1767225600 },
		{ "after:2026-1-5", 1767571200 },
		{ "after:2026-02-30", -1 },
		{ "after:2026-02-29", -1 },
		{ "after:1900-02-29", -1 },
		{ "after:2026-13-01", -1 },
		{ "after:2026-04-31", -1 },
		{ "after:2026-00-10", -1 },
		{ "after:2026-01-00", -1 },
		{ "after:2026-13", -1 },
		{ "after:2026-01-32", -1 },
		{ "after:+2026", -1 },
		{ "after:2026-", -1 },
		{ "after:2026-01-01x", -1 },
		{ "after:1899-12-31", -1 },
	};
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		struct ret_query q;
		char err[256] = "";
		int rc = ret_query_parse(cases[i].q, &q, err, sizeof err);
		if (cases[i].after < 0) {
			if (!CHECK_EQ_INT(rc, MX_EINVAL))
				printf("    %s accepted\n", cases[i].q);
			else if (!CHECK(strstr(err, cases[i].q + 6) != NULL))
				printf("    %s: error '%s' does not name it\n", cases[i].q, err);
		} else if (CHECK_EQ_INT(rc, 0)) {
			if (!CHECK(q.filter.after == cases[i].after))
				printf("    %s: after %lld\n", cases[i].q, (long long)q.filter.after);
		}
		ret_query_clear(&q);
	}
	/* the day's own words: the month's length */
	struct ret_query q;
	char err[256] = "";
	CHECK_EQ_INT(ret_query_parse("before:2026-02-30 rent", &q, err, sizeof err), MX_EINVAL);
	CHECK(strstr(err, "'2026-02-30'") && strstr(err, "February 2026 has 28 days"));
	ret_query_clear(&q);
	CHECK_EQ_INT(ret_query_parse("before:2026-13-01", &q, err, sizeof err), MX_EINVAL);
	CHECK(strstr(err, "'2026-13-01'") && strstr(err, "month"));
	ret_query_clear(&q);
	/* before:2026-03 is before March: its first day */
	CHECK_EQ_INT(ret_query_parse("before:2026-03", &q, err, sizeof err), 0);
	CHECK(q.filter.before == 1772323200);
	ret_query_clear(&q);
}

/* clang-format off */
static const struct test_case tests[] = {
	TEST(query_quotes_every_term),
	TEST(query_dates_must_exist),
	TEST(search_falls_back_to_any_term),
	TEST(mail_citation),
	TEST(vscan_finds_nearest),
	TEST(vscan_scores_exact),
	TEST(dense_and_hybrid_search),
	TEST(dense_filters_reach_far_documents),
};
/* clang-format on */
TEST_MAIN(tests)
