/*
 * fake_openai.c - the loopback test server (see fake_openai.h). Test code:
 * it trusts its client only as far as a test needs, but still never
 * overruns a buffer on odd input.
 */
#include "fake_openai.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define HDR_MAX	 (64 << 10)
#define BODY_MAX (64 << 20)

struct fake_server {
	struct fake_opts o;
	int lfd;
	int stop_pipe[2];
	int port;
	atomic_int requests;
	int posts, gets;
	time_t deadline;
	pthread_t th;
	bool running;
};

int fake_mode_parse(const char *s)
{
	static const char *names[] = { "json", "sse",	    "hang",    "500", "401",
				       "429",  "malformed", "endless", "slow" };
	for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
		if (!strcmp(s, names[i]))
			return (int)i;
	return -1;
}

static bool stopping(struct fake_server *s)
{
	struct pollfd p = { .fd = s->stop_pipe[0], .events = POLLIN };
	return poll(&p, 1, 0) > 0 || time(NULL) > s->deadline;
}

/* Waits up to ms for fd to be ready (events); false when stopping. */
static bool wait_fd(struct fake_server *s, int fd, short events, int ms)
{
	struct pollfd p[2] = { { .fd = fd, .events = events },
			       { .fd = s->stop_pipe[0], .events = POLLIN } };
	for (;;) {
		if (time(NULL) > s->deadline)
			return false;
		int n = poll(p, 2, ms < 0 || ms > 200 ? 200 : ms);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 || (p[1].revents & POLLIN))
			return false;
		if (p[0].revents)
			return true;
		if (ms >= 0) {
			ms -= 200;
			if (ms <= 0)
				return false;
		}
	}
}

static void sleep_ms(struct fake_server *s, int ms)
{
	struct pollfd p = { .fd = s->stop_pipe[0], .events = POLLIN };
	poll(&p, 1, ms);
}

static int send_all(int fd, const void *p, size_t n)
{
	const char *c = p;
	while (n > 0) {
		ssize_t w = send(fd, c, n, MSG_NOSIGNAL);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return -1;
		c += w;
		n -= (size_t)w;
	}
	return 0;
}

static void append_file(const char *path, const void *p, size_t n)
{
	if (!path)
		return;
	int fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0600);
	if (fd < 0)
		return;
	const char *c = p;
	while (n > 0) {
		ssize_t w = write(fd, c, n);
		if (w <= 0)
			break;
		c += w;
		n -= (size_t)w;
	}
	close(fd);
}

struct req {
	char method[16], path[512], range[128];
	size_t content_length;
	bool expect_continue;
	char *body;
	size_t body_len;
};

/* The value of header name in the header block (copied, trimmed). */
static void header_value(const char *hdrs, const char *name, char *out, size_t n)
{
	size_t nl = strlen(name);
	out[0] = '\0';
	for (const char *l = strstr(hdrs, "\r\n"); l; l = strstr(l + 2, "\r\n")) {
		const char *h = l + 2;
		if (!strncasecmp(h, name, nl) && h[nl] == ':') {
			h += nl + 1;
			while (*h == ' ')
				h++;
			const char *e = strstr(h, "\r\n");
			size_t len = e ? (size_t)(e - h) : strlen(h);
			if (len >= n)
				len = n - 1;
			memcpy(out, h, len);
			out[len] = '\0';
			return;
		}
	}
}

static int read_request(struct fake_server *s, int fd, struct req *r)
{
	char *buf = malloc(HDR_MAX + 1);
	size_t len = 0;
	char *end = NULL;
	memset(r, 0, sizeof *r);
	if (!buf)
		return -1;
	while (!end) {
		if (len >= HDR_MAX || !wait_fd(s, fd, POLLIN, 10000))
			goto fail;
		ssize_t n = recv(fd, buf + len, HDR_MAX - len, 0);
		if (n <= 0)
			goto fail;
		len += (size_t)n;
		buf[len] = '\0';
		end = strstr(buf, "\r\n\r\n");
	}
	end[2] = '\0'; /* headers end with their last CRLF */
	if (sscanf(buf, "%15s %511s", r->method, r->path) != 2)
		goto fail;
	char v[128];
	header_value(buf, "Content-Length", v, sizeof v);
	r->content_length = v[0] ? strtoul(v, NULL, 10) : 0;
	if (r->content_length > BODY_MAX)
		goto fail;
	header_value(buf, "Range", r->range, sizeof r->range);
	header_value(buf, "Expect", v, sizeof v);
	r->expect_continue = !strcasecmp(v, "100-continue");
	size_t have = len - (size_t)(end + 4 - buf);
	r->body = malloc(r->content_length + 1);
	if (!r->body)
		goto fail;
	if (have > r->content_length)
		have = r->content_length;
	memcpy(r->body, end + 4, have);
	if (r->expect_continue && have < r->content_length &&
	    send_all(fd, "HTTP/1.1 100 Continue\r\n\r\n", 25))
		goto fail;
	while (have < r->content_length) {
		if (!wait_fd(s, fd, POLLIN, 10000))
			goto fail;
		ssize_t n = recv(fd, r->body + have, r->content_length - have, 0);
		if (n <= 0)
			goto fail;
		have += (size_t)n;
	}
	r->body_len = have;
	r->body[have] = '\0';
	free(buf);
	return 0;
fail:
	free(buf);
	free(r->body);
	r->body = NULL;
	return -1;
}

/* The reply text as a JSON string body (no escaping needed for the texts
 * tests use, but quotes and backslashes are escaped anyway). */
static void json_escape(const char *in, char *out, size_t n)
{
	size_t o = 0;
	for (; *in && o + 7 < n; in++) {
		unsigned char c = (unsigned char)*in;
		if (c == '"' || c == '\\') {
			out[o++] = '\\';
			out[o++] = (char)c;
		} else if (c < 0x20) {
			o += (size_t)snprintf(out + o, n - o, "\\u%04x", c);
		} else {
			out[o++] = (char)c;
		}
	}
	out[o] = '\0';
}

static void respond(int fd, int code, const char *status, const char *ctype, const char *body)
{
	char h[512];
	int n = snprintf(h, sizeof h,
			 "HTTP/1.1 %d %s\r\nContent-Type: %s\r\nContent-Length: %zu\r\n"
			 "Connection: close\r\n\r\n",
			 code, status, ctype, strlen(body));
	if (send_all(fd, h, (size_t)n) == 0)
		send_all(fd, body, strlen(body));
}

static void serve_post(struct fake_server *s, int fd, struct req *r)
{
	const char *reply = s->o.reply ? s->o.reply : "Hello from the fake.";
	char esc[8192], body[9000];
	json_escape(reply, esc, sizeof esc);
	snprintf(
		body, sizeof body,
		"{\"id\":\"fake-1\",\"object\":\"chat.completion\",\"choices\":[{\"index\":0,"
		"\"message\":{\"role\":\"assistant\",\"content\":\"%s\"},\"finish_reason\":\"stop\"}]}",
		esc);
	s->posts++;
	if (s->posts <= s->o.fail_first) {
		respond(fd, 500, "Internal Server Error", "application/json",
			"{\"error\":{\"message\":\"internal trouble\"}}");
		return;
	}
	switch (s->o.mode) {
	case FAKE_JSON: respond(fd, 200, "OK", "application/json", body); break;
	case FAKE_500:
		respond(fd, 500, "Internal Server Error", "application/json",
			"{\"error\":{\"message\":\"internal trouble\"}}");
		break;
	case FAKE_401:
		respond(fd, 401, "Unauthorized", "application/json",
			"{\"error\":{\"message\":\"Invalid API key\"}}");
		break;
	case FAKE_429: {
		const char *m =
			"HTTP/1.1 429 Too Many Requests\r\nContent-Type: application/json\r\n"
			"Retry-After: 1\r\nContent-Length: 33\r\nConnection: close\r\n\r\n"
			"{\"error\":{\"message\":\"slow down\"}}";
		send_all(fd, m, strlen(m));
		break;
	}
	case FAKE_MALFORMED:
		respond(fd, 200, "OK", "application/json",
			"{\"choices\": [{\"message\": {\"content\": ");
		break;
	case FAKE_HANG:
		while (!stopping(s))
			sleep_ms(s, 100);
		break;
	case FAKE_ENDLESS: {
		const char *h =
			"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
			"Connection: close\r\n\r\n{\"choices\":[{\"message\":{\"content\":\"";
		if (send_all(fd, h, strlen(h)))
			break;
		char chunk[16384];
		memset(chunk, 'a', sizeof chunk);
		/* bounded: at most 4 GiB, or until the client leaves */
		for (long i = 0; i < 262144 && !stopping(s); i++)
			if (send_all(fd, chunk, sizeof chunk))
				break;
		break;
	}
	case FAKE_SLOW: {
		char h[256];
		int n = snprintf(h, sizeof h,
				 "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
				 "Content-Length: %zu\r\nConnection: close\r\n\r\n",
				 strlen(body));
		if (send_all(fd, h, (size_t)n))
			break;
		for (size_t i = 0; body[i] && !stopping(s); i++) {
			if (send_all(fd, body + i, 1))
				break;
			sleep_ms(s, s->o.delay_ms > 0 ? s->o.delay_ms : 50);
		}
		break;
	}
	case FAKE_SSE: {
		/* a request that did not ask for a stream gets plain JSON */
		if (!r->body || !strstr(r->body, "\"stream\":true")) {
			respond(fd, 200, "OK", "application/json", body);
			break;
		}
		const char *h =
			"HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\n"
			"Cache-Control: no-cache\r\nConnection: close\r\n\r\n"
			": a comment line\r\n\r\n"
			"data: {\"choices\":[{\"index\":0,\"delta\":{\"role\":\"assistant\"}}]}\n\n";
		if (send_all(fd, h, strlen(h)))
			break;
		/* one event per word (the space kept with the word before it) */
		const char *p = reply;
		while (*p) {
			const char *sp = strchr(p, ' ');
			size_t wl = sp ? (size_t)(sp - p) + 1 : strlen(p);
			char word[1024], wesc[4096], ev[8192];
			if (wl >= sizeof word)
				wl = sizeof word - 1;
			memcpy(word, p, wl);
			word[wl] = '\0';
			json_escape(word, wesc, sizeof wesc);
			int n = snprintf(
				ev, sizeof ev,
				"data: {\"choices\":[{\"index\":0,\"delta\":{\"content\":\"%s\"}}]}\n\n",
				wesc);
			/* two pieces, cut mid-line, so the client must join them */
			size_t cut = (size_t)n / 3;
			if (send_all(fd, ev, cut) ||
			    (sleep_ms(s, 5), send_all(fd, ev + cut, (size_t)n - cut)))
				return;
			p += wl;
		}
		const char *tail =
			"data: {\"choices\":[{\"index\":0,\"delta\":{},\"finish_reason\":\"stop\"}]}\n\n"
			"data: [DONE]\n\n";
		send_all(fd, tail, strlen(tail));
		break;
	}
	}
}

static void serve_get(struct fake_server *s, int fd, struct req *r)
{
	struct stat sb;
	int ffd = s->o.file_path ? open(s->o.file_path, O_RDONLY | O_CLOEXEC) : -1;
	if (ffd < 0 || fstat(ffd, &sb) != 0) {
		respond(fd, 404, "Not Found", "text/plain", "not found\n");
		if (ffd >= 0)
			close(ffd);
		return;
	}
	s->gets++;
	size_t size = (size_t)sb.st_size, from = 0;
	char h[512];
	int n;
	if (r->range[0] && !s->o.no_range && !strncmp(r->range, "bytes=", 6)) {
		from = strtoul(r->range + 6, NULL, 10);
		if (from >= size) {
			n = snprintf(
				h, sizeof h,
				"HTTP/1.1 416 Range Not Satisfiable\r\nContent-Range: bytes */%zu\r\n"
				"Content-Length: 0\r\nConnection: close\r\n\r\n",
				size);
			send_all(fd, h, (size_t)n);
			close(ffd);
			return;
		}
		n = snprintf(
			h, sizeof h,
			"HTTP/1.1 206 Partial Content\r\nContent-Type: application/octet-stream\r\n"
			"Content-Range: bytes %zu-%zu/%zu\r\nContent-Length: %zu\r\n"
			"Connection: close\r\n\r\n",
			from, size - 1, size, size - from);
	} else {
		n = snprintf(h, sizeof h,
			     "HTTP/1.1 200 OK\r\nContent-Type: application/octet-stream\r\n"
			     "Content-Length: %zu\r\nConnection: close\r\n\r\n",
			     size);
	}
	size_t limit = size - from;
	if (s->o.drop_first && s->gets == 1)
		limit /= 2;
	if (send_all(fd, h, (size_t)n) == 0) {
		char buf[65536];
		size_t off = from, sent = 0;
		while (sent < limit && !stopping(s)) {
			size_t want = limit - sent < sizeof buf ? limit - sent : sizeof buf;
			ssize_t got = pread(ffd, buf, want, (off_t)off);
			if (got <= 0 || send_all(fd, buf, (size_t)got))
				break;
			off += (size_t)got;
			sent += (size_t)got;
			if (s->o.delay_ms > 0) /* a slow link, to watch progress */
				sleep_ms(s, s->o.delay_ms);
		}
	}
	close(ffd);
}

static void *serve(void *arg)
{
	struct fake_server *s = arg;
	while (!stopping(s)) {
		if (!wait_fd(s, s->lfd, POLLIN, -1))
			break;
		int fd = accept(s->lfd, NULL, NULL);
		if (fd < 0)
			continue;
		struct req r;
		if (read_request(s, fd, &r) == 0) {
			atomic_fetch_add(&s->requests, 1);
			append_file(s->o.record_path, r.body, r.body_len);
			char line[800];
			int n = snprintf(line, sizeof line, "%s %s %zu%s%s\n", r.method, r.path,
					 r.body_len, r.range[0] ? " range=" : "", r.range);
			append_file(s->o.log_path, line,
				    (size_t)n < sizeof line ? (size_t)n : sizeof line - 1);
			if (!strcmp(r.method, "GET"))
				serve_get(s, fd, &r);
			else
				serve_post(s, fd, &r);
			free(r.body);
		}
		shutdown(fd, SHUT_WR);
		close(fd);
	}
	return NULL;
}

int fake_server_start(const struct fake_opts *o, struct fake_server **out)
{
	struct fake_server *s = calloc(1, sizeof *s);
	struct sockaddr_in a = { .sin_family = AF_INET };
	socklen_t al = sizeof a;
	*out = NULL;
	if (!s)
		return -1;
	s->o = *o;
	s->lfd = -1;
	s->stop_pipe[0] = s->stop_pipe[1] = -1;
	s->deadline = time(NULL) + (o->max_seconds > 0 ? o->max_seconds : 120);
	if (pipe2(s->stop_pipe, O_CLOEXEC) != 0)
		goto fail;
	s->lfd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (s->lfd < 0)
		goto fail;
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (bind(s->lfd, (struct sockaddr *)&a, sizeof a) != 0 || listen(s->lfd, 16) != 0 ||
	    getsockname(s->lfd, (struct sockaddr *)&a, &al) != 0)
		goto fail;
	s->port = ntohs(a.sin_port);
	if (pthread_create(&s->th, NULL, serve, s) != 0)
		goto fail;
	s->running = true;
	*out = s;
	return 0;
fail:
	fake_server_stop(s);
	return -1;
}

int fake_server_port(const struct fake_server *s)
{
	return s->port;
}

int fake_server_requests(const struct fake_server *s)
{
	return atomic_load(&((struct fake_server *)s)->requests);
}

void fake_server_wait(struct fake_server *s, volatile int *stop)
{
	while (!*stop && time(NULL) <= s->deadline)
		sleep_ms(s, 100);
}

void fake_server_stop(struct fake_server *s)
{
	if (!s)
		return;
	if (s->stop_pipe[1] >= 0 && write(s->stop_pipe[1], "x", 1) < 0) {
		/* the thread still ends at its deadline */
	}
	if (s->running)
		pthread_join(s->th, NULL);
	if (s->lfd >= 0)
		close(s->lfd);
	if (s->stop_pipe[0] >= 0)
		close(s->stop_pipe[0]);
	if (s->stop_pipe[1] >= 0)
		close(s->stop_pipe[1]);
	free(s);
}
