/*
 * chat_tmpl.h - chat prompt formats: which one a model wants, and the
 * prompt text for a list of messages.
 *
 * A GGUF chat model carries its prompt format as a Jinja template
 * (tokenizer.chat_template). memex does not run Jinja: it recognises the
 * family by its distinctive markers and renders the messages the way the
 * family's real templates do (checked against the templates' own output
 * in tests/test_chat.c):
 *
 *   chatml   "<|im_start|>"       Qwen2/2.5, SmolLM2, OpenHermes...:
 *            <|im_start|>ROLE\nCONTENT<|im_end|>\n ... <|im_start|>assistant\n
 *            A template that writes a default system message when the
 *            first message is not one (Qwen2.5, SmolLM2) gets it written.
 *   llama3   "<|start_header_id|>"  <|begin_of_text|><|start_header_id|>ROLE
 *            <|end_header_id|>\n\nCONTENT(trimmed)<|eot_id|> ...; templates
 *            with "Cutting Knowledge Date" (3.1, 3.2) always open with a
 *            system block that holds the dates (chat_tmpl_set_date()).
 *   llama2   "[INST]" and "<<SYS>>"  <s>[INST] <<SYS>>\nSYSTEM\n<</SYS>>\n\n
 *            USER [/INST] ASSISTANT </s><s>[INST] ...
 *   mistral  "[INST]" otherwise    <s>[INST] USER [/INST]ASSISTANT</s>[INST] ...
 *            (v0.1/v0.2); the later forms are told apart by their spacing:
 *            v3 [INST] USER[/INST] ASSISTANT(trimmed)</s>, tekken
 *            [INST]USER[/INST]ASSISTANT</s> (both with the system message
 *            before the last user message, as their templates do), v7
 *            [SYSTEM_PROMPT] SYSTEM[/SYSTEM_PROMPT][INST] USER[/INST] ...
 *   gemma    "<start_of_turn>"     <bos><start_of_turn>user\nCONTENT(trimmed)
 *            <end_of_turn>\n<start_of_turn>model\n...
 *   phi3     "<|assistant|>" and "<|end|>"  <|ROLE|>\nCONTENT<|end|>\n ...
 *            <|assistant|>\n; the Phi-3-mini template (no system role, no
 *            add_generation_prompt) puts <|assistant|>\n after every user
 *            turn, as it does.
 *
 * The BOS text (e.g. "<s>") is written when the template uses bos_token.
 * Families whose templates have no system role (mistral, gemma, Phi-3-
 * mini) get the system messages put in front of the first user message,
 * separated by "\n\n" (gemma 3 and Mistral's own templates do this) or
 * "\n" (Phi-3-mini, as llama.cpp's template engine does), instead of
 * losing them.
 *
 * A template of none of these families (or none at all) falls back to
 * ChatML, and chat_tmpl_warning() says so. The family can be forced by
 * name (chat_tmpl_new_family()).
 *
 * The rendered prompt keeps template text and message content apart
 * (struct chat_prompt's segments): the tokenizer turns "<|im_end|>" in
 * template text into the control token, but never in content, so that a
 * mail or a user line cannot inject turns (see tok_encode_segs()).
 */
#ifndef MX_CHAT_TMPL_H
#define MX_CHAT_TMPL_H

#include <stdbool.h>
#include <stddef.h>

enum chat_family {
	CHAT_FAMILY_CHATML = 0,
	CHAT_FAMILY_LLAMA3 = 1,
	CHAT_FAMILY_LLAMA2 = 2,
	CHAT_FAMILY_MISTRAL = 3,
	CHAT_FAMILY_GEMMA = 4,
	CHAT_FAMILY_PHI3 = 5,
};
#define CHAT_N_FAMILIES 6

enum chat_role {
	CHAT_ROLE_SYSTEM = 0,
	CHAT_ROLE_USER = 1,
	CHAT_ROLE_ASSISTANT = 2,
};

struct chat_msg {
	enum chat_role role;
	const char *content; /* borrowed, content_len bytes */
	size_t content_len;
};

/* One part of a rendered prompt. */
struct chat_seg {
	size_t off, len; /* in chat_prompt.text */
	bool special;	 /* template text: control-token text in it is parsed */
};

/* A rendered prompt; free with chat_prompt_free(). */
struct chat_prompt {
	char *text; /* NUL-terminated, len bytes */
	size_t len;
	struct chat_seg *segs;
	size_t n_segs;
};

struct chat_tmpl;

/* The family's name ("chatml", "llama3", ...; static) and the reverse
 * (0, or MX_EINVAL for a name that is none). */
const char *chat_family_name(enum chat_family f);
int chat_family_parse(const char *name, enum chat_family *f);

/* Recognises jinja[0..len): 0 and *f, or MX_ENOTFOUND when it is no
 * family this module knows. */
int chat_tmpl_detect(const char *jinja, size_t len, enum chat_family *f);

/* A template for a model: from its Jinja text (may be NULL: none), and the
 * text of its BOS and EOS tokens (may be NULL: ""; copied). An unknown or
 * missing template gives ChatML with a warning. 0 or MX_ENOMEM. Free with
 * chat_tmpl_free(). */
int chat_tmpl_new(const char *jinja, size_t len, const char *bos, const char *eos,
		  struct chat_tmpl **out);
/* A family forced by the caller (--template): the family's usual form
 * (BOS written for llama3, llama2, mistral and gemma; no default system
 * message; Phi-3 with system and generation-prompt support). */
int chat_tmpl_new_family(enum chat_family f, const char *bos, const char *eos,
			 struct chat_tmpl **out);
void chat_tmpl_free(struct chat_tmpl *t); /* NULL is fine */

enum chat_family chat_tmpl_family(const struct chat_tmpl *t);
/* "" or why the template is not the model's own (borrowed). */
const char *chat_tmpl_warning(const struct chat_tmpl *t);
/* The date Llama 3.1+ templates write ("26 Jul 2024" until set; copied,
 * at most 63 bytes). */
void chat_tmpl_set_date(struct chat_tmpl *t, const char *date);
/* Text that ends an assistant turn in this family ("<|im_end|>", ...):
 * stop strings for a model whose vocabulary lacks the control token.
 * NULL-terminated, static. */
const char *const *chat_tmpl_stops(const struct chat_tmpl *t);

/* Renders msgs[0..n) and, with add_generation_prompt, the opening of the
 * assistant's reply. 0, MX_ENOMEM, MX_ETOOBIG (over 64 MiB). *out is
 * filled (free with chat_prompt_free()) only on success. */
int chat_tmpl_render(const struct chat_tmpl *t, const struct chat_msg *msgs, size_t n,
		     bool add_generation_prompt, struct chat_prompt *out);
void chat_prompt_free(struct chat_prompt *p); /* zeroes it; twice is fine */

#endif
