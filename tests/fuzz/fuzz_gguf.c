/* fuzz_gguf.c - the GGUF reader on arbitrary bytes: open, every key through
 * every getter, the first rows of every tensor dequantized (at most 4096
 * values per tensor). Whatever the reader hands out must lie inside the
 * input. */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../../common/status.h"
#include "../../engine/gguf.h"
#include "../../engine/quant.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void inside(const uint8_t *data, size_t size, const void *p, size_t len)
{
	const uint8_t *q = p;
	if (q < data || q > data + size || len > (size_t)(data + size - q))
		abort();
}

/* known: the key is one of the file's */
static void getters(const struct gguf *g, const uint8_t *data, size_t size, const char *key,
		    bool known)
{
	uint32_t u32;
	int32_t i32;
	uint64_t u64, n = 0;
	float f;
	bool b;
	const char *s;
	size_t len;
	enum gguf_vtype elem;
	gguf_get_u32(g, key, &u32);
	gguf_get_i32(g, key, &i32);
	gguf_get_u64(g, key, &u64);
	gguf_get_f32(g, key, &f);
	gguf_get_bool(g, key, &b);
	if (gguf_get_str(g, key, &s, &len) == 0)
		inside(data, size, s, len);
	int rc = gguf_get_arr(g, key, &elem, &n);
	if (rc != 0) {
		if (known && rc != MX_EINVAL)
			abort();
		return;
	}
	uint64_t m = n < 64 ? n : 64;
	for (uint64_t i = 0; i < m; i++) {
		if (gguf_get_arr_str(g, key, i, &s, &len) == 0)
			inside(data, size, s, len);
		else if (elem == GGUF_STRING)
			abort();
	}
	if (n && gguf_get_arr_str(g, key, n - 1, &s, &len) == 0)
		inside(data, size, s, len);
	if (gguf_get_arr_str(g, key, n, &s, &len) == 0)
		abort();
	int32_t iv[64];
	float fv[64];
	gguf_get_arr_i32(g, key, iv, m);
	gguf_get_arr_f32(g, key, fv, m);
	if (gguf_get_arr_i32(g, key, iv, n + 1) == 0 || gguf_get_arr_f32(g, key, fv, n + 1) == 0)
		abort();
}

static void tensors(const struct gguf *g, const uint8_t *data, size_t size)
{
	for (size_t i = 0; i < gguf_n_tensors(g); i++) {
		const struct gguf_tensor *t = gguf_tensor_at(g, i);
		inside(data, size, t->name, t->name_len);
		inside(data, size, t->data, t->nbytes);
		char name[256];
		if (t->name_len < sizeof name && !memchr(t->name, '\0', t->name_len)) {
			memcpy(name, t->name, t->name_len);
			name[t->name_len] = '\0';
			if (gguf_tensor(g, name) != t)
				abort();
		}
		if (t->n_dims < 1 || t->n_dims > 4)
			abort();
		uint64_t rows = t->ne[1] * t->ne[2] * t->ne[3];
		size_t rs = ggml_row_size(t->type, t->ne[0]);
		if (rs == 0 || rs * rows != t->nbytes)
			abort();
		float probe;
		if (!quant_can_dequant(t->type)) {
			if (gguf_tensor_row_f32(t, 0, &probe) != MX_EUNSUPPORTED)
				abort();
			continue;
		}
		if (gguf_tensor_row_f32(t, rows, &probe) != MX_EINVAL)
			abort();
		if (t->ne[0] > 4096)
			continue;
		float *row = malloc(t->ne[0] * sizeof *row);
		if (!row)
			return;
		for (uint64_t r = 0; r < rows && (r + 1) * t->ne[0] <= 4096; r++)
			if (gguf_tensor_row_f32(t, r, row) != 0)
				abort();
		free(row);
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct gguf *g = NULL;
	char err[160] = "";
	if (gguf_open_memory(data, size, &g, err, sizeof err) != 0) {
		if (g || !err[0])
			abort();
		return 0;
	}
	char key[256];
	for (size_t i = 0; i < gguf_n_kv(g); i++) {
		size_t len = 0;
		const char *k = gguf_key_at(g, i, &len);
		inside(data, size, k, len);
		if (len >= sizeof key || memchr(k, '\0', len))
			continue;
		memcpy(key, k, len);
		key[len] = '\0';
		getters(g, data, size, key, true);
	}
	getters(g, data, size, "general.alignment", false);
	getters(g, data, size, "no.such.key", false);
	tensors(g, data, size);
	gguf_close(g);
	return 0;
}
