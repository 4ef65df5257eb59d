/*
 * summary.h - summaries of documents and mail threads: extractive (the
 * source's own sentences, in its order), thread fields found by rule
 * (participants, timeline, decisions, open questions, action items with
 * their dates), and written summaries by a chat model with map-reduce
 * over parts that do not fit its window.
 *
 * Extractive summary (ret_summary_extract):
 *
 *   1. the text is cut into windows of at most RET_SUM_WINDOW bytes (at a
 *      blank line when there is one), and each window into sentences with
 *      ret_sentences_split() (answer.h); sentences inside a "skip" span
 *      (quoted replies, signatures) are not candidates, nor are those of
 *      fewer than 4 words or mostly not letters (table rows, headings),
 *      nor the repeats of a sentence already seen;
 *   2. within a group the candidates are scored: TextRank (PageRank over
 *      the graph of sentence similarities, damping 0.85) plus the
 *      similarity to the group's centroid (the mean similarity to the
 *      others), each scaled to 0..1 and averaged, times min(1, words / 8)
 *      (short sentences seldom sum much up). Similarity is the cosine of
 *      sentence embeddings when an embedder is given, else the cosine of
 *      the sentences' content words (ret_terms_of, compared on their first
 *      6 bytes) weighted by their inverse frequency in the group;
 *   3. the best few of each group of 192 candidates go on to a second
 *      round scored the same way (the reduce step of a long text; the
 *      groups of the map step are compared by words only, the last round
 *      by embeddings when there is an embedder); the
 *      best k are returned in the order of the source. Picks are made by
 *      maximal marginal relevance (ret_mmr_select, lambda 0.6), so that a
 *      sentence much like one already picked waits its turn.
 *
 * Thread summary (ret_thread_summarize): the extractive gist of the
 * thread's own (unquoted) text, and by rule, per sentence:
 *   - participants: the From, To and Cc addresses, one entry an address,
 *     with the messages each sent;
 *   - timeline: each message's date, sender and first sentence of
 *     substance (after the greeting; not an attribution ending in ':'
 *     when there is another; of a message of short sentences only, its
 *     first one: "Sounds good!");
 *   - decisions: "decided", "agreed", "let's go with", "confirmed", ...
 *     (also in sentences too short for the gist: "Sounds good!");
 *   - questions: sentences ending in '?' that are not requests; a
 *     question is open when no later message comes from someone else;
 *   - action items: requests and commitments ("please", "could you",
 *     "need to", "must", "you should", "I will", "don't forget", "let me
 *     know"), a sentence that starts with an imperative such as "send" or
 *     "book", or one with a deadline ("by Friday", "before 2 October",
 *     "due 1 Dec"), each with the date it names (ret_date_find) when there
 *     is one.
 *
 * Written summary (ret_summary_generate): the text goes to the chat model
 * with instructions; when it does not fit the window it is cut into parts
 * that do, each part summarised (map), and the part summaries summarised
 * together (reduce, again in parts if needed, at most 4 rounds).
 */
#ifndef MX_SUMMARY_H
#define MX_SUMMARY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "answer.h"

struct eng_embedder;
struct chat;

#define RET_SUM_WINDOW (24u << 10) /* bytes of text scored together */
#define RET_SUM_MAX_TEXT                                                                           \
	(4u << 20) /* bytes of a text summarised; the
				       rest is left out (truncated) */

struct ret_summary_params {
	size_t sentences;	       /* extractive: at most (default 5) */
	size_t per_window;	       /* kept from each window (default 3) */
	double damping;		       /* TextRank (default 0.85) */
	struct eng_embedder *embedder; /* borrowed; NULL: word overlap */
};
struct ret_summary_params ret_summary_params_default(void);

/* ---- extractive --------------------------------------------------------- */

/* Whether a sentence may be picked: 4 words or more, at least half of
 * its bytes letters; not a table row ('|' first), a heading ('#', or all
 * in capitals), a greeting ("Hi Ann and Bo,"), a patch trailer
 * ("Signed-off-by:"), nor holding a line quoted in the "LK> " style. */
bool ret_summary_eligible(const char *s, size_t n);

/* Scores n sentences (0..1, higher is more central; see above). sim
 * (optional, n * n) receives the similarity matrix. 0, MX_ENOMEM, or the
 * embedder's error with its message in err. */
int ret_summary_score(const char *const *sents, size_t n, const struct ret_summary_params *p,
		      double *score, double *sim, char *err, size_t errsz);

/* Indices of the k best of n scores (ties: the earlier), written to out
 * (room for k) in increasing order; returns how many. (The summaries pick
 * with MMR; this is the plain top k.) */
size_t ret_summary_pick(const double *score, size_t n, size_t k, size_t *out);

/* A picked sentence: its span in the text and its score. */
struct ret_sum_sent {
	struct ret_span sp;
	double score;
};

/* The extractive summary of text[0, len): at most p->sentences
 * sentences, in source order, none inside skip[0, nskip) (spans sorted or
 * not; may be NULL). *out malloc'd (caller frees), *n of them; *truncated
 * (optional) says the text passed RET_SUM_MAX_TEXT and only its start was
 * read. 0, MX_ENOMEM, or the embedder's error (message in err). */
int ret_summary_extract(const char *text, size_t len, const struct ret_span *skip, size_t nskip,
			const struct ret_summary_params *p, struct ret_sum_sent **out, size_t *n,
			bool *truncated, char *err, size_t errsz);

/* ---- dates ---------------------------------------------------------------- */

/* Finds the first date named in s[0, n): 2026-11-21, 21 November [2026],
 * November 21[st][, 2026], weekdays ("Friday": the next one after ref's
 * day), today, tonight, tomorrow, "end of the week" (Friday), "next
 * week" (its Monday), "end of the month". Days without a year take ref's
 * year, or the next when that day is more than 60 days before ref. ref is
 * the time the text was written (epoch seconds; 0: dates relative to it
 * are not resolved). *day receives midnight UTC of the day, *where its
 * span in s. true when one was found. */
bool ret_date_find(const char *s, size_t n, int64_t ref, int64_t *day, struct ret_span *where);

/* ---- threads ---------------------------------------------------------------- */

/* A message of a thread, as the caller read it (all borrowed). */
struct ret_thread_msg {
	const char *author;	/* "Name <addr>", or NULL */
	const char *recipients; /* To and Cc, comma-separated, or NULL */
	const char *subject;	/* or NULL */
	int64_t date;		/* epoch seconds, 0: unknown */
	const char *text;	/* the body */
	size_t len;
	const struct ret_span *skip; /* quoted replies and signatures in text */
	size_t nskip;
};

enum ret_item_kind {
	RET_ITEM_GIST = 0,
	RET_ITEM_DECISION = 1,
	RET_ITEM_QUESTION = 2,
	RET_ITEM_ACTION = 3,
};

/* A sentence of a thread summary. */
struct ret_thread_item {
	enum ret_item_kind kind;
	size_t msg;		/* the message it is in */
	struct ret_span sp;	/* its span in that message's text */
	double score;		/* gist: the extractive score */
	bool open;		/* questions: no later message from someone else */
	int64_t due;		/* actions: the day it names (midnight UTC), 0: none */
	struct ret_span due_sp; /* the words naming it, within the message's text */
};

struct ret_participant {
	char *name;  /* the display name, or "" (malloc'd) */
	char *addr;  /* the address, lower case (malloc'd) */
	size_t sent; /* messages from this address */
};

struct ret_thread_summary {
	struct ret_participant *people; /* senders first, in order of appearance */
	size_t npeople;
	size_t *timeline; /* per message: the start of its first sentence of
			     substance in its text (SIZE_MAX: none) */
	size_t *timeline_end;
	struct ret_thread_item *items; /* gist, decisions, questions, actions:
					  each kind in thread order */
	size_t nitems;
	bool truncated; /* a message passed RET_SUM_MAX_TEXT */
	char err[160];
};

/* Summarises the n messages of a thread, oldest first (see above); the
 * gist has at most p->sentences sentences. Clear *out with
 * ret_thread_summary_clear() in every case. 0, MX_EEMPTY (n == 0),
 * MX_ENOMEM, or the embedder's error (message in out->err). */
int ret_thread_summarize(const struct ret_thread_msg *m, size_t n,
			 const struct ret_summary_params *p, struct ret_thread_summary *out);
void ret_thread_summary_clear(struct ret_thread_summary *s);

/* Splits "Name <addr>, other@x, "Last, First" <y>" into participants
 * (name and address, malloc'd, appended to *v with *n and *cap as a
 * growable array); an entry without '@' is ignored. 0 or MX_ENOMEM. */
int ret_addresses_parse(const char *s, struct ret_participant **v, size_t *n, size_t *cap);

/* ---- written summaries ---------------------------------------------------- */

/* Receives pieces of the final summary as it is written (see
 * ret_stream_fn); the map step is not streamed. */
struct ret_gen_stats {
	size_t parts;  /* parts the text was cut into (1: it fit) */
	size_t rounds; /* reduce rounds after the map */
	size_t calls;  /* chat replies made */
};

/* A written summary of text by the chat model ch (borrowed; a fresh
 * conversation per call): instructions (a short system message; NULL: a
 * default for documents) and the text; map-reduce when it does not fit
 * (see above). progress (optional) hears of each part. *reply malloc'd
 * (caller frees). stats optional. 0,
 * MX_ETOOBIG (not even a small part fits), MX_ENOMEM, or the model's error
 * with its message in err. */
/* Told of each part before it goes to the model: the round (0: the map),
 * the part (from 1) and about how many parts the round has. */
typedef void (*ret_progress_fn)(void *ctx, size_t round, size_t part, size_t parts);

int ret_summary_generate(struct chat *ch, const char *instructions, const char *text, size_t len,
			 ret_stream_fn fn, void *ctx, ret_progress_fn progress, void *pctx,
			 char **reply, struct ret_gen_stats *stats, char *err, size_t errsz);

/* The default instructions for a document and for a thread (static). */
const char *ret_summary_instructions_doc(void);
const char *ret_summary_instructions_thread(void);

#endif
