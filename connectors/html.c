/*
 * html.c - HTML to plain text with libxml2's HTML parser.
 *
 * The parser runs with recovery on, errors silenced and the network off;
 * HTML has no external entities. The tree walk drops what is not text for
 * a reader (script, style, head, templates), puts block elements on lines
 * of their own, separates table cells, and keeps the text of links. The
 * output is capped; text past the cap is dropped.
 */
#include <libxml/HTMLparser.h>
#include <libxml/tree.h>
#include <stdbool.h>
#include <string.h>

#include "../common/buf.h"
#include "../common/status.h"
#include "conn.h"

#define HTML_MAX_DEPTH 256

struct html_out {
	struct mx_buf b;
	bool space;   /* white space pending */
	int newlines; /* line breaks pending (0, 1 or 2) */
	bool full;
};

static bool name_in(const xmlChar *name, const char *const *list)
{
	for (size_t i = 0; list[i]; i++)
		if (!xmlStrcasecmp(name, (const xmlChar *)list[i]))
			return true;
	return false;
}

static const char *const skipped[] = { "script", "style",  "head",   "template", "noscript",
				       "svg",	 "object", "iframe", NULL };
static const char *const blocks[] = {
	"p",  "div",	 "section", "article", "header", "footer", "blockquote", "pre",	 "ul",
	"ol", "table",	 "form",    "h1",      "h2",	 "h3",	   "h4",	 "h5",	 "h6",
	"hr", "address", "dl",	    "aside",   "main",	 "nav",	   "figure",	 "body", NULL
};
static const char *const lines[] = { "br", "li", "tr", "dt", "dd", "option", NULL };
static const char *const cells[] = { "td", "th", NULL };

static void put(struct html_out *o, const char *s, size_t n)
{
	if (o->full)
		return;
	if (mx_buf_append(&o->b, s, n))
		o->full = true;
}

/* Emits pending separators before text. */
static void flush_sep(struct html_out *o)
{
	if (o->b.len == 0) {
		o->newlines = 0;
		o->space = false;
		return;
	}
	if (o->newlines) {
		put(o, o->newlines > 1 ? "\n\n" : "\n", (size_t)(o->newlines > 1 ? 2 : 1));
		o->newlines = 0;
		o->space = false;
	} else if (o->space) {
		put(o, " ", 1);
		o->space = false;
	}
}

static void text(struct html_out *o, const xmlChar *t, bool pre)
{
	for (const xmlChar *p = t; *p && !o->full; p++) {
		if (!pre && (*p == ' ' || *p == '\t' || *p == '\n' || *p == '\r' || *p == '\f')) {
			o->space = true;
			continue;
		}
		if (pre && *p == '\n') {
			put(o, "\n", 1);
			continue;
		}
		flush_sep(o);
		put(o, (const char *)p, 1);
	}
}

static void walk(struct html_out *o, xmlNode *n, int depth, bool pre)
{
	for (; n && !o->full; n = n->next) {
		if (n->type == XML_TEXT_NODE || n->type == XML_CDATA_SECTION_NODE) {
			if (n->content)
				text(o, n->content, pre);
			continue;
		}
		if (n->type != XML_ELEMENT_NODE || !n->name)
			continue;
		if (name_in(n->name, skipped))
			continue;
		bool block = name_in(n->name, blocks), line = name_in(n->name, lines);
		bool cell = name_in(n->name, cells);
		if (block && o->newlines < 2)
			o->newlines = 2;
		else if (line && o->newlines < 1)
			o->newlines = 1;
		else if (cell)
			o->space = true;
		if (depth < HTML_MAX_DEPTH)
			walk(o, n->children, depth + 1,
			     pre || !xmlStrcasecmp(n->name, (const xmlChar *)"pre"));
		if (block && o->newlines < 2)
			o->newlines = 2;
		else if (line && o->newlines < 1)
			o->newlines = 1;
		else if (cell)
			o->space = true;
	}
}

int conn_html_to_text(const char *html, size_t len, size_t cap, char **out, size_t *outlen)
{
	if (len > INT32_MAX)
		return MX_ETOOBIG;
	htmlDocPtr doc = htmlReadMemory(html, (int)len, NULL, "UTF-8",
					HTML_PARSE_RECOVER | HTML_PARSE_NOERROR |
						HTML_PARSE_NOWARNING | HTML_PARSE_NONET);
	struct html_out o = { 0 };
	mx_buf_init(&o.b, cap);
	if (doc) {
		walk(&o, xmlDocGetRootElement(doc), 0, false);
		xmlFreeDoc(doc);
	}
	if (!o.b.data && mx_buf_append(&o.b, "", 0)) {
		mx_buf_free(&o.b);
		return MX_ENOMEM;
	}
	*outlen = o.b.len;
	*out = mx_buf_detach(&o.b);
	return 0;
}
