/* fuzz_rtf.c - the RTF reader on arbitrary bytes. Input that does not start
 * like RTF is also read with "{\rtf1 " in front, so that mutations of
 * plain text reach the walk. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../../common/utf8.h"
#include "../../connectors/conn.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check(const char *buf, size_t len)
{
	struct conn_doc d;
	conn_doc_init(&d);
	if (conn_rtf_ops.parse("f.rtf", buf, len, &d) == 0) {
		if (!d.text || strlen(d.text) != d.text_len ||
		    !mx_utf8_is_valid(d.text, d.text_len))
			abort();
		if (d.title && (!d.title[0] || !mx_utf8_is_valid(d.title, strlen(d.title))))
			abort();
		if (d.author && (!d.author[0] || !mx_utf8_is_valid(d.author, strlen(d.author))))
			abort();
		for (size_t i = 0; i < d.nsections; i++) {
			if (d.sections[i].start > d.text_len)
				abort();
			if (i && d.sections[i].start < d.sections[i - 1].start)
				abort();
			const char *h = d.sections[i].heading;
			if (h && !mx_utf8_is_valid(h, strlen(h)))
				abort();
		}
	} else if (!d.err[0]) {
		abort();
	}
	conn_doc_clear(&d);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char prefix[] = "{\\rtf1 ";
	const size_t plen = sizeof prefix - 1;
	if (size > SIZE_MAX - plen - 1)
		return 0;
	char *buf = malloc(size + plen + 1);
	if (!buf)
		return 0;
	memcpy(buf, data, size);
	buf[size] = '\0';
	check(buf, size);
	if (size < 5 || memcmp(data, prefix, 5) != 0) {
		memcpy(buf, prefix, plen);
		memcpy(buf + plen, data, size);
		buf[plen + size] = '\0';
		check(buf, plen + size);
	}
	free(buf);
	return 0;
}
