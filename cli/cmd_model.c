/*
 * cmd_model.c - memex model: models on this machine; memex reembed.
 *
 *   memex model convert [--out FILE] DIR   USE-Lite (npm package folder) -> GGUF
 *   memex model info [NAME|FILE]           what a model or the embedder is
 *   memex model pull NAME|URL              download into DATA_HOME/models
 *   memex model list [--json]              the catalog and what is here
 *   memex model rm NAME|FILE               delete a downloaded model
 *   memex model gen --shape S --type T ... a random-weight GGUF of a real shape
 *   memex reembed                          vectors for the configured embedder
 */
#include <dirent.h>
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <json-c/json.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "../common/fsutil.h"
#include "../common/status.h"
#include "../engine/engine.h"
#include "../engine/gguf.h"
#include "../engine/model_gen.h"
#include "../engine/quant.h"
#include "../engine/use.h"
#include "../indexer/indexer.h"
#include "../router/fetch.h"
#include "cli.h"

/* ======================================================================
 * The catalog: recommended models, compiled in.
 *
 * A sha256 is given only where it was found pinned in public material
 * (the source is noted); NULL means not known, and 'pull' then needs
 * --sha256 HEX or --no-verify. Sizes are approximate, for display.
 * ====================================================================== */

struct model_entry {
	const char *name; /* what the user types */
	const char *file; /* the name in DATA_HOME/models */
	const char *url;
	const char *sha256; /* NULL: unknown */
	uint64_t bytes;	    /* exact when known with the sha256, else approximate */
	const char *kind;   /* "chat" or "embed" */
	const char *about;
};

static const struct model_entry catalog[] = {
	/* sha256, size and revision as pinned by several public projects'
	 * manifests (they agree); the URL names that revision, so the file
	 * cannot change under the hash */
	{ "smollm2-360m", "smollm2-360m-instruct-q8_0.gguf",
	  "https://huggingface.co/HuggingFaceTB/SmolLM2-360M-Instruct-GGUF/resolve/"
	  "593b5a2e04c8f3e4ee880263f93e0bd2901ad47f/smollm2-360m-instruct-q8_0.gguf",
	  "48ab3034d0dd401fbc721eb1df3217902fee7dab9078992d66431f09b7750201", 386404992, "chat",
	  "SmolLM2-360M-Instruct, Q8_0 (Apache-2.0)" },
	/* sha256 and size as pinned by public projects' model manifests */
	{ "qwen2.5-0.5b", "qwen2.5-0.5b-instruct-q4_k_m.gguf",
	  "https://huggingface.co/Qwen/Qwen2.5-0.5B-Instruct-GGUF/resolve/main/"
	  "qwen2.5-0.5b-instruct-q4_k_m.gguf",
	  "74a4da8c9fdbcd15bd1f6d01d621410d31c6fc00986f5eb687824e7b93d7a9db", 491400032, "chat",
	  "Qwen2.5-0.5B-Instruct, Q4_K_M (Apache-2.0)" },
	/* as pinned, with this revision, by several public projects (they agree) */
	{ "qwen2.5-1.5b", "qwen2.5-1.5b-instruct-q4_k_m.gguf",
	  "https://huggingface.co/Qwen/Qwen2.5-1.5B-Instruct-GGUF/resolve/"
	  "91cad51170dc346986eccefdc2dd33a9da36ead9/qwen2.5-1.5b-instruct-q4_k_m.gguf",
	  "6a1a2eb6d15622bf3c96857206351ba97e1af16c30d7a74ee38970e434e9407e", 1117320736, "chat",
	  "Qwen2.5-1.5B-Instruct, Q4_K_M (Apache-2.0)" },
	{ "all-minilm-l6-v2", "all-MiniLM-L6-v2-Q8_0.gguf",
	  "https://huggingface.co/second-state/All-MiniLM-L6-v2-Embedding-GGUF/resolve/main/"
	  "all-MiniLM-L6-v2-Q8_0.gguf",
	  NULL, 25000000, "embed", "all-MiniLM-L6-v2 sentence embedder, Q8_0 (Apache-2.0)" },
	/* sha256 as pinned by a public project's Nix fetchurl of this URL */
	{ "bge-small-en-v1.5", "bge-small-en-v1.5-q8_0.gguf",
	  "https://huggingface.co/CompendiumLabs/bge-small-en-v1.5-gguf/resolve/main/"
	  "bge-small-en-v1.5-q8_0.gguf",
	  "ec38e8da142596baa913124ae50550de284b6916bf59577ef2f0cb9660c2f514", 36000000, "embed",
	  "BAAI bge-small-en-v1.5 embedder, Q8_0 (MIT); set embed_query_prefix" },
};

#define NCATALOG (sizeof catalog / sizeof catalog[0])

static const struct model_entry *catalog_find(const char *name)
{
	for (size_t i = 0; i < NCATALOG; i++)
		if (!strcasecmp(catalog[i].name, name) || !strcmp(catalog[i].file, name))
			return &catalog[i];
	return NULL;
}

static int models_dir(struct cli *c, char *buf, size_t n, bool create)
{
	snprintf(buf, n, "%s/models", c->home);
	if (create && mx_mkdir_p(buf)) {
		cli_error("cannot create '%s'", buf);
		return -1;
	}
	return 0;
}

/* A file name from a URL's last path component: letters, digits, '.',
 * '-', '_' only, not starting with '.'; "" when there is none. */
static void file_from_url(const char *url, char *out, size_t n)
{
	const char *end = url + strcspn(url, "?#");
	const char *slash = end;
	while (slash > url && slash[-1] != '/')
		slash--;
	size_t o = 0;
	for (const char *p = slash; p < end && o + 1 < n; p++) {
		char ch = *p;
		bool ok = (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
			  (ch >= '0' && ch <= '9') || ch == '.' || ch == '-' || ch == '_';
		out[o++] = ok ? ch : '_';
	}
	out[o] = '\0';
	if (out[0] == '.' || !strcmp(out, "") || strspn(out, "._") == strlen(out))
		out[0] = '\0';
}

static void human_bytes(uint64_t b, char *buf, size_t n)
{
	if (b >= 1000000000)
		snprintf(buf, n, "%.2f GB", (double)b / 1e9);
	else if (b >= 1000000)
		snprintf(buf, n, "%.1f MB", (double)b / 1e6);
	else if (b >= 1000)
		snprintf(buf, n, "%.1f kB", (double)b / 1e3);
	else
		snprintf(buf, n, "%" PRIu64 " B", b);
}

/* ======================================================================
 * pull
 * ====================================================================== */

static volatile sig_atomic_t pull_interrupted;

static void on_sigint(int sig)
{
	(void)sig;
	pull_interrupted = 1;
}

struct pull_progress {
	bool tty;
	double t0, last;
	uint64_t first; /* bytes already there when this run began */
	bool started, shown;
};

/* "  41.2 MB of 386.0 MB (10%), 5.3 MB/s, 1m05s left" on one line of
 * stderr, redrawn on a terminal, every 10 s otherwise. */
static int pull_progress(void *ctx, uint64_t have, uint64_t total)
{
	struct pull_progress *pp = ctx;
	double t = cli_now();
	if (pull_interrupted)
		return 1;
	if (!pp->started) {
		pp->started = true;
		pp->first = have;
		pp->t0 = t;
		pp->last = pp->tty ? 0 : t; /* off a terminal: a line every 10 s */
	}
	bool done = total && have >= total;
	if (!total && have == pp->first)
		return 0; /* nothing to tell yet */
	if (!done && t - pp->last < (pp->tty ? 0.5 : 10.0))
		return 0;
	if (!pp->tty && done && !pp->shown)
		return 0;
	pp->last = t;
	pp->shown = true;
	char h[32], tot[32], rate[32], eta[32] = "";
	double dt = t - pp->t0, r = dt > 0.2 ? (double)(have - pp->first) / dt : 0;
	human_bytes(have, h, sizeof h);
	human_bytes(total, tot, sizeof tot);
	human_bytes((uint64_t)r, rate, sizeof rate);
	if (total && r > 0 && !done) {
		double left = (double)(total - have) / r;
		snprintf(eta, sizeof eta, ", %dm%02ds left", (int)(left / 60), (int)left % 60);
	}
	if (total)
		fprintf(stderr, "%s  %s of %s (%d%%), %s/s%s%s", pp->tty ? "\r\033[K" : "", h, tot,
			(int)(100.0 * (double)have / (double)total), rate, eta,
			pp->tty ? "" : "\n");
	else
		fprintf(stderr, "%s  %s, %s/s%s", pp->tty ? "\r\033[K" : "", h, rate,
			pp->tty ? "" : "\n");
	fflush(stderr);
	return 0;
}

static int model_pull(struct cli *c, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "sha256", required_argument, NULL, 's' },
		{ "no-verify", no_argument, NULL, 'N' },
		{ "out", required_argument, NULL, 'o' },
		{ "retries", required_argument, NULL, 'r' },
		{ NULL, 0, NULL, 0 },
	};
	const char *sha = NULL, *out_name = NULL;
	bool no_verify = false;
	size_t retries = 2;
	int opt;
	while ((opt = getopt_long(argc, argv, "o:", opts, NULL)) != -1) {
		switch (opt) {
		case 's':
			if (!rtr_sha256_is_valid(optarg)) {
				cli_error("--sha256 wants 64 hex digits, not '%s'", optarg);
				return CLI_USAGE;
			}
			sha = optarg;
			break;
		case 'N': no_verify = true; break;
		case 'o': out_name = optarg; break;
		case 'r':
			if (cli_parse_count(optarg, 0, 100, &retries)) {
				cli_error("--retries wants a count from 0 to 100, not '%s'",
					  optarg);
				return CLI_USAGE;
			}
			break;
		default: return cli_usage(cli_command_find("model"), true);
		}
	}
	if (optind + 1 != argc || (sha && no_verify))
		return cli_usage(cli_command_find("model"), true);
	const char *what = argv[optind];
	const struct model_entry *m = catalog_find(what);
	char file[256], url[4096], dir[4200], dest[4500], safe[600];
	if (m) {
		snprintf(url, sizeof url, "%s", m->url);
		snprintf(file, sizeof file, "%s", m->file);
		if (!sha)
			sha = m->sha256;
	} else if (strstr(what, "://")) {
		if (snprintf(url, sizeof url, "%s", what) >= (int)sizeof url) {
			cli_error("the URL is too long");
			return CLI_USAGE;
		}
		file_from_url(url, file, sizeof file);
	} else {
		cli_error(
			"'%s' is neither a model of the catalog nor a URL; see 'memex model list'",
			cli_safe(what, safe, sizeof safe));
		return CLI_USAGE;
	}
	if (out_name) {
		if (strchr(out_name, '/') || out_name[0] == '.' || !out_name[0] ||
		    snprintf(file, sizeof file, "%s", out_name) >= (int)sizeof file) {
			cli_error("--out wants a plain file name (it goes into DATA_HOME/models)");
			return CLI_USAGE;
		}
	}
	if (!file[0]) {
		cli_error("cannot tell a file name from '%s'; give one with --out NAME",
			  cli_safe(url, safe, sizeof safe));
		return CLI_USAGE;
	}
	if (!sha && !no_verify) {
		cli_error("no SHA-256 is known for '%s': give --sha256 HEX (from the model's page) "
			  "or, to take the file unverified, --no-verify",
			  cli_safe(what, safe, sizeof safe));
		return CLI_ERR;
	}
	if (no_verify)
		sha = NULL;
	if (models_dir(c, dir, sizeof dir, true))
		return CLI_ERR;
	snprintf(dest, sizeof dest, "%s/%s", dir, file);
	struct stat sb;
	if (stat(dest, &sb) == 0) {
		printf("Already here: %s\n", dest);
		return CLI_OK;
	}
	struct sigaction sa, old_int, old_term;
	memset(&sa, 0, sizeof sa);
	sa.sa_handler = on_sigint;
	sigaction(SIGINT, &sa, &old_int);
	sigaction(SIGTERM, &sa, &old_term);
	struct pull_progress pp = { .tty = c->stderr_tty };
	struct rtr_fetch_params p = rtr_fetch_params_default();
	p.sha256 = sha;
	p.on_progress = pull_progress;
	p.ctx = &pp;
	struct rtr_fetch_result res;
	char err[1024];
	int rc = 0;
	if (pp.tty)
		fprintf(stderr, "Downloading %s\n       into %s\n",
			cli_safe(url, safe, sizeof safe), dest);
	for (size_t attempt = 0;; attempt++) {
		pp.started = false;
		rc = rtr_fetch_file(url, dest, &p, &res, err, sizeof err);
		if (pp.tty && pp.shown)
			fputc('\n', stderr);
		pp.shown = false;
		if (rc == 0 || rc != MX_EIO || attempt >= retries || pull_interrupted)
			break;
		cli_warn("%s", err);
		sleep(attempt < 3 ? 1u << attempt : 8u);
	}
	sigaction(SIGINT, &old_int, NULL);
	sigaction(SIGTERM, &old_term, NULL);
	if (rc) {
		if (rc == MX_EINTR || pull_interrupted) {
			cli_error("interrupted; the part downloaded is kept: run the same command "
				  "again to resume");
			return CLI_INTR;
		}
		cli_error("%s", err);
		return CLI_ERR;
	}
	char size[32];
	human_bytes(res.bytes, size, sizeof size);
	if (sha)
		printf("Downloaded %s (%s, SHA-256 verified)\n", dest, size);
	else
		printf("Downloaded %s (%s, NOT verified: its SHA-256 is %s)\n", dest, size,
		       res.sha256);
	if (res.resumed_from)
		fprintf(stderr, "(resumed from %" PRIu64 " bytes)\n", res.resumed_from);
	return CLI_OK;
}

/* ======================================================================
 * list and rm
 * ====================================================================== */

static bool ends_with(const char *s, const char *suffix)
{
	size_t n = strlen(s), k = strlen(suffix);
	return n >= k && !strcmp(s + n - k, suffix);
}

static int model_list(struct cli *c, int argc, char **argv)
{
	bool json = argc == 2 && !strcmp(argv[1], "--json");
	if (argc > 2 || (argc == 2 && !json))
		return cli_usage(cli_command_find("model"), true);
	char dir[4200], path[4500], size[32], safe[600];
	models_dir(c, dir, sizeof dir, false);
	struct json_object *arr = json ? json_object_new_array() : NULL;
	if (!json)
		printf("%-18s %-6s %-10s %-9s %s\n", "NAME", "KIND", "SIZE", "SHA-256", "STATE");
	for (size_t i = 0; i < NCATALOG; i++) {
		const struct model_entry *m = &catalog[i];
		struct stat sb;
		const char *state = "-";
		uint64_t have = 0;
		snprintf(path, sizeof path, "%s/%s", dir, m->file);
		if (stat(path, &sb) == 0) {
			state = "installed";
			have = (uint64_t)sb.st_size;
		} else {
			snprintf(path, sizeof path, "%s/%s.part", dir, m->file);
			if (stat(path, &sb) == 0) {
				state = "partial";
				have = (uint64_t)sb.st_size;
			}
		}
		if (json) {
			struct json_object *o = json_object_new_object();
			json_object_object_add(o, "name", json_object_new_string(m->name));
			json_object_object_add(o, "kind", json_object_new_string(m->kind));
			json_object_object_add(o, "file", json_object_new_string(m->file));
			json_object_object_add(o, "url", json_object_new_string(m->url));
			json_object_object_add(
				o, "sha256", m->sha256 ? json_object_new_string(m->sha256) : NULL);
			json_object_object_add(o, "bytes",
					       json_object_new_int64((int64_t)m->bytes));
			json_object_object_add(o, "state", json_object_new_string(state));
			json_object_object_add(o, "bytes_here",
					       json_object_new_int64((int64_t)have));
			json_object_object_add(o, "about", json_object_new_string(m->about));
			json_object_array_add(arr, o);
		} else {
			human_bytes(m->bytes, size, sizeof size);
			printf("%-18s %-6s %s%-9s %-9s %s\n", m->name, m->kind,
			       m->sha256 ? " " : "~", size, m->sha256 ? "pinned" : "unknown",
			       state);
		}
	}
	/* other models in the folder */
	DIR *d = opendir(dir);
	struct dirent *de;
	bool header = false;
	while (d && (de = readdir(d))) {
		if (de->d_name[0] == '.' || !ends_with(de->d_name, ".gguf"))
			continue;
		bool known = false;
		for (size_t i = 0; i < NCATALOG; i++)
			known |= !strcmp(catalog[i].file, de->d_name);
		if (known)
			continue;
		struct stat sb;
		snprintf(path, sizeof path, "%s/%s", dir, de->d_name);
		if (stat(path, &sb) != 0 || !S_ISREG(sb.st_mode))
			continue;
		if (json) {
			struct json_object *o = json_object_new_object();
			json_object_object_add(o, "name", cli_json_string(de->d_name));
			json_object_object_add(o, "file", cli_json_string(path));
			json_object_object_add(o, "state", json_object_new_string("installed"));
			json_object_object_add(o, "bytes_here", json_object_new_int64(sb.st_size));
			json_object_array_add(arr, o);
		} else {
			if (!header)
				printf("\nOther models in %s:\n", dir);
			header = true;
			human_bytes((uint64_t)sb.st_size, size, sizeof size);
			printf("  %-40s %s\n", cli_safe(de->d_name, safe, sizeof safe), size);
		}
	}
	if (d)
		closedir(d);
	if (json)
		cli_json_print(arr);
	else
		printf("\nModels live in %s. 'memex model pull NAME' downloads one;\n"
		       "a size with ~ is approximate, and a model without a pinned SHA-256\n"
		       "needs --sha256 HEX or --no-verify.\n",
		       dir);
	return CLI_OK;
}

/* NAME (catalog or file name) or a path in the models folder, as a path
 * in *out; -1 after printing an error. */
static int model_path(struct cli *c, const char *what, char *out, size_t n, bool must_be_inside)
{
	char dir[4200], safe[600];
	struct stat sb;
	models_dir(c, dir, sizeof dir, false);
	const struct model_entry *m = catalog_find(what);
	if (m) {
		snprintf(out, n, "%s/%s", dir, m->file);
		return 0;
	}
	if (!strchr(what, '/')) {
		snprintf(out, n, "%s/%s", dir, what);
		if (stat(out, &sb) == 0 || must_be_inside)
			return 0;
	}
	char *abs = cli_abspath(what);
	char *absdir = cli_abspath(dir);
	int rc = 0;
	if (!abs || !absdir) {
		cli_error("out of memory");
		rc = -1;
	} else if (must_be_inside && (!cli_path_within(abs, absdir) || !strcmp(abs, absdir))) {
		cli_error("'%s' is not in the models folder %s; memex deletes only what it "
			  "downloaded",
			  cli_safe(what, safe, sizeof safe), dir);
		rc = -1;
	} else {
		snprintf(out, n, "%s", abs);
	}
	free(abs);
	free(absdir);
	return rc;
}

static int model_rm(struct cli *c, int argc, char **argv)
{
	if (argc != 2)
		return cli_usage(cli_command_find("model"), true);
	char path[4500], part[4600], safe[600];
	if (model_path(c, argv[1], path, sizeof path, true))
		return CLI_ERR;
	snprintf(part, sizeof part, "%s.part", path);
	struct stat sb;
	bool any = false;
	if (lstat(path, &sb) == 0) {
		if (!S_ISREG(sb.st_mode)) {
			cli_error("'%s' is not a regular file", cli_safe(path, safe, sizeof safe));
			return CLI_ERR;
		}
		if (unlink(path) != 0) {
			cli_error("cannot remove '%s': %s", path, strerror(errno));
			return CLI_ERR;
		}
		printf("Removed %s\n", path);
		any = true;
	}
	if (lstat(part, &sb) == 0 && S_ISREG(sb.st_mode) && unlink(part) == 0) {
		printf("Removed %s (an unfinished download)\n", part);
		any = true;
	}
	if (!any) {
		cli_error("no model '%s' in the models folder",
			  cli_safe(argv[1], safe, sizeof safe));
		return CLI_ERR;
	}
	if (c->cfg.embedder[0] && !strcmp(c->cfg.embedder, path))
		cli_warn("the configuration's embedder was this file; search now uses BM25 alone");
	return CLI_OK;
}

/* ======================================================================
 * info: a GGUF file's metadata
 * ====================================================================== */

/* Prints a string key when present. */
static void print_str_key(const struct gguf *g, const char *label, const char *key)
{
	const char *s;
	size_t n;
	char buf[512], safe[600];
	if (gguf_get_str(g, key, &s, &n))
		return;
	if (n >= sizeof buf)
		n = sizeof buf - 1;
	memcpy(buf, s, n);
	buf[n] = '\0';
	printf("%-13s%s\n", label, cli_safe(buf, safe, sizeof safe));
}

static void print_u32_key(const struct gguf *g, const char *label, const char *arch,
			  const char *suffix)
{
	char key[160];
	uint32_t v;
	snprintf(key, sizeof key, "%s.%s", arch, suffix);
	if (gguf_get_u32(g, key, &v) == 0)
		printf("%-13s%" PRIu32 "\n", label, v);
}

static int gguf_summary(const char *path)
{
	struct gguf *g = NULL;
	char err[256], arch[64] = "?", size[32], safe[4600];
	size_t plen = strlen(path);
	if (plen > 5 && !strcmp(path + plen - 5, ".part")) {
		cli_error("'%s' is an unfinished download, not a model",
			  cli_safe(path, safe, sizeof safe));
		return CLI_ERR;
	}
	int rc = gguf_open(path, &g, err, sizeof err);
	if (rc) {
		cli_error("cannot read '%s': %s", cli_safe(path, safe, sizeof safe),
			  err[0] ? err : mx_strerror(rc));
		return CLI_ERR;
	}
	struct stat sb;
	const char *s;
	size_t n;
	if (gguf_get_str(g, "general.architecture", &s, &n) == 0 && n < sizeof arch) {
		memcpy(arch, s, n);
		arch[n] = '\0';
	}
	human_bytes(stat(path, &sb) == 0 ? (uint64_t)sb.st_size : 0, size, sizeof size);
	printf("file:        %s (%s)\n", cli_safe(path, safe, sizeof safe), size);
	print_str_key(g, "name:", "general.name");
	printf("%-13s%s\n", "arch:", cli_safe(arch, safe, sizeof safe));
	print_u32_key(g, "context:", arch, "context_length");
	print_u32_key(g, "embedding:", arch, "embedding_length");
	print_u32_key(g, "layers:", arch, "block_count");
	print_u32_key(g, "heads:", arch, "attention.head_count");
	print_u32_key(g, "kv heads:", arch, "attention.head_count_kv");
	print_str_key(g, "tokenizer:", "tokenizer.ggml.model");
	enum gguf_vtype et;
	uint64_t nv;
	if (gguf_get_arr(g, "tokenizer.ggml.tokens", &et, &nv) == 0)
		printf("%-13s%" PRIu64 "\n", "vocabulary:", nv);
	/* tensors by type, and the parameter count */
	uint64_t count[64] = { 0 }, params = 0, other = 0;
	size_t nt = gguf_n_tensors(g);
	for (size_t i = 0; i < nt; i++) {
		const struct gguf_tensor *t = gguf_tensor_at(g, i);
		uint64_t e = 1;
		for (int d = 0; d < t->n_dims; d++)
			e *= t->ne[d];
		params += e;
		if (t->type < 64)
			count[t->type]++;
		else
			other++;
	}
	printf("%-13s%zu, %.1fM parameters:", "tensors:", nt, (double)params / 1e6);
	for (uint32_t t = 0; t < 64; t++)
		if (count[t]) {
			const char *tn = quant_type_name(t);
			if (strcmp(tn, "unknown"))
				printf(" %s %" PRIu64, tn, count[t]);
			else
				printf(" type%u %" PRIu64, t, count[t]);
		}
	if (other)
		printf(" other %" PRIu64, other);
	printf("\n%-13s%zu\n", "metadata:", gguf_n_kv(g));
	gguf_close(g);
	return CLI_OK;
}

static int model_convert(struct cli *c, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "out", required_argument, NULL, 'o' },
		{ NULL, 0, NULL, 0 },
	};
	char out[4200] = "", err[512];
	int opt;
	while ((opt = getopt_long(argc, argv, "o:", opts, NULL)) != -1) {
		if (opt != 'o')
			return cli_usage(cli_command_find("model"), true);
		snprintf(out, sizeof out, "%s", optarg);
	}
	if (optind + 1 != argc)
		return cli_usage(cli_command_find("model"), true);
	if (!out[0]) {
		char dir[4200];
		snprintf(dir, sizeof dir, "%s/models", c->home);
		if (mx_mkdir_p(dir)) {
			cli_error("cannot create '%s'", dir);
			return CLI_ERR;
		}
		cli_default_model(c, out, sizeof out);
	}
	int rc = use_convert(argv[optind], out, err, sizeof err);
	if (rc) {
		cli_error("cannot convert '%s': %s", argv[optind], err[0] ? err : mx_strerror(rc));
		return CLI_ERR;
	}
	struct stat sb;
	printf("Converted %s\n       to %s (%.1f MB)\n", argv[optind], out,
	       stat(out, &sb) == 0 ? (double)sb.st_size / 1e6 : 0.0);
	return CLI_OK;
}

static int model_info(struct cli *c, int argc, char **argv)
{
	struct eng_embedder *e = NULL;
	char err[256], path[4200];
	if (argc > 2)
		return cli_usage(cli_command_find("model"), true);
	if (argc == 2) {
		/* a catalog name, a file in the models folder, or a path: its
		 * GGUF metadata, and what it is as an embedder when it is one */
		if (model_path(c, argv[1], path, sizeof path, false))
			return CLI_ERR;
		int ret = gguf_summary(path);
		if (ret)
			return ret;
		struct eng_params p = eng_params_default();
		if (eng_embedder_open(path, &p, &e, err, sizeof err)) {
			printf("embedder:    no (%s)\n", err);
			return CLI_OK;
		}
		printf("embedder:    %s, %d dimensions\nfingerprint: %s\n", eng_embedder_name(e),
		       eng_embedder_dims(e), eng_embedder_fingerprint(e));
		eng_embedder_close(e);
		return CLI_OK;
	} else {
		if (cli_embedder_open(c, &e))
			return CLI_ERR;
		if (!e) {
			cli_default_model(c, path, sizeof path);
			printf("No embedder: search uses BM25 alone.\n"
			       "Convert the default one with 'make model', or 'memex model convert DIR'\n"
			       "(it goes to %s), or set 'embedder = FILE' in the configuration.\n",
			       path);
			return CLI_OK;
		}
	}
	printf("name:        %s\ndimensions:  %d\nfingerprint: %s\n", eng_embedder_name(e),
	       eng_embedder_dims(e), eng_embedder_fingerprint(e));
	eng_embedder_close(e);
	return CLI_OK;
}

struct gen_ui {
	bool tty;
	int shown; /* the last percentage shown, -1 for none */
};

static void gen_progress(void *ctx, uint64_t done, uint64_t total)
{
	struct gen_ui *ui = ctx;
	int pct = total ? (int)(100 * done / total) : 100;
	if (!ui->tty || pct == ui->shown)
		return;
	ui->shown = pct;
	fprintf(stderr, "\rwriting: %3d%% of %.1f MB", pct, (double)total / 1e6);
}

/* "a, b, c" of a NULL-terminated list */
static void join_names(const char *const *v, char *out, size_t n)
{
	size_t len = 0;
	out[0] = '\0';
	for (size_t i = 0; v[i] && len < n; i++)
		len += (size_t)snprintf(out + len, n - len, "%s%s", i ? ", " : "", v[i]);
}

static int model_gen(struct cli *c, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "shape", required_argument, NULL, 's' }, { "type", required_argument, NULL, 't' },
		{ "vocab", required_argument, NULL, 'v' }, { "seed", required_argument, NULL, 'S' },
		{ "out", required_argument, NULL, 'o' },   { NULL, 0, NULL, 0 },
	};
	struct eng_model_gen_params p = eng_model_gen_params_default();
	const char *out = NULL;
	char err[512], names[256];
	int opt;
	p.shape = p.type = NULL;
	while ((opt = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		size_t seed;
		switch (opt) {
		case 's': p.shape = optarg; break;
		case 't': p.type = optarg; break;
		case 'v': p.vocab = optarg; break;
		case 'o': out = optarg; break;
		case 'S':
			if (cli_parse_count(optarg, 0, SIZE_MAX, &seed)) {
				cli_error("--seed: '%s' is not a number", optarg);
				return CLI_USAGE;
			}
			p.seed = seed;
			break;
		default: return cli_usage(cli_command_find("model"), true);
		}
	}
	if (optind != argc || !p.shape || !p.type || !out)
		return cli_usage(cli_command_find("model"), true);
	struct gen_ui ui = { c->stderr_tty, -1 };
	p.progress = gen_progress;
	p.progress_ctx = &ui;
	int rc = eng_model_gen(&p, out, err, sizeof err);
	if (ui.shown >= 0)
		fprintf(stderr, "\r\033[K");
	if (rc == MX_EINVAL) {
		join_names(!strncmp(err, "unknown shape", 13) ? eng_gen_shapes() : eng_gen_types(),
			   names, sizeof names);
		cli_error("%s (one of: %s)", err, names);
		return CLI_USAGE;
	}
	if (rc) {
		cli_error("cannot write '%s': %s", out, err[0] ? err : mx_strerror(rc));
		return CLI_ERR;
	}
	struct stat sb;
	printf("Wrote %s: %s, %s, seed %llu (%.1f MB)\n", out, p.shape, p.type,
	       (unsigned long long)p.seed, stat(out, &sb) == 0 ? (double)sb.st_size / 1e6 : 0.0);
	return CLI_OK;
}

int cmd_model(struct cli *c, int argc, char **argv)
{
	if (argc >= 2 && !strcmp(argv[1], "gen"))
		return model_gen(c, argc - 1, argv + 1);
	if (argc >= 2 && !strcmp(argv[1], "convert"))
		return model_convert(c, argc - 1, argv + 1);
	if (argc >= 2 && !strcmp(argv[1], "info"))
		return model_info(c, argc - 1, argv + 1);
	if (argc >= 2 && !strcmp(argv[1], "pull"))
		return model_pull(c, argc - 1, argv + 1);
	if (argc >= 2 && (!strcmp(argv[1], "list") || !strcmp(argv[1], "ls")))
		return model_list(c, argc - 1, argv + 1);
	if (argc >= 2 && !strcmp(argv[1], "rm"))
		return model_rm(c, argc - 1, argv + 1);
	return cli_usage(cli_command_find("model"), true);
}

int cmd_reembed(struct cli *c, int argc, char **argv)
{
	(void)argv;
	if (argc > 1)
		return cli_usage(cli_command_find("reembed"), true);
	struct eng_embedder *e = NULL;
	int ex, ret = CLI_ERR, lock = -1;
	if (cli_embedder_open(c, &e))
		return CLI_ERR;
	if (!e) {
		cli_error("no embedder is configured; see 'memex model info'");
		return CLI_ERR;
	}
	struct store *st = cli_store_open(c, false, false, &ex);
	struct indexer *ix = NULL;
	int64_t model = 0, dropped = 0;
	uint64_t n = 0;
	if (!st) {
		eng_embedder_close(e);
		return ex;
	}
	if (cli_index_lock(c, &lock))
		goto out;
	if (store_model_id(st, eng_embedder_fingerprint(e), eng_embedder_dims(e),
			   eng_embedder_name(e), &model) ||
	    store_begin(st) || store_vectors_drop_others(st, model, &dropped) || store_commit(st)) {
		cli_error("%s", store_errmsg(st));
		store_rollback(st);
		goto out;
	}
	struct idx_params p = idx_params_default();
	if (!(ix = idx_new(st, &p)))
		goto out;
	int rc = idx_embed(ix, e, model, &n);
	if (rc) {
		cli_error("%s", idx_errmsg(ix));
		ret = rc == MX_EINTR ? CLI_INTR : CLI_ERR;
		goto out;
	}
	printf("Re-embedded: %llu chunks with %s; %lld vectors of other models removed\n",
	       (unsigned long long)n, eng_embedder_name(e), (long long)dropped);
	ret = CLI_OK;
out:
	idx_free(ix);
	store_close(st);
	eng_embedder_close(e);
	if (lock >= 0)
		close(lock);
	return ret;
}
