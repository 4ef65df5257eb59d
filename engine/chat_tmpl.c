/*
 * chat_tmpl.c - chat prompt formats by family (see chat_tmpl.h for the
 * forms and where they come from).
 */
#include "chat_tmpl.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../common/buf.h"
#include "../common/status.h"

#define MAX_PROMPT (64u << 20)
#define MAX_TOKEN  256 /* bytes of a BOS/EOS text kept */

/* Mistral's templates over the versions: where the spaces go around
 * [INST] and [/INST], and where the system message goes. */
enum mistral_form {
	MISTRAL_V1 = 0, /* [INST] u [/INST]a</s>, system before the first user text */
	MISTRAL_V3,	/* [INST] u[/INST] a</s> (trimmed), system before the last */
	MISTRAL_TEKKEN, /* [INST]u[/INST]a</s>, system before the last */
	MISTRAL_V7,	/* [SYSTEM_PROMPT] s[/SYSTEM_PROMPT][INST] u[/INST] a</s> */
};

struct chat_tmpl {
	enum chat_family family;
	bool bos_text;	      /* write the BOS text */
	bool has_system;      /* phi3: the template knows a system role */
	bool gen_after_user;  /* phi3-mini: <|assistant|>\n after each user turn */
	bool dated;	      /* llama3.1+: the system block with the dates */
	int mistral;	      /* enum mistral_form */
	char *default_system; /* chatml: written when messages[0] is no system */
	char bos[MAX_TOKEN];
	char eos[MAX_TOKEN];
	char date[64];
	char warning[160];
};

static const char *const family_names[CHAT_N_FAMILIES] = {
	"chatml", "llama3", "llama2", "mistral", "gemma", "phi3",
};

const char *chat_family_name(enum chat_family f)
{
	return (unsigned)f < CHAT_N_FAMILIES ? family_names[f] : "?";
}

int chat_family_parse(const char *name, enum chat_family *f)
{
	for (int i = 0; i < CHAT_N_FAMILIES; i++) {
		if (!strcmp(name, family_names[i])) {
			*f = (enum chat_family)i;
			return 0;
		}
	}
	return MX_EINVAL;
}

static bool has(const char *s, size_t len, const char *what)
{
	return s && memmem(s, len, what, strlen(what)) != NULL;
}

int chat_tmpl_detect(const char *j, size_t len, enum chat_family *f)
{
	if (has(j, len, "<|im_start|>"))
		*f = CHAT_FAMILY_CHATML;
	else if (has(j, len, "<|start_header_id|>") && has(j, len, "<|end_header_id|>"))
		*f = CHAT_FAMILY_LLAMA3;
	else if (has(j, len, "<start_of_turn>"))
		*f = CHAT_FAMILY_GEMMA;
	else if (has(j, len, "<|assistant|>") && has(j, len, "<|end|>"))
		*f = CHAT_FAMILY_PHI3;
	else if (has(j, len, "[INST]"))
		*f = has(j, len, "<<SYS>>") ? CHAT_FAMILY_LLAMA2 : CHAT_FAMILY_MISTRAL;
	else
		return MX_ENOTFOUND;
	return 0;
}

/* The literal default system message of a ChatML template: the text after
 * "<|im_start|>system\n" up to "<|im_end|>" when it is a constant (no
 * quote, no Jinja in it), with the escapes \n and \' undone. NULL if none
 * (or on allocation failure, which then only loses the default). */
static char *default_system(const char *j, size_t len)
{
	static const char mark[] = "<|im_start|>system";
	const char *p = j, *end = j + len;
	while (p < end) {
		const char *q = memmem(p, (size_t)(end - p), mark, sizeof mark - 1);
		if (!q)
			break;
		p = q + sizeof mark - 1;
		if (end - p >= 2 && p[0] == '\\' && p[1] == 'n')
			p += 2;
		else if (p < end && p[0] == '\n')
			p++;
		else
			continue;
		const char *e = memmem(p, (size_t)(end - p), "<|im_end|>", 10);
		if (!e) /* nor after any later mark: do not search again */
			break;
		if (e == p)
			continue;
		/* Not a constant if it holds a quote or a brace. A later mark
		 * before the last of them would hold it too: search on after
		 * it, so that no stretch is checked twice (linear, not
		 * quadratic, in the template's length). */
		const char *bad = NULL;
		for (const char *c = e; c > p && !bad; c--)
			if (c[-1] == '\'' || c[-1] == '"' || c[-1] == '{' || c[-1] == '}')
				bad = c;
		if (bad) {
			p = bad;
			continue;
		}
		size_t n = (size_t)(e - p);
		if (n > len)
			continue;
		char *out = malloc(n + 1);
		if (!out)
			return NULL;
		size_t o = 0;
		for (const char *c = p; c < e; c++) {
			if (c[0] == '\\' && c + 1 < e && c[1] == 'n') {
				out[o++] = '\n';
				c++;
			} else {
				out[o++] = *c;
			}
		}
		out[o] = '\0';
		return out;
	}
	return NULL;
}

static void copy_tok(char *dst, const char *src)
{
	snprintf(dst, MAX_TOKEN, "%s", src ? src : "");
}

static struct chat_tmpl *alloc_tmpl(enum chat_family f, const char *bos, const char *eos)
{
	struct chat_tmpl *t = calloc(1, sizeof *t);
	if (!t)
		return NULL;
	t->family = f;
	copy_tok(t->bos, bos);
	copy_tok(t->eos, eos);
	snprintf(t->date, sizeof t->date, "26 Jul 2024");
	return t;
}

int chat_tmpl_new_family(enum chat_family f, const char *bos, const char *eos,
			 struct chat_tmpl **out)
{
	*out = NULL;
	if ((unsigned)f >= CHAT_N_FAMILIES)
		return MX_EINVAL;
	struct chat_tmpl *t = alloc_tmpl(f, bos, eos);
	if (!t)
		return MX_ENOMEM;
	t->bos_text = f == CHAT_FAMILY_LLAMA3 || f == CHAT_FAMILY_LLAMA2 ||
		      f == CHAT_FAMILY_MISTRAL || f == CHAT_FAMILY_GEMMA;
	t->has_system = true;
	*out = t;
	return 0;
}

int chat_tmpl_new(const char *j, size_t len, const char *bos, const char *eos,
		  struct chat_tmpl **out)
{
	enum chat_family f;
	int rc = j && len ? chat_tmpl_detect(j, len, &f) : MX_ENOTFOUND;
	if (rc) {
		if ((rc = chat_tmpl_new_family(CHAT_FAMILY_CHATML, bos, eos, out)))
			return rc;
		snprintf((*out)->warning, sizeof(*out)->warning, "%s",
			 j && len ? "the model's chat template is of no known family; using ChatML"
				  : "the model has no chat template; using ChatML");
		return 0;
	}
	struct chat_tmpl *t = alloc_tmpl(f, bos, eos);
	if (!t)
		return MX_ENOMEM;
	t->bos_text = has(j, len, "bos_token");
	t->has_system = true;
	if (f == CHAT_FAMILY_CHATML)
		t->default_system = default_system(j, len);
	if (f == CHAT_FAMILY_LLAMA3)
		t->dated = has(j, len, "Cutting Knowledge Date");
	if (f == CHAT_FAMILY_MISTRAL) {
		if (has(j, len, "[SYSTEM_PROMPT]"))
			t->mistral = MISTRAL_V7;
		else if (has(j, len, "\"[INST]\" +") || has(j, len, "'[INST]' +"))
			t->mistral = MISTRAL_TEKKEN;
		else if (!has(j, len, " [/INST]"))
			t->mistral = MISTRAL_V3;
	}
	if (f == CHAT_FAMILY_PHI3) {
		t->has_system = has(j, len, "<|system|>") || has(j, len, "'<|' + message['role']");
		t->gen_after_user = !has(j, len, "add_generation_prompt");
	}
	*out = t;
	return 0;
}

void chat_tmpl_free(struct chat_tmpl *t)
{
	if (!t)
		return;
	free(t->default_system);
	free(t);
}

enum chat_family chat_tmpl_family(const struct chat_tmpl *t)
{
	return t->family;
}

const char *chat_tmpl_warning(const struct chat_tmpl *t)
{
	return t->warning;
}

void chat_tmpl_set_date(struct chat_tmpl *t, const char *date)
{
	snprintf(t->date, sizeof t->date, "%s", date ? date : "");
}

const char *const *chat_tmpl_stops(const struct chat_tmpl *t)
{
	static const char *const chatml[] = { "<|im_end|>", "<|im_start|>", NULL };
	static const char *const llama3[] = { "<|eot_id|>", "<|start_header_id|>", NULL };
	static const char *const inst[] = { "</s>", "[INST]", NULL };
	static const char *const gemma[] = { "<end_of_turn>", "<start_of_turn>", NULL };
	static const char *const phi3[] = { "<|end|>", "<|user|>", NULL };
	switch (t->family) {
	case CHAT_FAMILY_LLAMA3: return llama3;
	case CHAT_FAMILY_LLAMA2:
	case CHAT_FAMILY_MISTRAL: return inst;
	case CHAT_FAMILY_GEMMA: return gemma;
	case CHAT_FAMILY_PHI3: return phi3;
	default: return chatml;
	}
}

/* ---- rendering ------------------------------------------------------------ */

struct out {
	struct mx_buf b;
	struct chat_seg *segs;
	size_t n, cap;
	int rc;
};

static void add(struct out *o, const char *s, size_t len, bool special)
{
	if (o->rc || !len)
		return;
	size_t at = o->b.len;
	if ((o->rc = mx_buf_append(&o->b, s, len)))
		return;
	if (o->n && o->segs[o->n - 1].special == special &&
	    o->segs[o->n - 1].off + o->segs[o->n - 1].len == at) {
		o->segs[o->n - 1].len += len;
		return;
	}
	if (o->n == o->cap) {
		size_t cap = o->cap ? 2 * o->cap : 16;
		struct chat_seg *v = realloc(o->segs, cap * sizeof *v);
		if (!v) {
			o->rc = MX_ENOMEM;
			return;
		}
		o->segs = v;
		o->cap = cap;
	}
	o->segs[o->n++] = (struct chat_seg){ at, len, special };
}

static void tmpl(struct out *o, const char *s)
{
	add(o, s, strlen(s), true);
}

static void content(struct out *o, const char *s, size_t len)
{
	add(o, s, len, false);
}

static bool is_ws(char c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == '\f';
}

/* Jinja's trim: white space off both ends */
static void trimmed(struct out *o, const char *s, size_t len)
{
	while (len && is_ws(s[0]))
		s++, len--;
	while (len && is_ws(s[len - 1]))
		len--;
	content(o, s, len);
}

static const char *role_name(enum chat_role r)
{
	return r == CHAT_ROLE_SYSTEM ? "system" : r == CHAT_ROLE_USER ? "user" : "assistant";
}

/* All system messages, joined by sep, for the families that put them in
 * front of the first user turn. */
static void system_prefix(struct out *o, const struct chat_msg *m, size_t n, const char *sep)
{
	for (size_t i = 0; i < n; i++) {
		if (m[i].role != CHAT_ROLE_SYSTEM)
			continue;
		content(o, m[i].content, m[i].content_len);
		tmpl(o, sep);
	}
}

static bool any_system(const struct chat_msg *m, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (m[i].role == CHAT_ROLE_SYSTEM)
			return true;
	return false;
}

static void render_chatml(const struct chat_tmpl *t, struct out *o, const struct chat_msg *m,
			  size_t n, bool gen)
{
	if (t->bos_text)
		tmpl(o, t->bos);
	if (t->default_system && (!n || m[0].role != CHAT_ROLE_SYSTEM)) {
		tmpl(o, "<|im_start|>system\n");
		tmpl(o, t->default_system);
		tmpl(o, "<|im_end|>\n");
	}
	for (size_t i = 0; i < n; i++) {
		tmpl(o, "<|im_start|>");
		tmpl(o, role_name(m[i].role));
		tmpl(o, "\n");
		content(o, m[i].content, m[i].content_len);
		tmpl(o, "<|im_end|>\n");
	}
	if (gen)
		tmpl(o, "<|im_start|>assistant\n");
}

static void render_llama3(const struct chat_tmpl *t, struct out *o, const struct chat_msg *m,
			  size_t n, bool gen)
{
	if (t->bos_text)
		tmpl(o, t->bos);
	size_t first = 0;
	if (t->dated) {
		/* 3.1+: the first message, if a system one, goes into the
		 * block with the dates; the block is there either way */
		tmpl(o, "<|start_header_id|>system<|end_header_id|>\n\n");
		tmpl(o, "Cutting Knowledge Date: December 2023\nToday Date: ");
		tmpl(o, t->date);
		tmpl(o, "\n\n");
		if (n && m[0].role == CHAT_ROLE_SYSTEM) {
			trimmed(o, m[0].content, m[0].content_len);
			first = 1;
		}
		tmpl(o, "<|eot_id|>");
	}
	for (size_t i = first; i < n; i++) {
		tmpl(o, "<|start_header_id|>");
		tmpl(o, role_name(m[i].role));
		tmpl(o, "<|end_header_id|>\n\n");
		trimmed(o, m[i].content, m[i].content_len);
		tmpl(o, "<|eot_id|>");
	}
	if (gen)
		tmpl(o, "<|start_header_id|>assistant<|end_header_id|>\n\n");
}

/* Llama 2: the system message goes into the first user turn as <<SYS>>;
 * contents are stripped (the real template strips the joined text
 * "<<SYS>>\n" + system + ... + user, so only the user text's end). Later
 * system messages, which the real template refuses, are joined to the
 * first. */
static void render_llama2(const struct chat_tmpl *t, struct out *o, const struct chat_msg *m,
			  size_t n)
{
	bool first_user = true;
	bool sys = any_system(m, n);
	for (size_t i = 0; i < n; i++) {
		if (m[i].role == CHAT_ROLE_USER) {
			if (t->bos_text)
				tmpl(o, t->bos);
			tmpl(o, "[INST] ");
			if (first_user && sys) {
				tmpl(o, "<<SYS>>\n");
				bool lead = true;
				for (size_t j = 0; j < n; j++) {
					if (m[j].role != CHAT_ROLE_SYSTEM)
						continue;
					if (!lead)
						tmpl(o, "\n\n");
					content(o, m[j].content, m[j].content_len);
					lead = false;
				}
				tmpl(o, "\n<</SYS>>\n\n");
				const char *s = m[i].content;
				size_t len = m[i].content_len;
				while (len && is_ws(s[len - 1]))
					len--;
				content(o, s, len);
			} else {
				trimmed(o, m[i].content, m[i].content_len);
			}
			first_user = false;
			tmpl(o, " [/INST]");
		} else if (m[i].role == CHAT_ROLE_ASSISTANT) {
			tmpl(o, " ");
			trimmed(o, m[i].content, m[i].content_len);
			tmpl(o, " ");
			tmpl(o, t->eos);
		}
	}
}

static void render_mistral(const struct chat_tmpl *t, struct out *o, const struct chat_msg *m,
			   size_t n)
{
	if (t->bos_text)
		tmpl(o, t->bos);
	/* the user turn that gets the system messages: the first (v1), the
	 * last (v3, tekken), none (v7 writes them in place) */
	size_t sys_at = n;
	for (size_t i = 0; i < n; i++) {
		if (m[i].role != CHAT_ROLE_USER)
			continue;
		if (t->mistral == MISTRAL_V1 && sys_at == n)
			sys_at = i;
		if (t->mistral == MISTRAL_V3 || t->mistral == MISTRAL_TEKKEN)
			sys_at = i;
	}
	for (size_t i = 0; i < n; i++) {
		if (m[i].role == CHAT_ROLE_USER) {
			tmpl(o, t->mistral == MISTRAL_TEKKEN ? "[INST]" : "[INST] ");
			if (i == sys_at)
				system_prefix(o, m, n, "\n\n");
			content(o, m[i].content, m[i].content_len);
			tmpl(o, t->mistral == MISTRAL_V1 ? " [/INST]" : "[/INST]");
		} else if (m[i].role == CHAT_ROLE_ASSISTANT) {
			if (t->mistral == MISTRAL_V3) {
				tmpl(o, " ");
				trimmed(o, m[i].content, m[i].content_len);
			} else {
				if (t->mistral == MISTRAL_V7)
					tmpl(o, " ");
				content(o, m[i].content, m[i].content_len);
			}
			tmpl(o, t->eos);
		} else if (t->mistral == MISTRAL_V7) {
			tmpl(o, "[SYSTEM_PROMPT] ");
			content(o, m[i].content, m[i].content_len);
			tmpl(o, "[/SYSTEM_PROMPT]");
		}
	}
}

static void render_gemma(const struct chat_tmpl *t, struct out *o, const struct chat_msg *m,
			 size_t n, bool gen)
{
	if (t->bos_text)
		tmpl(o, t->bos);
	bool first_user = true;
	for (size_t i = 0; i < n; i++) {
		if (m[i].role == CHAT_ROLE_SYSTEM)
			continue;
		bool user = m[i].role == CHAT_ROLE_USER;
		tmpl(o, user ? "<start_of_turn>user\n" : "<start_of_turn>model\n");
		if (user && first_user)
			system_prefix(o, m, n, "\n\n");
		first_user = first_user && !user;
		trimmed(o, m[i].content, m[i].content_len);
		tmpl(o, "<end_of_turn>\n");
	}
	if (gen)
		tmpl(o, "<start_of_turn>model\n");
}

static void render_phi3(const struct chat_tmpl *t, struct out *o, const struct chat_msg *m,
			size_t n, bool gen)
{
	if (t->bos_text)
		tmpl(o, t->bos);
	if (t->has_system) {
		for (size_t i = 0; i < n; i++) {
			tmpl(o, "<|");
			tmpl(o, role_name(m[i].role));
			tmpl(o, "|>\n");
			content(o, m[i].content, m[i].content_len);
			tmpl(o, "<|end|>\n");
		}
		if (gen)
			tmpl(o, "<|assistant|>\n");
		return;
	}
	bool first_user = true;
	for (size_t i = 0; i < n; i++) {
		if (m[i].role == CHAT_ROLE_USER) {
			tmpl(o, "<|user|>\n");
			if (first_user)
				system_prefix(o, m, n, "\n");
			first_user = false;
			content(o, m[i].content, m[i].content_len);
			tmpl(o, "<|end|>\n<|assistant|>\n");
		} else if (m[i].role == CHAT_ROLE_ASSISTANT) {
			content(o, m[i].content, m[i].content_len);
			tmpl(o, "<|end|>\n");
		}
	}
	/* the template writes <|assistant|>\n after every user turn; with
	 * add_generation_prompt and the last turn not a user's, it is the
	 * one thing a reply can follow */
	if (gen && (!n || m[n - 1].role != CHAT_ROLE_USER) && !t->gen_after_user)
		tmpl(o, "<|assistant|>\n");
}

int chat_tmpl_render(const struct chat_tmpl *t, const struct chat_msg *msgs, size_t n,
		     bool add_generation_prompt, struct chat_prompt *out)
{
	memset(out, 0, sizeof *out);
	struct out o = { 0 };
	mx_buf_init(&o.b, MAX_PROMPT);
	switch (t->family) {
	case CHAT_FAMILY_LLAMA3: render_llama3(t, &o, msgs, n, add_generation_prompt); break;
	case CHAT_FAMILY_LLAMA2: render_llama2(t, &o, msgs, n); break;
	case CHAT_FAMILY_MISTRAL: render_mistral(t, &o, msgs, n); break;
	case CHAT_FAMILY_GEMMA: render_gemma(t, &o, msgs, n, add_generation_prompt); break;
	case CHAT_FAMILY_PHI3: render_phi3(t, &o, msgs, n, add_generation_prompt); break;
	default: render_chatml(t, &o, msgs, n, add_generation_prompt); break;
	}
	if (!o.rc && !o.b.data)
		o.rc = mx_buf_append(&o.b, "", 0);
	if (o.rc) {
		mx_buf_free(&o.b);
		free(o.segs);
		return o.rc;
	}
	out->len = o.b.len;
	out->text = mx_buf_detach(&o.b);
	out->segs = o.segs;
	out->n_segs = o.n;
	if (!out->text) {
		free(o.segs);
		memset(out, 0, sizeof *out);
		return MX_ENOMEM;
	}
	return 0;
}

void chat_prompt_free(struct chat_prompt *p)
{
	if (!p)
		return;
	free(p->text);
	free(p->segs);
	memset(p, 0, sizeof *p);
}
