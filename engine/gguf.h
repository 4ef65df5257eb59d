/*
 * gguf.h - read GGUF (version 3) model files: metadata and tensors.
 *
 * Byte layout (little endian), as the file must be and as it is checked:
 *   u32 magic "GGUF"   u32 version (3)   u64 n_tensors   u64 n_kv
 *   n_kv times:        string key, u32 type, value
 *   n_tensors times:   string name, u32 n_dims (1..4), u64 ne[n_dims],
 *                      u32 ggml type, u64 offset (from the data section)
 *   padding to general.alignment (u32 metadata, default 32)
 *   data section:      tensor data at its offset, each offset aligned
 * A string is u64 length + bytes (no NUL). A value of type ARRAY is u32
 * element type + u64 count + the elements. Value types: 0 u8, 1 i8, 2 u16,
 * 3 i16, 4 u32, 5 i32, 6 f32, 7 bool, 8 string, 9 array, 10 u64, 11 i64,
 * 12 f64. Tensor ne[0] is the innermost (row) length: a matrix
 * "[in, out]" holds out rows of in values.
 *
 * The file is mmapped read-only; every length, count, offset, shape and
 * size is checked against the file before use (hostile files get an
 * error, never a crash). Strings returned point into the map and are NOT
 * NUL-terminated: use the length. Tensor data of F32/F16/BF16 (and I16..
 * F64) is naturally aligned in memory (a file that would misalign it is
 * refused), so it may be read in place. Tensor types ggml defines but the
 * engine cannot dequantize (IQ*, TQ*, ...) open, and are refused by the
 * dequantizing functions with MX_EUNSUPPORTED; type ids ggml does not
 * define are refused at open (MX_EUNSUPPORTED).
 */
#ifndef MX_GGUF_H
#define MX_GGUF_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum gguf_vtype {
	GGUF_U8 = 0,
	GGUF_I8 = 1,
	GGUF_U16 = 2,
	GGUF_I16 = 3,
	GGUF_U32 = 4,
	GGUF_I32 = 5,
	GGUF_F32 = 6,
	GGUF_BOOL = 7,
	GGUF_STRING = 8,
	GGUF_ARRAY = 9,
	GGUF_U64 = 10,
	GGUF_I64 = 11,
	GGUF_F64 = 12,
};

/* ggml tensor types the engine knows (others are refused on use). */
enum ggml_type {
	GGML_F32 = 0,
	GGML_F16 = 1,
	GGML_Q4_0 = 2,
	GGML_Q4_1 = 3,
	GGML_Q5_0 = 6,
	GGML_Q5_1 = 7,
	GGML_Q8_0 = 8,
	GGML_Q8_1 = 9,
	GGML_Q2_K = 10,
	GGML_Q3_K = 11,
	GGML_Q4_K = 12,
	GGML_Q5_K = 13,
	GGML_Q6_K = 14,
	GGML_Q8_K = 15,
	GGML_BF16 = 30,
};

struct gguf;

struct gguf_tensor {
	const char *name; /* into the map, name_len bytes */
	size_t name_len;
	uint32_t type; /* enum ggml_type */
	int n_dims;
	uint64_t ne[4];	  /* ne[0] innermost; unused dims are 1 */
	const void *data; /* into the map */
	size_t nbytes;
};

/* Opens and validates path. 0, or MX_ENOTFOUND/MX_EPERM/MX_EIO (reading),
 * MX_ECORRUPT (malformed: the reason in err), MX_EUNSUPPORTED (another
 * version), MX_ENOMEM. *out is NULL on failure. */
int gguf_open(const char *path, struct gguf **out, char *err, size_t errsz);
/* The same over bytes already in memory (borrowed; must outlive the
 * handle): for tests and the fuzz target. */
int gguf_open_memory(const void *data, size_t len, struct gguf **out, char *err, size_t errsz);
void gguf_close(struct gguf *g); /* NULL is fine */

/* ---- metadata: 0, MX_ENOTFOUND (no key), MX_EINVAL (another type) ---- */
int gguf_get_u32(const struct gguf *g, const char *key, uint32_t *v); /* also from u8/u16/i32>=0 */
int gguf_get_i32(const struct gguf *g, const char *key, int32_t *v);
int gguf_get_u64(const struct gguf *g, const char *key, uint64_t *v);
int gguf_get_f32(const struct gguf *g, const char *key, float *v); /* also from f64 */
int gguf_get_bool(const struct gguf *g, const char *key, bool *v);
int gguf_get_str(const struct gguf *g, const char *key, const char **s, size_t *len);
/* The key/values in file order: their number, and the key of the i-th
 * (into the map, *len bytes, not NUL-terminated; NULL when i is past the
 * end). For listing metadata and for the fuzz target. */
size_t gguf_n_kv(const struct gguf *g);
const char *gguf_key_at(const struct gguf *g, size_t i, size_t *len);
/* The i-th key/value as the file encodes it: its type and the bytes of
 * its value after the type field (a string's u64 length and bytes; an
 * array's element type, count and elements), into the map. For copying
 * key/values to another file (gguf_write.h). 0, or MX_EINVAL past the
 * end. */
int gguf_kv_raw(const struct gguf *g, size_t i, uint32_t *type, const void **val, size_t *len);
/* An array: its element type and count. */
int gguf_get_arr(const struct gguf *g, const char *key, enum gguf_vtype *elem, uint64_t *n);
/* Element i of a string array. */
int gguf_get_arr_str(const struct gguf *g, const char *key, uint64_t i, const char **s,
		     size_t *len);
/* Elements of a numeric array converted: i32 (from any integer type),
 * f32 (from f32/f64). out holds n: the first n elements (n above the count,
 * or a value out of the i32 range, is MX_EINVAL). */
int gguf_get_arr_i32(const struct gguf *g, const char *key, int32_t *out, uint64_t n);
int gguf_get_arr_f32(const struct gguf *g, const char *key, float *out, uint64_t n);

/* ---- tensors ------------------------------------------------------------ */
size_t gguf_n_tensors(const struct gguf *g);
const struct gguf_tensor *gguf_tensor_at(const struct gguf *g, size_t i);
/* By name, or NULL. */
const struct gguf_tensor *gguf_tensor(const struct gguf *g, const char *name);
/* Bytes of one row of ne0 values of a type (block-quantized types need ne0
 * to be a multiple of the block); 0 for an unknown type. */
size_t ggml_row_size(uint32_t type, uint64_t ne0);
/* Row r of a 2-D tensor as floats (dequantized): out holds ne[0]. */
int gguf_tensor_row_f32(const struct gguf_tensor *t, uint64_t r, float *out);
/* The whole tensor as floats: out holds ne0*ne1*ne2*ne3. */
int gguf_tensor_f32(const struct gguf_tensor *t, float *out, size_t n);

#endif
