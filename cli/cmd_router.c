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
 * logistic regressions: query embedding + features, and features alone,
 * every subject weighing the same. What each predicts (the weak model
 * wrong, or the weak model wrong and the strong one right: enum rtr_target)
 * and its L2 penalty are the pair of a small grid whose fit on the other
 * training subjects routes the validation subjects (i % 4 == 3) best, by
 * APGR; the final fit uses them all. The validation scores' quantiles turn a
 * share of questions to escalate into a threshold. --cv instead reports a
 * cross-validation over the four subject folds and writes no model.
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
/* validation subjects (among the training ones): i % RTR_SPLIT_MOD == 3 */
#define VAL_REM 3u

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

/* What fit() chose, and its figures on the validation subjects. */
struct fit_choice {
	unsigned target; /* enum rtr_target */
	double l2, auc, apgr, cpt50;
};

/* Picks the target (enum rtr_target, labels ys[t]) and the L2 penalty with
 * the best routing on the validation rows (val) of a model fitted on the
 * others: the highest APGR (the area under PGR, which weighs every share of
 * calls), computed from the weak and strong models' correctness (wok, sok).
 * Then fits all rows with that choice. q gets the quantiles of the
 * validation scores of the chosen held-out fit (scores of questions it did
 * not see, as in use). wt weighs rows. With verbose, every candidate's
 * validation figures go to stderr, tagged with what. */
static int fit(const float *X, unsigned char *const ys[RTR_TARGET_COUNT], const float *wt,
	       const bool *val, const bool *wok, const bool *sok, size_t n, size_t d, bool verbose,
	       const char *what, struct rtr_lr **best, double q[RTR_NQ], struct fit_choice *ch)
{
	static const double grid[] = { 1e-6, 1e-5, 1e-4, 1e-3, 1e-2, 1e-1, 1, 10, 100, 1000 };
	size_t nt = 0, nv = 0;
	for (size_t r = 0; r < n; r++)
		val[r] ? nv++ : nt++;
	float *Xt = malloc(nt * d * sizeof *Xt), *wtt = malloc(nt * sizeof *wtt);
	unsigned char *yt = malloc(nt), *yv = malloc(nv);
	double *sv = malloc(nv * sizeof *sv), *sbest = malloc(nv * sizeof *sbest);
	bool *wv = malloc(nv * sizeof *wv), *sv_ok = malloc(nv * sizeof *sv_ok);
	int rc = 0;
	*best = NULL;
	ch->apgr = -1;
	if (!Xt || !wtt || !yt || !yv || !sv || !sbest || !wv || !sv_ok || !nv || !nt) {
		rc = MX_ENOMEM;
		goto out;
	}
	for (size_t r = 0, t = 0, v = 0; r < n; r++) {
		if (val[r]) {
			wv[v] = wok[r];
			sv_ok[v++] = sok[r];
		} else {
			memcpy(Xt + t * d, X + r * d, d * sizeof *Xt);
			wtt[t++] = wt[r];
		}
	}
	struct rtr_lr_params p = rtr_lr_params_default();
	for (unsigned tg = 0; tg < RTR_TARGET_COUNT; tg++) {
		for (size_t r = 0, t = 0, v = 0; r < n; r++) {
			if (val[r])
				yv[v++] = ys[RTR_TARGET_GAIN][r];
			else
				yt[t++] = ys[tg][r];
		}
		for (size_t g = 0; g < sizeof grid / sizeof grid[0]; g++) {
			p.l2 = grid[g];
			struct rtr_lr *m = NULL;
			if ((rc = rtr_lr_train(Xt, yt, wtt, nt, d, &p, &m)))
				goto out;
			for (size_t r = 0, v = 0; r < n; r++)
				if (val[r])
					sv[v++] = rtr_lr_predict(m, X + r * d);
			rtr_lr_free(m);
			struct rtr_route_stats st;
			if ((rc = rtr_route_eval(sv, wv, sv_ok, nv, &st)))
				goto out;
			/* AUC for the label the router is judged by (gain) */
			double auc = rtr_auc(sv, yv, nv);
			if (verbose)
				fprintf(stderr,
					"  %-22s target %-26s L2 %-6g validation APGR %.4f "
					"CPT(50%%) %5.1f%% AUC %.4f\n",
					what, rtr_target_name(tg), grid[g], st.apgr, st.cpt50 * 100,
					auc);
			if (st.apgr > ch->apgr) {
				*ch = (struct fit_choice){ tg, grid[g], auc, st.apgr, st.cpt50 };
				memcpy(sbest, sv, nv * sizeof *sv);
			}
		}
	}
	rtr_quantiles(sbest, nv, q);
	p.l2 = ch->l2;
	rc = rtr_lr_train(X, ys[ch->target], wt, n, d, &p, best);
out:
	free(Xt);
	free(wtt);
	free(yt);
	free(yv);
	free(sv);
	free(sbest);
	free(wv);
	free(sv_ok);
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
 * Fits a router on the subjects i % RTR_SPLIT_MOD != test_rem, choosing on
 * those with i % RTR_SPLIT_MOD == val_rem (fit()): both regressions (the
 * embedding one when dims), their targets, penalties and quantile tables go
 * into *model (its regressions owned by the caller), the choices into cf
 * and ce. emb_all holds one embedding per item of m (or NULL). *ntrain and
 * *npos count the training questions and those where the cloud helps.
 */
static int fit_split(const struct rtr_mmlu *m, const float *emb_all, size_t dims, unsigned test_rem,
		     unsigned val_rem, bool verbose, struct rtr_model *model, struct fit_choice *cf,
		     struct fit_choice *ce, size_t *ntrain, size_t *npos)
{
	size_t *idx = malloc(m->n * sizeof *idx), n = 0, nsub = 0;
	size_t *persub = calloc(m->nsubjects, sizeof *persub);
	unsigned char *ys[RTR_TARGET_COUNT] = { NULL };
	bool *val = NULL, *wok = NULL, *sok = NULL;
	float *wt = NULL, *X = NULL, *Xf = NULL;
	int rc = MX_ENOMEM;
	*npos = 0;
	if (!idx || !persub)
		goto out;
	for (size_t i = 0; i < m->n; i++)
		if (!rtr_mmlu_heldout(m->items[i].subject, RTR_SPLIT_MOD, test_rem))
			idx[n++] = i;
	*ntrain = n;
	for (unsigned t = 0; t < RTR_TARGET_COUNT; t++)
		if (!(ys[t] = malloc(n ? n : 1)))
			goto out;
	val = malloc((n ? n : 1) * sizeof *val);
	wok = malloc((n ? n : 1) * sizeof *wok);
	sok = malloc((n ? n : 1) * sizeof *sok);
	wt = malloc((n ? n : 1) * sizeof *wt);
	if (!val || !wok || !sok || !wt)
		goto out;
	for (size_t r = 0; r < n; r++)
		persub[m->items[idx[r]].subject]++;
	for (size_t s = 0; s < m->nsubjects; s++)
		nsub += persub[s] > 0;
	for (size_t r = 0; r < n; r++) {
		const struct rtr_mmlu_item *it = &m->items[idx[r]];
		ys[RTR_TARGET_GAIN][r] = !it->weak_ok && it->strong_ok;
		ys[RTR_TARGET_WEAK_WRONG][r] = !it->weak_ok;
		wok[r] = it->weak_ok;
		sok[r] = it->strong_ok;
		*npos += ys[RTR_TARGET_GAIN][r];
		/* validation: whole subjects, as the held-out test is */
		val[r] = rtr_mmlu_heldout(it->subject, RTR_SPLIT_MOD, val_rem);
		/* every subject weighs the same (moral_scenarios and
		 * professional_law would otherwise be a quarter of the data) */
		wt[r] = (float)((double)n / (double)nsub / (double)persub[it->subject]);
	}
	memset(model, 0, sizeof *model);
	memset(ce, 0, sizeof *ce);
	if (!(Xf = build_rows(m, idx, n, NULL, 0)))
		goto out;
	if ((rc = fit(Xf, ys, wt, val, wok, sok, n, RTR_NFEAT, verbose, "features only",
		      &model->feat, model->qfeat, cf)))
		goto out;
	model->target_feat = cf->target;
	if (dims) {
		rc = MX_ENOMEM;
		if (!(X = build_rows(m, idx, n, emb_all, dims)))
			goto out;
		if ((rc = fit(X, ys, wt, val, wok, sok, n, dims + RTR_NFEAT, verbose,
			      "embedding + features", &model->full, model->qfull, ce)))
			goto out;
		model->target_full = ce->target;
	}
	model->nfeat = RTR_NFEAT;
	model->embed_dims = dims;
	model->split_mod = RTR_SPLIT_MOD;
	model->split_rem = test_rem;
	rc = 0;
out:
	free(idx);
	free(persub);
	for (unsigned t = 0; t < RTR_TARGET_COUNT; t++)
		free(ys[t]);
	free(val);
	free(wok);
	free(sok);
	free(wt);
	free(X);
	free(Xf);
	return rc;
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

/* Cross-validation over subject folds: each fold f of the subjects
 * (i % RTR_SPLIT_MOD == f) is held out in turn, the router fitted on the
 * others with validation fold (f + 2) % RTR_SPLIT_MOD (fold 1 is the split
 * of 'memex router train' and 'memex eval router'), and scored on fold f. */
static int cross_validate(const struct rtr_mmlu *m, const float *emb_all, size_t dims)
{
	double *sfull = malloc(m->n * sizeof *sfull), *sfeat = malloc(m->n * sizeof *sfeat);
	bool *wok = malloc(m->n * sizeof *wok), *sok = malloc(m->n * sizeof *sok);
	double sum[2][3] = { { 0 } };
	int ret = CLI_ERR;
	if (!sfull || !sfeat || !wok || !sok) {
		cli_error("out of memory");
		goto out;
	}
	printf("cross-validation over %u subject folds (fold f: subjects i %% %u == f held "
	       "out, validation (f + 2) %% %u)\n",
	       RTR_SPLIT_MOD, RTR_SPLIT_MOD, RTR_SPLIT_MOD);
	printf("(target and L2: those chosen for the %s regression; gain: the weak "
	       "model wrong and the strong one right)\n",
	       dims ? "embedding + features" : "features-only");
	printf("%-5s %9s %-11s %-6s %-27s   %-27s\n", "fold", "questions", "target", "L2",
	       dims ? "embedding + features" : "", "features only");
	printf("%-5s %9s %-11s %-6s %9s %9s %7s   %9s %9s %7s\n", "", "", "", "", "CPT(50%)",
	       "CPT(80%)", "APGR", "CPT(50%)", "CPT(80%)", "APGR");
	for (unsigned f = 0; f < RTR_SPLIT_MOD; f++) {
		struct rtr_model model;
		struct fit_choice cf, ce;
		size_t ntrain, npos, n = 0;
		int rc = fit_split(m, emb_all, dims, f, (f + 2) % RTR_SPLIT_MOD, false, &model, &cf,
				   &ce, &ntrain, &npos);
		if (rc) {
			rtr_lr_free(model.feat);
			rtr_lr_free(model.full);
			cli_error("fold %u: %s", f, mx_strerror(rc));
			goto out;
		}
		for (size_t i = 0; i < m->n; i++) {
			const struct rtr_mmlu_item *it = &m->items[i];
			if (!rtr_mmlu_heldout(it->subject, RTR_SPLIT_MOD, f))
				continue;
			const char *kind;
			sfeat[n] = rtr_model_score(&model, it->prompt, NULL, 0, &kind);
			sfull[n] = dims ? rtr_model_score(&model, it->prompt, emb_all + i * dims,
							  dims, &kind)
					: 0;
			wok[n] = it->weak_ok;
			sok[n++] = it->strong_ok;
		}
		rtr_lr_free(model.feat);
		rtr_lr_free(model.full);
		struct rtr_route_stats sf, se = { 0 };
		if (rtr_route_eval(sfeat, wok, sok, n, &sf) ||
		    (dims && rtr_route_eval(sfull, wok, sok, n, &se))) {
			cli_error("fold %u: the strong model is no better than the weak one", f);
			goto out;
		}
		const struct fit_choice *shown = dims ? &ce : &cf;
		printf("%-5u %9zu %-11s %-6g ", f, n,
		       shown->target == RTR_TARGET_GAIN ? "gain" : "weak wrong", shown->l2);
		if (dims)
			printf("%8.1f%% %8.1f%% %7.4f   ", se.cpt50 * 100, se.cpt80 * 100, se.apgr);
		else
			printf("%27s   ", "");
		printf("%8.1f%% %8.1f%% %7.4f\n", sf.cpt50 * 100, sf.cpt80 * 100, sf.apgr);
		double v[2][3] = { { se.cpt50, se.cpt80, se.apgr },
				   { sf.cpt50, sf.cpt80, sf.apgr } };
		for (int a = 0; a < 2; a++)
			for (int k = 0; k < 3; k++)
				sum[a][k] += v[a][k] / RTR_SPLIT_MOD;
	}
	printf("%-5s %9s %-11s %-6s ", "mean", "", "", "");
	if (dims)
		printf("%8.1f%% %8.1f%% %7.4f   ", sum[0][0] * 100, sum[0][1] * 100, sum[0][2]);
	else
		printf("%27s   ", "");
	printf("%8.1f%% %8.1f%% %7.4f\n", sum[1][0] * 100, sum[1][1] * 100, sum[1][2]);
	printf("random routing: CPT(50%%) 50%%, CPT(80%%) 80%%, APGR 0.5 (expected)\n");
	ret = CLI_OK;
out:
	free(sfull);
	free(sfeat);
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
		ret = cross_validate(&m, emb, dims);
		goto out;
	}
	if ((rc = fit_split(&m, emb, dims, RTR_SPLIT_REM, VAL_REM, c->verbose, &model, &cf, &ce, &n,
			    &npos))) {
		if (rc == MX_EINVAL)
			cli_error("cannot train: the strong model is no better than the weak one "
				  "on the validation subjects (i %% %u == %u)",
				  RTR_SPLIT_MOD, VAL_REM);
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
	printf("  features only:          predicts %s (L2 %g): validation APGR %.4f, "
	       "CPT(50%%) %.1f%%, AUC %.4f\n",
	       rtr_target_name(cf.target), cf.l2, cf.apgr, cf.cpt50 * 100, cf.auc);
	if (e)
		printf("  embedding + features:   predicts %s (L2 %g): validation APGR %.4f, "
		       "CPT(50%%) %.1f%%, AUC %.4f, embedder %s\n",
		       rtr_target_name(ce.target), ce.l2, ce.apgr, ce.cpt50 * 100, ce.auc,
		       eng_embedder_name(e));
	printf("  escalates %.0f%% of questions (memex router calibrate --share X)\n", share * 100);
	printf("  %.1f s\n", cli_now() - t0);
	ret = CLI_OK;
	goto out;
oom:
	cli_error("out of memory");
out:
	rtr_lr_free(model.feat);
	rtr_lr_free(model.full);
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
		printf("%s: escalates %.1f%% of questions: threshold %.4f (features only "
		       "%.4f)\n",
		       path, share * 100,
		       m->full ? rtr_quantile_threshold(m->qfull, share)
			       : rtr_quantile_threshold(m->qfeat, share),
		       rtr_quantile_threshold(m->qfeat, share));
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
	const double *q = m->full ? m->qfull : m->qfeat;
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
		json_object_object_add(o, "share", json_object_new_double(share));
		json_object_object_add(o, "threshold", json_object_new_double(thr));
		json_object_object_add(o, "policy",
				       json_object_new_string(rtr_policy_name(
					       (enum rtr_policy)c->cfg.cloud_policy)));
		cli_json_print(o);
	} else {
		printf("router model: %s\n", path);
		printf("  regressions: features (%zu), predicts %s\n", m->nfeat,
		       rtr_target_name(m->target_feat));
		if (m->full)
			printf("               embedding + features, predicts %s\n",
			       rtr_target_name(m->target_full));
		if (m->full)
			printf("  embedder:    %s (%zu dims)\n", m->fingerprint, m->embed_dims);
		printf("  held out:    MMLU subjects i %% %u == %u\n", m->split_mod, m->split_rem);
		printf("  escalates:   %.1f%% of questions, threshold %.4f%s\n", share * 100, thr,
		       c->cfg.router_share >= 0 || !isnan(c->cfg.router_threshold)
			       ? " (from the configuration)"
			       : "");
		printf("  policy:      %s\n",
		       rtr_policy_name((enum rtr_policy)c->cfg.cloud_policy));
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
