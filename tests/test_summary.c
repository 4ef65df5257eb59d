/* test_summary.c - summaries: extractive summaries hold only sentences of
 * their source, in its order; centrality scores; long texts in windows;
 * dates; addresses; thread fields (participants, timeline, decisions,
 * open questions, action items with due days); written summaries with
 * map-reduce on the random-weight qwen2 fixture. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "../common/buf.h"
#include "../common/status.h"
#include "../engine/chat.h"
#include "../engine/engine.h"
#include "../retriever/summary.h"
#include "harness.h"

/* ---- helpers -------------------------------------------------------------- */

static const char doc[] =
	"# Ferry timetable change\n"
	"\n"
	"The winter timetable for the Styrsö ferry starts on Monday 7 December.\n"
	"Departures from Saltholmen move ten minutes later in the morning.\n"
	"Hi all,\n"
	"The evening ferry from Styrsö to Saltholmen leaves at 22:40 instead of 23:10.\n"
	"Bananas are yellow and grow in warm places far away.\n"
	"The winter timetable for the ferry is valid until the spring timetable in March.\n"
	"\n"
	"| Day | First | Last |\n"
	"| Mon | 05:40 | 22:40 |\n"
	"\n"
	"Questions about the ferry timetable go to the Västtrafik customer service.\n";

/* Checks that the picks are whole sentences of text (as the splitter cuts
 * them), strictly in source order, none inside skip. */
static void check_source_sentences(const char *text, size_t len, const struct ret_sum_sent *s,
				   size_t n, const struct ret_span *skip, size_t nskip)
{
	struct ret_span *all = NULL;
	size_t na = 0;
	CHECK_EQ_INT(ret_sentences_split(text, len, &all, &na), 0);
	for (size_t i = 0; i < n; i++) {
		bool found = false;
		for (size_t j = 0; j < na && !found; j++)
			found = all[j].start == s[i].sp.start && all[j].end == s[i].sp.end;
		if (!found)
			printf("    not a sentence of the source: '%.*s'\n",
			       (int)(s[i].sp.end - s[i].sp.start), text + s[i].sp.start);
		CHECK(found);
		if (i)
			CHECK(s[i - 1].sp.end <= s[i].sp.start);
		for (size_t k = 0; k < nskip; k++)
			CHECK(s[i].sp.end <= skip[k].start || s[i].sp.start >= skip[k].end);
	}
	free(all);
}

static bool picked(const char *text, const struct ret_sum_sent *s, size_t n, const char *needle)
{
	for (size_t i = 0; i < n; i++) {
		size_t l = s[i].sp.end - s[i].sp.start;
		char *t = strndup(text + s[i].sp.start, l);
		bool hit = t && strstr(t, needle);
		free(t);
		if (hit)
			return true;
	}
	return false;
}

/* ---- extractive ----------------------------------------------------------- */

static void eligible(void)
{
	CHECK(ret_summary_eligible("The ferry leaves at ten.", 24));
	CHECK(!ret_summary_eligible("Hi all,", 7));
	CHECK(!ret_summary_eligible("Hi Jonas, Maya and Priya,", 25));
	CHECK(!ret_summary_eligible("| Mon | 05:40 | 22:40 | 23:10 |", 31));
	CHECK(!ret_summary_eligible("12 34 56 78 90 11", 17));
	CHECK(!ret_summary_eligible("Three words only", 16));
	CHECK(!ret_summary_eligible("CHAPTER 1 - INTRODUCTION TO IT", 30));
	CHECK(!ret_summary_eligible("Signed-off-by: Joe Perches <joe@perches.com>", 44));
	CHECK(!ret_summary_eligible("LK> It does not look like the patch is in git", 46));
	CHECK(!ret_summary_eligible("the patch\nLK> It does not look like it is in", 44));
}

static void pick_order(void)
{
	double sc[] = { 0.1, 0.9, 0.5, 0.9, 0.2, 0.7 };
	size_t out[6];
	/* the best three are 1, 3 (tie: both) and 5, returned in order */
	CHECK_EQ_INT(ret_summary_pick(sc, 6, 3, out), 3);
	CHECK_EQ_INT(out[0], 1);
	CHECK_EQ_INT(out[1], 3);
	CHECK_EQ_INT(out[2], 5);
	/* a tie at the cut keeps the earlier */
	double eq[] = { 0.5, 0.5, 0.5 };
	CHECK_EQ_INT(ret_summary_pick(eq, 3, 2, out), 2);
	CHECK_EQ_INT(out[0], 0);
	CHECK_EQ_INT(out[1], 1);
	CHECK_EQ_INT(ret_summary_pick(sc, 6, 10, out), 6);
	for (size_t i = 0; i < 6; i++)
		CHECK_EQ_INT(out[i], i);
	CHECK_EQ_INT(ret_summary_pick(sc, 0, 3, out), 0);
}

static void score_centrality(void)
{
	const char *s[] = {
		"The ferry timetable changes in winter.",
		"The winter ferry timetable starts in December.",
		"Bananas are yellow fruit.",
		"The ferry leaves Saltholmen later in winter.",
	};
	double sc[4];
	struct ret_summary_params p = ret_summary_params_default();
	char err[160] = "";
	CHECK_EQ_INT(ret_summary_score(s, 4, &p, sc, NULL, err, sizeof err), 0);
	/* the outlier is the least central; scores in 0..1 */
	for (int i = 0; i < 4; i++) {
		CHECK(sc[i] >= 0 && sc[i] <= 1);
		if (i != 2)
			CHECK(sc[i] > sc[2]);
	}
	CHECK(sc[2] < 1e-9);
	/* one sentence */
	CHECK_EQ_INT(ret_summary_score(s, 1, &p, sc, NULL, err, sizeof err), 0);
	CHECK(sc[0] >= 0 && sc[0] <= 1);
}

static void extract_source_order(void)
{
	struct ret_summary_params p = ret_summary_params_default();
	struct ret_sum_sent *s = NULL;
	size_t n = 0;
	bool tr = true;
	char err[160] = "";
	p.sentences = 3;
	CHECK_EQ_INT(
		ret_summary_extract(doc, strlen(doc), NULL, 0, &p, &s, &n, &tr, err, sizeof err),
		0);
	CHECK_EQ_INT(n, 3);
	CHECK(!tr);
	check_source_sentences(doc, strlen(doc), s, n, NULL, 0);
	/* neither the outlier, the greeting, the heading nor a table row */
	CHECK(!picked(doc, s, n, "Bananas"));
	CHECK(!picked(doc, s, n, "Hi all"));
	CHECK(!picked(doc, s, n, "|"));
	CHECK(!picked(doc, s, n, "# Ferry"));
	CHECK(picked(doc, s, n, "winter timetable"));
	free(s);

	/* a skipped span (a quote) is never picked, even when central */
	const char *w = strstr(doc, "The winter timetable for the Styrsö");
	struct ret_span sk = { (size_t)(w - doc), (size_t)(w - doc) + 40 };
	CHECK_EQ_INT(
		ret_summary_extract(doc, strlen(doc), &sk, 1, &p, &s, &n, NULL, err, sizeof err),
		0);
	CHECK(n > 0);
	check_source_sentences(doc, strlen(doc), s, n, &sk, 1);
	CHECK(!picked(doc, s, n, "Styrsö ferry starts"));
	free(s);

	/* more sentences asked for than there are: all eligible ones */
	p.sentences = 50;
	CHECK_EQ_INT(
		ret_summary_extract(doc, strlen(doc), NULL, 0, &p, &s, &n, NULL, err, sizeof err),
		0);
	CHECK_EQ_INT(n, 6);
	check_source_sentences(doc, strlen(doc), s, n, NULL, 0);
	free(s);

	/* nothing to summarise */
	CHECK_EQ_INT(ret_summary_extract("", 0, NULL, 0, &p, &s, &n, NULL, err, sizeof err), 0);
	CHECK_EQ_INT(n, 0);
	CHECK(s == NULL);
	CHECK_EQ_INT(ret_summary_extract("Hi. Ok.", 7, NULL, 0, &p, &s, &n, NULL, err, sizeof err),
		     0);
	CHECK_EQ_INT(n, 0);
	free(s);

	/* a numbered heading ("## 3. Success metrics ..."): the splitter cuts
	 * "## 3." off, the rest is still the heading, not a sentence */
	const char *h = "## 3. Success metrics (measured six months after launch)\n\n"
			"| Metric | Today |\n|---|---|\n| Rating | 2.9 |\n\n"
			"The new ticket flow ships in the spring release.\n";
	CHECK_EQ_INT(ret_summary_extract(h, strlen(h), NULL, 0, &p, &s, &n, NULL, err, sizeof err),
		     0);
	CHECK(!picked(h, s, n, "Success metrics"));
	CHECK(picked(h, s, n, "ticket flow"));
	free(s);
}

/* A text of many windows and groups: the map and reduce rounds still
 * return sentences of the source in its order, and find the theme that
 * runs through the whole text. */
static void extract_long_text(void)
{
	/* noise: sentences of made-up words that rarely repeat; the theme:
	 * one sentence in 50, variations on the same words */
	static const char *const themes[] = {
		"The harbor ferry timetable changes again in winter.",
		"In winter the harbor ferry timetable changes again.",
		"Again the harbor ferry timetable changes for winter.",
	};
	struct mx_buf b;
	uint32_t r = 12345;
	mx_buf_init(&b, 1u << 22);
	for (int i = 0; i < 3000; i++) {
		if (i % 50 == 0) {
			mx_buf_appendf(&b, "%s\n", themes[(i / 50) % 3]);
			continue;
		}
		for (int w = 0; w < 7; w++) {
			char word[8];
			for (int k = 0; k < 6; k++) {
				r = r * 1103515245u + 12345u;
				word[k] = (char)('a' + (r >> 16) % 26);
			}
			word[6] = '\0';
			mx_buf_appendf(&b, "%s%s", w ? " " : "", word);
		}
		mx_buf_appends(&b, i % 7 == 0 ? ".\n\n" : ".\n");
	}
	CHECK(b.len > 2 * RET_SUM_WINDOW);
	struct ret_summary_params p = ret_summary_params_default();
	struct ret_sum_sent *s = NULL;
	size_t n = 0;
	char err[160] = "";
	p.sentences = 4;
	clock_t t0 = clock();
	CHECK_EQ_INT(ret_summary_extract(b.data, b.len, NULL, 0, &p, &s, &n, NULL, err, sizeof err),
		     0);
	double secs = (double)(clock() - t0) / CLOCKS_PER_SEC;
	CHECK_EQ_INT(n, 4);
	check_source_sentences(b.data, b.len, s, n, NULL, 0);
	size_t theme = 0;
	for (size_t i = 0; i < n; i++)
		theme += picked(b.data, &s[i], 1, "harbor ferry");
	/* no two picks the same sentence (the redundancy penalty) */
	for (size_t i = 0; i + 1 < n; i++)
		for (size_t j = i + 1; j < n; j++)
			CHECK(s[i].sp.end - s[i].sp.start != s[j].sp.end - s[j].sp.start ||
			      memcmp(b.data + s[i].sp.start, b.data + s[j].sp.start,
				     s[i].sp.end - s[i].sp.start));
	if (theme < 2)
		for (size_t i = 0; i < n; i++)
			printf("    picked: %.*s\n", (int)(s[i].sp.end - s[i].sp.start),
			       b.data + s[i].sp.start);
	CHECK(theme >= 2);
	CHECK(secs < 30);
	free(s);
	mx_buf_free(&b);
}

/* With an embedder (the bert fixture: the numbers mean little, but the
 * path runs): still sentences of the source, in order. */
static void extract_with_embedder(void)
{
	char path[4096];
	if (!test_fixture(path, sizeof path, "bert/bert-minilm-shape-q8_0.gguf"))
		return;
	struct eng_params ep = eng_params_default();
	struct eng_embedder *e = NULL;
	char err[256] = "";
	CHECK_EQ_INT(eng_embedder_open(path, &ep, &e, err, sizeof err), 0);
	if (!e)
		return;
	struct ret_summary_params p = ret_summary_params_default();
	struct ret_sum_sent *s = NULL;
	size_t n = 0;
	p.embedder = e;
	p.sentences = 2;
	CHECK_EQ_INT(
		ret_summary_extract(doc, strlen(doc), NULL, 0, &p, &s, &n, NULL, err, sizeof err),
		0);
	CHECK_EQ_INT(n, 2);
	check_source_sentences(doc, strlen(doc), s, n, NULL, 0);
	for (size_t i = 0; i < n; i++)
		CHECK(s[i].score >= 0 && s[i].score <= 1);
	free(s);
	eng_embedder_close(e);
}

/* ---- dates ------------------------------------------------------------------ */

static int64_t day_of(int y, int m, int d)
{
	struct tm tm = { .tm_year = y - 1900, .tm_mon = m - 1, .tm_mday = d };
	return (int64_t)timegm(&tm);
}

static void check_date(const char *s, int64_t ref, int64_t want, const char *words)
{
	int64_t got = -1;
	struct ret_span w = { 0, 0 };
	bool ok = ret_date_find(s, strlen(s), ref, &got, &w);
	if (!want) {
		if (ok)
			printf("    '%s': found a date where there is none\n", s);
		CHECK(!ok);
		return;
	}
	CHECK(ok);
	if (got != want)
		printf("    '%s': day %lld, want %lld\n", s, (long long)got, (long long)want);
	CHECK(got == want);
	char sp[128];
	snprintf(sp, sizeof sp, "%.*s", (int)(w.end - w.start), s + w.start);
	CHECK_STR(sp, words);
}

static void dates(void)
{
	/* Wednesday 2 September 2026, 09:03 UTC */
	int64_t ref = day_of(2026, 9, 2) + 9 * 3600 + 180;
	check_date("Deliver on 2026-10-02 please", ref, day_of(2026, 10, 2), "2026-10-02");
	check_date("by 18 September", ref, day_of(2026, 9, 18), "18 September");
	check_date("the 21st of November 2027 works", ref, day_of(2027, 11, 21),
		   "21st of November 2027");
	check_date("on November 3rd, 2026", ref, day_of(2026, 11, 3), "November 3rd, 2026");
	check_date("on Sept 30", ref, day_of(2026, 9, 30), "Sept 30");
	/* long past this year: next year's */
	check_date("by 10 March", ref, day_of(2027, 3, 10), "10 March");
	/* weekdays: the next one after the day written (Friday after Wed) */
	check_date("Send it by Friday.", ref, day_of(2026, 9, 4), "Friday");
	check_date("See you Wednesday", ref, day_of(2026, 9, 9), "Wednesday");
	/* a weekday with the date it names: that date, not the next one */
	check_date("let me know by Friday 25 September if", ref, day_of(2026, 9, 25),
		   "Friday 25 September");
	check_date("on Friday, October 2 we ship", ref, day_of(2026, 10, 2), "Friday, October 2");
	check_date("Friday the 18th", ref, day_of(2026, 9, 18), "Friday the 18th");
	check_date("Friday 9am", ref, day_of(2026, 9, 4), "Friday");
	/* a long run of weekdays and "the" is read without a deep search */
	{
		size_t rn = 40000, k = 0;
		char *run = malloc(rn * 11 + 1);
		if (run) {
			for (size_t i = 0; i < rn; i++, k += 11)
				memcpy(run + k, "Friday the ", 11);
			run[k] = '\0';
			int64_t got = -1;
			struct ret_span sp;
			CHECK(ret_date_find(run, k, ref, &got, &sp));
			CHECK(got == day_of(2026, 9, 4));
			free(run);
		}
	}
	check_date("Reply today", ref, day_of(2026, 9, 2), "today");
	check_date("tomorrow morning", ref, day_of(2026, 9, 3), "tomorrow");
	check_date("by the end of the week", ref, day_of(2026, 9, 4), "end of the week");
	check_date("before the end of the month", ref, day_of(2026, 9, 30), "end of the month");
	check_date("next week works", ref, day_of(2026, 9, 7), "next week");
	check_date("on the 9th at 10:00", ref, day_of(2026, 9, 9), "the 9th");
	check_date("on the 1st", ref, day_of(2026, 10, 1), "the 1st");
	/* not dates */
	check_date("420 hours, 18 slides, version 2.3", ref, 0, "");
	check_date("2026-13-45 is not a day", ref, 0, "");
	check_date("31 February", ref, 0, "");
	check_date("May I ask", ref, 0, "");
	/* without a reference, only absolute dates */
	check_date("by Friday", 0, 0, "");
	check_date("on 2026-10-02", 0, day_of(2026, 10, 2), "2026-10-02");
}

static void addresses(void)
{
	struct ret_participant *v = NULL;
	size_t n = 0, cap = 0;
	CHECK_EQ_INT(ret_addresses_parse("Maya Lindqvist <Maya@Lindqvist.example>, "
					 "\"Strand, Mikael\" <mikael@ferries.example>,"
					 " jonas@nordhavn.example, undisclosed-recipients:;",
					 &v, &n, &cap),
		     0);
	CHECK_EQ_INT(n, 3);
	if (n == 3) {
		CHECK_STR(v[0].name, "Maya Lindqvist");
		CHECK_STR(v[0].addr, "maya@lindqvist.example");
		CHECK_STR(v[1].name, "Strand, Mikael");
		CHECK_STR(v[1].addr, "mikael@ferries.example");
		CHECK_STR(v[2].name, "");
		CHECK_STR(v[2].addr, "jonas@nordhavn.example");
	}
	CHECK_EQ_INT(ret_addresses_parse(NULL, &v, &n, &cap), 0);
	CHECK_EQ_INT(ret_addresses_parse("<<<,,,\"", &v, &n, &cap), 0);
	CHECK_EQ_INT(n, 3);
	for (size_t i = 0; i < n; i++) {
		free(v[i].name);
		free(v[i].addr);
	}
	free(v);
}

/* ---- threads ------------------------------------------------------------------ */

static bool has_item(const struct ret_thread_summary *s, const struct ret_thread_msg *m,
		     enum ret_item_kind k, const char *needle, const struct ret_thread_item **out)
{
	for (size_t i = 0; i < s->nitems; i++) {
		const struct ret_thread_item *it = &s->items[i];
		if (it->kind != k)
			continue;
		char *t = strndup(m[it->msg].text + it->sp.start, it->sp.end - it->sp.start);
		bool hit = t && strstr(t, needle);
		free(t);
		if (hit) {
			if (out)
				*out = it;
			return true;
		}
	}
	return false;
}

static void thread_fields(void)
{
	static const char m1[] =
		"Hi Jonas and Maya,\n\n"
		"Would it be possible to move the design handoff to Friday 18 September?\n"
		"The board meeting moved and we want to show the prototype there.\n"
		"Please send me the updated plan by Friday.\n\n"
		"Mikael\n";
	static const char m2[] =
		"Hi Mikael,\n\n"
		"We agreed to split the delivery: the prototype on 18 September and the full "
		"handoff on 2 October.\n"
		"Which payment provider should the prototype show?\n"
		"I will send the revised timeline tomorrow.\n\n"
		"> Would it be possible to move the design handoff to Friday 18 September?\n";
	static const char m3[] = "Thanks, that works for us.\nCould you also invite Priya to the "
				 "usability test on the 9th?\n";
	const char *q2 = strstr(m2, "> Would");
	struct ret_span skip2 = { (size_t)(q2 - m2), sizeof m2 - 1 };
	int64_t d1 = day_of(2026, 8, 31) + 8 * 3600; /* a Monday */
	struct ret_thread_msg m[3] = {
		{ "Mikael Strand <mikael@ferries.example>",
		  "Jonas Ek <jonas@nordhavn.example>, maya@nordhavn.example", "Handoff", d1, m1,
		  sizeof m1 - 1, NULL, 0 },
		{ "Maya Lindqvist <maya@nordhavn.example>",
		  "Mikael Strand <mikael@ferries.example>", "Re: Handoff", d1 + 86400, m2,
		  sizeof m2 - 1, &skip2, 1 },
		{ "Mikael Strand <MIKAEL@ferries.example>", "maya@nordhavn.example", "Re: Handoff",
		  d1 + 2 * 86400, m3, sizeof m3 - 1, NULL, 0 },
	};
	struct ret_summary_params p = ret_summary_params_default();
	p.sentences = 3;
	struct ret_thread_summary s;
	CHECK_EQ_INT(ret_thread_summarize(m, 3, &p, &s), 0);

	/* participants: senders first, one per address, the name found later */
	CHECK_EQ_INT(s.npeople, 3);
	if (s.npeople == 3) {
		CHECK_STR(s.people[0].addr, "mikael@ferries.example");
		CHECK_EQ_INT(s.people[0].sent, 2);
		CHECK_STR(s.people[1].addr, "maya@nordhavn.example");
		CHECK_STR(s.people[1].name, "Maya Lindqvist");
		CHECK_EQ_INT(s.people[1].sent, 1);
		CHECK_STR(s.people[2].name, "Jonas Ek");
		CHECK_EQ_INT(s.people[2].sent, 0);
	}
	/* timeline: the first sentence of substance, after the greeting */
	CHECK(s.timeline[0] == (size_t)(strstr(m1, "Would it") - m1));
	CHECK(s.timeline[1] == (size_t)(strstr(m2, "We agreed") - m2));
	CHECK(s.timeline[2] == 0);

	/* the gist: sentences of the messages in thread order, no quote */
	size_t ngist = 0, last_msg = 0, last_end = 0;
	for (size_t i = 0; i < s.nitems; i++) {
		const struct ret_thread_item *it = &s.items[i];
		if (it->kind != RET_ITEM_GIST)
			continue;
		CHECK(it->msg > last_msg || (it->msg == last_msg && it->sp.start >= last_end));
		CHECK(it->msg != 1 || it->sp.end <= skip2.start);
		last_msg = it->msg;
		last_end = it->sp.end;
		ngist++;
	}
	CHECK_EQ_INT(ngist, 3);

	const struct ret_thread_item *it = NULL;
	CHECK(has_item(&s, m, RET_ITEM_DECISION, "We agreed to split", NULL));
	CHECK(has_item(&s, m, RET_ITEM_DECISION, "works for us", NULL));
	CHECK(!has_item(&s, m, RET_ITEM_DECISION, "Would it", NULL));
	/* questions: answered by a later message from someone else, or open */
	CHECK(has_item(&s, m, RET_ITEM_QUESTION, "Would it be possible", &it));
	CHECK(it && !it->open);
	CHECK(has_item(&s, m, RET_ITEM_QUESTION, "payment provider", &it));
	CHECK(it && !it->open);
	/* a request with '?' is an action, not a question */
	CHECK(!has_item(&s, m, RET_ITEM_QUESTION, "Could you also invite", NULL));
	/* actions with their days, from each message's date */
	CHECK(has_item(&s, m, RET_ITEM_ACTION, "Please send me the updated plan", &it));
	CHECK(it && it->due == day_of(2026, 9, 4)); /* the Friday after Monday 31 Aug */
	if (it) {
		char w[32];
		snprintf(w, sizeof w, "%.*s", (int)(it->due_sp.end - it->due_sp.start),
			 m[it->msg].text + it->due_sp.start);
		CHECK_STR(w, "Friday");
	}
	CHECK(has_item(&s, m, RET_ITEM_ACTION, "I will send the revised", &it));
	CHECK(it && it->due == day_of(2026, 9, 2)); /* tomorrow of Tue 1 Sep */
	CHECK(has_item(&s, m, RET_ITEM_ACTION, "Could you also invite Priya", &it));
	CHECK(it && it->due == day_of(2026, 9, 9));
	CHECK(!has_item(&s, m, RET_ITEM_ACTION, "The board meeting moved", NULL));
	/* nothing from the quote */
	for (size_t i = 0; i < s.nitems; i++)
		CHECK(s.items[i].msg != 1 || s.items[i].sp.end <= skip2.start);
	ret_thread_summary_clear(&s);

	/* the last question of a thread, with no reply, is open */
	struct ret_thread_msg one = { "a@x.example", NULL, "Q", d1, m2, sizeof m2 - 1, &skip2, 1 };
	CHECK_EQ_INT(ret_thread_summarize(&one, 1, &p, &s), 0);
	CHECK(has_item(&s, &one, RET_ITEM_QUESTION, "payment provider", &it));
	CHECK(it && it->open);
	ret_thread_summary_clear(&s);
	CHECK_EQ_INT(ret_thread_summarize(m, 0, &p, &s), MX_EEMPTY);
	ret_thread_summary_clear(&s);

	/* short replies ("Sounds good!", "Booked."): each message's gist in the
	 * timeline (not "no text"), and a short agreement is a decision; a
	 * lone greeting or sign-off is neither */
	static const char r1[] = "Hello,\n\nShall we have lunch at the harbour cafe on Friday?\n";
	static const char r2[] = "Hi!\n\nSounds good!\n\nBest regards,\nBo\n";
	static const char r3[] = "Booked.\n";
	struct ret_thread_msg sh[3] = {
		{ "Ann <ann@x.example>", "bo@x.example", "Lunch", d1, r1, sizeof r1 - 1, NULL, 0 },
		{ "Bo <bo@x.example>", "ann@x.example", "Re: Lunch", d1 + 60, r2, sizeof r2 - 1,
		  NULL, 0 },
		{ "Ann <ann@x.example>", "bo@x.example", "Re: Lunch", d1 + 120, r3, sizeof r3 - 1,
		  NULL, 0 },
	};
	CHECK_EQ_INT(ret_thread_summarize(sh, 3, &p, &s), 0);
	CHECK(s.timeline[0] == (size_t)(strstr(r1, "Shall") - r1));
	CHECK(s.timeline[1] == (size_t)(strstr(r2, "Sounds good") - r2));
	CHECK(s.timeline[2] == 0);
	CHECK(has_item(&s, sh, RET_ITEM_DECISION, "Sounds good!", NULL));
	for (size_t i = 0; i < s.nitems; i++) {
		const struct ret_thread_item *x = &s.items[i];
		CHECK(strncmp(sh[x->msg].text + x->sp.start, "Hi!", 3));
		CHECK(strncmp(sh[x->msg].text + x->sp.start, "Best regards", 12));
	}
	ret_thread_summary_clear(&s);

	/* a message with no text at all */
	struct ret_thread_msg empty = { NULL, NULL, NULL, 0, NULL, 0, NULL, 0 };
	CHECK_EQ_INT(ret_thread_summarize(&empty, 1, &p, &s), 0);
	CHECK_EQ_INT(s.npeople, 0);
	CHECK(s.timeline[0] == SIZE_MAX);
	CHECK_EQ_INT(s.nitems, 0);
	ret_thread_summary_clear(&s);
}

/* ---- written summaries ------------------------------------------------------- */

static int count_pieces(void *ctx, const char *piece, size_t len)
{
	(void)piece;
	*(size_t *)ctx += len;
	return 0;
}

static void count_parts(void *ctx, size_t round, size_t part, size_t parts)
{
	(void)round;
	CHECK(part >= 1 && parts >= 1);
	(*(size_t *)ctx)++;
}

/* The random-weight model writes nonsense; what is checked is the
 * plumbing: one call when the text fits, map-reduce when it does not, the
 * final reply streamed. */
static void generate_map_reduce(void)
{
	struct chat *c = test_fixture_chat(256, 8);
	if (!c) {
		printf("    skip: ../shared/fixtures/llama/qwen2-s-f16.gguf not found\n");
		return;
	}
	char *reply = NULL, err[256] = "";
	struct ret_gen_stats gs;
	size_t streamed = 0;
	const char *small = "The ferry leaves at ten. It returns at noon.";
	CHECK_EQ_INT(ret_summary_generate(c, NULL, small, strlen(small), count_pieces, &streamed,
					  NULL, NULL, &reply, &gs, err, sizeof err),
		     0);
	CHECK(reply != NULL);
	CHECK_EQ_INT(gs.parts, 1);
	CHECK_EQ_INT(gs.rounds, 0);
	CHECK_EQ_INT(gs.calls, 1);
	CHECK(reply && streamed == strlen(reply));
	free(reply);
	reply = NULL;

	/* about 3 windows of text: parts, then a reduce */
	struct mx_buf b;
	mx_buf_init(&b, 1u << 20);
	for (int i = 0; i < 10; i++)
		mx_buf_appendf(&b, "Paragraph %d says the ferry timetable changes in winter.\n\n",
			       i);
	streamed = 0;
	size_t heard = 0;
	CHECK_EQ_INT(ret_summary_generate(c, ret_summary_instructions_thread(), b.data, b.len,
					  count_pieces, &streamed, count_parts, &heard, &reply, &gs,
					  err, sizeof err),
		     0);
	CHECK(heard >= gs.parts);
	CHECK(reply != NULL);
	CHECK(gs.parts >= 2);
	CHECK(gs.rounds >= 1);
	CHECK(gs.calls >= gs.parts + 1);
	printf("    %zu bytes: %zu parts, %zu rounds, %zu calls\n", b.len, gs.parts, gs.rounds,
	       gs.calls);
	CHECK(reply && streamed == strlen(reply));
	free(reply);
	mx_buf_free(&b);
	chat_close(c);

	/* a window too small for even a part: MX_ETOOBIG, said so */
	c = test_fixture_chat(64, 8);
	if (!c)
		return;
	mx_buf_init(&b, 1u << 20);
	for (int i = 0; i < 40; i++)
		mx_buf_appendf(
			&b, "Sentence %d about ferries and timetables in the winter season.\n", i);
	reply = NULL;
	int rc = ret_summary_generate(c, NULL, b.data, b.len, NULL, NULL, NULL, NULL, &reply, &gs,
				      err, sizeof err);
	CHECK(rc == MX_ETOOBIG || rc == 0);
	if (rc)
		CHECK(reply == NULL && err[0]);
	free(reply);
	mx_buf_free(&b);
	chat_close(c);
}

static const struct test_case tests[] = {
	TEST(eligible),
	TEST(pick_order),
	TEST(score_centrality),
	TEST(extract_source_order),
	TEST(extract_long_text),
	TEST(extract_with_embedder),
	TEST(dates),
	TEST(addresses),
	TEST(thread_fields),
	TEST(generate_map_reduce),
};

TEST_MAIN(tests)
