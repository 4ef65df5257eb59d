/*
 * gguf_write.h - write GGUF (version 3) files, the layout gguf.h reads,
 * with the tensor data streamed to disk (a model is never held whole in
 * memory).
 *
 * Use:
 *   gguf_writer_new(&w)
 *   gguf_writer_kv_*(w, ...)          key/values, in file order
 *   gguf_writer_tensor(w, ...)        the tensor table, in data order
 *   gguf_writer_begin(w, path)        writes the header to a temporary file
 *                                     beside path (mode 0600)
 *   gguf_writer_data(w, bytes, n)...  the tensors' bytes, in table order,
 *                                     in pieces of any size; the padding
 *                                     between tensors is added here
 *   gguf_writer_finish(w)             checks that every byte came, syncs and
 *                                     renames the file to path
 *   gguf_writer_free(w)               (an unfinished file is removed)
 * Data offsets are aligned to 32 bytes (GGUF_WRITE_ALIGNMENT, what
 * llama.cpp's gguf-py writes); general.alignment is written where the
 * caller puts it (gguf_writer_kv_u32 with that value) or else last.
 * kv_copy skips the source's general.alignment. The calls before begin only
 * build memory: their first error sticks and comes back from every later
 * call, so that a list of kv calls needs one check at its end.
 */
#ifndef MX_GGUF_WRITE_H
#define MX_GGUF_WRITE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "gguf.h"

#define GGUF_WRITE_ALIGNMENT 32

struct gguf_writer;

/* 0 or MX_ENOMEM (*out NULL). */
int gguf_writer_new(struct gguf_writer **out);
/* Removes the temporary file of an unfinished write. NULL is fine. */
void gguf_writer_free(struct gguf_writer *w);
/* Why the last call failed ("" when none did). Borrowed. */
const char *gguf_writer_errmsg(const struct gguf_writer *w);

/* ---- key/values: 0, or the sticky error (MX_ENOMEM, MX_ETOOBIG past a
 * 1 GiB header, MX_EINVAL for misuse: a key after begin, an array left
 * short) ---- */
int gguf_writer_kv_u32(struct gguf_writer *w, const char *key, uint32_t v);
int gguf_writer_kv_f32(struct gguf_writer *w, const char *key, float v);
int gguf_writer_kv_bool(struct gguf_writer *w, const char *key, bool v);
int gguf_writer_kv_str(struct gguf_writer *w, const char *key, const char *s);
/* An array of n elements of type elem (GGUF_STRING, GGUF_I32, GGUF_F32),
 * then exactly n calls of the matching gguf_writer_arr_*. */
int gguf_writer_arr_begin(struct gguf_writer *w, const char *key, enum gguf_vtype elem,
			  uint64_t n);
int gguf_writer_arr_str(struct gguf_writer *w, const char *s, size_t len);
int gguf_writer_arr_i32(struct gguf_writer *w, int32_t v);
int gguf_writer_arr_f32(struct gguf_writer *w, float v);
/* Copies the i-th key/value of an open file, as it is (any type). */
int gguf_writer_kv_copy(struct gguf_writer *w, const struct gguf *src, size_t i);

/* ---- tensors ---- */
/* Adds a tensor of type (enum ggml_type) and shape ne[0..n_dims-1] (ne[0]
 * innermost, a multiple of the type's block). MX_EINVAL for a bad shape or
 * type, a name over 64 bytes or a duplicate one (checked at begin). */
int gguf_writer_tensor(struct gguf_writer *w, const char *name, uint32_t type, int n_dims,
		       const uint64_t *ne);
/* Bytes of the tensor data of the table so far (padding included): the
 * size of the file is about this plus the header. */
uint64_t gguf_writer_data_size(const struct gguf_writer *w);

/* Creates the temporary file beside path and writes the header: 0,
 * MX_EPERM/MX_ENOTFOUND/MX_EIO (with the reason), or the sticky error. */
int gguf_writer_begin(struct gguf_writer *w, const char *path);
/* The next n bytes of tensor data. MX_EINVAL past the last tensor's end,
 * MX_EIO. */
int gguf_writer_data(struct gguf_writer *w, const void *data, size_t n);
/* The bytes still expected for the current tensor (0 after the last). */
uint64_t gguf_writer_data_left(const struct gguf_writer *w);
/* MX_EINVAL when data is missing; MX_EIO; else the file is in place. */
int gguf_writer_finish(struct gguf_writer *w);

#endif
