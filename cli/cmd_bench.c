/*
 * cmd_bench.c - memex bench: figures, not tests.
 *
 *   memex bench index [--runs N] [--json] PATH...
 *
 * Reads every file of the PATHs into memory first (so the disk is out of
 * the figure), then times what indexing does to them short of the store
 * and the embedder: parse (connectors), drop quoted text, chunk. It reports
 * the best of N runs (the machines are shared and noisy) as documents/s and
 * MB/s, overall and per document type.
 */
#include <dirent.h>
#include <getopt.h>
#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "../common/fsutil.h"
#include "../common/status.h"
#include "../connectors/conn.h"
#include "../indexer/indexer.h"
#include "cli.h"

#define BENCH_MAX_FILES 1000000
#define BENCH_KINDS	16

struct bench_file {
	char *path;
	const char *type; /* the source type it came from */
	char *data;
	size_t len;
};

struct bench_set {
	struct bench_file *v;
	size_t n, cap;
	size_t bytes;
};

struct bench_kind {
	const char *type;
	double secs;
	size_t files, docs, bytes;
};

static double now(void)
{
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

static int add_file(struct bench_set *s, const char *path, const char *type, size_t max)
{
	char why[128];
	if (!conn_for_file(type, path, why, sizeof why) || s->n >= BENCH_MAX_FILES)
		return 0;
	char *data = NULL;
	size_t len = 0;
	if (mx_read_file(path, max, &data, &len) || len == 0) {
		free(data);
		return 0;
	}
	if (s->n == s->cap) {
		size_t c = s->cap ? s->cap * 2 : 256;
		struct bench_file *v = realloc(s->v, c * sizeof *v);
		if (!v) {
			free(data);
			return MX_ENOMEM;
		}
		s->v = v;
		s->cap = c;
	}
	s->v[s->n++] = (struct bench_file){ strdup(path), type, data, len };
	s->bytes += len;
	return 0;
}

static int add_tree(struct bench_set *s, const char *dir, const char *type, size_t max, int depth)
{
	DIR *d = depth < 64 ? opendir(dir) : NULL;
	if (!d)
		return 0;
	struct dirent *e;
	int rc = 0;
	while (!rc && (e = readdir(d))) {
		if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, ".."))
			continue;
		char *p = mx_path_join(dir, e->d_name);
		struct stat sb;
		if (!p) {
			rc = MX_ENOMEM;
			break;
		}
		if (lstat(p, &sb) == 0 && S_ISDIR(sb.st_mode) &&
		    conn_walk_wants_dir(type, e->d_name))
			rc = add_tree(s, p, type, max, depth + 1);
		else if (S_ISREG(sb.st_mode) && conn_walk_wants_file(type, e->d_name))
			rc = add_file(s, p, type, max);
		free(p);
	}
	closedir(d);
	return rc;
}

static struct bench_kind *kind_of(struct bench_kind *k, size_t *nk, const char *type)
{
	for (size_t i = 0; i < *nk; i++)
		if (!strcmp(k[i].type, type))
			return &k[i];
	if (*nk == BENCH_KINDS)
		return &k[BENCH_KINDS - 1]; /* more types than rows: lump the rest */
	k[*nk] = (struct bench_kind){ type, 0, 0, 0, 0 };
	return &k[(*nk)++];
}

/* Parse, unquote and chunk one document and its children; counts docs. */
static size_t work_doc(const struct conn_doc *d, const struct idx_chunk_params *cp)
{
	size_t docs = 1;
	char *itext = NULL;
	size_t ilen = 0;
	struct idx_span *sp = NULL;
	size_t nsp = 0;
	if (d->nquoted && conn_doc_indexable(d, &itext, &ilen) == 0) {
		idx_chunk_text(itext, ilen, d->line_base, cp, &sp, &nsp);
		free(itext);
	} else {
		idx_chunk_text(d->text, d->text_len, d->line_base, cp, &sp, &nsp);
	}
	free(sp);
	for (size_t i = 0; i < d->nchildren; i++)
		docs += work_doc(&d->children[i], cp);
	return docs;
}

/* One run over the set; per-type figures added to k. */
static void run_once(const struct bench_set *s, const struct idx_chunk_params *cp,
		     struct bench_kind *k, size_t *nk, size_t max)
{
	for (size_t i = 0; i < s->n; i++) {
		const struct bench_file *f = &s->v[i];
		char why[128];
		double t0 = now();
		size_t docs = 0;
		const char *type = "failed";
		if (!strcmp(f->type, "mbox")) {
			struct conn_mbox *mb = NULL;
			struct conn_mbox_msg m;
			if (conn_mbox_open(f->path, 0, max, &mb) == 0) {
				while (conn_mbox_next(mb, &m) == 1) {
					struct conn_doc d;
					conn_doc_init(&d);
					if (!m.too_big &&
					    conn_mail_ops.parse(f->path, m.data, m.len, &d) == 0)
						docs += work_doc(&d, cp);
					conn_doc_clear(&d);
				}
				conn_mbox_close(mb);
			}
			type = "mbox";
		} else {
			const struct conn_ops *ops =
				conn_choose(f->type, f->path, f->data, f->len, why, sizeof why);
			struct conn_doc d;
			conn_doc_init(&d);
			if (ops && ops->parse(f->path, f->data, f->len, &d) == 0) {
				docs = work_doc(&d, cp);
				type = d.type;
			}
			conn_doc_clear(&d);
		}
		struct bench_kind *kk = kind_of(k, nk, type);
		kk->secs += now() - t0;
		kk->docs += docs;
		kk->files++;
		kk->bytes += f->len;
	}
}

static int bench_index(struct cli *c, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "runs", required_argument, NULL, 'r' },
		{ "json", no_argument, NULL, 'j' },
		{ NULL, 0, NULL, 0 },
	};
	size_t runs = 5;
	bool json = false;
	int opt;
	while ((opt = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		if (opt == 'r' && !cli_parse_count(optarg, 1, 100, &runs))
			continue;
		if (opt == 'j') {
			json = true;
			continue;
		}
		return cli_usage(cli_command_find("bench"), true);
	}
	if (optind >= argc)
		return cli_usage(cli_command_find("bench"), true);
	struct bench_set s = { 0 };
	int ret = CLI_OK;
	for (int i = optind; i < argc && ret == CLI_OK; i++) {
		const char *type = NULL;
		struct stat sb;
		if (conn_detect_source(argv[i], &type) || stat(argv[i], &sb) != 0) {
			cli_error("cannot read '%s' for the benchmark", argv[i]);
			ret = CLI_ERR;
		} else if (S_ISDIR(sb.st_mode)) {
			if (add_tree(&s, argv[i], type, c->cfg.max_file_size, 0))
				ret = CLI_ERR;
		} else if (add_file(&s, argv[i], type, c->cfg.max_file_size)) {
			ret = CLI_ERR;
		}
	}
	if (ret == CLI_OK && s.n == 0) {
		cli_error("no file to read in the given paths");
		ret = CLI_ERR;
	}
	if (ret != CLI_OK)
		goto out;
	struct bench_kind best[BENCH_KINDS], cur[BENCH_KINDS];
	size_t nbest = 0;
	double best_total = 0;
	for (size_t r = 0; r < runs; r++) {
		size_t ncur = 0;
		run_once(&s, &c->cfg.chunk, cur, &ncur, c->cfg.max_file_size);
		double total = 0;
		for (size_t k = 0; k < ncur; k++)
			total += cur[k].secs;
		if (r == 0 || total < best_total) {
			best_total = total;
			memcpy(best, cur, ncur * sizeof *cur);
			nbest = ncur;
		}
	}
	size_t docs = 0;
	for (size_t k = 0; k < nbest; k++)
		docs += best[k].docs;
	double mb = (double)s.bytes / 1e6;
	if (json) {
		json_object *o = json_object_new_object();
		json_object_object_add(o, "files", json_object_new_int64((int64_t)s.n));
		json_object_object_add(o, "documents", json_object_new_int64((int64_t)docs));
		json_object_object_add(o, "megabytes", json_object_new_double(mb));
		json_object_object_add(o, "runs", json_object_new_int64((int64_t)runs));
		json_object_object_add(o, "seconds", json_object_new_double(best_total));
		json_object_object_add(o, "documents_per_second",
				       json_object_new_double((double)docs / best_total));
		json_object_object_add(o, "mb_per_second", json_object_new_double(mb / best_total));
		json_object *per = json_object_new_object();
		for (size_t k = 0; k < nbest; k++) {
			json_object *x = json_object_new_object();
			json_object_object_add(x, "documents",
					       json_object_new_int64((int64_t)best[k].docs));
			json_object_object_add(x, "seconds", json_object_new_double(best[k].secs));
			json_object_object_add(
				x, "mb_per_second",
				json_object_new_double((double)best[k].bytes / 1e6 / best[k].secs));
			json_object_object_add(per, best[k].type, x);
		}
		json_object_object_add(o, "by_type", per);
		cli_json_print(o);
		goto out;
	}
	printf("bench index: %zu files, %zu documents, %.1f MB; parse + unquote + chunk, "
	       "best of %zu runs\n",
	       s.n, docs, mb, runs);
	printf("  all        %8.0f documents/s  %7.1f MB/s  (%.3f s)\n", (double)docs / best_total,
	       mb / best_total, best_total);
	for (size_t k = 0; k < nbest; k++) {
		if (!strcmp(best[k].type, "failed")) {
			printf("  (%zu files could not be parsed; 'memex index' records why)\n",
			       best[k].files);
			continue;
		}
		printf("  %-10s %8.0f documents/s  %7.1f MB/s  (%zu documents)\n", best[k].type,
		       (double)best[k].docs / best[k].secs,
		       (double)best[k].bytes / 1e6 / best[k].secs, best[k].docs);
	}
out:
	for (size_t i = 0; i < s.n; i++) {
		free(s.v[i].path);
		free(s.v[i].data);
	}
	free(s.v);
	return ret;
}

int cmd_bench(struct cli *c, int argc, char **argv)
{
	if (argc >= 2 && !strcmp(argv[1], "index"))
		return bench_index(c, argc - 1, argv + 1);
	return cli_usage(cli_command_find("bench"), true);
}
