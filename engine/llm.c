/*
 * llm.c - the decoder of the chat model (llm.h): loading and checking a
 * GGUF decoder, the KV cache and the forward pass.
 *
 * Forward pass of n tokens at positions p0 .. p0 + n - 1 (d = n_embd):
 *   x[i]   = token_embd[tok[i]]                               (n, d)
 *   n_layer times (pre-norm blocks):
 *     h    = RMSNorm(x) * attn_norm
 *     q, k, v = h Wq^T (+ bq), h Wk^T (+ bk), h Wv^T (+ bv)   (n, qd), (n, kvd) x2
 *     q, k = rope(q, k) at their positions (NORM or NEOX pairs, theta,
 *            linear / yarn scaling, Llama 3 frequency factors)
 *     K, V cache[p0 + i] = k[i], v[i]                         (F16 or F32)
 *     a    = per query head h (KV head h / (n_head / n_head_kv)):
 *            softmax(q K^T / sqrt(head_dim), causal) V         (n, qd)
 *     x   += a Wo^T
 *     h    = RMSNorm(x) * ffn_norm
 *     x   += (silu(h Wg^T) * (h Wu^T)) Wd^T                   (ff)
 *   logits = RMSNorm(x[n - 1]) * output_norm  W_out^T       (n_vocab)
 *            (W_out = output.weight, or token_embd when tied)
 *
 * Every weight product goes through qmat.h (activations prepared once per
 * pass and weight type) and is split by rows over the thread pool;
 * attention is split by heads. Nothing is allocated per pass: the scratch
 * buffers are sized for n_batch tokens at open.
 */
#include <limits.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../common/status.h"
#include "llm_int.h"
#include "qmat.h"
#include "quant.h"

/* Caps on hyperparameters (hostile files): far above any chat model this
 * engine would run on a laptop, low enough that sizes computed from them
 * do not overflow. */
#define MAX_EMBD    65536
#define MAX_LAYER   1024
#define MAX_HEAD    1024
#define MAX_HEADDIM 1024
#define MAX_FF	    (1 << 20)
#define MAX_VOCAB   (1 << 24)
#define MAX_CTX	    (1 << 20)
#define DEFAULT_CTX 4096
#define MAX_BATCH   8192

/* ---- errors --------------------------------------------------------------- */

__attribute__((format(printf, 3, 4))) static int fail(struct eng_llm *m, int rc, const char *fmt,
						      ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(m->msg, sizeof m->msg, fmt, ap);
	va_end(ap);
	return rc;
}

/* ---- binary16 --------------------------------------------------------------- */

/* float -> binary16 bits, round to nearest even */
static uint16_t f16_from_f32(float f)
{
	uint32_t x;
	memcpy(&x, &f, sizeof x);
	uint16_t sign = (uint16_t)((x >> 16) & 0x8000u);
	uint32_t ax = x & 0x7fffffffu;
	if (ax > 0x7f800000u)
		return sign | 0x7e00u; /* nan */
	if (ax >= 0x477ff000u)
		return sign | 0x7c00u; /* 65520 and up round to infinity */
	if (ax < 0x38800000u) {	       /* below 2^-14: a subnormal, in units of 2^-24 */
		float a;
		memcpy(&a, &ax, sizeof a);
		return sign | (uint16_t)lrintf(a * 0x1p24f);
	}
	uint32_t r = ax + 0xfffu + ((ax >> 13) & 1u);
	return sign | (uint16_t)((r >> 13) - (112u << 10));
}

/* binary16 bits -> float without branches on the value (the loop over a
 * head vectorizes): exponent and mantissa shifted into a float and scaled
 * by 2^112 re-bias normal and subnormal numbers alike. */
static inline float f32_from_f16(uint16_t h)
{
	uint32_t em = h & 0x7fffu, bits = em << 13, sign = (uint32_t)(h & 0x8000u) << 16;
	float f;
	memcpy(&f, &bits, sizeof f);
	f *= 0x1p112f;
	memcpy(&bits, &f, sizeof bits);
	if (em >= 0x7c00u)
		bits = 0x7f800000u | (em & 0x3ffu) << 13; /* inf, nan */
	bits |= sign;
	memcpy(&f, &bits, sizeof f);
	return f;
}

/* ---- small kernels ------------------------------------------------------------- */

/* y (n) = x / sqrt(mean(x^2) + eps) * g, as ggml: the sum in double */
static void rms_norm(const float *restrict x, const float *restrict g, float *restrict y, int n,
		     float eps)
{
	double sum = 0;
	for (int i = 0; i < n; i++)
		sum += (double)x[i] * x[i];
	float scale = 1.0f / sqrtf((float)(sum / n) + eps);
	for (int i = 0; i < n; i++)
		y[i] = x[i] * scale * g[i];
}

/* a . b over n floats, in 8 partial sums (vectorizable) */
static inline float dot(const float *restrict a, const float *restrict b, int n)
{
	float acc[8] = { 0 };
	int j = 0;
	for (; j + 8 <= n; j += 8)
		for (int t = 0; t < 8; t++)
			acc[t] += a[j + t] * b[j + t];
	float s = ((acc[0] + acc[1]) + (acc[2] + acc[3])) + ((acc[4] + acc[5]) + (acc[6] + acc[7]));
	for (; j < n; j++)
		s += a[j] * b[j];
	return s;
}

static inline void axpy(float *restrict y, float a, const float *restrict x, int n)
{
	for (int j = 0; j < n; j++)
		y[j] += a * x[j];
}

/* ---- rope ------------------------------------------------------------------------- */

/* YaRN's ramp between the dimensions that keep their frequency and those
 * that are interpolated (ggml's rope_yarn_ramp, same formula). */
static float yarn_ramp(float lo, float hi, int i0)
{
	float y = ((float)(i0 / 2) - lo) / fmaxf(0.001f, hi - lo);
	return 1.0f - fminf(1.0f, fmaxf(0.0f, y));
}

/* The dimension (of n_rot) whose wavelength fits n_rot_turns turns in the
 * original context. */
static float yarn_corr_dim(int n_rot, int n_ctx_orig, float turns, float base)
{
	return (float)n_rot * logf((float)n_ctx_orig / (turns * 2.0f * (float)M_PI)) /
	       (2.0f * logf(base));
}

/* cos, sin of every (token, pair) of the pass into rope_cs. The angle is
 * pos * base^(-2j / n_rot) (divided by the frequency factor), computed as
 * ggml does: a running float product. */
static void rope_tables(struct eng_llm *m, int p0, size_t n)
{
	int half = m->n_rot / 2;
	float theta_scale = powf(m->rope_base, -2.0f / (float)m->n_rot);
	for (size_t i = 0; i < n; i++) {
		float theta = (float)(p0 + (int)i);
		float *cs = m->rope_cs + i * (size_t)m->n_rot;
		for (int j = 0; j < half; j++, theta *= theta_scale) {
			float extrap = m->rope_freqs ? theta / m->rope_freqs[j] : theta;
			float interp = m->freq_scale * extrap, t = interp, mscale = m->attn_factor;
			if (m->ext_factor != 0.0f) {
				float mix =
					yarn_ramp(m->yarn_lo, m->yarn_hi, 2 * j) * m->ext_factor;
				t = interp * (1 - mix) + extrap * mix;
				mscale *= 1.0f + 0.1f * logf(1.0f / m->freq_scale);
			}
			cs[2 * j] = cosf(t) * mscale;
			cs[2 * j + 1] = sinf(t) * mscale;
		}
	}
}

/* Rotates the first n_rot values of each of n_heads heads of one token. */
static void rope_apply(const struct eng_llm *m, float *v, int n_heads, const float *cs)
{
	int half = m->n_rot / 2, hd = m->head_dim;
	for (int h = 0; h < n_heads; h++) {
		float *x = v + (size_t)h * hd;
		for (int j = 0; j < half; j++) {
			int a = m->arch->rope == LLM_ROPE_NEOX ? j : 2 * j;
			int b = m->arch->rope == LLM_ROPE_NEOX ? j + half : 2 * j + 1;
			float c = cs[2 * j], s = cs[2 * j + 1], x0 = x[a], x1 = x[b];
			x[a] = x0 * c - x1 * s;
			x[b] = x0 * s + x1 * c;
		}
	}
}

/* ---- the pool's jobs ------------------------------------------------------------- */

/* rows [r0, r1) of thread ith of nth, cut at multiples of 16 */
static void split_rows(uint64_t rows, int ith, int nth, uint64_t *r0, uint64_t *r1)
{
	uint64_t blocks = (rows + 15) / 16;
	*r0 = blocks * (uint64_t)ith / (uint64_t)nth * 16;
	*r1 = blocks * (uint64_t)(ith + 1) / (uint64_t)nth * 16;
	if (*r0 > rows)
		*r0 = rows;
	if (*r1 > rows)
		*r1 = rows;
}

static void gemm_job(void *ctx, int ith, int nth)
{
	struct eng_llm *m = ctx;
	for (int j = 0; j < m->n_jobs; j++) {
		const struct llm_job *jb = &m->jobs[j];
		uint64_t r0, r1;
		split_rows(jb->w->ne[1], ith, nth, &r0, &r1);
		if (r0 < r1)
			qmat_gemm(m->job_type, jb->w->data, m->job_k, m->act, m->job_stride,
				  m->job_n, r0, r1, jb->y, jb->ldy);
	}
}

/* Y_j (n, rows_j) = X (n, k) W_j^T for the nw weights (all of k columns):
 * the activations are prepared once per weight type, the products of one
 * type run as one job of the pool. */
static void matmul(struct eng_llm *m, const float *x, size_t n, uint64_t k,
		   const struct gguf_tensor *const *w, float *const *y, int nw)
{
	bool done[3] = { false, false, false };
	for (int first = 0; first < nw; first++) {
		if (done[first])
			continue;
		uint32_t type = w[first]->type;
		size_t stride = qmat_act_bytes(type, k);
		for (size_t i = 0; i < n; i++)
			qmat_act_prepare(type, x + i * k, k, m->act + i * stride);
		m->n_jobs = 0;
		for (int j = first; j < nw; j++) {
			if (done[j] || w[j]->type != type)
				continue;
			m->jobs[m->n_jobs++] = (struct llm_job){ w[j], y[j], (size_t)w[j]->ne[1] };
			done[j] = true;
		}
		m->job_type = type;
		m->job_k = k;
		m->job_n = n;
		m->job_stride = stride;
		eng_pool_run(m->pool, gemm_job, m);
	}
}

/* The K or V cache rows of (layer, kv head) as floats: n_pos rows of
 * head_dim. */
static void kv_rows(const struct eng_llm *m, const void *cache, int layer, int kvh, int n_pos,
		    float *restrict out)
{
	size_t off = ((size_t)layer * m->n_head_kv + (size_t)kvh) * (size_t)m->n_ctx *
		     (size_t)m->head_dim;
	size_t cnt = (size_t)n_pos * (size_t)m->head_dim;
	if (m->p.kv_type == ENG_KV_F32) {
		memcpy(out, (const float *)cache + off, cnt * sizeof *out);
		return;
	}
	const uint16_t *restrict src = (const uint16_t *)cache + off;
	for (size_t i = 0; i < cnt; i++)
		out[i] = f32_from_f16(src[i]);
}

/* Causal attention of the pass for the query heads of thread ith: the K and
 * V rows of a KV head are turned into floats once for its query heads
 * (heads of one group are next to each other, so mostly once per thread). */
static void attn_job(void *ctx, int ith, int nth)
{
	struct eng_llm *m = ctx;
	int hd = m->head_dim, group = m->n_head / m->n_head_kv, l = m->job_layer, p0 = m->job_p0;
	int n_pos = p0 + (int)m->job_n;
	int h0 = m->n_head * ith / nth, h1 = m->n_head * (ith + 1) / nth;
	float *kf = m->tscratch + (size_t)ith * m->tstride;
	float *vf = kf + (size_t)m->n_ctx * hd, *sc = vf + (size_t)m->n_ctx * hd;
	float scale = 1.0f / sqrtf((float)hd);
	int have = -1;
	for (int h = h0; h < h1; h++) {
		int kvh = h / group;
		if (kvh != have) {
			kv_rows(m, m->kv_k, l, kvh, n_pos, kf);
			kv_rows(m, m->kv_v, l, kvh, n_pos, vf);
			have = kvh;
		}
		for (size_t i = 0; i < m->job_n; i++) {
			const float *q = m->q + i * (size_t)m->qd + (size_t)h * hd;
			float *out = m->att + i * (size_t)m->qd + (size_t)h * hd;
			int np = p0 + (int)i + 1; /* causal: positions up to its own */
			float max = -INFINITY;
			for (int j = 0; j < np; j++) {
				sc[j] = dot(q, kf + (size_t)j * hd, hd) * scale;
				max = fmaxf(max, sc[j]);
			}
			double sum = 0;
			for (int j = 0; j < np; j++) {
				sc[j] = expf(sc[j] - max);
				sum += sc[j];
			}
			memset(out, 0, (size_t)hd * sizeof *out);
			for (int j = 0; j < np; j++)
				axpy(out, sc[j], vf + (size_t)j * hd, hd);
			float inv = (float)(1.0 / sum);
			for (int t = 0; t < hd; t++)
				out[t] *= inv;
		}
	}
}

/* ---- the forward pass ---------------------------------------------------------------- */

static void store_kv(struct eng_llm *m, int l, int p0, size_t n)
{
	int hd = m->head_dim;
	for (int kvh = 0; kvh < m->n_head_kv; kvh++) {
		size_t base =
			(((size_t)l * m->n_head_kv + (size_t)kvh) * (size_t)m->n_ctx + (size_t)p0) *
			(size_t)hd;
		for (size_t i = 0; i < n; i++) {
			const float *ks = m->k + i * (size_t)m->kvd + (size_t)kvh * hd;
			const float *vs = m->v + i * (size_t)m->kvd + (size_t)kvh * hd;
			size_t o = base + i * (size_t)hd;
			if (m->p.kv_type == ENG_KV_F32) {
				memcpy((float *)m->kv_k + o, ks, (size_t)hd * sizeof(float));
				memcpy((float *)m->kv_v + o, vs, (size_t)hd * sizeof(float));
			} else {
				uint16_t *kd = (uint16_t *)m->kv_k + o,
					 *vd = (uint16_t *)m->kv_v + o;
				for (int t = 0; t < hd; t++) {
					kd[t] = f16_from_f32(ks[t]);
					vd[t] = f16_from_f32(vs[t]);
				}
			}
		}
	}
}

static void add_bias(float *y, const float *b, size_t n, int width)
{
	for (size_t i = 0; i < n; i++)
		for (int j = 0; j < width; j++)
			y[i * (size_t)width + j] += b[j];
}

/* One pass of n <= n_batch tokens at n_past (checked by the caller). */
static void forward(struct eng_llm *m, const int32_t *tokens, size_t n)
{
	int d = m->n_embd, p0 = m->n_past;
	size_t erow = ggml_row_size(m->tok_embd->type, (uint64_t)d);
	for (size_t i = 0; i < n; i++)
		quant_dequant_row(m->tok_embd->type,
				  (const uint8_t *)m->tok_embd->data + (size_t)tokens[i] * erow,
				  m->x + i * (size_t)d, (uint64_t)d);
	rope_tables(m, p0, n);
	m->job_n = n;
	m->job_p0 = p0;
	for (int l = 0; l < m->n_layer; l++) {
		const struct llm_layer *L = &m->layers[l];
		for (size_t i = 0; i < n; i++)
			rms_norm(m->x + i * d, L->attn_norm, m->h + i * d, d, m->eps);
		const struct gguf_tensor *wqkv[3] = { L->wq, L->wk, L->wv };
		float *yqkv[3] = { m->q, m->k, m->v };
		matmul(m, m->h, n, (uint64_t)d, wqkv, yqkv, 3);
		if (L->bq) {
			add_bias(m->q, L->bq, n, m->qd);
			add_bias(m->k, L->bk, n, m->kvd);
			add_bias(m->v, L->bv, n, m->kvd);
		}
		for (size_t i = 0; i < n; i++) {
			const float *cs = m->rope_cs + i * (size_t)m->n_rot;
			rope_apply(m, m->q + i * (size_t)m->qd, m->n_head, cs);
			rope_apply(m, m->k + i * (size_t)m->kvd, m->n_head_kv, cs);
		}
		store_kv(m, l, p0, n);
		m->job_layer = l;
		m->job_n = n;
		eng_pool_run(m->pool, attn_job, m);
		const struct gguf_tensor *wo[1] = { L->wo };
		float *yo[1] = { m->h };
		matmul(m, m->att, n, (uint64_t)m->qd, wo, yo, 1);
		for (size_t i = 0; i < n * (size_t)d; i++)
			m->x[i] += m->h[i];

		for (size_t i = 0; i < n; i++)
			rms_norm(m->x + i * d, L->ffn_norm, m->h + i * d, d, m->eps);
		const struct gguf_tensor *wgu[2] = { L->wg, L->wu };
		float *ygu[2] = { m->gate, m->up };
		matmul(m, m->h, n, (uint64_t)d, wgu, ygu, 2);
		for (size_t i = 0; i < n * (size_t)m->n_ff; i++) {
			float g = m->gate[i];
			m->gate[i] = g / (1.0f + expf(-g)) * m->up[i];
		}
		const struct gguf_tensor *wd[1] = { L->wd };
		float *yd[1] = { m->h };
		matmul(m, m->gate, n, (uint64_t)m->n_ff, wd, yd, 1);
		for (size_t i = 0; i < n * (size_t)d; i++)
			m->x[i] += m->h[i];
	}
	rms_norm(m->x + (n - 1) * (size_t)d, m->out_norm, m->h, d, m->eps);
	const struct gguf_tensor *wout[1] = { m->output };
	float *yout[1] = { m->logits };
	matmul(m, m->h, 1, (uint64_t)d, wout, yout, 1);
	m->n_past += (int)n;
}

int eng_llm_decode(struct eng_llm *m, const int32_t *tokens, size_t n, const float **logits)
{
	m->msg[0] = '\0';
	if (n == 0 || !tokens)
		return fail(m, MX_EINVAL, "no tokens to decode");
	for (size_t i = 0; i < n; i++)
		if (tokens[i] < 0 || tokens[i] >= m->n_vocab)
			return fail(m, MX_EINVAL, "token id %ld is outside the vocabulary (0..%d)",
				    (long)tokens[i], m->n_vocab - 1);
	if (n > (size_t)(m->n_ctx - m->n_past))
		return fail(m, MX_ETOOBIG,
			    "context full: %zu tokens do not fit after %d of %d positions", n,
			    m->n_past, m->n_ctx);
	for (size_t i = 0; i < n; i += (size_t)m->p.n_batch) {
		size_t c = n - i < (size_t)m->p.n_batch ? n - i : (size_t)m->p.n_batch;
		forward(m, tokens + i, c);
	}
	if (logits)
		*logits = m->logits;
	return 0;
}

int eng_llm_truncate(struct eng_llm *m, int n_past)
{
	if (n_past < 0 || n_past > m->n_past)
		return fail(m, MX_EINVAL, "cannot truncate to %d of %d positions", n_past,
			    m->n_past);
	m->n_past = n_past;
	return 0;
}

void eng_llm_reset(struct eng_llm *m)
{
	m->n_past = 0;
}

/* ---- loading ---------------------------------------------------------------------------- */

struct eng_llm_params eng_llm_params_default(void)
{
	return (struct eng_llm_params){
		.threads = 2, .n_ctx = 0, .n_batch = 512, .kv_type = ENG_KV_F16
	};
}

/* "<arch>.suffix" */
static const char *akey(const struct eng_llm *m, char *buf, size_t size, const char *suffix)
{
	snprintf(buf, size, "%s.%s", m->arch->name, suffix);
	return buf;
}

/* An unsigned metadata value (u8..u64, i32 >= 0) in [lo, hi]; def when
 * absent and not required. */
static int meta_int(struct eng_llm *m, const char *suffix, bool required, long def, long lo,
		    long hi, int *out)
{
	char key[128];
	akey(m, key, sizeof key, suffix);
	uint32_t v32;
	uint64_t v64;
	long v;
	int rc = gguf_get_u32(m->g, key, &v32);
	if (rc == 0) {
		v = (long)v32;
	} else if (gguf_get_u64(m->g, key, &v64) == 0) {
		v = v64 > (uint64_t)LONG_MAX ? LONG_MAX : (long)v64;
	} else if (rc == MX_ENOTFOUND) {
		if (required)
			return fail(m, MX_ECORRUPT, "metadata %s is missing", key);
		*out = (int)def;
		return 0;
	} else {
		return fail(m, MX_ECORRUPT, "metadata %s is not an unsigned integer", key);
	}
	if (v < lo || v > hi)
		return fail(m, MX_ECORRUPT, "metadata %s = %ld is out of range (%ld..%ld)", key, v,
			    lo, hi);
	*out = (int)v;
	return 0;
}

static int meta_float(struct eng_llm *m, const char *suffix, bool required, float def, float lo,
		      float hi, float *out)
{
	char key[128];
	akey(m, key, sizeof key, suffix);
	int rc = gguf_get_f32(m->g, key, out);
	if (rc == MX_ENOTFOUND && !required) {
		*out = def;
		return 0;
	}
	if (rc == MX_ENOTFOUND)
		return fail(m, MX_ECORRUPT, "metadata %s is missing", key);
	if (rc)
		return fail(m, MX_ECORRUPT, "metadata %s is not a float", key);
	if (!(*out >= lo && *out <= hi)) /* also nan */
		return fail(m, MX_ECORRUPT, "metadata %s = %g is out of range", key, (double)*out);
	return 0;
}

static int hparams(struct eng_llm *m)
{
	int rc;
	if ((rc = meta_int(m, "embedding_length", true, 0, 1, MAX_EMBD, &m->n_embd)) ||
	    (rc = meta_int(m, "block_count", true, 0, 1, MAX_LAYER, &m->n_layer)) ||
	    (rc = meta_int(m, "feed_forward_length", true, 0, 1, MAX_FF, &m->n_ff)) ||
	    (rc = meta_int(m, "attention.head_count", true, 0, 1, MAX_HEAD, &m->n_head)) ||
	    (rc = meta_int(m, "attention.head_count_kv", false, m->n_head, 1, MAX_HEAD,
			   &m->n_head_kv)) ||
	    (rc = meta_int(m, "context_length", true, 0, 1, MAX_CTX, &m->n_ctx_train)))
		return rc;
	if (m->n_head % m->n_head_kv)
		return fail(m, MX_ECORRUPT, "%d attention heads are not a multiple of %d KV heads",
			    m->n_head, m->n_head_kv);
	int kl, vl;
	if ((rc = meta_int(m, "attention.key_length", false, m->n_embd / m->n_head, 1, MAX_HEADDIM,
			   &kl)) ||
	    (rc = meta_int(m, "attention.value_length", false, kl, 1, MAX_HEADDIM, &vl)))
		return rc;
	if (kl != vl)
		return fail(m, MX_EUNSUPPORTED, "key length %d differs from value length %d", kl,
			    vl);
	if (kl < 2 || kl % 2)
		return fail(m, MX_ECORRUPT, "head size %d is not even", kl);
	m->head_dim = kl;
	m->qd = m->n_head * kl;
	m->kvd = m->n_head_kv * kl;
	if ((rc = meta_int(m, "rope.dimension_count", false, kl, 2, kl, &m->n_rot)))
		return rc;
	if (m->n_rot % 2)
		return fail(m, MX_ECORRUPT, "rope dimension count %d is odd", m->n_rot);
	if ((rc = meta_float(m, "attention.layer_norm_rms_epsilon", true, 0, 1e-12f, 1.0f,
			     &m->eps)) ||
	    (rc = meta_float(m, "rope.freq_base", false, 10000.0f, 1.0f, 1e12f, &m->rope_base)))
		return rc;

	/* rope scaling */
	char key[128];
	const char *s = NULL;
	size_t len = 0;
	m->freq_scale = 1.0f;
	m->attn_factor = 1.0f;
	m->ext_factor = 0.0f;
	enum { SC_NONE, SC_LINEAR, SC_YARN } type = SC_NONE;
	float factor = 0;
	if ((rc = meta_float(m, "rope.scaling.factor", false, 0.0f, 0.0f, 1e6f, &factor)))
		return rc;
	if (factor == 0.0f &&
	    (rc = meta_float(m, "rope.scale_linear", false, 0.0f, 0.0f, 1e6f, &factor)))
		return rc;
	rc = gguf_get_str(m->g, akey(m, key, sizeof key, "rope.scaling.type"), &s, &len);
	if (rc == 0) {
		if (len == 4 && !memcmp(s, "none", 4))
			type = SC_NONE;
		else if (len == 6 && !memcmp(s, "linear", 6))
			type = SC_LINEAR;
		else if (len == 4 && !memcmp(s, "yarn", 4))
			type = SC_YARN;
		else
			return fail(m, MX_EUNSUPPORTED, "rope scaling '%.*s' is not supported",
				    (int)(len > 32 ? 32 : len), s);
	} else if (rc != MX_ENOTFOUND) {
		return fail(m, MX_ECORRUPT, "metadata %s is not a string", key);
	} else if (factor > 0.0f) {
		type = SC_LINEAR; /* the older rope.scale_linear key alone */
	}
	if (type != SC_NONE && factor > 0.0f)
		m->freq_scale = 1.0f / factor;
	if (type == SC_YARN) {
		int n_orig;
		float af;
		if ((rc = meta_int(m, "rope.scaling.original_context_length", false, m->n_ctx_train,
				   1, MAX_CTX, &n_orig)) ||
		    (rc = meta_float(m, "rope.scaling.attn_factor", false, 1.0f, 0.0f, 100.0f,
				     &af)))
			return rc;
		m->ext_factor = 1.0f;
		m->attn_factor = af;
		/* beta_fast 32, beta_slow 1: llama.cpp's defaults */
		m->yarn_lo =
			fmaxf(0.0f, floorf(yarn_corr_dim(m->n_rot, n_orig, 32.0f, m->rope_base)));
		m->yarn_hi = fminf((float)m->n_rot - 1,
				   ceilf(yarn_corr_dim(m->n_rot, n_orig, 1.0f, m->rope_base)));
	}
	return 0;
}

/* name: a 2-D weight [k, rows] that qmat can multiply; NULL when absent and
 * not required. */
static int weight(struct eng_llm *m, const char *name, uint64_t k, uint64_t rows, bool required,
		  const struct gguf_tensor **out)
{
	const struct gguf_tensor *t = gguf_tensor(m->g, name);
	*out = NULL;
	if (!t)
		return required ? fail(m, MX_ECORRUPT, "tensor %s is missing", name) : 0;
	if (t->n_dims != 2 || t->ne[0] != k || t->ne[1] != rows)
		return fail(m, MX_ECORRUPT,
			    "tensor %s has shape [%llu, %llu, %llu] (%d dims), want [%llu, %llu]",
			    name, (unsigned long long)t->ne[0], (unsigned long long)t->ne[1],
			    (unsigned long long)t->ne[2], t->n_dims, (unsigned long long)k,
			    (unsigned long long)rows);
	if (!qmat_supported(t->type, k))
		return fail(m, MX_EUNSUPPORTED, "tensor %s: type %s is not supported", name,
			    quant_type_name(t->type));
	*out = t;
	m->flops += 2.0 * (double)k * (double)rows;
	return 0;
}

/* name: a 1-D vector of n values copied as floats to *dst (arena); *dst
 * NULL when absent and not required. */
static int vec(struct eng_llm *m, const char *name, uint64_t n, bool required, float **cursor,
	       float **dst)
{
	const struct gguf_tensor *t = gguf_tensor(m->g, name);
	*dst = NULL;
	if (!t)
		return required ? fail(m, MX_ECORRUPT, "tensor %s is missing", name) : 0;
	if (t->n_dims != 1 || t->ne[0] != n)
		return fail(m, MX_ECORRUPT, "tensor %s has %llu values in %d dims, want %llu", name,
			    (unsigned long long)t->ne[0], t->n_dims, (unsigned long long)n);
	if (!quant_can_dequant(t->type))
		return fail(m, MX_EUNSUPPORTED, "tensor %s: type %s is not supported", name,
			    quant_type_name(t->type));
	if (gguf_tensor_f32(t, *cursor, (size_t)n) != 0)
		return fail(m, MX_ECORRUPT, "tensor %s cannot be read", name);
	for (uint64_t i = 0; i < n; i++)
		if (!isfinite((*cursor)[i]))
			return fail(m, MX_ECORRUPT, "tensor %s holds a non-finite value", name);
	*dst = *cursor;
	*cursor += n;
	return 0;
}

static int tensors(struct eng_llm *m)
{
	int rc, d = m->n_embd;
	const struct gguf_tensor *te = gguf_tensor(m->g, "token_embd.weight");
	if (!te)
		return fail(m, MX_ECORRUPT, "tensor token_embd.weight is missing");
	if (te->n_dims != 2 || te->ne[0] != (uint64_t)d || te->ne[1] < 1 || te->ne[1] > MAX_VOCAB)
		return fail(m, MX_ECORRUPT,
			    "tensor token_embd.weight has shape [%llu, %llu], want [%d, n_vocab]",
			    (unsigned long long)te->ne[0], (unsigned long long)te->ne[1], d);
	if (!quant_can_dequant(te->type) || ggml_row_size(te->type, (uint64_t)d) == 0)
		return fail(m, MX_EUNSUPPORTED,
			    "tensor token_embd.weight: type %s is not supported",
			    quant_type_name(te->type));
	m->tok_embd = te;
	m->n_vocab = (int)te->ne[1];
	int nv;
	if ((rc = meta_int(m, "vocab_size", false, m->n_vocab, 1, MAX_VOCAB, &nv)))
		return rc;
	if (nv != m->n_vocab)
		return fail(m, MX_ECORRUPT, "vocab_size %d differs from token_embd's %d rows", nv,
			    m->n_vocab);

	/* the float vectors: norms, biases, rope factors */
	size_t nf = (size_t)d + (size_t)m->n_rot / 2 +
		    (size_t)m->n_layer * (2 * (size_t)d + (size_t)m->qd + 2 * (size_t)m->kvd);
	m->arena = malloc(nf * sizeof *m->arena);
	m->layers = calloc((size_t)m->n_layer, sizeof *m->layers);
	if (!m->arena || !m->layers)
		return fail(m, MX_ENOMEM, "out of memory for the model");
	float *cur = m->arena, *freqs;
	if ((rc = vec(m, "output_norm.weight", (uint64_t)d, true, &cur, &m->out_norm)) ||
	    (rc = weight(m, "output.weight", (uint64_t)d, (uint64_t)m->n_vocab, false,
			 &m->output)) ||
	    (rc = vec(m, "rope_freqs.weight", (uint64_t)m->n_rot / 2, false, &cur, &freqs)))
		return rc;
	if (freqs)
		for (int j = 0; j < m->n_rot / 2; j++)
			if (!(freqs[j] > 0.0f))
				return fail(m, MX_ECORRUPT, "rope_freqs.weight holds %g",
					    (double)freqs[j]);
	m->rope_freqs = freqs;
	if (!m->output) { /* tied: the embedding table is the output matrix */
		if (!qmat_supported(te->type, (uint64_t)d))
			return fail(
				m, MX_EUNSUPPORTED,
				"tied output: token_embd.weight of type %s cannot be multiplied",
				quant_type_name(te->type));
		m->output = te;
		m->flops += 2.0 * d * (double)m->n_vocab;
	}
	for (int l = 0; l < m->n_layer; l++) {
		struct llm_layer *L = &m->layers[l];
		char n[96];
		uint64_t ud = (uint64_t)d, qd = (uint64_t)m->qd, kvd = (uint64_t)m->kvd,
			 ff = (uint64_t)m->n_ff;
#define NAME(s) (snprintf(n, sizeof n, "blk.%d." s, l), n)
		if ((rc = vec(m, NAME("attn_norm.weight"), ud, true, &cur, &L->attn_norm)) ||
		    (rc = vec(m, NAME("ffn_norm.weight"), ud, true, &cur, &L->ffn_norm)) ||
		    (rc = weight(m, NAME("attn_q.weight"), ud, qd, true, &L->wq)) ||
		    (rc = weight(m, NAME("attn_k.weight"), ud, kvd, true, &L->wk)) ||
		    (rc = weight(m, NAME("attn_v.weight"), ud, kvd, true, &L->wv)) ||
		    (rc = weight(m, NAME("attn_output.weight"), qd, ud, true, &L->wo)) ||
		    (rc = weight(m, NAME("ffn_gate.weight"), ud, ff, true, &L->wg)) ||
		    (rc = weight(m, NAME("ffn_up.weight"), ud, ff, true, &L->wu)) ||
		    (rc = weight(m, NAME("ffn_down.weight"), ff, ud, true, &L->wd)))
			return rc;
		if (m->arch->qkv_bias &&
		    ((rc = vec(m, NAME("attn_q.bias"), qd, true, &cur, &L->bq)) ||
		     (rc = vec(m, NAME("attn_k.bias"), kvd, true, &cur, &L->bk)) ||
		     (rc = vec(m, NAME("attn_v.bias"), kvd, true, &cur, &L->bv))))
			return rc;
#undef NAME
	}
	return 0;
}

/* The stop tokens of the tokenizer metadata. */
static void stop_tokens(struct eng_llm *m)
{
	static const char *const keys[] = { "tokenizer.ggml.eos_token_id",
					    "tokenizer.ggml.eot_token_id",
					    "tokenizer.ggml.eom_token_id" };
	for (size_t i = 0; i < sizeof keys / sizeof keys[0]; i++) {
		uint32_t v;
		if (gguf_get_u32(m->g, keys[i], &v) != 0 || v >= (uint32_t)m->n_vocab)
			continue;
		bool dup = false;
		for (size_t j = 0; j < m->n_stops; j++)
			dup |= m->stops[j] == (int32_t)v;
		if (!dup)
			m->stops[m->n_stops++] = (int32_t)v;
	}
}

/* n * size, or 0 past the cap of total bytes (1 TiB: beyond it, allocation
 * fails anyway) */
static size_t bytes(size_t n, size_t size)
{
	const size_t cap = (size_t)1 << 40;
	return size && n > cap / size ? 0 : n * size;
}

static int buffers(struct eng_llm *m)
{
	size_t B = (size_t)m->p.n_batch, d = (size_t)m->n_embd, ctx = (size_t)m->n_ctx,
	       hd = (size_t)m->head_dim;
	size_t esz = m->p.kv_type == ENG_KV_F32 ? sizeof(float) : sizeof(uint16_t);
	size_t kvn = bytes((size_t)m->n_layer * (size_t)m->kvd, ctx);
	size_t kvb = bytes(kvn, esz);

	/* the widest prepared activation row of any product */
	size_t act_row = 0;
	for (int l = 0; l < m->n_layer; l++) {
		const struct llm_layer *L = &m->layers[l];
		const struct gguf_tensor *w[7] = {
			L->wq, L->wk, L->wv, L->wo, L->wg, L->wu, L->wd
		};
		for (int j = 0; j < 7; j++) {
			size_t a = qmat_act_bytes(w[j]->type, w[j]->ne[0]);
			act_row = a > act_row ? a : act_row;
		}
	}
	size_t a = qmat_act_bytes(m->output->type, d);
	act_row = a > act_row ? a : act_row;

	size_t nth = (size_t)m->p.threads;
	m->tstride = 2 * ctx * hd + ctx;
	if (!kvb || !bytes(B, act_row) || !bytes(bytes(nth, m->tstride), sizeof(float)))
		return fail(m, MX_ENOMEM, "the context of %d positions needs too much memory",
			    m->n_ctx);
	m->kv_k = malloc(kvb);
	m->kv_v = malloc(kvb);
	/* the activations: one block of floats, carved */
	size_t w[11] = { B * d,
			 B * d,
			 B * (size_t)m->qd,
			 B * (size_t)m->qd,
			 B * (size_t)m->kvd,
			 B * (size_t)m->kvd,
			 B * (size_t)m->n_ff,
			 B * (size_t)m->n_ff,
			 B * (size_t)m->n_rot,
			 (size_t)m->n_vocab,
			 nth * m->tstride };
	float **dst[11] = { &m->x,    &m->h,  &m->q,	   &m->att,    &m->k,	    &m->v,
			    &m->gate, &m->up, &m->rope_cs, &m->logits, &m->tscratch };
	size_t total = 0;
	for (int i = 0; i < 11; i++)
		total += (w[i] + 15) / 16 * 16; /* 64-byte aligned parts */
	m->scratch = aligned_alloc(64, total * sizeof(float));
	m->act_cap = (B * act_row + 63) / 64 * 64;
	m->act = aligned_alloc(64, m->act_cap);
	if (!m->kv_k || !m->kv_v || !m->scratch || !m->act)
		return fail(m, MX_ENOMEM, "out of memory for a context of %d positions", m->n_ctx);
	float *cur = m->scratch;
	for (int i = 0; i < 11; i++) {
		*dst[i] = cur;
		cur += (w[i] + 15) / 16 * 16;
	}
	return 0;
}

static int open_common(struct eng_llm *m, const struct eng_llm_params *p)
{
	int rc;
	m->p = p ? *p : eng_llm_params_default();
	if (m->p.threads < 1 || m->p.threads > 256 || m->p.n_ctx < 0 || m->p.n_batch < 1 ||
	    m->p.n_batch > MAX_BATCH || (m->p.kv_type != ENG_KV_F16 && m->p.kv_type != ENG_KV_F32))
		return fail(m, MX_EINVAL, "bad parameters (threads 1..256, n_batch 1..%d)",
			    MAX_BATCH);
	const char *an = NULL;
	size_t alen = 0;
	if (gguf_get_str(m->g, "general.architecture", &an, &alen) != 0)
		return fail(m, MX_ECORRUPT, "general.architecture is missing");
	m->arch = llm_arch_find(an, alen);
	if (!m->arch)
		return fail(m, MX_EUNSUPPORTED,
			    "architecture '%.*s' is not a supported chat model (%s)",
			    (int)(alen > 40 ? 40 : alen), an, llm_arch_names());
	if ((rc = hparams(m)) || (rc = tensors(m)))
		return rc;
	int ctx = m->p.n_ctx ? m->p.n_ctx : DEFAULT_CTX;
	m->n_ctx = ctx < m->n_ctx_train ? ctx : m->n_ctx_train;
	if (m->p.n_batch > m->n_ctx)
		m->p.n_batch = m->n_ctx;
	stop_tokens(m);
	if ((rc = buffers(m)))
		return rc;
	if ((rc = eng_pool_new(m->p.threads, &m->pool)))
		return fail(m, rc, "cannot start %d threads", m->p.threads);
	return 0;
}

static int finish_open(struct eng_llm *m, int rc, struct eng_llm **out, char *err, size_t errsz)
{
	if (rc) {
		if (err && errsz)
			snprintf(err, errsz, "%s", m->msg[0] ? m->msg : "cannot open the model");
		eng_llm_close(m);
		return rc;
	}
	m->msg[0] = '\0';
	*out = m;
	return 0;
}

/* Opens path, or the image data/len when path is NULL. */
static int open_any(const char *path, const void *data, size_t len, const struct eng_llm_params *p,
		    struct eng_llm **out, char *err, size_t errsz)
{
	*out = NULL;
	struct eng_llm *m = calloc(1, sizeof *m);
	if (!m) {
		if (err && errsz)
			snprintf(err, errsz, "out of memory");
		return MX_ENOMEM;
	}
	int rc = path ? gguf_open(path, &m->g, m->msg, sizeof m->msg)
		      : gguf_open_memory(data, len, &m->g, m->msg, sizeof m->msg);
	if (!rc)
		rc = open_common(m, p);
	return finish_open(m, rc, out, err, errsz);
}

int eng_llm_open(const char *path, const struct eng_llm_params *p, struct eng_llm **out, char *err,
		 size_t errsz)
{
	return open_any(path, NULL, 0, p, out, err, errsz);
}

int eng_llm_open_memory(const void *data, size_t len, const struct eng_llm_params *p,
			struct eng_llm **out, char *err, size_t errsz)
{
	return open_any(NULL, data, len, p, out, err, errsz);
}

void eng_llm_close(struct eng_llm *m)
{
	if (!m)
		return;
	eng_pool_free(m->pool);
	free(m->kv_k);
	free(m->kv_v);
	free(m->scratch);
	free(m->act);
	free(m->layers);
	free(m->arena);
	gguf_close(m->g);
	free(m);
}

/* ---- accessors ------------------------------------------------------------------------------- */

int eng_llm_n_vocab(const struct eng_llm *m)
{
	return m->n_vocab;
}

int eng_llm_n_ctx(const struct eng_llm *m)
{
	return m->n_ctx;
}

int eng_llm_n_ctx_train(const struct eng_llm *m)
{
	return m->n_ctx_train;
}

int eng_llm_n_embd(const struct eng_llm *m)
{
	return m->n_embd;
}

int eng_llm_n_past(const struct eng_llm *m)
{
	return m->n_past;
}

const char *eng_llm_arch(const struct eng_llm *m)
{
	return m->arch->name;
}

const struct gguf *eng_llm_gguf(const struct eng_llm *m)
{
	return m->g;
}

size_t eng_llm_stop_tokens(const struct eng_llm *m, int32_t *out, size_t cap)
{
	for (size_t i = 0; i < m->n_stops && i < cap; i++)
		out[i] = m->stops[i];
	return m->n_stops;
}

double eng_llm_flops_per_token(const struct eng_llm *m)
{
	return m->flops;
}

const char *eng_llm_errmsg(const struct eng_llm *m)
{
	return m->msg;
}
