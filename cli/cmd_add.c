/* cmd_add.c - memex add: register sources. */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "../common/status.h"
#include "../connectors/conn.h"
#include "cli.h"

/* Refuses sources that nest: their documents would be indexed twice. */
static int check_nesting(struct store *st, const char *abs)
{
	struct store_source *s = NULL;
	size_t n = 0;
	int rc = store_source_list(st, &s, &n);
	if (rc) {
		cli_error("%s", store_errmsg(st));
		return -1;
	}
	for (size_t i = 0; i < n; i++) {
		if (!strcmp(s[i].path, abs))
			continue;
		if (cli_path_within(abs, s[i].path) || cli_path_within(s[i].path, abs)) {
			cli_error("cannot add '%s': it %s the source '%s'", abs,
				  cli_path_within(abs, s[i].path) ? "is inside" : "contains",
				  s[i].path);
			rc = -1;
			break;
		}
	}
	store_sources_free(s, n);
	return rc;
}

static int add_one(struct store *st, const char *arg, const char *forced)
{
	struct stat sb;
	if (stat(arg, &sb) != 0) {
		cli_error("cannot add '%s': %s", arg, strerror(errno));
		return CLI_ERR;
	}
	if (!S_ISDIR(sb.st_mode) && !S_ISREG(sb.st_mode)) {
		cli_error("cannot add '%s': not a regular file or folder "
			  "(a FIFO, socket or device)",
			  arg);
		return CLI_ERR;
	}
	char *abs = cli_abspath(arg);
	if (!abs) {
		cli_error("cannot add '%s': %s", arg, strerror(errno));
		return CLI_ERR;
	}
	int ret = CLI_ERR;
	const char *type = forced;
	if (!type) {
		int rc = conn_detect_source(abs, &type);
		if (rc == MX_EEMPTY) {
			cli_error("cannot add '%s': the file is empty", abs);
			goto out;
		} else if (rc == MX_EUNSUPPORTED) {
			cli_error("cannot add '%s': not a note, message or mailbox "
				  "file this version can read",
				  abs);
			goto out;
		} else if (rc) {
			cli_error("cannot add '%s': %s", abs, mx_strerror(rc));
			goto out;
		}
	} else if (S_ISDIR(sb.st_mode) != (!strcmp(type, "notes") || !strcmp(type, "maildir"))) {
		cli_error("cannot add '%s' as %s: a %s source is a %s", abs, type, type,
			  S_ISDIR(sb.st_mode) ? "file" : "folder");
		goto out;
	}
	if (check_nesting(st, abs))
		goto out;
	int64_t id;
	int rc = store_source_add(st, abs, type, &id);
	if (rc == MX_EEXISTS) {
		printf("'%s' is already a source\n", abs);
		ret = CLI_OK;
	} else if (rc) {
		cli_error("cannot add '%s': %s", abs, store_errmsg(st));
	} else {
		printf("Added %s source %lld: %s\n", type, (long long)id, abs);
		ret = CLI_OK;
	}
out:
	free(abs);
	return ret;
}

int cmd_add(struct cli *c, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "type", required_argument, NULL, 't' },
		{ NULL, 0, NULL, 0 },
	};
	const char *type = NULL;
	int opt;
	while ((opt = getopt_long(argc, argv, "t:", opts, NULL)) != -1) {
		if (opt != 't')
			return cli_usage(cli_command_find("add"), true);
		type = optarg;
	}
	if (optind >= argc)
		return cli_usage(cli_command_find("add"), true);
	if (type && !conn_is_source_type(type)) {
		cli_error("unknown source type '%s' (notes, maildir, eml or mbox)", type);
		return CLI_USAGE;
	}
	int ex;
	struct store *st = cli_store_open(c, true, false, &ex);
	if (!st)
		return ex;
	int ret = CLI_OK;
	for (int i = optind; i < argc; i++)
		if (add_one(st, argv[i], type) != CLI_OK)
			ret = CLI_ERR;
	store_close(st);
	if (ret == CLI_OK && c->verbose)
		fprintf(stderr, "run 'memex index' to read the new sources\n");
	return ret;
}
