/* fuzz_query.c - turning user queries into FTS5 expressions. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../../retriever/retriever.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *q = malloc(size + 1);
	if (!q)
		return 0;
	memcpy(q, data, size);
	q[size] = '\0';
	int rc;
	for (int mode = 0; mode < 2; mode++) {
		char *m = ret_query_to_fts(q, mode, mode, &rc);
		/* every expression is balanced: an even number of quotes */
		if (m) {
			size_t quotes = 0;
			for (const char *p = m; *p; p++)
				quotes += *p == '"';
			if (quotes % 2)
				abort();
		}
		free(m);
	}
	free(q);
	return 0;
}
