/*
 * engine.h - on-device inference: sentence embedders.
 *
 * An embedder is opened from a GGUF file; its arch (general.architecture)
 * picks the implementation from a table (one struct eng_arch per arch, in
 * its own file: bert.c for "bert", use.c for "use-lite"). Embeddings are
 * L2-normalized float vectors of dims() values. The engine knows nothing of
 * the store or the CLI; errors come back as statuses with the message on
 * the handle.
 */
#ifndef MX_ENGINE_H
#define MX_ENGINE_H

#include <stddef.h>

struct eng_params {
	int threads;		    /* worker threads (default 2) */
	size_t batch;		    /* texts per forward batch (default 32) */
	const char *query_prefix;   /* prepended to queries (e5: "query: ") */
	const char *passage_prefix; /* prepended to passages (e5: "passage: ") */
};
struct eng_params eng_params_default(void);

enum eng_kind { ENG_PASSAGE = 0, ENG_QUERY = 1 };

struct eng_embedder;

/* The implementation of one architecture. */
struct eng_arch {
	const char *name; /* general.architecture */
	/* Loads the model from an open GGUF (the embedder keeps it). */
	int (*open)(struct eng_embedder *e);
	void (*close)(struct eng_embedder *e);
	/* n texts (UTF-8, NUL-terminated) -> out (n * dims floats) */
	int (*embed)(struct eng_embedder *e, const char *const *texts, size_t n, float *out);
};

/* Opens a GGUF embedder. 0, or an error with the reason in err: MX_ENOTFOUND,
 * MX_ECORRUPT (a bad file), MX_EUNSUPPORTED (an arch or tensor type this
 * build does not know), MX_ENOMEM. */
int eng_embedder_open(const char *path, const struct eng_params *p, struct eng_embedder **out,
		      char *err, size_t errsz);
void eng_embedder_close(struct eng_embedder *e); /* NULL is fine */
int eng_embedder_dims(const struct eng_embedder *e);
/* "arch:dims:sha256-of-the-file's-first-MiB-and-size", stable for a file:
 * vectors of two fingerprints are never compared. Borrowed. */
const char *eng_embedder_fingerprint(const struct eng_embedder *e);
const char *eng_embedder_name(const struct eng_embedder *e); /* general.name or file name */
/* Embeds n texts of a kind (the prefix is added) into out, n * dims. */
int eng_embed(struct eng_embedder *e, const char *const *texts, size_t n, enum eng_kind kind,
	      float *out);
const char *eng_errmsg(const struct eng_embedder *e);
/* Floating-point operations per token of the encoder's matrix products
 * (2 x the parameters of every weight matrix but the embedding tables), for
 * speed figures relative to the machine's sgemm rate. */
double eng_embedder_flops_per_token(const struct eng_embedder *e);

#endif
