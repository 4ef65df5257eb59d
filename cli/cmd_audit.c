/*
 * cmd_audit.c - memex audit: what left the machine, from the audit log
 * (router/audit.h has its format).
 *
 *   memex audit [--json] [-n N] [--since DATE]
 */
#include <errno.h>
#include <getopt.h>
#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "../common/fsutil.h"
#include "../common/status.h"
#include "cli.h"

/* A record holds one request body (capped by the cloud client far below this). */
#define AUDIT_LINE_MAX ((size_t)64 << 20)

/* DATE as Unix seconds (UTC): YYYY-MM-DD, or with THH:MM[:SS][Z]. */
static int parse_since(const char *s, int64_t *out)
{
	struct tm tm;
	memset(&tm, 0, sizeof tm);
	const char *e = strptime(s, "%Y-%m-%d", &tm);
	if (!e)
		return -1;
	if (*e == 'T' || *e == ' ') {
		const char *f = strptime(e + 1, "%H:%M:%S", &tm);
		if (!f)
			f = strptime(e + 1, "%H:%M", &tm);
		if (!f)
			return -1;
		e = f;
		if (*e == 'Z')
			e++;
	}
	if (*e)
		return -1;
	*out = (int64_t)timegm(&tm);
	return 0;
}

static const char *jstr(struct json_object *o, const char *key)
{
	struct json_object *v;
	if (!json_object_object_get_ex(o, key, &v) || !json_object_is_type(v, json_type_string))
		return NULL;
	return json_object_get_string(v);
}

static int64_t jint(struct json_object *o, const char *key)
{
	struct json_object *v;
	if (!json_object_object_get_ex(o, key, &v))
		return 0;
	return json_object_get_int64(v);
}

/* Prints text made safe, line by line, after a prefix and an indent. */
static void print_lines(const char *indent, const char *label, const char *text)
{
	size_t cap = strlen(text) * 3 + 4;
	char *safe = malloc(cap);
	char *copy = strdup(text);
	if (!safe || !copy) {
		free(safe);
		free(copy);
		return;
	}
	bool first = true;
	char *save = NULL;
	for (char *l = strtok_r(copy, "\n", &save); l; l = strtok_r(NULL, "\n", &save)) {
		printf("%s%s%s\n", indent, first ? label : "  ", cli_safe(l, safe, cap));
		first = false;
	}
	if (first)
		printf("%s%s\n", indent, label);
	free(safe);
	free(copy);
}

/* The messages of a request body, as role: content. */
static void print_body(const char *body)
{
	struct json_object *b = json_tokener_parse(body), *msgs;
	if (!b || !json_object_object_get_ex(b, "messages", &msgs) ||
	    !json_object_is_type(msgs, json_type_array)) {
		print_lines("    ", "body: ", body);
		json_object_put(b);
		return;
	}
	size_t n = json_object_array_length(msgs);
	for (size_t i = 0; i < n; i++) {
		struct json_object *m = json_object_array_get_idx(msgs, i);
		const char *role = jstr(m, "role"), *content = jstr(m, "content");
		char label[64], safe[40];
		snprintf(label, sizeof label,
			 "%s: ", cli_safe(role ? role : "?", safe, sizeof safe));
		print_lines("    ", label, content ? content : "");
	}
	json_object_put(b);
}

static void print_record(struct json_object *o)
{
	char safe[1200], model[300], reason[1200];
	const char *t = jstr(o, "time"), *ep = jstr(o, "endpoint"), *r = jstr(o, "reason");
	const char *body = jstr(o, "body");
	printf("%s  %s  %s\n", t ? t : "?", cli_safe(jstr(o, "model"), model, sizeof model),
	       cli_safe(ep, safe, sizeof safe));
	printf("    attempt %lld, %lld bytes, sha256 %s\n", (long long)jint(o, "attempt"),
	       (long long)jint(o, "bytes"), jstr(o, "sha256") ? jstr(o, "sha256") : "?");
	if (r)
		printf("    reason: %s\n", cli_safe(r, reason, sizeof reason));
	if (body)
		print_body(body);
	printf("\n");
}

/* One record, as text or as an element of the JSON array being printed. */
static void record_show(struct json_object *o, bool json, bool first)
{
	if (!json) {
		print_record(o);
		return;
	}
	fputs(first ? "\n" : ",\n", stdout);
	fputs(json_object_to_json_string_ext(o, JSON_C_TO_STRING_PRETTY |
						     JSON_C_TO_STRING_NOSLASHESCAPE),
	      stdout);
}

int cmd_audit(struct cli *c, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "json", no_argument, NULL, 'j' },
		{ "limit", required_argument, NULL, 'n' },
		{ "since", required_argument, NULL, 's' },
		{ NULL, 0, NULL, 0 },
	};
	bool json = false;
	size_t limit = 0;
	int64_t since = 0;
	int opt;
	while ((opt = getopt_long(argc, argv, "n:", opts, NULL)) != -1) {
		switch (opt) {
		case 'j': json = true; break;
		case 'n':
			if (cli_parse_count(optarg, 1, 1000000000, &limit)) {
				cli_error("-n wants a count from 1, not '%s'", optarg);
				return CLI_USAGE;
			}
			break;
		case 's':
			if (parse_since(optarg, &since)) {
				cli_error(
					"--since wants YYYY-MM-DD or YYYY-MM-DDTHH:MM[:SS], not '%s'",
					optarg);
				return CLI_USAGE;
			}
			break;
		default: return cli_usage(cli_command_find("audit"), true);
		}
	}
	if (optind != argc)
		return cli_usage(cli_command_find("audit"), true);
	char path[4200];
	cli_audit_path(c, path, sizeof path);
	FILE *f = fopen(path, "re");
	if (!f && errno == ENOENT) {
		if (json)
			cli_json_print(json_object_new_array());
		else
			printf("Nothing has left this machine: the audit log %s does not exist.\n",
			       path);
		return CLI_OK;
	}
	if (!f) {
		cli_error("cannot read the audit log '%s': %s", path, strerror(errno));
		return CLI_ERR;
	}
	/* The log is read a line at a time. Without -n each matching record is
	 * shown as it is read; with -n only the last N are kept, in a ring. */
	struct json_object **ring = NULL;
	if (limit && !(ring = calloc(limit < 4096 ? limit : 4096, sizeof *ring))) {
		fclose(f);
		cli_error("out of memory");
		return CLI_ERR;
	}
	size_t ring_cap = limit < 4096 ? limit : 4096, ring_len = 0, ring_head = 0;
	size_t damaged = 0, lineno = 0, first_bad = 0, n = 0;
	char *line = NULL;
	size_t cap = 0, len;
	bool cut, read_err = false;
	int rc = CLI_OK;
	if (json)
		fputs("[", stdout);
	for (;;) {
		int r = cli_read_line(f, AUDIT_LINE_MAX, &line, &cap, &len, &cut);
		if (r < 0) {
			read_err = true;
			break;
		}
		if (r == 0)
			break;
		lineno++;
		if (len == 0)
			continue;
		struct json_object *o = cut ? NULL : json_tokener_parse(line);
		if (!o || !json_object_is_type(o, json_type_object) || !jstr(o, "body")) {
			json_object_put(o);
			if (!damaged++)
				first_bad = lineno;
			continue;
		}
		if (since && jint(o, "unix") < since) {
			json_object_put(o);
			continue;
		}
		n++;
		if (!limit) {
			record_show(o, json, n == 1);
			json_object_put(o);
			continue;
		}
		if (limit > ring_cap && ring_len == ring_cap) {
			/* grow the ring up to N as records arrive (it is in order) */
			size_t nc = ring_cap * 2 < limit ? ring_cap * 2 : limit;
			struct json_object **p = realloc(ring, nc * sizeof *p);
			if (!p) {
				read_err = true;
				break;
			}
			memset(p + ring_cap, 0, (nc - ring_cap) * sizeof *p);
			ring = p;
			ring_cap = nc;
		}
		if (ring_len < ring_cap) {
			ring[(ring_head + ring_len++) % ring_cap] = o;
		} else {
			json_object_put(ring[ring_head]);
			ring[ring_head] = o;
			ring_head = (ring_head + 1) % ring_cap;
		}
	}
	for (size_t i = 0; i < ring_len; i++) {
		struct json_object *o = ring[(ring_head + i) % ring_cap];
		record_show(o, json, i == 0);
		json_object_put(o);
	}
	free(ring);
	free(line);
	if (ferror(f))
		read_err = true;
	fclose(f);
	size_t shown = limit ? ring_len : n;
	if (json) {
		fputs(shown ? "\n]\n" : "]\n", stdout);
	} else {
		if (n == 0)
			printf("No requests recorded%s.\n", since ? " since then" : "");
		else
			printf("%zu request(s) shown of %zu recorded; log: %s\n", shown, n, path);
	}
	if (damaged)
		cli_warn("%zu damaged line(s) in the audit log '%s' (the first is line %zu)",
			 damaged, path, first_bad);
	if (read_err) {
		cli_error("reading the audit log '%s' failed part way (line %zu)", path,
			  lineno + 1);
		rc = CLI_ERR;
	}
	return rc;
}
