/* fuzz_html.c - HTML and XHTML files through the document path, and the
 * hardened XML reader the office formats use. */
#include <libxml/tree.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../../common/utf8.h"
#include "../../connectors/conn.h"
#include "conn_fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *buf = fuzz_conn_input(data, size);
	if (!buf)
		return 0;
	struct conn_doc d;
	conn_doc_init(&d);
	if (conn_html_ops.parse("fuzz.html", buf, size, &d) == 0) {
		if (!mx_utf8_is_valid(d.text, d.text_len))
			abort();
		for (size_t i = 0; i < d.nsections; i++)
			if (d.sections[i].start > d.text_len ||
			    (i && d.sections[i].start < d.sections[i - 1].start))
				abort();
	}
	conn_doc_clear(&d);
	char *t = NULL;
	size_t n = 0;
	if (conn_html_to_text(buf, size, 1 << 20, &t, &n) == 0 && !mx_utf8_is_valid(t, n))
		abort();
	free(t);
	xmlDoc *x = conn_xml_read(buf, size);
	if (x)
		xmlFreeDoc(x);
	free(buf);
	return 0;
}
