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

/* An address of a message: role is static ("from", "to", "cc"); name (or
 * NULL) and addr are owned. */
struct conn_addr {
	const char *role;
	char *name, *addr;
};

/* An attachment: name and mime_type (or NULL) owned; size in decoded bytes. */
struct conn_att {
	char *name, *mime_type;
	int64_t size;
};

/* A byte range [start, end) of a doc's text. */
struct conn_span {
	size_t start, end;
};

/* Where a part of a document's text sits: from byte `start` of the text
 * on, under this heading path ("Setup > Install"; NULL: none) and on this
 * page (PDF, 1-based; 0: none) or sheet/slide (in the heading). */
struct conn_section {
	size_t start;
	char *heading;
	int page;
};

/* What a connector produced for one file. All strings are UTF-8, malloc'd
 * and owned by the doc; conn_doc_clear() frees them, children included. */
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
	/* Mail. */
	char *in_reply_to; /* the parent's message-id, without <>; or NULL */
	char *refs;	   /* References, space-separated, oldest first */
	int date_offset;   /* minutes east of UTC, as the Date header says */
	char *list_id;
	struct conn_addr *addrs; /* From, To and Cc, in that order */
	size_t naddrs;
	struct conn_att *atts; /* attachments, in MIME order */
	size_t natts;
	/* Quoted replies, attributions and signatures in text: shown, but
	 * not indexed (they repeat what other messages say). */
	struct conn_span *quoted;
	size_t nquoted;
	/* Child documents: message/rfc822 parts and text attachments, with
	 * part set to their key within this document ("1", "2", ...). */
	struct conn_doc *children;
	size_t nchildren;
	char *part;
	/* Documents and notes. */
	struct conn_section *sections; /* sorted by start; the first may start
					  after 0 (text before it has none) */
	size_t nsections;
	char *tags;	/* notes: lower-case tags, space-separated; or NULL */
	char *links;	/* notes: [[wikilink]] targets, newline-separated */
	char note[128]; /* e.g. "converted from UTF-16LE"; or "" */
	char err[256];	/* why parse() failed */
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

/* Ignore rules of a notes source (ignore.c): the defaults and the
 * source's .memexignore in gitignore syntax. root NULL: defaults only. */
struct conn_ignore;
int conn_ignore_load(const char *root, struct conn_ignore **out);
void conn_ignore_free(struct conn_ignore *ig);
/* Whether a path relative to the source's top is ignored. A folder's
 * contents are not walked when the folder is. */
bool conn_ignore_match(const struct conn_ignore *ig, const char *relpath, bool is_dir);

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

/* "UTF-16LE" or "UTF-16BE" when the bytes are UTF-16 (a BOM, or NULs in
 * every other byte of Latin-range text); NULL otherwise. */
const char *conn_utf16_kind(const char *data, size_t len);

/* Converts a text file to valid UTF-8: strips a UTF-8 BOM, converts UTF-16
 * with a BOM (a stray odd byte becomes U+FFFD), refuses binary content (NUL
 * or control bytes in the first 8 KiB), reads other invalid UTF-8 as
 * windows-1252, and turns any NUL further on into U+FFFD. Sets doc->text/text_len, doc->note and
 * doc->nreplaced. MX_EBINARY or MX_ENOMEM on failure. */
int conn_text_to_utf8(const char *data, size_t len, struct conn_doc *doc);

/* Collapses every run of white space and control characters in a
 * metadata string (a folded subject, a title) to one space, trims the ends
 * and repairs invalid UTF-8 (a title made from a file name). Takes
 * ownership of s and returns the cleaned string, or NULL (s freed) when
 * nothing is left or memory ran out. */
char *conn_clean_field(char *s);

/* Converts bytes in charset `from` (any name iconv or GMime knows; NULL
 * or unknown: UTF-8 if valid, else windows-1252) to UTF-8, replacing every
 * invalid sequence, and every NUL, with U+FFFD and counting them in *nrepl. *out
 * malloc'd. 0 or MX_ENOMEM. */
int conn_to_utf8(const char *from, const char *data, size_t len, char **out, size_t *outlen,
		 size_t *nrepl);

/* HTML (UTF-8) to plain text with libxml2's HTML parser: scripts, styles
 * and the head dropped, block elements on lines of their own, link text
 * kept. No network, no entities from outside. At most cap bytes of text.
 * *out malloc'd. 0, MX_ENOMEM or MX_EINVAL (not parseable). */
int conn_html_to_text(const char *html, size_t len, size_t cap, char **out, size_t *outlen);

/* Finds quoted replies ('>' lines and the "On ... wrote:" line before
 * them), Outlook "-----Original Message-----" blocks and signatures (from
 * a "-- " line) in a message's text. *spans malloc'd, sorted, disjoint. */
int conn_find_quotes(const char *text, size_t len, struct conn_span **spans, size_t *n);

/* The text to index: doc->text without its quoted spans (each replaced by
 * a line break). *out malloc'd. */
int conn_doc_indexable(const struct conn_doc *doc, char **out, size_t *outlen);

/* Maildir facts from a message's path relative to its source: the folder
 * ("INBOX" for the top, "Travel" for ".Travel", "A/B" for ".A.B" or a
 * plain A/B folder tree) and the flags after ":2," (sorted capitals; a
 * message in new/ is unseen whatever its name says). *folder and *flags
 * malloc'd. */
int conn_maildir_meta(const char *relpath, char **folder, char **flags);

/* A Maildir message's unique name (its file name up to ':'), which stays
 * the same when its flags change or it moves from new/ to cur/. Writes it
 * into buf; false when the path has none. */
bool conn_maildir_key(const char *relpath, char *buf, size_t n);

/* ---- mbox files ---------------------------------------------------------
 *
  * An mbox is messages one after another, each starting with a "From "
 * line. Quoted body lines
 * (">From ", ">>From " ...) lose one '>' (mboxrd; for mboxo files this
 * reads ">From " as "From ", which is what was meant). The reader streams:
 * a file of any size is read in 64 KiB blocks, and at most max_message
 * bytes of one message are held. */

struct conn_mbox;

struct conn_mbox_msg {
	uint64_t offset;  /* of its "From " line in the file */
	uint64_t length;  /* bytes in the file, separator line included */
	const char *data; /* the message without its "From " line, unquoted;
			      NUL-terminated; valid until the next call */
	size_t len;
	bool too_big; /* over max_message: data is NULL */
};

/* Opens path and positions at offset (0, or the end of a message read
 * before). 0, or a status from opening the file. */
int conn_mbox_open(const char *path, uint64_t offset, size_t max_message, struct conn_mbox **out);
/* The next message: 1 and *msg filled, 0 at the end, or an error
 * (MX_EIO, MX_ENOMEM). */
int conn_mbox_next(struct conn_mbox *m, struct conn_mbox_msg *msg);
void conn_mbox_close(struct conn_mbox *m); /* NULL is fine */

/* Reads a document back from its file, as the indexer read it: the file
 * at abs (a source of source_type), the mbox message at offset part
 * (mbox), then the child document at the rest of part ("1/2": the second
 * child of the first). For `memex show` and `memex thread`. 0, a status
 * from reading (the file changed or vanished: MX_ENOTFOUND), or the
 * connector's. */
int conn_load(const char *source_type, const char *abs, const char *part, size_t max,
	      struct conn_doc *doc);

/* ---- building a document's text ------------------------------------------
 *
 * Connectors of structured formats (office files, EPUB, HTML, PDF) build
 * their text with a builder: paragraphs and lines are separated, headings
 * and pages are recorded as sections (for chunk titles and citations), the
 * text is repaired to valid UTF-8, and it is capped at `cap` bytes (what
 * passes the cap is dropped, and doc->note says so). A deadline (seconds
 * since an arbitrary start, from conn_now()) stops a parse that runs too
 * long: the functions then return MX_ETOOBIG and the connector reports
 * "time limit". */

struct conn_builder {
	char *text;
	size_t len, cap, max;
	int pending; /* 0 none, 1 line break, 2 paragraph break */
	bool space;  /* a space is pending */
	bool truncated;
	char *path[6]; /* heading path, one per level */
	int page;
	struct conn_section *secs;
	size_t nsecs, secs_cap;
	double deadline; /* 0: none */
	unsigned ticks;
};

double conn_now(void);
void conn_builder_init(struct conn_builder *b, size_t max, double deadline);
void conn_builder_free(struct conn_builder *b);
/* Text as it comes: runs of white space fold to one space. */
int conn_builder_text(struct conn_builder *b, const char *s, size_t n);
/* Text kept as it is (preformatted), newlines included. */
int conn_builder_raw(struct conn_builder *b, const char *s, size_t n);
int conn_builder_space(struct conn_builder *b);	    /* between table cells */
int conn_builder_line(struct conn_builder *b);	    /* a line break */
int conn_builder_paragraph(struct conn_builder *b); /* a blank line */
/* A heading of level 1 to 6: deeper levels are cleared, the heading text
 * becomes its own paragraph, and a section starts. */
int conn_builder_heading(struct conn_builder *b, int level, const char *title);
/* A new page (1-based), or a sheet or slide given as a heading. */
int conn_builder_page(struct conn_builder *b, int page);
/* Moves the text and sections into doc (text, text_len, sections). */
int conn_builder_finish(struct conn_builder *b, struct conn_doc *doc);

/* ---- archives and XML, with hard limits ------------------------------- */

struct conn_limits {
	uint64_t max_total; /* uncompressed bytes in all (default 256 MiB) */
	uint64_t max_entry; /* uncompressed bytes in one entry (64 MiB) */
	uint64_t max_ratio; /* uncompressed / compressed (200) */
	size_t max_entries; /* entries (10000) */
	int max_depth;	    /* archives in archives (3) */
	double seconds;	    /* per file (30) */
};
struct conn_limits conn_limits_default(void);

/* A zip (or any archive libarchive reads) loaded into memory, entry by
 * entry, within the limits. */
struct conn_zip;
struct conn_zip_entry {
	const char *name; /* owned by the zip */
	const char *data; /* NUL-terminated; owned by the zip */
	size_t len;
};
/* Reads data[0..len) as an archive. want (may be NULL) chooses the entries
 * whose contents are kept (others are only counted). 0, MX_ETOOBIG (a
 * limit: the reason in err), MX_EINVAL (not an archive, or broken: err),
 * MX_ENOMEM. */
int conn_zip_open(const char *data, size_t len, const struct conn_limits *lim,
		  bool (*want)(const char *name, void *ctx), void *ctx, struct conn_zip **out,
		  char *err, size_t errsz);
void conn_zip_close(struct conn_zip *z);
/* The entry with this exact name, or NULL. */
const struct conn_zip_entry *conn_zip_find(const struct conn_zip *z, const char *name);
size_t conn_zip_count(const struct conn_zip *z);
const struct conn_zip_entry *conn_zip_entry(const struct conn_zip *z, size_t i);

/* Parses XML with the network off, no DTD loaded, no entity expanded and
 * no external resource read (a billion laughs or an XXE stays inert). The
 * result is a libxml2 xmlDoc (free with xmlFreeDoc); NULL if unparseable. */
struct _xmlDoc *conn_xml_read(const char *data, size_t len);
/* Refuses every external entity for the process (conn_global_init calls
 * it). */
void conn_xml_lockdown(void);

/* Connectors, for the table and for tests. */
extern const struct conn_ops conn_note_ops;
extern const struct conn_ops conn_mail_ops;
extern const struct conn_ops conn_html_ops;
extern const struct conn_ops conn_archive_ops;
extern const struct conn_ops conn_pdf_ops;
extern const struct conn_ops conn_rtf_ops;
extern const struct conn_ops conn_docx_ops;
extern const struct conn_ops conn_pptx_ops;
extern const struct conn_ops conn_xlsx_ops;
extern const struct conn_ops conn_odf_ops;
extern const struct conn_ops conn_epub_ops;

/* The connector the content asks for, whatever the name says: magic bytes
 * (%PDF-, {\rtf, zip with the parts of an office file, an EPUB or an ODF
 * file, gzip, zstd, bzip2, xz or tar archives), and HTML when the name has
 * no extension. NULL when the content does not decide. */
const struct conn_ops *conn_sniff(const char *path, const char *data, size_t len);

/* The connector for a file already read: for a notes source the content
 * decides when it can (conn_sniff) unless the name has a text extension,
 * else the name (conn_for_file, with the reason in why when NULL). */
const struct conn_ops *conn_choose(const char *source_type, const char *path, const char *data,
				   size_t len, char *why, size_t whysz);

#endif
