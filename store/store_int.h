/* store_int.h - internals shared by the files of the store module. */
#ifndef MX_STORE_INT_H
#define MX_STORE_INT_H

#include <sqlite3.h>

#include "store.h"

struct store {
	sqlite3 *db;
	int flags;
	int found_version;  /* user_version when opened */
	int64_t last_chunk; /* the last chunk written */
	char msg[512];
};

/* SQL for a document's absolute path, with documents as d and sources as
 * s: a single-file source's document has the path "". */
#define STORE_ABS_PATH "(CASE d.path WHEN '' THEN s.path ELSE s.path || '/' || d.path END)"

/* Migrations: SQL that takes user_version from -> from + 1. */
int store_migrations_count(void);
const char *store_migration_sql(int from);

/* Sets st->msg from SQLite's message and maps the SQLite code to a status. */
int store_fail(struct store *st, int sqlite_rc, const char *what);

#endif
