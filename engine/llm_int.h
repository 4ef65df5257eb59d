/* llm_int.h - what the files of the chat model share: the architecture
 * table (llm_arch.c) and the handle. */
#ifndef MX_LLM_INT_H
#define MX_LLM_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "gguf.h"
#include "llm.h"
#include "threadpool.h"

/* Queries of one attention tile. */
#define ATT_TILE 4

/* The attention loops compiled for AVX-512 and AVX2 besides the baseline,
 * the best chosen when the program loads (gcc and clang, glibc's ifunc). */
#if defined(__x86_64__) && defined(__GNUC__)
#define LLM_CLONES __attribute__((target_clones("arch=x86-64-v4", "arch=x86-64-v3", "default")))
#else
#define LLM_CLONES
#endif

/* How rope pairs the values of a head. */
enum llm_rope {
	LLM_ROPE_NORM = 0, /* (x[2i], x[2i + 1]): llama (its converter permutes Q/K rows) */
	LLM_ROPE_NEOX = 1, /* (x[i], x[i + n_rot / 2]): qwen2, gemma, ... */
};

/* What distinguishes one decoder architecture from the plain pre-norm
 * llama block (RMSNorm, rope, grouped-query attention, SwiGLU). A new arch
 * is one table entry in llm_arch.c; a feature not yet here (gemma's
 * embedding scale, GeGLU and post-norms) is a new field read at open and
 * one branch in the forward, as qk_norm is. */
struct llm_arch {
	const char *name; /* general.architecture */
	enum llm_rope rope;
	bool qkv_bias; /* attn_{q,k,v}.bias are required (qwen2) */
	bool qk_norm;  /* attn_{q,k}_norm.weight: RMSNorm of each head of q
			  and k before rope (qwen3) */
};

/* The arch of a general.architecture value, or NULL. */
const struct llm_arch *llm_arch_find(const char *name, size_t len);
/* "llama, qwen2": the names for messages; static storage. */
const char *llm_arch_names(void);

struct llm_layer {
	const struct gguf_tensor *wq, *wk, *wv, *wo; /* [d, qd], [d, kvd] x2, [qd, d] */
	const struct gguf_tensor *wg, *wu, *wd;	     /* [d, ff] x2, [ff, d] */
	float *attn_norm, *ffn_norm;		     /* d each */
	float *bq, *bk, *bv;			     /* qd, kvd, kvd or NULL */
	float *q_norm, *k_norm;			     /* head_dim each, or NULL */
};

/* One product of a forward pass: Y (n, rows) = X (n, k) W^T, split over
 * the pool by rows. */
struct llm_job {
	const struct gguf_tensor *w;
	float *y;
	size_t ldy;
};

struct eng_llm {
	struct gguf *g;
	const struct llm_arch *arch;
	struct eng_llm_params p;

	/* hyperparameters */
	int n_vocab, n_embd, n_layer, n_head, n_head_kv, head_dim, n_ff, n_rot;
	int n_ctx_train, n_ctx;
	int qd, kvd; /* n_head * head_dim, n_head_kv * head_dim */
	float eps;
	float rope_base, freq_scale, ext_factor, attn_factor, yarn_lo, yarn_hi;
	const float *rope_freqs; /* n_rot / 2 divisors of the angles (Llama 3), or NULL */

	/* weights (into the map) and the small float vectors (arena) */
	const struct gguf_tensor *tok_embd, *output;
	float *out_norm;
	struct llm_layer *layers;
	float *arena;
	double flops;
	/* params.f32_weights: the float32 copies the weights above point to */
	struct gguf_tensor **owned;
	size_t n_owned, cap_owned;

	/* the sequence */
	void *kv_k; /* [layer][kv head][head_dim][n_ctx] of kv_type (K^T) */
	void *kv_v; /* [layer][kv head][n_ctx][head_dim] */
	int n_past;

	/* scratch of one pass of n_batch tokens, allocated once: the floats
	 * are parts of one block */
	float *scratch;
	float *x, *h, *q, *k, *v, *att, *gate, *up; /* (n_batch, width) each */
	float *rope_cs;				    /* (n_batch, n_rot / 2, 2) cos, sin */
	float *logits;				    /* n_vocab */
	uint8_t *act;				    /* prepared activations */
	size_t act_cap;				    /* bytes of act */
	float *tscratch;			    /* per thread: K, V as floats, scores */
	size_t tstride;				    /* floats per thread */
	size_t att_ld;				    /* n_ctx rounded up to 16 */

	struct eng_pool *pool;
	struct eng_width width; /* of decoding steps (params.decode_threads) */
	long long solo_steps;
	/* the job of the pool (set before each eng_pool_run) */
	struct llm_job jobs[3];
	int n_jobs;
	uint32_t job_type;
	uint64_t job_k;
	size_t job_n, job_stride;
	float *job_x; /* the activations to prepare: (job_n, job_k) */
	int job_layer, job_p0;
	/* what the preparing job does to each token first (llm.c's enum
	 * llm_pre): RMSNorm of x into job_x with job_g, after adding job_add
	 * to x; or SwiGLU of gate and up into job_x */
	int job_pre;
	const float *job_g, *job_add;

	int32_t stops[8];
	size_t n_stops;
	char msg[256];
};

#endif
