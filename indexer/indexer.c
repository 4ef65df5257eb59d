/*
 * indexer.c - one index run over the registered sources.
 *
 * Per source:
 *  1. Walk the tree (lstat only, nothing opened) into a list of entries
 *     sorted by path. Folders that cannot be read are counted; when any
 *     exists the run deletes nothing for that source.
 *  2. Merge the list with the store's documents of the source (sorted the
 *     same way) to classify each entry as unchanged, suspect (mtime or size
 *     differ) or new, and each stored document as present or vanished.
 *  3. Work through suspect and new entries: read, hash, and either touch,
 *     move (a new path whose hash equals a vanished document: a rename),
 *     or parse and chunk and write. Commit every batch_docs writes or
 *     batch_seconds.
 *  4. Delete the documents that vanished and were not claimed by a rename.
 */
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <fcntl.h>
#include <unistd.h>

#include "../common/fsutil.h"
#include "../common/hash.h"
#include "../common/status.h"
#include "../connectors/conn.h"
#include "../engine/engine.h"
#include "../store/store.h"
#include "indexer.h"

#define IDX_MAX_DEPTH	64	 /* folder nesting we follow */
#define IDX_MAX_ENTRIES 10000000 /* files per source */

struct idx_params idx_params_default(void)
{
	return (struct idx_params){
		.max_file_size = 100u * 1000 * 1000,
		.chunk = idx_chunk_params_default(),
		.batch_docs = 256,
		.batch_seconds = 2.0,
		.progress_interval = 0.2,
	};
}

struct indexer {
	struct store *st;
	struct idx_params p;
	char msg[512];
	/* per run */
	struct timespec t0, last_commit, last_progress;
	size_t pending; /* writes since the last commit */
	bool in_tx;	/* a batch's transaction is open */
	struct idx_progress prog;
};

/* A file found by the walk. */
struct entry {
	char *path; /* relative to the source */
	int64_t mtime, size;
	bool regular;
	int state;		   /* ENTRY_* */
	struct store_docinfo *doc; /* the stored document at this path */
};

enum { ENTRY_UNCHANGED, ENTRY_SUSPECT, ENTRY_NEW };

struct walk {
	struct entry *v;
	size_t n, cap;
	struct conn_ignore *ig; /* notes sources: .memexignore and defaults */
	uint64_t errors;
	char firsterr[256];
};

static double since(const struct timespec *a)
{
	struct timespec b;
	clock_gettime(CLOCK_MONOTONIC, &b);
	return (double)(b.tv_sec - a->tv_sec) + (double)(b.tv_nsec - a->tv_nsec) / 1e9;
}

struct indexer *idx_new(struct store *st, const struct idx_params *params)
{
	struct indexer *ix = calloc(1, sizeof *ix);
	if (!ix)
		return NULL;
	ix->st = st;
	ix->p = *params;
	return ix;
}

void idx_free(struct indexer *ix)
{
	free(ix);
}

const char *idx_errmsg(const struct indexer *ix)
{
	return ix ? ix->msg : "out of memory";
}

static int fail_store(struct indexer *ix, int rc)
{
	snprintf(ix->msg, sizeof ix->msg, "%s", store_errmsg(ix->st));
	return rc;
}

/* ===================================================================== */
/* walk                                                                  */
/* ===================================================================== */

/* A file's mtime in nanoseconds, clamped to what int64 holds (years
 * before 1678 or after 2262 saturate). */
static int64_t mtime_ns(const struct stat *sb)
{
	const int64_t lim = INT64_MAX / 1000000000 - 1;
	int64_t sec = (int64_t)sb->st_mtim.tv_sec;
	if (sec > lim)
		return INT64_MAX;
	if (sec < -lim)
		return INT64_MIN;
	return sec * 1000000000 + sb->st_mtim.tv_nsec;
}

static int walk_push(struct walk *w, char *path, const struct stat *sb, bool regular)
{
	if (w->n >= IDX_MAX_ENTRIES) {
		free(path);
		return MX_ETOOBIG;
	}
	if (w->n == w->cap) {
		size_t c = w->cap ? w->cap * 2 : 256;
		struct entry *v = realloc(w->v, c * sizeof *v);
		if (!v) {
			free(path);
			return MX_ENOMEM;
		}
		w->v = v;
		w->cap = c;
	}
	w->v[w->n++] = (struct entry){ .path = path,
				       .mtime = mtime_ns(sb),
				       .size = (int64_t)sb->st_size,
				       .regular = regular };
	return 0;
}

static int name_cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static void walk_error(struct walk *w, const char *path, int err)
{
	if (!w->errors++)
		snprintf(w->firsterr, sizeof w->firsterr, "cannot read '%s': %s", path,
			 strerror(err));
}

/* Recursive walk of root/rel. Entries in a folder are sorted so that runs
 * see files in a stable order. */
static int walk_dir(struct walk *w, const char *type, const char *root, const char *rel, int depth)
{
	int rc = 0;
	char *dirpath = rel[0] ? mx_path_join(root, rel) : strdup(root);
	char **names = NULL;
	size_t n = 0, cap = 0;
	DIR *d = NULL;
	if (!dirpath)
		return MX_ENOMEM;
	if (depth > IDX_MAX_DEPTH) {
		walk_error(w, dirpath, ELOOP);
		goto out;
	}
	d = opendir(dirpath);
	if (!d) {
		walk_error(w, dirpath, errno);
		goto out;
	}
	struct dirent *e;
	while ((e = readdir(d))) {
		if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, ".."))
			continue;
		if (n == cap) {
			size_t c = cap ? cap * 2 : 64;
			char **v = realloc(names, c * sizeof *v);
			if (!v) {
				rc = MX_ENOMEM;
				goto out;
			}
			names = v;
			cap = c;
		}
		if (!(names[n] = strdup(e->d_name))) {
			rc = MX_ENOMEM;
			goto out;
		}
		n++;
	}
	if (n)
		qsort(names, n, sizeof *names, name_cmp);
	for (size_t i = 0; i < n && !rc; i++) {
		char *childrel = rel[0] ? mx_path_join(rel, names[i]) : strdup(names[i]);
		char *full = childrel ? mx_path_join(root, childrel) : NULL;
		struct stat sb;
		if (!childrel || !full) {
			free(childrel);
			free(full);
			rc = MX_ENOMEM;
			break;
		}
		if (lstat(full, &sb) != 0) {
			walk_error(w, full, errno);
			free(childrel);
		} else if (S_ISDIR(sb.st_mode)) {
			if (conn_walk_wants_dir(type, names[i]) &&
			    !conn_ignore_match(w->ig, childrel, true))
				rc = walk_dir(w, type, root, childrel, depth + 1);
			free(childrel);
		} else if (!conn_walk_wants_file(type, names[i]) ||
			   conn_ignore_match(w->ig, childrel, false)) {
			free(childrel);
		} else if (S_ISLNK(sb.st_mode)) {
			/* follow links to files, never to folders (loops) */
			struct stat tb;
			if (stat(full, &tb) == 0 && S_ISREG(tb.st_mode))
				rc = walk_push(w, childrel, &tb, true);
			else
				free(childrel);
		} else {
			rc = walk_push(w, childrel, &sb, S_ISREG(sb.st_mode));
		}
		free(full);
	}
out:
	if (d)
		closedir(d);
	for (size_t i = 0; i < n; i++)
		free(names[i]);
	free(names);
	free(dirpath);
	return rc;
}

static int entry_cmp(const void *a, const void *b)
{
	return strcmp(((const struct entry *)a)->path, ((const struct entry *)b)->path);
}

static void walk_free(struct walk *w)
{
	conn_ignore_free(w->ig);
	for (size_t i = 0; i < w->n; i++)
		free(w->v[i].path);
	free(w->v);
}

/* ===================================================================== */
/* batching and progress                                                 */
/* ===================================================================== */

/* Opens the batch's transaction before its first write. Reading and
 * parsing happen outside of it, so that other writers (memex add) are
 * kept waiting only while a batch is written. */
static int tx(struct indexer *ix)
{
	if (ix->in_tx)
		return 0;
	int rc = store_begin(ix->st);
	if (rc)
		return fail_store(ix, rc);
	ix->in_tx = true;
	return 0;
}

static int maybe_commit(struct indexer *ix, bool force)
{
	if (!ix->in_tx)
		return 0;
	if (!force && ix->pending < ix->p.batch_docs &&
	    since(&ix->last_commit) < ix->p.batch_seconds)
		return 0;
	int rc = store_commit(ix->st);
	if (rc) {
		store_rollback(ix->st);
		ix->in_tx = false;
		return fail_store(ix, rc);
	}
	ix->in_tx = false;
	ix->pending = 0;
	clock_gettime(CLOCK_MONOTONIC, &ix->last_commit);
	return 0;
}

static void progress(struct indexer *ix, bool force)
{
	if (!ix->p.progress)
		return;
	if (!force && since(&ix->last_progress) < ix->p.progress_interval)
		return;
	ix->prog.elapsed = since(&ix->t0);
	ix->p.progress(&ix->prog, ix->p.ctx);
	clock_gettime(CLOCK_MONOTONIC, &ix->last_progress);
}

static void event(struct indexer *ix, enum idx_event ev, const char *src, const char *rel,
		  const char *why)
{
	if (!ix->p.event)
		return;
	char *full = rel[0] ? mx_path_join(src, rel) : strdup(src);
	ix->p.event(ev, full ? full : rel, why, ix->p.ctx);
	free(full);
}

/* ===================================================================== */
/* one file                                                              */
/* ===================================================================== */

static const char *reason_of(int rc, const char *detail, char *buf, size_t n)
{
	if (detail && *detail)
		return detail;
	snprintf(buf, n, "%s", mx_strerror(rc));
	return buf;
}

/* Where a document goes in the store. */
struct doc_place {
	const char *path, *part; /* the file (relative to the source), the key in it */
	int64_t parent_id;	 /* 0: none */
	int64_t mtime, size;
	const char *hash;
	const char *folder, *flags; /* Maildir; or NULL */
};

/* Records a document that is not indexed (error or skipped). */
static int put_problem(struct indexer *ix, const struct store_source *src,
		       const struct doc_place *pl, const char *status, const char *why)
{
	struct store_doc d = {
		.source_id = src->id,
		.path = pl->path,
		.part = pl->part,
		.mtime = pl->mtime,
		.size = pl->size,
		.hash = pl->hash,
		.status = status,
		.error = why,
	};
	int rc = tx(ix);
	if (rc)
		return rc;
	if ((rc = store_doc_put(ix->st, &d, NULL, 0, NULL)))
		return fail_store(ix, rc);
	ix->pending++;
	return 0;
}

/* A walked file's whole-file place, with this hash ("" when unread). */
static struct doc_place place_of(const struct entry *e, const char *hash)
{
	return (struct doc_place){
		.path = e->path, .part = "", .mtime = e->mtime, .size = e->size, .hash = hash
	};
}

/* Chunks a document's text. With sections (headings, pages), each
 * section is chunked on its own, so that a chunk never spans two headings
 * or two pages and carries its section's heading and page. A document
 * with no text still gets one empty chunk, so that its title and author
 * are searchable. *out (malloc'd) points into text. */
static int chunk_doc(struct indexer *ix, const struct conn_doc *doc, const char *text, size_t tlen,
		     bool use_sections, struct store_chunk **out, size_t *n)
{
	struct store_chunk *v = NULL;
	size_t k = 0, cap = 0;
	int rc = 0;
	size_t nsec = use_sections ? doc->nsections : 0;
	int64_t lines_before = 0; /* newlines before the current range */
	size_t counted = 0;	  /* ... counted up to here */
	/* ranges: [0, first section) then each section to the next */
	for (size_t r = 0; r <= nsec && !rc; r++) {
		size_t start = r == 0 ? 0 : doc->sections[r - 1].start;
		size_t end = r < nsec ? doc->sections[r].start : tlen;
		if (start > tlen)
			start = tlen;
		if (end > tlen)
			end = tlen;
		if (end <= start)
			continue;
		const struct conn_section *sec = r ? &doc->sections[r - 1] : NULL;
		for (; counted < start; counted++)
			lines_before += text[counted] == '\n';
		struct idx_span *sp = NULL;
		size_t ns = 0;
		int64_t base = doc->line_base < 0 ? -1 : doc->line_base + lines_before;
		if ((rc = idx_chunk_text(text + start, end - start, base, &ix->p.chunk, &sp, &ns)))
			break;
		if (k + ns > cap) {
			size_t c = cap ? cap * 2 : 16;
			while (c < k + ns)
				c *= 2;
			struct store_chunk *nv = realloc(v, c * sizeof *nv);
			if (!nv) {
				free(sp);
				rc = MX_ENOMEM;
				break;
			}
			v = nv;
			cap = c;
		}
		for (size_t i = 0; i < ns; i++)
			v[k++] = (struct store_chunk){
				.text = text + start + sp[i].start,
				.text_len = sp[i].end - sp[i].start,
				.byte_start = (int64_t)(start + sp[i].start),
				.byte_end = (int64_t)(start + sp[i].end),
				.line_start = sp[i].line_start,
				.line_end = sp[i].line_end,
				.heading = sec ? sec->heading : NULL,
				.page_start = sec ? sec->page : 0,
				.page_end = sec ? sec->page : 0,
			};
		free(sp);
	}
	if (!rc && k == 0) {
		free(v);
		if (!(v = calloc(1, sizeof *v)))
			rc = MX_ENOMEM;
		else
			v[k++] = (struct store_chunk){ .text = "", .text_len = 0 };
	}
	if (rc) {
		free(v);
		return rc;
	}
	*out = v;
	*n = k;
	return 0;
}

/* Chunks a parsed document and writes it, then its children (with part
 * "PARENT/CHILD" and parent_id set). */
static int write_doc(struct indexer *ix, const struct store_source *src, const struct doc_place *pl,
		     const struct conn_doc *doc, struct idx_stats *stats)
{
	struct store_chunk *chunks = NULL;
	struct store_addr *addrs = NULL;
	struct store_attachment *atts = NULL;
	char *itext = NULL;
	size_t ilen = 0;
	int64_t id = 0;
	int rc = 0;

	/* quoted replies and signatures are not indexed */
	if (doc->nquoted) {
		if ((rc = conn_doc_indexable(doc, &itext, &ilen)))
			goto nomem;
	}
	const char *text = itext ? itext : doc->text;
	size_t tlen = itext ? ilen : doc->text_len;
	size_t nchunks = 0;
	if ((rc = chunk_doc(ix, doc, text, tlen, itext == NULL, &chunks, &nchunks))) {
		snprintf(ix->msg, sizeof ix->msg, "cannot chunk '%s': %s", pl->path,
			 mx_strerror(rc));
		goto out;
	}
	addrs = calloc(doc->naddrs + 1, sizeof *addrs);
	atts = calloc(doc->natts + 1, sizeof *atts);
	if (!addrs || !atts)
		goto nomem;
	for (size_t i = 0; i < doc->naddrs; i++)
		addrs[i] = (struct store_addr){ doc->addrs[i].role, doc->addrs[i].name,
						doc->addrs[i].addr };
	for (size_t i = 0; i < doc->natts; i++)
		atts[i] = (struct store_attachment){ doc->atts[i].name, doc->atts[i].mime_type,
						     doc->atts[i].size };
	struct store_doc d = {
		.source_id = src->id,
		.path = pl->path,
		.part = pl->part,
		.parent_id = pl->parent_id,
		.message_id = doc->message_id,
		.mtime = pl->mtime,
		.size = pl->size,
		.hash = pl->hash,
		.type = doc->type,
		.title = doc->title,
		.author = doc->author,
		.recipients = doc->recipients,
		.date = doc->date ? doc->date : pl->mtime / 1000000000,
		.date_offset = doc->date_offset,
		.in_reply_to = doc->in_reply_to,
		.refs = doc->refs,
		.folder = pl->folder,
		.flags = pl->flags,
		.list_id = doc->list_id,
		.addrs = addrs,
		.naddrs = doc->naddrs,
		.tags = doc->tags,
		.links = doc->links,
		.atts = atts,
		.natts = doc->natts,
		.status = "ok",
		.error = doc->note[0] ? doc->note : NULL,
	};
	if ((rc = tx(ix)))
		goto out;
	if ((rc = store_doc_put(ix->st, &d, chunks, nchunks, &id))) {
		fail_store(ix, rc);
		goto out;
	}
	ix->pending++;
	stats->chunks += nchunks;
	for (size_t i = 0; i < doc->nchildren && !rc; i++) {
		const struct conn_doc *c = &doc->children[i];
		char part[256];
		snprintf(part, sizeof part, "%s%s%s", pl->part, pl->part[0] ? "/" : "",
			 c->part ? c->part : "?");
		struct doc_place cp = *pl;
		cp.part = part;
		cp.parent_id = id;
		cp.hash = "";
		rc = write_doc(ix, src, &cp, c, stats);
	}
	goto out;
nomem:
	rc = MX_ENOMEM;
	snprintf(ix->msg, sizeof ix->msg, "out of memory");
out:
	free(itext);
	free(chunks);
	free(addrs);
	free(atts);
	return rc;
}

/* Parses one file and writes its documents. full is the file's absolute
 * path (connectors look at its name). *failed: the file was recorded as
 * an error or a skip, not indexed. */
static int put_parsed(struct indexer *ix, const struct store_source *src, const struct entry *e,
		      const char *full, const char *data, size_t len, const char *hash,
		      struct idx_stats *stats, bool *failed)
{
	struct conn_doc doc;
	char why[256], rbuf[64];
	char *folder = NULL, *flags = NULL;
	int rc = 0;
	conn_doc_init(&doc);
	*failed = false;

	const struct conn_ops *ops = conn_choose(src->type, full, data, len, why, sizeof why);
	int prc = ops ? ops->parse(full, data, len, &doc) : MX_EUNSUPPORTED;
	if (prc == MX_ENOMEM) {
		rc = prc;
		snprintf(ix->msg, sizeof ix->msg, "out of memory");
		goto out;
	}
	if (prc) {
		const char *r = reason_of(prc, ops ? doc.err : why, rbuf, sizeof rbuf);
		bool skip = prc == MX_EEMPTY || prc == MX_EUNSUPPORTED;
		struct doc_place pl = place_of(e, hash);
		rc = put_problem(ix, src, &pl, skip ? "skipped" : "error", r);
		*failed = true; /* not indexed, either way */
		if (skip)
			stats->skipped++;
		else
			stats->failed++;
		event(ix, skip ? IDX_EV_SKIPPED : IDX_EV_FAILED, src->path, e->path, r);
		goto out;
	}
	if (!strcmp(src->type, "maildir") && (rc = conn_maildir_meta(e->path, &folder, &flags)))
		goto out;
	/* a document with no title of its own is called by its file name */
	if (!doc.title && strcmp(doc.type, "mail")) {
		const char *b = strrchr(full, '/');
		b = b ? b + 1 : full;
		const char *dot = strrchr(b, '.');
		doc.title = conn_clean_field(
			strndup(b, dot && dot != b ? (size_t)(dot - b) : strlen(b)));
	}
	struct doc_place pl = place_of(e, hash);
	pl.folder = folder;
	pl.flags = flags;
	rc = write_doc(ix, src, &pl, &doc, stats);
	if (!rc)
	out:
		free(folder);
	free(flags);
	conn_doc_clear(&doc);
	return rc;
}

/* ===================================================================== */
/* one source                                                            */
/* ===================================================================== */

/* A document whose file vanished in this run, and whether a rename
 * claimed it. */
struct vanished {
	struct store_docinfo *doc;
	bool claimed;
};

static int vanished_hash_cmp(const void *a, const void *b)
{
	return strcmp(((const struct vanished *)a)->doc->hash,
		      ((const struct vanished *)b)->doc->hash);
}

/* A vanished, unclaimed document with this hash, or NULL. */
static struct vanished *find_vanished(struct vanished *v, size_t n, const char *hash)
{
	size_t lo = 0, hi = n;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (strcmp(v[mid].doc->hash, hash) < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	for (; lo < n && !strcmp(v[lo].doc->hash, hash); lo++)
		if (!v[lo].claimed && !strcmp(v[lo].doc->status, "ok"))
			return &v[lo];
	return NULL;
}

/* A vanished Maildir message by its unique name. */
struct vkey {
	char *key;
	struct vanished *v;
};

static int vkey_cmp(const void *a, const void *b)
{
	return strcmp(((const struct vkey *)a)->key, ((const struct vkey *)b)->key);
}

static struct vanished *find_key(struct vkey *k, size_t n, const char *key)
{
	struct vkey probe = { (char *)key, NULL };
	struct vkey *hit = n ? bsearch(&probe, k, n, sizeof *k, vkey_cmp) : NULL;
	return hit && !hit->v->claimed && !strcmp(hit->v->doc->status, "ok") ? hit->v : NULL;
}

/* ===================================================================== */
/* mbox sources                                                          */
/* ===================================================================== */

#define MBOX_HEAD 65536 /* bytes hashed at the start of the file (at most) */
#define MBOX_TAIL 4096	/* bytes hashed before the end of what was read */

/* sha256 of bytes [from, to) of fd; "" when they cannot be read. */
static void hash_range(int fd, uint64_t from, uint64_t to, char out[MX_SHA256_HEX_LEN + 1])
{
	char buf[MBOX_HEAD];
	size_t n = to > from ? (size_t)(to - from) : 0;
	if (n > sizeof buf)
		n = sizeof buf;
	ssize_t r = n ? pread(fd, buf, n, (off_t)from) : 0;
	if (r < 0 || (size_t)r != n) {
		out[0] = '\0';
		return;
	}
	mx_sha256_hex(buf, n, out);
}

/* The key of a message in its mbox: its offset, zero-padded so that keys
 * sort like offsets. */
static void mbox_part(uint64_t offset, char *buf, size_t n)
{
	snprintf(buf, n, "%016llu", (unsigned long long)offset);
}

/* An mbox source. The file is not opened when its size and mtime are
 * unchanged. When it grew and both its head and the bytes before the end
 * of the last message read are as they were, only the new messages are
 * read; otherwise (rewritten, compacted) all its messages are read again.
 * The state is saved only after a complete read, so that an interrupted
 * run reads the same messages again, replacing them (keys are offsets). */
static int index_mbox(struct indexer *ix, const struct store_source *src, struct idx_stats *stats)
{
	const char *rel = "";
	struct stat sb;
	struct store_mbox old, now = { 0 };
	struct conn_mbox *mb = NULL;
	int rc = 0, fd = -1;

	if (stat(src->path, &sb) != 0 || !S_ISREG(sb.st_mode)) {
		stats->walk_errors++;
		snprintf(ix->msg, sizeof ix->msg, "cannot read '%s': %s", src->path,
			 errno ? strerror(errno) : "not a regular file");
		return 0;
	}
	stats->files_seen++;
	now.size = (int64_t)sb.st_size;
	now.mtime = mtime_ns(&sb);
	int g = store_mbox_get(ix->st, src->id, rel, &old);
	if (g && g != MX_ENOTFOUND)
		return fail_store(ix, g);
	bool known = g == 0;
	if (known && old.size == now.size && old.mtime == now.mtime && !ix->p.full) {
		stats->unchanged++;
		return 0;
	}
	fd = open(src->path, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
	if (fd < 0) {
		stats->walk_errors++;
		snprintf(ix->msg, sizeof ix->msg, "cannot read '%s': %s", src->path,
			 strerror(errno));
		return 0;
	}
	stats->files_opened++;
	uint64_t start = 0;
	if (known && !ix->p.full && now.size >= old.size) {
		/* the head (up to what was read) and the bytes before the end
		 * of what was read are as they were: an append */
		char head[MX_SHA256_HEX_LEN + 1], tail[MX_SHA256_HEX_LEN + 1];
		uint64_t e = (uint64_t)old.end_offset;
		hash_range(fd, 0, e < MBOX_HEAD ? e : MBOX_HEAD, head);
		hash_range(fd, e > MBOX_TAIL ? e - MBOX_TAIL : 0, e, tail);
		if (!strcmp(head, old.head_hash) && !strcmp(tail, old.tail_hash))
			start = e;
	}
	if (known && start == 0) {
		/* rewritten: its messages are read again from the start */
		if ((rc = tx(ix)))
			goto out;
		if ((rc = store_doc_delete_file(ix->st, src->id, rel)))
			goto store_fail;
		ix->pending++;
	}
	if ((rc = conn_mbox_open(src->path, start, ix->p.max_file_size, &mb))) {
		stats->walk_errors++;
		snprintf(ix->msg, sizeof ix->msg, "cannot read '%s': %s", src->path,
			 mx_strerror(rc));
		rc = 0;
		goto out;
	}
	uint64_t end = start;
	struct conn_mbox_msg m;
	while ((rc = conn_mbox_next(mb, &m)) == 1) {
		if (ix->p.cancel && *ix->p.cancel) {
			rc = MX_EINTR;
			goto out;
		}
		char part[32], hash[MX_SHA256_HEX_LEN + 1] = "", why[160];
		mbox_part(m.offset, part, sizeof part);
		struct doc_place pl = { .path = rel,
					.part = part,
					.mtime = now.mtime,
					.size = (int64_t)m.length,
					.hash = hash };
		stats->bytes_read += m.length;
		ix->prog.bytes_done += m.length;
		ix->prog.done++;
		progress(ix, false);
		if (m.too_big) {
			snprintf(why, sizeof why,
				 "message too large (%llu bytes; see max_file_size)",
				 (unsigned long long)m.length);
			if ((rc = put_problem(ix, src, &pl, "error", why)))
				goto out;
			stats->failed++;
		} else {
			struct conn_doc doc;
			conn_doc_init(&doc);
			mx_sha256_hex(m.data, m.len, hash);
			int prc = conn_mail_ops.parse(src->path, m.data, m.len, &doc);
			if (prc == MX_ENOMEM) {
				conn_doc_clear(&doc);
				goto nomem;
			}
			if (prc) {
				rc = put_problem(ix, src, &pl, "error",
						 doc.err[0] ? doc.err : mx_strerror(prc));
				stats->failed++;
			} else {
				rc = write_doc(ix, src, &pl, &doc, stats);
				stats->added++;
			}
			conn_doc_clear(&doc);
			if (rc)
				goto out;
		}
		end = m.offset + m.length;
		if ((rc = maybe_commit(ix, false)))
			goto out;
	}
	if (rc < 0) {
		stats->walk_errors++;
		snprintf(ix->msg, sizeof ix->msg, "cannot read '%s': %s", src->path,
			 mx_strerror(rc));
		rc = 0;
		goto out;
	}
	now.end_offset = (int64_t)end;
	hash_range(fd, 0, end < MBOX_HEAD ? end : MBOX_HEAD, now.head_hash);
	hash_range(fd, end > MBOX_TAIL ? end - MBOX_TAIL : 0, end, now.tail_hash);
	if ((rc = tx(ix)))
		goto out;
	if ((rc = store_mbox_put(ix->st, src->id, rel, &now)))
		goto store_fail;
	if ((rc = store_source_set_indexed(ix->st, src->id, (int64_t)time(NULL))))
		goto store_fail;
	goto out;
store_fail:
	fail_store(ix, rc);
	goto out;
nomem:
	rc = MX_ENOMEM;
	snprintf(ix->msg, sizeof ix->msg, "out of memory");
out:
	conn_mbox_close(mb);
	if (fd >= 0)
		close(fd);
	return rc;
}

/* Points a stored document at entry e (a rename, or a touch without a
 * content change), with the Maildir folder and flags of its new name. */
static int move_doc(struct indexer *ix, const struct store_source *src, int64_t id,
		    const struct entry *e)
{
	char *folder = NULL, *flags = NULL;
	int rc = 0;
	if (!strcmp(src->type, "maildir") && (rc = conn_maildir_meta(e->path, &folder, &flags)))
		return rc;
	if (!(rc = tx(ix)))
		rc = store_doc_move(ix->st, id, e->path, e->mtime, e->size, folder, flags);
	free(folder);
	free(flags);
	if (rc)
		return fail_store(ix, rc);
	ix->pending++;
	return 0;
}

/* After a rename: the title may have come from the old file name and the
 * type from its extension; parse the (unchanged) content again for them.
 * Chunks and vectors stay. */
static int retitle(struct indexer *ix, const struct store_source *src, int64_t id, const char *full,
		   const char *data, size_t len)
{
	char why[128];
	const struct conn_ops *ops = conn_choose(src->type, full, data, len, why, sizeof why);
	struct conn_doc doc;
	int rc = 0;
	conn_doc_init(&doc);
	if (ops && ops->parse(full, data, len, &doc) == 0 &&
	    (rc = store_doc_retitle(ix->st, id, doc.title, doc.type)))
		fail_store(ix, rc);
	conn_doc_clear(&doc);
	return rc;
}

static int index_tree(struct indexer *ix, const struct store_source *src, struct idx_stats *stats)
{
	struct walk w = { 0 };
	struct store_docinfo *docs = NULL;
	struct vanished *van = NULL;
	struct vkey *keys = NULL;
	size_t ndocs = 0, nvan = 0, nkeys = 0;
	char *full = NULL, *data = NULL;
	int rc = 0;
	struct stat sb;

	ix->prog.source = src->path;
	/* The source itself may be a single file (an .eml or a note). */
	if (stat(src->path, &sb) != 0) {
		walk_error(&w, src->path, errno);
	} else if (S_ISDIR(sb.st_mode)) {
		if (!strcmp(src->type, "notes") && (rc = conn_ignore_load(src->path, &w.ig)))
			goto nomem;
		if ((rc = walk_dir(&w, src->type, src->path, "", 0)))
			goto nomem;
	} else {
		/* the source path is the file; its document path is "" */
		char *p = strdup("");
		if (!p || (rc = walk_push(&w, p, &sb, S_ISREG(sb.st_mode))))
			goto nomem;
	}
	if (w.n)
		qsort(w.v, w.n, sizeof *w.v, entry_cmp);

	if ((rc = store_doc_list(ix->st, src->id, &docs, &ndocs))) {
		fail_store(ix, rc);
		goto out;
	}

	/* merge: both lists sorted by path (documents have part '' here) */
	size_t i = 0, j = 0;
	van = calloc(ndocs ? ndocs : 1, sizeof *van);
	if (!van)
		goto nomem;
	uint64_t todo = 0;
	while (i < w.n || j < ndocs) {
		int c = i >= w.n ? 1 : j >= ndocs ? -1 : strcmp(w.v[i].path, docs[j].path);
		if (c < 0) {
			w.v[i++].state = ENTRY_NEW;
			todo++;
		} else if (c > 0) {
			van[nvan++].doc = &docs[j++];
			while (j < ndocs && !strcmp(docs[j].path, docs[j - 1].path))
				j++; /* the file's other parts go with it */
		} else {
			struct entry *e = &w.v[i++];
			e->doc = &docs[j++];
			bool same = e->doc->mtime == e->mtime && e->doc->size == e->size;
			/* A file that failed before being read (too large, no permission)
			 * is tried again: the cap or the permissions may have changed,
			 * and neither moves mtime or size. One that was read and
			 * rejected waits for a change. */
			bool unread = !strcmp(e->doc->status, "error") && !e->doc->hash[0];
			/* skipped files are judged by name and size again (a
			 * newer memex may read their type): no open needed */
			bool skipped = !strcmp(e->doc->status, "skipped");
			e->state = same && !unread && !skipped && !ix->p.full ? ENTRY_UNCHANGED
									      : ENTRY_SUSPECT;
			todo += e->state != ENTRY_UNCHANGED;
			/* parts of the same file (later: mbox messages) */
			while (j < ndocs && !strcmp(docs[j].path, e->path))
				j++;
		}
	}
	if (nvan)
		qsort(van, nvan, sizeof *van, vanished_hash_cmp);
	/* Maildir messages keep their unique name when their flags change or
	 * they move from new/ to cur/: such a rename is found without
	 * opening the file. */
	if (!strcmp(src->type, "maildir") && nvan) {
		if (!(keys = calloc(nvan, sizeof *keys)))
			goto nomem;
		for (size_t k = 0; k < nvan; k++) {
			char key[256];
			if (!conn_maildir_key(van[k].doc->path, key, sizeof key))
				continue;
			if (!(keys[nkeys].key = strdup(key)))
				goto nomem;
			keys[nkeys++].v = &van[k];
		}
		if (nkeys)
			qsort(keys, nkeys, sizeof *keys, vkey_cmp);
	}
	stats->files_seen += w.n;
	ix->prog.total += todo;

	for (i = 0; i < w.n; i++) {
		struct entry *e = &w.v[i];
		char why[256], hash[MX_SHA256_HEX_LEN + 1] = "";
		size_t len = 0;
		bool failed = false;

		if (ix->p.cancel && *ix->p.cancel) {
			rc = MX_EINTR;
			goto out;
		}
		if (e->state == ENTRY_UNCHANGED) {
			stats->unchanged++;
			continue;
		}
		ix->prog.path = e->path;
		progress(ix, false);
		ix->prog.done++;
		free(full);
		full = e->path[0] ? mx_path_join(src->path, e->path) : strdup(src->path);
		if (!full)
			goto nomem;

		struct doc_place bare = place_of(e, ""); /* for failures before reading */

		/* A Maildir message renamed (new flags, new/ to cur/). */
		char key[256];
		struct vanished *kv = NULL;
		if (e->state == ENTRY_NEW && nkeys && conn_maildir_key(e->path, key, sizeof key))
			kv = find_key(keys, nkeys, key);
		if (kv) {
			if ((rc = move_doc(ix, src, kv->doc->id, e)))
				goto out;
			kv->claimed = true;
			stats->moved++;
			event(ix, IDX_EV_MOVED, src->path, e->path, kv->doc->path);
			goto next;
		}

		/* Decided without opening the file. */
		const char *skip = NULL;
		if (!e->regular)
			skip = "not a regular file (FIFO, socket or device)";
		else if (e->size == 0)
			skip = "empty file";
		else if (!conn_for_file(src->type, full, why, sizeof why))
			skip = why;
		if (skip && e->doc && !strcmp(e->doc->status, "skipped") &&
		    e->doc->mtime == e->mtime && e->doc->size == e->size) {
			stats->unchanged++; /* skipped before, for the same reason */
			goto next;
		}
		if (skip) {
			if ((rc = put_problem(ix, src, &bare, "skipped", skip)))
				goto out;
			stats->skipped++;
			event(ix, IDX_EV_SKIPPED, src->path, e->path, skip);
			goto next;
		}
		if ((uint64_t)e->size > ix->p.max_file_size) {
			snprintf(why, sizeof why,
				 "file too large (%lld bytes; "
				 "the limit is %zu, see max_file_size)",
				 (long long)e->size, ix->p.max_file_size);
			if ((rc = put_problem(ix, src, &bare, "error", why)))
				goto out;
			stats->failed++;
			event(ix, IDX_EV_FAILED, src->path, e->path, why);
			goto next;
		}

		free(data);
		data = NULL;
		int rrc = mx_read_file(full, ix->p.max_file_size, &data, &len);
		stats->files_opened++;
		if (rrc == MX_ENOMEM)
			goto nomem;
		if (rrc) {
			snprintf(why, sizeof why, "cannot read: %s", mx_strerror(rrc));
			if ((rc = put_problem(ix, src, &bare, "error", why)))
				goto out;
			stats->failed++;
			event(ix, IDX_EV_FAILED, src->path, e->path, why);
			goto next;
		}
		stats->bytes_read += len;
		ix->prog.bytes_done += len;
		mx_sha256_hex(data, len, hash);

		if (e->state == ENTRY_SUSPECT && !ix->p.full && !strcmp(e->doc->hash, hash) &&
		    !strcmp(e->doc->status, "ok")) {
			/* touched, not changed */
			if ((rc = move_doc(ix, src, e->doc->id, e)))
				goto out;
			stats->unchanged++;
			goto next;
		}
		if (e->state == ENTRY_NEW) {
			struct vanished *v = find_vanished(van, nvan, hash);
			if (v) {
				if ((rc = move_doc(ix, src, v->doc->id, e)) ||
				    (rc = retitle(ix, src, v->doc->id, full, data, len)))
					goto out;
				v->claimed = true;
				stats->moved++;
				event(ix, IDX_EV_MOVED, src->path, e->path, v->doc->path);
				goto next;
			}
		}
		if ((rc = put_parsed(ix, src, e, full, data, len, hash, stats, &failed)))
			goto out;
		if (!failed) {
			if (e->state == ENTRY_NEW)
				stats->added++;
			else
				stats->updated++;
			event(ix, e->state == ENTRY_NEW ? IDX_EV_ADDED : IDX_EV_UPDATED, src->path,
			      e->path, NULL);
		}
	next:
		if ((rc = maybe_commit(ix, false)))
			goto out;
	}

	/* Deletions only after a complete walk of a readable tree. */
	if (w.errors) {
		stats->walk_errors += w.errors;
		snprintf(ix->msg, sizeof ix->msg, "%s", w.firsterr);
	} else {
		for (i = 0; i < nvan; i++) {
			if (van[i].claimed)
				continue;
			if ((rc = tx(ix)))
				goto out;
			if ((rc = store_doc_delete(ix->st, van[i].doc->id)))
				goto store_fail;
			ix->pending++;
			stats->removed++;
			event(ix, IDX_EV_REMOVED, src->path, van[i].doc->path, NULL);
			if ((rc = maybe_commit(ix, false)))
				goto out;
		}
		if ((rc = tx(ix)))
			goto out;
		if ((rc = store_source_set_indexed(ix->st, src->id, (int64_t)time(NULL))))
			goto store_fail;
	}
	goto out;
store_fail:
	fail_store(ix, rc);
	goto out;
nomem:
	rc = MX_ENOMEM;
	snprintf(ix->msg, sizeof ix->msg, "out of memory");
out:
	for (size_t k = 0; k < nkeys; k++)
		free(keys[k].key);
	free(keys);
	free(data);
	free(full);
	free(van);
	store_docinfo_free(docs, ndocs);
	walk_free(&w);
	return rc;
}

/* ===================================================================== */
/* the run                                                               */
/* ===================================================================== */

/* ===================================================================== */
/* source kinds                                                          */
/* ===================================================================== */

/* How a kind of source is enumerated. A source of files (notes, Maildir,
 * a single message) is walked and each file is one document with its
 * children; an mbox is one file of many messages, keyed by offset. A
 * remote store (IMAP) will be one more entry: its items keyed by folder
 * (path) and UID (part), with the same documents, batching and events. */
static const struct {
	const char *type;
	int (*index)(struct indexer *ix, const struct store_source *src, struct idx_stats *stats);
} kinds[] = {
	{ "notes", index_tree },
	{ "maildir", index_tree },
	{ "eml", index_tree },
	{ "mbox", index_mbox },
};

static int index_one(struct indexer *ix, const struct store_source *src, struct idx_stats *stats)
{
	ix->prog.source = src->path;
	for (size_t i = 0; i < sizeof kinds / sizeof kinds[0]; i++)
		if (!strcmp(kinds[i].type, src->type))
			return kinds[i].index(ix, src, stats);
	stats->walk_errors++;
	snprintf(ix->msg, sizeof ix->msg, "'%s' has a source type this memex does not know: '%s'",
		 src->path, src->type);
	return 0;
}

static bool source_matches(const struct store_source *s, const char *only)
{
	if (!only)
		return true;
	if (!strcmp(s->path, only))
		return true;
	char id[32];
	snprintf(id, sizeof id, "%lld", (long long)s->id);
	return !strcmp(id, only);
}

int idx_run(struct indexer *ix, const char *only, struct idx_stats *stats)
{
	struct store_source *srcs = NULL;
	size_t nsrcs = 0, matched = 0;
	struct store_run run = { 0 };
	int rc;

	ix->msg[0] = '\0';
	memset(&ix->prog, 0, sizeof ix->prog);
	clock_gettime(CLOCK_MONOTONIC, &ix->t0);
	ix->last_commit = ix->last_progress = ix->t0;
	ix->pending = 0;

	if ((rc = store_source_list(ix->st, &srcs, &nsrcs)))
		return fail_store(ix, rc);
	for (size_t i = 0; i < nsrcs; i++)
		matched += source_matches(&srcs[i], only);
	if (only && !matched) {
		snprintf(ix->msg, sizeof ix->msg, "'%s' is not a source", only);
		store_sources_free(srcs, nsrcs);
		return MX_ENOTFOUND;
	}
	if ((rc = store_run_begin(ix->st, &run.id))) {
		store_sources_free(srcs, nsrcs);
		return fail_store(ix, rc);
	}
	stats->run_id = run.id;
	ix->in_tx = false;
	for (size_t i = 0; i < nsrcs && !rc; i++)
		if (source_matches(&srcs[i], only))
			rc = index_one(ix, &srcs[i], stats);
	if (!rc && ix->p.cancel && *ix->p.cancel)
		rc = MX_EINTR; /* stopped during the last file */
	progress(ix, true);
	ix->prog.path = NULL;
	/* threads follow the mail that came and went */
	if (!rc && (stats->added || stats->updated || stats->removed)) {
		uint64_t changed = 0;
		if (!(rc = tx(ix)) && (rc = idx_threads_update(ix->st, &changed)))
			fail_store(ix, rc);
		ix->pending += changed;
	}

	/* Keep what was done, whatever stopped us, unless the store itself
	 * failed mid-write (then the open batch is rolled back whole). */
	if (rc == 0 || rc == MX_EINTR) {
		int crc = maybe_commit(ix, true);
		if (crc)
			rc = crc;
	} else if (ix->in_tx) {
		store_rollback(ix->st);
		ix->in_tx = false;
	}

	/* errors left in the sources this run covered */
	struct store_source *after = NULL;
	size_t nafter = 0;
	if (store_source_list(ix->st, &after, &nafter) == 0) {
		for (size_t i = 0; i < nafter; i++)
			if (source_matches(&after[i], only))
				stats->errors_total += (uint64_t)after[i].nerrors;
		store_sources_free(after, nafter);
	}
	int final = rc;
	if (!rc && (stats->errors_total || stats->walk_errors))
		final = MX_EPARTIAL;
	run.finished_at = (int64_t)time(NULL);
	snprintf(run.status, sizeof run.status, "%s",
		 final == 0		? "complete"
		 : final == MX_EPARTIAL ? "partial"
		 : final == MX_EINTR	? "interrupted"
					: "failed");
	run.files_seen = (int64_t)stats->files_seen;
	run.files_opened = (int64_t)stats->files_opened;
	run.docs_added = (int64_t)stats->added;
	run.docs_updated = (int64_t)stats->updated;
	run.docs_moved = (int64_t)stats->moved;
	run.docs_removed = (int64_t)stats->removed;
	run.docs_failed = (int64_t)stats->failed;
	int rrc = store_run_end(ix->st, &run);
	if (rrc && !rc)
		final = fail_store(ix, rrc);
	if (final == MX_EPARTIAL && !ix->msg[0])
		snprintf(ix->msg, sizeof ix->msg,
			 "%llu file%s could not be indexed (see 'memex status')",
			 (unsigned long long)stats->errors_total,
			 stats->errors_total == 1 ? "" : "s");
	store_sources_free(srcs, nsrcs);
	return final;
}

/* ===================================================================== */
/* embeddings                                                            */
/* ===================================================================== */

int idx_embed(struct indexer *ix, struct eng_embedder *e, int64_t model_id, uint64_t *embedded)
{
	int rc = 0;
	int d = eng_embedder_dims(e);
	size_t batch = 64;
	int64_t after = 0; /* the last chunk listed: pages move forward */
	float *v = malloc(batch * (size_t)d * sizeof *v);
	const char **texts = malloc(batch * sizeof *texts);
	*embedded = 0;
	if (!v || !texts) {
		free(v);
		free(texts);
		return MX_ENOMEM;
	}
	memset(&ix->prog, 0, sizeof ix->prog);
	ix->prog.source = "embedding";
	int64_t total = store_pending_count(ix->st, model_id);
	ix->prog.total = total > 0 ? (uint64_t)total : 0;
	clock_gettime(CLOCK_MONOTONIC, &ix->t0);
	ix->last_commit = ix->last_progress = ix->t0;
	ix->pending = 0;
	for (;;) {
		struct store_pending *p = NULL;
		size_t n = 0;
		if (ix->p.cancel && *ix->p.cancel) {
			rc = MX_EINTR;
			break;
		}
		if ((rc = store_pending_list(ix->st, model_id, after, batch, &p, &n))) {
			fail_store(ix, rc);
			break;
		}
		if (n == 0) {
			store_pending_free(p, n);
			break;
		}
		for (size_t i = 0; i < n; i++)
			texts[i] = p[i].text;
		after = p[n - 1].chunk_id;
		if ((rc = eng_embed(e, texts, n, ENG_PASSAGE, v))) {
			snprintf(ix->msg, sizeof ix->msg, "embedding failed: %s", eng_errmsg(e));
			store_pending_free(p, n);
			break;
		}
		if ((rc = tx(ix))) {
			store_pending_free(p, n);
			break;
		}
		for (size_t i = 0; i < n && !rc; i++)
			if ((rc = store_vector_put(ix->st, p[i].chunk_id, model_id,
						   v + i * (size_t)d, d)))
				fail_store(ix, rc);
		store_pending_free(p, n);
		if (rc)
			break;
		ix->pending += n;
		*embedded += n;
		ix->prog.done += n;
		progress(ix, false);
		if ((rc = maybe_commit(ix, false)))
			break;
	}
	progress(ix, true);
	if (rc == 0 || rc == MX_EINTR) {
		int crc = maybe_commit(ix, true);
		if (crc && !rc)
			rc = crc;
	} else if (ix->in_tx) {
		store_rollback(ix->st);
		ix->in_tx = false;
	}
	free(v);
	free(texts);
	return rc;
}
