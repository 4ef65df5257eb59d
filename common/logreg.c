/*
 * logreg.c - the L2 logistic regression fit (logreg.h).
 */
#include "logreg.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include <cblas.h>

#include "status.h"

double mx_sigmoid(double z)
{
	if (z >= 0)
		return 1 / (1 + exp(-z));
	double e = exp(z);
	return e / (1 + e);
}

/* Solves A x = b in place (b becomes x) for a symmetric positive definite
 * A (n x n, row-major, the upper triangle filled; destroyed). MX_EINVAL
 * when A is not positive definite. */
static int chol_solve(double *A, double *bv, size_t n)
{
	/* A = U^T U, U upper triangular, stored in A's upper triangle */
	for (size_t j = 0; j < n; j++) {
		double dsum = A[j * n + j];
		for (size_t k = 0; k < j; k++)
			dsum -= A[k * n + j] * A[k * n + j];
		if (!(dsum > 0))
			return MX_EINVAL;
		double ujj = sqrt(dsum);
		A[j * n + j] = ujj;
		for (size_t i = j + 1; i < n; i++) {
			double v = A[j * n + i];
			for (size_t k = 0; k < j; k++)
				v -= A[k * n + j] * A[k * n + i];
			A[j * n + i] = v / ujj;
		}
	}
	for (size_t i = 0; i < n; i++) { /* U^T y = b */
		double v = bv[i];
		for (size_t k = 0; k < i; k++)
			v -= A[k * n + i] * bv[k];
		bv[i] = v / A[i * n + i];
	}
	for (size_t i = n; i-- > 0;) { /* U x = y */
		double v = bv[i];
		for (size_t k = i + 1; k < n; k++)
			v -= A[i * n + k] * bv[k];
		bv[i] = v / A[i * n + i];
	}
	return 0;
}

/*
 * Training: each column is standardised by its mean and standard deviation
 * (a constant column gets scale 1, and so weight 0). Then Newton's method
 * (iteratively reweighted least squares) minimises the weighted mean
 * log-loss + l2/2 |w|^2 (the bias is not penalised): exact and
 * deterministic, where stochastic steps wandered with a strong penalty.
 * With Z the n x (d+1) standardised rows and a column of ones, each step
 * solves H delta = g, g = Z^T (wt (p - y)) / W + l2 w and
 * H = Z^T diag(wt p (1 - p)) Z / W + l2 I (+ 1e-9 on the bias), the
 * Gram matrix made by cblas_dsyrk.
 */
int mx_logreg_fit(const float *X, const unsigned char *y, const float *wt, size_t n, size_t d,
		  double l2, int max_iter, double tol, double *mean, double *scale, double *w,
		  double *b)
{
	int rc = 0;
	if (n < 2 || d == 0 || max_iter < 1 || !(l2 >= 0))
		return MX_EINVAL;
	size_t D = d + 1;
	double *Z = malloc(n * D * sizeof *Z), *Zs = malloc(n * D * sizeof *Zs);
	double *H = malloc(D * D * sizeof *H), *g = malloc(D * sizeof *g);
	double *th = calloc(D, sizeof *th), *a = malloc(n * sizeof *a), *r = malloc(n * sizeof *r);
	if (!Z || !Zs || !H || !g || !th || !a || !r) {
		rc = MX_ENOMEM;
		goto out;
	}
	double wsum = 0, wpos = 0;
	for (size_t i = 0; i < n; i++) {
		double rw = wt ? wt[i] : 1;
		if (!(rw >= 0)) {
			rc = MX_EINVAL;
			goto out;
		}
		wsum += rw;
		wpos += y[i] ? rw : 0;
	}
	if (!(wsum > 0)) {
		rc = MX_EINVAL;
		goto out;
	}
	memset(mean, 0, d * sizeof *mean);
	memset(scale, 0, d * sizeof *scale);
	for (size_t i = 0; i < n; i++)
		for (size_t j = 0; j < d; j++)
			mean[j] += X[i * d + j];
	for (size_t j = 0; j < d; j++)
		mean[j] /= (double)n;
	for (size_t i = 0; i < n; i++)
		for (size_t j = 0; j < d; j++) {
			double t = X[i * d + j] - mean[j];
			scale[j] += t * t;
		}
	for (size_t j = 0; j < d; j++) {
		double sd = sqrt(scale[j] / (double)n);
		scale[j] = sd > 1e-9 ? sd : 1;
	}
	for (size_t i = 0; i < n; i++) {
		for (size_t j = 0; j < d; j++)
			Z[i * D + j] = (X[i * d + j] - mean[j]) / scale[j];
		Z[i * D + d] = 1;
	}
	double base = (wpos + 0.5) / (wsum + 1);
	th[d] = log(base / (1 - base));
	for (int it = 0; it < max_iter; it++) {
		cblas_dgemv(CblasRowMajor, CblasNoTrans, (int)n, (int)D, 1.0, Z, (int)D, th, 1, 0.0,
			    a, 1);
		for (size_t i = 0; i < n; i++) {
			double rw = (wt ? wt[i] : 1) / wsum, pi = mx_sigmoid(a[i]);
			r[i] = rw * (pi - (y[i] ? 1 : 0));
			double sw = sqrt(rw * pi * (1 - pi));
			for (size_t j = 0; j < D; j++)
				Zs[i * D + j] = Z[i * D + j] * sw;
		}
		cblas_dgemv(CblasRowMajor, CblasTrans, (int)n, (int)D, 1.0, Z, (int)D, r, 1, 0.0, g,
			    1);
		cblas_dsyrk(CblasRowMajor, CblasUpper, CblasTrans, (int)D, (int)n, 1.0, Zs, (int)D,
			    0.0, H, (int)D);
		for (size_t j = 0; j < d; j++) {
			g[j] += l2 * th[j];
			H[j * D + j] += l2 + 1e-9;
		}
		H[d * D + d] += 1e-9;
		if ((rc = chol_solve(H, g, D)))
			goto out;
		double step = 0;
		for (size_t j = 0; j < D; j++) {
			th[j] -= g[j];
			if (fabs(g[j]) > step)
				step = fabs(g[j]);
		}
		if (!isfinite(step)) {
			rc = MX_EINVAL;
			goto out;
		}
		if (step < tol)
			break;
	}
	memcpy(w, th, d * sizeof *th);
	*b = th[d];
out:
	free(Z);
	free(Zs);
	free(H);
	free(g);
	free(th);
	free(a);
	free(r);
	return rc;
}
