/*
 * ignore.c - which files of a notes source are not indexed.
 *
 * A source's .memexignore (at its top) uses gitignore syntax: one pattern a
 * line, '#' comments, '!' to re-include, a trailing '/' for folders only, a
 * '/' at the start or in the middle anchors the pattern to the source's top
 * (else it matches a name at any depth), and '*', '?', '[...]' and '**'
 * (any number of folders) as globs. The last pattern that matches decides.
 * Before the file's patterns come the defaults: dependency and build
 * folders (node_modules, __pycache__, venv, target, build, dist) and
 * compiled files (*.o *.so *.a *.pyc *.class *.exe *.dll *.dylib); a
 * .memexignore can re-include them with '!'.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../common/fsutil.h"
#include "../common/status.h"
#include "conn.h"

#define IGNORE_MAX_BYTES    (256u << 10)
#define IGNORE_MAX_PATTERNS 4096

struct pattern {
	char *glob;
	bool negate, dir_only, anchored;
};

struct conn_ignore {
	struct pattern *v;
	size_t n;
};

static const char *const defaults[] = {
	"node_modules/", "__pycache__/", "venv/",   "target/", "build/", "dist/",   "*.o", "*.so",
	"*.a",		 "*.pyc",	 "*.class", "*.exe",   "*.dll",	 "*.dylib", NULL,
};

/* Glob match of pattern p against string s; '*' and '?' stop at '/',
 * '**' crosses it. Iterative with backtracking on the last star. */
static bool glob(const char *p, const char *s)
{
	const char *star_p = NULL, *star_s = NULL;
	bool star_any = false;
	while (*s) {
		if (p[0] == '*' && p[1] == '*') {
			star_any = true;
			p += 2;
			if (*p == '/')
				p++; /* "**" + "/" also matches no folder */
			star_p = p;
			star_s = s;
			continue;
		}
		if (*p == '*') {
			star_any = false;
			star_p = ++p;
			star_s = s;
			continue;
		}
		if (*p == '[') {
			const char *q = p + 1;
			bool neg = *q == '!' || *q == '^', ok = false;
			if (neg)
				q++;
			while (*q && *q != ']') {
				if (q[1] == '-' && q[2] && q[2] != ']') {
					ok = ok || (*s >= q[0] && *s <= q[2]);
					q += 3;
				} else {
					ok = ok || *s == *q;
					q++;
				}
			}
			if (*q == ']' && ok != neg && *s != '/') {
				p = q + 1;
				s++;
				continue;
			}
		} else if (*p == '?' ? *s != '/' : *p == *s) {
			p++;
			s++;
			continue;
		}
		/* backtrack: let the last star take one more character */
		if (star_p && (star_any || *star_s != '/')) {
			p = star_p;
			s = ++star_s;
			continue;
		}
		return false;
	}
	while (*p == '*')
		p++;
	return *p == '\0';
}

static int add(struct conn_ignore *ig, const char *line, size_t n)
{
	while (n && (line[n - 1] == ' ' || line[n - 1] == '\t' || line[n - 1] == '\r'))
		n--;
	if (!n || line[0] == '#' || ig->n >= IGNORE_MAX_PATTERNS)
		return 0;
	struct pattern pt = { 0 };
	if (line[0] == '!')
		pt.negate = true, line++, n--;
	if (n && line[n - 1] == '/')
		pt.dir_only = true, n--;
	if (n && line[0] == '/')
		pt.anchored = true, line++, n--;
	if (!n)
		return 0;
	if (memchr(line, '/', n))
		pt.anchored = true;
	pt.glob = strndup(line, n);
	if (!pt.glob)
		return MX_ENOMEM;
	struct pattern *v = realloc(ig->v, (ig->n + 1) * sizeof *v);
	if (!v) {
		free(pt.glob);
		return MX_ENOMEM;
	}
	ig->v = v;
	ig->v[ig->n++] = pt;
	return 0;
}

int conn_ignore_load(const char *root, struct conn_ignore **out)
{
	struct conn_ignore *ig = calloc(1, sizeof *ig);
	char *path = NULL, *data = NULL;
	size_t len = 0;
	int rc = 0;
	*out = NULL;
	if (!ig)
		return MX_ENOMEM;
	for (size_t i = 0; defaults[i] && !rc; i++)
		rc = add(ig, defaults[i], strlen(defaults[i]));
	if (!rc && root) {
		path = mx_path_join(root, ".memexignore");
		if (!path)
			rc = MX_ENOMEM;
		else if (mx_read_file(path, IGNORE_MAX_BYTES, &data, &len) == 0)
			for (size_t i = 0; i < len && !rc;) {
				const char *nl = memchr(data + i, '\n', len - i);
				size_t e = nl ? (size_t)(nl - data) : len;
				rc = add(ig, data + i, e - i);
				i = e + 1;
			}
	}
	free(path);
	free(data);
	if (rc) {
		conn_ignore_free(ig);
		return rc;
	}
	*out = ig;
	return 0;
}

void conn_ignore_free(struct conn_ignore *ig)
{
	if (!ig)
		return;
	for (size_t i = 0; i < ig->n; i++)
		free(ig->v[i].glob);
	free(ig->v);
	free(ig);
}

bool conn_ignore_match(const struct conn_ignore *ig, const char *relpath, bool is_dir)
{
	if (!ig)
		return false;
	const char *base = strrchr(relpath, '/');
	base = base ? base + 1 : relpath;
	bool ignored = false;
	for (size_t i = 0; i < ig->n; i++) {
		const struct pattern *pt = &ig->v[i];
		if (pt->dir_only && !is_dir)
			continue;
		if (glob(pt->glob, pt->anchored ? relpath : base))
			ignored = !pt->negate;
	}
	return ignored;
}
