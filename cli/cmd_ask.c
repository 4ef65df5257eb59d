/* cmd_ask.c - memex ask: retrieve, assemble a context, answer, print.
 *
 * The answer logic is in retriever/answer.h (ret_answer_*): this file
 * only reads options, opens the index, the embedder and the chat model,
 * and prints. With a chat model (chat_model in the configuration, or
 * --model) the answer is written by it, streamed, and its citations
 * checked; without one it is extractive: the sentences of the context that
 * best answer the question, each with its citation. When retrieval is weak
 * the answer is withheld and the nearest hits shown. */
#include <ctype.h>
#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "../common/status.h"
#include "../engine/chat.h"
#include "../engine/engine.h"
#include "../engine/llm.h"
#include "../retriever/answer.h"
#include "../router/arbiter.h"
#include "cli.h"

static const char note_extractive[] =
	"No chat model is installed, so answers are extractive: the sentences of your data "
	"that best answer the question. A chat model would give a written answer.";
#define ASK_MAX_TOKENS 256 /* of a written answer, by default */
#define ASK_OVERHEAD   160 /* tokens of instructions, question and template */

static const char note_abstained[] = "The data does not seem to contain the answer to this "
				     "question.";

/* ---- printing --------------------------------------------------------- */

/* The first context chunk of citation n. */
static const struct ret_ctx_chunk *cite_chunk(const struct ret_answer *a, int n)
{
	for (size_t k = 0; k < a->nctx; k++)
		if (a->ctx[k].cite == n)
			return &a->ctx[k];
	return NULL;
}

/* The lines of document n the answer cites: those of its sentences, else
 * of its chunks in the context (0 when lines do not apply). */
static void cite_lines(const struct ret_answer *a, int n, int64_t *ls, int64_t *le)
{
	*ls = *le = 0;
	for (size_t i = 0; i < a->nsent; i++) {
		const struct ret_answer_sent *s = &a->sent[i];
		if (s->cite != n || s->line_start <= 0)
			continue;
		if (!*ls || s->line_start < *ls)
			*ls = s->line_start;
		if (s->line_end > *le)
			*le = s->line_end;
	}
	if (*ls)
		return;
	for (size_t k = 0; k < a->nctx; k++) {
		const struct store_hit *h = &a->ctx[k].hit;
		if (a->ctx[k].cite != n || h->line_start <= 0)
			continue;
		if (!*ls || h->line_start < *ls)
			*ls = h->line_start;
		if (h->line_end > *le)
			*le = h->line_end;
	}
}

static void cite_label(const struct ret_answer *a, int n, char *buf, size_t sz)
{
	const struct ret_ctx_chunk *c = cite_chunk(a, n);
	int64_t ls, le;
	cite_lines(a, n, &ls, &le);
	if (c)
		ret_cite_label(&c->hit, ls, le, buf, sz);
	else
		snprintf(buf, sz, "?");
}

/* Appends s to dst (at *at, cap bytes in all, kept NUL-terminated) with
 * its runs of white space made one space, after a space when *at > 0. */
static void squeeze(char *dst, size_t cap, size_t *at, const char *s)
{
	bool space = *at > 0;
	for (; *s && *at + 2 < cap; s++) {
		if (*s == ' ' || *s == '\n' || *s == '\t' || *s == '\r') {
			space = *at > 0;
			continue;
		}
		if (space)
			dst[(*at)++] = ' ';
		dst[(*at)++] = *s;
		space = false;
	}
	dst[*at] = '\0';
}

/* Text made one safe line: runs of white space become one space, then
 * cli_safe. */
static const char *one_line(const char *s, char *buf, size_t n)
{
	char tmp[1024];
	size_t o = 0;
	squeeze(tmp, sizeof tmp, &o, s);
	return cli_safe(tmp, buf, n);
}

void cli_ask_fit_window(const struct chat *ch, size_t max_tokens, struct ret_answer_params *p)
{
	long room = (long)chat_n_ctx(ch) - (long)max_tokens - ASK_OVERHEAD;
	if (room < (long)p->ctx_tokens)
		p->ctx_tokens = room > 32 ? (size_t)room : 32;
}

/* The context's documents with their snippets: what is shown instead of
 * a withheld answer. */
static void print_nearest(struct cli *c, const struct ret_answer *a)
{
	char label[1024], safe[1024];
	printf("Nearest matches:\n");
	for (int n = 1; n <= a->ncites; n++) {
		const struct ret_ctx_chunk *ch = cite_chunk(a, n);
		bool closest = false;
		cite_label(a, n, label, sizeof label);
		printf("[%d] %s\n", n, cli_safe(label, safe, sizeof safe));
		/* the lines of it closest to the question, else the snippet */
		for (size_t i = 0; i < a->nnear; i++)
			if (a->near[i].cite == n) {
				printf("    %s\n", one_line(a->near[i].text, safe, sizeof safe));
				closest = true;
			}
		if (!closest && ch && ch->hit.snippet)
			cli_print_snippet(ch->hit.snippet, c->stdout_tty, "    ");
	}
}

void cli_ask_print_text(struct cli *c, const struct ret_answer *a, const struct cli_ask_out *o)
{
	char label[1024], safe[1024];
	if (a->nctx == 0) {
		printf("Nothing in the index matches this question.\n");
		if (!o->model)
			printf("\n%s\n", note_extractive);
		return;
	}
	if (a->abstained) {
		printf("%s\n", note_abstained);
		print_nearest(c, a);
		if (!o->model)
			printf("\n%s\n", note_extractive);
		return;
	}
	bool used[1024] = { false };
	if (o->reply) {
		/* the streamed answer, then the documents it cites and the
		 * citations its sources do not seem to support */
		bool any = false;
		for (size_t i = 0; i < a->nsent; i++)
			if (a->sent[i].cite > 0 && a->sent[i].cite <= a->ncites &&
			    a->sent[i].cite < 1024)
				any = used[a->sent[i].cite] = true;
		printf("%s\n", o->streamed ? "" : one_line(o->reply, safe, sizeof safe));
		if (o->declined) {
			/* the model found no answer in the context: the
			 * passages, as when retrieval withholds */
			print_nearest(c, a);
			return;
		}
		for (int n = 1; n <= a->ncites && n < 1024; n++) {
			if (any && !used[n])
				continue;
			cite_label(a, n, label, sizeof label);
			printf("[%d] %s\n", n, cli_safe(label, safe, sizeof safe));
		}
		for (size_t i = 0; i < a->nsent; i++)
			if (a->sent[i].cite && !a->sent[i].supported)
				printf("unsupported [%d] (support %.2f): %s\n", a->sent[i].cite,
				       a->sent[i].support < 0 ? 0.0 : a->sent[i].support,
				       one_line(a->sent[i].text, safe, sizeof safe));
		if (!any)
			printf("(the answer cites none of these)\n");
		return;
	}
	/* the sentences, then the documents they cite (in citation order) */
	for (size_t i = 0; i < a->nsent; i++) {
		const struct ret_answer_sent *s = &a->sent[i];
		printf("%s [%d]\n", one_line(s->text, safe, sizeof safe), s->cite);
		if (s->cite > 0 && s->cite < 1024)
			used[s->cite] = true;
	}
	printf("\n");
	for (int n = 1; n <= a->ncites && n < 1024; n++) {
		if (!used[n])
			continue;
		cite_label(a, n, label, sizeof label);
		printf("[%d] %s\n", n, cli_safe(label, safe, sizeof safe));
	}
	printf("\n%s\n", note_extractive);
}

static json_object *sent_json(const struct ret_answer_sent *s, const struct ret_answer *a)
{
	json_object *o = json_object_new_object();
	json_object_object_add(o, "text", cli_json_string(s->text));
	json_object_object_add(o, "citation", s->cite ? json_object_new_int(s->cite) : NULL);
	json_object_object_add(o, "score", json_object_new_double(s->score));
	json_object_object_add(o, "support",
			       s->support >= 0 ? json_object_new_double(s->support) : NULL);
	json_object_object_add(o, "supported", json_object_new_boolean(s->supported));
	if (s->chunk < a->nctx)
		json_object_object_add(o, "chunk_id",
				       json_object_new_int64(a->ctx[s->chunk].hit.chunk_id));
	json_object_object_add(o, "line_start", json_object_new_int64(s->line_start));
	json_object_object_add(o, "line_end", json_object_new_int64(s->line_end));
	json_object_object_add(o, "byte_start", json_object_new_int64(s->byte_start));
	json_object_object_add(o, "byte_end", json_object_new_int64(s->byte_end));
	return o;
}

static json_object *cite_json(const struct ret_answer *a, int n)
{
	const struct ret_ctx_chunk *c = cite_chunk(a, n);
	char label[1024];
	cite_label(a, n, label, sizeof label);
	json_object *o = cli_hit_json(&c->hit, (size_t)n);
	json_object_object_del(o, "rank");
	json_object_object_del(o, "score");
	json_object_object_del(o, "chunk_id");
	json_object_object_del(o, "line_start");
	json_object_object_del(o, "line_end");
	json_object_object_del(o, "byte_start");
	json_object_object_del(o, "byte_end");
	json_object_object_add(o, "n", json_object_new_int(n));
	json_object_object_add(o, "label", cli_json_string(label));
	json_object *chunks = json_object_new_array();
	for (size_t k = 0; k < a->nctx; k++) {
		const struct store_hit *h = &a->ctx[k].hit;
		if (a->ctx[k].cite != n)
			continue;
		json_object *ch = json_object_new_object();
		json_object_object_add(ch, "chunk_id", json_object_new_int64(h->chunk_id));
		json_object_object_add(ch, "line_start", json_object_new_int64(h->line_start));
		json_object_object_add(ch, "line_end", json_object_new_int64(h->line_end));
		json_object_object_add(ch, "byte_start", json_object_new_int64(h->byte_start));
		json_object_object_add(ch, "byte_end", json_object_new_int64(h->byte_end));
		json_object_array_add(chunks, ch);
	}
	json_object_object_add(o, "chunks", chunks);
	return o;
}

json_object *cli_ask_json(const char *question, const struct ret_answer *a,
			  const struct cli_ask_out *ao)
{
	json_object *o = json_object_new_object();
	size_t len = 1;
	for (size_t i = 0; i < a->nsent; i++)
		len += strlen(a->sent[i].text) + 16;
	char *text = malloc(len);
	if (text) {
		size_t at = 0;
		text[0] = '\0';
		/* one line, as on the terminal: runs of white space (a form's
		 * "When:     Tuesday") become one space; `sentences` keeps the
		 * source's text, which its spans point at */
		for (size_t i = 0; i < a->nsent && !a->abstained; i++) {
			squeeze(text, len, &at, a->sent[i].text);
			at += (size_t)snprintf(text + at, len - at, " [%d]", a->sent[i].cite);
		}
	}
	json_object_object_add(o, "question", cli_json_string(question));
	json_object_object_add(o, "answer",
			       a->abstained ? NULL : cli_json_string(ao->reply ? ao->reply : text));
	json_object_object_add(o, "abstained",
			       json_object_new_boolean(a->abstained || ao->declined));
	json_object_object_add(o, "declined", json_object_new_boolean(ao->declined));
	json_object_object_add(o, "kind",
			       json_object_new_string(ao->reply ? "generative" : "extractive"));
	json_object_object_add(o, "model", ao->model ? json_object_new_string(ao->model) : NULL);
	json_object_object_add(o, "where", json_object_new_string("local"));
	json_object_object_add(o, "retrieval", json_object_new_string(ret_mode_name(a->mode)));
	json_object_object_add(o, "coverage", json_object_new_double(a->coverage));
	json_object_object_add(o, "cosine",
			       a->cosine >= -1 ? json_object_new_double(a->cosine) : NULL);
	json_object_object_add(o, "sentence_cosine",
			       a->sent_cosine >= -1 ? json_object_new_double(a->sent_cosine)
						    : NULL);
	json_object_object_add(o, "context_tokens", json_object_new_int64((int64_t)a->ctx_tokens));
	if (!ao->model)
		json_object_object_add(
			o, "note",
			json_object_new_string(a->abstained ? note_abstained : note_extractive));
	if (ao->prompt) {
		json_object *pr = json_object_new_object();
		json_object_object_add(pr, "system",
				       json_object_new_string(ret_answer_instructions()));
		json_object_object_add(pr, "user", cli_json_string(ao->prompt));
		json_object_object_add(o, "prompt", pr);
	}
	json_object *sents = json_object_new_array();
	for (size_t i = 0; i < a->nsent && !a->abstained; i++)
		json_object_array_add(sents, sent_json(&a->sent[i], a));
	json_object_object_add(o, "sentences", sents);
	json_object *cites = json_object_new_array();
	for (int n = 1; n <= a->ncites; n++)
		if (cite_chunk(a, n))
			json_object_array_add(cites, cite_json(a, n));
	if (a->abstained) {
		json_object_object_add(o, "citations", json_object_new_array());
		/* each with the lines of it closest to the question */
		for (size_t k = 0; k < json_object_array_length(cites); k++) {
			json_object *cj = json_object_array_get_idx(cites, k), *nv = NULL;
			json_object *closest = json_object_new_array();
			int n = json_object_object_get_ex(cj, "n", &nv) ? json_object_get_int(nv)
									: 0;
			for (size_t i = 0; i < a->nnear; i++)
				if (a->near[i].cite == n)
					json_object_array_add(closest, sent_json(&a->near[i], a));
			json_object_object_add(cj, "closest_sentences", closest);
		}
		json_object_object_add(o, "nearest", cites);
	} else {
		json_object_object_add(o, "citations", cites);
	}
	free(text);
	return o;
}

int cli_ask_write(struct cli *c, struct ret_answer *a, const char *question, struct chat *ch,
		  const struct ret_answer_params *p, bool json, struct cli_ask_out *o, char **reply,
		  char **prompt)
{
	*reply = *prompt = NULL;
	if (!ch || a->abstained || !a->nctx)
		return CLI_OK;
	o->streamed = !json;
	int rc = ret_answer_generate(a, question, ch, o->streamed ? cli_print_piece : NULL, c,
				     p->ret.embedder, p->min_support, reply, prompt);
	if (rc) {
		if (o->streamed)
			printf("\n");
		cli_error("the chat model failed: %s", a->err[0] ? a->err : mx_strerror(rc));
		return CLI_ERR;
	}
	o->reply = *reply;
	o->prompt = *prompt;
	o->declined = ret_answer_declines(*reply);
	return CLI_OK;
}

/* ---- the local draft ------------------------------------------------ */

#define DRAFT_MAX_TOKENS 48
static const char draft_system[] = "Answer the question briefly and accurately.";
static const char draft_label[] = "Local model answer (no sources: not from your data):";

struct draft {
	char *text; /* malloc'd, or NULL: no draft */
	struct chat_stats st;
	double logprob, entropy; /* means per token */
};

/* A short greedy answer to the question alone (no retrieved passages), on
 * this machine, with its confidence. A failure leaves d->text NULL (the
 * arbiter then goes without the signal); it is only a warning. */
static void draft_write(struct chat *ch, const char *question, struct draft *d)
{
	struct chat_session *s = NULL;
	memset(d, 0, sizeof *d);
	if (chat_session_new(&s))
		return;
	int old = chat_set_max_tokens(ch, DRAFT_MAX_TOKENS);
	int rc = chat_session_add(s, CHAT_ROLE_SYSTEM, draft_system, strlen(draft_system));
	if (!rc)
		rc = chat_session_add(s, CHAT_ROLE_USER, question, strlen(question));
	if (!rc)
		rc = chat_reply(ch, s, NULL, NULL, &d->text, NULL, &d->st);
	chat_set_max_tokens(ch, old);
	chat_session_free(s);
	if (rc) {
		cli_warn("no local draft answer: %s", chat_errmsg(ch));
		free(d->text);
		d->text = NULL;
		return;
	}
	if (d->st.n_scored) {
		d->logprob = d->st.sum_logprob / (double)d->st.n_scored;
		d->entropy = d->st.sum_entropy / (double)d->st.n_scored;
	} else {
		/* nothing generated: no confidence either */
		free(d->text);
		d->text = NULL;
	}
}

static json_object *draft_json(const struct draft *d)
{
	json_object *o = json_object_new_object();
	json_object_object_add(o, "answer", cli_json_string(d->text));
	json_object_object_add(o, "sources", json_object_new_boolean(false));
	json_object_object_add(o, "tokens", json_object_new_int64((int64_t)d->st.n_scored));
	json_object_object_add(o, "mean_logprob", json_object_new_double(d->logprob));
	json_object_object_add(o, "mean_entropy", json_object_new_double(d->entropy));
	return o;
}

/* ---- the command ------------------------------------------------------ */

/* Whether s holds a word to search for: a letter or digit (any byte of a
 * multi-byte UTF-8 character counts). "", "   " and "?" do not: dense
 * retrieval would still rank passages for them and answer with nonsense. */
static bool has_word(const char *s)
{
	for (; *s; s++)
		if (isalnum((unsigned char)*s) || (unsigned char)*s >= 0x80)
			return true;
	return false;
}

int cmd_ask(struct cli *c, int argc, char **argv)
{
	struct query_opts q = { 0 };
	int ret = cli_query_opts_parse("ask", 5, argc, argv, &q);
	if (ret)
		return ret;
	if (!has_word(q.query)) {
		cli_error("the question has no words to search for");
		free(q.query);
		return CLI_USAGE;
	}
	struct ret_answer a = { 0 };
	struct store *st = NULL;
	struct chat *ch = NULL;
	struct cli_ask_out o = { 0 };
	struct draft dr = { 0 };
	char *reply = NULL, *prompt = NULL;
	struct ret_answer_params p = ret_answer_params_default(false);
	size_t max_tokens = q.max_tokens ? q.max_tokens : ASK_MAX_TOKENS;
	p.ret.mode = q.mode_set ? (enum ret_mode)q.mode : RET_BM25;
	p.docs = q.limit;

	/* the models: the embedder for retrieval, the chat model (whose window
	 * bounds the context) for a written answer */
	int ex;
	st = cli_store_open(c, false, true, &ex);
	if (!st) {
		ret = ex;
		goto out;
	}
	if ((ret = cli_query_embedder(c, st, &p.ret, !q.mode_set)))
		goto out;
	if (p.ret.embedder) {
		/* the thresholds calibrated with an embedder */
		struct ret_answer_params d = ret_answer_params_default(true);
		p.min_coverage = d.min_coverage;
		p.min_cos = d.min_cos;
	}
	if ((ret = cli_chat_open(c, q.model, q.extractive, max_tokens, &ch)))
		goto out;
	if (ch) {
		o.model = eng_llm_arch(chat_llm(ch));
		cli_ask_fit_window(ch, max_tokens, &p);
	}

	/* retrieve and assemble the context (and the extractive answer) */
	int rc = ret_answer_run(st, q.query, &p, &a);
	if (rc == MX_EEMPTY) {
		cli_error("the question has no words to search for");
		ret = CLI_USAGE;
		goto out;
	}
	if (rc == MX_EINVAL && a.err[0]) {
		cli_error("%s", a.err);
		ret = CLI_USAGE;
		goto out;
	}
	if (rc && a.err[0]) {
		cli_error("cannot answer: %s", a.err);
		ret = CLI_ERR;
		goto out;
	}
	if (rc) {
		cli_error("search failed: %s; the index may be damaged ('memex status --check' "
			  "checks it)",
			  store_errmsg(st));
		ret = CLI_ERR;
		goto out;
	}

	/* the written answer, streamed, its citations checked */
	if ((ret = cli_ask_write(c, &a, q.query, ch, &p, q.json, &o, &reply, &prompt)))
		goto out;

	/* nothing from the index: a short local draft from the question alone,
	 * shown as the local answer and weighed by the arbiter */
	if (ch && (a.abstained || o.declined || !a.nctx))
		draft_write(ch, q.query, &dr);

	/* print, then the arbiter: local, or the sanitized question to the cloud */
	struct cli_route_opts ro = { .dry_run = q.dry_run,
				     .explain = q.explain,
				     .json = q.json,
				     .local = a.nctx && !a.abstained && !o.declined
						      ? RTR_LOCAL_ANSWERED
						      : RTR_LOCAL_ABSTAINED,
				     .local_model = ch != NULL,
				     .has_draft = dr.text != NULL,
				     .draft_logprob = dr.logprob,
				     .draft_entropy = dr.entropy,
				     .draft_tokens = dr.st.n_scored };
	json_object *cloud = NULL;
	if (!q.json) {
		cli_ask_print_text(c, &a, &o);
		if (dr.text) {
			char *safe = malloc(strlen(dr.text) * 4 + 1);
			printf("\n%s\n%s\n", draft_label,
			       safe ? cli_safe(dr.text, safe, strlen(dr.text) * 4 + 1) : "");
			free(safe);
		}
		fflush(stdout);
	}
	ret = cli_route(c, st, q.query, &p.ret, &ro, &cloud);
	if (q.json) {
		json_object *j = cli_ask_json(q.query, &a, &o);
		json_object_object_add(j, "cloud", cloud); /* the arbiter (route.c) */
		json_object_object_add(j, "draft", dr.text ? draft_json(&dr) : NULL);
		cli_json_print(j);
	} else {
		json_object_put(cloud);
	}
out:
	chat_close(ch);
	eng_embedder_close(p.ret.embedder);
	ret_answer_clear(&a);
	store_close(st);
	free(reply);
	free(prompt);
	free(dr.text);
	free(q.query);
	return ret;
}
