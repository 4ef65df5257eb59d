/* fuzz_archive.c - archives (zip, tar, compressed tar) through the
 * document path: limits, entry dispatch, nested archives. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../../common/utf8.h"
#include "../../connectors/conn.h"
#include "conn_fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check(const struct conn_doc *d)
{
	if (!d->text || !mx_utf8_is_valid(d->text, d->text_len))
		abort();
	for (size_t i = 0; i < d->nsections; i++)
		if (d->sections[i].start > d->text_len)
			abort();
	for (size_t i = 0; i < d->nchildren; i++)
		check(&d->children[i]);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *buf = fuzz_conn_input(data, size);
	if (!buf)
		return 0;
	struct conn_doc d;
	conn_doc_init(&d);
	if (conn_archive_ops.parse("fuzz.zip", buf, size, &d) == 0)
		check(&d);
	conn_doc_clear(&d);
	conn_sniff("fuzz", buf, size);
	free(buf);
	return 0;
}
