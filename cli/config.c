/*
 * config.c - the user's configuration file.
 *
 * Lines of "key = value"; '#' starts a comment; blank lines are ignored.
 * Every key is documented in README.md ("Configuration"). An unknown key is
 * a warning (a newer memex may know it); a bad value is an error.
 */
#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../common/fsutil.h"
#include "../common/status.h"
#include "../engine/chat_tmpl.h"
#include "../retriever/retriever.h"
#include "../router/arbiter.h"
#include "../router/cloud.h"
#include "cli.h"

#define CONFIG_MAX_BYTES (1 << 20)

void cli_config_default(struct cli_config *cfg)
{
	memset(cfg, 0, sizeof *cfg);
	cfg->max_file_size = (size_t)100 << 20;
	cfg->chunk = idx_chunk_params_default();
	cfg->search_results = 10;
	struct ret_params rp = ret_params_default();
	cfg->w_dense = rp.w_dense;
	cfg->rrf_k = rp.rrf_k;
	cfg->min_dense = rp.min_dense;
	cfg->convex = rp.convex;
	cfg->cloud_policy = RTR_POLICY_NEVER;
	cfg->router_share = -1;
	cfg->router_threshold = NAN;
	struct rtr_cloud_params cp = rtr_cloud_params_default();
	cfg->cloud_timeout_ms = cp.timeout_ms;
	cfg->cloud_connect_timeout_ms = cp.connect_timeout_ms;
	cfg->cloud_retries = cp.retries;
	cfg->cloud_max_response = cp.max_response;
}

/* Seconds (decimals allowed) as milliseconds, within [min_ms, max_ms]. */
static int parse_seconds(const char *s, long min_ms, long max_ms, long *out)
{
	char *end;
	double v = strtod(s, &end);
	if (end == s || *end || !(v * 1000 >= (double)min_ms && v * 1000 <= (double)max_ms))
		return -1;
	*out = (long)(v * 1000 + 0.5);
	return 0;
}

int cli_parse_size(const char *s, size_t *out)
{
	char *end;
	errno = 0;
	if (!isdigit((unsigned char)*s))
		return -1;
	unsigned long long v = strtoull(s, &end, 10);
	if (errno)
		return -1;
	unsigned long long mul = 1;
	switch (*end) {
	case 'k':
	case 'K':
		mul = 1ull << 10;
		end++;
		break;
	case 'm':
	case 'M':
		mul = 1ull << 20;
		end++;
		break;
	case 'g':
	case 'G':
		mul = 1ull << 30;
		end++;
		break;
	default: break;
	}
	if (*end == 'B' || *end == 'b')
		end++;
	if (*end || v == 0 || v > SIZE_MAX / mul)
		return -1;
	*out = (size_t)(v * mul);
	return 0;
}

int cli_parse_count(const char *s, size_t min, size_t max, size_t *out)
{
	char *end;
	errno = 0;
	if (!isdigit((unsigned char)*s))
		return -1;
	unsigned long long v = strtoull(s, &end, 10);
	if (errno || *end || v < min || v > max)
		return -1;
	*out = (size_t)v;
	return 0;
}

static char *trim(char *s)
{
	while (isspace((unsigned char)*s))
		s++;
	size_t n = strlen(s);
	while (n && isspace((unsigned char)s[n - 1]))
		s[--n] = '\0';
	return s;
}

/* A value in double quotes keeps its spaces ("query: "): the quotes are
 * removed in place. */
static void unquote(char *v)
{
	size_t n = strlen(v);
	if (n >= 2 && v[0] == '"' && v[n - 1] == '"') {
		memmove(v, v + 1, n - 2);
		v[n - 2] = '\0';
	}
}

static int set_key(struct cli_config *cfg, const char *key, const char *val, int line)
{
	size_t v;
	if (!strcmp(key, "max_file_size")) {
		if (cli_parse_size(val, &cfg->max_file_size))
			goto bad;
	} else if (!strcmp(key, "chunk_target_tokens")) {
		if (cli_parse_count(val, 16, 8192, &v))
			goto bad;
		cfg->chunk.target_tokens = v;
	} else if (!strcmp(key, "chunk_max_tokens")) {
		if (cli_parse_count(val, 16, 8192, &v))
			goto bad;
		cfg->chunk.max_tokens = v;
	} else if (!strcmp(key, "chunk_overlap_tokens")) {
		if (cli_parse_count(val, 0, 4096, &v))
			goto bad;
		cfg->chunk.overlap_tokens = v;
	} else if (!strcmp(key, "hybrid_dense_weight")) {
		char *end;
		double w = strtod(val, &end);
		if (*end || !(w >= 0 && w <= 10))
			goto bad;
		cfg->w_dense = w;
	} else if (!strcmp(key, "hybrid_fusion")) {
		if (!strcmp(val, "rrf"))
			cfg->convex = false;
		else if (!strcmp(val, "convex"))
			cfg->convex = true;
		else
			goto bad;
	} else if (!strcmp(key, "dense_min_score")) {
		char *end;
		double f = strtod(val, &end);
		if (*end || !(f >= -1 && f <= 1))
			goto bad;
		cfg->min_dense = (float)f;
	} else if (!strcmp(key, "rrf_k")) {
		char *end;
		double k = strtod(val, &end);
		if (*end || !(k >= 1 && k <= 10000))
			goto bad;
		cfg->rrf_k = k;
	} else if (!strcmp(key, "embed_query_prefix")) {
		if (snprintf(cfg->query_prefix, sizeof cfg->query_prefix, "%s", val) >=
		    (int)sizeof cfg->query_prefix)
			goto bad;
		unquote(cfg->query_prefix);
	} else if (!strcmp(key, "embed_passage_prefix")) {
		if (snprintf(cfg->passage_prefix, sizeof cfg->passage_prefix, "%s", val) >=
		    (int)sizeof cfg->passage_prefix)
			goto bad;
		unquote(cfg->passage_prefix);
	} else if (!strcmp(key, "embedder")) {
		if (snprintf(cfg->embedder, sizeof cfg->embedder, "%s", val) >=
		    (int)sizeof cfg->embedder)
			goto bad;
	} else if (!strcmp(key, "chat_model")) {
		if (snprintf(cfg->chat_model, sizeof cfg->chat_model, "%s", val) >=
		    (int)sizeof cfg->chat_model)
			goto bad;
		unquote(cfg->chat_model);
	} else if (!strcmp(key, "chat_template")) {
		enum chat_family f;
		if (chat_family_parse(val, &f))
			goto bad;
		snprintf(cfg->chat_template, sizeof cfg->chat_template, "%s", val);
	} else if (!strcmp(key, "chat_ctx")) {
		if (cli_parse_count(val, 64, 1u << 20, &cfg->chat_ctx))
			goto bad;
	} else if (!strcmp(key, "cloud_policy")) {
		enum rtr_policy pol;
		if (rtr_policy_parse(val, &pol))
			goto bad;
		cfg->cloud_policy = (int)pol;
	} else if (!strcmp(key, "never_send_source")) {
		size_t max = sizeof cfg->never_send / sizeof cfg->never_send[0];
		if (cfg->n_never_send >= max) {
			cli_error("%s:%d: at most %zu never_send_source lines", cfg->path, line,
				  max);
			return -1;
		}
		char *abs = *val ? cli_abspath(val) : NULL;
		int n = abs ? snprintf(cfg->never_send[cfg->n_never_send],
				       sizeof cfg->never_send[0], "%s", abs)
			    : -1;
		free(abs);
		if (n < 0 || n >= (int)sizeof cfg->never_send[0])
			goto bad;
		cfg->n_never_send++;
	} else if (!strcmp(key, "router_model")) {
		if (!*val || snprintf(cfg->router_model, sizeof cfg->router_model, "%s", val) >=
				     (int)sizeof cfg->router_model)
			goto bad;
	} else if (!strcmp(key, "router_escalate_share")) {
		char *end;
		double x = strtod(val, &end);
		if (end == val || *end || !(x >= 0 && x <= 1))
			goto bad;
		cfg->router_share = x;
	} else if (!strcmp(key, "router_threshold")) {
		char *end;
		double x = strtod(val, &end);
		if (end == val || *end || !(x >= -1 && x <= 1))
			goto bad;
		cfg->router_threshold = x;
	} else if (!strcmp(key, "cloud_url")) {
		if (snprintf(cfg->cloud_url, sizeof cfg->cloud_url, "%s", val) >=
		    (int)sizeof cfg->cloud_url)
			goto bad;
	} else if (!strcmp(key, "cloud_model")) {
		if (snprintf(cfg->cloud_model, sizeof cfg->cloud_model, "%s", val) >=
		    (int)sizeof cfg->cloud_model)
			goto bad;
	} else if (!strcmp(key, "cloud_key_file")) {
		if (snprintf(cfg->cloud_key_file, sizeof cfg->cloud_key_file, "%s", val) >=
		    (int)sizeof cfg->cloud_key_file)
			goto bad;
	} else if (!strcmp(key, "cloud_timeout")) {
		if (parse_seconds(val, 100, 3600 * 1000L, &cfg->cloud_timeout_ms))
			goto bad;
	} else if (!strcmp(key, "cloud_connect_timeout")) {
		if (parse_seconds(val, 100, 600 * 1000L, &cfg->cloud_connect_timeout_ms))
			goto bad;
	} else if (!strcmp(key, "cloud_retries")) {
		if (cli_parse_count(val, 0, 10, &v))
			goto bad;
		cfg->cloud_retries = (int)v;
	} else if (!strcmp(key, "cloud_max_response")) {
		if (cli_parse_size(val, &cfg->cloud_max_response) || cfg->cloud_max_response < 1024)
			goto bad;
	} else if (!strcmp(key, "search_results")) {
		if (cli_parse_count(val, 1, 1000, &cfg->search_results))
			goto bad;
	} else {
		cli_warn("%s:%d: unknown key '%s' ignored", cfg->path, line, key);
	}
	return 0;
bad:
	cli_error("%s:%d: bad value '%s' for %s", cfg->path, line, val, key);
	return -1;
}

int cli_config_load(struct cli_config *cfg)
{
	const char *env = getenv("MEMEX_CONFIG");
	const char *xdg = getenv("XDG_CONFIG_HOME");
	const char *home = getenv("HOME");
	if (env && (!*env || !strcmp(env, "/dev/null")))
		return 0; /* explicitly none */
	if (env)
		snprintf(cfg->path, sizeof cfg->path, "%s", env);
	else if (xdg && *xdg)
		snprintf(cfg->path, sizeof cfg->path, "%s/memex/config", xdg);
	else if (home && *home)
		snprintf(cfg->path, sizeof cfg->path, "%s/.config/memex/config", home);
	else
		return 0;

	char *data = NULL;
	size_t len = 0;
	int rc = mx_read_file(cfg->path, CONFIG_MAX_BYTES, &data, &len);
	if (rc == MX_ENOTFOUND && !env) {
		cfg->path[0] = '\0';
		return 0;
	}
	if (rc) {
		cli_error("cannot read the configuration '%s': %s", cfg->path, mx_strerror(rc));
		return -1;
	}
	cfg->loaded = true;
	int line = 0, ret = 0;
	char *p = data;
	while (p && *p && !ret) {
		char *nl = strchr(p, '\n');
		if (nl)
			*nl = '\0';
		line++;
		char *hash = strchr(p, '#');
		if (hash)
			*hash = '\0';
		char *l = trim(p);
		if (*l) {
			char *eq = strchr(l, '=');
			if (!eq) {
				cli_error("%s:%d: expected 'key = value'", cfg->path, line);
				ret = -1;
				break;
			}
			*eq = '\0';
			ret = set_key(cfg, trim(l), trim(eq + 1), line);
		}
		p = nl ? nl + 1 : NULL;
	}
	if (!ret && (cfg->chunk.target_tokens > cfg->chunk.max_tokens ||
		     cfg->chunk.overlap_tokens >= cfg->chunk.max_tokens)) {
		cli_error("%s: chunk_target_tokens must not exceed chunk_max_tokens, "
			  "and chunk_overlap_tokens must be below it",
			  cfg->path);
		ret = -1;
	}
	free(data);
	return ret;
}
