/*
 * audit.c - the append-only audit log (format in audit.h).
 */
#include "audit.h"

#include <errno.h>
#include <fcntl.h>
#include <json-c/json.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "../common/fsutil.h"
#include "../common/hash.h"
#include "../common/status.h"
#include "../common/utf8.h"
#include "router_int.h"

struct rtr_audit {
	int fd;
	char *path;
	char err[256];
};

/* mkdir -p of the folder that holds path (0700 for what is created). */
static int make_parent(const char *path)
{
	const char *slash = strrchr(path, '/');
	if (!slash || slash == path)
		return 0;
	size_t n = (size_t)(slash - path);
	char *dir = malloc(n + 1);
	if (!dir)
		return MX_ENOMEM;
	memcpy(dir, path, n);
	dir[n] = '\0';
	int rc = mx_mkdir_p(dir);
	free(dir);
	return rc;
}

int rtr_audit_open(const char *path, struct rtr_audit **out, char *err, size_t errlen)
{
	int rc = 0, fd = -1;
	struct rtr_audit *a = NULL;
	struct stat sb;
	*out = NULL;
	if (!path || !*path) {
		return mx_fail(err, errlen, MX_EINVAL, "no audit log path");
	}
	if ((rc = make_parent(path))) {
		return mx_fail(err, errlen, rc, "cannot create the folder of '%s': %s", path,
			       mx_strerror(rc));
	}
	/* O_NOFOLLOW: a symlink planted in the data home must not redirect
	 * the log; O_NONBLOCK: a FIFO there must not hang us (fstat refuses
	 * it below). */
	/* read access only to check that the log ends with a newline */
	fd = open(path,
		  O_RDWR | O_APPEND | O_CREAT | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK | O_NOCTTY,
		  0600);
	if (fd < 0) {
		rc = errno == ELOOP ? MX_ENOTREG : mx_status_from_errno(errno);
		mx_seterr(err, errlen, "cannot open the audit log '%s': %s", path, strerror(errno));
		goto out;
	}
	if (fstat(fd, &sb) != 0) {
		rc = mx_status_from_errno(errno);
		mx_seterr(err, errlen, "cannot stat the audit log '%s': %s", path, strerror(errno));
		goto out;
	}
	if (!S_ISREG(sb.st_mode)) {
		rc = MX_ENOTREG;
		mx_seterr(err, errlen, "the audit log '%s' is not a regular file", path);
		goto out;
	}
	if (sb.st_uid != geteuid()) {
		rc = MX_EPERM;
		mx_seterr(err, errlen, "the audit log '%s' belongs to another user", path);
		goto out;
	}
	if ((sb.st_mode & 077) && fchmod(fd, 0600) != 0) {
		rc = mx_status_from_errno(errno);
		mx_seterr(err, errlen, "cannot make the audit log '%s' private: %s", path,
			  strerror(errno));
		goto out;
	}
	/* writes are blocking from here on */
	int fl = fcntl(fd, F_GETFL);
	if (fl < 0 || fcntl(fd, F_SETFL, fl & ~O_NONBLOCK) != 0) {
		rc = MX_EIO;
		mx_seterr(err, errlen, "cannot set up the audit log '%s': %s", path,
			  strerror(errno));
		goto out;
	}
	a = calloc(1, sizeof *a);
	if (!a || !(a->path = strdup(path))) {
		rc = MX_ENOMEM;
		mx_seterr(err, errlen, "out of memory");
		goto out;
	}
	a->fd = fd;
	*out = a;
	return 0;
out:
	if (a)
		free(a->path);
	free(a);
	if (fd >= 0)
		close(fd);
	return rc;
}

void rtr_audit_close(struct rtr_audit *a)
{
	if (!a)
		return;
	if (a->fd >= 0)
		close(a->fd);
	free(a->path);
	free(a);
}

const char *rtr_audit_path(const struct rtr_audit *a)
{
	return a->path;
}

const char *rtr_audit_errmsg(const struct rtr_audit *a)
{
	return a->err;
}

static void iso_time(int64_t t, char *buf, size_t n)
{
	time_t tt = (time_t)t;
	struct tm tm;
	if (!gmtime_r(&tt, &tm) || !strftime(buf, n, "%Y-%m-%dT%H:%M:%SZ", &tm))
		snprintf(buf, n, "?");
}

/* Writes all of p, retrying short writes; 0 or errno. */
static int write_all(int fd, const char *p, size_t n)
{
	while (n > 0) {
		ssize_t w = write(fd, p, n);
		if (w < 0) {
			if (errno == EINTR)
				continue;
			return errno;
		}
		if (w == 0)
			return EIO;
		p += w;
		n -= (size_t)w;
	}
	return 0;
}

/* Whether the log is empty or ends with a newline (a crash in the middle
 * of a write could leave half a line). */
static bool ends_with_newline(int fd)
{
	struct stat sb;
	char c;
	if (fstat(fd, &sb) != 0 || sb.st_size == 0)
		return true;
	return pread(fd, &c, 1, sb.st_size - 1) == 1 && c == '\n';
}

int rtr_audit_write(struct rtr_audit *a, const struct rtr_audit_record *r)
{
	int rc = 0, e;
	struct json_object *o = NULL;
	char *line = NULL;
	bool locked = false;
	a->err[0] = '\0';
	if (!r->endpoint || !r->model || !r->body) {
		snprintf(a->err, sizeof a->err,
			 "an audit record needs an endpoint, a model and a body");
		return MX_EINVAL;
	}
	if (memchr(r->body, '\0', r->body_len) || !mx_utf8_is_valid(r->body, r->body_len)) {
		snprintf(a->err, sizeof a->err,
			 "the request body is not valid UTF-8 text; it is neither logged nor sent");
		return MX_EENCODING;
	}
	if (r->body_len > (size_t)1 << 30) {
		snprintf(a->err, sizeof a->err, "the request body is over 1 GiB");
		return MX_ETOOBIG;
	}
	int64_t t = r->time ? r->time : (int64_t)time(NULL);
	char ts[32], sha[MX_SHA256_HEX_LEN + 1];
	iso_time(t, ts, sizeof ts);
	mx_sha256_hex(r->body, r->body_len, sha);
	o = json_object_new_object();
	if (!o)
		goto nomem;
	if (json_object_object_add(o, "time", json_object_new_string(ts)) ||
	    json_object_object_add(o, "unix", json_object_new_int64(t)) ||
	    json_object_object_add(o, "endpoint", json_object_new_string(r->endpoint)) ||
	    json_object_object_add(o, "model", json_object_new_string(r->model)) ||
	    json_object_object_add(o, "reason",
				   r->reason ? json_object_new_string(r->reason) : NULL) ||
	    json_object_object_add(o, "attempt", json_object_new_int(r->attempt)) ||
	    json_object_object_add(o, "bytes", json_object_new_int64((int64_t)r->body_len)) ||
	    json_object_object_add(o, "sha256", json_object_new_string(sha)) ||
	    json_object_object_add(o, "body",
				   json_object_new_string_len(r->body, (int)r->body_len)))
		goto nomem;
	size_t n = 0;
	const char *js = json_object_to_json_string_length(
		o, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE, &n);
	if (!js)
		goto nomem;
	/* one buffer, one write(): "\n"? + object + "\n" */
	line = malloc(n + 2);
	if (!line)
		goto nomem;
	if (flock(a->fd, LOCK_EX) != 0) {
		rc = MX_EIO;
		snprintf(a->err, sizeof a->err, "cannot lock the audit log '%s': %s", a->path,
			 strerror(errno));
		goto out;
	}
	locked = true;
	size_t off = 0;
	if (!ends_with_newline(a->fd))
		line[off++] = '\n';
	memcpy(line + off, js, n);
	off += n;
	line[off++] = '\n';
	if ((e = write_all(a->fd, line, off)) != 0 ||
	    (e = fdatasync(a->fd) != 0 ? errno : 0) != 0) {
		rc = MX_EIO;
		snprintf(a->err, sizeof a->err, "cannot write the audit log '%s': %s", a->path,
			 strerror(e));
		goto out;
	}
	goto out;
nomem:
	rc = MX_ENOMEM;
	snprintf(a->err, sizeof a->err, "out of memory writing the audit log");
out:
	if (locked)
		flock(a->fd, LOCK_UN);
	free(line);
	json_object_put(o);
	return rc;
}
