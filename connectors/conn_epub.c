/*
 * conn_epub.c - EPUB books (2 and 3).
 *
 * An EPUB is a zip package:
 *
 *   mimetype                   "application/epub+zip"
 *   META-INF/container.xml     rootfiles/rootfile full-path: the package
 *                              document (OPF), from the root of the zip
 *   OEBPS/content.opf          package: metadata (dc:title, dc:creator,
 *                              dc:date), manifest (item id, href relative to
 *                              the OPF's folder, media-type) and spine
 *                              (itemref idref: the reading order)
 *   OEBPS/NAME.xhtml           the chapters, XHTML (EPUB 2 allowed some
 *                              HTML)
 *   META-INF/encryption.xml    what is encrypted: fonts (obfuscation) or,
 *                              with DRM, the chapters themselves
 *
 * Chapters are read as XML (conn_xml_read) and, when that fails, with
 * libxml2's HTML parser (network off, errors quiet, recovery on). Entity
 * references an XHTML DOCTYPE leaves undeclared (&nbsp;) are looked up in
 * the HTML entity table; entities a file declares are never expanded.
 * h1-h6 become headings, blocks paragraphs, list items and rows lines,
 * cells are separated by spaces; head, scripts and styles are dropped.
 * References are resolved within the package only ("../" never climbs out
 * of it).
 */
#include <libxml/HTMLparser.h>
#include <libxml/entities.h>
#include <libxml/parser.h>
#include <libxml/tree.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "../common/buf.h"
#include "../common/status.h"
#include "conn.h"
#include "conn_int.h"

/* Package helpers from conn_office.c (to move into a connectors header). */

#define TEXT_MAX  (32u << 20)
#define MAX_DEPTH 256
#define MAX_ITEMS 10000 /* manifest items, spine entries */
#define FIELD_MAX 4096

#define NS_OPF	 "http://www.idpf.org/2007/opf"
#define NS_DC	 "http://purl.org/dc/elements/1.1/"
#define NS_XHTML "http://www.w3.org/1999/xhtml"
#define NS_XENC	 "http://www.w3.org/2001/04/xmlenc#"

/* An element of this local name, case aside, in no namespace or in uri
 * (OPF 2 files without a namespace exist). */
static bool el(const xmlNode *n, const char *uri, const char *name)
{
	if (!n || n->type != XML_ELEMENT_NODE || !n->name ||
	    strcasecmp((const char *)n->name, name))
		return false;
	return !n->ns || !n->ns->href || !strcmp((const char *)n->ns->href, uri);
}

/* The first element named `name` at most `depth` levels below n. */
static const xmlNode *find_el(const xmlNode *n, const char *uri, const char *name, int depth)
{
	for (const xmlNode *c = n ? n->children : NULL; c; c = c->next) {
		if (el(c, uri, name))
			return c;
		const xmlNode *f = depth > 0 && c->type == XML_ELEMENT_NODE
					   ? find_el(c, uri, name, depth - 1)
					   : NULL;
		if (f)
			return f;
	}
	return NULL;
}

/* ===================================================================== */
/* chapters: XHTML to text                                               */
/* ===================================================================== */

struct hw {
	struct conn_builder *b;
	const xmlDoc *doc;
	bool flat; /* no headings (the text of one) */
	bool pre;  /* white space kept */
};

static bool name_in(const char *name, const char *const *list)
{
	for (size_t i = 0; list[i]; i++)
		if (!strcasecmp(name, list[i]))
			return true;
	return false;
}

static const char *const skipped[] = { "head",	 "script", "style",  "template", "noscript",
				       "svg",	 "object", "iframe", "title",	 "math-fallback",
				       "button", "select", NULL };
static const char *const blocks[] = { "p",	    "div",	  "section", "article", "header",
				      "footer",	    "blockquote", "pre",     "ul",	"ol",
				      "table",	    "form",	  "hr",	     "address", "dl",
				      "aside",	    "main",	  "nav",     "figure",	"body",
				      "figcaption", "center",	  "hgroup",  "details", "summary",
				      "fieldset",   NULL };
static const char *const lines[] = { "br", "li", "tr", "dt", "dd", "option", "caption", NULL };
static const char *const cells[] = { "td", "th", NULL };

/* The UTF-8 of code point cp into out (4 bytes and a NUL). */
static size_t utf8_put(unsigned cp, char *out)
{
	if (cp < 0x80) {
		out[0] = (char)cp;
		return 1;
	}
	if (cp < 0x800) {
		out[0] = (char)(0xc0 | (cp >> 6));
		out[1] = (char)(0x80 | (cp & 0x3f));
		return 2;
	}
	if (cp < 0x10000) {
		out[0] = (char)(0xe0 | (cp >> 12));
		out[1] = (char)(0x80 | ((cp >> 6) & 0x3f));
		out[2] = (char)(0x80 | (cp & 0x3f));
		return 3;
	}
	out[0] = (char)(0xf0 | (cp >> 18));
	out[1] = (char)(0x80 | ((cp >> 12) & 0x3f));
	out[2] = (char)(0x80 | ((cp >> 6) & 0x3f));
	out[3] = (char)(0x80 | (cp & 0x3f));
	return 4;
}

static int hw_walk(struct hw *h, const xmlNode *n, int depth);

/* The text of an element's children, for a heading; malloc'd or NULL. */
static int hw_plain(const struct hw *h, const xmlNode *n, char **out)
{
	struct conn_builder tb;
	struct hw sub = { .doc = h->doc, .flat = true };
	conn_builder_init(&tb, 1024, h->b->deadline);
	sub.b = &tb;
	int rc = hw_walk(&sub, n->children, 1);
	*out = NULL;
	if (!rc && tb.len) {
		*out = tb.text;
		tb.text = NULL;
	}
	conn_builder_free(&tb);
	return rc;
}

/* An entity reference the document did not declare (an XHTML DOCTYPE's
 * &nbsp;): its character from the HTML table. Declared ones (a billion
 * laughs, an external file) are dropped unread. */
static int hw_entity(struct hw *h, const xmlNode *n)
{
	char u[8];
	if (!n->name || xmlGetDocEntity((xmlDoc *)h->doc, n->name))
		return 0;
	const htmlEntityDesc *e = htmlEntityLookup(n->name);
	if (!e || e->value == 0 || e->value > 0x10ffff || (e->value >= 0xd800 && e->value < 0xe000))
		return 0;
	size_t k = utf8_put(e->value, u);
	return h->pre ? conn_builder_raw(h->b, u, k) : conn_builder_text(h->b, u, k);
}

static int hw_element(struct hw *h, const xmlNode *n, int depth)
{
	const char *nm = (const char *)n->name;
	int rc = 0;
	if (n->ns && n->ns->href && strcmp((const char *)n->ns->href, NS_XHTML)) {
		/* SVG drawn text is skipped; MathML and the like keep their text */
		if (!strcasecmp(nm, "svg"))
			return 0;
		return hw_walk(h, n->children, depth + 1);
	}
	if (name_in(nm, skipped))
		return 0;
	if ((nm[0] == 'h' || nm[0] == 'H') && nm[1] >= '1' && nm[1] <= '6' && !nm[2]) {
		if (!h->flat) {
			char *t = NULL;
			if ((rc = hw_plain(h, n, &t)) || !t)
				return rc;
			rc = conn_builder_heading(h->b, nm[1] - '0', t);
			free(t);
			return rc;
		}
		conn_builder_space(h->b);
		rc = hw_walk(h, n->children, depth + 1);
		conn_builder_space(h->b);
		return rc;
	}
	bool block = name_in(nm, blocks), line = name_in(nm, lines), cell = name_in(nm, cells);
	if (h->flat && (block || line))
		conn_builder_space(h->b);
	else if (block)
		conn_builder_paragraph(h->b);
	else if (line)
		conn_builder_line(h->b);
	else if (cell)
		conn_builder_space(h->b);
	bool pre = h->pre;
	if (!strcasecmp(nm, "pre"))
		h->pre = true;
	rc = hw_walk(h, n->children, depth + 1);
	h->pre = pre;
	if (h->flat && (block || line))
		conn_builder_space(h->b);
	else if (block)
		conn_builder_paragraph(h->b);
	else if (line && strcasecmp(nm, "br"))
		conn_builder_line(h->b);
	else if (cell)
		conn_builder_space(h->b);
	return rc;
}

static int hw_walk(struct hw *h, const xmlNode *n, int depth)
{
	int rc = 0;
	if (depth > MAX_DEPTH)
		return 0;
	for (; n && !rc; n = n->next) {
		if (n->type == XML_TEXT_NODE || n->type == XML_CDATA_SECTION_NODE) {
			if (!n->content)
				continue;
			const char *s = (const char *)n->content;
			if (h->pre && !h->flat)
				rc = conn_builder_raw(h->b, s, strlen(s));
			else
				rc = conn_builder_text(h->b, s, strlen(s));
		} else if (n->type == XML_ENTITY_REF_NODE) {
			rc = hw_entity(h, n);
		} else if (n->type == XML_ELEMENT_NODE && n->name) {
			rc = hw_element(h, n, depth);
		}
	}
	return rc;
}

/* A chapter as a tree: XML when it is well-formed, else HTML. */
static xmlDoc *read_chapter(const struct conn_zip_entry *e)
{
	xmlDoc *x = conn_xml_read(e->data, e->len);
	if (x && (x->properties & XML_DOC_WELLFORMED) && xmlDocGetRootElement(x))
		return x;
	xmlFreeDoc(x);
	if (e->len > INT_MAX)
		return NULL;
	x = htmlReadMemory(e->data, (int)e->len, NULL, NULL,
			   HTML_PARSE_NONET | HTML_PARSE_NOERROR | HTML_PARSE_NOWARNING |
				   HTML_PARSE_RECOVER);
	if (x && !xmlDocGetRootElement(x)) {
		xmlFreeDoc(x);
		x = NULL;
	}
	return x;
}

static int read_text(struct conn_builder *b, const struct conn_zip_entry *e)
{
	xmlDoc *x = read_chapter(e);
	if (!x)
		return 0; /* unreadable: the rest of the book still counts */
	struct hw h = { .b = b, .doc = x };
	conn_builder_paragraph(b);
	const xmlNode *root = xmlDocGetRootElement(x);
	const xmlNode *body = find_el(root, NS_XHTML, "body", 1);
	int rc = hw_walk(&h, body ? body->children : root->children, 1);
	conn_builder_paragraph(b);
	xmlFreeDoc(x);
	return rc;
}

/* ===================================================================== */
/* the package                                                           */
/* ===================================================================== */

/* Entries kept in memory: all but media and styles. */
static bool want_epub(const char *name, void *ctx)
{
	static const char *const media[] = { ".jpg",   ".jpeg", ".png", ".gif", ".webp", ".bmp",
					     ".tif",   ".tiff", ".svg", ".ttf", ".otf",	 ".woff",
					     ".woff2", ".mp3",	".mp4", ".m4a", ".ogg",	 ".webm",
					     ".wav",   ".css",	".js",	".pdf", NULL };
	(void)ctx;
	size_t n = strlen(name);
	for (size_t i = 0; media[i]; i++) {
		size_t k = strlen(media[i]);
		if (n > k && !strcasecmp(name + n - k, media[i]))
			return false;
	}
	return true;
}

struct item {
	const char *id; /* borrowed from the OPF tree */
	const char *type;
	char *path;
};

struct book {
	struct item *items;
	size_t nitems;
	const struct item **spine;
	size_t nspine;
};

static void book_free(struct book *bk)
{
	for (size_t i = 0; i < bk->nitems; i++)
		free(bk->items[i].path);
	free(bk->items);
	free(bk->spine);
}

/* The package document's path, from META-INF/container.xml; else the first
 * .opf in the zip. Malloc'd, or NULL. */
static char *opf_path(const struct conn_zip *z)
{
	xmlDoc *x = conn_pkg_xml(z, "META-INF/container.xml");
	char *p = NULL;
	if (x) {
		const xmlNode *root = xmlDocGetRootElement(x);
		const xmlNode *rfs = find_el(
			root, "urn:oasis:names:tc:opendocument:xmlns:container", "rootfiles", 2);
		for (const xmlNode *c = rfs ? rfs->children : NULL; c && !p; c = c->next) {
			if (c->type != XML_ELEMENT_NODE || !c->name ||
			    strcmp((const char *)c->name, "rootfile"))
				continue;
			const char *mt = conn_pkg_attr(c, NULL, "media-type");
			if (mt && strcmp(mt, "application/oebps-package+xml"))
				continue;
			p = conn_pkg_resolve(NULL, conn_pkg_attr(c, NULL, "full-path"));
		}
		xmlFreeDoc(x);
	}
	for (size_t i = 0; !p && i < conn_zip_count(z); i++) {
		const char *nm = conn_zip_entry(z, i)->name;
		size_t n = strlen(nm);
		if (n > 4 && !strcasecmp(nm + n - 4, ".opf"))
			p = strdup(nm);
	}
	return p;
}

/* Appends s to a comma-separated list of creators. */
static void add_creator(struct mx_buf *names, char *s)
{
	if (!s)
		return;
	if (names->len)
		mx_buf_appends(names, ", ");
	mx_buf_appends(names, s);
	free(s);
}

static void read_metadata(const xmlNode *md, struct conn_doc *doc, int depth)
{
	struct mx_buf names;
	int64_t modified = 0;
	mx_buf_init(&names, FIELD_MAX);
	for (const xmlNode *c = md ? md->children : NULL; c; c = c->next) {
		if (c->type != XML_ELEMENT_NODE || !c->name)
			continue;
		const char *nm = (const char *)c->name;
		bool dc = c->ns && c->ns->href && !strcmp((const char *)c->ns->href, NS_DC);
		if (dc && !strcasecmp(nm, "title") && !doc->title) {
			doc->title = conn_clean_field(conn_pkg_text(c, FIELD_MAX));
		} else if (dc && !strcasecmp(nm, "creator")) {
			add_creator(&names, conn_clean_field(conn_pkg_text(c, FIELD_MAX)));
		} else if (dc && !strcasecmp(nm, "date") && !doc->date) {
			char *s = conn_pkg_text(c, 64);
			doc->date = conn_pkg_date(s);
			free(s);
		} else if (el(c, NS_OPF, "meta") && !modified) {
			const char *p = conn_pkg_attr(c, NULL, "property");
			if (p && !strcmp(p, "dcterms:modified")) {
				char *s = conn_pkg_text(c, 64);
				modified = conn_pkg_date(s);
				free(s);
			}
		} else if (el(c, NS_OPF, "dc-metadata") && depth == 0) {
			read_metadata(c, doc, 1); /* OEB 1 nests Dublin Core */
		}
	}
	if (!doc->date)
		doc->date = modified;
	if (names.len && !doc->author)
		doc->author = conn_clean_field(mx_buf_detach(&names));
	mx_buf_free(&names);
}

static bool is_chapter(const struct item *it)
{
	if (it->type)
		return !strcmp(it->type, "application/xhtml+xml") ||
		       !strcmp(it->type, "text/html") || !strcmp(it->type, "text/x-oeb1-document");
	size_t n = strlen(it->path);
	return (n > 6 && !strcasecmp(it->path + n - 6, ".xhtml")) ||
	       (n > 5 && !strcasecmp(it->path + n - 5, ".html")) ||
	       (n > 4 && !strcasecmp(it->path + n - 4, ".htm"));
}

/* The manifest's items and the spine's order (chapters only; all the
 * manifest's chapters when the spine names none). */
static int read_book(const xmlNode *pkg, const char *opf, struct book *bk)
{
	const xmlNode *man = find_el(pkg, NS_OPF, "manifest", 0);
	const xmlNode *spine = find_el(pkg, NS_OPF, "spine", 0);
	size_t cap = 0;
	for (const xmlNode *c = man ? man->children : NULL; c && bk->nitems < MAX_ITEMS;
	     c = c->next) {
		if (!el(c, NS_OPF, "item"))
			continue;
		const char *id = conn_pkg_attr(c, NULL, "id");
		char *path = conn_pkg_resolve(opf, conn_pkg_attr(c, NULL, "href"));
		if (!id || !path) {
			free(path);
			continue;
		}
		if (bk->nitems == cap) {
			size_t nc = cap ? cap * 2 : 32;
			struct item *v = realloc(bk->items, nc * sizeof *v);
			if (!v) {
				free(path);
				return MX_ENOMEM;
			}
			bk->items = v;
			cap = nc;
		}
		bk->items[bk->nitems++] =
			(struct item){ id, conn_pkg_attr(c, NULL, "media-type"), path };
	}
	if (bk->nitems && !(bk->spine = malloc(MAX_ITEMS * sizeof *bk->spine)))
		return MX_ENOMEM;
	for (const xmlNode *c = spine ? spine->children : NULL; c && bk->nspine < MAX_ITEMS;
	     c = c->next) {
		const char *idref =
			el(c, NS_OPF, "itemref") ? conn_pkg_attr(c, NULL, "idref") : NULL;
		for (size_t i = 0; idref && i < bk->nitems; i++) {
			if (!strcmp(bk->items[i].id, idref)) {
				if (is_chapter(&bk->items[i]))
					bk->spine[bk->nspine++] = &bk->items[i];
				break;
			}
		}
	}
	for (size_t i = 0; !bk->nspine && i < bk->nitems; i++)
		if (is_chapter(&bk->items[i]))
			bk->spine[bk->nspine++] = &bk->items[i];
	return 0;
}

/* Whether META-INF/encryption.xml encrypts a chapter (DRM), not just fonts
 * (obfuscation). */
static bool drm(const struct conn_zip *z, const struct book *bk)
{
	xmlDoc *x = conn_pkg_xml(z, "META-INF/encryption.xml");
	bool found = false;
	if (!x)
		return false;
	for (const xmlNode *d = xmlDocGetRootElement(x)->children; d && !found; d = d->next) {
		const xmlNode *cd = find_el(d, NS_XENC, "CipherData", 0);
		const xmlNode *ref = find_el(cd, NS_XENC, "CipherReference", 0);
		char *p = conn_pkg_resolve(NULL, conn_pkg_attr(ref, NULL, "URI"));
		for (size_t i = 0; p && i < bk->nspine && !found; i++)
			found = !strcmp(p, bk->spine[i]->path);
		free(p);
	}
	xmlFreeDoc(x);
	return found;
}

static int epub_parse(const char *path, const char *data, size_t len, struct conn_doc *doc)
{
	struct conn_zip *z = NULL;
	struct conn_builder b = { 0 };
	struct book bk = { 0 };
	xmlDoc *x = NULL;
	char *opf = NULL;
	double deadline;
	int rc;
	if ((rc = conn_pkg_open(data, len, want_epub, NULL, &z, &deadline, doc)))
		goto out;
	conn_builder_init(&b, TEXT_MAX, deadline);
	if (!(opf = opf_path(z))) {
		rc = conn_pkg_fail(doc, MX_EINVAL, "not an EPUB: no META-INF/container.xml");
		goto out;
	}
	const xmlNode *pkg = NULL;
	if ((x = conn_pkg_xml(z, opf)))
		pkg = xmlDocGetRootElement(x);
	if (!el(pkg, NS_OPF, "package")) {
		rc = conn_pkg_fail(doc, MX_EINVAL, "not an EPUB: no package document '%.100s'",
				   opf);
		goto out;
	}
	if ((rc = read_book(pkg, opf, &bk)))
		goto out;
	if (drm(z, &bk)) {
		rc = conn_pkg_fail(doc, MX_EUNSUPPORTED, "encrypted (DRM) book");
		goto out;
	}
	for (size_t i = 0; i < bk.nspine && !rc && !b.truncated; i++) {
		const struct conn_zip_entry *e = conn_pkg_find(z, bk.spine[i]->path);
		if (conn_now() > deadline)
			rc = MX_ETOOBIG;
		else if (e)
			rc = read_text(&b, e);
	}
	if (rc)
		goto out;
	read_metadata(find_el(pkg, NS_OPF, "metadata", 0), doc, 0);
	if (!doc->title)
		doc->title = conn_pkg_first_heading(&b);
	if (!doc->title)
		doc->title = conn_pkg_name_title(path);
	if ((rc = conn_builder_finish(&b, doc)))
		goto out;
	doc->type = "epub";
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
	book_free(&bk);
	free(opf);
	conn_builder_free(&b);
	xmlFreeDoc(x);
	conn_zip_close(z);
	return rc;
}

const struct conn_ops conn_epub_ops = { "epub", epub_parse };
