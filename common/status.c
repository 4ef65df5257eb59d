#include "status.h"

#include <stdarg.h>
#include <stdio.h>

const char *mx_strerror(int rc)
{
	switch (rc) {
	case MX_OK: return "success";
	case MX_ENOMEM: return "out of memory";
	case MX_EIO: return "input/output error";
	case MX_ENOTFOUND: return "not found";
	case MX_EINVAL: return "invalid input";
	case MX_ETOOBIG: return "too large";
	case MX_EUNSUPPORTED: return "unsupported";
	case MX_ECORRUPT: return "corrupt";
	case MX_ENEWER: return "created by a newer version of memex";
	case MX_EREADONLY: return "read-only";
	case MX_EBINARY: return "binary content";
	case MX_EENCODING: return "unknown text encoding";
	case MX_EEMPTY: return "empty";
	case MX_EEXISTS: return "already exists";
	case MX_EINTR: return "interrupted";
	case MX_EPARTIAL: return "partially done";
	case MX_EDB: return "database error";
	case MX_ENOTREG: return "not a regular file or directory";
	case MX_EPERM: return "permission denied";
	case MX_EBUSY: return "index is busy";
	}
	return "unknown error";
}

static void seterr_v(char *err, size_t errsz, const char *fmt, va_list ap)
{
	if (err && errsz)
		vsnprintf(err, errsz, fmt, ap);
}

int mx_fail(char *err, size_t errsz, int rc, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	seterr_v(err, errsz, fmt, ap);
	va_end(ap);
	return rc;
}

void mx_seterr(char *err, size_t errsz, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	seterr_v(err, errsz, fmt, ap);
	va_end(ap);
}
