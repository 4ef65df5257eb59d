/*
 * conn_mbox.c - stream the messages of an mbox file (see conn.h).
 *
 * The reader keeps a 64 KiB window on the file and hands out lines. A line
 * longer than the window comes out in pieces; only its first piece can be
 * a "From " separator or a quoted ">From ". Messages over max_message are
 * skipped while still being measured, so that offsets stay right.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../common/buf.h"
#include "../common/fsutil.h"
#include "../common/status.h"
#include "conn.h"

#define MBOX_WINDOW 65536

struct conn_mbox {
	int fd;
	char buf[MBOX_WINDOW];
	size_t pos, end;     /* unread bytes are buf[pos..end) */
	uint64_t buf_offset; /* file offset of buf[0] */
	bool eof;
	size_t max;
	struct mx_buf msg; /* the message being gathered */
	bool pending;	   /* a "From " line was read: next message starts there */
	uint64_t pending_off;
	bool started; /* the first separator was seen */
};

int conn_mbox_open(const char *path, uint64_t offset, size_t max_message, struct conn_mbox **out)
{
	*out = NULL;
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
	if (fd < 0)
		return mx_status_from_errno(errno);
	if (offset && lseek(fd, (off_t)offset, SEEK_SET) < 0) {
		int rc = mx_status_from_errno(errno);
		close(fd);
		return rc;
	}
	struct conn_mbox *m = calloc(1, sizeof *m);
	if (!m) {
		close(fd);
		return MX_ENOMEM;
	}
	m->fd = fd;
	m->buf_offset = offset;
	m->max = max_message;
	mx_buf_init(&m->msg, max_message);
	*out = m;
	return 0;
}

void conn_mbox_close(struct conn_mbox *m)
{
	if (!m)
		return;
	close(m->fd);
	mx_buf_free(&m->msg);
	free(m);
}

/* Refills the window, keeping buf[pos..end). */
static int fill(struct conn_mbox *m)
{
	if (m->pos > 0) {
		memmove(m->buf, m->buf + m->pos, m->end - m->pos);
		m->buf_offset += m->pos;
		m->end -= m->pos;
		m->pos = 0;
	}
	while (!m->eof && m->end < sizeof m->buf) {
		ssize_t r = read(m->fd, m->buf + m->end, sizeof m->buf - m->end);
		if (r < 0) {
			if (errno == EINTR)
				continue;
			return MX_EIO;
		}
		if (r == 0)
			m->eof = true;
		m->end += (size_t)r;
		break;
	}
	return 0;
}

/* The next line (or piece of a long one) with its newline: *first says
 * whether it starts a line. 1, 0 at the end, or an error. */
static int next_line(struct conn_mbox *m, const char **line, size_t *len, uint64_t *off,
		     bool *first, bool *continues)
{
	for (;;) {
		char *nl = memchr(m->buf + m->pos, '\n', m->end - m->pos);
		if (nl || m->eof || (m->pos == 0 && m->end == sizeof m->buf)) {
			if (m->pos == m->end)
				return 0;
			size_t n = nl ? (size_t)(nl - (m->buf + m->pos)) + 1 : m->end - m->pos;
			*line = m->buf + m->pos;
			*len = n;
			*off = m->buf_offset + m->pos;
			*first = !*continues;
			*continues = !nl; /* a piece of a long line: more follows */
			m->pos += n;
			return 1;
		}
		int rc = fill(m);
		if (rc)
			return rc;
	}
}

static bool is_from(const char *l, size_t n)
{
	return n >= 5 && !memcmp(l, "From ", 5);
}

int conn_mbox_next(struct conn_mbox *m, struct conn_mbox_msg *msg)
{
	const char *l;
	size_t n;
	uint64_t off, start = 0;
	bool first, continues = false, have = false, too_big = false;
	int rc;
	mx_buf_reset(&m->msg);
	if (m->pending) {
		start = m->pending_off;
		have = true;
		m->pending = false;
	}
	while ((rc = next_line(m, &l, &n, &off, &first, &continues)) == 1) {
		/* any "From " at the start of a line separates, as mailbox
		 * readers do: writers quote body lines as ">From " */
		if (first && is_from(l, n)) {
			if (have) {
				/* the next message begins: this one is done */
				m->pending = true;
				m->pending_off = off;
				/* skip the rest of a long separator line */
				while (continues &&
				       (rc = next_line(m, &l, &n, &off, &first, &continues)) == 1)
					;
				break;
			}
			have = true;
			start = off;
			while (continues &&
			       (rc = next_line(m, &l, &n, &off, &first, &continues)) == 1)
				;
			continue;
		}
		if (!have)
			continue; /* garbage before the first separator */
		/* mboxrd: one '>' less on ">From ", ">>From " ... */
		if (first && n > 5 && l[0] == '>') {
			size_t k = 0;
			while (k < n && l[k] == '>')
				k++;
			if (is_from(l + k, n - k))
				l++, n--;
		}
		if (!too_big && mx_buf_append(&m->msg, l, n) == MX_ETOOBIG)
			too_big = true;
	}
	if (rc < 0)
		return rc;
	if (!have)
		return 0;
	uint64_t end = m->pending ? m->pending_off : m->buf_offset + m->pos;
	msg->offset = start;
	msg->length = end - start;
	msg->too_big = too_big;
	/* the blank line before the next separator belongs to the separator */
	if (m->pending && m->msg.len && m->msg.data[m->msg.len - 1] == '\n') {
		m->msg.len--;
		if (m->msg.len && m->msg.data[m->msg.len - 1] == '\r')
			m->msg.len--;
		m->msg.data[m->msg.len] = '\0';
	}
	if (!m->msg.data && !too_big && mx_buf_append(&m->msg, "", 0))
		return MX_ENOMEM;
	msg->data = too_big ? NULL : m->msg.data;
	msg->len = too_big ? 0 : m->msg.len;
	return 1;
}
