/*
 * schema.c - numbered migrations. migrations[i] takes a database from
 * user_version i to i + 1. Append new entries; never edit a released one.
 */
#include "store_int.h"

static const char *const migrations[] = {
	/* each entry in parentheses: one string made of many literals */
	/* 0 -> 1: the foundation */
	("CREATE TABLE sources ("
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
	 "  docs_failed INTEGER NOT NULL DEFAULT 0);"),

	/* 1 -> 2: mail. Threads, addresses, attachments and child documents
	 * (message/rfc822 parts, text attachments), Maildir folders and
	 * flags, and the state of mbox files for incremental reads. */
	("ALTER TABLE documents ADD COLUMN parent_id INTEGER"
	 "  REFERENCES documents(id) ON DELETE CASCADE;"
	 "ALTER TABLE documents ADD COLUMN thread_id TEXT;"
	 "ALTER TABLE documents ADD COLUMN in_reply_to TEXT;"
	 "ALTER TABLE documents ADD COLUMN refs TEXT;"
	 "ALTER TABLE documents ADD COLUMN date_offset INTEGER NOT NULL DEFAULT 0;"
	 "ALTER TABLE documents ADD COLUMN folder TEXT;"
	 "ALTER TABLE documents ADD COLUMN flags TEXT;"
	 "ALTER TABLE documents ADD COLUMN list_id TEXT;"
	 "CREATE INDEX documents_thread ON documents(thread_id);"
	 "CREATE INDEX documents_parent ON documents(parent_id);"
	 "CREATE INDEX documents_date ON documents(date);"
	 "CREATE TABLE addresses ("
	 "  doc_id INTEGER NOT NULL REFERENCES documents(id) ON DELETE CASCADE,"
	 "  role TEXT NOT NULL CHECK (role IN ('from', 'to', 'cc')),"
	 "  name TEXT,"
	 "  addr TEXT NOT NULL);"
	 "CREATE INDEX addresses_doc ON addresses(doc_id);"
	 "CREATE INDEX addresses_addr ON addresses(addr COLLATE NOCASE);"
	 "CREATE TABLE attachments ("
	 "  doc_id INTEGER NOT NULL REFERENCES documents(id) ON DELETE CASCADE,"
	 "  ordinal INTEGER NOT NULL,"
	 "  name TEXT, mime_type TEXT, size INTEGER NOT NULL DEFAULT 0);"
	 "CREATE INDEX attachments_doc ON attachments(doc_id);"
	 /* Contacts as the mail index knows them; always in step with it. */
	 "CREATE VIEW contacts AS"
	 "  SELECT lower(a.addr) AS address,"
	 "   (SELECT a2.name FROM addresses a2 JOIN documents d2 ON d2.id = a2.doc_id"
	 "    WHERE lower(a2.addr) = lower(a.addr) AND a2.name <> ''"
	 "    ORDER BY d2.date DESC LIMIT 1) AS name,"
	 "   count(DISTINCT a.doc_id) AS messages, max(d.date) AS last_seen"
	 "  FROM addresses a JOIN documents d ON d.id = a.doc_id"
	 "  GROUP BY lower(a.addr);"
	 "CREATE TABLE mboxes ("
	 "  source_id INTEGER NOT NULL REFERENCES sources(id) ON DELETE CASCADE,"
	 "  path TEXT NOT NULL,"
	 "  size INTEGER NOT NULL, mtime INTEGER NOT NULL,"
	 "  end_offset INTEGER NOT NULL,"
	 "  head_hash TEXT NOT NULL, tail_hash TEXT NOT NULL,"
	 "  PRIMARY KEY (source_id, path));"),

	/* 2 -> 3: documents. Chunks know their heading path and pages (for
	 * citations); notes have tags and [[links]]. */
	("ALTER TABLE chunks ADD COLUMN heading TEXT;"
	 "ALTER TABLE chunks ADD COLUMN page_start INTEGER NOT NULL DEFAULT 0;"
	 "ALTER TABLE chunks ADD COLUMN page_end INTEGER NOT NULL DEFAULT 0;"
	 "CREATE TABLE tags ("
	 "  doc_id INTEGER NOT NULL REFERENCES documents(id) ON DELETE CASCADE,"
	 "  tag TEXT NOT NULL);"
	 "CREATE INDEX tags_doc ON tags(doc_id);"
	 "CREATE INDEX tags_tag ON tags(tag);"
	 "CREATE TABLE links ("
	 "  doc_id INTEGER NOT NULL REFERENCES documents(id) ON DELETE CASCADE,"
	 "  target TEXT NOT NULL);"
	 "CREATE INDEX links_doc ON links(doc_id);"
	 "CREATE INDEX links_target ON links(target);"),

	/* 3 -> 4: embeddings. Beside each float32 vector, an int8 copy and its
	 * scale (v ~ qscale * qvec) for scanning. */
	("ALTER TABLE vectors ADD COLUMN qvec BLOB;"
	 "ALTER TABLE vectors ADD COLUMN qscale REAL NOT NULL DEFAULT 0;"),

	/* 4 -> 5: the int8 copies move to a table of their own, keyed by
	 * (model_id, chunk_id), so loading a model's copies reads small rows
	 * in order instead of walking the float32 rows' overflow pages. The
	 * chunk's doc_id (never updated) rides along, so the load needs no
	 * look-up in chunks. The float32 vectors stay in vectors for
	 * rescoring. */
	("CREATE TABLE vectors_i8 ("
	 "  model_id INTEGER NOT NULL REFERENCES models(id) ON DELETE CASCADE,"
	 "  chunk_id INTEGER NOT NULL REFERENCES chunks(id) ON DELETE CASCADE,"
	 "  doc_id INTEGER NOT NULL,"
	 "  scale REAL NOT NULL,"
	 "  q BLOB NOT NULL,"
	 "  PRIMARY KEY (model_id, chunk_id)) WITHOUT ROWID;"
	 "INSERT INTO vectors_i8(model_id, chunk_id, doc_id, scale, q)"
	 "  SELECT v.model_id, v.chunk_id, c.doc_id, v.qscale, v.qvec FROM vectors v"
	 "  JOIN chunks c ON c.id = v.chunk_id WHERE v.qvec IS NOT NULL"
	 "  ORDER BY v.model_id, v.chunk_id;"
	 /* for the cascade when chunks go */
	 "CREATE INDEX vectors_i8_chunk ON vectors_i8(chunk_id);"
	 "ALTER TABLE vectors DROP COLUMN qvec;"
	 "ALTER TABLE vectors DROP COLUMN qscale;"),
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
