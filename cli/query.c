/* query.c - what search and ask share: options, running the retriever,
 * hits as JSON. */
#include <getopt.h>
#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "../common/buf.h"
#include "../common/status.h"
#include "../engine/engine.h"
#include "../retriever/retriever.h"
#include "cli.h"

#define QUERY_MAX 4096

/* The words of argv joined by spaces (malloc'd). */
static char *join_args(int argc, char **argv)
{
	struct mx_buf b;
	mx_buf_init(&b, QUERY_MAX);
	for (int i = 0; i < argc; i++)
		if ((i && mx_buf_append(&b, " ", 1)) || mx_buf_appends(&b, argv[i])) {
			mx_buf_free(&b);
			return NULL;
		}
	return mx_buf_detach(&b);
}

/* A copy of a snippet without its highlight markers. */
static char *plain(const char *s)
{
	size_t n = strlen(s);
	char *p = malloc(n + 1), *o = p;
	if (!p)
		return NULL;
	for (; *s; s++)
		if (*s != '\x02' && *s != '\x03')
			*o++ = *s;
	*o = '\0';
	return p;
}

json_object *cli_hit_json(const struct store_hit *h, size_t rank)
{
	char cite[1024], date[32] = "";
	ret_citation(h, cite, sizeof cite);
	if (h->date) {
		time_t t = (time_t)h->date;
		struct tm tm;
		if (gmtime_r(&t, &tm))
			strftime(date, sizeof date, "%Y-%m-%dT%H:%M:%SZ", &tm);
	}
	char *full = malloc(strlen(h->source_path) + strlen(h->path) + 2);
	char *snip = plain(h->snippet);
	if (full)
		snprintf(full, strlen(h->source_path) + strlen(h->path) + 2, "%s%s%s",
			 h->source_path, h->path[0] ? "/" : "", h->path);
	json_object *o = json_object_new_object();
	json_object_object_add(o, "rank", json_object_new_int64((int64_t)rank));
	json_object_object_add(o, "score", json_object_new_double(-h->score));
	json_object_object_add(o, "type", json_object_new_string(h->type ? h->type : ""));
	json_object_object_add(o, "title", cli_json_string(h->title));
	json_object_object_add(o, "author", cli_json_string(h->author));
	json_object_object_add(o, "date", date[0] ? json_object_new_string(date) : NULL);
	json_object_object_add(o, "path", cli_json_string(full));
	json_object_object_add(o, "message_id", cli_json_string(h->message_id));
	json_object_object_add(o, "line_start", json_object_new_int64(h->line_start));
	json_object_object_add(o, "line_end", json_object_new_int64(h->line_end));
	json_object_object_add(o, "byte_start", json_object_new_int64(h->byte_start));
	json_object_object_add(o, "byte_end", json_object_new_int64(h->byte_end));
	json_object_object_add(o, "thread_id", cli_json_string(h->thread_id));
	json_object_object_add(o, "chunk_id", json_object_new_int64(h->chunk_id));
	json_object_object_add(o, "document_id", json_object_new_int64(h->doc_id));
	json_object_object_add(o, "citation", cli_json_string(cite));
	json_object_object_add(o, "snippet", cli_json_string(snip));
	free(full);
	free(snip);
	return o;
}

int cli_query_embedder(struct cli *c, struct store *st, struct ret_params *p, bool mode_default)
{
	/* the vector legs: the configured embedder, if the index has its
	 * vectors; otherwise BM25 alone (or an error, if asked for) */
	struct eng_embedder *e = NULL;
	int64_t model = 0;
	if (p->mode != RET_BM25 || mode_default) {
		if (cli_embedder_open(c, &e)) {
			if (!mode_default)
				return CLI_ERR;
			cli_warn("searching with BM25 alone");
			e = NULL;
		}
		if (e && store_model_find(st, eng_embedder_fingerprint(e), &model) != 0) {
			eng_embedder_close(e);
			e = NULL;
		}
		if (!e && !mode_default) {
			cli_error("no embeddings in the index for this mode: convert a model with "
				  "'memex model convert' and run 'memex index'");
			return CLI_USAGE;
		}
		if (e && mode_default)
			p->mode = RET_HYBRID;
	}
	p->embedder = e;
	p->model_id = model;
	p->w_dense = c->cfg.w_dense;
	p->min_dense = c->cfg.min_dense;
	p->convex = c->cfg.convex;
	p->rrf_k = c->cfg.rrf_k;
	return CLI_OK;
}

int cli_run_query(struct cli *c, const char *query, struct ret_params *p, bool mode_default,
		  struct store **stp, struct ret_result *res)
{
	int ex;
	struct store *st = cli_store_open(c, false, true, &ex);
	if (!st)
		return ex;
	*stp = st;
	if ((ex = cli_query_embedder(c, st, p, mode_default)))
		return ex;
	struct eng_embedder *e = p->embedder;
	int rc = ret_search(st, query, p, res);
	eng_embedder_close(e);
	p->embedder = NULL;
	if (rc == MX_EEMPTY) {
		cli_error("the query has no words or filters to search for");
		return CLI_USAGE;
	}
	if (rc == MX_EINVAL && res->err[0]) {
		cli_error("%s", res->err);
		return CLI_USAGE;
	}
	if (rc) {
		cli_error("search failed: %s; the index may be damaged ('memex status --check' "
			  "checks it)",
			  store_errmsg(st));
		return CLI_ERR;
	}
	return CLI_OK;
}

int cli_query_opts_parse(const char *name, size_t deflimit, int argc, char **argv,
			 struct query_opts *q)
{
	static const struct option opts[] = {
		{ "limit", required_argument, NULL, 'n' },
		{ "json", no_argument, NULL, 'j' },
		{ "all-chunks", no_argument, NULL, 'a' },
		{ "threads", no_argument, NULL, 't' },
		{ "mode", required_argument, NULL, 'm' },
		{ "model", required_argument, NULL, 'M' },
		{ "extractive", no_argument, NULL, 'x' },
		{ "max-tokens", required_argument, NULL, 'T' },
		{ "dry-run", no_argument, NULL, 'D' },
		{ "explain", no_argument, NULL, 'E' },
		{ NULL, 0, NULL, 0 },
	};
	int opt;
	q->limit = deflimit;
	while ((opt = getopt_long(argc, argv, "n:", opts, NULL)) != -1) {
		switch (opt) {
		case 'n':
			if (cli_parse_count(optarg, 1, 1000, &q->limit)) {
				cli_error("-n takes a number from 1 to 1000, not '%s'", optarg);
				return CLI_USAGE;
			}
			break;
		case 'j': q->json = true; break;
		case 'm': {
			enum ret_mode m;
			if (ret_mode_parse(optarg, &m)) {
				cli_error("--mode takes bm25, dense or hybrid, not '%s'", optarg);
				return CLI_USAGE;
			}
			q->mode = m;
			q->mode_set = true;
			break;
		}
		case 'D':
		case 'E':
			if (!strcmp(name, "ask")) {
				if (opt == 'D')
					q->dry_run = true;
				else
					q->explain = true;
				break;
			}
			return cli_usage(cli_command_find(name), true);
		case 'M':
		case 'x':
		case 'T':
			if (strcmp(name, "ask"))
				return cli_usage(cli_command_find(name), true);
			if (opt == 'M') {
				q->model = optarg;
			} else if (opt == 'x') {
				q->extractive = true;
			} else if (cli_parse_count(optarg, 1, 1u << 16, &q->max_tokens)) {
				cli_error("--max-tokens takes a number from 1 to 65536, not '%s'",
					  optarg);
				return CLI_USAGE;
			}
			break;
		case 'a':
		case 't':
			if (!strcmp(name, "search")) {
				if (opt == 'a')
					q->all_chunks = true;
				else
					q->threads = true;
				break;
			}
			/* fall through */
		default: return cli_usage(cli_command_find(name), true);
		}
	}
	if (optind >= argc)
		return cli_usage(cli_command_find(name), true);
	q->query = join_args(argc - optind, argv + optind);
	if (!q->query) {
		cli_error("the query is too long (at most %d bytes)", QUERY_MAX);
		return CLI_USAGE;
	}
	return CLI_OK;
}

json_object *cli_hits_json(const struct ret_result *res)
{
	json_object *arr = json_object_new_array();
	for (size_t i = 0; i < res->n; i++)
		json_object_array_add(arr, cli_hit_json(&res->hits[i], i + 1));
	return arr;
}
