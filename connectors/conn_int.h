/*
 * conn_int.h - internals shared by the connectors of zip packages (OOXML
 * in conn_office.c, ODF in conn_odf.c, EPUB in conn_epub.c). Defined in
 * conn_office.c.
 */
#ifndef MX_CONN_INT_H
#define MX_CONN_INT_H

#include <stdbool.h>
#include <stdint.h>

#include "conn.h"

struct _xmlDoc;
struct _xmlNode;

/* Sets doc->err (printf-style), clears what the parse filled, returns rc. */
int conn_pkg_fail(struct conn_doc *doc, int rc, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
/* Opens data as a zip package within conn_limits_default(); *deadline gets
 * the parse's time limit. Errors are put on doc. */
int conn_pkg_open(const char *data, size_t len, bool (*want)(const char *name, void *ctx),
		  void *ctx, struct conn_zip **z, double *deadline, struct conn_doc *doc);
/* An entry by name (case-sensitive, then case-insensitive), or NULL. */
const struct conn_zip_entry *conn_pkg_find(const struct conn_zip *z, const char *name);
/* An entry parsed with conn_xml_read (free with xmlFreeDoc), or NULL. */
struct _xmlDoc *conn_pkg_xml(const struct conn_zip *z, const char *name);
/* Whether n is the element uri:name. */
bool conn_pkg_is(const struct _xmlNode *n, const char *uri, const char *name);
/* The value of attribute uri:name (uri NULL: no namespace) when it is plain
 * text; borrowed from the tree. */
const char *conn_pkg_attr(const struct _xmlNode *n, const char *uri, const char *name);
/* The text below n (text nodes only, never expanded entities), at most cap
 * bytes, malloc'd. */
char *conn_pkg_text(const struct _xmlNode *n, size_t cap);
/* An ISO 8601 date as epoch seconds, 0 if unparseable. */
int64_t conn_pkg_date(const char *s);
/* target relative to the folder of base, normalised inside the package
 * ("../" above the top is dropped); malloc'd. */
char *conn_pkg_resolve(const char *base, const char *target);
/* A title from a file name (no folder, no extension); malloc'd. */
char *conn_pkg_name_title(const char *path);
/* The builder's first heading so far, malloc'd, or NULL. */
char *conn_pkg_first_heading(const struct conn_builder *b);

#endif
