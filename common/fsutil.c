#include "fsutil.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "status.h"

int mx_status_from_errno(int err)
{
	switch (err) {
	case ENOENT: return MX_ENOTFOUND;
	case EACCES:
	case EPERM: return MX_EPERM;
	case EROFS: return MX_EREADONLY;
	case ENOTDIR:
	case EISDIR:
	case ENXIO: return MX_ENOTREG;
	case ENOMEM: return MX_ENOMEM;
	case EFBIG:
	case ENAMETOOLONG: return MX_ETOOBIG;
	default: return MX_EIO;
	}
}

int mx_mkdir_p(const char *path)
{
	size_t n = strlen(path);
	char *p = malloc(n + 1);
	if (!p)
		return MX_ENOMEM;
	memcpy(p, path, n + 1);
	int rc = 0;
	for (size_t i = 1; i <= n; i++) {
		if (p[i] != '/' && p[i] != '\0')
			continue;
		char c = p[i];
		p[i] = '\0';
		if (mkdir(p, 0700) != 0 && errno != EEXIST) {
			rc = mx_status_from_errno(errno);
			goto out;
		}
		p[i] = c;
	}
	struct stat sb;
	if (stat(path, &sb) != 0) {
		rc = mx_status_from_errno(errno);
	} else if (!S_ISDIR(sb.st_mode)) {
		rc = MX_ENOTREG;
	}
out:
	free(p);
	return rc;
}

int mx_open_regular(const char *path, int *fd, struct stat *sb)
{
	/* O_NONBLOCK so that a FIFO that slipped past the caller's stat does
	 * not hang us; the fstat below then refuses it. */
	int f = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC | O_NOCTTY);
	if (f < 0)
		return mx_status_from_errno(errno);
	int rc = 0;
	if (fstat(f, sb) != 0)
		rc = mx_status_from_errno(errno);
	else if (!S_ISREG(sb->st_mode))
		rc = MX_ENOTREG;
	if (rc) {
		close(f);
		return rc;
	}
	*fd = f;
	return 0;
}

int mx_read_file(const char *path, size_t max, char **data, size_t *len)
{
	char *buf = NULL;
	int fd;
	struct stat sb;
	int rc = mx_open_regular(path, &fd, &sb);
	if (rc)
		return rc;
	if (sb.st_size < 0 || (unsigned long long)sb.st_size > max) {
		rc = MX_ETOOBIG;
		goto out;
	}
	size_t size = (size_t)sb.st_size, got = 0;
	buf = malloc(size + 1);
	if (!buf) {
		rc = MX_ENOMEM;
		goto out;
	}
	/* The file may shrink or grow while we read; we take at most the
	 * size fstat saw, which is within the cap. */
	while (got < size) {
		ssize_t r = read(fd, buf + got, size - got);
		if (r < 0) {
			if (errno == EINTR)
				continue;
			rc = mx_status_from_errno(errno);
			goto out;
		}
		if (r == 0)
			break;
		got += (size_t)r;
	}
	buf[got] = '\0';
	*data = buf;
	*len = got;
	buf = NULL;
out:
	free(buf);
	close(fd);
	return rc;
}

char *mx_path_join(const char *a, const char *b)
{
	size_t na = strlen(a), nb = strlen(b);
	while (na > 1 && a[na - 1] == '/')
		na--;
	char *p = malloc(na + nb + 2);
	if (!p)
		return NULL;
	memcpy(p, a, na);
	size_t k = na;
	if (!(na == 1 && a[0] == '/'))
		p[k++] = '/';
	memcpy(p + k, b, nb + 1);
	return p;
}
