/* test_common.c - buffers, UTF-8, hashing and file helpers. */
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../common/buf.h"
#include "../common/fsutil.h"
#include "../common/hash.h"
#include "../common/status.h"
#include "../common/utf8.h"
#include "harness.h"

static void buf_respects_cap(void)
{
	struct mx_buf b;
	mx_buf_init(&b, 10);
	CHECK_EQ_INT(mx_buf_appends(&b, "hello"), 0);
	CHECK_EQ_INT(mx_buf_appendf(&b, "%d", 1234), 0);
	CHECK_STR(b.data, "hello1234");
	/* the 11th byte is refused and the buffer stays as it was */
	CHECK_EQ_INT(mx_buf_appends(&b, "xy"), MX_ETOOBIG);
	CHECK_EQ_INT(b.len, 9);
	CHECK_STR(b.data, "hello1234");
	CHECK_EQ_INT(mx_buf_appends(&b, "z"), 0);
	char *p = mx_buf_detach(&b);
	CHECK_STR(p, "hello1234z");
	CHECK(b.data == NULL && b.len == 0);
	free(p);
	mx_buf_free(&b);
	mx_buf_free(NULL);
}

static void utf8_validation(void)
{
	CHECK(mx_utf8_is_valid("", 0));
	CHECK(mx_utf8_is_valid("abc \xc3\xa5\xe2\x82\xac\xf0\x9f\x98\x80", 13));
	CHECK(!mx_utf8_is_valid("\xc0\xaf", 2));	 /* overlong '/' */
	CHECK(!mx_utf8_is_valid("\xed\xa0\x80", 3));	 /* surrogate */
	CHECK(!mx_utf8_is_valid("\xf4\x90\x80\x80", 4)); /* > U+10FFFF */
	CHECK(!mx_utf8_is_valid("\xe2\x82", 2));	 /* truncated */
	CHECK(!mx_utf8_is_valid("\xff", 1));
	uint32_t cp = 0;
	CHECK_EQ_INT(mx_utf8_decode((const unsigned char *)"\xe2\x82\xac", 3, &cp), 3);
	CHECK_EQ_INT(cp, 0x20AC);
}

static void utf8_repair_replaces_never_drops(void)
{
	char *out = NULL;
	size_t len = 0, n = 0;
	/* Latin-1 "Kära" then a truncated sequence at the end */
	CHECK_EQ_INT(mx_utf8_repair("K\xe4ra \xe2\x82", 7, &out, &len, &n), 0);
	CHECK_STR(out, "K\xef\xbf\xbdra \xef\xbf\xbd");
	CHECK_EQ_INT(n, 2);
	CHECK(mx_utf8_is_valid(out, len));
	free(out);
	CHECK_EQ_INT(mx_utf8_repair("ok", 2, &out, &len, &n), 0);
	CHECK_STR(out, "ok");
	CHECK_EQ_INT(n, 0);
	free(out);
}

static void utf8_floor_never_splits(void)
{
	const char *s = "a\xc3\xa5\xe2\x82\xac\xf0\x9f\x98\x80"; /* a å € 😀 */
	size_t n = strlen(s);
	for (size_t k = 0; k <= n; k++) {
		size_t f = mx_utf8_floor(s, k);
		CHECK(f <= k);
		CHECK(mx_utf8_is_valid(s, f));
	}
	CHECK_EQ_INT(mx_utf8_floor(s, 2), 1);
	CHECK_EQ_INT(mx_utf8_floor(s, 3), 3);
	CHECK_EQ_INT(mx_utf8_floor(s, 9), 6);
	CHECK_EQ_INT(mx_utf8_floor(s, n), n);
}

static void sha256_known_vectors(void)
{
	char hex[MX_SHA256_HEX_LEN + 1];
	mx_sha256_hex("", 0, hex);
	CHECK_STR(hex, "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
	mx_sha256_hex("abc", 3, hex);
	CHECK_STR(hex, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
}

/* A file hashed in pieces equals the same bytes hashed at once, at the
 * piece size's edges, and an empty file has the empty hash. */
static void sha256_fd_matches_memory(void)
{
	const char *t = test_tmpdir();
	size_t sizes[] = { 0, 3, (1u << 20) - 1, 1u << 20, (1u << 20) + 1, (5u << 20) / 2 };
	unsigned char *data = malloc((5u << 20) / 2);
	CHECK(data != NULL);
	if (!data)
		return;
	for (size_t i = 0; i < (5u << 20) / 2; i++)
		data[i] = (unsigned char)(i * 2654435761u >> 13);
	for (size_t k = 0; k < sizeof sizes / sizeof *sizes; k++) {
		char want[MX_SHA256_HEX_LEN + 1], got[MX_SHA256_HEX_LEN + 1] = "";
		test_write(t, "h.bin", data, sizes[k]);
		char *p = mx_path_join(t, "h.bin");
		int fd = open(p, O_RDONLY);
		CHECK(fd >= 0);
		CHECK_EQ_INT(mx_sha256_fd(fd, got), 0);
		mx_sha256_hex(data, sizes[k], want);
		CHECK_STR(got, want);
		close(fd);
		free(p);
	}
	/* a descriptor that cannot be read is an error, not a hash */
	char got[MX_SHA256_HEX_LEN + 1];
	int fd = open(t, O_RDONLY | O_DIRECTORY);
	CHECK(fd >= 0);
	CHECK(mx_sha256_fd(fd, got) < 0);
	close(fd);
	free(data);
}

static void mkdir_p_is_private(void)
{
	const char *t = test_tmpdir();
	char *p = mx_path_join(t, "a/b/c");
	mode_t old = umask(022);
	CHECK_EQ_INT(mx_mkdir_p(p), 0);
	umask(old);
	struct stat sb;
	CHECK(stat(p, &sb) == 0 && S_ISDIR(sb.st_mode));
	CHECK_EQ_INT(sb.st_mode & 0777, 0700);
	CHECK_EQ_INT(mx_mkdir_p(p), 0); /* again: fine */
	test_write_str(t, "file", "x");
	char *f = mx_path_join(t, "file/sub");
	CHECK(mx_mkdir_p(f) != 0);
	free(f);
	free(p);
}

static void read_file_refuses_fifo_and_big(void)
{
	const char *t = test_tmpdir();
	char *data = NULL;
	size_t len = 0;
	test_write_str(t, "small", "hello");
	char *p = mx_path_join(t, "small");
	CHECK_EQ_INT(mx_read_file(p, 100, &data, &len), 0);
	CHECK_EQ_INT(len, 5);
	CHECK_STR(data, "hello");
	free(data);
	CHECK_EQ_INT(mx_read_file(p, 4, &data, &len), MX_ETOOBIG);
	free(p);

	p = mx_path_join(t, "fifo");
	CHECK(mkfifo(p, 0600) == 0);
	/* must not block */
	CHECK_EQ_INT(mx_read_file(p, 100, &data, &len), MX_ENOTREG);
	free(p);
	CHECK_EQ_INT(mx_read_file(t, 100, &data, &len), MX_ENOTREG);
	p = mx_path_join(t, "missing");
	CHECK_EQ_INT(mx_read_file(p, 100, &data, &len), MX_ENOTFOUND);
	free(p);
}

static void path_join_and_strerror(void)
{
	char *p = mx_path_join("/a/", "b");
	CHECK_STR(p, "/a/b");
	free(p);
	p = mx_path_join("/", "b");
	CHECK_STR(p, "/b");
	free(p);
	CHECK_STR(mx_strerror(MX_ENEWER), "created by a newer version of memex");
	CHECK_STR(mx_strerror(12345), "unknown error");
}

/* clang-format off */
static const struct test_case tests[] = {
	TEST(buf_respects_cap),
	TEST(utf8_validation),
	TEST(utf8_repair_replaces_never_drops),
	TEST(utf8_floor_never_splits),
	TEST(sha256_known_vectors),
	TEST(sha256_fd_matches_memory),
	TEST(mkdir_p_is_private),
	TEST(read_file_refuses_fifo_and_big),
	TEST(path_join_and_strerror),
};
/* clang-format on */
TEST_MAIN(tests)
