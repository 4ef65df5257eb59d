/*
 * fake_openai.h - a loopback HTTP/1.1 server that plays an OpenAI-compatible
 * Chat Completions endpoint (and a file host), for tests only.
 *
 * It listens on 127.0.0.1 (port 0: the kernel picks one), serves one
 * connection at a time from a thread of its own and closes each connection
 * after one response. Every request's body is appended byte for byte to
 * record_path; one line per request ("POST /v1/chat/completions 123" or
 * "GET /m.gguf range=bytes=10-") goes to log_path.
 *
 * POST (any path) answers by mode:
 *   json       200, a chat.completion whose content is reply
 *   sse        200, text/event-stream: one "data:" event per word of reply
 *              (written in odd-sized pieces), then "data: [DONE]"; plain
 *              JSON when the request did not ask for a stream
 *   hang       reads the request and never answers
 *   500        500 with {"error":{"message":"internal trouble"}}
 *   401        401 with {"error":{"message":"Invalid API key"}}
 *   429        429 (rate limited) with Retry-After: 1
 *   malformed  200, application/json that is not JSON
 *   endless    200, a body that never ends (until the client leaves)
 *   slow       200, the json reply one byte every delay_ms
 * fail_first N answers the first N POSTs with 500 whatever the mode.
 * GET /NAME serves file_path (any NAME), honouring "Range: bytes=N-" with
 * 206; with drop_first, the first GET sends its headers and half of the
 * bytes it promised, then closes the connection; with no_range, Range
 * is ignored.
 *
 * Loops are bounded: the server stops by itself after max_seconds.
 */
#ifndef FAKE_OPENAI_H
#define FAKE_OPENAI_H

#include <stdbool.h>

enum fake_mode {
	FAKE_JSON,
	FAKE_SSE,
	FAKE_HANG,
	FAKE_500,
	FAKE_401,
	FAKE_429,
	FAKE_MALFORMED,
	FAKE_ENDLESS,
	FAKE_SLOW,
};

struct fake_opts {
	enum fake_mode mode;
	const char *reply;	 /* the answer's text; default "Hello from the fake." */
	const char *record_path; /* bodies received, appended; NULL for none */
	const char *log_path;	 /* one line per request; NULL for none */
	const char *file_path;	 /* what GET serves; NULL: 404 */
	bool drop_first;
	bool no_range; /* GET ignores Range (answers 200 with everything) */
	int fail_first;
	int delay_ms;	 /* slow mode: between bytes (default 50); GET: per 64 KiB */
	int max_seconds; /* default 120 */
};

struct fake_server;

/* Parses a mode name; -1 when unknown. */
int fake_mode_parse(const char *s);
/* Starts listening and serving; 0 or -1 (errno set). */
int fake_server_start(const struct fake_opts *o, struct fake_server **out);
int fake_server_port(const struct fake_server *s);
/* Requests answered or being answered so far. */
int fake_server_requests(const struct fake_server *s);
/* Stops the thread (also a hanging answer) and frees; NULL is fine. */
void fake_server_stop(struct fake_server *s);
/* Blocks until the server stops by itself (max_seconds) or stop is set. */
void fake_server_wait(struct fake_server *s, volatile int *stop);

#endif
