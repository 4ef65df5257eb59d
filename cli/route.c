/*
 * route.c - the arbiter in `memex ask`: decide, and when the decision and
 * the policy allow it, send the sanitized question to the cloud model.
 *
 * After the local answer is printed, cli_route():
 *   1. runs both retrieval legs for the question (BM25, and the vectors when
 *      the index has them) and embeds the question;
 *   2. asks the arbiter (router/arbiter.h), with the trained router when
 *      DATA_HOME/router.model exists;
 *   3. on escalation, masks personal data in the question (router/sanitize.h,
 *      with the authors of the retrieved passages as known contacts), and
 *      - with --dry-run prints the exact request body and sends nothing;
 *      - under policy `ask` shows that body and waits for yes or no (read
 *        from /dev/tty, else a line of stdin; none means no);
 *      - sends it (router/cloud.h records it in the audit log first) and
 *        prints the reply with the placeholders turned back into the values.
 * Retrieved passages are never sent, only the question. A cloud failure is
 * a warning: the local answer above stands.
 */
#include <fcntl.h>
#include <json-c/json.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../common/status.h"
#include "../engine/engine.h"
#include "../retriever/retriever.h"
#include "../router/arbiter.h"
#include "../router/audit.h"
#include "../router/cloud.h"
#include "../router/lr.h"
#include "../router/sanitize.h"
#include "cli.h"

#define LEG_HITS    5
#define MAX_NAMES   8
#define PEOPLE_HITS 5

static const char system_prompt[] =
	"Answer the question briefly and accurately. Words in angle brackets such as "
	"<PERSON_1> stand for details withheld for privacy: keep them exactly as written.";

/* The hits of a result as arbiter hits; the full paths are malloc'd into
 * paths[] (free each). */
static void to_rtr_hits(const struct ret_result *r, struct rtr_hit *out, char **paths, bool dense)
{
	for (size_t i = 0; i < r->n && i < LEG_HITS; i++) {
		const struct store_hit *h = &r->hits[i];
		size_t n = strlen(h->source_path) + strlen(h->path) + 2;
		paths[i] = malloc(n);
		if (paths[i])
			snprintf(paths[i], n, "%s%s%s", h->source_path, h->path[0] ? "/" : "",
				 h->path);
		out[i] = (struct rtr_hit){ .doc_id = h->doc_id,
					   .score = -h->score,
					   .text = h->text,
					   .title = h->title,
					   .author = h->author,
					   .path = paths[i],
					   .source_path = h->source_path };
		(void)dense;
	}
}

/* An author "Name <addr>", "Name" or "addr" as a sanitizer contact. */
static void add_contact(struct rtr_sanitizer *san, const char *a)
{
	char name[257] = "", addr[257] = "";
	if (!a || !*a)
		return;
	const char *lt = strchr(a, '<'), *gt = lt ? strchr(lt, '>') : NULL;
	size_t nl = lt ? (size_t)(lt - a) : strlen(a);
	if (lt && gt && gt > lt + 1 && (size_t)(gt - lt - 1) < sizeof addr)
		snprintf(addr, sizeof addr, "%.*s", (int)(gt - lt - 1), lt + 1);
	else if (!lt && strchr(a, '@') && nl < sizeof addr) {
		snprintf(addr, sizeof addr, "%s", a);
		nl = 0;
	}
	while (nl && (a[nl - 1] == ' ' || a[nl - 1] == '"'))
		nl--;
	size_t s0 = 0;
	while (s0 < nl && a[s0] == '"')
		s0++;
	if (nl > s0 && nl - s0 < sizeof name)
		snprintf(name, sizeof name, "%.*s", (int)(nl - s0), a + s0);
	if (name[0] || addr[0])
		(void)rtr_sanitizer_add_contact(san, name, addr);
}

/* Yes or no from the terminal, else from a line of stdin; no when there is
 * neither. */
static bool confirm(void)
{
	char line[64] = "";
	int fd = open("/dev/tty", O_RDWR | O_CLOEXEC | O_NOCTTY);
	if (fd >= 0) {
		static const char prompt[] = "Send this to the cloud model? [y/N] ";
		if (write(fd, prompt, sizeof prompt - 1) < 0) {
			close(fd);
			return false;
		}
		ssize_t n = read(fd, line, sizeof line - 1);
		close(fd);
		if (n <= 0)
			return false;
		line[n] = '\0';
	} else {
		fprintf(stderr, "Send this to the cloud model? [y/N] ");
		if (!fgets(line, sizeof line, stdin)) {
			fprintf(stderr, "\nno answer: not sent\n");
			return false;
		}
	}
	return line[0] == 'y' || line[0] == 'Y';
}

static const char *reason_names(unsigned r, char *buf, size_t n)
{
	static const char *const names[] = {
		"first-person",		"contact",	"folder",	   "strong-hit",
		"never-send-source",	"policy-never", "draft-confident", "score-low",
		"score-high",		"not-covered",	"covered",	   "no-router-model",
		"router-model-refused", "index-name",
	};
	size_t at = 0;
	buf[0] = '\0';
	for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
		if (r & (1u << i)) {
			int k = snprintf(buf + at, n - at, "%s%s", at ? ", " : "", names[i]);
			if (k < 0 || (size_t)k >= n - at)
				break;
			at += (size_t)k;
		}
	return buf;
}

static json_object *explain_json(const struct rtr_explain *ex, enum rtr_policy pol, size_t tokens,
				 double confident)
{
	char rs[512];
	json_object *o = json_object_new_object();
	json_object_object_add(
		o, "decision",
		json_object_new_string(ex->decision == RTR_ESCALATE ? "escalate" : "local"));
	json_object_object_add(o, "private", json_object_new_boolean(ex->private_q));
	json_object_object_add(o, "policy", json_object_new_string(rtr_policy_name(pol)));
	json_object_object_add(o, "why", cli_json_string(ex->why));
	json_object_object_add(o, "reasons",
			       json_object_new_string(reason_names(ex->reasons, rs, sizeof rs)));
	json_object *r = json_object_new_object();
	json_object_object_add(r, "top_bm25", json_object_new_double(ex->top_bm25));
	json_object_object_add(r, "margin_bm25", json_object_new_double(ex->margin_bm25));
	json_object_object_add(r, "top_dense", json_object_new_double(ex->top_dense));
	json_object_object_add(r, "margin_dense", json_object_new_double(ex->margin_dense));
	json_object_object_add(r, "agreement", json_object_new_double(ex->agreement));
	json_object_object_add(r, "coverage", json_object_new_double(ex->coverage));
	json_object_object_add(o, "retrieval", r);
	json_object_object_add(o, "scorer", json_object_new_string(ex->scorer));
	json_object_object_add(o, "score",
			       isnan(ex->score) ? NULL : json_object_new_double(ex->score));
	json_object_object_add(o, "threshold",
			       isnan(ex->threshold) || isinf(ex->threshold)
				       ? NULL
				       : json_object_new_double(ex->threshold));
	json_object *f = json_object_new_object();
	for (int i = 0; i < RTR_NFEAT; i++)
		json_object_object_add(f, rtr_feature_name(i),
				       json_object_new_double((double)ex->feat[i]));
	json_object_object_add(o, "features", f);
	json_object *d = NULL;
	if (ex->has_draft) {
		d = json_object_new_object();
		json_object_object_add(d, "mean_logprob",
				       json_object_new_double(ex->draft_logprob));
		json_object_object_add(d, "mean_entropy",
				       json_object_new_double(ex->draft_entropy));
		json_object_object_add(d, "tokens", json_object_new_int64((int64_t)tokens));
		json_object_object_add(d, "confident_above", json_object_new_double(confident));
	}
	json_object_object_add(o, "draft", d);
	return o;
}

static void explain_text(const struct rtr_explain *ex, enum rtr_policy pol, size_t tokens,
			 double confident)
{
	char rs[512], safe[600];
	printf("\nArbiter: %s, because %s.\n",
	       ex->decision == RTR_ESCALATE ? "ask the cloud model" : "answer on this machine",
	       cli_safe(ex->why, safe, sizeof safe));
	printf("  policy %s; private: %s; signals: %s\n", rtr_policy_name(pol),
	       ex->private_q ? "yes (never sent)" : "no", reason_names(ex->reasons, rs, sizeof rs));
	printf("  retrieval: bm25 top %.3f margin %.2f; vectors top %.3f margin %.3f; "
	       "agreement %.2f; coverage %.2f of %zu words\n",
	       ex->top_bm25, ex->margin_bm25, ex->top_dense, ex->margin_dense, ex->agreement,
	       ex->coverage, ex->content_words);
	if (isnan(ex->score))
		printf("  router: none\n");
	else
		printf("  router (%s): P(cloud helps) %.3f, threshold %.3f\n", ex->scorer,
		       ex->score, ex->threshold);
	if (ex->has_draft)
		printf("  draft: mean log-prob %.3f, mean entropy %.3f nats over %zu tokens "
		       "(confident at %.2f or above)\n",
		       ex->draft_logprob, ex->draft_entropy, tokens, confident);
	else
		printf("  draft: none\n");
	printf("  features:");
	for (int i = 0; i < RTR_NFEAT; i++)
		printf(" %s=%.3g", rtr_feature_name(i), (double)ex->feat[i]);
	printf("\n");
}

/* Runs one leg; an empty result when it cannot run. */
static void run_leg(struct store *st, const char *q, const struct ret_params *base,
		    enum ret_mode mode, const float *qv, int dims, struct ret_result *res)
{
	struct ret_params p = *base;
	p.mode = mode;
	p.limit = LEG_HITS;
	p.question = true;
	p.per_doc = true;
	p.query_vec = mode == RET_BM25 ? NULL : qv;
	p.dims = dims;
	p.min_dense = -1;
	if (ret_search(st, q, &p, res)) {
		ret_result_clear(res);
		memset(res, 0, sizeof *res);
	}
}

int cli_route(struct cli *c, struct store *st, const char *question, const struct ret_params *rp,
	      const struct cli_route_opts *o, struct json_object **jout)
{
	int ret = CLI_OK;
	struct ret_result bm = { 0 }, dn = { 0 }, people[MAX_NAMES];
	struct rtr_hit hp[MAX_NAMES * PEOPLE_HITS];
	memset(people, 0, sizeof people);
	struct rtr_hit hb[LEG_HITS], hd[LEG_HITS];
	char *pb[LEG_HITS] = { NULL }, *pd[LEG_HITS] = { NULL };
	float *qv = NULL;
	int dims = 0;
	struct rtr_model *model = NULL;
	struct rtr_sanitizer *san = NULL;
	struct rtr_audit *audit = NULL;
	struct rtr_cloud *cloud = NULL;
	char *sq = NULL, *body = NULL, *reply = NULL, *plain = NULL;
	json_object *jo = o->json ? json_object_new_object() : NULL;
	enum rtr_policy pol = (enum rtr_policy)c->cfg.cloud_policy;
	char path[4200], err[512], safe[1024];
	*jout = NULL;
	/* the default install: nothing to decide, nothing to print */
	if (pol == RTR_POLICY_NEVER && !o->dry_run && !o->explain && !o->json)
		return CLI_OK;

	/* 1. the signals */
	if (rp->embedder && rp->model_id) {
		dims = eng_embedder_dims(rp->embedder);
		qv = malloc((size_t)dims * sizeof *qv);
		if (qv && eng_embed(rp->embedder, &question, 1, ENG_QUERY, qv)) {
			free(qv);
			qv = NULL;
		}
	}
	run_leg(st, question, rp, RET_BM25, NULL, 0, &bm);
	if (qv)
		run_leg(st, question, rp, RET_DENSE, qv, dims, &dn);
	size_t nb = bm.n < LEG_HITS ? bm.n : LEG_HITS, nd = dn.n < LEG_HITS ? dn.n : LEG_HITS;
	to_rtr_hits(&bm, hb, pb, false);
	to_rtr_hits(&dn, hd, pd, true);
	/* people: messages from a word of the question (the sender's name is
	 * then checked word by word: from: matches inside words) */
	char names[MAX_NAMES][48];
	size_t nn = rtr_name_candidates(question, names, MAX_NAMES), np = 0, nr = 0;
	for (size_t i = 0; i < nn; i++) {
		char fq[128];
		snprintf(fq, sizeof fq, "from:\"%.47s\"", names[i]);
		struct ret_params pp = *rp;
		pp.mode = RET_BM25;
		pp.limit = PEOPLE_HITS;
		pp.embedder = NULL;
		pp.query_vec = NULL;
		struct ret_result *r = &people[nr];
		if (ret_search(st, fq, &pp, r) || !r->n) {
			ret_result_clear(r);
			continue;
		}
		nr++;
		for (size_t j = 0; j < r->n && np < MAX_NAMES * PEOPLE_HITS; j++)
			hp[np++] = (struct rtr_hit){ .doc_id = r->hits[j].doc_id,
						     .author = r->hits[j].author };
	}
	/* 2. the decision */
	cli_router_model_path(c, path, sizeof path);
	int lrc = rtr_model_load(path, &model, err, sizeof err);
	if (lrc && lrc != MX_ENOTFOUND)
		cli_warn("router model not used: %s", err);
	if (model && model->full && model->prefer_full && rp->embedder &&
	    strcmp(model->fingerprint, eng_embedder_fingerprint(rp->embedder)))
		cli_warn("the router model was trained with another embedder: its embedding "
			 "part is not used (run 'memex router train')");
	const char *never[16];
	for (size_t i = 0; i < c->cfg.n_never_send && i < 16; i++)
		never[i] = c->cfg.never_send[i];
	struct rtr_input in = { .question = question,
				.local = (enum rtr_local)o->local,
				.people = hp,
				.n_people = np,
				.bm25 = hb,
				.n_bm25 = nb,
				.dense = hd,
				.n_dense = nd,
				.embedding = qv,
				.dims = (size_t)dims,
				.fingerprint = rp->embedder ? eng_embedder_fingerprint(rp->embedder)
							    : NULL,
				.has_draft = o->has_draft,
				.draft_logprob = o->draft_logprob,
				.draft_entropy = o->draft_entropy };
	struct rtr_params ap = rtr_params_default();
	ap.policy = pol;
	ap.model = model;
	ap.share = c->cfg.router_share;
	ap.threshold = c->cfg.router_threshold;
	ap.never_send = never;
	ap.n_never_send = c->cfg.n_never_send < 16 ? c->cfg.n_never_send : 16;
	ap.local_model = o->local_model;
	struct rtr_explain ex;
	rtr_decide(&in, &ap, &ex);
	/* --dry-run shows what would be sent even under policy never */
	bool would = ex.decision == RTR_ESCALATE;
	if (!would && o->dry_run && !ex.private_q && (ex.reasons & RTR_R_POLICY)) {
		struct rtr_params ap2 = ap;
		ap2.policy = RTR_POLICY_AUTO;
		struct rtr_explain ex2;
		rtr_decide(&in, &ap2, &ex2);
		would = ex2.decision == RTR_ESCALATE;
	}
	if (jo) {
		json_object_object_add(
			jo, "decision",
			json_object_new_string(ex.decision == RTR_ESCALATE ? "escalate" : "local"));
		json_object_object_add(jo, "private", json_object_new_boolean(ex.private_q));
		json_object_object_add(jo, "why", cli_json_string(ex.why));
		if (o->explain)
			json_object_object_add(
				jo, "arbiter",
				explain_json(&ex, pol, o->draft_tokens, ap.draft_confident));
	} else if (o->explain) {
		explain_text(&ex, pol, o->draft_tokens, ap.draft_confident);
	}
	if (!would) {
		if (o->dry_run) {
			if (jo)
				json_object_object_add(jo, "would_send", NULL);
			else
				printf("\nDry run: nothing would be sent (%s).\n",
				       cli_safe(ex.why, safe, sizeof safe));
		} else if (!jo && !o->explain && ex.private_q && pol != RTR_POLICY_NEVER &&
			   o->local == RTR_LOCAL_ABSTAINED) {
			/* declined, with the reason */
			printf("\nNot sent to the cloud model: %s.\n",
			       cli_safe(ex.why, safe, sizeof safe));
		}
		goto out;
	}

	/* 3. what would leave: the sanitized question, never a passage */
	if (!(san = rtr_sanitizer_new(NULL))) {
		cli_error("out of memory");
		ret = CLI_ERR;
		goto out;
	}
	for (size_t i = 0; i < nb + nd; i++)
		add_contact(san, i < nb ? hb[i].author : hd[i - nb].author);
	int src = rtr_sanitize(san, question, strlen(question), &sq, NULL, NULL);
	if (src) {
		cli_error("cannot sanitize the question (%s): nothing is sent", mx_strerror(src));
		ret = CLI_ERR;
		goto out;
	}
	struct rtr_message msgs[2] = { { "system", system_prompt }, { "user", sq } };
	struct rtr_request req = rtr_request_default();
	req.messages = msgs;
	req.n_messages = 2;
	req.temperature = 0;
	req.max_tokens = 512;
	char reason[300];
	snprintf(reason, sizeof reason, "memex ask: %s", ex.why);
	req.reason = reason;
	const char *mname = getenv("MEMEX_CLOUD_MODEL");
	mname = mname && *mname ? mname : c->cfg.cloud_model;
	bool configured = cli_cloud_configured(c);
	size_t blen = 0;
	if (rtr_cloud_body(configured ? mname : "MODEL", &req, &body, &blen)) {
		cli_error("out of memory");
		ret = CLI_ERR;
		goto out;
	}
	if (o->dry_run || pol == RTR_POLICY_ASK) {
		if (jo) {
			json_object_object_add(jo, "would_send", cli_json_string(body));
			json_object_object_add(jo, "sanitized_question", cli_json_string(sq));
		} else {
			printf("\n%s the cloud model%s:\n%s\n",
			       o->dry_run ? "Dry run: this is what would be sent to"
					  : "This would be sent to",
			       configured ? "" : " (none is configured: see 'memex cloud')", body);
		}
		if (o->dry_run)
			goto out;
	}
	if (!configured) {
		if (jo)
			json_object_object_add(
				jo, "cloud_error",
				json_object_new_string("no cloud model is configured"));
		else
			printf("\nThe arbiter would ask a cloud model, but none is configured "
			       "(see 'memex cloud'); the answer above is local.\n");
		goto out;
	}
	if (pol == RTR_POLICY_ASK && (o->json || !confirm())) {
		if (jo)
			json_object_object_add(jo, "sent", json_object_new_boolean(false));
		else
			printf("Not sent; the answer above is local.\n");
		goto out;
	}
	if (cli_cloud_open(c, &audit, &cloud))
		goto cloud_failed_opened;
	int crc = rtr_cloud_chat(cloud, &req, &reply);
	if (crc) {
		cli_warn("the cloud model could not answer: %s; the answer above is local",
			 rtr_cloud_errmsg(cloud));
		if (jo) {
			json_object_object_add(jo, "sent", json_object_new_boolean(true));
			json_object_object_add(jo, "cloud_error",
					       cli_json_string(rtr_cloud_errmsg(cloud)));
		}
		goto out;
	}
	if (rtr_reidentify(san, reply ? reply : "", reply ? strlen(reply) : 0, &plain)) {
		cli_warn("cannot restore the withheld details in the cloud's answer");
		goto out;
	}
	if (jo) {
		json_object_object_add(jo, "sent", json_object_new_boolean(true));
		json_object_object_add(jo, "model", cli_json_string(mname));
		json_object_object_add(jo, "sanitized_question", cli_json_string(sq));
		json_object_object_add(jo, "answer", cli_json_string(plain));
	} else {
		printf("\nCloud answer (%s; only the sanitized question was sent, see 'memex "
		       "audit'):\n",
		       cli_safe(mname, safe, sizeof safe));
		/* a reply may hold anything: printed safe, line by line */
		char *p = plain;
		while (p && *p) {
			char *nl = strchr(p, '\n');
			if (nl)
				*nl = '\0';
			char *line = malloc(strlen(p) * 3 + 4);
			if (line) {
				printf("%s\n", cli_safe(p, line, strlen(p) * 3 + 4));
				free(line);
			}
			p = nl ? nl + 1 : NULL;
		}
	}
	goto out;
cloud_failed_opened:
	cli_warn("the answer above is local");
	if (jo)
		json_object_object_add(jo, "cloud_error",
				       json_object_new_string("the cloud client could not start"));
out:
	rtr_cloud_close(cloud);
	rtr_audit_close(audit);
	rtr_sanitizer_free(san);
	rtr_model_free(model);
	free(sq);
	free(body);
	free(reply);
	free(plain);
	free(qv);
	for (int i = 0; i < LEG_HITS; i++) {
		free(pb[i]);
		free(pd[i]);
	}
	ret_result_clear(&bm);
	ret_result_clear(&dn);
	for (int i = 0; i < MAX_NAMES; i++)
		ret_result_clear(&people[i]);
	*jout = jo;
	return ret;
}
