/*
 * cmd_model.c - memex model: the embedder; memex reembed.
 *
 *   memex model convert [--out FILE] DIR   USE-Lite (npm package folder) -> GGUF
 *   memex model info [FILE]                what an embedder is
 *   memex model gen --shape S --type T ... a random-weight GGUF of a real shape
 *   memex reembed                          vectors for the configured embedder
 */
#include <getopt.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../common/fsutil.h"
#include "../common/status.h"
#include "../engine/engine.h"
#include "../engine/model_gen.h"
#include "../engine/use.h"
#include "../indexer/indexer.h"
#include "cli.h"

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
		snprintf(path, sizeof path, "%s", argv[1]);
		struct eng_params p = eng_params_default();
		if (eng_embedder_open(path, &p, &e, err, sizeof err)) {
			cli_error("cannot load '%s': %s", path, err);
			return CLI_ERR;
		}
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
	struct eng_gen_params p = eng_gen_params_default();
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
