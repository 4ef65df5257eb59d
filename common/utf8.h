/*
 * utf8.h - UTF-8 validation, repair and boundary helpers.
 *
 * Text from outside (files, mail) is checked here before it reaches the
 * chunker or the index. Invalid sequences are never dropped silently: the
 * repair functions replace each maximal invalid subpart with U+FFFD and count
 * the replacements so callers can report them.
 */
#ifndef MX_UTF8_H
#define MX_UTF8_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Length (1-4) of the valid sequence at s[0..n), or 0 if it is invalid or
 * truncated. Overlong forms, surrogates and values above U+10FFFF are
 * invalid. *cp receives the code point when cp is not NULL. */
size_t mx_utf8_decode(const unsigned char *s, size_t n, uint32_t *cp);

bool mx_utf8_is_valid(const char *s, size_t n);

/* A copy of s[0..n) with every invalid byte sequence replaced by U+FFFD,
 * NUL-terminated. *out is the caller's to free(). *nrepl (optional) counts
 * replacements. Returns 0 or MX_ENOMEM. */
int mx_utf8_repair(const char *s, size_t n, char **out, size_t *outlen, size_t *nrepl);

/* The largest k <= n such that s[0..k) does not end inside a multi-byte
 * sequence: cut points for splitting text safely. */
size_t mx_utf8_floor(const char *s, size_t n);

/* Number of code points in valid UTF-8. */
size_t mx_utf8_count(const char *s, size_t n);

#endif
