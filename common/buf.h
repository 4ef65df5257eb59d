/*
 * buf.h - a growable byte buffer with a hard cap (after curl's dynbuf).
 *
 * Every buffer that grows from outside input is created with the most it may
 * ever hold; an append past that fails with MX_ETOOBIG and leaves the buffer
 * as it was. The contents are always NUL-terminated (the NUL is not counted
 * in len and does not count against the cap).
 *
 *   struct mx_buf b;
 *   mx_buf_init(&b, 1 << 20);
 *   if ((rc = mx_buf_append(&b, p, n))) goto out;
 *   ... b.data, b.len ...
 *   mx_buf_free(&b);
 */
#ifndef MX_BUF_H
#define MX_BUF_H

#include <stddef.h>

struct mx_buf {
	char *data; /* owned; NULL until the first append */
	size_t len; /* bytes used, excluding the NUL */
	size_t cap; /* bytes allocated */
	size_t max; /* the most len may reach */
};

void mx_buf_init(struct mx_buf *b, size_t max);
/* 0, MX_ENOMEM, or MX_ETOOBIG when len + n would pass max. */
int mx_buf_append(struct mx_buf *b, const void *p, size_t n);
int mx_buf_appends(struct mx_buf *b, const char *s);
int mx_buf_appendf(struct mx_buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Hands the data to the caller (free() it); the buffer is left empty. */
char *mx_buf_detach(struct mx_buf *b);
void mx_buf_reset(struct mx_buf *b);
void mx_buf_free(struct mx_buf *b);

#endif
