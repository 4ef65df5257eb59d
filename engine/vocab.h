/*
 * vocab.h - the token strings of a GGUF vocabulary (a string array such
 * as tokenizer.ggml.tokens) in one pool, with an open-addressing hash
 * table from a string to its id. Shared by the WordPiece tokenizer
 * (wordpiece.c) and the BPE / SentencePiece tokenizer (tok.c).
 *
 * The strings are copied: the table does not keep the GGUF open.
 */
#ifndef MX_ENG_VOCAB_H
#define MX_ENG_VOCAB_H

#include <stddef.h>
#include <stdint.h>

#include "gguf.h"

struct eng_vocab {
	size_t n;	/* entries */
	char *pool;	/* the bytes of every entry, back to back */
	size_t *off;	/* entry i is pool[off[i] .. off[i + 1]) (n + 1 offsets) */
	int32_t *slots; /* open-addressing table of ids, -1 = empty */
	size_t mask;	/* slots has mask + 1 entries, a power of two */
	size_t max_len; /* the longest entry, in bytes */
};

/* FNV-1a (64 bit) of s[0..len), continued from h; start with
 * ENG_FNV_BASIS. */
#define ENG_FNV_BASIS 0xcbf29ce484222325u
uint64_t eng_fnv1a(uint64_t h, const char *s, size_t len);

/* Loads the n strings of g's string array key into v (zeroed by the
 * caller; n is the array's length, at most INT32_MAX - 1, checked by the
 * caller). Empty entries are left out of the hash (no lookup asks for an
 * empty string); of two equal entries the later wins, as llama.cpp's
 * token-to-id map does. 0, MX_ECORRUPT (a message in err), MX_ETOOBIG or
 * MX_ENOMEM; on failure v holds what was allocated, for eng_vocab_clear. */
int eng_vocab_load(struct eng_vocab *v, const struct gguf *g, const char *key, size_t n, char *err,
		   size_t errsz);

/* The id of s[0..len), or -1. */
int32_t eng_vocab_lookup(const struct eng_vocab *v, const char *s, size_t len);

/* Frees what v holds (not v) and zeroes it. */
void eng_vocab_clear(struct eng_vocab *v);

#endif
