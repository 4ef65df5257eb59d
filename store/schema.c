/*
 * schema.c - numbered migrations. migrations[i] takes a database from
 * user_version i to i + 1. Append new entries; never edit a released one.
 */
#include "store_int.h"

static const char *const migrations[] = {
	/* 0 -> 1: the foundation */
	"CREATE TABLE sources ("
	"  id INTEGER PRIMARY KEY,"
	"  path TEXT NOT NULL UNIQUE,"
	"  type TEXT NOT NULL,"
	"  added_at INTEGER NOT NULL,"
	"  last_indexed_at INTEGER NOT NULL DEFAULT 0);"
	/* AUTOINCREMENT: ids handed to scripts (--json) are never reused */
	"CREATE TABLE documents ("
	"  id INTEGER PRIMARY KEY AUTOINCREMENT,"
	"  source_id INTEGER NOT NULL REFERENCES sources(id) ON DELETE CASCADE,"
	"  path TEXT NOT NULL,"
	"  part TEXT NOT NULL DEFAULT '',"
	"  message_id TEXT,"
	"  mtime INTEGER NOT NULL DEFAULT 0,"
	"  size INTEGER NOT NULL DEFAULT 0,"
	"  hash TEXT NOT NULL DEFAULT '',"
	"  type TEXT NOT NULL DEFAULT '',"
	"  title TEXT, author TEXT, recipients TEXT,"
	"  date INTEGER NOT NULL DEFAULT 0,"
	"  status TEXT NOT NULL CHECK (status IN ('ok','error','skipped')),"
	"  error TEXT,"
	"  indexed_at INTEGER NOT NULL DEFAULT 0,"
	"  UNIQUE (source_id, path, part));"
	"CREATE INDEX documents_hash ON documents(source_id, hash);"
	"CREATE INDEX documents_message_id ON documents(message_id);"
	"CREATE TABLE chunks ("
	"  id INTEGER PRIMARY KEY AUTOINCREMENT,"
	"  doc_id INTEGER NOT NULL REFERENCES documents(id) ON DELETE CASCADE,"
	"  ordinal INTEGER NOT NULL,"
	"  text TEXT NOT NULL,"
	"  byte_start INTEGER NOT NULL, byte_end INTEGER NOT NULL,"
	"  line_start INTEGER NOT NULL, line_end INTEGER NOT NULL,"
	"  UNIQUE (doc_id, ordinal));"
	"CREATE VIRTUAL TABLE chunks_fts USING fts5("
	"  title, author, body,"
	"  tokenize = 'porter unicode61 remove_diacritics 2');"
	"CREATE TRIGGER chunks_after_delete AFTER DELETE ON chunks BEGIN"
	"  DELETE FROM chunks_fts WHERE rowid = old.id;"
	"END;"
	"CREATE TABLE models ("
	"  id INTEGER PRIMARY KEY,"
	"  fingerprint TEXT NOT NULL UNIQUE,"
	"  dims INTEGER NOT NULL CHECK (dims > 0),"
	"  name TEXT);"
	"CREATE TABLE vectors ("
	"  chunk_id INTEGER NOT NULL REFERENCES chunks(id) ON DELETE CASCADE,"
	"  model_id INTEGER NOT NULL REFERENCES models(id) ON DELETE CASCADE,"
	"  vec BLOB NOT NULL,"
	"  PRIMARY KEY (chunk_id, model_id)) WITHOUT ROWID;"
	"CREATE INDEX vectors_model ON vectors(model_id);"
	"CREATE TABLE runs ("
	"  id INTEGER PRIMARY KEY,"
	"  started_at INTEGER NOT NULL, finished_at INTEGER NOT NULL DEFAULT 0,"
	"  status TEXT NOT NULL DEFAULT 'running',"
	"  files_seen INTEGER NOT NULL DEFAULT 0,"
	"  files_opened INTEGER NOT NULL DEFAULT 0,"
	"  docs_added INTEGER NOT NULL DEFAULT 0,"
	"  docs_updated INTEGER NOT NULL DEFAULT 0,"
	"  docs_moved INTEGER NOT NULL DEFAULT 0,"
	"  docs_removed INTEGER NOT NULL DEFAULT 0,"
	"  docs_failed INTEGER NOT NULL DEFAULT 0);",
};

int store_migrations_count(void)
{
	return (int)(sizeof migrations / sizeof migrations[0]);
}

const char *store_migration_sql(int from)
{
	if (from < 0 || from >= store_migrations_count())
		return NULL;
	return migrations[from];
}
