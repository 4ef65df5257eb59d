/*
 * sample.c - choosing the next token from logits (eng_sampler, see llm.h
 * for the pipeline) and the generation loop (eng_llm_generate).
 *
 * The pipeline works on a copy of the logits. Top-p and min-p are computed
 * without sorting the whole vocabulary when they can be: min-p keeps token
 * i only if exp((l_i - l_max) / T) >= min_p, i.e. l_i >= l_max + T ln(min_p),
 * a threshold known before sorting, and a token under it can never be
 * drawn (top-p's nucleus, made of the most likely tokens, loses it again
 * to min-p). So only the tokens over the threshold (or the top k) are
 * sorted, while top-p's mass is measured against the sum over all of the
 * top-k set.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "../common/status.h"
#include "llm.h"

struct cand {
	float logit;
	int32_t id;
};

struct eng_sampler {
	struct eng_sampler_params p;
	int n_vocab;
	uint64_t s[4];	   /* xoshiro256** state */
	float *work;	   /* n_vocab penalised logits */
	struct cand *cand; /* n_vocab */
	uint8_t *seen;	   /* n_vocab flags: penalised already in this call */
	int32_t *hist;	   /* ring of the last repeat_last_n accepted tokens */
	int hist_n, hist_pos;
};

struct eng_sampler_params eng_sampler_params_default(void)
{
	return (struct eng_sampler_params){ .temperature = 0.8f,
					    .top_k = 40,
					    .top_p = 0.95f,
					    .min_p = 0.05f,
					    .repeat_penalty = 1.0f,
					    .repeat_last_n = 64,
					    .seed = 0x5eed };
}

/* ---- PRNG: xoshiro256**, seeded through splitmix64 ----------------------------- */

static uint64_t splitmix64(uint64_t *x)
{
	uint64_t z = (*x += 0x9e3779b97f4a7c15ull);
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return z ^ (z >> 31);
}

static inline uint64_t rotl(uint64_t x, int k)
{
	return (x << k) | (x >> (64 - k));
}

static uint64_t rng_next(uint64_t *s)
{
	uint64_t r = rotl(s[1] * 5, 7) * 9, t = s[1] << 17;
	s[2] ^= s[0];
	s[3] ^= s[1];
	s[1] ^= s[2];
	s[0] ^= s[3];
	s[2] ^= t;
	s[3] = rotl(s[3], 45);
	return r;
}

/* uniform in [0, 1) */
static double rng_unit(uint64_t *s)
{
	return (double)(rng_next(s) >> 11) * 0x1p-53;
}

/* ---- the sampler ------------------------------------------------------------------ */

int eng_sampler_new(const struct eng_sampler_params *p, int n_vocab, struct eng_sampler **out)
{
	*out = NULL;
	struct eng_sampler_params d = p ? *p : eng_sampler_params_default();
	if (n_vocab < 1 || !isfinite(d.temperature) || !isfinite(d.top_p) || !isfinite(d.min_p) ||
	    !(d.repeat_penalty > 0.0f) || !isfinite(d.repeat_penalty) || d.repeat_last_n < 0 ||
	    d.repeat_last_n > (1 << 20))
		return MX_EINVAL;
	struct eng_sampler *s = calloc(1, sizeof *s);
	if (!s)
		return MX_ENOMEM;
	s->p = d;
	s->n_vocab = n_vocab;
	s->work = malloc((size_t)n_vocab * sizeof *s->work);
	s->cand = malloc((size_t)n_vocab * sizeof *s->cand);
	s->seen = calloc((size_t)n_vocab, 1);
	s->hist = malloc(((size_t)d.repeat_last_n + 1) * sizeof *s->hist);
	if (!s->work || !s->cand || !s->seen || !s->hist) {
		eng_sampler_free(s);
		return MX_ENOMEM;
	}
	eng_sampler_reset(s);
	*out = s;
	return 0;
}

void eng_sampler_free(struct eng_sampler *s)
{
	if (!s)
		return;
	free(s->work);
	free(s->cand);
	free(s->seen);
	free(s->hist);
	free(s);
}

void eng_sampler_reset(struct eng_sampler *s)
{
	uint64_t x = s->p.seed;
	for (int i = 0; i < 4; i++)
		s->s[i] = splitmix64(&x);
	s->hist_n = 0;
	s->hist_pos = 0;
}

void eng_sampler_accept(struct eng_sampler *s, int32_t token)
{
	if (s->p.repeat_last_n == 0 || token < 0 || token >= s->n_vocab)
		return;
	s->hist[s->hist_pos] = token;
	s->hist_pos = (s->hist_pos + 1) % s->p.repeat_last_n;
	if (s->hist_n < s->p.repeat_last_n)
		s->hist_n++;
}

/* descending logit, then ascending id: a total order, so the result does
 * not depend on the sort */
static int cand_cmp(const void *a, const void *b)
{
	const struct cand *x = a, *y = b;
	if (x->logit != y->logit)
		return x->logit > y->logit ? -1 : 1;
	return (x->id > y->id) - (x->id < y->id);
}

/* Moves the k greatest (in cand_cmp order) of c[0..n) to c[0..k), in any
 * order (quickselect, median-of-three pivots). */
static void select_top(struct cand *c, size_t n, size_t k)
{
	size_t lo = 0, hi = n; /* the k-th lies in [lo, hi) */
	while (hi - lo > 1) {
		size_t mid = lo + (hi - lo) / 2;
		struct cand a = c[lo], b = c[mid], d = c[hi - 1], piv;
		if (cand_cmp(&a, &b) < 0)
			piv = cand_cmp(&b, &d) < 0 ? b : (cand_cmp(&a, &d) < 0 ? d : a);
		else
			piv = cand_cmp(&a, &d) < 0 ? a : (cand_cmp(&b, &d) < 0 ? d : b);
		/* three-way partition: before piv | equal | after piv */
		size_t lt = lo, i = lo, gt = hi;
		while (i < gt) {
			int r = cand_cmp(&c[i], &piv);
			if (r < 0) {
				struct cand t = c[lt];
				c[lt++] = c[i];
				c[i++] = t;
			} else if (r > 0) {
				struct cand t = c[--gt];
				c[gt] = c[i];
				c[i] = t;
			} else {
				i++;
			}
		}
		if (k <= lt)
			hi = lt;
		else if (k >= gt)
			lo = gt;
		else
			return;
	}
}

int32_t eng_sampler_sample(struct eng_sampler *s, const float *logits)
{
	int n = s->n_vocab;
	float *w = s->work;
	/* a nan (hostile weights) would break the orders below: it ranks last */
	for (int i = 0; i < n; i++)
		w[i] = isnan(logits[i]) ? -INFINITY : logits[i];
	if (s->p.repeat_penalty != 1.0f && s->hist_n) {
		for (int i = 0; i < s->hist_n; i++) {
			int32_t t = s->hist[i];
			if (s->seen[t])
				continue;
			s->seen[t] = 1;
			w[t] = w[t] > 0 ? w[t] / s->p.repeat_penalty : w[t] * s->p.repeat_penalty;
		}
		for (int i = 0; i < s->hist_n; i++)
			s->seen[s->hist[i]] = 0;
	}
	int32_t best = 0;
	for (int i = 1; i < n; i++)
		if (w[i] > w[best])
			best = i;
	if (!(s->p.temperature > 0.0f) || !isfinite(w[best]))
		return best;

	float T = s->p.temperature, lmax = w[best];
	/* the top-k set: all tokens, or the k best */
	size_t nc = 0;
	for (int i = 0; i < n; i++)
		s->cand[nc++] = (struct cand){ w[i], i };
	if (s->p.top_k > 0 && (size_t)s->p.top_k < nc) {
		select_top(s->cand, nc, (size_t)s->p.top_k);
		nc = (size_t)s->p.top_k;
	}
	double z = 0;
	for (size_t i = 0; i < nc; i++)
		z += exp((double)(s->cand[i].logit - lmax) / T);
	/* drop what min-p drops anyway, then sort the rest */
	if (s->p.min_p > 0.0f) {
		float cut = lmax + T * logf(fminf(s->p.min_p, 1.0f));
		size_t j = 0;
		for (size_t i = 0; i < nc; i++)
			if (s->cand[i].logit >= cut)
				s->cand[j++] = s->cand[i];
		nc = j;
	}
	qsort(s->cand, nc, sizeof *s->cand, cand_cmp);
	/* top-p: the shortest prefix of mass >= top_p of the top-k set */
	if (s->p.top_p < 1.0f) {
		double cum = 0;
		size_t keep = nc;
		for (size_t i = 0; i < nc; i++) {
			cum += exp((double)(s->cand[i].logit - lmax) / T) / z;
			if (cum >= s->p.top_p) {
				keep = i + 1;
				break;
			}
		}
		nc = keep;
	}
	if (nc == 0)
		return best;
	double mass = 0;
	for (size_t i = 0; i < nc; i++)
		mass += exp((double)(s->cand[i].logit - lmax) / T);
	double u = rng_unit(s->s) * mass, acc = 0;
	for (size_t i = 0; i < nc; i++) {
		acc += exp((double)(s->cand[i].logit - lmax) / T);
		if (u < acc)
			return s->cand[i].id;
	}
	return s->cand[nc - 1].id;
}

/* ---- generation ---------------------------------------------------------------------- */

struct eng_gen_params eng_gen_params_default(void)
{
	return (struct eng_gen_params){ .max_tokens = 256 };
}

void eng_logits_stats(const float *logits, int n, int32_t token, double *logprob, double *entropy)
{
	double lmax = -INFINITY;
	for (int i = 0; i < n; i++)
		if ((double)logits[i] > lmax)
			lmax = (double)logits[i];
	/* z = sum exp(l - lmax); sum p l' = (sum exp(l') l') / z, l' = l - lmax */
	double z = 0, zl = 0;
	for (int i = 0; i < n; i++) {
		double d = (double)logits[i] - lmax;
		double e = exp(d);
		z += e;
		if (e > 0)
			zl += e * d;
	}
	double lz = log(z);
	*logprob = token >= 0 && token < n ? (double)logits[token] - lmax - lz : -INFINITY;
	/* H = -sum p (l' - lz) = lz - zl / z */
	double h = lz - zl / z;
	*entropy = h > 0 ? h : 0;
}

int eng_llm_generate(struct eng_llm *m, struct eng_sampler *s, const int32_t *prompt,
		     size_t n_prompt, const struct eng_gen_params *gp, int32_t *out, size_t out_cap,
		     size_t *n_out, enum eng_stop *why)
{
	struct eng_gen_params g = gp ? *gp : eng_gen_params_default();
	int32_t own[8];
	size_t count = 0;
	*n_out = 0;
	*why = ENG_STOP_MAX;
	if (!g.stop) {
		g.n_stop = eng_llm_stop_tokens(m, own, 8);
		g.stop = own;
	}
	if (g.stats)
		*g.stats = (struct eng_gen_stats){ 0 };
	if (n_prompt == 0 || !prompt)
		return MX_EINVAL;
	const float *logits;
	int rc = eng_llm_decode(m, prompt, n_prompt, &logits);
	if (rc)
		return rc;
	for (size_t i = 0; i < n_prompt; i++)
		eng_sampler_accept(s, prompt[i]);
	while (g.max_tokens < 0 || count < (size_t)g.max_tokens) {
		int32_t t = eng_sampler_sample(s, logits);
		bool stop = false;
		for (size_t i = 0; i < g.n_stop; i++)
			stop |= g.stop[i] == t;
		if (stop) {
			*why = ENG_STOP_TOKEN;
			break;
		}
		if (g.stats) {
			double lp, h;
			eng_logits_stats(logits, eng_llm_n_vocab(m), t, &lp, &h);
			g.stats->n_tokens++;
			g.stats->sum_logprob += lp;
			g.stats->sum_entropy += h;
		}
		if (out && count < out_cap)
			out[count] = t;
		count++;
		eng_sampler_accept(s, t);
		int halt = g.on_token ? g.on_token(g.ctx, t) : 0;
		if (eng_llm_n_past(m) >= eng_llm_n_ctx(m)) {
			*why = ENG_STOP_CONTEXT;
			break;
		}
		if ((rc = eng_llm_decode(m, &t, 1, &logits)))
			break;
		if (halt) {
			*why = ENG_STOP_CALLBACK;
			break;
		}
	}
	*n_out = count;
	return rc;
}
