/*
 * harness.h - the unit-test harness: each test binary has a table of plain
 * functions; test_main() runs them (or those named on the command line),
 * prints "ok NAME" or the failed checks, and ends with the line
 * "N passed, N failed". A test passes when none of its CHECKs failed.
 */
#ifndef MX_TEST_HARNESS_H
#define MX_TEST_HARNESS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct json_object;
struct chat;

struct test_case {
	const char *name;
	void (*fn)(void);
};

#define CHECK(cond) test_check(!!(cond), #cond, __FILE__, __LINE__)
#define CHECK_EQ_INT(a, b)                                                                         \
	test_check_int((long long)(a), (long long)(b), #a, #b, __FILE__, __LINE__)
#define CHECK_STR(a, b) test_check_str((a), (b), #a, __FILE__, __LINE__)

bool test_check(bool ok, const char *expr, const char *file, int line);
bool test_check_int(long long a, long long b, const char *ea, const char *eb, const char *file,
		    int line);
bool test_check_str(const char *a, const char *b, const char *ea, const char *file, int line);

int test_main(const struct test_case *t, size_t n, int argc, char **argv);

/* A fresh temporary directory, removed with everything in it when the
 * test binary ends. The string is owned by the harness. */
const char *test_tmpdir(void);
/* Writes dir/name (creating parent folders); aborts the test run on I/O
 * errors, which are not what is being tested. */
void test_write(const char *dir, const char *name, const void *data, size_t len);
void test_write_str(const char *dir, const char *name, const char *s);
/* Path of ../shared relative to the working directory, or NULL. */
const char *test_shared(void);
/* The repository's data/sample, or NULL. */
const char *test_sample(void);
/* ../shared/fixtures/REL into buf; false, with a printed skip, when it
 * is not there. */
bool test_fixture(char *buf, size_t size, const char *rel);
/* Prints "      WHAT: id id ..." (at most 40 ids). */
void test_print_ids(const char *what, const int32_t *v, size_t n);
/* Whether v[0..n) equals arr, a JSON array of ints (NULL: no array);
 * prints the text and both lists when they differ. Not a CHECK. */
bool test_ids_equal_json(const int32_t *v, size_t n, struct json_object *arr, const char *text);
/* A tokenizer under test: text -> *ids (malloc'd, NULL when none), the count. */
typedef size_t (*test_tokenize_fn)(const void *ctx, const char *s, size_t len, int32_t **ids);
/* Runs every case of llama.cpp's tokenizer test (test-tokenizer-0: the
 * .inp/.out pair beside the vocabulary vpath, add_special and parse_special
 * off) through fn; prints each mismatch and "LABEL: same/cases ...". Checks
 * that all 46 cases were read and that all are identical. */
void test_llama_cases(const char *vpath, const char *label, test_tokenize_fn fn, const void *ctx);
/* The random-weight qwen2 fixture (llama/qwen2-s-f16.gguf) as a greedy
 * chat with one thread, or NULL when ../shared is absent (silently) or
 * it does not open (printed). The caller frees it with chat_close. */
struct chat *test_fixture_chat(int n_ctx, int max_tokens);

#define TEST(fn)                                                                                   \
	{                                                                                          \
#fn, fn                                                                            \
	}
#define TEST_MAIN(table)                                                                           \
	int main(int argc, char **argv)                                                            \
	{                                                                                          \
		return test_main(table, sizeof table / sizeof table[0], argc, argv);               \
	}

#endif
