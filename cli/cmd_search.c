/* cmd_search.c - memex search and memex ask (extractive, until a chat model
 * exists): both rank passages with the retriever and print citations. */
#include <getopt.h>
#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "../common/buf.h"
#include "../common/status.h"
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

static json_object *hit_json(const struct store_hit *h, size_t rank)
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
	json_object_object_add(o, "title", h->title ? json_object_new_string(h->title) : NULL);
	json_object_object_add(o, "author", h->author ? json_object_new_string(h->author) : NULL);
	json_object_object_add(o, "date", date[0] ? json_object_new_string(date) : NULL);
	json_object_object_add(o, "path", full ? json_object_new_string(full) : NULL);
	json_object_object_add(o, "message_id",
			       h->message_id ? json_object_new_string(h->message_id) : NULL);
	json_object_object_add(o, "line_start", json_object_new_int64(h->line_start));
	json_object_object_add(o, "line_end", json_object_new_int64(h->line_end));
	json_object_object_add(o, "byte_start", json_object_new_int64(h->byte_start));
	json_object_object_add(o, "byte_end", json_object_new_int64(h->byte_end));
	json_object_object_add(o, "chunk_id", json_object_new_int64(h->chunk_id));
	json_object_object_add(o, "document_id", json_object_new_int64(h->doc_id));
	json_object_object_add(o, "citation", json_object_new_string(cite));
	json_object_object_add(o, "snippet", snip ? json_object_new_string(snip) : NULL);
	free(full);
	free(snip);
	return o;
}

static int run_query(struct cli *c, const char *query, struct ret_params *p, struct store **stp,
		     struct ret_result *res)
{
	int ex;
	struct store *st = cli_store_open(c, false, true, &ex);
	if (!st)
		return ex;
	*stp = st;
	int rc = ret_search(st, query, p, res);
	if (rc == MX_EEMPTY) {
		cli_error("the query has no words to search for");
		return CLI_USAGE;
	}
	if (rc) {
		cli_error("search failed: %s", store_errmsg(st));
		return CLI_ERR;
	}
	return CLI_OK;
}

struct query_opts {
	size_t limit;
	bool json, all_chunks;
	char *query;
};

static int parse_opts(const char *name, size_t deflimit, int argc, char **argv,
		      struct query_opts *q)
{
	static const struct option opts[] = {
		{ "limit", required_argument, NULL, 'n' },
		{ "json", no_argument, NULL, 'j' },
		{ "all-chunks", no_argument, NULL, 'a' },
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
		case 'a':
			if (!strcmp(name, "search")) {
				q->all_chunks = true;
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

int cmd_search(struct cli *c, int argc, char **argv)
{
	struct query_opts q = { 0 };
	int ret = parse_opts("search", c->cfg.search_results, argc, argv, &q);
	if (ret)
		return ret;
	struct ret_params p = ret_params_default();
	p.limit = q.limit;
	p.per_doc = !q.all_chunks;
	struct ret_result res = { 0 };
	struct store *st = NULL;
	ret = run_query(c, q.query, &p, &st, &res);
	if (ret)
		goto out;
	if (q.json) {
		json_object *o = json_object_new_object();
		json_object *arr = json_object_new_array();
		for (size_t i = 0; i < res.n; i++)
			json_object_array_add(arr, hit_json(&res.hits[i], i + 1));
		json_object_object_add(o, "query", json_object_new_string(q.query));
		json_object_object_add(o, "relaxed", json_object_new_boolean(res.relaxed));
		json_object_object_add(o, "hits", arr);
		puts(json_object_to_json_string_ext(o, JSON_C_TO_STRING_PRETTY |
							       JSON_C_TO_STRING_NOSLASHESCAPE));
		json_object_put(o);
		goto out;
	}
	if (res.n == 0) {
		printf("No matches for '%s'.\n", q.query);
		goto out;
	}
	if (res.relaxed)
		printf("No passage has all the words; showing passages with any of them.\n\n");
	for (size_t i = 0; i < res.n; i++) {
		const struct store_hit *h = &res.hits[i];
		char cite[1024];
		ret_citation(h, cite, sizeof cite);
		if (c->stdout_tty)
			printf("\033[1m%zu. %s\033[0m\n", i + 1,
			       h->title && *h->title ? h->title : "(untitled)");
		else
			printf("%zu. %s\n", i + 1, h->title && *h->title ? h->title : "(untitled)");
		printf("   %s\n", cite);
		cli_print_snippet(h->snippet, c->stdout_tty, "   ");
		if (i + 1 < res.n)
			putchar('\n');
	}
out:
	ret_result_clear(&res);
	store_close(st);
	free(q.query);
	return ret;
}

int cmd_ask(struct cli *c, int argc, char **argv)
{
	struct query_opts q = { 0 };
	int ret = parse_opts("ask", 3, argc, argv, &q);
	if (ret)
		return ret;
	struct ret_params p = ret_params_default();
	p.limit = q.limit;
	p.question = true;
	p.snippet_tokens = 48;
	struct ret_result res = { 0 };
	struct store *st = NULL;
	static const char note[] = "No chat model is installed, so this answer is extractive: "
				   "the passages that best match the question.";
	ret = run_query(c, q.query, &p, &st, &res);
	if (ret)
		goto out;
	if (q.json) {
		json_object *o = json_object_new_object();
		json_object *arr = json_object_new_array();
		for (size_t i = 0; i < res.n; i++)
			json_object_array_add(arr, hit_json(&res.hits[i], i + 1));
		json_object_object_add(o, "question", json_object_new_string(q.query));
		json_object_object_add(o, "mode", json_object_new_string("extractive"));
		json_object_object_add(o, "model", NULL);
		json_object_object_add(o, "note", json_object_new_string(note));
		json_object_object_add(o, "citations", arr);
		puts(json_object_to_json_string_ext(o, JSON_C_TO_STRING_PRETTY |
							       JSON_C_TO_STRING_NOSLASHESCAPE));
		json_object_put(o);
		goto out;
	}
	printf("%s\n\n", note);
	if (res.n == 0) {
		printf("Nothing in the index matches this question.\n");
		goto out;
	}
	for (size_t i = 0; i < res.n; i++) {
		char cite[1024];
		ret_citation(&res.hits[i], cite, sizeof cite);
		printf("[%zu] ", i + 1);
		cli_print_snippet(res.hits[i].snippet, c->stdout_tty, "");
	}
	printf("\n");
	for (size_t i = 0; i < res.n; i++) {
		char cite[1024];
		ret_citation(&res.hits[i], cite, sizeof cite);
		printf("[%zu] %s\n", i + 1, cite);
	}
out:
	ret_result_clear(&res);
	store_close(st);
	free(q.query);
	return ret;
}
