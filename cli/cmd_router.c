/*
 * cmd_router.c - memex router: train, calibrate and inspect the arbiter's
 * learned component (router/lr.h).
 *
 *   memex router train [--data DIR] [--out FILE] [--share X] [--cv]
 *   memex router calibrate --share X [--model FILE]
 *   memex router info [--json] [--model FILE]
 *
 * Training reads RouteLLM's MMLU labels (router/mmlu.h), leaves the held-out
 * subjects out (i % 4 == 1 of the sorted subject names), and fits two
 * scorers: features alone, and query embedding + features, every subject
 * weighing the same. What each predicts (enum rtr_target: the expected
 * gain, the weak model wrong, or the weak model wrong and the strong one
 * right) and its L2 penalty are the pair of a grid with the best mean APGR
 * in a cross-validation over the training subjects' three folds (each
 * routed by a fit on the other two); the scorer with the better APGR routes
 * (prefer_full), and the final fits use all training subjects. The
 * out-of-fold scores' quantiles turn a share of questions to escalate into
 * a threshold. --cv instead reports a nested cross-validation over the four
 * subject folds (the same procedure inside each) and writes no model.
 */
#include <errno.h>
#include <getopt.h>
#include <json-c/json.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "../common/buf.h"
#include "../common/fsutil.h"
#include "../common/hash.h"
#include "../common/status.h"
#include "../engine/engine.h"
#include "../router/arbiter.h"
#include "../router/lr.h"
#include "../router/mmlu.h"
#include "cli.h"

#define DEFAULT_DATA  "../shared/data/router/routellm-mmlu"
#define DEFAULT_SHARE 0.25

void cli_router_model_path(struct cli *c, char *buf, size_t n)
{
	if (c->cfg.router_model[0])
		snprintf(buf, n, "%s", c->cfg.router_model);
	else
		snprintf(buf, n, "%s/router.model", c->home);
}

static int embed_all(struct cli *c, struct eng_embedder *e, const char *const *texts, size_t n,
		     float *out)
{
	size_t dims = (size_t)eng_embedder_dims(e), batch = 16;
	double t0 = cli_now(), last = t0;
	for (size_t i = 0; i < n; i += batch) {
		size_t k = i + batch < n ? batch : n - i;
		if (eng_embed(e, texts + i, k, ENG_QUERY, out + i * dims)) {
			cli_error("cannot embed: %s", eng_errmsg(e));
			return -1;
		}
		double t = cli_now();
		if (t - last > 1 || i + k == n) {
			last = t;
			if (c->stderr_tty)
				fprintf(stderr, "\rembedding questions: %zu/%zu (%.0f/s)   ", i + k,
					n, (double)(i + k) / (t - t0 + 1e-9));
			else if (c->verbose)
				fprintf(stderr, "embedding questions: %zu/%zu\n", i + k, n);
		}
	}
	if (c->stderr_tty)
		fprintf(stderr, "\n");
	return 0;
}

/*
 * The embeddings of a question set are kept in DATA_HOME/cache/router-NAME.emb
 * (0600) so that training again or evaluating does not embed 14,000
 * questions again: "MXEMBC1\n", 64 hex digits of SHA-256 over the embedder's
 * fingerprint and every text (each followed by a NUL), u32 n, u32 dims, then
 * n * dims floats (native order: a cache is never shared between machines).
 * A cache whose key or size differs is ignored and rewritten.
 */
#define CACHE_MAGIC "MXEMBC1\n"

static int cache_key(struct eng_embedder *e, const char *const *texts, size_t n,
		     char key[MX_SHA256_HEX_LEN + 1])
{
	struct mx_buf b;
	mx_buf_init(&b, (size_t)1 << 30);
	int rc = mx_buf_appends(&b, eng_embedder_fingerprint(e));
	for (size_t i = 0; !rc && i <= n; i++)
		rc = mx_buf_append(&b, i ? texts[i - 1] : "", (i ? strlen(texts[i - 1]) : 0) + 1);
	if (!rc)
		mx_sha256_hex(b.data, b.len, key);
	mx_buf_free(&b);
	return rc;
}

int cli_router_embed(struct cli *c, struct eng_embedder *e, const char *const *texts, size_t n,
		     float *out, const char *name)
{
	char key[MX_SHA256_HEX_LEN + 1], dir[4200], path[4400], tmp[4500];
	size_t dims = (size_t)eng_embedder_dims(e), hdr = 8 + MX_SHA256_HEX_LEN + 8;
	size_t want = hdr + n * dims * sizeof *out;
	char *data = NULL;
	size_t len = 0;
	if (!name || cache_key(e, texts, n, key))
		return embed_all(c, e, texts, n, out);
	snprintf(dir, sizeof dir, "%s/cache", c->home);
	snprintf(path, sizeof path, "%s/router-%s.emb", dir, name);
	if (!mx_read_file(path, want, &data, &len) && len == want &&
	    !memcmp(data, CACHE_MAGIC, 8) && !memcmp(data + 8, key, MX_SHA256_HEX_LEN)) {
		uint32_t hn, hd;
		memcpy(&hn, data + 8 + MX_SHA256_HEX_LEN, 4);
		memcpy(&hd, data + 12 + MX_SHA256_HEX_LEN, 4);
		if (hn == n && hd == dims) {
			memcpy(out, data + hdr, n * dims * sizeof *out);
			free(data);
			if (c->verbose)
				fprintf(stderr, "embeddings of %zu questions from %s\n", n, path);
			return 0;
		}
	}
	free(data);
	if (embed_all(c, e, texts, n, out))
		return -1;
	/* the cache is a convenience: failing to write it is not an error */
	uint32_t hn = (uint32_t)n, hd = (uint32_t)dims;
	snprintf(tmp, sizeof tmp, "%s.tmp-XXXXXX", path);
	int fd = -1;
	if (mx_mkdir_p(dir) || (fd = mkstemp(tmp)) < 0)
		return 0;
	FILE *f = fdopen(fd, "wb");
	if (!f) {
		close(fd);
		unlink(tmp);
		return 0;
	}
	bool ok = fwrite(CACHE_MAGIC, 1, 8, f) == 8 &&
		  fwrite(key, 1, MX_SHA256_HEX_LEN, f) == MX_SHA256_HEX_LEN &&
		  fwrite(&hn, 4, 1, f) == 1 && fwrite(&hd, 4, 1, f) == 1 &&
		  fwrite(out, sizeof *out, n * dims, f) == n * dims;
	if (fclose(f) || !ok || rename(tmp, path))
		unlink(tmp);
	return 0;
}

int cli_router_mmlu_load(const char *dir, struct rtr_mmlu *m)
{
	char err[512];
	int rc = rtr_mmlu_load(dir, m, err, sizeof err);
	if (rc) {
		if (rc == MX_ENOTFOUND)
			cli_error("cannot read the router data '%s': %s (see --data)", dir, err);
		else
			cli_error("cannot read the router data '%s': %s", dir, err);
		return -1;
	}
	return 0;
}

/* Rows of X for the items idx[0..n): the item's embedding (dims, from
 * emb_all, one row per item of m, when dims) and the features. */
static float *build_rows(const struct rtr_mmlu *m, const size_t *idx, size_t n,
			 const float *emb_all, size_t dims)
{
	size_t d = dims + RTR_NFEAT;
	float *X = malloc(n * d * sizeof *X);
	if (!X)
		return NULL;
	for (size_t r = 0; r < n; r++) {
		if (dims)
			memcpy(X + r * d, emb_all + idx[r] * dims, dims * sizeof *X);
		rtr_text_features(m->items[idx[r]].prompt, X + r * d + dims);
	}
	return X;
}

/* What fit() chose, and its mean figures over the inner folds. */
struct fit_choice {
	unsigned target; /* enum rtr_target */
	double l2, apgr, cpt50;
};

static const double l2_grid[] = { 1e-4, 1e-3, 1e-2, 1e-1, 1, 10, 100, 1000 };
#define NGRID (sizeof l2_grid / sizeof l2_grid[0])
#define NCAND (RTR_TARGET_COUNT * NGRID)

/*
 * Picks the target (enum rtr_target) and the L2 penalty by cross-validation
 * over the subject folds present in the rows (fold[r]: the row's subject
 * number % RTR_SPLIT_MOD): each fold in turn is scored by a fit on the
 * others, and the pair with the highest mean APGR (the area under PGR,
 * which weighs every share of calls; computed from the weak and strong
 * models' correctness wok, sok, whatever the target) wins. Then fits all
 * rows with that pair into *lr and *disc (rtr_target_train). q gets the
 * quantiles of the winner's out-of-fold scores (questions the fit did not
 * see, as in use). wt weighs rows. With verbose, every candidate's figures
 * go to stderr, tagged with what; with progress, a line that counts them.
 */
static int fit(const float *X, const bool *wok, const bool *sok, const float *wt,
	       const unsigned char *fold, size_t n, size_t d, bool verbose, bool progress,
	       const char *what, struct rtr_lr **lr, struct rtr_lr **disc, double q[RTR_NQ],
	       struct fit_choice *ch)
{
	size_t cap = n ? n : 1;
	float *Xt = malloc(cap * d * sizeof *Xt), *wtt = malloc(cap * sizeof *wtt);
	bool *wt_ok = malloc(cap * sizeof *wt_ok), *st_ok = malloc(cap * sizeof *st_ok);
	bool *wv = malloc(cap * sizeof *wv), *sv = malloc(cap * sizeof *sv);
	double *oof = malloc(NCAND * cap * sizeof *oof), *sc = malloc(cap * sizeof *sc);
	double apgr[NCAND] = { 0 }, cpt50[NCAND] = { 0 };
	size_t *vrow = malloc(cap * sizeof *vrow);
	unsigned nfolds = 0;
	int rc = 0;
	*lr = *disc = NULL;
	if (!Xt || !wtt || !wt_ok || !st_ok || !wv || !sv || !oof || !sc || !vrow) {
		rc = MX_ENOMEM;
		goto out;
	}
	struct rtr_lr_params p = rtr_lr_params_default();
	for (unsigned v = 0; v < RTR_SPLIT_MOD; v++) {
		size_t nt = 0, nv = 0;
		for (size_t r = 0; r < n; r++) {
			if (fold[r] == v) {
				wv[nv] = wok[r];
				sv[nv] = sok[r];
				vrow[nv++] = r;
			} else {
				memcpy(Xt + nt * d, X + r * d, d * sizeof *Xt);
				wtt[nt] = wt[r];
				wt_ok[nt] = wok[r];
				st_ok[nt++] = sok[r];
			}
		}
		if (!nv)
			continue;
		nfolds++;
		for (size_t c = 0; c < NCAND; c++) {
			if (progress)
				fprintf(stderr, "\r%s: fold %u, candidate %zu of %zu   ", what,
					nfolds, c + 1, (size_t)NCAND);
			unsigned t = (unsigned)(c / NGRID);
			p.l2 = l2_grid[c % NGRID];
			struct rtr_lr *a = NULL, *b = NULL;
			if ((rc = rtr_target_train(t, Xt, wt_ok, st_ok, wtt, nt, d, &p, &a, &b)))
				goto out;
			for (size_t k = 0; k < nv; k++) {
				sc[k] = rtr_target_predict(t, a, b, X + vrow[k] * d);
				oof[c * n + vrow[k]] = sc[k];
			}
			rtr_lr_free(a);
			rtr_lr_free(b);
			struct rtr_route_stats st;
			if ((rc = rtr_route_eval(sc, wv, sv, nv, &st)))
				goto out;
			apgr[c] += st.apgr;
			cpt50[c] += st.cpt50;
		}
	}
	if (progress)
		fprintf(stderr, "\r%60s\r", "");
	if (nfolds < 2) {
		rc = MX_EINVAL;
		goto out;
	}
	size_t best = 0;
	for (size_t c = 0; c < NCAND; c++) {
		apgr[c] /= nfolds;
		cpt50[c] /= nfolds;
		if (verbose)
			fprintf(stderr,
				"  %-22s target %-26s L2 %-6g mean over %u folds: APGR %.4f "
				"CPT(50%%) %5.1f%%\n",
				what, rtr_target_name((unsigned)(c / NGRID)), l2_grid[c % NGRID],
				nfolds, apgr[c], cpt50[c] * 100);
		if (apgr[c] > apgr[best])
			best = c;
	}
	*ch = (struct fit_choice){ (unsigned)(best / NGRID), l2_grid[best % NGRID], apgr[best],
				   cpt50[best] };
	memcpy(sc, oof + best * n, n * sizeof *sc);
	rtr_quantiles(sc, n, q);
	p.l2 = ch->l2;
	rc = rtr_target_train(ch->target, X, wok, sok, wt, n, d, &p, lr, disc);
out:
	free(Xt);
	free(wtt);
	free(wt_ok);
	free(st_ok);
	free(wv);
	free(sv);
	free(oof);
	free(sc);
	free(vrow);
	return rc;
}

static int parse_share(const char *s, double *out)
{
	char *end;
	errno = 0;
	double x = strtod(s, &end);
	if (end == s || *end || errno || !(x >= 0 && x <= 1)) {
		cli_error("--share takes a number from 0 to 1, not '%s'", s);
		return -1;
	}
	*out = x;
	return 0;
}

/*
 * Fits a router on the subjects i % RTR_SPLIT_MOD != test_rem, choosing by
 * cross-validation over their folds (fit()): both scorers (the embedding
 * one when dims), their targets, penalties, quantile tables and which one
 * routes (prefer_full: the higher cross-validated APGR) go into *model (its
 * regressions owned by the caller: free with free_fit), the choices into cf
 * and ce. emb_all holds one embedding per item of m (or NULL). *ntrain and
 * *npos count the training questions and those where the cloud helps.
 */
static int fit_split(const struct rtr_mmlu *m, const float *emb_all, size_t dims, unsigned test_rem,
		     bool verbose, bool progress, struct rtr_model *model, struct fit_choice *cf,
		     struct fit_choice *ce, size_t *ntrain, size_t *npos)
{
	size_t *idx = malloc(m->n * sizeof *idx), n = 0, nsub = 0, cap;
	size_t *persub = calloc(m->nsubjects, sizeof *persub);
	unsigned char *fold = NULL;
	bool *wok = NULL, *sok = NULL;
	float *wt = NULL, *X = NULL, *Xf = NULL;
	int rc = MX_ENOMEM;
	*npos = 0;
	memset(model, 0, sizeof *model);
	memset(ce, 0, sizeof *ce);
	if (!idx || !persub)
		goto out;
	for (size_t i = 0; i < m->n; i++)
		if (!rtr_mmlu_heldout(m->items[i].subject, RTR_SPLIT_MOD, test_rem))
			idx[n++] = i;
	*ntrain = n;
	cap = n ? n : 1;
	fold = malloc(cap);
	wok = malloc(cap * sizeof *wok);
	sok = malloc(cap * sizeof *sok);
	wt = malloc(cap * sizeof *wt);
	if (!fold || !wok || !sok || !wt)
		goto out;
	for (size_t r = 0; r < n; r++)
		persub[m->items[idx[r]].subject]++;
	for (size_t s = 0; s < m->nsubjects; s++)
		nsub += persub[s] > 0;
	for (size_t r = 0; r < n; r++) {
		const struct rtr_mmlu_item *it = &m->items[idx[r]];
		wok[r] = it->weak_ok;
		sok[r] = it->strong_ok;
		*npos += !it->weak_ok && it->strong_ok;
		fold[r] = (unsigned char)(it->subject % RTR_SPLIT_MOD);
		/* every subject weighs the same (moral_scenarios and
		 * professional_law would otherwise be a quarter of the data) */
		wt[r] = (float)((double)n / (double)nsub / (double)persub[it->subject]);
	}
	if (!(Xf = build_rows(m, idx, n, NULL, 0)))
		goto out;
	if ((rc = fit(Xf, wok, sok, wt, fold, n, RTR_NFEAT, verbose, progress, "features only",
		      &model->feat, &model->feat_disc, model->qfeat, cf)))
		goto out;
	model->target_feat = cf->target;
	if (dims) {
		rc = MX_ENOMEM;
		if (!(X = build_rows(m, idx, n, emb_all, dims)))
			goto out;
		if ((rc = fit(X, wok, sok, wt, fold, n, dims + RTR_NFEAT, verbose, progress,
			      "embedding + features", &model->full, &model->full_disc, model->qfull,
			      ce)))
			goto out;
		model->target_full = ce->target;
		model->prefer_full = ce->apgr > cf->apgr;
	}
	model->nfeat = RTR_NFEAT;
	model->embed_dims = dims;
	model->split_mod = RTR_SPLIT_MOD;
	model->split_rem = test_rem;
	rc = 0;
out:
	free(idx);
	free(persub);
	free(fold);
	free(wok);
	free(sok);
	free(wt);
	free(X);
	free(Xf);
	return rc;
}

static void free_fit(struct rtr_model *model)
{
	rtr_lr_free(model->feat);
	rtr_lr_free(model->feat_disc);
	rtr_lr_free(model->full);
	rtr_lr_free(model->full_disc);
	model->feat = model->feat_disc = model->full = model->full_disc = NULL;
}

/* Embeds the questions of m into emb_all (one row per item): those of the
 * training subjects through the cache "train", and with all, the held-out
 * ones through "heldout" (the same sets, in the same order, as 'memex eval
 * router' embeds, so that either command fills the other's cache). */
static int embed_items(struct cli *c, struct eng_embedder *e, const struct rtr_mmlu *m, bool all,
		       float *emb_all)
{
	size_t dims = (size_t)eng_embedder_dims(e), n;
	size_t *idx = malloc(m->n * sizeof *idx);
	const char **texts = malloc(m->n * sizeof *texts);
	float *tmp = malloc(m->n * dims * sizeof *tmp);
	int rc = -1;
	if (!idx || !texts || !tmp) {
		cli_error("out of memory");
		goto out;
	}
	for (int held = 0; held <= (int)all; held++) {
		n = 0;
		for (size_t i = 0; i < m->n; i++)
			if (rtr_mmlu_heldout(m->items[i].subject, RTR_SPLIT_MOD, RTR_SPLIT_REM) ==
			    (bool)held) {
				texts[n] = m->items[i].prompt;
				idx[n++] = i;
			}
		if (n && cli_router_embed(c, e, texts, n, tmp, held ? "heldout" : "train"))
			goto out;
		for (size_t r = 0; r < n; r++)
			memcpy(emb_all + idx[r] * dims, tmp + r * dims, dims * sizeof *tmp);
	}
	rc = 0;
out:
	free(idx);
	free(texts);
	free(tmp);
	return rc;
}

/* Nested cross-validation over subject folds: each fold f of the subjects
 * (i % RTR_SPLIT_MOD == f) is held out in turn, the router fitted on the
 * others (its choices made by cross-validation over those folds alone, as
 * 'memex router train' makes them; fold 1 is the split of 'memex router
 * train' and 'memex eval router'), and scored on fold f. */
static int cross_validate(const struct rtr_mmlu *m, const float *emb_all, size_t dims,
			  bool progress)
{
	double *s[3] = { malloc(m->n * sizeof(double)), malloc(m->n * sizeof(double)),
			 malloc(m->n * sizeof(double)) };
	bool *wok = malloc(m->n * sizeof *wok), *sok = malloc(m->n * sizeof *sok);
	double sum[3][3] = { { 0 } };
	int ret = CLI_ERR;
	if (!s[0] || !s[1] || !s[2] || !wok || !sok) {
		cli_error("out of memory");
		goto out;
	}
	printf("nested cross-validation over %u subject folds (fold f: subjects i %% %u == f "
	       "held out; choices by cross-validation over the other folds)\n",
	       RTR_SPLIT_MOD, RTR_SPLIT_MOD);
	printf("%-5s %9s  %-40s %-22s   %-22s   %-22s\n", "fold", "questions",
	       "the router (chosen scorer, target, L2)", "the router", "embedding + features",
	       "features only");
	printf("%-5s %9s  %-40s", "", "", "");
	for (int a = 0; a < 3; a++)
		printf(" %6s %6s %6s   ", "CPT50", "CPT80", "APGR");
	printf("\n");
	for (unsigned f = 0; f < RTR_SPLIT_MOD; f++) {
		struct rtr_model model;
		struct fit_choice cf, ce;
		size_t ntrain, npos, n = 0;
		int rc = fit_split(m, emb_all, dims, f, false, progress, &model, &cf, &ce, &ntrain,
				   &npos);
		if (rc) {
			free_fit(&model);
			cli_error("fold %u: %s", f, mx_strerror(rc));
			goto out;
		}
		for (size_t i = 0; i < m->n; i++) {
			const struct rtr_mmlu_item *it = &m->items[i];
			if (!rtr_mmlu_heldout(it->subject, RTR_SPLIT_MOD, f))
				continue;
			const float *e = dims ? emb_all + i * dims : NULL;
			s[1][n] =
				dims ? rtr_model_score_part(&model, true, it->prompt, e, dims) : 0;
			s[2][n] = rtr_model_score_part(&model, false, it->prompt, NULL, 0);
			s[0][n] = model.prefer_full ? s[1][n] : s[2][n];
			wok[n] = it->weak_ok;
			sok[n++] = it->strong_ok;
		}
		free_fit(&model);
		struct rtr_route_stats st[3] = { { 0 } };
		for (int a = 0; a < 3; a++)
			if ((a != 1 || dims) && rtr_route_eval(s[a], wok, sok, n, &st[a])) {
				cli_error(
					"fold %u: the strong model is no better than the weak one",
					f);
				goto out;
			}
		const struct fit_choice *ch = model.prefer_full ? &ce : &cf;
		char what[64];
		snprintf(what, sizeof what, "%s, %s, %g",
			 model.prefer_full ? "embedding" : "features", rtr_target_name(ch->target),
			 ch->l2);
		printf("%-5u %9zu  %-40s", f, n, what);
		for (int a = 0; a < 3; a++) {
			if (a == 1 && !dims)
				printf(" %22s   ", "");
			else
				printf(" %5.1f%% %5.1f%% %6.3f   ", st[a].cpt50 * 100,
				       st[a].cpt80 * 100, st[a].apgr);
			double v[3] = { st[a].cpt50, st[a].cpt80, st[a].apgr };
			for (int k = 0; k < 3; k++)
				sum[a][k] += v[k] / RTR_SPLIT_MOD;
		}
		printf("\n");
		fflush(stdout);
	}
	printf("%-5s %9s  %-40s", "mean", "", "");
	for (int a = 0; a < 3; a++) {
		if (a == 1 && !dims)
			printf(" %22s   ", "");
		else
			printf(" %5.1f%% %5.1f%% %6.3f   ", sum[a][0] * 100, sum[a][1] * 100,
			       sum[a][2]);
	}
	printf("\nrandom routing: CPT(50%%) 50%%, CPT(80%%) 80%%, APGR 0.5 (expected)\n");
	ret = CLI_OK;
out:
	for (int a = 0; a < 3; a++)
		free(s[a]);
	free(wok);
	free(sok);
	return ret;
}

static int router_train(struct cli *c, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "data", required_argument, NULL, 'd' },
		{ "out", required_argument, NULL, 'o' },
		{ "share", required_argument, NULL, 's' },
		{ "cv", no_argument, NULL, 'c' },
		{ NULL, 0, NULL, 0 },
	};
	const char *data = DEFAULT_DATA;
	char out[4200], err[512];
	double share = DEFAULT_SHARE;
	bool cv = false;
	int opt, ret = CLI_ERR;
	cli_router_model_path(c, out, sizeof out);
	while ((opt = getopt_long(argc, argv, "d:o:s:", opts, NULL)) != -1) {
		switch (opt) {
		case 'd': data = optarg; break;
		case 'o': snprintf(out, sizeof out, "%s", optarg); break;
		case 's':
			if (parse_share(optarg, &share))
				return CLI_USAGE;
			break;
		case 'c': cv = true; break;
		default: return cli_usage(cli_command_find("router"), true);
		}
	}
	if (optind != argc)
		return cli_usage(cli_command_find("router"), true);

	struct rtr_mmlu m = { 0 };
	struct eng_embedder *e = NULL;
	size_t dims = 0, n = 0, npos = 0;
	float *emb = NULL;
	struct rtr_model model = { 0 };
	struct fit_choice cf, ce;
	double t0 = cli_now();
	int rc;
	if (cli_router_mmlu_load(data, &m) || cli_embedder_open(c, &e))
		goto out;
	for (size_t i = 0; i < m.n; i++)
		n += !rtr_mmlu_heldout(m.items[i].subject, RTR_SPLIT_MOD, RTR_SPLIT_REM);
	if (n < 100) {
		cli_error("'%s': only %zu training questions", data, n);
		goto out;
	}
	size_t nheld = 0;
	for (unsigned s = 0; s < m.nsubjects; s++)
		nheld += rtr_mmlu_heldout(s, RTR_SPLIT_MOD, RTR_SPLIT_REM);
	if (e) {
		dims = (size_t)eng_embedder_dims(e);
		if (!(emb = malloc(m.n * dims * sizeof *emb)))
			goto oom;
		if (embed_items(c, e, &m, cv, emb))
			goto out;
	} else {
		cli_warn("no embedder (make model, or 'embedder' in the configuration): "
			 "training on the features alone");
	}
	if (cv) {
		ret = cross_validate(&m, emb, dims, c->stderr_tty);
		goto out;
	}
	if ((rc = fit_split(&m, emb, dims, RTR_SPLIT_REM, c->verbose, c->stderr_tty, &model, &cf,
			    &ce, &n, &npos))) {
		if (rc == MX_EINVAL)
			cli_error("cannot train: the strong model is no better than the weak one "
				  "on a fold of the training subjects");
		else
			cli_error("cannot train: %s", mx_strerror(rc));
		goto out;
	}
	fprintf(stderr,
		"%zu training questions from %zu subjects (%zu held out for 'memex eval "
		"router'), %zu where the cloud model helps\n",
		n, m.nsubjects - nheld, nheld, npos);
	if (e)
		snprintf(model.fingerprint, sizeof model.fingerprint, "%s",
			 eng_embedder_fingerprint(e));
	model.share = share;
	if (!c->cfg.router_model[0] && mx_mkdir_p(c->home)) {
		cli_error("cannot create the data home '%s'", c->home);
		goto out;
	}
	if (rtr_model_save(&model, out, err, sizeof err)) {
		cli_error("%s", err);
		goto out;
	}
	printf("router model: %s\n", out);
	printf("  cross-validated over the training subjects' folds (mean):\n");
	printf("  %s features only:        predicts %s (L2 %g): APGR %.4f, CPT(50%%) %.1f%%\n",
	       model.prefer_full ? " " : "*", rtr_target_name(cf.target), cf.l2, cf.apgr,
	       cf.cpt50 * 100);
	if (e)
		printf("  %s embedding + features: predicts %s (L2 %g): APGR %.4f, CPT(50%%) "
		       "%.1f%%, embedder %s\n",
		       model.prefer_full ? "*" : " ", rtr_target_name(ce.target), ce.l2, ce.apgr,
		       ce.cpt50 * 100, eng_embedder_name(e));
	printf("  (* routes: the higher APGR)\n");
	printf("  escalates %.0f%% of questions (memex router calibrate --share X)\n", share * 100);
	printf("  %.1f s\n", cli_now() - t0);
	ret = CLI_OK;
	goto out;
oom:
	cli_error("out of memory");
out:
	free_fit(&model);
	free(emb);
	eng_embedder_close(e);
	rtr_mmlu_free(&m);
	return ret;
}

static int load_model(struct cli *c, const char *path, struct rtr_model **m)
{
	char err[512];
	int rc = rtr_model_load(path, m, err, sizeof err);
	if (rc == MX_ENOTFOUND) {
		cli_error("no router model at '%s': run 'memex router train'", path);
		return -1;
	}
	if (rc) {
		cli_error("cannot load the router model '%s': %s", path, err);
		return -1;
	}
	(void)c;
	return 0;
}

static int router_calibrate(struct cli *c, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "share", required_argument, NULL, 's' },
		{ "model", required_argument, NULL, 'm' },
		{ NULL, 0, NULL, 0 },
	};
	char path[4200], err[512];
	double share = -1;
	int opt;
	cli_router_model_path(c, path, sizeof path);
	while ((opt = getopt_long(argc, argv, "s:m:", opts, NULL)) != -1) {
		switch (opt) {
		case 's':
			if (parse_share(optarg, &share))
				return CLI_USAGE;
			break;
		case 'm': snprintf(path, sizeof path, "%s", optarg); break;
		default: return cli_usage(cli_command_find("router"), true);
		}
	}
	if (optind != argc || share < 0)
		return cli_usage(cli_command_find("router"), true);
	struct rtr_model *m = NULL;
	if (load_model(c, path, &m))
		return CLI_ERR;
	m->share = share;
	int ret = CLI_OK;
	if (rtr_model_save(m, path, err, sizeof err)) {
		cli_error("%s", err);
		ret = CLI_ERR;
	} else {
		printf("%s: escalates %.1f%% of questions: threshold %.4f", path, share * 100,
		       rtr_quantile_threshold(m->full && m->prefer_full ? m->qfull : m->qfeat,
					      share));
		if (m->full && m->prefer_full)
			printf(" (without the embedder: %.4f)",
			       rtr_quantile_threshold(m->qfeat, share));
		printf("\n");
		if (c->cfg.router_share >= 0 || !isnan(c->cfg.router_threshold))
			cli_warn("the configuration's router_escalate_share or router_threshold "
				 "overrides this");
	}
	rtr_model_free(m);
	return ret;
}

static int router_info(struct cli *c, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "json", no_argument, NULL, 'j' },
		{ "model", required_argument, NULL, 'm' },
		{ NULL, 0, NULL, 0 },
	};
	char path[4200];
	bool json = false;
	int opt;
	cli_router_model_path(c, path, sizeof path);
	while ((opt = getopt_long(argc, argv, "jm:", opts, NULL)) != -1) {
		switch (opt) {
		case 'j': json = true; break;
		case 'm': snprintf(path, sizeof path, "%s", optarg); break;
		default: return cli_usage(cli_command_find("router"), true);
		}
	}
	if (optind != argc)
		return cli_usage(cli_command_find("router"), true);
	struct rtr_model *m = NULL;
	if (load_model(c, path, &m))
		return CLI_ERR;
	double share = c->cfg.router_share >= 0 ? c->cfg.router_share : m->share;
	const double *q = m->full && m->prefer_full ? m->qfull : m->qfeat;
	double thr = !isnan(c->cfg.router_threshold) ? c->cfg.router_threshold
						     : rtr_quantile_threshold(q, share);
	if (json) {
		json_object *o = json_object_new_object();
		json_object_object_add(o, "path", cli_json_string(path));
		json_object_object_add(o, "features", json_object_new_int((int)m->nfeat));
		json_object_object_add(o, "embedding_dims",
				       json_object_new_int((int)m->embed_dims));
		json_object_object_add(o, "fingerprint",
				       m->fingerprint[0] ? cli_json_string(m->fingerprint) : NULL);
		json_object_object_add(o, "target_features",
				       json_object_new_string(rtr_target_name(m->target_feat)));
		json_object_object_add(
			o, "target_embedding",
			m->full ? json_object_new_string(rtr_target_name(m->target_full)) : NULL);
		json_object_object_add(o, "routes_with",
				       json_object_new_string(m->full && m->prefer_full
								      ? "embedding+features"
								      : "features"));
		json_object_object_add(o, "share", json_object_new_double(share));
		json_object_object_add(o, "threshold", json_object_new_double(thr));
		json_object_object_add(o, "policy",
				       json_object_new_string(rtr_policy_name(
					       (enum rtr_policy)c->cfg.cloud_policy)));
		cli_json_print(o);
	} else {
		printf("router model: %s\n", path);
		bool pf = m->full && m->prefer_full;
		printf("  scorers:     %sfeatures (%zu), predicts %s\n", pf ? "  " : "* ", m->nfeat,
		       rtr_target_name(m->target_feat));
		if (m->full)
			printf("               %sembedding + features, predicts %s\n",
			       pf ? "* " : "  ", rtr_target_name(m->target_full));
		printf("               (* routes: the better in training's cross-validation)\n");
		if (m->full)
			printf("  embedder:    %s (%zu dims)\n", m->fingerprint, m->embed_dims);
		printf("  held out:    MMLU subjects i %% %u == %u\n", m->split_mod, m->split_rem);
		printf("  escalates:   %.1f%% of questions, threshold %.4f%s\n", share * 100, thr,
		       c->cfg.router_share >= 0 || !isnan(c->cfg.router_threshold)
			       ? " (from the configuration)"
			       : "");
		printf("  policy:      %s\n",
		       rtr_policy_name((enum rtr_policy)c->cfg.cloud_policy));
		if (c->verbose && m->nfeat == RTR_NFEAT) {
			/* the features scorer's weights (standardised inputs) */
			bool eg = m->feat_disc != NULL;
			printf("  features scorer's weights (per standard deviation):\n");
			printf("    %-18s %10s%s\n", "feature", eg ? "P(strong|dis)" : "weight",
			       eg ? "   P(disagree)" : "");
			for (size_t i = 0; i < m->nfeat; i++) {
				printf("    %-18s %10.4f", rtr_feature_name((int)i), m->feat->w[i]);
				if (eg)
					printf("   %10.4f", m->feat_disc->w[i]);
				printf("\n");
			}
		}
	}
	rtr_model_free(m);
	return CLI_OK;
}

int cmd_router(struct cli *c, int argc, char **argv)
{
	if (argc >= 2 && !strcmp(argv[1], "train"))
		return router_train(c, argc - 1, argv + 1);
	if (argc >= 2 && !strcmp(argv[1], "calibrate"))
		return router_calibrate(c, argc - 1, argv + 1);
	if (argc >= 2 && !strcmp(argv[1], "info"))
		return router_info(c, argc - 1, argv + 1);
	return cli_usage(cli_command_find("router"), true);
}
