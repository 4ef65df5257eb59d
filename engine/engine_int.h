/* engine_int.h - what the files of the engine share: the embedder handle
 * and the architecture table. */
#ifndef MX_ENGINE_INT_H
#define MX_ENGINE_INT_H

#include "engine.h"
#include "gguf.h"

struct eng_embedder {
	struct gguf *g; /* the model file (mmapped) */
	const struct eng_arch *arch;
	struct eng_params p;
	int dims;    /* set by arch->open */
	void *model; /* the arch's own state */
	char fingerprint[160];
	char name[128];
	char msg[256]; /* the last error */
};

/* Sets e->msg printf-style and returns rc. */
int eng_fail(struct eng_embedder *e, int rc, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* Architectures (one file each). */
extern const struct eng_arch eng_arch_bert;
extern const struct eng_arch eng_arch_use;

#endif
