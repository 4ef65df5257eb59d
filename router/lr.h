/*
 * lr.h - the arbiter's learned component: logistic regression over
 * standardised features, and the small file that holds a trained router.
 *
 * A router scores how much escalating a question is worth: each regression
 * predicts either P(the local, weaker, model is wrong) or P(it is wrong where
 * the cloud, stronger, model is right) (enum rtr_target, chosen in training
 * by routing on validation subjects).
 * Two regressions are kept: one over the query embedding and the hand-made
 * features (used when the embedder that trained it is present), one over the
 * hand-made features alone (used without an embedder). Weights are for
 * standardised inputs: z_i = (x_i - mean_i) / scale_i; p = sigmoid(b + w.z).
 *
 * File format (all integers little-endian u32, reals little-endian IEEE
 * binary64), created 0600, at most RTR_MODEL_MAX_BYTES:
 *
 *   "MXROUTER"                     8-byte magic
 *   version                        1
 *   nfeat                          hand-made features (RTR_NFEAT of the writer)
 *   embed_dims                     0 when there is no embedding regression
 *   fp_len, fp[fp_len]             embedder fingerprint (eng_embedder_fingerprint)
 *   split_mod, split_rem           subjects i (sorted) with i % mod == rem
 *                                  were held out of training (0, 0: none)
 *   share                          share of questions to escalate (0..1)
 *   target_feat, target_full       what each regression predicts (enum
 *                                  rtr_target; target_full 0 without embedding)
 *   qfeat[RTR_NQ], qfull[RTR_NQ]   score quantiles 0%, 1%, .. 100% on the
 *                                  validation rows (qfull zero without embedding)
 *   lr feat: d, mean[d], scale[d], w[d], b        d = nfeat
 *   lr full: (only when embed_dims > 0) same with d = embed_dims + nfeat
 *
 * A file of another version, feature count or a damaged one is refused
 * (version 1 files, which had no targets: MX_ENEWER, "train again").
 */
#ifndef MX_RTR_LR_H
#define MX_RTR_LR_H

#include <stdbool.h>
#include <stddef.h>

#define RTR_MODEL_MAX_BYTES ((size_t)4 << 20)
#define RTR_MODEL_VERSION   2u /* 2: the targets; 1 is refused */
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
/* The probability of label 1 for one row of d floats. */
double rtr_lr_predict(const struct rtr_lr *m, const float *x);
void rtr_lr_free(struct rtr_lr *m); /* NULL is fine */

/* What a regression predicts (its label in training). */
enum rtr_target {
	RTR_TARGET_GAIN = 0,	   /* the weak model wrong and the strong one right */
	RTR_TARGET_WEAK_WRONG = 1, /* the weak model wrong (its own difficulty) */
	RTR_TARGET_COUNT
};
const char *rtr_target_name(unsigned t); /* static; "?" when out of range */

/* A trained router (both regressions and its calibration). */
struct rtr_model {
	size_t nfeat, embed_dims;
	char fingerprint[256]; /* of the embedder of `full`, or "" */
	unsigned split_mod, split_rem;
	double share;	      /* escalate this share of questions */
	unsigned target_feat; /* enum rtr_target of `feat` */
	unsigned target_full; /* enum rtr_target of `full` (0 without it) */
	double qfeat[RTR_NQ]; /* score quantiles of `feat` */
	double qfull[RTR_NQ]; /* score quantiles of `full` */
	struct rtr_lr *feat;  /* features only (owned) */
	struct rtr_lr *full;  /* embedding + features, or NULL (owned) */
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
/* Area under the ROC curve of scores for labels y (ties count half); 0.5
 * when one class is missing. */
double rtr_auc(const double *score, const unsigned char *y, size_t n);

#endif
