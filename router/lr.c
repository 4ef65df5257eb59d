/*
 * lr.c - logistic regression models (fit by common/logreg.c, L2 on the weights, inputs
 * standardised) and the router model file (see lr.h for its layout).
 */
#include <errno.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../common/buf.h"
#include "../common/fsutil.h"
#include "../common/logreg.h"
#include "../common/status.h"
#include "lr.h"
#include "router_int.h"

static const char magic[8] = { 'M', 'X', 'R', 'O', 'U', 'T', 'E', 'R' };

struct rtr_lr_params rtr_lr_params_default(void)
{
	return (struct rtr_lr_params){ .l2 = 1e-3, .max_iter = 30, .tol = 1e-7 };
}

void rtr_lr_free(struct rtr_lr *m)
{
	if (!m)
		return;
	free(m->mean);
	free(m->scale);
	free(m->w);
	free(m);
}

static struct rtr_lr *lr_new(size_t d)
{
	struct rtr_lr *m = calloc(1, sizeof *m);
	if (!m)
		return NULL;
	m->d = d;
	m->mean = calloc(d, sizeof *m->mean);
	m->scale = calloc(d, sizeof *m->scale);
	m->w = calloc(d, sizeof *m->w);
	if (!m->mean || !m->scale || !m->w) {
		rtr_lr_free(m);
		return NULL;
	}
	return m;
}

double rtr_lr_predict(const struct rtr_lr *m, const float *x)
{
	double z = m->b;
	for (size_t i = 0; i < m->d; i++)
		z += m->w[i] * ((x[i] - m->mean[i]) / m->scale[i]);
	/* finite weights can still overflow (inf - inf): a damaged model
	 * then says nothing rather than NaN */
	return isnan(z) ? 0.5 : mx_sigmoid(z);
}

/* Training is mx_logreg_fit (common/logreg.h) into a model of our own. */
int rtr_lr_train(const float *X, const unsigned char *y, const float *wt, size_t n, size_t d,
		 const struct rtr_lr_params *p, struct rtr_lr **out)
{
	*out = NULL;
	if (n < 2 || d == 0 || d > RTR_LR_MAX_DIMS)
		return MX_EINVAL;
	struct rtr_lr *m = lr_new(d);
	if (!m)
		return MX_ENOMEM;
	int rc = mx_logreg_fit(X, y, wt, n, d, p->l2, p->max_iter, p->tol, m->mean, m->scale, m->w,
			       &m->b);
	if (rc) {
		rtr_lr_free(m);
		return rc;
	}
	*out = m;
	return 0;
}

/* ---- targets ------------------------------------------------------------ */

int rtr_target_train(unsigned t, const float *X, const bool *wok, const bool *sok, const float *wt,
		     size_t n, size_t d, const struct rtr_lr_params *p, struct rtr_lr **lr,
		     struct rtr_lr **disc)
{
	*lr = NULL;
	*disc = NULL;
	if (t >= RTR_TARGET_COUNT || d == 0 || d > RTR_LR_MAX_DIMS)
		return MX_EINVAL;
	unsigned char *y = malloc(n ? n : 1);
	if (!y)
		return MX_ENOMEM;
	int rc = 0;
	if (t != RTR_TARGET_EXPECTED_GAIN) {
		for (size_t i = 0; i < n; i++)
			y[i] = t == RTR_TARGET_GAIN ? !wok[i] && sok[i] : !wok[i];
		rc = rtr_lr_train(X, y, wt, n, d, p, lr);
		free(y);
		return rc;
	}
	/* P(disagree) on every row; P(strong right) on the rows that disagree */
	size_t nd = 0;
	for (size_t i = 0; i < n; i++) {
		y[i] = wok[i] != sok[i];
		nd += y[i];
	}
	float *Xd = malloc((nd ? nd : 1) * d * sizeof *Xd),
	      *wd = malloc((nd ? nd : 1) * sizeof *wd);
	unsigned char *yd = malloc(nd ? nd : 1);
	if (!Xd || !wd || !yd) {
		rc = MX_ENOMEM;
		goto out;
	}
	for (size_t i = 0, k = 0; i < n; i++)
		if (y[i]) {
			memcpy(Xd + k * d, X + i * d, d * sizeof *Xd);
			wd[k] = wt ? wt[i] : 1;
			yd[k++] = sok[i];
		}
	if ((rc = rtr_lr_train(X, y, wt, n, d, p, disc)) ||
	    (rc = rtr_lr_train(Xd, yd, wd, nd, d, p, lr))) {
		rtr_lr_free(*disc);
		*disc = NULL;
	}
out:
	free(y);
	free(Xd);
	free(wd);
	free(yd);
	return rc;
}

double rtr_target_predict(unsigned t, const struct rtr_lr *lr, const struct rtr_lr *disc,
			  const float *x)
{
	double q = rtr_lr_predict(lr, x);
	if (t == RTR_TARGET_EXPECTED_GAIN && disc)
		return rtr_lr_predict(disc, x) * (2 * q - 1);
	return q;
}

/* ---- quantiles ---------------------------------------------------------- */

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return (x > y) - (x < y);
}

void rtr_quantiles(double *scores, size_t n, double q[RTR_NQ])
{
	if (!n) {
		for (int i = 0; i < RTR_NQ; i++)
			q[i] = (double)i / (RTR_NQ - 1);
		return;
	}
	qsort(scores, n, sizeof *scores, cmp_double);
	for (int i = 0; i < RTR_NQ; i++) {
		double pos = (double)i / (RTR_NQ - 1) * (double)(n - 1);
		size_t lo = (size_t)pos;
		size_t hi = lo + 1 < n ? lo + 1 : lo;
		double f = pos - (double)lo;
		q[i] = scores[lo] * (1 - f) + scores[hi] * f;
	}
}

double rtr_quantile_threshold(const double q[RTR_NQ], double share)
{
	if (!(share > 0))
		return INFINITY; /* nothing escalates */
	if (share >= 1)
		return -INFINITY;
	double pos = (1 - share) * (RTR_NQ - 1);
	int lo = (int)pos;
	int hi = lo + 1 < RTR_NQ ? lo + 1 : lo;
	double f = pos - lo;
	return q[lo] * (1 - f) + q[hi] * f;
}

/* ---- the file ------------------------------------------------------------- */

static int put_u32(struct mx_buf *b, uint32_t v)
{
	unsigned char x[4] = { (unsigned char)v, (unsigned char)(v >> 8), (unsigned char)(v >> 16),
			       (unsigned char)(v >> 24) };
	return mx_buf_append(b, x, 4);
}

static int put_f64(struct mx_buf *b, double v)
{
	uint64_t u;
	memcpy(&u, &v, 8);
	unsigned char x[8];
	for (int i = 0; i < 8; i++)
		x[i] = (unsigned char)(u >> (8 * i));
	return mx_buf_append(b, x, 8);
}

static int put_lr(struct mx_buf *b, const struct rtr_lr *m)
{
	int rc = put_u32(b, (uint32_t)m->d);
	for (size_t i = 0; !rc && i < m->d; i++)
		rc = put_f64(b, m->mean[i]);
	for (size_t i = 0; !rc && i < m->d; i++)
		rc = put_f64(b, m->scale[i]);
	for (size_t i = 0; !rc && i < m->d; i++)
		rc = put_f64(b, m->w[i]);
	return rc ? rc : put_f64(b, m->b);
}

int rtr_model_save(const struct rtr_model *m, const char *path, char *err, size_t errsz)
{
	int rc = 0, fd = -1;
	char *tmp = NULL;
	struct mx_buf b;
	mx_buf_init(&b, RTR_MODEL_MAX_BYTES);
	size_t fplen = strnlen(m->fingerprint, sizeof m->fingerprint);
	bool eg_feat = m->target_feat == RTR_TARGET_EXPECTED_GAIN;
	bool eg_full = m->full && m->target_full == RTR_TARGET_EXPECTED_GAIN;
	if (!m->feat || m->feat->d != m->nfeat || m->target_feat >= RTR_TARGET_COUNT ||
	    m->target_full >= RTR_TARGET_COUNT ||
	    (m->full && m->full->d != m->embed_dims + m->nfeat) || (!m->full && m->embed_dims) ||
	    (eg_feat && (!m->feat_disc || m->feat_disc->d != m->nfeat)) ||
	    (eg_full && (!m->full_disc || m->full_disc->d != m->full->d))) {
		return mx_fail(err, errsz, MX_EINVAL, "an incomplete router model");
	}
	if ((rc = mx_buf_append(&b, magic, sizeof magic)) ||
	    (rc = put_u32(&b, RTR_MODEL_VERSION)) || (rc = put_u32(&b, (uint32_t)m->nfeat)) ||
	    (rc = put_u32(&b, (uint32_t)m->embed_dims)) || (rc = put_u32(&b, (uint32_t)fplen)) ||
	    (rc = mx_buf_append(&b, m->fingerprint, fplen)) || (rc = put_u32(&b, m->split_mod)) ||
	    (rc = put_u32(&b, m->split_rem)) || (rc = put_f64(&b, m->share)) ||
	    (rc = put_u32(&b, m->target_feat)) || (rc = put_u32(&b, m->target_full)) ||
	    (rc = put_u32(&b, m->prefer_full && m->full)))
		goto fail_buf;
	for (int i = 0; !rc && i < RTR_NQ; i++)
		rc = put_f64(&b, m->qfeat[i]);
	for (int i = 0; !rc && i < RTR_NQ; i++)
		rc = put_f64(&b, m->qfull[i]);
	if (rc || (rc = put_lr(&b, m->feat)) || (eg_feat && (rc = put_lr(&b, m->feat_disc))) ||
	    (m->full && (rc = put_lr(&b, m->full))) || (eg_full && (rc = put_lr(&b, m->full_disc))))
		goto fail_buf;

	size_t plen = strlen(path);
	if (!(tmp = malloc(plen + 16))) {
		rc = MX_ENOMEM;
		goto fail_buf;
	}
	snprintf(tmp, plen + 16, "%s.tmp-XXXXXX", path);
	if ((fd = mkstemp(tmp)) < 0) { /* 0600 */
		rc = mx_status_from_errno(errno);
		mx_seterr(err, errsz, "cannot create a file beside '%s': %s", path,
			  strerror(errno));
		free(tmp);
		tmp = NULL;
		goto out;
	}
	size_t off = 0;
	while (off < b.len) {
		ssize_t w = write(fd, b.data + off, b.len - off);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0) {
			rc = MX_EIO;
			mx_seterr(err, errsz, "cannot write '%s': %s", tmp, strerror(errno));
			goto out;
		}
		off += (size_t)w;
	}
	if (fsync(fd)) {
		rc = MX_EIO;
		mx_seterr(err, errsz, "cannot write '%s': %s", tmp, strerror(errno));
		goto out;
	}
	int cr = close(fd);
	fd = -1;
	if (cr) {
		rc = MX_EIO;
		mx_seterr(err, errsz, "cannot write '%s': %s", tmp, strerror(errno));
		goto out;
	}
	if (rename(tmp, path)) {
		rc = mx_status_from_errno(errno);
		mx_seterr(err, errsz, "cannot rename '%s' to '%s': %s", tmp, path, strerror(errno));
		goto out;
	}
	free(tmp);
	tmp = NULL;
	goto out;
fail_buf:
	mx_seterr(err, errsz, "cannot serialise the router model: %s", mx_strerror(rc));
out:
	if (fd >= 0)
		close(fd);
	if (tmp) {
		unlink(tmp);
		free(tmp);
	}
	mx_buf_free(&b);
	return rc;
}

struct reader {
	const unsigned char *p;
	size_t left;
	bool bad;
};

static uint32_t get_u32(struct reader *r)
{
	if (r->left < 4) {
		r->bad = true;
		return 0;
	}
	uint32_t v = (uint32_t)r->p[0] | (uint32_t)r->p[1] << 8 | (uint32_t)r->p[2] << 16 |
		     (uint32_t)r->p[3] << 24;
	r->p += 4;
	r->left -= 4;
	return v;
}

static double get_f64(struct reader *r)
{
	if (r->left < 8) {
		r->bad = true;
		return 0;
	}
	uint64_t u = 0;
	for (int i = 0; i < 8; i++)
		u |= (uint64_t)r->p[i] << (8 * i);
	r->p += 8;
	r->left -= 8;
	double v;
	memcpy(&v, &u, 8);
	if (!isfinite(v))
		r->bad = true;
	return v;
}

static int get_lr(struct reader *r, size_t want, struct rtr_lr **out)
{
	uint32_t d = get_u32(r);
	if (r->bad || d != want || d == 0 || d > RTR_LR_MAX_DIMS || r->left / 8 / 3 < d)
		return MX_ECORRUPT;
	struct rtr_lr *m = lr_new(d);
	if (!m)
		return MX_ENOMEM;
	for (size_t i = 0; i < d; i++)
		m->mean[i] = get_f64(r);
	for (size_t i = 0; i < d; i++) {
		m->scale[i] = get_f64(r);
		if (!(m->scale[i] > 0))
			r->bad = true;
	}
	for (size_t i = 0; i < d; i++)
		m->w[i] = get_f64(r);
	m->b = get_f64(r);
	if (r->bad) {
		rtr_lr_free(m);
		return MX_ECORRUPT;
	}
	*out = m;
	return 0;
}

const char *rtr_target_name(unsigned t)
{
	static const char *const names[RTR_TARGET_COUNT] = { "weak wrong, strong right",
							     "weak wrong", "expected gain" };
	return t < RTR_TARGET_COUNT ? names[t] : "?";
}

void rtr_model_free(struct rtr_model *m)
{
	if (!m)
		return;
	rtr_lr_free(m->feat);
	rtr_lr_free(m->feat_disc);
	rtr_lr_free(m->full);
	rtr_lr_free(m->full_disc);
	free(m);
}

int rtr_model_parse(const unsigned char *data, size_t len, struct rtr_model **out, char *err,
		    size_t errsz)
{
	int rc = 0;
	struct reader r = { data, len, false };
	*out = NULL;
	struct rtr_model *m = calloc(1, sizeof *m);
	if (!m)
		return MX_ENOMEM;
	if (len < sizeof magic || memcmp(data, magic, sizeof magic)) {
		mx_seterr(err, errsz, "not a memex router model");
		rc = MX_ECORRUPT;
		goto out;
	}
	r.p += sizeof magic;
	r.left -= sizeof magic;
	uint32_t ver = get_u32(&r);
	if (!r.bad && ver != RTR_MODEL_VERSION) {
		mx_seterr(err, errsz,
			  "router model version %u; this memex reads version %u (run 'memex "
			  "router train' again)",
			  ver, RTR_MODEL_VERSION);
		rc = MX_ENEWER;
		goto out;
	}
	m->nfeat = get_u32(&r);
	m->embed_dims = get_u32(&r);
	uint32_t fplen = get_u32(&r);
	if (r.bad || m->nfeat == 0 || m->nfeat > 256 || m->embed_dims > RTR_LR_MAX_DIMS - 256 ||
	    fplen >= sizeof m->fingerprint || r.left < fplen) {
		rc = MX_ECORRUPT;
		goto bad;
	}
	memcpy(m->fingerprint, r.p, fplen);
	m->fingerprint[fplen] = '\0';
	if (memchr(m->fingerprint, '\0', fplen)) {
		rc = MX_ECORRUPT;
		goto bad;
	}
	r.p += fplen;
	r.left -= fplen;
	m->split_mod = get_u32(&r);
	m->split_rem = get_u32(&r);
	m->share = get_f64(&r);
	m->target_feat = get_u32(&r);
	m->target_full = get_u32(&r);
	uint32_t prefer = get_u32(&r);
	m->prefer_full = prefer == 1;
	for (int i = 0; i < RTR_NQ; i++)
		m->qfeat[i] = get_f64(&r);
	for (int i = 0; i < RTR_NQ; i++)
		m->qfull[i] = get_f64(&r);
	if (r.bad || !(m->share >= 0 && m->share <= 1) || m->split_mod > 1000 ||
	    m->target_feat >= RTR_TARGET_COUNT || m->target_full >= RTR_TARGET_COUNT ||
	    (!m->embed_dims && m->target_full) || (m->split_mod && m->split_rem >= m->split_mod) ||
	    prefer > 1 || (prefer && !m->embed_dims)) {
		rc = MX_ECORRUPT;
		goto bad;
	}
	if ((rc = get_lr(&r, m->nfeat, &m->feat)))
		goto bad;
	if (m->target_feat == RTR_TARGET_EXPECTED_GAIN &&
	    (rc = get_lr(&r, m->nfeat, &m->feat_disc)))
		goto bad;
	if (m->embed_dims && (rc = get_lr(&r, m->embed_dims + m->nfeat, &m->full)))
		goto bad;
	if (m->embed_dims && m->target_full == RTR_TARGET_EXPECTED_GAIN &&
	    (rc = get_lr(&r, m->embed_dims + m->nfeat, &m->full_disc)))
		goto bad;
	if (r.left) {
		rc = MX_ECORRUPT;
		goto bad;
	}
	*out = m;
	m = NULL;
	goto out;
bad:
	if (rc == MX_ECORRUPT)
		mx_seterr(err, errsz, "a damaged router model");
	else
		mx_seterr(err, errsz, "%s", mx_strerror(rc));
out:
	rtr_model_free(m);
	return rc;
}

int rtr_model_load(const char *path, struct rtr_model **out, char *err, size_t errsz)
{
	char *data = NULL;
	size_t len = 0;
	*out = NULL;
	int rc = mx_read_file(path, RTR_MODEL_MAX_BYTES, &data, &len);
	if (rc) {
		return mx_fail(err, errsz, rc, "cannot read '%s': %s", path, mx_strerror(rc));
	}
	rc = rtr_model_parse((const unsigned char *)data, len, out, err, errsz);
	free(data);
	return rc;
}

/* ---- evaluation ---------------------------------------------------------- */

struct ranked {
	double s;
	size_t i;
};

static int cmp_ranked_desc(const void *a, const void *b)
{
	const struct ranked *x = a, *y = b;
	if (x->s != y->s)
		return x->s < y->s ? 1 : -1;
	return (x->i > y->i) - (x->i < y->i);
}

static struct ranked *rank_desc(const double *score, size_t n)
{
	struct ranked *r = malloc(n * sizeof *r);
	if (!r)
		return NULL;
	for (size_t i = 0; i < n; i++)
		r[i] = (struct ranked){ isnan(score[i]) ? -INFINITY : score[i], i };
	qsort(r, n, sizeof *r, cmp_ranked_desc);
	return r;
}

int rtr_rank_desc(const double *score, size_t n, size_t *order)
{
	if (!n)
		return 0;
	struct ranked *r = rank_desc(score, n);
	if (!r)
		return MX_ENOMEM;
	for (size_t k = 0; k < n; k++)
		order[k] = r[k].i;
	free(r);
	return 0;
}

int rtr_route_eval(const double *score, const bool *weak_ok, const bool *strong_ok, size_t n,
		   struct rtr_route_stats *st)
{
	memset(st, 0, sizeof *st);
	if (!n)
		return MX_EINVAL;
	size_t w_all = 0, s_all = 0;
	for (size_t i = 0; i < n; i++) {
		w_all += weak_ok[i];
		s_all += strong_ok[i];
	}
	st->n = n;
	st->acc_weak = (double)w_all / (double)n;
	st->acc_strong = (double)s_all / (double)n;
	if (s_all <= w_all)
		return MX_EINVAL;
	struct ranked *r = rank_desc(score, n);
	if (!r)
		return MX_ENOMEM;
	double gap = (double)(s_all - w_all);
	/* correct(k) - correct(0) = sum over the k routed of strong - weak */
	long long gain = 0;
	double prev = 0, area = 0;
	bool got50 = false, got80 = false;
	int next_pt = 1;
	for (size_t k = 1; k <= n; k++) {
		size_t i = r[k - 1].i;
		gain += (long long)strong_ok[i] - (long long)weak_ok[i];
		double pgr = (double)gain / gap, c = (double)k / (double)n;
		area += (prev + pgr) / 2 / (double)n;
		prev = pgr;
		if (!got50 && pgr >= 0.5 - 1e-12) {
			st->cpt50 = c;
			got50 = true;
		}
		if (!got80 && pgr >= 0.8 - 1e-12) {
			st->cpt80 = c;
			got80 = true;
		}
		while (next_pt <= 10 && c >= next_pt / 10.0 - 1e-12)
			st->pgr_at[next_pt++] = pgr;
	}
	st->apgr = area;
	free(r);
	return 0;
}

double rtr_auc(const double *score, const unsigned char *y, size_t n)
{
	size_t npos = 0;
	for (size_t i = 0; i < n; i++)
		npos += y[i] != 0;
	size_t nneg = n - npos;
	if (!npos || !nneg)
		return 0.5;
	struct ranked *r = rank_desc(score, n);
	if (!r)
		return 0.5;
	/* walk from the lowest score up, giving each positive the negatives
	 * below it (half for ties) */
	double pairs = 0;
	size_t neg_below = 0;
	size_t k = n;
	while (k > 0) {
		size_t j = k; /* the tie group r[t..k-1] */
		size_t t = k - 1;
		while (t > 0 && r[t - 1].s == r[k - 1].s)
			t--;
		size_t gp = 0, gn = 0;
		for (size_t m = t; m < j; m++) {
			if (y[r[m].i])
				gp++;
			else
				gn++;
		}
		pairs += (double)gp * ((double)neg_below + (double)gn / 2);
		neg_below += gn;
		k = t;
	}
	free(r);
	return pairs / ((double)npos * (double)nneg);
}
