/* test_store.c - the SQLite index: schema, migrations, refusal of newer and
 * foreign databases, document writes and cascades, search. */
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "../common/fsutil.h"
#include "../common/hash.h"
#include "../common/status.h"
#include "../store/store.h"
#include "../store/store_int.h"
#include "harness.h"

static char *db_in(const char *dir)
{
	return mx_path_join(dir, "index.db");
}

static void file_hash(const char *path, char out[65])
{
	char *d = NULL;
	size_t n = 0;
	if (mx_read_file(path, 1 << 26, &d, &n)) {
		out[0] = '\0';
		return;
	}
	mx_sha256_hex(d, n, out);
	free(d);
}

static long long scalar(const char *db, const char *sql)
{
	sqlite3 *h = NULL;
	sqlite3_stmt *s = NULL;
	long long v = -1;
	if (sqlite3_open_v2(db, &h, SQLITE_OPEN_READONLY, NULL) == SQLITE_OK &&
	    sqlite3_prepare_v2(h, sql, -1, &s, NULL) == SQLITE_OK && sqlite3_step(s) == SQLITE_ROW)
		v = sqlite3_column_int64(s, 0);
	sqlite3_finalize(s);
	sqlite3_close(h);
	return v;
}

static void create_is_private_and_versioned(void)
{
	const char *t = test_tmpdir();
	char *db = db_in(t);
	struct store *st = NULL;
	CHECK_EQ_INT(store_open(db, 0, &st), MX_ENOTFOUND);
	store_close(st);
	CHECK_EQ_INT(store_open(db, STORE_CREATE, &st), 0);
	store_close(st);
	struct stat sb;
	CHECK(stat(db, &sb) == 0);
	CHECK_EQ_INT(sb.st_mode & 0777, 0600);
	CHECK_EQ_INT(scalar(db, "PRAGMA user_version"), STORE_SCHEMA_VERSION);
	CHECK_EQ_INT(scalar(db, "SELECT count(*) FROM sqlite_schema WHERE name = 'chunks_fts'"), 1);
	/* WAL mode persists in the file */
	CHECK_EQ_INT(
		scalar(db, "SELECT count(*) FROM pragma_journal_mode WHERE journal_mode='wal'"), 1);
	/* opening again does not migrate twice */
	CHECK_EQ_INT(store_open(db, 0, &st), 0);
	CHECK_EQ_INT(store_schema_version(st), STORE_SCHEMA_VERSION);
	CHECK_EQ_INT(store_check(st), 0);
	store_close(st);
	free(db);
}

static void newer_schema_refused_untouched(void)
{
	const char *t = test_tmpdir();
	char *db = db_in(t);
	struct store *st = NULL;
	CHECK_EQ_INT(store_open(db, STORE_CREATE, &st), 0);
	store_close(st);
	sqlite3 *h = NULL;
	sqlite3_open(db, &h);
	sqlite3_exec(h, "PRAGMA journal_mode = DELETE; PRAGMA user_version = 99", NULL, NULL, NULL);
	sqlite3_close(h);
	char before[65], after[65];
	file_hash(db, before);
	CHECK_EQ_INT(store_open(db, 0, &st), MX_ENEWER);
	CHECK(strstr(store_errmsg(st), "99") != NULL);
	store_close(st);
	CHECK_EQ_INT(store_open(db, STORE_READONLY, &st), MX_ENEWER);
	store_close(st);
	file_hash(db, after);
	CHECK_STR(after, before);
	free(db);
}

/* A version 4 index (int8 copies in vectors) made by its own migrations:
 * opening it moves the copies to vectors_i8, and loading, rescoring,
 * dropping other models and cascades work on the result. */
static void v4_vectors_migrate_to_i8_table(void)
{
	const char *t = test_tmpdir();
	char *db = db_in(t);
	sqlite3 *h = NULL;
	CHECK_EQ_INT(sqlite3_open(db, &h), SQLITE_OK);
	for (int v = 0; v < 4; v++)
		CHECK_EQ_INT(sqlite3_exec(h, store_migration_sql(v), NULL, NULL, NULL), SQLITE_OK);
	CHECK_EQ_INT(
		sqlite3_exec(
			h,
			"PRAGMA user_version = 4;"
			"INSERT INTO sources(id, path, type, added_at) VALUES (1, '/n', 'notes', 0);"
			"INSERT INTO documents(id, source_id, path, status) VALUES (1, 1, 'a', 'ok');"
			"INSERT INTO documents(id, source_id, path, status) VALUES (2, 1, 'b', 'ok');"
			"INSERT INTO chunks(id, doc_id, ordinal, text, byte_start, byte_end,"
			" line_start, line_end) VALUES (1, 1, 0, 'x', 0, 1, 1, 1),"
			" (2, 1, 1, 'y', 0, 1, 1, 1), (3, 2, 0, 'z', 0, 1, 1, 1);"
			"INSERT INTO models(id, fingerprint, dims) VALUES (1, 'm1', 2), (2, 'm2', 2);"
			/* floats (1, 0) (0, -1) (-0.5, -0.5); m2 for chunk 1 only */
			"INSERT INTO vectors(chunk_id, model_id, vec, qvec, qscale) VALUES"
			" (3, 1, x'000000BF000000BF', x'7F7F', 0.5),"
			" (1, 1, x'0000803F00000000', x'7F00', 1.0),"
			" (2, 1, x'00000000000080BF', x'0081', 2.0),"
			" (1, 2, x'0000803F00000000', x'7F00', 3.0);",
			NULL, NULL, NULL),
		SQLITE_OK);
	sqlite3_close(h);

	struct store *st = NULL;
	CHECK_EQ_INT(store_open(db, 0, &st), 0);
	CHECK_EQ_INT(scalar(db, "PRAGMA user_version"), STORE_SCHEMA_VERSION);
	CHECK_EQ_INT(scalar(db, "SELECT count(*) FROM vectors_i8"), 4);
	CHECK_EQ_INT(scalar(db, "SELECT count(*) FROM pragma_table_info('vectors')"
				" WHERE name IN ('qvec', 'qscale')"),
		     0);
	struct store_vecset vs;
	CHECK_EQ_INT(store_vecset_load(st, 1, &vs), 0);
	CHECK_EQ_INT(vs.n, 3);
	CHECK_EQ_INT(vs.dims, 2);
	if (vs.n == 3) {
		CHECK_EQ_INT(vs.chunk_id[0], 1);
		CHECK_EQ_INT(vs.chunk_id[2], 3);
		CHECK_EQ_INT(vs.doc_id[2], 2);
		CHECK(vs.scale[1] == 2.0f);
		CHECK_EQ_INT(vs.q[2], 0);
		CHECK_EQ_INT(vs.q[3], -127);
		CHECK_EQ_INT(vs.q[4], 127);
	}
	store_vecset_free(&vs);
	float f[4];
	bool found[2];
	int64_t ids[2] = { 2, 9 };
	CHECK_EQ_INT(store_vectors_get(st, 1, ids, 2, 2, f, found), 0);
	CHECK(found[0] && !found[1]);
	CHECK(f[0] == 0.0f && f[1] == -1.0f);

	/* a new vector goes to both tables; a replaced one once */
	float nv[2] = { 0.0f, 2.0f };
	CHECK_EQ_INT(store_vector_put(st, 2, 2, nv, 2), 0);
	CHECK_EQ_INT(store_vector_put(st, 2, 2, nv, 2), 0);
	CHECK_EQ_INT(scalar(db, "SELECT count(*) FROM vectors_i8 WHERE model_id = 2"), 2);
	CHECK_EQ_INT(scalar(db, "SELECT count(*) FROM vectors WHERE model_id = 2"), 2);
	CHECK_EQ_INT(scalar(db, "SELECT doc_id FROM vectors_i8 WHERE model_id = 2 AND chunk_id = 2"),
		     1);

	/* a document's removal takes its chunks' copies of every model */
	CHECK_EQ_INT(store_begin(st), 0);
	CHECK_EQ_INT(store_doc_delete(st, 1), 0);
	CHECK_EQ_INT(store_commit(st), 0);
	CHECK_EQ_INT(scalar(db, "SELECT count(*) FROM vectors_i8"), 1);
	CHECK_EQ_INT(scalar(db, "SELECT count(*) FROM vectors"), 1);

	/* other models' copies go with their floats */
	CHECK_EQ_INT(store_vector_put(st, 3, 2, nv, 2), 0);
	int64_t dropped = 0;
	CHECK_EQ_INT(store_vectors_drop_others(st, 1, &dropped), 0);
	CHECK_EQ_INT(dropped, 1);
	CHECK_EQ_INT(scalar(db, "SELECT count(*) FROM vectors_i8"), 1);
	CHECK_EQ_INT(scalar(db, "SELECT count(*) FROM vectors_i8 WHERE model_id = 1"), 1);
	CHECK_EQ_INT(store_check(st), 0);
	store_close(st);
	free(db);
}

static void garbage_and_foreign_refused_untouched(void)
{
	const char *t = test_tmpdir();
	char junk[8192];
	for (size_t i = 0; i < sizeof junk; i++)
		junk[i] = (char)(i * 7919 % 251);
	test_write(t, "index.db", junk, sizeof junk);
	char *db = db_in(t);
	char before[65], after[65];
	file_hash(db, before);
	struct store *st = NULL;
	CHECK_EQ_INT(store_open(db, STORE_CREATE, &st), MX_ECORRUPT);
	store_close(st);
	file_hash(db, after);
	CHECK_STR(after, before);
	free(db);

	/* a valid SQLite database that is not ours */
	t = test_tmpdir();
	db = db_in(t);
	sqlite3 *h = NULL;
	sqlite3_open(db, &h);
	sqlite3_exec(h, "CREATE TABLE other(x)", NULL, NULL, NULL);
	sqlite3_close(h);
	file_hash(db, before);
	CHECK_EQ_INT(store_open(db, 0, &st), MX_ECORRUPT);
	store_close(st);
	file_hash(db, after);
	CHECK_STR(after, before);
	free(db);
}

static int64_t put_doc(struct store *st, int64_t src, const char *path, const char *title,
		       const char *const *texts, size_t n)
{
	struct store_chunk ch[8];
	for (size_t i = 0; i < n; i++)
		ch[i] = (struct store_chunk){ .text = texts[i],
					      .text_len = strlen(texts[i]),
					      .line_start = (int64_t)i + 1,
					      .line_end = (int64_t)i + 1 };
	struct store_doc d = { .source_id = src,
			       .path = path,
			       .hash = "h",
			       .type = "note",
			       .title = title,
			       .status = "ok" };
	int64_t id = 0;
	CHECK_EQ_INT(store_doc_put(st, &d, ch, n, &id), 0);
	return id;
}

static void documents_cascade_to_chunks_fts_vectors(void)
{
	const char *t = test_tmpdir();
	char *db = db_in(t);
	struct store *st = NULL;
	CHECK_EQ_INT(store_open(db, STORE_CREATE, &st), 0);
	int64_t src = 0;
	CHECK_EQ_INT(store_source_add(st, "/notes", "notes", &src), 0);
	CHECK_EQ_INT(store_source_add(st, "/notes", "notes", NULL), MX_EEXISTS);
	const char *a[] = { "the quick brown fox", "jumps over the lazy dog" };
	int64_t id = put_doc(st, src, "a.md", "Animals", a, 2);
	CHECK_EQ_INT(scalar(db, "SELECT count(*) FROM chunks"), 2);
	CHECK_EQ_INT(scalar(db, "SELECT count(*) FROM chunks_fts"), 2);

	/* a vector for one chunk */
	sqlite3 *h = NULL;
	sqlite3_open(db, &h);
	sqlite3_exec(
		h,
		"PRAGMA foreign_keys=ON; INSERT INTO models(fingerprint, dims) VALUES('m', 2);"
		"INSERT INTO vectors(chunk_id, model_id, vec) SELECT id, 1, x'00' FROM chunks LIMIT 1;"
		"INSERT INTO vectors_i8(model_id, chunk_id, doc_id, scale, q)"
		" SELECT 1, id, doc_id, 1, x'00' FROM chunks LIMIT 1;",
		NULL, NULL, NULL);
	sqlite3_close(h);
	CHECK_EQ_INT(scalar(db, "SELECT count(*) FROM vectors"), 1);
	CHECK_EQ_INT(scalar(db, "SELECT count(*) FROM vectors_i8"), 1);

	/* replacing the document replaces its chunks, FTS rows and vectors */
	const char *b[] = { "a completely different text" };
	int64_t id2 = put_doc(st, src, "a.md", "Animals", b, 1);
	CHECK(id2 != id);
	CHECK_EQ_INT(scalar(db, "SELECT count(*) FROM documents"), 1);
	CHECK_EQ_INT(scalar(db, "SELECT count(*) FROM chunks"), 1);
	CHECK_EQ_INT(scalar(db, "SELECT count(*) FROM chunks_fts"), 1);
	CHECK_EQ_INT(scalar(db, "SELECT count(*) FROM vectors"), 0);
	CHECK_EQ_INT(scalar(db, "SELECT count(*) FROM vectors_i8"), 0);

	struct store_hit *hits = NULL;
	size_t n = 0;
	CHECK_EQ_INT(store_fts_search(st, "\"fox\"", NULL, 10, true, 10, &hits, &n), 0);
	CHECK_EQ_INT(n, 0);
	store_hits_free(hits, n);
	CHECK_EQ_INT(store_fts_search(st, "\"different\"", NULL, 10, true, 10, &hits, &n), 0);
	CHECK_EQ_INT(n, 1);
	if (n == 1) {
		CHECK_STR(hits[0].path, "a.md");
		CHECK_STR(hits[0].title, "Animals");
		CHECK(strstr(hits[0].snippet, "\x02"
					      "different\x03") != NULL);
	}
	store_hits_free(hits, n);

	/* moving keeps chunks; deleting the source removes everything */
	CHECK_EQ_INT(store_doc_move(st, id2, "b.md", 5, 6, NULL, NULL), 0);
	CHECK_EQ_INT(scalar(db, "SELECT count(*) FROM chunks"), 1);
	CHECK_EQ_INT(store_source_remove(st, src), 0);
	CHECK_EQ_INT(store_source_remove(st, src), MX_ENOTFOUND);
	CHECK_EQ_INT(scalar(db, "SELECT count(*) FROM documents"), 0);
	CHECK_EQ_INT(scalar(db, "SELECT count(*) FROM chunks_fts"), 0);
	store_close(st);
	free(db);
}

static void title_weighs_more_and_per_doc(void)
{
	const char *t = test_tmpdir();
	char *db = db_in(t);
	struct store *st = NULL;
	CHECK_EQ_INT(store_open(db, STORE_CREATE, &st), 0);
	int64_t src = 0;
	store_source_add(st, "/n", "notes", &src);
	const char *body_only[] = { "some words about a dentist and other things entirely" };
	const char *two[] = { "nothing here", "and nothing here either" };
	put_doc(st, src, "x.md", "Shopping", body_only, 1);
	put_doc(st, src, "y.md", "Dentist", two, 2);
	struct store_hit *h = NULL;
	size_t n = 0;
	CHECK_EQ_INT(store_fts_search(st, "\"dentist\"", NULL, 10, true, 10, &h, &n), 0);
	CHECK_EQ_INT(n, 2); /* y.md once, though both its chunks match by title */
	if (n == 2)
		CHECK_STR(h[0].path, "y.md");
	store_hits_free(h, n);
	CHECK_EQ_INT(store_fts_search(st, "\"dentist\"", NULL, 10, false, 10, &h, &n), 0);
	CHECK_EQ_INT(n, 3);
	store_hits_free(h, n);
	/* a syntax error in MATCH is MX_EINVAL, not a crash */
	CHECK_EQ_INT(store_fts_search(st, "AND AND (", NULL, 10, true, 10, &h, &n), MX_EINVAL);
	store_close(st);
	free(db);
}

static void forget_by_path_prefix(void)
{
	const char *t = test_tmpdir();
	char *db = db_in(t);
	struct store *st = NULL;
	CHECK_EQ_INT(store_open(db, STORE_CREATE, &st), 0);
	int64_t src = 0;
	store_source_add(st, "/home/u/notes", "notes", &src);
	const char *x[] = { "text" };
	put_doc(st, src, "a/one.md", "1", x, 1);
	put_doc(st, src, "a/two.md", "2", x, 1);
	put_doc(st, src, "ab.md", "3", x, 1);
	put_doc(st, src, "a%.md", "4", x, 1);
	int64_t n = 0;
	CHECK_EQ_INT(store_doc_forget(st, "/home/u/notes/a", &n), 0);
	CHECK_EQ_INT(n, 2); /* not ab.md, not a%.md */
	CHECK_EQ_INT(store_doc_forget(st, "/home/u/notes/a%.md", &n), 0);
	CHECK_EQ_INT(n, 1);
	CHECK_EQ_INT(scalar(db, "SELECT count(*) FROM documents"), 1);
	store_close(st);
	free(db);
}

static void runs_and_problems(void)
{
	const char *t = test_tmpdir();
	char *db = db_in(t);
	struct store *st = NULL;
	CHECK_EQ_INT(store_open(db, STORE_CREATE, &st), 0);
	struct store_run r = { 0 };
	CHECK_EQ_INT(store_run_last(st, &r), MX_ENOTFOUND);
	int64_t id = 0;
	CHECK_EQ_INT(store_run_begin(st, &id), 0);
	r.id = id;
	r.finished_at = 5;
	snprintf(r.status, sizeof r.status, "partial");
	r.files_seen = 3;
	CHECK_EQ_INT(store_run_end(st, &r), 0);
	struct store_run back = { 0 };
	CHECK_EQ_INT(store_run_last(st, &back), 0);
	CHECK_STR(back.status, "partial");
	CHECK_EQ_INT(back.files_seen, 3);

	int64_t src = 0;
	store_source_add(st, "/s", "notes", &src);
	struct store_doc d = { .source_id = src,
			       .path = "bad.md",
			       .status = "error",
			       .error = "binary content in a text file" };
	CHECK_EQ_INT(store_doc_put(st, &d, NULL, 0, NULL), 0);
	struct store_problem *p = NULL;
	size_t n = 0;
	CHECK_EQ_INT(store_problem_list(st, true, 10, &p, &n), 0);
	CHECK_EQ_INT(n, 1);
	if (n == 1) {
		CHECK_STR(p[0].path, "/s/bad.md");
		CHECK_STR(p[0].error, "binary content in a text file");
	}
	store_problems_free(p, n);
	struct store_stats s;
	CHECK_EQ_INT(store_stats_get(st, &s), 0);
	CHECK_EQ_INT(s.nerrors, 1);
	CHECK_EQ_INT(s.ndocs, 0);
	store_close(st);
	free(db);
}

static void readonly_open_writes_nothing(void)
{
	const char *t = test_tmpdir();
	char *db = db_in(t);
	struct store *st = NULL;
	CHECK_EQ_INT(store_open(db, STORE_READONLY | STORE_CREATE, &st), MX_ENOTFOUND);
	store_close(st);
	struct stat sb;
	CHECK(stat(db, &sb) != 0);
	free(db);
}

static void per_doc_keeps_every_document(void)
{
	/* one document with many matching chunks must not crowd out the
	 * others (the candidate window was once limit*8+64 chunks) */
	const char *t = test_tmpdir();
	char *db = db_in(t);
	struct store *st = NULL;
	CHECK_EQ_INT(store_open(db, STORE_CREATE, &st), 0);
	int64_t src = 0;
	store_source_add(st, "/n", "notes", &src);
	/* 1200 chunks: more than the first two windows of top chunks (140,
	 * 1120) that BM25 takes before joining */
	enum { NBIG = 1200 };
	static struct store_chunk big[NBIG];
	for (size_t i = 0; i < NBIG; i++)
		big[i] = (struct store_chunk){ .text = "zebra zebra zebra", .text_len = 17 };
	struct store_doc d = { .source_id = src,
			       .path = "big.md",
			       .hash = "h",
			       .type = "note",
			       .title = "big",
			       .status = "ok" };
	CHECK_EQ_INT(store_doc_put(st, &d, big, NBIG, NULL), 0);
	for (int i = 0; i < 5; i++) {
		char path[16];
		snprintf(path, sizeof path, "s%d.md", i);
		struct store_chunk one = { .text = "a single zebra among other words here",
					   .text_len = 37 };
		struct store_doc x = { .source_id = src,
				       .path = path,
				       .hash = "h",
				       .type = "note",
				       .title = "small",
				       .status = "ok" };
		CHECK_EQ_INT(store_doc_put(st, &x, &one, 1, NULL), 0);
	}
	struct store_hit *h = NULL;
	size_t n = 0;
	CHECK_EQ_INT(store_fts_search(st, "\"zebra\"", NULL, 10, true, 10, &h, &n), 0);
	CHECK_EQ_INT(n, 6);
	for (size_t i = 0; i < n; i++)
		CHECK(strstr(h[i].snippet, "\x02zebra\x03") != NULL);
	store_hits_free(h, n);
	store_close(st);
	free(db);
}

/* clang-format off */
static const struct test_case tests[] = {
	TEST(create_is_private_and_versioned),
	TEST(newer_schema_refused_untouched),
	TEST(garbage_and_foreign_refused_untouched),
	TEST(documents_cascade_to_chunks_fts_vectors),
	TEST(v4_vectors_migrate_to_i8_table),
	TEST(title_weighs_more_and_per_doc),
	TEST(forget_by_path_prefix),
	TEST(runs_and_problems),
	TEST(readonly_open_writes_nothing),
	TEST(per_doc_keeps_every_document),
};
/* clang-format on */
TEST_MAIN(tests)
