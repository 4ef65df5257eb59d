/*
 * conn_odf.c - OpenDocument text, presentations and spreadsheets (.odt,
 * .odp, .ods): one connector, told apart by the package's mimetype.
 *
 * An ODF file is a zip package:
 *
 *   mimetype               first and stored: "application/vnd.oasis.
 *                          opendocument.text" (.presentation, .spreadsheet;
 *                          "-template" variants)
 *   content.xml            office:document-content / office:body / one of
 *                          office:text        text:h (text:outline-level),
 *                                             text:p, text:list/list-item,
 *                                             table:table, text:note ...
 *                          office:presentation  draw:page per slide, its
 *                                             frames of text, and its
 *                                             presentation:notes
 *                          office:spreadsheet table:table (table:name) of
 *                                             table:table-row of
 *                                             table:table-cell, both with
 *                                             number-*-repeated counts
 *   meta.xml               office:meta: dc:title, dc:creator (last saved
 *                          by), meta:initial-creator, dc:date (modified),
 *                          meta:creation-date
 *   META-INF/manifest.xml  the parts; an encrypted part has
 *                          manifest:encryption-data
 *
 * Inside paragraphs, text:s is spaces, text:tab a tab and text:line-break a
 * line break. Footnotes and endnotes (text:note) are taken out of the flow
 * and appended under a "Footnotes" heading. Repeated rows and cells of a
 * spreadsheet are written as many times as they repeat when they hold
 * text, within the cap of cells per sheet; empty ones (a sheet often ends
 * with a million empty repeated rows) cost nothing.
 */
#include <libxml/parser.h>
#include <libxml/tree.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "../common/status.h"
#include "conn.h"
#include "conn_int.h"

/* Package helpers from conn_office.c (to move into a connectors header). */

#define TEXT_MAX  (32u << 20)
#define MAX_DEPTH 256
#define MAX_CELLS 100000
#define MAX_NOTES 10000
#define FIELD_MAX 4096

#define NS_OFFICE "urn:oasis:names:tc:opendocument:xmlns:office:1.0"
#define NS_TEXT	  "urn:oasis:names:tc:opendocument:xmlns:text:1.0"
#define NS_TABLE  "urn:oasis:names:tc:opendocument:xmlns:table:1.0"
#define NS_DRAW	  "urn:oasis:names:tc:opendocument:xmlns:drawing:1.0"
#define NS_PRES	  "urn:oasis:names:tc:opendocument:xmlns:presentation:1.0"
#define NS_META	  "urn:oasis:names:tc:opendocument:xmlns:meta:1.0"
#define NS_SVG	  "urn:oasis:names:tc:opendocument:xmlns:svg-compatible:1.0"
#define NS_MANIF  "urn:oasis:names:tc:opendocument:xmlns:manifest:1.0"
#define NS_DC	  "http://purl.org/dc/elements/1.1/"

enum kind { K_NONE, K_TEXT, K_PRES, K_SHEET };

static bool in_ns(const xmlNode *n, const char *uri)
{
	return n->ns && n->ns->href && !strcmp((const char *)n->ns->href, uri);
}

static const xmlNode *child(const xmlNode *n, const char *uri, const char *name)
{
	for (const xmlNode *c = n ? n->children : NULL; c; c = c->next)
		if (conn_pkg_is(c, uri, name))
			return c;
	return NULL;
}

/* A count attribute ("number-columns-repeated"): 1 when absent or bad. */
static long count_attr(const xmlNode *n, const char *uri, const char *name, long max)
{
	const char *s = conn_pkg_attr(n, uri, name);
	long v = 0;
	if (!s || *s < '0' || *s > '9')
		return 1;
	for (; *s >= '0' && *s <= '9'; s++) {
		v = v * 10 + (*s - '0');
		if (v > max)
			return max;
	}
	return v < 1 ? 1 : v;
}

struct od {
	struct conn_builder *b;
	int table;     /* tables we are in */
	int list;      /* lists we are in */
	bool flat;     /* no headings: cells, heading text, notes */
	bool lead;     /* the next paragraph follows a line of its own */
	bool no_notes; /* notes stay inline (text gathered for a heading) */
	const xmlNode **notes;
	size_t nnotes, notes_cap;
};

static int od_walk(struct od *o, const xmlNode *n, int depth);
static int od_node(struct od *o, const xmlNode *n, int depth);

/* The text a walk of n's children gives, at most cap bytes, paragraphs
 * joined by spaces; malloc'd, or NULL when empty. */
static int od_plain(const struct od *o, const xmlNode *n, size_t cap, char **out)
{
	struct conn_builder tb;
	struct od sub = { .flat = true, .table = 1, .no_notes = true };
	conn_builder_init(&tb, cap, o->b->deadline);
	sub.b = &tb;
	int rc = od_walk(&sub, n->children, 1);
	*out = NULL;
	if (!rc && tb.len) {
		*out = tb.text;
		tb.text = NULL;
	}
	conn_builder_free(&tb);
	return rc;
}

/* The separation before a paragraph. */
static void para_break(struct od *o)
{
	if (o->table)
		conn_builder_space(o->b);
	else if (o->lead || o->list)
		conn_builder_line(o->b);
	else
		conn_builder_paragraph(o->b);
	o->lead = false;
}

static int od_text_el(struct od *o, const xmlNode *n, int depth)
{
	const char *nm = (const char *)n->name;
	int rc = 0;
	if (!strcmp(nm, "h") && !o->flat && !o->table) {
		long level = count_attr(n, NS_TEXT, "outline-level", 10);
		char *t = NULL;
		if ((rc = od_plain(o, n, 1024, &t)) || !t)
			return rc;
		rc = conn_builder_heading(o->b, level > 6 ? 6 : (int)level, t);
		free(t);
		o->lead = false;
	} else if (!strcmp(nm, "p") || !strcmp(nm, "h")) {
		para_break(o);
		rc = od_walk(o, n->children, depth + 1);
	} else if (!strcmp(nm, "list")) {
		if (!o->list && !o->table)
			conn_builder_paragraph(o->b);
		o->list++;
		rc = od_walk(o, n->children, depth + 1);
		o->list--;
		if (!o->list && !o->table)
			conn_builder_paragraph(o->b);
	} else if (!strcmp(nm, "s") || !strcmp(nm, "tab")) {
		rc = conn_builder_space(o->b);
	} else if (!strcmp(nm, "line-break")) {
		rc = conn_builder_line(o->b);
	} else if (!strcmp(nm, "note")) {
		if (o->no_notes) {
			const xmlNode *body = child(n, NS_TEXT, "note-body");
			if (body) {
				conn_builder_space(o->b);
				rc = od_walk(o, body->children, depth + 1);
			}
		} else if (o->nnotes < MAX_NOTES) {
			if (o->nnotes == o->notes_cap) {
				size_t c = o->notes_cap ? o->notes_cap * 2 : 16;
				const xmlNode **v = realloc(o->notes, c * sizeof *v);
				if (!v)
					return MX_ENOMEM;
				o->notes = v;
				o->notes_cap = c;
			}
			o->notes[o->nnotes++] = n;
		}
	} else if (!strcmp(nm, "tracked-changes") || !strcmp(nm, "sequence-decls") ||
		   !strcmp(nm, "variable-decls") || !strcmp(nm, "user-field-decls") ||
		   !strcmp(nm, "dde-connection-decls") || !strcmp(nm, "note-citation") ||
		   !strcmp(nm, "table-of-content") || !strcmp(nm, "illustration-index") ||
		   !strcmp(nm, "alphabetical-index")) {
		/* not text of the document, or a repeat of it */
	} else {
		rc = od_walk(o, n->children, depth + 1);
	}
	return rc;
}

static int od_table_el(struct od *o, const xmlNode *n, int depth)
{
	const char *nm = (const char *)n->name;
	int rc = 0;
	if (!strcmp(nm, "table")) {
		if (o->table)
			conn_builder_space(o->b);
		else
			conn_builder_paragraph(o->b);
		o->table++;
		rc = od_walk(o, n->children, depth + 1);
		o->table--;
		if (!o->table)
			conn_builder_paragraph(o->b);
	} else if (!strcmp(nm, "table-row")) {
		conn_builder_line(o->b);
		rc = od_walk(o, n->children, depth + 1);
		conn_builder_line(o->b);
	} else if (!strcmp(nm, "table-cell")) {
		conn_builder_space(o->b);
		rc = od_walk(o, n->children, depth + 1);
	} else if (strcmp(nm, "table-column") && strcmp(nm, "table-columns") &&
		   strcmp(nm, "covered-table-cell") && strcmp(nm, "table-header-columns") &&
		   strcmp(nm, "named-expressions")) {
		rc = od_walk(o, n->children, depth + 1);
	}
	return rc;
}

/* One node of document content: text, tables, frames and shapes with
 * text. */
static int od_node(struct od *o, const xmlNode *n, int depth)
{
	if (n->type == XML_TEXT_NODE || n->type == XML_CDATA_SECTION_NODE)
		return n->content ? conn_builder_text(o->b, (const char *)n->content,
						      strlen((const char *)n->content))
				  : 0;
	if (n->type != XML_ELEMENT_NODE || !n->name)
		return 0;
	const char *nm = (const char *)n->name;
	if (in_ns(n, NS_TEXT))
		return od_text_el(o, n, depth);
	if (in_ns(n, NS_TABLE))
		return od_table_el(o, n, depth);
	if (in_ns(n, NS_OFFICE)) {
		if (!strcmp(nm, "annotation") || !strcmp(nm, "annotation-end") ||
		    !strcmp(nm, "binary-data") || !strcmp(nm, "forms") ||
		    !strcmp(nm, "event-listeners") || !strcmp(nm, "scripts"))
			return 0;
	} else if (in_ns(n, NS_DRAW)) {
		if (!strcmp(nm, "image") || !strcmp(nm, "page-thumbnail") ||
		    !strcmp(nm, "object-ole") || !strcmp(nm, "plugin"))
			return 0;
	} else if (in_ns(n, NS_PRES)) {
		if (!strcmp(nm, "notes"))
			return 0;
	} else if (in_ns(n, NS_SVG)) { /* svg:title, svg:desc: not shown */
		return 0;
	}
	return od_walk(o, n->children, depth + 1);
}

/* n and its following siblings. */
static int od_walk(struct od *o, const xmlNode *n, int depth)
{
	int rc = 0;
	if (depth > MAX_DEPTH)
		return 0;
	for (; n && !rc; n = n->next)
		rc = od_node(o, n, depth);
	return rc;
}

/* Footnotes and endnotes, each its own paragraph under "Footnotes". */
static int od_notes(struct od *o)
{
	int rc = 0;
	bool heading = false;
	o->no_notes = true;
	o->flat = true;
	for (size_t i = 0; i < o->nnotes && !rc; i++) {
		const xmlNode *body = child(o->notes[i], NS_TEXT, "note-body");
		char *t = NULL;
		if (!body || (rc = od_plain(o, body, 16, &t)) || !t)
			continue;
		free(t);
		if (!heading && (rc = conn_builder_heading(o->b, 1, "Footnotes")))
			break;
		heading = true;
		conn_builder_paragraph(o->b);
		rc = od_walk(o, body->children, 1);
	}
	return rc;
}

/* ---- presentations ------------------------------------------------------ */

static bool frame_class(const xmlNode *n, const char *cls)
{
	const char *c =
		conn_pkg_is(n, NS_DRAW, "frame") ? conn_pkg_attr(n, NS_PRES, "class") : NULL;
	return c && !strcmp(c, cls);
}

static int odp_page(struct od *o, const xmlNode *page, int num)
{
	const xmlNode *title = NULL;
	char *t = NULL, head[320];
	int rc = 0;
	for (const xmlNode *c = page->children; c && !title; c = c->next)
		if (frame_class(c, "title"))
			title = c;
	if (title && (rc = od_plain(o, title, 256, &t)))
		return rc;
	if (t && (t = conn_clean_field(t)))
		snprintf(head, sizeof head, "Slide %d: %s", num, t);
	else
		snprintf(head, sizeof head, "Slide %d", num);
	free(t);
	if ((rc = conn_builder_heading(o->b, 1, head)))
		return rc;
	for (const xmlNode *c = page->children; c && !rc; c = c->next) {
		if (c == title || frame_class(c, "page-number") || frame_class(c, "date-time") ||
		    frame_class(c, "footer") || frame_class(c, "header"))
			continue;
		rc = od_node(o, c, 1);
	}
	return rc;
}

static int odp_notes(struct od *o, const xmlNode *page)
{
	const xmlNode *notes = child(page, NS_PRES, "notes");
	char *t = NULL;
	int rc = 0;
	if (!notes)
		return 0;
	for (const xmlNode *c = notes->children; c && !rc; c = c->next) {
		if (!frame_class(c, "notes"))
			continue;
		if ((rc = od_plain(o, c, 16, &t)) || !t)
			continue;
		free(t);
		conn_builder_paragraph(o->b);
		if ((rc = conn_builder_text(o->b, "Notes:", 6)))
			break;
		o->lead = true;
		rc = od_node(o, c, 1);
		break;
	}
	return rc;
}

static int odp_body(struct od *o, const xmlNode *body, double deadline)
{
	int num = 0, rc = 0;
	for (const xmlNode *c = body->children; c && !rc && !o->b->truncated; c = c->next) {
		if (!conn_pkg_is(c, NS_DRAW, "page"))
			continue;
		if (conn_now() > deadline)
			return MX_ETOOBIG;
		if (!(rc = odp_page(o, c, ++num)))
			rc = odp_notes(o, c);
	}
	return rc;
}

/* ---- spreadsheets ------------------------------------------------------- */

struct sheet {
	struct od *o;
	size_t cells;
	bool full;
};

/* A cell's text: its paragraphs, or its typed value when it has none. */
static int cell_text(struct od *o, const xmlNode *c, char **out)
{
	int rc = od_plain(o, c, 1 << 20, out);
	if (rc || *out)
		return rc;
	static const char *const attrs[] = { "string-value", "value",	      "date-value",
					     "time-value",   "boolean-value", NULL };
	for (size_t i = 0; attrs[i]; i++) {
		const char *v = conn_pkg_attr(c, NS_OFFICE, attrs[i]);
		if (v && *v) {
			*out = strdup(v);
			return *out ? 0 : MX_ENOMEM;
		}
	}
	return 0;
}

/* One row's cells, tab-separated; *any tells whether it had text. */
static int ods_row(struct sheet *s, const xmlNode *row, bool *any)
{
	int rc = 0;
	*any = false;
	conn_builder_line(s->o->b);
	for (const xmlNode *c = row->children; c && !rc && !s->full && !s->o->b->truncated;
	     c = c->next) {
		if (!conn_pkg_is(c, NS_TABLE, "table-cell"))
			continue;
		char *t = NULL;
		if ((rc = cell_text(s->o, c, &t)) || !t)
			continue;
		long rep = count_attr(c, NS_TABLE, "number-columns-repeated", MAX_CELLS);
		for (long k = 0; k < rep && !rc; k++) {
			if (s->cells++ == MAX_CELLS) {
				s->full = true;
				break;
			}
			if (*any)
				rc = conn_builder_raw(s->o->b, "\t", 1);
			if (!rc)
				rc = conn_builder_text(s->o->b, t, strlen(t));
			*any = true;
		}
		free(t);
	}
	return rc;
}

/* Rows, in row groups and header rows too. */
static int ods_rows(struct sheet *s, const xmlNode *n, int depth)
{
	int rc = 0;
	for (; n && !rc && !s->full && !s->o->b->truncated && depth < 32; n = n->next) {
		if (conn_pkg_is(n, NS_TABLE, "table-row")) {
			long rep = count_attr(n, NS_TABLE, "number-rows-repeated", MAX_CELLS);
			bool any = true;
			for (long k = 0; k < rep && any && !rc && !s->full; k++)
				rc = ods_row(s, n, &any);
		} else if (conn_pkg_is(n, NS_TABLE, "table-header-rows") ||
			   conn_pkg_is(n, NS_TABLE, "table-rows") ||
			   conn_pkg_is(n, NS_TABLE, "table-row-group")) {
			rc = ods_rows(s, n->children, depth + 1);
		}
	}
	return rc;
}

static int ods_body(struct od *o, const xmlNode *body, double deadline, struct conn_doc *doc)
{
	int num = 0, rc = 0;
	for (const xmlNode *c = body->children; c && !rc && !o->b->truncated; c = c->next) {
		if (!conn_pkg_is(c, NS_TABLE, "table"))
			continue;
		if (conn_now() > deadline)
			return MX_ETOOBIG;
		char head[64];
		const char *name = conn_pkg_attr(c, NS_TABLE, "name");
		num++;
		if (!name || !*name) {
			snprintf(head, sizeof head, "Sheet %d", num);
			name = head;
		}
		if ((rc = conn_builder_heading(o->b, 1, name)))
			break;
		struct sheet s = { .o = o };
		rc = ods_rows(&s, c->children, 0);
		if (s.full && !doc->note[0])
			snprintf(doc->note, sizeof doc->note, "sheet '%.60s' cut at %d cells", name,
				 MAX_CELLS);
	}
	return rc;
}

/* ---- the package -------------------------------------------------------- */

static bool want_odf(const char *name, void *ctx)
{
	(void)ctx;
	return !strcmp(name, "mimetype") || !strcmp(name, "content.xml") ||
	       !strcmp(name, "meta.xml") || !strcmp(name, "META-INF/manifest.xml");
}

/* The kind a mimetype names; K_NONE for any other type (drawings, charts,
 * formulas, not OpenDocument at all). */
static enum kind kind_of_mime(const char *m, size_t n)
{
	static const char pre[] = "application/vnd.oasis.opendocument.";
	static const struct {
		const char *name;
		enum kind k;
	} kinds[] = {
		{ "text", K_TEXT },
		{ "text-template", K_TEXT },
		{ "text-master", K_TEXT },
		{ "presentation", K_PRES },
		{ "presentation-template", K_PRES },
		{ "spreadsheet", K_SHEET },
		{ "spreadsheet-template", K_SHEET },
	};
	while (n && (m[n - 1] == '\n' || m[n - 1] == '\r' || m[n - 1] == ' '))
		n--;
	if (n < sizeof pre - 1 || memcmp(m, pre, sizeof pre - 1))
		return K_NONE;
	m += sizeof pre - 1;
	n -= sizeof pre - 1;
	for (size_t i = 0; i < sizeof kinds / sizeof kinds[0]; i++)
		if (strlen(kinds[i].name) == n && !memcmp(m, kinds[i].name, n))
			return kinds[i].k;
	return K_NONE;
}

/* Whether the manifest says content.xml is encrypted. */
static bool is_encrypted(const struct conn_zip *z)
{
	xmlDoc *x = conn_pkg_xml(z, "META-INF/manifest.xml");
	bool enc = false;
	if (!x)
		return false;
	for (const xmlNode *c = xmlDocGetRootElement(x)->children; c && !enc; c = c->next) {
		const char *p = conn_pkg_attr(c, NS_MANIF, "full-path");
		if (conn_pkg_is(c, NS_MANIF, "file-entry") && p && !strcmp(p, "content.xml"))
			enc = child(c, NS_MANIF, "encryption-data") != NULL;
	}
	xmlFreeDoc(x);
	return enc;
}

static void read_meta(const struct conn_zip *z, struct conn_doc *doc)
{
	xmlDoc *x = conn_pkg_xml(z, "meta.xml");
	char *creator = NULL, *initial = NULL;
	int64_t date = 0, created = 0;
	if (!x)
		return;
	const xmlNode *meta = child(xmlDocGetRootElement(x), NS_OFFICE, "meta");
	for (const xmlNode *c = meta ? meta->children : NULL; c; c = c->next) {
		if (conn_pkg_is(c, NS_DC, "title") && !doc->title) {
			doc->title = conn_clean_field(conn_pkg_text(c, FIELD_MAX));
		} else if (conn_pkg_is(c, NS_DC, "creator") && !creator) {
			creator = conn_clean_field(conn_pkg_text(c, FIELD_MAX));
		} else if (conn_pkg_is(c, NS_META, "initial-creator") && !initial) {
			initial = conn_clean_field(conn_pkg_text(c, FIELD_MAX));
		} else if (conn_pkg_is(c, NS_DC, "date") && !date) {
			char *s = conn_pkg_text(c, 64);
			date = conn_pkg_date(s);
			free(s);
		} else if (conn_pkg_is(c, NS_META, "creation-date") && !created) {
			char *s = conn_pkg_text(c, 64);
			created = conn_pkg_date(s);
			free(s);
		}
	}
	doc->author = initial ? initial : creator;
	if (initial)
		free(creator);
	doc->date = date ? date : created;
	xmlFreeDoc(x);
}

static int odf_parse(const char *path, const char *data, size_t len, struct conn_doc *doc)
{
	static const char *const type_names[] = { "", "odt", "odp", "ods" };
	static const char *const body_names[] = { "", "text", "presentation", "spreadsheet" };
	struct conn_zip *z = NULL;
	struct conn_builder b = { 0 };
	struct od o = { 0 };
	xmlDoc *x = NULL;
	char *first = NULL; /* the first heading */
	double deadline;
	enum kind kind = K_NONE;
	int rc;
	if ((rc = conn_pkg_open(data, len, want_odf, NULL, &z, &deadline, doc)))
		goto out;
	conn_builder_init(&b, TEXT_MAX, deadline);
	const struct conn_zip_entry *mt = conn_zip_find(z, "mimetype");
	if (mt && !(kind = kind_of_mime(mt->data, mt->len))) {
		char m[64];
		size_t k = 0;
		for (; k < mt->len && k < sizeof m - 1; k++)
			m[k] = mt->data[k] > ' ' && mt->data[k] < 0x7f ? mt->data[k] : '?';
		m[k] = '\0';
		rc = conn_pkg_fail(doc, MX_EUNSUPPORTED,
				   "not an OpenDocument text, presentation or spreadsheet "
				   "(mimetype '%s')",
				   m);
		goto out;
	}
	if (!conn_zip_find(z, "content.xml")) {
		rc = conn_pkg_fail(doc, MX_EINVAL, "not an OpenDocument file: no content.xml");
		goto out;
	}
	if (is_encrypted(z)) {
		rc = conn_pkg_fail(doc, MX_EUNSUPPORTED, "encrypted document");
		goto out;
	}
	const xmlNode *root = NULL, *office = NULL, *body = NULL;
	if ((x = conn_pkg_xml(z, "content.xml")))
		root = xmlDocGetRootElement(x);
	if (!conn_pkg_is(root, NS_OFFICE, "document-content") ||
	    !(office = child(root, NS_OFFICE, "body"))) {
		rc = conn_pkg_fail(doc, MX_EINVAL,
				   "not an OpenDocument file: content.xml has no body");
		goto out;
	}
	/* the body the mimetype names; else (none, or a mismatch) what is there */
	if (kind)
		body = child(office, NS_OFFICE, body_names[kind]);
	for (int k = K_TEXT; k <= K_SHEET && !body; k++)
		if ((body = child(office, NS_OFFICE, body_names[k])))
			kind = (enum kind)k;
	if (!body) {
		rc = conn_pkg_fail(doc, MX_EUNSUPPORTED,
				   "not an OpenDocument text, presentation or spreadsheet");
		goto out;
	}
	o.b = &b;
	if (kind == K_TEXT)
		rc = od_walk(&o, body->children, 1);
	else if (kind == K_PRES)
		rc = odp_body(&o, body, deadline);
	else
		rc = ods_body(&o, body, deadline, doc);
	if (rc)
		goto out;
	if (kind == K_TEXT)
		first = conn_pkg_first_heading(&b); /* not "Footnotes" */
	if ((rc = od_notes(&o)))
		goto out;
	if (conn_now() > deadline) {
		rc = MX_ETOOBIG;
		goto out;
	}
	read_meta(z, doc);
	if (!doc->title) {
		doc->title = first;
		first = NULL;
	}
	if (!doc->title)
		doc->title = conn_pkg_name_title(path);
	if ((rc = conn_builder_finish(&b, doc)))
		goto out;
	doc->type = type_names[kind];
	doc->line_base = -1;
out:
	if (rc) {
		free(doc->title);
		free(doc->author);
		doc->title = doc->author = NULL;
		doc->date = 0;
		if (!doc->err[0])
			conn_pkg_fail(doc, rc, "%s",
				      rc == MX_ETOOBIG	? "time limit"
				      : rc == MX_ENOMEM ? "out of memory"
							: mx_strerror(rc));
	}
	free(o.notes);
	free(first);
	conn_builder_free(&b);
	xmlFreeDoc(x);
	conn_zip_close(z);
	return rc;
}

const struct conn_ops conn_odf_ops = { "odf", odf_parse };
