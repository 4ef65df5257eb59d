/*
 * llm.c - the decoder of the chat model (llm.h): loading and checking a
 * GGUF decoder, the KV cache and the forward pass.
 *
 * Forward pass of n tokens at positions p0 .. p0 + n - 1 (d = n_embd):
 *   x[i]   = token_embd[tok[i]]                               (n, d)
 *   n_layer times (pre-norm blocks):
 *     h    = RMSNorm(x) * attn_norm
 *     q, k, v = h Wq^T (+ bq), h Wk^T (+ bk), h Wv^T (+ bv)   (n, qd), (n, kvd) x2
 *     q, k = RMSNorm of each head * attn_{q,k}_norm (qwen3 only)
 *     q, k = rope(q, k) at their positions (NORM or NEOX pairs, theta,
 *            linear / yarn scaling, Llama 3 frequency factors)
 *     K, V cache[p0 + i] = k[i], v[i]      (F16 or F32; K stored transposed)
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
#include <time.h>

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

/* binary16 bits -> float without branches (the conversion of a row
 * vectorizes): exponent and mantissa shifted into a float and scaled by
 * 2^112 re-bias normal and subnormal numbers alike; infinities and nans
 * are put back by a mask. */
static inline float f32_from_f16(uint16_t h)
{
	uint32_t em = h & 0x7fffu, bits = em << 13, sign = (uint32_t)(h & 0x8000u) << 16;
	float f;
	memcpy(&f, &bits, sizeof f);
	f *= 0x1p112f;
	memcpy(&bits, &f, sizeof bits);
	uint32_t special = 0u - (uint32_t)(em >= 0x7c00u);
	bits = (bits & ~special) | ((0x7f800000u | (em & 0x3ffu) << 13) & special);
	bits |= sign;
	memcpy(&f, &bits, sizeof f);
	return f;
}

/* ---- small kernels ------------------------------------------------------------- */

/* y (n) = x / sqrt(mean(x^2) + eps) * g, as ggml: the sum in double; y
 * may be x */
static void rms_norm(const float *x, const float *g, float *y, int n, float eps)
{
	/* four partial sums: no add latency per value (the order differs
	 * from ggml's in the last bits of a double only) */
	double s4[4] = { 0, 0, 0, 0 };
	int i = 0;
	for (; i + 4 <= n; i += 4)
		for (int t = 0; t < 4; t++)
			s4[t] += (double)x[i + t] * x[i + t];
	double sum = (s4[0] + s4[1]) + (s4[2] + s4[3]);
	for (; i < n; i++)
		sum += (double)x[i] * x[i];
	float scale = 1.0f / sqrtf((float)(sum / n) + eps);
	for (i = 0; i < n; i++)
		y[i] = x[i] * scale * g[i];
}

/* RMSNorm of each of n_heads consecutive heads of hd values, in place */
static void heads_norm(float *v, size_t n_heads, const float *g, int hd, float eps)
{
	for (size_t h = 0; h < n_heads; h++)
		rms_norm(v + h * (size_t)hd, g, v + h * (size_t)hd, hd, eps);
}

/* The inner loops of attention work on blocks of 16 floats held in GCC's
 * generic vector type (plain arrays of 16 stayed in memory: gcc -O2 keeps
 * loops of unknown length scalar and did not promote the arrays), and
 * LLM_CLONES (llm_int.h) compiles them for AVX2 and AVX-512 besides the
 * baseline, the best chosen at load time. No intrinsics: the same source
 * serves every target. */

/* a += b * c in the loops below is one FMA: ISO C mode (-std=c17) keeps
 * gcc from contracting it, which doubles the attention's float operations
 * and puts an add latency on each accumulator chain. */
#if defined(__clang__)
#pragma clang fp contract(fast)
#elif defined(__GNUC__)
#pragma GCC optimize("fp-contract=fast")
#endif

/* 16 floats as one value of GCC's (and clang's) generic vector type: the
 * compiler maps it to what the target has (one zmm register, two ymm,
 * four xmm). ATT_TILE is 4: the attention loops name its 4 accumulators. */
typedef float v16 __attribute__((vector_size(64)));

/* (through pointers: a 64-byte vector passed by value would have another
 * ABI in the baseline and AVX-512 clones) */
static inline void v16_load(v16 *v, const float *p)
{
	memcpy(v, p, sizeof *v);
}

static inline void v16_store(float *p, const v16 *v)
{
	memcpy(p, v, sizeof *v);
}

typedef int32_t v16i __attribute__((vector_size(64)));

/* *r = the lanes of a where mask (all ones), else those of b */
static inline void v16_select(v16 *r, const v16i *mask, const v16 *a, const v16 *b)
{
	*r = (v16)(((v16i)*a & *mask) | ((v16i)*b & ~*mask));
}

/* e^x of 16 lanes in place, for x <= 0 (softmax after subtracting the
 * maximum): x = n ln2 + r, |r| <= ln2 / 2, e^r by its Taylor polynomial to
 * r^7 (relative error under 2e-7), 2^n put in the exponent bits. Below -87
 * (e^x < 2^-126) it gives about 1.6e-38 instead of less; a nan is taken as
 * -87, so that the conversion to integers stays defined. */
static inline void v16_exp_neg(v16 *px)
{
	const v16 zero = { 0 }, lo = zero - 87.0f;
	v16 x = *px;
	v16i m = x > lo;
	v16_select(&x, &m, &x, &lo); /* also a nan: -87 */
	m = x < zero;
	v16_select(&x, &m, &x, &zero);
	v16i n = __builtin_convertvector(x * 1.44269504f - 0.5f, v16i);
	v16 fn = __builtin_convertvector(n, v16);
	v16 r = (x - fn * 0.693145752f) - fn * 1.42860677e-6f;
	static const float c[8] = { 1.0f / 5040, 1.0f / 720, 1.0f / 120, 1.0f / 24,
				    1.0f / 6,	 0.5f,	     1.0f,	 1.0f };
	v16 p = zero + c[0];
	for (int i = 1; i < 8; i++)
		p = p * r + c[i]; /* Horner */
	*px = p * (v16)((n + 127) << 23);
}

/* g (n) = silu(g) * up = g / (1 + e^-g) * up, in place. e^-|g| <= 1 by
 * v16_exp_neg, then g / (1 + t) for g >= 0 and g t / (1 + t) below. */
LLM_CLONES static void swiglu(float *g, const float *up, size_t n)
{
	const v16 zero = { 0 }, one = zero + 1.0f;
	size_t i = 0;
	for (; i + 16 <= n; i += 16) {
		v16 x, u, t, r;
		v16_load(&x, g + i);
		v16_load(&u, up + i);
		v16i neg = x < zero;
		t = -x;
		v16_select(&t, &neg, &x, &t); /* -|x| */
		v16_exp_neg(&t);
		v16 num;
		v16_select(&num, &neg, &t, &one);
		r = x * num / (one + t) * u;
		v16_store(g + i, &r);
	}
	for (; i < n; i++)
		g[i] = g[i] / (1.0f + expf(-g[i])) * up[i];
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

/* What act_job does to a token before preparing it: the per-token steps
 * between two products, so that a prefill runs them on every thread with
 * no job of their own. */
enum llm_pre {
	PRE_NONE,
	PRE_NORM,     /* job_x = RMSNorm(x) * job_g */
	PRE_ADD_NORM, /* x += job_add; job_x = RMSNorm(x) * job_g */
	PRE_SWIGLU,   /* job_x (the gate) = silu(gate) * up */
};

/* tokens [n ith / nth, n (ith + 1) / nth) of thread ith of nth */
static void split_tokens(size_t n, int ith, int nth, size_t *i0, size_t *i1)
{
	*i0 = n * (size_t)ith / (size_t)nth;
	*i1 = n * (size_t)(ith + 1) / (size_t)nth;
}

/* the thread's tokens through job_pre, then prepared */
static void act_job(void *ctx, int ith, int nth)
{
	struct eng_llm *m = ctx;
	size_t i0, i1, d = (size_t)m->n_embd, k = m->job_k;
	split_tokens(m->job_n, ith, nth, &i0, &i1);
	for (size_t i = i0; i < i1; i++) {
		float *xi = m->job_x + i * k;
		switch (m->job_pre) {
		case PRE_ADD_NORM:
			for (size_t j = 0; j < d; j++)
				m->x[i * d + j] += m->job_add[i * d + j];
			/* fall through */
		case PRE_NORM: rms_norm(m->x + i * d, m->job_g, xi, (int)d, m->eps); break;
		case PRE_SWIGLU: swiglu(xi, m->up + i * k, k); break;
		default: break;
		}
		qmat_act_prepare(m->job_type, xi, k, m->act + i * m->job_stride);
	}
}

/* Y_j (n, rows_j) = X (n, k) W_j^T for the nw weights (all of k columns):
 * the activations are prepared once per weight type (the first time after
 * the step pre, see enum llm_pre, with g and add), the products of one
 * type run as one job of the pool. */
static void matmul(struct eng_llm *m, float *x, size_t n, uint64_t k, enum llm_pre pre,
		   const float *g, const float *add, const struct gguf_tensor *const *w,
		   float *const *y, int nw)
{
	bool done[3] = { false, false, false };
	m->job_pre = pre;
	m->job_g = g;
	m->job_add = add;
	for (int first = 0; first < nw; first++) {
		if (done[first])
			continue;
		uint32_t type = w[first]->type;
		size_t stride = qmat_act_bytes(type, k);
		m->job_type = type;
		m->job_k = k;
		m->job_n = n;
		m->job_stride = stride;
		m->job_x = x;
		if (n >= 4 * (size_t)eng_pool_threads(m->pool))
			eng_pool_run(m->pool, act_job, m); /* a prefill: worth a job */
		else
			act_job(m, 0, 1);
		m->job_pre = PRE_NONE; /* done for the next type's preparation */
		m->n_jobs = 0;
		for (int j = first; j < nw; j++) {
			if (done[j] || w[j]->type != type)
				continue;
			m->jobs[m->n_jobs++] = (struct llm_job){ w[j], y[j], (size_t)w[j]->ne[1] };
			done[j] = true;
		}
		eng_pool_run(m->pool, gemm_job, m);
	}
}

/* n cached values from element off of a cache (F16 or F32) as floats */
static inline void kv_read(const struct eng_llm *m, const void *cache, size_t off, size_t n,
			   float *restrict out)
{
	if (m->p.kv_type == ENG_KV_F32) {
		memcpy(out, (const float *)cache + off, n * sizeof *out);
		return;
	}
	const uint16_t *restrict src = (const uint16_t *)cache + off;
	size_t i = 0;
	for (; i + 16 <= n; i += 16)
		for (int t = 0; t < 16; t++)
			out[i + t] = f32_from_f16(src[i + t]);
	for (; i < n; i++)
		out[i] = f32_from_f16(src[i]);
}

/* The cached K of positions 0 .. n_pos - 1 of (layer, kv head) as floats,
 * kt (head_dim, ld), transposed as the cache keeps it so that the scores of
 * a query are sums of whole rows (axpy over positions, no horizontal
 * sums); its V as vf (n_pos, head_dim). */
LLM_CLONES static void kv_load(const struct eng_llm *m, int layer, int kvh, int n_pos, size_t ld,
			       float *restrict kt, float *restrict vf)
{
	size_t hd = (size_t)m->head_dim, ctx = (size_t)m->n_ctx;
	size_t off = ((size_t)layer * m->n_head_kv + (size_t)kvh) * ctx * hd;
	size_t pad = ((size_t)n_pos + 15) / 16 * 16 - (size_t)n_pos;
	for (size_t d = 0; d < hd; d++) {
		kv_read(m, m->kv_k, off + d * ctx, (size_t)n_pos, kt + d * ld);
		memset(kt + d * ld + n_pos, 0, pad * sizeof *kt); /* whole blocks of 16 */
	}
	kv_read(m, m->kv_v, off, (size_t)n_pos * hd, vf);
}

/* Causal attention of the pass for the query heads of thread ith of nth:
 *   s[i][j] = q_i . k_j / sqrt(head_dim)  for j <= pos_i
 *   out_i   = sum_j softmax(s[i])_j v_j
 * The K and V of a KV head are loaded once (as floats) for the thread's
 * query heads of its group. The (token, head) queries of a group are taken
 * ATT_TILE at a time, token-major, so that a decoding step puts the heads
 * of a group in one tile and a prefill puts neighbouring tokens together;
 * a tile's scores are computed in register blocks of ATT_TILE x 16
 * (positions) and its outputs in blocks of ATT_TILE x 16 (dimensions):
 * each K and V value loaded is used ATT_TILE times. A tile that is not full
 * computes zeros for its missing queries. */
LLM_CLONES static void attn_job(void *ctx, int ith, int nth)
{
	struct eng_llm *m = ctx;
	int hd = m->head_dim, group = m->n_head / m->n_head_kv, l = m->job_layer, p0 = m->job_p0;
	int n_pos = p0 + (int)m->job_n;
	int h0 = m->n_head * ith / nth, h1 = m->n_head * (ith + 1) / nth;
	size_t ld = m->att_ld, n = m->job_n;
	float *kt = m->tscratch + (size_t)ith * m->tstride;
	float *vf = kt + (size_t)hd * ld, *sc = vf + ld * (size_t)hd;
	float *qs = sc + ATT_TILE * ld; /* the tile's scaled queries (ATT_TILE, hd) */
	float scale = 1.0f / sqrtf((float)hd);
	for (int kvh = h0 / group; kvh * group < h1; kvh++) {
		int ha = kvh * group > h0 ? kvh * group : h0;
		int hb = (kvh + 1) * group < h1 ? (kvh + 1) * group : h1;
		size_t nh = (size_t)(hb - ha), count = n * nh;
		kv_load(m, l, kvh, n_pos, ld, kt, vf);
		for (size_t e0 = 0; e0 < count; e0 += ATT_TILE) {
			size_t nt = count - e0 < ATT_TILE ? count - e0 : ATT_TILE;
			int np[ATT_TILE];
			float *out[ATT_TILE];
			for (size_t t = 0; t < ATT_TILE; t++) {
				size_t e = e0 + (t < nt ? t : 0), i = e / nh,
				       h = (size_t)ha + e % nh;
				const float *q = m->q + i * (size_t)m->qd + h * (size_t)hd;
				for (int d = 0; d < hd; d++)
					qs[t * (size_t)hd + (size_t)d] =
						t < nt ? q[d] * scale : 0.0f;
				np[t] = t < nt ? p0 + (int)i + 1
					       : 0; /* causal: up to its own position */
				out[t] = m->att + i * (size_t)m->qd + h * (size_t)hd;
			}
			int np_max = np[0];
			for (size_t t = 1; t < nt; t++)
				np_max = np[t] > np_max ? np[t] : np_max;

			/* scores, 32 then 16 positions at a time (kt is zero-padded to
			 * 16): eight accumulator chains keep both FMA pipes busy */
			int np16 = (np_max + 15) / 16 * 16, jp = 0;
			for (; jp + 32 <= np16; jp += 32) {
				v16 a0 = { 0 }, a1 = { 0 }, a2 = { 0 }, a3 = { 0 };
				v16 b0 = { 0 }, b1 = { 0 }, b2 = { 0 }, b3 = { 0 };
				for (int d = 0; d < hd; d++) {
					v16 k, k2;
					v16_load(&k, kt + (size_t)d * ld + (size_t)jp);
					v16_load(&k2, kt + (size_t)d * ld + (size_t)jp + 16);
					float s0 = qs[d], s1 = qs[hd + d], s2 = qs[2 * hd + d],
					      s3 = qs[3 * hd + d];
					a0 += s0 * k;
					a1 += s1 * k;
					a2 += s2 * k;
					a3 += s3 * k;
					b0 += s0 * k2;
					b1 += s1 * k2;
					b2 += s2 * k2;
					b3 += s3 * k2;
				}
				v16_store(sc + (size_t)jp, &a0);
				v16_store(sc + ld + (size_t)jp, &a1);
				v16_store(sc + 2 * ld + (size_t)jp, &a2);
				v16_store(sc + 3 * ld + (size_t)jp, &a3);
				v16_store(sc + (size_t)jp + 16, &b0);
				v16_store(sc + ld + (size_t)jp + 16, &b1);
				v16_store(sc + 2 * ld + (size_t)jp + 16, &b2);
				v16_store(sc + 3 * ld + (size_t)jp + 16, &b3);
			}
			for (; jp < np16; jp += 16) {
				v16 a0 = { 0 }, a1 = { 0 }, a2 = { 0 }, a3 = { 0 };
				for (int d = 0; d < hd; d++) {
					v16 k;
					v16_load(&k, kt + (size_t)d * ld + (size_t)jp);
					a0 += qs[d] * k;
					a1 += qs[hd + d] * k;
					a2 += qs[2 * hd + d] * k;
					a3 += qs[3 * hd + d] * k;
				}
				v16_store(sc + (size_t)jp, &a0);
				v16_store(sc + ld + (size_t)jp, &a1);
				v16_store(sc + 2 * ld + (size_t)jp, &a2);
				v16_store(sc + 3 * ld + (size_t)jp, &a3);
			}
			/* softmax of each row over the positions its query sees; the
			 * others, and the rows of missing queries, weigh 0 */
			float inv[ATT_TILE];
			for (size_t t = 0; t < ATT_TILE; t++) {
				float *s = sc + t * ld;
				for (int j = np[t]; j < np16; j++)
					s[j] = -INFINITY;
				v16 mx, sm, v;
				v16_load(&mx, s);
				for (int j0 = 16; j0 < np16; j0 += 16) {
					v16_load(&v, s + j0);
					v16i gt = v > mx;
					v16_select(&mx, &gt, &v, &mx);
				}
				float max = mx[0];
				for (int u = 1; u < 16; u++)
					max = mx[u] > max ? mx[u] : max;
				for (int j0 = 0; j0 < np16; j0 += 16) {
					v16_load(&v, s + j0);
					v -= max;
					v16_exp_neg(&v);
					v16_store(s + j0, &v);
				}
				for (int j = np[t]; j < np16; j++)
					s[j] = 0.0f;
				sm = (v16){ 0 };
				for (int j0 = 0; j0 < np16; j0 += 16) {
					v16_load(&v, s + j0);
					sm += v;
				}
				float sum = 0;
				for (int u = 0; u < 16; u++)
					sum += sm[u];
				inv[t] = np[t] > 0 ? 1.0f / sum : 0.0f;
			}
			/* outputs, 32 then 16 dimensions at a time */
			int d0 = 0;
			for (; d0 + 32 <= hd; d0 += 32) {
				v16 a0 = { 0 }, a1 = { 0 }, a2 = { 0 }, a3 = { 0 };
				v16 b0 = { 0 }, b1 = { 0 }, b2 = { 0 }, b3 = { 0 };
				for (int j = 0; j < np_max; j++) {
					v16 v, v2;
					v16_load(&v, vf + (size_t)j * hd + (size_t)d0);
					v16_load(&v2, vf + (size_t)j * hd + (size_t)d0 + 16);
					float s0 = sc[j], s1 = sc[ld + (size_t)j],
					      s2 = sc[2 * ld + (size_t)j], s3 = sc[3 * ld + (size_t)j];
					a0 += s0 * v;
					a1 += s1 * v;
					a2 += s2 * v;
					a3 += s3 * v;
					b0 += s0 * v2;
					b1 += s1 * v2;
					b2 += s2 * v2;
					b3 += s3 * v2;
				}
				v16 acc[ATT_TILE] = { a0, a1, a2, a3 }, acc2[ATT_TILE] = { b0, b1, b2, b3 };
				for (size_t t = 0; t < nt; t++) {
					v16 o = acc[t] * inv[t], o2 = acc2[t] * inv[t];
					v16_store(out[t] + d0, &o);
					v16_store(out[t] + d0 + 16, &o2);
				}
			}
			for (; d0 + 16 <= hd; d0 += 16) {
				v16 a0 = { 0 }, a1 = { 0 }, a2 = { 0 }, a3 = { 0 };
				for (int j = 0; j < np_max; j++) {
					v16 v;
					v16_load(&v, vf + (size_t)j * hd + (size_t)d0);
					a0 += sc[j] * v;
					a1 += sc[ld + (size_t)j] * v;
					a2 += sc[2 * ld + (size_t)j] * v;
					a3 += sc[3 * ld + (size_t)j] * v;
				}
				v16 acc[ATT_TILE] = { a0, a1, a2, a3 };
				for (size_t t = 0; t < nt; t++) {
					v16 o = acc[t] * inv[t];
					v16_store(out[t] + d0, &o);
				}
			}
			for (; d0 < hd; d0++) /* a head size not a multiple of 16 */
				for (size_t t = 0; t < nt; t++) {
					float a = 0;
					for (int j = 0; j < np_max; j++)
						a += sc[t * ld + (size_t)j] *
						     vf[(size_t)j * hd + (size_t)d0];
					out[t][d0] = a * inv[t];
				}
		}
	}
}

/* ---- the forward pass ---------------------------------------------------------------- */

/* k and v of tokens [i0, i1) of the pass into the cache at p0 + i: K
 * transposed, (head_dim, n_ctx) per KV head, V as rows, (n_ctx, head_dim) */
static void store_kv(struct eng_llm *m, int l, int p0, size_t i0, size_t i1)
{
	size_t hd = (size_t)m->head_dim, ctx = (size_t)m->n_ctx;
	bool f32 = m->p.kv_type == ENG_KV_F32;
	for (size_t kvh = 0; kvh < (size_t)m->n_head_kv; kvh++) {
		size_t base = ((size_t)l * m->n_head_kv + kvh) * ctx * hd;
		for (size_t i = i0; i < i1; i++) {
			const float *ks = m->k + i * (size_t)m->kvd + kvh * hd;
			const float *vs = m->v + i * (size_t)m->kvd + kvh * hd;
			size_t pos = (size_t)p0 + i;
			for (size_t d = 0; d < hd; d++) {
				size_t ko = base + d * ctx + pos, vo = base + pos * hd + d;
				if (f32) {
					((float *)m->kv_k)[ko] = ks[d];
					((float *)m->kv_v)[vo] = vs[d];
				} else {
					((uint16_t *)m->kv_k)[ko] = f16_from_f32(ks[d]);
					((uint16_t *)m->kv_v)[vo] = f16_from_f32(vs[d]);
				}
			}
		}
	}
}

static void add_bias(float *y, const float *b, size_t i0, size_t i1, int width)
{
	for (size_t i = i0; i < i1; i++)
		for (int j = 0; j < width; j++)
			y[i * (size_t)width + j] += b[j];
}

/* After the q, k, v products, for the thread's tokens: biases, q/k norms,
 * rope, and k, v into the cache. */
static void qkv_job(void *ctx, int ith, int nth)
{
	struct eng_llm *m = ctx;
	const struct llm_layer *L = &m->layers[m->job_layer];
	size_t i0, i1;
	split_tokens(m->job_n, ith, nth, &i0, &i1);
	if (L->bq) {
		add_bias(m->q, L->bq, i0, i1, m->qd);
		add_bias(m->k, L->bk, i0, i1, m->kvd);
		add_bias(m->v, L->bv, i0, i1, m->kvd);
	}
	if (L->q_norm) {
		heads_norm(m->q + i0 * (size_t)m->qd, (i1 - i0) * (size_t)m->n_head, L->q_norm,
			   m->head_dim, m->eps);
		heads_norm(m->k + i0 * (size_t)m->kvd, (i1 - i0) * (size_t)m->n_head_kv, L->k_norm,
			   m->head_dim, m->eps);
	}
	for (size_t i = i0; i < i1; i++) {
		const float *cs = m->rope_cs + i * (size_t)m->n_rot;
		rope_apply(m, m->q + i * (size_t)m->qd, m->n_head, cs);
		rope_apply(m, m->k + i * (size_t)m->kvd, m->n_head_kv, cs);
	}
	store_kv(m, m->job_layer, m->job_p0, i0, i1);
}

/* Positions times query width up to which a decoding step's attention
 * (some 2 * ATT_INLINE multiply-adds) runs on the calling thread. */
enum { ATT_INLINE = 64 * 1024 };

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
	/* per-token steps run inside the jobs (act_job's pre, qkv_job); the
	 * residual of a layer's down product is added at the next layer's
	 * first preparation */
	bool par = n >= 4 * (size_t)eng_pool_threads(m->pool);
	for (int l = 0; l < m->n_layer; l++) {
		const struct llm_layer *L = &m->layers[l];
		const struct gguf_tensor *wqkv[3] = { L->wq, L->wk, L->wv };
		float *yqkv[3] = { m->q, m->k, m->v };
		matmul(m, m->h, n, (uint64_t)d, l ? PRE_ADD_NORM : PRE_NORM, L->attn_norm, m->h,
		       wqkv, yqkv, 3);
		m->job_layer = l;
		m->job_n = n;
		if (par)
			eng_pool_run(m->pool, qkv_job, m);
		else
			qkv_job(m, 0, 1);
		/* a decoding step early in the context: less work than a job's
		 * hand-over to the other threads */
		if (n == 1 && (size_t)(p0 + 1) * (size_t)m->qd <= ATT_INLINE)
			attn_job(m, 0, 1);
		else
			eng_pool_run(m->pool, attn_job, m);
		const struct gguf_tensor *wo[1] = { L->wo };
		float *yo[1] = { m->h };
		matmul(m, m->att, n, (uint64_t)m->qd, PRE_NONE, NULL, NULL, wo, yo, 1);

		const struct gguf_tensor *wgu[2] = { L->wg, L->wu };
		float *ygu[2] = { m->gate, m->up };
		matmul(m, m->h, n, (uint64_t)d, PRE_ADD_NORM, L->ffn_norm, m->h, wgu, ygu, 2);
		const struct gguf_tensor *wd[1] = { L->wd };
		float *yd[1] = { m->h };
		matmul(m, m->gate, n, (uint64_t)m->n_ff, PRE_SWIGLU, NULL, NULL, wd, yd, 1);
	}
	/* the last down product's residual, for the one token the logits need */
	for (size_t j = 0; j < (size_t)d; j++)
		m->x[(n - 1) * (size_t)d + j] += m->h[(n - 1) * (size_t)d + j];
	rms_norm(m->x + (n - 1) * (size_t)d, m->out_norm, m->h, d, m->eps);
	const struct gguf_tensor *wout[1] = { m->output };
	float *yout[1] = { m->logits };
	matmul(m, m->h, 1, (uint64_t)d, PRE_NONE, NULL, NULL, wout, yout, 1);
	m->n_past += (int)n;
}

static double now_s(void)
{
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)t.tv_sec + (double)t.tv_nsec * 1e-9;
}

/* A decoding step (one token) at the width the chooser asks for, timed
 * for it. Prefill passes always use the whole pool: their chunks are long
 * enough that a hand-over costs little. */
static void decode_step(struct eng_llm *m, const int32_t *token)
{
	bool solo = eng_width_get(&m->width) == 1;
	eng_pool_set_solo(m->pool, solo);
	double t0 = now_s();
	forward(m, token, 1);
	double t = now_s() - t0;
	eng_pool_set_solo(m->pool, false);
	m->solo_steps += solo;
	eng_width_step(&m->width, t > 0 ? t : 1e-9);
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
	if (n == 1) {
		decode_step(m, tokens);
	} else {
		for (size_t i = 0; i < n; i += (size_t)m->p.n_batch) {
			size_t c = n - i < (size_t)m->p.n_batch ? n - i : (size_t)m->p.n_batch;
			forward(m, tokens + i, c);
		}
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
	struct eng_llm_params p = {
		.threads = 2, .n_ctx = 0, .n_batch = 512, .kv_type = ENG_KV_F16
	};
	const char *env = getenv("MEMEX_DECODE_THREADS");
	if (env && *env && strcmp(env, "auto") != 0) {
		char *end;
		long v = strtol(env, &end, 10);
		if (*end == '\0' && v >= 0 && v <= 256)
			p.decode_threads = (int)v;
	}
	return p;
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

/* Replaces *t by a float32 copy owned by the handle (params.f32_weights). */
static int to_f32(struct eng_llm *m, const struct gguf_tensor **t)
{
	const struct gguf_tensor *src = *t;
	size_t n = (size_t)(src->ne[0] * src->ne[1]);
	if (m->n_owned == m->cap_owned) {
		size_t cap = m->cap_owned ? 2 * m->cap_owned : 16;
		struct gguf_tensor **o = realloc(m->owned, cap * sizeof *o);
		if (!o)
			return fail(m, MX_ENOMEM, "out of memory for float32 weights");
		m->owned = o;
		m->cap_owned = cap;
	}
	struct gguf_tensor *c = malloc(sizeof *c);
	float *data = n <= SIZE_MAX / sizeof(float) ? malloc(n * sizeof(float)) : NULL;
	if (!c || !data) {
		free(c);
		free(data);
		return fail(m, MX_ENOMEM, "out of memory for float32 weights");
	}
	*c = *src;
	if (gguf_tensor_f32(src, data, n) != 0) {
		free(c);
		free(data);
		return fail(m, MX_EUNSUPPORTED, "tensor %.*s cannot be dequantized",
			    (int)src->name_len, src->name);
	}
	c->type = GGML_F32;
	c->data = data;
	c->nbytes = n * sizeof(float);
	m->owned[m->n_owned++] = c;
	*t = c;
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
	return m->p.f32_weights && t->type != GGML_F32 ? to_f32(m, out) : 0;
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
		    (size_t)m->n_layer * (2 * (size_t)d + (size_t)m->qd + 2 * (size_t)m->kvd +
					  2 * (size_t)m->head_dim);
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
		if (m->p.f32_weights && te->type != GGML_F32 && (rc = to_f32(m, &m->output)))
			return rc;
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
		if (m->arch->qk_norm &&
		    ((rc = vec(m, NAME("attn_q_norm.weight"), (uint64_t)m->head_dim, true, &cur,
			       &L->q_norm)) ||
		     (rc = vec(m, NAME("attn_k_norm.weight"), (uint64_t)m->head_dim, true, &cur,
			       &L->k_norm))))
			return rc;
#undef NAME
	}
	return 0;
}

static void add_stop(struct eng_llm *m, uint32_t v)
{
	if (v >= (uint32_t)m->n_vocab || m->n_stops == sizeof m->stops / sizeof m->stops[0])
		return;
	for (size_t j = 0; j < m->n_stops; j++)
		if (m->stops[j] == (int32_t)v)
			return;
	m->stops[m->n_stops++] = (int32_t)v;
}

/* The stop tokens: those the tokenizer metadata names, then the tokens
 * whose text is an end-of-turn marker of a known chat format (as llama.cpp
 * finds them: a Qwen2.5 file names <|endoftext|> as EOS while its chat
 * turns end with <|im_end|>). */
static void stop_tokens(struct eng_llm *m)
{
	static const char *const keys[] = { "tokenizer.ggml.eos_token_id",
					    "tokenizer.ggml.eot_token_id",
					    "tokenizer.ggml.eom_token_id" };
	static const char *const texts[] = { "<|eot_id|>",    "<|im_end|>",    "<|end|>",
					     "<end_of_turn>", "<|endoftext|>", "<|eom_id|>" };
	for (size_t i = 0; i < sizeof keys / sizeof keys[0]; i++) {
		uint32_t v;
		if (gguf_get_u32(m->g, keys[i], &v) == 0)
			add_stop(m, v);
	}
	enum gguf_vtype elem;
	uint64_t n = 0;
	if (gguf_get_arr(m->g, "tokenizer.ggml.tokens", &elem, &n) != 0 || elem != GGUF_STRING)
		return;
	if (n > (uint64_t)m->n_vocab)
		n = (uint64_t)m->n_vocab;
	for (uint64_t i = 0; i < n; i++) {
		const char *s;
		size_t len;
		if (gguf_get_arr_str(m->g, "tokenizer.ggml.tokens", i, &s, &len) != 0 || len < 5 ||
		    len > 13 || s[0] != '<')
			continue;
		for (size_t j = 0; j < sizeof texts / sizeof texts[0]; j++)
			if (strlen(texts[j]) == len && memcmp(texts[j], s, len) == 0)
				add_stop(m, (uint32_t)i);
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
	/* per thread: kt (head_dim, ld), vf (ld, head_dim), scores (ATT_TILE,
	 * ld), queries (ATT_TILE, head_dim) */
	m->att_ld = (ctx + 15) / 16 * 16;
	m->tstride = m->att_ld * (2 * hd + ATT_TILE) + ATT_TILE * hd;
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
	    m->p.n_batch > MAX_BATCH ||
	    (m->p.kv_type != ENG_KV_F16 && m->p.kv_type != ENG_KV_F32) || m->p.decode_threads < 0 ||
	    m->p.decode_threads > 256)
		return fail(m, MX_EINVAL,
			    "bad parameters (threads 1..256, decode_threads 0..256, n_batch 1..%d)",
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
	eng_width_init(&m->width, m->p.threads, m->p.decode_threads);
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
	for (size_t i = 0; i < m->n_owned; i++) {
		free((void *)m->owned[i]->data);
		free(m->owned[i]);
	}
	free(m->owned);
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

struct eng_llm_width_stats eng_llm_decode_width(const struct eng_llm *m)
{
	return (struct eng_llm_width_stats){
		.threads = eng_width_get(&m->width),
		.steps = m->width.steps,
		.probes = m->width.probes,
		.moves = m->width.moves,
		.solo_steps = m->solo_steps,
	};
}

const char *eng_llm_errmsg(const struct eng_llm *m)
{
	return m->msg;
}
