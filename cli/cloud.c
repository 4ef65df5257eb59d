/*
 * cloud.c - the cloud client as the user configured it.
 *
 * Each setting comes from the environment first, then the configuration:
 *   MEMEX_CLOUD_URL    cloud_url        base URL (https://.../v1)
 *   MEMEX_CLOUD_MODEL  cloud_model      model name
 *   MEMEX_CLOUD_KEY    cloud_key_file   the key itself / a file holding it
 * and cloud_timeout, cloud_connect_timeout, cloud_retries and
 * cloud_max_response from the configuration alone. Every request is
 * recorded in DATA_HOME/audit.jsonl before it is sent.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../router/audit.h"
#include "../router/cloud.h"
#include "cli.h"

void cli_audit_path(struct cli *c, char *buf, size_t n)
{
	snprintf(buf, n, "%s/audit.jsonl", c->home);
}

static const char *env_or(const char *name, const char *cfg)
{
	const char *v = getenv(name);
	return v && *v ? v : cfg;
}

bool cli_cloud_configured(struct cli *c)
{
	return *env_or("MEMEX_CLOUD_URL", c->cfg.cloud_url) &&
	       *env_or("MEMEX_CLOUD_MODEL", c->cfg.cloud_model);
}

int cli_cloud_open(struct cli *c, struct rtr_audit **audit, struct rtr_cloud **cloud)
{
	char err[600], path[4200], keypath[4200];
	char *key = NULL;
	int ret = -1;
	*audit = NULL;
	*cloud = NULL;
	struct rtr_cloud_params p = rtr_cloud_params_default();
	p.url = env_or("MEMEX_CLOUD_URL", c->cfg.cloud_url);
	p.model = env_or("MEMEX_CLOUD_MODEL", c->cfg.cloud_model);
	p.timeout_ms = c->cfg.cloud_timeout_ms;
	p.connect_timeout_ms = c->cfg.cloud_connect_timeout_ms;
	p.retries = c->cfg.cloud_retries;
	p.max_response = c->cfg.cloud_max_response;
	if (!*p.url || !*p.model) {
		cli_error("no cloud model is configured: set cloud_url and cloud_model in the "
			  "configuration (or MEMEX_CLOUD_URL and MEMEX_CLOUD_MODEL)");
		return -1;
	}
	const char *envkey = getenv("MEMEX_CLOUD_KEY");
	if (envkey && *envkey) {
		p.key = envkey;
	} else if (c->cfg.cloud_key_file[0]) {
		const char *kf = c->cfg.cloud_key_file, *home = getenv("HOME");
		if (kf[0] == '~' && kf[1] == '/' && home)
			snprintf(keypath, sizeof keypath, "%s/%s", home, kf + 2);
		else
			snprintf(keypath, sizeof keypath, "%s", kf);
		if (rtr_cloud_key_read(keypath, &key, err, sizeof err)) {
			cli_error("%s", err);
			return -1;
		}
		p.key = key;
	}
	cli_audit_path(c, path, sizeof path);
	if (rtr_audit_open(path, audit, err, sizeof err)) {
		cli_error("%s; nothing is sent without it", err);
		goto out;
	}
	if (rtr_cloud_open(&p, *audit, cloud, err, sizeof err)) {
		cli_error("%s", err);
		rtr_audit_close(*audit);
		*audit = NULL;
		goto out;
	}
	ret = 0;
out:
	if (key) {
		explicit_bzero(key, strlen(key));
		free(key);
	}
	return ret;
}
