/* cmd_thread.c - memex thread: a mail thread in date order. */
#include <getopt.h>
#include <stdio.h>

#include "../connectors/conn.h"
#include "cli.h"

int cmd_thread(struct cli *c, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "full", no_argument, NULL, 'f' },
		{ "list", no_argument, NULL, 'l' },
		{ NULL, 0, NULL, 0 },
	};
	bool full = false, list = false;
	int opt;
	while ((opt = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		if (opt == 'f')
			full = true;
		else if (opt == 'l')
			list = true;
		else
			return cli_usage(cli_command_find("thread"), true);
	}
	if (optind + 1 != argc)
		return cli_usage(cli_command_find("thread"), true);
	int ex;
	struct store *st = cli_store_open(c, false, true, &ex);
	if (!st)
		return ex;
	struct store_docfull *msgs = NULL;
	size_t n = 0;
	int ret = CLI_OK;
	if (store_thread_get(st, argv[optind], &msgs, &n)) {
		cli_error("%s", store_errmsg(st));
		store_close(st);
		return CLI_ERR;
	}
	char safe[1024], date[64];
	printf("Thread %s: %zu message%s\n", msgs[0].thread_id ? msgs[0].thread_id : "?", n,
	       n == 1 ? "" : "s");
	for (size_t i = 0; i < n; i++) {
		cli_format_mail_date(msgs[i].date, msgs[i].date_offset, date, sizeof date);
		if (list) {
			printf("%3zu. %s  %s  %s\n", i + 1, date,
			       cli_safe(msgs[i].author ? msgs[i].author : "", safe, sizeof safe),
			       msgs[i].title ? msgs[i].title : "");
			continue;
		}
		struct conn_doc doc;
		struct store_att *atts = NULL;
		size_t natts = 0;
		printf("\n===== %zu/%zu =====\n", i + 1, n);
		if (store_attachment_list(st, msgs[i].id, &atts, &natts) == 0 &&
		    cli_load_doc(c, &msgs[i], &doc) == 0) {
			cli_print_message(&msgs[i], &doc, full, atts, natts);
			conn_doc_clear(&doc);
		} else {
			ret = CLI_ERR;
		}
		store_attachments_free(atts, natts);
	}
	store_docfulls_free(msgs, n);
	store_close(st);
	return ret;
}
