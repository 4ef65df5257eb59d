/*
 * abstain.h - a learned abstention model: logistic regression over the
 * signals the answer path already measures (answer.h), one threshold.
 *
 * The model says how likely it is that the context answers the question:
 *   p = 1 / (1 + exp(-(w[0] + sum_i w[i + 1] * x[i])))
 * over RET_ABST_NFEAT features x (ret_abstain_features):
 *   0 coverage        best share of the question's thing-words in a chunk
 *   1 cosine          best question-chunk cosine, max(., 0); 0 for BM25
 *   2 sent_cosine     best question-sentence cosine, max(., 0); 0 for BM25
 *   3 id_absent       asks for a number or code and none stands there
 *   4 id_found        asks for one and one stands there
 *   5 kind_lacks      asks for a date/amount/name and no sentence of that
 *                     kind holds its rarest word
 *   6 name_absent     a capitalised word of the question is in no chunk
 *   7 what_absent     the thing asked about is in no chunk
 * The answer is withheld when p < the threshold (or there is no context).
 *
 * The weights are fit (ret_abstain_fit: mx_logreg_fit of common/logreg.h,
 * Newton's method on the mean log loss plus an L2 penalty on the
 * standardised features' weights, the bias not penalised) on labelled question
 * sets by `memex eval ask --train-abstention FILE...`, which prints the
 * compiled-in table of abstain.c; `memex eval ask --cv-abstention FILE...`
 * measures the model by leave-one-set-out (README, "Measuring answers").
 */
#ifndef MX_ABSTAIN_H
#define MX_ABSTAIN_H

#include <stdbool.h>
#include <stddef.h>

#define RET_ABST_NFEAT 8
#define RET_ABST_NW    (RET_ABST_NFEAT + 1) /* bias first */

struct ret_answer;

/* A model: weights (bias first) and the threshold on p. */
struct ret_abst_model {
	double w[RET_ABST_NW];
	double min_p;
};

/* The compiled-in model for hybrid retrieval (with_embedder) or BM25. */
const struct ret_abst_model *ret_abstain_model_default(bool with_embedder);

/* The features of an answer (x: room for RET_ABST_NFEAT). */
void ret_abstain_features(const struct ret_answer *a, double *x);

/* p for features x (RET_ABST_NFEAT of them) under weights w. */
double ret_abstain_prob(const double *w, const double *x);

/* Fits weights w (RET_ABST_NW) to n examples: features x[i *
 * RET_ABST_NFEAT ...], labels y[i] (1: answer, 0: withhold), L2 weight
 * l2 >= 0 (on standardised features). Deterministic. 0, MX_EINVAL (fewer
 * than two examples), MX_ENOMEM. */
int ret_abstain_fit(const double *x, const int *y, size_t n, double l2, double *w);

#endif
