/*
 * answer.h - answers to questions from retrieved passages: the context a
 * model reads, an extractive answer, abstention, and citation checks.
 *
 * The path of `memex ask` (and of anything else that answers locally):
 *
 *   ret_answer_run()      retrieve (hybrid when an embedder is given, else
 *                         BM25); with an embedder, rerank a wider pool of
 *                         documents by the sentence of theirs closest to the
 *                         question (the sentence stage, sentrank.c: a line
 *                         that answers in other words is diluted in its
 *                         chunk's vector); assemble the context: the best
 *                         chunk of each of the best documents, the chunks next to it when
 *                         they complete the passage or answer the question
 *                         better, within a token budget; number the
 *                         documents [1], [2], ...; measure how well the
 *                         context covers the question and decide whether to
 *                         abstain; and pick the extractive answer: the
 *                         context's sentences that best answer the question
 *                         (embedding cosine and term overlap, de-duplicated
 *                         with MMR), each with its citation.
 *   ret_answer_prompt()   the prompt for a chat model: instructions (use
 *                         only the context, cite as [n], say when the
 *                         context does not answer) and the numbered context.
 *   ret_answer_check()    a generated answer's sentences, each citation
 *                         checked against the chunks of the cited document.
 *
 * Abstention: the answer is withheld (a->abstained) when a thing the
 * question names (a capitalised word) or asks about (the phrase after
 * "what"/"which") is in no context chunk; when it asks for an identifier,
 * a date, an amount, a name or an address and no sentence of that kind is
 * about what it names; else when the question's content words are poorly
 * covered by the best context chunk (the words that name the kind of
 * answer, "address", "cost", left out) and, with an embedder, the question
 * is far from every context chunk. The thresholds were calibrated on
 * data/sample's dev and first three held-out question sets pooled, and
 * checked once on questions-heldout4.jsonl (see README, "Measuring
 * answers"). A learned alternative (abstain.h: logistic regression over
 * the same signals) is there behind ret_answer_params.learned; by
 * leave-one-set-out it did no better, so the rules stay the default.
 *
 * The building blocks (sentence splitting, term overlap, MMR, support
 * scores, citation labels) are public for the tests and for callers that
 * answer otherwise (a cloud model's answer is checked the same way).
 */
#ifndef MX_ANSWER_H
#define MX_ANSWER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "../store/store.h"
#include "retriever.h"

struct eng_embedder;
struct chat;
struct ret_abst_model;

/* ---- building blocks ---------------------------------------------------- */

/* A byte range [start, end) of a text. */
struct ret_span {
	size_t start, end;
};

/* Splits text into sentences: after . ! ? (not after abbreviations such as
 * "Dr." or "e.g.", initials, or inside numbers like "3 412.00"), at blank
 * lines, before list items, headings and quotes, and after short lines
 * ("Seat: 14A" lines of a form or a table), which are their own sentence.
 * Spans exclude surrounding white space; empty ones are dropped; one longer
 * than 600 bytes is cut at a space. *out malloc'd (caller frees), at most
 * 4096 sentences. 0 or MX_ENOMEM. */
int ret_sentences_split(const char *text, size_t len, struct ret_span **out, size_t *n);

/* The content words of a text: lower case, common words dropped, light
 * English suffix stripping ("bookings" -> "booking"), at most max words.
 * Used for overlap scores. */
struct ret_terms {
	char **t; /* malloc'd strings */
	size_t n;
};
int ret_terms_of(const char *text, size_t len, size_t max, struct ret_terms *out);
void ret_terms_clear(struct ret_terms *t);

/* The share of q's terms (weights w, or all 1 when w is NULL) that occur
 * in t, in 0..1; two words match when equal, or when one is a prefix of the
 * other and at least 5 bytes long. 0 when q is empty. */
double ret_term_overlap(const struct ret_terms *q, const double *w, const struct ret_terms *t);

/* Maximal marginal relevance: picks up to k of n items, each time the one
 * maximising lambda * rel[i] - (1 - lambda) * max over picked j of
 * sim[i * n + j]; items with rel below min_rel are never picked. Writes
 * indices into out (room for k), returns how many. */
size_t ret_mmr_select(const double *rel, const double *sim, size_t n, size_t k, double lambda,
		      double min_rel, size_t *out);

/* How well a claim is supported by a passage, 0..1: with embeddings
 * (cos >= -1: the best cosine between the claim and the passage's
 * sentences), 0.5 * max(cos, 0) + 0.5 * overlap; without (cos < -1), the
 * term overlap alone (the claim's terms found in the passage). */
double ret_support_score(double cos, double overlap);

/* A document's citation label, written into buf (always terminated):
 * "Subject, Sender, YYYY-MM-DD" for mail (the display name, or the address
 * when there is none), "attachment NAME of Subject" for an attachment, and
 * "path:12-30" (lines; " p. 3" for PDF pages) for files. line_start and
 * line_end override the hit's lines when > 0. */
void ret_cite_label(const struct store_hit *h, int64_t line_start, int64_t line_end, char *buf,
		    size_t n);

/* ---- the answer ----------------------------------------------------------- */

struct ret_answer_params {
	struct ret_params ret; /* the retrieval: mode, embedder, model_id,
				  fusion weights (question is forced on) */
	size_t docs;	       /* documents in the context (default 5) */
	size_t ctx_tokens;     /* the context's budget in tokens, estimated
				  (default 1500: fits a 2048-token window
				  with the instructions and the answer) */
	size_t sentences;      /* extractive answer: at most (default 3) */
	double lambda;	       /* MMR relevance weight (default 0.7) */
	/* abstention: answer when coverage >= min_coverage or, with an
	 * embedder, cosine >= min_cos (see ret_answer_abstains) */
	double min_coverage, min_cos;
	/* a question that asks for a sum of money ("what did the vase cost")
	 * is answered when a sentence with a sum has, with the sentences
	 * either side and its title, at least this share of the question's
	 * words (ret_answer.slot) */
	double min_slot;
	double min_support; /* a cited sentence below this is unsupported */
	bool no_abstain;    /* always answer (evaluation of the answer alone) */
	/* the sentence stage, with an embedder (hybrid): the documents of the
	 * pool (the fusion's best `pool`, and each leg's best pool / 2) are
	 * reranked by fusion + w_sent * the cosine of their sentence closest
	 * to the question; pool 0 leaves it out (default 20) */
	size_t pool;
	size_t chunks; /* a pooled document's chunks looked at, nearest the
			  question first (default 3) */
	double w_sent;
	/* abstention by the learned model (abstain.h) instead of the rules:
	 * withheld when its p is below model->min_p; model NULL: the
	 * compiled-in one for the mode (default off: see README, "Measuring
	 * answers") */
	bool learned;
	const struct ret_abst_model *model;
};
/* The defaults; with_embedder selects the thresholds calibrated with the
 * default embedder rather than those for BM25 alone. */
struct ret_answer_params ret_answer_params_default(bool with_embedder);

/* The sentence stage's order: indices 0..n-1 into order, by fused[i] +
 * w_sent * best_sent[i], best first; ties keep the fusion's order (the
 * order of the arrays). */
void ret_rerank_order(const double *fused, const double *best_sent, size_t n, double w_sent,
		      size_t *order);

/* A chunk of the context. */
struct ret_ctx_chunk {
	struct store_hit hit; /* owned */
	int cite;	      /* the document's citation number, from 1 */
	double rank_score;    /* 1 for the best retrieved chunk, falling */
};

/* A sentence of an answer, extractive or generated. */
struct ret_answer_sent {
	char *text;		      /* malloc'd */
	int cite;		      /* citation number, 0: none */
	int ncites;		      /* citations the sentence carries */
	size_t chunk;		      /* context chunk it comes from (extractive) or
					 best supports it (generated; SIZE_MAX:
					 none) */
	double score;		      /* relevance to the question (extractive) */
	double support;		      /* 0..1, see ret_support_score; -1: no
					 citation to check */
	bool supported;		      /* support >= min_support */
	int64_t line_start, line_end; /* in the file, when lines apply */
	int64_t byte_start, byte_end; /* in the document's extracted text */
};

struct ret_answer {
	struct ret_ctx_chunk *ctx; /* the context, citation order */
	size_t nctx;
	int ncites;		      /* documents cited in the context */
	size_t ctx_tokens;	      /* estimated */
	struct ret_answer_sent *sent; /* the extractive answer, or the
					 checked generated one */
	size_t nsent;
	struct ret_answer_sent *near; /* when withheld: the sentences the
					 extractive answer would have been,
					 shown with the nearest matches only */
	size_t nnear;
	bool abstained;
	double coverage;     /* best share of the question's words in a chunk */
	bool asks_id;	     /* the question asks for a number or code */
	bool id_found;	     /* and the context has one where it asks */
	bool asks_typed;     /* the question asks for a date, amount or name */
	bool typed_found;    /* and a sentence of that kind has its rarest word */
	const char *kind;    /* what the question asks for: "when", "money",
				"count", "id", "who", "address", "named" (a
				name or number of a class: "which island");
				NULL: other (static) */
	int novelty;	     /* words of the extractive answer's first
				sentence that the question does not have;
				-1: no sentence */
	double slot;	     /* best share of the question's words around a
				sentence of the kind it asks for (a date, a
				sum, a name...); -1: it asks for no kind */
	bool entity_missing; /* a capitalised word of the question ("Porto")
				is in no chunk of the context */
	bool head_missing;   /* the thing it asks about ("what is the
				current balance") is in none */
	double cosine;	     /* best question-chunk cosine; -2: no embedder */
	double sent_cosine;  /* best question-sentence cosine of the context;
				-2: no embedder */
	double confidence;   /* the figure compared with the thresholds */
	enum ret_mode mode;  /* the retrieval that ran */
	char err[160];	     /* why a call failed, when it says so */
};

/* Retrieves and assembles the context for question, decides on abstention
 * and fills the extractive answer (empty when abstained). The embedder (in
 * p->ret.embedder, borrowed) is optional. Clear *a with
 * ret_answer_clear() in every case. Errors: as ret_search (MX_EEMPTY: no
 * word; MX_EINVAL: a bad filter, reason in a->err), MX_ENOMEM, or a store
 * error (store_errmsg). */
/* Whether the answer a is withheld under p's thresholds (whatever
 * p->no_abstain says): no context; none of the question's words in it
 * (coverage below 0.1, whatever the cosine); a named or asked-about thing missing
 * (a->entity_missing, a->head_missing); an answer whose best sentence has
 * no word the question lacks (a->novelty 0); for a question that asks for a number
 * or code (a "passport number"), whether one stands in a sentence about
 * that thing decides; for one that asks for a sum of money, a->slot below
 * p->min_slot; for others, coverage below p->min_coverage and, with
 * an embedder, cosine below p->min_cos. With p->learned, the learned
 * model decides instead (no context still withholds). */
bool ret_answer_abstains(const struct ret_answer_params *p, const struct ret_answer *a);

int ret_answer_run(struct store *st, const char *question, const struct ret_answer_params *p,
		   struct ret_answer *a);
void ret_answer_clear(struct ret_answer *a);

/* The prompt for a chat model (malloc'd, caller frees): instructions, the
 * numbered context ("[1] label" then the chunk texts of that document)
 * and the question. The context is already within p->ctx_tokens. */
char *ret_answer_prompt(const struct ret_answer *a, const char *question);
/* The system instructions of that prompt (static). */
const char *ret_answer_instructions(void);

/* Keeps the context within max_tokens (estimated at 4 bytes a token):
 * drops chunks from the end, the last documents first, and cuts the text
 * of the first one when it alone is too long. */
void ret_answer_fit(struct ret_answer *a, size_t max_tokens);

/* Receives a generated answer as it is made (pieces never end inside a
 * UTF-8 sequence); nonzero stops the generation. */
typedef int (*ret_stream_fn)(void *ctx, const char *piece, size_t len);

/* The generative answer: the instructions as the system message and
 * ret_answer_prompt() as the user's, sent to the chat model ch (borrowed;
 * a fresh conversation each call), streamed to fn (may be NULL); when the
 * prompt does not fit the model's window the context is cut
 * (ret_answer_fit) and the call repeated. Then the answer's citations are
 * checked (ret_answer_check, embedder e optional). *reply receives the
 * answer (malloc'd; caller frees); *prompt (optional) the user message
 * that was sent (malloc'd). 0, MX_ETOOBIG (not even the question fits),
 * MX_ENOMEM, or the model's error with its message in a->err. */
int ret_answer_generate(struct ret_answer *a, const char *question, struct chat *ch,
			ret_stream_fn fn, void *ctx, struct eng_embedder *e, double min_support,
			char **reply, char **prompt);

/* Replaces a->sent with the sentences of a generated answer, each one's
 * citations [n] checked against the chunks of document n: support scores
 * (with the embedder, optional), supported flags; a citation to a number
 * not in the context is unsupported. 0 or MX_ENOMEM (or the embedder's
 * error, in a->err). */
int ret_answer_check(struct ret_answer *a, const char *answer, struct eng_embedder *e,
		     double min_support);

/* Whether a generated answer says that the context does not hold the
 * answer ("The data does not contain...", "is not mentioned", "I don't
 * know"), as the instructions ask the model to: then it is a withheld
 * answer too, whatever the retrieval's signals said. */
bool ret_answer_declines(const char *answer);

#endif
