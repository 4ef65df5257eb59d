/*
 * indexer.h - crawl sources, detect changes, chunk, and write the store.
 *
 * A run walks every source (or one), compares each file with what the
 * store knows and does the least work that keeps the index true:
 *   unchanged  mtime (to the nanosecond) and size equal the stored ones: not
 *              opened at all; except files that failed before they could be
 *              read (too large, no permission), which are tried again
 *   touched    opened and hashed; same content hash: only mtime/size updated
 *   changed    re-parsed and re-chunked; old chunks, FTS rows and vectors go
 *   new        parsed, unless its hash equals a document whose file vanished
 *              in this run: then it is a rename and the document moves
 *   vanished   deleted with its chunks, FTS rows and vectors (only after a
 *              complete walk, so an unreadable folder never erases its
 *              documents)
  * An mbox source is one file of many messages: it is not opened while its
 * size and mtime stay; after an append only the new messages are read
 * (their keys are their offsets); a rewritten mbox is read again. How each
 * kind of source is enumerated is one entry in a table in indexer.c.
 * After a run that changed mail, threads are recomputed (thread.c).
 * Files that cannot be read are recorded with the reason (status 'error');
 * files of types no connector handles are recorded as 'skipped'. Work is
 * committed in batches, so a run that is interrupted (or killed) keeps what
 * it finished and the next run picks up the rest without duplicates.
 *
 * The chunker splits text at paragraph and sentence boundaries into chunks
 * of about target_tokens (never more than max_tokens), with overlap_tokens
 * of overlap inside paragraphs, never inside a UTF-8 sequence, keeping each
 * chunk's byte span in the text and its line span in the file.
 */
#ifndef MX_INDEXER_H
#define MX_INDEXER_H

#include <signal.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct store;

/* ---- chunker ---------------------------------------------------------- */

struct idx_chunk_params {
	size_t target_tokens;  /* default 300 */
	size_t max_tokens;     /* default 400 */
	size_t overlap_tokens; /* default 50 */
};
struct idx_chunk_params idx_chunk_params_default(void);

struct idx_span {
	size_t start, end;	      /* bytes [start, end) of the text */
	int64_t line_start, line_end; /* file lines, 1-based; 0 if none */
};

/* Splits text[0..len) (valid UTF-8). line_base as in conn_doc (-1: no
 * lines). *out (malloc'd, caller frees) gets *n spans in order; whitespace
 * only text gives none. 0, MX_EINVAL (bad params) or MX_ENOMEM. */
int idx_chunk_text(const char *text, size_t len, int64_t line_base,
		   const struct idx_chunk_params *p, struct idx_span **out, size_t *n);

/* A model-free estimate of how many tokens a subword tokenizer makes of
 * s[0..n): about one per short word or punctuation mark, one per CJK
 * character. */
size_t idx_tokens_estimate(const char *s, size_t n);

/* ---- runs ------------------------------------------------------------- */

struct idx_progress {
	const char *source;   /* absolute path of the source being walked */
	const char *path;     /* the file being worked on, or NULL */
	uint64_t done, total; /* files that needed opening: done of total */
	uint64_t bytes_done;
	double elapsed; /* seconds since the run started */
};

enum idx_event {
	IDX_EV_ADDED,
	IDX_EV_UPDATED,
	IDX_EV_MOVED,
	IDX_EV_REMOVED,
	IDX_EV_FAILED,
	IDX_EV_SKIPPED,
};

struct idx_params {
	size_t max_file_size; /* default 100 MB */
	bool full;	      /* re-parse every file */
	struct idx_chunk_params chunk;
	size_t batch_docs;    /* commit after this many writes (256) */
	double batch_seconds; /* ... or this many seconds (2.0) */
	/* Set to non-zero (e.g. from a signal handler) to stop cleanly. */
	const volatile sig_atomic_t *cancel;
	/* Called at most every progress_interval seconds; may be NULL. */
	void (*progress)(const struct idx_progress *p, void *ctx);
	double progress_interval; /* default 0.2 */
	/* Called for each document event with its absolute path and, for
	 * failures and skips, the reason; may be NULL. */
	void (*event)(enum idx_event ev, const char *path, const char *why, void *ctx);
	void *ctx;
};
struct idx_params idx_params_default(void);

struct idx_stats {
	uint64_t files_seen;   /* regular files found by the walk */
	uint64_t files_opened; /* files read from disk */
	uint64_t bytes_read;
	uint64_t unchanged, added, updated, moved, removed, failed, skipped;
	uint64_t chunks;       /* chunks written */
	uint64_t walk_errors;  /* folders that could not be read */
	uint64_t errors_total; /* documents in error after the run */
	int64_t run_id;
};

/* Recomputes every mail document's thread id (see thread.c); *changed
 * counts the documents whose thread changed. Call inside a transaction. */
int idx_threads_update(struct store *st, uint64_t *changed);

struct indexer;

/* A new indexer over an open store (borrowed; it must outlive the
 * indexer). params is copied. NULL on allocation failure. */
struct indexer *idx_new(struct store *st, const struct idx_params *params);
void idx_free(struct indexer *ix); /* NULL is fine */
const char *idx_errmsg(const struct indexer *ix);

/* Indexes every source, or only the one whose path or id is `only` (NULL
 * for all). Counters add up in *stats. Returns 0 when every file was
 * indexed or skipped by type, MX_EPARTIAL when some files are in error (see
 * store_problem_list), MX_EINTR when cancelled (work so far kept),
 * MX_ENOTFOUND when `only` names no source, or another error when the store
 * failed (the message in idx_errmsg()). */
int idx_run(struct indexer *ix, const char *only, struct idx_stats *stats);

struct eng_embedder;
/* Embeds every chunk that has no vector of this model yet (new chunks after
 * idx_run, or all of them after a model change), in batches, committed as
 * it goes, with progress (done/total chunks) through the params' progress
 * callback. *embedded counts them. MX_EINTR when cancelled (work kept). */
int idx_embed(struct indexer *ix, struct eng_embedder *e, int64_t model_id, uint64_t *embedded);

#endif
