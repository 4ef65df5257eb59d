/* cmd_init.c - memex init: create the data home and an empty index, or
 * check an existing one. */
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "cli.h"

/* Tightens a file or folder we own to mode, reporting what changed. */
static void tighten(const char *path, mode_t mode)
{
	struct stat sb;
	if (stat(path, &sb) != 0 || (sb.st_mode & 0777) == mode)
		return;
	if (chmod(path, mode) == 0)
		printf("Changed the mode of %s to %o\n", path, (unsigned)mode);
	else
		cli_warn("cannot change the mode of '%s' to %o", path, (unsigned)mode);
}

int cmd_init(struct cli *c, int argc, char **argv)
{
	(void)argv;
	if (argc > 1)
		return cli_usage(cli_command_find("init"), true);
	struct stat sb;
	bool existed = stat(c->db_path, &sb) == 0;
	int ex;
	struct store *st = cli_store_open(c, true, false, &ex);
	if (!st)
		return ex;
	if (existed && store_check(st)) {
		cli_error("the index '%s' is damaged: %s; nothing was changed; move it aside "
			  "and run 'memex init' again",
			  c->db_path, store_errmsg(st));
		store_close(st);
		return CLI_ERR;
	}
	store_close(st);
	tighten(c->home, 0700);
	static const char *const suffixes[] = { "", "-wal", "-shm" };
	for (size_t i = 0; i < sizeof suffixes / sizeof suffixes[0]; i++) {
		char p[4300];
		snprintf(p, sizeof p, "%s%s", c->db_path, suffixes[i]);
		tighten(p, 0600);
	}
	printf("%s memex index in %s\n", existed ? "Checked existing" : "Initialized empty",
	       c->db_path);
	return CLI_OK;
}
