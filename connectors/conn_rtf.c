/*
 * conn_rtf.c - Rich Text Format documents: a small reader of our own.
 *
 * The format (RTF 1.x) is 7-bit text made of three kinds of token:
 *
 *   {  }         a group opens / closes; character formatting, the font,
 *                the \uc skip count and destinations are scoped to it
 *   \word[N][ ]  a control word: 1-32 ASCII letters, an optional signed
 *                decimal parameter, and one optional space that belongs
 *                to the word
 *   \x           a control symbol: \{ \} \\ literal, \~ no-break space,
 *                \- optional hyphen, \_ no-break hyphen, \'hh one byte in
 *                hex, \* "skip this destination if unknown", \<newline>
 *                a paragraph break
 *
 * Everything else is text in the document's code page (\ansicpgN,
 * default windows-1252) or the current font's (\fcharsetN in \fonttbl);
 * carriage returns and line feeds are not text. \uN is a UTF-16 unit
 * (negative N means N + 65536) followed by \ucN (default 1) fallback
 * characters for old readers, which are skipped here. \binN is followed by
 * N raw bytes.
 *
 * A group whose first word is a destination (\fonttbl, \colortbl,
 * \stylesheet, \info, \pict, \header, ...) holds something other than body
 * text: those are skipped, except that the font table gives code pages and
 * \info gives the title, author and creation time. Paragraphs with
 * \outlinelevelN (what Word and pandoc write for headings) become headings
 * of level N + 1.
 *
 * Limits: groups nest at most RTF_MAX_DEPTH deep (MX_EINVAL beyond), the
 * text is capped by the builder, and a deadline stops a slow parse.
 * Truncated input is read as far as it goes.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../common/buf.h"
#include "../common/status.h"
#include "conn.h"

#define RTF_MAX_DEPTH	1000
#define RTF_MAX_TEXT	(32u << 20)
#define RTF_MAX_FIELD	1024 /* title, author */
#define RTF_MAX_HEADING 256  /* longer "headings" are read as text */
#define RTF_MAX_FONTS	1024
#define RTF_MAX_UC	64

/* ===================================================================== */
/* state                                                                 */
/* ===================================================================== */

/* Where the text of a group goes. */
enum dest {
	D_TEXT,	   /* the body */
	D_SKIP,	   /* nowhere */
	D_FONTTBL, /* nowhere, but \f \fcharset \cpg are read */
	D_INFO,	   /* nowhere, but \title \author \creatim open a field */
	D_TITLE,
	D_AUTHOR,
	D_CREATIM, /* \yr \mo \dy \hr \min \sec */
};

/* What a group carries; a new group starts as a copy of its parent. */
struct group {
	enum dest dest;
	int uc;	     /* fallback characters after \uN */
	int font;    /* \fN; -1: the default font (\deffN) */
	int outline; /* heading level 1-6 of the paragraph; 0: body */
	int hidden;  /* \v */
};

struct font {
	int num, cp; /* cp 0: the document's code page */
};

struct rtf {
	const char *p;
	size_t len, pos;
	struct conn_doc *doc;
	struct conn_builder b;
	struct group *g; /* g[0..depth]; g[depth] is the current group */
	int depth;
	int doc_cp, deff, def_font; /* def_font: the one \fonttbl defines */
	struct font *fonts;
	size_t nfonts, fonts_cap;
	int skip;		 /* fallback characters still to skip */
	uint32_t high;		 /* a high surrogate waiting for its low half */
	unsigned char run[4096]; /* text bytes in the current code page */
	size_t runlen;
	struct mx_buf title, author, heading;
	int heading_level;  /* of what heading holds */
	bool heading_spilt; /* this paragraph is too long to be a heading */
	int cre[6];	    /* \creatim: yr mo dy hr min sec */
};

static struct group *cur(struct rtf *r)
{
	return &r->g[r->depth];
}

/* ===================================================================== */
/* code pages                                                            */
/* ===================================================================== */

/* The Windows code page of a \fcharsetN; 0: the document's. */
static int charset_cp(int charset)
{
	switch (charset) {
	case 77: return 10000;
	case 128: return 932;
	case 129: return 949;
	case 130: return 1361;
	case 134: return 936;
	case 136: return 950;
	case 161: return 1253;
	case 162: return 1254;
	case 163: return 1258;
	case 177: return 1255;
	case 178: return 1256;
	case 186: return 1257;
	case 204: return 1251;
	case 222: return 874;
	case 238: return 1250;
	case 255: return 437;
	default: return 0; /* ANSI, default, symbol: the document's */
	}
}

/* iconv's name for a Windows code page. */
static void cp_name(int cp, char *buf, size_t n)
{
	if (cp == 10000)
		snprintf(buf, n, "MACINTOSH");
	else if (cp == 65001)
		snprintf(buf, n, "UTF-8");
	else if (cp >= 1250 && cp <= 1258)
		snprintf(buf, n, "WINDOWS-%d", cp);
	else
		snprintf(buf, n, "CP%d", cp);
}

static int set_font_cp(struct rtf *r, int num, int cp)
{
	for (size_t i = 0; i < r->nfonts; i++) {
		if (r->fonts[i].num == num) {
			r->fonts[i].cp = cp;
			return 0;
		}
	}
	if (r->nfonts >= RTF_MAX_FONTS)
		return 0; /* more fonts than any real document: use the default */
	if (r->nfonts == r->fonts_cap) {
		size_t c = r->fonts_cap ? r->fonts_cap * 2 : 16;
		struct font *v = realloc(r->fonts, c * sizeof *v);
		if (!v)
			return MX_ENOMEM;
		r->fonts = v;
		r->fonts_cap = c;
	}
	r->fonts[r->nfonts++] = (struct font){ num, cp };
	return 0;
}

/* The code page of text in the current group. */
static int current_cp(struct rtf *r)
{
	int num = cur(r)->font >= 0 ? cur(r)->font : r->deff;
	for (size_t i = 0; i < r->nfonts; i++)
		if (r->fonts[i].num == num && r->fonts[i].cp > 0)
			return r->fonts[i].cp;
	return r->doc_cp;
}

/* ===================================================================== */
/* output                                                                */
/* ===================================================================== */

/* Whether text in the current group is thrown away. */
static bool discarding(struct rtf *r)
{
	const struct group *g = cur(r);
	switch (g->dest) {
	case D_TEXT: return g->hidden != 0;
	case D_TITLE:
	case D_AUTHOR: return false;
	default: return true;
	}
}

/* A heading paragraph's text so far becomes a heading. */
static int flush_heading(struct rtf *r)
{
	int rc = 0;
	bool blank = true;
	for (size_t i = 0; i < r->heading.len && blank; i++)
		blank = r->heading.data[i] == ' ';
	if (!blank)
		rc = conn_builder_heading(&r->b, r->heading_level, r->heading.data);
	mx_buf_reset(&r->heading);
	return rc;
}

/* Appends UTF-8 to wherever the current group's text goes. */
static int sink(struct rtf *r, const char *s, size_t n)
{
	int rc = 0;
	if (r->high) { /* a high surrogate with no low half */
		r->high = 0;
		if ((rc = sink(r, "\xEF\xBF\xBD", 3)))
			return rc;
	}
	if (discarding(r) || n == 0)
		return 0;
	struct group *g = cur(r);
	if (g->dest == D_TITLE || g->dest == D_AUTHOR) {
		rc = mx_buf_append(g->dest == D_TITLE ? &r->title : &r->author, s, n);
		return rc == MX_ETOOBIG ? 0 : rc; /* the field is long enough */
	}
	int level = r->heading_spilt ? 0 : g->outline;
	if (r->heading.len && level != r->heading_level && (rc = flush_heading(r)))
		return rc;
	if (!level)
		return conn_builder_text(&r->b, s, n);
	if (r->heading.len + n <= RTF_MAX_HEADING) {
		if (!r->heading.len)
			r->heading_level = level;
		return mx_buf_append(&r->heading, s, n);
	}
	/* too long for a heading: the paragraph is body text after all */
	r->heading_spilt = true;
	if (r->heading.len && (rc = conn_builder_text(&r->b, r->heading.data, r->heading.len)))
		return rc;
	mx_buf_reset(&r->heading);
	return conn_builder_text(&r->b, s, n);
}

/* Converts the pending run of code-page bytes and passes it on. */
static int flush_run(struct rtf *r)
{
	int rc = 0;
	if (!r->runlen)
		return 0;
	bool ascii = true;
	for (size_t i = 0; i < r->runlen && ascii; i++)
		ascii = r->run[i] < 0x80;
	if (ascii) {
		rc = sink(r, (const char *)r->run, r->runlen);
	} else {
		char name[32], *out = NULL;
		size_t outlen = 0, nrepl = 0;
		cp_name(current_cp(r), name, sizeof name);
		rc = conn_to_utf8(name, (const char *)r->run, r->runlen, &out, &outlen, &nrepl);
		if (!rc)
			rc = sink(r, out, outlen);
		r->doc->nreplaced += nrepl;
		free(out);
	}
	r->runlen = 0;
	return rc;
}

/* One byte of text in the current code page. */
static int add_byte(struct rtf *r, unsigned char c)
{
	if (discarding(r))
		return 0;
	if (c == '\t' || c == '\n' || c == '\r')
		c = ' ';
	else if (c < 0x20 || c == 0x7f)
		return 0; /* control characters are not text */
	if (r->runlen == sizeof r->run) {
		int rc = flush_run(r);
		if (rc)
			return rc;
	}
	r->run[r->runlen++] = c;
	return 0;
}

static int emit_cp(struct rtf *r, uint32_t cp)
{
	char u[4];
	size_t n;
	if (cp < 0x80) {
		u[0] = (char)cp;
		n = 1;
	} else if (cp < 0x800) {
		u[0] = (char)(0xC0 | (cp >> 6));
		u[1] = (char)(0x80 | (cp & 0x3F));
		n = 2;
	} else if (cp < 0x10000) {
		u[0] = (char)(0xE0 | (cp >> 12));
		u[1] = (char)(0x80 | ((cp >> 6) & 0x3F));
		u[2] = (char)(0x80 | (cp & 0x3F));
		n = 3;
	} else {
		u[0] = (char)(0xF0 | (cp >> 18));
		u[1] = (char)(0x80 | ((cp >> 12) & 0x3F));
		u[2] = (char)(0x80 | ((cp >> 6) & 0x3F));
		u[3] = (char)(0x80 | (cp & 0x3F));
		n = 4;
	}
	return sink(r, u, n);
}

/* \uN: one UTF-16 unit; surrogate halves are paired. */
static int unicode(struct rtf *r, long v)
{
	int rc;
	r->skip = cur(r)->uc;
	if (v < 0)
		v += 65536;
	if (v < 0 || v > 0xFFFF)
		v = 0xFFFD;
	if (v >= 0xD800 && v <= 0xDBFF) {
		uint32_t hi = r->high;
		r->high = 0;
		if (hi && (rc = emit_cp(r, 0xFFFD)))
			return rc;
		r->high = (uint32_t)v;
		return 0;
	}
	if (v >= 0xDC00 && v <= 0xDFFF) {
		uint32_t hi = r->high;
		r->high = 0;
		v = hi ? 0x10000 + ((long)(hi - 0xD800) << 10) + (v - 0xDC00) : 0xFFFD;
	}
	if (v < 0x20) /* control characters, NUL */
		return v == '\t' || v == '\n' || v == '\r' ? sink(r, " ", 1) : 0;
	return emit_cp(r, (uint32_t)v);
}

/* ===================================================================== */
/* control words                                                         */
/* ===================================================================== */

enum kind {
	K_SKIP,	   /* a destination skipped whole */
	K_FONTTBL, /* \fonttbl */
	K_INFO,
	K_TITLE,
	K_AUTHOR,
	K_CREATIM,
	K_DATE, /* \yr \mo \dy \hr \min \sec: arg is the index in cre */
	K_PAR,	/* paragraph break */
	K_LINE, /* line break */
	K_ROW,	/* a table row ends: a line break */
	K_CHAR, /* text: str */
	K_U,
	K_UC,
	K_BIN,
	K_F,
	K_FCHARSET,
	K_CPG,
	K_ANSICPG,
	K_CHARSET, /* \ansi \mac \pc \pca: arg is the code page */
	K_DEFF,
	K_PLAIN,
	K_PARD,
	K_OUTLINE,
	K_HIDDEN,
};

struct word {
	const char *name;
	enum kind kind;
	int arg;
	const char *str;
};

/* Sorted by name (strcmp) for bsearch. */
static const struct word words[] = {
	{ "aftncn", K_SKIP, 0, NULL },
	{ "aftnsep", K_SKIP, 0, NULL },
	{ "aftnsepc", K_SKIP, 0, NULL },
	{ "annotation", K_SKIP, 0, NULL },
	{ "ansi", K_CHARSET, 1252, NULL },
	{ "ansicpg", K_ANSICPG, 0, NULL },
	{ "atnauthor", K_SKIP, 0, NULL },
	{ "atndate", K_SKIP, 0, NULL },
	{ "atnicn", K_SKIP, 0, NULL },
	{ "atnid", K_SKIP, 0, NULL },
	{ "atnref", K_SKIP, 0, NULL },
	{ "atntime", K_SKIP, 0, NULL },
	{ "author", K_AUTHOR, 0, NULL },
	{ "bin", K_BIN, 0, NULL },
	{ "bkmkend", K_SKIP, 0, NULL },
	{ "bkmkstart", K_SKIP, 0, NULL },
	{ "bullet", K_CHAR, 0, "\xE2\x80\xA2" },
	{ "cell", K_CHAR, 0, " " },
	{ "colorschememapping", K_SKIP, 0, NULL },
	{ "colortbl", K_SKIP, 0, NULL },
	{ "cpg", K_CPG, 0, NULL },
	{ "creatim", K_CREATIM, 0, NULL },
	{ "datastore", K_SKIP, 0, NULL },
	{ "deff", K_DEFF, 0, NULL },
	{ "docvar", K_SKIP, 0, NULL },
	{ "dy", K_DATE, 2, NULL },
	{ "emdash", K_CHAR, 0, "\xE2\x80\x94" },
	{ "emspace", K_CHAR, 0, " " },
	{ "endash", K_CHAR, 0, "\xE2\x80\x93" },
	{ "enspace", K_CHAR, 0, " " },
	{ "f", K_F, 0, NULL },
	{ "fcharset", K_FCHARSET, 0, NULL },
	{ "filetbl", K_SKIP, 0, NULL },
	{ "fldinst", K_SKIP, 0, NULL },
	{ "fonttbl", K_FONTTBL, 0, NULL },
	{ "footer", K_SKIP, 0, NULL },
	{ "footerf", K_SKIP, 0, NULL },
	{ "footerl", K_SKIP, 0, NULL },
	{ "footerr", K_SKIP, 0, NULL },
	{ "footnote", K_CHAR, 0, " " }, /* its text goes inline, set apart */
	{ "ftncn", K_SKIP, 0, NULL },
	{ "ftnsep", K_SKIP, 0, NULL },
	{ "ftnsepc", K_SKIP, 0, NULL },
	{ "generator", K_SKIP, 0, NULL },
	{ "header", K_SKIP, 0, NULL },
	{ "headerf", K_SKIP, 0, NULL },
	{ "headerl", K_SKIP, 0, NULL },
	{ "headerr", K_SKIP, 0, NULL },
	{ "hr", K_DATE, 3, NULL },
	{ "info", K_INFO, 0, NULL },
	{ "latentstyles", K_SKIP, 0, NULL },
	{ "ldblquote", K_CHAR, 0, "\xE2\x80\x9C" },
	{ "line", K_LINE, 0, NULL },
	{ "listoverridetable", K_SKIP, 0, NULL },
	{ "listtable", K_SKIP, 0, NULL },
	{ "lquote", K_CHAR, 0, "\xE2\x80\x98" },
	{ "mac", K_CHARSET, 10000, NULL },
	{ "min", K_DATE, 4, NULL },
	{ "mmathPr", K_SKIP, 0, NULL },
	{ "mo", K_DATE, 1, NULL },
	{ "nestcell", K_CHAR, 0, " " },
	{ "nestrow", K_ROW, 0, NULL },
	{ "nonshppict", K_SKIP, 0, NULL },
	{ "object", K_SKIP, 0, NULL },
	{ "outlinelevel", K_OUTLINE, 0, NULL },
	{ "page", K_PAR, 0, NULL },
	{ "par", K_PAR, 0, NULL },
	{ "pard", K_PARD, 0, NULL },
	{ "pc", K_CHARSET, 437, NULL },
	{ "pca", K_CHARSET, 850, NULL },
	{ "pict", K_SKIP, 0, NULL },
	{ "plain", K_PLAIN, 0, NULL },
	{ "pn", K_SKIP, 0, NULL },
	{ "private", K_SKIP, 0, NULL },
	{ "qmspace", K_CHAR, 0, " " },
	{ "rdblquote", K_CHAR, 0, "\xE2\x80\x9D" },
	{ "revtbl", K_SKIP, 0, NULL },
	{ "row", K_ROW, 0, NULL },
	{ "rquote", K_CHAR, 0, "\xE2\x80\x99" },
	{ "rsidtbl", K_SKIP, 0, NULL },
	{ "sec", K_DATE, 5, NULL },
	{ "sect", K_PAR, 0, NULL },
	{ "sn", K_SKIP, 0, NULL },
	{ "sp", K_SKIP, 0, NULL },
	{ "stylesheet", K_SKIP, 0, NULL },
	{ "sv", K_SKIP, 0, NULL },
	{ "tab", K_CHAR, 0, " " },
	{ "tc", K_SKIP, 0, NULL },
	{ "template", K_SKIP, 0, NULL },
	{ "themedata", K_SKIP, 0, NULL },
	{ "title", K_TITLE, 0, NULL },
	{ "txe", K_SKIP, 0, NULL },
	{ "u", K_U, 0, NULL },
	{ "uc", K_UC, 0, NULL },
	{ "userprops", K_SKIP, 0, NULL },
	{ "v", K_HIDDEN, 0, NULL },
	{ "xe", K_SKIP, 0, NULL },
	{ "xmlnstbl", K_SKIP, 0, NULL },
	{ "yr", K_DATE, 0, NULL },
};

static int word_cmp(const void *key, const void *elem)
{
	return strcmp(key, ((const struct word *)elem)->name);
}

/* A paragraph or line break in the body. */
static int brk(struct rtf *r, bool para)
{
	int rc = 0;
	if (cur(r)->dest != D_TEXT)
		return 0;
	if (r->high)
		rc = sink(r, "", 0); /* drops nothing, writes the lone half */
	if (rc)
		return rc;
	if (r->heading.len)
		rc = para ? flush_heading(r) : sink(r, " ", 1); /* a heading is one line */
	else
		rc = para ? conn_builder_paragraph(&r->b) : conn_builder_line(&r->b);
	if (para)
		r->heading_spilt = false;
	return rc;
}

static void skip_binary(struct rtf *r, long n)
{
	if (n <= 0)
		return;
	size_t left = r->len - r->pos;
	r->pos += (size_t)n < left ? (size_t)n : left;
}

static int control_word(struct rtf *r, const char *name, bool has_arg, long arg)
{
	struct group *g = cur(r);
	const struct word *w =
		bsearch(name, words, sizeof words / sizeof words[0], sizeof words[0], word_cmp);
	if (!w)
		return 0; /* formatting and everything else we do not need */
	switch (w->kind) {
	case K_SKIP: g->dest = D_SKIP; return 0;
	case K_FONTTBL:
		if (g->dest != D_SKIP)
			g->dest = D_FONTTBL;
		return 0;
	case K_INFO:
		if (g->dest != D_SKIP)
			g->dest = D_INFO;
		return 0;
	case K_TITLE:
	case K_AUTHOR:
	case K_CREATIM:
		if (g->dest == D_INFO)
			g->dest = w->kind == K_TITLE	? D_TITLE
				  : w->kind == K_AUTHOR ? D_AUTHOR
							: D_CREATIM;
		else
			g->dest = D_SKIP;
		return 0;
	case K_DATE:
		if (g->dest == D_CREATIM && has_arg)
			r->cre[w->arg] = (int)arg;
		return 0;
	case K_PAR: return brk(r, true);
	case K_LINE: return brk(r, false);
	case K_ROW: return brk(r, false);
	case K_CHAR: return sink(r, w->str, strlen(w->str));
	case K_U: return has_arg ? unicode(r, arg) : 0;
	case K_UC:
		if (has_arg)
			g->uc = arg < 0 ? 0 : arg > RTF_MAX_UC ? RTF_MAX_UC : (int)arg;
		return 0;
	case K_BIN: skip_binary(r, has_arg ? arg : 0); return 0;
	case K_F:
		if (g->dest == D_FONTTBL)
			r->def_font = (int)arg;
		else
			g->font = (int)arg;
		return 0;
	case K_FCHARSET:
		return g->dest == D_FONTTBL ? set_font_cp(r, r->def_font, charset_cp((int)arg)) : 0;
	case K_CPG:
		return g->dest == D_FONTTBL && arg > 0 ? set_font_cp(r, r->def_font, (int)arg) : 0;
	case K_ANSICPG:
		if (arg > 0 && arg < 100000)
			r->doc_cp = (int)arg;
		return 0;
	case K_CHARSET: r->doc_cp = w->arg; return 0;
	case K_DEFF: r->deff = (int)arg; return 0;
	case K_PLAIN:
		g->font = -1;
		g->hidden = 0;
		return 0;
	case K_PARD:
		g->outline = 0;
		r->heading_spilt = false;
		return g->dest == D_TEXT ? flush_heading(r) : 0;
	case K_OUTLINE:
		/* \outlinelevel0 is a level-1 heading; 9 means body text */
		g->outline = has_arg && arg >= 0 && arg < 9 ? (arg < 6 ? (int)arg + 1 : 6) : 0;
		return 0;
	case K_HIDDEN: g->hidden = !has_arg || arg != 0; return 0;
	}
	return 0;
}

static int hex_digit(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

static bool is_letter(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

/* After a backslash: a control word or symbol. */
static int control(struct rtf *r)
{
	int rc = 0;
	if (r->pos >= r->len)
		return 0; /* a lone backslash at the end */
	char c = r->p[r->pos];
	if (is_letter(c)) {
		/* the name: at most 32 letters count; longer ones are unknown */
		char name[34];
		size_t n = 0;
		while (r->pos < r->len && is_letter(r->p[r->pos])) {
			if (n < sizeof name - 1)
				name[n++] = r->p[r->pos];
			r->pos++;
		}
		name[n < 33 ? n : 0] = '\0';
		bool neg = false, has_arg = false;
		long arg = 0;
		if (r->pos + 1 < r->len && r->p[r->pos] == '-' && r->p[r->pos + 1] >= '0' &&
		    r->p[r->pos + 1] <= '9') {
			neg = true;
			r->pos++;
		}
		while (r->pos < r->len && r->p[r->pos] >= '0' && r->p[r->pos] <= '9') {
			if (arg < 100000000L) /* more digits are consumed, not counted */
				arg = arg * 10 + (r->p[r->pos] - '0');
			has_arg = true;
			r->pos++;
		}
		if (neg)
			arg = -arg;
		if (r->pos < r->len && r->p[r->pos] == ' ')
			r->pos++;
		if (r->skip > 0) { /* a fallback for \uN */
			r->skip--;
			if (!strcmp(name, "bin"))
				skip_binary(r, arg);
			return 0;
		}
		if ((rc = flush_run(r)))
			return rc;
		return control_word(r, name, has_arg, arg);
	}
	r->pos++;
	if (c == '\'') {
		int hi = r->pos < r->len ? hex_digit(r->p[r->pos]) : -1;
		int lo = hi >= 0 && r->pos + 1 < r->len ? hex_digit(r->p[r->pos + 1]) : -1;
		r->pos += (hi >= 0) + (lo >= 0);
		if (r->skip > 0) {
			r->skip--;
			return 0;
		}
		return hi >= 0 && lo >= 0 ? add_byte(r, (unsigned char)(hi * 16 + lo)) : 0;
	}
	if (r->skip > 0) {
		r->skip--;
		return 0;
	}
	switch (c) {
	case '\\':
	case '{':
	case '}': return add_byte(r, (unsigned char)c);
	case '~':
		if ((rc = flush_run(r)))
			return rc;
		return sink(r, "\xC2\xA0", 2); /* U+00A0 no-break space */
	case '_':
		if ((rc = flush_run(r)))
			return rc;
		return sink(r, "\xE2\x80\x91", 3); /* U+2011 no-break hyphen */
	case '*':
		if ((rc = flush_run(r)))
			return rc;
		cur(r)->dest = D_SKIP; /* no starred destination is body text */
		return 0;
	case '\n':
	case '\r':
		if ((rc = flush_run(r)))
			return rc;
		return brk(r, true);
	default: return 0; /* \- optional hyphen, \: \| and unknown symbols */
	}
}

/* ===================================================================== */
/* the document                                                          */
/* ===================================================================== */

/* Days from 1970-01-01 to y-m-d (proleptic Gregorian). */
static int64_t days_from_civil(int64_t y, int m, int d)
{
	y -= m <= 2;
	int64_t era = (y >= 0 ? y : y - 399) / 400;
	int64_t yoe = y - era * 400;
	int64_t doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
	int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + doe - 719468;
}

/* \creatim as seconds since the epoch, read as UTC (RTF has no zone). */
static int64_t creation_time(const int *c)
{
	if (c[0] < 1970 || c[0] > 9999 || c[1] < 1 || c[1] > 12 || c[2] < 1 || c[2] > 31 ||
	    c[3] < 0 || c[3] > 23 || c[4] < 0 || c[4] > 59 || c[5] < 0 || c[5] > 59)
		return 0;
	return days_from_civil(c[0], c[1], c[2]) * 86400 + c[3] * 3600 + c[4] * 60 + c[5];
}

/* Whether the bytes start like an RTF file (after a BOM or white space). */
static size_t rtf_start(const char *data, size_t len)
{
	size_t i = 0;
	if (len >= 3 && !memcmp(data, "\xEF\xBB\xBF", 3))
		i = 3;
	while (i < len && (data[i] == ' ' || data[i] == '\t' || data[i] == '\r' || data[i] == '\n'))
		i++;
	if (len - i >= 5 && !memcmp(data + i, "{\\rtf", 5))
		return i;
	return SIZE_MAX;
}

/*
 * The walk: one pass over the bytes. Braces push and pop group state
 * (text pending in the current code page is converted first, and any \uN
 * fallback skipping ends); backslashes start control words and symbols;
 * other bytes are text, except line ends. The walk ends when the outermost
 * group closes or the bytes run out (truncated files keep what was read).
 */
static int walk(struct rtf *r)
{
	int rc = 0;
	unsigned iter = 0;
	while (r->pos < r->len && !r->b.truncated) {
		if ((++iter & 0xFFFF) == 0 && conn_now() > r->b.deadline)
			return MX_ETOOBIG;
		char c = r->p[r->pos++];
		switch (c) {
		case '{':
			r->skip = 0;
			if ((rc = flush_run(r)))
				return rc;
			if (r->depth >= RTF_MAX_DEPTH) {
				snprintf(r->doc->err, sizeof r->doc->err,
					 "RTF nested too deeply (over %d groups)", RTF_MAX_DEPTH);
				return MX_EINVAL;
			}
			r->g[r->depth + 1] = r->g[r->depth];
			r->depth++;
			break;
		case '}':
			r->skip = 0;
			if ((rc = flush_run(r)))
				return rc;
			if (r->depth <= 1)
				return 0; /* the document's group closed */
			r->depth--;
			break;
		case '\\':
			if ((rc = control(r)))
				return rc;
			break;
		case '\r':
		case '\n': break;
		default:
			if (r->skip > 0) {
				r->skip--;
				break;
			}
			if ((rc = add_byte(r, (unsigned char)c)))
				return rc;
			break;
		}
	}
	return 0;
}

static int rtf_parse(const char *path, const char *data, size_t len, struct conn_doc *doc)
{
	(void)path;
	int rc = 0;
	struct rtf *r = NULL;
	size_t start = rtf_start(data, len);
	if (len == 0) {
		snprintf(doc->err, sizeof doc->err, "empty file");
		return MX_EEMPTY;
	}
	if (start == SIZE_MAX) {
		snprintf(doc->err, sizeof doc->err, "not an RTF file");
		return MX_EINVAL;
	}
	if (!(r = calloc(1, sizeof *r)) || !(r->g = calloc(RTF_MAX_DEPTH + 1, sizeof *r->g))) {
		free(r);
		snprintf(doc->err, sizeof doc->err, "out of memory");
		return MX_ENOMEM;
	}
	r->p = data;
	r->len = len;
	r->pos = start;
	r->doc = doc;
	r->doc_cp = 1252;
	r->deff = -1;
	r->def_font = -1;
	r->g[0] = (struct group){ .dest = D_TEXT, .uc = 1, .font = -1 };
	conn_builder_init(&r->b, RTF_MAX_TEXT, conn_now() + conn_limits_default().seconds);
	mx_buf_init(&r->title, RTF_MAX_FIELD);
	mx_buf_init(&r->author, RTF_MAX_FIELD);
	mx_buf_init(&r->heading, RTF_MAX_HEADING);

	rc = walk(r);
	if (!rc)
		rc = flush_run(r);
	if (!rc && r->high)
		rc = sink(r, "", 0);
	if (!rc)
		rc = flush_heading(r);
	if (rc == MX_EINVAL)
		goto out;
	if (rc == MX_ETOOBIG) {
		snprintf(doc->err, sizeof doc->err, "time limit (%.0f s) passed",
			 conn_limits_default().seconds);
		goto out;
	}
	if (rc) {
		snprintf(doc->err, sizeof doc->err, "out of memory");
		goto out;
	}
	doc->type = "rtf";
	doc->title = conn_clean_field(mx_buf_detach(&r->title));
	doc->author = conn_clean_field(mx_buf_detach(&r->author));
	doc->date = creation_time(r->cre);
	doc->line_base = -1;
	if ((rc = conn_builder_finish(&r->b, doc))) {
		snprintf(doc->err, sizeof doc->err, "out of memory");
		goto out;
	}
	if (doc->nreplaced && !doc->note[0])
		snprintf(doc->note, sizeof doc->note, "%zu invalid byte sequences replaced",
			 doc->nreplaced);
out:
	conn_builder_free(&r->b);
	mx_buf_free(&r->title);
	mx_buf_free(&r->author);
	mx_buf_free(&r->heading);
	free(r->fonts);
	free(r->g);
	free(r);
	return rc;
}

const struct conn_ops conn_rtf_ops = { "rtf", rtf_parse };
