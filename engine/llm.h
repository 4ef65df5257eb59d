/*
 * llm.h - the on-device chat model: a decoder-only transformer read from a
 * GGUF file, run token by token, plus sampling and a generation loop.
 *
 * The API works on token ids; text <-> ids is the tokenizer's job (tok.h),
 * which opens from the same GGUF (eng_llm_gguf()).
 *
 * Architectures (general.architecture), see engine/README.md: "llama"
 * (Llama 2/3, SmolLM/SmolLM2, TinyLlama, ...), "qwen2" (QKV biases, NeoX
 * rope) and "qwen3" (QK norm). Weights stay in the mmapped file and are multiplied in place
 * through qmat.h (any type qmat_supported() accepts: F32, F16, BF16, Q4_0,
 * Q8_0, Q4_K, Q5_K, Q6_K, ...).
 *
 * State: a handle owns one sequence: a KV cache of n_ctx positions, of
 * which the first n_past are filled. eng_llm_decode() appends tokens at
 * position n_past; eng_llm_truncate() forgets positions from a point on
 * (to rewind a chat turn or re-use a common prefix).
 *
 * Context overflow policy: decoding past n_ctx is refused with
 * MX_ETOOBIG ("context full") and the cache is left as it was; nothing is
 * shifted or dropped silently. The caller decides: truncate/reset and
 * re-prefill a shorter history. eng_llm_generate() stops with
 * ENG_STOP_CONTEXT when the context fills up.
 *
 * Threads: a handle is used by one thread at a time; it runs its own
 * worker pool (params.threads) that sleeps when idle. A decoding step
 * (one token) runs on the calling thread alone or on the whole pool,
 * whichever recent steps found faster (params.decode_threads); the
 * chooser's state lasts as long as the handle, across resets.
 */
#ifndef MX_LLM_H
#define MX_LLM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct gguf;

enum eng_kv_type {
	ENG_KV_F16 = 0, /* binary16 keys and values (default; half the memory) */
	ENG_KV_F32 = 1, /* float32 (exact; for parity tests) */
};

struct eng_llm_params {
	int threads;		  /* threads for the forward, caller included (default 2) */
	int n_ctx;		  /* positions of the KV cache; 0 = the model's context
				     length capped at 4096 (default 0); capped at the
				     model's context length */
	int n_batch;		  /* tokens per forward pass (default 512); a longer
				     eng_llm_decode() runs in passes of n_batch */
	enum eng_kv_type kv_type; /* default ENG_KV_F16 */
	int decode_threads;	  /* threads of a decoding step (one token):
				     0 = adaptive (default): the handle times
				     its steps and moves between 1 thread and
				     all `threads` whichever is faster now
				     (threadpool.h, struct eng_width); 1 = the
				     calling thread only; >= 2 = all `threads`.
				     The default is taken from the environment
				     variable MEMEX_DECODE_THREADS (auto, 1, 2,
				     ...) when it is set and valid. Logits are
				     the same bits whatever the width. */
	bool f32_weights;	  /* dequantize every weight matrix to float32 at
				     open (4 bytes a parameter, owned by the
				     handle), so that every product is exact
				     whatever qmat's kernels round: for parity
				     tests and debugging (default false) */
};
struct eng_llm_params eng_llm_params_default(void);

struct eng_llm;

/* The adaptive decode width's counters (eng_llm_decode_width). */
struct eng_llm_width_stats {
	int threads;	      /* the width of the next decoding step */
	long long steps;      /* decoding steps timed */
	long long probes;     /* probes of the other width */
	long long moves;      /* probes that won (the width changed) */
	long long solo_steps; /* steps run on the calling thread alone */
};

/* Opens a chat model. 0, or an error with the reason in err:
 * MX_ENOTFOUND/MX_EPERM/MX_EIO (reading the file), MX_ECORRUPT (a bad
 * file: missing or mis-shaped tensors, hyperparameters out of range),
 * MX_EUNSUPPORTED (another architecture, a weight type or feature this
 * build does not handle), MX_EINVAL (bad params), MX_ENOMEM. *out is NULL
 * on failure. p may be NULL (defaults). */
int eng_llm_open(const char *path, const struct eng_llm_params *p, struct eng_llm **out, char *err,
		 size_t errsz);
/* The same over a GGUF image in memory (borrowed: it must outlive the
 * handle): for tests and the fuzz target. */
int eng_llm_open_memory(const void *data, size_t len, const struct eng_llm_params *p,
			struct eng_llm **out, char *err, size_t errsz);
void eng_llm_close(struct eng_llm *m); /* NULL is fine */

/* ---- accessors ------------------------------------------------------------- */
int eng_llm_n_vocab(const struct eng_llm *m);
int eng_llm_n_ctx(const struct eng_llm *m);	  /* positions of the KV cache */
int eng_llm_n_ctx_train(const struct eng_llm *m); /* <arch>.context_length */
int eng_llm_n_embd(const struct eng_llm *m);
int eng_llm_n_past(const struct eng_llm *m); /* positions filled */
/* general.architecture ("llama", "qwen2", "qwen3"); static storage. */
const char *eng_llm_arch(const struct eng_llm *m);
/* The open model file, borrowed: valid until eng_llm_close(). The tokenizer
 * opens from it. */
const struct gguf *eng_llm_gguf(const struct eng_llm *m);
/* The model's end-of-generation tokens (at most 8, no repeats): those
 * tokenizer.ggml.eos_token_id, eot_token_id and eom_token_id name, then
 * the tokens whose text is an end-of-turn marker of a known chat format
 * (<|eot_id|>, <|im_end|>, <|end|>, <end_of_turn>, <|endoftext|>,
 * <|eom_id|>). Returns their number; the first min(number, cap) are
 * written to out (may be NULL when cap is 0). */
size_t eng_llm_stop_tokens(const struct eng_llm *m, int32_t *out, size_t cap);
/* Floating-point operations per token of the weight products (2 x the
 * parameters of every matrix, the output matrix included), for speed
 * figures. */
double eng_llm_flops_per_token(const struct eng_llm *m);
/* The decode width's state (params.decode_threads), for benches. */
struct eng_llm_width_stats eng_llm_decode_width(const struct eng_llm *m);
/* The message of the last failure on this handle (static "" when none);
 * borrowed until the next call. */
const char *eng_llm_errmsg(const struct eng_llm *m);

/* ---- the forward pass -------------------------------------------------------- */

/* Runs the n tokens at positions n_past .. n_past + n - 1 (a prefill when
 * n > 1, one decoding step when n == 1; every weight product is one matrix
 * product over the n tokens), adds them to the KV cache and sets *logits
 * to the n_vocab logits of the last one: borrowed, valid until the next
 * call on the handle. Errors (the cache is then unchanged): MX_EINVAL (n ==
 * 0, a token id outside [0, n_vocab)), MX_ETOOBIG (n_past + n > n_ctx:
 * the context is full, see the overflow policy above). */
int eng_llm_decode(struct eng_llm *m, const int32_t *tokens, size_t n, const float **logits);
/* Forgets every position from n_past on (0 <= n_past <= current n_past;
 * MX_EINVAL otherwise). */
int eng_llm_truncate(struct eng_llm *m, int n_past);
void eng_llm_reset(struct eng_llm *m); /* = eng_llm_truncate(m, 0) */

/* ---- sampling (sample.c) ------------------------------------------------------ */

/* Sampling pipeline, in order: repetition penalty over the last
 * repeat_last_n accepted tokens (a positive logit is divided by
 * repeat_penalty, a negative one multiplied), then greedy argmax when
 * temperature <= 0 (ties: lowest id), else top-k, softmax of logits /
 * temperature, top-p (smallest set of mass >= top_p), min-p (drop tokens
 * below min_p x the top probability) and a draw with the sampler's own
 * PRNG (xoshiro256**, seeded by seed: the same seed and inputs give the
 * same tokens). */
struct eng_sampler_params {
	float temperature;    /* <= 0: greedy (default 0.8) */
	int top_k;	      /* <= 0: off (default 40) */
	float top_p;	      /* >= 1: off (default 0.95) */
	float min_p;	      /* <= 0: off (default 0.05) */
	float repeat_penalty; /* 1: off (default 1.0) */
	int repeat_last_n;    /* tokens looked back (default 64) */
	uint64_t seed;	      /* default 0x5eed */
};
struct eng_sampler_params eng_sampler_params_default(void);

struct eng_sampler;

/* A sampler for n_vocab logits. 0, MX_EINVAL (bad params), MX_ENOMEM. */
int eng_sampler_new(const struct eng_sampler_params *p, int n_vocab, struct eng_sampler **out);
void eng_sampler_free(struct eng_sampler *s); /* NULL is fine */
/* Picks a token from logits (n_vocab floats, read only). Does not record
 * it: call eng_sampler_accept() for the token actually used. */
int32_t eng_sampler_sample(struct eng_sampler *s, const float *logits);
/* Records a token in the repetition history (prompt tokens too, if they
 * should be penalised). */
void eng_sampler_accept(struct eng_sampler *s, int32_t token);
/* Clears the history and re-seeds with the seed of the params. */
void eng_sampler_reset(struct eng_sampler *s);

/* ---- generation ---------------------------------------------------------------- */

enum eng_stop {
	ENG_STOP_TOKEN = 1,    /* a stop token was sampled (not fed, not reported) */
	ENG_STOP_MAX = 2,      /* max_tokens were generated */
	ENG_STOP_CALLBACK = 3, /* on_token returned nonzero */
	ENG_STOP_CONTEXT = 4,  /* the KV cache is full */
};

struct eng_gen_params {
	int max_tokens;	     /* tokens to generate at most, < 0: no limit (default 256) */
	const int32_t *stop; /* stop token ids, borrowed; NULL: the model's
				eng_llm_stop_tokens() (default NULL) */
	size_t n_stop;
	/* Called with each generated token (after it is sampled, before it is
	 * fed); return nonzero to stop after it. NULL: none. */
	int (*on_token)(void *ctx, int32_t token);
	void *ctx;
	/* When non-NULL, filled with the confidence of the generated tokens
	 * (borrowed; reset at the start). Default NULL. */
	struct eng_gen_stats *stats;
};
struct eng_gen_params eng_gen_params_default(void);

/* The model's confidence in what it generated, measured on the raw logits
 * (temperature 1, before any sampling step): for each reported token t,
 * log p(t) = l_t - log sum_j exp(l_j) and the entropy of the next-token
 * distribution, -sum_j p_j log p_j (nats). A sampled stop token is not
 * counted. Means: sum / n_tokens. */
struct eng_gen_stats {
	size_t n_tokens;
	double sum_logprob; /* <= 0 */
	double sum_entropy; /* >= 0, nats */
};
/* log p(token) and the entropy (nats) of the distribution softmax(logits),
 * logits[n] (n >= 1, token in [0, n)); computed in double. */
void eng_logits_stats(const float *logits, int n, int32_t token, double *logprob, double *entropy);

/* Feeds prompt (n_prompt >= 1 tokens) at n_past, then repeatedly samples a
 * token with s and feeds it, until a stop (*why). Prompt and generated
 * tokens are accepted into s (repetition history). A sampled stop token
 * ends generation; it is neither reported, fed, nor counted. Every other
 * token is reported to on_token, written to out while out_cap allows (out
 * may be NULL) and fed to the model, so that the cache then holds prompt +
 * generated tokens, what the next chat turn continues from; only with
 * ENG_STOP_CONTEXT is the last reported token not in the cache. *n_out gets
 * the number generated. Errors: MX_EINVAL (n_prompt 0), those of
 * eng_llm_decode() (MX_ETOOBIG when the prompt itself does not fit: the
 * cache is then unchanged). */
int eng_llm_generate(struct eng_llm *m, struct eng_sampler *s, const int32_t *prompt,
		     size_t n_prompt, const struct eng_gen_params *gp, int32_t *out, size_t out_cap,
		     size_t *n_out, enum eng_stop *why);

#endif
