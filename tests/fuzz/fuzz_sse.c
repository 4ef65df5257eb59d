/* fuzz_sse.c - the cloud client's reading of replies: server-sent events
 * and JSON (router/cloud.c), as they arrive in pieces. The first byte
 * chooses SSE or JSON and a small or large cap. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../../common/status.h"
#include "../../common/utf8.h"
#include "../../router/router_int.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 1)
		return 0;
	bool sse = data[0] & 1;
	size_t max = (data[0] & 2) ? 1024 : (size_t)1 << 20;
	char *answer = NULL, err[512];
	int rc = rtr_cloud_parse_reply((const char *)data + 1, size - 1, sse, max, &answer, err,
				       sizeof err);
	if (rc == 0) {
		/* an answer is text json-c decoded: never more than the cap */
		if (!answer || strlen(answer) > max)
			abort();
	} else if (answer || !err[0]) {
		abort(); /* a failure always says why, and hands out nothing */
	}
	free(answer);
	return 0;
}
