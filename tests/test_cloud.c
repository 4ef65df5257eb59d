/*
 * test_cloud.c - the cloud client, the audit log and model downloads,
 * against the loopback fake server (tests/tools/fake_openai.c) running in
 * a thread of this process. Nothing here talks to any other host.
 */
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <json-c/json.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <netinet/in.h>
#include <arpa/inet.h>
#include <time.h>
#include <unistd.h>

#include "../common/buf.h"
#include "../common/fsutil.h"
#include "../common/hash.h"
#include "../common/status.h"
#include "../router/audit.h"
#include "../router/cloud.h"
#include "../router/fetch.h"
#include "../router/router_int.h"
#include "harness.h"
#include "tools/fake_openai.h"

/* ---- helpers --------------------------------------------------------- */

static int seq;

/* A fresh path under the test folder. */
static char *tpath(const char *name)
{
	static char buf[8][4200];
	static int k;
	char *p = buf[k++ % 8];
	snprintf(p, sizeof buf[0], "%s/%d-%s", test_tmpdir(), ++seq, name);
	return p;
}

static double now_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static char *slurp(const char *path, size_t *len)
{
	char *d = NULL;
	size_t n = 0;
	if (mx_read_file(path, (size_t)1 << 30, &d, &n))
		return NULL;
	if (len)
		*len = n;
	return d;
}

/* The concatenated decoded "body" fields of an audit log; checks each
 * record's bytes and sha256 on the way. *nrec counts records. */
static char *audit_bodies(const char *path, size_t *len, int *nrec)
{
	size_t n = 0;
	char *d = slurp(path, &n);
	struct mx_buf out;
	mx_buf_init(&out, (size_t)1 << 30);
	*nrec = 0;
	*len = 0;
	if (!d)
		return strdup("");
	char *save = NULL;
	for (char *line = strtok_r(d, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		struct json_object *o = json_tokener_parse(line), *b, *bytes, *sha;
		CHECK(o != NULL);
		if (!o)
			continue;
		CHECK(json_object_object_get_ex(o, "body", &b));
		CHECK(json_object_object_get_ex(o, "bytes", &bytes));
		CHECK(json_object_object_get_ex(o, "sha256", &sha));
		const char *s = json_object_get_string(b);
		size_t sl = (size_t)json_object_get_string_len(b);
		char hex[MX_SHA256_HEX_LEN + 1];
		mx_sha256_hex(s, sl, hex);
		CHECK_STR(json_object_get_string(sha), hex);
		CHECK_EQ_INT(json_object_get_int64(bytes), (long long)sl);
		mx_buf_append(&out, s, sl);
		(*nrec)++;
		json_object_put(o);
	}
	free(d);
	*len = out.len;
	return out.data ? mx_buf_detach(&out) : strdup("");
}

/* The audit log holds exactly the bytes the server received. */
static void check_audit_equals_received(const char *audit, const char *record, int want_records)
{
	size_t alen = 0, rlen = 0;
	int nrec = 0;
	char *a = audit_bodies(audit, &alen, &nrec);
	char *r = slurp(record, &rlen);
	CHECK_EQ_INT(nrec, want_records);
	/* one record a line, no blank lines */
	size_t n = 0, lines = 0;
	char *log = slurp(audit, &n);
	for (size_t i = 0; log && i < n; i++)
		lines += log[i] == '\n';
	CHECK_EQ_INT(lines, want_records);
	CHECK(log && !strstr(log, "\n\n"));
	free(log);
	CHECK(r != NULL);
	CHECK_EQ_INT(alen, rlen);
	CHECK(r && alen == rlen && memcmp(a, r, rlen) == 0);
	free(a);
	free(r);
}

struct rig {
	struct fake_server *srv;
	struct rtr_audit *audit;
	struct rtr_cloud *cloud;
	char audit_path[4200], record_path[4200], url[128];
};

static struct rtr_cloud_params fast_params(void)
{
	struct rtr_cloud_params p = rtr_cloud_params_default();
	p.connect_timeout_ms = 2000;
	p.timeout_ms = 5000;
	p.backoff_ms = 10;
	p.model = "fake-model";
	p.key = "sk-test-not-a-secret";
	return p;
}

static void rig_up(struct rig *g, struct fake_opts *o, struct rtr_cloud_params *p)
{
	char err[256] = "";
	memset(g, 0, sizeof *g);
	snprintf(g->audit_path, sizeof g->audit_path, "%s", tpath("home/audit.jsonl"));
	snprintf(g->record_path, sizeof g->record_path, "%s", tpath("received"));
	o->record_path = g->record_path;
	if (o->max_seconds == 0)
		o->max_seconds = 60;
	CHECK_EQ_INT(fake_server_start(o, &g->srv), 0);
	snprintf(g->url, sizeof g->url, "http://127.0.0.1:%d/v1", fake_server_port(g->srv));
	p->url = g->url;
	CHECK_EQ_INT(rtr_audit_open(g->audit_path, &g->audit, err, sizeof err), 0);
	CHECK_EQ_INT(rtr_cloud_open(p, g->audit, &g->cloud, err, sizeof err), 0);
}

static void rig_down(struct rig *g)
{
	rtr_cloud_close(g->cloud);
	rtr_audit_close(g->audit);
	fake_server_stop(g->srv);
}

static const struct rtr_message two_msgs[] = {
	{ "system", "Answer briefly. Caf\xc3\xa9 \"quotes\" and \\ back\nslash / \xe2\x82\xac" },
	{ "user", "When is the dentist appointment?" },
};

static struct rtr_request ask(bool stream)
{
	struct rtr_request r = rtr_request_default();
	r.messages = two_msgs;
	r.n_messages = 2;
	r.stream = stream;
	r.temperature = 0.2;
	r.max_tokens = 64;
	r.reason = "test: local model unsure";
	return r;
}

struct collect {
	struct mx_buf text;
	int calls;
	int stop_after;
};

static int on_delta(void *ctx, const char *s, size_t n)
{
	struct collect *c = ctx;
	mx_buf_append(&c->text, s, n);
	c->calls++;
	return c->stop_after && c->calls >= c->stop_after;
}

/* ---- tests ----------------------------------------------------------- */

static void loopback_hosts(void)
{
	CHECK(rtr_host_is_loopback("127.0.0.1"));
	CHECK(rtr_host_is_loopback("127.255.3.4"));
	CHECK(rtr_host_is_loopback("localhost"));
	CHECK(rtr_host_is_loopback("[::1]"));
	CHECK(rtr_host_is_loopback("::1"));
	CHECK(!rtr_host_is_loopback("128.0.0.1"));
	CHECK(!rtr_host_is_loopback("127.0.0.1.evil.example"));
	CHECK(!rtr_host_is_loopback("127.0.0.256"));
	CHECK(!rtr_host_is_loopback("127.0.0"));
	CHECK(!rtr_host_is_loopback("localhost.example"));
	CHECK(!rtr_host_is_loopback("10.0.0.1"));
	CHECK(!rtr_host_is_loopback(""));
	CHECK(!rtr_host_is_loopback(NULL));
}

static void open_refuses_plain_http_and_bad_urls(void)
{
	char err[256] = "";
	struct rtr_audit *a = NULL;
	struct rtr_cloud *c = NULL;
	const char *ap = tpath("audit.jsonl");
	CHECK_EQ_INT(rtr_audit_open(ap, &a, err, sizeof err), 0);
	struct rtr_cloud_params p = fast_params();
	p.url = "http://192.0.2.1/v1";
	CHECK_EQ_INT(rtr_cloud_open(&p, a, &c, err, sizeof err), MX_EPERM);
	CHECK(strstr(err, "https") != NULL);
	CHECK(c == NULL);
	p.url = "http://api.example.com/v1";
	CHECK_EQ_INT(rtr_cloud_open(&p, a, &c, err, sizeof err), MX_EPERM);
	p.url = "ftp://127.0.0.1/v1";
	CHECK_EQ_INT(rtr_cloud_open(&p, a, &c, err, sizeof err), MX_EPERM);
	p.url = "not a url at all";
	CHECK(rtr_cloud_open(&p, a, &c, err, sizeof err) != 0);
	p.url = "https://api.example.com/v1";
	p.model = NULL;
	CHECK_EQ_INT(rtr_cloud_open(&p, a, &c, err, sizeof err), MX_EINVAL);
	p.model = "m";
	CHECK_EQ_INT(rtr_cloud_open(&p, NULL, &c, err, sizeof err), MX_EINVAL); /* no audit */
	/* https anywhere opens (nothing is sent at open) */
	CHECK_EQ_INT(rtr_cloud_open(&p, a, &c, err, sizeof err), 0);
	CHECK_STR(rtr_cloud_endpoint(c), "https://api.example.com/v1/chat/completions");
	rtr_cloud_close(c);
	p.url = "https://api.example.com/v1/chat/completions";
	CHECK_EQ_INT(rtr_cloud_open(&p, a, &c, err, sizeof err), 0);
	CHECK_STR(rtr_cloud_endpoint(c), "https://api.example.com/v1/chat/completions");
	rtr_cloud_close(c);
	p.url = "http://localhost:1/";
	CHECK_EQ_INT(rtr_cloud_open(&p, a, &c, err, sizeof err), 0);
	CHECK_STR(rtr_cloud_endpoint(c), "http://localhost:1/chat/completions");
	rtr_cloud_close(c);
	rtr_audit_close(a);
	struct stat sb;
	CHECK(stat(ap, &sb) == 0 && sb.st_size == 0); /* nothing was recorded */
}

static void json_reply_and_audit(void)
{
	struct rig g;
	struct fake_opts o = { .mode = FAKE_JSON, .reply = "Tuesday at 09:40." };
	struct rtr_cloud_params p = fast_params();
	rig_up(&g, &o, &p);
	struct rtr_request r = ask(false);
	struct collect col = { 0 };
	mx_buf_init(&col.text, 1 << 20);
	r.on_delta = on_delta;
	r.ctx = &col;
	char *reply = NULL;
	CHECK_EQ_INT(rtr_cloud_chat(g.cloud, &r, &reply), 0);
	CHECK_STR(reply, "Tuesday at 09:40.");
	CHECK_EQ_INT(col.calls, 1);
	CHECK_STR(col.text.data, "Tuesday at 09:40.");
	CHECK_EQ_INT(rtr_cloud_http_status(g.cloud), 200);
	CHECK_EQ_INT(rtr_cloud_attempts(g.cloud), 1);
	free(reply);
	mx_buf_free(&col.text);
	rig_down(&g);
	check_audit_equals_received(g.audit_path, g.record_path, 1);
	/* the body is the request memex meant to send */
	size_t n;
	char *body = slurp(g.record_path, &n);
	struct json_object *o2 = body ? json_tokener_parse(body) : NULL, *v;
	CHECK(o2 != NULL);
	if (o2) {
		CHECK(json_object_object_get_ex(o2, "model", &v));
		CHECK_STR(json_object_get_string(v), "fake-model");
		CHECK(json_object_object_get_ex(o2, "stream", &v) && !json_object_get_boolean(v));
		CHECK(json_object_object_get_ex(o2, "max_tokens", &v) &&
		      json_object_get_int(v) == 64);
		CHECK(json_object_object_get_ex(o2, "temperature", &v));
		CHECK(json_object_object_get_ex(o2, "messages", &v) &&
		      json_object_array_length(v) == 2);
		struct json_object *m0 = json_object_array_get_idx(v, 0), *ct;
		CHECK(json_object_object_get_ex(m0, "content", &ct));
		CHECK_STR(json_object_get_string(ct), two_msgs[0].content);
	}
	json_object_put(o2);
	free(body);
	/* the record's other fields */
	char *log = slurp(g.audit_path, &n);
	CHECK(log && strstr(log, "\"reason\":\"test: local model unsure\""));
	CHECK(log && strstr(log, "\"model\":\"fake-model\""));
	CHECK(log && strstr(log, "/v1/chat/completions\""));
	CHECK(log && !strstr(log, "sk-test-not-a-secret")); /* the key is never logged */
	free(log);
}

static void sse_stream(void)
{
	struct rig g;
	const char *text = "The check-up with Dr Ahlgren is on Tuesday at 09:40, \"room 3\".";
	struct fake_opts o = { .mode = FAKE_SSE, .reply = text };
	struct rtr_cloud_params p = fast_params();
	rig_up(&g, &o, &p);
	struct rtr_request r = ask(true);
	struct collect col = { 0 };
	mx_buf_init(&col.text, 1 << 20);
	r.on_delta = on_delta;
	r.ctx = &col;
	char *reply = NULL;
	CHECK_EQ_INT(rtr_cloud_chat(g.cloud, &r, &reply), 0);
	CHECK_STR(reply, text);
	CHECK_STR(col.text.data, text);
	CHECK_EQ_INT(col.calls, 12); /* one per word */
	free(reply);
	/* the caller may stop the stream */
	mx_buf_reset(&col.text);
	col.calls = 0;
	col.stop_after = 2;
	CHECK_EQ_INT(rtr_cloud_chat(g.cloud, &r, &reply), MX_EINTR);
	CHECK(reply == NULL);
	CHECK_EQ_INT(col.calls, 2);
	mx_buf_free(&col.text);
	rig_down(&g);
	check_audit_equals_received(g.audit_path, g.record_path, 2);
}

static void hang_times_out(void)
{
	struct rig g;
	struct fake_opts o = { .mode = FAKE_HANG };
	struct rtr_cloud_params p = fast_params();
	p.timeout_ms = 800;
	rig_up(&g, &o, &p);
	struct rtr_request r = ask(true);
	double t0 = now_s();
	CHECK_EQ_INT(rtr_cloud_chat(g.cloud, &r, NULL), MX_EIO);
	double dt = now_s() - t0;
	CHECK(dt >= 0.7 && dt < 3.0);
	CHECK(strstr(rtr_cloud_errmsg(g.cloud), "no answer from 127.0.0.1 within 0.8 s") != NULL);
	CHECK_EQ_INT(rtr_cloud_attempts(g.cloud), 1); /* a timeout is not retried */
	rig_down(&g);
	check_audit_equals_received(g.audit_path, g.record_path, 1);
}

static void server_errors_retry_then_fail(void)
{
	struct rig g;
	struct fake_opts o = { .mode = FAKE_500 };
	struct rtr_cloud_params p = fast_params();
	p.retries = 2;
	p.backoff_ms = 50;
	rig_up(&g, &o, &p);
	struct rtr_request r = ask(false);
	double t0 = now_s();
	CHECK_EQ_INT(rtr_cloud_chat(g.cloud, &r, NULL), MX_EIO);
	double dt = now_s() - t0;
	CHECK(dt >= 0.15); /* 50 + 100 ms of backoff */
	CHECK_EQ_INT(rtr_cloud_attempts(g.cloud), 3);
	CHECK_EQ_INT(fake_server_requests(g.srv), 3);
	CHECK_EQ_INT(rtr_cloud_http_status(g.cloud), 500);
	CHECK_STR(rtr_cloud_errmsg(g.cloud), "HTTP 500 from 127.0.0.1: internal trouble");
	rig_down(&g);
	/* every attempt is recorded, and each is what the server got */
	check_audit_equals_received(g.audit_path, g.record_path, 3);
}

static void retry_then_success(void)
{
	struct rig g;
	struct fake_opts o = { .mode = FAKE_SSE, .fail_first = 1, .reply = "fine now" };
	struct rtr_cloud_params p = fast_params();
	rig_up(&g, &o, &p);
	struct rtr_request r = ask(true);
	char *reply = NULL;
	CHECK_EQ_INT(rtr_cloud_chat(g.cloud, &r, &reply), 0);
	CHECK_STR(reply, "fine now");
	CHECK_EQ_INT(rtr_cloud_attempts(g.cloud), 2);
	free(reply);
	rig_down(&g);
	check_audit_equals_received(g.audit_path, g.record_path, 2);
}

static void client_errors_not_retried(void)
{
	struct rig g;
	struct fake_opts o = { .mode = FAKE_401 };
	struct rtr_cloud_params p = fast_params();
	rig_up(&g, &o, &p);
	struct rtr_request r = ask(false);
	CHECK_EQ_INT(rtr_cloud_chat(g.cloud, &r, NULL), MX_EPERM);
	CHECK_EQ_INT(rtr_cloud_attempts(g.cloud), 1);
	CHECK_EQ_INT(fake_server_requests(g.srv), 1);
	CHECK_STR(rtr_cloud_errmsg(g.cloud), "HTTP 401 from 127.0.0.1: Invalid API key");
	rig_down(&g);
	/* 429 is retried */
	o = (struct fake_opts){ .mode = FAKE_429 };
	p = fast_params();
	p.retries = 1;
	rig_up(&g, &o, &p);
	double t0 = now_s();
	CHECK_EQ_INT(rtr_cloud_chat(g.cloud, &r, NULL), MX_EIO);
	CHECK(now_s() - t0 >= 0.95); /* the server's Retry-After: 1, not 10 ms */
	CHECK_EQ_INT(rtr_cloud_attempts(g.cloud), 2);
	CHECK(strstr(rtr_cloud_errmsg(g.cloud), "HTTP 429") != NULL);
	rig_down(&g);
}

static void malformed_json(void)
{
	struct rig g;
	struct fake_opts o = { .mode = FAKE_MALFORMED };
	struct rtr_cloud_params p = fast_params();
	rig_up(&g, &o, &p);
	struct rtr_request r = ask(false);
	char *reply = NULL;
	CHECK_EQ_INT(rtr_cloud_chat(g.cloud, &r, &reply), MX_ECORRUPT);
	CHECK(reply == NULL);
	CHECK_STR(rtr_cloud_errmsg(g.cloud), "malformed JSON in the reply from 127.0.0.1");
	CHECK_EQ_INT(rtr_cloud_attempts(g.cloud), 1);
	rig_down(&g);
}

static void endless_body(void)
{
	struct rig g;
	struct fake_opts o = { .mode = FAKE_ENDLESS };
	struct rtr_cloud_params p = fast_params();
	p.max_response = 256 << 10;
	rig_up(&g, &o, &p);
	struct rtr_request r = ask(false);
	double t0 = now_s();
	CHECK_EQ_INT(rtr_cloud_chat(g.cloud, &r, NULL), MX_ETOOBIG);
	CHECK(now_s() - t0 < 3.0);
	CHECK(strstr(rtr_cloud_errmsg(g.cloud), "over 262144 bytes") != NULL);
	/* and as a stream (an SSE line that never ends) */
	r.stream = true;
	CHECK_EQ_INT(rtr_cloud_chat(g.cloud, &r, NULL), MX_ETOOBIG);
	rig_down(&g);
}

static void slow_server(void)
{
	struct rig g;
	struct fake_opts o = { .mode = FAKE_SLOW, .reply = "ok", .delay_ms = 2 };
	struct rtr_cloud_params p = fast_params();
	rig_up(&g, &o, &p);
	struct rtr_request r = ask(false);
	char *reply = NULL;
	CHECK_EQ_INT(rtr_cloud_chat(g.cloud, &r, &reply), 0); /* slow but in time */
	CHECK_STR(reply, "ok");
	free(reply);
	rig_down(&g);
	o = (struct fake_opts){ .mode = FAKE_SLOW, .reply = "ok", .delay_ms = 100 };
	p = fast_params();
	p.timeout_ms = 500;
	rig_up(&g, &o, &p);
	double t0 = now_s();
	CHECK_EQ_INT(rtr_cloud_chat(g.cloud, &r, NULL), MX_EIO);
	CHECK(now_s() - t0 < 2.5);
	CHECK(strstr(rtr_cloud_errmsg(g.cloud), "took longer than 0.5 s") != NULL);
	rig_down(&g);
}

/* A loopback port nobody listens on. */
static int closed_port(void)
{
	int fd = socket(AF_INET, SOCK_STREAM, 0);
	struct sockaddr_in a = { .sin_family = AF_INET };
	socklen_t al = sizeof a;
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	int port = 0;
	if (fd >= 0 && bind(fd, (struct sockaddr *)&a, sizeof a) == 0 &&
	    getsockname(fd, (struct sockaddr *)&a, &al) == 0)
		port = ntohs(a.sin_port);
	if (fd >= 0)
		close(fd);
	return port;
}

static void connect_refused_retries(void)
{
	char err[256], url[64];
	struct rtr_audit *a = NULL;
	struct rtr_cloud *c = NULL;
	const char *ap = tpath("audit.jsonl");
	CHECK_EQ_INT(rtr_audit_open(ap, &a, err, sizeof err), 0);
	struct rtr_cloud_params p = fast_params();
	snprintf(url, sizeof url, "http://127.0.0.1:%d", closed_port());
	p.url = url;
	p.retries = 2;
	CHECK_EQ_INT(rtr_cloud_open(&p, a, &c, err, sizeof err), 0);
	struct rtr_request r = ask(false);
	CHECK_EQ_INT(rtr_cloud_chat(c, &r, NULL), MX_EIO);
	CHECK_EQ_INT(rtr_cloud_attempts(c), 3);
	CHECK(strstr(rtr_cloud_errmsg(c), "cannot connect to 127.0.0.1") != NULL);
	rtr_cloud_close(c);
	rtr_audit_close(a);
}

static void bad_text_is_not_sent(void)
{
	struct rig g;
	struct fake_opts o = { .mode = FAKE_JSON };
	struct rtr_cloud_params p = fast_params();
	rig_up(&g, &o, &p);
	struct rtr_message m[] = { { "user", "Latin-1 K\xe4ra" } };
	struct rtr_request r = rtr_request_default();
	r.messages = m;
	r.n_messages = 1;
	CHECK_EQ_INT(rtr_cloud_chat(g.cloud, &r, NULL), MX_EENCODING);
	r.n_messages = 0;
	CHECK_EQ_INT(rtr_cloud_chat(g.cloud, &r, NULL), MX_EINVAL);
	CHECK_EQ_INT(fake_server_requests(g.srv), 0);
	rig_down(&g);
	struct stat sb;
	CHECK(stat(g.audit_path, &sb) == 0 && sb.st_size == 0);
}

/* When the audit record cannot be written, nothing is sent. */
static void no_audit_no_request(void)
{
	struct rig g;
	struct fake_opts o = { .mode = FAKE_JSON };
	struct rtr_cloud_params p = fast_params();
	rig_up(&g, &o, &p);
	struct rtr_request r = ask(false);
	CHECK_EQ_INT(rtr_cloud_chat(g.cloud, &r, NULL), 0);
	/* the file may not grow any more: the next record fails (EFBIG) */
	struct stat sb;
	CHECK(stat(g.audit_path, &sb) == 0);
	struct rlimit old, lim;
	getrlimit(RLIMIT_FSIZE, &old);
	lim = old;
	lim.rlim_cur = (rlim_t)sb.st_size;
	signal(SIGXFSZ, SIG_IGN);
	CHECK_EQ_INT(setrlimit(RLIMIT_FSIZE, &lim), 0);
	CHECK_EQ_INT(rtr_cloud_chat(g.cloud, &r, NULL), MX_EIO);
	setrlimit(RLIMIT_FSIZE, &old);
	CHECK(strstr(rtr_cloud_errmsg(g.cloud), "nothing was sent") != NULL);
	CHECK_EQ_INT(fake_server_requests(g.srv), 1);
	rig_down(&g);
	check_audit_equals_received(g.audit_path, g.record_path, 1);
}

static void audit_file_is_private(void)
{
	char err[256];
	struct rtr_audit *a = NULL;
	char dir[4200];
	snprintf(dir, sizeof dir, "%s", tpath("newhome"));
	char path[4300];
	snprintf(path, sizeof path, "%s/sub/audit.jsonl", dir);
	CHECK_EQ_INT(rtr_audit_open(path, &a, err, sizeof err), 0);
	struct stat sb;
	CHECK(stat(path, &sb) == 0 && (sb.st_mode & 0777) == 0600);
	snprintf(path, sizeof path, "%s/sub", dir);
	CHECK(stat(path, &sb) == 0 && (sb.st_mode & 0777) == 0700);
	/* two records, appended, one per line */
	struct rtr_audit_record rec = { .endpoint = "https://e/x",
					.model = "m",
					.attempt = 1,
					.body = "{\"a\":1}",
					.body_len = 7 };
	CHECK_EQ_INT(rtr_audit_write(a, &rec), 0);
	rec.body = "{\"b\":\"\xc3\xa9\\n\"}";
	rec.body_len = strlen(rec.body);
	CHECK_EQ_INT(rtr_audit_write(a, &rec), 0);
	/* a body that is not UTF-8 is refused rather than logged lossily */
	rec.body = "\xff\xfe";
	rec.body_len = 2;
	CHECK_EQ_INT(rtr_audit_write(a, &rec), MX_EENCODING);
	rec.body = "a\0b";
	rec.body_len = 3;
	CHECK_EQ_INT(rtr_audit_write(a, &rec), MX_EENCODING);
	rtr_audit_close(a);
	snprintf(path, sizeof path, "%s/sub/audit.jsonl", dir);
	size_t n = 0;
	int nrec = 0;
	char *bodies = audit_bodies(path, &n, &nrec);
	CHECK_EQ_INT(nrec, 2);
	CHECK_STR(bodies, "{\"a\":1}{\"b\":\"\xc3\xa9\\n\"}");
	free(bodies);
	/* a log left readable by others is tightened */
	chmod(path, 0644);
	CHECK_EQ_INT(rtr_audit_open(path, &a, err, sizeof err), 0);
	rtr_audit_close(a);
	CHECK(stat(path, &sb) == 0 && (sb.st_mode & 0777) == 0600);
	/* a half-written last line does not swallow the next record */
	int fd = open(path, O_WRONLY | O_APPEND);
	CHECK(fd >= 0 && write(fd, "{\"torn", 6) == 6);
	close(fd);
	CHECK_EQ_INT(rtr_audit_open(path, &a, err, sizeof err), 0);
	rec.body = "{}";
	rec.body_len = 2;
	CHECK_EQ_INT(rtr_audit_write(a, &rec), 0);
	rtr_audit_close(a);
	char *d = slurp(path, &n);
	CHECK(d && n > 3 && strstr(d, "{\"torn\n{\"time\"") != NULL && d[n - 1] == '\n');
	free(d);
	/* a symlink in its place is refused */
	char link[4300];
	snprintf(link, sizeof link, "%s/link.jsonl", dir);
	CHECK_EQ_INT(symlink(path, link), 0);
	CHECK_EQ_INT(rtr_audit_open(link, &a, err, sizeof err), MX_ENOTREG);
}

static void key_files(void)
{
	char err[256], *key = NULL;
	const char *dir = tpath("keys");
	char p[4300];
	CHECK_EQ_INT(mx_mkdir_p(dir), 0);
	test_write_str(dir, "k644", "sk-abc\n");
	snprintf(p, sizeof p, "%s/k644", dir);
	chmod(p, 0644);
	CHECK_EQ_INT(rtr_cloud_key_read(p, &key, err, sizeof err), MX_EPERM);
	CHECK(key == NULL);
	CHECK(strstr(err, "chmod 600") != NULL);
	chmod(p, 0640);
	CHECK_EQ_INT(rtr_cloud_key_read(p, &key, err, sizeof err), MX_EPERM);
	chmod(p, 0600);
	CHECK_EQ_INT(rtr_cloud_key_read(p, &key, err, sizeof err), 0);
	CHECK_STR(key, "sk-abc");
	free(key);
	chmod(p, 0400);
	CHECK_EQ_INT(rtr_cloud_key_read(p, &key, err, sizeof err), 0);
	free(key);
	test_write_str(dir, "empty", "  \n");
	snprintf(p, sizeof p, "%s/empty", dir);
	chmod(p, 0600);
	CHECK_EQ_INT(rtr_cloud_key_read(p, &key, err, sizeof err), MX_EINVAL);
	test_write_str(dir, "two", "sk-a\nsk-b\n");
	snprintf(p, sizeof p, "%s/two", dir);
	chmod(p, 0600);
	CHECK_EQ_INT(rtr_cloud_key_read(p, &key, err, sizeof err), MX_EINVAL);
	snprintf(p, sizeof p, "%s/missing", dir);
	CHECK_EQ_INT(rtr_cloud_key_read(p, &key, err, sizeof err), MX_ENOTFOUND);
	CHECK_EQ_INT(rtr_cloud_key_read(dir, &key, err, sizeof err), MX_ENOTREG);
}

/* TLS verification against a self-signed certificate on the loopback
 * (openssl s_server): the client must refuse it, and say so. */
static void tls_self_signed_refused(void)
{
	if (system("command -v openssl >/dev/null 2>&1") != 0) {
		printf("  (skipped: no openssl command for a TLS server)\n");
		return;
	}
	const char *dir = tpath("tls");
	char cmd[9000], cert[4300], key[4300];
	CHECK_EQ_INT(mx_mkdir_p(dir), 0);
	snprintf(cert, sizeof cert, "%s/cert.pem", dir);
	snprintf(key, sizeof key, "%s/key.pem", dir);
	snprintf(cmd, sizeof cmd,
		 "openssl req -x509 -newkey rsa:2048 -nodes -days 1 -subj /CN=127.0.0.1 "
		 "-addext subjectAltName=IP:127.0.0.1 -keyout '%s' -out '%s' >/dev/null 2>&1",
		 key, cert);
	if (system(cmd) != 0) {
		printf("  (skipped: openssl could not make a certificate)\n");
		return;
	}
	int port = closed_port();
	char portarg[32];
	snprintf(portarg, sizeof portarg, "127.0.0.1:%d", port);
	pid_t pid = fork();
	if (pid == 0) {
		int null = open("/dev/null", O_RDWR);
		dup2(null, 0);
		dup2(null, 1);
		dup2(null, 2);
		execlp("openssl", "openssl", "s_server", "-quiet", "-accept", portarg, "-cert",
		       cert, "-key", key, "-www", (char *)NULL);
		_exit(127);
	}
	CHECK(pid > 0);
	/* wait (at most 5 s) until it listens */
	bool up = false;
	for (int i = 0; i < 100 && !up; i++) {
		int fd = socket(AF_INET, SOCK_STREAM, 0);
		struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons((uint16_t)port) };
		a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
		up = connect(fd, (struct sockaddr *)&a, sizeof a) == 0;
		close(fd);
		if (!up)
			usleep(50000);
	}
	CHECK(up);
	char err[256], url[64];
	struct rtr_audit *a = NULL;
	struct rtr_cloud *c = NULL;
	CHECK_EQ_INT(rtr_audit_open(tpath("audit.jsonl"), &a, err, sizeof err), 0);
	struct rtr_cloud_params p = fast_params();
	snprintf(url, sizeof url, "https://127.0.0.1:%d/v1", port);
	p.url = url;
	CHECK_EQ_INT(rtr_cloud_open(&p, a, &c, err, sizeof err), 0);
	struct rtr_request r = ask(false);
	char *reply = NULL;
	CHECK_EQ_INT(rtr_cloud_chat(c, &r, &reply), MX_EIO);
	CHECK(reply == NULL);
	CHECK(strstr(rtr_cloud_errmsg(c), "TLS with 127.0.0.1 failed") != NULL);
	CHECK_EQ_INT(rtr_cloud_attempts(c), 1);
	if (!strstr(rtr_cloud_errmsg(c), "TLS"))
		printf("  message: %s\n", rtr_cloud_errmsg(c));
	rtr_cloud_close(c);
	rtr_audit_close(a);
	kill(pid, SIGTERM);
	waitpid(pid, NULL, 0);
}

/* ---- downloads (router/fetch.h) -------------------------------------- */

/* A payload file of n pseudo-random bytes; its sha256 in hex. */
static const char *make_payload(size_t n, char hex[MX_SHA256_HEX_LEN + 1])
{
	char *p = malloc(n);
	uint32_t x = 2463534242u;
	for (size_t i = 0; i < n; i++) {
		x ^= x << 13;
		x ^= x >> 17;
		x ^= x << 5;
		p[i] = (char)(x >> 24);
	}
	const char *dir = tpath("payload");
	CHECK_EQ_INT(mx_mkdir_p(dir), 0);
	test_write(dir, "model.gguf", p, n);
	mx_sha256_hex(p, n, hex);
	free(p);
	static char path[4300];
	snprintf(path, sizeof path, "%s/model.gguf", dir);
	return path;
}

struct dl_rig {
	struct fake_server *srv;
	char url[128], log[4200], dest[4200], part[4300];
};

static void dl_up(struct dl_rig *g, struct fake_opts *o)
{
	memset(g, 0, sizeof *g);
	snprintf(g->log, sizeof g->log, "%s", tpath("requests.log"));
	o->log_path = g->log;
	o->max_seconds = 60;
	CHECK_EQ_INT(fake_server_start(o, &g->srv), 0);
	snprintf(g->url, sizeof g->url, "http://127.0.0.1:%d/models/m.gguf",
		 fake_server_port(g->srv));
	const char *dir = tpath("models");
	CHECK_EQ_INT(mx_mkdir_p(dir), 0);
	snprintf(g->dest, sizeof g->dest, "%s/m.gguf", dir);
	snprintf(g->part, sizeof g->part, "%s.part", g->dest);
}

static off_t fsize(const char *path)
{
	struct stat sb;
	return stat(path, &sb) == 0 ? sb.st_size : -1;
}

static void fetch_resumes_after_a_drop(void)
{
	char hex[MX_SHA256_HEX_LEN + 1], err[512];
	const size_t n = 3 << 20;
	struct fake_opts o = { .file_path = make_payload(n, hex), .drop_first = true };
	struct dl_rig g;
	dl_up(&g, &o);
	struct rtr_fetch_params p = rtr_fetch_params_default();
	p.sha256 = hex;
	struct rtr_fetch_result res;
	/* the server drops the connection halfway: the part stays, no model */
	CHECK_EQ_INT(rtr_fetch_file(g.url, g.dest, &p, &res, err, sizeof err), MX_EIO);
	CHECK(strstr(err, "run again to resume") != NULL);
	CHECK_EQ_INT(fsize(g.dest), -1);
	off_t half = fsize(g.part);
	CHECK(half > 0 && half < (off_t)n);
	/* the second run asks for the rest and completes */
	CHECK_EQ_INT(rtr_fetch_file(g.url, g.dest, &p, &res, err, sizeof err), 0);
	CHECK_EQ_INT(res.resumed_from, half);
	CHECK_EQ_INT(res.http_status, 206);
	CHECK_EQ_INT(res.bytes, n);
	CHECK_STR(res.sha256, hex);
	CHECK_EQ_INT(fsize(g.dest), (off_t)n);
	CHECK_EQ_INT(fsize(g.part), -1);
	struct stat sb;
	CHECK(stat(g.dest, &sb) == 0 && (sb.st_mode & 0777) == 0600);
	char got[MX_SHA256_HEX_LEN + 1];
	CHECK_EQ_INT(rtr_sha256_file(g.dest, got), 0);
	CHECK_STR(got, hex);
	fake_server_stop(g.srv);
	char *log = slurp(g.log, NULL), want[128];
	snprintf(want, sizeof want, "GET /models/m.gguf 0 range=bytes=%lld-", (long long)half);
	CHECK(log && strstr(log, "GET /models/m.gguf 0\n") == log);
	CHECK(log && strstr(log, want) != NULL);
	free(log);
	/* a second pull of an existing model is refused, untouched */
	CHECK_EQ_INT(rtr_fetch_file(g.url, g.dest, &p, &res, err, sizeof err), MX_EEXISTS);
}

static void fetch_wrong_hash_is_never_used(void)
{
	char hex[MX_SHA256_HEX_LEN + 1], err[512];
	struct fake_opts o = { .file_path = make_payload(100000, hex) };
	struct dl_rig g;
	dl_up(&g, &o);
	struct rtr_fetch_params p = rtr_fetch_params_default();
	p.sha256 = "0000000000000000000000000000000000000000000000000000000000000000";
	CHECK_EQ_INT(rtr_fetch_file(g.url, g.dest, &p, NULL, err, sizeof err), MX_ECORRUPT);
	CHECK(strstr(err, "SHA-256 mismatch") != NULL);
	CHECK(strstr(err, hex) != NULL);
	CHECK_EQ_INT(fsize(g.dest), -1); /* no model */
	CHECK_EQ_INT(fsize(g.part), -1); /* and nothing to resume from */
	/* upper-case hex is the same hash */
	char upper[MX_SHA256_HEX_LEN + 1];
	for (int i = 0; i <= MX_SHA256_HEX_LEN; i++)
		upper[i] = (char)toupper((unsigned char)hex[i]);
	p.sha256 = upper;
	CHECK_EQ_INT(rtr_fetch_file(g.url, g.dest, &p, NULL, err, sizeof err), 0);
	CHECK_EQ_INT(fsize(g.dest), 100000);
	/* unverified, when the caller says so */
	unlink(g.dest);
	p.sha256 = NULL;
	struct rtr_fetch_result res;
	CHECK_EQ_INT(rtr_fetch_file(g.url, g.dest, &p, &res, err, sizeof err), 0);
	CHECK_STR(res.sha256, hex);
	p.sha256 = "xyz";
	CHECK_EQ_INT(rtr_fetch_file(g.url, g.dest, &p, NULL, err, sizeof err), MX_EINVAL);
	fake_server_stop(g.srv);
}

static void fetch_server_without_ranges(void)
{
	char hex[MX_SHA256_HEX_LEN + 1], err[512];
	const size_t n = 1 << 20;
	struct fake_opts o = { .file_path = make_payload(n, hex),
			       .drop_first = true,
			       .no_range = true };
	struct dl_rig g;
	dl_up(&g, &o);
	struct rtr_fetch_params p = rtr_fetch_params_default();
	p.sha256 = hex;
	struct rtr_fetch_result res;
	CHECK_EQ_INT(rtr_fetch_file(g.url, g.dest, &p, &res, err, sizeof err), MX_EIO);
	CHECK(fsize(g.part) > 0);
	/* the server answers the range request with 200 and everything: the
	 * part is started over, not appended to */
	CHECK_EQ_INT(rtr_fetch_file(g.url, g.dest, &p, &res, err, sizeof err), 0);
	CHECK_EQ_INT(res.http_status, 200);
	CHECK_EQ_INT(fsize(g.dest), (off_t)n);
	fake_server_stop(g.srv);
}

static void fetch_errors(void)
{
	char hex[MX_SHA256_HEX_LEN + 1], err[512];
	struct fake_opts o = { .file_path = NULL };
	struct dl_rig g;
	dl_up(&g, &o);
	struct rtr_fetch_params p = rtr_fetch_params_default();
	p.sha256 = "0000000000000000000000000000000000000000000000000000000000000000";
	CHECK_EQ_INT(rtr_fetch_file(g.url, g.dest, &p, NULL, err, sizeof err), MX_ENOTFOUND);
	CHECK(strstr(err, "HTTP 404") != NULL);
	CHECK_EQ_INT(fsize(g.part), -1); /* an empty part is not left behind */
	fake_server_stop(g.srv);
	CHECK_EQ_INT(rtr_fetch_file("http://192.0.2.1/m.gguf", g.dest, &p, NULL, err, sizeof err),
		     MX_EPERM);
	CHECK_EQ_INT(rtr_fetch_file("ftp://127.0.0.1/m.gguf", g.dest, &p, NULL, err, sizeof err),
		     MX_EPERM);
	/* a file over the cap */
	struct fake_opts o2 = { .file_path = make_payload(200000, hex) };
	dl_up(&g, &o2);
	p.sha256 = hex;
	p.max_bytes = 100000;
	CHECK_EQ_INT(rtr_fetch_file(g.url, g.dest, &p, NULL, err, sizeof err), MX_ETOOBIG);
	CHECK_EQ_INT(fsize(g.dest), -1);
	fake_server_stop(g.srv);
}

/* ---- reading replies without a server -------------------------------- */

static void reply_parsing(void)
{
	char *a = NULL, err[512];
	const char *s1 = ": hi\r\n\r\nevent: message\r\ndata:{\"choices\":[{\"delta\":{\"role\":"
			 "\"assistant\"}}]}\r\n\r\ndata: {\"choices\":[{\"delta\":{\"content\":"
			 "\"\\u00e9t\xc3\xa9 \"}}]}\r\n\r\ndata: {\"choices\":[{\"delta\":"
			 "{\"content\":\"ok\"}}]}\n\ndata: [DONE]\n\n";
	CHECK_EQ_INT(rtr_cloud_parse_reply(s1, strlen(s1), true, 1 << 20, &a, err, sizeof err), 0);
	CHECK_STR(a, "\xc3\xa9t\xc3\xa9 ok");
	free(a);
	/* no [DONE]: the answer may be cut short */
	const char *s2 = "data: {\"choices\":[{\"delta\":{\"content\":\"cut\"}}]}\n\n";
	CHECK_EQ_INT(rtr_cloud_parse_reply(s2, strlen(s2), true, 1 << 20, &a, err, sizeof err),
		     MX_EIO);
	CHECK(a == NULL);
	CHECK(strstr(err, "ended before [DONE]") != NULL);
	/* an error event */
	const char *s3 = "data: {\"error\":{\"message\":\"overloaded\\nnow\"}}\n\n";
	CHECK_EQ_INT(rtr_cloud_parse_reply(s3, strlen(s3), true, 1 << 20, &a, err, sizeof err),
		     MX_EIO);
	CHECK(strstr(err, "overloaded now") != NULL);
	/* a bad event */
	const char *s4 = "data: {\"choices\":[{\"delta\":{\"content\":42}}]}\n\ndata: [DONE]\n\n";
	CHECK_EQ_INT(rtr_cloud_parse_reply(s4, strlen(s4), true, 1 << 20, &a, err, sizeof err),
		     MX_ECORRUPT);
	const char *s5 = "data: {not json\n\n";
	CHECK_EQ_INT(rtr_cloud_parse_reply(s5, strlen(s5), true, 1 << 20, &a, err, sizeof err),
		     MX_ECORRUPT);
	/* JSON: trailing garbage, no content, an error object, the cap */
	const char *j1 = "{\"choices\":[{\"message\":{\"content\":\"fine\"}}]}\n";
	CHECK_EQ_INT(rtr_cloud_parse_reply(j1, strlen(j1), false, 1 << 20, &a, err, sizeof err), 0);
	CHECK_STR(a, "fine");
	free(a);
	const char *j2 = "{\"choices\":[{\"message\":{\"content\":\"x\"}}]} trailing";
	CHECK_EQ_INT(rtr_cloud_parse_reply(j2, strlen(j2), false, 1 << 20, &a, err, sizeof err),
		     MX_ECORRUPT);
	const char *j3 = "{\"choices\":[]}";
	CHECK_EQ_INT(rtr_cloud_parse_reply(j3, strlen(j3), false, 1 << 20, &a, err, sizeof err),
		     MX_ECORRUPT);
	CHECK(strstr(err, "no choices[0].message.content") != NULL);
	const char *j4 = "{\"error\":{\"message\":\"quota\"}}";
	CHECK_EQ_INT(rtr_cloud_parse_reply(j4, strlen(j4), false, 1 << 20, &a, err, sizeof err),
		     MX_ECORRUPT);
	CHECK(strstr(err, "quota") != NULL);
	char big[3000];
	memset(big, ' ', sizeof big);
	memcpy(big, j1, strlen(j1));
	CHECK_EQ_INT(rtr_cloud_parse_reply(big, sizeof big, false, 2048, &a, err, sizeof err),
		     MX_ETOOBIG);
	CHECK(a == NULL);
}

static const struct test_case tests[] = {
	TEST(loopback_hosts),
	TEST(open_refuses_plain_http_and_bad_urls),
	TEST(json_reply_and_audit),
	TEST(sse_stream),
	TEST(hang_times_out),
	TEST(server_errors_retry_then_fail),
	TEST(retry_then_success),
	TEST(client_errors_not_retried),
	TEST(malformed_json),
	TEST(endless_body),
	TEST(slow_server),
	TEST(connect_refused_retries),
	TEST(bad_text_is_not_sent),
	TEST(no_audit_no_request),
	TEST(audit_file_is_private),
	TEST(key_files),
	TEST(tls_self_signed_refused),
	TEST(fetch_resumes_after_a_drop),
	TEST(fetch_wrong_hash_is_never_used),
	TEST(fetch_server_without_ranges),
	TEST(fetch_errors),
	TEST(reply_parsing),
};

TEST_MAIN(tests)
