/* cmd_status.c - memex status: the index, its sources, its last run and
 * the files that could not be indexed. */
#include <getopt.h>
#include <json-c/json.h>
#include <stdio.h>
#include <string.h>

#include "../common/status.h"
#include "cli.h"

#define STATUS_PROBLEMS 20

int cmd_status(struct cli *c, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "json", no_argument, NULL, 'j' },
		{ "all", no_argument, NULL, 'a' },
		{ "check", no_argument, NULL, 'c' },
		{ NULL, 0, NULL, 0 },
	};
	bool json = false, all = false, check = false;
	int opt;
	while ((opt = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		if (opt == 'j')
			json = true;
		else if (opt == 'a')
			all = true;
		else if (opt == 'c')
			check = true;
		else
			return cli_usage(cli_command_find("status"), true);
	}
	if (optind < argc)
		return cli_usage(cli_command_find("status"), true);
	int ex;
	struct store *st = cli_store_open(c, false, true, &ex);
	if (!st)
		return ex;
	if (check) {
		int rc = store_check(st);
		if (rc) {
			cli_error(
				"the index '%s' is damaged: %s; move it aside and run 'memex init'",
				c->db_path, store_errmsg(st));
			store_close(st);
			return CLI_ERR;
		}
		if (!json)
			printf("integrity: ok\n");
	}
	int ret = CLI_ERR;
	struct store_stats s;
	struct store_run run = { 0 };
	struct store_source *src = NULL;
	struct store_problem *pr = NULL;
	size_t nsrc = 0, npr = 0;
	if (store_stats_get(st, &s) || store_source_list(st, &src, &nsrc) ||
	    store_problem_list(st, !all, all ? SIZE_MAX : STATUS_PROBLEMS + 1, &pr, &npr)) {
		cli_error("%s", store_errmsg(st));
		goto out;
	}
	int lrc = store_run_last(st, &run);
	if (lrc && lrc != MX_ENOTFOUND) {
		cli_error("%s", store_errmsg(st));
		goto out;
	}
	bool has_run = lrc == 0;
	if (json) {
		json_object *o = json_object_new_object();
		json_object_object_add(o, "index", cli_json_string(c->db_path));
		json_object_object_add(o, "schema", json_object_new_int(store_schema_version(st)));
		json_object_object_add(o, "bytes", json_object_new_int64(s.db_bytes));
		json_object_object_add(o, "sources", json_object_new_int64(s.nsources));
		json_object_object_add(o, "documents", json_object_new_int64(s.ndocs));
		json_object_object_add(o, "chunks", json_object_new_int64(s.nchunks));
		json_object_object_add(o, "vectors", json_object_new_int64(s.nvectors));
		json_object_object_add(o, "failed", json_object_new_int64(s.nerrors));
		json_object_object_add(o, "skipped", json_object_new_int64(s.nskipped));
		if (has_run) {
			json_object *r = json_object_new_object();
			json_object_object_add(r, "id", json_object_new_int64(run.id));
			json_object_object_add(r, "status", json_object_new_string(run.status));
			json_object_object_add(r, "started_at",
					       json_object_new_int64(run.started_at));
			json_object_object_add(r, "finished_at",
					       json_object_new_int64(run.finished_at));
			json_object_object_add(r, "files_seen",
					       json_object_new_int64(run.files_seen));
			json_object_object_add(r, "files_opened",
					       json_object_new_int64(run.files_opened));
			json_object_object_add(r, "added", json_object_new_int64(run.docs_added));
			json_object_object_add(r, "updated",
					       json_object_new_int64(run.docs_updated));
			json_object_object_add(r, "moved", json_object_new_int64(run.docs_moved));
			json_object_object_add(r, "removed",
					       json_object_new_int64(run.docs_removed));
			json_object_object_add(r, "failed", json_object_new_int64(run.docs_failed));
			json_object_object_add(o, "last_run", r);
		}
		json_object *arr = json_object_new_array();
		for (size_t i = 0; i < npr; i++) {
			json_object *p = json_object_new_object();
			json_object_object_add(p, "path", cli_json_string(pr[i].path));
			json_object_object_add(p, "status", json_object_new_string(pr[i].status));
			json_object_object_add(p, "reason",
					       pr[i].error ? cli_json_string(pr[i].error) : NULL);
			json_object_array_add(arr, p);
		}
		json_object_object_add(o, "problems", arr);
		cli_json_print(o);
		ret = CLI_OK;
		goto out;
	}
	printf("index:     %s (%.1f MB, schema %d)\n", c->db_path, (double)s.db_bytes / 1e6,
	       store_schema_version(st));
	printf("documents: %lld in %lld chunks; %lld failed, %lld skipped\n", (long long)s.ndocs,
	       (long long)s.nchunks, (long long)s.nerrors, (long long)s.nskipped);
	printf("sources:   %lld\n", (long long)s.nsources);
	for (size_t i = 0; i < nsrc; i++) {
		char when[32], safe[4096];
		cli_format_time(src[i].last_indexed_at, when, sizeof when);
		printf("  %-7s %s\n          %lld documents, %lld chunks, %lld failed, "
		       "%lld skipped; indexed %s\n",
		       src[i].type, cli_safe(src[i].path, safe, sizeof safe),
		       (long long)src[i].ndocs, (long long)src[i].nchunks,
		       (long long)src[i].nerrors, (long long)src[i].nskipped, when);
	}
	if (has_run) {
		char when[32];
		cli_format_time(run.started_at, when, sizeof when);
		const char *st_txt = !strcmp(run.status, "running")
					     ? "did not finish (killed or still running)"
					     : run.status;
		printf("last run:  %s, %s", when, st_txt);
		if (run.finished_at)
			printf(" in %llds", (long long)(run.finished_at - run.started_at));
		printf(": %lld files, %lld added, %lld updated, %lld moved, "
		       "%lld removed, %lld failed\n",
		       (long long)run.files_seen, (long long)run.docs_added,
		       (long long)run.docs_updated, (long long)run.docs_moved,
		       (long long)run.docs_removed, (long long)run.docs_failed);
	} else {
		printf("last run:  never; run 'memex index'\n");
	}
	if (npr) {
		printf("%s:\n", all ? "not indexed" : "failed");
		for (size_t i = 0; i < npr && (all || i < STATUS_PROBLEMS); i++) {
			char sp[4096], se[1024];
			printf("  %s%s: %s\n",
			       all ? (strcmp(pr[i].status, "error") ? "skipped " : "failed  ") : "",
			       cli_safe(pr[i].path, sp, sizeof sp),
			       cli_safe(pr[i].error ? pr[i].error : pr[i].status, se, sizeof se));
		}
		if (!all && npr > STATUS_PROBLEMS)
			printf("  ... more; 'memex status --all' lists them all\n");
	}
	ret = CLI_OK;
out:
	store_sources_free(src, nsrc);
	store_problems_free(pr, npr);
	store_close(st);
	return ret;
}
