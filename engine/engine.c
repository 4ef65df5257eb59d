/*
 * engine.c - opening embedders: the GGUF file, the architecture table,
 * the fingerprint, query/passage prefixes and batching.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../common/hash.h"
#include "../common/status.h"
#include "engine_int.h"

static const struct eng_arch *const arches[] = { &eng_arch_bert, &eng_arch_use };

struct eng_params eng_params_default(void)
{
	return (struct eng_params){ .threads = 2, .batch = 32 };
}

int eng_fail(struct eng_embedder *e, int rc, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(e->msg, sizeof e->msg, fmt, ap);
	va_end(ap);
	return rc;
}

int eng_embedder_open(const char *path, const struct eng_params *p, struct eng_embedder **out,
		      char *err, size_t errsz)
{
	*out = NULL;
	struct eng_embedder *e = calloc(1, sizeof *e);
	if (!e)
		return MX_ENOMEM;
	e->p = p ? *p : eng_params_default();
	if (e->p.threads < 1)
		e->p.threads = 1;
	if (e->p.batch < 1)
		e->p.batch = 1;
	int rc = gguf_open(path, &e->g, err, errsz);
	if (rc) {
		free(e);
		return rc;
	}
	const char *arch = NULL;
	size_t alen = 0;
	if (gguf_get_str(e->g, "general.architecture", &arch, &alen)) {
		snprintf(err, errsz, "no general.architecture in the model");
		rc = MX_ECORRUPT;
		goto fail;
	}
	for (size_t i = 0; i < sizeof arches / sizeof arches[0]; i++)
		if (strlen(arches[i]->name) == alen && !memcmp(arches[i]->name, arch, alen))
			e->arch = arches[i];
	if (!e->arch) {
		snprintf(err, errsz,
			 "model architecture '%.*s' is not an embedder this memex knows",
			 (int)(alen > 64 ? 64 : alen), arch);
		rc = MX_EUNSUPPORTED;
		goto fail;
	}
	if ((rc = e->arch->open(e))) {
		snprintf(err, errsz, "%s", e->msg[0] ? e->msg : mx_strerror(rc));
		goto fail;
	}
	const char *nm = NULL;
	size_t nl = 0;
	if (gguf_get_str(e->g, "general.name", &nm, &nl) == 0)
		snprintf(e->name, sizeof e->name, "%.*s", (int)(nl > 100 ? 100 : nl), nm);
	else {
		const char *b = strrchr(path, '/');
		snprintf(e->name, sizeof e->name, "%.100s", b ? b + 1 : path);
	}
	/* The fingerprint: what the vectors depend on (arch, dims, weights);
	 * hashing the tensor table and a sample of the data is enough to
	 * tell models apart without reading hundreds of MB. */
	char hex[MX_SHA256_HEX_LEN + 1];
	size_t nt = gguf_n_tensors(e->g);
	struct {
		uint64_t nt, bytes;
		unsigned char sample[4096];
	} fp = { nt, 0, { 0 } };
	size_t off = 0;
	for (size_t i = 0; i < nt; i++) {
		const struct gguf_tensor *t = gguf_tensor_at(e->g, i);
		fp.bytes += t->nbytes;
		size_t k = t->nbytes < 64 ? t->nbytes : 64;
		if (off + k <= sizeof fp.sample) {
			memcpy(fp.sample + off, t->data, k);
			off += k;
		}
	}
	mx_sha256_hex(&fp, sizeof fp, hex);
	snprintf(e->fingerprint, sizeof e->fingerprint, "%.*s:%d:%.16s",
		 (int)(alen > 32 ? 32 : alen), arch, e->dims, hex);
	*out = e;
	return 0;
fail:
	gguf_close(e->g);
	free(e);
	return rc;
}

void eng_embedder_close(struct eng_embedder *e)
{
	if (!e)
		return;
	if (e->arch && e->model)
		e->arch->close(e);
	gguf_close(e->g);
	free(e);
}

int eng_embedder_dims(const struct eng_embedder *e)
{
	return e->dims;
}

const char *eng_embedder_fingerprint(const struct eng_embedder *e)
{
	return e->fingerprint;
}

const char *eng_embedder_name(const struct eng_embedder *e)
{
	return e->name;
}

const char *eng_errmsg(const struct eng_embedder *e)
{
	return e ? e->msg : "out of memory";
}

int eng_embed(struct eng_embedder *e, const char *const *texts, size_t n, enum eng_kind kind,
	      float *out)
{
	const char *prefix = kind == ENG_QUERY ? e->p.query_prefix : e->p.passage_prefix;
	int rc = 0;
	char **tmp = NULL;
	if (prefix && *prefix) {
		tmp = calloc(n ? n : 1, sizeof *tmp);
		if (!tmp)
			return eng_fail(e, MX_ENOMEM, "out of memory");
		for (size_t i = 0; i < n && !rc; i++) {
			size_t a = strlen(prefix), b = strlen(texts[i]);
			if (!(tmp[i] = malloc(a + b + 1))) {
				rc = eng_fail(e, MX_ENOMEM, "out of memory");
				break;
			}
			memcpy(tmp[i], prefix, a);
			memcpy(tmp[i] + a, texts[i], b + 1);
		}
	}
	const char *const *src = tmp ? (const char *const *)tmp : texts;
	for (size_t i = 0; i < n && !rc; i += e->p.batch) {
		size_t k = n - i < e->p.batch ? n - i : e->p.batch;
		rc = e->arch->embed(e, src + i, k, out + i * (size_t)e->dims);
	}
	if (tmp)
		for (size_t i = 0; i < n; i++)
			free(tmp[i]);
	free(tmp);
	return rc;
}

double eng_embedder_flops_per_token(const struct eng_embedder *e)
{
	double params = 0;
	for (size_t i = 0; i < gguf_n_tensors(e->g); i++) {
		const struct gguf_tensor *t = gguf_tensor_at(e->g, i);
		if (t->n_dims != 2 || memmem(t->name, t->name_len, "embd", 4) ||
		    memmem(t->name, t->name_len, "embed", 5))
			continue;
		params += (double)t->ne[0] * (double)t->ne[1];
	}
	return 2 * params;
}
