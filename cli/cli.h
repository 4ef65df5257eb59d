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
	char chat_model[4096];			     /* chat_model: a GGUF path, or "" (none) */
	char chat_template[32]; /* chat_template: a family name, or "" (the model's) */
	size_t chat_ctx;	/* chat_ctx: context window in tokens, 0 = the model's (max 4096) */
	/* the cloud model (router/cloud.h); env MEMEX_CLOUD_* override */
	char cloud_url[1024], cloud_model[256], cloud_key_file[4096];
	long cloud_timeout_ms, cloud_connect_timeout_ms;
	int cloud_retries;
	size_t cloud_max_response;
	char path[4096]; /* the file read, or "" */
	bool loaded;
	/* the arbiter (router/arbiter.h) */
	int cloud_policy;	   /* enum rtr_policy: cloud_policy (default never) */
	char never_send[16][1024]; /* never_send_source paths (absolute) */
	size_t n_never_send;
	char router_model[4096]; /* router_model, or "" (DATA_HOME/router.model) */
	double router_share;	 /* router_escalate_share; < 0: the model's */
	double router_threshold; /* router_threshold; NaN: from the share */
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

/* Reads one line of f (without its newline or a trailing '\r') into
 * *line (grown as needed, owned by the caller, NUL-terminated; *cap its
 * size). At most max bytes are kept: the rest of a longer line is read
 * and dropped, never held, and *cut says so. 1 a line, 0 the end of
 * input, -1 out of memory. */
int cli_read_line(FILE *f, size_t max, char **line, size_t *cap, size_t *len, bool *cut);

/* A private folder (0700, in $TMPDIR or /tmp) for a throwaway index:
 * its path into dir, the index's path in it into db. -1 (said) when it
 * cannot be made; dir is then "". */
int cli_tmp_index_make(char *dir, size_t dsize, char *db, size_t dbsize);
/* Removes the index of cli_tmp_index_make (with its -wal and -shm) and
 * its folder; nothing for "". */
void cli_tmp_index_remove(const char *dir);

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
	bool dry_run, explain; /* ask: the arbiter (route.c) */
	int mode;	       /* enum ret_mode, when mode_set */
	bool mode_set;
	char *query; /* malloc'd: the words joined by spaces */
	/* ask only */
	const char *model; /* --model: a chat model (argv's), or NULL */
	bool extractive;   /* --extractive: no chat model */
	size_t max_tokens; /* --max-tokens: of a written answer (0: default) */
};
/* Parses -n/--limit, --json, --all-chunks (search only), --model,
 * --extractive and --max-tokens (ask only) and the query words; CLI_OK or an exit status after printing usage or an error. */
int cli_query_opts_parse(const char *name, size_t deflimit, int argc, char **argv,
			 struct query_opts *q);
/* Opens the index read-only into *stp and runs the retriever; CLI_OK or an
 * exit status after printing the error. The caller closes *stp. */
int cli_run_query(struct cli *c, const char *query, struct ret_params *p, bool mode_default,
		  struct store **stp, struct ret_result *res);
/* Opens the configured embedder for a query on st into p->embedder (the
 * caller closes it with eng_embedder_close) with its model id and the
 * fusion settings; with mode_default, hybrid when the index has the
 * embedder's vectors, else BM25 (p->embedder NULL). CLI_OK or an exit
 * status after printing the error. */
int cli_query_embedder(struct cli *c, struct store *st, struct ret_params *p, bool mode_default);
/* A hit as a JSON object, and all hits of a result as an array, ranked
 * from 1 (new references). */
struct json_object *cli_hit_json(const struct store_hit *h, size_t rank);
struct json_object *cli_hits_json(const struct ret_result *res);
/* ---- the arbiter in ask (route.c) ---- */
struct cli_route_opts {
	bool dry_run;	  /* show what would be sent; send nothing */
	bool explain;	  /* show why the arbiter decided as it did */
	bool json;	  /* build *jout instead of printing */
	int local;	  /* enum rtr_local: what the local answer did */
	bool local_model; /* a local chat model answers */
	/* a local draft answer to the question alone (cmd_ask.c), when drafted */
	bool has_draft;
	double draft_logprob, draft_entropy; /* means per token */
	size_t draft_tokens;
};
/* After the local answer: runs both retrieval legs for question, asks the
 * arbiter, and when it and the policy allow, sends the sanitized question to
 * the cloud model and prints the re-identified reply (or, with json, fills
 * *jout, a new object the caller adds to its output or drops). rp is the
 * ask's retrieval set-up (embedder, model id; borrowed). A cloud failure is
 * a warning (the local answer stands): CLI_OK, or CLI_ERR when the question
 * could not even be sanitized. */
int cli_route(struct cli *c, struct store *st, const char *question, const struct ret_params *rp,
	      const struct cli_route_opts *o, struct json_object **jout);

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

/* ---- the chat model (chatmodel.c) ---- */
struct chat;
/* Opens the chat model: model (--model), else the config's chat_model;
 * *ch NULL when there is none or extractive is set. Greedy sampling,
 * replies of at most max_tokens. CLI_OK or CLI_ERR after printing the
 * error. The caller closes *ch with chat_close. */
int cli_chat_open(struct cli *c, const char *model, bool extractive, size_t max_tokens,
		  struct chat **ch);
/* A streamed piece of a model's text to stdout (ctx: the struct cli); on
 * a terminal, control characters other than newline and tab become '?'
 * (the model cannot drive the terminal). Always 0. */
int cli_print_piece(void *ctx, const char *piece, size_t len);

/* ---- printing an answer (cmd_ask.c), for ask and chat --ask ---- */
struct ret_answer;
/* What the answer step produced, for printing. */
struct cli_ask_out {
	const char *model;  /* the chat model's architecture, or NULL */
	const char *reply;  /* the written answer, or NULL (extractive) */
	const char *prompt; /* the user message sent with it */
	bool streamed;	    /* the reply is on stdout already */
	bool declined;	    /* the reply says the data does not hold the
			       answer (ret_answer_declines): withheld */
};
/* The answer, its citations and notes as text on stdout. */
void cli_ask_print_text(struct cli *c, const struct ret_answer *a, const struct cli_ask_out *o);
/* With a chat model ch (may be NULL: nothing to do) and an answer not
 * withheld, the written answer from a's context: streamed to stdout unless
 * json, citations checked (p's embedder and min_support); o's reply and
 * prompt set to *reply and *prompt (malloc'd; the caller frees them).
 * CLI_OK or CLI_ERR after printing the error. */
struct chat;
struct ret_answer_params;
int cli_ask_write(struct cli *c, struct ret_answer *a, const char *question, struct chat *ch,
		  const struct ret_answer_params *p, bool json, struct cli_ask_out *o, char **reply,
		  char **prompt);
/* Shrinks p's context budget so that the prompt (context, instructions,
 * question) and a reply of max_tokens fit the chat model ch's window. */
void cli_ask_fit_window(const struct chat *ch, size_t max_tokens, struct ret_answer_params *p);
/* The answer as a JSON object (a new reference). */
struct json_object *cli_ask_json(const char *question, const struct ret_answer *a,
				 const struct cli_ask_out *o);
/* ---- the cloud client (cloud.c) ---- */
struct rtr_audit;
struct rtr_cloud;
/* DATA_HOME/audit.jsonl. */
void cli_audit_path(struct cli *c, char *buf, size_t n);
/* Whether a cloud URL and model are configured (config or environment). */
bool cli_cloud_configured(struct cli *c);
/* Opens the audit log and a cloud client from the configuration and the
 * environment (MEMEX_CLOUD_URL, MEMEX_CLOUD_MODEL, MEMEX_CLOUD_KEY, else
 * cloud_url, cloud_model, cloud_key_file). Both are the caller's to close
 * (the client first). 0, or -1 after printing the error. */
int cli_cloud_open(struct cli *c, struct rtr_audit **audit, struct rtr_cloud **cloud);

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
int cmd_eval_ask(struct cli *c, int argc, char **argv); /* memex eval ask */
int cmd_model(struct cli *c, int argc, char **argv);
int cmd_reembed(struct cli *c, int argc, char **argv);
int cmd_thread(struct cli *c, int argc, char **argv);
int cmd_router(struct cli *c, int argc, char **argv);
/* `memex eval router` (cmd_eval_router.c), dispatched by cmd_eval. */
int cmd_eval_router(struct cli *c, int argc, char **argv);
/* The router model's path: the config's router_model, else
 * DATA_HOME/router.model. */
void cli_router_model_path(struct cli *c, char *buf, size_t n);
struct rtr_mmlu;
/* Loads RouteLLM's MMLU labels from dir; -1 after printing an error. */
int cli_router_mmlu_load(const char *dir, struct rtr_mmlu *m);
/* Embeds n questions (ENG_QUERY) into out (n * dims), with progress on a
 * terminal, through the cache DATA_HOME/cache/router-NAME.emb when name is
 * not NULL; -1 after printing an error. */
int cli_router_embed(struct cli *c, struct eng_embedder *e, const char *const *texts, size_t n,
		     float *out, const char *name);
int cmd_chat(struct cli *c, int argc, char **argv);
int cmd_summarize(struct cli *c, int argc, char **argv);
int cmd_chat_ask(struct cli *c, int argc, char **argv); /* memex chat --ask */
int cmd_audit(struct cli *c, int argc, char **argv);
int cmd_cloud(struct cli *c, int argc, char **argv);

/* Removes an index file and its -wal and -shm companions (throwaway
 * indexes of bench and eval). */
/* Monotonic seconds since an arbitrary start. */
double cli_now(void);
void cli_index_files_remove(const char *db);

#endif
