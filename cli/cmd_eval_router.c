/*
 * cmd_eval_router.c - memex eval router: how well the trained router spends
 * cloud calls, on MMLU subjects held out of its training.
 *
 *   memex eval router [--data DIR] [--model FILE] [--exclude SUBJECT]... [--json]
 *
 * For each held-out question (subjects i % 4 == 1 of the sorted names, the
 * split recorded in the model) each scorer of the router scores what
 * escalating gains; routing the highest-scored share c to the strong model
 * gives PGR(c), and from it CPT(50%), CPT(80%) and APGR (router/lr.h, after
 * RouteLLM, Ong et al. 2024). The scorer the router uses comes first, then
 * the other, random routing (exact expectation, and the mean of 20
 * shuffles), and the oracle that sends just the questions the weak model
 * misses and the strong one gets; then, by subject, what the half of the
 * questions the router would send holds.
 */
#include <getopt.h>
#include <json-c/json.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../common/status.h"
#include "../engine/engine.h"
#include "../router/arbiter.h"
#include "../router/lr.h"
#include "../router/mmlu.h"
#include "cli.h"

#define DEFAULT_DATA "../shared/data/router/routellm-mmlu"
#define RANDOM_RUNS  20

struct row {
	const char *name;
	const char *target; /* what a learned router predicts, or NULL */
	bool routes;	    /* the scorer the router uses */
	struct rtr_route_stats st;
};

static json_object *stats_json(const struct row *r)
{
	json_object *o = json_object_new_object();
	json_object_object_add(o, "router", json_object_new_string(r->name));
	json_object_object_add(o, "target", r->target ? json_object_new_string(r->target) : NULL);
	json_object_object_add(o, "routes", json_object_new_boolean(r->routes));
	json_object_object_add(o, "cpt50", json_object_new_double(r->st.cpt50));
	json_object_object_add(o, "cpt80", json_object_new_double(r->st.cpt80));
	json_object_object_add(o, "apgr", json_object_new_double(r->st.apgr));
	json_object *a = json_object_new_array();
	for (int i = 0; i <= 10; i++)
		json_object_array_add(a, json_object_new_double(r->st.pgr_at[i]));
	json_object_object_add(o, "pgr_at_10pct_steps", a);
	return o;
}

static unsigned next_rand(unsigned *s)
{
	unsigned x = *s;
	x ^= x << 13;
	x ^= x >> 17;
	x ^= x << 5;
	return *s = x;
}

/* One held-out subject when the router sends half of the questions. */
struct subj_row {
	const char *name;
	size_t n, weak, strong; /* questions; right answers of each model */
	size_t sent;		/* among the half the router sends */
	long net, net_sent;	/* strong right - weak right: all, the sent */
};

/* The per-subject table for scores (one per held-out question idx[0..n)):
 * the ceil(n / 2) highest-scored are sent (ties in input order, as
 * rtr_route_eval ranks). *out (malloc'd, nsubj rows at most, in subject
 * order) and *nout. MX_ENOMEM. */
static int by_subject_table(const struct rtr_mmlu *mm, const size_t *idx, const double *score,
			    size_t n, size_t nsubj, struct subj_row **out, size_t *nout)
{
	size_t *r = malloc((n ? n : 1) * sizeof *r);
	struct subj_row *t = calloc(nsubj ? nsubj : 1, sizeof *t);
	size_t *row_of = malloc((mm->nsubjects ? mm->nsubjects : 1) * sizeof *row_of);
	*out = NULL;
	*nout = 0;
	if (!r || !t || !row_of || rtr_rank_desc(score, n, r)) {
		free(r);
		free(t);
		free(row_of);
		return MX_ENOMEM;
	}
	for (size_t s = 0; s < mm->nsubjects; s++)
		row_of[s] = SIZE_MAX;
	size_t nt = 0;
	for (size_t k = 0; k < n; k++) {
		unsigned s = mm->items[idx[k]].subject;
		if (row_of[s] == SIZE_MAX && nt < nsubj) {
			row_of[s] = nt;
			t[nt++].name = mm->subjects[s];
		}
	}
	for (size_t k = 0; k < n; k++) {
		const struct rtr_mmlu_item *it = &mm->items[idx[r[k]]];
		if (row_of[it->subject] == SIZE_MAX)
			continue;
		struct subj_row *row = &t[row_of[it->subject]];
		long g = (long)it->strong_ok - (long)it->weak_ok;
		row->n++;
		row->weak += it->weak_ok;
		row->strong += it->strong_ok;
		row->net += g;
		if (k < (n + 1) / 2) {
			row->sent++;
			row->net_sent += g;
		}
	}
	free(r);
	free(row_of);
	*out = t;
	*nout = nt;
	return 0;
}

int cmd_eval_router(struct cli *c, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "data", required_argument, NULL, 'd' },
		{ "model", required_argument, NULL, 'm' },
		{ "json", no_argument, NULL, 'j' },
		{ "exclude", required_argument, NULL, 'x' },
		{ NULL, 0, NULL, 0 },
	};
	const char *exclude[16];
	size_t nexclude = 0;
	const char *data = DEFAULT_DATA;
	char path[4200], err[512];
	bool json = false;
	int opt, ret = CLI_ERR;
	cli_router_model_path(c, path, sizeof path);
	while ((opt = getopt_long(argc, argv, "d:m:j", opts, NULL)) != -1) {
		switch (opt) {
		case 'd': data = optarg; break;
		case 'm': snprintf(path, sizeof path, "%s", optarg); break;
		case 'j': json = true; break;
		case 'x':
			if (nexclude == sizeof exclude / sizeof exclude[0]) {
				cli_error("at most %zu --exclude", nexclude);
				return CLI_USAGE;
			}
			exclude[nexclude++] = optarg;
			break;
		default: return cli_usage(cli_command_find("eval"), true);
		}
	}
	if (optind != argc)
		return cli_usage(cli_command_find("eval"), true);

	struct rtr_model *m = NULL;
	struct rtr_mmlu mm = { 0 };
	struct eng_embedder *e = NULL;
	size_t *idx = NULL, n = 0, nsubj = 0;
	const char **texts = NULL;
	float *emb = NULL;
	double *sfull = NULL, *sfeat = NULL, *soracle = NULL, *srand = NULL;
	bool *wok = NULL, *sok = NULL;
	struct row rows[5] = { { 0 } };
	struct subj_row *bysub = NULL;
	size_t nbysub = 0;
	size_t nrows = 0;
	int rc = rtr_model_load(path, &m, err, sizeof err);
	if (rc) {
		if (rc == MX_ENOTFOUND)
			cli_error("no router model at '%s': run 'memex router train'", path);
		else
			cli_error("cannot load the router model '%s': %s", path, err);
		return CLI_ERR;
	}
	if (!m->split_mod) {
		cli_error("'%s' was trained on every subject: nothing is held out to test on",
			  path);
		goto out;
	}
	if (cli_router_mmlu_load(data, &mm))
		goto out;
	if (!(idx = malloc(mm.n * sizeof *idx)))
		goto oom;
	bool *skip = calloc(mm.nsubjects, sizeof *skip);
	if (!skip)
		goto oom;
	for (size_t k = 0; k < nexclude; k++) {
		size_t s;
		for (s = 0; s < mm.nsubjects && strcmp(mm.subjects[s], exclude[k]); s++)
			;
		if (s == mm.nsubjects ||
		    !rtr_mmlu_heldout((unsigned)s, m->split_mod, m->split_rem)) {
			cli_error("'%s' is not a held-out subject", exclude[k]);
			free(skip);
			ret = CLI_USAGE;
			goto out;
		}
		skip[s] = true;
	}
	for (size_t i = 0; i < mm.n; i++)
		if (rtr_mmlu_heldout(mm.items[i].subject, m->split_mod, m->split_rem) &&
		    !skip[mm.items[i].subject])
			idx[n++] = i;
	for (unsigned s = 0; s < mm.nsubjects; s++)
		nsubj += rtr_mmlu_heldout(s, m->split_mod, m->split_rem) && !skip[s];
	free(skip);
	if (!n) {
		cli_error("'%s': no held-out questions", data);
		goto out;
	}
	texts = malloc(n * sizeof *texts);
	sfull = malloc(n * sizeof *sfull);
	sfeat = malloc(n * sizeof *sfeat);
	soracle = malloc(n * sizeof *soracle);
	srand = malloc(n * sizeof *srand);
	wok = malloc(n * sizeof *wok);
	sok = malloc(n * sizeof *sok);
	if (!texts || !sfull || !sfeat || !soracle || !srand || !wok || !sok)
		goto oom;
	for (size_t r = 0; r < n; r++) {
		const struct rtr_mmlu_item *it = &mm.items[idx[r]];
		texts[r] = it->prompt;
		wok[r] = it->weak_ok;
		sok[r] = it->strong_ok;
		soracle[r] = (!it->weak_ok && it->strong_ok) ? 2 : (it->weak_ok == it->strong_ok);
	}
	bool use_full = false;
	if (m->full) {
		if (cli_embedder_open(c, &e))
			goto out;
		if (!e)
			cli_warn("no embedder: only the features-only regression is evaluated");
		else if (strcmp(eng_embedder_fingerprint(e), m->fingerprint) ||
			 (size_t)eng_embedder_dims(e) != m->embed_dims)
			cli_warn("the model was trained with another embedder (%s): only the "
				 "features-only regression is evaluated",
				 m->fingerprint);
		else
			use_full = true;
	}
	if (use_full) {
		if (!(emb = malloc(n * m->embed_dims * sizeof *emb)))
			goto oom;
		if (cli_router_embed(c, e, texts, n, emb, nexclude ? NULL : "heldout"))
			goto out;
	}
	for (size_t r = 0; r < n; r++) {
		sfeat[r] = rtr_model_score_part(m, false, texts[r], NULL, 0);
		if (use_full)
			sfull[r] = rtr_model_score_part(m, true, texts[r], emb + r * m->embed_dims,
							m->embed_dims);
	}
	/* the scorer the router uses first (rtr_model_score's choice) */
	bool full_first = use_full && m->prefer_full;
	for (int k = 0; k < 2; k++) {
		bool full = (k == 0) == full_first;
		if (full && !use_full)
			continue;
		rows[nrows].name =
			full ? "learned (embedding + features)" : "learned (features only)";
		rows[nrows].target = rtr_target_name(full ? m->target_full : m->target_feat);
		rows[nrows].routes = k == 0;
		if (rtr_route_eval(full ? sfull : sfeat, wok, sok, n, &rows[nrows++].st))
			goto nogap;
	}
	const double *srouter = full_first ? sfull : sfeat;
	if (by_subject_table(&mm, idx, srouter, n, nsubj, &bysub, &nbysub))
		goto oom;
	/* random: the mean of shuffles (the exact expectation is PGR(c) = c) */
	struct row *rr = &rows[nrows++];
	memset(rr, 0, sizeof *rr);
	rr->name = "random (mean of 20 runs)";
	unsigned seed = 12345;
	for (int run = 0; run < RANDOM_RUNS; run++) {
		struct rtr_route_stats st;
		for (size_t r = 0; r < n; r++)
			srand[r] = (double)next_rand(&seed);
		if (rtr_route_eval(srand, wok, sok, n, &st))
			goto nogap;
		rr->st.cpt50 += st.cpt50 / RANDOM_RUNS;
		rr->st.cpt80 += st.cpt80 / RANDOM_RUNS;
		rr->st.apgr += st.apgr / RANDOM_RUNS;
		for (int i = 0; i <= 10; i++)
			rr->st.pgr_at[i] += st.pgr_at[i] / RANDOM_RUNS;
	}
	rows[nrows].name = "random (expected)";
	memset(&rows[nrows].st, 0, sizeof rows[nrows].st);
	rows[nrows].st.cpt50 = 0.5;
	rows[nrows].st.cpt80 = 0.8;
	rows[nrows].st.apgr = 0.5;
	for (int i = 0; i <= 10; i++)
		rows[nrows].st.pgr_at[i] = i / 10.0;
	nrows++;
	rows[nrows].name = "oracle";
	if (rtr_route_eval(soracle, wok, sok, n, &rows[nrows++].st))
		goto nogap;

	const struct rtr_route_stats *s0 = &rows[0].st;
	if (json) {
		json_object *o = json_object_new_object();
		json_object_object_add(o, "data", cli_json_string(data));
		json_object_object_add(o, "model", cli_json_string(path));
		json_object_object_add(o, "heldout_subjects", json_object_new_int((int)nsubj));
		json_object *xs = json_object_new_array();
		for (size_t k = 0; k < nexclude; k++)
			json_object_array_add(xs, json_object_new_string(exclude[k]));
		json_object_object_add(o, "excluded", xs);
		json_object_object_add(o, "questions", json_object_new_int64((int64_t)n));
		json_object_object_add(o, "weak_accuracy", json_object_new_double(s0->acc_weak));
		json_object_object_add(o, "strong_accuracy",
				       json_object_new_double(s0->acc_strong));
		json_object *a = json_object_new_array();
		for (size_t i = 0; i < nrows; i++)
			json_object_array_add(a, stats_json(&rows[i]));
		json_object_object_add(o, "routers", a);
		json_object *sa = json_object_new_array();
		for (size_t i = 0; i < nbysub; i++) {
			const struct subj_row *t = &bysub[i];
			json_object *so = json_object_new_object();
			json_object_object_add(so, "subject", json_object_new_string(t->name));
			json_object_object_add(so, "questions",
					       json_object_new_int64((int64_t)t->n));
			json_object_object_add(so, "weak_right",
					       json_object_new_int64((int64_t)t->weak));
			json_object_object_add(so, "strong_right",
					       json_object_new_int64((int64_t)t->strong));
			json_object_object_add(so, "sent_at_half",
					       json_object_new_int64((int64_t)t->sent));
			json_object_object_add(so, "net_gain_of_sent",
					       json_object_new_int64(t->net_sent));
			json_object_array_add(sa, so);
		}
		json_object_object_add(o, "subjects", sa);
		cli_json_print(o);
	} else {
		printf("held-out MMLU: %zu questions from %zu subjects (i %% %u == %u of %zu%s)\n",
		       n, nsubj, m->split_mod, m->split_rem, mm.nsubjects,
		       nexclude ? ", some excluded" : "");
		printf("weak model accuracy %.4f, strong model accuracy %.4f\n", s0->acc_weak,
		       s0->acc_strong);
		printf("(* the scorer the router uses, chosen in training)\n\n");
		printf("%-34s %9s %9s %7s  %s\n", "router", "CPT(50%)", "CPT(80%)", "APGR",
		       "predicts");
		for (size_t i = 0; i < nrows; i++)
			printf("%s %-32s %8.1f%% %8.1f%% %7.4f  %s\n", rows[i].routes ? "*" : " ",
			       rows[i].name, rows[i].st.cpt50 * 100, rows[i].st.cpt80 * 100,
			       rows[i].st.apgr, rows[i].target ? rows[i].target : "");
		printf("\nPGR by share of calls to the cloud model:\n%-32s", "share");
		for (int i = 1; i <= 9; i += 2)
			printf(" %5d%%", i * 10);
		printf("\n");
		for (size_t i = 0; i < nrows; i++) {
			printf("%-32s", rows[i].name);
			for (int k = 1; k <= 9; k += 2)
				printf(" %6.3f", rows[i].st.pgr_at[k]);
			printf("\n");
		}
		printf("\nBy subject, the router sending half of the questions (net: strong right - "
		       "weak right):\n");
		printf("%-40s %9s %6s %6s %6s %6s %9s\n", "subject", "questions", "weak", "strong",
		       "net", "sent", "net sent");
		long tn = 0, ts = 0;
		size_t tsent = 0;
		for (size_t i = 0; i < nbysub; i++) {
			const struct subj_row *t = &bysub[i];
			printf("%-40s %9zu %6.2f %6.2f %+6ld %6zu %+9ld\n", t->name, t->n,
			       (double)t->weak / (double)t->n, (double)t->strong / (double)t->n,
			       t->net, t->sent, t->net_sent);
			tn += t->net;
			ts += t->net_sent;
			tsent += t->sent;
		}
		printf("%-40s %9zu %6.2f %6.2f %+6ld %6zu %+9ld\n", "all", n, s0->acc_weak,
		       s0->acc_strong, tn, tsent, ts);
	}
	ret = CLI_OK;
	goto out;
nogap:
	cli_error("'%s': the strong model is no better than the weak one on the held-out "
		  "questions",
		  data);
	goto out;
oom:
	cli_error("out of memory");
out:
	free(bysub);
	eng_embedder_close(e);
	rtr_model_free(m);
	rtr_mmlu_free(&mm);
	free(idx);
	free(texts);
	free(emb);
	free(sfull);
	free(sfeat);
	free(soracle);
	free(srand);
	free(wok);
	free(sok);
	return ret;
}
