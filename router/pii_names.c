/* pii_names.c - person names (placeholder until the lists land). */
#include <stdlib.h>

#include "sanitize_int.h"

struct rtr_names {
	int unused;
};

struct rtr_names *rtr_names_new(void)
{
	return calloc(1, sizeof(struct rtr_names));
}

void rtr_names_free(struct rtr_names *nm)
{
	free(nm);
}

bool rtr_names_is_first(const struct rtr_names *nm, const char *w, size_t n)
{
	(void)nm, (void)w, (void)n;
	return false;
}

bool rtr_names_is_last(const struct rtr_names *nm, const char *w, size_t n)
{
	(void)nm, (void)w, (void)n;
	return false;
}

bool rtr_names_is_common(const struct rtr_names *nm, const char *w, size_t n)
{
	(void)nm, (void)w, (void)n;
	return false;
}

void rtr_detect_names(const struct rtr_names *nm, const char *s, size_t n, struct rtr_cands *c)
{
	(void)nm, (void)s, (void)n, (void)c;
}
