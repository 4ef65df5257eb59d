/*
 * lr.h - the arbiter's learned component: logistic regression over
 * standardised features, and the small file that holds a trained router.
 *
 * A router scores how much escalating a question is worth. What a
 * regression predicts is its target (enum rtr_target, chosen in training by
 * cross-validation over the training subjects): P(the local, weaker, model
 * is wrong), P(it is wrong where the cloud, stronger, model is right), or
 * the expected gain E[strong right - weak right] = P(they disagree) *
 * (2 P(the strong one is right | they disagree) - 1), from two regressions.
 * Two scorers are kept: one over the query embedding and the hand-made
 * features (usable when the embedder that trained it is present), one over
 * the hand-made features alone; `prefer_full` says which routed better in
 * that cross-validation. Weights are for standardised inputs:
 * z_i = (x_i - mean_i) / scale_i; p = sigmoid(b + w.z).
 *
 * File format (all integers little-endian u32, reals little-endian IEEE
 * binary64), created 0600, at most RTR_MODEL_MAX_BYTES:
 *
 *   "MXROUTER"                     8-byte magic
 *   version                        3
 *   nfeat                          hand-made features (RTR_NFEAT of the writer)
 *   embed_dims                     0 when there is no embedding regression
 *   fp_len, fp[fp_len]             embedder fingerprint (eng_embedder_fingerprint)
 *   split_mod, split_rem           subjects i (sorted) with i % mod == rem
 *                                  were held out of training (0, 0: none)
 *   share                          share of questions to escalate (0..1)
 *   target_feat, target_full       what each scorer predicts (enum
 *                                  rtr_target; target_full 0 without embedding)
 *   prefer_full                    1: route with the embedding scorer when
 *                                  it can be used; 0: with the features one
 *   qfeat[RTR_NQ], qfull[RTR_NQ]   score quantiles 0%, 1%, .. 100% on
 *                                  questions the scorer did not see (qfull
 *                                  zero without embedding)
 *   lr feat: d, mean[d], scale[d], w[d], b        d = nfeat
 *   lr feat_disc: the same, only when target_feat is the expected gain
 *   lr full: (only when embed_dims > 0) same with d = embed_dims + nfeat
 *   lr full_disc: the same, only when target_full is the expected gain
 *
 * A file of another version, feature count or a damaged one is refused
 * (older versions: MX_ENEWER, "train again").
 */
#ifndef MX_RTR_LR_H
#define MX_RTR_LR_H

#include <stdbool.h>
#include <stddef.h>

#define RTR_MODEL_MAX_BYTES ((size_t)4 << 20)
#define RTR_MODEL_VERSION   3u /* 3: the expected gain; 1 and 2 are refused */
#define RTR_NQ		    101
#define RTR_LR_MAX_DIMS	    8192

struct rtr_lr {
	size_t d;
	double *mean, *scale, *w; /* d each, owned */
	double b;
};

struct rtr_lr_params {
	double l2;    /* L2 penalty on w (standardised scale), default 1e-3 */
	int max_iter; /* Newton steps at most (default 30) */
	double tol;   /* stop when no parameter moves more (default 1e-7) */
};
struct rtr_lr_params rtr_lr_params_default(void);

/* Trains on n rows of d floats (X row-major, n * d) with labels y (0 or 1)
 * and row weights wt (NULL: all 1; the loss is the weighted mean). *out is a
 * new regression (free with rtr_lr_free). MX_EINVAL for n < 2, d == 0 or
 * d > RTR_LR_MAX_DIMS, MX_ENOMEM. */
int rtr_lr_train(const float *X, const unsigned char *y, const float *wt, size_t n, size_t d,
		 const struct rtr_lr_params *p, struct rtr_lr **out);
/* The probability of label 1 for one row of d floats (never NaN for finite
 * inputs: 0.5 when the sum overflows both ways). */
double rtr_lr_predict(const struct rtr_lr *m, const float *x);
void rtr_lr_free(struct rtr_lr *m); /* NULL is fine */

/* What a regression predicts (its label in training). */
enum rtr_target {
	RTR_TARGET_GAIN = 0,	      /* the weak model wrong and the strong one right */
	RTR_TARGET_WEAK_WRONG = 1,    /* the weak model wrong (its own difficulty) */
	RTR_TARGET_EXPECTED_GAIN = 2, /* E[strong right - weak right], -1..1 */
	RTR_TARGET_COUNT
};
const char *rtr_target_name(unsigned t); /* static; "?" when out of range */

/* Trains a scorer for target t on n rows of d floats (X row-major) whose
 * weak and strong models were right or not (wok, sok), with row weights wt
 * (NULL: all 1). *lr is the regression; *disc, for the expected gain only
 * (else NULL), P(the two disagree), and then *lr is P(the strong one right)
 * fitted on the rows where they disagree. Both new (rtr_lr_free). Errors as
 * rtr_lr_train (MX_EINVAL also when fewer than 2 rows disagree). */
int rtr_target_train(unsigned t, const float *X, const bool *wok, const bool *sok, const float *wt,
		     size_t n, size_t d, const struct rtr_lr_params *p, struct rtr_lr **lr,
		     struct rtr_lr **disc);
/* The score of one row: lr's probability, or for the expected gain
 * disc(x) * (2 lr(x) - 1). Higher: escalate first. */
double rtr_target_predict(unsigned t, const struct rtr_lr *lr, const struct rtr_lr *disc,
			  const float *x);

/* A trained router (both regressions and its calibration). */
struct rtr_model {
	size_t nfeat, embed_dims;
	char fingerprint[256]; /* of the embedder of `full`, or "" */
	unsigned split_mod, split_rem;
	double share;	      /* escalate this share of questions */
	unsigned target_feat; /* enum rtr_target of `feat` */
	unsigned target_full; /* enum rtr_target of `full` (0 without it) */
	bool prefer_full;     /* route with `full` when it can be used */
	double qfeat[RTR_NQ]; /* score quantiles of `feat` */
	double qfull[RTR_NQ]; /* score quantiles of `full` */
	struct rtr_lr *feat;  /* features only (owned) */
	struct rtr_lr *feat_disc; /* its P(disagree), expected gain only (owned) */
	struct rtr_lr *full;	  /* embedding + features, or NULL (owned) */
	struct rtr_lr *full_disc; /* its P(disagree), expected gain only (owned) */
};

/* Writes the model to path (0600, via a temporary file and rename). 0,
 * MX_EINVAL (an incomplete model), MX_EIO or MX_EPERM with err set. */
int rtr_model_save(const struct rtr_model *m, const char *path, char *err, size_t errsz);
/* Reads a model. *out is new (free with rtr_model_free). MX_ENOTFOUND,
 * MX_ECORRUPT (bad magic, sizes, values), MX_ENEWER (another version),
 * MX_ETOOBIG, MX_ENOMEM, with err set. */
int rtr_model_load(const char *path, struct rtr_model **out, char *err, size_t errsz);
/* Same from bytes in memory (fuzzing, tests). */
int rtr_model_parse(const unsigned char *data, size_t len, struct rtr_model **out, char *err,
		    size_t errsz);
void rtr_model_free(struct rtr_model *m); /* NULL is fine */

/* The score threshold above which this share (0..1) of the validation
 * questions lies, from a quantile table (linear between the 1% steps). */
double rtr_quantile_threshold(const double q[RTR_NQ], double share);
/* Fills q with the 0..100% quantiles of n scores (sorted in place). */
void rtr_quantiles(double *scores, size_t n, double q[RTR_NQ]);

/* ---- evaluation (RouteLLM, Ong et al. 2024) ------------------------------
 *
 * Route the k highest-scored of n questions to the strong model and the rest
 * to the weak one; accuracy acc(k) counts strong_ok for the routed ones and
 * weak_ok for the others. PGR(k) = (acc(k) - acc(0)) / (acc(n) - acc(0)), the
 * share of the quality gap recovered with a share c = k/n of calls to the
 * strong model. CPT(x) = the least c with PGR >= x; APGR = the area under
 * PGR(c) for c in [0, 1] (trapezoids over every k). A random router has
 * PGR(c) = c in expectation: CPT(50%) = 50%, CPT(80%) = 80%, APGR = 0.5.
 */
struct rtr_route_stats {
	size_t n;
	double acc_weak, acc_strong; /* acc(0), acc(n) */
	double cpt50, cpt80;	     /* shares of calls, 0..1 */
	double apgr;
	double pgr_at[11]; /* PGR at 0%, 10%, .. 100% of calls */
};
/* Fills st for scores (higher: escalate first; ties in input order). MX_EINVAL
 * when n == 0 or the strong model is no better than the weak one. */
int rtr_route_eval(const double *score, const bool *weak_ok, const bool *strong_ok, size_t n,
		   struct rtr_route_stats *st);
/* The order of n scores, highest first (ties in input order, NaN last, as
 * rtr_route_eval ranks them): order[k] is the index of the k-th. 0 or
 * MX_ENOMEM. */
int rtr_rank_desc(const double *score, size_t n, size_t *order);
/* Area under the ROC curve of scores for labels y (ties count half); 0.5
 * when one class is missing. */
double rtr_auc(const double *score, const unsigned char *y, size_t n);

#endif
