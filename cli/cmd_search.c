/* cmd_search.c - memex search: BM25-ranked passages with citations. */
#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>

#include "../retriever/retriever.h"
#include "cli.h"

int cmd_search(struct cli *c, int argc, char **argv)
{
	struct query_opts q = { 0 };
	int ret = cli_query_opts_parse("search", c->cfg.search_results, argc, argv, &q);
	if (ret)
		return ret;
	struct ret_params p = ret_params_default();
	p.limit = q.limit;
	p.per_doc = !q.all_chunks;
	struct ret_result res = { 0 };
	struct store *st = NULL;
	ret = cli_run_query(c, q.query, &p, &st, &res);
	if (ret)
		goto out;
	if (q.json) {
		json_object *o = json_object_new_object();
		json_object *arr = cli_hits_json(&res);
		json_object_object_add(o, "query", cli_json_string(q.query));
		json_object_object_add(o, "relaxed", json_object_new_boolean(res.relaxed));
		json_object_object_add(o, "hits", arr);
		cli_json_print(o);
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
		char cite[1024], safe[1024];
		ret_citation(h, cite, sizeof cite);
		const char *title = cli_safe(h->title && *h->title ? h->title : "(untitled)", safe,
					     sizeof safe);
		if (c->stdout_tty)
			printf("\033[1m%zu. %s\033[0m\n", i + 1, title);
		else
			printf("%zu. %s\n", i + 1, title);
		printf("   %s\n", cli_safe(cite, safe, sizeof safe));
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
