/*
 * fsutil.h - file-system helpers that keep memex's privacy rules.
 *
 * Everything memex writes lives in directories created 0700 and files created
 * 0600. Reading never follows a FIFO or socket (opening one could block
 * forever) and never reads more than the caller's cap.
 */
#ifndef MX_FSUTIL_H
#define MX_FSUTIL_H

#include <stddef.h>
#include <sys/stat.h>
#include <sys/types.h>

/* mkdir -p with mode 0700 for each directory created. Existing directories
 * are left as they are. 0, MX_EPERM, MX_EREADONLY, MX_ENOTREG (a component
 * is not a directory) or MX_EIO. */
int mx_mkdir_p(const char *path);

/* Opens a regular file for reading (never blocking on a FIFO): *fd, and
 * its fstat in *sb. Errors: as mx_read_file's, MX_ENOTREG for anything
 * that is not a regular file (the descriptor is then closed). */
int mx_open_regular(const char *path, int *fd, struct stat *sb);

/* Reads a whole regular file of at most max bytes. *data (malloc'd,
 * NUL-terminated, caller frees) and *len on success. Errors: MX_ENOTFOUND,
 * MX_EPERM, MX_ENOTREG (FIFO, socket, device, directory), MX_ETOOBIG,
 * MX_ENOMEM, MX_EIO. */
int mx_read_file(const char *path, size_t max, char **data, size_t *len);

/* Maps an errno value to a status code. */
int mx_status_from_errno(int err);

/* Joins a and b with one '/', malloc'd; NULL on allocation failure. */
char *mx_path_join(const char *a, const char *b);

#endif
