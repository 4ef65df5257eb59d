/*
 * fetch.h - downloads of public files (models) over HTTPS, resumable and
 * verified.
 *
 * rtr_fetch_file(URL, DEST) writes to DEST.part, never to DEST: when a
 * DEST.part is already there (an earlier run was interrupted) it asks for
 * the rest with "Range: bytes=SIZE-" and appends what a 206 brings (a 200
 * means the server ignores ranges: the part is started over). When the
 * transfer is complete, the SHA-256 of the whole file is compared with the
 * expected one; only a match is renamed to DEST (after fsync), so DEST is
 * either absent or complete and verified. A mismatch deletes DEST.part (a
 * resume cannot repair it). An interrupted transfer keeps DEST.part for
 * the next run.
 *
 * Nothing of the user's is sent: a GET of the URL, following at most 5
 * redirects, https only (http:// only to a loopback host, for tests), TLS
 * always verified. This is not the cloud client and is not audited.
 */
#ifndef MX_RTR_FETCH_H
#define MX_RTR_FETCH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "../common/hash.h"

struct rtr_fetch_params {
	const char *sha256;	 /* 64 hex digits expected; NULL: not verified
				    (the caller must have said so) */
	long connect_timeout_ms; /* default 15000 */
	long stall_s;		 /* give up after this many seconds below
				    1 KB/s; default 60 */
	uint64_t max_bytes;	 /* refuse bigger files; default 64 GiB */
	/* Called about twice a second: bytes on disk so far and the total
	 * (0 while unknown). A non-zero return stops (MX_EINTR, the part is
	 * kept). NULL for none. */
	int (*on_progress)(void *ctx, uint64_t have, uint64_t total);
	void *ctx;
};

struct rtr_fetch_params rtr_fetch_params_default(void);

/* What a download did. */
struct rtr_fetch_result {
	uint64_t bytes;			    /* the complete file's size */
	uint64_t resumed_from;		    /* bytes that were already in DEST.part */
	long http_status;		    /* of the last response */
	char sha256[MX_SHA256_HEX_LEN + 1]; /* of the complete file */
};

/* Downloads url to dest as described above. res may be NULL. Errors, with
 * a message in err:
 *   MX_EPERM      http:// to a non-loopback host, or another scheme
 *   MX_EIO        connection, TLS, HTTP error, or the transfer broke off
 *                 (DEST.part is kept: run again to resume)
 *   MX_ECORRUPT   the SHA-256 does not match (DEST.part is deleted)
 *   MX_ETOOBIG    over max_bytes
 *   MX_EEXISTS    dest already exists (remove it first)
 *   MX_EINTR      on_progress asked to stop (DEST.part is kept)
 *   MX_EINVAL     a malformed sha256 or URL */
int rtr_fetch_file(const char *url, const char *dest, const struct rtr_fetch_params *p,
		   struct rtr_fetch_result *res, char *err, size_t errlen);

/* The SHA-256 of a whole file (read through, not into memory). 0, or an
 * MX_ status from opening or reading it. */
int rtr_sha256_file(const char *path, char out[MX_SHA256_HEX_LEN + 1]);

/* Whether s is 64 hex digits. */
bool rtr_sha256_is_valid(const char *s);

#endif
