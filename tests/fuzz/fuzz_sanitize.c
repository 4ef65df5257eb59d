/* fuzz_sanitize.c - the PII sanitizer on any bytes: it never crashes,
 * spans lie inside the input and in order, and re-identifying the output
 * gives back a text as long as the input once every value is restored. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../../router/sanitize.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct rtr_sanitizer *s = rtr_sanitizer_new(NULL);
	if (!s)
		return 0;
	/* the first line, when short, is a contact */
	const uint8_t *nl = memchr(data, '\n', size < 64 ? size : 64);
	if (nl) {
		char name[64];
		memcpy(name, data, (size_t)(nl - data));
		name[nl - data] = '\0';
		rtr_sanitizer_add_contact(s, name, name);
	}
	char *out = NULL, *back = NULL;
	struct rtr_span *sp = NULL;
	size_t n = 0;
	if (rtr_sanitize(s, (const char *)data, size, &out, &sp, &n) == 0) {
		for (size_t i = 0; i < n; i++)
			if (sp[i].start >= sp[i].end || sp[i].end > size ||
			    (i && sp[i].start < sp[i - 1].end) || sp[i].id == 0)
				abort();
		if (rtr_reidentify(s, out, strlen(out), &back) == 0 && !memchr(data, '\0', size) &&
		    !memchr(data, '<', size) &&
		    (strlen(back) != size || memcmp(back, data, size) != 0)) {
			/* without NULs or '<' in the input, and when every value kept
			 * its first spelling, the round trip is exact: only a value
			 * seen twice in two spellings may differ */
			size_t distinct = rtr_sanitizer_count(s);
			if (distinct == n)
				abort();
		}
	}
	free(out);
	free(back);
	free(sp);
	rtr_sanitizer_free(s);
	return 0;
}
