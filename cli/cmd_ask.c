/* cmd_ask.c - memex ask: until a chat model is installed, an extractive
 * answer: the best passages with numbered citations, and a line that says
 * so. */
#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>

#include "../retriever/retriever.h"
#include "cli.h"

int cmd_ask(struct cli *c, int argc, char **argv)
{
	struct query_opts q = { 0 };
	int ret = cli_query_opts_parse("ask", 3, argc, argv, &q);
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
	p.mode = q.mode_set ? (enum ret_mode)q.mode : RET_BM25;
	ret = cli_run_query(c, q.query, &p, !q.mode_set, &st, &res);
	if (ret)
		goto out;
	if (q.json) {
		json_object *o = json_object_new_object();
		json_object *arr = cli_hits_json(&res);
		json_object_object_add(o, "question", cli_json_string(q.query));
		json_object_object_add(o, "mode", json_object_new_string("extractive"));
		json_object_object_add(o, "model", NULL);
		json_object_object_add(o, "note", json_object_new_string(note));
		json_object_object_add(o, "citations", arr);
		cli_json_print(o);
		goto out;
	}
	printf("%s\n\n", note);
	if (res.n == 0) {
		printf("Nothing in the index matches this question.\n");
		goto out;
	}
	for (size_t i = 0; i < res.n; i++) {
		printf("[%zu] ", i + 1);
		cli_print_snippet(res.hits[i].snippet, c->stdout_tty, "");
	}
	printf("\n");
	for (size_t i = 0; i < res.n; i++) {
		char cite[1024], safe[1024];
		ret_citation(&res.hits[i], cite, sizeof cite);
		printf("[%zu] %s\n", i + 1, cli_safe(cite, safe, sizeof safe));
	}
out:
	ret_result_clear(&res);
	store_close(st);
	free(q.query);
	return ret;
}
