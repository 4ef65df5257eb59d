/*
 * conn_archive.c - zip and tar archives (.zip .tar .tar.gz .tgz .tar.zst
 * .tzst .tar.bz2 .tar.xz) found in a source.
 *
 * The archive is read with the hard limits of conn_limits_default() (total
 * and per-entry bytes, compression ratio, entry count, time): a zip bomb is
 * refused with the reason. Each entry a connector reads becomes a child
 * document (part "1", "2", ... in archive order), archives inside archives
 * too, down to max_depth. The archive's own text is the list of its entry
 * names, so that a search by file name finds it.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../common/buf.h"
#include "../common/status.h"
#include "../common/utf8.h"
#include "conn.h"

#define ARCHIVE_MAX_CHILDREN 10000

static int archive_parse_depth(const char *path, const char *data, size_t len, struct conn_doc *doc,
			       int depth);

/* The connector for an entry (by content first, then by name). */
static const struct conn_ops *entry_ops(const char *name, const char *data, size_t len)
{
	const struct conn_ops *ops = conn_sniff(name, data, len);
	char why[128];
	return ops ? ops : conn_for_file("notes", name, why, sizeof why);
}

static int archive_parse_depth(const char *path, const char *data, size_t len, struct conn_doc *doc,
			       int depth)
{
	struct conn_limits lim = conn_limits_default();
	struct conn_zip *z = NULL;
	struct mx_buf names;
	char err[200];
	int rc;
	if (depth > lim.max_depth) {
		snprintf(doc->err, sizeof doc->err, "archives nested deeper than %d",
			 lim.max_depth);
		return MX_ETOOBIG;
	}
	if ((rc = conn_zip_open(data, len, &lim, NULL, NULL, &z, err, sizeof err))) {
		snprintf(doc->err, sizeof doc->err, "%s", err);
		return rc;
	}
	mx_buf_init(&names, 4u << 20);
	size_t n = conn_zip_count(z), failed = 0;
	doc->children = calloc(n ? (n < ARCHIVE_MAX_CHILDREN ? n : ARCHIVE_MAX_CHILDREN) : 1,
			       sizeof *doc->children);
	if (!doc->children) {
		rc = MX_ENOMEM;
		goto out;
	}
	for (size_t i = 0; i < n && doc->nchildren < ARCHIVE_MAX_CHILDREN; i++) {
		const struct conn_zip_entry *e = conn_zip_entry(z, i);
		if (names.len)
			mx_buf_append(&names, "\n", 1);
		mx_buf_appends(&names, e->name);
		const char *base = strrchr(e->name, '/');
		base = base ? base + 1 : e->name;
		if (!*base || base[0] == '.' || e->len == 0)
			continue;
		const struct conn_ops *ops = entry_ops(e->name, e->data, e->len);
		if (!ops)
			continue;
		struct conn_doc *c = &doc->children[doc->nchildren];
		conn_doc_init(c);
		int prc = ops == &conn_archive_ops
				  ? archive_parse_depth(e->name, e->data, e->len, c, depth + 1)
				  : ops->parse(e->name, e->data, e->len, c);
		if (prc == MX_ENOMEM) {
			conn_doc_clear(c);
			rc = prc;
			goto out;
		}
		if (prc) {
			conn_doc_clear(c);
			failed++;
			continue;
		}
		char key[24];
		snprintf(key, sizeof key, "%zu", doc->nchildren + 1);
		free(c->part);
		c->part = strdup(key);
		if (!c->title)
			c->title = conn_clean_field(strdup(base));
		if (!c->title)
			c->title = strdup("(entry)");
		if (!c->part || !c->title) {
			conn_doc_clear(c);
			rc = MX_ENOMEM;
			goto out;
		}
		doc->nchildren++;
	}
	doc->type = "archive";
	doc->line_base = -1;
	const char *b = strrchr(path, '/');
	doc->title = strdup(b ? b + 1 : path);
	if (failed)
		snprintf(doc->note, sizeof doc->note, "%zu entries could not be read", failed);
	/* entry names are bytes (tar): the listing is repaired to UTF-8 */
	if (mx_utf8_repair(names.data ? names.data : "", names.len, &doc->text, &doc->text_len,
			   NULL) ||
	    !doc->title)
		rc = MX_ENOMEM;
	doc->title = conn_clean_field(doc->title);
out:
	mx_buf_free(&names);
	conn_zip_close(z);
	return rc;
}

static int archive_parse(const char *path, const char *data, size_t len, struct conn_doc *doc)
{
	return archive_parse_depth(path, data, len, doc, 0);
}

const struct conn_ops conn_archive_ops = { "archive", archive_parse };
