/*
 * use.c - the Universal Sentence Encoder Lite embedder ("use-lite"): the
 * forward pass of the graph that use.h describes, over a GGUF written by
 * use_convert().
 *
 * Texts are tokenized (spm.h) and cut to use.context_length tokens, as the
 * graph's ClipToMaxLength does. A batch is run in chunks of at most
 * CHUNK_TOKENS tokens: the dense layers (layer norms, q/k/v, projections,
 * FFN) go over all the tokens of a chunk at once with cblas_sgemm, the
 * attention over each text on its own. The reference pads a batch to its
 * longest text and masks the padding with -1e9 before the softmax, which
 * gives those keys a weight of exactly 0: computing each text alone is the
 * same, so a batch equals its texts one by one.
 *
 * The element-wise steps follow the order of the TF.js kernels (sums in
 * double, results rounded to float; exp, sin, cos, tanh and 1/sqrt in
 * double), so that the results stay within float rounding of the
 * reference; the matrix products are OpenBLAS's.
 *
 * An empty text has no tokens (the reference returns nothing for it); it
 * gets what the graph computes for an empty row of a batch: the mean of
 * nothing is 0, so its vector is the normalized tanh of the pooling bias.
 *
 * The activations of a chunk are allocated once, at open: an embedder is
 * for one thread at a time.
 */
#include <cblas.h>
#include <math.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../common/status.h"
#include "../common/utf8.h"
#include "engine_int.h"
#include "spm.h"

/* Tokens of one forward chunk (at least one text of use.context_length). */
#define CHUNK_TOKENS 1024
/* Bytes of a text that are tokenized; the model sees only its first
 * use.context_length tokens, which a longer tail does not change in
 * practice (a cut can only move the segmentation next to it). */
#define MAX_TEXT_BYTES (64u << 10)
/* Limits on the shapes a file may declare (the model: 256..1536). */
#define MAX_WIDTH  (1u << 13)
#define MAX_CTX	   2048
#define MAX_BLOCKS 64

struct use_block {
	size_t d_in, d_att, d_out, n_ff, head_dim;
	const float *attn_norm_w, *attn_norm_b; /* [d_in] */
	const float *qkv_w, *qkv_b;		/* 3 * d_att rows of d_in */
	const float *out_w, *out_b;		/* d_out rows of d_att */
	const float *res_w, *res_b;		/* d_out rows of d_in, or NULL */
	const float *ffn_norm_w, *ffn_norm_b;	/* [d_out] */
	const float *up_w, *up_b;		/* n_ff rows of d_out */
	const float *down_w, *down_b;		/* d_out rows of n_ff */
};

struct use_model {
	struct spm *tok;
	size_t n_ctx, d_emb, n_rows, n_embd, n_heads, n_blocks;
	float ln_eps, l2_eps;
	const float *embd;	/* n_rows rows of d_emb */
	const float *timescale; /* [d_emb / 2] */
	const float *pool_w;	/* n_embd rows of d_last */
	const float *pool_b;
	struct use_block blk[MAX_BLOCKS];
	float *owned[8 + 16 * MAX_BLOCKS]; /* dequantized copies of non-F32 tensors */
	size_t n_owned;

	/* the activations of one chunk */
	int32_t *ids;			   /* [CHUNK_TOKENS] */
	size_t *seq_start, *seq_len;	   /* per text of the chunk */
	float *x, *h, *r, *qkv, *att, *ff; /* CHUNK_TOKENS rows of the widest */
	float *scores;			   /* n_ctx * n_ctx */
	float *pooled, *emb_out;	   /* [d_max], [n_embd] */
};

/* ---- loading ------------------------------------------------------------- */

/* Tensor name as floats: ne0 values per row, ne1 rows (0: any, returned in
 * *rows). F32 data is used in place; other types are dequantized into a
 * copy the model owns. NULL with the error set on e. */
static const float *tensor(struct eng_embedder *e, struct use_model *m, const char *name,
			   size_t ne0, size_t ne1, size_t *rows)
{
	const struct gguf_tensor *t = gguf_tensor(e->g, name);
	if (!t) {
		eng_fail(e, MX_ECORRUPT, "use-lite model: no tensor '%s'", name);
		return NULL;
	}
	if (t->ne[0] != ne0 || (ne1 && t->ne[1] != ne1) || t->ne[2] != 1 || t->ne[3] != 1 ||
	    t->ne[1] > (1u << 24)) {
		eng_fail(e, MX_ECORRUPT, "use-lite model: tensor '%s' has the wrong shape", name);
		return NULL;
	}
	if (rows)
		*rows = (size_t)t->ne[1];
	if (t->type == GGML_F32)
		return t->data;
	size_t n = (size_t)(t->ne[0] * t->ne[1]);
	float *copy =
		m->n_owned < sizeof m->owned / sizeof m->owned[0] ? malloc(n * sizeof *copy) : NULL;
	if (!copy) {
		eng_fail(e, MX_ENOMEM, "out of memory");
		return NULL;
	}
	m->owned[m->n_owned++] = copy;
	int rc = gguf_tensor_f32(t, copy, n);
	if (rc) {
		eng_fail(e, rc, "use-lite model: cannot read tensor '%s' (type %u)", name, t->type);
		return NULL;
	}
	return copy;
}

static int meta_u32(struct eng_embedder *e, const char *key, uint32_t lo, uint32_t hi, size_t *v)
{
	uint32_t x = 0;
	if (gguf_get_u32(e->g, key, &x) || x < lo || x > hi)
		return eng_fail(e, MX_ECORRUPT, "use-lite model: %s is missing or out of range",
				key);
	*v = x;
	return 0;
}

static int meta_f32(struct eng_embedder *e, const char *key, float *v)
{
	if (gguf_get_f32(e->g, key, v) || !(*v >= 0.0f) || !isfinite(*v))
		return eng_fail(e, MX_ECORRUPT, "use-lite model: %s is missing or bad", key);
	return 0;
}

/* Tensor "use.blk.<l>.<suffix>" into *out, as tensor() gets it; false
 * with the error set on e. */
static bool blk_tensor(struct eng_embedder *e, struct use_model *m, size_t l, const char *suffix,
		       size_t ne0, size_t ne1, size_t *rows, const float **out)
{
	char nm[64];
	snprintf(nm, sizeof nm, "use.blk.%zu.%s", l, suffix);
	*out = tensor(e, m, nm, ne0, ne1, rows);
	return *out != NULL;
}

/* The tensors of block l, whose input is d_in wide. */
static int load_block(struct eng_embedder *e, struct use_model *m, size_t l, size_t d_in)
{
	struct use_block *b = &m->blk[l];
	size_t rows = 0;
	b->d_in = d_in;
	if (!blk_tensor(e, m, l, "attn_norm.weight", d_in, 1, NULL, &b->attn_norm_w) ||
	    !blk_tensor(e, m, l, "attn_norm.bias", d_in, 1, NULL, &b->attn_norm_b) ||
	    !blk_tensor(e, m, l, "attn_qkv.weight", d_in, 0, &rows, &b->qkv_w))
		return MX_ECORRUPT;
	b->d_att = rows / 3;
	if (rows % 3 || b->d_att == 0 || b->d_att > MAX_WIDTH || b->d_att % m->n_heads)
		return eng_fail(e, MX_ECORRUPT, "use-lite model: block %zu: bad q/k/v width", l);
	b->head_dim = b->d_att / m->n_heads;
	if (!blk_tensor(e, m, l, "attn_qkv.bias", 3 * b->d_att, 1, NULL, &b->qkv_b) ||
	    !blk_tensor(e, m, l, "attn_out.weight", b->d_att, 0, &b->d_out, &b->out_w))
		return MX_ECORRUPT;
	if (b->d_out == 0 || b->d_out > MAX_WIDTH)
		return eng_fail(e, MX_ECORRUPT, "use-lite model: block %zu: bad width", l);
	char nm[64];
	snprintf(nm, sizeof nm, "use.blk.%zu.res_proj.weight", l);
	bool res = gguf_tensor(e->g, nm) != NULL;
	if (!blk_tensor(e, m, l, "attn_out.bias", b->d_out, 1, NULL, &b->out_b) ||
	    (res && (!blk_tensor(e, m, l, "res_proj.weight", d_in, b->d_out, NULL, &b->res_w) ||
		     !blk_tensor(e, m, l, "res_proj.bias", b->d_out, 1, NULL, &b->res_b))) ||
	    !blk_tensor(e, m, l, "ffn_norm.weight", b->d_out, 1, NULL, &b->ffn_norm_w) ||
	    !blk_tensor(e, m, l, "ffn_norm.bias", b->d_out, 1, NULL, &b->ffn_norm_b) ||
	    !blk_tensor(e, m, l, "ffn_up.weight", b->d_out, 0, &b->n_ff, &b->up_w))
		return MX_ECORRUPT;
	if (!res && d_in != b->d_out)
		return eng_fail(e, MX_ECORRUPT,
				"use-lite model: block %zu changes the width without res_proj", l);
	if (b->n_ff == 0 || b->n_ff > 4 * MAX_WIDTH)
		return eng_fail(e, MX_ECORRUPT, "use-lite model: block %zu: bad FFN width", l);
	if (!blk_tensor(e, m, l, "ffn_up.bias", b->n_ff, 1, NULL, &b->up_b) ||
	    !blk_tensor(e, m, l, "ffn_down.weight", b->n_ff, b->d_out, NULL, &b->down_w) ||
	    !blk_tensor(e, m, l, "ffn_down.bias", b->d_out, 1, NULL, &b->down_b))
		return MX_ECORRUPT;
	return 0;
}

static void use_close(struct eng_embedder *e)
{
	struct use_model *m = e->model;
	if (!m)
		return;
	spm_free(m->tok);
	for (size_t i = 0; i < m->n_owned; i++)
		free(m->owned[i]);
	free(m->ids);
	free(m->seq_start);
	free(m->seq_len);
	free(m->x);
	free(m->h);
	free(m->r);
	free(m->qkv);
	free(m->att);
	free(m->ff);
	free(m->scores);
	free(m->pooled);
	free(m->emb_out);
	free(m);
	e->model = NULL;
}

static int use_open(struct eng_embedder *e)
{
	struct use_model *m = calloc(1, sizeof *m);
	if (!m)
		return eng_fail(e, MX_ENOMEM, "out of memory");
	e->model = m;
	char err[200] = "";
	int rc = spm_open_gguf(e->g, &m->tok, err, sizeof err);
	if (rc) {
		rc = eng_fail(e, rc, "use-lite model: %s", err);
		goto out;
	}
	if ((rc = meta_u32(e, "use.context_length", 1, MAX_CTX, &m->n_ctx)) ||
	    (rc = meta_u32(e, "use.token_embedding_length", 2, MAX_WIDTH, &m->d_emb)) ||
	    (rc = meta_u32(e, "use.embedding_length", 1, MAX_WIDTH, &m->n_embd)) ||
	    (rc = meta_u32(e, "use.block_count", 1, MAX_BLOCKS, &m->n_blocks)) ||
	    (rc = meta_u32(e, "use.head_count", 1, MAX_WIDTH, &m->n_heads)) ||
	    (rc = meta_f32(e, "use.attention.layer_norm_epsilon", &m->ln_eps)) ||
	    (rc = meta_f32(e, "use.l2_norm_epsilon", &m->l2_eps)))
		goto out;
	if (m->d_emb % 2) {
		rc = eng_fail(e, MX_ECORRUPT, "use-lite model: odd token embedding width");
		goto out;
	}
	rc = MX_ECORRUPT; /* what a NULL from tensor() means, its message set */
	if (!(m->embd = tensor(e, m, "use.token_embd.weight", m->d_emb, 0, &m->n_rows)) ||
	    !(m->timescale = tensor(e, m, "use.pos_timescale", m->d_emb / 2, 1, NULL)))
		goto out;
	if (m->n_rows < spm_n_vocab(m->tok)) {
		rc = eng_fail(
			e, MX_ECORRUPT,
			"use-lite model: fewer embeddings (%zu) than vocabulary entries (%zu)",
			m->n_rows, spm_n_vocab(m->tok));
		goto out;
	}
	size_t d = m->d_emb, d_max = m->d_emb, att_max = 1, ff_max = 1;
	for (size_t l = 0; l < m->n_blocks; l++) {
		if ((rc = load_block(e, m, l, d)))
			goto out;
		const struct use_block *b = &m->blk[l];
		d = b->d_out;
		d_max = d > d_max ? d : d_max;
		att_max = b->d_att > att_max ? b->d_att : att_max;
		ff_max = b->n_ff > ff_max ? b->n_ff : ff_max;
	}
	rc = MX_ECORRUPT;
	if (!(m->pool_w = tensor(e, m, "use.pool_proj.weight", d, m->n_embd, NULL)) ||
	    !(m->pool_b = tensor(e, m, "use.pool_proj.bias", m->n_embd, 1, NULL)))
		goto out;

	/* the activations: every width is at most 4 * MAX_WIDTH, no overflow */
	size_t ct = CHUNK_TOKENS > m->n_ctx ? CHUNK_TOKENS : m->n_ctx;
	m->ids = malloc(ct * sizeof *m->ids);
	m->seq_start = malloc(ct * sizeof *m->seq_start);
	m->seq_len = malloc(ct * sizeof *m->seq_len);
	m->x = malloc(ct * d_max * sizeof *m->x);
	m->h = malloc(ct * d_max * sizeof *m->h);
	m->r = malloc(ct * d_max * sizeof *m->r);
	m->qkv = malloc(ct * 3 * att_max * sizeof *m->qkv);
	m->att = malloc(ct * att_max * sizeof *m->att);
	m->ff = malloc(ct * ff_max * sizeof *m->ff);
	m->scores = malloc(m->n_ctx * m->n_ctx * sizeof *m->scores);
	m->pooled = malloc(d_max * sizeof *m->pooled);
	m->emb_out = malloc(m->n_embd * sizeof *m->emb_out);
	if (!m->ids || !m->seq_start || !m->seq_len || !m->x || !m->h || !m->r || !m->qkv ||
	    !m->att || !m->ff || !m->scores || !m->pooled || !m->emb_out) {
		rc = eng_fail(e, MX_ENOMEM, "out of memory");
		goto out;
	}
	e->dims = (int)m->n_embd;
	rc = 0;
out:
	if (rc)
		use_close(e);
	return rc;
}

/* ---- kernels ------------------------------------------------------------------ */

/* X (n, in) -> Y (n, out) = X W^T + b, W (out rows of in) */
static void dense(const float *x, size_t n, size_t in, const float *w, const float *b, size_t out,
		  float *y)
{
	cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, (int)n, (int)out, (int)in, 1.0f, x,
		    (int)in, w, (int)in, 0.0f, y, (int)out);
	for (size_t t = 0; t < n; t++)
		for (size_t j = 0; j < out; j++)
			y[t * out + j] += b[j];
}

/* Each of the n rows of x (d wide) -> y: (x - mean) * (scale / sqrt(var +
 * eps)) + bias, in the order of the graph's ops. */
static void layer_norm(const float *x, size_t n, size_t d, const float *scale, const float *bias,
		       float eps, float *y)
{
	for (size_t t = 0; t < n; t++) {
		const float *xr = x + t * d;
		float *yr = y + t * d;
		double s = 0;
		for (size_t j = 0; j < d; j++)
			s += xr[j];
		float mean = (float)s / (float)d;
		double v = 0;
		for (size_t j = 0; j < d; j++) {
			float c = xr[j] - mean;
			v += c * c;
		}
		float var = (float)v / (float)d;
		float rs = (float)(1.0 / sqrt((double)(var + eps)));
		for (size_t j = 0; j < d; j++)
			yr[j] = scale[j] * rs * (xr[j] - mean) + bias[j];
	}
}

/* Row-wise softmax of s (n rows of n) in place. */
static void softmax_rows(float *s, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		float *row = s + i * n, mx = row[0];
		for (size_t j = 1; j < n; j++)
			mx = row[j] > mx ? row[j] : mx;
		double sum = 0;
		for (size_t j = 0; j < n; j++) {
			row[j] = (float)exp((double)(row[j] - mx));
			sum += row[j];
		}
		float fs = (float)sum;
		for (size_t j = 0; j < n; j++)
			row[j] /= fs;
	}
}

/* Multi-head attention of one text of n tokens whose q/k/v rows (3 * d_att
 * wide, q already scaled) start at qkv -> out (n rows of d_att). */
static void attention(const struct use_block *b, size_t heads, const float *qkv, size_t n,
		      float *scores, float *out)
{
	int ld = (int)(3 * b->d_att), hd = (int)b->head_dim;
	for (size_t hh = 0; hh < heads; hh++) {
		const float *q = qkv + hh * b->head_dim, *k = q + b->d_att, *v = q + 2 * b->d_att;
		/* Q (n, hd) K^T -> S (n, n) */
		cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, (int)n, (int)n, hd, 1.0f, q,
			    ld, k, ld, 0.0f, scores, (int)n);
		softmax_rows(scores, n);
		/* S (n, n) V (n, hd) -> out columns of this head */
		cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, (int)n, hd, (int)n, 1.0f,
			    scores, (int)n, v, ld, 0.0f, out + hh * b->head_dim, (int)b->d_att);
	}
}

/* ---- the forward pass ------------------------------------------------------------ */

/* The embeddings of the first n_tok ids: e + (e + [sin(p w), cos(p w)]). */
static void embed_tokens(struct use_model *m, size_t n_seq)
{
	size_t d = m->d_emb, half = d / 2;
	for (size_t s = 0; s < n_seq; s++)
		for (size_t p = 0; p < m->seq_len[s]; p++) {
			size_t t = m->seq_start[s] + p;
			const float *ev = m->embd + (size_t)m->ids[t] * d;
			float *xr = m->x + t * d;
			for (size_t j = 0; j < d; j++) {
				float a = (float)p * m->timescale[j % half];
				float sig = (float)(j < half ? sin((double)a) : cos((double)a));
				xr[j] = ev[j] + (ev[j] + sig);
			}
		}
}

static void run_block(struct use_model *m, const struct use_block *b, size_t n_tok, size_t n_seq)
{
	size_t din = b->d_in, dout = b->d_out, datt = b->d_att;
	layer_norm(m->x, n_tok, din, b->attn_norm_w, b->attn_norm_b, m->ln_eps, m->h);
	dense(m->h, n_tok, din, b->qkv_w, b->qkv_b, 3 * datt, m->qkv);
	float scale = (float)(1.0 / sqrt((double)b->head_dim));
	for (size_t t = 0; t < n_tok; t++)
		for (size_t j = 0; j < datt; j++)
			m->qkv[t * 3 * datt + j] *= scale;
	for (size_t s = 0; s < n_seq; s++)
		if (m->seq_len[s])
			attention(b, m->n_heads, m->qkv + m->seq_start[s] * 3 * datt, m->seq_len[s],
				  m->scores, m->att + m->seq_start[s] * datt);
	/* the residual: x itself, or projected to the new width */
	const float *res = m->x;
	if (b->res_w) {
		dense(m->x, n_tok, din, b->res_w, b->res_b, dout, m->r);
		res = m->r;
	}
	dense(m->att, n_tok, datt, b->out_w, b->out_b, dout, m->h);
	for (size_t i = 0; i < n_tok * dout; i++)
		m->x[i] = m->h[i] + res[i];
	/* the FFN */
	layer_norm(m->x, n_tok, dout, b->ffn_norm_w, b->ffn_norm_b, m->ln_eps, m->h);
	dense(m->h, n_tok, dout, b->up_w, b->up_b, b->n_ff, m->ff);
	for (size_t i = 0; i < n_tok * b->n_ff; i++)
		m->ff[i] = m->ff[i] > 0.0f ? m->ff[i] : 0.0f;
	dense(m->ff, n_tok, b->n_ff, b->down_w, b->down_b, dout, m->h);
	for (size_t i = 0; i < n_tok * dout; i++)
		m->x[i] = m->h[i] + m->x[i];
}

/* Mean over each text's tokens, tanh(W p + b), L2-normalized -> out. */
static void pool(struct use_model *m, size_t n_seq, size_t d, float *out)
{
	for (size_t s = 0; s < n_seq; s++) {
		size_t n = m->seq_len[s];
		float div = (float)(n > 1 ? n : 1);
		for (size_t j = 0; j < d; j++) {
			double sum = 0;
			for (size_t p = 0; p < n; p++)
				sum += m->x[(m->seq_start[s] + p) * d + j];
			m->pooled[j] = (float)sum / div;
		}
		float *y = m->emb_out;
		memcpy(y, m->pool_b, m->n_embd * sizeof *y);
		cblas_sgemv(CblasRowMajor, CblasNoTrans, (int)m->n_embd, (int)d, 1.0f, m->pool_w,
			    (int)d, m->pooled, 1, 1.0f, y, 1);
		double ss = 0;
		for (size_t j = 0; j < m->n_embd; j++) {
			y[j] = (float)tanh((double)y[j]);
			ss += y[j] * y[j];
		}
		float sq = (float)ss > m->l2_eps ? (float)ss : m->l2_eps;
		float inv = (float)(1.0 / sqrt((double)sq));
		float *o = out + s * m->n_embd;
		for (size_t j = 0; j < m->n_embd; j++)
			o[j] = y[j] * inv;
	}
}

/* Texts [0, n) into chunks of whole texts, each run through the model. */
static int use_embed(struct eng_embedder *e, const char *const *texts, size_t n, float *out)
{
	struct use_model *m = e->model;
	size_t ct = CHUNK_TOKENS > m->n_ctx ? CHUNK_TOKENS : m->n_ctx;
	size_t d_last = m->blk[m->n_blocks - 1].d_out;
	size_t i = 0;
	while (i < n) {
		size_t first = i, n_seq = 0, n_tok = 0;
		while (i < n && ct - n_tok >= m->n_ctx) {
			size_t len = strlen(texts[i]), k = 0;
			if (len > MAX_TEXT_BYTES)
				len = mx_utf8_floor(texts[i], MAX_TEXT_BYTES);
			int rc = spm_tokenize(m->tok, texts[i], len, m->ids + n_tok, m->n_ctx, &k);
			if (rc)
				return eng_fail(e, rc, "cannot tokenize text %zu: %s", i,
						mx_strerror(rc));
			k = k < m->n_ctx ? k : m->n_ctx; /* ClipToMaxLength */
			for (size_t t = 0; t < k; t++)
				if (m->ids[n_tok + t] < 0 || (size_t)m->ids[n_tok + t] >= m->n_rows)
					return eng_fail(e, MX_ECORRUPT, "token id out of range");
			m->seq_start[n_seq] = n_tok;
			m->seq_len[n_seq] = k;
			n_seq++;
			n_tok += k;
			i++;
		}
		embed_tokens(m, n_seq);
		for (size_t l = 0; l < m->n_blocks && n_tok; l++)
			run_block(m, &m->blk[l], n_tok, n_seq);
		pool(m, n_seq, d_last, out + first * m->n_embd);
	}
	return 0;
}

const struct eng_arch eng_arch_use = { "use-lite", use_open, use_close, use_embed };
