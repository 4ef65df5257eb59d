/* harness.c - see harness.h. */
#define _XOPEN_SOURCE 700
#include "harness.h"

#include <errno.h>
#include <signal.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <json.h>

#include "../common/fsutil.h"
#include "../connectors/conn.h"
#include "../engine/chat.h"

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

bool test_fixture(char *buf, size_t size, const char *rel)
{
	const char *sh = test_shared();
	if (sh) {
		snprintf(buf, size, "%s/fixtures/%s", sh, rel);
		if (access(buf, R_OK) == 0)
			return true;
	}
	printf("    skip: fixture %s not found\n", rel);
	return false;
}

void test_print_ids(const char *what, const int32_t *v, size_t n)
{
	printf("      %s:", what);
	for (size_t i = 0; i < n && i < 40; i++)
		printf(" %d", v[i]);
	printf("%s\n", n > 40 ? " ..." : "");
}

bool test_ids_equal_json(const int32_t *v, size_t n, struct json_object *arr, const char *text)
{
	size_t m = arr ? json_object_array_length(arr) : 0;
	bool same = arr && m == n;
	for (size_t i = 0; same && i < n; i++)
		same = json_object_get_int(json_object_array_get_idx(arr, i)) == v[i];
	if (!same) {
		printf("    text \"%.60s\":\n", text);
		test_print_ids("got", v, n);
		printf("      expected:");
		for (size_t i = 0; i < m && i < 40; i++)
			printf(" %d", json_object_get_int(json_object_array_get_idx(arr, i)));
		printf("\n");
	}
	return same;
}

struct chat *test_fixture_chat(int n_ctx, int max_tokens)
{
	char path[4096];
	const char *sh = test_shared();
	if (!sh)
		return NULL;
	snprintf(path, sizeof path, "%s/fixtures/llama/qwen2-s-f16.gguf", sh);
	if (access(path, R_OK) != 0)
		return NULL;
	struct chat_params p = chat_params_default();
	p.llm.n_ctx = n_ctx;
	p.llm.threads = 1;
	p.sample.temperature = 0;
	p.max_tokens = max_tokens;
	struct chat *c = NULL;
	char err[256];
	if (chat_open(path, &p, &c, err, sizeof err)) {
		printf("    chat_open: %s\n", err);
		return NULL;
	}
	return c;
}

/* The watchdog: a test that hangs (a lost wake-up, a loop that never ends)
 * fails with its name instead of stopping the whole run. The limit per test
 * is MX_TEST_TIMEOUT seconds (default 600: the sanitizer builds are slow). */
static const char *volatile current_test;

static void on_alarm(int sig)
{
	(void)sig;
	static const char a[] = "FAIL ", b[] = ": timed out (MX_TEST_TIMEOUT)\n";
	const char *name = current_test ? current_test : "?";
	ssize_t w = write(STDOUT_FILENO, a, sizeof a - 1);
	w = write(STDOUT_FILENO, name, strlen(name));
	w = write(STDOUT_FILENO, b, sizeof b - 1);
	(void)w;
	_exit(1);
}

static unsigned test_timeout(void)
{
	const char *e = getenv("MX_TEST_TIMEOUT");
	char *end;
	unsigned long v = e && *e ? strtoul(e, &end, 10) : 0;
	return e && *e && !*end && v > 0 && v < 86400 ? (unsigned)v : 600;
}

int test_main(const struct test_case *t, size_t n, int argc, char **argv)
{
	int passed = 0, failed = 0;
	unsigned limit = test_timeout();
	signal(SIGALRM, on_alarm);
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
		fflush(stdout);
		current_test = t[i].name;
		alarm(limit);
		t[i].fn();
		alarm(0);
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

void test_llama_cases(const char *vpath, const char *label, test_tokenize_fn fn, const void *ctx)
{
	char ipath[4200], opath[4200];
	snprintf(ipath, sizeof ipath, "%s.inp", vpath);
	snprintf(opath, sizeof opath, "%s.out", vpath);
	char *inp = NULL, *outp = NULL;
	size_t ilen = 0, olen = 0;
	if (!CHECK_EQ_INT(mx_read_file(ipath, 1u << 24, &inp, &ilen), 0) ||
	    !CHECK_EQ_INT(mx_read_file(opath, 1u << 24, &outp, &olen), 0))
		goto out;
	static const char sep[] = "\n__ggml_vocab_test__\n";
	const char *p = inp, *end = inp + ilen, *line = outp;
	size_t cases = 0, same = 0;
	while (p < end) {
		const char *q = memmem(p, (size_t)(end - p), sep, sizeof sep - 1);
		if (!q)
			break; /* the text after the last separator is empty */
		const char *nl = strchr(line, '\n');
		if (!CHECK(nl != NULL))
			break;
		/* the expected ids of this case */
		int32_t want[4096];
		size_t nwant = 0;
		for (const char *s = line; s < nl;) {
			char *e;
			long v = strtol(s, &e, 10);
			if (e == s)
				break;
			if (nwant < 4096)
				want[nwant++] = (int32_t)v;
			s = e;
		}
		int32_t *got;
		size_t n = fn(ctx, p, (size_t)(q - p), &got);
		bool ok = n == nwant && (n == 0 || !memcmp(got, want, n * sizeof *got));
		if (!ok) {
			printf("    case %zu \"%.*s\":\n", cases, (int)(q - p > 60 ? 60 : q - p),
			       p);
			test_print_ids("got", got, n);
			test_print_ids("expected", want, nwant);
		}
		same += ok;
		cases++;
		free(got);
		p = q + sizeof sep - 1;
		line = nl + 1;
	}
	printf("    %s: %zu/%zu llama.cpp cases identical\n", label, same, cases);
	CHECK_EQ_INT(cases, 46);
	CHECK_EQ_INT(same, cases);
out:
	free(inp);
	free(outp);
}
