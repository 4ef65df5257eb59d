/*
 * mmlu.h - RouteLLM's MMLU routing labels, for training and evaluating the
 * router.
 *
 * DIR/responses/mmlu_SUBJECT.csv (RFC 4180: a header line, then rows of
 * prompt, weak-correct, strong-correct; fields may be "quoted" with ""
 * doubled and may span lines; the booleans are True or False) and, when
 * present, DIR/contaminated_prompts.jsonl (objects whose "eval_prompt" is a
 * prompt RouteLLM excluded; they are dropped here too). Subjects are sorted
 * by name and numbered from 0; the split of subjects into training and
 * held-out sets is by that number (see rtr_mmlu_heldout).
 */
#ifndef MX_RTR_MMLU_H
#define MX_RTR_MMLU_H

#include <stdbool.h>
#include <stddef.h>

#define RTR_MMLU_MAX_FILE   ((size_t)32 << 20) /* one CSV */
#define RTR_MMLU_MAX_PROMPT ((size_t)64 << 10)
#define RTR_MMLU_MAX_ROWS   ((size_t)1 << 20)
#define RTR_MMLU_MAX_SUBJ   1024

struct rtr_mmlu_item {
	char *prompt; /* owned */
	unsigned subject;
	bool weak_ok, strong_ok;
};

struct rtr_mmlu {
	struct rtr_mmlu_item *items;
	size_t n;
	char **subjects; /* sorted names ("astronomy"), owned */
	size_t nsubjects;
	size_t dropped; /* contaminated prompts left out */
};

/* Loads DIR. 0, or MX_ENOTFOUND (no responses/ folder or no CSV in it),
 * MX_ECORRUPT (a malformed file: err tells which and where), MX_ETOOBIG,
 * MX_ENOMEM, MX_EIO, with err set. Free with rtr_mmlu_free. */
int rtr_mmlu_load(const char *dir, struct rtr_mmlu *out, char *err, size_t errsz);
/* Parses one CSV's bytes as subject `subject` into m (appending). */
int rtr_mmlu_parse_csv(const char *data, size_t len, unsigned subject, struct rtr_mmlu *m,
		       char *err, size_t errsz);
void rtr_mmlu_free(struct rtr_mmlu *m);

/* The split used by `memex router train` and `memex eval router`: subject
 * number i is held out of training when i % RTR_SPLIT_MOD == RTR_SPLIT_REM. */
#define RTR_SPLIT_MOD 4u
#define RTR_SPLIT_REM 1u
static inline bool rtr_mmlu_heldout(unsigned subject, unsigned mod, unsigned rem)
{
	return mod && subject % mod == rem;
}

#endif
