/* cmd_ask.c - memex ask: retrieve, assemble a context, answer, print.
 *
 * The answer logic is in retriever/answer.h (ret_answer_*): this file
 * only reads options, opens the index and the embedder, and prints. Without
 * a chat model the answer is extractive: the sentences of the context that
 * best answer the question, each with its citation. When retrieval is weak
 * the answer is withheld and the nearest hits shown. */
#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "../common/status.h"
#include "../engine/engine.h"
#include "../retriever/answer.h"
#include "../router/arbiter.h"
#include "cli.h"

static const char note_extractive[] =
	"No chat model is installed, so this answer is extractive: the sentences of your data "
	"that best answer the question. A chat model would give a written answer.";
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

/* The lines of document n's chunks in the context (0 when none apply). */
static void cite_lines(const struct ret_answer *a, int n, int64_t *ls, int64_t *le)
{
	*ls = *le = 0;
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

static void print_text(struct cli *c, const struct ret_answer *a)
{
	char label[1024], safe[1024];
	if (a->nctx == 0) {
		printf("Nothing in the index matches this question.\n");
		return;
	}
	if (a->abstained) {
		printf("%s\nNearest matches:\n", note_abstained);
		for (int n = 1; n <= a->ncites; n++) {
			const struct ret_ctx_chunk *ch = cite_chunk(a, n);
			cite_label(a, n, label, sizeof label);
			printf("[%d] %s\n", n, cli_safe(label, safe, sizeof safe));
			if (ch && ch->hit.snippet)
				cli_print_snippet(ch->hit.snippet, c->stdout_tty, "    ");
		}
		return;
	}
	/* the sentences, then the documents they cite (in citation order) */
	bool used[1024] = { false };
	for (size_t i = 0; i < a->nsent; i++) {
		const struct ret_answer_sent *s = &a->sent[i];
		char *one = strdup(s->text);
		if (one) {
			for (char *p = one; *p; p++)
				if (*p == '\n' || *p == '\t')
					*p = ' ';
			printf("%s [%d]\n", cli_safe(one, safe, sizeof safe), s->cite);
			free(one);
		}
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

static void print_json(const char *question, const struct ret_answer *a, const char *model,
		       json_object *cloud)
{
	json_object *o = json_object_new_object();
	size_t len = 1;
	for (size_t i = 0; i < a->nsent; i++)
		len += strlen(a->sent[i].text) + 16;
	char *text = malloc(len);
	if (text) {
		size_t at = 0;
		text[0] = '\0';
		for (size_t i = 0; i < a->nsent && !a->abstained; i++)
			at += (size_t)snprintf(text + at, len - at, "%s%s [%d]", i ? " " : "",
					       a->sent[i].text, a->sent[i].cite);
	}
	json_object_object_add(o, "question", cli_json_string(question));
	json_object_object_add(o, "answer", a->abstained ? NULL : cli_json_string(text));
	json_object_object_add(o, "abstained", json_object_new_boolean(a->abstained));
	json_object_object_add(o, "kind", json_object_new_string("extractive"));
	json_object_object_add(o, "model", model ? json_object_new_string(model) : NULL);
	json_object_object_add(o, "where", json_object_new_string("local"));
	json_object_object_add(o, "retrieval", json_object_new_string(ret_mode_name(a->mode)));
	json_object_object_add(o, "coverage", json_object_new_double(a->coverage));
	json_object_object_add(o, "cosine",
			       a->cosine >= -1 ? json_object_new_double(a->cosine) : NULL);
	json_object_object_add(o, "context_tokens", json_object_new_int64((int64_t)a->ctx_tokens));
	json_object_object_add(o, "note", json_object_new_string(a->abstained ? note_abstained
									       : note_extractive));
	json_object *sents = json_object_new_array();
	for (size_t i = 0; i < a->nsent && !a->abstained; i++)
		json_object_array_add(sents, sent_json(&a->sent[i], a));
	json_object_object_add(o, "sentences", sents);
	json_object *cites = json_object_new_array();
	for (int n = 1; n <= a->ncites; n++)
		if (cite_chunk(a, n))
			json_object_array_add(cites, cite_json(a, n));
	json_object_object_add(o, a->abstained ? "nearest" : "citations", cites);
	json_object_object_add(o, "cloud", cloud); /* the arbiter (route.c) */
	cli_json_print(o);
	free(text);
}

/* ---- the command ------------------------------------------------------ */

int cmd_ask(struct cli *c, int argc, char **argv)
{
	struct query_opts q = { 0 };
	int ret = cli_query_opts_parse("ask", 5, argc, argv, &q);
	if (ret)
		return ret;
	struct ret_answer a = { 0 };
	struct store *st = NULL;
	struct ret_answer_params p = ret_answer_params_default(false);
	p.ret.mode = q.mode_set ? (enum ret_mode)q.mode : RET_BM25;
	p.docs = q.limit;

	/* retrieve */
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
	/* assemble the context and answer */
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
	if (rc) {
		cli_error("cannot answer: %s", a.err[0] ? a.err : store_errmsg(st));
		ret = CLI_ERR;
		goto out;
	}
	/* print, then the arbiter: local, or the sanitized question to the cloud */
	struct cli_route_opts ro = { .dry_run = q.dry_run,
				     .explain = q.explain,
				     .json = q.json,
				     .local = a.nctx && !a.abstained ? RTR_LOCAL_ANSWERED
								     : RTR_LOCAL_ABSTAINED };
	json_object *cloud = NULL;
	if (!q.json) {
		print_text(c, &a);
		fflush(stdout);
	}
	ret = cli_route(c, st, q.query, &p.ret, &ro, &cloud);
	if (q.json)
		print_json(q.query, &a, NULL, cloud);
out:
	eng_embedder_close(p.ret.embedder);
	ret_answer_clear(&a);
	store_close(st);
	free(q.query);
	return ret;
}
