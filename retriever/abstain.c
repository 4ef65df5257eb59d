/* abstain.c - the learned abstention model (see abstain.h). */
#include "abstain.h"

#include <math.h>
#include <string.h>
#include <stdlib.h>

#include "../common/logreg.h"
#include "../common/status.h"
#include "answer.h"

/* Trained by `memex eval ask --train-abstention` on data/sample's ten
 * question sets (questions.jsonl, -heldout, -heldout2 ... -heldout9; 190
 * answerable, 66 unanswerable) with the default embedder (USE-Lite), L2
 * 1.0. Not the default abstention: by leave-one-set-out it does no better
 * than the rules (README, "Measuring answers"). */
static const struct ret_abst_model model_hybrid = {
	/* bias, coverage, cosine, sent_cosine, id_absent, id_found,
	 * kind_lacks, name_absent, what_absent */
	.w = { 0.6181, -0.0946, 0.6939, 0.3282, -0.4928, 0.2326, -0.3749, -0.2693, -0.1554 },
	.min_p = 0.73,
};
static const struct ret_abst_model model_bm25 = {
	.w = { 1.0224, -0.0032, 0.0000, 0.0000, -0.4823, 0.2396, -0.3920, -0.5411, -0.1844 },
	.min_p = 0.71,
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

int ret_abstain_fit(const double *x, const int *y, size_t n, double l2, double *w)
{
	if (!n)
		return MX_EINVAL;
	float *xf = malloc(n * RET_ABST_NFEAT * sizeof *xf);
	unsigned char *yb = malloc(n);
	if (!xf || !yb) {
		free(xf);
		free(yb);
		return MX_ENOMEM;
	}
	for (size_t i = 0; i < n * RET_ABST_NFEAT; i++)
		xf[i] = (float)x[i];
	for (size_t i = 0; i < n; i++)
		yb[i] = y[i] != 0;
	/* standardised features (so that l2 weighs every feature alike) */
	double mean[RET_ABST_NFEAT], sd[RET_ABST_NFEAT], v[RET_ABST_NFEAT], b;
	int rc = mx_logreg_fit(xf, yb, NULL, n, RET_ABST_NFEAT, l2, FIT_STEPS, 1e-10, mean, sd, v,
			       &b);
	free(xf);
	free(yb);
	if (rc)
		return rc;
	/* back to the raw features */
	w[0] = b;
	for (size_t k = 0; k < RET_ABST_NFEAT; k++) {
		w[k + 1] = v[k] / sd[k];
		w[0] -= v[k] * mean[k] / sd[k];
	}
	return 0;
}
