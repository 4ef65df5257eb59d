/* cmd_show.c - memex show: one message or document, read back from its
 * file: headers, the whole text (quotes included), attachments. */
#include <getopt.h>
#include <json-c/json.h>
#include <stdio.h>

#include "../common/status.h"
#include "../connectors/conn.h"
#include "cli.h"

int cmd_show(struct cli *c, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "json", no_argument, NULL, 'j' },
		{ NULL, 0, NULL, 0 },
	};
	bool json = false;
	int opt;
	while ((opt = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		if (opt != 'j')
			return cli_usage(cli_command_find("show"), true);
		json = true;
	}
	if (optind + 1 != argc)
		return cli_usage(cli_command_find("show"), true);
	int ex;
	struct store *st = cli_store_open(c, false, true, &ex);
	if (!st)
		return ex;
	struct store_docfull d = { 0 };
	struct store_att *atts = NULL;
	size_t natts = 0;
	struct conn_doc doc;
	conn_doc_init(&doc);
	int ret = CLI_ERR;
	const char *key = argv[optind];
	char *abs = NULL;
	int rc = store_doc_get(st, key, &d);
	if (rc == MX_ENOTFOUND && (abs = cli_abspath(key)))
		rc = store_doc_get(st, abs, &d);
	free(abs);
	if (rc) {
		cli_error("%s", store_errmsg(st));
		goto out;
	}
	if (store_attachment_list(st, d.id, &atts, &natts)) {
		cli_error("%s", store_errmsg(st));
		goto out;
	}
	if (cli_load_doc(c, &d, &doc))
		goto out;
	if (json) {
		json_object *o = json_object_new_object();
		json_object_object_add(o, "id", json_object_new_int64(d.id));
		json_object_object_add(o, "type", cli_json_string(d.type));
		json_object_object_add(o, "title", cli_json_string(d.title));
		json_object_object_add(o, "author", cli_json_string(d.author));
		json_object_object_add(o, "recipients", cli_json_string(d.recipients));
		json_object_object_add(o, "date", json_object_new_int64(d.date));
		json_object_object_add(o, "date_offset", json_object_new_int(d.date_offset));
		json_object_object_add(o, "message_id", cli_json_string(d.message_id));
		json_object_object_add(o, "thread_id", cli_json_string(d.thread_id));
		json_object_object_add(o, "folder", cli_json_string(d.folder));
		json_object_object_add(o, "flags", cli_json_string(d.flags));
		json_object_object_add(o, "text", cli_json_string(doc.text));
		json_object *q = json_object_new_array();
		for (size_t i = 0; i < doc.nquoted; i++) {
			json_object *span = json_object_new_array();
			json_object_array_add(span,
					      json_object_new_int64((int64_t)doc.quoted[i].start));
			json_object_array_add(span,
					      json_object_new_int64((int64_t)doc.quoted[i].end));
			json_object_array_add(q, span);
		}
		json_object_object_add(o, "quoted", q);
		json_object *a = json_object_new_array();
		for (size_t i = 0; i < natts; i++) {
			json_object *x = json_object_new_object();
			json_object_object_add(x, "name", cli_json_string(atts[i].name));
			json_object_object_add(x, "mime_type", cli_json_string(atts[i].mime_type));
			json_object_object_add(x, "size", json_object_new_int64(atts[i].size));
			json_object_array_add(a, x);
		}
		json_object_object_add(o, "attachments", a);
		cli_json_print(o);
	} else {
		cli_print_message(&d, &doc, true, atts, natts);
	}
	ret = CLI_OK;
out:
	conn_doc_clear(&doc);
	store_attachments_free(atts, natts);
	store_docfull_clear(&d);
	store_close(st);
	return ret;
}
