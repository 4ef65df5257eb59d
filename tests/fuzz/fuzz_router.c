/* fuzz_router.c - the router's readers of outside bytes: the model file,
 * the MMLU label CSV, and the arbiter's reading of a question (features,
 * first-person words, names) against a hit whose author and path are the
 * same bytes. */
#include <math.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../../router/arbiter.h"
#include "../../router/lr.h"
#include "../../router/mmlu.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char err[256];
	struct rtr_model *m = NULL;
	if (rtr_model_parse(data, size, &m, err, sizeof err) == 0) {
		/* a model that parses scores without NaN */
		const char *kind;
		float emb[8] = { 0 };
		double s = rtr_model_score(m, "what is 2 + 2?", m->embed_dims == 8 ? emb : NULL, 8,
					   &kind);
		if (isnan(s))
			abort();
		rtr_model_free(m);
	}
	struct rtr_mmlu mm = { 0 };
	(void)rtr_mmlu_parse_csv((const char *)data, size, 0, &mm, err, sizeof err);
	rtr_mmlu_free(&mm);

	char *q = malloc(size + 1);
	if (!q)
		return 0;
	memcpy(q, data, size);
	q[size] = '\0';
	struct rtr_hit h = { .doc_id = 1,
			     .score = 1,
			     .text = q,
			     .title = q,
			     .author = q,
			     .path = q,
			     .source_path = "/" };
	struct rtr_input in = {
		.question = q, .bm25 = &h, .n_bm25 = 1, .people = &h, .n_people = 1
	};
	struct rtr_params p = rtr_params_default();
	p.policy = RTR_POLICY_AUTO;
	struct rtr_explain ex;
	rtr_decide(&in, &p, &ex);
	if (ex.decision == RTR_ESCALATE && ex.private_q)
		abort(); /* a private question never escalates */
	char names[8][48];
	(void)rtr_name_candidates(q, names, 8);
	free(q);
	return 0;
}
