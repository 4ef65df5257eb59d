/*
 * util.c - messages, opening the index, paths, times and snippets for the
 * command files.
 */
#include <errno.h>
#include <fcntl.h>
#include <sys/file.h>
#include <json-c/json.h>
#include <limits.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "../common/buf.h"
#include "../common/fsutil.h"
#include "../common/status.h"
#include "../common/utf8.h"
#include "cli.h"

/* Formats a message and prints it sanitised (paths in messages come from
 * the file system and may hold control characters). */
static void vreport(const char *prefix, const char *fmt, va_list ap)
{
	char msg[4096], safe[4096];
	vsnprintf(msg, sizeof msg, fmt, ap);
	fflush(stdout);
	fprintf(stderr, "memex: %s%s\n", prefix, cli_safe(msg, safe, sizeof safe));
}

void cli_error(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vreport("", fmt, ap);
	va_end(ap);
}

void cli_warn(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vreport("warning: ", fmt, ap);
	va_end(ap);
}

struct store *cli_store_open(struct cli *c, bool create, bool readonly, int *exit_code)
{
	struct store *st = NULL;
	struct stat sb;
	*exit_code = CLI_ERR;
	if (create) {
		int rc = mx_mkdir_p(c->home);
		if (rc) {
			cli_error("cannot create the data home '%s': %s", c->home,
				  rc == MX_EIO ? strerror(errno) : mx_strerror(rc));
			return NULL;
		}
	} else if (stat(c->db_path, &sb) != 0) {
		cli_error("no index at '%s'; run 'memex init' or 'memex add PATH' first",
			  c->db_path);
		return NULL;
	}
	int flags = readonly ? STORE_READONLY : create ? STORE_CREATE : 0;
	int rc = store_open(c->db_path, flags, &st);
	if (!rc)
		return st;
	if (rc == MX_EREADONLY && readonly && store_schema_version(st) > 0 &&
	    store_schema_version(st) < STORE_SCHEMA_VERSION) {
		/* an index from an older memex: upgrade it, then read */
		store_close(st);
		st = NULL;
		if ((rc = store_open(c->db_path, 0, &st)) == 0) {
			store_close(st);
			st = NULL;
			rc = store_open(c->db_path, STORE_READONLY, &st);
			if (!rc)
				return st;
		}
	}
	switch (rc) {
	case MX_ECORRUPT:
		cli_error("the index '%s' is damaged or not a memex index (%s); "
			  "nothing was changed; move it aside and run 'memex init'",
			  c->db_path, store_errmsg(st));
		break;
	case MX_ENEWER: cli_error("cannot use '%s': %s", c->db_path, store_errmsg(st)); break;
	case MX_EREADONLY:
	case MX_EPERM: cli_error("cannot write to '%s': %s", c->db_path, store_errmsg(st)); break;
	case MX_EBUSY:
		cli_error("the index '%s' is busy (another memex is writing); try again",
			  c->db_path);
		break;
	default: cli_error("cannot open '%s': %s", c->db_path, store_errmsg(st));
	}
	store_close(st);
	return NULL;
}

char *cli_abspath(const char *path)
{
	char *r = realpath(path, NULL);
	if (r)
		return r;
	/* A path that does not exist: make it absolute lexically. */
	struct mx_buf b;
	mx_buf_init(&b, PATH_MAX * 4);
	if (path[0] != '/') {
		char cwd[PATH_MAX];
		if (!getcwd(cwd, sizeof cwd) || mx_buf_appends(&b, cwd)) {
			mx_buf_free(&b);
			return NULL;
		}
	}
	const char *p = path;
	while (*p) {
		while (*p == '/')
			p++;
		const char *e = strchr(p, '/');
		size_t n = e ? (size_t)(e - p) : strlen(p);
		if (n == 0)
			break;
		if (n == 1 && p[0] == '.') {
			/* nothing */
		} else if (n == 2 && p[0] == '.' && p[1] == '.') {
			char *s = b.data ? strrchr(b.data, '/') : NULL;
			if (s)
				b.len = (size_t)(s - b.data), b.data[b.len] = '\0';
		} else if (mx_buf_append(&b, "/", 1) || mx_buf_append(&b, p, n)) {
			mx_buf_free(&b);
			return NULL;
		}
		p += n;
	}
	if (b.len == 0 && mx_buf_append(&b, "/", 1)) {
		mx_buf_free(&b);
		return NULL;
	}
	return mx_buf_detach(&b);
}

void cli_format_time(int64_t t, char *buf, size_t n)
{
	if (t <= 0) {
		snprintf(buf, n, "never");
		return;
	}
	time_t tt = (time_t)t;
	struct tm tm;
	if (!localtime_r(&tt, &tm) || !strftime(buf, n, "%Y-%m-%d %H:%M", &tm))
		snprintf(buf, n, "?");
}

void cli_print_snippet(const char *s, bool tty, const char *indent)
{
	fputs(indent, stdout);
	bool space = false;
	for (const char *p = s; *p; p++) {
		if (*p == '\x02') {
			if (space)
				fputc(' ', stdout);
			fputs(tty ? "\033[1m" : "**", stdout);
		} else if (*p == '\x03') {
			fputs(tty ? "\033[0m" : "**", stdout);
		} else if (*p == '\n' || *p == '\r' || *p == '\t' || *p == ' ') {
			space = true;
			continue;
		} else if ((unsigned char)*p < 0x20 || *p == 0x7f) {
			/* control bytes from documents never reach the terminal */
			continue;
		} else {
			if (space)
				fputc(' ', stdout);
			fputc(*p, stdout);
		}
		space = false;
	}
	fputc('\n', stdout);
}

void cli_json_print(json_object *o)
{
	puts(json_object_to_json_string_ext(o, JSON_C_TO_STRING_PRETTY |
						       JSON_C_TO_STRING_NOSLASHESCAPE));
	json_object_put(o);
}

bool cli_path_within(const char *a, const char *b)
{
	size_t n = strlen(b);
	if (n == 1 && b[0] == '/')
		return a[0] == '/';
	if (strncmp(a, b, n))
		return false;
	return a[n] == '\0' || a[n] == '/';
}

/* Characters a terminal may act on: C0 and C1 controls, DEL, and the
 * bidirectional overrides that reorder what is shown. */
static bool unsafe_char(uint32_t cp)
{
	return cp < 0x20 || (cp >= 0x7f && cp <= 0x9f) || cp == 0x200e || cp == 0x200f ||
	       (cp >= 0x202a && cp <= 0x202e) || (cp >= 0x2066 && cp <= 0x2069);
}

const char *cli_safe(const char *s, char *buf, size_t n)
{
	char *fixed = NULL;
	size_t len = 0;
	if (!s)
		s = "";
	if (n == 0)
		return "";
	if (mx_utf8_repair(s, strlen(s), &fixed, &len, NULL)) {
		snprintf(buf, n, "?");
		return buf;
	}
	size_t o = 0;
	for (size_t i = 0; i < len;) {
		uint32_t cp = 0;
		size_t k = mx_utf8_decode((const unsigned char *)fixed + i, len - i, &cp);
		if (!k)
			k = 1; /* cannot happen after repair */
		if (unsafe_char(cp)) {
			if (o + 1 >= n)
				break;
			buf[o++] = '?';
		} else {
			if (o + k >= n)
				break;
			memcpy(buf + o, fixed + i, k);
			o += k;
		}
		i += k;
	}
	buf[o] = '\0';
	free(fixed);
	return buf;
}

json_object *cli_json_string(const char *s)
{
	if (!s)
		return NULL;
	char *fixed = NULL;
	size_t len = 0;
	if (mx_utf8_repair(s, strlen(s), &fixed, &len, NULL))
		return NULL;
	json_object *o = json_object_new_string_len(fixed, (int)len);
	free(fixed);
	return o;
}

int cli_index_lock(struct cli *c, int *fd)
{
	char path[4300];
	snprintf(path, sizeof path, "%s/index.lock", c->home);
	*fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
	if (*fd < 0)
		return 0; /* a read-only home: the store refuses writes anyway */
	if (flock(*fd, LOCK_EX | LOCK_NB) == 0)
		return 0;
	close(*fd);
	*fd = -1;
	cli_error("'memex index' is running on '%s'; try again when it has finished", c->home);
	return -1;
}

void cli_index_files_remove(const char *db)
{
	static const char *const sfx[] = { "-wal", "-shm" };
	char path[4400];
	unlink(db);
	for (size_t i = 0; i < sizeof sfx / sizeof sfx[0]; i++)
		if (snprintf(path, sizeof path, "%s%s", db, sfx[i]) < (int)sizeof path)
			unlink(path);
}

int cli_read_line(FILE *f, size_t max, char **line, size_t *cap, size_t *len, bool *cut)
{
	size_t l = 0;
	bool any = false;
	int ch;
	*cut = false;
	*len = 0;
	if (!*line || *cap < 2) {
		char *p = realloc(*line, 256);
		if (!p)
			return -1;
		*line = p;
		*cap = 256;
	}
	while ((ch = getc(f)) != EOF) {
		any = true;
		if (ch == '\n')
			break;
		if (l >= max) {
			*cut = true;
			continue;
		}
		if (l + 1 >= *cap) {
			size_t nc = *cap * 2;
			char *p = realloc(*line, nc);
			if (!p)
				return -1;
			*line = p;
			*cap = nc;
		}
		(*line)[l++] = (char)ch;
	}
	if (l && (*line)[l - 1] == '\r')
		l--;
	(*line)[l] = '\0';
	*len = l;
	return any ? 1 : 0;
}

int cli_tmp_index_make(char *dir, size_t dsize, char *db, size_t dbsize)
{
	const char *base = getenv("TMPDIR");
	snprintf(dir, dsize, "%s/memex-eval-XXXXXX", base && *base ? base : "/tmp");
	if (!mkdtemp(dir)) {
		cli_error("cannot make a temporary folder: %s", strerror(errno));
		dir[0] = '\0';
		return -1;
	}
	snprintf(db, dbsize, "%s/index.db", dir);
	return 0;
}

void cli_tmp_index_remove(const char *dir)
{
	char db[4400];
	if (!dir[0])
		return;
	snprintf(db, sizeof db, "%s/index.db", dir);
	cli_index_files_remove(db);
	rmdir(dir);
}

double cli_now(void)
{
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}
