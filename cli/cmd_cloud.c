/*
 * cmd_cloud.c - memex cloud: the cloud model's configuration.
 *
 *   memex cloud [show] [--json]   where requests would go, and how
 *   memex cloud check [--stream]  one fixed request, to test the set-up
 */
#include <getopt.h>
#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "../common/status.h"
#include "../router/audit.h"
#include "../router/cloud.h"
#include "cli.h"

static const char *env_or(const char *name, const char *cfg, const char **from)
{
	const char *v = getenv(name);
	if (v && *v) {
		*from = "environment";
		return v;
	}
	*from = "configuration";
	return cfg;
}

static int cloud_show(struct cli *c, bool json)
{
	const char *ufrom, *mfrom;
	const char *url = env_or("MEMEX_CLOUD_URL", c->cfg.cloud_url, &ufrom);
	const char *model = env_or("MEMEX_CLOUD_MODEL", c->cfg.cloud_model, &mfrom);
	const char *envkey = getenv("MEMEX_CLOUD_KEY");
	char key[4400], audit[4200], safe[1200];
	if (envkey && *envkey)
		snprintf(key, sizeof key, "MEMEX_CLOUD_KEY (environment)");
	else if (c->cfg.cloud_key_file[0])
		snprintf(key, sizeof key, "file %s", c->cfg.cloud_key_file);
	else
		snprintf(key, sizeof key, "none");
	cli_audit_path(c, audit, sizeof audit);
	if (json) {
		struct json_object *o = json_object_new_object();
		json_object_object_add(o, "configured", json_object_new_boolean(*url && *model));
		json_object_object_add(o, "url", cli_json_string(url));
		json_object_object_add(o, "model", cli_json_string(model));
		json_object_object_add(o, "key", cli_json_string(key));
		json_object_object_add(
			o, "timeout_s",
			json_object_new_double((double)c->cfg.cloud_timeout_ms / 1000));
		json_object_object_add(
			o, "connect_timeout_s",
			json_object_new_double((double)c->cfg.cloud_connect_timeout_ms / 1000));
		json_object_object_add(o, "retries", json_object_new_int(c->cfg.cloud_retries));
		json_object_object_add(o, "max_response",
				       json_object_new_int64((int64_t)c->cfg.cloud_max_response));
		json_object_object_add(o, "audit_log", cli_json_string(audit));
		cli_json_print(o);
		return CLI_OK;
	}
	if (!*url || !*model)
		printf("No cloud model is configured: memex answers on this machine only.\n"
		       "Set cloud_url and cloud_model (and cloud_key_file) in the configuration,\n"
		       "or MEMEX_CLOUD_URL, MEMEX_CLOUD_MODEL and MEMEX_CLOUD_KEY.\n\n");
	printf("url:             %s%s%s%s\n", *url ? cli_safe(url, safe, sizeof safe) : "(none)",
	       *url ? " (" : "", *url ? ufrom : "", *url ? ")" : "");
	printf("model:           %s%s%s%s\n",
	       *model ? cli_safe(model, safe, sizeof safe) : "(none)", *model ? " (" : "",
	       *model ? mfrom : "", *model ? ")" : "");
	printf("key:             %s\n", cli_safe(key, safe, sizeof safe));
	printf("timeout:         %g s (connect %g s), %d retries\n",
	       (double)c->cfg.cloud_timeout_ms / 1000,
	       (double)c->cfg.cloud_connect_timeout_ms / 1000, c->cfg.cloud_retries);
	printf("max response:    %zu bytes\n", c->cfg.cloud_max_response);
	printf("audit log:       %s\n", audit);
	return CLI_OK;
}

static int print_delta(void *ctx, const char *s, size_t n)
{
	(void)ctx;
	fwrite(s, 1, n, stdout);
	fflush(stdout);
	return 0;
}

static int cloud_check(struct cli *c, bool stream)
{
	struct rtr_audit *audit = NULL;
	struct rtr_cloud *cloud = NULL;
	if (cli_cloud_open(c, &audit, &cloud))
		return CLI_ERR;
	/* a fixed text: nothing of the user's leaves the machine here */
	static const struct rtr_message msgs[] = {
		{ "system", "You are a connectivity test. Reply with the single word OK." },
		{ "user", "ping" },
	};
	struct rtr_request r = rtr_request_default();
	r.messages = msgs;
	r.n_messages = 2;
	r.max_tokens = 16;
	r.temperature = 0;
	r.stream = stream;
	r.reason = "memex cloud check (a fixed test prompt)";
	r.on_delta = print_delta;
	double t0 = cli_now();
	int rc = rtr_cloud_chat(cloud, &r, NULL);
	double dt = cli_now() - t0;
	int ret = CLI_OK;
	if (rc) {
		cli_error("%s", rtr_cloud_errmsg(cloud));
		ret = CLI_ERR;
	} else {
		printf("\n");
		fprintf(stderr, "Answered by %s in %.2f s (%d attempt%s); recorded in %s\n",
			rtr_cloud_endpoint(cloud), dt, rtr_cloud_attempts(cloud),
			rtr_cloud_attempts(cloud) == 1 ? "" : "s", rtr_audit_path(audit));
	}
	rtr_cloud_close(cloud);
	rtr_audit_close(audit);
	return ret;
}

int cmd_cloud(struct cli *c, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "json", no_argument, NULL, 'j' },
		{ "stream", no_argument, NULL, 's' },
		{ NULL, 0, NULL, 0 },
	};
	bool json = false, stream = false;
	const char *sub = "show";
	if (argc >= 2 && argv[1][0] != '-') {
		sub = argv[1];
		argc--;
		argv++;
	}
	int opt;
	while ((opt = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (opt) {
		case 'j': json = true; break;
		case 's': stream = true; break;
		default: return cli_usage(cli_command_find("cloud"), true);
		}
	}
	if (optind != argc)
		return cli_usage(cli_command_find("cloud"), true);
	if (!strcmp(sub, "show") && !stream)
		return cloud_show(c, json);
	if (!strcmp(sub, "check") && !json)
		return cloud_check(c, stream);
	return cli_usage(cli_command_find("cloud"), true);
}
