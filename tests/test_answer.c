/* test_answer.c - answers: sentence splitting, term overlap, MMR,
 * citation labels, support scores and checks, prompts, and the answer path
 * on a small index (extractive answer, abstention). */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../common/fsutil.h"
#include "../common/status.h"
#include "../engine/chat.h"
#include "../engine/engine.h"
#include "../retriever/abstain.h"
#include "../retriever/answer.h"
#include "../store/store.h"
#include "harness.h"

/* The sentences of s, each copied into out[i] (at most max); the count. */
static size_t split(const char *s, char out[][160], size_t max)
{
	struct ret_span *sp = NULL;
	size_t n = 0;
	if (ret_sentences_split(s, strlen(s), &sp, &n) != 0)
		return (size_t)-1;
	for (size_t i = 0; i < n && i < max; i++)
		snprintf(out[i], 160, "%.*s", (int)(sp[i].end - sp[i].start), s + sp[i].start);
	free(sp);
	return n;
}

static void sentences_prose(void)
{
	char s[16][160];
	size_t n = split("Dr. Karin Ahlgren sees you at 09:40. It costs 1 150.00 SEK! Is that "
			 "fine? See e.g. the form, or ask K. Berg.",
			 s, 16);
	CHECK_EQ_INT(n, 4);
	CHECK_STR(s[0], "Dr. Karin Ahlgren sees you at 09:40.");
	CHECK_STR(s[1], "It costs 1 150.00 SEK!");
	CHECK_STR(s[2], "Is that fine?");
	CHECK_STR(s[3], "See e.g. the form, or ask K. Berg.");
	/* a wrapped paragraph is one sentence; a lower-case word after a
	 * full stop does not start one */
	n = split("Bag drop closes 40 minutes and the gate closes 20 minutes before\n"
		  "departure. Visit www.example.com. and approx. two hours later.\n",
		  s, 16);
	CHECK_EQ_INT(n, 2);
	CHECK_STR(s[0], "Bag drop closes 40 minutes and the gate closes 20 minutes before\n"
			"departure.");
	/* nothing to split */
	CHECK_EQ_INT(split("", s, 16), 0);
	CHECK_EQ_INT(split(" \n\t -- \n", s, 16), 0);
}

static void sentences_forms_and_lists(void)
{
	char s[16][160];
	size_t n =
		split("Hi Maya,\n\nThis confirms your appointment.\n\n"
		      "  When:     Tuesday 17 November 2026 at 09:40\n"
		      "  Dentist:  Dr Karin Ahlgren\n"
		      "Please bring:\n- valid photo ID\n- the health declaration form, filled in "
		      "(you can also fill it in online\n  in your patient account)\n"
		      "## Costs\n| Rent | 9 850 |\n",
		      s, 16);
	CHECK_EQ_INT(n, 9);
	CHECK_STR(s[0], "Hi Maya,");
	CHECK_STR(s[1], "This confirms your appointment.");
	CHECK_STR(s[2], "When:     Tuesday 17 November 2026 at 09:40");
	CHECK_STR(s[3], "Dentist:  Dr Karin Ahlgren");
	/* a field line after a long one without a full stop starts its own
	 * sentence */
	char f[4][160];
	CHECK_EQ_INT(split("  What:     Annual check-up and cleaning (dental examination)\n"
			   "  When:     Tuesday 17 November 2026 at 09:40\n",
			   f, 4),
		     2);
	CHECK_STR(f[1], "When:     Tuesday 17 November 2026 at 09:40");
	CHECK_STR(s[4], "Please bring:");
	CHECK_STR(s[5], "- valid photo ID");
	CHECK_STR(s[6], "- the health declaration form, filled in (you can also fill it in "
			"online\n  in your patient account)");
	CHECK_STR(s[7], "## Costs");
	CHECK_STR(s[8], "| Rent | 9 850 |");
	/* a numbered step's number ends no sentence; "Serves 4." ends one */
	char r[4][160];
	CHECK_EQ_INT(split("3. Roll the kale leaves into a tight cigar.\n"
			   "4. Add the kale to the soup. Serves 4.\n",
			   r, 4),
		     3);
	CHECK_STR(r[0], "3. Roll the kale leaves into a tight cigar.");
	CHECK_STR(r[1], "4. Add the kale to the soup.");
	CHECK_STR(r[2], "Serves 4.");
}

static void sentences_long_are_cut(void)
{
	char *big = malloc(5001);
	for (int i = 0; i < 5000; i++)
		big[i] = i % 7 == 6 ? ' ' : 'a';
	big[5000] = '\0';
	struct ret_span *sp = NULL;
	size_t n = 0;
	CHECK_EQ_INT(ret_sentences_split(big, 5000, &sp, &n), 0);
	CHECK(n >= 9);
	size_t covered = 0;
	for (size_t i = 0; i < n; i++) {
		CHECK(sp[i].end - sp[i].start <= 600);
		CHECK(sp[i].end > sp[i].start);
		covered += sp[i].end - sp[i].start;
	}
	CHECK(covered > 4000); /* only white space dropped */
	free(sp);
	free(big);
}

static void terms_and_overlap(void)
{
	struct ret_terms q, t;
	CHECK_EQ_INT(
		ret_terms_of("What are the Bookings of my flights in G\xc3\xb6teborg?", 49, 64, &q),
		0);
	/* stop words gone, lower case, plurals stripped */
	CHECK_EQ_INT(q.n, 3);
	if (q.n == 3) {
		CHECK_STR(q.t[0], "book");
		CHECK_STR(q.t[1], "flight");
		CHECK_STR(q.t[2], "g\xc3\xb6teborg");
	}
	CHECK_EQ_INT(ret_terms_of("Your flight booking to Lisbon", 29, 64, &t), 0);
	/* two of three */
	double ov = ret_term_overlap(&q, NULL, &t);
	CHECK(ov > 0.66 && ov < 0.67);
	double w[3] = { 1, 1, 9 };
	CHECK(ret_term_overlap(&q, w, &t) < 0.2);
	ret_terms_clear(&t);
	/* shared stems match; short or different words do not */
	CHECK_EQ_INT(ret_terms_of("the plumber was interesting", 27, 64, &t), 0);
	struct ret_terms q2;
	CHECK_EQ_INT(ret_terms_of("plumbing internal", 17, 64, &q2), 0);
	ov = ret_term_overlap(&q2, NULL, &t);
	CHECK(ov > 0.49 && ov < 0.51);
	ret_terms_clear(&q2);
	ret_terms_clear(&t);
	ret_terms_clear(&q);
	/* irregular forms become their base, which may be longer */
	CHECK_EQ_INT(ret_terms_of("left paid booked", 16, 64, &t), 0);
	CHECK_EQ_INT(t.n, 3);
	if (t.n == 3) {
		CHECK_STR(t.t[0], "leave");
		CHECK_STR(t.t[1], "pay");
		CHECK_STR(t.t[2], "book");
	}
	ret_terms_clear(&t);
	/* an empty question covers nothing */
	CHECK_EQ_INT(ret_terms_of("what is it?", 11, 64, &q), 0);
	CHECK_EQ_INT(q.n, 0);
	CHECK(ret_term_overlap(&q, NULL, &q) == 0);
	ret_terms_clear(&q);
}

static void mmr_avoids_duplicates(void)
{
	/* 0 and 1 say the same thing; 2 is less relevant but different */
	double rel[4] = { 1.0, 0.95, 0.6, 0.1 };
	double sim[16] = { 1, 0.98, 0.1, 0, 0.98, 1, 0.1, 0, 0.1, 0.1, 1, 0, 0, 0, 0, 1 };
	size_t out[4];
	size_t n = ret_mmr_select(rel, sim, 4, 2, 0.7, 0, out);
	CHECK_EQ_INT(n, 2);
	CHECK_EQ_INT(out[0], 0);
	CHECK_EQ_INT(out[1], 2);
	/* all relevance, no diversity: the top two */
	n = ret_mmr_select(rel, sim, 4, 2, 1.0, 0, out);
	CHECK_EQ_INT(out[1], 1);
	/* the relevance floor, and k larger than what passes it */
	n = ret_mmr_select(rel, sim, 4, 4, 0.7, 0.5, out);
	CHECK_EQ_INT(n, 3);
	CHECK_EQ_INT(ret_mmr_select(rel, sim, 0, 3, 0.7, 0, out), 0);
}

static void citation_labels(void)
{
	char b[256];
	struct store_hit h = { .type = "mail",
			       .title = "Booking confirmation",
			       .author = "Majorna Tandv\xc3\xa5rd <bokning@example.com>",
			       .date = 1793193002,
			       .source_path = "/m",
			       .path = "cur/1" };
	ret_cite_label(&h, 0, 0, b, sizeof b);
	CHECK_STR(b, "Booking confirmation, Majorna Tandv\xc3\xa5rd, 2026-10-28");
	h.author = "<noreply@example.com>";
	h.title = "";
	h.date = 0;
	ret_cite_label(&h, 0, 0, b, sizeof b);
	CHECK_STR(b, "(no subject), noreply@example.com");
	h.author = "\"Berg, Sofia\" <s@example.com>";
	h.title = "Cabin";
	ret_cite_label(&h, 0, 0, b, sizeof b);
	CHECK_STR(b, "Cabin, Berg, Sofia");
	struct store_hit f = { .type = "note",
			       .source_path = "/home/n",
			       .path = "todo.md",
			       .line_start = 12,
			       .line_end = 30 };
	ret_cite_label(&f, 0, 0, b, sizeof b);
	CHECK_STR(b, "/home/n/todo.md:12-30");
	ret_cite_label(&f, 14, 14, b, sizeof b);
	CHECK_STR(b, "/home/n/todo.md:14");
	struct store_hit pdf = {
		.type = "pdf", .source_path = "/d/a.pdf", .path = "", .page_start = 3
	};
	ret_cite_label(&pdf, 0, 0, b, sizeof b);
	CHECK_STR(b, "/d/a.pdf p. 3");
	/* truncation keeps the buffer terminated */
	char small[8];
	ret_cite_label(&f, 0, 0, small, sizeof small);
	CHECK_EQ_INT(strlen(small), 7);
}

static void support_scores(void)
{
	CHECK(ret_support_score(-2, 0.5) == 0.5);
	CHECK(ret_support_score(0.8, 1.0) > 0.89 && ret_support_score(0.8, 1.0) < 0.91);
	CHECK(ret_support_score(-0.5, 0.4) > 0.19 && ret_support_score(-0.5, 0.4) < 0.21);
}

/* A two-document context built by hand. */
static void fake_context(struct ret_answer *a)
{
	memset(a, 0, sizeof *a);
	a->ctx = calloc(2, sizeof *a->ctx);
	a->nctx = 2;
	a->ncites = 2;
	a->ctx[0].cite = 1;
	a->ctx[0].hit = (struct store_hit){
		.chunk_id = 7,
		.type = strdup("mail"),
		.title = strdup("Dental check-up"),
		.author = strdup("Clinic <c@example.com>"),
		.text = strdup("Your appointment is on Tuesday 17 November at 09:40 with Dr Karin "
			       "Ahlgren.\nLate cancellations cost 650 SEK."),
		.source_path = strdup("/m"),
		.path = strdup("cur/1"),
	};
	a->ctx[1].cite = 2;
	a->ctx[1].hit = (struct store_hit){
		.chunk_id = 9,
		.type = strdup("note"),
		.title = strdup("Plants"),
		.text = strdup("Water the monstera every 10 days."),
		.source_path = strdup("/n"),
		.path = strdup("plants.md"),
		.line_start = 3,
		.line_end = 3,
	};
}

static void check_citations(void)
{
	struct ret_answer a;
	fake_context(&a);
	const char *ans = "The appointment is at 09:40 with Dr Karin Ahlgren [1]. "
			  "Water the monstera every 10 days [2]. "
			  "The appointment is at the harbour office [2]. "
			  "Cancelling late costs 650 SEK. [1] "
			  "It is sunny [7]. "
			  "No citation here.";
	CHECK_EQ_INT(ret_answer_check(&a, ans, NULL, 0.5), 0);
	CHECK_EQ_INT(a.nsent, 6);
	if (a.nsent == 6) {
		CHECK_EQ_INT(a.sent[0].cite, 1);
		CHECK(a.sent[0].supported);
		CHECK(a.sent[0].support > 0.9);
		CHECK_EQ_INT(a.sent[1].cite, 2);
		CHECK(a.sent[1].supported);
		/* a claim cited to a document that does not hold it */
		CHECK_EQ_INT(a.sent[2].cite, 2);
		CHECK(!a.sent[2].supported);
		CHECK(a.sent[2].support < a.sent[1].support);
		/* "[1]" after the full stop belongs to the sentence before */
		CHECK_EQ_INT(a.sent[3].cite, 1);
		CHECK(a.sent[3].supported);
		/* a number outside the context */
		CHECK_EQ_INT(a.sent[4].cite, 7);
		CHECK(!a.sent[4].supported);
		CHECK(a.sent[4].support == 0);
		/* no citation: nothing to check */
		CHECK_EQ_INT(a.sent[5].cite, 0);
		CHECK(a.sent[5].support < 0);
	}
	/* several citations on one sentence: the first is checked */
	CHECK_EQ_INT(ret_answer_check(&a, "Water it every 10 days [2, 1][1].", NULL, 0.5), 0);
	CHECK_EQ_INT(a.nsent, 1);
	if (a.nsent == 1) {
		CHECK_EQ_INT(a.sent[0].cite, 2);
		CHECK_EQ_INT(a.sent[0].ncites, 3);
	}
	/* brackets that are not citations stay text */
	CHECK_EQ_INT(ret_answer_check(&a, "See [the form] and [1a].", NULL, 0.5), 0);
	CHECK_EQ_INT(a.nsent, 1);
	if (a.nsent == 1)
		CHECK_EQ_INT(a.sent[0].cite, 0);
	CHECK_EQ_INT(ret_answer_check(&a, "", NULL, 0.5), 0);
	CHECK_EQ_INT(a.nsent, 0);
	ret_answer_clear(&a);
	ret_answer_clear(&a); /* twice is fine */
}

/* With an embedder (the bert fixture: the numbers mean little, but a
 * sentence and its copy embed the same), support mixes the cosine in. */
static void check_citations_with_embedder(void)
{
	char path[4096];
	if (!test_fixture(path, sizeof path, "bert/bert-minilm-shape-q8_0.gguf"))
		return;
	struct eng_params ep = eng_params_default();
	struct eng_embedder *e = NULL;
	char err[256];
	CHECK_EQ_INT(eng_embedder_open(path, &ep, &e, err, sizeof err), 0);
	if (!e)
		return;
	struct ret_answer a;
	fake_context(&a);
	CHECK_EQ_INT(ret_answer_check(&a,
				      "Late cancellations cost 650 SEK. [1] "
				      "Bananas are yellow and grow in warm places [1].",
				      e, 0.5),
		     0);
	CHECK_EQ_INT(a.nsent, 2);
	if (a.nsent == 2) {
		/* the copy: cosine 1 with its sentence, every word found */
		CHECK(a.sent[0].support > 0.99 && a.sent[0].support <= 1.0 + 1e-6);
		CHECK(a.sent[0].supported);
		CHECK(a.sent[1].support < a.sent[0].support);
		CHECK(a.sent[1].support >= 0 && a.sent[1].support <= 1.0);
		CHECK(!a.sent[1].supported);
	}
	ret_answer_clear(&a);
	eng_embedder_close(e);
}

static void prompt_has_instructions_and_context(void)
{
	struct ret_answer a;
	fake_context(&a);
	char *p = ret_answer_prompt(&a, "When is the dentist?");
	CHECK(p != NULL);
	if (p) {
		const char *c1 = strstr(p, "[1] Dental check-up, Clinic");
		const char *t1 = strstr(p, "Tuesday 17 November at 09:40");
		const char *c2 = strstr(p, "[2] /n/plants.md:3");
		const char *q = strstr(p, "Question: When is the dentist?");
		CHECK(c1 && t1 && c2 && q);
		CHECK(c1 < t1 && t1 < c2 && c2 < q);
	}
	free(p);
	const char *ins = ret_answer_instructions();
	CHECK(strstr(ins, "only") != NULL);
	CHECK(strstr(ins, "[n]") != NULL);
	CHECK(strstr(ins, "does not contain") != NULL);
	ret_answer_clear(&a);
}

/* ---- the generative path on the random-weight qwen2 fixture ------------ */

struct stream {
	char buf[8192];
	size_t len, pieces;
};

static int collect(void *ctx, const char *piece, size_t len)
{
	struct stream *s = ctx;
	if (s->len + len < sizeof s->buf) {
		memcpy(s->buf + s->len, piece, len);
		s->len += len;
		s->buf[s->len] = '\0';
	}
	s->pieces++;
	return 0;
}

static void generate_streams_and_checks(void)
{
	struct chat *c = test_fixture_chat(256, 6);
	if (!c) {
		printf("    skip: ../shared/fixtures/llama/qwen2-s-f16.gguf not found\n");
		return;
	}
	struct ret_answer a;
	fake_context(&a);
	struct stream s = { .len = 0 };
	char *reply = NULL, *prompt = NULL;
	CHECK_EQ_INT(ret_answer_generate(&a, "When is the dentist?", c, collect, &s, NULL, 0.35,
					 &reply, &prompt),
		     0);
	CHECK(reply != NULL && prompt != NULL);
	if (reply && prompt) {
		/* the stream is the reply, in more than one piece */
		CHECK_STR(s.buf, reply);
		CHECK(s.pieces >= 2);
		/* the prompt: the numbered context, then the question */
		CHECK(strstr(prompt, "[1] Dental check-up") != NULL);
		CHECK(strstr(prompt, "[2] /n/plants.md") != NULL);
		CHECK(strstr(prompt, "Question: When is the dentist?") != NULL);
		/* the reply went through the citation check */
		CHECK(a.nsent >= 1 || !reply[0]);
		for (size_t i = 0; i < a.nsent; i++)
			CHECK(a.sent[i].cite ? a.sent[i].support >= 0 : a.sent[i].support < 0);
	}
	free(reply);
	free(prompt);
	/* deterministic: the same prompt, the same answer */
	char *again = NULL;
	CHECK_EQ_INT(ret_answer_generate(&a, "When is the dentist?", c, NULL, NULL, NULL, 0.35,
					 &again, NULL),
		     0);
	CHECK(again && !strcmp(again, s.buf));
	free(again);
	ret_answer_clear(&a);
	chat_close(c);

	/* a context too big for the window is cut until it fits */
	c = test_fixture_chat(192, 4);
	if (!c)
		return;
	fake_context(&a);
	char big[6000];
	for (size_t i = 0; i + 1 < sizeof big; i++)
		big[i] = i % 6 == 5 ? ' ' : "harbour"[i % 7];
	big[sizeof big - 1] = '\0';
	free(a.ctx[1].hit.text);
	a.ctx[1].hit.text = strdup(big);
	a.ctx_tokens = 1600;
	CHECK_EQ_INT(ret_answer_generate(&a, "When is the dentist?", c, NULL, NULL, NULL, 0.35,
					 &reply, &prompt),
		     0);
	CHECK(a.ctx_tokens < 192);
	CHECK(prompt && strstr(prompt, "[1] Dental") != NULL);
	CHECK_EQ_INT(a.ncites, 1);
	free(reply);
	free(prompt);
	ret_answer_clear(&a);
	chat_close(c);
}

static void fit_cuts_from_the_end(void)
{
	struct ret_answer a;
	fake_context(&a);
	a.ctx_tokens = 40;
	ret_answer_fit(&a, 1000);
	CHECK_EQ_INT(a.nctx, 2);
	ret_answer_fit(&a, 30);
	CHECK_EQ_INT(a.nctx, 1);
	CHECK_EQ_INT(a.ncites, 1);
	ret_answer_fit(&a, 5);
	CHECK_EQ_INT(strlen(a.ctx[0].hit.text), 20);
	CHECK(a.ctx_tokens <= 5);
	ret_answer_clear(&a);
}

/* ---- the answer path on a small index --------------------------------- */

static void put_note(struct store *st, int64_t src, const char *path, const char *title,
		     const char *text)
{
	struct store_chunk ch = {
		.text = text, .text_len = strlen(text), .line_start = 1, .line_end = 3
	};
	struct store_doc d = { .source_id = src,
			       .path = path,
			       .hash = path,
			       .type = "note",
			       .title = title,
			       .status = "ok" };
	CHECK_EQ_INT(store_doc_put(st, &d, &ch, 1, NULL), 0);
}

/* A new index in the test's folder with one notes source (*src). */
static struct store *notes_store_open(const char *name, int64_t *src)
{
	char *db = mx_path_join(test_tmpdir(), name);
	struct store *st = NULL;
	CHECK_EQ_INT(store_open(db, STORE_CREATE, &st), 0);
	free(db);
	store_source_add(st, "/n", "notes", src);
	return st;
}

static void answer_on_index(void)
{
	int64_t src = 0;
	struct store *st = notes_store_open("answer.db", &src);
	put_note(st, src, "gym.md", "Climbing",
		 "Gym: Granit Boulder.\nMembership number: GB-20417\nThe annual card costs "
		 "4 950 SEK after the renewal.");
	put_note(st, src, "travel.md", "Travel",
		 "Passport (valid until 2031).\nPack the charger and the passport.");
	put_note(st, src, "plants.md", "Plants", "Water the monstera every 10 days.");
	put_note(st, src, "porto.md", "Plans", "Sofia and I keep talking about Porto next year.");
	put_note(st, src, "flights.md", "Flights",
		 "The flight to Lisbon leaves on Thursday 8 October at 06:55.");
	put_note(st, src, "journal.md", "Journal", "The flight home was late, again.");
	struct ret_answer_params p = ret_answer_params_default(false);
	struct ret_answer a;
	CHECK_EQ_INT(ret_answer_run(st, "What is my Granit Boulder membership number?", &p, &a), 0);
	CHECK(!a.abstained);
	CHECK(a.nctx >= 1);
	CHECK(a.asks_id && a.id_found);
	CHECK(a.nsent >= 1);
	if (a.nsent >= 1) {
		CHECK(strstr(a.sent[0].text, "GB-20417") != NULL);
		CHECK_EQ_INT(a.sent[0].cite, 1);
		CHECK_STR(a.ctx[a.sent[0].chunk].hit.path, "gym.md");
		/* the sentence's own line within the chunk */
		CHECK_EQ_INT(a.sent[0].line_start, 2);
	}
	ret_answer_clear(&a);
	/* a number asked for where there is none: abstain, keep the hits */
	CHECK_EQ_INT(ret_answer_run(st, "What is my passport number?", &p, &a), 0);
	CHECK(a.abstained);
	CHECK(a.asks_id && !a.id_found);
	CHECK(a.nctx >= 1);
	CHECK_EQ_INT(a.nsent, 0);
	/* the sentences it would have answered with point into the hits */
	bool near_passport = false;
	for (size_t i = 0; i < a.nnear; i++)
		near_passport |= strstr(a.near[i].text, "assport") != NULL;
	CHECK(near_passport);
	ret_answer_clear(&a);
	/* a date asked for: one beside the flight to Lisbon, none for Porto */
	CHECK_EQ_INT(ret_answer_run(st, "When does the flight to Lisbon leave?", &p, &a), 0);
	CHECK(a.asks_typed && a.typed_found);
	CHECK(!a.abstained);
	CHECK(a.nsent >= 1 && strstr(a.sent[0].text, "8 October") != NULL);
	ret_answer_clear(&a);
	CHECK_EQ_INT(ret_answer_run(st, "When is my flight to Porto?", &p, &a), 0);
	CHECK(a.asks_typed && !a.typed_found);
	CHECK(a.abstained);
	ret_answer_clear(&a);
	/* nothing matches at all */
	CHECK_EQ_INT(ret_answer_run(st, "zebra quantum", &p, &a), 0);
	CHECK(a.abstained);
	CHECK_EQ_INT(a.nctx, 0);
	ret_answer_clear(&a);
	/* a sum asked for: one in a sentence about the card answers; one
	 * for the passport, whose sentences have none, is withheld, however
	 * well its words are covered */
	CHECK_EQ_INT(ret_answer_run(st, "How much does the annual card cost?", &p, &a), 0);
	CHECK_STR(a.kind, "money");
	CHECK(a.slot >= p.min_slot);
	CHECK(!a.abstained);
	CHECK(a.nsent >= 1 && strstr(a.sent[0].text, "4 950 SEK") != NULL);
	ret_answer_clear(&a);
	CHECK_EQ_INT(ret_answer_run(st, "What did I pay for the passport?", &p, &a), 0);
	CHECK_STR(a.kind, "money");
	CHECK(a.coverage >= p.min_coverage);
	CHECK(a.slot < p.min_slot);
	CHECK(a.abstained);
	ret_answer_clear(&a);
	/* "how many" asks for a number, a date for "which day" */
	CHECK_EQ_INT(ret_answer_run(st, "How many days between waterings?", &p, &a), 0);
	CHECK_STR(a.kind, "count");
	ret_answer_clear(&a);
	CHECK_EQ_INT(ret_answer_run(st, "Which day does the Lisbon flight leave?", &p, &a), 0);
	CHECK_STR(a.kind, "when");
	ret_answer_clear(&a);
	/* the words are not there: coverage below the threshold (0.5 here),
	 * abstain; forced, answer */
	p.min_coverage = 0.5;
	CHECK_EQ_INT(ret_answer_run(st, "How often do I water the cactus outside?", &p, &a), 0);
	CHECK(a.abstained);
	ret_answer_clear(&a);
	p.no_abstain = true;
	CHECK_EQ_INT(ret_answer_run(st, "How often do I water the cactus outside?", &p, &a), 0);
	CHECK(!a.abstained);
	CHECK(a.nsent >= 1);
	ret_answer_clear(&a);
	CHECK_EQ_INT(ret_answer_run(st, "?!", &p, &a), MX_EEMPTY);
	ret_answer_clear(&a);
	store_close(st);
}

/* The rules on what the question names and asks about (answer.h,
 * ret_answer_abstains), each way. */
/* The rules that carry to new questions: a phone number is an identifier
 * (and what a "phone number" asks for), a field label's last word names
 * its kind ("Due date"), the coverage counts the things asked about and
 * not the words for the kind of answer, and a sentence far from the
 * question's names loses to one beside them. */
static void answer_rules_generalise(void)
{
	int64_t src = 0;
	struct store *st = notes_store_open("general.db", &src);
	put_note(st, src, "contacts.txt", "Contacts",
		 "FAMILY\n  Mamma (Eva Lindqvist)   +46 70 555 62 11\n");
	put_note(st, src, "bank.md", "Bank", "The bank's savings goal is 60 000 SEK this year.");
	put_note(st, src, "invoice.md", "Electricity invoice",
		 "Your electricity invoice is ready.\nInvoice period: September\n"
		 "Due date: 30 October 2026\nPlease pay the invoice in time.");
	put_note(st, src, "clinic.md", "Dental clinic", "Where: Mastgatan 4, 2nd floor.");
	put_note(st, src, "talk.md", "App review",
		 "The old app got 2.9 stars in the store, and people gave it many stars less "
		 "since.");
	put_note(st, src, "books.md", "Reading list",
		 "The Quiet Grid by Hanna Wiklund.\nRating: 4/5.");
	struct ret_answer_params p = ret_answer_params_default(false);
	struct ret_answer a;
	CHECK_EQ_INT(ret_answer_run(st, "What is mamma's phone number?", &p, &a), 0);
	CHECK(a.asks_id && a.id_found);
	CHECK(!a.abstained);
	CHECK(a.nsent >= 1 && strstr(a.sent[0].text, "+46 70 555 62 11") != NULL);
	ret_answer_clear(&a);
	/* an amount is not a phone number */
	CHECK_EQ_INT(ret_answer_run(st, "What is the phone number of the bank?", &p, &a), 0);
	CHECK(a.asks_id && !a.id_found);
	CHECK(a.abstained);
	ret_answer_clear(&a);
	CHECK_EQ_INT(
		ret_answer_run(st, "By what date must the electricity invoice be paid?", &p, &a),
		0);
	CHECK(!a.abstained);
	CHECK(a.nsent >= 1 && strstr(a.sent[0].text, "30 October 2026") != NULL);
	ret_answer_clear(&a);
	/* "address" names the kind of answer: the clinic covers the question */
	CHECK_EQ_INT(ret_answer_run(st, "What is the address of the dental clinic?", &p, &a), 0);
	CHECK(a.coverage > 0.99);
	CHECK(!a.abstained);
	ret_answer_clear(&a);
	CHECK_EQ_INT(ret_answer_run(st, "How many stars did I give The Quiet Grid?", &p, &a), 0);
	CHECK(a.nsent >= 1 && strstr(a.sent[0].text, "4/5") != NULL);
	ret_answer_clear(&a);
	store_close(st);
}

static void abstention_rules(void)
{
	int64_t src = 0;
	struct store *st = notes_store_open("rules.db", &src);
	put_note(st, src, "jam.md", "GRANIT BOULDER NEWS",
		 "The Granit Autumn Jam is on Saturday 21 November at Granit Boulder.");
	put_note(st, src, "course.md", "Course", "Portuguese course.\nTeacher: Joana Ferreira");
	put_note(st, src, "mormor.md", "Mormor",
		 "Mormor's address: Kvarngatan 3, Alingsås.\nMamma takes the train home.");
	put_note(st, src, "bank.md", "Bank", "Savings account: 2 000 SEK goes in each month.");
	put_note(st, src, "flights.md", "Flights",
		 "The flight to Lisbon leaves on Thursday 8 October at 06:55.");
	struct ret_answer_params p = ret_answer_params_default(false);
	struct ret_answer a;
	/* who: a name that the question does not already say */
	CHECK_EQ_INT(ret_answer_run(st, "Who won the Granit Autumn Jam?", &p, &a), 0);
	CHECK(a.asks_typed && !a.typed_found);
	CHECK(a.abstained);
	ret_answer_clear(&a);
	CHECK_EQ_INT(ret_answer_run(st, "Who teaches my Portuguese course?", &p, &a), 0);
	CHECK(a.asks_typed && a.typed_found);
	CHECK(!a.abstained);
	ret_answer_clear(&a);
	/* an address: the possessor in the sentence that has it */
	CHECK_EQ_INT(ret_answer_run(st, "What is mormor's address?", &p, &a), 0);
	CHECK(a.asks_typed && a.typed_found);
	CHECK(!a.abstained);
	CHECK(a.nsent >= 1 && strstr(a.sent[0].text, "Kvarngatan 3") != NULL);
	ret_answer_clear(&a);
	CHECK_EQ_INT(ret_answer_run(st, "What is mamma's home address?", &p, &a), 0);
	CHECK(a.asks_typed && !a.typed_found);
	CHECK(a.abstained);
	ret_answer_clear(&a);
	/* the thing asked about is nowhere in the context */
	CHECK_EQ_INT(
		ret_answer_run(st, "What is the current balance of my savings account?", &p, &a),
		0);
	CHECK(a.head_missing && !a.entity_missing);
	CHECK(a.abstained);
	ret_answer_clear(&a);
	/* a named place that no context chunk has */
	CHECK_EQ_INT(ret_answer_run(st, "Which seat do I have on the flight to Madrid?", &p, &a),
		     0);
	CHECK(a.entity_missing);
	CHECK(a.abstained);
	ret_answer_clear(&a);
	CHECK_EQ_INT(ret_answer_run(st, "Which day does the flight to Lisbon leave?", &p, &a), 0);
	CHECK(!a.entity_missing && !a.head_missing);
	CHECK(!a.abstained);
	ret_answer_clear(&a);
	store_close(st);
}

/* The learned abstention model: the features of an answer, the fit
 * (it finds which signal tells the labels apart, and by its sign), and
 * ret_answer_abstains deciding by the model when asked to. */
static void abstention_model_learns(void)
{
	struct ret_answer a = { .nctx = 2,
				.coverage = 0.75,
				.cosine = 0.5,
				.sent_cosine = -2,
				.asks_id = true,
				.id_found = false,
				.asks_typed = false,
				.entity_missing = true,
				.head_missing = false };
	double x[RET_ABST_NFEAT];
	ret_abstain_features(&a, x);
	CHECK(x[0] == 0.75 && x[1] == 0.5 && x[2] == 0);
	CHECK(x[3] == 1 && x[4] == 0 && x[5] == 0 && x[6] == 1 && x[7] == 0);
	/* 40 examples: "answer" exactly when the sentence cosine is high and
	 * nothing named is missing; coverage is noise */
	double X[40 * RET_ABST_NFEAT] = { 0 }, w[RET_ABST_NW];
	int y[40];
	for (int i = 0; i < 40; i++) {
		double *xi = X + i * RET_ABST_NFEAT;
		xi[0] = (double)((i * 7) % 10) / 10;
		xi[2] = i % 2 ? 0.7 : 0.3;
		xi[6] = i % 5 == 0;
		y[i] = i % 2 && i % 5;
	}
	CHECK_EQ_INT(ret_abstain_fit(X, y, 0, 1, w), MX_EINVAL);
	CHECK_EQ_INT(ret_abstain_fit(X, y, 40, 0.01, w), 0);
	CHECK(w[3] > 1);		    /* sent_cosine raises p */
	CHECK(w[7] < -1);		    /* name_absent lowers it */
	CHECK(fabs(w[1]) < fabs(w[3]) / 4); /* coverage barely matters */
	int right = 0;
	for (int i = 0; i < 40; i++)
		right += (ret_abstain_prob(w, X + i * RET_ABST_NFEAT) >= 0.5) == (y[i] != 0);
	CHECK_EQ_INT(right, 40);
	/* deterministic */
	double w2[RET_ABST_NW];
	CHECK_EQ_INT(ret_abstain_fit(X, y, 40, 0.01, w2), 0);
	CHECK(!memcmp(w, w2, sizeof w));
	/* ret_answer_abstains: the model decides when p.learned */
	struct ret_abst_model m = { .min_p = 0.5 };
	memcpy(m.w, w, sizeof m.w);
	struct ret_answer_params p = ret_answer_params_default(false);
	p.learned = true;
	p.model = &m;
	struct ret_answer b = { .nctx = 1, .coverage = 0.1, .cosine = -2, .sent_cosine = 0.7 };
	CHECK(ret_answer_abstains(&p, &b) == false); /* the rules would withhold it */
	p.learned = false;
	CHECK(ret_answer_abstains(&p, &b) == true);
	p.learned = true;
	b.entity_missing = true;
	CHECK(ret_answer_abstains(&p, &b) == true);
	b.entity_missing = false;
	b.nctx = 0; /* no context: withheld whatever the model says */
	CHECK(ret_answer_abstains(&p, &b) == true);
	/* the compiled-in models: one per mode, thresholds in (0, 1) */
	const struct ret_abst_model *h = ret_abstain_model_default(true),
				    *bm = ret_abstain_model_default(false);
	CHECK(h != bm && h->min_p > 0 && h->min_p < 1 && bm->min_p > 0 && bm->min_p < 1);
}

/* The sentence stage's order: the fusion's, moved by the best sentence. */
static void rerank_order_blends(void)
{
	const double fused[4] = { 1.0, 0.8, 0.5, 0.1 };
	const double best[4] = { 0.2, 0.3, 0.2, 0.9 };
	size_t o[4];
	/* weight 0: the fusion's order */
	ret_rerank_order(fused, best, 4, 0, o);
	for (size_t i = 0; i < 4; i++)
		CHECK_EQ_INT(o[i], i);
	/* weight 1: 1.2, 1.1, 0.7, 1.0 */
	ret_rerank_order(fused, best, 4, 1, o);
	CHECK_EQ_INT(o[0], 0);
	CHECK_EQ_INT(o[1], 1);
	CHECK_EQ_INT(o[2], 3);
	CHECK_EQ_INT(o[3], 2);
	/* weight 2: 1.4, 1.4 (a tie keeps the fusion's order), 0.9, 1.9 */
	ret_rerank_order(fused, best, 4, 2, o);
	CHECK_EQ_INT(o[0], 3);
	CHECK_EQ_INT(o[1], 0);
	CHECK_EQ_INT(o[2], 1);
	CHECK_EQ_INT(o[3], 2);
	ret_rerank_order(fused, best, 0, 2, o); /* nothing to order */
}

/* A note whose chunk is embedded with e (model), as the indexer does. */
static void put_embedded(struct store *st, int64_t src, struct eng_embedder *e, int64_t model,
			 const char *path, const char *title, const char *text)
{
	put_note(st, src, path, title, text);
	int d = eng_embedder_dims(e);
	float *v = malloc((size_t)d * sizeof *v);
	CHECK(v != NULL);
	if (!v)
		return;
	CHECK_EQ_INT(eng_embed(e, &text, 1, ENG_PASSAGE, v), 0);
	CHECK_EQ_INT(store_vector_put(st, store_last_chunk_id(st), model, v, d), 0);
	free(v);
}

/* The sentence stage finds the document with the one line that answers,
 * which the fusion of the two legs ranks below documents that repeat the
 * question's words. The bert fixture's numbers mean little, but a sentence
 * and its copy embed the same: the question is a copy of the line, so that
 * line is the closest sentence of the pool. */
static void sentence_stage_finds_the_line(void)
{
	char path[4096];
	if (!test_fixture(path, sizeof path, "bert/bert-minilm-shape-q8_0.gguf"))
		return;
	struct eng_params ep = eng_params_default();
	struct eng_embedder *e = NULL;
	char err[256];
	CHECK_EQ_INT(eng_embedder_open(path, &ep, &e, err, sizeof err), 0);
	if (!e)
		return;
	int64_t src = 0, model = 0;
	struct store *st = notes_store_open("stage.db", &src);
	CHECK_EQ_INT(store_model_id(st, eng_embedder_fingerprint(e), eng_embedder_dims(e), "bert",
				    &model),
		     0);
	/* documents without the question's words, so that BM25 finds them rare */
	static const char *const other[] = { "Water the monstera every ten days.",
					     "The ferry leaves from the pier at noon.",
					     "Rent is paid by the last day of the month.",
					     "The dentist is on Tuesday morning.",
					     "Bake the buns in the middle of the oven.",
					     "The talk is on the second stage." };
	for (size_t i = 0; i < sizeof other / sizeof *other; i++) {
		char name[16];
		snprintf(name, sizeof name, "o%zu.md", i);
		put_embedded(st, src, e, model, name, "Other", other[i]);
	}
	/* short lists of the question's words: BM25 ranks them first */
	put_embedded(st, src, e, model, "gift.md", "Gift card participants",
		     "Gift card, participants, 300 SEK each: card participants gift SEK 300 each.");
	put_embedded(st, src, e, model, "cards.md", "Participants",
		     "Participants 300 each; gift card SEK; participants gift card 300 SEK each.");
	put_embedded(st, src, e, model, "test.md", "Test day",
		     "The schedule of the test day.\nSet-up at 09:15 in the small room.\n"
		     "Lunch at 12:00, then two more sessions.\n"
		     "Participants get a 300 SEK gift card each.\n"
		     "The debrief starts at 15:30 with the top findings on the wall.");
	struct ret_answer_params p = ret_answer_params_default(true);
	p.ret.embedder = e;
	p.ret.model_id = model;
	p.ret.w_dense = 0; /* the fusion is BM25's order alone */
	p.docs = 1;
	p.no_abstain = true;
	p.w_sent = 100; /* the best sentence decides */
	const char *q = "Participants get a 300 SEK gift card each.";
	struct ret_answer a;
	/* without the stage the documents that repeat the words lead */
	p.pool = 0;
	CHECK_EQ_INT(ret_answer_run(st, q, &p, &a), 0);
	CHECK(a.nctx >= 1 && strcmp(a.ctx[0].hit.path, "test.md") != 0);
	ret_answer_clear(&a);
	p.pool = 20;
	CHECK_EQ_INT(ret_answer_run(st, q, &p, &a), 0);
	CHECK(a.nctx >= 1 && !strcmp(a.ctx[0].hit.path, "test.md"));
	CHECK(a.nsent >= 1 && strstr(a.sent[0].text, "300 SEK gift card") != NULL);
	ret_answer_clear(&a);
	/* with vectors too: no word, no question; none of its words in the
	 * context, no answer however close the vectors */
	CHECK_EQ_INT(ret_answer_run(st, " ?! ", &p, &a), MX_EEMPTY);
	ret_answer_clear(&a);
	p.no_abstain = false;
	p.min_cos = -1; /* any cosine would do */
	CHECK_EQ_INT(ret_answer_run(st, "vad kostar hyran?", &p, &a), 0);
	CHECK(a.nctx >= 1);
	CHECK(a.coverage < 0.1);
	CHECK(a.abstained);
	ret_answer_clear(&a);
	store_close(st);
	eng_embedder_close(e);
}

/* An answer whose best sentence only restates the question answers
 * nothing: withheld; a sentence that names the thing asked answers. */
static void restating_sentence_abstains(void)
{
	int64_t src = 0;
	struct store *st = notes_store_open("restate.db", &src);
	put_note(st, src, "party.md", "Party",
		 "Mamma has ordered flowers from the florist in Alingsås.");
	put_note(st, src, "other.md", "Other", "The train to Alingsås leaves at 15:42.");
	struct ret_answer_params p = ret_answer_params_default(false);
	struct ret_answer a;
	const char *q = "Which florist in Alingsås did mamma order the flowers from?";
	CHECK_EQ_INT(ret_answer_run(st, q, &p, &a), 0);
	CHECK_EQ_INT(a.novelty, 0);
	CHECK(a.abstained);
	ret_answer_clear(&a);
	store_close(st);
	st = notes_store_open("restate2.db", &src);
	put_note(st, src, "party.md", "Party",
		 "Mamma has ordered flowers from Blomsterhörnan, the florist in Alingsås.");
	CHECK_EQ_INT(ret_answer_run(st, q, &p, &a), 0);
	CHECK(a.novelty >= 1);
	CHECK(!a.abstained);
	CHECK(a.nsent >= 1 && strstr(a.sent[0].text, "Blomsterhörnan") != NULL);
	ret_answer_clear(&a);
	store_close(st);
}

/* A written answer that says the context lacks the answer is a withheld
 * one; an answer is not. */
static void model_declines(void)
{
	CHECK(ret_answer_declines("The data does not contain the answer to this question."));
	CHECK(ret_answer_declines("The context doesn\xe2\x80\x99t say when the after-party ends."));
	CHECK(ret_answer_declines("I don't know [1]."));
	CHECK(ret_answer_declines("Sorry, I cannot find a price for the photo book."));
	CHECK(!ret_answer_declines("The check-up is on Tuesday 17 November at 09:40 [1]."));
	CHECK(!ret_answer_declines("The vase cost 1 290 SEK [2]."));
	CHECK(!ret_answer_declines(""));
	CHECK(!ret_answer_declines(NULL));
}

static const struct test_case tests[] = {
	TEST(sentences_prose),
	TEST(sentences_forms_and_lists),
	TEST(sentences_long_are_cut),
	TEST(terms_and_overlap),
	TEST(mmr_avoids_duplicates),
	TEST(citation_labels),
	TEST(support_scores),
	TEST(check_citations),
	TEST(check_citations_with_embedder),
	TEST(prompt_has_instructions_and_context),
	TEST(answer_on_index),
	TEST(abstention_rules),
	TEST(abstention_model_learns),
	TEST(rerank_order_blends),
	TEST(sentence_stage_finds_the_line),
	TEST(answer_rules_generalise),
	TEST(restating_sentence_abstains),
	TEST(model_declines),
	TEST(fit_cuts_from_the_end),
	TEST(generate_streams_and_checks),
};

TEST_MAIN(tests)
