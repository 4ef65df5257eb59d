/*
 * chat.h - text-level chat with the on-device model: messages in, a
 * streamed reply out.
 *
 * A struct chat holds the model (llm.h), its tokenizer (tok.h, from the
 * same GGUF), its prompt format (chat_tmpl.h) and a sampler. A struct
 * chat_session holds a conversation: the messages, owned copies. One
 * reply:
 *
 *   1. the session's messages are rendered with the template (generation
 *      prompt added) and tokenized, template text with special tokens
 *      parsed and message content without (content cannot inject turns);
 *      BOS is put first when the vocabulary wants one and the template did
 *      not write it;
 *   2. history within the context window: while the prompt plus the room
 *      kept for the reply (min(max_tokens, n_ctx / 2) tokens) does not fit
 *      in n_ctx, the oldest exchange is dropped from the session (the
 *      first non-system message and what follows it up to the next user
 *      message); system messages and the last user message are never
 *      dropped: if they alone do not fit, the reply fails with MX_ETOOBIG;
 *   3. the KV cache keeps the tokens of the previous turn: only the part
 *      of the new prompt after the common prefix is computed;
 *   4. tokens are sampled until an end-of-generation token of the
 *      vocabulary, a stop string (the family's end-of-turn texts such as
 *      "<|im_end|>", for vocabularies that spell them as text, plus the
 *      caller's), max_tokens, or a full context. Stop strings are found
 *      across token boundaries: text that may be the start of a stop
 *      string is held back until it is known not to be; the stop string
 *      and what follows are not part of the reply;
 *   5. the reply is streamed to a callback in pieces that never end inside
 *      a UTF-8 sequence (a token may be a part of a character), with the
 *      white space at its very start left out, and added to the session as
 *      an assistant message.
 *
 * A chat handle is used by one thread at a time.
 */
#ifndef MX_CHAT_H
#define MX_CHAT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "chat_tmpl.h"
#include "llm.h"

#define CHAT_MAX_STOPS	  8	     /* caller stop strings */
#define CHAT_MAX_SESSION  (8u << 20) /* bytes of message text a session holds */
#define CHAT_MAX_MESSAGES 4096

struct chat_params {
	struct eng_llm_params llm;	  /* threads, n_ctx, ... */
	struct eng_sampler_params sample; /* temperature, top-k, ... */
	int max_tokens;			  /* tokens per reply at most (default 512) */
	/* A family name ("chatml", "llama3", ...) to use instead of the
	 * model's template; NULL: the model's (default). */
	const char *template_name;
	/* Extra stop strings, NULL-terminated (borrowed during chat_open();
	 * copied), at most CHAT_MAX_STOPS; NULL: none. */
	const char *const *stop;
	/* The date Llama 3.1+ prompts carry ("21 Nov 2026"); NULL: the
	 * template's own default. Copied. */
	const char *date;
};
struct chat_params chat_params_default(void);

struct chat;
struct chat_session;

/* Opens the chat model at path. 0, or an error with the reason in err:
 * those of eng_llm_open() and tok_open_gguf(), MX_EINVAL (an unknown
 * template_name, too many or empty stop strings). *out is NULL on
 * failure. */
int chat_open(const char *path, const struct chat_params *p, struct chat **out, char *err,
	      size_t errsz);
void chat_close(struct chat *c); /* NULL is fine */

/* The message of the last failure on c (borrowed until the next call). */
const char *chat_errmsg(const struct chat *c);
/* "" or a warning about the prompt format (the model's template was not
 * recognised, ChatML is used). Borrowed. */
const char *chat_warning(const struct chat *c);
enum chat_family chat_family(const struct chat *c);
int chat_n_ctx(const struct chat *c);
struct eng_llm *chat_llm(struct chat *c);	  /* borrowed */
const struct tok *chat_tok(const struct chat *c); /* borrowed */

/* ---- sessions --------------------------------------------------------------- */

int chat_session_new(struct chat_session **out); /* 0 or MX_ENOMEM */
void chat_session_free(struct chat_session *s);	 /* NULL is fine */
/* Appends a message (text copied). 0, MX_ENOMEM, MX_ETOOBIG (the session
 * would pass CHAT_MAX_SESSION bytes or CHAT_MAX_MESSAGES messages). */
int chat_session_add(struct chat_session *s, enum chat_role role, const char *text, size_t len);
/* The messages (borrowed until the session changes), *n of them. */
const struct chat_msg *chat_session_msgs(const struct chat_session *s, size_t *n);
/* Removes messages [i, i + k) (clamped to the end). */
void chat_session_remove(struct chat_session *s, size_t i, size_t k);
void chat_session_clear(struct chat_session *s);

/* ---- replies ------------------------------------------------------------------ */

/* Receives the reply as it is made: bytes piece[0..len), never ending
 * inside a UTF-8 sequence. Return nonzero to stop the reply there. */
typedef int (*chat_stream_fn)(void *ctx, const char *piece, size_t len);

enum chat_end {
	CHAT_END_EOG = 1,     /* the model ended its turn (a stop token) */
	CHAT_END_STOP = 2,    /* a stop string */
	CHAT_END_MAX = 3,     /* max_tokens */
	CHAT_END_CONTEXT = 4, /* the context window is full */
	CHAT_END_CALLER = 5,  /* the stream callback asked to stop */
};

struct chat_stats {
	size_t n_prompt;    /* tokens of the rendered prompt */
	size_t n_computed;  /* of those, computed (not reused from the cache) */
	size_t n_generated; /* tokens sampled for the reply */
	size_t n_dropped;   /* messages dropped from the session to fit */
	enum chat_end end;
	double prompt_s, gen_s; /* seconds spent on the prompt and on generating */
	/* the confidence of the sampled tokens (llm.h, struct eng_gen_stats):
	 * n_scored of them (all sampled but a stop token), their summed
	 * log-probabilities and entropies (nats) */
	size_t n_scored;
	double sum_logprob, sum_entropy;
};

/* Replies to the session's messages (the last should be the user's):
 * streams the reply to fn (may be NULL), appends it to the session as an
 * assistant message, and returns it in *reply (malloc'd, NUL-terminated,
 * *len bytes; caller frees; reply and len may be NULL). stats may be NULL.
 * 0, or MX_EEMPTY (no messages), MX_ETOOBIG (the messages that cannot be
 * dropped do not fit in the context), MX_ENOMEM, or a decoder error; the
 * reason is on the handle (chat_errmsg()). On an error the session is
 * unchanged except for dropped messages. */
int chat_reply(struct chat *c, struct chat_session *s, chat_stream_fn fn, void *ctx, char **reply,
	       size_t *len, struct chat_stats *stats);

/* Sets the tokens per reply at most (max_tokens of chat_params: <= 0 means
 * up to half the context) for the next replies; returns the previous value.
 * A short draft answer: set, reply, set back. */
int chat_set_max_tokens(struct chat *c, int max_tokens);

#endif
