/* cmd_index.c - memex index: bring the index up to date. */
#include <getopt.h>
#include <stdlib.h>
#include <json-c/json.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>
#include <time.h>

#include "../common/status.h"
#include "../engine/engine.h"
#include "cli.h"

/* The one piece of global state: set by SIGINT/SIGTERM, read by the
 * indexer between files. */
static volatile sig_atomic_t interrupted;

static void on_signal(int sig)
{
	(void)sig;
	interrupted = 1;
}

struct index_ui {
	struct cli *c;
	bool shown; /* a progress line is on the screen */
};

static void on_progress(const struct idx_progress *p, void *ctx)
{
	struct index_ui *ui = ctx;
	if (!ui->c->stderr_tty || p->elapsed < 0.5)
		return;
	double rate = p->elapsed > 0 ? (double)p->done / p->elapsed : 0;
	double mbs = p->elapsed > 0 ? (double)p->bytes_done / 1e6 / p->elapsed : 0;
	char eta[32] = "--:--";
	if (rate > 0 && p->total >= p->done) {
		unsigned long s = (unsigned long)((double)(p->total - p->done) / rate);
		snprintf(eta, sizeof eta, "%lu:%02lu", s / 60, s % 60);
	}
	if (p->source && !strcmp(p->source, "embedding"))
		fprintf(stderr, "\r\033[Kembedding: %llu/%llu chunks, %.1f chunks/s, ETA %s",
			(unsigned long long)p->done, (unsigned long long)p->total, rate, eta);
	else
		fprintf(stderr,
			"\r\033[Kindexing: %llu/%llu files, %.1f files/s, %.1f MB/s, ETA %s",
			(unsigned long long)p->done, (unsigned long long)p->total, rate, mbs, eta);
	ui->shown = true;
}

static void clear_progress(struct index_ui *ui)
{
	if (ui->shown)
		fputs("\r\033[K", stderr);
	ui->shown = false;
}

static void on_event(enum idx_event ev, const char *path, const char *why, void *ctx)
{
	struct index_ui *ui = ctx;
	static const char *const names[] = { "added",	"updated", "moved",
					     "removed", "failed",  "skipped" };
	if (!ui->c->verbose && ev != IDX_EV_FAILED)
		return;
	char sp[4096], sw[4096];
	path = cli_safe(path, sp, sizeof sp);
	if (why)
		why = cli_safe(why, sw, sizeof sw);
	clear_progress(ui);
	if (ev == IDX_EV_FAILED)
		fprintf(stderr, "memex: cannot index '%s': %s\n", path, why);
	else if (ev == IDX_EV_MOVED)
		fprintf(stderr, "moved    %s (was %s)\n", path, why);
	else if (why)
		fprintf(stderr, "%-8s %s: %s\n", names[ev], path, why);
	else
		fprintf(stderr, "%-8s %s\n", names[ev], path);
}

static void print_json(const struct idx_stats *s, const char *status, double secs)
{
	json_object *o = json_object_new_object();
	json_object_object_add(o, "status", json_object_new_string(status));
	json_object_object_add(o, "run", json_object_new_int64(s->run_id));
	json_object_object_add(o, "seconds", json_object_new_double(secs));
	json_object_object_add(o, "files_seen", json_object_new_int64((int64_t)s->files_seen));
	json_object_object_add(o, "files_opened", json_object_new_int64((int64_t)s->files_opened));
	json_object_object_add(o, "bytes_read", json_object_new_int64((int64_t)s->bytes_read));
	json_object_object_add(o, "unchanged", json_object_new_int64((int64_t)s->unchanged));
	json_object_object_add(o, "added", json_object_new_int64((int64_t)s->added));
	json_object_object_add(o, "updated", json_object_new_int64((int64_t)s->updated));
	json_object_object_add(o, "moved", json_object_new_int64((int64_t)s->moved));
	json_object_object_add(o, "removed", json_object_new_int64((int64_t)s->removed));
	json_object_object_add(o, "failed", json_object_new_int64((int64_t)s->failed));
	json_object_object_add(o, "skipped", json_object_new_int64((int64_t)s->skipped));
	json_object_object_add(o, "chunks", json_object_new_int64((int64_t)s->chunks));
	json_object_object_add(o, "errors_total", json_object_new_int64((int64_t)s->errors_total));
	json_object_object_add(o, "unreadable_folders",
			       json_object_new_int64((int64_t)s->walk_errors));
	cli_json_print(o);
}

/* Embeds the chunks that have no vector of the configured embedder. */
static int embed_new(struct cli *c, struct store *st, struct indexer *ix, struct index_ui *ui,
		     bool json)
{
	struct eng_embedder *e = NULL;
	int64_t model = 0;
	uint64_t n = 0;
	if (cli_embedder_open(c, &e))
		return CLI_ERR;
	if (!e)
		return 0;
	int ret = 0;
	struct timespec t0, t1;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	if (store_model_id(st, eng_embedder_fingerprint(e), eng_embedder_dims(e),
			   eng_embedder_name(e), &model)) {
		cli_error("%s", store_errmsg(st));
		ret = CLI_ERR;
		goto out;
	}
	int rc = idx_embed(ix, e, model, &n);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	clear_progress(ui);
	double secs = (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
	if (!json && n)
		printf("Embedded: %llu chunks with %s (%.1f chunks/s)\n", (unsigned long long)n,
		       eng_embedder_name(e), secs > 0 ? (double)n / secs : 0.0);
	if (rc == MX_EINTR) {
		cli_error("interrupted while embedding; run 'memex index' again to finish");
		ret = CLI_INTR;
	} else if (rc) {
		cli_error("%s", idx_errmsg(ix));
		ret = CLI_ERR;
	}
out:
	eng_embedder_close(e);
	return ret;
}

int cmd_index(struct cli *c, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "full", no_argument, NULL, 'f' },
		{ "json", no_argument, NULL, 'j' },
		{ NULL, 0, NULL, 0 },
	};
	bool full = false, json = false;
	int opt;
	while ((opt = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		if (opt == 'f')
			full = true;
		else if (opt == 'j')
			json = true;
		else
			return cli_usage(cli_command_find("index"), true);
	}
	if (argc - optind > 1)
		return cli_usage(cli_command_find("index"), true);
	const char *only = optind < argc ? argv[optind] : NULL;
	char *only_abs = NULL;
	/* a path when it exists or is not a number; else a source id */
	struct stat sb;
	if (only && (stat(only, &sb) == 0 || strspn(only, "0123456789") != strlen(only)))
		only = only_abs = cli_abspath(only);

	int ex;
	struct store *st = cli_store_open(c, false, false, &ex);
	if (!st) {
		free(only_abs);
		return ex;
	}
	int lock_fd = -1;
	if (cli_index_lock(c, &lock_fd)) {
		store_close(st);
		free(only_abs);
		return CLI_ERR;
	}
	struct index_ui ui = { .c = c };
	struct idx_params p = idx_params_default();
	p.full = full;
	p.max_file_size = c->cfg.max_file_size;
	p.chunk = c->cfg.chunk;
	p.cancel = &interrupted;
	p.progress = on_progress;
	p.event = on_event;
	p.ctx = &ui;

	/* the first Ctrl-C stops cleanly; a second one kills (committed
	 * batches are safe either way) */
	struct sigaction sa = { .sa_handler = on_signal, .sa_flags = SA_RESETHAND };
	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);

	struct timespec t0, t1;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	struct idx_stats s = { 0 };
	struct indexer *ix = idx_new(st, &p);
	int rc = ix ? idx_run(ix, only, &s) : MX_ENOMEM;
	clock_gettime(CLOCK_MONOTONIC, &t1);
	double secs = (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
	clear_progress(&ui);

	int ret = CLI_OK;
	const char *status = "complete";
	switch (rc) {
	case 0: break;
	case MX_EPARTIAL:
		ret = CLI_PARTIAL;
		status = "partial";
		break;
	case MX_EINTR:
		ret = CLI_INTR;
		status = "interrupted";
		break;
	default: ret = CLI_ERR; status = "failed";
	}
	if (json) {
		print_json(&s, status, secs);
	} else if (rc == 0 || rc == MX_EPARTIAL || rc == MX_EINTR) {
		printf("%s: %llu files, %llu added, %llu updated, %llu moved, "
		       "%llu removed, %llu unchanged, %llu failed, %llu skipped "
		       "(%.1f s)\n",
		       rc == MX_EINTR ? "Interrupted" : "Indexed", (unsigned long long)s.files_seen,
		       (unsigned long long)s.added, (unsigned long long)s.updated,
		       (unsigned long long)s.moved, (unsigned long long)s.removed,
		       (unsigned long long)s.unchanged, (unsigned long long)s.failed,
		       (unsigned long long)s.skipped, secs);
	}
	if (c->verbose)
		fprintf(stderr,
			"files seen: %llu, files opened: %llu, bytes read: %llu, "
			"chunks written: %llu\n",
			(unsigned long long)s.files_seen, (unsigned long long)s.files_opened,
			(unsigned long long)s.bytes_read, (unsigned long long)s.chunks);
	if (rc == MX_EPARTIAL)
		cli_warn("partial: %s", idx_errmsg(ix));
	else if (rc == MX_EINTR)
		cli_error("interrupted; what was indexed so far is kept, "
			  "run 'memex index' again to finish");
	else if (rc == MX_ENOTFOUND)
		cli_error("%s; see 'memex sources'", idx_errmsg(ix));
	else if (rc)
		cli_error("indexing failed: %s", idx_errmsg(ix));
	/* then the embeddings of the new chunks, when there is an embedder */
	if ((rc == 0 || rc == MX_EPARTIAL) && ix) {
		int erc = embed_new(c, st, ix, &ui, json);
		if (erc)
			ret = erc;
	}
	idx_free(ix);
	store_close(st);
	if (lock_fd >= 0)
		close(lock_fd);
	free(only_abs);
	return ret;
}
