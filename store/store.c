/*
 * store.c - opening, migrating and querying the SQLite index.
 */
#include "store_int.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "../common/fsutil.h"
#include "../common/status.h"

/* ===================================================================== */
/* errors                                                                */
/* ===================================================================== */

static void set_msg(struct store *st, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void set_msg(struct store *st, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(st->msg, sizeof st->msg, fmt, ap);
	va_end(ap);
}

int store_fail(struct store *st, int src, const char *what)
{
	const char *m = st->db ? sqlite3_errmsg(st->db) : sqlite3_errstr(src);
	set_msg(st, "%s: %s", what, m);
	switch (src & 0xff) {
	case SQLITE_NOMEM: return MX_ENOMEM;
	case SQLITE_CORRUPT:
	case SQLITE_NOTADB: return MX_ECORRUPT;
	case SQLITE_READONLY: return MX_EREADONLY;
	case SQLITE_PERM:
	case SQLITE_AUTH: return MX_EPERM;
	case SQLITE_BUSY:
	case SQLITE_LOCKED: return MX_EBUSY;
	case SQLITE_CANTOPEN: return MX_EIO;
	case SQLITE_FULL:
	case SQLITE_IOERR: return MX_EIO;
	default: return MX_EDB;
	}
}

const char *store_errmsg(const struct store *st)
{
	return st ? st->msg : "out of memory";
}

int store_schema_version(const struct store *st)
{
	return st->found_version;
}

/* ===================================================================== */
/* open, migrate, close                                                  */
/* ===================================================================== */

static int exec(struct store *st, const char *sql, const char *what)
{
	int src = sqlite3_exec(st->db, sql, NULL, NULL, NULL);
	return src == SQLITE_OK ? 0 : store_fail(st, src, what);
}

static int migrate(struct store *st)
{
	int rc = 0;
	for (int v = st->found_version; v < STORE_SCHEMA_VERSION; v++) {
		if ((rc = exec(st, "BEGIN IMMEDIATE", "cannot upgrade the index")))
			return rc;
		rc = exec(st, store_migration_sql(v), "cannot upgrade the index");
		if (!rc) {
			char sql[64];
			snprintf(sql, sizeof sql, "PRAGMA user_version = %d", v + 1);
			rc = exec(st, sql, "cannot upgrade the index");
		}
		if (!rc)
			rc = exec(st, "COMMIT", "cannot upgrade the index");
		if (rc) {
			sqlite3_exec(st->db, "ROLLBACK", NULL, NULL, NULL);
			return rc;
		}
	}
	return 0;
}

static int read_user_version(struct store *st, int *v)
{
	sqlite3_stmt *s = NULL;
	int src = sqlite3_prepare_v2(st->db, "PRAGMA user_version", -1, &s, NULL);
	if (src == SQLITE_OK) {
		src = sqlite3_step(s);
		if (src == SQLITE_ROW) {
			*v = sqlite3_column_int(s, 0);
			src = SQLITE_OK;
		}
	}
	sqlite3_finalize(s);
	return src;
}

/* Whether the index file and its folder (for the -wal and -shm files) can
 * be written; errno tells why not. */
static bool writable(const char *path)
{
	if (access(path, W_OK) != 0 && errno != ENOENT)
		return false;
	const char *slash = strrchr(path, '/');
	char dir[4096];
	if (!slash)
		snprintf(dir, sizeof dir, ".");
	else if (slash == path)
		snprintf(dir, sizeof dir, "/");
	else
		snprintf(dir, sizeof dir, "%.*s", (int)(slash - path), path);
	return access(dir, W_OK) == 0;
}

/* Opens path read-only with SQLite's immutable flag (a URI, so the path is
 * percent-encoded). */
static int open_immutable(struct store *st, const char *path)
{
	static const char hex[] = "0123456789ABCDEF";
	size_t n = strlen(path);
	char *uri = malloc(n * 3 + 32);
	if (!uri)
		return MX_ENOMEM;
	char *o = uri;
	memcpy(o, "file:", 5);
	o += 5;
	for (const unsigned char *p = (const unsigned char *)path; *p; p++) {
		if (*p == '?' || *p == '#' || *p == '%' || *p <= ' ' || *p >= 0x7f) {
			*o++ = '%';
			*o++ = hex[*p >> 4];
			*o++ = hex[*p & 15];
		} else {
			*o++ = (char)*p;
		}
	}
	memcpy(o, "?immutable=1", 13);
	int src = sqlite3_open_v2(
		uri, &st->db, SQLITE_OPEN_READONLY | SQLITE_OPEN_URI | SQLITE_OPEN_NOMUTEX, NULL);
	free(uri);
	if (src != SQLITE_OK)
		return store_fail(st, src, "cannot open the index");
	sqlite3_extended_result_codes(st->db, 1);
	return 0;
}

int store_open(const char *path, int flags, struct store **out)
{
	int rc = 0, src;
	struct store *st = calloc(1, sizeof *st);
	*out = st;
	if (!st)
		return MX_ENOMEM;
	st->flags = flags;

	struct stat sb;
	if (stat(path, &sb) != 0) {
		if (errno != ENOENT || !(flags & STORE_CREATE) || (flags & STORE_READONLY)) {
			rc = mx_status_from_errno(errno);
			set_msg(st, "%s", rc == MX_ENOTFOUND ? "no index here" : strerror(errno));
			return rc;
		}
		/* Create the file ourselves so it is 0600 whatever the umask;
		 * SQLite gives its -wal and -shm files the same mode. */
		int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
		if (fd < 0 && errno != EEXIST) {
			rc = mx_status_from_errno(errno);
			set_msg(st, "cannot create the index: %s", strerror(errno));
			return rc;
		}
		if (fd >= 0)
			close(fd);
	} else if (!S_ISREG(sb.st_mode)) {
		set_msg(st, "the index is not a regular file");
		return MX_ENOTREG;
	}

	if (!(flags & STORE_READONLY) && !writable(path)) {
		bool rofs = errno == EROFS;
		set_msg(st, "%s",
			rofs ? "the index is on a read-only file system"
			     : "no permission to write the index or its folder");
		return rofs ? MX_EREADONLY : MX_EPERM;
	}
	int oflags = (flags & STORE_READONLY) ? SQLITE_OPEN_READONLY : SQLITE_OPEN_READWRITE;
	src = sqlite3_open_v2(path, &st->db, oflags | SQLITE_OPEN_NOMUTEX, NULL);
	if (src != SQLITE_OK)
		return store_fail(st, src, "cannot open the index");
	sqlite3_extended_result_codes(st->db, 1);
	sqlite3_busy_timeout(st->db, 5000);

	/* Read the version before anything could write to the file: a newer
	 * or foreign database must stay exactly as it is. */
	src = read_user_version(st, &st->found_version);
	if ((src & 0xff) == SQLITE_CANTOPEN && (flags & STORE_READONLY) && !writable(path)) {
		/* A WAL database on read-only media: SQLite cannot create the
		 * -shm file. Nobody can write there either, so reading it as
		 * immutable is safe. */
		sqlite3_close(st->db);
		st->db = NULL;
		if ((rc = open_immutable(st, path)))
			return rc;
		src = read_user_version(st, &st->found_version);
	}
	if (src != SQLITE_OK)
		return store_fail(st, src, "cannot read the index");
	if (st->found_version > STORE_SCHEMA_VERSION) {
		set_msg(st,
			"the index has schema version %d but this memex "
			"knows only up to %d; upgrade memex",
			st->found_version, STORE_SCHEMA_VERSION);
		return MX_ENEWER;
	}
	if (st->found_version == 0 && sb.st_size > 0 && stat(path, &sb) == 0 && sb.st_size > 0) {
		/* A non-empty SQLite file that is not ours. */
		sqlite3_stmt *s = NULL;
		int n = 0;
		if (sqlite3_prepare_v2(st->db, "SELECT count(*) FROM sqlite_schema", -1, &s,
				       NULL) == SQLITE_OK &&
		    sqlite3_step(s) == SQLITE_ROW)
			n = sqlite3_column_int(s, 0);
		sqlite3_finalize(s);
		if (n > 0) {
			set_msg(st, "this database is not a memex index");
			return MX_ECORRUPT;
		}
	}
	if ((rc = exec(st, "PRAGMA foreign_keys = ON", "cannot configure the index")))
		return rc;
	if (flags & STORE_READONLY) {
		if (st->found_version < STORE_SCHEMA_VERSION) {
			set_msg(st,
				"the index has schema version %d and needs an "
				"upgrade; run any writing command (memex index)",
				st->found_version);
			return MX_EREADONLY;
		}
		return 0;
	}
	if (sqlite3_db_readonly(st->db, "main") == 1) {
		set_msg(st, "the index is read-only (check the permissions of "
			    "the file and its folder)");
		return MX_EREADONLY;
	}
	if ((rc = exec(st, "PRAGMA journal_mode = WAL", "cannot open the index for writing")))
		return rc;
	if ((rc = exec(st, "PRAGMA synchronous = NORMAL", "cannot configure the index")))
		return rc;
	return migrate(st);
}

void store_close(struct store *st)
{
	if (!st)
		return;
	sqlite3_close(st->db);
	free(st);
}

int store_begin(struct store *st)
{
	return exec(st, "BEGIN IMMEDIATE", "cannot start a transaction");
}

int store_commit(struct store *st)
{
	return exec(st, "COMMIT", "cannot commit");
}

void store_rollback(struct store *st)
{
	if (!sqlite3_get_autocommit(st->db))
		sqlite3_exec(st->db, "ROLLBACK", NULL, NULL, NULL);
}

int store_check(struct store *st)
{
	sqlite3_stmt *s = NULL;
	int rc = 0;
	int src = sqlite3_prepare_v2(st->db, "PRAGMA integrity_check", -1, &s, NULL);
	if (src != SQLITE_OK)
		return store_fail(st, src, "cannot check the index");
	src = sqlite3_step(s);
	if (src == SQLITE_ROW) {
		const char *r = (const char *)sqlite3_column_text(s, 0);
		if (!r || strcmp(r, "ok") != 0) {
			set_msg(st, "integrity check failed: %s", r ? r : "?");
			rc = MX_ECORRUPT;
		}
	} else {
		rc = store_fail(st, src, "cannot check the index");
	}
	sqlite3_finalize(s);
	return rc;
}

/* ===================================================================== */
/* statement helpers                                                     */
/* ===================================================================== */

static int prep(struct store *st, const char *sql, sqlite3_stmt **s)
{
	int src = sqlite3_prepare_v2(st->db, sql, -1, s, NULL);
	return src == SQLITE_OK ? 0 : store_fail(st, src, "query failed");
}

static void bind_text(sqlite3_stmt *s, int i, const char *v)
{
	if (v)
		sqlite3_bind_text(s, i, v, -1, SQLITE_STATIC);
	else
		sqlite3_bind_null(s, i);
}

/* Steps a statement that returns no rows. */
static int step_done(struct store *st, sqlite3_stmt *s, const char *what)
{
	int src = sqlite3_step(s);
	return src == SQLITE_DONE ? 0 : store_fail(st, src, what);
}

static char *col_dup(sqlite3_stmt *s, int i)
{
	const unsigned char *t = sqlite3_column_text(s, i);
	if (!t)
		return NULL;
	size_t n = (size_t)sqlite3_column_bytes(s, i);
	char *p = malloc(n + 1);
	if (p) {
		memcpy(p, t, n);
		p[n] = '\0';
	}
	return p;
}

static void col_copy(sqlite3_stmt *s, int i, char *dst, size_t cap)
{
	const char *t = (const char *)sqlite3_column_text(s, i);
	snprintf(dst, cap, "%s", t ? t : "");
}

/* Grows a malloc'd array of elem-size items to hold n + 1. */
static int grow(void **arr, size_t *cap, size_t n, size_t elem)
{
	if (n < *cap)
		return 0;
	size_t c = *cap ? *cap * 2 : 16;
	void *p = realloc(*arr, c * elem);
	if (!p)
		return MX_ENOMEM;
	memset((char *)p + *cap * elem, 0, (c - *cap) * elem);
	*arr = p;
	*cap = c;
	return 0;
}

/* ===================================================================== */
/* sources                                                               */
/* ===================================================================== */

int store_source_add(struct store *st, const char *path, const char *type, int64_t *id)
{
	sqlite3_stmt *s = NULL;
	int rc = prep(st, "SELECT id FROM sources WHERE path = ?", &s);
	if (rc)
		return rc;
	bind_text(s, 1, path);
	if (sqlite3_step(s) == SQLITE_ROW) {
		if (id)
			*id = sqlite3_column_int64(s, 0);
		sqlite3_finalize(s);
		set_msg(st, "already a source");
		return MX_EEXISTS;
	}
	sqlite3_finalize(s);
	if ((rc = prep(st, "INSERT INTO sources(path, type, added_at) VALUES (?, ?, ?)", &s)))
		return rc;
	bind_text(s, 1, path);
	bind_text(s, 2, type);
	sqlite3_bind_int64(s, 3, (sqlite3_int64)time(NULL));
	rc = step_done(st, s, "cannot add the source");
	sqlite3_finalize(s);
	if (!rc && id)
		*id = sqlite3_last_insert_rowid(st->db);
	return rc;
}

int store_source_list(struct store *st, struct store_source **out, size_t *n)
{
	sqlite3_stmt *s = NULL;
	struct store_source *arr = NULL;
	size_t cap = 0, k = 0;
	*out = NULL;
	*n = 0;
	int rc = prep(
		st,
		"SELECT s.id, s.path, s.type, s.added_at, s.last_indexed_at,"
		" (SELECT count(*) FROM documents d WHERE d.source_id = s.id AND d.status = 'ok'),"
		" (SELECT count(*) FROM chunks c JOIN documents d ON c.doc_id = d.id WHERE d.source_id = s.id),"
		" (SELECT count(*) FROM documents d WHERE d.source_id = s.id AND d.status = 'error'),"
		" (SELECT count(*) FROM documents d WHERE d.source_id = s.id AND d.status = 'skipped')"
		" FROM sources s ORDER BY s.path",
		&s);
	if (rc)
		return rc;
	int src;
	while ((src = sqlite3_step(s)) == SQLITE_ROW) {
		if ((rc = grow((void **)&arr, &cap, k, sizeof *arr)))
			goto out;
		struct store_source *x = &arr[k++];
		x->id = sqlite3_column_int64(s, 0);
		x->path = col_dup(s, 1);
		x->type = col_dup(s, 2);
		x->added_at = sqlite3_column_int64(s, 3);
		x->last_indexed_at = sqlite3_column_int64(s, 4);
		x->ndocs = sqlite3_column_int64(s, 5);
		x->nchunks = sqlite3_column_int64(s, 6);
		x->nerrors = sqlite3_column_int64(s, 7);
		x->nskipped = sqlite3_column_int64(s, 8);
		if (!x->path || !x->type) {
			rc = MX_ENOMEM;
			goto out;
		}
	}
	if (src != SQLITE_DONE)
		rc = store_fail(st, src, "cannot list sources");
out:
	sqlite3_finalize(s);
	if (rc) {
		store_sources_free(arr, k);
		return rc;
	}
	*out = arr;
	*n = k;
	return 0;
}

void store_sources_free(struct store_source *s, size_t n)
{
	if (!s)
		return;
	for (size_t i = 0; i < n; i++) {
		free(s[i].path);
		free(s[i].type);
	}
	free(s);
}

int store_source_remove(struct store *st, int64_t id)
{
	sqlite3_stmt *s = NULL;
	int rc = prep(st, "DELETE FROM sources WHERE id = ?", &s);
	if (rc)
		return rc;
	sqlite3_bind_int64(s, 1, id);
	rc = step_done(st, s, "cannot remove the source");
	sqlite3_finalize(s);
	if (!rc && sqlite3_changes(st->db) == 0) {
		set_msg(st, "no such source");
		rc = MX_ENOTFOUND;
	}
	return rc;
}

int store_source_set_indexed(struct store *st, int64_t id, int64_t when)
{
	sqlite3_stmt *s = NULL;
	int rc = prep(st, "UPDATE sources SET last_indexed_at = ? WHERE id = ?", &s);
	if (rc)
		return rc;
	sqlite3_bind_int64(s, 1, when);
	sqlite3_bind_int64(s, 2, id);
	rc = step_done(st, s, "cannot update the source");
	sqlite3_finalize(s);
	return rc;
}

/* ===================================================================== */
/* documents                                                             */
/* ===================================================================== */

static int docinfo_query(struct store *st, sqlite3_stmt *s, struct store_docinfo **out, size_t *n)
{
	struct store_docinfo *arr = NULL;
	size_t cap = 0, k = 0;
	int rc = 0, src;
	while ((src = sqlite3_step(s)) == SQLITE_ROW) {
		if ((rc = grow((void **)&arr, &cap, k, sizeof *arr)))
			goto out;
		struct store_docinfo *d = &arr[k++];
		d->id = sqlite3_column_int64(s, 0);
		d->path = col_dup(s, 1);
		d->part = col_dup(s, 2);
		d->mtime = sqlite3_column_int64(s, 3);
		d->size = sqlite3_column_int64(s, 4);
		col_copy(s, 5, d->hash, sizeof d->hash);
		col_copy(s, 6, d->status, sizeof d->status);
		if (!d->path || !d->part) {
			rc = MX_ENOMEM;
			goto out;
		}
	}
	if (src != SQLITE_DONE)
		rc = store_fail(st, src, "cannot list documents");
out:
	if (rc) {
		store_docinfo_free(arr, k);
		return rc;
	}
	*out = arr;
	*n = k;
	return 0;
}

int store_doc_list(struct store *st, int64_t source_id, struct store_docinfo **out, size_t *n)
{
	sqlite3_stmt *s = NULL;
	*out = NULL;
	*n = 0;
	/* BINARY collation orders like strcmp(), which the caller's
	 * bsearch relies on. */
	int rc = prep(st,
		      "SELECT id, path, part, mtime, size, hash, status "
		      "FROM documents WHERE source_id = ? "
		      "ORDER BY path COLLATE BINARY, part COLLATE BINARY",
		      &s);
	if (rc)
		return rc;
	sqlite3_bind_int64(s, 1, source_id);
	rc = docinfo_query(st, s, out, n);
	sqlite3_finalize(s);
	return rc;
}

int store_doc_find_hash(struct store *st, int64_t source_id, const char *hash,
			struct store_docinfo **out, size_t *n)
{
	sqlite3_stmt *s = NULL;
	*out = NULL;
	*n = 0;
	int rc = prep(st,
		      "SELECT id, path, part, mtime, size, hash, status "
		      "FROM documents WHERE source_id = ? AND hash = ? "
		      "ORDER BY path",
		      &s);
	if (rc)
		return rc;
	sqlite3_bind_int64(s, 1, source_id);
	bind_text(s, 2, hash);
	rc = docinfo_query(st, s, out, n);
	sqlite3_finalize(s);
	return rc;
}

void store_docinfo_free(struct store_docinfo *d, size_t n)
{
	if (!d)
		return;
	for (size_t i = 0; i < n; i++) {
		free(d[i].path);
		free(d[i].part);
	}
	free(d);
}

int store_doc_put(struct store *st, const struct store_doc *doc, const struct store_chunk *chunks,
		  size_t nchunks, int64_t *id)
{
	sqlite3_stmt *s = NULL, *c = NULL, *f = NULL;
	int rc = 0;
	int64_t doc_id = 0;
	const char *part = doc->part ? doc->part : "";

	/* Delete first so chunks, FTS rows and vectors go by cascade and
	 * trigger; the new row gets a new id. */
	if ((rc = prep(st, "DELETE FROM documents WHERE source_id = ? AND path = ? AND part = ?",
		       &s)))
		goto out;
	sqlite3_bind_int64(s, 1, doc->source_id);
	bind_text(s, 2, doc->path);
	bind_text(s, 3, part);
	if ((rc = step_done(st, s, "cannot replace the document")))
		goto out;
	sqlite3_finalize(s);
	s = NULL;

	if ((rc = prep(st,
		       "INSERT INTO documents(source_id, path, part, message_id, mtime,"
		       " size, hash, type, title, author, recipients, date, status,"
		       " error, indexed_at) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
		       &s)))
		goto out;
	sqlite3_bind_int64(s, 1, doc->source_id);
	bind_text(s, 2, doc->path);
	bind_text(s, 3, part);
	bind_text(s, 4, doc->message_id);
	sqlite3_bind_int64(s, 5, doc->mtime);
	sqlite3_bind_int64(s, 6, doc->size);
	bind_text(s, 7, doc->hash ? doc->hash : "");
	bind_text(s, 8, doc->type ? doc->type : "");
	bind_text(s, 9, doc->title);
	bind_text(s, 10, doc->author);
	bind_text(s, 11, doc->recipients);
	sqlite3_bind_int64(s, 12, doc->date);
	bind_text(s, 13, doc->status ? doc->status : "ok");
	bind_text(s, 14, doc->error);
	sqlite3_bind_int64(s, 15, (sqlite3_int64)time(NULL));
	if ((rc = step_done(st, s, "cannot write the document")))
		goto out;
	doc_id = sqlite3_last_insert_rowid(st->db);

	if (nchunks == 0)
		goto out;
	if ((rc = prep(st,
		       "INSERT INTO chunks(doc_id, ordinal, text, byte_start,"
		       " byte_end, line_start, line_end) VALUES (?,?,?,?,?,?,?)",
		       &c)))
		goto out;
	if ((rc = prep(st,
		       "INSERT INTO chunks_fts(rowid, title, author, body) "
		       "VALUES (?,?,?,?)",
		       &f)))
		goto out;
	for (size_t i = 0; i < nchunks; i++) {
		const struct store_chunk *k = &chunks[i];
		if (k->text_len > INT32_MAX) {
			set_msg(st, "chunk too large");
			rc = MX_ETOOBIG;
			goto out;
		}
		sqlite3_reset(c);
		sqlite3_bind_int64(c, 1, doc_id);
		sqlite3_bind_int64(c, 2, (sqlite3_int64)i);
		sqlite3_bind_text(c, 3, k->text, (int)k->text_len, SQLITE_STATIC);
		sqlite3_bind_int64(c, 4, k->byte_start);
		sqlite3_bind_int64(c, 5, k->byte_end);
		sqlite3_bind_int64(c, 6, k->line_start);
		sqlite3_bind_int64(c, 7, k->line_end);
		if ((rc = step_done(st, c, "cannot write a chunk")))
			goto out;
		sqlite3_reset(f);
		sqlite3_bind_int64(f, 1, sqlite3_last_insert_rowid(st->db));
		bind_text(f, 2, doc->title);
		bind_text(f, 3, doc->author);
		sqlite3_bind_text(f, 4, k->text, (int)k->text_len, SQLITE_STATIC);
		if ((rc = step_done(st, f, "cannot index a chunk")))
			goto out;
	}
out:
	sqlite3_finalize(s);
	sqlite3_finalize(c);
	sqlite3_finalize(f);
	if (!rc && id)
		*id = doc_id;
	return rc;
}

int store_doc_move(struct store *st, int64_t id, const char *path, int64_t mtime, int64_t size)
{
	sqlite3_stmt *s = NULL;
	int rc = prep(st, "UPDATE documents SET path = ?, mtime = ?, size = ? WHERE id = ?", &s);
	if (rc)
		return rc;
	bind_text(s, 1, path);
	sqlite3_bind_int64(s, 2, mtime);
	sqlite3_bind_int64(s, 3, size);
	sqlite3_bind_int64(s, 4, id);
	rc = step_done(st, s, "cannot update the document");
	sqlite3_finalize(s);
	return rc;
}

int store_doc_delete(struct store *st, int64_t id)
{
	sqlite3_stmt *s = NULL;
	int rc = prep(st, "DELETE FROM documents WHERE id = ?", &s);
	if (rc)
		return rc;
	sqlite3_bind_int64(s, 1, id);
	rc = step_done(st, s, "cannot delete the document");
	sqlite3_finalize(s);
	return rc;
}

int store_doc_forget(struct store *st, const char *abs, int64_t *ndeleted)
{
	sqlite3_stmt *s = NULL;
	/* Match the path itself or anything below it. substr() rather than
	 * LIKE/GLOB, so that no character of the path is a wildcard; "/" is
	 * its own prefix. */
	size_t n = strlen(abs);
	while (n > 1 && abs[n - 1] == '/')
		n--;
	char *prefix = malloc(n + 2);
	if (!prefix)
		return MX_ENOMEM;
	memcpy(prefix, abs, n);
	if (!(n == 1 && abs[0] == '/'))
		prefix[n++] = '/';
	prefix[n] = '\0';
	int rc = prep(st,
		      "DELETE FROM documents WHERE id IN (SELECT d.id FROM documents d"
		      " JOIN sources s ON d.source_id = s.id"
		      " WHERE " STORE_ABS_PATH " = ?1"
		      "  OR substr(" STORE_ABS_PATH ", 1, length(?2)) = ?2)",
		      &s);
	if (!rc) {
		bind_text(s, 1, abs);
		bind_text(s, 2, prefix);
		rc = step_done(st, s, "cannot forget");
		if (!rc && ndeleted)
			*ndeleted = sqlite3_changes(st->db);
	}
	sqlite3_finalize(s);
	free(prefix);
	return rc;
}

/* ===================================================================== */
/* runs and status                                                       */
/* ===================================================================== */

int store_run_begin(struct store *st, int64_t *id)
{
	sqlite3_stmt *s = NULL;
	int rc = prep(st, "INSERT INTO runs(started_at) VALUES (?)", &s);
	if (rc)
		return rc;
	sqlite3_bind_int64(s, 1, (sqlite3_int64)time(NULL));
	rc = step_done(st, s, "cannot record the run");
	sqlite3_finalize(s);
	if (!rc)
		*id = sqlite3_last_insert_rowid(st->db);
	return rc;
}

int store_run_end(struct store *st, const struct store_run *r)
{
	sqlite3_stmt *s = NULL;
	int rc = prep(st,
		      "UPDATE runs SET finished_at = ?, status = ?, files_seen = ?,"
		      " files_opened = ?, docs_added = ?, docs_updated = ?,"
		      " docs_moved = ?, docs_removed = ?, docs_failed = ? WHERE id = ?",
		      &s);
	if (rc)
		return rc;
	sqlite3_bind_int64(s, 1, r->finished_at);
	bind_text(s, 2, r->status);
	sqlite3_bind_int64(s, 3, r->files_seen);
	sqlite3_bind_int64(s, 4, r->files_opened);
	sqlite3_bind_int64(s, 5, r->docs_added);
	sqlite3_bind_int64(s, 6, r->docs_updated);
	sqlite3_bind_int64(s, 7, r->docs_moved);
	sqlite3_bind_int64(s, 8, r->docs_removed);
	sqlite3_bind_int64(s, 9, r->docs_failed);
	sqlite3_bind_int64(s, 10, r->id);
	rc = step_done(st, s, "cannot record the run");
	sqlite3_finalize(s);
	return rc;
}

int store_run_last(struct store *st, struct store_run *r)
{
	sqlite3_stmt *s = NULL;
	int rc = prep(st,
		      "SELECT id, started_at, finished_at, status, files_seen,"
		      " files_opened, docs_added, docs_updated, docs_moved,"
		      " docs_removed, docs_failed FROM runs ORDER BY id DESC LIMIT 1",
		      &s);
	if (rc)
		return rc;
	int src = sqlite3_step(s);
	if (src == SQLITE_ROW) {
		r->id = sqlite3_column_int64(s, 0);
		r->started_at = sqlite3_column_int64(s, 1);
		r->finished_at = sqlite3_column_int64(s, 2);
		col_copy(s, 3, r->status, sizeof r->status);
		r->files_seen = sqlite3_column_int64(s, 4);
		r->files_opened = sqlite3_column_int64(s, 5);
		r->docs_added = sqlite3_column_int64(s, 6);
		r->docs_updated = sqlite3_column_int64(s, 7);
		r->docs_moved = sqlite3_column_int64(s, 8);
		r->docs_removed = sqlite3_column_int64(s, 9);
		r->docs_failed = sqlite3_column_int64(s, 10);
	} else if (src == SQLITE_DONE) {
		rc = MX_ENOTFOUND;
	} else {
		rc = store_fail(st, src, "cannot read runs");
	}
	sqlite3_finalize(s);
	return rc;
}

static int count(struct store *st, const char *sql, int64_t *v)
{
	sqlite3_stmt *s = NULL;
	int rc = prep(st, sql, &s);
	if (rc)
		return rc;
	int src = sqlite3_step(s);
	if (src == SQLITE_ROW)
		*v = sqlite3_column_int64(s, 0);
	else
		rc = store_fail(st, src, "cannot count");
	sqlite3_finalize(s);
	return rc;
}

int store_stats_get(struct store *st, struct store_stats *x)
{
	int rc;
	memset(x, 0, sizeof *x);
	if ((rc = count(st, "SELECT count(*) FROM sources", &x->nsources)) ||
	    (rc = count(st, "SELECT count(*) FROM documents WHERE status = 'ok'", &x->ndocs)) ||
	    (rc = count(st, "SELECT count(*) FROM chunks", &x->nchunks)) ||
	    (rc = count(st, "SELECT count(*) FROM documents WHERE status = 'error'",
			&x->nerrors)) ||
	    (rc = count(st, "SELECT count(*) FROM documents WHERE status = 'skipped'",
			&x->nskipped)) ||
	    (rc = count(st, "SELECT count(*) FROM vectors", &x->nvectors)) ||
	    (rc = count(
		     st,
		     "SELECT page_count * page_size FROM pragma_page_count(), pragma_page_size()",
		     &x->db_bytes)))
		return rc;
	return 0;
}

int store_problem_list(struct store *st, bool errors_only, size_t limit, struct store_problem **out,
		       size_t *n)
{
	sqlite3_stmt *s = NULL;
	struct store_problem *arr = NULL;
	size_t cap = 0, k = 0;
	*out = NULL;
	*n = 0;
	int rc = prep(st,
		      "SELECT " STORE_ABS_PATH ", d.status, d.error"
		      " FROM documents d JOIN sources s ON d.source_id = s.id"
		      " WHERE d.status = 'error' OR (?1 = 0 AND d.status = 'skipped')"
		      " ORDER BY d.status, d.indexed_at DESC, d.path LIMIT ?2",
		      &s);
	if (rc)
		return rc;
	sqlite3_bind_int(s, 1, errors_only ? 1 : 0);
	sqlite3_bind_int64(s, 2, limit > INT64_MAX ? INT64_MAX : (sqlite3_int64)limit);
	int src;
	while ((src = sqlite3_step(s)) == SQLITE_ROW) {
		if ((rc = grow((void **)&arr, &cap, k, sizeof *arr)))
			goto out;
		struct store_problem *p = &arr[k++];
		p->path = col_dup(s, 0);
		p->status = col_dup(s, 1);
		p->error = col_dup(s, 2);
		if (!p->path || !p->status) {
			rc = MX_ENOMEM;
			goto out;
		}
	}
	if (src != SQLITE_DONE)
		rc = store_fail(st, src, "cannot list problems");
out:
	sqlite3_finalize(s);
	if (rc) {
		store_problems_free(arr, k);
		return rc;
	}
	*out = arr;
	*n = k;
	return 0;
}

void store_problems_free(struct store_problem *p, size_t n)
{
	if (!p)
		return;
	for (size_t i = 0; i < n; i++) {
		free(p[i].path);
		free(p[i].status);
		free(p[i].error);
	}
	free(p);
}

/* ===================================================================== */
/* search                                                                */
/* ===================================================================== */

int store_fts_search(struct store *st, const char *match, size_t limit, bool per_doc,
		     int snippet_tokens, struct store_hit **out, size_t *n)
{
	sqlite3_stmt *s = NULL;
	struct store_hit *arr = NULL;
	size_t cap = 0, k = 0;
	*out = NULL;
	*n = 0;
	/* Title and author matches weigh more than body matches. With
	 * per_doc, keep each document's best chunk (window function). */
	const char *sql =
		"WITH hits AS ("
		"  SELECT rowid AS cid, bm25(chunks_fts, 4.0, 2.0, 1.0) AS score,"
		"   snippet(chunks_fts, 2, char(2), char(3), '...', ?4) AS snip"
		"  FROM chunks_fts WHERE chunks_fts MATCH ?1"
		"  ORDER BY score LIMIT ?2 * 8 + 64),"
		" ranked AS ("
		"  SELECT h.*, c.doc_id,"
		"   row_number() OVER (PARTITION BY c.doc_id ORDER BY h.score) AS rn"
		"  FROM hits h JOIN chunks c ON c.id = h.cid)"
		" SELECT r.cid, r.doc_id, r.score, r.snip, c.text, s.path, d.path,"
		"  d.part, d.type, d.title, d.author, d.message_id, d.date,"
		"  c.line_start, c.line_end, c.byte_start, c.byte_end"
		" FROM ranked r JOIN chunks c ON c.id = r.cid"
		" JOIN documents d ON d.id = r.doc_id JOIN sources s ON s.id = d.source_id"
		" WHERE ?3 = 0 OR r.rn = 1"
		" ORDER BY r.score, r.cid LIMIT ?2";
	int rc = prep(st, sql, &s);
	if (rc)
		return rc;
	bind_text(s, 1, match);
	sqlite3_bind_int64(s, 2, limit > 100000 ? 100000 : (sqlite3_int64)limit);
	sqlite3_bind_int(s, 3, per_doc ? 1 : 0);
	sqlite3_bind_int(s, 4, snippet_tokens < 1 ? 1 : snippet_tokens > 64 ? 64 : snippet_tokens);
	int src;
	while ((src = sqlite3_step(s)) == SQLITE_ROW) {
		if ((rc = grow((void **)&arr, &cap, k, sizeof *arr)))
			goto out;
		struct store_hit *h = &arr[k++];
		h->chunk_id = sqlite3_column_int64(s, 0);
		h->doc_id = sqlite3_column_int64(s, 1);
		h->score = sqlite3_column_double(s, 2);
		h->snippet = col_dup(s, 3);
		h->text = col_dup(s, 4);
		h->source_path = col_dup(s, 5);
		h->path = col_dup(s, 6);
		h->part = col_dup(s, 7);
		h->type = col_dup(s, 8);
		h->title = col_dup(s, 9);
		h->author = col_dup(s, 10);
		h->message_id = col_dup(s, 11);
		h->date = sqlite3_column_int64(s, 12);
		h->line_start = sqlite3_column_int64(s, 13);
		h->line_end = sqlite3_column_int64(s, 14);
		h->byte_start = sqlite3_column_int64(s, 15);
		h->byte_end = sqlite3_column_int64(s, 16);
		if (!h->snippet || !h->text || !h->source_path || !h->path) {
			rc = MX_ENOMEM;
			goto out;
		}
	}
	if (src != SQLITE_DONE) {
		rc = store_fail(st, src, "search failed");
		/* FTS5 syntax errors come back as SQLITE_ERROR */
		if ((src & 0xff) == SQLITE_ERROR)
			rc = MX_EINVAL;
	}
out:
	sqlite3_finalize(s);
	if (rc) {
		store_hits_free(arr, k);
		return rc;
	}
	*out = arr;
	*n = k;
	return 0;
}

void store_hits_free(struct store_hit *h, size_t n)
{
	if (!h)
		return;
	for (size_t i = 0; i < n; i++) {
		free(h[i].snippet);
		free(h[i].text);
		free(h[i].source_path);
		free(h[i].path);
		free(h[i].part);
		free(h[i].type);
		free(h[i].title);
		free(h[i].author);
		free(h[i].message_id);
	}
	free(h);
}
