/*
 * router_int.c - helpers the files of router/ share (router_int.h).
 */
#include "router_int.h"

#include <curl/curl.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "../common/status.h"
#include "cloud.h"

int rtr_url_parts(const char *url, char **scheme, char **host)
{
	int rc = MX_EINVAL;
	char *s = NULL, *h = NULL;
	CURLU *u = curl_url();
	*scheme = *host = NULL;
	if (!u)
		return MX_ENOMEM;
	if (curl_url_set(u, CURLUPART_URL, url, 0) != CURLUE_OK ||
	    curl_url_get(u, CURLUPART_SCHEME, &s, 0) != CURLUE_OK ||
	    curl_url_get(u, CURLUPART_HOST, &h, 0) != CURLUE_OK)
		goto out;
	*scheme = strdup(s);
	*host = strdup(h);
	rc = 0;
	if (!*scheme || !*host) {
		free(*scheme);
		free(*host);
		*scheme = *host = NULL;
		rc = MX_ENOMEM;
	}
out:
	curl_free(s);
	curl_free(h);
	curl_url_cleanup(u);
	return rc;
}

int rtr_url_allowed(const char *url, bool *plain, char **host, char *err, size_t n)
{
	char *scheme = NULL;
	*host = NULL;
	int rc = rtr_url_parts(url, &scheme, host);
	if (rc) {
		return mx_fail(err, n, rc, "'%s' is not a URL", url);
	}
	*plain = !strcasecmp(scheme, "http");
	if (strcasecmp(scheme, "https") != 0 && !*plain) {
		mx_seterr(err, n, "refusing '%s://': only https:// is spoken", scheme);
		rc = MX_EPERM;
	} else if (*plain && !rtr_host_is_loopback(*host)) {
		mx_seterr(err, n,
			  "refusing plain http:// to '%s': use https:// (http is only for "
			  "servers on this machine: 127.0.0.1, [::1], localhost)",
			  *host);
		rc = MX_EPERM;
	}
	free(scheme);
	if (rc) {
		free(*host);
		*host = NULL;
	}
	return rc;
}
