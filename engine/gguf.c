/*
 * gguf.c - the GGUF reader (the byte layout is in gguf.h).
 *
 * Opening walks the file once, front to back, through a cursor that
 * checks every read against the end of the file:
 *   1. header: magic, version (2 and 3 share one layout), the two counts,
 *      each bounded by what the rest of the file could hold, so that a
 *      hostile count never turns into a large allocation;
 *   2. key/values: each value's bytes are located, not copied; the
 *      elements of a string array get an offset table, so that element i
 *      is found without walking the array (vocabularies have 50k strings);
 *   3. tensor infos: shape (1..4 dims, each >= 1, product without overflow),
 *      a ggml type of known layout, a row length that is a whole number of
 *      blocks;
 *   4. the data section starts at the next multiple of general.alignment;
 *      each tensor's offset must be aligned and its bytes inside the file.
 * Keys and tensor names are then sorted (duplicates are refused, as ggml
 * does) and looked up by binary search.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../common/fsutil.h"
#include "../common/status.h"
#include "gguf.h"
#include "quant.h"

#define MAX_KV		  1000000u
#define MAX_TENSORS	  1000000u
#define DEFAULT_ALIGNMENT 32u
#define ALIGNMENT_KEY	  "general.alignment"

/* smallest encodings: key/value = empty key + type + u8; tensor info =
 * empty name + n_dims + one ne + type + offset */
#define MIN_KV_BYTES	 (8u + 4u + 1u)
#define MIN_TENSOR_BYTES (8u + 4u + 8u + 4u + 8u)

struct gguf_kv {
	const uint8_t *key;
	size_t key_len;
	uint32_t type;
	const uint8_t *val; /* scalar: its bytes; string: its bytes after the
			     * length; array: the first element */
	uint64_t n;	    /* string: bytes; array: elements */
	uint32_t elem;	    /* array: element type */
	uint64_t *str_off;  /* array of strings: offset of element i (its
			     * length field) from the start of the file */
	const uint8_t *end; /* just past the encoded value */
};

struct gguf {
	const uint8_t *base;
	size_t len;
	void *map; /* our mmap of the file, or NULL for borrowed bytes */
	uint32_t version;
	uint32_t alignment;
	size_t data_off;
	struct gguf_kv *kv;
	size_t n_kv;
	const struct gguf_kv **kv_sorted;
	struct gguf_tensor *t;
	size_t n_t;
	const struct gguf_tensor **t_sorted;
};

/* ---- helpers ----------------------------------------------------------------- */

/* A name from the file, fit for an error message: at most 48 bytes,
 * control and non-ASCII bytes as '?'. */
static const char *printable(char *dst, size_t dsz, const uint8_t *s, size_t n)
{
	size_t k = 0;
	for (; k < n && k + 4 < dsz && k < 48; k++)
		dst[k] = s[k] >= 0x20 && s[k] < 0x7f ? (char)s[k] : '?';
	if (k < n && k + 4 <= dsz) {
		memcpy(dst + k, "...", 3);
		k += 3;
	}
	dst[k] = '\0';
	return dst;
}

static uint16_t le16(const uint8_t *p)
{
	return (uint16_t)(p[0] | p[1] << 8);
}

static uint32_t le32(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static uint64_t le64(const uint8_t *p)
{
	return (uint64_t)le32(p) | (uint64_t)le32(p + 4) << 32;
}

/* Bytes of one value of a scalar type; 0 for string, array and unknown. */
static size_t scalar_size(uint32_t type)
{
	switch (type) {
	case GGUF_U8:
	case GGUF_I8:
	case GGUF_BOOL: return 1;
	case GGUF_U16:
	case GGUF_I16: return 2;
	case GGUF_U32:
	case GGUF_I32:
	case GGUF_F32: return 4;
	case GGUF_U64:
	case GGUF_I64:
	case GGUF_F64: return 8;
	}
	return 0;
}

static bool is_int_type(uint32_t type)
{
	return type <= GGUF_I32 || type == GGUF_U64 || type == GGUF_I64;
}

/* An integer value of any width, as either signed or unsigned. */
struct ival {
	bool is_signed;
	int64_t s;
	uint64_t u;
};

static struct ival read_int(uint32_t type, const uint8_t *p)
{
	struct ival v = { 0 };
	switch (type) {
	case GGUF_U8: v.u = p[0]; break;
	case GGUF_U16: v.u = le16(p); break;
	case GGUF_U32: v.u = le32(p); break;
	case GGUF_U64: v.u = le64(p); break;
	case GGUF_I8:
		v.is_signed = true;
		v.s = (int8_t)p[0];
		break;
	case GGUF_I16:
		v.is_signed = true;
		v.s = (int16_t)le16(p);
		break;
	case GGUF_I32:
		v.is_signed = true;
		v.s = (int32_t)le32(p);
		break;
	case GGUF_I64:
		v.is_signed = true;
		v.s = (int64_t)le64(p);
		break;
	}
	return v;
}

static bool ival_to_i32(struct ival v, int32_t *out)
{
	if (v.is_signed ? (v.s < INT32_MIN || v.s > INT32_MAX) : v.u > INT32_MAX)
		return false;
	*out = v.is_signed ? (int32_t)v.s : (int32_t)v.u;
	return true;
}

static float read_float(uint32_t type, const uint8_t *p)
{
	if (type == GGUF_F64) {
		uint64_t u = le64(p);
		double d;
		memcpy(&d, &u, sizeof d);
		return (float)d;
	}
	uint32_t u = le32(p);
	float f;
	memcpy(&f, &u, sizeof f);
	return f;
}

static int cmp_name(const uint8_t *a, size_t alen, const uint8_t *b, size_t blen)
{
	int c = memcmp(a, b, alen < blen ? alen : blen);
	if (c)
		return c;
	return alen < blen ? -1 : alen > blen;
}

static int cmp_kv(const void *a, const void *b)
{
	const struct gguf_kv *x = *(const struct gguf_kv *const *)a;
	const struct gguf_kv *y = *(const struct gguf_kv *const *)b;
	return cmp_name(x->key, x->key_len, y->key, y->key_len);
}

static int cmp_tensor(const void *a, const void *b)
{
	const struct gguf_tensor *x = *(const struct gguf_tensor *const *)a;
	const struct gguf_tensor *y = *(const struct gguf_tensor *const *)b;
	return cmp_name((const uint8_t *)x->name, x->name_len, (const uint8_t *)y->name,
			y->name_len);
}

/* ---- the cursor --------------------------------------------------------------- */

struct cur {
	const uint8_t *base;
	size_t len;
	size_t pos;
	char *err;
	size_t errsz;
};

static size_t left(const struct cur *c)
{
	return c->len - c->pos;
}

static int truncated(struct cur *c, const char *what)
{
	return mx_fail(c->err, c->errsz, MX_ECORRUPT, "truncated file: %s at byte %zu of %zu", what,
		    c->pos, c->len);
}

static int take(struct cur *c, uint64_t n, const uint8_t **p, const char *what)
{
	*p = NULL;
	if (n > left(c))
		return truncated(c, what);
	*p = c->base + c->pos;
	c->pos += (size_t)n;
	return 0;
}

static int rd_u32(struct cur *c, uint32_t *v, const char *what)
{
	const uint8_t *p = NULL;
	int rc = take(c, 4, &p, what);
	if (!rc)
		*v = le32(p);
	return rc;
}

static int rd_u64(struct cur *c, uint64_t *v, const char *what)
{
	const uint8_t *p = NULL;
	int rc = take(c, 8, &p, what);
	if (!rc)
		*v = le64(p);
	return rc;
}

static int rd_str(struct cur *c, const uint8_t **s, uint64_t *len, const char *what)
{
	int rc = rd_u64(c, len, what);
	if (rc)
		return rc;
	if (*len > left(c))
		return mx_fail(c->err, c->errsz, MX_ECORRUPT,
			    "%s: string of %llu bytes at byte %zu runs past the end (%zu)", what,
			    (unsigned long long)*len, c->pos - 8, c->len);
	return take(c, *len, s, what);
}

/* ---- parsing ------------------------------------------------------------------ */

static int parse_array(struct cur *c, struct gguf_kv *kv, const char *key)
{
	int rc = rd_u32(c, &kv->elem, "array type");
	if (rc)
		return rc;
	if (kv->elem == GGUF_ARRAY)
		return mx_fail(c->err, c->errsz, MX_EUNSUPPORTED, "key '%s': arrays of arrays", key);
	if (kv->elem != GGUF_STRING && !scalar_size(kv->elem))
		return mx_fail(c->err, c->errsz, MX_ECORRUPT, "key '%s': unknown array type %u", key,
			    kv->elem);
	rc = rd_u64(c, &kv->n, "array length");
	if (rc)
		return rc;
	kv->val = c->base + c->pos;
	if (kv->elem != GGUF_STRING) {
		uint64_t bytes;
		if (__builtin_mul_overflow(kv->n, (uint64_t)scalar_size(kv->elem), &bytes) ||
		    bytes > left(c))
			return mx_fail(c->err, c->errsz, MX_ECORRUPT,
				    "key '%s': array of %llu elements runs past the end", key,
				    (unsigned long long)kv->n);
		c->pos += (size_t)bytes;
		return 0;
	}
	/* each string takes at least its 8-byte length */
	if (kv->n > left(c) / 8)
		return mx_fail(c->err, c->errsz, MX_ECORRUPT,
			    "key '%s': array of %llu strings runs past the end", key,
			    (unsigned long long)kv->n);
	if (kv->n == 0)
		return 0;
	kv->str_off = malloc((size_t)kv->n * sizeof *kv->str_off);
	if (!kv->str_off)
		return mx_fail(c->err, c->errsz, MX_ENOMEM, "out of memory");
	for (uint64_t i = 0; i < kv->n; i++) {
		const uint8_t *s;
		uint64_t len;
		kv->str_off[i] = c->pos;
		rc = rd_str(c, &s, &len, "array string");
		if (rc)
			return rc;
	}
	return 0;
}

static int parse_kv(struct cur *c, struct gguf_kv *kv, size_t i)
{
	char name[64];
	uint64_t len;
	int rc = rd_str(c, &kv->key, &len, "key");
	if (rc)
		return rc;
	kv->key_len = (size_t)len;
	printable(name, sizeof name, kv->key, kv->key_len);
	rc = rd_u32(c, &kv->type, "value type");
	if (rc)
		return rc;
	if (kv->type == GGUF_STRING)
		return rd_str(c, &kv->val, &kv->n, name);
	if (kv->type == GGUF_ARRAY)
		return parse_array(c, kv, name);
	size_t sz = scalar_size(kv->type);
	if (!sz)
		return mx_fail(c->err, c->errsz, MX_ECORRUPT, "key %zu '%s': unknown value type %u", i,
			    name, kv->type);
	return take(c, sz, &kv->val, "value");
}

static int parse_tensor(struct cur *c, struct gguf_tensor *t, uint64_t *off)
{
	char name[64];
	const uint8_t *s;
	uint64_t len;
	uint32_t n_dims;
	int rc = rd_str(c, &s, &len, "tensor name");
	if (rc)
		return rc;
	t->name = (const char *)s;
	t->name_len = (size_t)len;
	printable(name, sizeof name, s, t->name_len);
	rc = rd_u32(c, &n_dims, "tensor dimensions");
	if (rc)
		return rc;
	if (n_dims < 1 || n_dims > 4)
		return mx_fail(c->err, c->errsz, MX_ECORRUPT,
			    "tensor '%s': %u dimensions (1 to 4 allowed)", name, n_dims);
	t->n_dims = (int)n_dims;
	uint64_t count = 1;
	for (int d = 0; d < 4; d++) {
		t->ne[d] = 1;
		if (d >= t->n_dims)
			continue;
		rc = rd_u64(c, &t->ne[d], "tensor shape");
		if (rc)
			return rc;
		if (t->ne[d] == 0 || t->ne[d] > INT64_MAX ||
		    __builtin_mul_overflow(count, t->ne[d], &count) || count > INT64_MAX)
			return mx_fail(c->err, c->errsz, MX_ECORRUPT,
				    "tensor '%s': bad shape (dimension %d is %llu)", name, d,
				    (unsigned long long)t->ne[d]);
	}
	rc = rd_u32(c, &t->type, "tensor type");
	if (rc)
		return rc;
	uint32_t blck, bsize;
	if (!quant_layout(t->type, &blck, &bsize))
		return mx_fail(c->err, c->errsz, MX_EUNSUPPORTED, "tensor '%s': unknown ggml type %u",
			    name, t->type);
	if (t->ne[0] % blck)
		return mx_fail(c->err, c->errsz, MX_ECORRUPT,
			    "tensor '%s': rows of %llu values are not whole %s blocks of %u", name,
			    (unsigned long long)t->ne[0], quant_type_name(t->type), blck);
	uint64_t rows = t->ne[1] * t->ne[2] * t->ne[3]; /* <= count: no overflow */
	uint64_t nbytes;
	if (__builtin_mul_overflow(t->ne[0] / blck, (uint64_t)bsize, &nbytes) ||
	    __builtin_mul_overflow(nbytes, rows, &nbytes) || nbytes > SIZE_MAX)
		return mx_fail(c->err, c->errsz, MX_ECORRUPT, "tensor '%s': size overflows", name);
	t->nbytes = (size_t)nbytes;
	return rd_u64(c, off, "tensor offset");
}

/* Natural alignment of a type's elements in memory (for callers that read
 * F32/F16 data in place). */
static size_t natural_align(uint32_t type)
{
	switch (type) {
	case GGML_F32:
	case 26: /* I32 */ return 4;
	case GGML_F16:
	case GGML_BF16:
	case 25: /* I16 */ return 2;
	case 27: /* I64 */
	case 28: /* F64 */ return 8;
	}
	return 1;
}

static int place_tensor(struct gguf *g, struct gguf_tensor *t, uint64_t off, char *err,
			size_t errsz)
{
	char name[64];
	uint64_t start, end;
	printable(name, sizeof name, (const uint8_t *)t->name, t->name_len);
	if (off % g->alignment)
		return mx_fail(err, errsz, MX_ECORRUPT,
			    "tensor '%s': offset %llu is not a multiple of the alignment %u", name,
			    (unsigned long long)off, g->alignment);
	if (__builtin_add_overflow(off, (uint64_t)g->data_off, &start) ||
	    __builtin_add_overflow(start, (uint64_t)t->nbytes, &end) || end > g->len)
		return mx_fail(err, errsz, MX_ECORRUPT,
			    "tensor '%s': %zu bytes at offset %llu run past the end of the file",
			    name, t->nbytes, (unsigned long long)off);
	t->data = g->base + start;
	if ((uintptr_t)t->data % natural_align(t->type))
		return mx_fail(err, errsz, MX_ECORRUPT, "tensor '%s': %s data is misaligned", name,
			    quant_type_name(t->type));
	return 0;
}

static const struct gguf_kv *find(const struct gguf *g, const char *key)
{
	if (!g || !key)
		return NULL;
	const uint8_t *k = (const uint8_t *)key;
	size_t klen = strlen(key), lo = 0, hi = g->n_kv;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		const struct gguf_kv *kv = g->kv_sorted[mid];
		int c = cmp_name(k, klen, kv->key, kv->key_len);
		if (c == 0)
			return kv;
		if (c < 0)
			hi = mid;
		else
			lo = mid + 1;
	}
	return NULL;
}

static int parse(struct gguf *g, uint64_t **offs, char *err, size_t errsz)
{
	struct cur c = { g->base, g->len, 0, err, errsz };
	const uint8_t *magic = NULL;
	uint64_t n_tensors, n_kv;
	char name[64];
	int rc = take(&c, 4, &magic, "magic");
	if (rc)
		return rc;
	if (memcmp(magic, "GGUF", 4) != 0)
		return mx_fail(err, errsz, MX_ECORRUPT, "not a GGUF file (bad magic)");
	if ((rc = rd_u32(&c, &g->version, "version")))
		return rc;
	if (g->version == 0x02000000u || g->version == 0x03000000u)
		return mx_fail(err, errsz, MX_EUNSUPPORTED, "big-endian GGUF files are not supported");
	if (g->version != 2 && g->version != 3)
		return mx_fail(err, errsz, MX_EUNSUPPORTED, "GGUF version %u is not supported",
			    g->version);
	if ((rc = rd_u64(&c, &n_tensors, "tensor count")) || (rc = rd_u64(&c, &n_kv, "key count")))
		return rc;
	if (n_kv > MAX_KV || n_kv > left(&c) / MIN_KV_BYTES)
		return mx_fail(err, errsz, MX_ECORRUPT, "absurd key count %llu",
			    (unsigned long long)n_kv);
	if (n_tensors > MAX_TENSORS || n_tensors > left(&c) / MIN_TENSOR_BYTES)
		return mx_fail(err, errsz, MX_ECORRUPT, "absurd tensor count %llu",
			    (unsigned long long)n_tensors);

	/* key/values */
	g->kv = calloc(n_kv ? (size_t)n_kv : 1, sizeof *g->kv);
	g->kv_sorted = malloc((n_kv ? (size_t)n_kv : 1) * sizeof *g->kv_sorted);
	if (!g->kv || !g->kv_sorted)
		return mx_fail(err, errsz, MX_ENOMEM, "out of memory");
	for (size_t i = 0; i < n_kv; i++) {
		g->n_kv = i + 1; /* so that close frees what this one allocates */
		if ((rc = parse_kv(&c, &g->kv[i], i)))
			return rc;
		g->kv[i].end = c.base + c.pos;
		g->kv_sorted[i] = &g->kv[i];
	}
	qsort(g->kv_sorted, g->n_kv, sizeof *g->kv_sorted, cmp_kv);
	for (size_t i = 1; i < g->n_kv; i++)
		if (cmp_kv(&g->kv_sorted[i - 1], &g->kv_sorted[i]) == 0)
			return mx_fail(err, errsz, MX_ECORRUPT, "duplicate key '%s'",
				    printable(name, sizeof name, g->kv_sorted[i]->key,
					      g->kv_sorted[i]->key_len));
	g->alignment = DEFAULT_ALIGNMENT;
	const struct gguf_kv *al = find(g, ALIGNMENT_KEY);
	if (al) {
		if (al->type != GGUF_U32)
			return mx_fail(err, errsz, MX_ECORRUPT, ALIGNMENT_KEY " is not a u32");
		g->alignment = le32(al->val);
		if (g->alignment == 0 || (g->alignment & (g->alignment - 1)))
			return mx_fail(err, errsz, MX_ECORRUPT,
				    ALIGNMENT_KEY " %u is not a power of two", g->alignment);
	}

	/* tensor infos */
	if (n_tensors > left(&c) / MIN_TENSOR_BYTES)
		return mx_fail(err, errsz, MX_ECORRUPT, "tensor count %llu runs past the end",
			    (unsigned long long)n_tensors);
	g->t = calloc(n_tensors ? (size_t)n_tensors : 1, sizeof *g->t);
	g->t_sorted = malloc((n_tensors ? (size_t)n_tensors : 1) * sizeof *g->t_sorted);
	*offs = malloc((n_tensors ? (size_t)n_tensors : 1) * sizeof **offs);
	if (!g->t || !g->t_sorted || !*offs)
		return mx_fail(err, errsz, MX_ENOMEM, "out of memory");
	for (size_t i = 0; i < n_tensors; i++) {
		if ((rc = parse_tensor(&c, &g->t[i], &(*offs)[i])))
			return rc;
		g->t_sorted[i] = &g->t[i];
	}
	g->n_t = (size_t)n_tensors;

	/* the data section */
	size_t pad = (g->alignment - c.pos % g->alignment) % g->alignment;
	if (__builtin_add_overflow(c.pos, pad, &g->data_off))
		return mx_fail(err, errsz, MX_ECORRUPT, "data section overflows");
	for (size_t i = 0; i < g->n_t; i++)
		if ((rc = place_tensor(g, &g->t[i], (*offs)[i], err, errsz)))
			return rc;
	qsort(g->t_sorted, g->n_t, sizeof *g->t_sorted, cmp_tensor);
	for (size_t i = 1; i < g->n_t; i++)
		if (cmp_tensor(&g->t_sorted[i - 1], &g->t_sorted[i]) == 0)
			return mx_fail(err, errsz, MX_ECORRUPT, "duplicate tensor '%s'",
				    printable(name, sizeof name,
					      (const uint8_t *)g->t_sorted[i]->name,
					      g->t_sorted[i]->name_len));
	return 0;
}

/* ---- open and close --------------------------------------------------------------- */

static int open_bytes(const void *data, size_t len, void *map, struct gguf **out, char *err,
		      size_t errsz)
{
	int rc = 0;
	uint64_t *offs = NULL; /* tensor offsets, until the data section is known */
	struct gguf *g = calloc(1, sizeof *g);
	if (!g) {
		rc = mx_fail(err, errsz, MX_ENOMEM, "out of memory");
		goto out;
	}
	g->base = data;
	g->len = len;
	rc = parse(g, &offs, err, errsz);
	if (rc)
		goto out;
	g->map = map;
	*out = g;
	g = NULL;
out:
	free(offs);
	gguf_close(g); /* on failure: the map stays the caller's */
	return rc;
}

int gguf_open_memory(const void *data, size_t len, struct gguf **out, char *err, size_t errsz)
{
	if (err && errsz)
		err[0] = '\0';
	if (!out)
		return mx_fail(err, errsz, MX_EINVAL, "no handle to fill");
	*out = NULL;
	if (!data && len)
		return mx_fail(err, errsz, MX_EINVAL, "no data");
	return open_bytes(data, len, NULL, out, err, errsz);
}

int gguf_open(const char *path, struct gguf **out, char *err, size_t errsz)
{
	int rc = 0, fd = -1;
	void *map = NULL;
	size_t len = 0;
	struct stat st;
	if (err && errsz)
		err[0] = '\0';
	if (!out || !path)
		return mx_fail(err, errsz, MX_EINVAL, "no path or handle");
	*out = NULL;
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0 || fstat(fd, &st) != 0) {
		rc = mx_status_from_errno(errno);
		mx_fail(err, errsz, rc, "cannot open '%s': %s", path, mx_strerror(rc));
		goto out;
	}
	if (!S_ISREG(st.st_mode)) {
		rc = mx_fail(err, errsz, MX_ENOTREG, "'%s' is not a regular file", path);
		goto out;
	}
	if (st.st_size <= 0) {
		rc = mx_fail(err, errsz, MX_ECORRUPT, "'%s' is empty", path);
		goto out;
	}
	if ((uint64_t)st.st_size > SIZE_MAX) {
		rc = mx_fail(err, errsz, MX_ETOOBIG, "'%s' is too large to map", path);
		goto out;
	}
	len = (size_t)st.st_size;
	map = mmap(NULL, len, PROT_READ, MAP_PRIVATE, fd, 0);
	if (map == MAP_FAILED) {
		map = NULL;
		rc = errno == ENOMEM ? MX_ENOMEM : MX_EIO;
		mx_fail(err, errsz, rc, "cannot map '%s': %s", path, mx_strerror(rc));
		goto out;
	}
	rc = open_bytes(map, len, map, out, err, errsz);
	if (rc == 0)
		map = NULL; /* the handle owns it */
out:
	if (map)
		munmap(map, len);
	if (fd >= 0)
		close(fd);
	return rc;
}

void gguf_close(struct gguf *g)
{
	if (!g)
		return;
	for (size_t i = 0; g->kv && i < g->n_kv; i++)
		free(g->kv[i].str_off);
	free(g->kv);
	free(g->kv_sorted);
	free(g->t);
	free(g->t_sorted);
	if (g->map)
		munmap(g->map, g->len);
	free(g);
}

/* ---- metadata ---------------------------------------------------------------------- */

/* The key/value of key: 0, MX_ENOTFOUND, or MX_EINVAL for NULL arguments;
 * each getter then checks the type. */
static int lookup(const struct gguf *g, const char *key, const struct gguf_kv **kv)
{
	*kv = find(g, key);
	if (!*kv)
		return g && key ? MX_ENOTFOUND : MX_EINVAL;
	return 0;
}

size_t gguf_n_kv(const struct gguf *g)
{
	return g ? g->n_kv : 0;
}

const char *gguf_key_at(const struct gguf *g, size_t i, size_t *len)
{
	if (!g || i >= g->n_kv)
		return NULL;
	if (len)
		*len = g->kv[i].key_len;
	return (const char *)g->kv[i].key;
}

int gguf_kv_raw(const struct gguf *g, size_t i, uint32_t *type, const void **val, size_t *len)
{
	if (!g || i >= g->n_kv)
		return MX_EINVAL;
	const struct gguf_kv *kv = &g->kv[i];
	const uint8_t *start = kv->key + kv->key_len + 4; /* past the type field */
	*type = kv->type;
	*val = start;
	*len = (size_t)(kv->end - start);
	return 0;
}

int gguf_get_u32(const struct gguf *g, const char *key, uint32_t *v)
{
	const struct gguf_kv *kv;
	int rc = lookup(g, key, &kv);
	if (rc)
		return rc;
	if (!is_int_type(kv->type))
		return MX_EINVAL;
	struct ival x = read_int(kv->type, kv->val);
	if (x.is_signed ? (x.s < 0 || x.s > (int64_t)UINT32_MAX) : x.u > UINT32_MAX)
		return MX_EINVAL;
	*v = x.is_signed ? (uint32_t)x.s : (uint32_t)x.u;
	return 0;
}

int gguf_get_i32(const struct gguf *g, const char *key, int32_t *v)
{
	const struct gguf_kv *kv;
	int rc = lookup(g, key, &kv);
	if (rc)
		return rc;
	if (!is_int_type(kv->type) || !ival_to_i32(read_int(kv->type, kv->val), v))
		return MX_EINVAL;
	return 0;
}

int gguf_get_u64(const struct gguf *g, const char *key, uint64_t *v)
{
	const struct gguf_kv *kv;
	int rc = lookup(g, key, &kv);
	if (rc)
		return rc;
	if (!is_int_type(kv->type))
		return MX_EINVAL;
	struct ival x = read_int(kv->type, kv->val);
	if (x.is_signed && x.s < 0)
		return MX_EINVAL;
	*v = x.is_signed ? (uint64_t)x.s : x.u;
	return 0;
}

int gguf_get_f32(const struct gguf *g, const char *key, float *v)
{
	const struct gguf_kv *kv;
	int rc = lookup(g, key, &kv);
	if (rc)
		return rc;
	if (kv->type != GGUF_F32 && kv->type != GGUF_F64)
		return MX_EINVAL;
	*v = read_float(kv->type, kv->val);
	return 0;
}

int gguf_get_bool(const struct gguf *g, const char *key, bool *v)
{
	const struct gguf_kv *kv;
	int rc = lookup(g, key, &kv);
	if (rc)
		return rc;
	if (kv->type != GGUF_BOOL)
		return MX_EINVAL;
	*v = kv->val[0] != 0;
	return 0;
}

int gguf_get_str(const struct gguf *g, const char *key, const char **s, size_t *len)
{
	const struct gguf_kv *kv;
	int rc = lookup(g, key, &kv);
	if (rc)
		return rc;
	if (kv->type != GGUF_STRING)
		return MX_EINVAL;
	*s = (const char *)kv->val;
	*len = (size_t)kv->n;
	return 0;
}

int gguf_get_arr(const struct gguf *g, const char *key, enum gguf_vtype *elem, uint64_t *n)
{
	const struct gguf_kv *kv;
	int rc = lookup(g, key, &kv);
	if (rc)
		return rc;
	if (kv->type != GGUF_ARRAY)
		return MX_EINVAL;
	*elem = (enum gguf_vtype)kv->elem;
	*n = kv->n;
	return 0;
}

int gguf_get_arr_str(const struct gguf *g, const char *key, uint64_t i, const char **s, size_t *len)
{
	const struct gguf_kv *kv;
	int rc = lookup(g, key, &kv);
	if (rc)
		return rc;
	if (kv->type != GGUF_ARRAY || kv->elem != GGUF_STRING || i >= kv->n)
		return MX_EINVAL;
	const uint8_t *p = g->base + kv->str_off[i];
	*len = (size_t)le64(p);
	*s = (const char *)p + 8;
	return 0;
}

int gguf_get_arr_i32(const struct gguf *g, const char *key, int32_t *out, uint64_t n)
{
	const struct gguf_kv *kv;
	int rc = lookup(g, key, &kv);
	if (rc)
		return rc;
	if (kv->type != GGUF_ARRAY || !is_int_type(kv->elem) || n > kv->n || (n && !out))
		return MX_EINVAL;
	size_t es = scalar_size(kv->elem);
	for (uint64_t i = 0; i < n; i++)
		if (!ival_to_i32(read_int(kv->elem, kv->val + i * es), &out[i]))
			return MX_EINVAL;
	return 0;
}

int gguf_get_arr_f32(const struct gguf *g, const char *key, float *out, uint64_t n)
{
	const struct gguf_kv *kv;
	int rc = lookup(g, key, &kv);
	if (rc)
		return rc;
	if (kv->type != GGUF_ARRAY || (kv->elem != GGUF_F32 && kv->elem != GGUF_F64) || n > kv->n ||
	    (n && !out))
		return MX_EINVAL;
	size_t es = scalar_size(kv->elem);
	for (uint64_t i = 0; i < n; i++)
		out[i] = read_float(kv->elem, kv->val + i * es);
	return 0;
}

/* ---- tensors -------------------------------------------------------------------------- */

size_t gguf_n_tensors(const struct gguf *g)
{
	return g ? g->n_t : 0;
}

const struct gguf_tensor *gguf_tensor_at(const struct gguf *g, size_t i)
{
	return g && i < g->n_t ? &g->t[i] : NULL;
}

const struct gguf_tensor *gguf_tensor(const struct gguf *g, const char *name)
{
	if (!g || !name)
		return NULL;
	const uint8_t *k = (const uint8_t *)name;
	size_t klen = strlen(name), lo = 0, hi = g->n_t;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		const struct gguf_tensor *t = g->t_sorted[mid];
		int c = cmp_name(k, klen, (const uint8_t *)t->name, t->name_len);
		if (c == 0)
			return t;
		if (c < 0)
			hi = mid;
		else
			lo = mid + 1;
	}
	return NULL;
}

size_t ggml_row_size(uint32_t type, uint64_t ne0)
{
	uint32_t blck, size;
	uint64_t bytes;
	if (!quant_layout(type, &blck, &size) || ne0 % blck ||
	    __builtin_mul_overflow(ne0 / blck, (uint64_t)size, &bytes) || bytes > SIZE_MAX)
		return 0;
	return (size_t)bytes;
}

int gguf_tensor_row_f32(const struct gguf_tensor *t, uint64_t r, float *out)
{
	if (!t || !out)
		return MX_EINVAL;
	if (!quant_can_dequant(t->type))
		return MX_EUNSUPPORTED;
	if (r >= t->ne[1] * t->ne[2] * t->ne[3]) /* checked at open: no overflow */
		return MX_EINVAL;
	size_t rs = ggml_row_size(t->type, t->ne[0]);
	quant_dequant_row(t->type, (const uint8_t *)t->data + r * rs, out, t->ne[0]);
	return 0;
}

int gguf_tensor_f32(const struct gguf_tensor *t, float *out, size_t n)
{
	if (!t || !out)
		return MX_EINVAL;
	if (!quant_can_dequant(t->type))
		return MX_EUNSUPPORTED;
	uint64_t total = t->ne[0] * t->ne[1] * t->ne[2] * t->ne[3];
	if (n < total)
		return MX_EINVAL;
	quant_dequant_row(t->type, t->data, out, total);
	return 0;
}
