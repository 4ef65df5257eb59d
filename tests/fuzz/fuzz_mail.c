/* fuzz_mail.c - the mail connector and the chunker on arbitrary bytes. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../../common/utf8.h"
#include "../../connectors/conn.h"
#include "conn_fuzz.h"
#include "../../indexer/indexer.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *buf = fuzz_conn_input(data, size);
	if (!buf)
		return 0;
	struct conn_doc d;
	conn_doc_init(&d);
	if (conn_mail_ops.parse("fuzz", buf, size, &d) == 0) {
		if (!mx_utf8_is_valid(d.text, d.text_len))
			abort(); /* the connector promised UTF-8 */
		struct idx_chunk_params p = idx_chunk_params_default();
		struct idx_span *v = NULL;
		size_t n = 0;
		if (idx_chunk_text(d.text, d.text_len, d.line_base, &p, &v, &n) == 0)
			for (size_t i = 0; i < n; i++)
				if (v[i].end > d.text_len || v[i].start >= v[i].end)
					abort();
		free(v);
	}
	conn_doc_clear(&d);
	conn_looks_like_mail(buf, size);
	free(buf);
	return 0;
}
