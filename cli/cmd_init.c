/* cmd_init.c - memex init: create the data home and an empty index. */
#include <stdio.h>
#include <sys/stat.h>

#include "cli.h"

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
	store_close(st);
	printf("%s memex index in %s\n", existed ? "Reinitialized existing" : "Initialized empty",
	       c->db_path);
	return CLI_OK;
}
