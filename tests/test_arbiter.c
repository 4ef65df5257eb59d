/* test_arbiter.c - the arbiter: privacy signals, policy, the learned score,
 * the router model file, the RouteLLM metrics and the MMLU reader. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "../common/fsutil.h"
#include "../common/status.h"
#include "../router/arbiter.h"
#include "../router/lr.h"
#include "../router/mmlu.h"
#include "harness.h"

/* ---- helpers ---------------------------------------------------------------- */

static unsigned rnd_state = 7;
static double rnd(void) /* uniform in [0, 1) */
{
	rnd_state = rnd_state * 1103515245u + 12345u;
	return (double)(rnd_state >> 8) / (double)(1u << 24);
}

/* A model trained on questions with numbers (label 1: "the cloud helps")
 * and questions of words (label 0), so that it scores arithmetic high; an
 * embedding scorer of dims (noise, and the expected-gain target: on the
 * numbers the weak model is wrong and the strong one right, on the words
 * they agree or the weak one alone is right) when dims. */
static struct rtr_model *toy_model(size_t dims, const char *fp)
{
	static const char *const words[] = { "name", "a",     "colour", "of",	 "the",
					     "sea",  "green", "river",	"house", "quiet" };
	struct rtr_model *m = calloc(1, sizeof *m);
	size_t n = 400, d = dims + RTR_NFEAT;
	float *X = malloc(n * d * sizeof *X), *Xf = malloc(n * RTR_NFEAT * sizeof *Xf);
	unsigned char *y = malloc(n);
	bool *wok = malloc(n * sizeof *wok), *sok = malloc(n * sizeof *sok);
	for (size_t r = 0; r < n; r++) {
		char q[128];
		if (r % 2)
			snprintf(q, sizeof q, "compute %u * %u + %u", (unsigned)(rnd() * 1e6),
				 (unsigned)(rnd() * 1e4), (unsigned)(rnd() * 100));
		else
			snprintf(q, sizeof q, "%s %s %s %s", words[(int)(rnd() * 10)],
				 words[(int)(rnd() * 10)], words[(int)(rnd() * 10)],
				 words[(int)(rnd() * 10)]);
		y[r] = r % 2;
		wok[r] = !y[r];
		sok[r] = y[r] || r % 4 == 0;
		float *x = X + r * d;
		for (size_t i = 0; i < dims; i++)
			x[i] = (float)rnd();
		rtr_text_features(q, x + dims);
		memcpy(Xf + r * RTR_NFEAT, x + dims, RTR_NFEAT * sizeof *Xf);
	}
	struct rtr_lr_params p = rtr_lr_params_default();
	p.l2 = 0.1;
	CHECK_EQ_INT(rtr_lr_train(Xf, y, NULL, n, RTR_NFEAT, &p, &m->feat), 0);
	if (dims)
		CHECK_EQ_INT(rtr_target_train(RTR_TARGET_EXPECTED_GAIN, X, wok, sok, NULL, n, d, &p,
					      &m->full, &m->full_disc),
			     0);
	m->target_full = dims ? RTR_TARGET_EXPECTED_GAIN : 0;
	m->prefer_full = dims > 0;
	m->nfeat = RTR_NFEAT;
	m->embed_dims = dims;
	snprintf(m->fingerprint, sizeof m->fingerprint, "%s", fp ? fp : "");
	m->share = 0.25;
	m->target_feat = RTR_TARGET_WEAK_WRONG;
	double *s = malloc(n * sizeof *s);
	for (size_t r = 0; r < n; r++)
		s[r] = rtr_lr_predict(m->feat, Xf + r * RTR_NFEAT);
	rtr_quantiles(s, n, m->qfeat);
	if (dims) {
		for (size_t r = 0; r < n; r++)
			s[r] = rtr_target_predict(m->target_full, m->full, m->full_disc, X + r * d);
		rtr_quantiles(s, n, m->qfull);
	}
	free(s);
	free(wok);
	free(sok);
	free(X);
	free(Xf);
	free(y);
	return m;
}

static struct rtr_explain decide(const char *q, const struct rtr_hit *h, size_t nh,
				 enum rtr_policy pol)
{
	struct rtr_input in = { .question = q, .bm25 = h, .n_bm25 = nh };
	struct rtr_params p = rtr_params_default();
	p.policy = pol;
	struct rtr_explain ex;
	rtr_decide(&in, &p, &ex);
	return ex;
}

/* ---- logistic regression ------------------------------------------------------ */

static void lr_learns_a_separable_rule(void)
{
	size_t n = 600, d = 5;
	float *X = malloc(n * d * sizeof *X);
	unsigned char *y = malloc(n);
	for (size_t r = 0; r < n; r++) {
		for (size_t i = 0; i < d; i++)
			X[r * d + i] = (float)(rnd() * 10 - 5);
		X[r * d + 4] = 3; /* a constant column must not break training */
		y[r] = X[r * d + 1] - 0.5f * X[r * d + 2] > 0.3f;
	}
	struct rtr_lr_params p = rtr_lr_params_default();
	struct rtr_lr *m = NULL;
	CHECK_EQ_INT(rtr_lr_train(X, y, NULL, n, d, &p, &m), 0);
	double *s = malloc(n * sizeof *s);
	size_t right = 0;
	for (size_t r = 0; r < n; r++) {
		s[r] = rtr_lr_predict(m, X + r * d);
		right += (s[r] >= 0.5) == (y[r] != 0);
	}
	CHECK(right > n * 95 / 100);
	CHECK(rtr_auc(s, y, n) > 0.98);
	CHECK(m->w[1] > 0 && m->w[2] < 0);
	CHECK(fabs(m->w[4]) < 1e-6);
	rtr_lr_free(m);
	rtr_lr_free(NULL);
	free(s);
	free(X);
	free(y);
}

static void lr_refuses_bad_shapes(void)
{
	float x[4] = { 0 };
	unsigned char y[2] = { 0, 1 };
	struct rtr_lr_params p = rtr_lr_params_default();
	struct rtr_lr *m = (struct rtr_lr *)1;
	CHECK_EQ_INT(rtr_lr_train(x, y, NULL, 1, 2, &p, &m), MX_EINVAL);
	CHECK(m == NULL);
	CHECK_EQ_INT(rtr_lr_train(x, y, NULL, 2, 0, &p, &m), MX_EINVAL);
	CHECK_EQ_INT(rtr_lr_train(x, y, NULL, 2, RTR_LR_MAX_DIMS + 1, &p, &m), MX_EINVAL);
}

/* Finite weights whose products overflow both ways give 0.5, not NaN (a
 * damaged model file found by fuzzing). */
static void lr_predict_never_nan(void)
{
	double mean[2] = { 0, 0 }, scale[2] = { 1e-300, 1e-300 }, w[2] = { 1e300, 1e300 };
	struct rtr_lr m = { .d = 2, .mean = mean, .scale = scale, .w = w, .b = 0 };
	const float x[2] = { 1e30f, -1e30f };
	double p = rtr_lr_predict(&m, x);
	CHECK(!isnan(p) && p == 0.5);
	const float y[2] = { 1e30f, 1e30f };
	CHECK(rtr_lr_predict(&m, y) == 1.0);
}

static void auc_counts_ties_half(void)
{
	double s[4] = { 0.9, 0.5, 0.5, 0.1 };
	unsigned char y[4] = { 1, 1, 0, 0 };
	/* pairs (pos, neg): (.9,.5) 1, (.9,.1) 1, (.5,.5) .5, (.5,.1) 1 -> 3.5/4 */
	CHECK(fabs(rtr_auc(s, y, 4) - 0.875) < 1e-12);
	unsigned char y1[4] = { 1, 1, 1, 1 };
	CHECK(rtr_auc(s, y1, 4) == 0.5);
}

static void quantiles_give_the_share(void)
{
	size_t n = 1000;
	double *s = malloc(n * sizeof *s), q[RTR_NQ];
	for (size_t i = 0; i < n; i++)
		s[i] = (double)((i * 7919) % n) / (double)(n - 1); /* 0..1 shuffled */
	rtr_quantiles(s, n, q);
	CHECK(fabs(q[0]) < 1e-12 && fabs(q[100] - 1) < 1e-12);
	CHECK(fabs(rtr_quantile_threshold(q, 0.25) - 0.75) < 1e-9);
	CHECK(fabs(rtr_quantile_threshold(q, 0.105) - 0.895) < 1e-9);
	CHECK(isinf(rtr_quantile_threshold(q, 0)) && rtr_quantile_threshold(q, 0) > 0);
	CHECK(isinf(rtr_quantile_threshold(q, 1)) && rtr_quantile_threshold(q, 1) < 0);
	free(s);
}

/* ---- RouteLLM metrics ------------------------------------------------------------- */

static void route_eval_matches_hand_counts(void)
{
	/* 10 questions: weak right on 0..5, strong right on 0..8. The gap is 3
	 * questions (6, 7, 8). */
	bool w[10], s[10];
	double oracle[10], worst[10];
	for (int i = 0; i < 10; i++) {
		w[i] = i < 6;
		s[i] = i < 9;
		oracle[i] = (i >= 6 && i < 9) ? 1 : 0;
		worst[i] = -oracle[i];
	}
	struct rtr_route_stats st;
	CHECK_EQ_INT(rtr_route_eval(oracle, w, s, 10, &st), 0);
	CHECK(fabs(st.acc_weak - 0.6) < 1e-12 && fabs(st.acc_strong - 0.9) < 1e-12);
	/* oracle: calls 1, 2, 3 recover 1/3, 2/3, 1 */
	CHECK(fabs(st.cpt50 - 0.2) < 1e-12);
	CHECK(fabs(st.cpt80 - 0.3) < 1e-12);
	/* area: trapezoids 1/6,1/2,5/6 of 1/10 each, then 0.7 at PGR 1 */
	CHECK(fabs(st.apgr - (0.1 * (1.0 / 6 + 0.5 + 5.0 / 6) + 0.7)) < 1e-12);
	CHECK(fabs(st.pgr_at[10] - 1) < 1e-12);
	CHECK_EQ_INT(rtr_route_eval(worst, w, s, 10, &st), 0);
	CHECK(fabs(st.cpt50 - 0.9) < 1e-12);
	CHECK(st.apgr < 0.2);
	/* no gap: refused */
	CHECK_EQ_INT(rtr_route_eval(oracle, s, s, 10, &st), MX_EINVAL);
}

static void rank_is_descending_ties_in_order(void)
{
	const double sc[6] = { 0.5, NAN, 0.9, 0.5, -1, 0.9 };
	size_t order[6];
	CHECK_EQ_INT(rtr_rank_desc(sc, 6, order), 0);
	const size_t want[6] = { 2, 5, 0, 3, 4, 1 };
	for (int k = 0; k < 6; k++)
		CHECK_EQ_INT(order[k], want[k]);
	CHECK_EQ_INT(rtr_rank_desc(sc, 0, order), 0);
}

static void random_routing_is_near_linear(void)
{
	size_t n = 20000;
	bool *w = malloc(n * sizeof *w), *s = malloc(n * sizeof *s);
	double *sc = malloc(n * sizeof *sc);
	for (size_t i = 0; i < n; i++) {
		w[i] = rnd() < 0.65;
		s[i] = w[i] || rnd() < 0.5;
		sc[i] = rnd();
	}
	struct rtr_route_stats st;
	CHECK_EQ_INT(rtr_route_eval(sc, w, s, n, &st), 0);
	CHECK(fabs(st.apgr - 0.5) < 0.03);
	CHECK(fabs(st.cpt50 - 0.5) < 0.05);
	free(w);
	free(s);
	free(sc);
}

/* The expected gain ranks the questions where only the strong model is
 * right above those where both are, above those where only the weak one is,
 * while P(weak wrong) cannot tell the first from a question both miss. */
static void expected_gain_ranks_by_the_difference(void)
{
	size_t n = 800, d = 4;
	float *X = malloc(n * d * sizeof *X);
	bool *w = malloc(n * sizeof *w), *s = malloc(n * sizeof *s);
	for (size_t r = 0; r < n; r++) {
		/* 0 strong only, 1 both, 2 weak only, 3 neither; 4 as 0 */
		int kind = (int)(r % 5) % 4;
		for (size_t k = 0; k < d; k++)
			X[r * d + k] = (float)((int)k == kind) + (float)(rnd() * 0.2);
		w[r] = kind == 1 || kind == 2;
		s[r] = kind == 0 || kind == 1;
	}
	/* a little noise so that no class is separable */
	w[7] = !w[7];
	s[10] = !s[10];
	struct rtr_lr_params p = rtr_lr_params_default();
	p.l2 = 0.01;
	struct rtr_lr *lr = NULL, *disc = NULL;
	CHECK_EQ_INT(
		rtr_target_train(RTR_TARGET_EXPECTED_GAIN, X, w, s, NULL, n, d, &p, &lr, &disc), 0);
	CHECK(lr && disc);
	if (lr && disc) {
		double g[4];
		for (int k = 0; k < 4; k++)
			g[k] = rtr_target_predict(RTR_TARGET_EXPECTED_GAIN, lr, disc, X + k * d);
		CHECK(g[0] > 0.5 && g[2] < -0.5);
		CHECK(g[0] > g[1] && g[0] > g[3] && g[1] > g[2] && g[3] > g[2]);
		CHECK(fabs(g[1]) < 0.3 && fabs(g[3]) < 0.3);
		struct rtr_route_stats st;
		double *sc = malloc(n * sizeof *sc);
		for (size_t r = 0; r < n; r++)
			sc[r] = rtr_target_predict(RTR_TARGET_EXPECTED_GAIN, lr, disc, X + r * d);
		CHECK_EQ_INT(rtr_route_eval(sc, w, s, n, &st), 0);
		CHECK(st.cpt50 < 0.2);
		free(sc);
	}
	rtr_lr_free(lr);
	rtr_lr_free(disc);
	/* the other targets need one regression */
	CHECK_EQ_INT(rtr_target_train(RTR_TARGET_WEAK_WRONG, X, w, s, NULL, n, d, &p, &lr, &disc),
		     0);
	CHECK(lr && !disc);
	rtr_lr_free(lr);
	CHECK_EQ_INT(rtr_target_train(RTR_TARGET_COUNT, X, w, s, NULL, n, d, &p, &lr, &disc),
		     MX_EINVAL);
	/* nobody disagrees: nothing to learn the gain from */
	CHECK_EQ_INT(
		rtr_target_train(RTR_TARGET_EXPECTED_GAIN, X, w, w, NULL, n, d, &p, &lr, &disc),
		MX_EINVAL);
	CHECK(!lr && !disc);
	free(X);
	free(w);
	free(s);
}

/* ---- the model file ------------------------------------------------------------------- */

static void model_round_trips_0600(void)
{
	struct rtr_model *m = toy_model(8, "use-lite:8:abc");
	char path[512], err[256];
	snprintf(path, sizeof path, "%s/router.model", test_tmpdir());
	CHECK_EQ_INT(rtr_model_save(m, path, err, sizeof err), 0);
	struct stat sb;
	CHECK(stat(path, &sb) == 0 && (sb.st_mode & 0777) == 0600);
	struct rtr_model *b = NULL;
	CHECK_EQ_INT(rtr_model_load(path, &b, err, sizeof err), 0);
	if (!b)
		goto out;
	CHECK_STR(b->fingerprint, "use-lite:8:abc");
	CHECK_EQ_INT(b->embed_dims, 8);
	CHECK(b->full != NULL);
	float emb[8] = { 0.1f, 0.2f, 0.3f, 0.4f, 0.5f, 0.6f, 0.7f, 0.8f };
	const char *k1, *k2;
	double s1 = rtr_model_score(m, "what is 12 * 34?", emb, 8, &k1);
	double s2 = rtr_model_score(b, "what is 12 * 34?", emb, 8, &k2);
	CHECK(s1 == s2);
	CHECK_STR(k1, "embedding+features");
	CHECK(b->qfull[50] == m->qfull[50] && b->share == 0.25);
	CHECK_EQ_INT(b->target_feat, RTR_TARGET_WEAK_WRONG);
	CHECK_EQ_INT(b->target_full, RTR_TARGET_EXPECTED_GAIN);
	CHECK(b->full_disc != NULL && b->feat_disc == NULL && b->prefer_full);
	CHECK_STR(rtr_target_name(b->target_feat), "weak wrong");
	CHECK_STR(rtr_target_name(RTR_TARGET_EXPECTED_GAIN), "expected gain");
	/* either scorer on demand, whatever the model prefers */
	CHECK(rtr_model_score_part(b, true, "what is 12 * 34?", emb, 8) == s2);
	CHECK(isnan(rtr_model_score_part(b, true, "what is 12 * 34?", NULL, 0)));
	double sf = rtr_model_score_part(b, false, "what is 12 * 34?", NULL, 0);
	CHECK(sf > 0 && sf < 1);
	/* a model that prefers its features scorer uses it despite an embedding */
	b->prefer_full = false;
	CHECK(rtr_model_score(b, "what is 12 * 34?", emb, 8, &k2) == sf);
	CHECK_STR(k2, "features");
	CHECK_STR(rtr_target_name(9), "?");
out:
	rtr_model_free(b);
	rtr_model_free(m);
	rtr_model_free(NULL);
}

static void model_refuses_damage(void)
{
	struct rtr_model *m = toy_model(4, "fp");
	char path[512], err[256];
	snprintf(path, sizeof path, "%s/dmg.model", test_tmpdir());
	CHECK_EQ_INT(rtr_model_save(m, path, err, sizeof err), 0);
	char *data = NULL;
	size_t len = 0;
	CHECK_EQ_INT(mx_read_file(path, RTR_MODEL_MAX_BYTES, &data, &len), 0);
	struct rtr_model *b = NULL;
	/* every truncation is refused */
	size_t bad = 0;
	for (size_t k = 0; k < len; k++) {
		int rc = rtr_model_parse((unsigned char *)data, k, &b, err, sizeof err);
		bad += rc == MX_ECORRUPT && b == NULL;
		rtr_model_free(b);
		b = NULL;
	}
	CHECK_EQ_INT(bad, len);
	unsigned char *c = malloc(len + 1);
	memcpy(c, data, len);
	c[len] = 0; /* a trailing byte */
	CHECK_EQ_INT(rtr_model_parse(c, len + 1, &b, err, sizeof err), MX_ECORRUPT);
	c[8] = RTR_MODEL_VERSION + 1; /* a newer version */
	CHECK_EQ_INT(rtr_model_parse(c, len, &b, err, sizeof err), MX_ENEWER);
	for (unsigned char v = 1; v < RTR_MODEL_VERSION; v++) {
		/* older versions: refused with a hint to train again */
		c[8] = v;
		CHECK_EQ_INT(rtr_model_parse(c, len, &b, err, sizeof err), MX_ENEWER);
		CHECK(strstr(err, "train") != NULL);
	}
	c[8] = RTR_MODEL_VERSION;
	/* an unknown target (after magic, version, nfeat, dims, fp "fp", split, share) */
	size_t toff = 8 + 4 + 4 + 4 + 4 + 2 + 4 + 4 + 8;
	CHECK(c[toff] == RTR_TARGET_WEAK_WRONG);
	c[toff] = RTR_TARGET_COUNT;
	CHECK_EQ_INT(rtr_model_parse(c, len, &b, err, sizeof err), MX_ECORRUPT);
	c[toff] = RTR_TARGET_WEAK_WRONG;
	/* prefer_full (after target_full) is 0 or 1 */
	CHECK(c[toff + 8] == 1);
	c[toff + 8] = 2;
	CHECK_EQ_INT(rtr_model_parse(c, len, &b, err, sizeof err), MX_ECORRUPT);
	c[toff + 8] = 1;
	/* the expected gain without its second regression */
	c[toff + 4] = RTR_TARGET_WEAK_WRONG;
	CHECK_EQ_INT(rtr_model_parse(c, len, &b, err, sizeof err), MX_ECORRUPT);
	c[toff + 4] = RTR_TARGET_EXPECTED_GAIN;
	CHECK_EQ_INT(rtr_model_parse(c, len, &b, err, sizeof err), 0);
	rtr_model_free(b);
	b = NULL;
	memset(c + len - 8, 0xff, 8); /* the bias a NaN */
	CHECK_EQ_INT(rtr_model_parse(c, len, &b, err, sizeof err), MX_ECORRUPT);
	CHECK(b == NULL);
	CHECK_EQ_INT(rtr_model_load("/nonexistent/router.model", &b, err, sizeof err),
		     MX_ENOTFOUND);
	free(c);
	free(data);
	rtr_model_free(m);
}

static void model_of_another_embedder_is_refused(void)
{
	struct rtr_model *m = toy_model(4, "use-lite:4:aaaa");
	float emb[4] = { 1, 0, 0, 0 };
	struct rtr_input in = { .question = "what is the capital of France?",
				.embedding = emb,
				.dims = 4,
				.fingerprint = "bert:4:bbbb" };
	struct rtr_params p = rtr_params_default();
	p.policy = RTR_POLICY_AUTO;
	p.local_model = true;
	p.model = m;
	struct rtr_explain ex;
	rtr_decide(&in, &p, &ex);
	CHECK(ex.reasons & RTR_R_MODEL_REFUSED);
	CHECK_STR(ex.scorer, "features");
	in.fingerprint = "use-lite:4:aaaa";
	rtr_decide(&in, &p, &ex);
	CHECK(!(ex.reasons & RTR_R_MODEL_REFUSED));
	CHECK_STR(ex.scorer, "embedding+features");
	in.embedding = NULL; /* no embedder: features only, no refusal */
	rtr_decide(&in, &p, &ex);
	CHECK_STR(ex.scorer, "features");
	CHECK(!(ex.reasons & RTR_R_MODEL_REFUSED));
	rtr_model_free(m);
}

/* ---- the decision ------------------------------------------------------------------ */

static void private_questions_stay_local_under_auto(void)
{
	static const char *const qs[] = {
		"when is my dentist appointment?",     "When did I last see the landlord?",
		"what did we decide about the budget", "Where are our passports?",
		"I’m looking for the invoice", /* U+2019 apostrophe */
	};
	for (size_t i = 0; i < sizeof qs / sizeof qs[0]; i++) {
		struct rtr_explain ex = decide(qs[i], NULL, 0, RTR_POLICY_AUTO);
		CHECK(ex.private_q);
		CHECK(ex.reasons & RTR_R_FIRST_PERSON);
		CHECK_EQ_INT(ex.decision, RTR_LOCAL);
		CHECK(strstr(ex.why, "your own data") != NULL);
	}
}

/* A proper name of the question that the retrieved passages (or their
 * titles) hold makes it private even when nothing else does; common words,
 * acronyms, sentence-initial capitals and names the index lacks do not. */
static void names_in_the_index_are_private(void)
{
	struct rtr_hit h[3] = {
		{ .doc_id = 1,
		  .score = 5,
		  .text = "Tickets for the Nordic Strings concert at Hamnhallen, row 7. Erik "
			  "drives. Both parties to this lease agree.",
		  .path = "/home/u/notes/concert.md",
		  .source_path = "/home/u/notes" },
		{ .doc_id = 2,
		  .score = 4,
		  .text = "we left at 14:00 and swished the food money",
		  .title = "Re: Cabin weekend on Orust",
		  .path = "/home/u/Mail/cur/2:2,S",
		  .source_path = "/home/u/Mail" },
		{ .doc_id = 3,
		  .score = 3,
		  .text = "NASA and the france trip; a quiet grid of streets. Winter in Lisbon.",
		  .path = "/home/u/notes/trip.md",
		  .source_path = "/home/u/notes" },
	};
	static const struct {
		const char *q, *name; /* name: expected, or NULL for none */
	} cases[] = {
		{ "Who conducts the Nordic Strings concert?", "nordic strings" },
		{ "When is Erik's wedding?", "erik" },
		{ "Where does the key to Orust hide?", "orust" }, /* from a title */
		{ "How long is the drive to Hamnhallen from here?", "hamnhallen" },
		/* not names of the user's world */
		{ "Nordic countries have long winters, right?", NULL }, /* sentence start */
		{ "When did the Parties sign?", NULL },		 /* lower-case in the index */
		{ "Who founded NASA?", NULL },			 /* an acronym */
		{ "What is the capital of France?", NULL },	 /* a common word */
		{ "Who wrote the novel Quiet Winter?", NULL },	 /* not the index's run */
		{ "Who discovered Neptune?", NULL },		 /* not in the index */
		{ "When did Lisbon become the capital?", NULL }, /* a common word */
	};
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		struct rtr_explain ex = decide(cases[i].q, h, 3, RTR_POLICY_AUTO);
		if (cases[i].name) {
			CHECK(ex.reasons & RTR_R_INDEX_NAME);
			CHECK_STR(ex.name, cases[i].name);
			CHECK(ex.private_q);
			CHECK_EQ_INT(ex.decision, RTR_LOCAL);
			CHECK(strstr(ex.why, "your own data") != NULL);
		} else {
			CHECK(!(ex.reasons & RTR_R_INDEX_NAME));
			CHECK_STR(ex.name, "");
		}
	}
	/* without passages there is nothing to find */
	struct rtr_explain ex =
		decide("Who conducts the Nordic Strings concert?", NULL, 0, RTR_POLICY_AUTO);
	CHECK(!ex.private_q);
}

static void general_questions_may_go_out(void)
{
	static const char *const qs[] = {
		"what is the boiling point of water at altitude?",
		"How do I convert Celsius to Fahrenheit?",
		"how can we estimate the age of the universe",
		"Who wrote The Magic Mountain?",
	};
	for (size_t i = 0; i < sizeof qs / sizeof qs[0]; i++) {
		struct rtr_explain ex = decide(qs[i], NULL, 0, RTR_POLICY_AUTO);
		CHECK(!ex.private_q);
		CHECK_EQ_INT(ex.decision, RTR_ESCALATE);
		CHECK(ex.reasons & RTR_R_NOT_COVERED);
		/* the default policy keeps them home */
		ex = decide(qs[i], NULL, 0, RTR_POLICY_NEVER);
		CHECK_EQ_INT(ex.decision, RTR_LOCAL);
		CHECK(ex.reasons & RTR_R_POLICY);
	}
}

static void contacts_folders_and_strong_hits_are_private(void)
{
	struct rtr_hit h[2] = {
		{ .doc_id = 1,
		  .score = 7,
		  .text = "The cabin key is under the blue pot.",
		  .author = "Anna Lindqvist <anna@example.org>",
		  .path = "/home/u/Mail/.Travel/cur/1:2,S",
		  .source_path = "/home/u/Mail" },
		{ .doc_id = 2,
		  .score = 3,
		  .text = "Weekly notes",
		  .path = "/home/u/notes/a.md",
		  .source_path = "/home/u/notes" },
	};
	struct rtr_explain ex = decide("what did Anna say about the ferry", h, 2, RTR_POLICY_AUTO);
	CHECK(ex.reasons & RTR_R_CONTACT);
	CHECK_STR(ex.contact, "anna");
	CHECK_EQ_INT(ex.decision, RTR_LOCAL);
	ex = decide("anything in travel about flights", h, 2, RTR_POLICY_AUTO);
	CHECK(ex.reasons & RTR_R_FOLDER);
	CHECK_STR(ex.folder, "travel");
	CHECK_EQ_INT(ex.decision, RTR_LOCAL);
	/* cur/new/tmp and the file name are not folders */
	ex = decide("what is new in cosmology", h, 2, RTR_POLICY_AUTO);
	CHECK(!(ex.reasons & RTR_R_FOLDER));
	ex = decide("where is the cabin key?", h, 2, RTR_POLICY_AUTO);
	CHECK(ex.reasons & RTR_R_STRONG_HIT);
	CHECK(ex.coverage >= 0.99);
	CHECK_EQ_INT(ex.decision, RTR_LOCAL);
	/* a weak overlap is not a strong hit, and the passages do not cover it */
	ex = decide("how heavy is a blue whale", h, 2, RTR_POLICY_AUTO);
	CHECK(!ex.private_q);
	CHECK_EQ_INT(ex.decision, RTR_ESCALATE);
}

static void senders_found_by_name_are_contacts(void)
{
	char names[8][48];
	size_t n = rtr_name_candidates("What did Anna say about the 2 boats? Anna's?", names, 8);
	CHECK_EQ_INT(n, 3); /* anna, say, boats; "anna's" and numbers dropped */
	CHECK_STR(names[0], "anna");
	CHECK_STR(names[2], "boats");
	/* from:anna also finds Hanna: only whole words of the name part count */
	struct rtr_hit people[2] = { { .doc_id = 1, .author = "Hanna Wiklund" },
				     { .doc_id = 2,
				       .author = "Anna Nystr\xc3\xb6m <anna@example.com>" } };
	struct rtr_input in = { .question = "what did anna say about example.com",
				.people = people,
				.n_people = 1 };
	struct rtr_params p = rtr_params_default();
	p.policy = RTR_POLICY_AUTO;
	struct rtr_explain ex;
	rtr_decide(&in, &p, &ex);
	CHECK(!(ex.reasons & RTR_R_CONTACT));
	CHECK_EQ_INT(ex.decision, RTR_ESCALATE);
	in.n_people = 2;
	rtr_decide(&in, &p, &ex);
	CHECK(ex.reasons & RTR_R_CONTACT);
	CHECK_STR(ex.contact, "anna");
	CHECK_EQ_INT(ex.decision, RTR_LOCAL);
	/* the domain of an address is no name; the whole address is */
	in.question = "is example.com a real domain";
	rtr_decide(&in, &p, &ex);
	CHECK(!(ex.reasons & RTR_R_CONTACT));
	in.question = "who is ANNA@example.com";
	rtr_decide(&in, &p, &ex);
	CHECK(ex.reasons & RTR_R_CONTACT);
	/* the local answer's outcome decides without a chat model */
	in.question = "how tall is mount everest";
	in.local = RTR_LOCAL_ANSWERED;
	rtr_decide(&in, &p, &ex);
	CHECK_EQ_INT(ex.decision, RTR_LOCAL);
	CHECK(ex.reasons & RTR_R_COVERED);
	in.local = RTR_LOCAL_ABSTAINED;
	rtr_decide(&in, &p, &ex);
	CHECK_EQ_INT(ex.decision, RTR_ESCALATE);
}

static void never_send_sources_block(void)
{
	struct rtr_hit h = { .doc_id = 5,
			     .score = 1,
			     .text = "quarterly revenue figures",
			     .path = "/data/work/q3.md",
			     .source_path = "/data/work" };
	const char *const blocked[] = { "/data/work" };
	struct rtr_input in = { .question = "what is a good revenue growth rate",
				.bm25 = &h,
				.n_bm25 = 1 };
	struct rtr_params p = rtr_params_default();
	p.policy = RTR_POLICY_AUTO;
	struct rtr_explain ex;
	rtr_decide(&in, &p, &ex);
	CHECK_EQ_INT(ex.decision, RTR_ESCALATE);
	p.never_send = blocked;
	p.n_never_send = 1;
	rtr_decide(&in, &p, &ex);
	CHECK(ex.reasons & RTR_R_NEVER_SEND);
	CHECK_STR(ex.source, "/data/work");
	CHECK_EQ_INT(ex.decision, RTR_LOCAL);
	CHECK(rtr_path_within("/data/work/x", "/data/work/"));
	CHECK(!rtr_path_within("/data/workshop/x", "/data/work"));
	CHECK(rtr_path_within("/x", "/"));
}

static void learned_score_and_draft_decide_with_a_local_model(void)
{
	struct rtr_model *m = toy_model(0, NULL);
	struct rtr_input in = { .question = "compute 123456 * 789 + 42" };
	struct rtr_params p = rtr_params_default();
	p.policy = RTR_POLICY_AUTO;
	p.local_model = true;
	p.model = m;
	p.share = 0.5; /* half the toy questions have numbers */
	struct rtr_explain ex;
	rtr_decide(&in, &p, &ex);
	CHECK_STR(ex.scorer, "features");
	CHECK(ex.feat[RTR_F_DIGITS] > 0.3f);
	CHECK(ex.score > 0.9);
	CHECK(ex.score >= ex.threshold);
	CHECK_EQ_INT(ex.decision, RTR_ESCALATE);
	CHECK(ex.reasons & RTR_R_SCORE_HIGH);
	in.question = "name a colour";
	rtr_decide(&in, &p, &ex);
	CHECK_EQ_INT(ex.decision, RTR_LOCAL);
	CHECK(ex.reasons & RTR_R_SCORE_LOW);
	CHECK(ex.score < 0.1);
	/* a share of 0 sends nothing, a fixed threshold of 0 everything */
	in.question = "compute 123456 * 789 + 42";
	p.share = 0;
	rtr_decide(&in, &p, &ex);
	CHECK_EQ_INT(ex.decision, RTR_LOCAL);
	p.threshold = 0;
	in.question = "name a colour";
	rtr_decide(&in, &p, &ex);
	CHECK_EQ_INT(ex.decision, RTR_ESCALATE);
	/* a confident draft stays */
	in.has_draft = true;
	in.draft_logprob = -0.1;
	rtr_decide(&in, &p, &ex);
	CHECK_EQ_INT(ex.decision, RTR_LOCAL);
	CHECK(ex.reasons & RTR_R_DRAFT_OK);
	/* a local answer from the index stays, whatever the score */
	in.has_draft = false;
	in.local = RTR_LOCAL_ANSWERED;
	rtr_decide(&in, &p, &ex);
	CHECK_EQ_INT(ex.decision, RTR_LOCAL);
	CHECK(ex.reasons & RTR_R_COVERED);
	in.local = RTR_LOCAL_ABSTAINED;
	rtr_decide(&in, &p, &ex);
	CHECK_EQ_INT(ex.decision, RTR_ESCALATE);
	/* without a model: local */
	p.model = NULL;
	p.threshold = NAN;
	rtr_decide(&in, &p, &ex);
	CHECK_EQ_INT(ex.decision, RTR_LOCAL);
	CHECK(ex.reasons & RTR_R_NO_MODEL);
	rtr_model_free(m);
}

static void retrieval_confidence_signals(void)
{
	struct rtr_hit b[3] = { { .doc_id = 1, .score = 10, .text = "alpha beta" },
				{ .doc_id = 2, .score = 6, .text = "beta" },
				{ .doc_id = 3, .score = 1, .text = "gamma" } };
	struct rtr_hit d[2] = { { .doc_id = 2, .score = 0.41 }, { .doc_id = 9, .score = 0.30 } };
	struct rtr_input in = { .question = "alpha beta gamma delta",
				.bm25 = b,
				.n_bm25 = 3,
				.dense = d,
				.n_dense = 2 };
	struct rtr_params p = rtr_params_default();
	struct rtr_explain ex;
	rtr_decide(&in, &p, &ex);
	CHECK(fabs(ex.top_bm25 - 10) < 1e-12);
	CHECK(fabs(ex.margin_bm25 - 0.4) < 1e-12);
	CHECK(fabs(ex.top_dense - 0.41) < 1e-6);
	CHECK(fabs(ex.margin_dense - 0.11) < 1e-6);
	CHECK(fabs(ex.agreement - 0.5) < 1e-12); /* doc 2 of min(3, 2) */
	CHECK(fabs(ex.coverage - 0.5) < 1e-12);
	CHECK_EQ_INT(ex.content_words, 4);
	CHECK(!(ex.reasons & RTR_R_STRONG_HIT));
	/* a close vector hit that both legs rank first is strong */
	d[0].doc_id = 1;
	d[0].score = 0.8;
	rtr_decide(&in, &p, &ex);
	CHECK(ex.reasons & RTR_R_STRONG_HIT);
}

static void features_of_text(void)
{
	float f[RTR_NFEAT];
	rtr_text_features("Calculate 2+2. Why?", f);
	CHECK(f[RTR_F_DIGITS] > 0.09f && f[RTR_F_DIGITS] < 0.11f);
	CHECK(f[RTR_F_MATH] > 0);
	CHECK(f[RTR_F_COMPUTE] > 0 && f[RTR_F_REASON] > 0);
	CHECK(fabsf(f[RTR_F_LOG_SENTENCES] - (float)log1p(2)) < 1e-6f);
	rtr_text_features("", f);
	CHECK(f[RTR_F_LOG_CHARS] == 0 && f[RTR_F_MEAN_WORD] == 0);
	rtr_text_features(NULL, f);
	CHECK(f[RTR_F_LOG_WORDS] == 0);
	CHECK(f[RTR_F_LOG_STEM] == 0 && f[RTR_F_LOG_OPTION] == 0 && f[RTR_F_WHICH_FOLLOWING] == 0);
	/* a multiple-choice question */
	rtr_text_features("Which of the following is prime?\nA. 4\nB. 9\nC. 11\nD. none of "
			  "these\nAnswer:",
			  f);
	CHECK(f[RTR_F_WHICH_FOLLOWING] == 1 && f[RTR_F_STATEMENTS] == 0);
	CHECK(fabsf(f[RTR_F_LOG_STEM] - (float)log1p(32)) < 1e-5f);
	CHECK(fabsf(f[RTR_F_NUMERIC_OPTION] - 0.75f) < 1e-6f);
	/* options " 4", " 9", " 11", " none of these": mean 21 / 4 bytes */
	CHECK(fabsf(f[RTR_F_LOG_OPTION] - (float)log1p(21.0 / 4)) < 1e-5f);
	CHECK(fabsf(f[RTR_F_OPTION_SPREAD] - (float)(log1p(14) - log1p(2))) < 1e-5f);
	rtr_text_features("Statement 1 | x. Statement 2 | y.\nA. True, True\nB. False, False", f);
	CHECK(f[RTR_F_STATEMENTS] == 1 && f[RTR_F_PAIRED_VERDICTS] == 1);
	/* options begin a line, from A: "A." inside a line and a list from B
	 * are none */
	rtr_text_features("Is it so? See A. Smith.\nB. yes\nC. no", f);
	CHECK(f[RTR_F_LOG_STEM] == 0 && f[RTR_F_LOG_OPTION] == 0);
	CHECK_STR(rtr_feature_name(RTR_F_PAIRED_VERDICTS), "paired_verdicts");
	CHECK_STR(rtr_feature_name(RTR_F_DIGITS), "digits");
	CHECK_STR(rtr_feature_name(99), "?");
	enum rtr_policy pol;
	CHECK_EQ_INT(rtr_policy_parse("ask", &pol), 0);
	CHECK_EQ_INT(pol, RTR_POLICY_ASK);
	CHECK_EQ_INT(rtr_policy_parse("always", &pol), MX_EINVAL);
	CHECK_STR(rtr_policy_name(RTR_POLICY_AUTO), "auto");
}

/* ---- the MMLU reader ----------------------------------------------------------------- */

static void mmlu_csv_parses_quotes_and_lines(void)
{
	static const char csv[] = "prompt,weak,strong\r\n"
				  "\"What is \"\"x\"\"?\nA. 1\nAnswer:\",True,False\r\n"
				  "plain,False,True\n"
				  "\n"
				  "\"last, no newline\",False,False";
	struct rtr_mmlu m = { 0 };
	char err[200];
	CHECK_EQ_INT(rtr_mmlu_parse_csv(csv, sizeof csv - 1, 3, &m, err, sizeof err), 0);
	CHECK_EQ_INT(m.n, 3);
	if (m.n == 3) {
		CHECK_STR(m.items[0].prompt, "What is \"x\"?\nA. 1\nAnswer:");
		CHECK(m.items[0].weak_ok && !m.items[0].strong_ok);
		CHECK_STR(m.items[1].prompt, "plain");
		CHECK(!m.items[1].weak_ok && m.items[1].strong_ok);
		CHECK_STR(m.items[2].prompt, "last, no newline");
		CHECK_EQ_INT(m.items[2].subject, 3);
	}
	rtr_mmlu_free(&m);
	static const char *const bad[] = {
		"h,h,h\n\"open,True,True\n", "h,h,h\nx,Yes,True\n",	  "h,h,h\nx,True\n",
		"h,h,h\nx,True,True,True\n", "h,h,h\n\"x\"y,True,True\n", "h,h,h\nx\"y,True,True\n",
	};
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		err[0] = '\0';
		CHECK_EQ_INT(rtr_mmlu_parse_csv(bad[i], strlen(bad[i]), 0, &m, err, sizeof err),
			     MX_ECORRUPT);
		CHECK(strstr(err, "line 2") != NULL);
		rtr_mmlu_free(&m);
	}
}

static void mmlu_loads_the_shared_set(void)
{
	const char *sh = test_shared();
	if (!sh) {
		printf("skip: ../shared is absent\n");
		return;
	}
	char dir[1024], err[512];
	snprintf(dir, sizeof dir, "%s/data/router/routellm-mmlu", sh);
	struct rtr_mmlu m = { 0 };
	CHECK_EQ_INT(rtr_mmlu_load(dir, &m, err, sizeof err), 0);
	CHECK_EQ_INT(m.nsubjects, 57);
	/* 14,042 prompts, five of them contaminated (RouteLLM's list) */
	CHECK_EQ_INT(m.n + m.dropped, 14042);
	CHECK_EQ_INT(m.dropped, 5);
	size_t held = 0, gap = 0;
	for (size_t i = 0; i < m.n; i++) {
		held += rtr_mmlu_heldout(m.items[i].subject, RTR_SPLIT_MOD, RTR_SPLIT_REM);
		gap += !m.items[i].weak_ok && m.items[i].strong_ok;
	}
	CHECK(held > 2000 && held < 5000);
	CHECK(gap > 2400 && gap <= 2497);
	CHECK_STR(m.subjects[0], "abstract_algebra");
	rtr_mmlu_free(&m);
	CHECK_EQ_INT(rtr_mmlu_load("/nonexistent", &m, err, sizeof err), MX_ENOTFOUND);
}

/* The draft rule: at or above draft_confident the question stays; below,
 * the learned score decides; privacy and policy come first. */
static void draft_confidence_rule(void)
{
	struct rtr_model *m = toy_model(0, NULL);
	struct rtr_input in = { .question = "compute 123456 * 789 + 42",
				.local = RTR_LOCAL_ABSTAINED };
	struct rtr_params p = rtr_params_default();
	CHECK(p.draft_confident < 0 && p.draft_confident > -5);
	p.policy = RTR_POLICY_AUTO;
	p.local_model = true;
	p.model = m;
	p.share = 0.5;
	struct rtr_explain ex;
	/* the score says escalate */
	rtr_decide(&in, &p, &ex);
	CHECK_EQ_INT(ex.decision, RTR_ESCALATE);
	CHECK(!ex.has_draft);
	/* exactly at the threshold: confident */
	in.has_draft = true;
	in.draft_logprob = p.draft_confident;
	in.draft_entropy = 1.25;
	rtr_decide(&in, &p, &ex);
	CHECK_EQ_INT(ex.decision, RTR_LOCAL);
	CHECK(ex.reasons & RTR_R_DRAFT_OK);
	CHECK(!(ex.reasons & (RTR_R_SCORE_HIGH | RTR_R_SCORE_LOW)));
	CHECK(ex.has_draft);
	CHECK(ex.draft_logprob == p.draft_confident);
	CHECK(ex.draft_entropy == 1.25);
	CHECK(strstr(ex.why, "draft") != NULL);
	/* just below: the learned score decides again */
	in.draft_logprob = p.draft_confident - 0.01;
	rtr_decide(&in, &p, &ex);
	CHECK_EQ_INT(ex.decision, RTR_ESCALATE);
	CHECK(!(ex.reasons & RTR_R_DRAFT_OK));
	CHECK(ex.reasons & RTR_R_SCORE_HIGH);
	/* a stricter threshold turns the same draft down */
	in.draft_logprob = -0.2;
	p.draft_confident = -0.1;
	rtr_decide(&in, &p, &ex);
	CHECK_EQ_INT(ex.decision, RTR_ESCALATE);
	p.draft_confident = -0.35;
	/* a confident draft of a private question: private wins (and it
	 * stays); under policy never the policy is the reason */
	in.question = "what did my dentist say";
	rtr_decide(&in, &p, &ex);
	CHECK_EQ_INT(ex.decision, RTR_LOCAL);
	CHECK(ex.private_q);
	CHECK(!(ex.reasons & RTR_R_DRAFT_OK));
	in.question = "compute 123456 * 789 + 42";
	p.policy = RTR_POLICY_NEVER;
	in.draft_logprob = -3;
	rtr_decide(&in, &p, &ex);
	CHECK_EQ_INT(ex.decision, RTR_LOCAL);
	CHECK(ex.reasons & RTR_R_POLICY);
	rtr_model_free(m);
}

static const struct test_case tests[] = {
	TEST(lr_learns_a_separable_rule),
	TEST(lr_refuses_bad_shapes),
	TEST(lr_predict_never_nan),
	TEST(auc_counts_ties_half),
	TEST(quantiles_give_the_share),
	TEST(route_eval_matches_hand_counts),
	TEST(rank_is_descending_ties_in_order),
	TEST(random_routing_is_near_linear),
	TEST(expected_gain_ranks_by_the_difference),
	TEST(model_round_trips_0600),
	TEST(model_refuses_damage),
	TEST(model_of_another_embedder_is_refused),
	TEST(private_questions_stay_local_under_auto),
	TEST(names_in_the_index_are_private),
	TEST(general_questions_may_go_out),
	TEST(contacts_folders_and_strong_hits_are_private),
	TEST(senders_found_by_name_are_contacts),
	TEST(never_send_sources_block),
	TEST(learned_score_and_draft_decide_with_a_local_model),
	TEST(draft_confidence_rule),
	TEST(retrieval_confidence_signals),
	TEST(features_of_text),
	TEST(mmlu_csv_parses_quotes_and_lines),
	TEST(mmlu_loads_the_shared_set),
};

TEST_MAIN(tests)
