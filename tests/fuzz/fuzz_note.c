/* fuzz_note.c - the notes connector (front matter, encodings) and the
 * chunker with small limits on arbitrary bytes. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../../common/utf8.h"
#include "../../connectors/conn.h"
#include "../../indexer/indexer.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *buf = malloc(size + 1);
	if (!buf)
		return 0;
	memcpy(buf, data, size);
	buf[size] = '\0';
	static const char *const names[] = { "n.md", "n.org", "n.txt" };
	struct conn_doc d;
	conn_doc_init(&d);
	const char *name = names[size % 3];
	if (conn_note_ops.parse(name, buf, size, &d) == 0) {
		if (!mx_utf8_is_valid(d.text, d.text_len) || !d.title)
			abort();
		struct idx_chunk_params p = { .target_tokens = 24,
					      .max_tokens = 32,
					      .overlap_tokens = 8 };
		struct idx_span *v = NULL;
		size_t n = 0;
		if (idx_chunk_text(d.text, d.text_len, d.line_base, &p, &v, &n) == 0) {
			for (size_t i = 0; i < n; i++) {
				if (v[i].end > d.text_len || v[i].start >= v[i].end ||
				    !mx_utf8_is_valid(d.text + v[i].start, v[i].end - v[i].start))
					abort();
				if (i && v[i].start <= v[i - 1].start)
					abort();
			}
		}
		free(v);
	}
	conn_doc_clear(&d);
	free(buf);
	return 0;
}
