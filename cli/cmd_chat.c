/* cmd_chat.c - memex chat: a plain conversation with the on-device chat
 * model. User lines come from stdin (a terminal or a pipe), replies are
 * streamed to stdout as they are made. The conversation (a chat_session)
 * keeps to the context window by dropping its oldest exchanges (chat.h). */
#include <errno.h>
#include <getopt.h>
#include <json-c/json.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "../common/status.h"
#include "../engine/chat.h"
#include "../engine/tok.h"
#include "cli.h"

#define MAX_LINE (1u << 20) /* bytes of one user line */

struct out {
	bool tty;
	size_t bytes;
};

/* Ctrl-C: during a reply it ends the reply; at the prompt, the chat. */
static volatile sig_atomic_t interrupted;

static void on_sigint(int sig)
{
	(void)sig;
	interrupted = 1;
}

/* A streamed piece: on a terminal, control characters other than newline
 * and tab are shown as '?' so that the model cannot drive the terminal. */
static int print_piece(void *ctx, const char *piece, size_t len)
{
	struct out *o = ctx;
	for (size_t i = 0; i < len; i++) {
		unsigned char ch = (unsigned char)piece[i];
		if (o->tty && (ch < 0x20 || ch == 0x7F) && ch != '\n' && ch != '\t')
			ch = '?';
		putchar(ch);
	}
	o->bytes += len;
	fflush(stdout);
	return interrupted != 0;
}

static int parse_float(const char *opt, const char *s, double lo, double hi, float *out)
{
	char *end;
	errno = 0;
	double v = strtod(s, &end);
	if (errno || end == s || *end || !(v >= lo && v <= hi)) {
		cli_error("%s: '%s' is not a number from %g to %g", opt, s, lo, hi);
		return -1;
	}
	*out = (float)v;
	return 0;
}

static int parse_int(const char *opt, const char *s, size_t lo, size_t hi, size_t *out)
{
	if (cli_parse_count(s, lo, hi, out)) {
		cli_error("%s: '%s' is not a whole number from %zu to %zu", opt, s, lo, hi);
		return -1;
	}
	return 0;
}

/* Reads one line (without its newline) into *line; false at the end of
 * input. A line over MAX_LINE bytes is cut there (and said so): the rest
 * is read and dropped, never held in memory. */
static bool read_line(char **line, size_t *cap, size_t *len)
{
	bool cut;
	int r = cli_read_line(stdin, MAX_LINE, line, cap, len, &cut);
	if (r <= 0 || interrupted)
		return false;
	if (cut)
		cli_warn("the line is longer than %u bytes; the rest is ignored", MAX_LINE);
	return true;
}

static const char *end_name(enum chat_end e)
{
	switch (e) {
	case CHAT_END_EOG: return "end of turn";
	case CHAT_END_STOP: return "stop string";
	case CHAT_END_MAX: return "max tokens";
	case CHAT_END_CONTEXT: return "context full";
	case CHAT_END_CALLER: return "stopped";
	}
	return "?";
}

int cmd_chat(struct cli *c, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "model", required_argument, NULL, 'm' },
		{ "template", required_argument, NULL, 'T' },
		{ "system", required_argument, NULL, 's' },
		{ "temp", required_argument, NULL, 't' },
		{ "top-k", required_argument, NULL, 'k' },
		{ "top-p", required_argument, NULL, 'p' },
		{ "min-p", required_argument, NULL, 'P' },
		{ "repeat-penalty", required_argument, NULL, 'r' },
		{ "seed", required_argument, NULL, 'S' },
		{ "max-tokens", required_argument, NULL, 'n' },
		{ "ctx", required_argument, NULL, 'c' },
		{ "threads", required_argument, NULL, 'j' },
		{ "stats", no_argument, NULL, 'z' },
		{ "json", no_argument, NULL, 'J' },
		{ NULL, 0, NULL, 0 },
	};
	/* --ask: questions about the index (cmd_chat_ask.c) */
	for (int i = 1; i < argc && strcmp(argv[i], "--"); i++)
		if (!strcmp(argv[i], "--ask"))
			return cmd_chat_ask(c, argc, argv);
	struct chat_params p = chat_params_default();
	const char *model = c->cfg.chat_model[0] ? c->cfg.chat_model : NULL;
	const char *system = NULL;
	bool stats = false, json = false;
	if (c->cfg.chat_template[0])
		p.template_name = c->cfg.chat_template;
	if (c->cfg.chat_ctx)
		p.llm.n_ctx = (int)c->cfg.chat_ctx;
	int opt;
	size_t v;
	while ((opt = getopt_long(argc, argv, "m:s:n:", opts, NULL)) != -1) {
		switch (opt) {
		case 'm': model = optarg; break;
		case 'T': p.template_name = optarg; break;
		case 's': system = optarg; break;
		case 't':
			if (parse_float("--temp", optarg, 0, 100, &p.sample.temperature))
				return CLI_USAGE;
			break;
		case 'k':
			if (parse_int("--top-k", optarg, 0, 1u << 20, &v))
				return CLI_USAGE;
			p.sample.top_k = (int)v;
			break;
		case 'p':
			if (parse_float("--top-p", optarg, 0, 1, &p.sample.top_p))
				return CLI_USAGE;
			break;
		case 'P':
			if (parse_float("--min-p", optarg, 0, 1, &p.sample.min_p))
				return CLI_USAGE;
			break;
		case 'r':
			if (parse_float("--repeat-penalty", optarg, 0.01, 100,
					&p.sample.repeat_penalty))
				return CLI_USAGE;
			break;
		case 'S': {
			char *end;
			errno = 0;
			unsigned long long s = strtoull(optarg, &end, 10);
			if (errno || end == optarg || *end || optarg[0] == '-') {
				cli_error("--seed: '%s' is not a whole number", optarg);
				return CLI_USAGE;
			}
			p.sample.seed = s;
			break;
		}
		case 'n':
			if (parse_int("--max-tokens", optarg, 1, 1u << 20, &v))
				return CLI_USAGE;
			p.max_tokens = (int)v;
			break;
		case 'c':
			if (parse_int("--ctx", optarg, 64, 1u << 20, &v))
				return CLI_USAGE;
			p.llm.n_ctx = (int)v;
			break;
		case 'j':
			if (parse_int("--threads", optarg, 1, 256, &v))
				return CLI_USAGE;
			p.llm.threads = (int)v;
			break;
		case 'z': stats = true; break;
		case 'J': json = true; break;
		default: return cli_usage(cli_command_find("chat"), true);
		}
	}
	if (optind < argc) {
		cli_error("chat takes no arguments; type your messages on stdin");
		return CLI_USAGE;
	}
	if (p.template_name) {
		enum chat_family f;
		if (chat_family_parse(p.template_name, &f)) {
			cli_error("--template: unknown family '%s' (chatml, llama3, llama2, "
				  "mistral, gemma, phi3)",
				  p.template_name);
			return CLI_USAGE;
		}
	}
	if (!model) {
		cli_error("no chat model configured: set 'chat_model = PATH' (a GGUF file) in "
			  "%s, or pass --model PATH",
			  c->cfg.path[0] ? c->cfg.path : "the configuration file");
		return CLI_ERR;
	}
	char date[64];
	time_t now = time(NULL);
	struct tm tm;
	if (localtime_r(&now, &tm) && strftime(date, sizeof date, "%d %b %Y", &tm))
		p.date = date;

	bool tty_in = isatty(STDIN_FILENO);
	if (tty_in)
		fprintf(stderr, "loading %s ...\n", model);
	struct chat *ch = NULL;
	struct chat_session *s = NULL;
	char err[512] = "";
	int rc = chat_open(model, &p, &ch, err, sizeof err);
	if (rc) {
		char safe[1024];
		cli_error("cannot open the chat model '%s': %s", cli_safe(model, safe, sizeof safe),
			  err[0] ? err : mx_strerror(rc));
		return CLI_ERR;
	}
	if (chat_warning(ch)[0])
		cli_warn("%s", chat_warning(ch));
	int ret = CLI_OK;
	char *line = NULL;
	size_t cap = 0, len;
	if (chat_session_new(&s) ||
	    (system && chat_session_add(s, CHAT_ROLE_SYSTEM, system, strlen(system)))) {
		cli_error("out of memory");
		ret = CLI_ERR;
		goto out;
	}
	if (tty_in)
		fprintf(stderr,
			"chat with %s (%s format, %d tokens of context); /clear forgets the "
			"conversation, Ctrl-D ends\n",
			eng_llm_arch(chat_llm(ch)), chat_family_name(chat_family(ch)),
			chat_n_ctx(ch));
	signal(SIGPIPE, SIG_IGN);
	struct sigaction sa = { 0 };
	sa.sa_handler = on_sigint;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL); /* no SA_RESTART: a read at the prompt ends */
	for (;;) {
		if (tty_in)
			fputs("> ", stderr);
		interrupted = 0;
		if (!read_line(&line, &cap, &len)) {
			if (interrupted)
				ret = CLI_INTR;
			break;
		}
		if (!len)
			continue;
		if (!strcmp(line, "/clear") || !strcmp(line, "/reset")) {
			chat_session_clear(s);
			if (system)
				chat_session_add(s, CHAT_ROLE_SYSTEM, system, strlen(system));
			if (tty_in)
				fprintf(stderr, "(the conversation is forgotten)\n");
			continue;
		}
		if (!strcmp(line, "/quit") || !strcmp(line, "/exit"))
			break;
		if ((rc = chat_session_add(s, CHAT_ROLE_USER, line, len))) {
			cli_error("the conversation is too long; use /clear");
			ret = CLI_ERR;
			break;
		}
		struct out o = { .tty = c->stdout_tty };
		struct chat_stats st;
		char *reply = NULL;
		size_t rlen = 0;
		rc = chat_reply(ch, s, json ? NULL : print_piece, &o, &reply, &rlen, &st);
		if (rc) {
			if (!json)
				putchar('\n');
			cli_error("%s", chat_errmsg(ch));
			/* the user line that could not be answered is taken back */
			size_t n;
			chat_session_msgs(s, &n);
			if (n)
				chat_session_remove(s, n - 1, 1);
			if (rc != MX_ETOOBIG) {
				ret = CLI_ERR;
				break;
			}
			continue;
		}
		if (json) {
			json_object *j = json_object_new_object();
			json_object_object_add(j, "reply", cli_json_string(reply));
			json_object_object_add(j, "prompt_tokens",
					       json_object_new_int64((int64_t)st.n_prompt));
			json_object_object_add(j, "tokens",
					       json_object_new_int64((int64_t)st.n_generated));
			json_object_object_add(j, "end", json_object_new_string(end_name(st.end)));
			json_object_object_add(j, "dropped_messages",
					       json_object_new_int64((int64_t)st.n_dropped));
			printf("%s\n", json_object_to_json_string_ext(j, JSON_C_TO_STRING_PLAIN));
			json_object_put(j);
		} else {
			putchar('\n');
		}
		if (st.end == CHAT_END_CALLER && tty_in)
			fprintf(stderr, "(reply stopped)\n");
		fflush(stdout);
		free(reply);
		if (st.n_dropped && !json)
			cli_warn("the oldest %zu message%s left the context window", st.n_dropped,
				 st.n_dropped == 1 ? "" : "s");
		if (stats || c->verbose)
			fprintf(stderr,
				"[%zu prompt tokens (%zu computed) in %.2f s; %zu tokens in %.2f s, "
				"%.1f tokens/s; %s]\n",
				st.n_prompt, st.n_computed, st.prompt_s, st.n_generated, st.gen_s,
				st.gen_s > 0 ? (double)st.n_generated / st.gen_s : 0.0,
				end_name(st.end));
	}
	if (tty_in)
		fputc('\n', stderr);
out:
	free(line);
	chat_session_free(s);
	chat_close(ch);
	return ret;
}
