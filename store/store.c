/*
 * store.c - opening, migrating and querying the SQLite index.
 */
#include "store_int.h"

#include <errno.h>
#include <math.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "../common/buf.h"
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

int store_set_mmap(struct store *st, int64_t bytes)
{
	char sql[64];
	snprintf(sql, sizeof sql, "PRAGMA mmap_size = %lld", (long long)(bytes < 0 ? 0 : bytes));
	return exec(st, sql, "cannot configure the index");
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
	if (st->found_version == 0 && stat(path, &sb) == 0 && sb.st_size > 0) {
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
	/* Searches read FTS5 doclists and vectors all over the file: map it
	 * rather than copy every page through read(2). */
	if ((rc = exec(st, "PRAGMA mmap_size = 4294967296", "cannot configure the index")))
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
		      "FROM documents WHERE source_id = ? AND parent_id IS NULL "
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

/* Calls fn for each item of a list separated by sep. */
static int each_item(const char *list, char sep,
		     int (*fn)(struct store *st, sqlite3_stmt *s, int64_t id, const char *item,
			       size_t n),
		     struct store *st, sqlite3_stmt *s, int64_t id)
{
	int rc = 0;
	for (const char *p = list; p && *p && !rc;) {
		const char *e = strchr(p, sep);
		size_t n = e ? (size_t)(e - p) : strlen(p);
		if (n)
			rc = fn(st, s, id, p, n);
		p = e ? e + 1 : p + n;
	}
	return rc;
}

static int put_item(struct store *st, sqlite3_stmt *s, int64_t id, const char *item, size_t n)
{
	sqlite3_reset(s);
	sqlite3_bind_int64(s, 1, id);
	sqlite3_bind_text(s, 2, item, (int)(n > 1024 ? 1024 : n), SQLITE_TRANSIENT);
	return step_done(st, s, "cannot write a tag or link");
}

/* Writes a note's tags and links. */
static int put_tags_links(struct store *st, int64_t doc_id, const struct store_doc *doc)
{
	sqlite3_stmt *s = NULL;
	int rc = 0;
	if (doc->tags && *doc->tags) {
		if ((rc = prep(st, "INSERT INTO tags(doc_id, tag) VALUES (?, ?)", &s)))
			return rc;
		rc = each_item(doc->tags, ' ', put_item, st, s, doc_id);
		sqlite3_finalize(s);
		s = NULL;
	}
	if (!rc && doc->links && *doc->links) {
		if ((rc = prep(st, "INSERT INTO links(doc_id, target) VALUES (?, ?)", &s)))
			return rc;
		rc = each_item(doc->links, '\n', put_item, st, s, doc_id);
		sqlite3_finalize(s);
	}
	return rc;
}

/* Writes a document's addresses and attachments. */
static int put_addrs_atts(struct store *st, int64_t doc_id, const struct store_doc *doc)
{
	sqlite3_stmt *s = NULL;
	int rc = 0;
	if (doc->naddrs) {
		if ((rc = prep(st,
			       "INSERT INTO addresses(doc_id, role, name, addr) VALUES (?,?,?,?)",
			       &s)))
			return rc;
		for (size_t i = 0; i < doc->naddrs && !rc; i++) {
			sqlite3_reset(s);
			sqlite3_bind_int64(s, 1, doc_id);
			bind_text(s, 2, doc->addrs[i].role);
			bind_text(s, 3, doc->addrs[i].name);
			bind_text(s, 4, doc->addrs[i].addr ? doc->addrs[i].addr : "");
			rc = step_done(st, s, "cannot write an address");
		}
		sqlite3_finalize(s);
		s = NULL;
	}
	if (doc->natts && !rc) {
		if ((rc = prep(st,
			       "INSERT INTO attachments(doc_id, ordinal, name, mime_type, size)"
			       " VALUES (?,?,?,?,?)",
			       &s)))
			return rc;
		for (size_t i = 0; i < doc->natts && !rc; i++) {
			sqlite3_reset(s);
			sqlite3_bind_int64(s, 1, doc_id);
			sqlite3_bind_int64(s, 2, (sqlite3_int64)i);
			bind_text(s, 3, doc->atts[i].name);
			bind_text(s, 4, doc->atts[i].mime_type);
			sqlite3_bind_int64(s, 5, doc->atts[i].size);
			rc = step_done(st, s, "cannot write an attachment");
		}
		sqlite3_finalize(s);
	}
	return rc;
}

int store_doc_put(struct store *st, const struct store_doc *doc, const struct store_chunk *chunks,
		  size_t nchunks, int64_t *id)
{
	sqlite3_stmt *s = NULL, *c = NULL, *f = NULL;
	char *ftitle = NULL;
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
		       " error, indexed_at, parent_id, in_reply_to, refs, date_offset,"
		       " folder, flags, list_id)"
		       " VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
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
	if (doc->parent_id)
		sqlite3_bind_int64(s, 16, doc->parent_id);
	else
		sqlite3_bind_null(s, 16);
	bind_text(s, 17, doc->in_reply_to);
	bind_text(s, 18, doc->refs);
	sqlite3_bind_int(s, 19, doc->date_offset);
	bind_text(s, 20, doc->folder);
	bind_text(s, 21, doc->flags);
	bind_text(s, 22, doc->list_id);
	sqlite3_bind_int64(s, 15, (sqlite3_int64)time(NULL));
	if ((rc = step_done(st, s, "cannot write the document")))
		goto out;
	doc_id = sqlite3_last_insert_rowid(st->db);
	if ((rc = put_addrs_atts(st, doc_id, doc)) || (rc = put_tags_links(st, doc_id, doc)))
		goto out;

	if (nchunks == 0)
		goto out;
	if ((rc = prep(st,
		       "INSERT INTO chunks(doc_id, ordinal, text, byte_start,"
		       " byte_end, line_start, line_end, heading, page_start, page_end)"
		       " VALUES (?,?,?,?,?,?,?,?,?,?)",
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
		bind_text(c, 8, k->heading);
		sqlite3_bind_int(c, 9, k->page_start);
		sqlite3_bind_int(c, 10, k->page_end);
		if ((rc = step_done(st, c, "cannot write a chunk")))
			goto out;
		sqlite3_reset(f);
		st->last_chunk = sqlite3_last_insert_rowid(st->db);
		sqlite3_bind_int64(f, 1, st->last_chunk);
		/* a chunk's heading path counts as title: a match on a
		 * section's heading ranks that section high */
		if (k->heading) {
			free(ftitle);
			size_t tl = doc->title ? strlen(doc->title) : 0, hl = strlen(k->heading);
			ftitle = malloc(tl + hl + 4);
			if (!ftitle) {
				rc = MX_ENOMEM;
				goto out;
			}
			snprintf(ftitle, tl + hl + 4, "%s%s%s", doc->title ? doc->title : "",
				 tl ? " > " : "", k->heading);
		}
		bind_text(f, 2, k->heading ? ftitle : doc->title);
		bind_text(f, 3, doc->author);
		sqlite3_bind_text(f, 4, k->text, (int)k->text_len, SQLITE_STATIC);
		if ((rc = step_done(st, f, "cannot index a chunk")))
			goto out;
	}
out:
	free(ftitle);
	sqlite3_finalize(s);
	sqlite3_finalize(c);
	sqlite3_finalize(f);
	if (!rc && id)
		*id = doc_id;
	return rc;
}

int store_doc_move(struct store *st, int64_t id, const char *path, int64_t mtime, int64_t size,
		   const char *folder, const char *flags)
{
	sqlite3_stmt *s = NULL;
	/* the file's other documents first (they are found by the old path) */
	int rc = prep(st,
		      "UPDATE documents SET path = ?1 WHERE id <> ?2 AND"
		      " source_id = (SELECT source_id FROM documents WHERE id = ?2) AND"
		      " path = (SELECT path FROM documents WHERE id = ?2)",
		      &s);
	if (rc)
		return rc;
	bind_text(s, 1, path);
	sqlite3_bind_int64(s, 2, id);
	rc = step_done(st, s, "cannot move the document");
	sqlite3_finalize(s);
	if (rc)
		return rc;
	rc = prep(st,
		  "UPDATE documents SET path = ?, mtime = ?, size = ?, folder = ?, flags = ?"
		  " WHERE id = ?",
		  &s);
	if (rc)
		return rc;
	bind_text(s, 1, path);
	sqlite3_bind_int64(s, 2, mtime);
	sqlite3_bind_int64(s, 3, size);
	bind_text(s, 4, folder);
	bind_text(s, 5, flags);
	sqlite3_bind_int64(s, 6, id);
	rc = step_done(st, s, "cannot update the document");
	sqlite3_finalize(s);
	return rc;
}

int store_doc_retitle(struct store *st, int64_t id, const char *title, const char *type)
{
	sqlite3_stmt *s = NULL;
	int rc = prep(st, "UPDATE documents SET title = ?, type = ? WHERE id = ?", &s);
	if (rc)
		return rc;
	bind_text(s, 1, title);
	bind_text(s, 2, type ? type : "");
	sqlite3_bind_int64(s, 3, id);
	rc = step_done(st, s, "cannot update the document");
	sqlite3_finalize(s);
	if (rc)
		return rc;
	rc = prep(st,
		  "UPDATE chunks_fts SET title = ? WHERE rowid IN"
		  " (SELECT id FROM chunks WHERE doc_id = ?)",
		  &s);
	if (rc)
		return rc;
	bind_text(s, 1, title);
	sqlite3_bind_int64(s, 2, id);
	rc = step_done(st, s, "cannot update the document");
	sqlite3_finalize(s);
	return rc;
}

int store_doc_delete_file(struct store *st, int64_t source_id, const char *path)
{
	sqlite3_stmt *s = NULL;
	int rc = prep(st, "DELETE FROM documents WHERE source_id = ? AND path = ?", &s);
	if (rc)
		return rc;
	sqlite3_bind_int64(s, 1, source_id);
	bind_text(s, 2, path);
	rc = step_done(st, s, "cannot delete the documents");
	sqlite3_finalize(s);
	return rc;
}

/* ===================================================================== */
/* mbox files                                                            */
/* ===================================================================== */

int store_mbox_get(struct store *st, int64_t source_id, const char *path, struct store_mbox *m)
{
	sqlite3_stmt *s = NULL;
	int rc = prep(st,
		      "SELECT size, mtime, end_offset, head_hash, tail_hash FROM mboxes"
		      " WHERE source_id = ? AND path = ?",
		      &s);
	if (rc)
		return rc;
	sqlite3_bind_int64(s, 1, source_id);
	bind_text(s, 2, path);
	int src = sqlite3_step(s);
	if (src == SQLITE_ROW) {
		m->size = sqlite3_column_int64(s, 0);
		m->mtime = sqlite3_column_int64(s, 1);
		m->end_offset = sqlite3_column_int64(s, 2);
		col_copy(s, 3, m->head_hash, sizeof m->head_hash);
		col_copy(s, 4, m->tail_hash, sizeof m->tail_hash);
	} else {
		rc = src == SQLITE_DONE ? MX_ENOTFOUND
					: store_fail(st, src, "cannot read mbox state");
	}
	sqlite3_finalize(s);
	return rc;
}

int store_mbox_put(struct store *st, int64_t source_id, const char *path,
		   const struct store_mbox *m)
{
	sqlite3_stmt *s = NULL;
	int rc = prep(st,
		      "INSERT OR REPLACE INTO mboxes(source_id, path, size, mtime, end_offset,"
		      " head_hash, tail_hash) VALUES (?,?,?,?,?,?,?)",
		      &s);
	if (rc)
		return rc;
	sqlite3_bind_int64(s, 1, source_id);
	bind_text(s, 2, path);
	sqlite3_bind_int64(s, 3, m->size);
	sqlite3_bind_int64(s, 4, m->mtime);
	sqlite3_bind_int64(s, 5, m->end_offset);
	bind_text(s, 6, m->head_hash);
	bind_text(s, 7, m->tail_hash);
	rc = step_done(st, s, "cannot write mbox state");
	sqlite3_finalize(s);
	return rc;
}

/* ===================================================================== */
/* threads                                                               */
/* ===================================================================== */

int store_maillink_list(struct store *st, struct store_maillink **out, size_t *n)
{
	sqlite3_stmt *s = NULL;
	struct store_maillink *arr = NULL;
	size_t cap = 0, k = 0;
	*out = NULL;
	*n = 0;
	int rc = prep(st,
		      "SELECT id, message_id, in_reply_to, refs, thread_id, date FROM documents"
		      " WHERE type = 'mail' AND status = 'ok' ORDER BY id",
		      &s);
	if (rc)
		return rc;
	int src;
	while ((src = sqlite3_step(s)) == SQLITE_ROW) {
		if ((rc = grow((void **)&arr, &cap, k, sizeof *arr)))
			goto out;
		struct store_maillink *m = &arr[k++];
		m->id = sqlite3_column_int64(s, 0);
		m->message_id = col_dup(s, 1);
		m->in_reply_to = col_dup(s, 2);
		m->refs = col_dup(s, 3);
		m->thread_id = col_dup(s, 4);
		m->date = sqlite3_column_int64(s, 5);
	}
	if (src != SQLITE_DONE)
		rc = store_fail(st, src, "cannot list mail");
out:
	sqlite3_finalize(s);
	if (rc) {
		store_maillinks_free(arr, k);
		return rc;
	}
	*out = arr;
	*n = k;
	return 0;
}

void store_maillinks_free(struct store_maillink *m, size_t n)
{
	if (!m)
		return;
	for (size_t i = 0; i < n; i++) {
		free(m[i].message_id);
		free(m[i].in_reply_to);
		free(m[i].refs);
		free(m[i].thread_id);
	}
	free(m);
}

int store_thread_set(struct store *st, int64_t doc_id, const char *thread_id)
{
	sqlite3_stmt *s = NULL;
	/* children (attachments, embedded messages) share their message's
	 * thread */
	int rc =
		prep(st, "UPDATE documents SET thread_id = ?1 WHERE id = ?2 OR parent_id = ?2", &s);
	if (rc)
		return rc;
	bind_text(s, 1, thread_id);
	sqlite3_bind_int64(s, 2, doc_id);
	rc = step_done(st, s, "cannot set the thread");
	sqlite3_finalize(s);
	return rc;
}

/* ===================================================================== */
/* reading documents back                                                */
/* ===================================================================== */

#define DOCFULL_COLS                                                                               \
	"d.id, d.source_id, coalesce(d.parent_id, 0), s.path, s.type, d.path, d.part, d.type,"     \
	" d.title, d.author, d.recipients, d.message_id, d.thread_id, d.folder, d.flags,"          \
	" d.list_id, d.status, d.error, d.date, d.mtime, d.size, d.date_offset,"                   \
	" (SELECT count(*) FROM chunks c WHERE c.doc_id = d.id),"                                  \
	" (SELECT count(*) FROM attachments t WHERE t.doc_id = d.id)"

static void docfull_read(sqlite3_stmt *s, struct store_docfull *d)
{
	memset(d, 0, sizeof *d);
	d->id = sqlite3_column_int64(s, 0);
	d->source_id = sqlite3_column_int64(s, 1);
	d->parent_id = sqlite3_column_int64(s, 2);
	d->source_path = col_dup(s, 3);
	d->source_type = col_dup(s, 4);
	d->path = col_dup(s, 5);
	d->part = col_dup(s, 6);
	d->type = col_dup(s, 7);
	d->title = col_dup(s, 8);
	d->author = col_dup(s, 9);
	d->recipients = col_dup(s, 10);
	d->message_id = col_dup(s, 11);
	d->thread_id = col_dup(s, 12);
	d->folder = col_dup(s, 13);
	d->flags = col_dup(s, 14);
	d->list_id = col_dup(s, 15);
	d->status = col_dup(s, 16);
	d->error = col_dup(s, 17);
	d->date = sqlite3_column_int64(s, 18);
	d->mtime = sqlite3_column_int64(s, 19);
	d->size = sqlite3_column_int64(s, 20);
	d->date_offset = sqlite3_column_int(s, 21);
	d->nchunks = sqlite3_column_int64(s, 22);
	d->natts = sqlite3_column_int64(s, 23);
}

void store_docfull_clear(struct store_docfull *d)
{
	if (!d)
		return;
	char **f[] = { &d->source_path, &d->source_type, &d->path,   &d->part,
		       &d->type,	&d->title,	 &d->author, &d->recipients,
		       &d->message_id,	&d->thread_id,	 &d->folder, &d->flags,
		       &d->list_id,	&d->status,	 &d->error };
	for (size_t i = 0; i < sizeof f / sizeof f[0]; i++) {
		free(*f[i]);
		*f[i] = NULL;
	}
}

void store_docfulls_free(struct store_docfull *d, size_t n)
{
	if (!d)
		return;
	for (size_t i = 0; i < n; i++)
		store_docfull_clear(&d[i]);
	free(d);
}

/* A message-id without its angle brackets, in a buffer of the caller. */
static const char *bare_id(const char *key, char *buf, size_t n)
{
	size_t len = strlen(key);
	if (len >= 2 && key[0] == '<' && key[len - 1] == '>') {
		snprintf(buf, n, "%.*s", (int)(len - 2), key + 1);
		return buf;
	}
	return key;
}

int store_doc_get(struct store *st, const char *key, struct store_docfull *d)
{
	sqlite3_stmt *s = NULL;
	char idbuf[1024];
	bool numeric = key[0] && strspn(key, "0123456789") == strlen(key);
	int rc =
		prep(st,
		     "SELECT " DOCFULL_COLS " FROM documents d JOIN sources s ON s.id = d.source_id"
		     " WHERE (?1 AND d.id = ?2) OR d.message_id = ?3 OR " STORE_ABS_PATH " = ?4"
		     " ORDER BY d.parent_id IS NOT NULL, d.part, d.id LIMIT 1",
		     &s);
	if (rc)
		return rc;
	sqlite3_bind_int(s, 1, numeric);
	sqlite3_bind_int64(s, 2, numeric ? strtoll(key, NULL, 10) : 0);
	bind_text(s, 3, bare_id(key, idbuf, sizeof idbuf));
	bind_text(s, 4, key);
	int src = sqlite3_step(s);
	if (src == SQLITE_ROW) {
		docfull_read(s, d);
	} else if (src == SQLITE_DONE) {
		set_msg(st, "no document or message '%s'", key);
		rc = MX_ENOTFOUND;
	} else {
		rc = store_fail(st, src, "cannot read the document");
	}
	sqlite3_finalize(s);
	return rc;
}

/* Steps s to its end, reading each row (DOCFULL_COLS) into a growing
 * array; finalizes s. On error nothing is returned. */
static int docfulls_collect(struct store *st, sqlite3_stmt *s, const char *what,
			    struct store_docfull **out, size_t *n)
{
	struct store_docfull *arr = NULL;
	size_t cap = 0, k = 0;
	int rc = 0, src;
	while ((src = sqlite3_step(s)) == SQLITE_ROW) {
		if ((rc = grow((void **)&arr, &cap, k, sizeof *arr)))
			break;
		docfull_read(s, &arr[k++]);
	}
	if (!rc && src != SQLITE_DONE)
		rc = store_fail(st, src, what);
	sqlite3_finalize(s);
	if (rc) {
		store_docfulls_free(arr, k);
		return rc;
	}
	*out = arr;
	*n = k;
	return 0;
}

int store_thread_get(struct store *st, const char *key, struct store_docfull **out, size_t *n)
{
	sqlite3_stmt *s = NULL;
	char idbuf[1024];
	*out = NULL;
	*n = 0;
	bool numeric = key[0] && strspn(key, "0123456789") == strlen(key);
	int rc = prep(st,
		      "WITH t AS (SELECT thread_id FROM documents WHERE thread_id = ?1"
		      "  OR message_id = ?2 OR (?3 AND id = ?4) LIMIT 1)"
		      " SELECT " DOCFULL_COLS
		      " FROM documents d JOIN sources s ON s.id = d.source_id"
		      " WHERE d.thread_id = (SELECT thread_id FROM t) AND d.parent_id IS NULL"
		      " ORDER BY d.date, d.id",
		      &s);
	if (rc)
		return rc;
	bind_text(s, 1, key);
	bind_text(s, 2, bare_id(key, idbuf, sizeof idbuf));
	sqlite3_bind_int(s, 3, numeric);
	sqlite3_bind_int64(s, 4, numeric ? strtoll(key, NULL, 10) : 0);
	if ((rc = docfulls_collect(st, s, "cannot read the thread", out, n)))
		return rc;
	if (*n == 0) {
		set_msg(st, "no thread '%s'", key);
		return MX_ENOTFOUND;
	}
	return 0;
}

int store_doc_children(struct store *st, int64_t parent_id, struct store_docfull **out,
		       size_t *n)
{
	sqlite3_stmt *s = NULL;
	*out = NULL;
	*n = 0;
	int rc = prep(st,
		      "SELECT " DOCFULL_COLS " FROM documents d JOIN sources s ON s.id = d.source_id"
		      " WHERE d.parent_id = ?1"
		      " ORDER BY length(d.part), d.part, d.id",
		      &s);
	if (rc)
		return rc;
	sqlite3_bind_int64(s, 1, parent_id);
	return docfulls_collect(st, s, "cannot list the documents inside it", out, n);
}

int store_attachment_list(struct store *st, int64_t doc_id, struct store_att **out, size_t *n)
{
	sqlite3_stmt *s = NULL;
	struct store_att *arr = NULL;
	size_t cap = 0, k = 0;
	*out = NULL;
	*n = 0;
	int rc = prep(
		st,
		"SELECT name, mime_type, size FROM attachments WHERE doc_id = ? ORDER BY ordinal",
		&s);
	if (rc)
		return rc;
	sqlite3_bind_int64(s, 1, doc_id);
	int src;
	while ((src = sqlite3_step(s)) == SQLITE_ROW) {
		if ((rc = grow((void **)&arr, &cap, k, sizeof *arr)))
			goto out;
		arr[k].name = col_dup(s, 0);
		arr[k].mime_type = col_dup(s, 1);
		arr[k].size = sqlite3_column_int64(s, 2);
		k++;
	}
	if (src != SQLITE_DONE)
		rc = store_fail(st, src, "cannot list attachments");
out:
	sqlite3_finalize(s);
	if (rc) {
		store_attachments_free(arr, k);
		return rc;
	}
	*out = arr;
	*n = k;
	return 0;
}

void store_attachments_free(struct store_att *a, size_t n)
{
	if (!a)
		return;
	for (size_t i = 0; i < n; i++) {
		free(a[i].name);
		free(a[i].mime_type);
	}
	free(a);
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

/* Appends the SQL conditions of a filter (documents as d); the values are
 * bound by name with bind_filter(). */
static int filter_sql(struct mx_buf *b, const struct store_filter *f)
{
	int rc = 0;
	if (!f)
		return 0;
	if (f->from && !rc)
		rc = mx_buf_appends(
			b, " AND (instr(lower(coalesce(d.author, '')), lower(:from)) > 0"
			   " OR EXISTS (SELECT 1 FROM addresses a WHERE a.doc_id = d.id"
			   " AND a.role = 'from' AND (instr(lower(a.addr), lower(:from)) > 0"
			   " OR instr(lower(coalesce(a.name, '')), lower(:from)) > 0)))");
	if (f->to && !rc)
		rc = mx_buf_appends(
			b, " AND EXISTS (SELECT 1 FROM addresses a WHERE a.doc_id = d.id"
			   " AND a.role IN ('to', 'cc') AND (instr(lower(a.addr), lower(:to)) > 0"
			   " OR instr(lower(coalesce(a.name, '')), lower(:to)) > 0))");
	if (f->folder && !rc)
		rc = mx_buf_appends(
			b,
			" AND (lower(d.folder) = lower(:folder) OR"
			" lower(substr(d.folder, 1, length(:folder) + 1)) = lower(:folder || '/'))");
	if (f->type && !rc)
		rc = mx_buf_appends(b, " AND d.type = :type");
	if (f->title && !rc)
		rc = mx_buf_appends(b,
				    " AND instr(lower(coalesce(d.title, '')), lower(:title)) > 0");
	if (f->tag && !rc)
		rc = mx_buf_appends(b, " AND EXISTS (SELECT 1 FROM tags t WHERE t.doc_id = d.id"
				       " AND t.tag = lower(:tag))");
	if (f->after && !rc)
		rc = mx_buf_appends(b, " AND d.date >= :after");
	if (f->before && !rc)
		rc = mx_buf_appends(b, " AND d.date < :before");
	if (f->has_attachment && !rc)
		rc = mx_buf_appends(
			b, " AND EXISTS (SELECT 1 FROM attachments t WHERE t.doc_id = d.id)");
	if (f->unread && !rc)
		rc = mx_buf_appends(b, " AND d.flags IS NOT NULL AND instr(d.flags, 'S') = 0");
	return rc;
}

static void bind_named_text(sqlite3_stmt *s, const char *name, const char *v)
{
	int i = sqlite3_bind_parameter_index(s, name);
	if (i)
		bind_text(s, i, v);
}

static void bind_filter(sqlite3_stmt *s, const struct store_filter *f)
{
	if (!f)
		return;
	bind_named_text(s, ":from", f->from);
	bind_named_text(s, ":to", f->to);
	bind_named_text(s, ":folder", f->folder);
	bind_named_text(s, ":type", f->type);
	bind_named_text(s, ":title", f->title);
	bind_named_text(s, ":tag", f->tag && f->tag[0] == '#' ? f->tag + 1 : f->tag);
	int i;
	if ((i = sqlite3_bind_parameter_index(s, ":after")))
		sqlite3_bind_int64(s, i, f->after);
	if ((i = sqlite3_bind_parameter_index(s, ":before")))
		sqlite3_bind_int64(s, i, f->before);
}

/* The columns every hit query selects, in hit_read() order. */
#define HIT_COLS                                                                                   \
	" c.text, s.path, d.path, d.part, d.type, d.title, d.author, d.message_id, d.thread_id,"   \
	" d.date, c.line_start, c.line_end, c.byte_start, c.byte_end,"                             \
	" (SELECT p.message_id FROM documents p WHERE p.id = d.parent_id),"                        \
	" c.heading, c.page_start, c.page_end"

static int hits_read(struct store *st, sqlite3_stmt *s, struct store_hit **out, size_t *n)
{
	struct store_hit *arr = NULL;
	size_t cap = 0, k = 0;
	int rc = 0, src;
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
		h->thread_id = col_dup(s, 12);
		h->date = sqlite3_column_int64(s, 13);
		h->line_start = sqlite3_column_int64(s, 14);
		h->line_end = sqlite3_column_int64(s, 15);
		h->byte_start = sqlite3_column_int64(s, 16);
		h->byte_end = sqlite3_column_int64(s, 17);
		h->parent_message_id = col_dup(s, 18);
		h->heading = col_dup(s, 19);
		h->page_start = sqlite3_column_int(s, 20);
		h->page_end = sqlite3_column_int(s, 21);
		if (!h->snippet || !h->text || !h->source_path || !h->path) {
			rc = MX_ENOMEM;
			goto out;
		}
	}
	if (src != SQLITE_DONE) {
		rc = store_fail(st, src, "search failed");
		/* FTS5 syntax errors come back as SQLITE_ERROR */
		if ((src & 0xff) == SQLITE_ERROR && strstr(st->msg, "fts5"))
			rc = MX_EINVAL;
	}
out:
	if (rc) {
		store_hits_free(arr, k);
		return rc;
	}
	*out = arr;
	*n = k;
	return 0;
}

/* Replaces each hit's snippet with FTS5's, highlighted for the match. */
int store_add_snippets(struct store *st, const char *match, int tokens, struct store_hit *h,
		       size_t n)
{
	sqlite3_stmt *s = NULL;
	int rc = prep(st,
		      "SELECT snippet(chunks_fts, 2, char(2), char(3), '...', ?3) FROM chunks_fts"
		      " WHERE chunks_fts MATCH ?1 AND rowid = ?2",
		      &s);
	if (rc)
		return rc;
	for (size_t i = 0; i < n && !rc; i++) {
		sqlite3_reset(s);
		bind_text(s, 1, match);
		sqlite3_bind_int64(s, 2, h[i].chunk_id);
		sqlite3_bind_int(s, 3, tokens < 1 ? 1 : tokens > 64 ? 64 : tokens);
		int src = sqlite3_step(s);
		if (src == SQLITE_ROW) {
			char *snip = col_dup(s, 0);
			if (!snip) {
				rc = MX_ENOMEM;
				break;
			}
			free(h[i].snippet);
			h[i].snippet = snip;
		} else if (src != SQLITE_DONE) {
			rc = store_fail(st, src, "search failed");
		}
	}
	sqlite3_finalize(s);
	return rc;
}

/* One ranking query: every match ranked with the filters (top == 0), or,
 * without filters, the top-`top` chunks of the full-text index alone first
 * (SQLite keeps them in a bounded sorter), the joins then running for
 * those only, not for every match: at 1M chunks a common word matches
 * hundreds of thousands. (FTS5's own "ORDER BY rank" is slower: it sorts
 * every match.) */
static int fts_rank(struct store *st, const char *match, const struct store_filter *f,
		    size_t limit, bool per_doc, size_t top, struct store_hit **out, size_t *n)
{
	sqlite3_stmt *s = NULL;
	struct mx_buf sql;
	mx_buf_init(&sql, 16384);
	/* Title and author matches weigh more than body matches. Filters
	 * apply inside the ranking. With per_doc, every match is ranked and
	 * each document keeps its best chunk (SQLite takes the bare columns
	 * of a min() aggregate from the row with the minimum), so that one
	 * large document cannot crowd the others out. */
	int rc = mx_buf_appends(
		&sql, top ? "WITH top AS MATERIALIZED ("
			    "  SELECT rowid AS cid, bm25(chunks_fts, 4.0, 2.0, 1.0) AS score"
			    "  FROM chunks_fts WHERE chunks_fts MATCH :match"
			    "  ORDER BY score LIMIT :top),"
			    " hits AS MATERIALIZED ("
			    "  SELECT t.cid AS cid, c.doc_id AS doc_id, t.score AS score"
			    "  FROM top t JOIN chunks c ON c.id = t.cid"
			    "  JOIN documents d ON d.id = c.doc_id WHERE 1"
			  : "WITH hits AS MATERIALIZED ("
			    "  SELECT f.rowid AS cid, c.doc_id AS doc_id,"
			    "   bm25(chunks_fts, 4.0, 2.0, 1.0) AS score"
			    "  FROM chunks_fts f JOIN chunks c ON c.id = f.rowid"
			    "  JOIN documents d ON d.id = c.doc_id"
			    "  WHERE chunks_fts MATCH :match");
	if (!rc)
		rc = filter_sql(&sql, f);
	if (!rc)
		rc = mx_buf_appends(&sql,
				    per_doc ? "), best AS (SELECT cid, doc_id, min(score) AS score"
					      " FROM hits GROUP BY doc_id"
					      " ORDER BY score, cid LIMIT :limit)"
					    : "), best AS (SELECT cid, doc_id, score FROM hits"
					      " ORDER BY score, cid LIMIT :limit)");
	if (!rc)
		rc = mx_buf_appends(&sql, " SELECT r.cid, r.doc_id, r.score, ''," HIT_COLS
					  " FROM best r JOIN chunks c ON c.id = r.cid"
					  " JOIN documents d ON d.id = r.doc_id"
					  " JOIN sources s ON s.id = d.source_id"
					  " ORDER BY r.score, r.cid");
	if (rc || (rc = prep(st, sql.data, &s))) {
		mx_buf_free(&sql);
		return rc;
	}
	mx_buf_free(&sql);
	bind_named_text(s, ":match", match);
	sqlite3_bind_int64(s, sqlite3_bind_parameter_index(s, ":limit"),
			   limit > 100000 ? 100000 : (sqlite3_int64)limit);
	if (top)
		sqlite3_bind_int64(s, sqlite3_bind_parameter_index(s, ":top"), (sqlite3_int64)top);
	bind_filter(s, f);
	rc = hits_read(st, s, out, n);
	sqlite3_finalize(s);
	return rc;
}

/* How many chunks match (cheap: no ranking). */
static int fts_count(struct store *st, const char *match, int64_t *count)
{
	sqlite3_stmt *s = NULL;
	int rc = prep(st, "SELECT count(*) FROM chunks_fts WHERE chunks_fts MATCH :match", &s);
	if (rc)
		return rc;
	bind_named_text(s, ":match", match);
	int src = sqlite3_step(s);
	if (src == SQLITE_ROW)
		*count = sqlite3_column_int64(s, 0);
	else
		rc = store_fail(st, src, "cannot search the index");
	sqlite3_finalize(s);
	return rc;
}

int store_fts_search(struct store *st, const char *match, const struct store_filter *f,
		     size_t limit, bool per_doc, int snippet_tokens, struct store_hit **out,
		     size_t *n)
{
	*out = NULL;
	*n = 0;
	struct mx_buf fs;
	mx_buf_init(&fs, 16384);
	int rc = filter_sql(&fs, f);
	bool filtered = rc || fs.len > 0;
	mx_buf_free(&fs);
	if (filtered) {
		rc = fts_rank(st, match, f, limit, per_doc, 0, out, n);
	} else {
		/* The top chunks hold the top documents once they hold `limit`
		 * documents (a document's best chunk outranks those of every
		 * document after it), or once they are every match; else take
		 * more, and past a cap rank them all. */
		int64_t matches = -1;
		for (size_t top = limit * 4 + 100;; top *= 8) {
			if (top > 1000000) {
				rc = fts_rank(st, match, f, limit, per_doc, 0, out, n);
				break;
			}
			if ((rc = fts_rank(st, match, f, limit, per_doc, top, out, n)) ||
			    *n >= limit)
				break;
			if (matches < 0 && (rc = fts_count(st, match, &matches)))
				break;
			if ((uint64_t)matches <= top)
				break;
			store_hits_free(*out, *n);
			*out = NULL;
			*n = 0;
		}
	}
	/* snippets are made afterwards, for the hits kept */
	if (!rc && snippet_tokens > 0 &&
	    (rc = store_add_snippets(st, match, snippet_tokens, *out, *n))) {
		store_hits_free(*out, *n);
		*out = NULL;
		*n = 0;
	}
	return rc;
}

int store_filter_list(struct store *st, const struct store_filter *f, size_t limit,
		      struct store_hit **out, size_t *n)
{
	sqlite3_stmt *s = NULL;
	struct mx_buf sql;
	*out = NULL;
	*n = 0;
	mx_buf_init(&sql, 16384);
	int rc = mx_buf_appends(&sql, "SELECT c.id, d.id, 0.0, substr(c.text, 1, 240)," HIT_COLS
				      " FROM documents d JOIN sources s ON s.id = d.source_id"
				      " JOIN chunks c ON c.doc_id = d.id AND c.ordinal = 0"
				      " WHERE d.status = 'ok'");
	/* attachments and embedded messages list only when asked for */
	if (!rc && !(f && f->type))
		rc = mx_buf_appends(&sql, " AND d.parent_id IS NULL");
	if (!rc)
		rc = filter_sql(&sql, f);
	if (!rc)
		rc = mx_buf_appends(&sql, " ORDER BY d.date DESC, d.id DESC LIMIT :limit");
	if (rc || (rc = prep(st, sql.data, &s))) {
		mx_buf_free(&sql);
		return rc;
	}
	mx_buf_free(&sql);
	sqlite3_bind_int64(s, sqlite3_bind_parameter_index(s, ":limit"),
			   limit > 100000 ? 100000 : (sqlite3_int64)limit);
	bind_filter(s, f);
	rc = hits_read(st, s, out, n);
	sqlite3_finalize(s);
	return rc;
}

void store_hit_clear(struct store_hit *h)
{
	free(h->snippet);
	free(h->text);
	free(h->source_path);
	free(h->path);
	free(h->part);
	free(h->type);
	free(h->title);
	free(h->author);
	free(h->message_id);
	free(h->thread_id);
	free(h->parent_message_id);
	free(h->heading);
	memset(h, 0, sizeof *h);
}

void store_hits_free(struct store_hit *h, size_t n)
{
	if (!h)
		return;
	for (size_t i = 0; i < n; i++)
		store_hit_clear(&h[i]);
	free(h);
}

/* ===================================================================== */
/* vectors                                                               */
/* ===================================================================== */

int store_model_find(struct store *st, const char *fingerprint, int64_t *id)
{
	sqlite3_stmt *s = NULL;
	int rc = prep(st, "SELECT id FROM models WHERE fingerprint = ?", &s);
	if (rc)
		return rc;
	bind_text(s, 1, fingerprint);
	int src = sqlite3_step(s);
	if (src == SQLITE_ROW)
		*id = sqlite3_column_int64(s, 0);
	else
		rc = src == SQLITE_DONE ? MX_ENOTFOUND : store_fail(st, src, "cannot read models");
	sqlite3_finalize(s);
	return rc;
}

int store_model_id(struct store *st, const char *fingerprint, int dims, const char *name,
		   int64_t *id)
{
	sqlite3_stmt *s = NULL;
	int rc = prep(st, "SELECT id FROM models WHERE fingerprint = ?", &s);
	if (rc)
		return rc;
	bind_text(s, 1, fingerprint);
	int src = sqlite3_step(s);
	if (src == SQLITE_ROW) {
		*id = sqlite3_column_int64(s, 0);
		sqlite3_finalize(s);
		return 0;
	}
	sqlite3_finalize(s);
	if (src != SQLITE_DONE)
		return store_fail(st, src, "cannot read models");
	if ((rc = prep(st, "INSERT INTO models(fingerprint, dims, name) VALUES (?, ?, ?)", &s)))
		return rc;
	bind_text(s, 1, fingerprint);
	sqlite3_bind_int(s, 2, dims);
	bind_text(s, 3, name);
	rc = step_done(st, s, "cannot register the model");
	sqlite3_finalize(s);
	if (!rc)
		*id = sqlite3_last_insert_rowid(st->db);
	return rc;
}

int store_vectors_drop_others(struct store *st, int64_t keep_id, int64_t *ndeleted)
{
	sqlite3_stmt *s = NULL;
	int rc = prep(st, "DELETE FROM vectors WHERE model_id <> ?", &s);
	if (rc)
		return rc;
	sqlite3_bind_int64(s, 1, keep_id);
	rc = step_done(st, s, "cannot delete vectors");
	if (!rc && ndeleted)
		*ndeleted = sqlite3_changes(st->db);
	sqlite3_finalize(s);
	if (rc || (rc = prep(st, "DELETE FROM vectors_i8 WHERE model_id <> ?", &s)))
		return rc;
	sqlite3_bind_int64(s, 1, keep_id);
	rc = step_done(st, s, "cannot delete vectors");
	sqlite3_finalize(s);
	return rc;
}

int store_pending_list(struct store *st, int64_t model_id, int64_t after, size_t limit,
		       struct store_pending **out, size_t *n)
{
	sqlite3_stmt *s = NULL;
	struct store_pending *arr = NULL;
	size_t cap = 0, k = 0;
	*out = NULL;
	*n = 0;
	/* the title goes with the text: a chunk's meaning often depends on it */
	int rc = prep(
		st,
		"SELECT c.id, coalesce(d.title, '') || char(10) || c.text FROM chunks c"
		" JOIN documents d ON d.id = c.doc_id"
		" WHERE c.id > ?3 AND NOT EXISTS (SELECT 1 FROM vectors v WHERE v.chunk_id = c.id"
		"  AND v.model_id = ?1) ORDER BY c.id LIMIT ?2",
		&s);
	if (rc)
		return rc;
	sqlite3_bind_int64(s, 1, model_id);
	sqlite3_bind_int64(s, 2, (sqlite3_int64)limit);
	sqlite3_bind_int64(s, 3, after);
	int src;
	while ((src = sqlite3_step(s)) == SQLITE_ROW) {
		if ((rc = grow((void **)&arr, &cap, k, sizeof *arr)))
			break;
		arr[k].chunk_id = sqlite3_column_int64(s, 0);
		if (!(arr[k].text = col_dup(s, 1))) {
			rc = MX_ENOMEM;
			break;
		}
		k++;
	}
	if (!rc && src != SQLITE_DONE)
		rc = store_fail(st, src, "cannot list chunks to embed");
	sqlite3_finalize(s);
	if (rc) {
		store_pending_free(arr, k);
		return rc;
	}
	*out = arr;
	*n = k;
	return 0;
}

void store_pending_free(struct store_pending *p, size_t n)
{
	if (!p)
		return;
	for (size_t i = 0; i < n; i++)
		free(p[i].text);
	free(p);
}

int64_t store_pending_count(struct store *st, int64_t model_id)
{
	sqlite3_stmt *s = NULL;
	int64_t n = -1;
	if (prep(st,
		 "SELECT count(*) FROM chunks c WHERE NOT EXISTS (SELECT 1 FROM vectors v"
		 " WHERE v.chunk_id = c.id AND v.model_id = ?)",
		 &s))
		return -1;
	sqlite3_bind_int64(s, 1, model_id);
	if (sqlite3_step(s) == SQLITE_ROW)
		n = sqlite3_column_int64(s, 0);
	sqlite3_finalize(s);
	return n;
}

int store_vector_put(struct store *st, int64_t chunk_id, int64_t model_id, const float *v, int dims)
{
	sqlite3_stmt *s = NULL;
	int8_t *q = malloc((size_t)dims);
	if (!q)
		return MX_ENOMEM;
	/* symmetric int8: the largest magnitude maps to 127 */
	float mx = 0;
	for (int i = 0; i < dims; i++)
		mx = fabsf(v[i]) > mx ? fabsf(v[i]) : mx;
	float scale = mx > 0 ? mx / 127.0f : 1.0f;
	for (int i = 0; i < dims; i++) {
		float x = v[i] / scale;
		q[i] = (int8_t)(x > 127 ? 127 : x < -127 ? -127 : lrintf(x));
	}
	int rc = prep(st, "INSERT OR REPLACE INTO vectors(chunk_id, model_id, vec) VALUES (?,?,?)",
		      &s);
	if (!rc) {
		sqlite3_bind_int64(s, 1, chunk_id);
		sqlite3_bind_int64(s, 2, model_id);
		sqlite3_bind_blob(s, 3, v, dims * (int)sizeof *v, SQLITE_STATIC);
		rc = step_done(st, s, "cannot write a vector");
	}
	sqlite3_finalize(s);
	s = NULL;
	if (!rc && !(rc = prep(st,
			       "INSERT OR REPLACE INTO vectors_i8(model_id, chunk_id, doc_id, scale, q)"
			       " SELECT ?1, id, doc_id, ?3, ?4 FROM chunks WHERE id = ?2",
			       &s))) {
		sqlite3_bind_int64(s, 1, model_id);
		sqlite3_bind_int64(s, 2, chunk_id);
		sqlite3_bind_double(s, 3, scale);
		sqlite3_bind_blob(s, 4, q, dims, SQLITE_STATIC);
		rc = step_done(st, s, "cannot write a vector");
	}
	sqlite3_finalize(s);
	free(q);
	return rc;
}

int store_vecset_load(struct store *st, int64_t model_id, struct store_vecset *vs)
{
	sqlite3_stmt *s = NULL;
	memset(vs, 0, sizeof *vs);
	int rc = prep(st, "SELECT dims FROM models WHERE id = ?", &s);
	if (rc)
		return rc;
	sqlite3_bind_int64(s, 1, model_id);
	if (sqlite3_step(s) == SQLITE_ROW)
		vs->dims = sqlite3_column_int(s, 0);
	sqlite3_finalize(s);
	if (vs->dims <= 0 || vs->dims > 65536) {
		set_msg(st, "unknown model");
		return MX_ENOTFOUND;
	}
	int64_t total = 0;
	if ((rc = prep(st, "SELECT count(*) FROM vectors_i8 WHERE model_id = ?", &s)))
		return rc;
	sqlite3_bind_int64(s, 1, model_id);
	if (sqlite3_step(s) == SQLITE_ROW)
		total = sqlite3_column_int64(s, 0);
	sqlite3_finalize(s);
	size_t cap = (size_t)total, d = (size_t)vs->dims;
	if (total < 0 || (uint64_t)total > SIZE_MAX / (d + 32)) {
		set_msg(st, "too many vectors to hold in memory");
		return MX_ENOMEM;
	}
	vs->q = malloc(cap * d + 1);
	vs->scale = malloc((cap + 1) * sizeof *vs->scale);
	vs->chunk_id = malloc((cap + 1) * sizeof *vs->chunk_id);
	vs->doc_id = malloc((cap + 1) * sizeof *vs->doc_id);
	if (!vs->q || !vs->scale || !vs->chunk_id || !vs->doc_id) {
		store_vecset_free(vs);
		return MX_ENOMEM;
	}
	if ((rc = prep(
		     st,
		     "SELECT chunk_id, doc_id, q, scale FROM vectors_i8 WHERE model_id = ?"
		     " ORDER BY chunk_id",
		     &s))) {
		store_vecset_free(vs);
		return rc;
	}
	sqlite3_bind_int64(s, 1, model_id);
	int src;
	while ((src = sqlite3_step(s)) == SQLITE_ROW && vs->n < cap) {
		const void *b = sqlite3_column_blob(s, 2);
		if (!b || (size_t)sqlite3_column_bytes(s, 2) != d)
			continue; /* a damaged row is left out */
		memcpy(vs->q + vs->n * d, b, d);
		vs->scale[vs->n] = (float)sqlite3_column_double(s, 3);
		vs->chunk_id[vs->n] = sqlite3_column_int64(s, 0);
		vs->doc_id[vs->n] = sqlite3_column_int64(s, 1);
		vs->n++;
	}
	if (src != SQLITE_ROW && src != SQLITE_DONE) {
		rc = store_fail(st, src, "cannot read vectors");
		sqlite3_finalize(s);
		store_vecset_free(vs);
		return rc;
	}
	sqlite3_finalize(s);
	return 0;
}

void store_vecset_free(struct store_vecset *vs)
{
	free(vs->q);
	free(vs->scale);
	free(vs->chunk_id);
	free(vs->doc_id);
	memset(vs, 0, sizeof *vs);
}

int store_vector_get(struct store *st, int64_t chunk_id, int64_t model_id, float *out, int dims)
{
	sqlite3_stmt *s = NULL;
	int rc = prep(st, "SELECT vec FROM vectors WHERE chunk_id = ? AND model_id = ?", &s);
	if (rc)
		return rc;
	sqlite3_bind_int64(s, 1, chunk_id);
	sqlite3_bind_int64(s, 2, model_id);
	if (sqlite3_step(s) == SQLITE_ROW &&
	    sqlite3_column_bytes(s, 0) == dims * (int)sizeof(float)) {
		memcpy(out, sqlite3_column_blob(s, 0), (size_t)dims * sizeof(float));
	} else {
		rc = MX_ENOTFOUND;
	}
	sqlite3_finalize(s);
	return rc;
}

struct id_pos {
	int64_t id;
	size_t pos;
};

static int id_pos_cmp(const void *a, const void *b)
{
	int64_t x = ((const struct id_pos *)a)->id, y = ((const struct id_pos *)b)->id;
	return x < y ? -1 : x > y;
}

int store_vectors_get(struct store *st, int64_t model_id, const int64_t *chunk_ids, size_t n,
		      int dims, float *out, bool *found)
{
	sqlite3_stmt *s = NULL;
	struct id_pos *o = malloc((n ? n : 1) * sizeof *o);
	if (!o)
		return MX_ENOMEM;
	for (size_t i = 0; i < n; i++) {
		o[i] = (struct id_pos){ chunk_ids[i], i };
		found[i] = false;
	}
	qsort(o, n, sizeof *o, id_pos_cmp);
	int rc = prep(st, "SELECT vec FROM vectors WHERE chunk_id = ? AND model_id = ?", &s);
	for (size_t i = 0; i < n && !rc; i++) {
		sqlite3_reset(s);
		sqlite3_bind_int64(s, 1, o[i].id);
		sqlite3_bind_int64(s, 2, model_id);
		int src = sqlite3_step(s);
		if (src == SQLITE_ROW) {
			if (sqlite3_column_bytes(s, 0) == dims * (int)sizeof(float)) {
				memcpy(out + o[i].pos * (size_t)dims, sqlite3_column_blob(s, 0),
				       (size_t)dims * sizeof(float));
				found[o[i].pos] = true;
			}
		} else if (src != SQLITE_DONE) {
			rc = store_fail(st, src, "cannot read vectors");
		}
	}
	sqlite3_finalize(s);
	free(o);
	return rc;
}

int store_hits_for_chunks(struct store *st, const int64_t *ids, size_t n,
			  const struct store_filter *f, struct store_hit **out, size_t *nout)
{
	struct mx_buf sql;
	sqlite3_stmt *s = NULL;
	struct store_hit *all = NULL, *h1 = NULL;
	size_t nall = 0, cap = 0, k = 0;
	int rc = 0;
	*out = NULL;
	*nout = 0;
	mx_buf_init(&sql, 16384);
	if ((rc = mx_buf_appends(&sql, "SELECT c.id, d.id, 0.0, substr(c.text, 1, 240)," HIT_COLS
				       " FROM chunks c JOIN documents d ON d.id = c.doc_id"
				       " JOIN sources s ON s.id = d.source_id WHERE c.id = :id")) ||
	    (rc = filter_sql(&sql, f)) || (rc = prep(st, sql.data, &s)))
		goto out;
	/* one lookup per id keeps the caller's order */
	for (size_t i = 0; i < n && !rc; i++) {
		sqlite3_reset(s);
		sqlite3_bind_int64(s, sqlite3_bind_parameter_index(s, ":id"), ids[i]);
		bind_filter(s, f);
		if ((rc = hits_read(st, s, &h1, &k)))
			break;
		if (k == 1) {
			if ((rc = grow((void **)&all, &cap, nall, sizeof *all))) {
				store_hits_free(h1, k);
				break;
			}
			all[nall++] = h1[0];
			free(h1);
		} else {
			store_hits_free(h1, k);
		}
		h1 = NULL;
	}
out:
	sqlite3_finalize(s);
	mx_buf_free(&sql);
	if (rc) {
		store_hits_free(all, nall);
		return rc;
	}
	*out = all;
	*nout = nall;
	return 0;
}

int64_t store_last_chunk_id(struct store *st)
{
	return st->last_chunk;
}
