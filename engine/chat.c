/*
 * chat.c - text-level chat over llm.h, tok.h and chat_tmpl.h (see chat.h
 * for what a reply does, step by step).
 */
#include "chat.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "../common/buf.h"
#include "../common/status.h"
#include "../common/utf8.h"
#include "gguf.h"
#include "tok.h"

#define MAX_REPLY_BYTES (4u << 20)
#define MAX_STOP_LEN	256

struct chat {
	struct eng_llm *m;
	struct tok *t;
	struct chat_tmpl *tmpl;
	struct eng_sampler *s;
	int max_tokens;
	char *stops[CHAT_MAX_STOPS + 8]; /* the family's and the caller's */
	size_t n_stops, max_stop_len;
	int32_t *cache; /* the tokens in the KV cache, n_ctx room */
	size_t n_cache;
	char err[256];
	char warn[192];
};

struct chat_session {
	struct chat_msg *v;
	size_t n, cap, bytes;
};

struct chat_params chat_params_default(void)
{
	return (struct chat_params){
		.llm = eng_llm_params_default(),
		.sample = eng_sampler_params_default(),
		.max_tokens = 512,
	};
}

static int fail(struct chat *c, int rc, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static int fail(struct chat *c, int rc, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(c->err, sizeof c->err, fmt, ap);
	va_end(ap);
	return rc;
}

const char *chat_errmsg(const struct chat *c)
{
	return c->err;
}

const char *chat_warning(const struct chat *c)
{
	return c->warn;
}

enum chat_family chat_family(const struct chat *c)
{
	return chat_tmpl_family(c->tmpl);
}

int chat_n_ctx(const struct chat *c)
{
	return eng_llm_n_ctx(c->m);
}

struct eng_llm *chat_llm(struct chat *c)
{
	return c->m;
}

const struct tok *chat_tok(const struct chat *c)
{
	return c->t;
}

/* ---- opening ------------------------------------------------------------------ */

/* The token's text as a string (for the template's bos_token/eos_token). */
static void token_text(const struct tok *t, int32_t id, char *buf, size_t size)
{
	size_t len = 0;
	const char *s = id >= 0 ? tok_text(t, id, &len) : NULL;
	snprintf(buf, size, "%.*s", s ? (int)(len < size ? len : size - 1) : 0, s ? s : "");
}

static int add_stop(struct chat *c, const char *s)
{
	size_t len = strlen(s);
	if (!len || len > MAX_STOP_LEN || c->n_stops >= sizeof c->stops / sizeof *c->stops)
		return MX_EINVAL;
	if (!(c->stops[c->n_stops] = strdup(s)))
		return MX_ENOMEM;
	c->n_stops++;
	if (len > c->max_stop_len)
		c->max_stop_len = len;
	return 0;
}

int chat_open(const char *path, const struct chat_params *pp, struct chat **out, char *err,
	      size_t errsz)
{
	*out = NULL;
	struct chat_params p = pp ? *pp : chat_params_default();
	struct chat *c = calloc(1, sizeof *c);
	if (!c)
		return MX_ENOMEM;
	int rc = eng_llm_open(path, &p.llm, &c->m, err, errsz);
	if (rc)
		goto fail_quiet;
	if ((rc = tok_open_gguf(eng_llm_gguf(c->m), &c->t, err, errsz)))
		goto fail_quiet;
	if (tok_n_vocab(c->t) > (size_t)eng_llm_n_vocab(c->m)) {
		snprintf(err, errsz, "the vocabulary has %zu tokens but the model only %d",
			 tok_n_vocab(c->t), eng_llm_n_vocab(c->m));
		rc = MX_ECORRUPT;
		goto fail_quiet;
	}
	char bos[256], eos[256];
	token_text(c->t, tok_bos(c->t), bos, sizeof bos);
	token_text(c->t, tok_eos(c->t), eos, sizeof eos);
	if (p.template_name) {
		enum chat_family f;
		if (chat_family_parse(p.template_name, &f)) {
			snprintf(err, errsz,
				 "unknown chat template '%s' (chatml, llama3, llama2, mistral, "
				 "gemma, phi3)",
				 p.template_name);
			rc = MX_EINVAL;
			goto fail_quiet;
		}
		rc = chat_tmpl_new_family(f, bos, eos, &c->tmpl);
	} else {
		const char *j = NULL;
		size_t jl = 0;
		if (gguf_get_str(eng_llm_gguf(c->m), "tokenizer.chat_template", &j, &jl))
			j = NULL, jl = 0;
		rc = chat_tmpl_new(j, jl, bos, eos, &c->tmpl);
	}
	if (rc)
		goto fail_quiet;
	snprintf(c->warn, sizeof c->warn, "%s", chat_tmpl_warning(c->tmpl));
	if (p.date)
		chat_tmpl_set_date(c->tmpl, p.date);
	for (const char *const *s = chat_tmpl_stops(c->tmpl); *s; s++)
		if ((rc = add_stop(c, *s)))
			goto fail_quiet;
	size_t k = 0;
	for (const char *const *s = p.stop; s && *s; s++, k++) {
		if (k >= CHAT_MAX_STOPS || (rc = add_stop(c, *s))) {
			snprintf(err, errsz, "stop strings: at most %d, each 1 to %d bytes",
				 CHAT_MAX_STOPS, MAX_STOP_LEN);
			rc = rc ? rc : MX_EINVAL;
			goto fail_quiet;
		}
	}
	c->max_tokens = p.max_tokens;
	if ((rc = eng_sampler_new(&p.sample, eng_llm_n_vocab(c->m), &c->s))) {
		snprintf(err, errsz, "bad sampling parameters");
		goto fail_quiet;
	}
	if (!(c->cache = malloc((size_t)eng_llm_n_ctx(c->m) * sizeof *c->cache))) {
		rc = MX_ENOMEM;
		goto fail_quiet;
	}
	*out = c;
	return 0;
fail_quiet:
	if (rc == MX_ENOMEM && errsz && !err[0])
		snprintf(err, errsz, "out of memory opening the chat model");
	chat_close(c);
	return rc;
}

void chat_close(struct chat *c)
{
	if (!c)
		return;
	for (size_t i = 0; i < c->n_stops; i++)
		free(c->stops[i]);
	free(c->cache);
	eng_sampler_free(c->s);
	chat_tmpl_free(c->tmpl);
	tok_free(c->t);
	eng_llm_close(c->m);
	free(c);
}

int chat_set_max_tokens(struct chat *c, int max_tokens)
{
	int old = c->max_tokens;
	c->max_tokens = max_tokens;
	return old;
}

/* ---- sessions ----------------------------------------------------------------- */

int chat_session_new(struct chat_session **out)
{
	*out = calloc(1, sizeof **out);
	return *out ? 0 : MX_ENOMEM;
}

void chat_session_free(struct chat_session *s)
{
	if (!s)
		return;
	chat_session_clear(s);
	free(s->v);
	free(s);
}

int chat_session_add(struct chat_session *s, enum chat_role role, const char *text, size_t len)
{
	if (len > CHAT_MAX_SESSION - s->bytes || s->n >= CHAT_MAX_MESSAGES)
		return MX_ETOOBIG;
	if (s->n == s->cap) {
		size_t cap = s->cap ? 2 * s->cap : 16;
		struct chat_msg *v = realloc(s->v, cap * sizeof *v);
		if (!v)
			return MX_ENOMEM;
		s->v = v;
		s->cap = cap;
	}
	char *copy = malloc(len + 1);
	if (!copy)
		return MX_ENOMEM;
	if (len)
		memcpy(copy, text, len);
	copy[len] = '\0';
	s->v[s->n++] = (struct chat_msg){ role, copy, len };
	s->bytes += len;
	return 0;
}

const struct chat_msg *chat_session_msgs(const struct chat_session *s, size_t *n)
{
	*n = s->n;
	return s->v;
}

void chat_session_remove(struct chat_session *s, size_t i, size_t k)
{
	if (i >= s->n)
		return;
	if (k > s->n - i)
		k = s->n - i;
	for (size_t j = i; j < i + k; j++) {
		s->bytes -= s->v[j].content_len;
		free((char *)s->v[j].content);
	}
	memmove(s->v + i, s->v + i + k, (s->n - i - k) * sizeof *s->v);
	s->n -= k;
}

void chat_session_clear(struct chat_session *s)
{
	chat_session_remove(s, 0, s->n);
}

/* ---- the prompt ------------------------------------------------------------------ */

/* Renders and tokenizes the session into *ids (malloc'd), *n tokens. */
static int build_prompt(struct chat *c, const struct chat_session *s, int32_t **ids, size_t *n)
{
	struct chat_prompt p;
	struct tok_seg *segs = NULL;
	int32_t *v = NULL;
	*ids = NULL;
	int rc = chat_tmpl_render(c->tmpl, s->v, s->n, true, &p);
	if (rc)
		return fail(c, rc, "cannot render the prompt: %s", mx_strerror(rc));
	if (!(segs = malloc((p.n_segs ? p.n_segs : 1) * sizeof *segs))) {
		rc = MX_ENOMEM;
		goto out;
	}
	for (size_t i = 0; i < p.n_segs; i++)
		segs[i] = (struct tok_seg){ p.text + p.segs[i].off, p.segs[i].len,
					    p.segs[i].special };
	size_t count = 0, count2 = 0;
	if ((rc = tok_encode_segs(c->t, segs, p.n_segs, false, NULL, 0, &count)))
		goto out;
	int32_t bos = tok_bos(c->t);
	if (!(v = malloc((count + 1) * sizeof *v))) {
		rc = MX_ENOMEM;
		goto out;
	}
	if ((rc = tok_encode_segs(c->t, segs, p.n_segs, false, v + 1, count, &count2)))
		goto out;
	/* BOS first when the vocabulary wants it and the template did not
	 * write it */
	bool want_bos = tok_add_bos(c->t) && bos >= 0 && (!count || v[1] != bos);
	if (want_bos) {
		v[0] = bos;
		*ids = v;
		*n = count + 1;
	} else {
		memmove(v, v + 1, count * sizeof *v);
		*ids = v;
		*n = count;
	}
	v = NULL;
out:
	if (rc == MX_ETOOBIG)
		fail(c, rc, "the message is too long (the prompt is over %u bytes)",
		     (unsigned)TOK_MAX_INPUT);
	else if (rc && rc != MX_ENOMEM)
		fail(c, rc, "cannot tokenize the prompt: %s", mx_strerror(rc));
	else if (rc)
		fail(c, rc, "out of memory building the prompt");
	free(v);
	free(segs);
	chat_prompt_free(&p);
	return rc;
}

/* The range of the oldest droppable exchange: [*i, *j) (its system
 * messages excepted). False when only system messages and the last user
 * message are left. */
static bool droppable(const struct chat_session *s, size_t *i, size_t *j)
{
	size_t last_user = s->n;
	for (size_t k = s->n; k-- > 0;)
		if (s->v[k].role == CHAT_ROLE_USER) {
			last_user = k;
			break;
		}
	size_t a = 0;
	while (a < s->n && s->v[a].role == CHAT_ROLE_SYSTEM)
		a++;
	if (a >= s->n || a >= last_user)
		return false;
	size_t b = a + 1;
	while (b < last_user && s->v[b].role != CHAT_ROLE_USER)
		b++;
	*i = a;
	*j = b;
	return true;
}

/* ---- generating ------------------------------------------------------------------- */

struct gen {
	struct chat *c;
	chat_stream_fn fn;
	void *ctx;
	struct mx_buf all; /* the reply's bytes so far */
	size_t start;	   /* where the reply starts (leading white space skipped) */
	bool started;	   /* a byte other than white space was seen */
	size_t emitted;	   /* bytes given to fn, from start */
	size_t cut;	   /* the end of the reply when a stop string was found */
	bool stopped;	   /* a stop string (or the caller) ended it */
	enum chat_end end;
	size_t n_gen;
	size_t prompt_n;
	int rc;
	struct timespec t0, t_first;
	bool have_first;
};

static double since(const struct timespec *a)
{
	struct timespec b;
	clock_gettime(CLOCK_MONOTONIC, &b);
	return (double)(b.tv_sec - a->tv_sec) + 1e-9 * (double)(b.tv_nsec - a->tv_nsec);
}

static bool is_ws(char ch)
{
	return ch == ' ' || ch == '\n' || ch == '\r' || ch == '\t';
}

/* Gives fn the bytes [emitted, upto). Nonzero: the caller wants to stop. */
static int emit_upto(struct gen *g, size_t upto)
{
	if (!g->started || upto <= g->start + g->emitted)
		return 0;
	size_t from = g->start + g->emitted;
	g->emitted = upto - g->start;
	return g->fn ? g->fn(g->ctx, g->all.data + from, upto - from) : 0;
}

/* Where a stop string starts in all[from..len), the earliest; or -1. */
static long find_stop(const struct gen *g, size_t from)
{
	long best = -1;
	const struct chat *c = g->c;
	for (size_t i = 0; i < c->n_stops; i++) {
		const char *q = memmem(g->all.data + from, g->all.len - from, c->stops[i],
				       strlen(c->stops[i]));
		if (q && (best < 0 || q - g->all.data < best))
			best = q - g->all.data;
	}
	return best;
}

/* The length of the longest end of all that is the start of a stop
 * string (that text is held back: it may become a stop string). */
static size_t partial_stop(const struct gen *g)
{
	const struct chat *c = g->c;
	size_t best = 0;
	for (size_t i = 0; i < c->n_stops; i++) {
		size_t sl = strlen(c->stops[i]);
		for (size_t k = sl - 1; k > best; k--) {
			if (k <= g->all.len &&
			    !memcmp(g->all.data + g->all.len - k, c->stops[i], k)) {
				best = k;
				break;
			}
		}
	}
	return best;
}

static int on_token(void *ctx, int32_t id)
{
	struct gen *g = ctx;
	struct chat *c = g->c;
	if (!g->have_first) {
		g->have_first = true;
		clock_gettime(CLOCK_MONOTONIC, &g->t_first);
	}
	if (g->prompt_n + g->n_gen < (size_t)eng_llm_n_ctx(c->m))
		c->cache[g->prompt_n + g->n_gen] = id;
	g->n_gen++;
	if (g->stopped)
		return 1;
	size_t len;
	const char *piece;
	enum tok_type ty = tok_type(c->t, id);
	if (ty == TOK_TYPE_CONTROL) {
		/* a control token the vocabulary does not count as the end:
		 * it ends the reply if it spells a stop string, else it is
		 * not shown */
		piece = tok_piece(c->t, id, true, &len);
		for (size_t i = 0; i < c->n_stops; i++) {
			if (memmem(piece, len, c->stops[i], strlen(c->stops[i]))) {
				g->cut = g->all.len;
				g->stopped = true;
				g->end = CHAT_END_STOP;
				emit_upto(g, g->cut);
				return 1;
			}
		}
		return 0;
	}
	piece = tok_piece(c->t, id, false, &len);
	size_t before = g->all.len;
	if ((g->rc = mx_buf_append(&g->all, piece, len))) {
		g->stopped = true;
		return 1;
	}
	if (!g->started) {
		while (g->start < g->all.len && is_ws(g->all.data[g->start]))
			g->start++;
		g->started = g->start < g->all.len;
	}
	/* a stop string can only end in what was just added */
	size_t ml = g->c->max_stop_len;
	size_t from = before > ml ? before - ml : 0;
	if (from < g->start)
		from = g->start;
	long at = find_stop(g, from);
	if (at >= 0) {
		g->cut = (size_t)at;
		g->stopped = true;
		g->end = CHAT_END_STOP;
		emit_upto(g, g->cut);
		return 1;
	}
	size_t safe = g->all.len - partial_stop(g);
	safe = mx_utf8_floor(g->all.data, safe);
	if (emit_upto(g, safe)) {
		g->cut = g->start + g->emitted;
		g->stopped = true;
		g->end = CHAT_END_CALLER;
		return 1;
	}
	return 0;
}

int chat_reply(struct chat *c, struct chat_session *s, chat_stream_fn fn, void *ctx, char **reply,
	       size_t *len, struct chat_stats *stats)
{
	struct chat_stats st = { 0 };
	int32_t *ids = NULL;
	size_t n = 0;
	int rc;
	c->err[0] = '\0';
	if (reply)
		*reply = NULL;
	if (len)
		*len = 0;
	if (!s->n)
		return fail(c, MX_EEMPTY, "no messages to reply to");
	size_t n_ctx = (size_t)eng_llm_n_ctx(c->m);
	size_t room = c->max_tokens > 0 ? (size_t)c->max_tokens : n_ctx / 2;
	if (room > n_ctx / 2)
		room = n_ctx / 2;
	if (room < 1)
		room = 1;
	for (;;) {
		if ((rc = build_prompt(c, s, &ids, &n)))
			return rc;
		if (n + room <= n_ctx)
			break;
		size_t i, j;
		if (!droppable(s, &i, &j)) {
			free(ids);
			return fail(c, MX_ETOOBIG,
				    "the message is too long for the context window (%zu tokens, "
				    "%zu with room for the reply; the context holds %zu)",
				    n, n + room, n_ctx);
		}
		/* system messages inside the range stay */
		for (size_t q = j; q-- > i;) {
			if (s->v[q].role != CHAT_ROLE_SYSTEM) {
				chat_session_remove(s, q, 1);
				st.n_dropped++;
			}
		}
		free(ids);
	}
	st.n_prompt = n;
	/* reuse the cached prefix; at least one token is computed */
	size_t k = 0;
	while (k < n && k < c->n_cache && c->cache[k] == ids[k])
		k++;
	if (k == n)
		k = n - 1;
	if ((rc = eng_llm_truncate(c->m, (int)k))) {
		eng_llm_reset(c->m);
		k = 0;
	}
	c->n_cache = k;
	memcpy(c->cache + k, ids + k, (n - k) * sizeof *ids);
	st.n_computed = n - k;

	struct gen g = { .c = c, .fn = fn, .ctx = ctx, .prompt_n = n, .end = CHAT_END_MAX };
	mx_buf_init(&g.all, MAX_REPLY_BYTES);
	size_t n_eog;
	const int32_t *eog = tok_eog_ids(c->t, &n_eog);
	struct eng_gen_params gp = eng_gen_params_default();
	gp.max_tokens = c->max_tokens > 0 ? c->max_tokens : (int)(n_ctx - n);
	gp.stop = eog;
	gp.n_stop = n_eog;
	gp.on_token = on_token;
	gp.ctx = &g;
	struct eng_gen_stats gs = { 0 };
	gp.stats = &gs;
	size_t n_out = 0;
	enum eng_stop why;
	clock_gettime(CLOCK_MONOTONIC, &g.t0);
	rc = eng_llm_generate(c->m, c->s, ids + k, n - k, &gp, NULL, 0, &n_out, &why);
	free(ids);
	if (rc) {
		/* the cache no longer says what the model holds */
		eng_llm_reset(c->m);
		c->n_cache = 0;
		mx_buf_free(&g.all);
		if (rc == MX_ETOOBIG)
			return fail(c, rc, "the prompt does not fit in the context window");
		return fail(c, rc, "the model failed: %s",
			    eng_llm_errmsg(c->m)[0] ? eng_llm_errmsg(c->m) : mx_strerror(rc));
	}
	if (g.rc) {
		eng_llm_reset(c->m);
		c->n_cache = 0;
		mx_buf_free(&g.all);
		return fail(c, g.rc, "the reply is too long");
	}
	/* what the KV cache holds now: the prompt and the generated tokens
	 * that were fed (all but a last one at a full context) */
	size_t fed = n_out - (why == ENG_STOP_CONTEXT && n_out ? 1 : 0);
	c->n_cache = n + fed <= n_ctx ? n + fed : n_ctx;
	if ((size_t)eng_llm_n_past(c->m) != c->n_cache) {
		eng_llm_reset(c->m);
		c->n_cache = 0;
	}
	if (!g.stopped) {
		g.end = why == ENG_STOP_TOKEN	  ? CHAT_END_EOG
			: why == ENG_STOP_CONTEXT ? CHAT_END_CONTEXT
						  : CHAT_END_MAX;
		g.cut = g.all.len;
		if (emit_upto(&g, g.cut))
			g.end = CHAT_END_CALLER;
	}
	st.end = g.end;
	st.n_generated = g.n_gen;
	st.n_scored = gs.n_tokens;
	st.sum_logprob = gs.sum_logprob;
	st.sum_entropy = gs.sum_entropy;
	st.prompt_s = g.have_first ? (double)(g.t_first.tv_sec - g.t0.tv_sec) +
					     1e-9 * (double)(g.t_first.tv_nsec - g.t0.tv_nsec)
				   : since(&g.t0);
	st.gen_s = g.have_first ? since(&g.t_first) : 0;
	size_t b = g.started ? g.start : g.cut;
	size_t rl = g.cut > b ? g.cut - b : 0;
	const char *text = g.all.data ? g.all.data + b : "";
	if ((rc = chat_session_add(s, CHAT_ROLE_ASSISTANT, text, rl))) {
		mx_buf_free(&g.all);
		return fail(c, rc, "cannot keep the reply in the conversation");
	}
	if (reply) {
		if (!(*reply = malloc(rl + 1))) {
			mx_buf_free(&g.all);
			return fail(c, MX_ENOMEM, "out of memory");
		}
		memcpy(*reply, text, rl);
		(*reply)[rl] = '\0';
	}
	if (len)
		*len = rl;
	if (stats)
		*stats = st;
	mx_buf_free(&g.all);
	return 0;
}
