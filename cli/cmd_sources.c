/* cmd_sources.c - memex sources: list and remove sources. */
#include <getopt.h>
#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"

static int list(struct store *st, bool json)
{
	struct store_source *s = NULL;
	size_t n = 0;
	if (store_source_list(st, &s, &n)) {
		cli_error("%s", store_errmsg(st));
		return CLI_ERR;
	}
	if (json) {
		json_object *arr = json_object_new_array();
		for (size_t i = 0; i < n; i++) {
			json_object *o = json_object_new_object();
			json_object_object_add(o, "id", json_object_new_int64(s[i].id));
			json_object_object_add(o, "path", cli_json_string(s[i].path));
			json_object_object_add(o, "type", json_object_new_string(s[i].type));
			json_object_object_add(o, "documents", json_object_new_int64(s[i].ndocs));
			json_object_object_add(o, "chunks", json_object_new_int64(s[i].nchunks));
			json_object_object_add(o, "failed", json_object_new_int64(s[i].nerrors));
			json_object_object_add(o, "skipped", json_object_new_int64(s[i].nskipped));
			json_object_object_add(o, "added_at", json_object_new_int64(s[i].added_at));
			json_object_object_add(o, "last_indexed_at",
					       json_object_new_int64(s[i].last_indexed_at));
			json_object_array_add(arr, o);
		}
		cli_json_print(arr);
	} else if (n == 0) {
		printf("No sources. Add one with 'memex add PATH'.\n");
	} else {
		for (size_t i = 0; i < n; i++) {
			char when[32];
			cli_format_time(s[i].last_indexed_at, when, sizeof when);
			char safe[4096];
			printf("%3lld  %-7s  %s\n", (long long)s[i].id, s[i].type,
			       cli_safe(s[i].path, safe, sizeof safe));
			printf("     %lld documents, %lld chunks, %lld failed, %lld skipped; "
			       "indexed %s\n",
			       (long long)s[i].ndocs, (long long)s[i].nchunks,
			       (long long)s[i].nerrors, (long long)s[i].nskipped, when);
		}
	}
	store_sources_free(s, n);
	return CLI_OK;
}

static int remove_sources(struct store *st, int argc, char **argv)
{
	struct store_source *s = NULL;
	size_t n = 0;
	int ret = CLI_OK;
	if (store_source_list(st, &s, &n)) {
		cli_error("%s", store_errmsg(st));
		return CLI_ERR;
	}
	for (int a = 0; a < argc; a++) {
		char *abs = cli_abspath(argv[a]);
		const struct store_source *hit = NULL;
		for (size_t i = 0; i < n && !hit; i++) {
			char id[32];
			snprintf(id, sizeof id, "%lld", (long long)s[i].id);
			if (!strcmp(argv[a], id) || (abs && !strcmp(abs, s[i].path)))
				hit = &s[i];
		}
		free(abs);
		if (!hit) {
			cli_error("'%s' is not a source; see 'memex sources'", argv[a]);
			ret = CLI_ERR;
			continue;
		}
		if (store_source_remove(st, hit->id)) {
			cli_error("cannot remove '%s': %s", hit->path, store_errmsg(st));
			ret = CLI_ERR;
			continue;
		}
		char safe[4096];
		printf("Removed source %lld: %s (%lld documents forgotten)\n", (long long)hit->id,
		       cli_safe(hit->path, safe, sizeof safe),
		       (long long)(hit->ndocs + hit->nerrors + hit->nskipped));
	}
	store_sources_free(s, n);
	return ret;
}

int cmd_sources(struct cli *c, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "json", no_argument, NULL, 'j' },
		{ NULL, 0, NULL, 0 },
	};
	bool json = false;
	int opt;
	while ((opt = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		if (opt != 'j')
			return cli_usage(cli_command_find("sources"), true);
		json = true;
	}
	bool rm = optind < argc && (!strcmp(argv[optind], "remove") || !strcmp(argv[optind], "rm"));
	if ((optind < argc && !rm) || (rm && optind + 1 >= argc))
		return cli_usage(cli_command_find("sources"), true);
	int ex;
	struct store *st = cli_store_open(c, false, !rm, &ex);
	if (!st)
		return ex;
	int lock_fd = -1;
	int ret = CLI_ERR;
	if (!rm)
		ret = list(st, json);
	else if (!cli_index_lock(c, &lock_fd))
		ret = remove_sources(st, argc - optind - 1, argv + optind + 1);
	if (lock_fd >= 0)
		close(lock_fd);
	store_close(st);
	return ret;
}
