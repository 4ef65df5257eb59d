/* chatmodel.c - opening the configured chat model for ask, summarize and
 * chat --ask. */
#include <stdio.h>

#include "../common/status.h"
#include "../engine/chat.h"
#include "cli.h"

int cli_chat_open(struct cli *c, const char *model, bool extractive, size_t max_tokens,
		  struct chat **ch)
{
	const char *path = model ? model : c->cfg.chat_model[0] ? c->cfg.chat_model : NULL;
	*ch = NULL;
	if (!path || extractive)
		return CLI_OK;
	struct chat_params cp = chat_params_default();
	cp.sample.temperature = 0; /* from the sources, not a story */
	cp.max_tokens = (int)max_tokens;
	if (c->cfg.chat_template[0])
		cp.template_name = c->cfg.chat_template;
	if (c->cfg.chat_ctx)
		cp.llm.n_ctx = (int)c->cfg.chat_ctx;
	char err[512] = "", safe[1024];
	int rc = chat_open(path, &cp, ch, err, sizeof err);
	if (rc) {
		cli_error("cannot open the chat model '%s': %s", cli_safe(path, safe, sizeof safe),
			  err[0] ? err : mx_strerror(rc));
		return CLI_ERR;
	}
	if (chat_warning(*ch)[0] && c->verbose)
		cli_warn("%s", chat_warning(*ch));
	return CLI_OK;
}

int cli_print_piece(void *ctx, const char *piece, size_t len)
{
	const struct cli *c = ctx;
	for (size_t i = 0; i < len; i++) {
		unsigned char ch = (unsigned char)piece[i];
		if (c->stdout_tty && (ch < 0x20 || ch == 0x7F) && ch != '\n' && ch != '\t')
			ch = '?';
		putchar(ch);
	}
	fflush(stdout);
	return 0;
}
