/* cmd_forget.c - memex forget: purge everything derived from a path. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"

int cmd_forget(struct cli *c, int argc, char **argv)
{
	if (argc < 2 || argv[1][0] == '-')
		return cli_usage(cli_command_find("forget"), true);
	int ex;
	struct store *st = cli_store_open(c, false, false, &ex);
	if (!st)
		return ex;
	int lock_fd = -1;
	if (cli_index_lock(c, &lock_fd)) {
		store_close(st);
		return CLI_ERR;
	}
	int ret = CLI_OK;
	struct store_source *src = NULL;
	size_t nsrc = 0;
	if (store_source_list(st, &src, &nsrc)) {
		cli_error("%s", store_errmsg(st));
		store_close(st);
		if (lock_fd >= 0)
			close(lock_fd);
		return CLI_ERR;
	}
	for (int i = 1; i < argc; i++) {
		char *abs = cli_abspath(argv[i]);
		if (!abs) {
			cli_error("cannot resolve '%s'", argv[i]);
			ret = CLI_ERR;
			continue;
		}
		int64_t n = 0, removed_sources = 0;
		if (store_begin(st)) {
			cli_error("%s", store_errmsg(st));
			free(abs);
			ret = CLI_ERR;
			break;
		}
		int rc = store_doc_forget(st, abs, &n);
		/* sources at or below the path go too */
		for (size_t k = 0; k < nsrc && !rc; k++) {
			const char *sp = src[k].path;
			if (!sp[0] || !cli_path_within(sp, abs))
				continue;
			rc = store_source_remove(st, src[k].id);
			removed_sources++;
			printf("Removed source %lld: %s\n", (long long)src[k].id, sp);
			src[k].path[0] = '\0';
		}
		if (!rc)
			rc = store_commit(st);
		if (rc) {
			cli_error("cannot forget '%s': %s", abs, store_errmsg(st));
			store_rollback(st);
			ret = CLI_ERR;
		} else if (n == 0 && removed_sources == 0) {
			cli_error("nothing indexed comes from '%s'", abs);
			ret = CLI_ERR;
		} else {
			printf("Forgot %lld documents from %s\n", (long long)n, abs);
		}
		free(abs);
	}
	store_sources_free(src, nsrc);
	store_close(st);
	if (lock_fd >= 0)
		close(lock_fd);
	return ret;
}
