/*
 * bert.c - the BERT sentence embedder (arch "bert": MiniLM, BGE, E5 and
 * the like, as llama.cpp's converter writes them).
 *
 * Forward pass, for each text (the numbers are all-MiniLM-L6-v2's):
 *   ids      = [CLS] WordPiece(text) [SEP], cut to context_length ids
 *   x[p]     = tok_embd[ids[p]] + token_types[0] + position_embd[p]
 *   x        = LayerNorm(x)
 *   6 times (post-LN blocks):
 *     q,k,v  = x Wq^T + bq, x Wk^T + bk, x Wv^T + bv     (T, 384) each
 *     a      = per head (12 of 32 values): softmax(q k^T / sqrt(32)) v,
 *              over the tokens of the same text only (no causal mask)
 *     x      = LayerNorm(x + a Wo^T + bo)
 *     x      = LayerNorm(x + GELU(x Wu^T + bu) Wd^T + bd)       (ff 1536)
 *   e        = mean of x over all tokens, [CLS] and [SEP] included (or
 *              x[0] for CLS pooling), divided by its L2 norm.
 *
 * The tokens of all texts of a batch are stacked into one (T, d) matrix,
 * so that every weight product is one sgemm over the batch; only
 * attention runs per text and head. A batch of several texts is cut into
 * one share per thread (about equal token counts), each run with
 * single-threaded products: attention, GELU and LayerNorm then use every
 * core too, where BLAS threads would leave them to one (on 2 cores they
 * took a third of the time). The element-wise kernels are nn.h's (AVX2
 * where the CPU has it). Weight matrices are dequantized to
 * float32 once at open (the products then run in exact float32 on the
 * quantized weights: parity with llama.cpp's F32 path); the token
 * embedding table, the one large matrix that is only read by row, stays
 * in the mmapped file and its rows are dequantized as they are looked up.
 *
 * Text is tokenized without parsing special-token text: "[SEP]" inside a
 * document is three word pieces, not the separator (llama-embedding
 * parses it; the two differ only for such texts).
 *
 * GELU is the tanh approximation read from a table indexed by the
 * binary16 value of its input, as ggml computes it: that is what the
 * reference embeddings were made with, and a table is faster than tanhf.
 */
#include <cblas.h>
#include <math.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../common/status.h"
#include "engine_int.h"
#include "nn.h"
#include "quant.h"
#include "wordpiece.h"

/* Tokens of one forward pass at most (several texts are stacked; a text
 * longer than this still goes alone): bounds the activation memory at
 * about 8192 * (5 * d + ff) floats. */
#define MAX_BATCH_TOKENS 8192
#define MAX_THREADS	 64

enum pooling { POOL_MEAN = 1, POOL_CLS = 2 };

struct layer {
	float *wqkv, *bqkv; /* (3d, d): the rows of Wq, Wk, Wv; 3d */
	float *wo, *bo;	    /* (d, d); d */
	float *ln1_g, *ln1_b;
	float *wu, *bu; /* (ff, d); ff */
	float *wd, *bd; /* (d, ff); d */
	float *ln2_g, *ln2_b;
};

struct bert {
	struct wordpiece *wp;
	int d, n_layer, n_head, head_dim, ff;
	int n_ctx; /* the most tokens of a text, [CLS] and [SEP] included */
	float eps;
	enum pooling pooling;
	const struct gguf_tensor *tok_embd; /* (n_vocab, d) in the file */
	float *type0;			    /* row 0 of token_types: every token's type */
	float *pos;			    /* (n_ctx, d) */
	float *emb_g, *emb_b;
	struct layer *layers;
	float *arena;	   /* every float weight above, one allocation */
	int threads;	   /* texts of a batch run in this many shares */
	const struct nn_kernels *k;
	float gelu[65536]; /* GELU of each binary16 value */
};

/* ---- kernels ---------------------------------------------------------------- */

/* Y (T, n_out) := X (T, n_in) @ W (n_out, n_in)^T + bias (n_out); with a
 * NULL bias the caller adds it in its next element-wise pass (one pass
 * over Y less). */
static void linear(const float *x, int t, int n_in, const float *w, const float *bias, int n_out,
		   float *y)
{
	for (int r = 0; bias && r < t; r++)
		memcpy(y + (size_t)r * n_out, bias, (size_t)n_out * sizeof *y);
	cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, t, n_out, n_in, 1.0f, x, n_in, w, n_in,
		    bias ? 1.0f : 0.0f, y, n_out);
}

/* ---- the forward pass ----------------------------------------------------------- */

/* Activations of one forward pass of up to t_max tokens. */
struct scratch {
	float *x;   /* (T, d) the hidden states */
	float *qkv; /* (T, 3d) */
	float *a;   /* (T, d) attention output; also the FFN output */
	float *h;   /* (T, ff) FFN hidden; also the attention projection */
	float *s;   /* (n, n) attention scores of one head of one text */
};

/* Self-attention of the text at token offset o of length n: writes
 * sc->a rows o..o+n. */
static void attention(const struct bert *m, struct scratch *sc, int o, int n)
{
	int d = m->d, hd = m->head_dim, ld = 3 * d;
	float scale = 1.0f / sqrtf((float)hd);
	for (int h = 0; h < m->n_head; h++) {
		const float *q = sc->qkv + (size_t)o * ld + h * hd;
		const float *k = q + d, *v = q + 2 * d;
		/* S (n, n) = scale * Q_h (n, hd) @ K_h (n, hd)^T */
		cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, n, n, hd, scale, q, ld, k, ld,
			    0.0f, sc->s, n);
		for (int r = 0; r < n; r++)
			m->k->softmax(sc->s + (size_t)r * n, n);
		/* A_h (n, hd) = P (n, n) @ V_h (n, hd) */
		cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, n, hd, n, 1.0f, sc->s, n, v,
			    ld, 0.0f, sc->a + (size_t)o * d + h * hd, d);
	}
}

/* x (t, d) := LayerNorm(x + y + yb) row by row (yb: d) */
static void add_norm(const struct bert *m, float *x, const float *y, const float *yb, int t,
		     const float *g, const float *b)
{
	int d = m->d;
	for (size_t r = 0; r < (size_t)t; r++) {
		float *xr = x + r * (size_t)d;
		const float *yr = y + r * (size_t)d;
		m->k->add_layer_norm(xr, yr, yb, d, g, b, m->eps);
	}
}

/* Embeds texts whose ids are ids[i * n_ctx ..] of lens[i] tokens, stacked
 * into one pass of t tokens; out gets n * d floats. */
static void forward(const struct bert *m, const int32_t *ids, const int *lens, size_t n, int t,
		    struct scratch *sc, float *out)
{
	int d = m->d, ff = m->ff;
	size_t row = 0;
	for (size_t i = 0; i < n; i++) {
		for (int p = 0; p < lens[i]; p++, row++) {
			float *x = sc->x + row * d;
			/* ids come from the tokenizer, below the rows checked at open */
			if (gguf_tensor_row_f32(m->tok_embd,
						(uint64_t)ids[i * (size_t)m->n_ctx + (size_t)p], x))
				memset(x, 0, (size_t)d * sizeof *x);
			const float *pe = m->pos + (size_t)p * d;
			for (int j = 0; j < d; j++)
				x[j] = x[j] + m->type0[j] + pe[j];
			m->k->add_layer_norm(x, NULL, NULL, d, m->emb_g, m->emb_b, m->eps);
		}
	}
	for (int l = 0; l < m->n_layer; l++) {
		const struct layer *L = &m->layers[l];
		linear(sc->x, t, d, L->wqkv, L->bqkv, 3 * d, sc->qkv);
		for (size_t i = 0, o = 0; i < n; o += (size_t)lens[i], i++)
			attention(m, sc, (int)o, lens[i]);
		linear(sc->a, t, d, L->wo, NULL, d, sc->h);
		add_norm(m, sc->x, sc->h, L->bo, t, L->ln1_g, L->ln1_b);
		linear(sc->x, t, d, L->wu, NULL, ff, sc->h);
		m->k->gelu(m->gelu, sc->h, (size_t)t, ff, L->bu);
		linear(sc->h, t, ff, L->wd, NULL, d, sc->a);
		add_norm(m, sc->x, sc->a, L->bd, t, L->ln2_g, L->ln2_b);
	}
	/* pooling, then L2 normalization */
	row = 0;
	for (size_t i = 0; i < n; i++) {
		float *e = out + i * (size_t)d;
		const float *x0 = sc->x + row * d;
		if (m->pooling == POOL_CLS) {
			memcpy(e, x0, (size_t)d * sizeof *e);
		} else {
			for (int j = 0; j < d; j++) {
				double sum = 0;
				for (int p = 0; p < lens[i]; p++)
					sum += x0[(size_t)p * d + j];
				e[j] = (float)(sum / lens[i]);
			}
		}
		double ss = 0;
		for (int j = 0; j < d; j++)
			ss += (double)e[j] * e[j];
		float inv = ss > 0 ? (float)(1.0 / sqrt(ss)) : 0.0f;
		for (int j = 0; j < d; j++)
			e[j] *= inv;
		row += (size_t)lens[i];
	}
}

/* Runs the n texts of ids/lens (tokenized) through forward passes of at
 * most MAX_BATCH_TOKENS tokens (a longer text goes alone) into out (n * d).
 * 0 or MX_ENOMEM. */
static int run_texts(const struct bert *m, const int32_t *ids, const int *lens, size_t n,
		     float *out)
{
	int rc = 0, t_max = 0, t = 0, l_max = 0;
	struct scratch sc = { 0 };
	for (size_t i = 0; i < n; i++) {
		if (lens[i] > l_max)
			l_max = lens[i];
		/* the largest pass, as passes are cut below */
		if (t > 0 && t + lens[i] > MAX_BATCH_TOKENS)
			t = 0;
		t += lens[i];
		if (t > t_max)
			t_max = t;
	}
	size_t d = (size_t)m->d, tm = (size_t)t_max;
	sc.x = malloc(tm * d * sizeof(float));
	sc.qkv = malloc(tm * 3 * d * sizeof(float));
	sc.a = malloc(tm * d * sizeof(float));
	sc.h = malloc(tm * (size_t)(m->ff > m->d ? m->ff : m->d) * sizeof(float));
	sc.s = malloc((size_t)l_max * (size_t)l_max * sizeof(float));
	if (!sc.x || !sc.qkv || !sc.a || !sc.h || !sc.s) {
		rc = MX_ENOMEM;
		goto out;
	}
	for (size_t i = 0; i < n;) {
		size_t j = i;
		t = 0;
		while (j < n && (j == i || t + lens[j] <= MAX_BATCH_TOKENS))
			t += lens[j++];
		forward(m, ids + i * (size_t)m->n_ctx, lens + i, j - i, t, &sc, out + i * d);
		i = j;
	}
out:
	free(sc.s);
	free(sc.h);
	free(sc.a);
	free(sc.qkv);
	free(sc.x);
	return rc;
}

/* One thread's share of a batch: texts [i0, i1). */
struct share {
	const struct bert *m;
	const int32_t *ids;
	const int *lens;
	size_t i0, i1;
	float *out;
	int rc;
};

static void *share_run(void *arg)
{
	struct share *s = arg;
	size_t off = s->i0;
	s->rc = run_texts(s->m, s->ids + off * (size_t)s->m->n_ctx, s->lens + off, s->i1 - off,
			  s->out + off * (size_t)s->m->d);
	return NULL;
}

/* Several texts run as independent shares, one per thread, each with
 * single-threaded matrix products: every step of the pass (attention,
 * GELU, LayerNorm too, not only the products) then uses every core, and
 * no BLAS thread spins between products. The shares hold about equal
 * token counts. */
static int run_shared(const struct bert *m, const int32_t *ids, const int *lens, size_t n,
		      float *out)
{
	struct share sh[MAX_THREADS];
	pthread_t tid[MAX_THREADS];
	bool started[MAX_THREADS] = { false };
	size_t k = (size_t)m->threads < n ? (size_t)m->threads : n, total = 0, acc = 0, i = 0;
	for (size_t j = 0; j < n; j++)
		total += (size_t)lens[j];
	for (size_t s = 0; s < k; s++) {
		sh[s] = (struct share){ .m = m, .ids = ids, .lens = lens, .i0 = i, .out = out };
		/* share s ends where the running count passes (s + 1) / k of all */
		while (i < n && (s == k - 1 || (acc + (size_t)lens[i]) * k <= total * (s + 1) ||
				 i == sh[s].i0)) {
			acc += (size_t)lens[i];
			i++;
		}
		sh[s].i1 = i;
	}
	int prev = openblas_get_num_threads();
	openblas_set_num_threads(1);
	for (size_t s = 1; s < k; s++)
		started[s] = pthread_create(&tid[s], NULL, share_run, &sh[s]) == 0;
	share_run(&sh[0]);
	int rc = sh[0].rc;
	for (size_t s = 1; s < k; s++) {
		if (started[s])
			pthread_join(tid[s], NULL);
		else
			share_run(&sh[s]); /* no thread: run it here */
		if (!rc)
			rc = sh[s].rc;
	}
	openblas_set_num_threads(prev);
	return rc;
}

static int bert_embed(struct eng_embedder *e, const char *const *texts, size_t n, float *out)
{
	struct bert *m = e->model;
	int rc = 0;
	int32_t *ids = NULL;
	int *lens = NULL;
	if (n == 0)
		return 0;
	if (n > SIZE_MAX / sizeof *ids / (size_t)m->n_ctx)
		return eng_fail(e, MX_ENOMEM, "too many texts at once");
	ids = malloc(n * (size_t)m->n_ctx * sizeof *ids);
	lens = malloc(n * sizeof *lens);
	if (!ids || !lens) {
		rc = eng_fail(e, MX_ENOMEM, "out of memory");
		goto out;
	}
	/* [CLS] + at most n_ctx - 2 ids of the text + [SEP] */
	for (size_t i = 0; i < n; i++) {
		int32_t *v = ids + i * (size_t)m->n_ctx;
		size_t k;
		rc = wp_tokenize(m->wp, texts[i], strlen(texts[i]), 0, v + 1, (size_t)m->n_ctx - 2,
				 &k);
		if (rc) {
			rc = eng_fail(e, rc, "cannot tokenize text %zu: %s", i, mx_strerror(rc));
			goto out;
		}
		if (k > (size_t)m->n_ctx - 2)
			k = (size_t)m->n_ctx - 2;
		v[0] = wp_cls(m->wp);
		v[k + 1] = wp_sep(m->wp);
		lens[i] = (int)k + 2;
	}
	/* one text: its products use the BLAS threads */
	rc = n > 1 && m->threads > 1 ? run_shared(m, ids, lens, n, out)
				     : run_texts(m, ids, lens, n, out);
	if (rc)
		rc = eng_fail(e, rc, "out of memory for a batch of %zu texts", n);
out:
	free(lens);
	free(ids);
	return rc;
}

/* ---- loading ------------------------------------------------------------------- */

/* One float tensor to load: its name, the shape it must have, and where
 * its values go in the arena. */
struct want {
	char name[64];
	uint64_t ne0, ne1;
	float **dst; /* set to the tensor's place in the arena, or NULL */
	size_t at;
};

static int hparam(struct eng_embedder *e, const char *key, uint32_t lo, uint32_t hi, uint32_t *v)
{
	int rc = gguf_get_u32(e->g, key, v);
	if (rc == MX_ENOTFOUND)
		return eng_fail(e, MX_ECORRUPT, "the model has no %s", key);
	if (rc || *v < lo || *v > hi)
		return eng_fail(e, MX_ECORRUPT, "%s is not an integer in [%u, %u]", key, lo, hi);
	return 0;
}

/* The tensor name, checked for shape (ne0, ne1) and a type we read. */
static int find_tensor(struct eng_embedder *e, const char *name, uint64_t ne0, uint64_t ne1,
		       const struct gguf_tensor **out)
{
	const struct gguf_tensor *t = gguf_tensor(e->g, name);
	if (!t)
		return eng_fail(e, MX_ECORRUPT, "the model has no tensor %s", name);
	if (t->ne[0] != ne0 || t->ne[1] != ne1 || t->ne[2] != 1 || t->ne[3] != 1)
		return eng_fail(e, MX_ECORRUPT,
				"tensor %s is [%llu, %llu, %llu, %llu], expected [%llu, %llu]",
				name, (unsigned long long)t->ne[0], (unsigned long long)t->ne[1],
				(unsigned long long)t->ne[2], (unsigned long long)t->ne[3],
				(unsigned long long)ne0, (unsigned long long)ne1);
	if (!quant_can_dequant(t->type))
		return eng_fail(e, MX_EUNSUPPORTED,
				"tensor %s has type %s, which memex cannot read", name,
				quant_type_name(t->type));
	*out = t;
	return 0;
}

static void want(struct want *w, size_t *n, const char *name, uint64_t ne0, uint64_t ne1,
		 float **dst)
{
	struct want *x = &w[(*n)++];
	snprintf(x->name, sizeof x->name, "%s", name);
	x->ne0 = ne0;
	x->ne1 = ne1;
	x->dst = dst;
}

static void want_blk(struct want *w, size_t *n, int l, const char *suffix, uint64_t ne0,
		     uint64_t ne1, float **dst)
{
	char name[64];
	snprintf(name, sizeof name, "blk.%d.%s", l, suffix);
	want(w, n, name, ne0, ne1, dst);
}

static void free_model(struct bert *m)
{
	if (!m)
		return;
	wp_free(m->wp);
	free(m->layers);
	free(m->arena);
	free(m);
}

static int bert_open(struct eng_embedder *e)
{
	int rc = 0;
	struct want *w = NULL;
	struct bert *m = calloc(1, sizeof *m);
	if (!m)
		return eng_fail(e, MX_ENOMEM, "out of memory");
	char err[200];
	if ((rc = wp_open_gguf(e->g, &m->wp, err, sizeof err))) {
		rc = eng_fail(e, rc, "%s", err);
		goto fail;
	}
	/* hyper-parameters; the bounds only keep arithmetic in range, the
	 * tensor shapes below are what really checks them */
	uint32_t d, n_layer, n_head, ff, ctx;
	if ((rc = hparam(e, "bert.embedding_length", 1, 65536, &d)) ||
	    (rc = hparam(e, "bert.block_count", 1, 4096, &n_layer)) ||
	    (rc = hparam(e, "bert.attention.head_count", 1, 65536, &n_head)) ||
	    (rc = hparam(e, "bert.feed_forward_length", 1, 1u << 20, &ff)) ||
	    (rc = hparam(e, "bert.context_length", 2, 1u << 20, &ctx)))
		goto fail;
	if (d % n_head) {
		rc = eng_fail(e, MX_ECORRUPT, "%u heads do not divide the embedding length %u",
			      n_head, d);
		goto fail;
	}
	float eps = 1e-12f;
	if (gguf_get_f32(e->g, "bert.attention.layer_norm_epsilon", &eps) == 0 &&
	    !(eps > 0 && eps < 1)) {
		rc = eng_fail(e, MX_ECORRUPT, "bert.attention.layer_norm_epsilon is out of range");
		goto fail;
	}
	uint32_t pooling = POOL_MEAN;
	rc = gguf_get_u32(e->g, "bert.pooling_type", &pooling);
	if (rc && rc != MX_ENOTFOUND) {
		rc = eng_fail(e, MX_ECORRUPT, "bert.pooling_type is not an integer");
		goto fail;
	}
	rc = 0;
	if (pooling != POOL_MEAN && pooling != POOL_CLS) {
		rc = eng_fail(e, MX_EUNSUPPORTED,
			      "pooling type %u is not supported (only mean and CLS)", pooling);
		goto fail;
	}
	bool causal = false;
	if (gguf_get_bool(e->g, "bert.attention.causal", &causal) == 0 && causal) {
		rc = eng_fail(e, MX_EUNSUPPORTED, "causal attention is not supported for bert");
		goto fail;
	}
	m->d = (int)d;
	m->n_layer = (int)n_layer;
	m->n_head = (int)n_head;
	m->head_dim = (int)(d / n_head);
	m->ff = (int)ff;
	m->eps = eps;
	m->pooling = (enum pooling)pooling;

	/* the token embeddings: read by row from the file */
	const struct gguf_tensor *te = gguf_tensor(e->g, "token_embd.weight");
	if (!te) {
		rc = eng_fail(e, MX_ECORRUPT, "the model has no tensor token_embd.weight");
		goto fail;
	}
	if ((rc = find_tensor(e, "token_embd.weight", d, te->ne[1], &m->tok_embd)))
		goto fail;
	if (te->ne[1] < wp_n_vocab(m->wp)) {
		rc = eng_fail(e, MX_ECORRUPT, "token_embd.weight has %llu rows for %zu tokens",
			      (unsigned long long)te->ne[1], wp_n_vocab(m->wp));
		goto fail;
	}
	const struct gguf_tensor *tp = gguf_tensor(e->g, "position_embd.weight");
	const struct gguf_tensor *tt = gguf_tensor(e->g, "token_types.weight");
	if (!tp || !tt) {
		rc = eng_fail(e, MX_ECORRUPT, "the model has no tensor %s",
			      tp ? "token_types.weight" : "position_embd.weight");
		goto fail;
	}
	/* as many positions as both the context and the table allow */
	m->n_ctx = (int)(ctx < tp->ne[1] ? ctx : tp->ne[1]);
	if (m->n_ctx < 2) {
		rc = eng_fail(e, MX_ECORRUPT, "position_embd.weight has fewer than 2 rows");
		goto fail;
	}

	/* every float tensor, in arena order: Wq, Wk, Wv and their biases
	 * are consecutive so that they form the one (3d, d) matrix */
	size_t nw = 0, cap = 5 + 16 * (size_t)n_layer;
	if (!(w = calloc(cap, sizeof *w)) || !(m->layers = calloc(n_layer, sizeof *m->layers))) {
		rc = eng_fail(e, MX_ENOMEM, "out of memory");
		goto fail;
	}
	want(w, &nw, "position_embd.weight", d, tp->ne[1], &m->pos);
	want(w, &nw, "token_types.weight", d, tt->ne[1], &m->type0);
	want(w, &nw, "token_embd_norm.weight", d, 1, &m->emb_g);
	want(w, &nw, "token_embd_norm.bias", d, 1, &m->emb_b);
	for (int l = 0; l < (int)n_layer; l++) {
		struct layer *L = &m->layers[l];
		want_blk(w, &nw, l, "attn_q.weight", d, d, &L->wqkv);
		want_blk(w, &nw, l, "attn_k.weight", d, d, NULL);
		want_blk(w, &nw, l, "attn_v.weight", d, d, NULL);
		want_blk(w, &nw, l, "attn_q.bias", d, 1, &L->bqkv);
		want_blk(w, &nw, l, "attn_k.bias", d, 1, NULL);
		want_blk(w, &nw, l, "attn_v.bias", d, 1, NULL);
		want_blk(w, &nw, l, "attn_output.weight", d, d, &L->wo);
		want_blk(w, &nw, l, "attn_output.bias", d, 1, &L->bo);
		want_blk(w, &nw, l, "attn_output_norm.weight", d, 1, &L->ln1_g);
		want_blk(w, &nw, l, "attn_output_norm.bias", d, 1, &L->ln1_b);
		want_blk(w, &nw, l, "ffn_up.weight", d, ff, &L->wu);
		want_blk(w, &nw, l, "ffn_up.bias", ff, 1, &L->bu);
		want_blk(w, &nw, l, "ffn_down.weight", ff, d, &L->wd);
		want_blk(w, &nw, l, "ffn_down.bias", d, 1, &L->bd);
		want_blk(w, &nw, l, "layer_output_norm.weight", d, 1, &L->ln2_g);
		want_blk(w, &nw, l, "layer_output_norm.bias", d, 1, &L->ln2_b);
	}
	/* check everything before allocating: the shapes exist in the file,
	 * so the sum is bounded by what the file holds */
	size_t total = 0;
	const struct gguf_tensor **ts = NULL;
	if (!(ts = calloc(nw, sizeof *ts))) {
		rc = eng_fail(e, MX_ENOMEM, "out of memory");
		goto fail;
	}
	for (size_t i = 0; i < nw && !rc; i++) {
		rc = find_tensor(e, w[i].name, w[i].ne0, w[i].ne1, &ts[i]);
		w[i].at = total;
		total += (size_t)(w[i].ne0 * w[i].ne1);
	}
	if (!rc && !(m->arena = malloc(total * sizeof *m->arena)))
		rc = eng_fail(e, MX_ENOMEM, "out of memory for %zu weights", total);
	for (size_t i = 0; i < nw && !rc; i++) {
		float *dst = m->arena + w[i].at;
		if ((rc = gguf_tensor_f32(ts[i], dst, (size_t)(w[i].ne0 * w[i].ne1))))
			rc = eng_fail(e, rc, "cannot read tensor %s", w[i].name);
		else if (w[i].dst)
			*w[i].dst = dst;
	}
	free(ts);
	if (rc)
		goto fail;
	nn_gelu_table(m->gelu);
	m->k = nn_kernels_best();
	/* OpenBLAS's thread count is process-wide, not per handle: the last
	 * embedder opened sets it for all. */
	openblas_set_num_threads(e->p.threads);
	m->threads = e->p.threads < MAX_THREADS ? e->p.threads : MAX_THREADS;
	free(w);
	e->dims = m->d;
	e->model = m;
	return 0;
fail:
	free(w);
	free_model(m);
	return rc;
}

static void bert_close(struct eng_embedder *e)
{
	free_model(e->model);
	e->model = NULL;
}

const struct eng_arch eng_arch_bert = { "bert", bert_open, bert_close, bert_embed };
