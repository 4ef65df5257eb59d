/* abstain.c - the learned abstention model (see abstain.h). */
#include "abstain.h"

#include <math.h>
#include <string.h>

#include "../common/status.h"
#include "answer.h"

/* Trained by `memex eval ask --train-abstention` on data/sample's five
 * question sets (questions.jsonl, -heldout, -heldout2, -heldout3,
 * -heldout4; 104 answerable, 36 unanswerable) with the default embedder
 * (USE-Lite), L2 1.0. Not the default abstention: by leave-one-set-out it
 * does no better than the rules (README, "Measuring answers"). */
static const struct ret_abst_model model_hybrid = {
	/* bias, coverage, cosine, sent_cosine, id_absent, id_found,
	 * kind_lacks, name_absent, what_absent */
	.w = { 0.4994, 0.0098, 0.4813, 0.6518, -0.5780, 0.2346, -0.4782, -0.5194, -0.2585 },
	.min_p = 0.73,
};
static const struct ret_abst_model model_bm25 = {
	.w = { 0.9265, 0.1124, 0.0000, 0.0000, -0.5665, 0.2442, -0.5101, -0.5171, -0.2416 },
	.min_p = 0.72,
};

const struct ret_abst_model *ret_abstain_model_default(bool with_embedder)
{
	return with_embedder ? &model_hybrid : &model_bm25;
}

void ret_abstain_features(const struct ret_answer *a, double *x)
{
	x[0] = a->coverage;
	x[1] = a->cosine > 0 ? a->cosine : 0;
	x[2] = a->sent_cosine > 0 ? a->sent_cosine : 0;
	x[3] = a->asks_id && !a->id_found;
	x[4] = a->asks_id && a->id_found;
	x[5] = a->asks_typed && !a->typed_found;
	x[6] = a->entity_missing;
	x[7] = a->head_missing;
}

double ret_abstain_prob(const double *w, const double *x)
{
	double z = w[0];
	for (size_t i = 0; i < RET_ABST_NFEAT; i++)
		z += w[i + 1] * x[i];
	if (z < -40)
		z = -40;
	if (z > 40)
		z = 40;
	return 1 / (1 + exp(-z));
}

#define FIT_STEPS 50 /* Newton steps; it converges in about ten */

/* Solves the k x k system a d = b in place (b receives d) by Gaussian
 * elimination with partial pivoting; a is positive definite here (the L2
 * term, and a small ridge on the bias). */
static void solve(double a[RET_ABST_NW][RET_ABST_NW], double *b, size_t k)
{
	for (size_t c = 0; c < k; c++) {
		size_t piv = c;
		for (size_t r = c + 1; r < k; r++)
			if (fabs(a[r][c]) > fabs(a[piv][c]))
				piv = r;
		if (piv != c) {
			for (size_t j = 0; j < k; j++) {
				double t = a[c][j];
				a[c][j] = a[piv][j];
				a[piv][j] = t;
			}
			double t = b[c];
			b[c] = b[piv];
			b[piv] = t;
		}
		if (fabs(a[c][c]) < 1e-300)
			continue;
		for (size_t r = c + 1; r < k; r++) {
			double f = a[r][c] / a[c][c];
			for (size_t j = c; j < k; j++)
				a[r][j] -= f * a[c][j];
			b[r] -= f * b[c];
		}
	}
	for (size_t c = k; c-- > 0;) {
		double v = b[c];
		for (size_t j = c + 1; j < k; j++)
			v -= a[c][j] * b[j];
		b[c] = fabs(a[c][c]) < 1e-300 ? 0 : v / a[c][c];
	}
}

int ret_abstain_fit(const double *x, const int *y, size_t n, double l2, double *w)
{
	if (!n)
		return MX_EINVAL;
	/* standardised features, so that l2 weighs every feature alike */
	double mean[RET_ABST_NFEAT] = { 0 }, sd[RET_ABST_NFEAT] = { 0 };
	for (size_t i = 0; i < n; i++)
		for (size_t k = 0; k < RET_ABST_NFEAT; k++)
			mean[k] += x[i * RET_ABST_NFEAT + k] / (double)n;
	for (size_t i = 0; i < n; i++)
		for (size_t k = 0; k < RET_ABST_NFEAT; k++) {
			double d = x[i * RET_ABST_NFEAT + k] - mean[k];
			sd[k] += d * d / (double)n;
		}
	for (size_t k = 0; k < RET_ABST_NFEAT; k++)
		sd[k] = sd[k] > 1e-12 ? sqrt(sd[k]) : 1;
	double v[RET_ABST_NW] = { 0 };
	for (int step = 0; step < FIT_STEPS; step++) {
		double g[RET_ABST_NW] = { 0 }, h[RET_ABST_NW][RET_ABST_NW] = { { 0 } };
		for (size_t i = 0; i < n; i++) {
			double z[RET_ABST_NW] = { 1 };
			for (size_t k = 0; k < RET_ABST_NFEAT; k++)
				z[k + 1] = (x[i * RET_ABST_NFEAT + k] - mean[k]) / sd[k];
			double p = ret_abstain_prob(v, z + 1), d = p - (y[i] ? 1 : 0);
			double s = p * (1 - p) > 1e-9 ? p * (1 - p) : 1e-9;
			for (size_t a = 0; a < RET_ABST_NW; a++) {
				g[a] += d * z[a] / (double)n;
				for (size_t b = 0; b < RET_ABST_NW; b++)
					h[a][b] += s * z[a] * z[b] / (double)n;
			}
		}
		for (size_t a = 0; a < RET_ABST_NW; a++) {
			double r = a ? l2 : 1e-6;
			g[a] += r * v[a];
			h[a][a] += r;
		}
		solve(h, g, RET_ABST_NW);
		double moved = 0;
		for (size_t a = 0; a < RET_ABST_NW; a++) {
			v[a] -= g[a];
			moved += fabs(g[a]);
		}
		if (moved < 1e-10)
			break;
	}
	/* back to the raw features */
	w[0] = v[0];
	for (size_t k = 0; k < RET_ABST_NFEAT; k++) {
		w[k + 1] = v[k + 1] / sd[k];
		w[0] -= v[k + 1] * mean[k] / sd[k];
	}
	return 0;
}
