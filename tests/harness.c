/* harness.c - see harness.h. */
#define _XOPEN_SOURCE 700
#include "harness.h"

#include <errno.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../connectors/conn.h"

static int failures;
static char *tmpdirs[256];
static size_t ntmp;

bool test_check(bool ok, const char *expr, const char *file, int line)
{
	if (!ok) {
		failures++;
		printf("    %s:%d: check failed: %s\n", file, line, expr);
	}
	return ok;
}

bool test_check_int(long long a, long long b, const char *ea, const char *eb, const char *file,
		    int line)
{
	if (a != b) {
		failures++;
		printf("    %s:%d: %s == %s failed: %lld != %lld\n", file, line, ea, eb, a, b);
	}
	return a == b;
}

bool test_check_str(const char *a, const char *b, const char *ea, const char *file, int line)
{
	bool ok = a && b && !strcmp(a, b);
	if (!ok) {
		failures++;
		printf("    %s:%d: %s is \"%s\", expected \"%s\"\n", file, line, ea,
		       a ? a : "(null)", b ? b : "(null)");
	}
	return ok;
}

static int rm_one(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
	(void)sb;
	(void)flag;
	(void)ftw;
	return remove(path);
}

static void cleanup(void)
{
	for (size_t i = 0; i < ntmp; i++) {
		nftw(tmpdirs[i], rm_one, 16, FTW_DEPTH | FTW_PHYS);
		free(tmpdirs[i]);
	}
	ntmp = 0;
}

const char *test_tmpdir(void)
{
	const char *base = getenv("TMPDIR");
	char tmpl[4096];
	snprintf(tmpl, sizeof tmpl, "%s/memex-test-XXXXXX", base && *base ? base : "/tmp");
	char *d = mkdtemp(tmpl);
	if (!d || ntmp == sizeof tmpdirs / sizeof tmpdirs[0]) {
		fprintf(stderr, "cannot create a temporary directory: %s\n", strerror(errno));
		exit(2);
	}
	tmpdirs[ntmp] = strdup(d);
	return tmpdirs[ntmp++];
}

void test_write(const char *dir, const char *name, const void *data, size_t len)
{
	char path[8192];
	snprintf(path, sizeof path, "%s/%s", dir, name);
	for (char *p = path + strlen(dir) + 1; *p; p++) {
		if (*p == '/') {
			*p = '\0';
			mkdir(path, 0700);
			*p = '/';
		}
	}
	FILE *f = fopen(path, "wb");
	if (!f || fwrite(data, 1, len, f) != len || fclose(f) != 0) {
		fprintf(stderr, "cannot write %s: %s\n", path, strerror(errno));
		exit(2);
	}
}

void test_write_str(const char *dir, const char *name, const char *s)
{
	test_write(dir, name, s, strlen(s));
}

static const char *find_dir(const char *const *cands)
{
	struct stat sb;
	for (size_t i = 0; cands[i]; i++)
		if (stat(cands[i], &sb) == 0 && S_ISDIR(sb.st_mode))
			return cands[i];
	return NULL;
}

const char *test_shared(void)
{
	static const char *const c[] = { "../shared", "../../shared", NULL };
	return find_dir(c);
}

const char *test_sample(void)
{
	static const char *const c[] = { "data/sample", "../data/sample", NULL };
	return find_dir(c);
}

int test_main(const struct test_case *t, size_t n, int argc, char **argv)
{
	int passed = 0, failed = 0;
	conn_global_init();
	for (size_t i = 0; i < n; i++) {
		if (argc > 1) {
			bool want = false;
			for (int a = 1; a < argc; a++)
				want = want || !strcmp(argv[a], t[i].name);
			if (!want)
				continue;
		}
		int before = failures;
		t[i].fn();
		fflush(stderr);
		if (failures == before) {
			printf("ok %s\n", t[i].name);
			passed++;
		} else {
			printf("FAIL %s\n", t[i].name);
			failed++;
		}
		fflush(stdout);
	}
	cleanup();
	conn_global_shutdown();
	printf("%d passed, %d failed\n", passed, failed);
	return failed ? 1 : 0;
}
