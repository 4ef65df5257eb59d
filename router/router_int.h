/*
 * router_int.h - what the files of router/ share (not a public API).
 */
#ifndef MX_ROUTER_INT_H
#define MX_ROUTER_INT_H

#include <stdbool.h>
#include <stddef.h>

/* The scheme and host of a URL, by libcurl's parser; both malloc'd
 * (caller frees). 0, MX_EINVAL (not a URL), MX_ENOMEM. */
int rtr_url_parts(const char *url, char **scheme, char **host);

/* Whether url may be fetched: https anywhere, http only to a loopback host.
 * 0, MX_EPERM (err says why), MX_EINVAL, MX_ENOMEM; *plain tells http. */
int rtr_url_allowed(const char *url, bool *plain, char **host, char *err, size_t n);

/* Reads a reply body as rtr_cloud_chat does after an HTTP 200 (SSE when
 * sse, else one JSON object), fed in pieces of 1 to 13 bytes, with a cap
 * of max bytes. 0 with the answer in *answer (malloc'd, caller frees), or
 * the status rtr_cloud_chat would return, with the message in err. For
 * the fuzz target and tests: no network. */
int rtr_cloud_parse_reply(const char *data, size_t len, bool sse, size_t max, char **answer,
			  char *err, size_t errlen);

#endif
