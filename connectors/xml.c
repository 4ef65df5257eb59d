/*
 * xml.c - XML from documents, parsed so that it cannot reach outside.
 *
 * The options leave entities unexpanded (no XML_PARSE_NOENT: a billion
 * laughs stays a handful of entity references), load no DTD, and keep the
 * network off; and conn_global_init() installs an entity loader that
 * refuses every external resource, so an XXE (<!ENTITY x SYSTEM
 * "file:///etc/passwd">) reads nothing even if some path asks.
 */
#include <libxml/parser.h>
#include <libxml/xmlerror.h>
#include <limits.h>

#include "../common/status.h"
#include "conn.h"

struct _xmlDoc *conn_xml_read(const char *data, size_t len)
{
	if (len > INT_MAX)
		return NULL;
	return xmlReadMemory(data, (int)len, NULL, NULL,
			     XML_PARSE_NONET | XML_PARSE_NOERROR | XML_PARSE_NOWARNING |
				     XML_PARSE_NOCDATA | XML_PARSE_RECOVER);
}

/* The entity loader for the whole process: nothing from outside. */
static xmlParserInputPtr no_external(const char *url, const char *id, xmlParserCtxtPtr ctxt)
{
	(void)url;
	(void)id;
	(void)ctxt;
	return NULL;
}

/* libxml2 reports some errors (xml:id, namespaces) on stderr even with
 * XML_PARSE_NOERROR; library code never prints. */
static void quiet(void *ctx, const char *msg, ...)
{
	(void)ctx;
	(void)msg;
}

static void quiet_structured(void *ctx, const xmlError *err)
{
	(void)ctx;
	(void)err;
}

void conn_xml_lockdown(void)
{
	xmlSetExternalEntityLoader(no_external);
	xmlSetGenericErrorFunc(NULL, quiet);
	xmlSetStructuredErrorFunc(NULL, (xmlStructuredErrorFunc)quiet_structured);
}
