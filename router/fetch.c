/*
 * fetch.c - resumable, verified downloads (see fetch.h).
 */
#include "fetch.h"

#include <ctype.h>
#include <curl/curl.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "../common/fsutil.h"
#include "../common/status.h"
#include "cloud.h"
#include "router_int.h"

#ifndef MEMEX_VERSION
#define MEMEX_VERSION "0"
#endif

struct rtr_fetch_params rtr_fetch_params_default(void)
{
	struct rtr_fetch_params p = {
		.connect_timeout_ms = 15000,
		.stall_s = 60,
		.max_bytes = (uint64_t)64 << 30,
	};
	return p;
}

bool rtr_sha256_is_valid(const char *s)
{
	if (!s || strlen(s) != MX_SHA256_HEX_LEN)
		return false;
	for (const char *p = s; *p; p++)
		if (!isxdigit((unsigned char)*p))
			return false;
	return true;
}

int rtr_sha256_file(const char *path, char out[MX_SHA256_HEX_LEN + 1])
{
	int fd;
	struct stat sb;
	int rc = mx_open_regular(path, &fd, &sb);
	if (rc)
		return rc;
	rc = mx_sha256_fd(fd, out);
	close(fd);
	return rc;
}

/* ---- the transfer ---------------------------------------------------- */

struct dl {
	CURL *h;
	int fd;
	uint64_t start;	  /* bytes in the part when this response began */
	uint64_t written; /* bytes of this response written */
	uint64_t total;	  /* the whole file's size, 0 while unknown */
	uint64_t max;
	long status;
	bool headers_seen, bad_range, too_big, io_error, stop, not_ok;
	const struct rtr_fetch_params *p;
	double last_progress;
	int io_errno;
	uint64_t range_start; /* from Content-Range */
	bool have_range;
};

static double mono(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static size_t header_cb(char *p, size_t size, size_t nmemb, void *ud)
{
	struct dl *d = ud;
	size_t n = size * nmemb;
	if (n >= 5 && !memcmp(p, "HTTP/", 5)) {
		/* a new response (after a redirect): forget the last one's */
		d->have_range = false;
		d->headers_seen = false;
		d->total = 0;
	} else if (n > 14 && !strncasecmp(p, "Content-Range:", 14)) {
		/* "bytes A-B/T" */
		unsigned long long a, b, t;
		char tail[8];
		if (sscanf(p + 14, " bytes %llu-%llu/%llu%1s", &a, &b, &t, tail) >= 3) {
			d->have_range = true;
			d->range_start = a;
			d->total = t;
		}
	}
	return n;
}

/* The first body bytes of the final response: decide what to do with the
 * part file. */
static bool begin_body(struct dl *d)
{
	d->headers_seen = true;
	curl_easy_getinfo(d->h, CURLINFO_RESPONSE_CODE, &d->status);
	curl_off_t cl = -1;
	curl_easy_getinfo(d->h, CURLINFO_CONTENT_LENGTH_DOWNLOAD_T, &cl);
	if (d->status == 206) {
		if (!d->have_range || d->range_start != d->start) {
			d->bad_range = true;
			return false;
		}
	} else if (d->status == 200) {
		/* the server sends it all: start the part over */
		if (d->start > 0) {
			if (ftruncate(d->fd, 0) != 0) {
				d->io_error = true;
				d->io_errno = errno;
				return false;
			}
			d->start = 0;
		}
		d->total = cl >= 0 ? (uint64_t)cl : 0;
	} else {
		d->not_ok = true;
		return false;
	}
	if (d->total > d->max) {
		d->too_big = true;
		return false;
	}
	return true;
}

static size_t write_cb(char *p, size_t size, size_t nmemb, void *ud)
{
	struct dl *d = ud;
	size_t n = size * nmemb;
	if (!d->headers_seen && !begin_body(d))
		return 0;
	if (d->start + d->written + n > d->max) {
		d->too_big = true;
		return 0;
	}
	const char *c = p;
	size_t left = n;
	while (left > 0) {
		ssize_t w = write(d->fd, c, left);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0) {
			d->io_error = true;
			d->io_errno = w < 0 ? errno : EIO;
			return 0;
		}
		c += w;
		left -= (size_t)w;
	}
	d->written += n;
	return n;
}

static int progress_cb(void *ud, curl_off_t dltotal, curl_off_t dlnow, curl_off_t ultotal,
		       curl_off_t ulnow)
{
	struct dl *d = ud;
	(void)dltotal;
	(void)dlnow;
	(void)ultotal;
	(void)ulnow;
	if (!d->p->on_progress)
		return 0;
	double t = mono();
	if (t - d->last_progress < 0.25)
		return 0;
	d->last_progress = t;
	if (d->p->on_progress(d->p->ctx, d->start + d->written, d->total)) {
		d->stop = true;
		return 1;
	}
	return 0;
}

int rtr_fetch_file(const char *url, const char *dest, const struct rtr_fetch_params *p,
		   struct rtr_fetch_result *res, char *err, size_t errlen)
{
	int rc = 0, fd = -1;
	char *part = NULL;
	char want[MX_SHA256_HEX_LEN + 1] = "", got[MX_SHA256_HEX_LEN + 1];
	CURL *h = NULL;
	char *host = NULL;
	char cerr[CURL_ERROR_SIZE] = "";
	struct stat sb;
	struct rtr_fetch_result r0;
	if (!res)
		res = &r0;
	memset(res, 0, sizeof *res);
	if (p->sha256) {
		if (!rtr_sha256_is_valid(p->sha256)) {
			return mx_fail(err, errlen, MX_EINVAL,
				       "'%s' is not a SHA-256 (64 hex digits)", p->sha256);
		}
		for (int i = 0; i < MX_SHA256_HEX_LEN; i++)
			want[i] = (char)tolower((unsigned char)p->sha256[i]);
	}
	if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
		return mx_fail(err, errlen, MX_EIO, "cannot initialise libcurl");
	}
	bool plain;
	if ((rc = rtr_url_allowed(url, &plain, &host, err, errlen)))
		goto out;
	if (lstat(dest, &sb) == 0) {
		rc = MX_EEXISTS;
		mx_seterr(err, errlen, "'%s' already exists", dest);
		goto out;
	}
	size_t dn = strlen(dest);
	if (!(part = malloc(dn + 6))) {
		rc = MX_ENOMEM;
		mx_seterr(err, errlen, "out of memory");
		goto out;
	}
	memcpy(part, dest, dn);
	memcpy(part + dn, ".part", 6);
	fd = open(part, O_RDWR | O_CREAT | O_APPEND | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK, 0600);
	if (fd < 0) {
		rc = mx_status_from_errno(errno);
		mx_seterr(err, errlen, "cannot open '%s': %s", part, strerror(errno));
		goto out;
	}
	if (fstat(fd, &sb) != 0 || !S_ISREG(sb.st_mode)) {
		rc = MX_ENOTREG;
		mx_seterr(err, errlen, "'%s' is not a regular file", part);
		goto out;
	}
	if (flock(fd, LOCK_EX | LOCK_NB) != 0) {
		close(fd);
		fd = -1;
		rc = MX_EBUSY;
		mx_seterr(err, errlen, "another download is writing '%s'", part);
		goto out;
	}
	int fl = fcntl(fd, F_GETFL);
	if (fl >= 0)
		fcntl(fd, F_SETFL, fl & ~O_NONBLOCK);
	struct dl d = {
		.fd = fd,
		.start = (uint64_t)sb.st_size,
		.max = p->max_bytes ? p->max_bytes : rtr_fetch_params_default().max_bytes,
		.p = p,
	};
	res->resumed_from = d.start;
	char range[48];
	snprintf(range, sizeof range, "%" PRIu64 "-", d.start);
	if (!(h = curl_easy_init())) {
		rc = MX_ENOMEM;
		mx_seterr(err, errlen, "cannot start a transfer");
		goto out;
	}
	d.h = h;
	CURLcode e = CURLE_OK;
#define SET(opt, val)                                                                              \
	do {                                                                                       \
		if (e == CURLE_OK)                                                                 \
			e = curl_easy_setopt(h, opt, val);                                         \
	} while (0)
	SET(CURLOPT_URL, url);
	SET(CURLOPT_PROTOCOLS_STR, plain ? "http" : "https");
	SET(CURLOPT_REDIR_PROTOCOLS_STR, "https");
	SET(CURLOPT_FOLLOWLOCATION, 1L);
	SET(CURLOPT_MAXREDIRS, 5L);
	SET(CURLOPT_SSL_VERIFYPEER, 1L);
	SET(CURLOPT_SSL_VERIFYHOST, 2L);
	SET(CURLOPT_CONNECTTIMEOUT_MS, p->connect_timeout_ms > 0 ? p->connect_timeout_ms : 15000L);
	SET(CURLOPT_LOW_SPEED_LIMIT, 1024L);
	SET(CURLOPT_LOW_SPEED_TIME, p->stall_s > 0 ? p->stall_s : 60L);
	SET(CURLOPT_NOSIGNAL, 1L);
	SET(CURLOPT_WRITEFUNCTION, write_cb);
	SET(CURLOPT_WRITEDATA, &d);
	SET(CURLOPT_HEADERFUNCTION, header_cb);
	SET(CURLOPT_HEADERDATA, &d);
	SET(CURLOPT_XFERINFOFUNCTION, progress_cb);
	SET(CURLOPT_XFERINFODATA, &d);
	SET(CURLOPT_NOPROGRESS, 0L);
	SET(CURLOPT_ERRORBUFFER, cerr);
	SET(CURLOPT_USERAGENT, "memex/" MEMEX_VERSION);
	if (plain)
		SET(CURLOPT_NOPROXY, "*");
	if (d.start > 0)
		SET(CURLOPT_RANGE, range);
#undef SET
	if (e != CURLE_OK) {
		rc = MX_EUNSUPPORTED;
		mx_seterr(err, errlen, "this libcurl lacks a needed option");
		goto out;
	}
	CURLcode cc = curl_easy_perform(h);
	if (!d.headers_seen)
		curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &d.status);
	res->http_status = d.status;
	uint64_t have = d.start + d.written;
	bool complete_already = d.status == 416 && d.start > 0;
	if (d.stop) {
		rc = MX_EINTR;
		mx_seterr(err, errlen, "stopped at %" PRIu64 " bytes; run again to resume", have);
		goto out;
	}
	if (d.too_big) {
		rc = MX_ETOOBIG;
		mx_seterr(err, errlen, "the file is bigger than %" PRIu64 " bytes", d.max);
		goto out;
	}
	if (d.io_error) {
		rc = mx_status_from_errno(d.io_errno);
		mx_seterr(err, errlen, "cannot write '%s': %s", part, strerror(d.io_errno));
		goto out;
	}
	if (d.bad_range) {
		/* a range we did not ask for: start over next time */
		rc = MX_EIO;
		if (ftruncate(fd, 0) != 0)
			rc = MX_EIO;
		mx_seterr(err, errlen, "the server sent the wrong range; run again to start over");
		goto out;
	}
	if (!complete_already && (d.not_ok || (d.status && d.status != 200 && d.status != 206))) {
		rc = d.status == 404			    ? MX_ENOTFOUND
		     : (d.status == 401 || d.status == 403) ? MX_EPERM
							    : MX_EIO;
		mx_seterr(err, errlen, "HTTP %ld from %s", d.status, host);
		goto out;
	}
	if (!complete_already && cc != CURLE_OK) {
		rc = MX_EIO;
		if (d.total && have < d.total)
			mx_seterr(err, errlen,
				  "the transfer broke off at %" PRIu64 " of %" PRIu64
				  " bytes (%s); run again to resume",
				  have, d.total, cerr[0] ? cerr : curl_easy_strerror(cc));
		else if (cc == CURLE_OPERATION_TIMEDOUT)
			mx_seterr(err, errlen,
				  "%s stalled (under 1 KB/s for %ld s); run again to resume", host,
				  p->stall_s > 0 ? p->stall_s : 60L);
		else
			mx_seterr(err, errlen, "download from %s failed: %s", host,
				  cerr[0] ? cerr : curl_easy_strerror(cc));
		goto out;
	}
	if (!complete_already && d.total && have != d.total) {
		rc = MX_EIO;
		mx_seterr(err, errlen,
			  "the transfer ended at %" PRIu64 " of %" PRIu64
			  " bytes; run again to resume",
			  have, d.total);
		goto out;
	}
	if (p->on_progress)
		p->on_progress(p->ctx, have, have);
	if (fsync(fd) != 0) {
		rc = MX_EIO;
		mx_seterr(err, errlen, "cannot sync '%s': %s", part, strerror(errno));
		goto out;
	}
	if (fstat(fd, &sb) != 0) {
		rc = MX_EIO;
		mx_seterr(err, errlen, "cannot stat '%s'", part);
		goto out;
	}
	res->bytes = (uint64_t)sb.st_size;
	if ((rc = rtr_sha256_file(part, got))) {
		mx_seterr(err, errlen, "cannot read '%s' back: %s", part, mx_strerror(rc));
		goto out;
	}
	memcpy(res->sha256, got, sizeof got);
	if (want[0] && strcmp(want, got) != 0) {
		rc = MX_ECORRUPT;
		unlink(part);
		mx_seterr(err, errlen,
			  "SHA-256 mismatch: expected %s, got %s; the download was deleted", want,
			  got);
		goto out;
	}
	if (rename(part, dest) != 0) {
		rc = mx_status_from_errno(errno);
		mx_seterr(err, errlen, "cannot rename '%s' to '%s': %s", part, dest,
			  strerror(errno));
		goto out;
	}
	/* make the rename durable */
	char *slash = strrchr(part, '/');
	if (slash) {
		*slash = '\0';
		int dfd = open(slash == part ? "/" : part, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
		if (dfd >= 0) {
			fsync(dfd);
			close(dfd);
		}
	}
out:
	curl_easy_cleanup(h);
	/* a part with nothing in it is no use to a later run */
	if (rc && fd >= 0 && fstat(fd, &sb) == 0 && sb.st_size == 0)
		unlink(part);
	if (fd >= 0)
		close(fd);
	free(part);
	free(host);
	return rc;
}
