/* test_indexer.c - the chunker and incremental index runs. */
#include <signal.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <unistd.h>

#include "../common/buf.h"
#include "../common/fsutil.h"
#include "../common/status.h"
#include "../common/utf8.h"
#include "../indexer/indexer.h"
#include "../store/store.h"
#include "harness.h"

/* ---- chunker ---------------------------------------------------------- */

static char *make_text(size_t paragraphs, size_t sentences, const char *word)
{
	struct mx_buf b;
	mx_buf_init(&b, 1 << 24);
	for (size_t p = 0; p < paragraphs; p++) {
		for (size_t s = 0; s < sentences; s++)
			mx_buf_appendf(&b, "Sentence %zu of paragraph %zu has %s words in it. ", s,
				       p, word);
		mx_buf_appends(&b, "\n\n");
	}
	return mx_buf_detach(&b);
}

/* Properties every chunking must have. */
static void check_spans(const char *t, size_t n, const struct idx_span *v, size_t k,
			const struct idx_chunk_params *p)
{
	for (size_t i = 0; i < k; i++) {
		CHECK(v[i].start < v[i].end && v[i].end <= n);
		CHECK(mx_utf8_is_valid(t + v[i].start, v[i].end - v[i].start));
		CHECK(idx_tokens_estimate(t + v[i].start, v[i].end - v[i].start) <= p->max_tokens);
		if (i)
			CHECK(v[i].start > v[i - 1].start); /* always moves forward */
	}
	/* every non-space byte is in some chunk */
	size_t covered = 0;
	for (size_t i = 0, j = 0; i < n; i++) {
		while (j < k && v[j].end <= i)
			j++;
		bool in = j < k && v[j].start <= i;
		if (!in && !strchr(" \t\n\r", t[i]))
			covered++;
	}
	CHECK_EQ_INT(covered, 0);
}

static void chunk_sizes_and_overlap(void)
{
	struct idx_chunk_params p = idx_chunk_params_default();
	char *t = make_text(20, 12, "several");
	size_t n = strlen(t), k = 0;
	struct idx_span *v = NULL;
	CHECK_EQ_INT(idx_chunk_text(t, n, 0, &p, &v, &k), 0);
	CHECK(k >= 3);
	check_spans(t, n, v, k, &p);
	/* all but the last chunk reach the target */
	for (size_t i = 0; i + 1 < k; i++)
		CHECK(idx_tokens_estimate(t + v[i].start, v[i].end - v[i].start) >= 200);
	/* line spans: chunk 0 starts at line 1 */
	CHECK_EQ_INT(v[0].line_start, 1);
	CHECK(v[k - 1].line_end >= v[k - 1].line_start);
	free(v);
	free(t);

	/* one long paragraph: consecutive chunks overlap */
	t = make_text(1, 200, "many");
	n = strlen(t);
	CHECK_EQ_INT(idx_chunk_text(t, n, 10, &p, &v, &k), 0);
	CHECK(k >= 3);
	check_spans(t, n, v, k, &p);
	for (size_t i = 1; i < k; i++)
		CHECK(v[i].start < v[i - 1].end);
	CHECK_EQ_INT(v[0].line_start, 11); /* line_base 10 */
	free(v);
	free(t);
}

static void chunk_small_tail_joins(void)
{
	struct idx_chunk_params p = idx_chunk_params_default();
	char *body = make_text(6, 12, "several");
	size_t bl = strlen(body);
	char *t = malloc(bl + 32);
	memcpy(t, body, bl);
	memcpy(t + bl, "#travel #lisbon\n", 17);
	size_t n = bl + 16, k = 0;
	struct idx_span *v = NULL;
	CHECK_EQ_INT(idx_chunk_text(t, n, 0, &p, &v, &k), 0);
	CHECK(k >= 2);
	/* the tag line is not a chunk of its own */
	CHECK(v[k - 1].end == n - 1); /* the trailing newline is not in a chunk */
	CHECK(idx_tokens_estimate(t + v[k - 1].start, v[k - 1].end - v[k - 1].start) > 50);
	check_spans(t, n, v, k, &p);
	free(v);
	free(t);
	free(body);
}

static void chunk_never_splits_utf8(void)
{
	struct idx_chunk_params p = { .target_tokens = 20, .max_tokens = 30, .overlap_tokens = 5 };
	/* a run of CJK with no spaces or stops, and a giant "word" */
	struct mx_buf b;
	mx_buf_init(&b, 1 << 20);
	for (int i = 0; i < 500; i++)
		mx_buf_appends(&b, "\xe6\x97\xa5\xe6\x9c\xac"); /* 日本 */
	mx_buf_appends(&b, "\n\n");
	for (int i = 0; i < 3000; i++)
		mx_buf_appends(&b, i % 7 ? "x" : "\xc3\xa9");
	size_t k = 0;
	struct idx_span *v = NULL;
	CHECK_EQ_INT(idx_chunk_text(b.data, b.len, -1, &p, &v, &k), 0);
	CHECK(k > 10);
	check_spans(b.data, b.len, v, k, &p);
	CHECK_EQ_INT(v[0].line_start, 0); /* no line mapping */
	free(v);
	mx_buf_free(&b);
}

static void chunk_small_and_empty(void)
{
	struct idx_chunk_params p = idx_chunk_params_default();
	size_t k = 9;
	struct idx_span *v = NULL;
	CHECK_EQ_INT(idx_chunk_text(" \n\n \t", 5, 0, &p, &v, &k), 0);
	CHECK_EQ_INT(k, 0);
	free(v);
	const char *t = "\n\nOne line.\nTwo line.\n";
	CHECK_EQ_INT(idx_chunk_text(t, strlen(t), 0, &p, &v, &k), 0);
	CHECK_EQ_INT(k, 1);
	if (k == 1) {
		CHECK_EQ_INT(v[0].start, 2);
		CHECK_EQ_INT(v[0].line_start, 3);
		CHECK_EQ_INT(v[0].line_end, 4);
	}
	free(v);
	struct idx_chunk_params bad = { .target_tokens = 500, .max_tokens = 400 };
	CHECK_EQ_INT(idx_chunk_text(t, strlen(t), 0, &bad, &v, &k), MX_EINVAL);
}

/* ---- runs ------------------------------------------------------------- */

struct env {
	const char *dir;
	char *notes, *db;
	struct store *st;
	int64_t src;
};

static void env_open(struct env *e)
{
	e->dir = test_tmpdir();
	e->notes = mx_path_join(e->dir, "notes");
	e->db = mx_path_join(e->dir, "index.db");
	mx_mkdir_p(e->notes);
	CHECK_EQ_INT(store_open(e->db, STORE_CREATE, &e->st), 0);
	CHECK_EQ_INT(store_source_add(e->st, e->notes, "notes", &e->src), 0);
}

static void env_close(struct env *e)
{
	store_close(e->st);
	free(e->notes);
	free(e->db);
}

static int run(struct env *e, struct idx_stats *s, const struct idx_params *pp)
{
	struct idx_params p = pp ? *pp : idx_params_default();
	memset(s, 0, sizeof *s);
	struct indexer *ix = idx_new(e->st, &p);
	int rc = idx_run(ix, NULL, s);
	idx_free(ix);
	return rc;
}

static long long q(struct env *e, const char *sql)
{
	sqlite3 *h = NULL;
	sqlite3_stmt *s = NULL;
	long long v = -1;
	if (sqlite3_open_v2(e->db, &h, SQLITE_OPEN_READONLY, NULL) == SQLITE_OK &&
	    sqlite3_prepare_v2(h, sql, -1, &s, NULL) == SQLITE_OK && sqlite3_step(s) == SQLITE_ROW)
		v = sqlite3_column_int64(s, 0);
	sqlite3_finalize(s);
	sqlite3_close(h);
	return v;
}

static void set_mtime(const char *dir, const char *name, time_t t)
{
	char *p = mx_path_join(dir, name);
	struct timeval tv[2] = { { t, 0 }, { t, 0 } };
	utimes(p, tv);
	free(p);
}

static void incremental_runs(void)
{
	struct env e;
	struct idx_stats s;
	env_open(&e);
	test_write_str(e.notes, "a.md", "# Alpha\n\nThe alpha note mentions apricots.\n");
	test_write_str(e.notes, "b.md", "# Beta\n\nThe beta note mentions bananas.\n");
	test_write_str(e.notes, "sub/c.txt", "Cherries in a text file.\n");
	test_write_str(e.notes, ".hidden/x.md", "never indexed\n");
	CHECK_EQ_INT(run(&e, &s, NULL), 0);
	CHECK_EQ_INT(s.added, 3);
	CHECK_EQ_INT(s.files_opened, 3);
	CHECK_EQ_INT(q(&e, "SELECT count(*) FROM documents"), 3);

	/* nothing changed: nothing opened */
	CHECK_EQ_INT(run(&e, &s, NULL), 0);
	CHECK_EQ_INT(s.files_opened, 0);
	CHECK_EQ_INT(s.unchanged, 3);

	/* touched: opened and hashed, not re-parsed */
	long long chunk_before = q(&e, "SELECT min(id) FROM chunks");
	set_mtime(e.notes, "a.md", 1000000000);
	CHECK_EQ_INT(run(&e, &s, NULL), 0);
	CHECK_EQ_INT(s.files_opened, 1);
	CHECK_EQ_INT(s.updated, 0);
	CHECK_EQ_INT(q(&e, "SELECT min(id) FROM chunks"), chunk_before);

	/* changed content */
	test_write_str(e.notes, "b.md", "# Beta\n\nNow it is about blueberries.\n");
	set_mtime(e.notes, "b.md", 1000000100);
	CHECK_EQ_INT(run(&e, &s, NULL), 0);
	CHECK_EQ_INT(s.updated, 1);
	CHECK_EQ_INT(q(&e, "SELECT count(*) FROM chunks_fts WHERE chunks_fts MATCH 'bananas'"), 0);
	CHECK_EQ_INT(q(&e, "SELECT count(*) FROM chunks_fts WHERE chunks_fts MATCH 'blueberries'"),
		     1);

	/* rename: the document moves, nothing is duplicated or re-chunked */
	long long doc_before = q(&e, "SELECT id FROM documents WHERE path = 'sub/c.txt'");
	char *from = mx_path_join(e.notes, "sub/c.txt"), *to = mx_path_join(e.notes, "c2.txt");
	CHECK(rename(from, to) == 0);
	CHECK_EQ_INT(run(&e, &s, NULL), 0);
	CHECK_EQ_INT(s.moved, 1);
	CHECK_EQ_INT(s.added, 0);
	CHECK_EQ_INT(s.removed, 0);
	CHECK_EQ_INT(q(&e, "SELECT count(*) FROM documents"), 3);
	CHECK_EQ_INT(q(&e, "SELECT id FROM documents WHERE path = 'c2.txt'"), doc_before);

	/* delete */
	CHECK(unlink(to) == 0);
	CHECK_EQ_INT(run(&e, &s, NULL), 0);
	CHECK_EQ_INT(s.removed, 1);
	CHECK_EQ_INT(q(&e, "SELECT count(*) FROM documents"), 2);
	CHECK_EQ_INT(q(&e, "SELECT count(*) FROM chunks"),
		     q(&e, "SELECT count(*) FROM chunks_fts"));
	free(from);
	free(to);
	env_close(&e);
}

static void problems_recorded_run_goes_on(void)
{
	struct env e;
	struct idx_stats s;
	env_open(&e);
	test_write_str(e.notes, "good.md", "fine text\n");
	test_write(e.notes, "bin.md", "\x00\x01\x02\x03", 4);
	test_write_str(e.notes, "empty.md", "");
	test_write_str(e.notes, "photo.jpg", "\xff\xd8\xff\xe0");
	test_write_str(e.notes, "big.txt", "0123456789012345678901234567890123456789\n");
	char *fifo = mx_path_join(e.notes, "pipe");
	CHECK(mkfifo(fifo, 0600) == 0);
	struct idx_params p = idx_params_default();
	p.max_file_size = 32;
	CHECK_EQ_INT(run(&e, &s, &p), MX_EPARTIAL);
	CHECK_EQ_INT(s.added, 1);
	CHECK_EQ_INT(s.failed, 2);	 /* binary, too large */
	CHECK_EQ_INT(s.skipped, 3);	 /* empty, jpg, fifo */
	CHECK_EQ_INT(s.files_opened, 2); /* good.md and bin.md only */
	CHECK_EQ_INT(q(&e, "SELECT count(*) FROM documents WHERE status = 'error' AND "
			   "error LIKE '%binary%'"),
		     1);
	CHECK_EQ_INT(q(&e, "SELECT count(*) FROM documents WHERE status = 'error' AND "
			   "error LIKE '%too large%'"),
		     1);
	/* failed files are not reopened when unchanged; the run stays partial */
	CHECK_EQ_INT(run(&e, &s, &p), MX_EPARTIAL);
	CHECK_EQ_INT(s.files_opened, 0);
	/* fixing the file clears the error */
	test_write_str(e.notes, "bin.md", "now it is text\n");
	set_mtime(e.notes, "bin.md", 1000000000);
	char *big = mx_path_join(e.notes, "big.txt");
	unlink(big);
	CHECK_EQ_INT(run(&e, &s, &p), 0);
	CHECK_EQ_INT(q(&e, "SELECT count(*) FROM documents WHERE status = 'error'"), 0);
	free(big);
	free(fifo);
	env_close(&e);
}

static void unreadable_source_deletes_nothing(void)
{
	struct env e;
	struct idx_stats s;
	env_open(&e);
	test_write_str(e.notes, "a.md", "apricots\n");
	CHECK_EQ_INT(run(&e, &s, NULL), 0);
	/* the folder vanishes (an unmounted disk): keep what we have */
	char *moved = mx_path_join(e.dir, "elsewhere");
	CHECK(rename(e.notes, moved) == 0);
	CHECK_EQ_INT(run(&e, &s, NULL), MX_EPARTIAL);
	CHECK_EQ_INT(s.walk_errors, 1);
	CHECK_EQ_INT(s.removed, 0);
	CHECK_EQ_INT(q(&e, "SELECT count(*) FROM documents"), 1);
	CHECK(rename(moved, e.notes) == 0);
	free(moved);
	env_close(&e);
}

static volatile sig_atomic_t cancel_flag;

static void cancel_after(enum idx_event ev, const char *path, const char *why, void *ctx)
{
	(void)path;
	(void)why;
	int *n = ctx;
	if (ev == IDX_EV_ADDED && ++*n == 30)
		cancel_flag = 1;
}

static void cancel_keeps_work_and_resumes(void)
{
	struct env e;
	struct idx_stats s;
	env_open(&e);
	for (int i = 0; i < 100; i++) {
		char name[32], body[64];
		snprintf(name, sizeof name, "n%03d.md", i);
		snprintf(body, sizeof body, "note number %d\n", i);
		test_write_str(e.notes, name, body);
	}
	int added = 0;
	struct idx_params p = idx_params_default();
	p.batch_docs = 7;
	p.cancel = &cancel_flag;
	p.event = cancel_after;
	p.ctx = &added;
	CHECK_EQ_INT(run(&e, &s, &p), MX_EINTR);
	long long kept = q(&e, "SELECT count(*) FROM documents");
	CHECK(kept >= 30 && kept < 100);
	CHECK_EQ_INT(q(&e, "SELECT count(*) FROM runs WHERE status = 'interrupted'"), 1);
	cancel_flag = 0;
	CHECK_EQ_INT(run(&e, &s, NULL), 0);
	CHECK_EQ_INT(s.added, 100 - kept);
	CHECK_EQ_INT(q(&e, "SELECT count(*) FROM documents"), 100);
	CHECK_EQ_INT(q(&e, "SELECT count(*) FROM (SELECT path FROM documents GROUP BY path "
			   "HAVING count(*) > 1)"),
		     0);
	env_close(&e);
}

static void full_reparses(void)
{
	struct env e;
	struct idx_stats s;
	env_open(&e);
	test_write_str(e.notes, "a.md", "apricots\n");
	CHECK_EQ_INT(run(&e, &s, NULL), 0);
	struct idx_params p = idx_params_default();
	p.full = true;
	CHECK_EQ_INT(run(&e, &s, &p), 0);
	CHECK_EQ_INT(s.files_opened, 1);
	CHECK_EQ_INT(s.updated, 1);
	env_close(&e);
}

static void chunk_one_huge_line_is_linear(void)
{
	/* 4 MB of words and no sentence end: once quadratic (seconds per MB) */
	size_t n = 4u << 20;
	char *t = malloc(n + 1);
	for (size_t i = 0; i < n; i++)
		t[i] = i % 7 == 6 ? ' ' : (char)('a' + i % 26);
	t[n] = '\0';
	struct idx_chunk_params p = idx_chunk_params_default();
	struct idx_span *v = NULL;
	size_t k = 0;
	CHECK_EQ_INT(idx_chunk_text(t, n, 0, &p, &v, &k), 0);
	CHECK(k > 1000);
	for (size_t i = 0; i < k; i++)
		CHECK(idx_tokens_estimate(t + v[i].start, v[i].end - v[i].start) <= p.max_tokens);
	free(v);
	free(t);
}

static void rename_updates_title_and_far_mtimes(void)
{
	struct env e;
	struct idx_stats s;
	env_open(&e);
	test_write_str(e.notes, "groceries.txt", "milk and bread\n");
	CHECK_EQ_INT(run(&e, &s, NULL), 0);
	char *from = mx_path_join(e.notes, "groceries.txt"),
	     *to = mx_path_join(e.notes, "shopping.md");
	CHECK(rename(from, to) == 0);
	CHECK_EQ_INT(run(&e, &s, NULL), 0);
	CHECK_EQ_INT(s.moved, 1);
	CHECK_EQ_INT(
		q(&e, "SELECT count(*) FROM documents WHERE title = 'shopping' AND type = 'note'"),
		1);
	CHECK_EQ_INT(
		q(&e, "SELECT count(*) FROM chunks_fts WHERE chunks_fts MATCH 'title:shopping'"),
		1);
	/* a file from the year 2300: no overflow (UBSan watches) */
	set_mtime(e.notes, "shopping.md", (time_t)10413792000LL);
	CHECK_EQ_INT(run(&e, &s, NULL), 0);
	free(from);
	free(to);
	env_close(&e);
}

/* An RFC 5322 message. */
static void mkmsg(char *buf, size_t n, const char *id, const char *subject, const char *body)
{
	snprintf(buf, n,
		 "From: Ann <ann@example.org>\nTo: Bob <bob@example.org>\nSubject: %s\n"
		 "Date: Mon, 2 Nov 2026 10:00:00 +0100\nMessage-ID: <%s@example.org>\n\n%s\n",
		 subject, id, body);
}

/* A maildir source Mail/ beside the notes (malloc'd path). */
static char *env_maildir(struct env *e)
{
	char *md = mx_path_join(e->dir, "Mail");
	int64_t src = 0;
	CHECK_EQ_INT(store_source_add(e->st, md, "maildir", &src), 0);
	mx_mkdir_p(md);
	return md;
}

static void maildir_flags_move_without_rechunking(void)
{
	struct env e;
	struct idx_stats s;
	env_open(&e);
	char *md = env_maildir(&e);
	char m[512];
	mkmsg(m, sizeof m, "a1", "Cabin weekend", "we bring the boat");
	test_write_str(md, "new/1700000000.M1P1.host", m);
	mkmsg(m, sizeof m, "a2", "Re: Cabin weekend", "and the fishing rods");
	test_write_str(md, ".Travel/cur/1700000001.M2P2.host:2,S", m);
	CHECK_EQ_INT(run(&e, &s, NULL), 0);
	CHECK_EQ_INT(s.added, 2);
	CHECK_EQ_INT(q(&e, "SELECT count(*) FROM documents WHERE flags = '' AND folder = 'INBOX'"),
		     1);
	CHECK_EQ_INT(
		q(&e, "SELECT count(*) FROM documents WHERE flags = 'S' AND folder = 'Travel'"), 1);
	long long chunk = q(&e, "SELECT c.id FROM chunks c JOIN documents d ON d.id = c.doc_id"
				" WHERE d.message_id = 'a1@example.org'");
	/* read: new/ -> cur/ with flags RS; the client renames, nothing else */
	char *from = mx_path_join(md, "new/1700000000.M1P1.host");
	char *to = mx_path_join(md, "cur/1700000000.M1P1.host:2,SR");
	char *cur = mx_path_join(md, "cur");
	mx_mkdir_p(cur);
	CHECK(rename(from, to) == 0);
	CHECK_EQ_INT(run(&e, &s, NULL), 0);
	CHECK_EQ_INT(s.moved, 1);
	CHECK_EQ_INT(s.files_opened, 0); /* found by its unique name */
	CHECK_EQ_INT(s.added + s.updated + s.removed, 0);
	CHECK_EQ_INT(q(&e, "SELECT count(*) FROM documents WHERE message_id = 'a1@example.org'"
			   " AND flags = 'RS'"),
		     1);
	CHECK_EQ_INT(q(&e, "SELECT c.id FROM chunks c JOIN documents d ON d.id = c.doc_id"
			   " WHERE d.message_id = 'a1@example.org'"),
		     chunk);
	free(cur);
	free(from);
	free(to);
	free(md);
	env_close(&e);
}

static void mbox_append_reads_only_new_messages(void)
{
	struct env e;
	struct idx_stats s;
	env_open(&e);
	char *box = mx_path_join(e.dir, "inbox.mbox");
	int64_t src = 0;
	CHECK_EQ_INT(store_source_add(e.st, box, "mbox", &src), 0);
	char m[512], all[4096] = "";
	for (int i = 0; i < 3; i++) {
		char id[16], subj[32];
		snprintf(id, sizeof id, "m%d", i);
		snprintf(subj, sizeof subj, "Message %d", i);
		mkmsg(m, sizeof m, id, subj, ">From the body, quoted in the file");
		size_t k = strlen(all);
		snprintf(all + k, sizeof all - k,
			 "From ann@example.org Mon Nov  2 10:00:00 2026\n%s\n", m);
	}
	test_write_str(e.dir, "inbox.mbox", all);
	CHECK_EQ_INT(run(&e, &s, NULL), 0);
	CHECK_EQ_INT(s.added, 3);
	long long first = q(&e, "SELECT min(id) FROM chunks");
	/* unchanged: not opened */
	CHECK_EQ_INT(run(&e, &s, NULL), 0);
	CHECK_EQ_INT(s.files_opened, 0);
	/* appended: only the new message is read */
	mkmsg(m, sizeof m, "m3", "Message 3", "the appended one");
	size_t k = strlen(all);
	snprintf(all + k, sizeof all - k, "From ann@example.org Mon Nov  2 11:00:00 2026\n%s\n", m);
	test_write_str(e.dir, "inbox.mbox", all);
	set_mtime(e.dir, "inbox.mbox", 1000000000);
	CHECK_EQ_INT(run(&e, &s, NULL), 0);
	CHECK_EQ_INT(s.added, 1);
	CHECK_EQ_INT(q(&e, "SELECT count(*) FROM documents WHERE type = 'mail'"), 4);
	CHECK_EQ_INT(q(&e, "SELECT min(id) FROM chunks"), first);
	/* rewritten (the first message changed): everything is read again */
	all[strlen("From ann@example.org Mon Nov  2 10:00:00 2026\nFrom: ")] = 'E';
	test_write_str(e.dir, "inbox.mbox", all);
	set_mtime(e.dir, "inbox.mbox", 1000000100);
	CHECK_EQ_INT(run(&e, &s, NULL), 0);
	CHECK_EQ_INT(s.added, 4);
	CHECK_EQ_INT(q(&e, "SELECT count(*) FROM documents WHERE type = 'mail'"), 4);
	/* mboxrd unquoting: the body's ">From" lost its '>' */
	CHECK_EQ_INT(q(&e, "SELECT count(*) FROM chunks WHERE text LIKE 'From the body, quoted%'"),
		     3);
	CHECK_EQ_INT(q(&e, "SELECT count(*) FROM chunks WHERE text LIKE '%>From%'"), 0);
	free(box);
	env_close(&e);
}


/* A mail of its own with the given Message-ID and References headers
 * (either may be NULL: left out). */
static void mkthreadmsg(char *buf, size_t n, const char *mid, const char *refs, const char *subj)
{
	snprintf(buf, n,
		 "From: Ann <ann@example.org>\nTo: Bob <bob@example.org>\nSubject: %s\n"
		 "Date: Mon, 2 Nov 2026 10:00:00 +0100\n%s%s%s%s%s%s\nbody of %s\n",
		 subj, mid ? "Message-ID: " : "", mid ? mid : "", mid ? "\n" : "",
		 refs ? "References: " : "", refs ? refs : "", refs ? "\n" : "", subj);
}

/* Ids that are not local@domain (notmuch's lkml corpus has
 * "References: <yes>") link nothing: two unrelated threads that both refer
 * to <yes> stay apart, a real reply beside the junk still joins its
 * parent, and two messages whose own Message-ID is junk are not one
 * message's thread. */
static void threads_ignore_ids_without_at(void)
{
	struct env e;
	struct idx_stats s;
	env_open(&e);
	char *md = env_maildir(&e);
	char m[1024];
	mkthreadmsg(m, sizeof m, "<p1@example.org>", NULL, "Patch one");
	test_write_str(md, "cur/1700000001.M1P1.host:2,S", m);
	mkthreadmsg(m, sizeof m, "<r1@example.org>", "<yes> <p1@example.org>", "Re: Patch one");
	test_write_str(md, "cur/1700000002.M2P2.host:2,S", m);
	mkthreadmsg(m, sizeof m, "<p2@example.org>", "<yes>", "Makefile change");
	test_write_str(md, "cur/1700000003.M3P3.host:2,S", m);
	mkthreadmsg(m, sizeof m, "<p3@example.org>", "<yes> <@> <x@> <@y> <message>", "FS-Cache");
	test_write_str(md, "cur/1700000004.M4P4.host:2,S", m);
	/* bare junk as the own id: each its own thread */
	mkthreadmsg(m, sizeof m, "<junk>", NULL, "Junk one");
	test_write_str(md, "cur/1700000005.M5P5.host:2,S", m);
	mkthreadmsg(m, sizeof m, "<junk>", NULL, "Junk two");
	test_write_str(md, "cur/1700000006.M6P6.host:2,S", m);
	CHECK_EQ_INT(run(&e, &s, NULL), 0);
	CHECK_EQ_INT(s.added, 6);
	CHECK_EQ_INT(q(&e, "SELECT count(DISTINCT thread_id) FROM documents WHERE type = 'mail'"),
		     5);
	CHECK_EQ_INT(q(&e, "SELECT count(DISTINCT thread_id) FROM documents WHERE message_id IN "
			   "('p1@example.org', 'r1@example.org')"),
		     1);
	CHECK_EQ_INT(q(&e, "SELECT count(DISTINCT thread_id) FROM documents WHERE message_id IN "
			   "('p1@example.org', 'p2@example.org', 'p3@example.org')"),
		     3);
	CHECK_EQ_INT(q(&e, "SELECT count(*) FROM documents WHERE type = 'mail' AND "
			   "thread_id IS NULL"),
		     0);
	free(md);
	env_close(&e);
}

/* clang-format off */
static const struct test_case tests[] = {
	TEST(chunk_sizes_and_overlap),
	TEST(chunk_small_tail_joins),
	TEST(chunk_never_splits_utf8),
	TEST(chunk_small_and_empty),
	TEST(incremental_runs),
	TEST(problems_recorded_run_goes_on),
	TEST(unreadable_source_deletes_nothing),
	TEST(cancel_keeps_work_and_resumes),
	TEST(full_reparses),
	TEST(chunk_one_huge_line_is_linear),
	TEST(rename_updates_title_and_far_mtimes),
	TEST(maildir_flags_move_without_rechunking),
	TEST(mbox_append_reads_only_new_messages),
	TEST(threads_ignore_ids_without_at),
};
/* clang-format on */
TEST_MAIN(tests)
