/*
 * cloud.h - the cloud client: the one way any byte leaves the machine.
 *
 * It speaks the OpenAI-compatible Chat Completions API (POST
 * URL/chat/completions, JSON body {model, messages[{role, content}],
 * temperature, max_tokens, stream}) over libcurl, and reads either the
 * whole JSON reply (choices[0].message.content) or, with stream, the
 * server-sent events (lines "data: {json}" whose choices[0].delta.content
 * are handed to a callback as they arrive, up to "data: [DONE]").
 *
 * What it guarantees:
 *  - Audit first. A client cannot be opened without an audit log, and
 *    every request body is written to it (rtr_audit_write, synced to disk)
 *    before the request is sent; when the record cannot be written the
 *    request is not sent. A retry is recorded again before it is sent.
 *  - TLS is always verified (peer and host name; the system CA store).
 *    Plain http:// is accepted only to a loopback host (127.0.0.0/8,
 *    [::1], localhost), for tests and local servers; any other http URL is
 *    refused at open. Redirects are never followed; only http and https
 *    are spoken; environment proxies are never used for loopback.
 *  - Bounded: a connect timeout, a total timeout per attempt, a cap on the
 *    response size (an endless body stops with MX_ETOOBIG) and on retries.
 *  - Retries with exponential backoff (backoff_ms, then doubled; longer
 *    when the server's Retry-After says so, up to 30 s) on a
 *    failed connection, HTTP 429 and 5xx; never on other 4xx, on a total
 *    timeout (the server may be working on it), or once part of a
 *    streamed answer has been handed to the callback.
 *  - Errors are statuses with a one-line message on the handle
 *    (rtr_cloud_errmsg): "no answer from HOST within 5 s", "HTTP 401 from
 *    HOST: Invalid API key", "malformed JSON in the reply", ...
 *
 * Not thread-safe per handle; separate handles may be used from separate
 * threads (call curl_global_init once before starting threads).
 */
#ifndef MX_RTR_CLOUD_H
#define MX_RTR_CLOUD_H

#include <stdbool.h>
#include <stddef.h>

struct rtr_audit;
struct rtr_cloud;

/* Where and how to connect. Strings are borrowed for rtr_cloud_open only
 * (the handle keeps copies). */
struct rtr_cloud_params {
	const char *url;	 /* base URL ("https://api.openai.com/v1") or the
				    full .../chat/completions URL */
	const char *model;	 /* e.g. "gpt-4o-mini"; required */
	const char *key;	 /* API key sent as "Authorization: Bearer KEY";
				    NULL or "" sends none */
	long connect_timeout_ms; /* default 10000 */
	long timeout_ms;	 /* whole attempt, default 120000 */
	int retries;		 /* extra attempts after the first, default 2 */
	long backoff_ms;	 /* wait before the first retry, default 500 */
	size_t max_response;	 /* bytes of reply read at most, default 4 MiB */
};

struct rtr_cloud_params rtr_cloud_params_default(void);

/* One chat message. Borrowed. */
struct rtr_message {
	const char *role; /* "system", "user" or "assistant" */
	const char *content;
};

/* One request. Borrowed for the call. */
struct rtr_request {
	const struct rtr_message *messages;
	size_t n_messages;
	double temperature; /* sent when >= 0; default -1 (the server's) */
	int max_tokens;	    /* sent when > 0; default 0 */
	bool stream;	    /* ask for server-sent events */
	const char *reason; /* why this leaves the machine (for the audit log) */
	/* Called with each piece of the answer as it arrives (streaming) or
	 * once with the whole answer; NULL for none. text is not
	 * NUL-terminated and is borrowed for the call. A non-zero return
	 * stops the transfer and the call returns MX_EINTR. */
	int (*on_delta)(void *ctx, const char *text, size_t len);
	void *ctx;
};

struct rtr_request rtr_request_default(void);

/* Checks the params (URL scheme and host, model) and makes a handle that
 * records to audit (borrowed: it must outlive the handle). *out is the
 * caller's to close. Nothing is sent. Errors: MX_EINVAL (no URL or model,
 * a URL that does not parse), MX_EPERM (http:// to a non-loopback host,
 * or a scheme other than http/https), MX_ENOMEM; err gets a message. */
int rtr_cloud_open(const struct rtr_cloud_params *p, struct rtr_audit *audit,
		   struct rtr_cloud **out, char *err, size_t errlen);
/* NULL is fine. */
void rtr_cloud_close(struct rtr_cloud *c);

/* Sends one chat request (auditing it first) and returns the answer's
 * whole text in *reply (malloc'd, NUL-terminated, caller frees; may be
 * NULL when the caller only wants the callback). Errors, with
 * rtr_cloud_errmsg() telling more:
 *   MX_EINVAL      no messages, a NULL role or content
 *   MX_EENCODING   a message is not valid UTF-8 (nothing is sent)
 *   MX_EIO         audit record could not be written (nothing is sent),
 *                  connection failed, TLS verification failed, timeout,
 *                  the server closed the stream early, or HTTP error
 *   MX_EPERM       HTTP 401/403 from the server
 *   MX_ETOOBIG     the reply passed max_response
 *   MX_ECORRUPT    the reply is not the JSON or SSE it should be
 *   MX_EINTR       on_delta asked to stop
 * rtr_cloud_http_status() gives the last HTTP status (0 when none). */
int rtr_cloud_chat(struct rtr_cloud *c, const struct rtr_request *req, char **reply);

/* The exact request body rtr_cloud_chat would send to `model` for req
 * (for a dry run: nothing is sent or audited). *body is malloc'd and
 * NUL-terminated, *len its length; the caller frees it. 0 or MX_ENOMEM. */
int rtr_cloud_body(const char *model, const struct rtr_request *req, char **body, size_t *len);

/* The last error's message (borrowed until the next call; "" if none). */
const char *rtr_cloud_errmsg(const struct rtr_cloud *c);
/* The last HTTP status received, 0 when none. */
long rtr_cloud_http_status(const struct rtr_cloud *c);
/* Attempts the last rtr_cloud_chat made (1 + retries used). */
int rtr_cloud_attempts(const struct rtr_cloud *c);
/* The full endpoint URL requests go to (borrowed). */
const char *rtr_cloud_endpoint(const struct rtr_cloud *c);

/* Reads an API key from a file, like ssh reads a private key: the file
 * must be a regular file owned by the user and not readable or writable
 * by group or others (mode 0600 or 0400). Surrounding white space is
 * dropped; the key must be one line of printable ASCII, at most 4 KiB.
 * *key is malloc'd (caller frees, ideally after clearing it). Errors:
 * MX_ENOTFOUND, MX_EPERM (group/other access: the message says to chmod
 * 600; also another owner), MX_ENOTREG, MX_ETOOBIG, MX_EINVAL (empty, or
 * not one printable line), MX_EIO. */
int rtr_cloud_key_read(const char *path, char **key, char *err, size_t errlen);

/* Whether host (as in a URL, "[::1]" or "::1" both accepted) names the
 * loopback: 127.0.0.0/8, ::1 or localhost. */
bool rtr_host_is_loopback(const char *host);

#endif
