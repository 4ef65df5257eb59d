/* cmd_chat_ask.c - memex chat --ask: a conversation about the index. Each
 * line is a question; follow-ups are rewritten into standalone queries
 * (retriever/convo.h: by the chat model when there is one, else by rule)
 * before retrieval, and answered as `memex ask` answers (retriever/
 * answer.h), with citations. The conversation is kept in memory and, with
 * --session NAME, in DATA_HOME/sessions/NAME.json (0600). */
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../common/fsutil.h"
#include "../common/status.h"
#include "../engine/chat.h"
#include "../engine/engine.h"
#include "../engine/llm.h"
#include "../retriever/answer.h"
#include "../retriever/convo.h"
#include "cli.h"

#define LINE_MAX_BYTES	  4096	     /* of a question */
#define SESSION_MAX	  (1u << 20) /* bytes of a saved session */
#define REWRITE_TOKENS	  48	     /* of a model's rewrite */
#define CHAT_ASK_TOKENS	  256	     /* of a written answer, by default */

struct chat_ask {
	struct cli *c;
	struct store *st;
	struct chat *ch;
	struct ret_answer_params p;
	struct ret_convo *conv;
	bool json;
	char session[4200]; /* the file, or "" */
};

/* ---- sessions --------------------------------------------------------- */

static bool session_name_ok(const char *s)
{
	size_t n = strlen(s);
	if (!n || n > 64)
		return false;
	for (size_t i = 0; i < n; i++)
		if (!(s[i] >= 'a' && s[i] <= 'z') && !(s[i] >= 'A' && s[i] <= 'Z') &&
		    !(s[i] >= '0' && s[i] <= '9') && s[i] != '-' && s[i] != '_')
			return false;
	return true;
}

static const char *jstr(json_object *o, const char *k)
{
	json_object *v;
	return json_object_object_get_ex(o, k, &v) && json_object_is_type(v, json_type_string)
		       ? json_object_get_string(v)
		       : NULL;
}

/* Loads the saved turns, if the file exists. CLI_OK or CLI_ERR (said). */
static int session_load(struct chat_ask *x)
{
	char *data = NULL;
	size_t len = 0;
	int rc = mx_read_file(x->session, SESSION_MAX, &data, &len);
	if (rc == MX_ENOTFOUND)
		return CLI_OK;
	if (rc) {
		cli_error("cannot read the session '%s': %s", x->session, mx_strerror(rc));
		return CLI_ERR;
	}
	json_object *o = json_tokener_parse(data);
	free(data);
	json_object *turns;
	if (!o || !json_object_object_get_ex(o, "turns", &turns) ||
	    !json_object_is_type(turns, json_type_array)) {
		json_object_put(o);
		cli_error("the session '%s' is not a memex session; remove it or pick another name",
			  x->session);
		return CLI_ERR;
	}
	for (size_t i = 0; i < json_object_array_length(turns); i++) {
		json_object *t = json_object_array_get_idx(turns, i);
		const char *q = jstr(t, "question"), *s = jstr(t, "query");
		if (q && s && ret_convo_add(x->conv, q, s, jstr(t, "person"), jstr(t, "topic"))) {
			json_object_put(o);
			cli_error("out of memory");
			return CLI_ERR;
		}
	}
	json_object_put(o);
	return CLI_OK;
}

/* Writes the turns to the session file (0600, through a temporary file
 * and a rename). A failure is a warning: the conversation goes on. */
static void session_save(struct chat_ask *x)
{
	size_t n;
	const struct ret_convo_turn *t = ret_convo_turns(x->conv, &n);
	json_object *o = json_object_new_object(), *arr = json_object_new_array();
	for (size_t i = 0; i < n; i++) {
		json_object *j = json_object_new_object();
		json_object_object_add(j, "question", cli_json_string(t[i].question));
		json_object_object_add(j, "query", cli_json_string(t[i].query));
		json_object_object_add(j, "person", cli_json_string(t[i].person));
		json_object_object_add(j, "topic", cli_json_string(t[i].topic));
		json_object_array_add(arr, j);
	}
	json_object_object_add(o, "turns", arr);
	const char *s = json_object_to_json_string_ext(o, JSON_C_TO_STRING_PRETTY);
	char tmp[4300];
	snprintf(tmp, sizeof tmp, "%s.tmp", x->session);
	int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0600);
	size_t len = strlen(s);
	bool ok = fd >= 0 && write(fd, s, len) == (ssize_t)len && fsync(fd) == 0;
	if (fd >= 0 && close(fd))
		ok = false;
	if (ok && rename(tmp, x->session))
		ok = false;
	if (!ok) {
		cli_warn("cannot save the session '%s': %s", x->session, strerror(errno));
		unlink(tmp);
	}
	json_object_put(o);
}

/* ---- one turn --------------------------------------------------------- */

/* The standalone query for q: the model's rewrite of a follow-up when
 * there is a model, else (or when it gives nothing usable) the rule's.
 * *how: "none", "rule" or "model". */
static char *standalone(struct chat_ask *x, const char *q, const char **how)
{
	char *out = NULL;
	bool rewritten = false;
	*how = "none";
	if (x->ch && ret_convo_is_followup(x->conv, q)) {
		const char *sys;
		char *user = NULL, *reply = NULL;
		struct chat_session *s = NULL;
		/* a one-line query: not the answer's --max-tokens */
		int old = chat_set_max_tokens(x->ch, REWRITE_TOKENS);
		if (!ret_convo_prompt(x->conv, q, &sys, &user) && !chat_session_new(&s) &&
		    !chat_session_add(s, CHAT_ROLE_SYSTEM, sys, strlen(sys)) &&
		    !chat_session_add(s, CHAT_ROLE_USER, user, strlen(user)) &&
		    !chat_reply(x->ch, s, NULL, NULL, &reply, NULL, NULL))
			out = ret_convo_clean_reply(reply);
		chat_set_max_tokens(x->ch, old);
		free(user);
		free(reply);
		chat_session_free(s);
		if (out) {
			*how = "model";
			return out;
		}
	}
	if (ret_convo_rewrite(x->conv, q, &out, &rewritten))
		return NULL;
	if (rewritten)
		*how = "rule";
	return out;
}

/* The display name of "Name <addr>" (or the address) into buf. */
static void person_of(const char *author, char *buf, size_t n)
{
	buf[0] = '\0';
	if (!author)
		return;
	const char *lt = strchr(author, '<');
	size_t l = lt ? (size_t)(lt - author) : strlen(author);
	while (l && (author[l - 1] == ' ' || author[l - 1] == '"'))
		l--;
	const char *s = author;
	while (l && (*s == '"' || *s == ' ')) {
		s++;
		l--;
	}
	if (!l && lt) {
		s = lt + 1;
		l = strcspn(s, ">");
	}
	snprintf(buf, n, "%.*s", (int)(l < n ? l : n - 1), s);
}

/* Whether s holds a word to search for: a letter or digit (any byte of a
 * multi-byte UTF-8 character counts). "", "   " and "?" do not: dense
 * retrieval would still rank passages for them and answer with nonsense. */
static bool has_word(const char *s)
{
	for (; *s; s++)
		if (isalnum((unsigned char)*s) || (unsigned char)*s >= 0x80)
			return true;
	return false;
}

static int turn(struct chat_ask *x, const char *q)
{
	struct ret_answer a = { 0 };
	struct cli_ask_out o = { 0 };
	char *reply = NULL, *prompt = NULL, safe[LINE_MAX_BYTES + 64];
	const char *how;
	int ret = CLI_OK;
	char *query = standalone(x, q, &how);
	if (!query) {
		cli_error("out of memory");
		return CLI_ERR;
	}
	if (!x->json && strcmp(how, "none"))
		printf("(searching: %s)\n", cli_safe(query, safe, sizeof safe));
	int rc = has_word(query) ? ret_answer_run(x->st, query, &x->p, &a) : MX_EEMPTY;
	if (rc == MX_EEMPTY || (rc == MX_EINVAL && a.err[0])) {
		cli_error("%s",
			  rc == MX_EEMPTY ? "the question has no words to search for" : a.err);
		goto out; /* the conversation goes on */
	}
	if (rc) {
		cli_error("cannot answer: %s", a.err[0] ? a.err : store_errmsg(x->st));
		ret = CLI_ERR;
		goto out;
	}
	if (x->ch)
		o.model = eng_llm_arch(chat_llm(x->ch));
	if ((ret = cli_ask_write(x->c, &a, query, x->ch, &x->p, x->json, &o, &reply, &prompt)))
		goto out;
	if (x->json) {
		json_object *j = cli_ask_json(query, &a, &o);
		json_object_object_add(j, "typed", cli_json_string(q));
		json_object_object_add(j, "rewrite", json_object_new_string(how));
		printf("%s\n", json_object_to_json_string_ext(j, JSON_C_TO_STRING_PLAIN));
		json_object_put(j);
	} else {
		cli_ask_print_text(x->c, &a, &o);
		printf("\n");
	}
	fflush(stdout);
	/* what the answer was about, for the next follow-up */
	char person[256] = "";
	const char *topic = NULL;
	if (!a.abstained && a.nctx) {
		size_t k = a.nsent && a.sent[0].chunk < a.nctx ? a.sent[0].chunk : 0;
		topic = a.ctx[k].hit.title;
		/* the person: the sender of the first mail the answer cites (its
		 * best sentence may come from a note) */
		for (size_t i = 0; i <= a.nsent && !person[0]; i++) {
			size_t j = i < a.nsent ? a.sent[i].chunk : k;
			const struct store_hit *h = j < a.nctx ? &a.ctx[j].hit : NULL;
			if (h && h->type && !strcmp(h->type, "mail"))
				person_of(h->author, person, sizeof person);
		}
	}
	if (ret_convo_add(x->conv, q, query, person, topic)) {
		cli_error("out of memory");
		ret = CLI_ERR;
		goto out;
	}
	if (x->session[0])
		session_save(x);
out:
	free(query);
	free(reply);
	free(prompt);
	ret_answer_clear(&a);
	return ret;
}

/* ---- the command ------------------------------------------------------ */

int cmd_chat_ask(struct cli *c, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "ask", no_argument, NULL, 'a' },
		{ "model", required_argument, NULL, 'm' },
		{ "extractive", no_argument, NULL, 'x' },
		{ "limit", required_argument, NULL, 'l' },
		{ "max-tokens", required_argument, NULL, 'n' },
		{ "session", required_argument, NULL, 'S' },
		{ "json", no_argument, NULL, 'J' },
		{ NULL, 0, NULL, 0 },
	};
	struct chat_ask x = { .c = c, .p = ret_answer_params_default(false) };
	const char *model = NULL, *session = NULL;
	bool extractive = false;
	size_t max_tokens = CHAT_ASK_TOKENS;
	int opt;
	while ((opt = getopt_long(argc, argv, "m:n:", opts, NULL)) != -1) {
		switch (opt) {
		case 'a': break;
		case 'm': model = optarg; break;
		case 'x': extractive = true; break;
		case 'l':
			if (cli_parse_count(optarg, 1, 50, &x.p.docs)) {
				cli_error("--limit takes a number from 1 to 50, not '%s'", optarg);
				return CLI_USAGE;
			}
			break;
		case 'n':
			if (cli_parse_count(optarg, 1, 1u << 16, &max_tokens)) {
				cli_error("--max-tokens takes a number from 1 to 65536, not '%s'",
					  optarg);
				return CLI_USAGE;
			}
			break;
		case 'S': session = optarg; break;
		case 'J': x.json = true; break;
		default:
			cli_error("with --ask, chat takes --model, --extractive, --limit, "
				  "--max-tokens, --session and --json");
			return CLI_USAGE;
		}
	}
	if (optind < argc) {
		cli_error("chat takes no arguments; type your questions on stdin");
		return CLI_USAGE;
	}
	if (session && !session_name_ok(session)) {
		cli_error("--session: '%s' is not a session name (letters, digits, '-' and '_', "
			  "at most 64)",
			  session);
		return CLI_USAGE;
	}
	int ex, ret = CLI_ERR;
	char *line = NULL;
	size_t cap = 0;
	x.st = cli_store_open(c, false, true, &ex);
	if (!x.st)
		return ex;
	if (ret_convo_new(&x.conv)) {
		cli_error("out of memory");
		goto out;
	}
	if (session) {
		char dir[4150];
		snprintf(dir, sizeof dir, "%s/sessions", c->home);
		int rc = mx_mkdir_p(dir);
		if (rc) {
			cli_error("cannot create '%s': %s", dir, mx_strerror(rc));
			goto out;
		}
		snprintf(x.session, sizeof x.session, "%s/%s.json", dir, session);
		if (session_load(&x))
			goto out;
	}
	if (cli_query_embedder(c, x.st, &x.p.ret, true))
		goto out;
	if (x.p.ret.embedder) {
		struct ret_answer_params d = ret_answer_params_default(true);
		x.p.min_coverage = d.min_coverage;
		x.p.min_cos = d.min_cos;
	}
	if (cli_chat_open(c, model, extractive, max_tokens, &x.ch))
		goto out;
	if (x.ch) {
		cli_ask_fit_window(x.ch, max_tokens, &x.p);
	}
	bool tty = isatty(STDIN_FILENO);
	if (tty)
		fprintf(stderr,
			"questions about your data (%s); follow-ups may refer to the last answer. "
			"/clear forgets the conversation, Ctrl-D ends\n",
			x.ch ? "written answers" : "extractive answers");
	ret = CLI_OK;
	for (;;) {
		if (tty)
			fputs("> ", stderr);
		size_t l;
		bool cut;
		if (cli_read_line(stdin, LINE_MAX_BYTES, &line, &cap, &l, &cut) <= 0)
			break;
		if (cut)
			cli_warn("the question is longer than %u bytes; the rest is ignored",
				 LINE_MAX_BYTES);
		if (!l)
			continue;
		if (!strcmp(line, "/quit") || !strcmp(line, "/exit"))
			break;
		if (!strcmp(line, "/clear") || !strcmp(line, "/reset")) {
			ret_convo_clear(x.conv);
			if (x.session[0])
				session_save(&x);
			if (tty)
				fprintf(stderr, "(the conversation is forgotten)\n");
			continue;
		}
		if ((ret = turn(&x, line)))
			break;
	}
out:
	free(line);
	chat_close(x.ch);
	eng_embedder_close(x.p.ret.embedder);
	ret_convo_free(x.conv);
	store_close(x.st);
	return ret;
}
