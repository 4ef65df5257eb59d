/*
 * html.c - HTML to text with libxml2's HTML parser: mail bodies
 * (conn_html_to_text) and HTML/XHTML files (conn_html_ops).
 *
 * The parser runs with recovery on, errors silenced and the network off;
 * HTML has no external entities. The tree walk drops what is not text for
 * a reader (script, style, head, templates) and navigation boilerplate
 * (nav, aside, footer, and elements whose role is navigation, banner or
 * contentinfo); it puts block elements on lines of their own, separates
 * table cells, keeps the text of links, and turns h1-h6 into headings.
 */
#include <libxml/HTMLparser.h>
#include <libxml/tree.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "../common/status.h"
#include "conn.h"

#define HTML_MAX_DEPTH 256
#define HTML_TEXT_CAP  (32u << 20)

static bool name_in(const xmlChar *name, const char *const *list)
{
	for (size_t i = 0; list[i]; i++)
		if (!xmlStrcasecmp(name, (const xmlChar *)list[i]))
			return true;
	return false;
}

static const char *const skipped[] = { "script", "style",  "head",   "template", "noscript",
				       "svg",	 "object", "iframe", "nav",	 "aside",
				       "footer", "button", "select", "form",	 NULL };
static const char *const blocks[] = { "p",   "div",  "section", "article", "header", "blockquote",
				      "pre", "ul",   "ol",	"table",   "hr",     "address",
				      "dl",  "main", "figure",	"body",	   NULL };
static const char *const lines[] = { "br", "li", "tr", "dt", "dd", "option", "caption", NULL };
static const char *const cells[] = { "td", "th", NULL };

/* An element whose role marks it as boilerplate. */
static bool boilerplate_role(xmlNode *n)
{
	xmlChar *role = xmlGetProp(n, (const xmlChar *)"role");
	bool r = role && (!xmlStrcasecmp(role, (const xmlChar *)"navigation") ||
			  !xmlStrcasecmp(role, (const xmlChar *)"banner") ||
			  !xmlStrcasecmp(role, (const xmlChar *)"contentinfo"));
	xmlFree(role);
	return r;
}

/* The text below a node, for headings and titles (malloc'd by libxml2). */
static char *node_text(xmlNode *n)
{
	xmlChar *t = xmlNodeGetContent(n);
	char *s = t ? strdup((const char *)t) : NULL;
	xmlFree(t);
	return s;
}

struct hwalk {
	struct conn_builder *b;
	bool headings; /* h1-h6 as builder headings (files) or paragraphs (mail) */
	char *first_h1;
	int rc;
};

static void walk(struct hwalk *w, xmlNode *n, int depth, bool pre)
{
	for (; n && !w->rc; n = n->next) {
		if (n->type == XML_TEXT_NODE || n->type == XML_CDATA_SECTION_NODE) {
			if (n->content) {
				size_t len = strlen((const char *)n->content);
				w->rc = pre ? conn_builder_raw(w->b, (const char *)n->content, len)
					    : conn_builder_text(w->b, (const char *)n->content,
								len);
			}
			continue;
		}
		if (n->type != XML_ELEMENT_NODE || !n->name)
			continue;
		if (name_in(n->name, skipped) || boilerplate_role(n))
			continue;
		const char *nm = (const char *)n->name;
		if ((nm[0] == 'h' || nm[0] == 'H') && nm[1] >= '1' && nm[1] <= '6' && !nm[2]) {
			char *t = node_text(n);
			if (w->headings) {
				w->rc = conn_builder_heading(w->b, nm[1] - '0', t);
				if (!w->first_h1 && nm[1] == '1' && t)
					w->first_h1 = conn_clean_field(strdup(t));
			} else if (t) {
				conn_builder_paragraph(w->b);
				w->rc = conn_builder_text(w->b, t, strlen(t));
				conn_builder_paragraph(w->b);
			}
			free(t);
			continue;
		}
		bool block = name_in(n->name, blocks), line = name_in(n->name, lines);
		bool cell = name_in(n->name, cells);
		if (block)
			conn_builder_paragraph(w->b);
		else if (line)
			conn_builder_line(w->b);
		else if (cell)
			conn_builder_space(w->b);
		if (depth < HTML_MAX_DEPTH)
			walk(w, n->children, depth + 1,
			     pre || !xmlStrcasecmp(n->name, (const xmlChar *)"pre"));
		if (block)
			conn_builder_paragraph(w->b);
		else if (line)
			conn_builder_line(w->b);
		else if (cell)
			conn_builder_space(w->b);
	}
}

static htmlDocPtr parse_html(const char *html, size_t len, const char *encoding)
{
	if (len > INT32_MAX)
		return NULL;
	return htmlReadMemory(html, (int)len, NULL, encoding,
			      HTML_PARSE_RECOVER | HTML_PARSE_NOERROR | HTML_PARSE_NOWARNING |
				      HTML_PARSE_NONET);
}

int conn_html_to_text(const char *html, size_t len, size_t cap, char **out, size_t *outlen)
{
	struct conn_builder b;
	struct conn_doc d;
	conn_builder_init(&b, cap, conn_now() + conn_limits_default().seconds);
	conn_doc_init(&d);
	htmlDocPtr doc = parse_html(html, len, "UTF-8");
	struct hwalk w = { .b = &b };
	if (doc) {
		walk(&w, xmlDocGetRootElement(doc), 0, false);
		xmlFreeDoc(doc);
	}
	int rc = w.rc == MX_ETOOBIG ? 0 : w.rc; /* past the deadline: what we have */
	if (!rc)
		rc = conn_builder_finish(&b, &d);
	conn_builder_free(&b);
	if (rc) {
		conn_doc_clear(&d);
		return rc;
	}
	*out = d.text;
	*outlen = d.text_len;
	d.text = NULL;
	conn_doc_clear(&d);
	return 0;
}

/* <title>, and <meta name="author">, from the head. */
static void head_meta(xmlNode *root, char **title, char **author)
{
	for (xmlNode *n = root ? root->children : NULL; n; n = n->next) {
		if (n->type != XML_ELEMENT_NODE)
			continue;
		if (!xmlStrcasecmp(n->name, (const xmlChar *)"head")) {
			head_meta(n, title, author);
			continue;
		}
		if (!xmlStrcasecmp(n->name, (const xmlChar *)"title") && !*title) {
			*title = conn_clean_field(node_text(n));
		} else if (!xmlStrcasecmp(n->name, (const xmlChar *)"meta") && !*author) {
			xmlChar *name = xmlGetProp(n, (const xmlChar *)"name");
			if (name && !xmlStrcasecmp(name, (const xmlChar *)"author")) {
				xmlChar *c = xmlGetProp(n, (const xmlChar *)"content");
				if (c)
					*author = conn_clean_field(strdup((const char *)c));
				xmlFree(c);
			}
			xmlFree(name);
		}
	}
}

static int html_parse(const char *path, const char *data, size_t len, struct conn_doc *doc)
{
	(void)path;
	struct conn_builder b;
	if (len == 0) {
		snprintf(doc->err, sizeof doc->err, "empty file");
		return MX_EEMPTY;
	}
	if (conn_looks_binary(data, len)) {
		snprintf(doc->err, sizeof doc->err, "binary content in an HTML file");
		return MX_EBINARY;
	}
	/* libxml2 finds the charset from a BOM or <meta charset>; UTF-8 else */
	htmlDocPtr hd = parse_html(data, len, NULL);
	if (!hd) {
		snprintf(doc->err, sizeof doc->err, "not parseable as HTML");
		return MX_EINVAL;
	}
	conn_builder_init(&b, HTML_TEXT_CAP, conn_now() + conn_limits_default().seconds);
	struct hwalk w = { .b = &b, .headings = true };
	xmlNode *root = xmlDocGetRootElement(hd);
	head_meta(root, &doc->title, &doc->author);
	walk(&w, root, 0, false);
	xmlFreeDoc(hd);
	int rc = w.rc;
	if (rc == MX_ETOOBIG)
		snprintf(doc->err, sizeof doc->err, "time limit");
	if (!rc)
		rc = conn_builder_finish(&b, doc);
	conn_builder_free(&b);
	if (!doc->title && w.first_h1) {
		doc->title = w.first_h1;
		w.first_h1 = NULL;
	}
	free(w.first_h1);
	if (rc)
		return rc;
	doc->type = "html";
	doc->line_base = -1;
	return 0;
}

const struct conn_ops conn_html_ops = { "html", html_parse };
