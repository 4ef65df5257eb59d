/* cmd_search.c - memex search: BM25-ranked passages with citations. */
#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

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
	p.mode = q.mode_set ? (enum ret_mode)q.mode : RET_BM25;
	ret = cli_run_query(c, q.query, &p, !q.mode_set, &st, &res);
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
	/* With --threads, the hits of one thread print together, under a
	 * header, in the order of the thread's best hit. */
	bool *done = calloc(res.n ? res.n : 1, sizeof *done);
	if (!done) {
		cli_error("out of memory");
		ret = CLI_ERR;
		goto out;
	}
	size_t shown = 0;
	for (size_t i = 0; i < res.n; i++) {
		if (done[i])
			continue;
		const char *tid = q.threads ? res.hits[i].thread_id : NULL;
		if (tid) {
			size_t k = 0;
			for (size_t j = i; j < res.n; j++)
				k += res.hits[j].thread_id && !strcmp(res.hits[j].thread_id, tid);
			printf("%sthread %s (%zu hit%s; 'memex thread %s' shows it)\n",
			       shown ? "\n" : "", tid, k, k == 1 ? "" : "s", tid);
		}
		for (size_t j = i; j < res.n; j++) {
			const struct store_hit *h = &res.hits[j];
			if (done[j] ||
			    (j > i && (!tid || !h->thread_id || strcmp(h->thread_id, tid))))
				continue;
			done[j] = true;
			char cite[1024], safe[1024];
			const char *ind = tid ? "  " : "";
			ret_citation(h, cite, sizeof cite);
			const char *title = cli_safe(
				h->title && *h->title ? h->title : "(untitled)", safe, sizeof safe);
			if (shown && !tid)
				putchar('\n');
			if (c->stdout_tty)
				printf("%s\033[1m%zu. %s\033[0m\n", ind, j + 1, title);
			else
				printf("%s%zu. %s\n", ind, j + 1, title);
			printf("%s   %s\n", ind, cli_safe(cite, safe, sizeof safe));
			cli_print_snippet(h->snippet, c->stdout_tty, tid ? "     " : "   ");
			shown++;
		}
	}
	free(done);
out:
	ret_result_clear(&res);
	store_close(st);
	free(q.query);
	return ret;
}
