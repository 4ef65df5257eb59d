/*
 * cli.h - what the command files of `memex` share.
 *
 * Only cli/ prints, exits or reads the user's configuration. Each command
 * is one cmd_*.c file with a `cmd_NAME(struct cli *, argc, argv)` entry in
 * the table of main.c; it returns an exit status (enum cli_exit).
 */
#ifndef MX_CLI_H
#define MX_CLI_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "../indexer/indexer.h"
#include "../store/store.h"

enum cli_exit {
	CLI_OK = 0,
	CLI_ERR = 1,	 /* the command failed */
	CLI_USAGE = 2,	 /* bad command line */
	CLI_PARTIAL = 3, /* done, but some files could not be indexed */
	CLI_INTR = 130,	 /* interrupted; work so far kept */
};

struct cli_config {
	size_t max_file_size;
	struct idx_chunk_params chunk;
	size_t search_results;
	char embedder[4096];   /* a GGUF path, "none", or "" (the default model) */
	double w_dense, rrf_k; /* hybrid fusion */
	float min_dense;       /* cosine floor of a dense hit */
	bool convex;	       /* hybrid_fusion = convex */
	char query_prefix[128], passage_prefix[128]; /* e5: "query: ", "passage: " */
	char path[4096];			     /* the file read, or "" */
	bool loaded;
};

struct cli {
	char home[4096];    /* data home: $MEMEX_HOME or $XDG_DATA_HOME/memex */
	char db_path[4200]; /* home/index.db */
	struct cli_config cfg;
	int verbose;
	bool stdout_tty, stderr_tty;
};

struct cli_command {
	const char *name;
	int (*fn)(struct cli *c, int argc, char **argv);
	const char *summary; /* one line for `memex help` */
	const char *usage;   /* the full --help text */
};

/* Prints "memex: <message>" on stderr. */
void cli_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void cli_warn(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* Opens the index. With create, makes the data home (0700) and the index
 * (0600) when missing. Prints the error and returns NULL on failure, with
 * the exit status in *exit_code. */
struct store *cli_store_open(struct cli *c, bool create, bool readonly, int *exit_code);

/* Prints a command's usage (to stdout for --help, stderr on misuse). */
int cli_usage(const struct cli_command *cmd, bool to_stderr);
const struct cli_command *cli_command_find(const char *name);

/* Reads $MEMEX_CONFIG, or $XDG_CONFIG_HOME/memex/config, or
 * ~/.config/memex/config, if present. 0, or -1 after printing an error. */
int cli_config_load(struct cli_config *cfg);
void cli_config_default(struct cli_config *cfg);
/* Parses "100M"-style sizes (K, M, G: powers of 1024). */
int cli_parse_size(const char *s, size_t *out);
/* Parses a positive count; -1 on junk. */
int cli_parse_count(const char *s, size_t min, size_t max, size_t *out);

/* Takes the data home's index lock (DATA_HOME/index.lock): one 'memex
 * index' at a time, and no forget or source removal under a running one.
 * The lock goes with the process, also when it is killed. 0 with *fd set
 * (close it to release; -1 when no lock file could be made), or -1 after
 * printing that an index run holds it. */
int cli_index_lock(struct cli *c, int *fd);

/* Absolute, normalised form of a path that need not exist (malloc'd). */
char *cli_abspath(const char *path);

/* Text from files and mail made safe to print: invalid UTF-8 becomes
 * U+FFFD and control characters '?', so that a file name cannot drive the
 * terminal. Writes into buf (truncated to n) and returns it. */
const char *cli_safe(const char *s, char *buf, size_t n);
/* A JSON string of valid UTF-8 (invalid bytes become U+FFFD); NULL (JSON
 * null) for NULL. */
struct json_object *cli_json_string(const char *s);

/* Whether absolute path a is b or lies below it. */
bool cli_path_within(const char *a, const char *b);

/* "2026-11-21 10:03" in local time, or "never" for 0. */
void cli_format_time(int64_t t, char *buf, size_t n);

/* Prints a snippet on one line: \x02..\x03 become bold on a terminal and
 * **..** otherwise; newlines and runs of blanks become one space. */
void cli_print_snippet(const char *s, bool tty, const char *indent);

/* ---- what search and ask share (query.c) ---- */
struct json_object;
struct ret_params;
struct ret_result;
struct store_hit;

struct query_opts {
	size_t limit;
	bool json, all_chunks, threads;
	int mode; /* enum ret_mode, when mode_set */
	bool mode_set;
	char *query; /* malloc'd: the words joined by spaces */
};
/* Parses -n/--limit, --json, --all-chunks (search only) and the query
 * words; CLI_OK or an exit status after printing usage or an error. */
int cli_query_opts_parse(const char *name, size_t deflimit, int argc, char **argv,
			 struct query_opts *q);
/* Opens the index read-only into *stp and runs the retriever; CLI_OK or an
 * exit status after printing the error. The caller closes *stp. */
int cli_run_query(struct cli *c, const char *query, struct ret_params *p, bool mode_default,
		  struct store **stp, struct ret_result *res);
/* A hit as a JSON object, and all hits of a result as an array, ranked
 * from 1 (new references). */
struct json_object *cli_hit_json(const struct store_hit *h, size_t rank);
struct json_object *cli_hits_json(const struct ret_result *res);
/* Prints o pretty on stdout and drops the reference. */
void cli_json_print(struct json_object *o);

/* ---- messages read back (message.c) ---- */
struct conn_doc;
struct store_docfull;
struct store_att;
/* "Tue, 03 Nov 2026 09:15 +0100": a date as its sender wrote it. */
void cli_format_mail_date(int64_t t, int offset_min, char *buf, size_t n);
/* Reads a stored document back from its file; prints the error. */
int cli_load_doc(struct cli *c, const struct store_docfull *d, struct conn_doc *doc);
/* Headers, text (quotes as a marker unless full) and attachments. */
void cli_print_message(const struct store_docfull *d, const struct conn_doc *doc, bool full,
		       const struct store_att *atts, size_t natts);

/* ---- the embedder (embed.c) ---- */
struct eng_embedder;
/* Opens the configured embedder: the config's `embedder` path, else
 * DATA_HOME/models/use-lite.gguf when it exists. *e is NULL (and 0
 * returned) when there is none; -1 after printing an error. */
int cli_embedder_open(struct cli *c, struct eng_embedder **e);
/* The default model path (DATA_HOME/models/use-lite.gguf). */
void cli_default_model(struct cli *c, char *buf, size_t n);

/* Commands. */
int cmd_init(struct cli *c, int argc, char **argv);
int cmd_add(struct cli *c, int argc, char **argv);
int cmd_sources(struct cli *c, int argc, char **argv);
int cmd_index(struct cli *c, int argc, char **argv);
int cmd_search(struct cli *c, int argc, char **argv);
int cmd_ask(struct cli *c, int argc, char **argv);
int cmd_status(struct cli *c, int argc, char **argv);
int cmd_forget(struct cli *c, int argc, char **argv);
int cmd_help(struct cli *c, int argc, char **argv);
int cmd_show(struct cli *c, int argc, char **argv);
int cmd_bench(struct cli *c, int argc, char **argv);
int cmd_eval(struct cli *c, int argc, char **argv);
int cmd_model(struct cli *c, int argc, char **argv);
int cmd_reembed(struct cli *c, int argc, char **argv);
int cmd_thread(struct cli *c, int argc, char **argv);

/* Removes an index file and its -wal and -shm companions (throwaway
 * indexes of bench and eval). */
void cli_index_files_remove(const char *db);

#endif
