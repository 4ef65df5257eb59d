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

#endif
