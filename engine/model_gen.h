/*
 * model_gen.h - GGUF models of real shapes with random weights, for speed
 * measurements and tests without downloading a model.
 *
 * A generated file looks like what llama.cpp's convert_hf_to_gguf.py and
 * llama-quantize write for the real model: the same architecture keys
 * (<arch>.context_length, embedding_length, block_count, ...), the same
 * tensor names and shapes, and the same choice of tensor types per
 * quantization (below); only the weights are seeded random numbers. The
 * tokenizer.* keys are copied from a vocabulary GGUF (llama.cpp's
 * models/ggml-vocab-*.gguf), padded with "[PAD<i>]" tokens (type UNUSED)
 * up to the shape's vocabulary size as the converter pads; without one a
 * placeholder vocabulary is written (WordPiece: the specials, ASCII
 * characters and their "##" forms; byte-level BPE: the 256 byte tokens and
 * <|endoftext|>, no merges).
 *
 * Shapes (the real models' configurations):
 *   minilm        bert   6 layers, 384 wide, 12 heads, ff 1536, 512 positions,
 *                        vocab 30522 (all-MiniLM-L6-v2), mean pooling
 *   smollm2-135m  llama  30 layers, 576, 9 heads / 3 kv, ff 1536, vocab 49152,
 *                        rope theta 1e5, context 8192, tied output
 *   smollm2-360m  llama  32 layers, 960, 15 / 5, ff 2560, vocab 49152, the same
 *   qwen2.5-0.5b  qwen2  24 layers, 896, 14 / 2, ff 4864, vocab 151936, QKV
 *                        bias, rope theta 1e6, context 32768, tied output
 *   bert-tiny, llama-tiny, qwen2-tiny: 2-layer versions with a 1024-token
 *                        vocabulary, for tests.
 *
 * Types (general.file_type in brackets). 1-D tensors (norms, biases) and
 * BERT's position/type embeddings are always F32.
 *   f32 [0], f16 [1], q8_0 [7]: every matrix of that type.
 *   q4_0 [2]: matrices Q4_0; the output matrix (token_embd when tied, as
 *            every shape here is) Q6_K.
 *   q4_k_m [15]: matrices Q4_K; the output matrix Q6_K; attn_v and
 *            ffn_down Q6_K in the layers llama.cpp's use_more_bits() picks
 *            (the first and last eighth and every third between), else
 *            Q4_K.
 *   As llama-quantize does, a K-quant on rows that are not a multiple of
 *   256 falls back: Q4_K to Q5_0, Q6_K to Q8_0 (so the 384/576/896/960-wide
 *   shapes get Q5_0 and Q8_0 where their rows are that width).
 *
 * Weights: the quantized blocks are written directly as random valid
 * blocks (random quants, scales chosen so that values have the wanted
 * standard deviation), the float ones as approximately normal numbers:
 * matrices and embeddings std 0.02, biases std 0.02, norm weights
 * 1 + N(0, 0.02^2). Tensor contents depend only on the seed, the shape and
 * the tensor's name and type. Data is generated and written in pieces of
 * about 1 MiB (a 360M-parameter model takes seconds, memory stays small).
 */
#ifndef MX_MODEL_GEN_H
#define MX_MODEL_GEN_H

#include <stddef.h>
#include <stdint.h>

struct eng_model_gen_params {
	const char *shape; /* a shape name above */
	const char *type;  /* "f32", "f16", "q8_0", "q4_0", "q4_k_m" */
	const char *vocab; /* a GGUF to copy tokenizer.* from, or NULL */
	uint64_t seed;	   /* default 1 */
	/* Called after each piece of data with the bytes written and the
	 * total, or NULL. */
	void (*progress)(void *ctx, uint64_t done, uint64_t total);
	void *progress_ctx;
};
struct eng_model_gen_params eng_model_gen_params_default(void);

/* The shape names, NULL-terminated (static). */
const char *const *eng_gen_shapes(void);
/* The type names, NULL-terminated (static). */
const char *const *eng_gen_types(void);

/* Writes the model to out (through a temporary file beside it, mode 0600,
 * renamed when complete; an existing file is replaced). 0, or with the
 * reason in err: MX_EINVAL (an unknown shape or type), MX_ENOTFOUND /
 * MX_ECORRUPT / MX_EUNSUPPORTED (the vocabulary file cannot be read, or it
 * has more tokens than the shape), MX_EPERM / MX_EIO (writing), MX_ENOMEM. */
int eng_model_gen(const struct eng_model_gen_params *p, const char *out, char *err, size_t errsz);

#endif
