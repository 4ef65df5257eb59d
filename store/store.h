/*
 * store.h - the memex index: one SQLite database (WAL, foreign keys on).
 *
 * Tables (schema version 1; see store/schema.c for the exact SQL):
 *   sources    id, path (absolute, unique), type, added_at, last_indexed_at
 *   documents  id, source_id -> sources, path (relative to the source; '' when
 *              the source is a single file), part
 *              ('' for a whole file; a sub-document key otherwise),
 *              message_id, mtime, size, hash (sha256 hex), type, title,
 *              author, recipients, date, status ('ok'|'error'|'skipped'),
 *              error, indexed_at;  unique (source_id, path, part)
 *   chunks     id, doc_id -> documents, ordinal, text, byte_start, byte_end
 *              (offsets in the extracted UTF-8 text), line_start, line_end
 *              (1-based lines of the file; 0 when lines do not apply)
 *   chunks_fts FTS5 (title, author, body), rowid = chunks.id, tokenizer
 *              'porter unicode61 remove_diacritics 2'; kept in step with
 *              chunks by triggers
 *   models     id, fingerprint (unique), dims, name
 *   vectors    chunk_id -> chunks, model_id -> models, vec (blob)
  *   runs       one row per index run: times, status, counters
 * Schema version 2 (mail) adds to documents: parent_id (a message/rfc822
 * part or text attachment's message), thread_id, in_reply_to, refs (space
 * separated message-ids), date_offset (minutes east of UTC as written),
 * folder, flags (Maildir letters, sorted), list_id; and the tables
 *   addresses   doc_id, role ('from'|'to'|'cc'), name, addr
 *   attachments doc_id, ordinal, name, mime_type, size (decoded bytes)
 *   contacts    a view: address, name (the latest), messages, last_seen
 *   mboxes      per mbox file: size, mtime, end_offset of the last message
 *               read, and hashes of its head and of the bytes before
 *               end_offset (to tell an append from a rewrite)
  * Schema version 3 (documents) adds to chunks: heading (the heading path,
 * "Setup > Install"), page_start, page_end (PDF pages; 0: none); and the
 * tables tags (doc_id, tag) and links (doc_id, target) for notes.
  * Schema version 4 (embeddings) adds to vectors: qvec (int8 copy) and
 * qscale (v[i] ~ qscale * qvec[i]).
 * Schema version 5 moves them to a table of their own (small rows, read
 * in order when a model's copies are loaded); vectors keeps the float32:
 *   vectors_i8  (model_id, chunk_id) primary key, doc_id (the chunk's),
 *               scale, q (dims int8), v[i] ~ scale * q[i]; deleted with
 *               its chunk or model
 * Deleting a source deletes its documents; deleting a document deletes its
 * chunks, their FTS rows and vectors, its addresses, its attachments and
 * its child documents.
 *
 * The schema is created and upgraded by numbered migrations keyed on
 * PRAGMA user_version. A database whose version is newer than this build
 * knows is refused (MX_ENEWER) before anything is written to it.
 *
 * Errors: functions return 0 or a negative mx_status; the message for the
 * user is store_errmsg(st), valid until the next call on the handle.
 * A handle is used by one thread at a time.
 */
#ifndef MX_STORE_H
#define MX_STORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define STORE_SCHEMA_VERSION 5

struct store;

enum store_flags {
	STORE_READONLY = 1, /* open for reading; never creates or migrates */
	STORE_CREATE = 2,   /* create the file if missing */
};

/* Opens (and with STORE_CREATE, creates, 0600) the index at path, then
 * migrates it to STORE_SCHEMA_VERSION unless STORE_READONLY. *out is set
 * even on failure, so that store_errmsg() can explain; close it either way.
 * Errors: MX_ENOTFOUND (no index), MX_ECORRUPT (not a database / damaged),
 * MX_ENEWER, MX_EREADONLY, MX_EPERM, MX_EBUSY, MX_EDB, MX_ENOMEM. */
int store_open(const char *path, int flags, struct store **out);
void store_close(struct store *st); /* NULL is fine */
/* How much of the index file SQLite maps into memory (default 4 GiB):
 * mapped pages that searches touch count in the process's resident size
 * (as page cache it can drop); 0 reads through SQLite's own page cache
 * instead. 0, or an SQLite error. */
int store_set_mmap(struct store *st, int64_t bytes);
const char *store_errmsg(const struct store *st);
/* The schema version found in the file when it was opened. */
int store_schema_version(const struct store *st);

int store_begin(struct store *st);
int store_commit(struct store *st);
void store_rollback(struct store *st);

/* Runs PRAGMA integrity_check; 0 when "ok", MX_ECORRUPT otherwise with the
 * first problem in store_errmsg(). */
int store_check(struct store *st);

/* ---- sources ---------------------------------------------------------- */

struct store_source {
	int64_t id;
	char *path; /* absolute */
	char *type; /* "notes", "maildir", "mbox", "eml" */
	int64_t added_at, last_indexed_at;
	int64_t ndocs, nchunks, nerrors, nskipped;
};

/* MX_EEXISTS if a source with that path exists (its id in *id). */
int store_source_add(struct store *st, const char *path, const char *type, int64_t *id);
/* All sources ordered by path, with their counts. Free with
 * store_sources_free(). */
int store_source_list(struct store *st, struct store_source **out, size_t *n);
void store_sources_free(struct store_source *s, size_t n);
/* Removes a source and everything derived from it; MX_ENOTFOUND if none. */
int store_source_remove(struct store *st, int64_t id);
int store_source_set_indexed(struct store *st, int64_t id, int64_t when);

/* ---- documents -------------------------------------------------------- */

/* What the indexer needs to decide, without opening a file, whether it
 * changed. Lists are sorted by (path, part) with strcmp order; child
 * documents (attachments, embedded messages) are not listed. */
struct store_docinfo {
	int64_t id;
	char *path;
	char *part;
	int64_t mtime, size; /* mtime in nanoseconds since the epoch */
	char hash[65];	     /* "" when the file was never read */
	char status[8];
};

int store_doc_list(struct store *st, int64_t source_id, struct store_docinfo **out, size_t *n);
void store_docinfo_free(struct store_docinfo *d, size_t n);

struct store_addr {
	const char *role; /* "from", "to", "cc" */
	const char *name; /* or NULL */
	const char *addr;
};

struct store_attachment {
	const char *name, *mime_type; /* or NULL */
	int64_t size;
};

/* A document to write. Strings and arrays are borrowed for the call. */
struct store_doc {
	int64_t source_id;
	const char *path, *part;
	int64_t parent_id; /* 0: none */
	const char *message_id;
	int64_t mtime, size;
	const char *hash;
	const char *type;
	const char *title, *author, *recipients;
	int64_t date;
	int date_offset;					   /* minutes east of UTC */
	const char *in_reply_to, *refs, *folder, *flags, *list_id; /* or NULL */
	const struct store_addr *addrs;
	size_t naddrs;
	const struct store_attachment *atts;
	size_t natts;
	const char *tags;   /* space-separated, or NULL */
	const char *links;  /* newline-separated, or NULL */
	const char *status; /* "ok", "error" or "skipped" */
	const char *error;  /* reason when not ok */
};

struct store_chunk {
	const char *text; /* borrowed; text_len bytes of UTF-8 */
	size_t text_len;
	int64_t byte_start, byte_end;
	int64_t line_start, line_end;
	const char *heading; /* or NULL */
	int page_start, page_end;
};

/* Inserts or replaces the document keyed (source_id, path, part): its old
 * chunks, FTS rows and vectors go, the new chunks come in, in one
 * statement group (call inside a transaction for atomicity with others).
 * *id (optional) receives the document id. */
int store_doc_put(struct store *st, const struct store_doc *doc, const struct store_chunk *chunks,
		  size_t nchunks, int64_t *id);

/* Records that a document's file moved or was touched without a content
 * change: sets path, mtime, size, folder and flags (NULL: none), keeps
 * chunks and vectors. The file's other documents (children, mbox
 * messages) move with it. */
int store_doc_move(struct store *st, int64_t id, const char *path, int64_t mtime, int64_t size,
		   const char *folder, const char *flags);
int store_doc_delete(struct store *st, int64_t id);

/* Sets a document's title and type (after a rename: a title may come from
 * the file name, a type from the extension), in its FTS rows too. */
int store_doc_retitle(struct store *st, int64_t id, const char *title, const char *type);

/* Deletes every document of a source's file (all its parts). */
int store_doc_delete_file(struct store *st, int64_t source_id, const char *path);

/* Ids and paths of documents of a source with this content hash. */
int store_doc_find_hash(struct store *st, int64_t source_id, const char *hash,
			struct store_docinfo **out, size_t *n);

/* Deletes every document whose absolute path (source path + '/' + path) is
 * abs or lies below abs; *ndeleted (optional) counts them. */
int store_doc_forget(struct store *st, const char *abs, int64_t *ndeleted);

/* ---- mbox files --------------------------------------------------------- */

struct store_mbox {
	int64_t size, mtime, end_offset;
	char head_hash[65], tail_hash[65];
};
/* MX_ENOTFOUND when the file was never read. */
int store_mbox_get(struct store *st, int64_t source_id, const char *path, struct store_mbox *m);
int store_mbox_put(struct store *st, int64_t source_id, const char *path,
		   const struct store_mbox *m);

/* ---- threads ----------------------------------------------------------- */

/* What threading needs of every mail document. */
struct store_maillink {
	int64_t id;
	char *message_id, *in_reply_to, *refs, *thread_id; /* or NULL */
	int64_t date;
};
int store_maillink_list(struct store *st, struct store_maillink **out, size_t *n);
void store_maillinks_free(struct store_maillink *m, size_t n);
int store_thread_set(struct store *st, int64_t doc_id, const char *thread_id);

/* ---- reading documents back ---------------------------------------------- */

struct store_docfull {
	int64_t id, source_id, parent_id;
	char *source_path, *source_type, *path, *part, *type;
	char *title, *author, *recipients, *message_id, *thread_id, *folder, *flags;
	char *list_id, *status, *error;
	int64_t date, mtime, size;
	int date_offset;
	int64_t nchunks, natts;
};
/* Finds a document by id (all digits), by message-id (with or without
 * <>), or by absolute path. MX_ENOTFOUND if none. Free with
 * store_docfull_clear(). */
int store_doc_get(struct store *st, const char *key, struct store_docfull *d);
void store_docfull_clear(struct store_docfull *d);
/* The documents of a thread (by thread id, or any of its message-ids or
 * document ids), oldest first, children excluded. Free with
 * store_docfulls_free(). */
int store_thread_get(struct store *st, const char *key, struct store_docfull **out, size_t *n);
void store_docfulls_free(struct store_docfull *d, size_t n);
/* The documents directly inside document parent_id (an archive's entries,
 * a message's attached messages), in their order in the file (by part);
 * none is not an error. Free with store_docfulls_free(). */
int store_doc_children(struct store *st, int64_t parent_id, struct store_docfull **out,
		       size_t *n);
/* A document's attachments in order; free with store_attachments_free(). */
struct store_att {
	char *name, *mime_type;
	int64_t size;
};
int store_attachment_list(struct store *st, int64_t doc_id, struct store_att **out, size_t *n);
void store_attachments_free(struct store_att *a, size_t n);

/* ---- vectors ----------------------------------------------------------- */

/* The id of a model by fingerprint; MX_ENOTFOUND when unknown. */
int store_model_find(struct store *st, const char *fingerprint, int64_t *id);
/* The id of a model by fingerprint, registered if new. */
int store_model_id(struct store *st, const char *fingerprint, int dims, const char *name,
		   int64_t *id);
/* Deletes the vectors of every model but keep_id (0: all). */
int store_vectors_drop_others(struct store *st, int64_t keep_id, int64_t *ndeleted);
/* Chunks (ids and texts, with their document's title) that have no vector
 * of this model, with ids above `after` (page by the last id seen), at
 * most limit. Free with store_pending_free(). */
struct store_pending {
	int64_t chunk_id;
	char *text; /* title and chunk text, as embedded */
};
int store_pending_list(struct store *st, int64_t model_id, int64_t after, size_t limit,
		       struct store_pending **out, size_t *n);
void store_pending_free(struct store_pending *p, size_t n);
int64_t store_pending_count(struct store *st, int64_t model_id);
/* The id of the last chunk written on this handle (bulk loaders). */
int64_t store_last_chunk_id(struct store *st);
/* Writes a chunk's vector (dims floats) and its int8 copy. */
int store_vector_put(struct store *st, int64_t chunk_id, int64_t model_id, const float *v,
		     int dims);
/* Every vector of a model, for scanning: n rows of dims int8 (q), their
 * scales and chunk and document ids. Free with store_vecset_free(). */
struct store_vecset {
	size_t n;
	int dims;
	int8_t *q;
	float *scale;
	int64_t *chunk_id, *doc_id;
};
int store_vecset_load(struct store *st, int64_t model_id, struct store_vecset *vs);
void store_vecset_free(struct store_vecset *vs);
/* The float32 vector of a chunk (dims floats into out). */
int store_vector_get(struct store *st, int64_t chunk_id, int64_t model_id, float *out, int dims);
/* The float32 vectors of n chunks: chunk_ids[i]'s into out + i * dims, and
 * found[i] says whether it has one of dims values (else out is left as it
 * is). One statement, the lookups in chunk id order (the rows' order in
 * the file). 0, MX_ENOMEM, or an SQLite error. */
int store_vectors_get(struct store *st, int64_t model_id, const int64_t *chunk_ids, size_t n,
		      int dims, float *out, bool *found);
struct store_filter;
struct store_hit;
/* Hits for chunk ids, in the given order, those passing the filter (the
 * snippet is the chunk's start). */
int store_hits_for_chunks(struct store *st, const int64_t *ids, size_t n,
			  const struct store_filter *f, struct store_hit **out, size_t *nout);

/* ---- runs and status -------------------------------------------------- */

struct store_run {
	int64_t id;
	int64_t started_at, finished_at;
	char status[16]; /* running, complete, partial, interrupted, failed */
	int64_t files_seen, files_opened, docs_added, docs_updated, docs_moved, docs_removed,
		docs_failed;
};

int store_run_begin(struct store *st, int64_t *id);
int store_run_end(struct store *st, const struct store_run *run);
/* The newest run; MX_ENOTFOUND if there was none. */
int store_run_last(struct store *st, struct store_run *run);

struct store_stats {
	int64_t nsources, ndocs, nchunks, nerrors, nskipped, nvectors;
	int64_t db_bytes;
};
int store_stats_get(struct store *st, struct store_stats *s);

/* Documents not indexed (status error or skipped), newest first. Free with
 * store_problems_free(). */
struct store_problem {
	char *path; /* absolute */
	char *status;
	char *error;
};
int store_problem_list(struct store *st, bool errors_only, size_t limit, struct store_problem **out,
		       size_t *n);
void store_problems_free(struct store_problem *p, size_t n);

/* ---- search ----------------------------------------------------------- */

/* Restrictions on a search; zero/NULL fields do not restrict. Text
 * fields match as case-insensitive substrings. */
struct store_filter {
	const char *from, *to; /* an address or name in that role (to: To or Cc) */
	const char *folder;    /* the folder or below it */
	const char *type;      /* document type: mail, note, text, pdf, docx, ... */
	const char *tag;       /* a note's tag */
	const char *title;     /* the title contains this (the vector leg's
				  subject:; the BM25 leg matches it in FTS5) */
	int64_t after, before; /* date >= after, date < before (epoch seconds) */
	bool has_attachment, unread;
};

struct store_hit {
	int64_t chunk_id, doc_id;
	double score;  /* bm25: lower is better, as FTS5 returns it */
	char *snippet; /* with \x02 ... \x03 around matched terms */
	char *text;    /* the chunk's text */
	char *source_path, *path, *part, *type;
	char *title, *author, *message_id, *thread_id;
	char *parent_message_id; /* an attachment's message, or NULL */
	char *heading;		 /* the chunk's heading path, or NULL */
	int page_start, page_end;
	int64_t date;
	int64_t line_start, line_end, byte_start, byte_end;
};

/* Runs an FTS5 MATCH expression, best first, at most limit chunks, and at
  * most one chunk per document when per_doc is set; snippets of about
 * snippet_tokens tokens (1 to 64; 0: the chunk's start, made later with
 * store_add_snippets). An invalid expression
 * is MX_EINVAL. Free with store_hits_free(). */
int store_fts_search(struct store *st, const char *match, const struct store_filter *f,
		     size_t limit, bool per_doc, int snippet_tokens, struct store_hit **out,
		     size_t *n);
/* Replaces the snippets of hits whose chunk matches the expression with
 * FTS5's highlighted ones (others keep theirs). For store_fts_search run
 * with snippet_tokens 0, once the hits to show are known. */
int store_add_snippets(struct store *st, const char *match, int tokens, struct store_hit *h,
		       size_t n);
/* With no words, only filters: the newest matching documents first, each
 * with its first chunk (the snippet is the start of its text). */
int store_filter_list(struct store *st, const struct store_filter *f, size_t limit,
		      struct store_hit **out, size_t *n);
void store_hits_free(struct store_hit *h, size_t n);
/* Frees one hit's strings (the array stays). */
void store_hit_clear(struct store_hit *h);

#endif
