/* embed.c - which embedder memex uses. */
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "../engine/engine.h"
#include "cli.h"

void cli_default_model(struct cli *c, char *buf, size_t n)
{
	snprintf(buf, n, "%s/models/use-lite.gguf", c->home);
}

int cli_embedder_open(struct cli *c, struct eng_embedder **e)
{
	char path[4200], err[256];
	struct stat sb;
	*e = NULL;
	if (!strcmp(c->cfg.embedder, "none"))
		return 0;
	if (c->cfg.embedder[0])
		snprintf(path, sizeof path, "%s", c->cfg.embedder);
	else {
		cli_default_model(c, path, sizeof path);
		if (stat(path, &sb) != 0)
			return 0; /* no model yet: BM25 only */
	}
	struct eng_params p = eng_params_default();
	p.query_prefix = c->cfg.query_prefix[0] ? c->cfg.query_prefix : NULL;
	p.passage_prefix = c->cfg.passage_prefix[0] ? c->cfg.passage_prefix : NULL;
	if (eng_embedder_open(path, &p, e, err, sizeof err)) {
		cli_error("cannot load the embedder '%s': %s", path, err);
		return -1;
	}
	return 0;
}
