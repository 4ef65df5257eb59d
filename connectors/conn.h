/*
 * conn.h - connectors: turn one file into text plus metadata.
 *
 * A connector knows file formats and nothing of the store or the CLI. The
 * indexer walks a source, asks conn_for_file() which connector handles a
 * file (by the source's type and the file's name), reads the file, and
 * hands the bytes to that connector's parse(), which fills a conn_doc.
 *
 * Source types:
 *   notes    a folder of notes and documents: .md .markdown .txt .text .org
 *            (UTF-8; UTF-16 with a BOM and legacy 8-bit text are converted),
 *            .eml messages; other types are reported unsupported
 *   maildir  a folder tree of messages, one per file: Maildir cur/ and new/
 *            (tmp/ is skipped), Maildir++ .Folder subfolders, and plain
 *            folders of message files (as notmuch reads them)
 *   eml      a single message file
 *   mbox     a mailbox file (registered now; read by the mail issue)
 *
 * Adding a format means one new conn_*.c with a struct conn_ops and one line
 * in the table of conn.c.
 */
#ifndef MX_CONN_H
#define MX_CONN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* What a connector produced for one file. All strings are UTF-8, malloc'd
 * and owned by the doc; conn_doc_clear() frees them. */
struct conn_doc {
	const char *type; /* static: "note", "text", "mail" */
	char *title;	  /* or NULL */
	char *author;	  /* "Name <addr>" for mail; or NULL */
	char *recipients; /* mail: To and Cc, comma-separated; or NULL */
	char *message_id; /* mail: without <>; or NULL */
	int64_t date;	  /* seconds since the epoch (UTC); 0 if unknown */
	char *text;	  /* the body text, NUL-terminated; never NULL on
			       success (may be "") */
	size_t text_len;
	/* Lines of the file before text starts (front matter), so that line
	 * L of text is line line_base + L of the file; -1 when the text's
	 * lines do not map to the file's (decoded mail). */
	int64_t line_base;
	size_t nreplaced; /* invalid byte sequences replaced by U+FFFD */
	char note[128];	  /* e.g. "converted from UTF-16LE"; or "" */
	char err[256];	  /* why parse() failed */
};

void conn_doc_init(struct conn_doc *d);
void conn_doc_clear(struct conn_doc *d); /* frees and re-inits */

struct conn_ops {
	const char *name; /* "note", "mail" */
	/* Parses data[0..len) (NUL-terminated) read from path. 0 on success;
	 * otherwise a status with the reason in doc->err: MX_EBINARY,
	 * MX_EENCODING, MX_EEMPTY, MX_EINVAL, MX_ENOMEM. Never aborts on
	 * any input. */
	int (*parse)(const char *path, const char *data, size_t len, struct conn_doc *doc);
};

/* Process-wide set-up of the libraries connectors use (GMime). Call once
 * before any parse and conn_global_shutdown() at the end. */
void conn_global_init(void);
void conn_global_shutdown(void);

/* The connector for a file of a source of this type, chosen by name
 * without opening it; NULL when the type is not supported, with the reason
 * in why (e.g. "unsupported file type '.jpg'"). */
const struct conn_ops *conn_for_file(const char *source_type, const char *path, char *why,
				     size_t whysz);

/* Whether a walk of a source of this type enters directory / considers
 * file `name` (a single path component). Hidden entries are skipped, but a
 * Maildir keeps its Maildir++ ".Folder" directories; Maildir tmp/ is
 * skipped. */
bool conn_walk_wants_dir(const char *source_type, const char *name);
bool conn_walk_wants_file(const char *source_type, const char *name);

/* Guesses the type of a source path: "maildir" for a folder with cur/ and
 * new/ or whose files are mostly mail messages, "mbox" for a file that
 * starts with "From ", "eml" for a message file, "notes" for other folders
 * and for note files. 0, or MX_ENOTFOUND / MX_ENOTREG (a FIFO, socket or
 * device) / MX_EPERM / MX_EEMPTY (a 0-byte file) / MX_EUNSUPPORTED. */
int conn_detect_source(const char *path, const char **type);

/* Whether type names a source type this build knows. */
bool conn_is_source_type(const char *type);

/* Whether the bytes look like the start of an RFC 5322 message. */
bool conn_looks_like_mail(const char *data, size_t len);

/* Whether the bytes look binary (NUL bytes, or many control bytes, in the
 * first 8 KiB, not counting a UTF-16 BOM'd text). */
bool conn_looks_binary(const char *data, size_t len);

/* Converts text to valid UTF-8: strips a UTF-8 BOM, converts UTF-16 with a
 * BOM, converts invalid UTF-8 as windows-1252 when it has no NUL bytes, and
 * repairs what is left with U+FFFD. Sets doc->text/text_len, doc->note and
 * doc->nreplaced. MX_EBINARY or MX_ENOMEM on failure. */
int conn_text_to_utf8(const char *data, size_t len, struct conn_doc *doc);

/* Collapses every run of white space and control characters in a
 * metadata string (a folded subject, a title) to one space, trims the ends
 * and repairs invalid UTF-8 (a title made from a file name). Takes
 * ownership of s and returns the cleaned string, or NULL (s freed) when
 * nothing is left or memory ran out. */
char *conn_clean_field(char *s);

/* Connectors, for the table and for tests. */
extern const struct conn_ops conn_note_ops;
extern const struct conn_ops conn_mail_ops;

#endif
