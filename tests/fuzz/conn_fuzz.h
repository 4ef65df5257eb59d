/*
 * conn_fuzz.h - what the connector fuzz targets share: the connectors'
 * one-time set-up, and the input copied and NUL-terminated as
 * mx_read_file gives it to parsers. Included by one target each; test code
 * only.
 */
#ifndef MX_CONN_FUZZ_H
#define MX_CONN_FUZZ_H

#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../../connectors/conn.h"

/* The input as a parser gets it (malloc'd, size + 1 bytes); NULL when out
 * of memory. Sets the connectors up on the first call. */
static char *fuzz_conn_input(const uint8_t *data, size_t size)
{
	static int inited;
	if (!inited) {
		conn_global_init();
		inited = 1;
	}
	char *buf = malloc(size + 1);
	if (!buf)
		return NULL;
	memcpy(buf, data, size);
	buf[size] = '\0';
	return buf;
}

#endif
