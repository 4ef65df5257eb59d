/* test_bert.c - the WordPiece tokenizer and the BERT embedder against
 * llama.cpp's results (../shared/fixtures: tokenizers/ and bert/). */
#include <json.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "../common/fsutil.h"
#include "../common/status.h"
#include "../engine/engine_int.h"
#include "../engine/gguf.h"
#include "../engine/nn.h"
#include "../engine/wordpiece.h"
#include "harness.h"

#define VOCAB	 "tokenizers/ggml-vocab-bert-bge.gguf"
#define MODEL	 "bert/bert-minilm-shape-q8_0.gguf"
#define EMB_JSON "bert/bert-minilm-shape-q8_0.embeddings.json"

/* Tolerances of the fixtures' README ("Tolerances"): this engine computes
 * in float32 on the dequantized weights, so it is held tightly to
 * embedding_f32_dequant and loosely to llama.cpp's quantized path. */
#define TIGHT_1MCOS 1e-5
#define TIGHT_ABS   1e-3
#define LOOSE_1MCOS 1e-3
#define LOOSE_ABS   1e-2

/* ---- helpers ---------------------------------------------------------- */

/* The tokenizer of a fixture vocabulary, or NULL (with a failed check). */
static struct wordpiece *open_vocab(const char *path)
{
	struct gguf *g = NULL;
	struct wordpiece *wp = NULL;
	char err[256] = "";
	int rc = gguf_open(path, &g, err, sizeof err);
	if (CHECK_EQ_INT(rc, 0)) {
		rc = wp_open_gguf(g, &wp, err, sizeof err);
		CHECK_EQ_INT(rc, 0);
	}
	if (rc)
		printf("    %s: %s\n", path, err);
	gguf_close(g); /* the tokenizer keeps its own copy */
	return wp;
}

/* Tokenizes s; the ids are malloc'd into *ids (NULL when there are none). */
static size_t tokenize(const struct wordpiece *wp, const char *s, size_t len, unsigned flags,
		       int32_t **ids)
{
	size_t n = 0;
	*ids = NULL;
	CHECK_EQ_INT(wp_tokenize(wp, s, len, flags, NULL, 0, &n), 0);
	if (n) {
		*ids = malloc(n * sizeof **ids);
		size_t n2 = 0;
		CHECK_EQ_INT(wp_tokenize(wp, s, len, flags, *ids, n, &n2), 0);
		CHECK_EQ_INT(n2, n);
	}
	return n;
}

/* ---- WordPiece ------------------------------------------------------------ */

/* Every case of llama.cpp's own tokenizer test (.inp/.out, add_special
 * and parse_special off). */
static size_t wp_case(const void *ctx, const char *s, size_t len, int32_t **ids)
{
	return tokenize(ctx, s, len, 0, ids);
}

static void wordpiece_llama_cases(void)
{
	char vpath[4096];
	if (!test_fixture(vpath, sizeof vpath, VOCAB))
		return;
	struct wordpiece *wp = open_vocab(vpath);
	if (wp)
		test_llama_cases(vpath, "bert-bge", wp_case, wp);
	wp_free(wp);
}

/* bert-bge.tokens.json: each text in the three modes llama.cpp was run
 * in, the extra texts with special-token text included. */
static void wordpiece_tokens_json(void)
{
	char vpath[4096], jpath[4096];
	if (!test_fixture(vpath, sizeof vpath, VOCAB) ||
	    !test_fixture(jpath, sizeof jpath, "tokenizers/bert-bge.tokens.json"))
		return;
	struct wordpiece *wp = open_vocab(vpath);
	json_object *root = json_object_from_file(jpath);
	if (!CHECK(wp != NULL) || !CHECK(root != NULL))
		goto out;
	static const struct {
		const char *key;
		unsigned flags;
	} modes[] = {
		{ "tokens", 0 },
		{ "tokens_add_special", WP_ADD_SPECIAL },
		{ "tokens_add_special_parse_special", WP_ADD_SPECIAL | WP_PARSE_SPECIAL },
	};
	size_t total = 0, same = 0;
	for (int set = 0; set < 2; set++) {
		json_object *tests;
		if (!CHECK(json_object_object_get_ex(root, set ? "extra_tests" : "tests", &tests)))
			continue;
		for (size_t i = 0; i < json_object_array_length(tests); i++) {
			json_object *t = json_object_array_get_idx(tests, i), *text, *want;
			if (!CHECK(json_object_object_get_ex(t, "text", &text)))
				continue;
			const char *s = json_object_get_string(text);
			size_t len = (size_t)json_object_get_string_len(text);
			for (size_t m = 0; m < sizeof modes / sizeof modes[0]; m++) {
				if (!CHECK(json_object_object_get_ex(t, modes[m].key, &want)))
					continue;
				int32_t *got;
				size_t n = tokenize(wp, s, len, modes[m].flags, &got);
				if (!CHECK(test_ids_equal_json(got, n, want, s)))
					printf("      (mode %s)\n", modes[m].key);
				else
					same++;
				total++;
				free(got);
			}
		}
	}
	printf("    %zu of %zu (text, mode) pairs identical\n", same, total);
	CHECK_EQ_INT(total, 3 * (46 + 12));
out:
	json_object_put(root);
	wp_free(wp);
}

/* The caller's buffer, hostile bytes and the edges of the normalization. */
static void wordpiece_edges(void)
{
	char vpath[4096];
	if (!test_fixture(vpath, sizeof vpath, VOCAB))
		return;
	struct wordpiece *wp = open_vocab(vpath);
	if (!wp)
		return;
	CHECK_EQ_INT(wp_cls(wp), 101);
	CHECK_EQ_INT(wp_sep(wp), 102);
	CHECK_EQ_INT(wp_unk(wp), 100);
	CHECK_EQ_INT(wp_pad(wp), 0);
	CHECK_EQ_INT(wp_n_vocab(wp), 30522);
	CHECK_EQ_INT(wp_lookup(wp, "\xe2\x96\x81hello", 8), 7592);
	size_t tl = 0;
	const char *tok = wp_token(wp, 7592, &tl);
	CHECK(tok && tl == 8 && !memcmp(tok, "\xe2\x96\x81hello", 8));
	CHECK(wp_token(wp, 30522, &tl) == NULL);
	CHECK(wp_token(wp, -1, &tl) == NULL);

	/* the first cap ids are written, all are counted */
	int32_t v[4] = { -7, -7, -7, -7 };
	size_t n = 0;
	const char *s = "hello world hello world";
	CHECK_EQ_INT(wp_tokenize(wp, s, strlen(s), WP_ADD_SPECIAL, v, 3, &n), 0);
	CHECK_EQ_INT(n, 6);
	CHECK_EQ_INT(v[0], 101);
	CHECK_EQ_INT(v[1], 7592);
	CHECK_EQ_INT(v[2], 2088);
	CHECK_EQ_INT(v[3], -7);
	CHECK_EQ_INT(wp_tokenize(wp, "", 0, WP_ADD_SPECIAL, NULL, 0, &n), 0);
	CHECK_EQ_INT(n, 2);
	CHECK_EQ_INT(wp_tokenize(wp, "", 0, 0, NULL, 0, &n), 0);
	CHECK_EQ_INT(n, 0);

	/* invalid UTF-8 and NUL bytes are dropped; control characters too */
	int32_t *a, *b;
	size_t na = tokenize(wp, "hel\xff\xc3lo\0 wor\x01ld\xed\xa0\x80", 18, 0, &a);
	size_t nb = tokenize(wp, "hello world", 11, 0, &b);
	CHECK(na == nb && na == 2 && !memcmp(a, b, na * sizeof *a));
	free(a);
	free(b);

	/* accents of precomposed letters go; U+2260 (not equal) is "=" */
	na = tokenize(wp, "\xc3\x89\x63ole \xe2\x89\xa0", 10, 0, &a);
	nb = tokenize(wp, "ecole =", 7, 0, &b);
	CHECK(na == nb && na > 0 && !memcmp(a, b, na * sizeof *a));
	free(a);
	free(b);

	/* lower case as UnicodeData.txt has it, beyond letters: U+216B
	 * ROMAN NUMERAL TWELVE and U+24B6 CIRCLED LATIN CAPITAL LETTER A */
	na = tokenize(wp, "\xe2\x85\xab \xe2\x92\xb6", 7, 0, &a);
	nb = tokenize(wp, "\xe2\x85\xbb \xe2\x93\x90", 7, 0, &b);
	CHECK(na == nb && na > 0 && !memcmp(a, b, na * sizeof *a));
	free(a);
	free(b);

	/* a very long word is cut, not refused (llama.cpp has no limit) */
	size_t big = 1u << 20;
	char *w = malloc(big);
	memset(w, 'a', big);
	na = tokenize(wp, w, big, 0, &a);
	CHECK(na > 1000);
	free(a);
	/* a letter the vocabulary lacks makes the whole word [UNK] */
	memcpy(w + big / 2, "\xe1\x88\xb4", 3); /* U+1234 ETHIOPIC SYLLABLE SEE */
	na = tokenize(wp, w, big, 0, &a);
	CHECK(na == 1 && a[0] == 100);
	free(a);
	free(w);

	/* specials are text unless parsed */
	na = tokenize(wp, "[SEP]", 5, 0, &a);
	CHECK(na == 3 && a[0] != 102);
	free(a);
	na = tokenize(wp, "x[SEP]y", 7, WP_PARSE_SPECIAL, &a);
	CHECK(na == 3 && a[1] == 102);
	free(a);
	wp_free(wp);
}

static void wordpiece_refuses_other_vocabs(void)
{
	char path[4096];
	if (!test_fixture(path, sizeof path, "tokenizers/ggml-vocab-gpt-2.gguf"))
		return;
	struct gguf *g = NULL;
	struct wordpiece *wp = (struct wordpiece *)1;
	char err[256] = "";
	if (!CHECK_EQ_INT(gguf_open(path, &g, err, sizeof err), 0))
		return;
	CHECK_EQ_INT(wp_open_gguf(g, &wp, err, sizeof err), MX_EUNSUPPORTED);
	CHECK(wp == NULL);
	CHECK(strstr(err, "gpt2") != NULL);
	gguf_close(g);
}

/* ---- embeddings ---------------------------------------------------------------- */

/* The worst of a set of comparisons. */
struct diff {
	double max_abs, min_cos;
	size_t worst_abs, worst_cos; /* which text */
};

static void diff_init(struct diff *d)
{
	*d = (struct diff){ 0, 2, 0, 0 };
}

/* Compares v (n floats) with a JSON array; returns cos and max |diff|. */
static void compare(const float *v, json_object *arr, int n, size_t text, struct diff *d,
		    double *cos_out, double *abs_out)
{
	double dot = 0, na = 0, nb = 0, mx = 0;
	for (int i = 0; i < n; i++) {
		double b = json_object_get_double(json_object_array_get_idx(arr, (size_t)i));
		dot += v[i] * b;
		na += (double)v[i] * v[i];
		nb += b * b;
		if (fabs(v[i] - b) > mx)
			mx = fabs(v[i] - b);
	}
	double cos = na > 0 && nb > 0 ? dot / sqrt(na * nb) : 0;
	if (mx > d->max_abs)
		d->max_abs = mx, d->worst_abs = text;
	if (cos < d->min_cos)
		d->min_cos = cos, d->worst_cos = text;
	*cos_out = cos;
	*abs_out = mx;
}

static void diff_print(const char *what, const struct diff *d)
{
	printf("    %-34s max abs %.3g (text %zu), min cos %.9f (1-cos %.3g, text %zu)\n", what,
	       d->max_abs, d->worst_abs, d->min_cos, 1 - d->min_cos, d->worst_cos);
}

struct fixture_texts {
	json_object *root;
	json_object *texts;
	size_t n;
	const char **text;
};

static bool load_texts(struct fixture_texts *f)
{
	char path[4096];
	memset(f, 0, sizeof *f);
	if (!test_fixture(path, sizeof path, EMB_JSON))
		return false;
	f->root = json_object_from_file(path);
	if (!CHECK(f->root != NULL) ||
	    !CHECK(json_object_object_get_ex(f->root, "texts", &f->texts)))
		return false;
	f->n = json_object_array_length(f->texts);
	f->text = calloc(f->n, sizeof *f->text);
	for (size_t i = 0; i < f->n; i++) {
		json_object *t = json_object_array_get_idx(f->texts, i), *s;
		json_object_object_get_ex(t, "text", &s);
		f->text[i] = json_object_get_string(s);
	}
	return CHECK_EQ_INT(f->n, 33);
}

static void free_texts(struct fixture_texts *f)
{
	free(f->text);
	json_object_put(f->root);
}

static struct eng_embedder *open_model(size_t batch)
{
	char path[4096];
	if (!test_fixture(path, sizeof path, MODEL))
		return NULL;
	struct eng_params p = eng_params_default();
	p.threads = 2;
	p.batch = batch;
	struct eng_embedder *e = NULL;
	char err[256] = "";
	int rc = eng_embedder_open(path, &p, &e, err, sizeof err);
	if (!CHECK_EQ_INT(rc, 0))
		printf("    %s: %s\n", path, err);
	return e;
}

/* Checks every text's embedding (out, n * 384) against both references. */
static void check_embeddings(const struct fixture_texts *f, const float *out, const char *label)
{
	struct diff loose, tight;
	diff_init(&loose);
	diff_init(&tight);
	for (size_t i = 0; i < f->n; i++) {
		json_object *t = json_object_array_get_idx(f->texts, i), *ref, *deq;
		if (!CHECK(json_object_object_get_ex(t, "embedding", &ref)) ||
		    !CHECK(json_object_object_get_ex(t, "embedding_f32_dequant", &deq)) ||
		    !CHECK_EQ_INT(json_object_array_length(ref), 384))
			continue;
		double c1, a1, c2, a2;
		compare(out + i * 384, ref, 384, i, &loose, &c1, &a1);
		compare(out + i * 384, deq, 384, i, &tight, &c2, &a2);
		/* every check counts, so no short-circuit */
		int bad = !CHECK(1 - c1 <= LOOSE_1MCOS);
		bad += !CHECK(a1 <= LOOSE_ABS);
		bad += !CHECK(1 - c2 <= TIGHT_1MCOS);
		bad += !CHECK(a2 <= TIGHT_ABS);
		if (bad)
			printf("    text %zu \"%.40s\": vs llama.cpp 1-cos %.3g abs %.3g; vs "
			       "f32_dequant 1-cos %.3g abs %.3g\n",
			       i, f->text[i], 1 - c1, a1, 1 - c2, a2);
	}
	char what[80];
	snprintf(what, sizeof what, "%s vs embedding:", label);
	diff_print(what, &loose);
	snprintf(what, sizeof what, "%s vs embedding_f32_dequant:", label);
	diff_print(what, &tight);
}

/* The token ids of every text, as the embedder makes them. */
static void bert_fixture_tokens(void)
{
	char vpath[4096];
	struct fixture_texts f;
	if (!test_fixture(vpath, sizeof vpath, MODEL) || !load_texts(&f))
		return;
	struct wordpiece *wp = open_vocab(vpath);
	size_t same = 0;
	for (size_t i = 0; wp && i < f.n; i++) {
		json_object *t = json_object_array_get_idx(f.texts, i), *want;
		if (!CHECK(json_object_object_get_ex(t, "tokens", &want)))
			continue;
		int32_t *got;
		size_t n = tokenize(wp, f.text[i], strlen(f.text[i]), WP_ADD_SPECIAL, &got);
		same += CHECK(test_ids_equal_json(got, n, want, f.text[i]));
		free(got);
	}
	printf("    tokens of %zu of %zu texts identical\n", same, f.n);
	wp_free(wp);
	free_texts(&f);
}

/* One text per call, as the fixtures were made. */
static void bert_embeddings_one_by_one(void)
{
	struct fixture_texts f;
	if (!load_texts(&f))
		return;
	struct eng_embedder *e = open_model(32);
	float *out = calloc(f.n * 384, sizeof *out);
	if (e && CHECK_EQ_INT(eng_embedder_dims(e), 384)) {
		for (size_t i = 0; i < f.n; i++)
			CHECK_EQ_INT(eng_embed(e, &f.text[i], 1, ENG_PASSAGE, out + i * 384), 0);
		check_embeddings(&f, out, "one by one");
		/* "", " " and "\n" are all [CLS][SEP] */
		CHECK(!memcmp(out, out + 384, 384 * sizeof *out));
		CHECK(!memcmp(out, out + 2 * 384, 384 * sizeof *out));
	}
	free(out);
	eng_embedder_close(e);
	free_texts(&f);
}

/* All texts in one forward pass: attention stays within each text. */
static void bert_embeddings_batched(void)
{
	struct fixture_texts f;
	if (!load_texts(&f))
		return;
	struct eng_embedder *e = open_model(64);
	float *out = calloc(f.n * 384, sizeof *out);
	float *one = calloc(384, sizeof *one);
	if (e) {
		CHECK_EQ_INT(eng_embed(e, f.text, f.n, ENG_PASSAGE, out), 0);
		check_embeddings(&f, out, "batch of 33");
		/* the same as one by one up to rounding: sgemm blocks the
		 * sums differently for another number of rows, and a flipped
		 * binary16 rounding of a GELU input moves that activation by
		 * up to 2^-11 relative */
		double worst = 0;
		for (size_t i = 0; i < f.n; i++) {
			CHECK_EQ_INT(eng_embed(e, &f.text[i], 1, ENG_PASSAGE, one), 0);
			for (int j = 0; j < 384; j++)
				if (fabs(one[j] - out[i * 384 + j]) > worst)
					worst = fabs(one[j] - out[i * 384 + j]);
		}
		printf("    batch vs one by one: max abs %.3g\n", worst);
		CHECK(worst < 2e-4);
	}
	free(one);
	free(out);
	eng_embedder_close(e);
	free_texts(&f);
}

/* Texts past the context are cut to [CLS] + 510 ids + [SEP]. */
static void bert_truncation(void)
{
	struct eng_embedder *e = open_model(32);
	if (!e)
		return;
	size_t len = 700 * 4;
	char *long_text = malloc(len + 1), *cut = malloc(len + 1);
	for (size_t i = 0; i < 700; i++)
		memcpy(long_text + 4 * i, "the ", 4);
	long_text[len] = '\0';
	memcpy(cut, long_text, 510 * 4);
	cut[510 * 4] = '\0';
	float a[2 * 384], b[384];
	const char *texts[2] = { long_text, "short" };
	CHECK_EQ_INT(eng_embed(e, texts, 2, ENG_PASSAGE, a), 0);
	CHECK_EQ_INT(eng_embed(e, (const char *const *)&cut, 1, ENG_PASSAGE, b), 0);
	double worst = 0;
	for (int j = 0; j < 384; j++)
		if (fabs(a[j] - b[j]) > worst)
			worst = fabs(a[j] - b[j]);
	CHECK(worst < 2e-4);
	free(long_text);
	free(cut);
	eng_embedder_close(e);
}

/* The table entry (engine.c refers to it weakly: naming it here also
 * links bert.o into this binary). */
static void bert_arch_entry(void)
{
	CHECK_STR(eng_arch_bert.name, "bert");
	CHECK(eng_arch_bert.open && eng_arch_bert.close && eng_arch_bert.embed);
}

/* A vocabulary-only GGUF of arch "bert" is not a model. */
static void bert_refuses_incomplete_models(void)
{
	char path[4096];
	if (!test_fixture(path, sizeof path, VOCAB))
		return;
	struct eng_embedder *e = NULL;
	char err[256] = "";
	int rc = eng_embedder_open(path, NULL, &e, err, sizeof err);
	CHECK_EQ_INT(rc, MX_ECORRUPT);
	CHECK(e == NULL);
	CHECK(err[0] != '\0');
	printf("    refused: %s\n", err);
}

static double now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + ts.tv_nsec * 1e-9;
}

/* Not an assertion: chunks per second for 32 texts of 128 tokens with 2
 * threads (llama.cpp does about 29 for the F32 MiniLM shape here). */
static void bert_speed(void)
{
	char vpath[4096];
	if (!test_fixture(vpath, sizeof vpath, MODEL))
		return;
	static const char *const words[] = { "the",  "of",   "and",  "to",    "in",    "is",
					     "was",  "for",  "on",   "with",  "as",    "by",
					     "at",   "from", "that", "river", "house", "light",
					     "city", "time", "game", "water" };
	size_t nw = sizeof words / sizeof words[0];
	struct wordpiece *wp = open_vocab(vpath);
	struct eng_embedder *e = open_model(32);
	char *buf[32] = { 0 };
	const char *texts[32];
	float *out = malloc(32 * 384 * sizeof *out);
	if (!wp || !e)
		goto out;
	for (size_t i = 0; i < 32; i++) {
		buf[i] = malloc(126 * 8);
		size_t at = 0;
		for (size_t j = 0; j < 126; j++) {
			const char *w = words[(i * 7 + j * 3 + j / 5) % nw];
			size_t l = strlen(w);
			memcpy(buf[i] + at, w, l);
			buf[i][at + l] = ' ';
			at += l + 1;
		}
		buf[i][at - 1] = '\0';
		texts[i] = buf[i];
		size_t n = 0;
		wp_tokenize(wp, texts[i], strlen(texts[i]), WP_ADD_SPECIAL, NULL, 0, &n);
		CHECK_EQ_INT(n, 128);
	}
	CHECK_EQ_INT(eng_embed(e, texts, 32, ENG_PASSAGE, out), 0); /* warm-up */
	double best = 1e9;
	for (int r = 0; r < 3; r++) {
		double t0 = now();
		CHECK_EQ_INT(eng_embed(e, texts, 32, ENG_PASSAGE, out), 0);
		double t = now() - t0;
		if (t < best)
			best = t;
	}
	printf("    speed: 32 texts x 128 tokens, 2 threads: %.1f chunks/s (best of 3: %.3f s)\n",
	       32 / best, best);
out:
	for (size_t i = 0; i < 32; i++)
		free(buf[i]);
	free(out);
	eng_embedder_close(e);
	wp_free(wp);
}

/* clang-format off */
/* ---- element-wise kernels: every fast one against the reference ---- */

static float frand(uint32_t *s, float scale)
{
	*s = *s * 1664525u + 1013904223u;
	return ((float)(*s >> 8) / 16777216.0f * 2.0f - 1.0f) * scale;
}

static void kernels_match_reference(void)
{
	const struct nn_kernels *ref = nn_kernels_ref(), *fast = nn_kernels_avx2();
	if (!fast) {
		fprintf(stderr, "    skip: no AVX2 on this CPU\n");
		return;
	}
	float *table = malloc(65536 * sizeof *table);
	float a[300], b[300], y[300], g[300], bias[300];
	uint32_t seed = 7;
	CHECK(table != NULL);
	if (!table)
		return;
	nn_gelu_table(table);
	/* GELU: the same bits, specials and the range edges included */
	static const float special[] = { 0.0f, -0.0f, 10.0f, -10.0f, 9.999f, -9.999f, 1e-8f, -3e-6f,
					 65504.0f, 1e30f, -1e30f, 5.9604645e-8f, 6.1035156e-5f };
	for (size_t n = 1; n < 300; n += 37) {
		for (size_t i = 0; i < n; i++)
			a[i] = i < sizeof special / sizeof *special ? special[i] : frand(&seed, 12.0f);
		a[n - 1] = n % 2 ? NAN : INFINITY;
		memcpy(b, a, n * sizeof *a);
		ref->gelu(table, a, 1, (int)n, NULL);
		fast->gelu(table, b, 1, (int)n, NULL);
		CHECK(!memcmp(a, b, n * sizeof *a));
		/* with a bias, as rows */
		for (size_t i = 0; i < n; i++) {
			a[i] = b[i] = frand(&seed, 12.0f);
			y[i] = frand(&seed, 1.0f);
		}
		size_t cols = n % 3 == 0 ? n / 3 : n;
		ref->gelu(table, a, n / cols, (int)cols, y);
		fast->gelu(table, b, n / cols, (int)cols, y);
		CHECK(!memcmp(a, b, n * sizeof *a));
	}
	/* softmax: within a few ulps, and it sums to 1 */
	for (int n = 1; n < 300; n += 23) {
		for (int i = 0; i < n; i++)
			a[i] = b[i] = frand(&seed, i % 5 ? 8.0f : 100.0f);
		ref->softmax(a, n);
		fast->softmax(b, n);
		double sum = 0, worst = 0;
		for (int i = 0; i < n; i++) {
			double d = fabs((double)a[i] - b[i]) / (fabs(a[i]) + 1e-30);
			if (a[i] > 1e-30f && d > worst)
				worst = d;
			sum += b[i];
		}
		CHECK(worst < 1e-6);
		CHECK(fabs(sum - 1.0) < 1e-5);
	}
	/* LayerNorm with and without the residual */
	for (int n = 1; n < 300; n += 29) {
		for (int i = 0; i < n; i++) {
			a[i] = b[i] = frand(&seed, 3.0f) + 0.5f;
			y[i] = frand(&seed, 1.0f);
			g[i] = 1.0f + frand(&seed, 0.1f);
			bias[i] = frand(&seed, 0.1f);
		}
		for (int with_y = 0; with_y < 3; with_y++) {
			const float *yy = with_y ? y : NULL, *yb = with_y == 2 ? g : NULL;
			ref->add_layer_norm(a, yy, yb, n, g, bias, 1e-12f);
			fast->add_layer_norm(b, yy, yb, n, g, bias, 1e-12f);
			double worst = 0;
			for (int i = 0; i < n; i++)
				worst = fmax(worst, fabs((double)a[i] - b[i]));
			CHECK(worst < 1e-5);
		}
	}
	free(table);
}

static const struct test_case tests[] = {
	TEST(kernels_match_reference),
	TEST(wordpiece_llama_cases),
	TEST(wordpiece_tokens_json),
	TEST(wordpiece_edges),
	TEST(wordpiece_refuses_other_vocabs),
	TEST(bert_arch_entry),
	TEST(bert_fixture_tokens),
	TEST(bert_embeddings_one_by_one),
	TEST(bert_embeddings_batched),
	TEST(bert_truncation),
	TEST(bert_refuses_incomplete_models),
	TEST(bert_speed),
};
/* clang-format on */
TEST_MAIN(tests)
