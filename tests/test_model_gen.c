/*
 * test_model_gen.c - the GGUF writer (engine/gguf_write.c) and the
 * random-weight model generator (engine/model_gen.c): what they write is
 * read back with the GGUF reader and opened by the engine.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "../common/fsutil.h"
#include "../common/status.h"
#include "../engine/engine.h"
#include "../engine/gguf.h"
#include "../engine/gguf_write.h"
#include "../engine/model_gen.h"
#include "../engine/quant.h"
#include "harness.h"

static char *tmp_path(const char *name)
{
	static char buf[8][512];
	static int i;
	char *p = buf[i++ % 8];
	snprintf(p, 512, "%s/%s", test_tmpdir(), name);
	return p;
}

static bool file_exists(const char *path)
{
	struct stat sb;
	return stat(path, &sb) == 0;
}

/* ---- the writer ------------------------------------------------------------------------ */

static void writer_round_trip(void)
{
	const char *path = tmp_path("w.gguf");
	struct gguf_writer *w = NULL;
	CHECK(gguf_writer_new(&w) == 0);
	gguf_writer_kv_str(w, "general.architecture", "test");
	gguf_writer_kv_u32(w, "t.u32", 7);
	gguf_writer_kv_f32(w, "t.f32", 1.5f);
	gguf_writer_kv_bool(w, "t.bool", true);
	gguf_writer_arr_begin(w, "t.strs", GGUF_STRING, 2);
	gguf_writer_arr_str(w, "ab", 2);
	gguf_writer_arr_str(w, "", 0);
	gguf_writer_arr_begin(w, "t.i32", GGUF_I32, 3);
	for (int i = 0; i < 3; i++)
		gguf_writer_arr_i32(w, -i);
	gguf_writer_arr_begin(w, "t.f32s", GGUF_F32, 1);
	gguf_writer_arr_f32(w, 0.25f);
	const uint64_t ne_a[2] = { 3, 2 }, ne_b[1] = { 32 };
	CHECK(gguf_writer_tensor(w, "a", GGML_F32, 2, ne_a) == 0);
	CHECK(gguf_writer_tensor(w, "b", GGML_Q8_0, 1, ne_b) == 0);
	CHECK(gguf_writer_data_size(w) == 32 + 64);
	CHECK(gguf_writer_begin(w, path) == 0);
	const float a[6] = { 1, 2, 3, 4, 5, 6 };
	CHECK(gguf_writer_data(w, a, 10) == 0); /* in pieces of any size */
	CHECK(gguf_writer_data_left(w) == 14);
	CHECK(gguf_writer_data(w, (const char *)a + 10, 14) == 0);
	unsigned char q[34] = { 0x00, 0x3c }; /* d = 1 */
	for (int i = 0; i < 32; i++)
		q[2 + i] = (unsigned char)(i - 16);
	CHECK(gguf_writer_data(w, q, sizeof q) == 0);
	CHECK(gguf_writer_data(w, q, 1) == MX_EINVAL); /* past the end */
	gguf_writer_free(w);
	CHECK(!file_exists(path)); /* the error stuck: nothing was finished */

	CHECK(gguf_writer_new(&w) == 0);
	gguf_writer_kv_str(w, "general.architecture", "test");
	gguf_writer_kv_u32(w, "t.u32", 7);
	CHECK(gguf_writer_tensor(w, "a", GGML_F32, 2, ne_a) == 0);
	CHECK(gguf_writer_tensor(w, "b", GGML_Q8_0, 1, ne_b) == 0);
	CHECK(gguf_writer_begin(w, path) == 0);
	CHECK(gguf_writer_data(w, a, sizeof a) == 0);
	CHECK(gguf_writer_data(w, q, sizeof q) == 0);
	CHECK(gguf_writer_finish(w) == 0);
	gguf_writer_free(w);

	struct gguf *g = NULL;
	char err[256];
	CHECK(gguf_open(path, &g, err, sizeof err) == 0);
	if (!g)
		return;
	uint32_t u = 0;
	CHECK(gguf_get_u32(g, "t.u32", &u) == 0 && u == 7);
	CHECK(gguf_get_u32(g, "general.alignment", &u) == 0 && u == 32); /* added at the end */
	const struct gguf_tensor *t = gguf_tensor(g, "a");
	CHECK(t && t->type == GGML_F32 && t->ne[0] == 3 && t->ne[1] == 2 &&
	      !memcmp(t->data, a, sizeof a));
	float row[32];
	t = gguf_tensor(g, "b");
	CHECK(t && gguf_tensor_row_f32(t, 0, row) == 0 && row[0] == -16 && row[31] == 15);
	/* key/values copied as they are */
	const char *copy = tmp_path("copy.gguf");
	CHECK(gguf_writer_new(&w) == 0);
	for (size_t i = 0; i < gguf_n_kv(g); i++)
		gguf_writer_kv_copy(w, g, i);
	CHECK(gguf_writer_begin(w, copy) == 0 && gguf_writer_finish(w) == 0);
	gguf_writer_free(w);
	struct gguf *g2 = NULL;
	CHECK(gguf_open(copy, &g2, err, sizeof err) == 0);
	CHECK(gguf_n_kv(g2) == gguf_n_kv(g));
	CHECK(gguf_get_u32(g2, "t.u32", &u) == 0 && u == 7);
	gguf_close(g2);
	gguf_close(g);
}

static void writer_misuse(void)
{
	const char *path = tmp_path("bad.gguf");
	struct gguf_writer *w = NULL;
	const uint64_t ne[1] = { 4 }, ne_q[1] = { 33 };
	/* an array left short */
	CHECK(gguf_writer_new(&w) == 0);
	gguf_writer_arr_begin(w, "t.i32", GGUF_I32, 2);
	gguf_writer_arr_i32(w, 1);
	CHECK(gguf_writer_begin(w, path) == MX_EINVAL);
	CHECK(strstr(gguf_writer_errmsg(w), "short") != NULL);
	gguf_writer_free(w);
	/* two tensors of one name; rows that do not fit a block */
	CHECK(gguf_writer_new(&w) == 0);
	CHECK(gguf_writer_tensor(w, "x", GGML_Q8_0, 1, ne_q) == MX_EINVAL);
	gguf_writer_free(w);
	CHECK(gguf_writer_new(&w) == 0);
	gguf_writer_tensor(w, "x", GGML_F32, 1, ne);
	gguf_writer_tensor(w, "x", GGML_F32, 1, ne);
	CHECK(gguf_writer_begin(w, path) == MX_EINVAL);
	gguf_writer_free(w);
	/* data missing at finish: no file */
	CHECK(gguf_writer_new(&w) == 0);
	gguf_writer_tensor(w, "x", GGML_F32, 1, ne);
	CHECK(gguf_writer_begin(w, path) == 0);
	CHECK(gguf_writer_data(w, ne, 8) == 0);
	CHECK(gguf_writer_finish(w) == MX_EINVAL);
	gguf_writer_free(w);
	CHECK(!file_exists(path));
	/* a folder that does not exist */
	CHECK(gguf_writer_new(&w) == 0);
	CHECK(gguf_writer_begin(w, "/nonexistent-dir/x.gguf") == MX_ENOTFOUND);
	gguf_writer_free(w);
}

/* ---- the generator --------------------------------------------------------------------- */

static int gen(const char *shape, const char *type, const char *vocab, uint64_t seed,
	       const char *out)
{
	struct eng_model_gen_params p = eng_model_gen_params_default();
	char err[256];
	p.shape = shape;
	p.type = type;
	p.vocab = vocab;
	p.seed = seed;
	int rc = eng_model_gen(&p, out, err, sizeof err);
	if (rc)
		fprintf(stderr, "    gen %s %s: %s\n", shape, type, err);
	return rc;
}

static uint32_t type_of(const struct gguf *g, const char *name)
{
	const struct gguf_tensor *t = gguf_tensor(g, name);
	return t ? t->type : 999;
}

/* Mean and standard deviation of a tensor, dequantized. */
static void tensor_stats(const struct gguf_tensor *t, double *mean, double *sd)
{
	size_t n = (size_t)(t->ne[0] * t->ne[1]);
	float *v = malloc(n * sizeof *v);
	double s = 0, s2 = 0;
	CHECK(v && gguf_tensor_f32(t, v, n) == 0);
	for (size_t i = 0; v && i < n; i++) {
		s += v[i];
		s2 += (double)v[i] * v[i];
	}
	*mean = s / (double)n;
	*sd = sqrt(s2 / (double)n - *mean * *mean);
	free(v);
}

/* Every tensor dequantizes, weights have std ~0.02 and mean ~0 (within 5
 * standard errors), norms mean 1. */
static void check_values(const struct gguf *g)
{
	for (size_t i = 0; i < gguf_n_tensors(g); i++) {
		const struct gguf_tensor *t = gguf_tensor_at(g, i);
		double mean, sd;
		tensor_stats(t, &mean, &sd);
		bool norm = t->name_len > 12 && !memcmp(t->name + t->name_len - 11, "norm.weight", 11);
		double tol = 5 * 0.02 / sqrt((double)(t->ne[0] * t->ne[1])) + 1e-3;
		if (!(sd > 0.014 && sd < 0.026 && fabs(mean - (norm ? 1.0 : 0.0)) < tol))
			fprintf(stderr, "    %.*s: mean %g sd %g\n", (int)t->name_len, t->name, mean,
				sd);
		CHECK(sd > 0.014 && sd < 0.026);
		CHECK(fabs(mean - (norm ? 1.0 : 0.0)) < tol);
	}
}

static void gen_llama_tiny_types(void)
{
	static const struct {
		const char *type;
		uint32_t file_type, embd, q, v0, v1, down0, down1;
	} cases[] = {
		{ "f32", 0, GGML_F32, GGML_F32, GGML_F32, GGML_F32, GGML_F32, GGML_F32 },
		{ "f16", 1, GGML_F16, GGML_F16, GGML_F16, GGML_F16, GGML_F16, GGML_F16 },
		{ "q8_0", 7, GGML_Q8_0, GGML_Q8_0, GGML_Q8_0, GGML_Q8_0, GGML_Q8_0, GGML_Q8_0 },
		{ "q4_0", 2, GGML_Q6_K, GGML_Q4_0, GGML_Q4_0, GGML_Q4_0, GGML_Q4_0, GGML_Q4_0 },
		/* 2 layers: use_more_bits() picks layer 1 */
		{ "q4_k_m", 15, GGML_Q6_K, GGML_Q4_K, GGML_Q4_K, GGML_Q6_K, GGML_Q4_K, GGML_Q6_K },
	};
	for (size_t c = 0; c < sizeof cases / sizeof *cases; c++) {
		const char *path = tmp_path("llama-tiny.gguf");
		CHECK(gen("llama-tiny", cases[c].type, NULL, 7, path) == 0);
		struct gguf *g = NULL;
		char err[256];
		CHECK(gguf_open(path, &g, err, sizeof err) == 0);
		if (!g)
			continue;
		const char *arch;
		size_t len;
		uint32_t u = 0;
		float f = 0;
		CHECK(gguf_get_str(g, "general.architecture", &arch, &len) == 0 && len == 5 &&
		      !memcmp(arch, "llama", 5));
		CHECK(gguf_get_u32(g, "general.file_type", &u) == 0 && u == cases[c].file_type);
		CHECK(gguf_get_u32(g, "llama.block_count", &u) == 0 && u == 2);
		CHECK(gguf_get_u32(g, "llama.attention.head_count_kv", &u) == 0 && u == 2);
		CHECK(gguf_get_u32(g, "llama.rope.dimension_count", &u) == 0 && u == 64);
		CHECK(gguf_get_f32(g, "llama.rope.freq_base", &f) == 0 && f == 1e4f);
		CHECK(gguf_n_tensors(g) == 1 + 2 * 9 + 1);
		CHECK(gguf_tensor(g, "output.weight") == NULL); /* tied */
		const struct gguf_tensor *t = gguf_tensor(g, "blk.1.attn_k.weight");
		CHECK(t && t->ne[0] == 256 && t->ne[1] == 128);
		t = gguf_tensor(g, "token_embd.weight");
		CHECK(t && t->ne[0] == 256 && t->ne[1] == 1024);
		CHECK(type_of(g, "token_embd.weight") == cases[c].embd);
		CHECK(type_of(g, "blk.0.attn_q.weight") == cases[c].q);
		CHECK(type_of(g, "blk.0.attn_v.weight") == cases[c].v0);
		CHECK(type_of(g, "blk.1.attn_v.weight") == cases[c].v1);
		CHECK(type_of(g, "blk.0.ffn_down.weight") == cases[c].down0);
		CHECK(type_of(g, "blk.1.ffn_down.weight") == cases[c].down1);
		CHECK(type_of(g, "blk.0.attn_norm.weight") == GGML_F32);
		CHECK(gguf_get_arr(g, "tokenizer.ggml.tokens", &(enum gguf_vtype){ 0 }, &(uint64_t){ 0 }) ==
		      0);
		check_values(g);
		gguf_close(g);
	}
}

static void gen_qwen2_fallbacks(void)
{
	/* 128-wide rows cannot be K-quants: Q4_K -> Q5_0, Q6_K -> Q8_0 */
	const char *path = tmp_path("qwen2-tiny.gguf");
	CHECK(gen("qwen2-tiny", "q4_k_m", NULL, 3, path) == 0);
	struct gguf *g = NULL;
	char err[256];
	CHECK(gguf_open(path, &g, err, sizeof err) == 0);
	if (!g)
		return;
	CHECK(type_of(g, "token_embd.weight") == GGML_Q8_0);
	CHECK(type_of(g, "blk.0.attn_q.weight") == GGML_Q5_0);
	CHECK(type_of(g, "blk.1.attn_v.weight") == GGML_Q8_0);
	CHECK(type_of(g, "blk.0.ffn_down.weight") == GGML_Q4_K); /* 256-wide rows */
	CHECK(type_of(g, "blk.1.ffn_down.weight") == GGML_Q6_K);
	CHECK(type_of(g, "blk.0.attn_q.bias") == GGML_F32);
	const struct gguf_tensor *t = gguf_tensor(g, "blk.0.attn_k.bias");
	CHECK(t && t->n_dims == 1 && t->ne[0] == 64);
	float f = 0;
	CHECK(gguf_get_f32(g, "qwen2.rope.freq_base", &f) == 0 && f == 1e6f);
	check_values(g);
	gguf_close(g);
}

static void gen_reproducible(void)
{
	const char *a = tmp_path("a.gguf"), *b = tmp_path("b.gguf"), *c = tmp_path("c.gguf");
	CHECK(gen("bert-tiny", "q4_k_m", NULL, 5, a) == 0);
	CHECK(gen("bert-tiny", "q4_k_m", NULL, 5, b) == 0);
	CHECK(gen("bert-tiny", "q4_k_m", NULL, 6, c) == 0);
	char *da = NULL, *db = NULL, *dc = NULL;
	size_t la = 0, lb = 0, lc = 0;
	CHECK(mx_read_file(a, 1 << 26, &da, &la) == 0);
	CHECK(mx_read_file(b, 1 << 26, &db, &lb) == 0);
	CHECK(mx_read_file(c, 1 << 26, &dc, &lc) == 0);
	CHECK(la == lb && da && db && !memcmp(da, db, la));
	CHECK(la == lc && da && dc && memcmp(da, dc, la) != 0);
	struct stat sb;
	CHECK(stat(a, &sb) == 0 && (sb.st_mode & 0777) == 0600);
	free(da);
	free(db);
	free(dc);
}

static void gen_bad_arguments(void)
{
	const char *path = tmp_path("x.gguf");
	CHECK(gen("gpt-9", "f32", NULL, 1, path) == MX_EINVAL);
	CHECK(gen("minilm", "q3_k", NULL, 1, path) == MX_EINVAL);
	CHECK(gen("minilm", "f32", tmp_path("missing.gguf"), 1, path) == MX_ENOTFOUND);
	CHECK(!file_exists(path));
	/* a vocabulary larger than the shape's */
	const char *big = tmp_path("big-vocab.gguf");
	CHECK(gen("bert-tiny", "q8_0", NULL, 1, big) == 0);
	struct gguf *g = NULL;
	char err[256];
	CHECK(gguf_open(big, &g, err, sizeof err) == 0);
	gguf_close(g);
	const char *s = test_shared();
	if (s) {
		char v[512];
		snprintf(v, sizeof v, "%s/fixtures/tokenizers/ggml-vocab-gpt-2.gguf", s);
		CHECK(gen("qwen2-tiny", "f32", v, 1, path) == MX_EUNSUPPORTED);
	}
}

/* A vocabulary shorter than the shape is padded as the converter pads. */
static void gen_vocab_padding(void)
{
	const char *vocab = tmp_path("small-vocab.gguf"), *path = tmp_path("padded.gguf");
	struct gguf_writer *w = NULL;
	CHECK(gguf_writer_new(&w) == 0);
	gguf_writer_kv_str(w, "general.architecture", "gpt2");
	gguf_writer_kv_str(w, "tokenizer.ggml.model", "gpt2");
	gguf_writer_arr_begin(w, "tokenizer.ggml.tokens", GGUF_STRING, 3);
	gguf_writer_arr_str(w, "a", 1);
	gguf_writer_arr_str(w, "b", 1);
	gguf_writer_arr_str(w, "ab", 2);
	gguf_writer_arr_begin(w, "tokenizer.ggml.token_type", GGUF_I32, 3);
	for (int i = 0; i < 3; i++)
		gguf_writer_arr_i32(w, 1);
	gguf_writer_arr_begin(w, "tokenizer.ggml.merges", GGUF_STRING, 1);
	gguf_writer_arr_str(w, "a b", 3);
	CHECK(gguf_writer_begin(w, vocab) == 0 && gguf_writer_finish(w) == 0);
	gguf_writer_free(w);

	CHECK(gen("llama-tiny", "q8_0", vocab, 1, path) == 0);
	struct gguf *g = NULL;
	char err[256];
	CHECK(gguf_open(path, &g, err, sizeof err) == 0);
	if (!g)
		return;
	enum gguf_vtype elem;
	uint64_t n = 0;
	const char *s;
	size_t len;
	int32_t types[1024];
	CHECK(gguf_get_arr(g, "tokenizer.ggml.tokens", &elem, &n) == 0 && n == 1024);
	CHECK(gguf_get_arr_str(g, "tokenizer.ggml.tokens", 2, &s, &len) == 0 && len == 2);
	CHECK(gguf_get_arr_str(g, "tokenizer.ggml.tokens", 3, &s, &len) == 0 && len == 6 &&
	      !memcmp(s, "[PAD3]", 6));
	CHECK(gguf_get_arr_i32(g, "tokenizer.ggml.token_type", types, 1024) == 0 &&
	      types[2] == 1 && types[3] == 5 && types[1023] == 5);
	CHECK(gguf_get_arr(g, "tokenizer.ggml.merges", &elem, &n) == 0 && n == 1);
	CHECK(gguf_get_arr(g, "general.architecture", &elem, &n) != 0); /* not copied */
	gguf_close(g);
}

/* The generated BERT opens as an embedder and embeds. */
static void embed_with(const char *path, int dims)
{
	struct eng_params p = eng_params_default();
	struct eng_embedder *e = NULL;
	char err[256];
	CHECK(eng_embedder_open(path, &p, &e, err, sizeof err) == 0);
	if (!e) {
		fprintf(stderr, "    %s\n", err);
		return;
	}
	CHECK(eng_embedder_dims(e) == dims);
	const char *texts[2] = { "hello world", "a second, longer text about the weather" };
	float *v = calloc(2 * (size_t)dims, sizeof *v);
	CHECK(v && eng_embed(e, texts, 2, ENG_PASSAGE, v) == 0);
	double n0 = 0, dot = 0;
	for (int i = 0; v && i < dims; i++) {
		n0 += (double)v[i] * v[i];
		dot += (double)v[i] * v[dims + i];
	}
	CHECK(fabs(n0 - 1.0) < 1e-4);
	CHECK(dot < 0.99999); /* two texts, two vectors */
	free(v);
	eng_embedder_close(e);
}

static void gen_bert_embeds(void)
{
	const char *tiny = tmp_path("bert-tiny.gguf"), *mini = tmp_path("minilm.gguf");
	CHECK(gen("bert-tiny", "q8_0", NULL, 1, tiny) == 0);
	embed_with(tiny, 128);
	const char *s = test_shared();
	char v[512];
	if (s)
		snprintf(v, sizeof v, "%s/fixtures/tokenizers/ggml-vocab-bert-bge.gguf", s);
	else
		fprintf(stderr, "    (../shared absent: minilm with the placeholder vocabulary)\n");
	CHECK(gen("minilm", "f32", s ? v : NULL, 1, mini) == 0);
	struct gguf *g = NULL;
	char err[256];
	CHECK(gguf_open(mini, &g, err, sizeof err) == 0);
	if (g) {
		uint32_t u = 0;
		CHECK(gguf_get_u32(g, "bert.embedding_length", &u) == 0 && u == 384);
		CHECK(gguf_get_u32(g, "bert.pooling_type", &u) == 0 && u == 1);
		CHECK(gguf_n_tensors(g) == 5 + 6 * 16);
		const struct gguf_tensor *t = gguf_tensor(g, "blk.5.ffn_down.weight");
		CHECK(t && t->type == GGML_F32 && t->ne[0] == 1536 && t->ne[1] == 384);
		t = gguf_tensor(g, "position_embd.weight");
		CHECK(t && t->ne[1] == 512);
		gguf_close(g);
	}
	embed_with(mini, 384);
}

static const struct test_case tests[] = {
	TEST(writer_round_trip),   TEST(writer_misuse),	  TEST(gen_llama_tiny_types),
	TEST(gen_qwen2_fallbacks), TEST(gen_reproducible), TEST(gen_bad_arguments),
	TEST(gen_vocab_padding),   TEST(gen_bert_embeds),
};

TEST_MAIN(tests)
