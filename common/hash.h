/*
 * hash.h - content hashes. SHA-256 (via GLib's GChecksum) as lower-case hex:
 * used to tell a changed file from a touched one and to recognise renames.
 */
#ifndef MX_HASH_H
#define MX_HASH_H

#include <stddef.h>

#define MX_SHA256_HEX_LEN 64

/* Writes 64 hex digits and a NUL into out. */
void mx_sha256_hex(const void *data, size_t len, char out[MX_SHA256_HEX_LEN + 1]);

/* The hash of everything read from fd, from its current offset to its end,
 * read in pieces (never mapped: a file that shrinks while it is read is an
 * error, not a SIGBUS). 0, or a negative MX_ status. */
int mx_sha256_fd(int fd, char out[MX_SHA256_HEX_LEN + 1]);

#endif
