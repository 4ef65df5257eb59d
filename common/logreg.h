/*
 * logreg.h - binary logistic regression with an L2 penalty, fit exactly by
 * Newton's method on standardised columns: the one fit the router (its
 * escalation scores) and the retriever (its abstention model) share.
 *
 * X is n rows of d floats (row-major), y the n labels (non-zero: positive),
 * wt n non-negative row weights or NULL (all 1). The model predicts
 * p = sigmoid(b + sum_j w[j] (x[j] - mean[j]) / scale[j]).
 */
#ifndef MX_LOGREG_H
#define MX_LOGREG_H

#include <stddef.h>

/* Fits the model; mean, scale and w are d doubles each and b one, all
 * written by the call (the caller owns them). l2 >= 0 weighs the penalty on
 * w (the bias is not penalised); at most max_iter Newton steps, stopping
 * when no parameter moves more than tol. 0, MX_EINVAL (n < 2, d == 0, a
 * negative or all-zero weight, a fit that does not converge to finite
 * values), MX_ENOMEM. */
int mx_logreg_fit(const float *X, const unsigned char *y, const float *wt, size_t n, size_t d,
		  double l2, int max_iter, double tol, double *mean, double *scale, double *w,
		  double *b);

/* 1 / (1 + e^-z), without overflow for either sign of z. */
double mx_sigmoid(double z);

#endif
