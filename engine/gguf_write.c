/*
 * gguf_write.c - the GGUF writer (see gguf_write.h).
 *
 * The key/values and the tensor table are built in two buffers; begin
 * writes the fixed header, both buffers and the padding, then the data
 * streams through stdio. Every count and size the reader checks is
 * checked here too, so that what is written opens.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../common/buf.h"
#include "../common/fsutil.h"
#include "../common/status.h"
#include "gguf_write.h"

#define MAX_HEADER  (1u << 30)
#define MAX_NAME    64
#define MAX_TENSORS 65536

struct wtensor {
	char name[MAX_NAME + 1];
	uint64_t size; /* bytes, without padding */
};

struct gguf_writer {
	struct mx_buf kv, ti; /* encoded key/values, tensor infos */
	uint64_t n_kv;
	struct wtensor *t;
	size_t n_t, cap_t;
	uint64_t data_size; /* with padding */
	uint64_t arr_left;  /* elements an open array still needs */
	uint32_t arr_elem;
	int rc; /* the sticky error */
	FILE *f;
	char *path, *tmp;
	size_t cur;	     /* the tensor being written */
	uint64_t cur_left;   /* its bytes still to come */
	bool begun, finished;
	bool has_alignment; /* general.alignment is among the key/values */
	char err[320];
};

static int fail(struct gguf_writer *w, int rc, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
static int fail(struct gguf_writer *w, int rc, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(w->err, sizeof w->err, fmt, ap);
	va_end(ap);
	if (!w->rc)
		w->rc = rc;
	return rc;
}

int gguf_writer_new(struct gguf_writer **out)
{
	struct gguf_writer *w = calloc(1, sizeof *w);
	*out = w;
	if (!w)
		return MX_ENOMEM;
	mx_buf_init(&w->kv, MAX_HEADER);
	mx_buf_init(&w->ti, MAX_HEADER);
	return 0;
}

void gguf_writer_free(struct gguf_writer *w)
{
	if (!w)
		return;
	if (w->f)
		fclose(w->f);
	if (w->tmp && !w->finished)
		unlink(w->tmp);
	mx_buf_free(&w->kv);
	mx_buf_free(&w->ti);
	free(w->t);
	free(w->path);
	free(w->tmp);
	free(w);
}

const char *gguf_writer_errmsg(const struct gguf_writer *w)
{
	return w ? w->err : "out of memory";
}

/* ---- encoding ------------------------------------------------------------------ */

static void put(struct gguf_writer *w, struct mx_buf *b, const void *p, size_t n)
{
	if (w->rc)
		return;
	int rc = mx_buf_append(b, p, n);
	if (rc)
		fail(w, rc, "the header: %s", mx_strerror(rc));
}

static void put_u32(struct gguf_writer *w, struct mx_buf *b, uint32_t v)
{
	unsigned char x[4] = { (unsigned char)v, (unsigned char)(v >> 8), (unsigned char)(v >> 16),
			       (unsigned char)(v >> 24) };
	put(w, b, x, 4);
}

static void put_u64(struct gguf_writer *w, struct mx_buf *b, uint64_t v)
{
	put_u32(w, b, (uint32_t)v);
	put_u32(w, b, (uint32_t)(v >> 32));
}

static void put_str(struct gguf_writer *w, struct mx_buf *b, const char *s, size_t n)
{
	put_u64(w, b, n);
	put(w, b, s, n);
}

/* Starts key/value key of type: checks that the writer takes one. */
static int kv_key(struct gguf_writer *w, const char *key, uint32_t type)
{
	if (w->rc)
		return w->rc;
	if (w->begun)
		return fail(w, MX_EINVAL, "key '%s' after the header was written", key);
	if (w->arr_left)
		return fail(w, MX_EINVAL, "key '%s' before the array ended", key);
	put_str(w, &w->kv, key, strlen(key));
	put_u32(w, &w->kv, type);
	w->n_kv++;
	return w->rc;
}

int gguf_writer_kv_u32(struct gguf_writer *w, const char *key, uint32_t v)
{
	if (!strcmp(key, "general.alignment")) {
		if (v != GGUF_WRITE_ALIGNMENT || w->has_alignment)
			return fail(w, MX_EINVAL, "general.alignment must be written once, as %u",
				    GGUF_WRITE_ALIGNMENT);
		w->has_alignment = true;
	}
	if (!kv_key(w, key, GGUF_U32))
		put_u32(w, &w->kv, v);
	return w->rc;
}

int gguf_writer_kv_f32(struct gguf_writer *w, const char *key, float v)
{
	uint32_t u;
	memcpy(&u, &v, 4);
	if (!kv_key(w, key, GGUF_F32))
		put_u32(w, &w->kv, u);
	return w->rc;
}

int gguf_writer_kv_bool(struct gguf_writer *w, const char *key, bool v)
{
	unsigned char b = v ? 1 : 0;
	if (!kv_key(w, key, GGUF_BOOL))
		put(w, &w->kv, &b, 1);
	return w->rc;
}

int gguf_writer_kv_str(struct gguf_writer *w, const char *key, const char *s)
{
	if (!kv_key(w, key, GGUF_STRING))
		put_str(w, &w->kv, s, strlen(s));
	return w->rc;
}

int gguf_writer_arr_begin(struct gguf_writer *w, const char *key, enum gguf_vtype elem,
			  uint64_t n)
{
	if (elem != GGUF_STRING && elem != GGUF_I32 && elem != GGUF_F32)
		return fail(w, MX_EINVAL, "key '%s': arrays of type %d are not written", key,
			    (int)elem);
	if (!kv_key(w, key, GGUF_ARRAY)) {
		put_u32(w, &w->kv, (uint32_t)elem);
		put_u64(w, &w->kv, n);
		w->arr_left = n;
		w->arr_elem = (uint32_t)elem;
	}
	return w->rc;
}

/* One more element of type elem in the open array. */
static int arr_next(struct gguf_writer *w, uint32_t elem)
{
	if (w->rc)
		return w->rc;
	if (!w->arr_left || w->arr_elem != elem)
		return fail(w, MX_EINVAL, "an array element past the end or of another type");
	w->arr_left--;
	return 0;
}

int gguf_writer_arr_str(struct gguf_writer *w, const char *s, size_t len)
{
	if (!arr_next(w, GGUF_STRING))
		put_str(w, &w->kv, s, len);
	return w->rc;
}

int gguf_writer_arr_i32(struct gguf_writer *w, int32_t v)
{
	if (!arr_next(w, GGUF_I32))
		put_u32(w, &w->kv, (uint32_t)v);
	return w->rc;
}

int gguf_writer_arr_f32(struct gguf_writer *w, float v)
{
	uint32_t u;
	memcpy(&u, &v, 4);
	if (!arr_next(w, GGUF_F32))
		put_u32(w, &w->kv, u);
	return w->rc;
}

int gguf_writer_kv_copy(struct gguf_writer *w, const struct gguf *src, size_t i)
{
	size_t klen, vlen;
	uint32_t type;
	const void *val;
	const char *key = gguf_key_at(src, i, &klen);
	if (!key || gguf_kv_raw(src, i, &type, &val, &vlen))
		return fail(w, MX_EINVAL, "no key/value %zu to copy", i);
	if (klen == 17 && !memcmp(key, "general.alignment", 17))
		return w->rc; /* the writer's own is written */
	char name[80];
	snprintf(name, sizeof name, "%.*s", (int)(klen < 79 ? klen : 79), key);
	if (w->rc)
		return w->rc;
	if (w->begun || w->arr_left)
		return fail(w, MX_EINVAL, "key '%s' out of place", name);
	put_str(w, &w->kv, key, klen);
	put_u32(w, &w->kv, type);
	put(w, &w->kv, val, vlen);
	w->n_kv++;
	return w->rc;
}

/* ---- tensors ------------------------------------------------------------------- */

static uint64_t padded(uint64_t n)
{
	return n + (GGUF_WRITE_ALIGNMENT - n % GGUF_WRITE_ALIGNMENT) % GGUF_WRITE_ALIGNMENT;
}

int gguf_writer_tensor(struct gguf_writer *w, const char *name, uint32_t type, int n_dims,
		       const uint64_t *ne)
{
	if (w->rc)
		return w->rc;
	if (w->begun)
		return fail(w, MX_EINVAL, "tensor '%s' after the header was written", name);
	if (strlen(name) > MAX_NAME || n_dims < 1 || n_dims > 4 || w->n_t >= MAX_TENSORS)
		return fail(w, MX_EINVAL, "tensor '%s': a bad name or shape", name);
	uint64_t row = ggml_row_size(type, ne[0]), size = row;
	if (!row || ne[0] == 0)
		return fail(w, MX_EINVAL, "tensor '%s': rows of %llu cannot be of type %u", name,
			    (unsigned long long)ne[0], type);
	for (int d = 1; d < n_dims; d++)
		if (!ne[d] || __builtin_mul_overflow(size, ne[d], &size))
			return fail(w, MX_EINVAL, "tensor '%s': a bad shape", name);
	if (w->n_t == w->cap_t) {
		size_t cap = w->cap_t ? 2 * w->cap_t : 64;
		struct wtensor *t = realloc(w->t, cap * sizeof *t);
		if (!t)
			return fail(w, MX_ENOMEM, "out of memory");
		w->t = t;
		w->cap_t = cap;
	}
	struct wtensor *t = &w->t[w->n_t++];
	snprintf(t->name, sizeof t->name, "%s", name);
	t->size = size;
	put_str(w, &w->ti, name, strlen(name));
	put_u32(w, &w->ti, (uint32_t)n_dims);
	for (int d = 0; d < n_dims; d++)
		put_u64(w, &w->ti, ne[d]);
	put_u32(w, &w->ti, type);
	put_u64(w, &w->ti, w->data_size);
	w->data_size += padded(size);
	return w->rc;
}

uint64_t gguf_writer_data_size(const struct gguf_writer *w)
{
	return w->data_size;
}

static int cmp_wtensor(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* Duplicate tensor names would make the file ambiguous (the reader refuses
 * them). */
static int check_names(struct gguf_writer *w)
{
	if (w->n_t < 2)
		return 0;
	const char **names = malloc(w->n_t * sizeof *names);
	if (!names)
		return fail(w, MX_ENOMEM, "out of memory");
	for (size_t i = 0; i < w->n_t; i++)
		names[i] = w->t[i].name;
	qsort(names, w->n_t, sizeof *names, cmp_wtensor);
	int rc = 0;
	for (size_t i = 1; i < w->n_t && !rc; i++)
		if (!strcmp(names[i - 1], names[i]))
			rc = fail(w, MX_EINVAL, "two tensors named '%s'", names[i]);
	free(names);
	return rc;
}

/* ---- the file ------------------------------------------------------------------- */

static int io_fail(struct gguf_writer *w, const char *what)
{
	int e = errno;
	return fail(w, e ? mx_status_from_errno(e) : MX_EIO, "cannot %s '%s': %s", what,
		    w->tmp ? w->tmp : w->path, e ? strerror(e) : "I/O error");
}

static int write_bytes(struct gguf_writer *w, const void *p, size_t n)
{
	errno = 0;
	if (n && fwrite(p, 1, n, w->f) != n)
		return io_fail(w, "write");
	return 0;
}

static int write_zeros(struct gguf_writer *w, size_t n)
{
	static const unsigned char zeros[GGUF_WRITE_ALIGNMENT];
	return write_bytes(w, zeros, n);
}

int gguf_writer_begin(struct gguf_writer *w, const char *path)
{
	if (w->rc)
		return w->rc;
	if (w->begun)
		return fail(w, MX_EINVAL, "the header is already written");
	if (w->arr_left)
		return fail(w, MX_EINVAL, "an array is %llu elements short",
			    (unsigned long long)w->arr_left);
	if (check_names(w) || (!w->has_alignment &&
			       gguf_writer_kv_u32(w, "general.alignment", GGUF_WRITE_ALIGNMENT)))
		return w->rc;
	size_t plen = strlen(path);
	if (!(w->path = strdup(path)) || !(w->tmp = malloc(plen + 16)))
		return fail(w, MX_ENOMEM, "out of memory");
	snprintf(w->tmp, plen + 16, "%s.tmp-XXXXXX", path);
	w->begun = true;
	int fd = mkstemp(w->tmp); /* mode 0600 */
	if (fd < 0) {
		int e = errno;
		free(w->tmp);
		w->tmp = NULL;
		return fail(w, mx_status_from_errno(e), "cannot create a file beside '%s': %s",
			    path, strerror(e));
	}
	if (!(w->f = fdopen(fd, "wb"))) {
		close(fd);
		return fail(w, MX_ENOMEM, "out of memory");
	}
	struct mx_buf hd;
	mx_buf_init(&hd, 64);
	put(w, &hd, "GGUF", 4);
	put_u32(w, &hd, 3);
	put_u64(w, &hd, w->n_t);
	put_u64(w, &hd, w->n_kv);
	if (!w->rc) {
		uint64_t pos = hd.len + w->kv.len + w->ti.len;
		if (!write_bytes(w, hd.data, hd.len) && !write_bytes(w, w->kv.data, w->kv.len) &&
		    !write_bytes(w, w->ti.data, w->ti.len))
			write_zeros(w, (size_t)(padded(pos) - pos));
	}
	mx_buf_free(&hd);
	w->cur = 0;
	w->cur_left = w->n_t ? w->t[0].size : 0;
	return w->rc;
}

uint64_t gguf_writer_data_left(const struct gguf_writer *w)
{
	return w->begun ? w->cur_left : 0;
}

int gguf_writer_data(struct gguf_writer *w, const void *data, size_t n)
{
	const unsigned char *p = data;
	if (w->rc)
		return w->rc;
	if (!w->begun || w->finished)
		return fail(w, MX_EINVAL, "tensor data outside begin .. finish");
	while (n) {
		if (w->cur >= w->n_t)
			return fail(w, MX_EINVAL, "tensor data past the last tensor");
		size_t k = n < w->cur_left ? n : (size_t)w->cur_left;
		if (write_bytes(w, p, k))
			return w->rc;
		p += k;
		n -= k;
		w->cur_left -= k;
		if (!w->cur_left) {
			uint64_t sz = w->t[w->cur].size;
			if (write_zeros(w, (size_t)(padded(sz) - sz)))
				return w->rc;
			if (++w->cur < w->n_t)
				w->cur_left = w->t[w->cur].size;
		}
	}
	return 0;
}

int gguf_writer_finish(struct gguf_writer *w)
{
	if (w->rc)
		return w->rc;
	if (!w->begun || w->finished)
		return fail(w, MX_EINVAL, "finish without begin");
	if (w->cur < w->n_t)
		return fail(w, MX_EINVAL, "tensor '%s' is %llu bytes short", w->t[w->cur].name,
			    (unsigned long long)w->cur_left);
	errno = 0;
	if (fflush(w->f) || fsync(fileno(w->f)))
		return io_fail(w, "write");
	int cr = fclose(w->f);
	w->f = NULL;
	if (cr)
		return io_fail(w, "write");
	if (rename(w->tmp, w->path)) {
		int e = errno;
		return fail(w, mx_status_from_errno(e), "cannot rename '%s' to '%s': %s", w->tmp,
			    w->path, strerror(e));
	}
	w->finished = true;
	return 0;
}
