/*
 * conn_office.c - Office Open XML documents (.docx, .pptx, .xlsx), and the
 * package helpers that conn_odf.c and conn_epub.c share.
 *
 * An OOXML file is a zip "package" of XML parts tied together by
 * relationship parts:
 *
 *   _rels/.rels                   the package's relationships: the main part
 *                                 (Type .../officeDocument) and the core
 *                                 properties (Type .../core-properties)
 *   docProps/core.xml             dc:title, dc:creator, dcterms:created,
 *                                 dcterms:modified
 *   word/document.xml             docx: w:body of w:p paragraphs (w:r runs
 *                                 of w:t text) and w:tbl tables
 *   word/styles.xml               style ids and names ("heading 1")
 *   word/footnotes.xml, word/endnotes.xml
 *   ppt/presentation.xml          pptx: p:sldIdLst, the slides' r:ids in order
 *   ppt/slides/slideN.xml         one slide: p:spTree of shapes of a:p / a:t;
 *                                 its rels link its notes slide
 *   xl/workbook.xml               xlsx: sheets (name, r:id)
 *   xl/sharedStrings.xml          the strings that cells of t="s" index
 *   xl/worksheets/sheetN.xml      sheetData: rows of cells (c/v, c/is)
 *
 * A part's relationships are in DIR/_rels/NAME.rels beside it; their
 * targets are relative to DIR, or absolute from the package root. The
 * transitional (2006) and the strict (purl.oclc.org) namespace URIs are both
 * read. A password-protected file is not a zip but an OLE compound file
 * holding the encrypted package, as are legacy .doc/.ppt/.xls: both are
 * refused.
 *
 * XML is parsed with conn_xml_read() only, and entity references left in a
 * tree are never expanded: text is gathered from text nodes alone and
 * attributes are read only when they are plain text, so a billion laughs or
 * an external entity stays inert.
 */
#include <libxml/parser.h>
#include <libxml/tree.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "../common/buf.h"
#include "../common/status.h"
#include "conn.h"
#include "conn_int.h"

#define TEXT_MAX  (32u << 20) /* bytes of text per document */
#define MAX_DEPTH 256	      /* XML nesting walked (libxml2 stops at 256) */
#define MAX_PARTS 10000	      /* slides, sheets, relationships listed */
#define MAX_CELLS 100000      /* cells per sheet */
#define FIELD_MAX 4096	      /* bytes of a metadata field */
#define PATH_MAX_ 4096	      /* bytes of a part name */

/* ===================================================================== */
/* package helpers                                                       */
/* ===================================================================== */

int conn_pkg_fail(struct conn_doc *doc, int rc, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(doc->err, sizeof doc->err, fmt, ap);
	va_end(ap);
	return rc;
}

/* Opens a zip package within the default limits; refuses OLE compound
 * files (encrypted OOXML, legacy binary Office) and what is not a zip.
 * *deadline is when the parse must give up. */
int conn_pkg_open(const char *data, size_t len, bool (*want)(const char *name, void *ctx),
		  void *ctx, struct conn_zip **z, double *deadline, struct conn_doc *doc)
{
	static const unsigned char ole[8] = { 0xd0, 0xcf, 0x11, 0xe0, 0xa1, 0xb1, 0x1a, 0xe1 };
	struct conn_limits lim = conn_limits_default();
	char err[200] = "";
	*z = NULL;
	*deadline = conn_now() + lim.seconds;
	if (len >= 8 && !memcmp(data, ole, 8))
		return conn_pkg_fail(doc, MX_EUNSUPPORTED, "encrypted or legacy binary document");
	if (len < 4 || memcmp(data, "PK", 2))
		return conn_pkg_fail(doc, MX_EINVAL, "not a zip package");
	int rc = conn_zip_open(data, len, &lim, want, ctx, z, err, sizeof err);
	if (rc == MX_ENOMEM)
		return conn_pkg_fail(doc, rc, "out of memory");
	if (rc)
		return conn_pkg_fail(doc, rc, "%s", err[0] ? err : "not a zip package");
	return 0;
}

/* The entry of that name; part names are case-insensitive in OPC, so an
 * exact match is tried first, then any case. */
const struct conn_zip_entry *conn_pkg_find(const struct conn_zip *z, const char *name)
{
	if (!name)
		return NULL;
	const struct conn_zip_entry *e = conn_zip_find(z, name);
	for (size_t i = 0; !e && i < conn_zip_count(z); i++) {
		const struct conn_zip_entry *c = conn_zip_entry(z, i);
		if (!strcasecmp(c->name, name))
			e = c;
	}
	return e;
}

/* The entry parsed as XML, or NULL (absent, or no root element). */
struct _xmlDoc *conn_pkg_xml(const struct conn_zip *z, const char *name)
{
	const struct conn_zip_entry *e = conn_pkg_find(z, name);
	if (!e)
		return NULL;
	xmlDoc *x = conn_xml_read(e->data, e->len);
	if (x && !xmlDocGetRootElement(x)) {
		xmlFreeDoc(x);
		x = NULL;
	}
	return x;
}

/* Whether n is the element {uri}name. */
bool conn_pkg_is(const xmlNode *n, const char *uri, const char *name)
{
	return n && n->type == XML_ELEMENT_NODE && n->name &&
	       !strcmp((const char *)n->name, name) && n->ns && n->ns->href &&
	       !strcmp((const char *)n->ns->href, uri);
}

/* The value of attribute {uri}name (uri NULL: no namespace), borrowed from
 * the tree; NULL when absent or when it holds anything but plain text (an
 * entity reference is never expanded). */
const char *conn_pkg_attr(const xmlNode *n, const char *uri, const char *name)
{
	if (!n || n->type != XML_ELEMENT_NODE)
		return NULL;
	for (const xmlAttr *a = n->properties; a; a = a->next) {
		if (!a->name || strcmp((const char *)a->name, name))
			continue;
		const char *h = a->ns && a->ns->href ? (const char *)a->ns->href : NULL;
		if (uri ? !h || strcmp(h, uri) : h != NULL)
			continue;
		const xmlNode *c = a->children;
		if (!c)
			return "";
		if (c->type != XML_TEXT_NODE || c->next || !c->content)
			return NULL;
		return (const char *)c->content;
	}
	return NULL;
}

static void gather(const xmlNode *n, struct mx_buf *b, int depth)
{
	for (; n; n = n->next) {
		if (n->type == XML_TEXT_NODE || n->type == XML_CDATA_SECTION_NODE) {
			if (n->content && mx_buf_appends(b, (const char *)n->content))
				return;
		} else if (n->type == XML_ELEMENT_NODE && depth < MAX_DEPTH) {
			gather(n->children, b, depth + 1);
		}
	}
}

/* The text below n (text and CDATA nodes; entity references skipped), at
 * most cap bytes; malloc'd ("" when none), NULL when memory ran out. */
char *conn_pkg_text(const xmlNode *n, size_t cap)
{
	struct mx_buf b;
	mx_buf_init(&b, cap);
	if (n)
		gather(n->children, &b, 0);
	return mx_buf_detach(&b);
}

/* Reads exactly n digits. */
static bool digits(const char **p, int n, int *out)
{
	int v = 0;
	for (int i = 0; i < n; i++) {
		char c = (*p)[i];
		if (c < '0' || c > '9')
			return false;
		v = v * 10 + (c - '0');
	}
	*p += n;
	*out = v;
	return true;
}

static bool leap(int y)
{
	return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

/* Leap days in years 1..y. */
static int64_t leaps_through(int y)
{
	return y / 4 - y / 100 + y / 400;
}

/* An ISO 8601 / W3CDTF date, "YYYY[-MM[-DD[Thh:mm[:ss[.f]][Z|+hh:mm]]]]", as
 * seconds since the epoch (no zone: UTC); 0 when it is not one. */
int64_t conn_pkg_date(const char *s)
{
	static const int mdays[12] = { 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 };
	int y, mo = 1, d = 1, h = 0, mi = 0, sec = 0, zh = 0, zm = 0, sign = 0;
	if (!s)
		return 0;
	while (*s == ' ' || *s == '\t' || *s == '\n' || *s == '\r')
		s++;
	if (!digits(&s, 4, &y) || y < 1000)
		return 0;
	if (*s == '-') {
		s++;
		if (!digits(&s, 2, &mo))
			return 0;
		if (*s == '-') {
			s++;
			if (!digits(&s, 2, &d))
				return 0;
		}
	}
	if (mo < 1 || mo > 12 || d < 1 || d > mdays[mo - 1] + (mo == 2 && leap(y)))
		return 0;
	if (*s == 'T' || *s == 't' || *s == ' ') {
		s++;
		if (!digits(&s, 2, &h) || *s++ != ':' || !digits(&s, 2, &mi))
			return 0;
		if (*s == ':') {
			s++;
			if (!digits(&s, 2, &sec))
				return 0;
			if (*s == '.' || *s == ',')
				for (s++; *s >= '0' && *s <= '9'; s++)
					;
		}
		if (h > 23 || mi > 59 || sec > 60)
			return 0;
		if (*s == 'Z' || *s == 'z') {
			s++;
		} else if (*s == '+' || *s == '-') {
			sign = *s++ == '-' ? -1 : 1;
			if (!digits(&s, 2, &zh))
				return 0;
			if (*s == ':')
				s++;
			if (*s >= '0' && *s <= '9' && !digits(&s, 2, &zm))
				return 0;
			if (zh > 14 || zm > 59)
				return 0;
		}
	}
	int64_t days = 365 * (int64_t)(y - 1970) + leaps_through(y - 1) - leaps_through(1969);
	for (int m = 1; m < mo; m++)
		days += mdays[m - 1] + (m == 2 && leap(y));
	days += d - 1;
	int64_t t = days * 86400 + h * 3600 + mi * 60 + sec;
	return t - sign * (zh * 3600 + zm * 60);
}

static int hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* The part name that a relative reference (a relationship's Target, an OPF
 * href) from part `base` names: resolved against base's folder ("/x" from
 * the root), percent-decoded, without a #fragment or ?query, and with "."
 * and ".." folded. Only names inside the package come out: NULL for a
 * reference with a scheme (http:, file:), one that climbs above the root,
 * a NUL, or an empty one. Malloc'd. */
char *conn_pkg_resolve(const char *base, const char *target)
{
	if (!target)
		return NULL;
	size_t tlen = strcspn(target, "#?");
	for (size_t i = 0; i < tlen && target[i] != '/'; i++)
		if (target[i] == ':')
			return NULL;
	size_t blen = 0;
	if (target[0] != '/' && target[0] != '\\' && base) {
		const char *sl = strrchr(base, '/');
		blen = sl ? (size_t)(sl - base) + 1 : 0;
	}
	if (tlen == 0 || blen + tlen >= PATH_MAX_)
		return NULL;
	char *s = malloc(blen + tlen + 1);
	if (!s)
		return NULL;
	if (blen)
		memcpy(s, base, blen);
	size_t o = blen;
	for (size_t i = 0; i < tlen; i++) {
		char c = target[i];
		if (c == '%' && i + 2 < tlen && hexval(target[i + 1]) >= 0 &&
		    hexval(target[i + 2]) >= 0) {
			c = (char)(hexval(target[i + 1]) * 16 + hexval(target[i + 2]));
			i += 2;
			if (c == '\0') {
				free(s);
				return NULL;
			}
		}
		s[o++] = c == '\\' ? '/' : c;
	}
	s[o] = '\0';
	/* fold segments in place: the output never outgrows the input */
	size_t w = 0, r = 0;
	while (r < o) {
		size_t e = r;
		while (e < o && s[e] != '/')
			e++;
		size_t n = e - r;
		if (n == 0 || (n == 1 && s[r] == '.')) {
			/* skip */
		} else if (n == 2 && s[r] == '.' && s[r + 1] == '.') {
			if (w == 0) {
				free(s);
				return NULL;
			}
			while (w > 0 && s[w - 1] != '/')
				w--;
			if (w > 0)
				w--;
		} else {
			if (w > 0)
				s[w++] = '/';
			memmove(s + w, s + r, n);
			w += n;
		}
		r = e + 1;
	}
	s[w] = '\0';
	if (w == 0) {
		free(s);
		return NULL;
	}
	return s;
}

/* A title from a file name: the base name without its extension. */
char *conn_pkg_name_title(const char *path)
{
	const char *b = strrchr(path, '/');
	b = b ? b + 1 : path;
	const char *dot = strrchr(b, '.');
	size_t n = dot && dot != b ? (size_t)(dot - b) : strlen(b);
	return conn_clean_field(strndup(b, n < 256 ? n : 256));
}

/* The first heading the builder recorded (the last part of its path). */
char *conn_pkg_first_heading(const struct conn_builder *b)
{
	for (size_t i = 0; i < b->nsecs; i++) {
		const char *h = b->secs[i].heading;
		if (!h)
			continue;
		const char *last = h;
		for (const char *p = h; (p = strstr(p, " > ")); p += 3)
			last = p + 3;
		return conn_clean_field(strdup(last));
	}
	return NULL;
}

/* ===================================================================== */
/* OOXML: namespaces, relationships, core properties                     */
/* ===================================================================== */

enum { NS_W, NS_A, NS_P, NS_S, NS_R, NS_MC, NS_COUNT };

/* transitional and strict URIs of each namespace */
static const char *const ns_uri[NS_COUNT][2] = {
	[NS_W] = { "http://schemas.openxmlformats.org/wordprocessingml/2006/main",
		   "http://purl.oclc.org/ooxml/wordprocessingml/main" },
	[NS_A] = { "http://schemas.openxmlformats.org/drawingml/2006/main",
		   "http://purl.oclc.org/ooxml/drawingml/main" },
	[NS_P] = { "http://schemas.openxmlformats.org/presentationml/2006/main",
		   "http://purl.oclc.org/ooxml/presentationml/main" },
	[NS_S] = { "http://schemas.openxmlformats.org/spreadsheetml/2006/main",
		   "http://purl.oclc.org/ooxml/spreadsheetml/main" },
	[NS_R] = { "http://schemas.openxmlformats.org/officeDocument/2006/relationships",
		   "http://purl.oclc.org/ooxml/officeDocument/relationships" },
	[NS_MC] = { "http://schemas.openxmlformats.org/markup-compatibility/2006", NULL },
};

#define URI_RELS    "http://schemas.openxmlformats.org/package/2006/relationships"
#define URI_DC	    "http://purl.org/dc/elements/1.1/"
#define URI_DCTERMS "http://purl.org/dc/terms/"

static bool ox_ns(const xmlNode *n, int ns)
{
	const char *h = n->ns && n->ns->href ? (const char *)n->ns->href : NULL;
	return h && (!strcmp(h, ns_uri[ns][0]) || (ns_uri[ns][1] && !strcmp(h, ns_uri[ns][1])));
}

static bool ox_is(const xmlNode *n, int ns, const char *name)
{
	return n && n->type == XML_ELEMENT_NODE && n->name &&
	       !strcmp((const char *)n->name, name) && ox_ns(n, ns);
}

static const char *ox_attr(const xmlNode *n, int ns, const char *name)
{
	const char *v = conn_pkg_attr(n, ns_uri[ns][0], name);
	if (!v && ns_uri[ns][1])
		v = conn_pkg_attr(n, ns_uri[ns][1], name);
	return v;
}

static const xmlNode *ox_child(const xmlNode *n, int ns, const char *name)
{
	for (const xmlNode *c = n ? n->children : NULL; c; c = c->next)
		if (ox_is(c, ns, name))
			return c;
	return NULL;
}

/* The first text node's content directly below n ("" when none). */
static const char *own_text(const xmlNode *n)
{
	for (const xmlNode *c = n ? n->children : NULL; c; c = c->next)
		if ((c->type == XML_TEXT_NODE || c->type == XML_CDATA_SECTION_NODE) && c->content)
			return (const char *)c->content;
	return "";
}

/* A small non-negative integer attribute or text; -1 when it is not one. */
static long small_int(const char *s, long max)
{
	long v = 0;
	if (!s)
		return -1;
	while (*s == ' ')
		s++;
	if (*s < '0' || *s > '9')
		return -1;
	for (; *s >= '0' && *s <= '9'; s++) {
		v = v * 10 + (*s - '0');
		if (v > max)
			return -1;
	}
	while (*s == ' ')
		s++;
	return *s ? -1 : v;
}

struct rel {
	char *id, *type;
	char *target; /* the part name, NULL for an external target */
};

struct rels {
	struct rel *v;
	size_t n;
};

static void rels_free(struct rels *r)
{
	for (size_t i = 0; i < r->n; i++) {
		free(r->v[i].id);
		free(r->v[i].type);
		free(r->v[i].target);
	}
	free(r->v);
	r->v = NULL;
	r->n = 0;
}

/* Loads the relationships of part ("" for the package). A missing or broken
 * rels part gives none. 0 or MX_ENOMEM. */
static int rels_load(const struct conn_zip *z, const char *part, struct rels *out)
{
	char name[PATH_MAX_ + 16];
	const char *sl = strrchr(part, '/');
	size_t dl = sl ? (size_t)(sl - part) + 1 : 0;
	int rc = 0;
	out->v = NULL;
	out->n = 0;
	if (strlen(part) >= PATH_MAX_)
		return 0;
	snprintf(name, sizeof name, "%.*s_rels/%s.rels", (int)dl, part, part + dl);
	xmlDoc *x = conn_pkg_xml(z, name);
	if (!x)
		return 0;
	const xmlNode *root = xmlDocGetRootElement(x);
	size_t cap = 0;
	for (const xmlNode *c = root->children; c && out->n < MAX_PARTS; c = c->next) {
		if (!conn_pkg_is(c, URI_RELS, "Relationship"))
			continue;
		const char *id = conn_pkg_attr(c, NULL, "Id"),
			   *type = conn_pkg_attr(c, NULL, "Type");
		const char *target = conn_pkg_attr(c, NULL, "Target");
		const char *mode = conn_pkg_attr(c, NULL, "TargetMode");
		if (!id || !type || !target)
			continue;
		if (out->n == cap) {
			size_t nc = cap ? cap * 2 : 16;
			struct rel *v = realloc(out->v, nc * sizeof *v);
			if (!v) {
				rc = MX_ENOMEM;
				goto out;
			}
			out->v = v;
			cap = nc;
		}
		struct rel *r = &out->v[out->n];
		r->id = strdup(id);
		r->type = strdup(type);
		r->target =
			mode && !strcmp(mode, "External") ? NULL : conn_pkg_resolve(part, target);
		out->n++;
		if (!r->id || !r->type) {
			rc = MX_ENOMEM;
			goto out;
		}
	}
out:
	xmlFreeDoc(x);
	if (rc)
		rels_free(out);
	return rc;
}

static const struct rel *rels_by_id(const struct rels *r, const char *id)
{
	for (size_t i = 0; id && i < r->n; i++)
		if (!strcmp(r->v[i].id, id))
			return &r->v[i];
	return NULL;
}

/* The first relationship whose Type ends with "/suffix" and has a target. */
static const char *rels_target(const struct rels *r, const char *suffix)
{
	size_t sl = strlen(suffix);
	for (size_t i = 0; i < r->n; i++) {
		const char *t = r->v[i].type;
		size_t tl = strlen(t);
		if (r->v[i].target && tl > sl && t[tl - sl - 1] == '/' &&
		    !strcmp(t + tl - sl, suffix))
			return r->v[i].target;
	}
	return NULL;
}

/* Title, author and date from the core properties (docProps/core.xml). */
static void read_core(const struct conn_zip *z, const struct rels *pkg, struct conn_doc *doc)
{
	const char *name = rels_target(pkg, "core-properties");
	xmlDoc *x = conn_pkg_xml(z, name ? name : "docProps/core.xml");
	int64_t created = 0, modified = 0;
	if (!x)
		return;
	for (const xmlNode *c = xmlDocGetRootElement(x)->children; c; c = c->next) {
		if (conn_pkg_is(c, URI_DC, "title") && !doc->title) {
			doc->title = conn_clean_field(conn_pkg_text(c, FIELD_MAX));
		} else if (conn_pkg_is(c, URI_DC, "creator") && !doc->author) {
			doc->author = conn_clean_field(conn_pkg_text(c, FIELD_MAX));
		} else if (conn_pkg_is(c, URI_DCTERMS, "created") && !created) {
			created = conn_pkg_date(own_text(c));
		} else if (conn_pkg_is(c, URI_DCTERMS, "modified") && !modified) {
			modified = conn_pkg_date(own_text(c));
		}
	}
	doc->date = modified ? modified : created;
	xmlFreeDoc(x);
}

/* Entries worth keeping in memory: XML parts and relationships (not
 * media). */
static bool want_xml(const char *name, void *ctx)
{
	(void)ctx;
	size_t n = strlen(name);
	return (n > 4 && !strcasecmp(name + n - 4, ".xml")) ||
	       (n > 5 && !strcasecmp(name + n - 5, ".rels"));
}

/* The message for a failure that has none yet. */
static int finish_err(struct conn_doc *doc, int rc)
{
	if (rc && !doc->err[0])
		conn_pkg_fail(doc, rc, "%s",
			      rc == MX_ETOOBIG	? "time limit"
			      : rc == MX_ENOMEM ? "out of memory"
						: mx_strerror(rc));
	return rc;
}

/* Hands the built text and the metadata to doc; without a title in the
 * metadata, *fallback (taken) or the file's name gives it. */
static int finish_doc(struct conn_builder *b, struct conn_doc *doc, const char *type,
		      const char *path, char **fallback)
{
	if (!doc->title) {
		doc->title = *fallback;
		*fallback = NULL;
	}
	if (!doc->title)
		doc->title = conn_pkg_name_title(path);
	int rc = conn_builder_finish(b, doc);
	if (rc)
		return rc;
	doc->type = type;
	doc->line_base = -1;
	return 0;
}

/* Clears what a failed parse may have set. */
static void clear_meta(struct conn_doc *doc)
{
	free(doc->title);
	free(doc->author);
	doc->title = doc->author = NULL;
	doc->date = 0;
}

/* The first mc:Choice of an mc:AlternateContent (its mc:Fallback repeats
 * the same content in an older form), or the Fallback when there is none. */
static const xmlNode *alt_choice(const xmlNode *n)
{
	const xmlNode *c = ox_child(n, NS_MC, "Choice");
	return c ? c : ox_child(n, NS_MC, "Fallback");
}

/* ===================================================================== */
/* docx                                                                  */
/* ===================================================================== */

struct style {
	char *id;
	int level;
};

struct styles {
	struct style *v;
	size_t n, cap;
};

static void styles_free(struct styles *st)
{
	for (size_t i = 0; i < st->n; i++)
		free(st->v[i].id);
	free(st->v);
}

/* The heading level a style's name gives ("heading 2", "Title"), or 0. */
static int level_of_name(const char *name)
{
	if (!name)
		return 0;
	if (!strcasecmp(name, "title"))
		return 1;
	if (strncasecmp(name, "heading", 7))
		return 0;
	const char *p = name + 7;
	while (*p == ' ')
		p++;
	long n = small_int(p, 9);
	return n < 1 ? 0 : n > 6 ? 6 : (int)n;
}

/* The heading level of an outline level element (w:outlineLvl val 0-8;
 * 9 is body text), or 0. */
static int level_of_outline(const xmlNode *ppr)
{
	const xmlNode *o = ox_child(ppr, NS_W, "outlineLvl");
	long v = o ? small_int(ox_attr(o, NS_W, "val"), 9) : -1;
	return v < 0 || v > 8 ? 0 : v >= 5 ? 6 : (int)v + 1;
}

/* Paragraph styles that make headings, from word/styles.xml. */
static int styles_load(const struct conn_zip *z, const char *name, struct styles *st)
{
	xmlDoc *x = conn_pkg_xml(z, name);
	int rc = 0;
	if (!x)
		return 0;
	for (const xmlNode *c = xmlDocGetRootElement(x)->children; c; c = c->next) {
		if (!ox_is(c, NS_W, "style") || st->n >= MAX_PARTS)
			continue;
		const char *type = ox_attr(c, NS_W, "type"), *id = ox_attr(c, NS_W, "styleId");
		if (!id || (type && strcmp(type, "paragraph")))
			continue;
		const xmlNode *nm = ox_child(c, NS_W, "name");
		int level = level_of_name(nm ? ox_attr(nm, NS_W, "val") : NULL);
		if (!level)
			level = level_of_outline(ox_child(c, NS_W, "pPr"));
		if (!level)
			continue;
		if (st->n == st->cap) {
			size_t nc = st->cap ? st->cap * 2 : 16;
			struct style *v = realloc(st->v, nc * sizeof *v);
			if (!v) {
				rc = MX_ENOMEM;
				break;
			}
			st->v = v;
			st->cap = nc;
		}
		if (!(st->v[st->n].id = strdup(id))) {
			rc = MX_ENOMEM;
			break;
		}
		st->v[st->n++].level = level;
	}
	xmlFreeDoc(x);
	return rc;
}

static int style_level(const struct styles *st, const char *id)
{
	if (!id)
		return 0;
	for (size_t i = 0; i < st->n; i++)
		if (!strcmp(st->v[i].id, id))
			return st->v[i].level;
	/* the built-in ids, for a document without styles.xml */
	if (!strcmp(id, "Title"))
		return 1;
	if (!strncmp(id, "Heading", 7)) {
		long n = small_int(id + 7, 9);
		return n < 1 ? 0 : n > 6 ? 6 : (int)n;
	}
	return 0;
}

struct dx {
	struct conn_builder *b;
	const struct styles *st;
	int table;    /* tables we are in */
	bool in_list; /* the last paragraph was a list item */
	bool flat;    /* no headings (notes, heading text) */
};

static int dx_walk(struct dx *d, const xmlNode *n, int depth);

/* Text of the direct text children of n. */
static int put_own_text(struct conn_builder *b, const xmlNode *n)
{
	int rc = 0;
	for (const xmlNode *c = n->children; c && !rc; c = c->next)
		if ((c->type == XML_TEXT_NODE || c->type == XML_CDATA_SECTION_NODE) && c->content)
			rc = conn_builder_text(b, (const char *)c->content,
					       strlen((const char *)c->content));
	return rc;
}

/* The text n's children make, through the same walk, at most cap bytes;
 * malloc'd, or NULL when empty. */
static int dx_plain(const struct dx *d, const xmlNode *n, int depth, size_t cap, char **out)
{
	struct conn_builder tb;
	struct dx sub = *d;
	conn_builder_init(&tb, cap, d->b->deadline);
	sub.b = &tb;
	sub.flat = true;
	sub.table = 1; /* paragraphs inside join with spaces */
	int rc = dx_walk(&sub, n->children, depth + 1);
	*out = NULL;
	if (!rc && tb.len) {
		*out = tb.text;
		tb.text = NULL;
	}
	conn_builder_free(&tb);
	return rc;
}

static int dx_para(struct dx *d, const xmlNode *p, int depth)
{
	const xmlNode *ppr = ox_child(p, NS_W, "pPr");
	int level = 0, rc;
	bool list = false;
	if (ppr) {
		const xmlNode *ps = ox_child(ppr, NS_W, "pStyle");
		level = ps ? style_level(d->st, ox_attr(ps, NS_W, "val")) : 0;
		if (ox_child(ppr, NS_W, "outlineLvl"))
			level = level_of_outline(ppr);
		list = ox_child(ppr, NS_W, "numPr") != NULL;
	}
	if (level && !d->table && !d->flat) {
		char *t = NULL;
		if ((rc = dx_plain(d, p, depth, 1024, &t)))
			return rc;
		if (t) {
			rc = conn_builder_heading(d->b, level, t);
			free(t);
			d->in_list = false;
			return rc;
		}
	}
	if (d->table)
		conn_builder_space(d->b);
	else if (list && d->in_list)
		conn_builder_line(d->b);
	else
		conn_builder_paragraph(d->b);
	d->in_list = list;
	return dx_walk(d, p->children, depth + 1);
}

/* Elements whose content is not text to read: properties, deleted text,
 * field codes. */
static bool dx_skipped(const char *name)
{
	static const char *const names[] = { "pPr",
					     "rPr",
					     "sectPr",
					     "tblPr",
					     "tblGrid",
					     "trPr",
					     "tcPr",
					     "del",
					     "moveFrom",
					     "delText",
					     "instrText",
					     "fldData",
					     "sdtPr",
					     "sdtEndPr",
					     "tblPrEx",
					     "rubyPr",
					     "rt",
					     "delInstrText",
					     "commentReference",
					     "footnoteReference",
					     "endnoteReference",
					     NULL };
	for (size_t i = 0; names[i]; i++)
		if (!strcmp(name, names[i]))
			return true;
	return false;
}

/* Walks body content: paragraphs, runs, tables, and every wrapper around
 * them (hyperlinks, insertions, content controls, text boxes). */
static int dx_walk(struct dx *d, const xmlNode *n, int depth)
{
	int rc = 0;
	if (depth > MAX_DEPTH)
		return 0;
	for (; n && !rc; n = n->next) {
		if (n->type != XML_ELEMENT_NODE || !n->name)
			continue;
		const char *nm = (const char *)n->name;
		if (ox_is(n, NS_MC, "AlternateContent")) {
			const xmlNode *c = alt_choice(n);
			rc = c ? dx_walk(d, c->children, depth + 1) : 0;
			continue;
		}
		if (!ox_ns(n, NS_W)) { /* drawings and VML around text boxes */
			rc = dx_walk(d, n->children, depth + 1);
			continue;
		}
		if (!strcmp(nm, "p")) {
			rc = dx_para(d, n, depth);
		} else if (!strcmp(nm, "t")) {
			rc = put_own_text(d->b, n);
		} else if (!strcmp(nm, "tab") || !strcmp(nm, "ptab")) {
			rc = conn_builder_space(d->b);
		} else if (!strcmp(nm, "br") || !strcmp(nm, "cr")) {
			rc = conn_builder_line(d->b);
		} else if (!strcmp(nm, "noBreakHyphen")) {
			rc = conn_builder_text(d->b, "-", 1);
		} else if (!strcmp(nm, "tbl")) {
			if (!d->table)
				conn_builder_paragraph(d->b);
			else
				conn_builder_space(d->b);
			d->table++;
			rc = dx_walk(d, n->children, depth + 1);
			d->table--;
			if (!d->table)
				conn_builder_paragraph(d->b);
			d->in_list = false;
		} else if (!strcmp(nm, "tr")) {
			conn_builder_line(d->b);
			rc = dx_walk(d, n->children, depth + 1);
			conn_builder_line(d->b);
		} else if (!strcmp(nm, "tc")) {
			conn_builder_space(d->b);
			rc = dx_walk(d, n->children, depth + 1);
		} else if (!dx_skipped(nm)) {
			rc = dx_walk(d, n->children, depth + 1);
		}
	}
	return rc;
}

/* Appends footnotes or endnotes (elements `el` of part `name`) under a
 * "Footnotes" heading, which is written before the first note that has
 * text. */
static int dx_notes(struct dx *d, const struct conn_zip *z, const char *name, const char *el,
		    bool *heading)
{
	xmlDoc *x = conn_pkg_xml(z, name);
	int rc = 0;
	if (!x)
		return 0;
	bool flat = d->flat;
	d->flat = true;
	for (const xmlNode *c = xmlDocGetRootElement(x)->children; c && !rc; c = c->next) {
		if (!ox_is(c, NS_W, el))
			continue;
		const char *type = ox_attr(c, NS_W, "type");
		if (type && strcmp(type, "normal"))
			continue; /* separators */
		char *t = NULL;
		if ((rc = dx_plain(d, c, 0, 64, &t)) || !t)
			continue;
		free(t);
		if (!*heading) {
			d->flat = flat;
			rc = conn_builder_heading(d->b, 1, "Footnotes");
			d->flat = true;
			*heading = true;
		}
		d->in_list = false;
		if (!rc) {
			conn_builder_paragraph(d->b);
			rc = dx_walk(d, c->children, 1);
		}
	}
	d->flat = flat;
	xmlFreeDoc(x);
	return rc;
}

static int docx_parse(const char *path, const char *data, size_t len, struct conn_doc *doc)
{
	struct conn_zip *z = NULL;
	struct rels pkg = { 0 }, mrels = { 0 };
	struct styles st = { 0 };
	struct conn_builder b = { 0 };
	xmlDoc *x = NULL;
	char *first = NULL; /* the first heading */
	double deadline;
	bool heading = false;
	int rc;
	if ((rc = conn_pkg_open(data, len, want_xml, NULL, &z, &deadline, doc)))
		goto out;
	conn_builder_init(&b, TEXT_MAX, deadline);
	if ((rc = rels_load(z, "", &pkg)))
		goto out;
	const char *main = rels_target(&pkg, "officeDocument");
	if (!main || !conn_pkg_find(z, main))
		main = "word/document.xml";
	const xmlNode *root = NULL;
	if ((x = conn_pkg_xml(z, main)))
		root = xmlDocGetRootElement(x);
	if (!root || !ox_is(root, NS_W, "document")) {
		rc = conn_pkg_fail(doc, MX_EINVAL,
				   conn_pkg_find(z, main) ? "not a Word document: %s is not one"
							  : "not a Word document: no %s",
				   main);
		goto out;
	}
	if ((rc = rels_load(z, main, &mrels)))
		goto out;
	const char *sp = rels_target(&mrels, "styles");
	if ((rc = styles_load(z, sp ? sp : "word/styles.xml", &st)))
		goto out;
	struct dx d = { .b = &b, .st = &st };
	const xmlNode *body = ox_child(root, NS_W, "body");
	if ((rc = dx_walk(&d, body ? body->children : NULL, 1)))
		goto out;
	first = conn_pkg_first_heading(&b); /* not "Footnotes" */
	const char *fn = rels_target(&mrels, "footnotes"), *en = rels_target(&mrels, "endnotes");
	if ((rc = dx_notes(&d, z, fn ? fn : "word/footnotes.xml", "footnote", &heading)) ||
	    (rc = dx_notes(&d, z, en ? en : "word/endnotes.xml", "endnote", &heading)))
		goto out;
	if (conn_now() > deadline) {
		rc = MX_ETOOBIG;
		goto out;
	}
	read_core(z, &pkg, doc);
	rc = finish_doc(&b, doc, "docx", path, &first);
out:
	if (rc)
		clear_meta(doc);
	conn_builder_free(&b);
	free(first);
	xmlFreeDoc(x);
	styles_free(&st);
	rels_free(&mrels);
	rels_free(&pkg);
	conn_zip_close(z);
	return finish_err(doc, rc);
}

/* ===================================================================== */
/* pptx                                                                  */
/* ===================================================================== */

/* The placeholder type of a shape: "title", "body", ...; "obj" for a
 * placeholder without a type; NULL for a shape that is none. */
static const char *ph_type(const xmlNode *sp)
{
	const xmlNode *nv = ox_child(sp, NS_P, "nvSpPr");
	const xmlNode *ph = ox_child(ox_child(nv, NS_P, "nvPr"), NS_P, "ph");
	if (!ph)
		return NULL;
	const char *t = conn_pkg_attr(ph, NULL, "type");
	return t ? t : "obj";
}

static bool is_title(const char *ph)
{
	return ph && (!strcmp(ph, "title") || !strcmp(ph, "ctrTitle"));
}

struct pp {
	struct conn_builder *b;
	const xmlNode *skip; /* the title shape, already the heading */
	bool notes;	     /* a notes slide: only its body placeholders */
	bool lead;	     /* the next paragraph follows a line of its own */
	int table;
};

/* Walks a shape tree: shapes, groups, graphic frames (tables), text
 * bodies of a:p paragraphs. */
static int pp_walk(struct pp *p, const xmlNode *n, int depth)
{
	int rc = 0;
	if (depth > MAX_DEPTH)
		return 0;
	for (; n && !rc; n = n->next) {
		if (n->type != XML_ELEMENT_NODE || !n->name || n == p->skip)
			continue;
		const char *nm = (const char *)n->name;
		if (ox_is(n, NS_MC, "AlternateContent")) {
			const xmlNode *c = alt_choice(n);
			rc = c ? pp_walk(p, c->children, depth + 1) : 0;
		} else if (ox_is(n, NS_P, "sp")) {
			const char *ph = ph_type(n);
			bool skip = ph && (!strcmp(ph, "sldNum") || !strcmp(ph, "dt") ||
					   !strcmp(ph, "ftr") || !strcmp(ph, "hdr") ||
					   !strcmp(ph, "sldImg"));
			if (p->notes && (!ph || strcmp(ph, "body")))
				skip = true;
			if (!skip)
				rc = pp_walk(p, n->children, depth + 1);
		} else if (ox_ns(n, NS_A) && !strcmp(nm, "p")) {
			if (p->table)
				conn_builder_space(p->b);
			else if (p->lead)
				conn_builder_line(p->b);
			else
				conn_builder_paragraph(p->b);
			p->lead = false;
			rc = pp_walk(p, n->children, depth + 1);
		} else if (ox_ns(n, NS_A) && !strcmp(nm, "t")) {
			rc = put_own_text(p->b, n);
		} else if (ox_ns(n, NS_A) && !strcmp(nm, "br")) {
			rc = conn_builder_line(p->b);
		} else if (ox_ns(n, NS_A) && !strcmp(nm, "tbl")) {
			conn_builder_paragraph(p->b);
			p->table++;
			rc = pp_walk(p, n->children, depth + 1);
			p->table--;
			conn_builder_paragraph(p->b);
		} else if (ox_ns(n, NS_A) && !strcmp(nm, "tr")) {
			conn_builder_line(p->b);
			rc = pp_walk(p, n->children, depth + 1);
			conn_builder_line(p->b);
		} else if (ox_ns(n, NS_A) && !strcmp(nm, "tc")) {
			conn_builder_space(p->b);
			rc = pp_walk(p, n->children, depth + 1);
		} else if (!(ox_ns(n, NS_A) && (!strcmp(nm, "rPr") || !strcmp(nm, "pPr")))) {
			rc = pp_walk(p, n->children, depth + 1);
		}
	}
	return rc;
}

/* The shape tree of a slide or notes slide. */
static const xmlNode *sp_tree(const xmlDoc *x)
{
	const xmlNode *root = xmlDocGetRootElement(x);
	return ox_child(ox_child(root, NS_P, "cSld"), NS_P, "spTree");
}

/* The first title placeholder shape, groups included. */
static const xmlNode *find_title(const xmlNode *n, int depth)
{
	for (; n && depth < MAX_DEPTH; n = n->next) {
		if (ox_is(n, NS_P, "sp") && is_title(ph_type(n)))
			return n;
		if (ox_is(n, NS_P, "grpSp")) {
			const xmlNode *t = find_title(n->children, depth + 1);
			if (t)
				return t;
		}
	}
	return NULL;
}

/* The text a walk of n's children gives, at most cap bytes; malloc'd or
 * NULL when empty. */
static int pp_plain(const struct pp *p, const xmlNode *n, size_t cap, char **out)
{
	struct conn_builder tb;
	struct pp sub = *p;
	conn_builder_init(&tb, cap, p->b->deadline);
	sub.b = &tb;
	sub.skip = NULL;
	int rc = pp_walk(&sub, n->children, 1);
	*out = NULL;
	if (!rc && tb.len) {
		*out = tb.text;
		tb.text = NULL;
	}
	conn_builder_free(&tb);
	return rc;
}

/* The text of the SmartArt diagrams a slide links (their data parts hold
 * it; the slide has only a reference). */
static int pptx_diagrams(struct conn_builder *b, const struct conn_zip *z, const struct rels *r)
{
	int rc = 0;
	size_t sl = strlen("/diagramData");
	for (size_t i = 0; i < r->n && !rc; i++) {
		const char *t = r->v[i].type;
		size_t tl = strlen(t);
		if (!r->v[i].target || tl < sl || strcmp(t + tl - sl, "/diagramData"))
			continue;
		xmlDoc *x = conn_pkg_xml(z, r->v[i].target);
		if (!x)
			continue;
		struct pp p = { .b = b };
		rc = pp_walk(&p, xmlDocGetRootElement(x)->children, 1);
		xmlFreeDoc(x);
	}
	return rc;
}

/* One slide: a "Slide N: title" heading, its shapes' text, then its speaker
 * notes after a "Notes:" line. *first gets the first title seen. */
static int pptx_slide(struct conn_builder *b, const struct conn_zip *z, const char *name, int num,
		      char **first)
{
	struct rels srels = { 0 };
	xmlDoc *x = conn_pkg_xml(z, name), *nx = NULL;
	char *title = NULL, *notes = NULL;
	char head[320];
	int rc = 0;
	if (!x)
		return 0; /* a missing or broken slide: its number stays taken */
	const xmlNode *tree = sp_tree(x);
	const xmlNode *ts = tree ? find_title(tree->children, 0) : NULL;
	struct pp p = { .b = b };
	if (ts && (rc = pp_plain(&p, ts, 256, &title)))
		goto out;
	if (title && (title = conn_clean_field(title))) {
		snprintf(head, sizeof head, "Slide %d: %s", num, title);
		if (!*first)
			*first = strdup(title);
	} else
		snprintf(head, sizeof head, "Slide %d", num);
	if ((rc = conn_builder_heading(b, 1, head)))
		goto out;
	p.skip = ts;
	if (tree && (rc = pp_walk(&p, tree->children, 1)))
		goto out;
	if ((rc = rels_load(z, name, &srels)) || (rc = pptx_diagrams(b, z, &srels)))
		goto out;
	const char *np = rels_target(&srels, "notesSlide");
	if (np && (nx = conn_pkg_xml(z, np)) && (tree = sp_tree(nx))) {
		struct pp q = { .b = b, .notes = true };
		if ((rc = pp_plain(&q, tree, 16, &notes)) || !notes)
			goto out;
		conn_builder_paragraph(b);
		if ((rc = conn_builder_text(b, "Notes:", 6)))
			goto out;
		q.lead = true;
		rc = pp_walk(&q, tree->children, 1);
	}
out:
	free(title);
	free(notes);
	rels_free(&srels);
	xmlFreeDoc(nx);
	xmlFreeDoc(x);
	return rc;
}

struct numbered {
	const char *name;
	long num;
};

static int by_num(const void *a, const void *b)
{
	const struct numbered *x = a, *y = b;
	return (x->num > y->num) - (x->num < y->num);
}

/* The slides in the order of ppt/presentation.xml's p:sldIdLst; else the
 * ppt/slides/slideN.xml parts by N. Names are borrowed from prels or z. */
static int slide_list(const struct conn_zip *z, const xmlNode *root, const struct rels *prels,
		      const char ***out, size_t *n)
{
	const xmlNode *lst = ox_child(root, NS_P, "sldIdLst");
	struct numbered *v = NULL;
	const char **names = NULL;
	size_t k = 0, cap = 0;
	int rc = 0;
	*out = NULL;
	*n = 0;
	for (const xmlNode *c = lst ? lst->children : NULL; c && k < MAX_PARTS; c = c->next) {
		if (!ox_is(c, NS_P, "sldId"))
			continue;
		const struct rel *r = rels_by_id(prels, ox_attr(c, NS_R, "id"));
		if (!r || !r->target || !conn_pkg_find(z, r->target))
			continue;
		if (k == cap) {
			size_t nc = cap ? cap * 2 : 16;
			const char **p = realloc(names, nc * sizeof *p);
			if (!p) {
				rc = MX_ENOMEM;
				goto out;
			}
			names = p;
			cap = nc;
		}
		names[k++] = r->target;
	}
	if (k == 0) {
		size_t total = conn_zip_count(z);
		if (total && !(v = calloc(total, sizeof *v))) {
			rc = MX_ENOMEM;
			goto out;
		}
		for (size_t i = 0; i < total && k < MAX_PARTS; i++) {
			const char *nm = conn_zip_entry(z, i)->name;
			size_t nl = strlen(nm);
			if (strncmp(nm, "ppt/slides/slide", 16) || nl < 21 ||
			    strcmp(nm + nl - 4, ".xml"))
				continue;
			char num[16];
			if (nl - 20 >= sizeof num)
				continue;
			memcpy(num, nm + 16, nl - 20);
			num[nl - 20] = '\0';
			long sn = small_int(num, 1000000);
			if (sn < 0)
				continue;
			v[k++] = (struct numbered){ nm, sn };
		}
		if (k) {
			qsort(v, k, sizeof *v, by_num);
			if (!(names = malloc(k * sizeof *names))) {
				rc = MX_ENOMEM;
				goto out;
			}
			for (size_t i = 0; i < k; i++)
				names[i] = v[i].name;
		}
	}
	*out = names;
	*n = k;
	names = NULL;
out:
	free(v);
	free(names);
	return rc;
}

static int pptx_parse(const char *path, const char *data, size_t len, struct conn_doc *doc)
{
	struct conn_zip *z = NULL;
	struct rels pkg = { 0 }, prels = { 0 };
	struct conn_builder b = { 0 };
	const char **slides = NULL;
	char *first = NULL; /* the first slide title */
	size_t nslides = 0;
	xmlDoc *x = NULL;
	double deadline;
	int rc;
	if ((rc = conn_pkg_open(data, len, want_xml, NULL, &z, &deadline, doc)))
		goto out;
	conn_builder_init(&b, TEXT_MAX, deadline);
	if ((rc = rels_load(z, "", &pkg)))
		goto out;
	const char *main = rels_target(&pkg, "officeDocument");
	if (!main || !conn_pkg_find(z, main))
		main = "ppt/presentation.xml";
	const xmlNode *root = NULL;
	if ((x = conn_pkg_xml(z, main)))
		root = xmlDocGetRootElement(x);
	if (!root || !ox_is(root, NS_P, "presentation")) {
		rc = conn_pkg_fail(doc, MX_EINVAL,
				   conn_pkg_find(z, main)
					   ? "not a PowerPoint presentation: %s is not one"
					   : "not a PowerPoint presentation: no %s",
				   main);
		goto out;
	}
	if ((rc = rels_load(z, main, &prels)) ||
	    (rc = slide_list(z, root, &prels, &slides, &nslides)))
		goto out;
	for (size_t i = 0; i < nslides && !rc && !b.truncated; i++) {
		if (conn_now() > deadline)
			rc = MX_ETOOBIG;
		else
			rc = pptx_slide(&b, z, slides[i], (int)i + 1, &first);
	}
	if (rc)
		goto out;
	read_core(z, &pkg, doc);
	rc = finish_doc(&b, doc, "pptx", path, &first);
out:
	if (rc)
		clear_meta(doc);
	conn_builder_free(&b);
	free(first);
	free(slides);
	xmlFreeDoc(x);
	rels_free(&prels);
	rels_free(&pkg);
	conn_zip_close(z);
	return finish_err(doc, rc);
}

/* ===================================================================== */
/* xlsx                                                                  */
/* ===================================================================== */

/* Rich or plain string text (si, is): t elements, r runs, never the
 * phonetic rPh runs. */
static void sx_text(const xmlNode *n, struct mx_buf *o, int depth)
{
	for (const xmlNode *c = n ? n->children : NULL; c && depth < 8; c = c->next) {
		if (ox_is(c, NS_S, "t")) {
			for (const xmlNode *t = c->children; t; t = t->next)
				if ((t->type == XML_TEXT_NODE ||
				     t->type == XML_CDATA_SECTION_NODE) &&
				    t->content)
					mx_buf_appends(o, (const char *)t->content);
		} else if (ox_is(c, NS_S, "r")) {
			sx_text(c, o, depth + 1);
		}
	}
}

struct sst {
	xmlDoc *x;
	const xmlNode **si;
	size_t n;
};

static int sst_load(const struct conn_zip *z, const char *name, struct sst *s)
{
	size_t cap = 0;
	if (!(s->x = conn_pkg_xml(z, name)))
		return 0;
	for (const xmlNode *c = xmlDocGetRootElement(s->x)->children; c; c = c->next) {
		if (!ox_is(c, NS_S, "si"))
			continue;
		if (s->n == cap) {
			size_t nc = cap ? cap * 2 : 256;
			const xmlNode **v = realloc(s->si, nc * sizeof *v);
			if (!v)
				return MX_ENOMEM;
			s->si = v;
			cap = nc;
		}
		s->si[s->n++] = c;
	}
	return 0;
}

static void sst_free(struct sst *s)
{
	free(s->si);
	xmlFreeDoc(s->x);
}

/* A cell's value as written: shared and inline strings, booleans as
 * TRUE/FALSE, numbers, errors and formula results as their text. */
static void cell_value(const xmlNode *c, const struct sst *s, struct mx_buf *o)
{
	const char *t = conn_pkg_attr(c, NULL, "t");
	const xmlNode *v = ox_child(c, NS_S, "v");
	mx_buf_reset(o);
	if (t && !strcmp(t, "inlineStr")) {
		sx_text(ox_child(c, NS_S, "is"), o, 0);
	} else if (!v) {
		return;
	} else if (t && !strcmp(t, "s")) {
		long i = small_int(own_text(v), 100000000);
		if (i >= 0 && (size_t)i < s->n)
			sx_text(s->si[i], o, 0);
	} else if (t && !strcmp(t, "b")) {
		mx_buf_appends(o, small_int(own_text(v), 1) == 1 ? "TRUE" : "FALSE");
	} else {
		mx_buf_appends(o, own_text(v));
	}
}

/* One sheet: a heading with its name, then a line per row of its cells'
 * values, tab-separated, up to MAX_CELLS. */
static int xlsx_sheet(struct conn_builder *b, const struct conn_zip *z, const char *part,
		      const char *name, int num, const struct sst *s, struct conn_doc *doc)
{
	xmlDoc *x = conn_pkg_xml(z, part);
	struct mx_buf v;
	char head[64];
	size_t cells = 0;
	int rc = 0;
	mx_buf_init(&v, 1 << 20);
	if (!name || !*name) {
		snprintf(head, sizeof head, "Sheet %d", num);
		name = head;
	}
	if ((rc = conn_builder_heading(b, 1, name)) || !x)
		goto out;
	const xmlNode *data = ox_child(xmlDocGetRootElement(x), NS_S, "sheetData");
	/* past the text cap nothing more is kept: stop reading */
	for (const xmlNode *r = data ? data->children : NULL; r && !rc && !b->truncated;
	     r = r->next) {
		if (!ox_is(r, NS_S, "row"))
			continue;
		conn_builder_line(b);
		bool first = true;
		for (const xmlNode *c = r->children; c && !rc; c = c->next) {
			if (!ox_is(c, NS_S, "c"))
				continue;
			cell_value(c, s, &v);
			if (!v.len)
				continue;
			if (cells++ == MAX_CELLS) {
				if (!doc->note[0])
					snprintf(doc->note, sizeof doc->note,
						 "sheet '%.60s' cut at %d cells", name, MAX_CELLS);
				goto out;
			}
			if (!first && (rc = conn_builder_raw(b, "\t", 1)))
				break;
			first = false;
			rc = conn_builder_text(b, v.data, v.len);
		}
	}
out:
	mx_buf_free(&v);
	xmlFreeDoc(x);
	return rc;
}

static int xlsx_parse(const char *path, const char *data, size_t len, struct conn_doc *doc)
{
	struct conn_zip *z = NULL;
	struct rels pkg = { 0 }, wrels = { 0 };
	struct conn_builder b = { 0 };
	struct sst s = { 0 };
	xmlDoc *x = NULL;
	double deadline;
	int rc;
	if ((rc = conn_pkg_open(data, len, want_xml, NULL, &z, &deadline, doc)))
		goto out;
	conn_builder_init(&b, TEXT_MAX, deadline);
	if ((rc = rels_load(z, "", &pkg)))
		goto out;
	const char *main = rels_target(&pkg, "officeDocument");
	if (!main || !conn_pkg_find(z, main))
		main = "xl/workbook.xml";
	const xmlNode *root = NULL;
	if ((x = conn_pkg_xml(z, main)))
		root = xmlDocGetRootElement(x);
	if (!root || !ox_is(root, NS_S, "workbook")) {
		rc = conn_pkg_fail(doc, MX_EINVAL,
				   conn_pkg_find(z, main) ? "not an Excel workbook: %s is not one"
							  : "not an Excel workbook: no %s",
				   main);
		goto out;
	}
	if ((rc = rels_load(z, main, &wrels)))
		goto out;
	const char *sp = rels_target(&wrels, "sharedStrings");
	if ((rc = sst_load(z, sp ? sp : "xl/sharedStrings.xml", &s)))
		goto out;
	const xmlNode *sheets = ox_child(root, NS_S, "sheets");
	int num = 0;
	for (const xmlNode *c = sheets ? sheets->children : NULL; c && !rc && !b.truncated;
	     c = c->next) {
		if (!ox_is(c, NS_S, "sheet") || num >= MAX_PARTS)
			continue;
		num++;
		const struct rel *r = rels_by_id(&wrels, ox_attr(c, NS_R, "id"));
		if (!r || !r->target || !conn_pkg_find(z, r->target))
			continue; /* a chart sheet, or a broken link */
		if (conn_now() > deadline)
			rc = MX_ETOOBIG;
		else
			rc = xlsx_sheet(&b, z, r->target, conn_pkg_attr(c, NULL, "name"), num, &s,
					doc);
	}
	if (rc)
		goto out;
	read_core(z, &pkg, doc);
	char *none = NULL;
	rc = finish_doc(&b, doc, "xlsx", path, &none);
out:
	if (rc)
		clear_meta(doc);
	conn_builder_free(&b);
	sst_free(&s);
	xmlFreeDoc(x);
	rels_free(&wrels);
	rels_free(&pkg);
	conn_zip_close(z);
	return finish_err(doc, rc);
}

const struct conn_ops conn_docx_ops = { "docx", docx_parse };
const struct conn_ops conn_pptx_ops = { "pptx", pptx_parse };
const struct conn_ops conn_xlsx_ops = { "xlsx", xlsx_parse };
