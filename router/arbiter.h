/*
 * arbiter.h - answer locally, or escalate a sanitized question to the cloud.
 *
 * The decision is made from local signals only; nothing is sent anywhere to
 * make it. In order:
 *
 *   1. Privacy. A question about the user's own data is private and never
 *      leaves, whatever the policy: first-person possessives ("my", "our")
 *      and first-person pronouns outside a generic "how do I" form; a word
 *      that names a contact (an author of a retrieved message or note) or a
 *      folder below a source; a proper name of the question (a word
 *      capitalised inside a sentence, not a common word) that a retrieved
 *      passage contains ("the Nordic Strings concert"); a strong hit in the
 *      personal index (most of
 *      the question's content words in one passage, or a close vector hit
 *      that the BM25 leg agrees with); a retrieved passage from a source the
 *      user marked never_send.
 *   2. Policy. `never` (the default of a fresh install) answers everything
 *      locally; `ask` and `auto` go on (the CLI asks the user under `ask`).
 *   3. Need. A local answer found in the index stays local (the cloud gets
 *      only the question and cannot do better). Otherwise: a confident
 *      local draft (mean token log-probability) stays local; without a local
 *      chat model the question goes out (when the caller does not say what
 *      the local answer did, when the passages do not cover its content
 *      words); with one, the learned score from lr.h (P(the local model is
 *      wrong), P(wrong where the cloud is right), or the expected gain in
 *      accuracy: the model's target) is compared with the threshold (set by
 *      the share of questions to escalate).
 *
 * Only the question (sanitized by the caller) is ever sent; retrieved
 * passages never are. The arbiter knows nothing of the store, the network or
 * the CLI: the caller hands it the hits of both retrieval legs.
 */
#ifndef MX_RTR_ARBITER_H
#define MX_RTR_ARBITER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "lr.h"

/* ---- hand-made features of a question's text ---------------------------- */

enum rtr_feature {
	RTR_F_LOG_CHARS,     /* log(1 + bytes) */
	RTR_F_LOG_WORDS,     /* log(1 + words) */
	RTR_F_MEAN_WORD,     /* mean word length */
	RTR_F_LONG_WORDS,    /* share of words of 10 letters or more */
	RTR_F_DIGITS,	     /* share of bytes that are digits */
	RTR_F_MATH,	     /* share of bytes among = + - * / ^ < > % ( ) */
	RTR_F_LOG_NUMBERS,   /* log(1 + numbers) */
	RTR_F_CAPITALS,	     /* share of words capitalised (not the first) */
	RTR_F_COMPUTE,	     /* calculate, compute, solve, probability, ... */
	RTR_F_REASON,	     /* why, how, explain, prove, ... */
	RTR_F_NEGATION,	     /* not, except, least, false */
	RTR_F_LOG_SENTENCES, /* log(1 + sentence ends) */
	RTR_F_CODE,	     /* share of bytes among { } ; [ ] _ */
	RTR_F_QUOTES,	     /* quotation marks */
	/* the shape of a multiple-choice question (zero without options: lines
	 * "A. ...", "B. ..." after the stem) */
	RTR_F_LOG_STEM,	       /* log(1 + bytes before the first option) */
	RTR_F_LOG_OPTION,      /* log(1 + mean option length) */
	RTR_F_NUMERIC_OPTION,  /* share of options mostly digits */
	RTR_F_OPTION_SPREAD,   /* log(1 + longest) - log(1 + shortest option) */
	RTR_F_WHICH_FOLLOWING, /* "which of the following" */
	RTR_F_STATEMENTS,      /* "Statement 1" forms */
	RTR_F_PAIRED_VERDICTS, /* options that pair verdicts: "True, False", "Wrong, Not wrong" */
	RTR_NFEAT
};
/* Fills out[RTR_NFEAT] from a question (UTF-8, any length). */
void rtr_text_features(const char *text, float out[RTR_NFEAT]);
const char *rtr_feature_name(int i); /* static */

/* ---- policy ----------------------------------------------------------------- */

enum rtr_policy { RTR_POLICY_NEVER = 0, RTR_POLICY_ASK = 1, RTR_POLICY_AUTO = 2 };
/* "never", "ask", "auto" and back; MX_EINVAL for another name. */
int rtr_policy_parse(const char *name, enum rtr_policy *p);
const char *rtr_policy_name(enum rtr_policy p);

/* ---- the decision ----------------------------------------------------------- */

/* A retrieved passage, borrowed from the caller for the call. */
struct rtr_hit {
	int64_t doc_id;
	double score;		 /* higher is better: -bm25, or the cosine */
	const char *text;	 /* the passage, or NULL */
	const char *title;	 /* its document's title (a subject), or NULL */
	const char *author;	 /* "Name <address>", or NULL */
	const char *path;	 /* the file (absolute), or NULL */
	const char *source_path; /* its source (absolute), or NULL */
};

/* What the local answer did (retriever/answer.h), when the caller knows. */
enum rtr_local { RTR_LOCAL_UNKNOWN = 0, RTR_LOCAL_ANSWERED = 1, RTR_LOCAL_ABSTAINED = 2 };

struct rtr_input {
	const char *question;
	enum rtr_local local;	      /* the local extractive answer's outcome */
	const struct rtr_hit *people; /* messages from or to a word of the question
					 (the caller looks them up), or NULL */
	size_t n_people;
	const struct rtr_hit *bm25; /* the lexical leg, best first */
	size_t n_bm25;
	const struct rtr_hit *dense; /* the vector leg (cosines), best first */
	size_t n_dense;
	const float *embedding;	 /* the question's embedding, or NULL */
	size_t dims;		 /* its length */
	const char *fingerprint; /* of the embedder that made it, or NULL */
	bool has_draft;		 /* a local chat model drafted an answer */
	double draft_logprob;	 /* its mean token log-probability */
	double draft_entropy;	 /* its mean token entropy (nats) */
};

struct rtr_params {
	enum rtr_policy policy;	       /* default RTR_POLICY_NEVER */
	const struct rtr_model *model; /* the learned router, or NULL (borrowed) */
	double share;		       /* share to escalate; < 0: the model's */
	double threshold;	       /* a fixed score threshold; NaN: from share */
	bool local_model;	       /* a local chat model answers (default false) */
	const char *const *never_send; /* absolute source paths (borrowed) */
	size_t n_never_send;
	/* strong-hit limits (see README) */
	double strong_coverage; /* share of content words in one passage (0.75) */
	double strong_cosine;	/* a vector hit this close, both legs agreeing (0.55) */
	double weak_coverage;	/* below this the passages do not answer (0.75) */
	double draft_confident; /* mean log-prob above which the draft stays (-0.35) */
};
struct rtr_params rtr_params_default(void);

enum rtr_decision { RTR_LOCAL = 0, RTR_ESCALATE = 1 };

enum rtr_reason {
	RTR_R_FIRST_PERSON = 1u << 0,	/* a first-person word */
	RTR_R_CONTACT = 1u << 1,	/* names a contact */
	RTR_R_FOLDER = 1u << 2,		/* names a folder of a source */
	RTR_R_STRONG_HIT = 1u << 3,	/* the personal index answers it */
	RTR_R_NEVER_SEND = 1u << 4,	/* a hit from a never_send source */
	RTR_R_POLICY = 1u << 5,		/* policy never */
	RTR_R_DRAFT_OK = 1u << 6,	/* a confident local draft */
	RTR_R_SCORE_LOW = 1u << 7,	/* learned score below the threshold */
	RTR_R_SCORE_HIGH = 1u << 8,	/* learned score at or above it */
	RTR_R_NOT_COVERED = 1u << 9,	/* no local model; passages miss it */
	RTR_R_COVERED = 1u << 10,	/* no local model; passages cover it */
	RTR_R_NO_MODEL = 1u << 11,	/* no learned router to consult */
	RTR_R_MODEL_REFUSED = 1u << 12, /* the router's embedder differs */
	RTR_R_INDEX_NAME = 1u << 13	/* a proper name found in the index */
};
#define RTR_R_PRIVATE                                                                              \
	(RTR_R_FIRST_PERSON | RTR_R_CONTACT | RTR_R_FOLDER | RTR_R_STRONG_HIT | RTR_R_NEVER_SEND | \
	 RTR_R_INDEX_NAME)

/* Why the arbiter decided as it did: every signal it looked at. */
struct rtr_explain {
	enum rtr_decision decision;
	bool private_q;	   /* about the user's own data: never sent */
	unsigned reasons;  /* enum rtr_reason bits */
	char word[64];	   /* the first-person word, or "" */
	char contact[128]; /* the contact word matched, or "" */
	char folder[128];  /* the folder matched, or "" */
	char name[64];	   /* the proper name found in the index, or "" */
	char source[512];  /* the never_send source, or "" */
	/* retrieval confidence */
	double top_bm25, margin_bm25;	/* -bm25 of hit 1; (s1 - s2) / |s1| */
	double top_dense, margin_dense; /* cosine of hit 1; s1 - s2 */
	double agreement;		/* overlap of the legs' top-5 documents */
	double coverage;		/* question content words in the best passage */
	size_t content_words;
	/* difficulty and the learned score */
	float feat[RTR_NFEAT];
	const char *scorer; /* "embedding+features", "features", or "none" */
	double score, threshold;
	bool has_draft;
	double draft_logprob, draft_entropy;
	char why[256]; /* one sentence for the user */
};

/* Decides. Never fails; ex is filled completely. */
void rtr_decide(const struct rtr_input *in, const struct rtr_params *p, struct rtr_explain *ex);

/* The learned score of a question alone (the eval): with the embedding
 * scorer when the model prefers it (prefer_full), emb is non-NULL and the
 * model has an embedding regression of dims, else with the features one.
 * *kind says which ("embedding+features", "features", or "none" with 0 for
 * a model of another feature count). */
double rtr_model_score(const struct rtr_model *m, const char *question, const float *emb,
		       size_t dims, const char **kind);
/* The score of one scorer whatever the model prefers: full (the embedding
 * one, which needs emb of the model's dims) or the features one. NaN when
 * it cannot be used. */
double rtr_model_score_part(const struct rtr_model *m, bool full, const char *question,
			    const float *emb, size_t dims);

/* The words of a question that could be names (three letters or more, not
 * a common word), lower-cased, at most max of them, into out; their count. */
size_t rtr_name_candidates(const char *question, char (*out)[48], size_t max);

/* Whether path lies at or below dir (both absolute, normalised). */
bool rtr_path_within(const char *path, const char *dir);

#endif
