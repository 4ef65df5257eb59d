/* fuzz_llm.c - any bytes opened as a chat model (eng_llm_open_memory):
 * every hyperparameter, tensor shape and type is checked at open, so a
 * file that opens must also run. A model that opens and is small enough
 * decodes a prefill of three tokens (the first, the last and a middle id),
 * one more step, and a short sampled generation; the logits may be
 * anything (hostile weights), but reading and writing stay in bounds. */
#include <stdint.h>
#include <stdlib.h>

#include "../../common/status.h"
#include "../../engine/llm.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Products of a token at most, so that one input stays fast. */
#define MAX_FLOPS 1e8

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct eng_llm_params p = eng_llm_params_default();
	p.threads = 1;
	p.n_ctx = 16;
	p.n_batch = 4;
	struct eng_llm *m = NULL;
	char err[256] = "";
	int rc = eng_llm_open_memory(data, size, &p, &m, err, sizeof err);
	if (rc != 0) {
		if (m || !err[0])
			abort();
		return 0;
	}
	int nv = eng_llm_n_vocab(m);
	if (nv < 1 || eng_llm_n_ctx(m) < 1 || eng_llm_n_ctx(m) > 16)
		abort();
	if (eng_llm_flops_per_token(m) <= MAX_FLOPS) {
		int32_t toks[3] = { 0, nv - 1, nv / 2 };
		size_t n = eng_llm_n_ctx(m) < 3 ? (size_t)eng_llm_n_ctx(m) : 3;
		const float *lg = NULL;
		if (eng_llm_decode(m, toks, n, &lg) != 0 || !lg)
			abort();
		volatile float sink = lg[0] + lg[nv - 1];
		(void)sink;
		struct eng_sampler *s = NULL;
		struct eng_sampler_params sp = eng_sampler_params_default();
		sp.repeat_penalty = 1.3f;
		if (eng_sampler_new(&sp, nv, &s) == 0) {
			struct eng_gen_params gp = eng_gen_params_default();
			gp.max_tokens = 3;
			int32_t out[3];
			size_t n_out = 0;
			enum eng_stop why;
			eng_llm_truncate(m, 1);
			rc = eng_llm_generate(m, s, toks + 1, 1, &gp, out, 3, &n_out, &why);
			if (rc != 0 && rc != MX_ETOOBIG)
				abort();
			for (size_t i = 0; i < n_out && i < 3; i++)
				if (out[i] < 0 || out[i] >= nv)
					abort();
			eng_sampler_free(s);
		}
	}
	eng_llm_close(m);
	return 0;
}
