/* vocab.c - see vocab.h. */
#include "vocab.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../common/status.h"

uint64_t eng_fnv1a(uint64_t h, const char *s, size_t len)
{
	for (size_t i = 0; i < len; i++) {
		h ^= (unsigned char)s[i];
		h *= 0x100000001b3u;
	}
	return h;
}

int32_t eng_vocab_lookup(const struct eng_vocab *v, const char *s, size_t len)
{
	size_t i = (size_t)eng_fnv1a(ENG_FNV_BASIS, s, len) & v->mask;
	for (;;) {
		int32_t id = v->slots[i];
		if (id < 0)
			return -1;
		size_t a = v->off[id], b = v->off[id + 1];
		if (b - a == len && !memcmp(v->pool + a, s, len))
			return id;
		i = (i + 1) & v->mask;
	}
}

/* Inserts id; a later duplicate replaces an earlier one. */
static void insert(struct eng_vocab *v, int32_t id)
{
	const char *s = v->pool + v->off[id];
	size_t len = v->off[id + 1] - v->off[id];
	size_t i = (size_t)eng_fnv1a(ENG_FNV_BASIS, s, len) & v->mask;
	for (;;) {
		int32_t cur = v->slots[i];
		if (cur < 0 || (v->off[cur + 1] - v->off[cur] == len &&
				!memcmp(v->pool + v->off[cur], s, len))) {
			v->slots[i] = id;
			return;
		}
		i = (i + 1) & v->mask;
	}
}

int eng_vocab_load(struct eng_vocab *v, const struct gguf *g, const char *key, size_t n, char *err,
		   size_t errsz)
{
	v->n = n;
	if (!(v->off = malloc((n + 1) * sizeof *v->off)))
		return MX_ENOMEM;
	/* the pool's size first, then the bytes */
	size_t total = 0;
	for (size_t i = 0; i < n; i++) {
		const char *s;
		size_t len;
		if (gguf_get_arr_str(g, key, i, &s, &len)) {
			snprintf(err, errsz, "token %zu of %s cannot be read", i, key);
			return MX_ECORRUPT;
		}
		if (len > SIZE_MAX / 8 - total)
			return MX_ETOOBIG;
		v->off[i] = total;
		total += len;
		if (len > v->max_len)
			v->max_len = len;
	}
	v->off[n] = total;
	if (!(v->pool = malloc(total ? total : 1)))
		return MX_ENOMEM;
	for (size_t i = 0; i < n; i++) {
		const char *s;
		size_t len;
		if (gguf_get_arr_str(g, key, i, &s, &len) || len != v->off[i + 1] - v->off[i]) {
			snprintf(err, errsz, "token %zu of %s changed while read", i, key);
			return MX_ECORRUPT;
		}
		memcpy(v->pool + v->off[i], s, len);
	}
	size_t cap = 16;
	while (cap < 2 * n)
		cap *= 2;
	v->mask = cap - 1;
	if (!(v->slots = malloc(cap * sizeof *v->slots)))
		return MX_ENOMEM;
	memset(v->slots, 0xff, cap * sizeof *v->slots);
	for (size_t i = 0; i < n; i++)
		if (v->off[i + 1] > v->off[i])
			insert(v, (int32_t)i);
	return 0;
}

void eng_vocab_clear(struct eng_vocab *v)
{
	free(v->slots);
	free(v->pool);
	free(v->off);
	memset(v, 0, sizeof *v);
}
