/*
 * cloud.c - the OpenAI-compatible Chat Completions client (see cloud.h).
 *
 * One call of rtr_cloud_chat():
 *   1. check and serialise the request (json-c) into one body;
 *   2. for each attempt: write the audit record (synced), then POST the
 *      body; the reply is read by write_cb, which counts every byte
 *      against max_response and either keeps it (JSON, error bodies) or
 *      splits it into SSE lines and hands each delta to the caller;
 *   3. classify the outcome: success, retryable (connect error, 429, 5xx,
 *      nothing delivered yet) or final, and wait backoff_ms * 2^k before
 *      the next attempt.
 */
#include "cloud.h"

#include <ctype.h>
#include <curl/curl.h>
#include <errno.h>
#include <json-c/json.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "../common/buf.h"
#include "../common/fsutil.h"
#include "../common/status.h"
#include "../common/utf8.h"
#include "audit.h"
#include "router_int.h"

#ifndef MEMEX_VERSION
#define MEMEX_VERSION "0"
#endif

#define KEY_MAX		  4096
#define ERRBODY_MAX	  (16 << 10)
#define RETRY_AFTER_MAX_S 30
#define SSE_LINE_MAX	  ((size_t)1 << 20)

struct rtr_cloud {
	char *endpoint; /* full URL */
	char *host;	/* for messages */
	char *model;
	char *auth; /* "Authorization: Bearer KEY" or NULL */
	bool loopback;
	struct rtr_cloud_params p;
	struct rtr_audit *audit;
	long http_status;
	int attempts;
	char err[512];
};

struct rtr_cloud_params rtr_cloud_params_default(void)
{
	struct rtr_cloud_params p = {
		.connect_timeout_ms = 10000,
		.timeout_ms = 120000,
		.retries = 2,
		.backoff_ms = 500,
		.max_response = (size_t)4 << 20,
	};
	return p;
}

struct rtr_request rtr_request_default(void)
{
	struct rtr_request r = { .temperature = -1 };
	return r;
}

#define CERR(c, ...) mx_seterr((c)->err, sizeof(c)->err, __VA_ARGS__)

/* Frees a secret after overwriting it. */
static void free_secret(char *s)
{
	if (!s)
		return;
	explicit_bzero(s, strlen(s));
	free(s);
}

/* ======================================================================
 * URLs and hosts
 * ====================================================================== */

bool rtr_host_is_loopback(const char *host)
{
	if (!host)
		return false;
	size_t n = strlen(host);
	if (n >= 2 && host[0] == '[' && host[n - 1] == ']') {
		host++;
		n -= 2;
	}
	if (n == 3 && !memcmp(host, "::1", 3))
		return true;
	if (n == 9 && !strncasecmp(host, "localhost", 9))
		return true;
	/* dotted quad 127.a.b.c, each part 0..255 in decimal */
	unsigned parts[4];
	int np = 0;
	const char *s = host, *end = host + n;
	while (s < end && np < 4) {
		if (!isdigit((unsigned char)*s))
			return false;
		unsigned v = 0;
		int digits = 0;
		while (s < end && isdigit((unsigned char)*s) && digits < 4) {
			v = v * 10 + (unsigned)(*s++ - '0');
			digits++;
		}
		if (v > 255 || digits > 3)
			return false;
		parts[np++] = v;
		if (s < end) {
			if (*s != '.' || np == 4)
				return false;
			s++;
			if (s == end)
				return false;
		}
	}
	return np == 4 && s == end && parts[0] == 127;
}

/* The endpoint: url as it is when it ends in /chat/completions, else
 * url + "/chat/completions" (one slash). */
static char *endpoint_of(const char *url)
{
	static const char suffix[] = "/chat/completions";
	size_t n = strlen(url), sl = sizeof suffix - 1;
	if (n >= sl && !strcmp(url + n - sl, suffix))
		return strdup(url);
	while (n > 0 && url[n - 1] == '/')
		n--;
	char *e = malloc(n + sl + 1);
	if (!e)
		return NULL;
	memcpy(e, url, n);
	memcpy(e + n, suffix, sl + 1);
	return e;
}

int rtr_cloud_open(const struct rtr_cloud_params *p, struct rtr_audit *audit,
		   struct rtr_cloud **out, char *err, size_t errlen)
{
	int rc = 0;
	char *host = NULL;
	struct rtr_cloud *c = NULL;
	*out = NULL;
	if (!audit) {
		return mx_fail(err, errlen, MX_EINVAL, "the cloud client needs an audit log");
	}
	if (!p->url || !*p->url) {
		return mx_fail(err, errlen, MX_EINVAL,
			       "no cloud URL is configured (cloud_url or MEMEX_CLOUD_URL)");
	}
	if (!p->model || !*p->model) {
		return mx_fail(err, errlen, MX_EINVAL,
			       "no cloud model is configured (cloud_model or MEMEX_CLOUD_MODEL)");
	}
	if (p->timeout_ms <= 0 || p->connect_timeout_ms <= 0 || p->retries < 0 || p->retries > 10 ||
	    p->backoff_ms < 0 || p->max_response < 1024) {
		return mx_fail(err, errlen, MX_EINVAL, "bad cloud client parameters");
	}
	if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
		return mx_fail(err, errlen, MX_EIO, "cannot initialise libcurl");
	}
	bool plain;
	if ((rc = rtr_url_allowed(p->url, &plain, &host, err, errlen)))
		goto out;
	bool loop = rtr_host_is_loopback(host);
	c = calloc(1, sizeof *c);
	if (!c)
		goto nomem;
	c->p = *p;
	c->p.url = c->p.model = c->p.key = NULL; /* not kept: copies below */
	c->audit = audit;
	c->loopback = loop;
	c->host = host;
	host = NULL;
	if (!(c->endpoint = endpoint_of(p->url)) || !(c->model = strdup(p->model)))
		goto nomem;
	if (p->key && *p->key) {
		for (const char *k = p->key; *k; k++)
			if (*k < 0x21 || *k > 0x7e) {
				rc = MX_EINVAL;
				mx_seterr(
					err, errlen,
					"the API key holds a character that is not printable ASCII");
				goto out;
			}
		size_t n = strlen(p->key) + 32;
		if (!(c->auth = malloc(n)))
			goto nomem;
		snprintf(c->auth, n, "Authorization: Bearer %s", p->key);
	}
	*out = c;
	c = NULL;
	goto out;
nomem:
	rc = MX_ENOMEM;
	mx_seterr(err, errlen, "out of memory");
out:
	rtr_cloud_close(c);
	free(host);
	return rc;
}

void rtr_cloud_close(struct rtr_cloud *c)
{
	if (!c)
		return;
	free(c->endpoint);
	free(c->host);
	free(c->model);
	free_secret(c->auth);
	free(c);
}

const char *rtr_cloud_errmsg(const struct rtr_cloud *c)
{
	return c->err;
}

long rtr_cloud_http_status(const struct rtr_cloud *c)
{
	return c->http_status;
}

int rtr_cloud_attempts(const struct rtr_cloud *c)
{
	return c->attempts;
}

const char *rtr_cloud_endpoint(const struct rtr_cloud *c)
{
	return c->endpoint;
}

/* ======================================================================
 * The request body
 * ====================================================================== */

static bool text_ok(const char *s)
{
	return s && mx_utf8_is_valid(s, strlen(s));
}

/* The JSON body (malloc'd) in *body / *len. */
int rtr_cloud_body(const char *model, const struct rtr_request *r, char **body, size_t *len)
{
	int rc = 0;
	struct json_object *o = json_object_new_object(), *msgs = json_object_new_array();
	if (!o || !msgs) {
		json_object_put(o);
		json_object_put(msgs);
		goto nomem;
	}
	if (json_object_object_add(o, "model", json_object_new_string(model)) ||
	    json_object_object_add(o, "messages", msgs)) {
		json_object_put(msgs);
		goto nomem;
	}
	for (size_t i = 0; i < r->n_messages; i++) {
		const struct rtr_message *m = &r->messages[i];
		struct json_object *jm = json_object_new_object();
		if (!jm || json_object_array_add(msgs, jm)) {
			json_object_put(jm);
			goto nomem;
		}
		if (json_object_object_add(jm, "role", json_object_new_string(m->role)) ||
		    json_object_object_add(jm, "content", json_object_new_string(m->content)))
			goto nomem;
	}
	if (r->temperature >= 0 &&
	    json_object_object_add(o, "temperature", json_object_new_double(r->temperature)))
		goto nomem;
	if (r->max_tokens > 0 &&
	    json_object_object_add(o, "max_tokens", json_object_new_int(r->max_tokens)))
		goto nomem;
	if (json_object_object_add(o, "stream", json_object_new_boolean(r->stream)))
		goto nomem;
	size_t n = 0;
	const char *js = json_object_to_json_string_length(
		o, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE, &n);
	if (!js || !(*body = malloc(n + 1)))
		goto nomem;
	memcpy(*body, js, n + 1);
	*len = n;
	goto out;
nomem:
	rc = MX_ENOMEM;
out:
	json_object_put(o);
	return rc;
}

static int build_body(struct rtr_cloud *c, const struct rtr_request *r, char **body, size_t *len)
{
	int rc = rtr_cloud_body(c->model, r, body, len);
	if (rc)
		CERR(c, "out of memory");
	return rc;
}

/* ======================================================================
 * The reply
 * ====================================================================== */

struct xfer {
	struct rtr_cloud *c;
	const struct rtr_request *req;
	CURL *h;
	size_t total; /* body and header bytes received */
	bool too_big, stop, corrupt, done, sse, status_known;
	long status;
	size_t delivered;   /* deltas handed to the caller */
	struct mx_buf raw;  /* a JSON reply, or the body of an HTTP error */
	struct mx_buf line; /* the SSE line being read */
	struct mx_buf answer;
	char server_msg[256]; /* "error.message" from the server */
	long retry_after_ms;  /* a 429/503's Retry-After (seconds), capped */
};

/* Copies a server's message as printable ASCII, on one line. */
static void copy_printable(char *dst, size_t n, const char *s, size_t len)
{
	size_t o = 0;
	for (size_t i = 0; i < len && o + 1 < n; i++) {
		unsigned char ch = (unsigned char)s[i];
		dst[o++] = (ch >= 0x20 && ch < 0x7f) ? (char)ch : (ch == '\n' ? ' ' : '?');
	}
	dst[o] = '\0';
}

/* error.message (or a string "error") of a server's JSON, when present. */
static void take_server_error(struct xfer *x, struct json_object *o)
{
	struct json_object *e, *m;
	if (!json_object_object_get_ex(o, "error", &e))
		return;
	if (json_object_is_type(e, json_type_object) &&
	    json_object_object_get_ex(e, "message", &m) && json_object_is_type(m, json_type_string))
		e = m;
	if (json_object_is_type(e, json_type_string))
		copy_printable(x->server_msg, sizeof x->server_msg, json_object_get_string(e),
			       (size_t)json_object_get_string_len(e));
	else
		snprintf(x->server_msg, sizeof x->server_msg, "an error without a message");
}

/* Parses exactly s[0..n) (surrounding white space allowed) as JSON. */
static struct json_object *parse_json(const char *s, size_t n)
{
	if (n > INT32_MAX)
		return NULL;
	struct json_tokener *tok = json_tokener_new_ex(64);
	if (!tok)
		return NULL;
	struct json_object *o = json_tokener_parse_ex(tok, s, (int)n);
	if (o && json_tokener_get_error(tok) == json_tokener_success) {
		size_t used = json_tokener_get_parse_end(tok);
		for (size_t i = used; i < n; i++)
			if (!isspace((unsigned char)s[i])) {
				json_object_put(o);
				o = NULL;
				break;
			}
	} else {
		json_object_put(o);
		o = NULL;
	}
	json_tokener_free(tok);
	return o;
}

/* Hands text to the caller and keeps it for the whole answer. */
static int deliver(struct xfer *x, const char *s, size_t n)
{
	if (n == 0)
		return 0;
	if (mx_buf_append(&x->answer, s, n)) {
		x->too_big = true;
		return -1;
	}
	x->delivered += n;
	if (x->req->on_delta && x->req->on_delta(x->req->ctx, s, n)) {
		x->stop = true;
		return -1;
	}
	return 0;
}

/* choices[0].<field>.content as a string, or NULL. */
static struct json_object *choice_content(struct json_object *o, const char *field)
{
	struct json_object *ch, *c0, *f, *ct;
	if (!json_object_object_get_ex(o, "choices", &ch) ||
	    !json_object_is_type(ch, json_type_array) || json_object_array_length(ch) < 1)
		return NULL;
	c0 = json_object_array_get_idx(ch, 0);
	if (!c0 || !json_object_object_get_ex(c0, field, &f) ||
	    !json_object_object_get_ex(f, "content", &ct))
		return NULL;
	return ct;
}

/* One SSE line (no newline). Returns -1 to stop the transfer. */
static int sse_line(struct xfer *x, char *s, size_t n)
{
	if (n && s[n - 1] == '\r')
		n--;
	if (n < 5 || memcmp(s, "data:", 5) != 0)
		return 0; /* blank separator, comment, event:, id:, retry: */
	s += 5;
	n -= 5;
	if (n && *s == ' ') {
		s++;
		n--;
	}
	if (x->done)
		return 0;
	if (n == 6 && !memcmp(s, "[DONE]", 6)) {
		x->done = true;
		return 0;
	}
	struct json_object *o = parse_json(s, n);
	if (!o || !json_object_is_type(o, json_type_object)) {
		json_object_put(o);
		x->corrupt = true;
		return -1;
	}
	int rc = 0;
	struct json_object *ct = choice_content(o, "delta");
	if (json_object_object_get_ex(o, "error", NULL)) {
		take_server_error(x, o);
		rc = -1;
	} else if (ct && json_object_is_type(ct, json_type_string)) {
		rc = deliver(x, json_object_get_string(ct), (size_t)json_object_get_string_len(ct));
	} else if (ct && !json_object_is_type(ct, json_type_null)) {
		x->corrupt = true;
		rc = -1;
	}
	/* a delta without content (the role, a finish_reason) is fine */
	json_object_put(o);
	return rc;
}

static void learn_status(struct xfer *x)
{
	if (x->status_known)
		return;
	x->status_known = true;
	curl_easy_getinfo(x->h, CURLINFO_RESPONSE_CODE, &x->status);
	char *ct = NULL;
	curl_easy_getinfo(x->h, CURLINFO_CONTENT_TYPE, &ct);
	/* a server that answers a stream request with plain JSON is read as
	 * JSON */
	x->sse = x->req->stream && x->status / 100 == 2 &&
		 !(ct && !strncasecmp(ct, "application/json", 16));
}

static size_t write_cb(char *p, size_t size, size_t nmemb, void *ud)
{
	struct xfer *x = ud;
	size_t n = size * nmemb;
	learn_status(x);
	if (n > x->c->p.max_response - x->total || x->total > x->c->p.max_response) {
		x->too_big = true;
		return 0;
	}
	x->total += n;
	if (x->status / 100 != 2) {
		/* an error body: keep its start for the message */
		size_t room = ERRBODY_MAX - x->raw.len;
		mx_buf_append(&x->raw, p, n < room ? n : room);
		return n;
	}
	if (!x->sse) {
		if (mx_buf_append(&x->raw, p, n)) {
			x->too_big = true;
			return 0;
		}
		return n;
	}
	for (size_t i = 0; i < n; i++) {
		const char *nl = memchr(p + i, '\n', n - i);
		size_t take = nl ? (size_t)(nl - (p + i)) : n - i;
		if (mx_buf_append(&x->line, p + i, take)) {
			x->too_big = true;
			return 0;
		}
		i += take;
		if (!nl)
			break;
		int rc = sse_line(x, x->line.data ? x->line.data : (char *)"", x->line.len);
		mx_buf_reset(&x->line);
		if (rc)
			return 0;
	}
	return n;
}

static size_t header_cb(char *p, size_t size, size_t nmemb, void *ud)
{
	struct xfer *x = ud;
	size_t n = size * nmemb;
	if (n > x->c->p.max_response - x->total || x->total > x->c->p.max_response) {
		x->too_big = true;
		return 0;
	}
	x->total += n;
	/* a new response (after "100 Continue" or a 1xx) */
	x->status_known = false;
	/* "Retry-After: 7" (the HTTP-date form is not worth the parsing) */
	if (n > 12 && !strncasecmp(p, "Retry-After:", 12)) {
		long secs = 0;
		size_t i = 12;
		while (i < n && p[i] == ' ')
			i++;
		while (i < n && isdigit((unsigned char)p[i]) && secs < 1000)
			secs = secs * 10 + (p[i++] - '0');
		x->retry_after_ms = (secs > RETRY_AFTER_MAX_S ? RETRY_AFTER_MAX_S : secs) * 1000;
	}
	return n;
}

/* ======================================================================
 * One attempt and the retry loop
 * ====================================================================== */

enum outcome { DONE_OK, RETRY, FINAL };

static double secs(long ms)
{
	return (double)ms / 1000.0;
}

/* Turns a finished transfer into a status and a message. */
static enum outcome classify(struct xfer *x, CURLcode cc, const char *cerr, int *rc)
{
	struct rtr_cloud *c = x->c;
	const char *host = c->host;
	c->http_status = x->status;
	if (x->stop) {
		*rc = MX_EINTR;
		CERR(c, "stopped while reading the answer from %s", host);
		return FINAL;
	}
	if (x->too_big) {
		*rc = MX_ETOOBIG;
		CERR(c, "the reply from %s is over %zu bytes; stopped reading it", host,
		     c->p.max_response);
		return FINAL;
	}
	if (x->corrupt) {
		*rc = MX_ECORRUPT;
		CERR(c, "malformed JSON in the reply from %s", host);
		return FINAL;
	}
	if (x->server_msg[0] && x->status / 100 == 2) {
		*rc = MX_EIO;
		CERR(c, "%s reported an error in its stream: %s", host, x->server_msg);
		return FINAL;
	}
	bool nothing_yet = x->delivered == 0;
	if (cc != CURLE_OK) {
		*rc = MX_EIO;
		switch (cc) {
		case CURLE_OPERATION_TIMEDOUT:
			if (x->total == 0)
				CERR(c, "no answer from %s within %g s", host,
				     secs(c->p.timeout_ms));
			else
				CERR(c, "the answer from %s took longer than %g s", host,
				     secs(c->p.timeout_ms));
			/* not retried: the whole time allowed is spent, and the
			 * server may have acted on it */
			return FINAL;
		case CURLE_COULDNT_RESOLVE_HOST:
		case CURLE_COULDNT_RESOLVE_PROXY:
			CERR(c, "cannot resolve '%s'", host);
			return RETRY;
		case CURLE_COULDNT_CONNECT:
			CERR(c, "cannot connect to %s: %s", host, cerr[0] ? cerr : "refused");
			return RETRY;
		case CURLE_PEER_FAILED_VERIFICATION:
		case CURLE_SSL_CONNECT_ERROR:
		case CURLE_SSL_CERTPROBLEM:
		case CURLE_SSL_CACERT_BADFILE:
		case CURLE_SSL_ISSUER_ERROR:
		case CURLE_SSL_PINNEDPUBKEYNOTMATCH:
		case CURLE_SSL_INVALIDCERTSTATUS:
			CERR(c, "TLS with %s failed, nothing was sent: %s", host,
			     cerr[0] ? cerr : curl_easy_strerror(cc));
			return FINAL;
		case CURLE_GOT_NOTHING:
		case CURLE_SEND_ERROR:
		case CURLE_RECV_ERROR:
		case CURLE_PARTIAL_FILE:
			CERR(c, "%s closed the connection: %s", host,
			     cerr[0] ? cerr : curl_easy_strerror(cc));
			return nothing_yet && x->status / 100 != 2 ? RETRY : FINAL;
		default:
			CERR(c, "request to %s failed: %s", host,
			     cerr[0] ? cerr : curl_easy_strerror(cc));
			return FINAL;
		}
	}
	if (x->status / 100 != 2) {
		struct json_object *o = parse_json(x->raw.data ? x->raw.data : "", x->raw.len);
		if (o)
			take_server_error(x, o);
		json_object_put(o);
		const char *msg = x->server_msg[0] ? x->server_msg : "no message";
		CERR(c, "HTTP %ld from %s: %s", x->status, host, msg);
		*rc = (x->status == 401 || x->status == 403) ? MX_EPERM : MX_EIO;
		return (x->status == 429 || x->status / 100 == 5) ? RETRY : FINAL;
	}
	if (x->sse) {
		if (!x->done) {
			*rc = MX_EIO;
			CERR(c, "the stream from %s ended before [DONE]", host);
			return FINAL;
		}
		*rc = 0;
		return DONE_OK;
	}
	struct json_object *o = parse_json(x->raw.data ? x->raw.data : "", x->raw.len);
	if (!o || !json_object_is_type(o, json_type_object)) {
		json_object_put(o);
		*rc = MX_ECORRUPT;
		CERR(c, "malformed JSON in the reply from %s", host);
		return FINAL;
	}
	struct json_object *ct = choice_content(o, "message");
	if (!ct || !json_object_is_type(ct, json_type_string)) {
		take_server_error(x, o);
		*rc = MX_ECORRUPT;
		if (x->server_msg[0])
			CERR(c, "%s answered with an error: %s", host, x->server_msg);
		else
			CERR(c, "the reply from %s has no choices[0].message.content", host);
		json_object_put(o);
		return FINAL;
	}
	*rc = 0;
	deliver(x, json_object_get_string(ct), (size_t)json_object_get_string_len(ct));
	json_object_put(o);
	if (x->stop) {
		*rc = MX_EINTR;
		CERR(c, "stopped by the caller");
		return FINAL;
	}
	if (x->too_big) {
		*rc = MX_ETOOBIG;
		CERR(c, "the answer from %s is over %zu bytes", host, c->p.max_response);
		return FINAL;
	}
	return DONE_OK;
}

static void sleep_ms(long ms)
{
	struct timespec ts = { .tv_sec = ms / 1000, .tv_nsec = (ms % 1000) * 1000000L };
	while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
		;
}

/* Sets the options every attempt shares. */
static int setup(CURL *h, struct rtr_cloud *c, struct xfer *x, struct curl_slist *hdrs,
		 const char *body, size_t len, char *cerr)
{
	CURLcode e = CURLE_OK;
#define SET(opt, val)                                                                              \
	do {                                                                                       \
		if (e == CURLE_OK)                                                                 \
			e = curl_easy_setopt(h, opt, val);                                         \
	} while (0)
	SET(CURLOPT_URL, c->endpoint);
	SET(CURLOPT_PROTOCOLS_STR, "http,https");
	SET(CURLOPT_REDIR_PROTOCOLS_STR, "https");
	SET(CURLOPT_FOLLOWLOCATION, 0L);
	/* never weakened: a cloud answer over a forged certificate is worse
	 * than no answer */
	SET(CURLOPT_SSL_VERIFYPEER, 1L);
	SET(CURLOPT_SSL_VERIFYHOST, 2L);
	SET(CURLOPT_POST, 1L);
	SET(CURLOPT_POSTFIELDS, body);
	SET(CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)len);
	SET(CURLOPT_HTTPHEADER, hdrs);
	SET(CURLOPT_CONNECTTIMEOUT_MS, c->p.connect_timeout_ms);
	SET(CURLOPT_TIMEOUT_MS, c->p.timeout_ms);
	SET(CURLOPT_NOSIGNAL, 1L);
	SET(CURLOPT_WRITEFUNCTION, write_cb);
	SET(CURLOPT_WRITEDATA, x);
	SET(CURLOPT_HEADERFUNCTION, header_cb);
	SET(CURLOPT_HEADERDATA, x);
	SET(CURLOPT_ERRORBUFFER, cerr);
	SET(CURLOPT_USERAGENT, "memex/" MEMEX_VERSION);
	if (c->loopback)
		SET(CURLOPT_NOPROXY, "*");
#undef SET
	return e == CURLE_OK ? 0 : -1;
}

int rtr_cloud_chat(struct rtr_cloud *c, const struct rtr_request *req, char **reply)
{
	int rc = 0;
	char *body = NULL;
	size_t len = 0;
	struct curl_slist *hdrs = NULL;
	CURL *h = NULL;
	struct xfer x;
	memset(&x, 0, sizeof x);
	mx_buf_init(&x.raw, c->p.max_response);
	mx_buf_init(&x.line, SSE_LINE_MAX < c->p.max_response ? SSE_LINE_MAX : c->p.max_response);
	mx_buf_init(&x.answer, c->p.max_response);
	if (reply)
		*reply = NULL;
	c->err[0] = '\0';
	c->http_status = 0;
	c->attempts = 0;
	if (!req->messages || req->n_messages == 0) {
		CERR(c, "a chat request needs at least one message");
		rc = MX_EINVAL;
		goto out;
	}
	for (size_t i = 0; i < req->n_messages; i++) {
		if (!req->messages[i].role || !req->messages[i].content) {
			CERR(c, "message %zu has no role or no content", i + 1);
			rc = MX_EINVAL;
			goto out;
		}
		if (!text_ok(req->messages[i].role) || !text_ok(req->messages[i].content)) {
			CERR(c, "message %zu is not valid UTF-8; nothing was sent", i + 1);
			rc = MX_EENCODING;
			goto out;
		}
	}
	if (req->reason && !text_ok(req->reason)) {
		CERR(c, "the reason is not valid UTF-8; nothing was sent");
		rc = MX_EENCODING;
		goto out;
	}
	if ((rc = build_body(c, req, &body, &len)))
		goto out;
	struct curl_slist *t;
	if (!(t = curl_slist_append(hdrs, "Content-Type: application/json")) || !(hdrs = t) ||
	    !(t = curl_slist_append(hdrs, req->stream ? "Accept: text/event-stream"
						      : "Accept: application/json")) ||
	    !(hdrs = t) || !(t = curl_slist_append(hdrs, "Expect:")) || !(hdrs = t) ||
	    (c->auth && (!(t = curl_slist_append(hdrs, c->auth)) || !(hdrs = t)))) {
		CERR(c, "out of memory");
		rc = MX_ENOMEM;
		goto out;
	}
	long wait = c->p.backoff_ms;
	for (int attempt = 1;; attempt++) {
		char cerr[CURL_ERROR_SIZE] = "";
		c->attempts = attempt;
		/* the record first: no record, no request */
		struct rtr_audit_record ar = {
			.endpoint = c->endpoint,
			.model = c->model,
			.reason = req->reason,
			.attempt = attempt,
			.body = body,
			.body_len = len,
		};
		if ((rc = rtr_audit_write(c->audit, &ar))) {
			CERR(c, "%s; nothing was sent", rtr_audit_errmsg(c->audit));
			rc = rc == MX_ENOMEM ? rc : MX_EIO;
			goto out;
		}
		curl_easy_cleanup(h);
		if (!(h = curl_easy_init())) {
			CERR(c, "cannot start a transfer");
			rc = MX_ENOMEM;
			goto out;
		}
		mx_buf_reset(&x.raw);
		mx_buf_reset(&x.line);
		x.c = c;
		x.req = req;
		x.h = h;
		x.total = 0;
		x.too_big = x.stop = x.corrupt = x.done = x.sse = x.status_known = false;
		x.status = 0;
		x.retry_after_ms = 0;
		x.server_msg[0] = '\0';
		if (setup(h, c, &x, hdrs, body, len, cerr)) {
			CERR(c, "this libcurl lacks a needed option");
			rc = MX_EUNSUPPORTED;
			goto out;
		}
		CURLcode cc = curl_easy_perform(h);
		enum outcome oc = classify(&x, cc, cerr, &rc);
		if (oc == DONE_OK)
			break;
		if (oc == FINAL || attempt > c->p.retries || x.delivered > 0)
			goto out;
		/* a server's Retry-After counts when it asks for longer */
		sleep_ms(x.retry_after_ms > wait ? x.retry_after_ms : wait);
		wait = wait > 60000 ? 120000 : wait * 2;
	}
	if (reply) {
		*reply = x.answer.data ? mx_buf_detach(&x.answer) : strdup("");
		if (!*reply)
			rc = MX_ENOMEM;
	}
out:
	curl_easy_cleanup(h);
	curl_slist_free_all(hdrs);
	free(body);
	mx_buf_free(&x.raw);
	mx_buf_free(&x.line);
	mx_buf_free(&x.answer);
	return rc;
}

/* The reply path without a transfer: the same callbacks and verdicts. */
int rtr_cloud_parse_reply(const char *data, size_t len, bool sse, size_t max, char **answer,
			  char *err, size_t errlen)
{
	struct rtr_cloud c;
	struct rtr_request req = rtr_request_default();
	struct xfer x;
	int rc = 0;
	memset(&c, 0, sizeof c);
	c.p = rtr_cloud_params_default();
	c.p.max_response = max < 1024 ? 1024 : max;
	c.host = (char *)"test";
	req.stream = sse;
	memset(&x, 0, sizeof x);
	x.c = &c;
	x.req = &req;
	x.status = 200;
	x.status_known = true;
	x.sse = sse;
	mx_buf_init(&x.raw, c.p.max_response);
	mx_buf_init(&x.line, SSE_LINE_MAX < c.p.max_response ? SSE_LINE_MAX : c.p.max_response);
	mx_buf_init(&x.answer, c.p.max_response);
	*answer = NULL;
	CURLcode cc = CURLE_OK;
	for (size_t off = 0, k = 0; off < len; k++) {
		size_t n = 1 + (k * 7 + len) % 13;
		if (n > len - off)
			n = len - off;
		if (write_cb((char *)data + off, 1, n, &x) != n) {
			cc = CURLE_WRITE_ERROR;
			break;
		}
		off += n;
	}
	if (classify(&x, cc, "", &rc) == DONE_OK) {
		*answer = x.answer.data ? mx_buf_detach(&x.answer) : strdup("");
		if (!*answer)
			rc = MX_ENOMEM;
	} else if (rc == 0) {
		rc = MX_EIO;
	}
	mx_seterr(err, errlen, "%s", c.err);
	mx_buf_free(&x.raw);
	mx_buf_free(&x.line);
	mx_buf_free(&x.answer);
	return rc;
}

/* ======================================================================
 * Keys
 * ====================================================================== */

int rtr_cloud_key_read(const char *path, char **key, char *err, size_t errlen)
{
	int rc;
	char *data = NULL;
	size_t len = 0;
	struct stat sb;
	*key = NULL;
	if (lstat(path, &sb) != 0) {
		rc = mx_status_from_errno(errno);
		return mx_fail(err, errlen, rc, "cannot read the key file '%s': %s", path,
			       strerror(errno));
	}
	if (S_ISLNK(sb.st_mode) && stat(path, &sb) != 0) {
		rc = mx_status_from_errno(errno);
		return mx_fail(err, errlen, rc, "cannot read the key file '%s': %s", path,
			       strerror(errno));
	}
	if (!S_ISREG(sb.st_mode)) {
		return mx_fail(err, errlen, MX_ENOTREG, "the key file '%s' is not a regular file",
			       path);
	}
	if (sb.st_uid != geteuid()) {
		return mx_fail(err, errlen, MX_EPERM, "the key file '%s' belongs to another user",
			       path);
	}
	if (sb.st_mode & 077) {
		return mx_fail(
			err, errlen, MX_EPERM,
			"the key file '%s' is accessible by others (mode %03o); run: chmod 600 '%s'",
			path, (unsigned)(sb.st_mode & 0777), path);
	}
	if ((rc = mx_read_file(path, KEY_MAX, &data, &len))) {
		return mx_fail(err, errlen, rc, "cannot read the key file '%s': %s", path,
			       rc == MX_ETOOBIG ? "over 4 KiB" : mx_strerror(rc));
	}
	size_t a = 0, b = len;
	while (a < b && isspace((unsigned char)data[a]))
		a++;
	while (b > a && isspace((unsigned char)data[b - 1]))
		b--;
	rc = 0;
	if (a == b) {
		mx_seterr(err, errlen, "the key file '%s' is empty", path);
		rc = MX_EINVAL;
	}
	for (size_t i = a; i < b && !rc; i++)
		if (data[i] < 0x21 || data[i] > 0x7e) {
			mx_seterr(err, errlen,
				  "the key file '%s' is not one line of printable text", path);
			rc = MX_EINVAL;
		}
	if (!rc) {
		memmove(data, data + a, b - a);
		data[b - a] = '\0';
		*key = data;
		explicit_bzero(data + (b - a), len - (b - a));
		return 0;
	}
	explicit_bzero(data, len);
	free(data);
	return rc;
}
