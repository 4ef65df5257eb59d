/*
 * test_draft.c - the confidence of generated tokens (struct eng_gen_stats,
 * chat_stats' n_scored / sum_logprob / sum_entropy): the formula on hand
 * cases, and the generation loop against a direct computation from the
 * logits of the random-weight qwen2 fixture.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../common/status.h"
#include "../engine/chat.h"
#include "../engine/llm.h"
#include "harness.h"

static bool near(double a, double b, double tol)
{
	return fabs(a - b) <= tol;
}

/* Uniform, one-hot-ish and a hand case. */
static void logits_stats_by_hand(void)
{
	float u[4] = { 2, 2, 2, 2 };
	double lp, h;
	eng_logits_stats(u, 4, 1, &lp, &h);
	CHECK(near(lp, -log(4.0), 1e-9));
	CHECK(near(h, log(4.0), 1e-9));
	/* [0, ln 3]: p = 1/4, 3/4 */
	float v[2] = { 0, (float)log(3.0) };
	eng_logits_stats(v, 2, 1, &lp, &h);
	CHECK(near(lp, log(0.75), 1e-6));
	CHECK(near(h, -(0.25 * log(0.25) + 0.75 * log(0.75)), 1e-6));
	eng_logits_stats(v, 2, 0, &lp, &h);
	CHECK(near(lp, log(0.25), 1e-6));
	/* a huge gap: no overflow, entropy near 0, the favourite near log 1 */
	float w[3] = { 1000, -1000, 0 };
	eng_logits_stats(w, 3, 0, &lp, &h);
	CHECK(isfinite(lp) && near(lp, 0, 1e-9));
	CHECK(h >= 0 && h < 1e-9);
	eng_logits_stats(w, 3, 1, &lp, &h);
	CHECK(isfinite(lp) && near(lp, -2000, 1e-6));
	/* a token out of range */
	eng_logits_stats(w, 3, 3, &lp, &h);
	CHECK(isinf(lp) && lp < 0);
}

/* Generation with stats on the fixture = the same sums computed here from
 * the logits of a token-by-token decode. */
static void generate_stats_match_the_logits(void)
{
	char path[4096];
	if (!test_fixture(path, sizeof path, "llama/qwen2-s-f16.gguf"))
		return;
	struct eng_llm_params lp = eng_llm_params_default();
	lp.n_ctx = 128;
	lp.threads = 1;
	struct eng_llm *m = NULL;
	char err[256] = "";
	if (!CHECK_EQ_INT(eng_llm_open(path, &lp, &m, err, sizeof err), 0)) {
		printf("    %s\n", err);
		return;
	}
	int nv = eng_llm_n_vocab(m);
	struct eng_sampler_params sp = eng_sampler_params_default();
	sp.temperature = 0;
	struct eng_sampler *s = NULL;
	CHECK_EQ_INT(eng_sampler_new(&sp, nv, &s), 0);
	const int32_t prompt[] = { 1, 17, 42, 99, 7 };
	int32_t out[16];
	size_t n_out = 0;
	enum eng_stop why;
	struct eng_gen_stats gs = { 99, 1, 1 };
	struct eng_gen_params gp = eng_gen_params_default();
	gp.max_tokens = 6;
	gp.stop = out; /* no stop token: n_stop 0 */
	gp.n_stop = 0;
	gp.stats = &gs;
	CHECK_EQ_INT(eng_llm_generate(m, s, prompt, 5, &gp, out, 16, &n_out, &why), 0);
	CHECK_EQ_INT(n_out, 6);
	CHECK_EQ_INT(gs.n_tokens, n_out);
	/* the direct computation */
	eng_llm_reset(m);
	const float *logits;
	double slp = 0, sh = 0;
	CHECK_EQ_INT(eng_llm_decode(m, prompt, 5, &logits), 0);
	for (size_t i = 0; i < n_out; i++) {
		double lmax = -INFINITY, z = 0, h = 0;
		int32_t best = 0;
		for (int j = 0; j < nv; j++)
			if (logits[j] > lmax) {
				lmax = logits[j];
				best = j;
			}
		CHECK_EQ_INT(best, out[i]); /* greedy */
		for (int j = 0; j < nv; j++)
			z += exp(logits[j] - lmax);
		for (int j = 0; j < nv; j++) {
			double pj = exp(logits[j] - lmax) / z;
			if (pj > 0)
				h -= pj * log(pj);
		}
		slp += logits[out[i]] - lmax - log(z);
		sh += h;
		CHECK_EQ_INT(eng_llm_decode(m, &out[i], 1, &logits), 0);
	}
	printf("    mean log-prob %.4f (direct %.4f), mean entropy %.4f (direct %.4f)\n",
	       gs.sum_logprob / 6, slp / 6, gs.sum_entropy / 6, sh / 6);
	CHECK(near(gs.sum_logprob, slp, 1e-6 * (1 + fabs(slp))));
	CHECK(near(gs.sum_entropy, sh, 1e-6 * (1 + sh)));
	CHECK(gs.sum_logprob <= 0 && gs.sum_entropy >= 0);
	/* entropy is at most log(vocab) per token */
	CHECK(gs.sum_entropy <= 6 * log((double)nv) + 1e-9);
	eng_sampler_free(s);
	eng_llm_close(m);
}

/* chat_reply reports the same kind of statistics, and a shorter
 * max_tokens set for one reply is honoured and restored. */
static void chat_reply_reports_confidence(void)
{
	struct chat *c = test_fixture_chat(256, 20);
	if (!c) {
		printf("    skip: no ../shared fixture\n");
		return;
	}
	struct chat_session *s = NULL;
	CHECK_EQ_INT(chat_session_new(&s), 0);
	CHECK_EQ_INT(chat_session_add(s, CHAT_ROLE_USER, "What is the capital of Norway?", 30), 0);
	CHECK_EQ_INT(chat_set_max_tokens(c, 5), 20);
	struct chat_stats st;
	memset(&st, 0xff, sizeof st);
	char *reply = NULL;
	CHECK_EQ_INT(chat_reply(c, s, NULL, NULL, &reply, NULL, &st), 0);
	CHECK_EQ_INT(chat_set_max_tokens(c, 20), 5);
	CHECK(st.n_scored >= 1 && st.n_scored <= 5);
	CHECK(st.n_scored <= st.n_generated);
	CHECK(st.sum_logprob <= 0 && st.sum_entropy >= 0);
	CHECK(isfinite(st.sum_logprob) && isfinite(st.sum_entropy));
	/* greedy: the same reply scores the same */
	struct chat_stats st2;
	chat_session_clear(s);
	CHECK_EQ_INT(chat_session_add(s, CHAT_ROLE_USER, "What is the capital of Norway?", 30), 0);
	chat_set_max_tokens(c, 5);
	char *reply2 = NULL;
	CHECK_EQ_INT(chat_reply(c, s, NULL, NULL, &reply2, NULL, &st2), 0);
	CHECK(reply && reply2 && !strcmp(reply, reply2));
	CHECK_EQ_INT(st2.n_scored, st.n_scored);
	CHECK(near(st2.sum_logprob, st.sum_logprob, 1e-3 * (1 + fabs(st.sum_logprob))));
	free(reply);
	free(reply2);
	chat_session_free(s);
	chat_close(c);
}

static const struct test_case tests[] = {
	TEST(logits_stats_by_hand),
	TEST(generate_stats_match_the_logits),
	TEST(chat_reply_reports_confidence),
};

TEST_MAIN(tests)
