/*
 * status.h - the one status enum shared by every memex module.
 *
 * Fallible functions return 0 (MX_OK) on success and a negative mx_status on
 * failure. Values are appended, never renumbered: they are stable across
 * versions and may appear in --json output. The human message for a failure
 * lives on the handle that failed (store_errmsg(), conn_doc.err, ...);
 * mx_strerror() gives only the generic text of a code.
 */
#ifndef MX_STATUS_H
#define MX_STATUS_H

#include <stddef.h>

enum mx_status {
	MX_OK = 0,
	MX_ENOMEM = -1,	      /* allocation failed */
	MX_EIO = -2,	      /* read or write failed (errno-level) */
	MX_ENOTFOUND = -3,    /* no such file, source, document or key */
	MX_EINVAL = -4,	      /* bad argument or malformed input */
	MX_ETOOBIG = -5,      /* input over a configured cap */
	MX_EUNSUPPORTED = -6, /* a type or feature this build does not handle */
	MX_ECORRUPT = -7,     /* a file or database is damaged */
	MX_ENEWER = -8,	      /* created by a newer memex; refused untouched */
	MX_EREADONLY = -9,    /* cannot write where we must */
	MX_EBINARY = -10,     /* binary bytes where text was expected */
	MX_EENCODING = -11,   /* text in an encoding that cannot be converted */
	MX_EEMPTY = -12,      /* nothing to work on (0-byte file, empty query) */
	MX_EEXISTS = -13,     /* already present */
	MX_EINTR = -14,	      /* interrupted by the user; work so far is kept */
	MX_EPARTIAL = -15,    /* finished, but some inputs failed */
	MX_EDB = -16,	      /* SQLite reported an error */
	MX_ENOTREG = -17,     /* not a regular file or directory (FIFO, socket) */
	MX_EPERM = -18,	      /* permission denied */
	MX_EBUSY = -19,	      /* the index is locked by another process */
};

/* Generic text for a status code; never NULL, static storage. */
const char *mx_strerror(int rc);
/* Formats a message into err (errsz bytes; NULL or 0: none) and returns rc:
 * `return mx_fail(err, errsz, MX_ECORRUPT, "bad %s", what);` */
int mx_fail(char *err, size_t errsz, int rc, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));
/* The same without a status, for a message set before cleanup. */
void mx_seterr(char *err, size_t errsz, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

#endif
