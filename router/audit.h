/*
 * audit.h - the append-only audit log of everything memex sends off the
 * machine.
 *
 * The log is a file of JSON Lines, DATA_HOME/audit.jsonl by default, one
 * object per request that the cloud client is about to send (a retry is a
 * request of its own, with its own record):
 *
 *   {"time":"2026-11-21T12:00:00Z","unix":1795262400,
 *    "endpoint":"https://api.example.com/v1/chat/completions",
 *    "model":"gpt-4o-mini","reason":"...","attempt":1,
 *    "bytes":1234,"sha256":"<64 hex digits of the body>",
 *    "body":"<the request body, as one JSON string>"}
 *
 * "body" holds the HTTP request body byte for byte: decoding the JSON
 * string gives back exactly the bytes that went over the wire, and "bytes"
 * and "sha256" let anyone check that. The cloud client only ever sends
 * bodies that are valid UTF-8 without NUL (it builds them with json-c from
 * text it checked to be UTF-8, and refuses anything else with
 * MX_EENCODING), so a JSON string is lossless for them; rtr_audit_write()
 * itself refuses a body that is not valid UTF-8 or holds a NUL rather
 * than write a record that would not round-trip. Headers are not logged:
 * they are the method and path, Host, Content-Type, Accept and the API
 * key (which is a secret, not user data).
 *
 * The file is opened O_APPEND, created 0600 (its folder 0700), and each
 * record is one write() under an exclusive flock(), followed by
 * fdatasync(): a record is on disk before the request it describes is
 * sent. Records are never rewritten or removed by memex.
 */
#ifndef MX_RTR_AUDIT_H
#define MX_RTR_AUDIT_H

#include <stddef.h>
#include <stdint.h>

struct rtr_audit;

/* One escalation, as the cloud client records it. Borrowed strings. */
struct rtr_audit_record {
	int64_t time;	      /* Unix seconds; 0 = now */
	const char *endpoint; /* the URL the body is posted to */
	const char *model;
	const char *reason; /* why the question left the machine; may be NULL */
	int attempt;	    /* 1 for the first try, 2.. for retries */
	const char *body;   /* the request body, body_len bytes */
	size_t body_len;
};

/* Opens (creating it 0600, and its folder 0700) the log at path for
 * appending. An existing log that group or others may read is tightened to
 * 0600. *out is the caller's to close. Errors: MX_EPERM (no access, or the
 * log belongs to another user), MX_ENOTREG (a symlink, FIFO, folder...),
 * MX_EREADONLY, MX_ENOMEM, MX_EIO; err gets a message. */
int rtr_audit_open(const char *path, struct rtr_audit **out, char *err, size_t errlen);
/* NULL is fine. */
void rtr_audit_close(struct rtr_audit *a);
/* The path given to rtr_audit_open (borrowed). */
const char *rtr_audit_path(const struct rtr_audit *a);

/* Appends one record and syncs it to disk. 0, or MX_EENCODING (body not
 * valid UTF-8 or holds a NUL), MX_EINVAL (a NULL field), MX_ENOMEM,
 * MX_EIO (nothing or only part of the line was written; a partial line is
 * never followed by another record on the same line: the next record
 * starts after a newline). rtr_audit_errmsg() tells more. */
int rtr_audit_write(struct rtr_audit *a, const struct rtr_audit_record *r);
/* The last error's message (borrowed, "" when none). */
const char *rtr_audit_errmsg(const struct rtr_audit *a);

#endif
