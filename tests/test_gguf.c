/* test_gguf.c - the GGUF reader and the reference dequantization: the
 * shared fixtures (metadata, shapes, every tensor dequantized, values
 * against the generators' F32 masters), files built here with every value
 * type, and hostile files (truncated, absurd counts, bad shapes, offsets and
 * types) that must give an error with a message, never a crash.
 *
 * Tests that need ../shared/fixtures pass (with a "skip" line) where it is
 * absent. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../common/fsutil.h"
#include "../common/status.h"
#include "../engine/gguf.h"
#include "../engine/quant.h"
#include "harness.h"

/* ---- fixtures ----------------------------------------------------------------- */

/* ../shared/fixtures/rel, malloc'd; NULL (a skip printed) when absent. */
static char *fixture(const char *rel)
{
	const char *sh = test_shared();
	char *dir = sh ? mx_path_join(sh, "fixtures") : NULL;
	char *p = dir ? mx_path_join(dir, rel) : NULL;
	free(dir);
	if (!p || access(p, R_OK) != 0) {
		printf("    skip: ../shared/fixtures/%s not found\n", rel);
		free(p);
		return NULL;
	}
	return p;
}

static struct gguf *open_fixture(const char *rel)
{
	char *p = fixture(rel);
	if (!p)
		return NULL;
	struct gguf *g = NULL;
	char err[256];
	int rc = gguf_open(p, &g, err, sizeof err);
	if (rc)
		printf("    %s: %s\n", rel, err);
	CHECK_EQ_INT(rc, 0);
	free(p);
	return g;
}

/* The whole file in a malloc'd buffer of exactly its size. */
static uint8_t *load_fixture(const char *rel, size_t *len)
{
	char *p = fixture(rel);
	if (!p)
		return NULL;
	char *data = NULL;
	int rc = mx_read_file(p, 64u << 20, &data, len);
	CHECK_EQ_INT(rc, 0);
	free(p);
	return (uint8_t *)data;
}

static bool str_is(const char *s, size_t len, const char *want)
{
	return len == strlen(want) && memcmp(s, want, len) == 0;
}

static void check_str_key(const struct gguf *g, const char *key, const char *want)
{
	const char *s = NULL;
	size_t len = 0;
	CHECK_EQ_INT(gguf_get_str(g, key, &s, &len), 0);
	if (!str_is(s, len, want))
		printf("    %s: '%.*s', want '%s'\n", key, (int)len, s ? s : "", want);
	CHECK(str_is(s, len, want));
}

static uint32_t u32_key(const struct gguf *g, const char *key)
{
	uint32_t v = 0;
	CHECK_EQ_INT(gguf_get_u32(g, key, &v), 0);
	return v;
}

static void check_shape(const struct gguf *g, const char *name, uint32_t type, uint64_t ne0,
			uint64_t ne1)
{
	const struct gguf_tensor *t = gguf_tensor(g, name);
	CHECK(t != NULL);
	if (!t) {
		printf("    no tensor %s\n", name);
		return;
	}
	CHECK(str_is(t->name, t->name_len, name));
	CHECK_EQ_INT(t->type, type);
	CHECK_EQ_INT(t->ne[0], ne0);
	CHECK_EQ_INT(t->ne[1], ne1);
	CHECK_EQ_INT(t->ne[2] * t->ne[3], 1);
	CHECK_EQ_INT(t->nbytes, ggml_row_size(type, ne0) * ne1);
}

/* Dequantizes every tensor (whole, and a few rows one by one, which must
 * agree); all values finite, and weight matrices of a sensible scale (the
 * fixtures draw them with std 0.02 .. 0.08). */
static void dequant_every_tensor(const struct gguf *g)
{
	size_t n = gguf_n_tensors(g);
	CHECK(n > 0);
	for (size_t i = 0; i < n; i++) {
		const struct gguf_tensor *t = gguf_tensor_at(g, i);
		uint64_t total = t->ne[0] * t->ne[1] * t->ne[2] * t->ne[3];
		float *f = malloc(total * sizeof *f), *row = malloc(t->ne[0] * sizeof *row);
		CHECK(f && row);
		if (!f || !row) {
			free(f);
			free(row);
			return;
		}
		CHECK_EQ_INT(gguf_tensor_f32(t, f, total), 0);
		size_t bad = 0;
		double s2 = 0;
		for (uint64_t k = 0; k < total; k++) {
			bad += !isfinite(f[k]);
			s2 += (double)f[k] * f[k];
		}
		double rms = sqrt(s2 / (double)total);
		if (bad || rms > 2.0 || rms < 0.01)
			printf("    %.*s: %zu non-finite, rms %g\n", (int)t->name_len, t->name, bad,
			       rms);
		CHECK_EQ_INT(bad, 0);
		CHECK(rms < 2.0 && rms > 0.01);
		uint64_t rows = total / t->ne[0];
		for (uint64_t r = 0; r < rows; r += rows / 3 + 1) {
			CHECK_EQ_INT(gguf_tensor_row_f32(t, r, row), 0);
			CHECK(memcmp(row, f + r * t->ne[0], t->ne[0] * sizeof *row) == 0);
		}
		CHECK_EQ_INT(gguf_tensor_row_f32(t, rows, row), MX_EINVAL);
		CHECK_EQ_INT(gguf_tensor_f32(t, f, total - 1), MX_EINVAL);
		free(f);
		free(row);
	}
}

static void fixtures_architectures(void)
{
	static const struct {
		const char *file, *arch;
		uint64_t n_tokens;
	} cases[] = {
		{ "bert/bert-minilm-shape-q8_0.gguf", "bert", 30522 },
		{ "llama/llama-s-tied-q4_k_m.gguf", "llama", 49152 },
		{ "llama/llama-s-untied-theta1e5-q4_0.gguf", "llama", 49152 },
		{ "llama/qwen2-s-f16.gguf", "qwen2", 50257 },
		{ "tokenizers/ggml-vocab-bert-bge.gguf", "bert", 30522 },
		{ "tokenizers/ggml-vocab-gpt-2.gguf", "gpt2", 50257 },
		{ "tokenizers/ggml-vocab-llama-spm.gguf", "llama", 32000 },
		{ "tokenizers/ggml-vocab-starcoder.gguf", "starcoder2", 49152 },
		{ "tokenizers/ggml-vocab-phi-3.gguf", "phi3", 32064 },
	};
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		struct gguf *g = open_fixture(cases[i].file);
		if (!g)
			continue;
		check_str_key(g, "general.architecture", cases[i].arch);
		enum gguf_vtype elem = GGUF_U8;
		uint64_t n = 0;
		CHECK_EQ_INT(gguf_get_arr(g, "tokenizer.ggml.tokens", &elem, &n), 0);
		CHECK_EQ_INT(elem, GGUF_STRING);
		CHECK_EQ_INT(n, cases[i].n_tokens);
		/* every token readable, the last one too */
		for (uint64_t k = 0; k < n; k++) {
			const char *s = NULL;
			size_t len = 0;
			if (gguf_get_arr_str(g, "tokenizer.ggml.tokens", k, &s, &len) != 0 || !s) {
				CHECK(!"token unreadable");
				break;
			}
		}
		if (!strncmp(cases[i].file, "tokenizers/", 11))
			CHECK_EQ_INT(gguf_n_tensors(g), 0);
		gguf_close(g);
	}
}

static void bert_metadata(void)
{
	struct gguf *g = open_fixture("bert/bert-minilm-shape-q8_0.gguf");
	if (!g)
		return;
	CHECK_EQ_INT(u32_key(g, "bert.embedding_length"), 384);
	CHECK_EQ_INT(u32_key(g, "bert.block_count"), 6);
	CHECK_EQ_INT(u32_key(g, "bert.attention.head_count"), 12);
	CHECK_EQ_INT(u32_key(g, "bert.feed_forward_length"), 1536);
	CHECK_EQ_INT(u32_key(g, "bert.context_length"), 512);
	CHECK_EQ_INT(u32_key(g, "bert.pooling_type"), 1);
	CHECK_EQ_INT(u32_key(g, "tokenizer.ggml.token_type_count"), 2);
	int32_t i32 = 0;
	CHECK_EQ_INT(gguf_get_i32(g, "bert.block_count", &i32), 0);
	CHECK_EQ_INT(i32, 6);
	uint64_t u64 = 0;
	CHECK_EQ_INT(gguf_get_u64(g, "bert.block_count", &u64), 0);
	CHECK_EQ_INT(u64, 6);
	float eps = 0;
	CHECK_EQ_INT(gguf_get_f32(g, "bert.attention.layer_norm_epsilon", &eps), 0);
	CHECK(fabsf(eps - 1e-12f) < 1e-15f);
	bool causal = true;
	CHECK_EQ_INT(gguf_get_bool(g, "bert.attention.causal", &causal), 0);
	CHECK(!causal);
	const char *s = NULL;
	size_t len = 0;
	CHECK_EQ_INT(gguf_get_arr_str(g, "tokenizer.ggml.tokens", 101, &s, &len), 0);
	CHECK(str_is(s, len, "[CLS]"));
	CHECK_EQ_INT(gguf_get_arr_str(g, "tokenizer.ggml.tokens", 102, &s, &len), 0);
	CHECK(str_is(s, len, "[SEP]"));
	CHECK_EQ_INT(gguf_get_arr_str(g, "tokenizer.ggml.tokens", 100, &s, &len), 0);
	CHECK(str_is(s, len, "[UNK]"));
	CHECK_EQ_INT(gguf_get_arr_str(g, "tokenizer.ggml.tokens", 30522, &s, &len), MX_EINVAL);

	/* wrong types and missing keys */
	uint32_t u32 = 0;
	CHECK_EQ_INT(gguf_get_u32(g, "general.architecture", &u32), MX_EINVAL);
	CHECK_EQ_INT(gguf_get_u32(g, "tokenizer.ggml.tokens", &u32), MX_EINVAL);
	CHECK_EQ_INT(gguf_get_str(g, "bert.block_count", &s, &len), MX_EINVAL);
	CHECK_EQ_INT(gguf_get_f32(g, "bert.block_count", &eps), MX_EINVAL);
	CHECK_EQ_INT(gguf_get_bool(g, "bert.block_count", &causal), MX_EINVAL);
	enum gguf_vtype elem;
	CHECK_EQ_INT(gguf_get_arr(g, "general.architecture", &elem, &u64), MX_EINVAL);
	CHECK_EQ_INT(gguf_get_arr_str(g, "general.architecture", 0, &s, &len), MX_EINVAL);
	CHECK_EQ_INT(gguf_get_u32(g, "bert.no_such_key", &u32), MX_ENOTFOUND);
	CHECK_EQ_INT(gguf_get_str(g, "", &s, &len), MX_ENOTFOUND);
	CHECK_EQ_INT(gguf_get_u32(g, "bert.embedding_lengt", &u32), MX_ENOTFOUND);
	CHECK_EQ_INT(gguf_get_u32(g, "bert.embedding_lengthh", &u32), MX_ENOTFOUND);
	CHECK_EQ_INT(gguf_get_u32(NULL, "bert.block_count", &u32), MX_EINVAL);
	CHECK(gguf_tensor(g, "no.such.tensor") == NULL);
	CHECK(gguf_tensor_at(g, gguf_n_tensors(g)) == NULL);
	gguf_close(g);
}

static void bert_tensors(void)
{
	struct gguf *g = open_fixture("bert/bert-minilm-shape-q8_0.gguf");
	if (!g)
		return;
	CHECK_EQ_INT(gguf_n_tensors(g), 5 + 6 * 16);
	check_shape(g, "token_embd.weight", GGML_Q8_0, 384, 30522);
	check_shape(g, "token_types.weight", GGML_F32, 384, 2);
	check_shape(g, "position_embd.weight", GGML_F32, 384, 512);
	check_shape(g, "token_embd_norm.weight", GGML_F32, 384, 1);
	check_shape(g, "blk.0.attn_q.weight", GGML_Q8_0, 384, 384);
	check_shape(g, "blk.5.attn_output.bias", GGML_F32, 384, 1);
	check_shape(g, "blk.3.ffn_up.weight", GGML_Q8_0, 384, 1536);
	check_shape(g, "blk.3.ffn_down.weight", GGML_Q8_0, 1536, 384);
	check_shape(g, "blk.5.layer_output_norm.weight", GGML_F32, 384, 1);
	CHECK(gguf_tensor(g, "blk.6.attn_q.weight") == NULL);
	dequant_every_tensor(g);
	gguf_close(g);
}

static void llama_metadata_and_shapes(void)
{
	static const struct {
		const char *file, *arch;
		float theta;
		uint32_t embd_type;
		bool untied;
	} cases[] = {
		{ "llama/llama-s-tied-q4_k_m.gguf", "llama", 1e4f, GGML_Q6_K, false },
		{ "llama/llama-s-untied-theta1e5-q4_0.gguf", "llama", 1e5f, GGML_Q4_0, true },
		{ "llama/qwen2-s-f16.gguf", "qwen2", 1e6f, GGML_F16, false },
	};
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		struct gguf *g = open_fixture(cases[i].file);
		if (!g)
			continue;
		char key[96];
		const char *a = cases[i].arch;
		snprintf(key, sizeof key, "%s.embedding_length", a);
		CHECK_EQ_INT(u32_key(g, key), 256);
		snprintf(key, sizeof key, "%s.block_count", a);
		CHECK_EQ_INT(u32_key(g, key), 4);
		snprintf(key, sizeof key, "%s.attention.head_count", a);
		CHECK_EQ_INT(u32_key(g, key), 8);
		snprintf(key, sizeof key, "%s.attention.head_count_kv", a);
		CHECK_EQ_INT(u32_key(g, key), 4);
		snprintf(key, sizeof key, "%s.feed_forward_length", a);
		CHECK_EQ_INT(u32_key(g, key), 768);
		snprintf(key, sizeof key, "%s.context_length", a);
		CHECK_EQ_INT(u32_key(g, key), 2048);
		snprintf(key, sizeof key, "%s.rope.dimension_count", a);
		CHECK_EQ_INT(u32_key(g, key), 32);
		float theta = 0;
		snprintf(key, sizeof key, "%s.rope.freq_base", a);
		CHECK_EQ_INT(gguf_get_f32(g, key, &theta), 0);
		CHECK(theta == cases[i].theta);
		uint64_t n_vocab = 0;
		enum gguf_vtype elem;
		CHECK_EQ_INT(gguf_get_arr(g, "tokenizer.ggml.tokens", &elem, &n_vocab), 0);
		check_shape(g, "token_embd.weight", cases[i].embd_type, 256, n_vocab);
		if (cases[i].untied)
			check_shape(g, "output.weight", GGML_Q6_K, 256, n_vocab);
		else
			CHECK(gguf_tensor(g, "output.weight") == NULL);
		check_shape(g, "output_norm.weight", GGML_F32, 256, 1);
		const struct gguf_tensor *q = gguf_tensor(g, "blk.1.attn_q.weight");
		CHECK(q != NULL);
		if (q) {
			CHECK_EQ_INT(q->ne[0], 256);
			CHECK_EQ_INT(q->ne[1], 256);
		}
		const struct gguf_tensor *k = gguf_tensor(g, "blk.1.attn_k.weight");
		CHECK(k && k->ne[0] == 256 && k->ne[1] == 128);
		const struct gguf_tensor *d = gguf_tensor(g, "blk.3.ffn_down.weight");
		CHECK(d && d->ne[0] == 768 && d->ne[1] == 256);
		gguf_close(g);
	}
	/* Q4_K_M mixes types: Q4_K in blocks 0 and 1, Q6_K in 2 and 3 */
	struct gguf *g = open_fixture("llama/llama-s-tied-q4_k_m.gguf");
	if (!g)
		return;
	check_shape(g, "blk.0.attn_q.weight", GGML_Q4_K, 256, 256);
	check_shape(g, "blk.1.ffn_down.weight", GGML_Q4_K, 768, 256);
	check_shape(g, "blk.2.ffn_down.weight", GGML_Q6_K, 768, 256);
	check_shape(g, "blk.3.attn_v.weight", GGML_Q6_K, 256, 128);
	gguf_close(g);
}

static void llama_dequant_every_tensor(void)
{
	static const char *const files[] = {
		"llama/llama-s-tied-q4_k_m.gguf",
		"llama/llama-s-untied-theta1e5-q4_0.gguf",
		"llama/qwen2-s-f16.gguf",
	};
	for (size_t i = 0; i < sizeof files / sizeof files[0]; i++) {
		struct gguf *g = open_fixture(files[i]);
		if (!g)
			continue;
		dequant_every_tensor(g);
		gguf_close(g);
	}
}

/* The fixtures' weights are seeded numpy draws (README: default_rng(seed),
 * float32 standard_normal times the tensor's std). These are the first 8
 * values of some rows of the F32 masters, regenerated with numpy 1.24.2
 * from the README's recipe; the quantized files must decode to them within
 * the quantization error (stated in units of the std: ~0.003 for Q8_0 and
 * F16, 0.02-0.03 for Q6_K, 0.07-0.12 for Q4_K and Q4_0; a decoding bug
 * gives errors of order 1). */
/* clang-format off */
static const struct {
	const char *file, *tensor;
	uint64_t row;
	float sigma;
	float v[8];
} masters[] = {
	{ "bert/bert-minilm-shape-q8_0.gguf", "token_embd.weight", 0, 0.02f, { 1.87010132e-02f, -1.74117126e-02f, -1.76111031e-02f, 2.68223230e-04f, -2.22377442e-02f, 6.23031938e-03f, 2.15057097e-02f, 4.40789983e-02f } },
	{ "bert/bert-minilm-shape-q8_0.gguf", "token_embd.weight", 30521, 0.02f, { 1.84494983e-02f, -2.47263573e-02f, 2.12793760e-02f, 1.41221369e-02f, -5.74979512e-03f, -7.38471327e-03f, -1.32874334e-02f, 9.77777992e-04f } },
	{ "llama/llama-s-tied-q4_k_m.gguf", "token_embd.weight", 0, 0.05f, { 5.38917317e-04f, -4.49942164e-02f, -2.16478817e-02f, 9.71360877e-03f, 5.25389016e-02f, -4.07911725e-02f, -1.89542735e-03f, 6.38562813e-02f } },
	{ "llama/llama-s-tied-q4_k_m.gguf", "token_embd.weight", 1234, 0.05f, { -5.69168590e-02f, -9.84158218e-02f, 9.38763190e-03f, 2.49709301e-02f, -7.95194060e-02f, -3.56784612e-02f, 6.24803118e-02f, -3.36909480e-03f } },
	{ "llama/llama-s-tied-q4_k_m.gguf", "token_embd.weight", 49151, 0.05f, { 3.88888828e-02f, -9.42839459e-02f, -6.90470338e-02f, 1.60655882e-02f, -2.05380805e-02f, 1.58667180e-03f, 1.77661777e-02f, -8.67952704e-02f } },
	{ "llama/llama-s-tied-q4_k_m.gguf", "blk.0.attn_q.weight", 0, 0.08f, { -8.18327256e-03f, -1.02103055e-02f, -8.92786160e-02f, -5.42773539e-03f, -2.66960468e-02f, -1.34097347e-02f, -4.21103695e-03f, -5.10323197e-02f } },
	{ "llama/llama-s-tied-q4_k_m.gguf", "blk.0.attn_q.weight", 255, 0.08f, { -3.53748016e-02f, -1.72676165e-02f, 7.47288764e-02f, 1.40336929e-02f, 3.64658190e-03f, 1.19880438e-01f, -7.89961740e-02f, 1.01869181e-01f } },
	{ "llama/llama-s-tied-q4_k_m.gguf", "blk.0.ffn_down.weight", 0, 0.0625f, { 2.00204384e-02f, -1.24672323e-01f, 5.88595010e-02f, -5.64286113e-03f, 3.36859822e-02f, -9.51135457e-02f, -1.16969071e-01f, 4.82923277e-02f } },
	{ "llama/llama-s-tied-q4_k_m.gguf", "blk.3.attn_v.weight", 0, 0.0625f, { -5.59890084e-02f, 3.38082612e-02f, 4.27986123e-02f, -1.02971168e-03f, 1.39821932e-01f, -9.05326158e-02f, -2.96710506e-02f, 1.75192710e-02f } },
	{ "llama/llama-s-untied-theta1e5-q4_0.gguf", "token_embd.weight", 0, 0.05f, { 4.81827445e-02f, -8.56769457e-02f, -1.33338263e-02f, -1.00556664e-01f, 2.14238185e-02f, -4.65437323e-02f, -2.14722976e-02f, 1.88585240e-02f } },
	{ "llama/llama-s-untied-theta1e5-q4_0.gguf", "token_embd.weight", 49151, 0.05f, { -9.80882868e-02f, -1.51410075e-02f, 4.48343568e-02f, -6.16460517e-02f, -2.05223914e-02f, 2.70166434e-02f, 2.56914329e-02f, 8.06549005e-03f } },
	{ "llama/llama-s-untied-theta1e5-q4_0.gguf", "output.weight", 0, 0.05f, { -2.84149498e-02f, -5.53838490e-03f, 6.87462389e-02f, 9.57576334e-02f, -7.28259161e-02f, -1.32456020e-01f, -5.15043810e-02f, -1.22226058e-02f } },
	{ "llama/llama-s-untied-theta1e5-q4_0.gguf", "output.weight", 49151, 0.05f, { -5.58839552e-02f, 2.02864129e-02f, 4.36568335e-02f, 2.37092730e-02f, -6.27477095e-02f, -3.65789384e-02f, -7.62484744e-02f, -4.96158637e-02f } },
	{ "llama/qwen2-s-f16.gguf", "token_embd.weight", 0, 0.05f, { 2.61804499e-02f, 8.15132037e-02f, -5.88668883e-02f, 2.55991220e-02f, 2.72413995e-02f, 5.32338433e-02f, 5.20550981e-02f, -5.67142069e-02f } },
	{ "llama/qwen2-s-f16.gguf", "token_embd.weight", 50256, 0.05f, { 1.74041852e-01f, 5.37138991e-02f, 4.89256345e-02f, 2.70773768e-02f, -3.68243195e-02f, -9.18132719e-03f, 9.69111081e-03f, 6.79864585e-02f } },
};
/* clang-format on */

/* Allowed error, in stds, per type: about twice the largest seen. */
static float master_tolerance(uint32_t type)
{
	switch (type) {
	case GGML_F16: return 0.005f;
	case GGML_Q8_0: return 0.02f;
	case GGML_Q6_K: return 0.08f;
	default: return 0.3f; /* Q4_K, Q4_0 */
	}
}

static void dequant_matches_f32_masters(void)
{
	for (size_t i = 0; i < sizeof masters / sizeof masters[0]; i++) {
		struct gguf *g = open_fixture(masters[i].file);
		if (!g)
			continue;
		const struct gguf_tensor *t = gguf_tensor(g, masters[i].tensor);
		CHECK(t != NULL);
		float *row = t ? malloc(t->ne[0] * sizeof *row) : NULL;
		if (row && gguf_tensor_row_f32(t, masters[i].row, row) == 0) {
			float worst = 0;
			for (int k = 0; k < 8; k++)
				worst = fmaxf(worst,
					      fabsf(row[k] - masters[i].v[k]) / masters[i].sigma);
			if (worst > master_tolerance(t->type))
				printf("    %s %s row %llu (%s): error %.3f std\n", masters[i].file,
				       masters[i].tensor, (unsigned long long)masters[i].row,
				       quant_type_name(t->type), worst);
			CHECK(worst <= master_tolerance(t->type));
		} else {
			CHECK(!"row not dequantized");
		}
		free(row);
		gguf_close(g);
	}
}

/* ---- scalar conversions and block formulas -------------------------------------- */

static void f16_and_bf16(void)
{
	CHECK(quant_f16_to_f32(0x0000) == 0.0f && !signbit(quant_f16_to_f32(0x0000)));
	CHECK(quant_f16_to_f32(0x8000) == 0.0f && signbit(quant_f16_to_f32(0x8000)));
	CHECK(quant_f16_to_f32(0x3c00) == 1.0f);
	CHECK(quant_f16_to_f32(0xc000) == -2.0f);
	CHECK(quant_f16_to_f32(0x3555) == 0x1.554p-2f);
	CHECK(quant_f16_to_f32(0x7bff) == 65504.0f);
	CHECK(quant_f16_to_f32(0x0400) == 0x1p-14f);
	CHECK(quant_f16_to_f32(0x0001) == 0x1p-24f);
	CHECK(quant_f16_to_f32(0x83ff) == -0x3ffp-24f);
	CHECK(isinf(quant_f16_to_f32(0x7c00)) && quant_f16_to_f32(0x7c00) > 0);
	CHECK(isinf(quant_f16_to_f32(0xfc00)) && quant_f16_to_f32(0xfc00) < 0);
	CHECK(isnan(quant_f16_to_f32(0x7e00)));
	CHECK(isnan(quant_f16_to_f32(0xfc01)));
	/* every half against the definition */
	int bad = 0;
	for (uint32_t h = 0; h < 0x10000; h++) {
		int e = (h >> 10) & 31, m = h & 1023;
		double want = e == 0 ? ldexp(m, -24) : ldexp(1024 + m, e - 25);
		if (h & 0x8000)
			want = -want;
		float got = quant_f16_to_f32((uint16_t)h);
		if (e == 31)
			bad += m ? !isnan(got) : !isinf(got);
		else
			bad += (double)got != want;
	}
	CHECK_EQ_INT(bad, 0);
	CHECK(quant_bf16_to_f32(0x3f80) == 1.0f);
	CHECK(quant_bf16_to_f32(0xc2f7) == -123.5f);
	CHECK(isinf(quant_bf16_to_f32(0x7f80)));
	CHECK(isnan(quant_bf16_to_f32(0x7fc0)));
}

static float h2f(const uint8_t *p)
{
	return quant_f16_to_f32((uint16_t)(p[0] | p[1] << 8));
}

static void k4_scale_min(const uint8_t *s, int j, int *sc, int *m)
{
	if (j < 4) {
		*sc = s[j] & 63;
		*m = s[j + 4] & 63;
	} else {
		*sc = (s[j + 4] & 15) | (s[j - 4] >> 6) << 4;
		*m = (s[j + 4] >> 4) | (s[j] >> 6) << 4;
	}
}

/* Value k of one block, written from the layouts in quant.h (value by
 * value, where the library decodes block by block). */
static float formula(uint32_t type, const uint8_t *b, int k)
{
	switch (type) {
	case GGML_Q4_0: {
		int q = k < 16 ? b[2 + k] & 15 : b[2 + k - 16] >> 4;
		return (float)(q - 8) * h2f(b);
	}
	case GGML_Q4_1: {
		int q = k < 16 ? b[4 + k] & 15 : b[4 + k - 16] >> 4;
		return (float)q * h2f(b) + h2f(b + 2);
	}
	case GGML_Q5_0:
	case GGML_Q5_1: {
		int at = type == GGML_Q5_0 ? 2 : 4;
		uint32_t qh = (uint32_t)b[at] | (uint32_t)b[at + 1] << 8 |
			      (uint32_t)b[at + 2] << 16 | (uint32_t)b[at + 3] << 24;
		int q = k < 16 ? b[at + 4 + k] & 15 : b[at + 4 + k - 16] >> 4;
		q |= (int)((qh >> k) & 1) << 4;
		if (type == GGML_Q5_0)
			return (float)(q - 16) * h2f(b);
		return (float)q * h2f(b) + h2f(b + 2);
	}
	case GGML_Q8_0: return (float)(int8_t)b[2 + k] * h2f(b);
	case GGML_Q8_1: return (float)(int8_t)b[4 + k] * h2f(b);
	case GGML_Q2_K: {
		int h = k / 128, r = k % 128, i = k / 16;
		int q = (b[16 + 32 * h + r % 32] >> (2 * (r / 32))) & 3;
		return h2f(b + 80) * (float)(b[i] & 15) * (float)q -
		       h2f(b + 82) * (float)(b[i] >> 4);
	}
	case GGML_Q3_K: {
		const uint8_t *sc = b + 96;
		int h = k / 128, r = k % 128, j = k / 16;
		int q = (b[32 + 32 * h + r % 32] >> (2 * (r / 32))) & 3;
		int hbit = (b[k % 32] >> (k / 32)) & 1;
		int lo = j < 8 ? sc[j] & 15 : sc[j - 8] >> 4;
		int hi = (sc[8 + j % 4] >> (2 * (j / 4))) & 3;
		return h2f(b + 108) * (float)((lo | hi << 4) - 32) * (float)(q - (hbit ? 0 : 4));
	}
	case GGML_Q4_K:
	case GGML_Q5_K: {
		int j = k / 32, l = k % 32, sc, m;
		const uint8_t *qs = b + (type == GGML_Q4_K ? 16 : 48);
		int q = j % 2 ? qs[32 * (j / 2) + l] >> 4 : qs[32 * (j / 2) + l] & 15;
		if (type == GGML_Q5_K)
			q += ((b[16 + l] >> j) & 1) << 4;
		k4_scale_min(b + 4, j, &sc, &m);
		return h2f(b) * (float)sc * (float)q - h2f(b + 2) * (float)m;
	}
	case GGML_Q6_K: {
		int h = k / 128, r = k % 128, kk = r / 32, l = r % 32;
		int byte = b[64 * h + (kk & 1 ? 32 : 0) + l];
		int nib = kk >= 2 ? byte >> 4 : byte & 15;
		int hb = (b[128 + 32 * h + l] >> (2 * kk)) & 3;
		return h2f(b + 208) * (float)(int8_t)b[192 + k / 16] *
		       (float)((nib | hb << 4) - 32);
	}
	case GGML_Q8_K: {
		float d;
		memcpy(&d, b, 4);
		return d * (float)(int8_t)b[4 + k];
	}
	}
	return NAN;
}

static uint32_t lcg(uint32_t *s)
{
	*s = *s * 1664525u + 1013904223u;
	return *s >> 8;
}

/* A random half in [2^-10, 2^-3), either sign when sign is set. */
static void put_half(uint8_t *p, uint32_t *rng, bool sign)
{
	uint32_t h = (5u + lcg(rng) % 7u) << 10 | (lcg(rng) & 1023u);
	if (sign && (lcg(rng) & 1))
		h |= 0x8000;
	p[0] = (uint8_t)h;
	p[1] = (uint8_t)(h >> 8);
}

static void block_formulas(void)
{
	static const uint32_t types[] = { GGML_Q4_0, GGML_Q4_1, GGML_Q5_0, GGML_Q5_1,
					  GGML_Q8_0, GGML_Q8_1, GGML_Q2_K, GGML_Q3_K,
					  GGML_Q4_K, GGML_Q5_K, GGML_Q6_K, GGML_Q8_K };
	uint32_t rng = 12345;
	for (size_t ti = 0; ti < sizeof types / sizeof types[0]; ti++) {
		uint32_t type = types[ti], blck = 0, size = 0;
		CHECK(quant_layout(type, &blck, &size));
		CHECK(quant_can_dequant(type));
		enum { NB = 3 };
		uint8_t *src = malloc(NB * size);
		float *dst = malloc(NB * blck * sizeof *dst);
		if (!src || !dst) {
			free(src);
			free(dst);
			CHECK(!"out of memory");
			return;
		}
		for (int round = 0; round < 20; round++) {
			for (uint32_t i = 0; i < NB * size; i++)
				src[i] = (uint8_t)lcg(&rng);
			for (int bi = 0; bi < NB; bi++) {
				uint8_t *b = src + bi * size;
				switch (type) {
				case GGML_Q4_1:
				case GGML_Q5_1:
				case GGML_Q4_K:
				case GGML_Q5_K:
					put_half(b, &rng, true);
					put_half(b + 2, &rng, true);
					break;
				case GGML_Q2_K:
					put_half(b + 80, &rng, true);
					put_half(b + 82, &rng, true);
					break;
				case GGML_Q3_K: put_half(b + 108, &rng, true); break;
				case GGML_Q6_K: put_half(b + 208, &rng, true); break;
				case GGML_Q8_K: {
					float d = 0.01f * (float)(1 + round);
					memcpy(b, &d, 4);
					break;
				}
				default: put_half(b, &rng, true); break;
				}
			}
			quant_dequant_row(type, src, dst, NB * blck);
			int bad = 0;
			for (uint32_t k = 0; k < NB * blck; k++) {
				float want =
					formula(type, src + (k / blck) * size, (int)(k % blck));
				bad += !(fabsf(dst[k] - want) <= 1e-6f * fabsf(want));
			}
			if (bad)
				printf("    %s: %d values differ\n", quant_type_name(type), bad);
			CHECK_EQ_INT(bad, 0);
		}
		free(src);
		free(dst);
	}
	/* layouts and row sizes */
	CHECK_EQ_INT(ggml_row_size(GGML_F32, 7), 28);
	CHECK_EQ_INT(ggml_row_size(GGML_F16, 7), 14);
	CHECK_EQ_INT(ggml_row_size(GGML_BF16, 3), 6);
	CHECK_EQ_INT(ggml_row_size(GGML_Q8_0, 64), 68);
	CHECK_EQ_INT(ggml_row_size(GGML_Q4_0, 64), 36);
	CHECK_EQ_INT(ggml_row_size(GGML_Q4_K, 512), 288);
	CHECK_EQ_INT(ggml_row_size(GGML_Q5_K, 256), 176);
	CHECK_EQ_INT(ggml_row_size(GGML_Q6_K, 256), 210);
	CHECK_EQ_INT(ggml_row_size(GGML_Q8_0, 33), 0);
	CHECK_EQ_INT(ggml_row_size(999, 32), 0);
	CHECK_EQ_INT(ggml_row_size(4, 32), 0);
	CHECK_EQ_INT(ggml_row_size(GGML_F32, UINT64_MAX / 2), 0);
	CHECK(!quant_can_dequant(16)); /* IQ2_XXS: known size, not decoded */
	CHECK(!quant_can_dequant(999));
	CHECK_STR(quant_type_name(GGML_Q6_K), "Q6_K");
	CHECK_STR(quant_type_name(999), "unknown");
}

/* ---- files built here ------------------------------------------------------------- */

struct gb {
	uint8_t *p;
	size_t len, cap;
};

static void gb_put(struct gb *b, const void *d, size_t n)
{
	if (b->len + n > b->cap) {
		size_t cap = (b->len + n) * 2 + 64;
		uint8_t *p = realloc(b->p, cap);
		if (!p) {
			fprintf(stderr, "test_gguf: out of memory\n");
			exit(2);
		}
		b->p = p;
		b->cap = cap;
	}
	if (n)
		memcpy(b->p + b->len, d, n);
	b->len += n;
}

static void gb_u8(struct gb *b, uint8_t v)
{
	gb_put(b, &v, 1);
}

static void gb_u16(struct gb *b, uint16_t v)
{
	uint8_t x[2] = { (uint8_t)v, (uint8_t)(v >> 8) };
	gb_put(b, x, 2);
}

static void gb_u32(struct gb *b, uint32_t v)
{
	gb_u16(b, (uint16_t)v);
	gb_u16(b, (uint16_t)(v >> 16));
}

static void gb_u64(struct gb *b, uint64_t v)
{
	gb_u32(b, (uint32_t)v);
	gb_u32(b, (uint32_t)(v >> 32));
}

static void gb_f32(struct gb *b, float f)
{
	uint32_t u;
	memcpy(&u, &f, 4);
	gb_u32(b, u);
}

static void gb_str(struct gb *b, const char *s)
{
	gb_u64(b, strlen(s));
	gb_put(b, s, strlen(s));
}

static void gb_key(struct gb *b, const char *key, uint32_t type)
{
	gb_str(b, key);
	gb_u32(b, type);
}

static void put_le64(uint8_t *p, uint64_t v)
{
	for (int i = 0; i < 8; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

static void put_le32(uint8_t *p, uint32_t v)
{
	for (int i = 0; i < 4; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

static uint64_t get_le64(const uint8_t *p)
{
	uint64_t v = 0;
	for (int i = 7; i >= 0; i--)
		v = v << 8 | p[i];
	return v;
}

struct tspec {
	const char *name;
	uint32_t type;
	int n_dims;
	uint64_t ne[4];
	const void *data;
	size_t nbytes;
};

/* Where the fields of a built file are, for corrupting them. */
struct where {
	size_t n_tensors, n_kv, first_key;
	size_t tinfo[8]; /* start (name length) of each tensor info */
	size_t data_off;
	size_t end; /* end of the last tensor's data */
};

/* The standard key/values: one of every type, four arrays (16 keys). */
static size_t std_kvs(struct gb *b)
{
	gb_key(b, "general.architecture", GGUF_STRING);
	gb_str(b, "test");
	gb_key(b, "t.u8", GGUF_U8);
	gb_u8(b, 200);
	gb_key(b, "t.i8", GGUF_I8);
	gb_u8(b, (uint8_t)-5);
	gb_key(b, "t.u16", GGUF_U16);
	gb_u16(b, 60000);
	gb_key(b, "t.i16", GGUF_I16);
	gb_u16(b, (uint16_t)-300);
	gb_key(b, "t.u32", GGUF_U32);
	gb_u32(b, 4000000000u);
	gb_key(b, "t.i32", GGUF_I32);
	gb_u32(b, (uint32_t)-7);
	gb_key(b, "t.f32", GGUF_F32);
	gb_f32(b, 1.5f);
	gb_key(b, "t.bool", GGUF_BOOL);
	gb_u8(b, 1);
	gb_key(b, "t.u64", GGUF_U64);
	gb_u64(b, 1ull << 40);
	gb_key(b, "t.i64", GGUF_I64);
	gb_u64(b, (uint64_t)-9);
	gb_key(b, "t.f64", GGUF_F64);
	double d = 0.25;
	uint64_t u;
	memcpy(&u, &d, 8);
	gb_u64(b, u);
	gb_key(b, "t.strs", GGUF_ARRAY);
	gb_u32(b, GGUF_STRING);
	gb_u64(b, 3);
	gb_str(b, "alpha");
	gb_str(b, "");
	gb_str(b, "gamma");
	gb_key(b, "t.i16s", GGUF_ARRAY);
	gb_u32(b, GGUF_I16);
	gb_u64(b, 4);
	for (int i = 0; i < 4; i++)
		gb_u16(b, (uint16_t)(i * 1000 - 1500));
	gb_key(b, "t.f64s", GGUF_ARRAY);
	gb_u32(b, GGUF_F64);
	gb_u64(b, 2);
	gb_u64(b, u);
	gb_u64(b, u);
	gb_key(b, "t.u32s", GGUF_ARRAY);
	gb_u32(b, GGUF_U32);
	gb_u64(b, 2);
	gb_u32(b, 7);
	gb_u32(b, 3000000000u);
	return 16;
}

/* A GGUF v3 file: the standard key/values (when kvs is NULL) or kvs's,
 * then the tensors with their data aligned to align (written as
 * general.alignment unless it is 32). */
static void build(struct gb *b, size_t (*kvs)(struct gb *), const struct tspec *t, size_t nt,
		  uint32_t align, struct where *w)
{
	memset(w, 0, sizeof *w);
	b->len = 0;
	gb_put(b, "GGUF", 4);
	gb_u32(b, 3);
	w->n_tensors = b->len;
	gb_u64(b, nt);
	w->n_kv = b->len;
	gb_u64(b, 0);
	w->first_key = b->len;
	size_t n_kv = (kvs ? kvs : std_kvs)(b);
	if (align != 32) {
		gb_key(b, "general.alignment", GGUF_U32);
		gb_u32(b, align);
		n_kv++;
	}
	put_le64(b->p + w->n_kv, n_kv);
	uint64_t off = 0;
	for (size_t i = 0; i < nt; i++) {
		w->tinfo[i] = b->len;
		gb_str(b, t[i].name);
		gb_u32(b, (uint32_t)t[i].n_dims);
		for (int d = 0; d < t[i].n_dims; d++)
			gb_u64(b, t[i].ne[d]);
		gb_u32(b, t[i].type);
		gb_u64(b, off);
		off += (t[i].nbytes + align - 1) / align * align;
	}
	while (b->len % align)
		gb_u8(b, 0);
	w->data_off = b->len;
	for (size_t i = 0; i < nt; i++) {
		gb_put(b, t[i].data, t[i].nbytes);
		w->end = b->len;
		while (b->len % align)
			gb_u8(b, 0);
	}
}

/* Tensors of the standard file: F32 [4,2], F16 [6] with special values,
 * Q8_0 [32,2], Q4_0 [32], BF16 [2,1,1,2]. */
static const float f32_data[8] = { 1, -2, 3.5f, 0, 1e-3f, -1e30f, 7, 8 };
static const uint16_t f16_data[6] = { 0x3c00, 0x8001, 0x7c00, 0x7bff, 0x0000, 0xbc00 };
static const uint16_t bf16_data[4] = { 0x3f80, 0x4000, 0xbf80, 0x0000 };
static uint8_t q8_data[68], q4_data[18];

static size_t std_tensors(struct tspec *t)
{
	/* Q8_0: d = 0.5, q = k - 16 (row 0) and 16 - k (row 1) */
	for (int r = 0; r < 2; r++) {
		q8_data[34 * r] = 0x00;
		q8_data[34 * r + 1] = 0x38;
		for (int k = 0; k < 32; k++)
			q8_data[34 * r + 2 + k] = (uint8_t)(r ? 16 - k : k - 16);
	}
	/* Q4_0: d = 2, element k < 16 is k, element k + 16 is 15 - k */
	q4_data[0] = 0x00;
	q4_data[1] = 0x40;
	for (int k = 0; k < 16; k++)
		q4_data[2 + k] = (uint8_t)(k | (15 - k) << 4);
	const struct tspec s[] = {
		{ "f32", GGML_F32, 2, { 4, 2 }, f32_data, sizeof f32_data },
		{ "f16", GGML_F16, 1, { 6 }, f16_data, sizeof f16_data },
		{ "q8_0", GGML_Q8_0, 2, { 32, 2 }, q8_data, sizeof q8_data },
		{ "q4_0", GGML_Q4_0, 1, { 32 }, q4_data, sizeof q4_data },
		{ "bf16", GGML_BF16, 4, { 2, 1, 1, 2 }, bf16_data, sizeof bf16_data },
	};
	memcpy(t, s, sizeof s);
	return sizeof s / sizeof s[0];
}

static void build_std(struct gb *b, struct where *w)
{
	struct tspec t[8];
	size_t nt = std_tensors(t);
	build(b, NULL, t, nt, 32, w);
}

/* Opens bytes copied to a buffer of exactly len (so that ASan sees any
 * read past the end); the status, with err non-empty on failure. */
static int open_copy(const uint8_t *data, size_t len, char *err, size_t errsz)
{
	uint8_t *copy = malloc(len ? len : 1);
	if (!copy)
		return MX_ENOMEM;
	if (len)
		memcpy(copy, data, len);
	struct gguf *g = NULL;
	int rc = gguf_open_memory(copy, len, &g, err, errsz);
	if (rc) {
		if (!err[0])
			printf("    empty message for status %d\n", rc);
		CHECK(err[0] != '\0');
		CHECK(g == NULL);
		free(copy);
		return rc;
	}
	gguf_close(g);
	free(copy);
	return 0;
}

static void built_file_values(void)
{
	struct gb b = { 0 };
	struct where w;
	build_std(&b, &w);
	struct gguf *g = NULL;
	char err[256] = "";
	int rc = gguf_open_memory(b.p, b.len, &g, err, sizeof err);
	if (rc)
		printf("    %s\n", err);
	CHECK_EQ_INT(rc, 0);
	if (!g) {
		free(b.p);
		return;
	}
	check_str_key(g, "general.architecture", "test");
	uint32_t u32 = 0;
	int32_t i32 = 0;
	uint64_t u64 = 0;
	float f = 0;
	bool bl = false;
	CHECK_EQ_INT(gguf_get_u32(g, "t.u8", &u32), 0);
	CHECK_EQ_INT(u32, 200);
	CHECK_EQ_INT(gguf_get_u32(g, "t.u16", &u32), 0);
	CHECK_EQ_INT(u32, 60000);
	CHECK_EQ_INT(gguf_get_u32(g, "t.u32", &u32), 0);
	CHECK_EQ_INT(u32, 4000000000u);
	CHECK_EQ_INT(gguf_get_u32(g, "t.i8", &u32), MX_EINVAL);	 /* negative */
	CHECK_EQ_INT(gguf_get_u32(g, "t.i32", &u32), MX_EINVAL); /* negative */
	CHECK_EQ_INT(gguf_get_u32(g, "t.u64", &u32), MX_EINVAL); /* too large */
	CHECK_EQ_INT(gguf_get_u32(g, "t.f32", &u32), MX_EINVAL);
	CHECK_EQ_INT(gguf_get_u32(g, "t.bool", &u32), MX_EINVAL);
	CHECK_EQ_INT(gguf_get_u32(g, "general.architecture", &u32), MX_EINVAL);
	CHECK_EQ_INT(gguf_get_i32(g, "t.i8", &i32), 0);
	CHECK_EQ_INT(i32, -5);
	CHECK_EQ_INT(gguf_get_i32(g, "t.i16", &i32), 0);
	CHECK_EQ_INT(i32, -300);
	CHECK_EQ_INT(gguf_get_i32(g, "t.i32", &i32), 0);
	CHECK_EQ_INT(i32, -7);
	CHECK_EQ_INT(gguf_get_i32(g, "t.i64", &i32), 0);
	CHECK_EQ_INT(i32, -9);
	CHECK_EQ_INT(gguf_get_i32(g, "t.u32", &i32), MX_EINVAL); /* > INT32_MAX */
	CHECK_EQ_INT(gguf_get_u64(g, "t.u64", &u64), 0);
	CHECK_EQ_INT(u64, 1ull << 40);
	CHECK_EQ_INT(gguf_get_u64(g, "t.u8", &u64), 0);
	CHECK_EQ_INT(u64, 200);
	CHECK_EQ_INT(gguf_get_u64(g, "t.i64", &u64), MX_EINVAL);
	CHECK_EQ_INT(gguf_get_f32(g, "t.f32", &f), 0);
	CHECK(f == 1.5f);
	CHECK_EQ_INT(gguf_get_f32(g, "t.f64", &f), 0);
	CHECK(f == 0.25f);
	CHECK_EQ_INT(gguf_get_f32(g, "t.u32", &f), MX_EINVAL);
	CHECK_EQ_INT(gguf_get_bool(g, "t.bool", &bl), 0);
	CHECK(bl);
	CHECK_EQ_INT(gguf_get_bool(g, "t.u8", &bl), MX_EINVAL);
	const char *s = NULL;
	size_t len = 0;
	CHECK_EQ_INT(gguf_get_str(g, "t.strs", &s, &len), MX_EINVAL);
	enum gguf_vtype elem = GGUF_U8;
	CHECK_EQ_INT(gguf_get_arr(g, "t.strs", &elem, &u64), 0);
	CHECK_EQ_INT(elem, GGUF_STRING);
	CHECK_EQ_INT(u64, 3);
	CHECK_EQ_INT(gguf_get_arr_str(g, "t.strs", 0, &s, &len), 0);
	CHECK(str_is(s, len, "alpha"));
	CHECK_EQ_INT(gguf_get_arr_str(g, "t.strs", 1, &s, &len), 0);
	CHECK_EQ_INT(len, 0);
	CHECK_EQ_INT(gguf_get_arr_str(g, "t.strs", 2, &s, &len), 0);
	CHECK(str_is(s, len, "gamma"));
	CHECK_EQ_INT(gguf_get_arr_str(g, "t.strs", 3, &s, &len), MX_EINVAL);
	CHECK_EQ_INT(gguf_get_arr_str(g, "t.i16s", 0, &s, &len), MX_EINVAL);
	int32_t iv[4] = { 0 };
	CHECK_EQ_INT(gguf_get_arr_i32(g, "t.i16s", iv, 4), 0);
	CHECK(iv[0] == -1500 && iv[1] == -500 && iv[2] == 500 && iv[3] == 1500);
	CHECK_EQ_INT(gguf_get_arr_i32(g, "t.i16s", iv, 5), MX_EINVAL);
	CHECK_EQ_INT(gguf_get_arr_i32(g, "t.u32s", iv, 1), 0);
	CHECK_EQ_INT(iv[0], 7);
	CHECK_EQ_INT(gguf_get_arr_i32(g, "t.u32s", iv, 2), MX_EINVAL); /* 3e9 */
	CHECK_EQ_INT(gguf_get_arr_i32(g, "t.strs", iv, 1), MX_EINVAL);
	CHECK_EQ_INT(gguf_get_arr_i32(g, "t.i32", iv, 1), MX_EINVAL);
	float fv[2] = { 0 };
	CHECK_EQ_INT(gguf_get_arr_f32(g, "t.f64s", fv, 2), 0);
	CHECK(fv[0] == 0.25f && fv[1] == 0.25f);
	CHECK_EQ_INT(gguf_get_arr_f32(g, "t.i16s", fv, 2), MX_EINVAL);
	CHECK_EQ_INT(gguf_get_u32(g, "t.missing", &u32), MX_ENOTFOUND);
	CHECK_EQ_INT(gguf_get_arr(g, "t.missing", &elem, &u64), MX_ENOTFOUND);
	CHECK_EQ_INT(gguf_get_arr_f32(g, "t.missing", fv, 1), MX_ENOTFOUND);
	gguf_close(g);
	free(b.p);
}

static void built_file_tensors(void)
{
	struct gb b = { 0 };
	struct where w;
	build_std(&b, &w);
	struct gguf *g = NULL;
	char err[256] = "";
	CHECK_EQ_INT(gguf_open_memory(b.p, b.len, &g, err, sizeof err), 0);
	if (!g) {
		free(b.p);
		return;
	}
	CHECK_EQ_INT(gguf_n_tensors(g), 5);
	float out[64];
	const struct gguf_tensor *t = gguf_tensor(g, "f32");
	CHECK(t && t->n_dims == 2 && t->ne[0] == 4 && t->ne[1] == 2 && t->nbytes == 32);
	CHECK(t && (uintptr_t)t->data % 4 == 0);
	CHECK_EQ_INT(gguf_tensor_f32(t, out, 8), 0);
	CHECK(memcmp(out, f32_data, sizeof f32_data) == 0);
	CHECK_EQ_INT(gguf_tensor_row_f32(t, 1, out), 0);
	CHECK(out[0] == 1e-3f && out[1] == -1e30f && out[3] == 8);
	CHECK_EQ_INT(gguf_tensor_row_f32(t, 2, out), MX_EINVAL);
	CHECK_EQ_INT(gguf_tensor_f32(t, out, 7), MX_EINVAL);

	t = gguf_tensor(g, "f16");
	CHECK(t && t->n_dims == 1 && t->ne[1] == 1);
	CHECK_EQ_INT(gguf_tensor_f32(t, out, 6), 0);
	CHECK(out[0] == 1.0f && out[1] == -0x1p-24f && isinf(out[2]) && out[3] == 65504.0f &&
	      out[4] == 0.0f && out[5] == -1.0f);

	t = gguf_tensor(g, "q8_0");
	CHECK_EQ_INT(gguf_tensor_f32(t, out, 64), 0);
	int bad = 0;
	for (int k = 0; k < 32; k++)
		bad += out[k] != 0.5f * (float)(k - 16) || out[32 + k] != 0.5f * (float)(16 - k);
	CHECK_EQ_INT(bad, 0);

	t = gguf_tensor(g, "q4_0");
	CHECK_EQ_INT(gguf_tensor_row_f32(t, 0, out), 0);
	for (int k = 0; k < 16; k++)
		bad += out[k] != 2.0f * (float)(k - 8) || out[16 + k] != 2.0f * (float)(7 - k);
	CHECK_EQ_INT(bad, 0);

	t = gguf_tensor(g, "bf16");
	CHECK(t && t->n_dims == 4 && t->ne[3] == 2);
	CHECK_EQ_INT(gguf_tensor_f32(t, out, 4), 0);
	CHECK(out[0] == 1.0f && out[1] == 2.0f && out[2] == -1.0f && out[3] == 0.0f);
	CHECK_EQ_INT(gguf_tensor_row_f32(t, 1, out), 0); /* rows run over ne1..ne3 */
	CHECK(out[0] == -1.0f);
	gguf_close(g);

	/* a type with a known layout but no decoder opens; decoding refuses */
	uint8_t iq[66] = { 0 };
	struct tspec one = { "iq2", 16, 1, { 256 }, iq, sizeof iq };
	build(&b, NULL, &one, 1, 32, &w);
	CHECK_EQ_INT(gguf_open_memory(b.p, b.len, &g, err, sizeof err), 0);
	if (g) {
		t = gguf_tensor(g, "iq2");
		CHECK(t && t->nbytes == 66);
		float row[256];
		CHECK_EQ_INT(gguf_tensor_row_f32(t, 0, row), MX_EUNSUPPORTED);
		CHECK_EQ_INT(gguf_tensor_f32(t, row, 256), MX_EUNSUPPORTED);
		gguf_close(g);
	}

	/* another alignment */
	struct tspec ts[8];
	size_t nt = std_tensors(ts);
	build(&b, NULL, ts, nt, 64, &w);
	CHECK_EQ_INT(gguf_open_memory(b.p, b.len, &g, err, sizeof err), 0);
	if (g) {
		CHECK_EQ_INT(((const uint8_t *)gguf_tensor(g, "q8_0")->data - b.p) % 64, 0);
		gguf_close(g);
	}
	free(b.p);
}

/* ---- hostile files ----------------------------------------------------------------- */

/* Opening data[0..len) must fail with want, or with MX_ECORRUPT or
 * MX_EUNSUPPORTED when want is 0 (where the reader sees the corruption
 * depends on what the bytes past it happen to be). */
static void expect_fail(const uint8_t *data, size_t len, int want, const char *what)
{
	char err[256] = "";
	int rc = open_copy(data, len, err, sizeof err);
	bool ok = want ? rc == want : rc == MX_ECORRUPT || rc == MX_EUNSUPPORTED;
	if (!ok)
		printf("    %s: status %d (%s), want %d\n", what, rc, err, want);
	CHECK(ok);
}

/* Every cut of data in [from, to) (step) must fail with MX_ECORRUPT. */
static void expect_truncations_fail(const uint8_t *data, size_t from, size_t to, size_t step,
				    const char *what)
{
	int wrong = 0;
	for (size_t cut = from; cut < to; cut += step) {
		char err[256] = "";
		int rc = open_copy(data, cut, err, sizeof err);
		if (rc != MX_ECORRUPT && wrong++ < 3)
			printf("    %s cut at %zu: status %d (%s)\n", what, cut, rc, err);
	}
	CHECK_EQ_INT(wrong, 0);
}

static void hostile_truncations(void)
{
	struct gb b = { 0 };
	struct where w;
	build_std(&b, &w);
	expect_truncations_fail(b.p, 0, w.end, 1, "built file");
	free(b.p);

	size_t len = 0;
	uint8_t *data = load_fixture("bert/bert-minilm-shape-q8_0.gguf", &len);
	if (!data)
		return;
	struct gguf *g = NULL;
	char err[256];
	CHECK_EQ_INT(gguf_open_memory(data, len, &g, err, sizeof err), 0);
	if (g) {
		/* the data section starts at or before the lowest tensor */
		size_t first = len, end = 0;
		for (size_t i = 0; i < gguf_n_tensors(g); i++) {
			const struct gguf_tensor *t = gguf_tensor_at(g, i);
			size_t at = (size_t)((const uint8_t *)t->data - data);
			first = at < first ? at : first;
			end = at + t->nbytes > end ? at + t->nbytes : end;
		}
		gguf_close(g);
		expect_truncations_fail(data, 0, 65536, 7, "bert head");
		/* the tensor infos (~6 KB before the data) */
		expect_truncations_fail(data, first > 9000 ? first - 9000 : 0, first + 64, 7,
					"bert tensor infos");
		size_t near_end[] = { end - 1, end - 2, end - 33, end - 4096, end - 1000000 };
		for (size_t i = 0; i < sizeof near_end / sizeof near_end[0]; i++)
			expect_fail(data, near_end[i], MX_ECORRUPT, "bert near the end");
	}
	free(data);

	data = load_fixture("tokenizers/ggml-vocab-bert-bge.gguf", &len);
	if (!data)
		return;
	expect_truncations_fail(data, 0, 65536, 7, "vocab head");
	expect_truncations_fail(data, len - 4096, len, 13, "vocab end");
	free(data);
}

/* Offset of the first occurrence of a GGUF string s (length + bytes). */
static size_t find_gguf_str(const uint8_t *data, size_t len, const char *s)
{
	uint8_t pat[128];
	size_t n = strlen(s);
	put_le64(pat, n);
	memcpy(pat + 8, s, n);
	const uint8_t *p = memmem(data, len, pat, n + 8);
	return p ? (size_t)(p - data) : 0;
}

static void hostile_header_and_counts(void)
{
	struct gb b = { 0 };
	struct where w;
	build_std(&b, &w);
	uint8_t *p = b.p;
	uint8_t save[16];

	expect_fail(p, 0, MX_ECORRUPT, "empty");
	memcpy(save, p, 8);
	memcpy(p, "GGUG", 4);
	expect_fail(p, b.len, MX_ECORRUPT, "bad magic");
	memcpy(p, save, 8);
	put_le32(p + 4, 1);
	expect_fail(p, b.len, MX_EUNSUPPORTED, "version 1");
	put_le32(p + 4, 4);
	expect_fail(p, b.len, MX_EUNSUPPORTED, "version 4");
	put_le32(p + 4, 0x03000000);
	expect_fail(p, b.len, MX_EUNSUPPORTED, "big endian");
	put_le32(p + 4, 2); /* version 2 has the same layout */
	{
		char err[256];
		CHECK_EQ_INT(open_copy(p, b.len, err, sizeof err), 0);
	}
	memcpy(p, save, 8);

	static const uint64_t counts[] = { 1ull << 60, 1ull << 62, UINT64_MAX, 1000001, 6, 1000 };
	for (size_t i = 0; i < sizeof counts / sizeof counts[0]; i++) {
		memcpy(save, p + w.n_tensors, 16);
		put_le64(p + w.n_tensors, counts[i]);
		expect_fail(p, b.len, 0, "n_tensors");
		memcpy(p + w.n_tensors, save, 16);
		put_le64(p + w.n_kv, counts[i]);
		expect_fail(p, b.len, 0, "n_kv");
		memcpy(p + w.n_tensors, save, 16);
	}

	/* string lengths: a key, a value, a string-array element */
	static const uint64_t lens[] = { 1ull << 63, UINT64_MAX, 1ull << 32, 100000 };
	size_t at[] = { w.first_key, w.first_key + 8 + 20 + 4, find_gguf_str(p, b.len, "alpha"),
			find_gguf_str(p, b.len, "gamma") };
	for (size_t i = 0; i < sizeof lens / sizeof lens[0]; i++) {
		for (size_t k = 0; k < sizeof at / sizeof at[0]; k++) {
			CHECK(at[k] != 0);
			memcpy(save, p + at[k], 8);
			put_le64(p + at[k], lens[i]);
			expect_fail(p, b.len, MX_ECORRUPT, "string length");
			memcpy(p + at[k], save, 8);
		}
	}

	/* array counts and element types */
	size_t arr = find_gguf_str(p, b.len, "t.i16s") + 8 + 6 + 4;
	static const uint64_t acounts[] = { 1ull << 62, 1ull << 63, UINT64_MAX, 1ull << 61,
					    100000 };
	for (size_t i = 0; i < sizeof acounts / sizeof acounts[0]; i++) {
		memcpy(save, p + arr, 12);
		put_le64(p + arr + 4, acounts[i]);
		expect_fail(p, b.len, MX_ECORRUPT, "array count");
		memcpy(p + arr, save, 12);
	}
	size_t sarr = find_gguf_str(p, b.len, "t.strs") + 8 + 6 + 4;
	memcpy(save, p + sarr, 12);
	put_le64(p + sarr + 4, 1ull << 62);
	expect_fail(p, b.len, MX_ECORRUPT, "string array count");
	put_le64(p + sarr + 4, 4);
	expect_fail(p, b.len, MX_ECORRUPT, "string array count + 1");
	memcpy(p + sarr, save, 12);
	put_le32(p + arr, 13);
	expect_fail(p, b.len, MX_ECORRUPT, "array of type 13");
	put_le32(p + arr, GGUF_ARRAY);
	expect_fail(p, b.len, MX_EUNSUPPORTED, "array of arrays");
	memcpy(p + arr, save, 12);
	size_t u8 = find_gguf_str(p, b.len, "t.u8") + 8 + 4;
	put_le32(p + u8, 13);
	expect_fail(p, b.len, MX_ECORRUPT, "value type 13");
	put_le32(p + u8, 0xffffffffu);
	expect_fail(p, b.len, MX_ECORRUPT, "value type 2^32-1");
	put_le32(p + u8, GGUF_U8);

	free(b.p);
}

static size_t dup_kvs(struct gb *b)
{
	gb_key(b, "a", GGUF_U32);
	gb_u32(b, 1);
	gb_key(b, "b", GGUF_U32);
	gb_u32(b, 2);
	gb_key(b, "a", GGUF_U8);
	gb_u8(b, 3);
	return 3;
}

static size_t align_u64_kvs(struct gb *b)
{
	gb_key(b, "general.alignment", GGUF_U64);
	gb_u64(b, 32);
	return 1;
}

static size_t align_48_kvs(struct gb *b)
{
	gb_key(b, "general.alignment", GGUF_U32);
	gb_u32(b, 48);
	return 1;
}

static size_t align_0_kvs(struct gb *b)
{
	gb_key(b, "general.alignment", GGUF_U32);
	gb_u32(b, 0);
	return 1;
}

static size_t no_kvs(struct gb *b)
{
	(void)b;
	return 0;
}

static void hostile_keys_and_alignment(void)
{
	struct gb b = { 0 };
	struct where w;
	struct tspec t[8];
	size_t nt = std_tensors(t);
	build(&b, dup_kvs, NULL, 0, 32, &w);
	expect_fail(b.p, b.len, MX_ECORRUPT, "duplicate key");
	build(&b, align_u64_kvs, t, nt, 32, &w);
	expect_fail(b.p, b.len, MX_ECORRUPT, "alignment as u64");
	build(&b, align_48_kvs, t, nt, 32, &w);
	expect_fail(b.p, b.len, MX_ECORRUPT, "alignment 48");
	build(&b, align_0_kvs, t, nt, 32, &w);
	expect_fail(b.p, b.len, MX_ECORRUPT, "alignment 0");
	/* a file without keys or tensors is fine */
	build(&b, no_kvs, NULL, 0, 32, &w);
	{
		char err[256];
		struct gguf *g = NULL;
		CHECK_EQ_INT(gguf_open_memory(b.p, b.len, &g, err, sizeof err), 0);
		if (g) {
			uint32_t v;
			CHECK_EQ_INT(gguf_n_tensors(g), 0);
			CHECK_EQ_INT(gguf_get_u32(g, "general.alignment", &v), MX_ENOTFOUND);
			gguf_close(g);
		}
	}
	/* duplicate tensor names */
	t[1].name = t[0].name;
	build(&b, NULL, t, nt, 32, &w);
	expect_fail(b.p, b.len, MX_ECORRUPT, "duplicate tensor");
	free(b.p);
}

/* Corrupts one tensor info of data (a copy), at the info starting at ti:
 * the fields after the name. */
struct tfields {
	size_t n_dims, ne, type, offset; /* offsets in the file */
};

static struct tfields tensor_fields(const uint8_t *data, size_t ti)
{
	struct tfields f;
	uint64_t name_len = get_le64(data + ti);
	f.n_dims = ti + 8 + (size_t)name_len;
	uint32_t nd = data[f.n_dims];
	f.ne = f.n_dims + 4;
	f.type = f.ne + 8 * nd;
	f.offset = f.type + 4;
	return f;
}

static void corrupt_tensor_info(uint8_t *data, size_t len, size_t ti, const char *what)
{
	struct tfields f = tensor_fields(data, ti);
	uint8_t save[64];
	size_t span = f.offset + 8 - f.n_dims;
	if (span > sizeof save) {
		CHECK(!"tensor info too long");
		return;
	}
	memcpy(save, data + f.n_dims, span);
	char msg[128];
#define RESTORE() memcpy(data + f.n_dims, save, span)
	static const uint32_t bad_dims[] = { 0, 5, 7, 0xffffffffu };
	for (size_t i = 0; i < sizeof bad_dims / sizeof bad_dims[0]; i++) {
		put_le32(data + f.n_dims, bad_dims[i]);
		snprintf(msg, sizeof msg, "%s: n_dims %u", what, bad_dims[i]);
		expect_fail(data, len, MX_ECORRUPT, msg);
		RESTORE();
	}
	static const uint32_t bad_types[] = { 999, 4, 5, 31, 40, 0xffffffffu };
	for (size_t i = 0; i < sizeof bad_types / sizeof bad_types[0]; i++) {
		put_le32(data + f.type, bad_types[i]);
		snprintf(msg, sizeof msg, "%s: type %u", what, bad_types[i]);
		expect_fail(data, len, MX_EUNSUPPORTED, msg);
		RESTORE();
	}
	/* a block type whose row is not whole blocks */
	put_le64(data + f.ne, 33);
	put_le32(data + f.type, GGML_Q8_0);
	expect_fail(data, len, MX_ECORRUPT, "row of 33 Q8_0 values");
	RESTORE();
	/* shapes: zero, huge, product overflowing */
	put_le64(data + f.ne, 0);
	expect_fail(data, len, MX_ECORRUPT, "ne0 = 0");
	RESTORE();
	put_le64(data + f.ne, UINT64_MAX - 31);
	expect_fail(data, len, MX_ECORRUPT, "ne0 = 2^64 - 32");
	RESTORE();
	put_le64(data + f.ne, 1ull << 62);
	expect_fail(data, len, MX_ECORRUPT, "ne0 = 2^62");
	RESTORE();
	if (f.type - f.ne >= 16) {
		put_le64(data + f.ne, 1ull << 32);
		put_le64(data + f.ne + 8, 1ull << 32);
		expect_fail(data, len, MX_ECORRUPT, "ne product 2^64");
		RESTORE();
		put_le64(data + f.ne, 1ull << 31);
		put_le64(data + f.ne + 8, 1ull << 31);
		expect_fail(data, len, MX_ECORRUPT, "ne product 2^62 (past the end)");
		RESTORE();
	}
	/* offsets: past the end, misaligned, wrapping */
	uint64_t off = get_le64(data + f.offset);
	static const uint64_t bad_offs[] = { 1ull << 40, UINT64_MAX - 31, 1ull << 63,
					     (uint64_t)1 << 62 };
	for (size_t i = 0; i < sizeof bad_offs / sizeof bad_offs[0]; i++) {
		put_le64(data + f.offset, bad_offs[i]);
		expect_fail(data, len, MX_ECORRUPT, "offset past the end");
		RESTORE();
	}
	put_le64(data + f.offset, off + 1);
	expect_fail(data, len, MX_ECORRUPT, "misaligned offset");
	RESTORE();
	put_le64(data + f.offset, off + 16);
	expect_fail(data, len, MX_ECORRUPT, "offset off by 16");
	RESTORE();
	put_le64(data + f.offset, (uint64_t)len);
	expect_fail(data, len, MX_ECORRUPT, "offset at the end");
	RESTORE();
#undef RESTORE
}

static void hostile_tensor_infos(void)
{
	struct gb b = { 0 };
	struct where w;
	build_std(&b, &w);
	for (size_t i = 0; i < 5; i++)
		if (i != 1) /* the F16 [6] is 12 bytes: offset + 16 would still fit */
			corrupt_tensor_info(b.p, b.len, w.tinfo[i], "built file");
	/* the last tensor grows past the end of the file (and its padding) */
	struct tfields f = tensor_fields(b.p, w.tinfo[4]);
	put_le64(b.p + f.ne + 24, 16);
	expect_fail(b.p, b.len, MX_ECORRUPT, "bf16 past the end");
	free(b.p);

	size_t len = 0;
	uint8_t *data = load_fixture("bert/bert-minilm-shape-q8_0.gguf", &len);
	if (!data)
		return;
	/* tensor names appear nowhere else in the file */
	static const char *const names[] = { "token_embd.weight", "blk.5.ffn_down.bias",
					     "position_embd.weight" };
	for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
		size_t at = find_gguf_str(data, len, names[i]);
		CHECK(at != 0);
		if (at)
			corrupt_tensor_info(data, len, at, names[i]);
	}
	/* the counts of the fixture */
	uint8_t save[16];
	memcpy(save, data + 8, 16);
	put_le64(data + 8, 1ull << 60);
	expect_fail(data, len, MX_ECORRUPT, "bert n_tensors 2^60");
	memcpy(data + 8, save, 16);
	put_le64(data + 16, 1ull << 62);
	expect_fail(data, len, MX_ECORRUPT, "bert n_kv 2^62");
	memcpy(data + 8, save, 16);
	memcpy(save, data + 24, 8);
	put_le64(data + 24, 1ull << 63);
	expect_fail(data, len, MX_ECORRUPT, "bert first key length 2^63");
	memcpy(data + 24, save, 8);
	size_t tok = find_gguf_str(data, len, "tokenizer.ggml.tokens");
	CHECK(tok != 0);
	if (tok) {
		size_t cnt = tok + 8 + 21 + 4 + 4;
		memcpy(save, data + cnt, 8);
		put_le64(data + cnt, 1ull << 62);
		expect_fail(data, len, MX_ECORRUPT, "bert tokens count 2^62");
		memcpy(data + cnt, save, 8);
	}
	char err[256];
	struct gguf *g = NULL;
	CHECK_EQ_INT(gguf_open_memory(data, len, &g, err, sizeof err), 0); /* all restored */
	gguf_close(g);
	free(data);
}

static void open_errors(void)
{
	char err[256] = "";
	struct gguf *g = (struct gguf *)&err; /* must be reset to NULL */
	CHECK_EQ_INT(gguf_open("/nonexistent/model.gguf", &g, err, sizeof err), MX_ENOTFOUND);
	CHECK(g == NULL);
	CHECK(strstr(err, "/nonexistent/model.gguf") != NULL);
	const char *dir = test_tmpdir();
	CHECK_EQ_INT(gguf_open(dir, &g, err, sizeof err), MX_ENOTREG);
	test_write(dir, "empty.gguf", "", 0);
	char *p = mx_path_join(dir, "empty.gguf");
	err[0] = '\0';
	CHECK_EQ_INT(gguf_open(p, &g, err, sizeof err), MX_ECORRUPT);
	CHECK(err[0] != '\0');
	free(p);
	test_write_str(dir, "text.gguf", "this is not a model at all, just some text\n");
	p = mx_path_join(dir, "text.gguf");
	CHECK_EQ_INT(gguf_open(p, &g, err, sizeof err), MX_ECORRUPT);
	CHECK(strstr(err, "magic") != NULL);
	free(p);
	/* a built file through the file path, and a truncated one */
	struct gb b = { 0 };
	struct where w;
	build_std(&b, &w);
	test_write(dir, "ok.gguf", b.p, b.len);
	test_write(dir, "cut.gguf", b.p, w.end - 1);
	p = mx_path_join(dir, "ok.gguf");
	CHECK_EQ_INT(gguf_open(p, &g, err, sizeof err), 0);
	if (g) {
		float out[8];
		CHECK_EQ_INT(gguf_tensor_f32(gguf_tensor(g, "f32"), out, 8), 0);
		CHECK(out[2] == 3.5f);
		gguf_close(g);
	}
	free(p);
	p = mx_path_join(dir, "cut.gguf");
	err[0] = '\0';
	CHECK_EQ_INT(gguf_open(p, &g, err, sizeof err), MX_ECORRUPT);
	CHECK(strstr(err, "bf16") != NULL);
	free(p);
	free(b.p);
	gguf_close(NULL);
	CHECK_EQ_INT(gguf_open_memory(NULL, 4, &g, err, sizeof err), MX_EINVAL);
}

/* clang-format off */
static const struct test_case tests[] = {
	TEST(fixtures_architectures),
	TEST(bert_metadata),
	TEST(bert_tensors),
	TEST(llama_metadata_and_shapes),
	TEST(llama_dequant_every_tensor),
	TEST(dequant_matches_f32_masters),
	TEST(f16_and_bf16),
	TEST(block_formulas),
	TEST(built_file_values),
	TEST(built_file_tensors),
	TEST(hostile_truncations),
	TEST(hostile_header_and_counts),
	TEST(hostile_keys_and_alignment),
	TEST(hostile_tensor_infos),
	TEST(open_errors),
};
/* clang-format on */
TEST_MAIN(tests)
