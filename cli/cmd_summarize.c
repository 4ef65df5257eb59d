/* cmd_summarize.c - memex summarize: a mail thread, a document, or a
 * digest of recent mail grouped by thread.
 *
 * The summaries are made in retriever/summary.h; this file finds the
 * target in the index, reads the messages or the document back from their
 * files (quoted replies and signatures marked, so they are not summarised
 * twice), opens the embedder and the chat model, and prints. */
#include <getopt.h>
#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "../common/buf.h"
#include "../common/status.h"
#include "../common/utf8.h"
#include "../connectors/conn.h"
#include "../engine/chat.h"
#include "../engine/engine.h"
#include "../engine/llm.h"
#include "../retriever/retriever.h"
#include "../retriever/summary.h"
#include "cli.h"

#define THREAD_MAX     500	    /* messages of one thread read */
#define DIGEST_SCAN    2000	    /* messages a digest looks at */
#define SECTIONS_MAX   40	    /* sections listed for a document */
#define MEMBERS_MAX    40	    /* documents of an archive listed */
#define PEOPLE_SHOWN   10	    /* recipients who sent nothing, listed */
#define SUM_MAX_TOKENS 384	    /* of a written summary, by default */
#define RENDER_MAX     (4u << 20)   /* bytes of a thread rendered for the model */
#define GEN_MAX_TEXT   (256u << 10) /* bytes a chat model reads (map-reduce) */

struct sum_opts {
	size_t sentences, limit, max_tokens;
	bool json, extractive;
	const char *model, *since, *from;
};

/* What the summaries share: the models, how to print. */
struct sum_ctx {
	struct cli *c;
	struct store *st;
	struct eng_embedder *e;
	struct chat *ch;
	struct ret_summary_params p;
	const struct sum_opts *o;
	const char *model_name; /* the chat model's architecture, or NULL */
	bool gen_truncated;	/* the last written summary read only the start */
	size_t shown;		/* threads of a digest printed so far */
};

#define SUM_SKIP 3 /* summarize_thread: a digest's thread not found, skipped */

/* ---- small helpers ---------------------------------------------------- */

/* Text made one safe line: runs of white space become one space. */
static const char *one_line(const char *s, size_t n, char *buf, size_t bn)
{
	char tmp[2048];
	size_t o = 0;
	bool space = false;
	for (size_t i = 0; i < n && s[i] && o + 2 < sizeof tmp; i++) {
		if (s[i] == ' ' || s[i] == '\n' || s[i] == '\t' || s[i] == '\r') {
			space = o > 0;
			continue;
		}
		if (space)
			tmp[o++] = ' ';
		tmp[o++] = s[i];
		space = false;
	}
	tmp[o] = '\0';
	return cli_safe(tmp, buf, bn);
}

static void ymd(int64_t t, char *buf, size_t n)
{
	time_t tt = (time_t)t;
	struct tm tm;
	buf[0] = '\0';
	if (t && gmtime_r(&tt, &tm))
		strftime(buf, n, "%Y-%m-%d", &tm);
}

/* The quoted spans of a document as ret_spans (malloc'd; NULL when none). */
static struct ret_span *quoted_spans(const struct conn_doc *d)
{
	if (!d->nquoted)
		return NULL;
	struct ret_span *s = malloc(d->nquoted * sizeof *s);
	for (size_t i = 0; s && i < d->nquoted; i++)
		s[i] = (struct ret_span){ d->quoted[i].start, d->quoted[i].end };
	return s;
}

/* The file line of byte off of a document's text, 0 when lines do not
 * apply. */
static int64_t line_of(const struct conn_doc *d, size_t off)
{
	if (d->line_base < 0)
		return 0;
	int64_t l = d->line_base + 1;
	for (size_t i = 0; i < off && i < d->text_len; i++)
		l += d->text[i] == '\n';
	return l;
}

static json_object *span_json(const char *text, struct ret_span sp)
{
	json_object *o = json_object_new_object();
	char *s = strndup(text + sp.start, sp.end - sp.start);
	json_object_object_add(o, "text", cli_json_string(s));
	json_object_object_add(o, "byte_start", json_object_new_int64((int64_t)sp.start));
	json_object_object_add(o, "byte_end", json_object_new_int64((int64_t)sp.end));
	free(s);
	return o;
}

/* Progress of a long written summary, on a terminal's stderr. */
static void progress(void *ctx, size_t round, size_t part, size_t parts)
{
	const struct cli *c = ctx;
	if (!c->stderr_tty)
		return;
	fprintf(stderr, "\r%s part %zu of about %zu ...   ", round ? "combining" : "reading", part,
		parts);
	fflush(stderr);
}

/* The written summary of text (at most GEN_MAX_TEXT bytes of it), streamed
 * unless json. NULL after printing an error. */
static char *generate(struct sum_ctx *x, const char *instr, const char *text, size_t len,
		      struct ret_gen_stats *gs)
{
	char err[256] = "", *reply = NULL;
	bool stream = !x->o->json;
	x->gen_truncated = len > GEN_MAX_TEXT;
	if (len > GEN_MAX_TEXT) {
		cli_warn("the text is long: the model reads its first %u KiB", GEN_MAX_TEXT >> 10);
		len = mx_utf8_floor(text, GEN_MAX_TEXT);
	}
	int rc = ret_summary_generate(x->ch, instr, text, len, stream ? cli_print_piece : NULL,
				      x->c, progress, x->c, &reply, gs, err, sizeof err);
	if (x->c->stderr_tty && gs->parts > 1)
		fprintf(stderr, "\r%40s\r", "");
	if (stream)
		printf("\n");
	if (rc) {
		cli_error("the chat model failed: %s", err[0] ? err : mx_strerror(rc));
		return NULL;
	}
	return reply;
}

static json_object *gen_json(const struct ret_gen_stats *gs)
{
	json_object *g = json_object_new_object();
	json_object_object_add(g, "parts", json_object_new_int64((int64_t)gs->parts));
	json_object_object_add(g, "reduce_rounds", json_object_new_int64((int64_t)gs->rounds));
	json_object_object_add(g, "calls", json_object_new_int64((int64_t)gs->calls));
	return g;
}

static void add_mode(struct sum_ctx *x, json_object *o)
{
	json_object_object_add(o, "mode",
			       json_object_new_string(x->ch ? "generative" : "extractive"));
	json_object_object_add(o, "model",
			       x->model_name ? json_object_new_string(x->model_name) : NULL);
	json_object_object_add(o, "embedder",
			       x->e ? cli_json_string(eng_embedder_name(x->e)) : NULL);
	json_object_object_add(o, "where", json_object_new_string("local"));
}

/* ===================================================================== */
/* documents                                                             */
/* ===================================================================== */

/* An archive's documents (its entries memex reads, each a document of
 * its own): id, title and type, and the best two sentences of each; the
 * archive's own text is only the list of its entry names. Into o's
 * "documents" with --json, else printed. 0, or -1 after an error. */
static int summarize_members(struct sum_ctx *x, const struct store_docfull *d,
			     const struct conn_doc *doc, json_object *o)
{
	struct store_docfull *k = NULL;
	size_t nk = 0, ns = 0;
	struct ret_sum_sent *s = NULL;
	char err[256] = "", buf[2048], safe[4096];
	int ret = -1;
	if (store_doc_children(x->st, d->id, &k, &nk)) {
		cli_error("%s", store_errmsg(x->st));
		return -1;
	}
	json_object *arr = o ? json_object_new_array() : NULL;
	if (o) {
		/* summarised the same way with or without a chat model */
		json_object_object_add(o, "mode", json_object_new_string("extractive"));
		json_object_object_add(o, "model", NULL);
		json_object_object_add(o, "summary", json_object_new_string(""));
		json_object_object_add(o, "sentences", json_object_new_array());
		json_object_object_add(o, "truncated", json_object_new_boolean(false));
		json_object_object_add(o, "documents", arr); /* o owns it */
		json_object_object_add(o, "documents_total", json_object_new_int64((int64_t)nk));
	} else if (nk == 0) {
		printf("The archive holds no document memex reads (its entries: 'memex show "
		       "%lld').\n",
		       (long long)d->id);
	} else {
		printf("An archive of %zu document%s; 'memex summarize ID' summarises one:\n", nk,
		       nk == 1 ? "" : "s");
	}
	struct ret_summary_params sp = x->p;
	sp.sentences = 2;
	for (size_t i = 0; i < nk && i < MEMBERS_MAX; i++) {
		const struct store_docfull *m = &k[i];
		/* its entry: the store's part is the archive's part, '/', the
		 * entry's (an archive inside an archive) */
		const struct conn_doc *c = NULL;
		size_t pl = d->part && *d->part ? strlen(d->part) + 1 : 0;
		const char *key = m->part && strlen(m->part) > pl ? m->part + pl : "";
		for (size_t j = 0; j < doc->nchildren && !c; j++)
			if (doc->children[j].part && !strcmp(doc->children[j].part, key))
				c = &doc->children[j];
		bool ok = !m->status || !strcmp(m->status, "ok");
		json_object *jm = NULL, *js = NULL;
		if (o) {
			jm = json_object_new_object();
			json_object_object_add(jm, "document_id", json_object_new_int64(m->id));
			json_object_object_add(jm, "type", cli_json_string(m->type));
			json_object_object_add(jm, "title", cli_json_string(m->title));
			json_object_object_add(jm, "status", cli_json_string(m->status));
			js = json_object_new_array();
			json_object_object_add(jm, "sentences", js);
			json_object_array_add(arr, jm);
		} else {
			printf("\n  [%lld] %s (%s)\n", (long long)m->id,
			       one_line(m->title ? m->title : "", m->title ? strlen(m->title) : 0,
					buf, sizeof buf),
			       cli_safe(m->type ? m->type : "?", safe, sizeof safe));
		}
		if (!ok) {
			if (!o)
				printf("      (not indexed: %s)\n",
				       cli_safe(m->error && *m->error ? m->error : m->status, safe,
						sizeof safe));
			continue;
		}
		if (!c) {
			if (!o)
				printf("      (changed since it was indexed: run 'memex index')\n");
			continue;
		}
		if (c->nchildren && !o) {
			printf("      (an archive of its own: 'memex summarize %lld')\n",
			       (long long)m->id);
			continue;
		}
		struct ret_span *skip = quoted_spans(c);
		int rc = ret_summary_extract(c->text ? c->text : "", c->text_len, skip, c->nquoted,
					     &sp, &s, &ns, NULL, err, sizeof err);
		free(skip);
		if (rc) {
			cli_error("cannot summarise: %s", err[0] ? err : "out of memory");
			goto out;
		}
		for (size_t j = 0; j < ns; j++) {
			if (js)
				json_object_array_add(js, span_json(c->text, s[j].sp));
			else
				printf("      %s\n", one_line(c->text + s[j].sp.start,
							    s[j].sp.end - s[j].sp.start, buf,
							    sizeof buf));
		}
		if (!ns && !o)
			printf("      (no sentences to summarise)\n");
		free(s);
		s = NULL;
	}
	if (nk > MEMBERS_MAX && !o)
		printf("\n  (%zu more documents: 'memex search' finds them, type:X narrows it)\n",
		       nk - MEMBERS_MAX);
	ret = 0;
out:
	free(s);
	store_docfulls_free(k, nk);
	return ret;
}

static int summarize_doc(struct sum_ctx *x, const struct store_docfull *d)
{
	struct conn_doc doc;
	struct ret_sum_sent *s = NULL;
	size_t ns = 0;
	bool truncated = false;
	char err[256] = "", safe[4096], buf[2048], path[8200];
	char *reply = NULL;
	struct ret_gen_stats gs = { 0 };
	int ret = CLI_ERR;
	json_object *o = NULL, *secs = NULL;
	if (d->status && strcmp(d->status, "ok")) {
		/* failed or skipped at 'memex index': it has no text to read back */
		snprintf(path, sizeof path, "%s%s%s", d->source_path, d->path[0] ? "/" : "",
			 d->path);
		cli_error("'%s' was not indexed: %s", cli_safe(path, safe, sizeof safe),
			  d->error && *d->error ? d->error : d->status);
		return CLI_ERR;
	}
	if (cli_load_doc(x->c, d, &doc))
		return CLI_ERR;
	struct ret_span *skip = quoted_spans(&doc);
	snprintf(path, sizeof path, "%s%s%s", d->source_path, d->path[0] ? "/" : "", d->path);
	if (x->o->json) {
		o = json_object_new_object();
		json_object_object_add(o, "kind", json_object_new_string("document"));
		json_object_object_add(o, "document_id", json_object_new_int64(d->id));
		json_object_object_add(o, "type", cli_json_string(d->type));
		json_object_object_add(o, "title", cli_json_string(d->title));
		json_object_object_add(o, "path", cli_json_string(path));
		json_object_object_add(o, "bytes", json_object_new_int64((int64_t)doc.text_len));
		add_mode(x, o);
	} else {
		printf("Summary of %s", cli_safe(path, safe, sizeof safe));
		if (d->title && *d->title)
			printf(" (%s)", one_line(d->title, strlen(d->title), buf, sizeof buf));
		printf("\n\n");
	}
	bool archive = d->type && !strcmp(d->type, "archive");
	if (archive) {
		if (summarize_members(x, d, &doc, o))
			goto out;
	} else if (x->ch) {
		reply = generate(x, ret_summary_instructions_doc(), doc.text, doc.text_len, &gs);
		if (!reply)
			goto out;
		if (o) {
			json_object_object_add(o, "summary", cli_json_string(reply));
			json_object_object_add(o, "generation", gen_json(&gs));
			json_object_object_add(o, "truncated",
					       json_object_new_boolean(x->gen_truncated));
		} else if (gs.parts > 1) {
			printf("(written from %zu parts in %zu round%s)\n", gs.parts, gs.rounds,
			       gs.rounds == 1 ? "" : "s");
		}
	} else {
		if (ret_summary_extract(doc.text, doc.text_len, skip, doc.nquoted, &x->p, &s, &ns,
					&truncated, err, sizeof err)) {
			cli_error("cannot summarise: %s", err[0] ? err : "out of memory");
			goto out;
		}
		json_object *arr = o ? json_object_new_array() : NULL;
		struct mx_buf all;
		mx_buf_init(&all, 1u << 20);
		for (size_t i = 0; i < ns; i++) {
			struct ret_span sp = s[i].sp;
			int64_t ls = line_of(&doc, sp.start), le = line_of(&doc, sp.end);
			if (arr) {
				json_object *j = span_json(doc.text, sp);
				json_object_object_add(j, "line_start", json_object_new_int64(ls));
				json_object_object_add(j, "line_end", json_object_new_int64(le));
				json_object_object_add(j, "score",
						       json_object_new_double(s[i].score));
				json_object_array_add(arr, j);
				mx_buf_appendf(&all, "%s%.*s", i ? " " : "",
					       (int)(sp.end - sp.start), doc.text + sp.start);
			} else if (ls) {
				printf("%s [%lld-%lld]\n",
				       one_line(doc.text + sp.start, sp.end - sp.start, buf,
						sizeof buf),
				       (long long)ls, (long long)le);
			} else {
				printf("%s\n", one_line(doc.text + sp.start, sp.end - sp.start, buf,
							sizeof buf));
			}
		}
		if (o) {
			json_object_object_add(o, "summary",
					       cli_json_string(all.data ? all.data : ""));
			json_object_object_add(o, "sentences", arr);
			json_object_object_add(o, "truncated", json_object_new_boolean(truncated));
		} else if (!ns) {
			printf("(no sentences to summarise)\n");
		}
		mx_buf_free(&all);
		free(s);
		s = NULL;
	}
	/* the sections, one or two sentences each (extractive) */
	size_t nsec = 0;
	for (size_t k = 0; k < doc.nsections; k++)
		nsec += doc.sections[k].heading && *doc.sections[k].heading;
	if (nsec > 1) {
		struct ret_summary_params sp = x->p;
		sp.sentences = 2;
		if (o) {
			secs = json_object_new_array();
			json_object_object_add(o, "sections", secs); /* o owns it */
		} else
			printf("\nSections:\n");
		size_t shown = 0;
		for (size_t k = 0; k < doc.nsections; k++) {
			const struct conn_section *sec = &doc.sections[k];
			size_t a = sec->start,
			       b = k + 1 < doc.nsections ? doc.sections[k + 1].start : doc.text_len;
			if (!sec->heading || !*sec->heading || a >= b || b > doc.text_len)
				continue;
			if (shown++ == SECTIONS_MAX) {
				if (!o)
					printf("  (%zu more sections)\n", nsec - SECTIONS_MAX);
				break;
			}
			if (ret_summary_extract(doc.text + a, b - a, NULL, 0, &sp, &s, &ns, NULL,
						err, sizeof err)) {
				cli_error("cannot summarise: %s", err[0] ? err : "out of memory");
				goto out;
			}
			json_object *js = NULL, *jarr = NULL;
			if (o) {
				js = json_object_new_object();
				jarr = json_object_new_array();
				json_object_object_add(js, "heading",
						       cli_json_string(sec->heading));
				json_object_object_add(js, "byte_start",
						       json_object_new_int64((int64_t)a));
				json_object_object_add(js, "byte_end",
						       json_object_new_int64((int64_t)b));
				if (sec->page)
					json_object_object_add(js, "page",
							       json_object_new_int(sec->page));
			} else {
				printf("  %s\n", one_line(sec->heading, strlen(sec->heading), buf,
							  sizeof buf));
			}
			for (size_t i = 0; i < ns; i++) {
				struct ret_span g = { a + s[i].sp.start, a + s[i].sp.end };
				if (jarr)
					json_object_array_add(jarr, span_json(doc.text, g));
				else
					printf("    %s\n",
					       one_line(doc.text + g.start, g.end - g.start, buf,
							sizeof buf));
			}
			if (js) {
				json_object_object_add(js, "sentences", jarr);
				json_object_array_add(secs, js);
			}
			free(s);
			s = NULL;
		}
	}
	if (o) {
		if (!secs)
			json_object_object_add(o, "sections", json_object_new_array());
		cli_json_print(o);
		o = NULL;
	} else {
		if (truncated)
			printf("\n(the document is long: only its first %u MiB were read)\n",
			       RET_SUM_MAX_TEXT >> 20);
		if (archive)
			printf("\nExtractive summary: the best sentences of each document of the "
			       "archive%s.\n",
			       x->e ? "" : " (chosen by word overlap; an embedder would do better)");
		else if (!x->ch)
			printf("\nExtractive summary: sentences of the document, in its order%s.\n",
			       x->e ? ""
				    : " (chosen by word overlap; an embedder would do better)");
	}
	ret = CLI_OK;
out:
	json_object_put(o);
	free(reply);
	free(s);
	free(skip);
	conn_doc_clear(&doc);
	return ret;
}

/* ===================================================================== */
/* threads                                                               */
/* ===================================================================== */

/* A thread read back: the store's rows, the texts, the quoted spans. */
struct thread {
	char *subject; /* of the thread's first message (malloc'd) */
	struct store_docfull *d;
	size_t n;
	struct conn_doc *doc;
	struct ret_span **skip;
	struct ret_thread_msg *m;
	size_t older; /* messages since `after` left out: more than THREAD_MAX */
};

static void thread_free(struct thread *t)
{
	for (size_t i = 0; t->doc && i < t->n; i++) {
		conn_doc_clear(&t->doc[i]);
		free(t->skip[i]);
	}
	free(t->doc);
	free(t->skip);
	free(t->m);
	free(t->subject);
	store_docfulls_free(t->d, t->n);
	memset(t, 0, sizeof *t);
}

/* Reads the messages of thread key (those dated since `after` when > 0).
 * CLI_OK, SUM_SKIP when there is no such thread and quiet, or an exit
 * status after printing the error. */
static int thread_read(struct sum_ctx *x, const char *key, int64_t after, bool quiet,
		       struct thread *t)
{
	struct store_docfull *all = NULL;
	size_t n = 0;
	memset(t, 0, sizeof *t);
	int rc = store_thread_get(x->st, key, &all, &n);
	if (rc == MX_ENOTFOUND && quiet)
		return SUM_SKIP;
	if (rc == MX_ENOTFOUND) {
		char safe[1024];
		cli_error("no thread, message or document '%s' in the index",
			  cli_safe(key, safe, sizeof safe));
		return CLI_ERR;
	}
	if (rc) {
		cli_error("%s", store_errmsg(x->st));
		return CLI_ERR;
	}
	/* keep the newest THREAD_MAX of those since `after` */
	size_t from = 0;
	while (from < n && after > 0 && all[from].date < after)
		from++;
	if (n - from > THREAD_MAX) {
		t->older = n - from - THREAD_MAX;
		from = n - THREAD_MAX;
	}
	t->n = n - from;
	t->d = calloc(t->n ? t->n : 1, sizeof *t->d);
	t->doc = calloc(t->n ? t->n : 1, sizeof *t->doc);
	t->skip = calloc(t->n ? t->n : 1, sizeof *t->skip);
	t->m = calloc(t->n ? t->n : 1, sizeof *t->m);
	if (!t->d || !t->doc || !t->skip || !t->m ||
	    !(t->subject = strdup(n && all[0].title ? all[0].title : "(no subject)"))) {
		store_docfulls_free(all, n);
		free(t->d);
		t->d = NULL;
		t->n = 0;
		thread_free(t);
		cli_error("out of memory");
		return CLI_ERR;
	}
	memcpy(t->d, all + from, t->n * sizeof *t->d);
	/* the rows moved to t->d stay; the others are cleared */
	for (size_t i = 0; i < from; i++)
		store_docfull_clear(&all[i]);
	free(all);
	/* one copy of each message: the same Message-ID in two folders (a
	 * list archive and the inbox, "All Mail" and a label) is one message */
	size_t kept = 0;
	for (size_t i = 0; i < t->n; i++) {
		bool dup = false;
		for (size_t j = 0; j < kept && !dup && t->d[i].message_id; j++)
			dup = t->d[j].message_id && !strcmp(t->d[j].message_id, t->d[i].message_id);
		if (dup)
			store_docfull_clear(&t->d[i]);
		else
			t->d[kept++] = t->d[i];
	}
	t->n = kept;
	for (size_t i = 0; i < t->n; i++) {
		if (cli_load_doc(x->c, &t->d[i], &t->doc[i])) {
			conn_doc_init(&t->doc[i]);
			continue; /* said why; the message is summarised as empty */
		}
		t->skip[i] = quoted_spans(&t->doc[i]);
		t->m[i] = (struct ret_thread_msg){
			.author = t->d[i].author,
			.recipients = t->d[i].recipients,
			.subject = t->d[i].title,
			.date = t->d[i].date,
			.text = t->doc[i].text,
			.len = t->doc[i].text_len,
			.skip = t->skip[i],
			.nskip = t->skip[i] ? t->doc[i].nquoted : 0,
		};
	}
	return CLI_OK;
}

/* The thread as text for the model: each message's headers and its own
 * (unquoted) text. malloc'd, or NULL. */
static char *thread_render(const struct thread *t)
{
	struct mx_buf b;
	char date[64];
	mx_buf_init(&b, RENDER_MAX);
	for (size_t i = 0; i < t->n; i++) {
		const struct conn_doc *d = &t->doc[i];
		cli_format_mail_date(t->d[i].date, t->d[i].date_offset, date, sizeof date);
		mx_buf_appendf(&b, "From: %s\nDate: %s\nSubject: %s\n\n",
			       t->d[i].author ? t->d[i].author : "?", date,
			       t->d[i].title ? t->d[i].title : "");
		size_t pos = 0;
		for (size_t q = 0; q <= d->nquoted && d->text; q++) {
			size_t end = q < d->nquoted ? d->quoted[q].start : d->text_len;
			if (end > d->text_len || end < pos)
				break;
			mx_buf_append(&b, d->text + pos, end - pos);
			pos = q < d->nquoted ? d->quoted[q].end : end;
		}
		mx_buf_appends(&b, "\n\n");
	}
	if (!b.data)
		mx_buf_appends(&b, "");
	return mx_buf_detach(&b);
}

/* "Name" or the address of a message's sender. */
static const char *sender_name(const struct ret_thread_summary *s, const char *author, char *buf,
			       size_t n)
{
	struct ret_participant *v = NULL;
	size_t k = 0, cap = 0;
	snprintf(buf, n, "%s", author ? author : "(unknown sender)");
	if (ret_addresses_parse(author, &v, &k, &cap) == 0 && k)
		snprintf(buf, n, "%s", v[0].name[0] ? v[0].name : v[0].addr);
	for (size_t i = 0; i < k; i++) {
		free(v[i].name);
		free(v[i].addr);
	}
	free(v);
	(void)s;
	return buf;
}

static const char *const kind_title[] = { "Summary", "Decisions", "Open questions",
					  "Action items" };
static const char *const kind_key[] = { "sentences", "decisions", "questions", "actions" };

/* The thread summary of t as JSON (a new object). */
static json_object *thread_json(struct sum_ctx *x, const struct thread *t,
				const struct ret_thread_summary *s, const char *reply,
				const struct ret_gen_stats *gs)
{
	json_object *o = json_object_new_object();
	char date[32], name[512];
	json_object_object_add(o, "kind", json_object_new_string("thread"));
	json_object_object_add(o, "thread_id", cli_json_string(t->d[0].thread_id));
	json_object_object_add(o, "subject", cli_json_string(t->subject));
	add_mode(x, o);
	json_object *people = json_object_new_array();
	for (size_t i = 0; i < s->npeople; i++) {
		json_object *p = json_object_new_object();
		json_object_object_add(p, "name", cli_json_string(s->people[i].name));
		json_object_object_add(p, "address", cli_json_string(s->people[i].addr));
		json_object_object_add(p, "sent",
				       json_object_new_int64((int64_t)s->people[i].sent));
		json_object_array_add(people, p);
	}
	json_object_object_add(o, "participants", people);
	json_object *msgs = json_object_new_array();
	for (size_t i = 0; i < t->n; i++) {
		json_object *m = json_object_new_object();
		ymd(t->d[i].date, date, sizeof date);
		json_object_object_add(m, "document_id", json_object_new_int64(t->d[i].id));
		json_object_object_add(m, "message_id", cli_json_string(t->d[i].message_id));
		json_object_object_add(m, "date", date[0] ? json_object_new_string(date) : NULL);
		json_object_object_add(
			m, "from",
			cli_json_string(sender_name(s, t->d[i].author, name, sizeof name)));
		if (s->timeline[i] != SIZE_MAX) {
			char *l = strndup(t->m[i].text + s->timeline[i],
					  s->timeline_end[i] - s->timeline[i]);
			json_object_object_add(m, "line", cli_json_string(l));
			free(l);
		} else {
			json_object_object_add(m, "line", NULL);
		}
		json_object_array_add(msgs, m);
	}
	json_object_object_add(o, "timeline", msgs);
	json_object *arr[4];
	for (int k = 0; k < 4; k++)
		arr[k] = json_object_new_array();
	for (size_t i = 0; i < s->nitems; i++) {
		const struct ret_thread_item *it = &s->items[i];
		json_object *j = span_json(t->m[it->msg].text, it->sp);
		json_object_object_add(j, "message", json_object_new_int64((int64_t)it->msg + 1));
		json_object_object_add(j, "document_id", json_object_new_int64(t->d[it->msg].id));
		json_object_object_add(
			j, "from",
			cli_json_string(sender_name(s, t->d[it->msg].author, name, sizeof name)));
		if (it->kind == RET_ITEM_GIST)
			json_object_object_add(j, "score", json_object_new_double(it->score));
		if (it->kind == RET_ITEM_QUESTION)
			json_object_object_add(j, "open", json_object_new_boolean(it->open));
		if (it->kind == RET_ITEM_ACTION) {
			ymd(it->due, date, sizeof date);
			json_object_object_add(j, "due",
					       it->due ? json_object_new_string(date) : NULL);
			char *dt = it->due ? strndup(t->m[it->msg].text + it->due_sp.start,
						     it->due_sp.end - it->due_sp.start)
					   : NULL;
			json_object_object_add(j, "due_text", cli_json_string(dt));
			free(dt);
		}
		json_object_array_add(arr[it->kind], j);
	}
	for (int k = 0; k < 4; k++)
		json_object_object_add(o, kind_key[k], arr[k]);
	if (reply) {
		json_object_object_add(o, "summary", cli_json_string(reply));
		json_object_object_add(o, "generation", gen_json(gs));
	} else {
		struct mx_buf all;
		mx_buf_init(&all, 1u << 20);
		for (size_t i = 0; i < s->nitems; i++)
			if (s->items[i].kind == RET_ITEM_GIST)
				mx_buf_appendf(&all, "%s%.*s", all.len ? " " : "",
					       (int)(s->items[i].sp.end - s->items[i].sp.start),
					       t->m[s->items[i].msg].text + s->items[i].sp.start);
		json_object_object_add(o, "summary", cli_json_string(all.data ? all.data : ""));
		mx_buf_free(&all);
	}
	json_object_object_add(o, "older_left_out", json_object_new_int64((int64_t)t->older));
	json_object_object_add(
		o, "truncated",
		json_object_new_boolean(s->truncated || t->older || (reply && x->gen_truncated)));
	return o;
}

/* Participants and timeline. */
static void thread_print_head(const struct thread *t, const struct ret_thread_summary *s)
{
	char buf[2048], name[512], date[64];
	size_t recipients = 0;
	for (size_t i = 0; i < s->npeople; i++) {
		if (!i)
			printf("Participants:\n");
		if (!s->people[i].sent && recipients++ >= PEOPLE_SHOWN) {
			if (i + 1 == s->npeople)
				printf("  (%zu more recipients; --json lists them)\n",
				       recipients - PEOPLE_SHOWN);
			continue;
		}
		if (s->people[i].name[0])
			printf("  %s <%s>", cli_safe(s->people[i].name, buf, sizeof buf),
			       s->people[i].addr);
		else
			printf("  %s", cli_safe(s->people[i].addr, buf, sizeof buf));
		if (s->people[i].sent)
			printf("  (%zu message%s)\n", s->people[i].sent,
			       s->people[i].sent == 1 ? "" : "s");
		else
			printf("  (recipient)\n");
	}
	printf("\nTimeline:\n");
	{
		for (size_t i = 0; i < t->n; i++) {
			cli_format_mail_date(t->d[i].date, t->d[i].date_offset, date, sizeof date);
			char who[512];
			printf("  %zu. %s  %s: %s\n", i + 1, date,
			       cli_safe(sender_name(s, t->d[i].author, name, sizeof name), who,
					sizeof who),
			       s->timeline[i] != SIZE_MAX
				       ? one_line(t->m[i].text + s->timeline[i],
						  s->timeline_end[i] - s->timeline[i], buf,
						  sizeof buf)
				       : "(no text)");
		}
	}
}

/* The gist (unless written by the model), decisions, open questions and
 * actions. */
static void thread_print_items(struct sum_ctx *x, const struct thread *t,
			       const struct ret_thread_summary *s, bool brief)
{
	char buf[2048], name[512], date[64];
	for (int k = x->ch ? 1 : 0; k < 4; k++) {
		bool any = false;
		for (size_t i = 0; i < s->nitems; i++) {
			const struct ret_thread_item *it = &s->items[i];
			if ((int)it->kind != k || (k == RET_ITEM_QUESTION && !it->open))
				continue;
			if (!any)
				printf("%s%s:\n", brief ? "" : "\n", kind_title[k]);
			any = true;
			/* the sentence without its own list marker */
			struct ret_span sp = it->sp;
			const char *tx = t->m[it->msg].text;
			if (sp.end - sp.start > 2 && (tx[sp.start] == '-' || tx[sp.start] == '*') &&
			    tx[sp.start + 1] == ' ')
				sp.start += 2;
			printf("  - %s (message %zu, %s",
			       one_line(tx + sp.start, sp.end - sp.start, buf, sizeof buf),
			       it->msg + 1,
			       cli_safe(sender_name(s, t->d[it->msg].author, name, sizeof name),
					date, sizeof date));
			if (it->due) {
				ymd(it->due, date, sizeof date);
				printf("; due %s", date);
			}
			printf(")\n");
		}
		if (!any && !brief && k > 0)
			printf("\n%s: none found\n", kind_title[k]);
	}
}

/* Summarises one thread; json: adds its object to arr (or prints it when
 * arr is NULL). brief: the digest's form. quiet: SUM_SKIP, nothing
 * printed, when there is no such thread or nothing in it since `after`. */
static int summarize_thread(struct sum_ctx *x, const char *key, int64_t after, bool brief,
			    bool quiet, json_object *arr)
{
	struct thread t;
	struct ret_thread_summary s = { 0 };
	struct ret_gen_stats gs = { 0 };
	char *reply = NULL, *text = NULL, buf[2048], d0[64], d1[64];
	int ret = thread_read(x, key, after, quiet, &t);
	if (ret)
		return ret;
	if (brief && !x->o->json && t.n && x->shown++)
		printf("\n");
	ret = CLI_ERR;
	if (!t.n) {
		ret = quiet ? SUM_SKIP : CLI_OK;
		goto out;
	}
	struct ret_summary_params p = x->p;
	if (brief)
		p.sentences = 2;
	int rc = ret_thread_summarize(t.m, t.n, &p, &s);
	if (rc) {
		cli_error("cannot summarise the thread: %s", s.err[0] ? s.err : mx_strerror(rc));
		goto out;
	}
	if (!x->o->json) {
		ymd(t.d[0].date, d0, sizeof d0);
		ymd(t.d[t.n - 1].date, d1, sizeof d1);
		printf("%s%s\n", brief ? "== " : "Thread: ",
		       one_line(t.subject, strlen(t.subject), buf, sizeof buf));
		printf("%s%zu message%s, %s%s%s", brief ? "   " : "", t.n, t.n == 1 ? "" : "s", d0,
		       strcmp(d0, d1) ? " to " : "", strcmp(d0, d1) ? d1 : "");
		if (t.older)
			printf(" (the newest; %zu older left out)", t.older);
		if (brief) {
			printf("; from ");
			for (size_t i = 0, k = 0; i < s.npeople; i++)
				if (s.people[i].sent)
					printf("%s%s", k++ ? ", " : "",
					       cli_safe(s.people[i].name[0] ? s.people[i].name
									    : s.people[i].addr,
							buf, sizeof buf));
		}
		printf("%s\n", brief ? "" : "\n");
	}
	if (!x->o->json && !brief)
		thread_print_head(&t, &s);
	if (x->ch) {
		text = thread_render(&t);
		if (!text) {
			cli_error("out of memory");
			goto out;
		}
		if (!x->o->json)
			printf("%sSummary:\n", brief ? "" : "\n");
		reply = generate(x, ret_summary_instructions_thread(), text, strlen(text), &gs);
		if (!reply)
			goto out;
	}
	if (x->o->json) {
		json_object *o = thread_json(x, &t, &s, reply, &gs);
		if (arr)
			json_object_array_add(arr, o);
		else
			cli_json_print(o);
	} else {
		thread_print_items(x, &t, &s, brief);
		if (!brief && !x->ch)
			printf("\nExtractive summary: sentences of the messages (quotes left out), in "
			       "thread order; decisions, questions and action items found by rule.\n");
	}
	ret = CLI_OK;
out:
	free(reply);
	free(text);
	ret_thread_summary_clear(&s);
	thread_free(&t);
	return ret;
}

/* ===================================================================== */
/* digests                                                               */
/* ===================================================================== */

/* --since's value as a day for the query ("after:DAY"): YYYY, YYYY-MM or
 * YYYY-MM-DD as given when that day exists; "7d" or "2w" as the day that
 * many days or weeks ago (UTC; at the earliest 1900-01-01). NULL (after
 * printing why) for anything else. */
static const char *since_day(const char *s, char *buf, size_t n)
{
	char *end;
	if (s[0] >= '0' && s[0] <= '9') {
		unsigned long v = strtoul(s, &end, 10);
		if (end != s && (*end == 'd' || *end == 'w') && !end[1] && v <= 36500) {
			int64_t t =
				(int64_t)time(NULL) - (int64_t)v * (*end == 'w' ? 7 : 1) * 86400;
			if (t < -2208988800LL) /* 1900-01-01 */
				t = -2208988800LL;
			ymd(t, buf, n);
			return buf;
		}
	}
	/* YYYY[-MM[-DD]], digits where digits go, a day that exists */
	size_t l = strlen(s);
	bool shape = (l == 4 || l == 7 || l == 10);
	for (size_t i = 0; shape && i < l; i++)
		shape = (i == 4 || i == 7) ? s[i] == '-' : (s[i] >= '0' && s[i] <= '9');
	if (shape) {
		int y = (s[0] - '0') * 1000 + (s[1] - '0') * 100 + (s[2] - '0') * 10 + (s[3] - '0');
		int m = l > 4 ? (s[5] - '0') * 10 + (s[6] - '0') : 1;
		int d = l > 7 ? (s[8] - '0') * 10 + (s[9] - '0') : 1;
		struct tm tm = {
			.tm_year = y - 1900, .tm_mon = m - 1, .tm_mday = d, .tm_hour = 12
		};
		time_t t = timegm(&tm);
		struct tm back;
		if (y >= 1900 && m >= 1 && m <= 12 && t != (time_t)-1 && gmtime_r(&t, &back) &&
		    back.tm_mday == d && back.tm_mon == m - 1) {
			snprintf(buf, n, "%s", s);
			return buf;
		}
	}
	char safe[256];
	cli_error("--since takes a day that exists as YYYY-MM-DD, YYYY-MM or YYYY (1900 or "
		  "later), or Nd / Nw (N days or weeks ago, N up to 36500), not '%s'",
		  cli_safe(s, safe, sizeof safe));
	return NULL;
}

/* A message of a digest's hits: its Message-ID, else (a part with none)
 * the Message-ID of the message holding it and its part. */
static int cmp_msg(const void *pa, const void *pb)
{
	const struct store_hit *a = *(const struct store_hit *const *)pa;
	const struct store_hit *b = *(const struct store_hit *const *)pb;
	bool ida = a->message_id && *a->message_id, idb = b->message_id && *b->message_id;
	int c = strcmp(ida ? a->message_id : a->parent_message_id,
		       idb ? b->message_id : b->parent_message_id);
	if (c || (ida && idb))
		return c;
	return strcmp(ida ? "" : a->part ? a->part : "", idb ? "" : b->part ? b->part : "");
}

/* The messages among a digest's hits: *top counts the mail files' own
 * messages, *embedded the messages inside them (a MIME digest's parts, a
 * forwarded message); the same message in two files is one (by Message-ID,
 * or for a part without one by its message's and its place in it), a
 * message without any id is one by itself. -1 when out of memory. */
static int count_messages(const struct store_hit *h, size_t nh, size_t *top, size_t *embedded)
{
	const struct store_hit **v[2];
	size_t n[2] = { 0, 0 }, *out[2] = { top, embedded };
	v[0] = calloc(nh ? nh : 1, sizeof *v[0]);
	v[1] = calloc(nh ? nh : 1, sizeof *v[1]);
	if (!v[0] || !v[1]) {
		free(v[0]);
		free(v[1]);
		return -1;
	}
	*top = *embedded = 0;
	for (size_t i = 0; i < nh; i++) {
		int k = h[i].parent_message_id != NULL;
		if (k || (h[i].message_id && *h[i].message_id))
			v[k][n[k]++] = &h[i];
		else
			(*top)++;
	}
	for (int k = 0; k < 2; k++) {
		qsort(v[k], n[k], sizeof *v[k], cmp_msg);
		for (size_t i = 0; i < n[k]; i++)
			*out[k] += i == 0 || cmp_msg(&v[k][i - 1], &v[k][i]);
		free(v[k]);
	}
	return 0;
}

static int digest(struct sum_ctx *x)
{
	char q[1024], err[160] = "", safe[1024], since[64];
	struct ret_query rq = { 0 };
	struct store_hit *h = NULL;
	size_t nh = 0;
	int ret = CLI_ERR;
	char **seen = NULL;
	size_t nseen = 0;
	json_object *o = NULL, *arr = NULL;
	if (!since_day(x->o->since, since, sizeof since))
		return CLI_USAGE;
	if (x->o->from && (!x->o->from[0] || strpbrk(x->o->from, " \t"))) {
		cli_error("--from takes one word (an address or a name)");
		return CLI_USAGE;
	}
	snprintf(q, sizeof q, "after:%s%s%s", since, x->o->from ? " from:" : "",
		 x->o->from ? x->o->from : "");
	int rc = ret_query_parse(q, &rq, err, sizeof err);
	if (rc) {
		cli_error("--since: %s", err[0] ? err : mx_strerror(rc));
		return CLI_USAGE;
	}
	rq.filter.type = "mail";
	if (store_filter_list(x->st, &rq.filter, DIGEST_SCAN, &h, &nh)) {
		cli_error("%s", store_errmsg(x->st));
		goto out;
	}
	size_t nmsg = 0, nemb = 0;
	seen = calloc(nh ? nh : 1, sizeof *seen);
	if (!seen || count_messages(h, nh, &nmsg, &nemb)) {
		cli_error("out of memory");
		goto out;
	}
	if (x->o->json) {
		o = json_object_new_object();
		arr = json_object_new_array();
		json_object_object_add(o, "kind", json_object_new_string("digest"));
		json_object_object_add(o, "since", cli_json_string(since));
		json_object_object_add(o, "from", cli_json_string(x->o->from));
		json_object_object_add(o, "messages", json_object_new_int64((int64_t)nmsg));
		json_object_object_add(o, "embedded_messages",
				       json_object_new_int64((int64_t)nemb));
		/* the newest DIGEST_SCAN were read: there may be more */
		json_object_object_add(o, "messages_capped",
				       json_object_new_boolean(nh >= DIGEST_SCAN));
		add_mode(x, o);
	} else {
		char emb[96] = "";
		if (nemb)
			snprintf(emb, sizeof emb, ", and %zu embedded in %s (a digest's parts, "
				 "forwarded mail)", nemb, nmsg == 1 ? "it" : "them");
		printf("Mail since %s%s%s: %s%zu message%s%s%s\n\n",
		       cli_safe(since, safe, sizeof safe), x->o->from ? " from " : "",
		       x->o->from ? x->o->from : "", nh >= DIGEST_SCAN ? "at least " : "", nmsg,
		       nmsg == 1 ? "" : "s", emb, nh >= DIGEST_SCAN ? " (the newest are read)" : "");
	}
	/* threads newest first (the hits are), each once */
	size_t done = 0;
	for (size_t i = 0; i < nh && done < x->o->limit; i++) {
		char key[64];
		const char *k = h[i].thread_id ? h[i].thread_id : h[i].message_id;
		/* a message inside a message (a digest's part, a forwarded
		 * message) is summarised with the thread of the one holding it */
		struct store_docfull pd = { 0 };
		if (h[i].parent_message_id && !store_doc_get(x->st, h[i].parent_message_id, &pd) &&
		    pd.thread_id) {
			snprintf(key, sizeof key, "%s", pd.thread_id);
			k = key;
		}
		store_docfull_clear(&pd);
		if (!k) {
			snprintf(key, sizeof key, "%lld", (long long)h[i].doc_id);
			k = key;
		}
		bool dup = false;
		for (size_t j = 0; j < nseen && !dup; j++)
			dup = !strcmp(seen[j], k);
		if (dup)
			continue;
		if (!(seen[nseen] = strdup(k))) {
			cli_error("out of memory");
			goto out;
		}
		nseen++;
		int r = summarize_thread(x, k, rq.filter.after, true, true, arr);
		if (r == SUM_SKIP)
			continue; /* not a thread of its own (and no message-id) */
		if (r)
			goto out;
		done++;
	}
	if (o) {
		json_object_object_add(o, "threads", arr);
		arr = NULL;
		cli_json_print(o);
		o = NULL;
	} else if (!nh) {
		printf("(nothing)\n");
	} else if (done >= x->o->limit && nseen < nh) {
		printf("\n(the newest %zu threads; -n shows more)\n", done);
	}
	ret = CLI_OK;
out:
	json_object_put(arr);
	json_object_put(o);
	for (size_t j = 0; j < nseen; j++)
		free(seen[j]);
	free(seen);
	store_hits_free(h, nh);
	ret_query_clear(&rq);
	return ret;
}

/* ===================================================================== */
/* the command                                                           */
/* ===================================================================== */

static int parse_opts(int argc, char **argv, struct sum_opts *o)
{
	static const struct option opts[] = {
		{ "sentences", required_argument, NULL, 's' },
		{ "limit", required_argument, NULL, 'n' },
		{ "json", no_argument, NULL, 'j' },
		{ "extractive", no_argument, NULL, 'x' },
		{ "model", required_argument, NULL, 'M' },
		{ "max-tokens", required_argument, NULL, 'T' },
		{ "since", required_argument, NULL, 'S' },
		{ "from", required_argument, NULL, 'f' },
		{ NULL, 0, NULL, 0 },
	};
	int opt;
	*o = (struct sum_opts){ .sentences = 5, .limit = 20, .max_tokens = SUM_MAX_TOKENS };
	while ((opt = getopt_long(argc, argv, "n:s:", opts, NULL)) != -1) {
		switch (opt) {
		case 's':
			if (cli_parse_count(optarg, 1, 100, &o->sentences)) {
				cli_error("--sentences takes a number from 1 to 100, not '%s'",
					  optarg);
				return CLI_USAGE;
			}
			break;
		case 'n':
			if (cli_parse_count(optarg, 1, 1000, &o->limit)) {
				cli_error("-n takes a number from 1 to 1000, not '%s'", optarg);
				return CLI_USAGE;
			}
			break;
		case 'T':
			if (cli_parse_count(optarg, 1, 1u << 16, &o->max_tokens)) {
				cli_error("--max-tokens takes a number from 1 to 65536, not '%s'",
					  optarg);
				return CLI_USAGE;
			}
			break;
		case 'j': o->json = true; break;
		case 'x': o->extractive = true; break;
		case 'M': o->model = optarg; break;
		case 'S': o->since = optarg; break;
		case 'f': o->from = optarg; break;
		default: return cli_usage(cli_command_find("summarize"), true);
		}
	}
	if (o->from && !o->since) {
		cli_error("--from goes with --since DATE");
		return CLI_USAGE;
	}
	if (o->since ? optind != argc : optind + 1 != argc)
		return cli_usage(cli_command_find("summarize"), true);
	return CLI_OK;
}

/* When key names a file or folder on disk (or looks like a path) that is
 * not in the index, says so and returns true; false: key may be an id. */
static bool not_indexed(const char *key, const char *abs)
{
	struct stat sb;
	char safe[4096];
	const char *show = cli_safe(abs ? abs : key, safe, sizeof safe);
	if (stat(key, &sb) == 0) {
		if (S_ISDIR(sb.st_mode))
			cli_error("'%s' is a folder: summarize takes one document or one thread",
				  show);
		else
			cli_error("'%s' is not in the index (not under a source, not indexed "
				  "yet, or a kind of file memex does not read)",
				  show);
		return true;
	}
	if (strchr(key, '/')) {
		cli_error("'%s': no such file, and no document or thread has that id", show);
		return true;
	}
	return false;
}

int cmd_summarize(struct cli *c, int argc, char **argv)
{
	struct sum_opts o;
	int ret = parse_opts(argc, argv, &o);
	if (ret)
		return ret;
	struct sum_ctx x = { .c = c, .o = &o, .p = ret_summary_params_default() };
	struct store_docfull d = { 0 };
	char *abs = NULL;
	x.p.sentences = o.sentences;
	int ex;
	x.st = cli_store_open(c, false, true, &ex);
	if (!x.st)
		return ex;
	ret = CLI_ERR;
	if (cli_embedder_open(c, &x.e))
		goto out;
	x.p.embedder = x.e;
	if (cli_chat_open(c, o.model, o.extractive, o.max_tokens, &x.ch))
		goto out;
	if (x.ch)
		x.model_name = eng_llm_arch(chat_llm(x.ch));
	if (o.since) {
		ret = digest(&x);
		goto out;
	}
	/* the target: a document (id, message-id or path), else a thread */
	const char *key = argv[optind];
	int rc = store_doc_get(x.st, key, &d);
	if (rc == MX_ENOTFOUND && (abs = cli_abspath(key)))
		rc = store_doc_get(x.st, abs, &d);
	if (rc == 0 && !strcmp(d.type, "mail")) {
		/* its thread, by the message's document id (key may be a path,
		 * which the thread lookup does not know); a message inside a
		 * message (a digest's part): the thread of the one holding it;
		 * a message in an archive: its thread, else the message alone */
		char id[32];
		struct store_docfull pd = { 0 };
		snprintf(id, sizeof id, "%lld", (long long)d.parent_id);
		bool in_mail = d.parent_id && !store_doc_get(x.st, id, &pd) && pd.type &&
			       !strcmp(pd.type, "mail");
		store_docfull_clear(&pd);
		snprintf(id, sizeof id, "%lld", (long long)(in_mail ? d.parent_id : d.id));
		ret = summarize_thread(&x,
				       in_mail || !d.parent_id || !d.thread_id ? id : d.thread_id,
				       0, false, d.parent_id != 0, NULL);
		if (ret == SUM_SKIP)
			ret = summarize_doc(&x, &d);
	} else if (rc == 0) {
		ret = summarize_doc(&x, &d);
	} else if (rc == MX_ENOTFOUND) {
		if (not_indexed(key, abs))
			goto out;
		/* a thread id */
		ret = summarize_thread(&x, key, 0, false, false, NULL);
	} else {
		cli_error("%s", store_errmsg(x.st));
	}
out:
	free(abs);
	store_docfull_clear(&d);
	chat_close(x.ch);
	eng_embedder_close(x.e);
	store_close(x.st);
	return ret;
}
