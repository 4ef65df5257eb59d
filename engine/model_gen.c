/*
 * model_gen.c - random-weight GGUF models of real shapes (model_gen.h).
 *
 * Outline of eng_model_gen():
 *   1. the shape and type are looked up; the tensor list is built with each
 *      tensor's ggml type (pick_type: llama-quantize's choices);
 *   2. the key/values: general.*, <arch>.* hyper-parameters, tokenizer.*
 *      (copied from the vocabulary file and padded, or a placeholder);
 *   3. the header is written, then each tensor's data in ~1 MiB pieces of
 *      random blocks, through the streaming GGUF writer.
 */
#include "model_gen.h"

#include <math.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../common/status.h"
#include "gguf.h"
#include "gguf_write.h"
#include "quant.h"

#define PIECE_BYTES (1u << 20)
#define MAX_GEN_TENSORS 1024

/* ---- shapes ----------------------------------------------------------------------------- */

enum gen_arch { ARCH_BERT, ARCH_LLAMA, ARCH_QWEN2 };

struct gen_shape {
	const char *name;
	enum gen_arch arch;
	uint32_t n_layer, n_embd, n_head, n_head_kv, n_ff, n_ctx, n_vocab;
	float rope_theta, eps;
	const char *title; /* for general.name */
};

static const struct gen_shape shapes[] = {
	{ "minilm", ARCH_BERT, 6, 384, 12, 12, 1536, 512, 30522, 0, 1e-12f, "all-MiniLM-L6-v2" },
	{ "smollm2-135m", ARCH_LLAMA, 30, 576, 9, 3, 1536, 8192, 49152, 1e5f, 1e-5f,
	  "SmolLM2-135M" },
	{ "smollm2-360m", ARCH_LLAMA, 32, 960, 15, 5, 2560, 8192, 49152, 1e5f, 1e-5f,
	  "SmolLM2-360M" },
	{ "qwen2.5-0.5b", ARCH_QWEN2, 24, 896, 14, 2, 4864, 32768, 151936, 1e6f, 1e-6f,
	  "Qwen2.5-0.5B" },
	{ "bert-tiny", ARCH_BERT, 2, 128, 4, 4, 256, 128, 1024, 0, 1e-12f, "bert-tiny" },
	{ "llama-tiny", ARCH_LLAMA, 2, 256, 4, 2, 512, 256, 1024, 1e4f, 1e-5f, "llama-tiny" },
	{ "qwen2-tiny", ARCH_QWEN2, 2, 128, 4, 2, 256, 256, 1024, 1e6f, 1e-6f, "qwen2-tiny" },
};

static const char *const shape_names[] = { "minilm",	 "smollm2-135m", "smollm2-360m",
					   "qwen2.5-0.5b", "bert-tiny",	 "llama-tiny",
					   "qwen2-tiny",   NULL };

enum ftype { FT_F32, FT_F16, FT_Q8_0, FT_Q4_0, FT_Q4_K_M };

static const struct {
	const char *name;
	enum ftype ft;
	uint32_t file_type; /* llama_ftype */
} types[] = {
	{ "f32", FT_F32, 0 },  { "f16", FT_F16, 1 },	  { "q8_0", FT_Q8_0, 7 },
	{ "q4_0", FT_Q4_0, 2 }, { "q4_k_m", FT_Q4_K_M, 15 },
};

static const char *const type_names[] = { "f32", "f16", "q8_0", "q4_0", "q4_k_m", NULL };

const char *const *eng_gen_shapes(void)
{
	return shape_names;
}

const char *const *eng_gen_types(void)
{
	return type_names;
}

struct eng_model_gen_params eng_model_gen_params_default(void)
{
	struct eng_model_gen_params p = { .shape = "minilm", .type = "f32", .seed = 1 };
	return p;
}

/* ---- the tensor list and its types ---------------------------------------------------------- */

enum role {
	R_OUTPUT, /* the output matrix: token_embd of a tied model (and BERT's) */
	R_MATRIX, /* a plain weight matrix */
	R_ATTN_V,
	R_FFN_DOWN,
	R_FLOAT,  /* kept F32: position/type embeddings */
	R_NORM,	  /* 1-D, 1 + noise */
	R_BIAS,	  /* 1-D, noise */
};

struct gtensor {
	char name[64];
	enum role role;
	int layer;
	int n_dims;
	uint64_t ne[2];
	uint32_t type;
};

/* llama.cpp's use_more_bits(): the layers where Q4_K_M spends Q6_K. */
static bool use_more_bits(int i, int n)
{
	return i < n / 8 || i >= 7 * n / 8 || (i - n / 8) % 3 == 2;
}

static uint32_t pick_type(enum ftype ft, const struct gtensor *t, int n_layer)
{
	if (t->n_dims == 1 || t->role == R_FLOAT || t->role == R_NORM || t->role == R_BIAS)
		return GGML_F32;
	uint32_t type;
	switch (ft) {
	case FT_F32:
		return GGML_F32;
	case FT_F16:
		return GGML_F16;
	case FT_Q8_0:
		return GGML_Q8_0;
	case FT_Q4_0:
		type = t->role == R_OUTPUT ? GGML_Q6_K : GGML_Q4_0;
		break;
	default: /* FT_Q4_K_M */
		type = GGML_Q4_K;
		if (t->role == R_OUTPUT ||
		    ((t->role == R_ATTN_V || t->role == R_FFN_DOWN) &&
		     use_more_bits(t->layer, n_layer)))
			type = GGML_Q6_K;
		break;
	}
	/* llama-quantize's fallback for rows K-quants cannot hold */
	if (t->ne[0] % 256) {
		if (type == GGML_Q4_K)
			type = GGML_Q5_0;
		else if (type == GGML_Q6_K)
			type = GGML_Q8_0;
	}
	return type;
}

static void add(struct gtensor *t, size_t *n, enum role role, int layer, uint64_t ne0,
		uint64_t ne1, const char *fmt, ...) __attribute__((format(printf, 7, 8)));
static void add(struct gtensor *t, size_t *n, enum role role, int layer, uint64_t ne0,
		uint64_t ne1, const char *fmt, ...)
{
	struct gtensor *g = &t[(*n)++];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(g->name, sizeof g->name, fmt, ap);
	va_end(ap);
	g->role = role;
	g->layer = layer;
	g->n_dims = ne1 ? 2 : 1;
	g->ne[0] = ne0;
	g->ne[1] = ne1 ? ne1 : 1;
}

/* The tensors of a shape, in the order the converters write them. */
static size_t tensor_list(const struct gen_shape *s, struct gtensor *t)
{
	size_t n = 0;
	uint64_t d = s->n_embd, ff = s->n_ff, dkv = (uint64_t)s->n_embd / s->n_head * s->n_head_kv;
	if (s->arch == ARCH_BERT) {
		add(t, &n, R_OUTPUT, 0, d, s->n_vocab, "token_embd.weight");
		add(t, &n, R_FLOAT, 0, d, 2, "token_types.weight");
		add(t, &n, R_FLOAT, 0, d, s->n_ctx, "position_embd.weight");
		add(t, &n, R_NORM, 0, d, 0, "token_embd_norm.weight");
		add(t, &n, R_BIAS, 0, d, 0, "token_embd_norm.bias");
		for (int l = 0; l < (int)s->n_layer; l++) {
			static const char *const qkvo[] = { "q", "k", "v", "output" };
			for (int i = 0; i < 4; i++) {
				add(t, &n, i == 2 ? R_ATTN_V : R_MATRIX, l, d, d,
				    "blk.%d.attn_%s.weight", l, qkvo[i]);
				add(t, &n, R_BIAS, l, d, 0, "blk.%d.attn_%s.bias", l, qkvo[i]);
			}
			add(t, &n, R_NORM, l, d, 0, "blk.%d.attn_output_norm.weight", l);
			add(t, &n, R_BIAS, l, d, 0, "blk.%d.attn_output_norm.bias", l);
			add(t, &n, R_MATRIX, l, d, ff, "blk.%d.ffn_up.weight", l);
			add(t, &n, R_BIAS, l, ff, 0, "blk.%d.ffn_up.bias", l);
			add(t, &n, R_FFN_DOWN, l, ff, d, "blk.%d.ffn_down.weight", l);
			add(t, &n, R_BIAS, l, d, 0, "blk.%d.ffn_down.bias", l);
			add(t, &n, R_NORM, l, d, 0, "blk.%d.layer_output_norm.weight", l);
			add(t, &n, R_BIAS, l, d, 0, "blk.%d.layer_output_norm.bias", l);
		}
		return n;
	}
	add(t, &n, R_OUTPUT, 0, d, s->n_vocab, "token_embd.weight"); /* tied */
	for (int l = 0; l < (int)s->n_layer; l++) {
		add(t, &n, R_NORM, l, d, 0, "blk.%d.attn_norm.weight", l);
		add(t, &n, R_MATRIX, l, d, d, "blk.%d.attn_q.weight", l);
		add(t, &n, R_MATRIX, l, d, dkv, "blk.%d.attn_k.weight", l);
		add(t, &n, R_ATTN_V, l, d, dkv, "blk.%d.attn_v.weight", l);
		if (s->arch == ARCH_QWEN2) {
			add(t, &n, R_BIAS, l, d, 0, "blk.%d.attn_q.bias", l);
			add(t, &n, R_BIAS, l, dkv, 0, "blk.%d.attn_k.bias", l);
			add(t, &n, R_BIAS, l, dkv, 0, "blk.%d.attn_v.bias", l);
		}
		add(t, &n, R_MATRIX, l, d, d, "blk.%d.attn_output.weight", l);
		add(t, &n, R_NORM, l, d, 0, "blk.%d.ffn_norm.weight", l);
		add(t, &n, R_MATRIX, l, d, ff, "blk.%d.ffn_gate.weight", l);
		add(t, &n, R_MATRIX, l, d, ff, "blk.%d.ffn_up.weight", l);
		add(t, &n, R_FFN_DOWN, l, ff, d, "blk.%d.ffn_down.weight", l);
	}
	add(t, &n, R_NORM, 0, d, 0, "output_norm.weight");
	return n;
}

/* ---- random numbers and blocks ------------------------------------------------------------- */

/* splitmix64: fast, and good enough for weights nobody trains */
static uint64_t rnd(uint64_t *s)
{
	uint64_t z = (*s += 0x9e3779b97f4a7c15u);
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9u;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebu;
	return z ^ (z >> 31);
}

/* About N(0, 1): the sum of four uniforms (Irwin-Hall), centred and scaled. */
static float normal(uint64_t *s)
{
	uint64_t r = rnd(s);
	uint32_t sum = (uint32_t)(r & 0xffff) + (uint32_t)((r >> 16) & 0xffff) +
		       (uint32_t)((r >> 32) & 0xffff) + (uint32_t)(r >> 48);
	return ((float)sum - 2.0f * 65535.0f) * (1.7320508f / 65536.0f);
}

static void put16(unsigned char *p, uint16_t v)
{
	p[0] = (unsigned char)v;
	p[1] = (unsigned char)(v >> 8);
}

static void fill_bytes(uint64_t *s, unsigned char *p, size_t n)
{
	while (n >= 8) {
		uint64_t r = rnd(s);
		memcpy(p, &r, 8);
		p += 8;
		n -= 8;
	}
	if (n) {
		uint64_t r = rnd(s);
		memcpy(p, &r, n);
	}
}

/* Standard deviations of the quant values of uniformly random quants. */
#define SD_Q8 73.6f  /* -127..127 */
#define SD_Q4 4.61f  /* -8..7 */
#define SD_Q5 9.23f  /* -16..15 */
#define SD_Q6 18.47f /* -32..31 */

/* One random block of type at p, values of standard deviation sd. */
static void random_block(uint32_t type, uint64_t *s, float sd, unsigned char *p)
{
	switch (type) {
	case GGML_Q8_0:
		put16(p, quant_f32_to_f16(sd / SD_Q8));
		fill_bytes(s, p + 2, 32);
		for (int i = 0; i < 32; i++)
			if (p[2 + i] == 0x80) /* -128 is outside the symmetric range */
				p[2 + i] = 0x81;
		break;
	case GGML_Q4_0: /* q - 8 averages -0.5: a random sign of d centres it */
		put16(p, quant_f32_to_f16((rnd(s) & 1 ? sd : -sd) / SD_Q4));
		fill_bytes(s, p + 2, 16);
		break;
	case GGML_Q5_0:
		put16(p, quant_f32_to_f16((rnd(s) & 1 ? sd : -sd) / SD_Q5));
		fill_bytes(s, p + 2, 20);
		break;
	case GGML_Q4_K: {
		/* value = d * sc * q - dmin * m with q uniform 0..15: m = sc * 7.5 / 8
		 * and dmin = 8 d centre it; sc in 32..63 */
		uint8_t sc[8], m[8];
		uint64_t r = rnd(s);
		for (int j = 0; j < 8; j++) {
			sc[j] = (uint8_t)(32 + ((r >> (5 * j)) & 31));
			m[j] = (uint8_t)((sc[j] * 15 + 8) / 16);
		}
		float d = sd / (SD_Q4 * 47.5f);
		put16(p, quant_f32_to_f16(d));
		put16(p + 2, quant_f32_to_f16(8 * d));
		unsigned char *q = p + 4;
		for (int j = 0; j < 4; j++) {
			q[j] = (unsigned char)((sc[j] & 63) | (sc[j + 4] >> 4) << 6);
			q[j + 4] = (unsigned char)((m[j] & 63) | (m[j + 4] >> 4) << 6);
			q[j + 8] = (unsigned char)((sc[j + 4] & 15) | (m[j + 4] & 15) << 4);
		}
		fill_bytes(s, p + 16, 128);
		break;
	}
	case GGML_Q6_K: {
		/* value = d * scale * (q - 32), scales +-(64..127) (the sign
		 * centres q - 32, which averages -0.5) */
		fill_bytes(s, p, 192); /* ql, qh */
		uint64_t r0 = rnd(s), r1 = rnd(s);
		for (int i = 0; i < 16; i++) {
			uint64_t r = (i < 8 ? r0 : r1) >> (8 * (i % 8));
			int sc = 64 + (int)(r & 63);
			p[192 + i] = (unsigned char)(int8_t)(r & 64 ? -sc : sc);
		}
		put16(p + 208, quant_f32_to_f16(sd / (SD_Q6 * 95.5f)));
		break;
	}
	default:
		break;
	}
}

/* Fills n values of tensor t (of role, type) starting at value first into
 * buf; bytes written. n and first are multiples of the block. */
static size_t random_values(const struct gtensor *t, uint64_t *s, uint64_t n, unsigned char *buf)
{
	uint32_t blck, bsize;
	quant_layout(t->type, &blck, &bsize);
	float sd = 0.02f, mean = t->role == R_NORM ? 1.0f : 0.0f;
	if (t->type == GGML_F32) {
		for (uint64_t i = 0; i < n; i++) {
			float v = mean + sd * normal(s);
			memcpy(buf + 4 * i, &v, 4);
		}
		return (size_t)n * 4;
	}
	if (t->type == GGML_F16) {
		for (uint64_t i = 0; i < n; i++)
			put16(buf + 2 * i, quant_f32_to_f16(mean + sd * normal(s)));
		return (size_t)n * 2;
	}
	for (uint64_t b = 0; b < n / blck; b++)
		random_block(t->type, s, sd, buf + b * bsize);
	return (size_t)(n / blck * bsize);
}

/* ---- the tokenizer ---------------------------------------------------------------------- */

static bool key_is(const char *k, size_t len, const char *want)
{
	return strlen(want) == len && !memcmp(k, want, len);
}

/* tokenizer.* of the vocabulary file, tokens and token types padded to
 * n_vocab ("[PAD<i>]", type 5 UNUSED; scores, if any, with 0). */
static int copy_vocab(struct gguf_writer *w, const char *path, uint32_t n_vocab, char *err,
		      size_t errsz)
{
	struct gguf *g = NULL;
	enum gguf_vtype elem;
	uint64_t n_tok = 0;
	int32_t *ti = NULL;
	float *tf = NULL;
	char e[256];
	int rc = gguf_open(path, &g, e, sizeof e);
	if (rc)
		return mx_fail(err, errsz, rc, "cannot read the vocabulary '%s': %s", path, e);
	if (gguf_get_arr(g, "tokenizer.ggml.tokens", &elem, &n_tok) || elem != GGUF_STRING) {
		rc = mx_fail(err, errsz, MX_ECORRUPT, "'%s' has no tokenizer.ggml.tokens", path);
		goto out;
	}
	if (n_tok > n_vocab) {
		rc = mx_fail(err, errsz, MX_EUNSUPPORTED,
			  "'%s' has %llu tokens, more than the shape's %u", path,
			  (unsigned long long)n_tok, n_vocab);
		goto out;
	}
	for (size_t i = 0; i < gguf_n_kv(g); i++) {
		size_t klen;
		const char *k = gguf_key_at(g, i, &klen);
		if (klen < 10 || memcmp(k, "tokenizer.", 10))
			continue;
		bool tokens = key_is(k, klen, "tokenizer.ggml.tokens"),
		     ttype = key_is(k, klen, "tokenizer.ggml.token_type"),
		     scores = key_is(k, klen, "tokenizer.ggml.scores");
		if (n_tok == n_vocab || !(tokens || ttype || scores)) {
			gguf_writer_kv_copy(w, g, i);
			continue;
		}
		char key[32];
		snprintf(key, sizeof key, "%.*s", (int)klen, k);
		uint64_t n;
		if (gguf_get_arr(g, key, &elem, &n) || n != n_tok ||
		    (tokens ? elem != GGUF_STRING : elem == GGUF_STRING)) {
			rc = mx_fail(err, errsz, MX_ECORRUPT, "'%s': %s is not of the tokens", path,
				  key);
			goto out;
		}
		gguf_writer_arr_begin(w, key, tokens ? GGUF_STRING : ttype ? GGUF_I32 : GGUF_F32,
				      n_vocab);
		if (tokens) {
			for (uint64_t t = 0; t < n_tok; t++) {
				const char *s;
				size_t len;
				gguf_get_arr_str(g, key, t, &s, &len);
				gguf_writer_arr_str(w, s, len);
			}
			for (uint64_t t = n_tok; t < n_vocab; t++) {
				char pad[32];
				int len = snprintf(pad, sizeof pad, "[PAD%llu]", (unsigned long long)t);
				gguf_writer_arr_str(w, pad, (size_t)len);
			}
		} else if (ttype) {
			if (!(ti = malloc((size_t)n_tok * sizeof *ti)) ||
			    gguf_get_arr_i32(g, key, ti, n_tok)) {
				rc = mx_fail(err, errsz, ti ? MX_ECORRUPT : MX_ENOMEM,
					  "'%s': cannot read %s", path, key);
				goto out;
			}
			for (uint64_t t = 0; t < n_vocab; t++)
				gguf_writer_arr_i32(w, t < n_tok ? ti[t] : 5 /* UNUSED */);
		} else {
			if (!(tf = malloc((size_t)n_tok * sizeof *tf)) ||
			    gguf_get_arr_f32(g, key, tf, n_tok)) {
				rc = mx_fail(err, errsz, tf ? MX_ECORRUPT : MX_ENOMEM,
					  "'%s': cannot read %s", path, key);
				goto out;
			}
			for (uint64_t t = 0; t < n_vocab; t++)
				gguf_writer_arr_f32(w, t < n_tok ? tf[t] : 0.0f);
		}
	}
out:
	free(ti);
	free(tf);
	gguf_close(g);
	return rc;
}

/* A placeholder WordPiece vocabulary of n tokens (n >= 300): [PAD],
 * [unused0..98], [UNK], [CLS], [SEP], [MASK] at BERT's ids, the printable
 * ASCII characters and "##" + each, then "[unused<i>]". */
static void placeholder_wordpiece(struct gguf_writer *w, uint32_t n)
{
	char s[32];
	int len;
	gguf_writer_kv_str(w, "tokenizer.ggml.model", "bert");
	gguf_writer_kv_u32(w, "tokenizer.ggml.token_type_count", 2);
	gguf_writer_arr_begin(w, "tokenizer.ggml.tokens", GGUF_STRING, n);
	for (uint32_t i = 0; i < n; i++) {
		static const char *const special[] = { "[UNK]", "[CLS]", "[SEP]", "[MASK]" };
		uint32_t c = i >= 104 ? (i - 104) % 94 + 33 : 0; /* '!' .. '~' */
		if (i == 0)
			len = snprintf(s, sizeof s, "[PAD]");
		else if (i < 100)
			len = snprintf(s, sizeof s, "[unused%u]", i - 1);
		else if (i < 104)
			len = snprintf(s, sizeof s, "%s", special[i - 100]);
		else if (i < 104 + 94 && !(c >= 'A' && c <= 'Z'))
			len = snprintf(s, sizeof s, "%c", (char)c);
		else if (i < 104 + 2 * 94 && !(c >= 'A' && c <= 'Z'))
			len = snprintf(s, sizeof s, "##%c", (char)c);
		else
			len = snprintf(s, sizeof s, "[unused%u]", i);
		gguf_writer_arr_str(w, s, (size_t)len);
	}
	gguf_writer_arr_begin(w, "tokenizer.ggml.token_type", GGUF_I32, n);
	for (uint32_t i = 0; i < n; i++)
		gguf_writer_arr_i32(w, i == 0 || (i >= 100 && i < 104) ? 3 : 1);
	gguf_writer_kv_u32(w, "tokenizer.ggml.unknown_token_id", 100);
	gguf_writer_kv_u32(w, "tokenizer.ggml.seperator_token_id", 102);
	gguf_writer_kv_u32(w, "tokenizer.ggml.padding_token_id", 0);
	gguf_writer_kv_u32(w, "tokenizer.ggml.cls_token_id", 101);
	gguf_writer_kv_u32(w, "tokenizer.ggml.mask_token_id", 103);
}

/* A placeholder byte-level BPE vocabulary of n tokens (n > 257): the 256
 * bytes as GPT-2 spells them (printable bytes as themselves, the others as
 * U+0100 + their rank), <|endoftext|>, then "[PAD<i>]"; no merges. */
static void placeholder_bpe(struct gguf_writer *w, uint32_t n)
{
	gguf_writer_kv_str(w, "tokenizer.ggml.model", "gpt2");
	gguf_writer_kv_str(w, "tokenizer.ggml.pre", "gpt-2");
	gguf_writer_arr_begin(w, "tokenizer.ggml.tokens", GGUF_STRING, n);
	uint32_t other = 0;
	for (uint32_t i = 0; i < n; i++) {
		char s[32];
		int len;
		if (i < 256) {
			uint32_t cp = (i >= 33 && i <= 126) || (i >= 161 && i <= 172) || i >= 174
					      ? i
					      : 256 + other++;
			if (cp < 128) {
				s[0] = (char)cp;
				len = 1;
			} else { /* two UTF-8 bytes: cp < 0x800 */
				s[0] = (char)(0xc0 | (cp >> 6));
				s[1] = (char)(0x80 | (cp & 63));
				len = 2;
			}
		} else if (i == 256) {
			len = snprintf(s, sizeof s, "<|endoftext|>");
		} else {
			len = snprintf(s, sizeof s, "[PAD%u]", i);
		}
		gguf_writer_arr_str(w, s, (size_t)len);
	}
	gguf_writer_arr_begin(w, "tokenizer.ggml.token_type", GGUF_I32, n);
	for (uint32_t i = 0; i < n; i++)
		gguf_writer_arr_i32(w, i < 256 ? 1 : i == 256 ? 3 : 5);
	gguf_writer_arr_begin(w, "tokenizer.ggml.merges", GGUF_STRING, 0);
	gguf_writer_kv_u32(w, "tokenizer.ggml.bos_token_id", 256);
	gguf_writer_kv_u32(w, "tokenizer.ggml.eos_token_id", 256);
}

/* ---- the key/values ------------------------------------------------------------------------ */

static void arch_kv(struct gguf_writer *w, const struct gen_shape *s, const char *arch)
{
	char k[96];
#define KEY(suffix) (snprintf(k, sizeof k, "%s." suffix, arch), k)
	gguf_writer_kv_u32(w, KEY("context_length"), s->n_ctx);
	gguf_writer_kv_u32(w, KEY("embedding_length"), s->n_embd);
	gguf_writer_kv_u32(w, KEY("block_count"), s->n_layer);
	gguf_writer_kv_u32(w, KEY("feed_forward_length"), s->n_ff);
	gguf_writer_kv_u32(w, KEY("attention.head_count"), s->n_head);
	if (s->arch == ARCH_BERT) {
		gguf_writer_kv_f32(w, KEY("attention.layer_norm_epsilon"), s->eps);
		gguf_writer_kv_bool(w, KEY("attention.causal"), false);
		gguf_writer_kv_u32(w, KEY("pooling_type"), 1); /* mean */
	} else {
		gguf_writer_kv_u32(w, KEY("attention.head_count_kv"), s->n_head_kv);
		gguf_writer_kv_f32(w, KEY("attention.layer_norm_rms_epsilon"), s->eps);
		gguf_writer_kv_f32(w, KEY("rope.freq_base"), s->rope_theta);
		gguf_writer_kv_u32(w, KEY("rope.dimension_count"), s->n_embd / s->n_head);
		gguf_writer_kv_u32(w, KEY("vocab_size"), s->n_vocab);
	}
#undef KEY
}

/* ---- eng_model_gen ---------------------------------------------------------------------- */

int eng_model_gen(const struct eng_model_gen_params *p, const char *out, char *err, size_t errsz)
{
	const struct gen_shape *s = NULL;
	int ti = -1, rc = 0;
	struct gguf_writer *w = NULL;
	struct gtensor *t = NULL;
	unsigned char *buf = NULL;
	if (err && errsz)
		err[0] = '\0';
	for (size_t i = 0; p->shape && i < sizeof shapes / sizeof *shapes; i++)
		if (!strcmp(p->shape, shapes[i].name))
			s = &shapes[i];
	for (int i = 0; p->type && i < (int)(sizeof types / sizeof *types); i++)
		if (!strcmp(p->type, types[i].name))
			ti = i;
	if (!s)
		return mx_fail(err, errsz, MX_EINVAL, "unknown shape '%s'", p->shape ? p->shape : "");
	if (ti < 0)
		return mx_fail(err, errsz, MX_EINVAL, "unknown type '%s'", p->type ? p->type : "");
	const char *arch = s->arch == ARCH_BERT ? "bert" : s->arch == ARCH_LLAMA ? "llama" : "qwen2";

	if (!(t = calloc(MAX_GEN_TENSORS, sizeof *t)) || !(buf = malloc(PIECE_BYTES + 4096)) ||
	    gguf_writer_new(&w)) {
		rc = mx_fail(err, errsz, MX_ENOMEM, "out of memory");
		goto out;
	}
	size_t nt = tensor_list(s, t);
	for (size_t i = 0; i < nt; i++)
		t[i].type = pick_type(types[ti].ft, &t[i], (int)s->n_layer);

	char text[160];
	gguf_writer_kv_str(w, "general.architecture", arch);
	snprintf(text, sizeof text, "%s-shaped random (memex model gen, seed %llu)", s->title,
		 (unsigned long long)p->seed);
	gguf_writer_kv_str(w, "general.name", text);
	gguf_writer_kv_str(w, "general.description",
			   "random weights in a real model's shape, for speed measurements; "
			   "not a trained model");
	gguf_writer_kv_u32(w, "general.alignment", GGUF_WRITE_ALIGNMENT);
	arch_kv(w, s, arch);
	gguf_writer_kv_u32(w, "general.file_type", types[ti].file_type);
	gguf_writer_kv_u32(w, "general.quantization_version", 2);
	if (p->vocab) {
		if ((rc = copy_vocab(w, p->vocab, s->n_vocab, err, errsz)))
			goto out;
	} else if (s->arch == ARCH_BERT) {
		placeholder_wordpiece(w, s->n_vocab);
	} else {
		placeholder_bpe(w, s->n_vocab);
	}
	for (size_t i = 0; i < nt; i++)
		gguf_writer_tensor(w, t[i].name, t[i].type, t[i].n_dims, t[i].ne);
	if ((rc = gguf_writer_begin(w, out)))
		goto werr;

	uint64_t total = gguf_writer_data_size(w), done = 0;
	for (size_t i = 0; i < nt; i++) {
		uint32_t blck, bsize;
		quant_layout(t[i].type, &blck, &bsize);
		/* the tensor's own stream: its bytes depend on seed and name only */
		uint64_t st = p->seed * 0x9e3779b97f4a7c15u;
		for (const char *c = t[i].name; *c; c++)
			st = (st ^ (unsigned char)*c) * 0x100000001b3u;
		st ^= t[i].type;
		uint64_t n = t[i].ne[0] * t[i].ne[1], per = (uint64_t)PIECE_BYTES / bsize * blck;
		for (uint64_t first = 0; first < n; first += per) {
			uint64_t k = n - first < per ? n - first : per;
			size_t bytes = random_values(&t[i], &st, k, buf);
			if ((rc = gguf_writer_data(w, buf, bytes)))
				goto werr;
			done += bytes;
			if (p->progress)
				p->progress(p->progress_ctx, done, total);
		}
	}
	if (!(rc = gguf_writer_finish(w)))
		goto out;
werr:
	mx_fail(err, errsz, rc, "%s", gguf_writer_errmsg(w));
out:
	gguf_writer_free(w);
	free(buf);
	free(t);
	return rc;
}
