/*
 * answer.c - context assembly, extractive answers, abstention and citation
 * checks (see answer.h).
 */
#include "answer.h"

#include <ctype.h>
#include <glib.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "../common/buf.h"
#include "../common/status.h"
#include "../common/utf8.h"
#include "../engine/chat.h"
#include "../engine/engine.h"
#include "abstain.h"
#include "retriever_int.h"

#define SENT_MAX      4096	 /* sentences of one text */
#define SENT_LONG     600	 /* a sentence longer than this is cut */
#define SHORT_LINE    48	 /* a line shorter than this ends a sentence */
#define CAND_MAX      256	 /* sentences scored for one answer */
#define TERMS_MAX     4096	 /* words of one text, for overlaps */
#define PROMPT_MAX    (1u << 20) /* cap of a prompt */
#define STEM_ROOM     4		 /* bytes a base form may add to a word */
#define SIBLINGS      4		 /* chunks either side looked at for a better one */
#define SIBLING_SHARE 0.75	 /* of the chunk's coverage a sibling needs */
#define SLOT_SHARE    0.8	 /* of the best coverage a chunk with a typed answer needs */
#define MIN_COVERAGE  0.1	 /* below it no threshold answers */

/* ===================================================================== */
/* sentences                                                              */
/* ===================================================================== */

/* Abbreviations after which a '.' does not end a sentence. */
static const char *const abbrevs[] = { "dr",   "mr",  "mrs",  "ms", "st",     "e.g",  "i.e",
				       "etc",  "vs",  "no",   "nr", "approx", "ca",   "incl",
				       "kl",   "tel", "p",    "pp", "fig",    "t.ex", "jr",
				       "prof", "ave", "resp", "ref" };

static bool is_abbrev(const char *text, size_t dot)
{
	size_t b = dot;
	while (b > 0 && (isalpha((unsigned char)text[b - 1]) || text[b - 1] == '.'))
		b--;
	size_t n = dot - b;
	if (n == 0)
		return false;
	if (n == 1 && isupper((unsigned char)text[b]))
		return true; /* an initial: "K. Ahlgren" */
	for (size_t i = 0; i < sizeof abbrevs / sizeof abbrevs[0]; i++)
		if (strlen(abbrevs[i]) == n && !strncasecmp(text + b, abbrevs[i], n))
			return true;
	return false;
}

/* Whether s starts a "Label: value" line of a form ("When:   Tuesday",
 * "Price: 1 150 SEK"): a capitalised label of at most 24 letters and
 * spaces, a colon, then a blank. */
static bool opens_field(const char *s, size_t n)
{
	size_t i = 0;
	while (i < n && (s[i] == ' ' || s[i] == '\t'))
		i++;
	if (i >= n || !isupper((unsigned char)s[i]))
		return false;
	size_t a = i;
	while (i < n && i - a < 24 && (isalpha((unsigned char)s[i]) || s[i] == ' '))
		i++;
	return i + 1 < n && s[i] == ':' && (s[i + 1] == ' ' || s[i + 1] == '\t');
}

/* Whether the line starting at s (n bytes) opens a new block: a blank line,
 * a list item, a heading, a quote or a table row. */
static bool opens_block(const char *s, size_t n)
{
	size_t i = 0;
	while (i < n && (s[i] == ' ' || s[i] == '\t'))
		i++;
	if (i >= n || s[i] == '\n' || s[i] == '\r')
		return true;
	char c = s[i];
	if (c == '#' || c == '>' || c == '|')
		return true;
	if ((c == '-' || c == '*' || c == '+') && i + 1 < n && s[i + 1] == ' ')
		return true;
	size_t d = i;
	while (d < n && isdigit((unsigned char)s[d]))
		d++;
	return d > i && d + 1 < n && (s[d] == '.' || s[d] == ')') && s[d + 1] == ' ';
}

static bool has_alnum(const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (isalnum((unsigned char)s[i]) || (unsigned char)s[i] >= 0x80)
			return true;
	return false;
}

struct spans {
	struct ret_span *v;
	size_t n, cap;
	int rc;
};

static void span_push(struct spans *sp, const char *text, size_t a, size_t b)
{
	while (a < b && isspace((unsigned char)text[a]))
		a++;
	while (b > a && isspace((unsigned char)text[b - 1]))
		b--;
	if (sp->rc || a >= b || !has_alnum(text + a, b - a))
		return;
	while (b - a > SENT_LONG) {
		/* cut a long run at the last space before the limit */
		size_t cut = a + SENT_LONG;
		while (cut > a + SENT_LONG / 2 && text[cut] != ' ')
			cut--;
		if (text[cut] != ' ')
			cut = a + mx_utf8_floor(text + a, SENT_LONG);
		span_push(sp, text, a, cut);
		a = cut;
		while (a < b && isspace((unsigned char)text[a]))
			a++;
	}
	if (sp->n >= SENT_MAX || sp->rc)
		return;
	if (sp->n == sp->cap) {
		size_t cap = sp->cap ? sp->cap * 2 : 16;
		struct ret_span *v = realloc(sp->v, cap * sizeof *v);
		if (!v) {
			sp->rc = MX_ENOMEM;
			return;
		}
		sp->v = v;
		sp->cap = cap;
	}
	sp->v[sp->n++] = (struct ret_span){ a, b };
}

int ret_sentences_split(const char *text, size_t len, struct ret_span **out, size_t *n)
{
	struct spans sp = { 0 };
	size_t start = 0, line = 0;
	for (size_t i = 0; i < len; i++) {
		char c = text[i];
		if (c == '\n') {
			/* the line [line, i): does a sentence end with it? */
			size_t a = line, b = i;
			while (a < b && isspace((unsigned char)text[a]))
				a++;
			while (b > a && isspace((unsigned char)text[b - 1]))
				b--;
			bool end = b - a < SHORT_LINE || text[a] == '#' ||
				   (b > a && text[b - 1] == ':') ||
				   opens_block(text + i + 1, len - i - 1) ||
				   opens_field(text + i + 1, len - i - 1);
			if (end) {
				span_push(&sp, text, start, i);
				start = i + 1;
			}
			line = i + 1;
			continue;
		}
		if (c != '.' && c != '!' && c != '?')
			continue;
		size_t j = i + 1;
		while (j < len && strchr(")]\"'*", text[j]))
			j++;
		if (j < len && !isspace((unsigned char)text[j]))
			continue; /* "3 412.00", "e.g.x", "example.com" */
		size_t k = j;
		while (k < len && (text[k] == ' ' || text[k] == '\t'))
			k++;
		if (k < len && islower((unsigned char)text[k]))
			continue; /* "approx. two", "etc. and" */
		if (c == '.' && is_abbrev(text, i))
			continue;
		/* "4. Add the kale": a list item's number ends no sentence */
		size_t a = start;
		while (a < i && isspace((unsigned char)text[a]))
			a++;
		size_t d = a;
		while (d < i && isdigit((unsigned char)text[d]))
			d++;
		if (c == '.' && d == i && d > a && d - a <= 3)
			continue;
		span_push(&sp, text, start, j);
		start = j;
	}
	span_push(&sp, text, start, len);
	if (sp.rc) {
		free(sp.v);
		*out = NULL;
		*n = 0;
		return sp.rc;
	}
	*out = sp.v;
	*n = sp.n;
	return 0;
}

/* ===================================================================== */
/* terms and overlaps                                                     */
/* ===================================================================== */

/* Words of questions that carry no content beyond the stop words of the
 * retriever. */
static const char *const qwords[] = { "much", "many", "get",   "got",  "am",	"any",	 "all",
				      "also", "so",   "then",  "than", "just",	"been",	 "being",
				      "into", "up",   "out",   "need", "long",	"time",	 "know",
				      "want", "like", "going", "go",   "again", "these", "those",
				      "they", "them", "he",    "she",  "his",	"her",	 "him" };

static bool is_qword(const char *w, size_t n)
{
	if (ret_is_stopword(w, n))
		return true;
	for (size_t i = 0; i < sizeof qwords / sizeof qwords[0]; i++)
		if (strlen(qwords[i]) == n && !memcmp(qwords[i], w, n))
			return true;
	return false;
}

static bool ends(const char *w, size_t n, const char *suf)
{
	size_t k = strlen(suf);
	return n > k && !memcmp(w + n - k, suf, k);
}

/* Irregular forms that questions and answers often split between them. */
static const char *const irregular[][2] = { { "paid", "pay" },	 { "spent", "spend" },
					    { "bought", "buy" }, { "sent", "send" },
					    { "gave", "give" },	 { "given", "give" },
					    { "took", "take" },	 { "taken", "take" },
					    { "left", "leave" }, { "won", "win" } };

/* Light English suffix stripping on a lower-case word; the new length. */
static size_t stem(char *w, size_t n)
{
	for (size_t i = 0; i < sizeof irregular / sizeof irregular[0]; i++)
		if (strlen(irregular[i][0]) == n && !memcmp(w, irregular[i][0], n)) {
			size_t k = strlen(irregular[i][1]); /* < n + STEM_ROOM */
			memcpy(w, irregular[i][1], k);
			return k;
		}
	/* the plural, then -ing or -ed: "bookings", "booking", "booked" */
	if (n > 4 && ends(w, n, "ies")) {
		w[n - 3] = 'y';
		n -= 2;
	} else if (n > 4 && ends(w, n, "sses")) {
		n -= 2;
	} else if (n > 3 && w[n - 1] == 's' && !ends(w, n, "ss") && !ends(w, n, "us") &&
		   !ends(w, n, "is")) {
		n -= 1;
	}
	if (n > 5 && ends(w, n, "ing"))
		n -= 3;
	else if (n > 4 && ends(w, n, "ed"))
		n -= 2;
	return n;
}

void ret_terms_clear(struct ret_terms *t)
{
	for (size_t i = 0; t && i < t->n; i++)
		free(t->t[i]);
	if (t) {
		free(t->t);
		t->t = NULL;
		t->n = 0;
	}
}

int ret_terms_of(const char *text, size_t len, size_t max, struct ret_terms *out)
{
	out->t = NULL;
	out->n = 0;
	if (max > TERMS_MAX)
		max = TERMS_MAX;
	char *low = g_utf8_strdown(text, (gssize)len);
	if (!low)
		return MX_ENOMEM;
	size_t n = strlen(low), cap = 0;
	int rc = 0;
	for (size_t i = 0; i < n && out->n < max && !rc;) {
		uint32_t cp = 0;
		size_t k = mx_utf8_decode((const unsigned char *)low + i, n - i, &cp);
		if (!k) {
			i++;
			continue;
		}
		if (!g_unichar_isalnum((gunichar)cp)) {
			i += k;
			continue;
		}
		size_t j = i;
		while (j < n && (k = mx_utf8_decode((const unsigned char *)low + j, n - j, &cp)) &&
		       g_unichar_isalnum((gunichar)cp))
			j += k;
		size_t wl = j - i;
		bool digit = isdigit((unsigned char)low[i]);
		if ((wl > 1 || digit) && !is_qword(low + i, wl)) {
			if (out->n == cap) {
				cap = cap ? cap * 2 : 16;
				char **t = realloc(out->t, cap * sizeof *t);
				if (!t) {
					rc = MX_ENOMEM;
					break;
				}
				out->t = t;
			}
			/* room for an irregular form's base, which may be longer */
			char *w = malloc(wl + STEM_ROOM);
			if (!w) {
				rc = MX_ENOMEM;
				break;
			}
			memcpy(w, low + i, wl);
			w[stem(w, wl)] = '\0';
			out->t[out->n++] = w;
		}
		i = j;
	}
	g_free(low);
	if (rc)
		ret_terms_clear(out);
	return rc;
}

static bool term_match(const char *a, const char *b)
{
	if (!strcmp(a, b))
		return true;
	/* a shared stem: a common start of 5 bytes or more that is most of
	 * the shorter word ("plumbing", "plumber"; not "interface",
	 * "internal") */
	size_t la = strlen(a), lb = strlen(b), m = la < lb ? la : lb, k = 0;
	while (k < m && a[k] == b[k])
		k++;
	/* a final 'e' that -ed stripping took ("baked" -> "bak", "bake") */
	if (k == m && m >= 3 && (la == lb + 1 ? a[lb] == 'e' : lb == la + 1 && b[la] == 'e'))
		return true;
	return k >= 5 && k * 10 >= m * 7;
}

static bool terms_have(const struct ret_terms *t, const char *w)
{
	for (size_t i = 0; i < t->n; i++)
		if (term_match(t->t[i], w))
			return true;
	return false;
}

double ret_term_overlap(const struct ret_terms *q, const double *w, const struct ret_terms *t)
{
	double have = 0, all = 0;
	for (size_t i = 0; i < q->n; i++) {
		double wi = w ? w[i] : 1;
		all += wi;
		if (terms_have(t, q->t[i]))
			have += wi;
	}
	return all > 0 ? have / all : 0;
}

/* ===================================================================== */
/* MMR, support, labels                                                  */
/* ===================================================================== */

size_t ret_mmr_select(const double *rel, const double *sim, size_t n, size_t k, double lambda,
		      double min_rel, size_t *out)
{
	size_t m = 0;
	while (m < k) {
		size_t best = n;
		double bs = 0;
		for (size_t i = 0; i < n; i++) {
			if (rel[i] < min_rel)
				continue;
			bool taken = false;
			double red = 0;
			for (size_t j = 0; j < m && !taken; j++) {
				taken = out[j] == i;
				double s = sim[i * n + out[j]];
				if (s > red)
					red = s;
			}
			if (taken)
				continue;
			double s = lambda * rel[i] - (1 - lambda) * red;
			if (best == n || s > bs) {
				best = i;
				bs = s;
			}
		}
		if (best == n)
			break;
		out[m++] = best;
	}
	return m;
}

double ret_support_score(double cos, double overlap)
{
	if (cos < -1)
		return overlap;
	return 0.5 * (cos > 0 ? cos : 0) + 0.5 * overlap;
}

void ret_cite_label(const struct store_hit *h, int64_t line_start, int64_t line_end, char *buf,
		    size_t n)
{
	char date[16];
	ret_date_ymd(h->date, date, sizeof date);
	if (h->parent_message_id && h->type && strcmp(h->type, "mail")) {
		snprintf(buf, n, "attachment %s of <%s>", h->title ? h->title : "?",
			 h->parent_message_id);
		return;
	}
	if (h->type && !strcmp(h->type, "mail")) {
		/* the sender's display name, or the address alone */
		char who[256] = "(unknown sender)";
		if (h->author && *h->author) {
			const char *lt = strchr(h->author, '<');
			size_t wl = lt ? (size_t)(lt - h->author) : strlen(h->author);
			while (wl && h->author[wl - 1] == ' ')
				wl--;
			if (!wl) {
				const char *gt = lt ? strchr(lt, '>') : NULL;
				if (lt && gt)
					snprintf(who, sizeof who, "%.*s", (int)(gt - lt - 1),
						 lt + 1);
				else
					snprintf(who, sizeof who, "%s", h->author);
			} else {
				const char *a = h->author;
				if (wl >= 2 && a[0] == '"' && a[wl - 1] == '"')
					a++, wl -= 2;
				snprintf(who, sizeof who, "%.*s", (int)wl, a);
			}
		}
		snprintf(buf, n, "%s, %s%s%s", h->title && *h->title ? h->title : "(no subject)",
			 who, date[0] ? ", " : "", date);
		return;
	}
	int64_t ls = line_start > 0 ? line_start : h->line_start;
	int64_t le = line_end > 0 ? line_end : h->line_end;
	char lines[48] = "", page[32] = "";
	if (ls > 0 && le >= ls)
		snprintf(lines, sizeof lines, le > ls ? ":%lld-%lld" : ":%lld", (long long)ls,
			 (long long)le);
	if (h->page_start > 0)
		snprintf(page, sizeof page, " p. %d", h->page_start);
	snprintf(buf, n, "%s%s%s%s%s", h->source_path ? h->source_path : "",
		 h->path && h->path[0] ? "/" : "", h->path ? h->path : "", lines, page);
}

/* ===================================================================== */
/* the answer                                                             */
/* ===================================================================== */

struct ret_answer_params ret_answer_params_default(bool with_embedder)
{
	struct ret_answer_params p = { .ret = ret_params_default(),
				       .docs = 5,
				       .ctx_tokens = 1500,
				       .sentences = 3,
				       .lambda = 0.7,
				       .min_support = 0.35 };
	p.ret.question = true;
	p.ret.mode = with_embedder ? RET_HYBRID : RET_BM25;
	/* calibrated on data/sample's dev and first three held-out question
	 * sets pooled, with the sentence stage (memex eval ask --calibrate
	 * FILE...; README, "Answers"): the most room to the goals of 90%
	 * answered, 80% withheld */
	p.min_coverage = with_embedder ? 0.78 : 0.32;
	p.min_cos = with_embedder ? 0.37 : 2;
	p.min_slot = 0.20;
	/* the sentence stage: the pool, chunks and weight that cited the most
	 * expected sources on those sets (README, "Answers") */
	p.pool = 10;
	p.chunks = 3;
	p.w_sent = 2;
	return p;
}

bool ret_answer_abstains(const struct ret_answer_params *p, const struct ret_answer *a)
{
	if (!a->nctx)
		return true;
	if (p->learned) {
		const struct ret_abst_model *m =
			p->model ? p->model : ret_abstain_model_default(a->mode != RET_BM25);
		double x[RET_ABST_NFEAT];
		ret_abstain_features(a, x);
		return ret_abstain_prob(m->w, x) < m->min_p;
	}
	/* none of the question's words in the context (a question in another
	 * language than the embedder's can still have a high cosine) */
	if (a->coverage < MIN_COVERAGE)
		return true;
	if (a->entity_missing || a->head_missing)
		return true;
	/* the best sentence only says what the question says ("Mamma has
	 * ordered flowers from the florist" for "which florist ...") */
	if (a->novelty == 0)
		return true;
	if (a->asks_id) /* the slot decides: a code there, or none */
		return !a->id_found;
	/* a sum asked for: one in a sentence about the thing decides */
	if (a->kind && !strcmp(a->kind, "money"))
		return a->slot < p->min_slot;
	if (a->asks_typed && !a->typed_found)
		return true;
	return !(a->coverage >= p->min_coverage || (a->cosine >= -1 && a->cosine >= p->min_cos));
}

static void sent_clear(struct ret_answer_sent *s, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(s[i].text);
	free(s);
}

void ret_answer_clear(struct ret_answer *a)
{
	if (!a)
		return;
	for (size_t i = 0; i < a->nctx; i++)
		store_hit_clear(&a->ctx[i].hit);
	free(a->ctx);
	sent_clear(a->sent, a->nsent);
	sent_clear(a->near, a->nnear);
	memset(a, 0, sizeof *a);
}

static size_t tokens_of(const char *s)
{
	return (strlen(s) + 3) / 4;
}

/* The text that stands for a chunk in overlaps: title, author, text. */
static int chunk_terms(const struct store_hit *h, struct ret_terms *t)
{
	struct mx_buf b;
	mx_buf_init(&b, 1u << 22);
	int rc = mx_buf_appendf(&b, "%s %s ", h->title ? h->title : "", h->author ? h->author : "");
	if (!rc)
		rc = mx_buf_appends(&b, h->text ? h->text : "");
	if (!rc)
		rc = ret_terms_of(b.data, b.len, TERMS_MAX, t);
	mx_buf_free(&b);
	return rc;
}

static int ctx_push(struct ret_answer *a, size_t *cap, struct store_hit *h, int cite, double rs,
		    size_t at)
{
	if (a->nctx == *cap) {
		size_t nc = *cap ? *cap * 2 : 8;
		struct ret_ctx_chunk *v = realloc(a->ctx, nc * sizeof *v);
		if (!v)
			return MX_ENOMEM;
		a->ctx = v;
		*cap = nc;
	}
	memmove(a->ctx + at + 1, a->ctx + at, (a->nctx - at) * sizeof *a->ctx);
	a->ctx[at] = (struct ret_ctx_chunk){ .hit = *h, .cite = cite, .rank_score = rs };
	memset(h, 0, sizeof *h); /* moved */
	a->nctx++;
	a->ctx_tokens += tokens_of(a->ctx[at].hit.text ? a->ctx[at].hit.text : "");
	return 0;
}

/* The chunk off places from h in its document, or MX_ENOTFOUND. Chunks of
 * a document are written in order in one statement group, so their ids
 * follow each other. */
static int neighbour(struct store *st, const struct store_hit *h, int off, struct store_hit *out)
{
	int64_t id = h->chunk_id + off;
	struct store_hit *v = NULL;
	size_t n = 0;
	memset(out, 0, sizeof *out);
	if (id <= 0)
		return MX_ENOTFOUND;
	int rc = store_hits_for_chunks(st, &id, 1, NULL, &v, &n);
	if (rc)
		return rc;
	if (n == 1 && v[0].doc_id == h->doc_id && v[0].text) {
		*out = v[0];
		free(v);
		return 0;
	}
	store_hits_free(v, n);
	return MX_ENOTFOUND;
}

static int ctx_cmp(const void *x, const void *y)
{
	const struct ret_ctx_chunk *a = x, *b = y;
	if (a->cite != b->cite)
		return a->cite < b->cite ? -1 : 1;
	return a->hit.chunk_id < b->hit.chunk_id ? -1 : a->hit.chunk_id > b->hit.chunk_id;
}

static bool ends_passage(const char *t)
{
	size_t n = t ? strlen(t) : 0;
	while (n && isspace((unsigned char)t[n - 1]))
		n--;
	return n && strchr(".!?:)\"'*>", t[n - 1]);
}

static bool starts_midway(const char *t)
{
	while (t && *t && isspace((unsigned char)*t))
		t++;
	return t && islower((unsigned char)*t);
}

/* IDF-like weights of the question's words over the retrieved chunks: a
 * word no retrieved chunk has weighs most, since its absence is what tells
 * an unanswerable question from an answerable one. Words with digits
 * (codes, numbers, dates) count half as much again. */
static int question_weights(const struct ret_terms *q, const struct ret_result *r, double *w)
{
	size_t N = r->n;
	for (size_t i = 0; i < q->n; i++)
		w[i] = 0;
	for (size_t k = 0; k < r->n; k++) {
		struct ret_terms t;
		int rc = chunk_terms(&r->hits[k], &t);
		if (rc)
			return rc;
		for (size_t i = 0; i < q->n; i++)
			if (terms_have(&t, q->t[i]))
				w[i] += 1;
		ret_terms_clear(&t);
	}
	for (size_t i = 0; i < q->n; i++) {
		/* a word no retrieved chunk has weighs as one chunk's word:
		 * such a word is as often a paraphrase ("owe" for an invoice,
		 * "chip in" for a share) as the thing asked for; that the
		 * named or asked-about thing is absent is told apart by
		 * question_parts' rules */
		w[i] = log(((double)N + 1) / (w[i] > 0 ? w[i] + 0.5 : 1.5));
		if (w[i] < 0.1)
			w[i] = 0.1;
		for (const char *s = q->t[i]; *s; s++)
			if (isdigit((unsigned char)*s)) {
				w[i] *= 1.5;
				break;
			}
	}
	return 0;
}

static bool has_identifier(const char *s, size_t n);

/* The names of the months and days, which a capitalised word may be
 * without being a name (or an entity of the question). */
static const char *const when_names[] = { "monday",    "tuesday", "wednesday", "thursday", "friday",
					  "saturday",  "sunday",  "january",   "february", "march",
					  "april",     "may",	  "june",      "july",	   "august",
					  "september", "october", "november",  "december" };

/* Whether the n bytes at w are one of list's nl words, in any case. */
static bool listed(const char *w, size_t n, const char *const *list, size_t nl)
{
	for (size_t i = 0; i < nl; i++)
		if (strlen(list[i]) == n && !strncasecmp(list[i], w, n))
			return true;
	return false;
}

static bool is_when_name(const char *w, size_t n)
{
	return listed(w, n, when_names, sizeof when_names / sizeof when_names[0]);
}

/* Whether the n bytes at s are in the terms q (NULL: none are). */
static bool word_in(const char *s, size_t n, const struct ret_terms *q)
{
	struct ret_terms t;
	bool in = false;
	if (!q || ret_terms_of(s, n, 4, &t))
		return false;
	for (size_t i = 0; i < t.n && !in; i++)
		in = terms_have(q, t.t[i]);
	ret_terms_clear(&t);
	return in;
}

/* Whether s has a name that the question (terms q, may be NULL) does not
 * already say: two capitalised words in a row after its first word ("with
 * Dr Karin Ahlgren", "Teacher: Joana Ferreira"), not names of months or
 * days, none of them a word of the question ("Granit Autumn Jam" answers
 * no "who" about the Granit Autumn Jam). */
static bool has_name(const char *s, size_t n, const struct ret_terms *q)
{
	size_t words = 0, run = 0;
	bool asked = false;
	for (size_t i = 0; i < n;) {
		size_t g = i;
		while (i < n && !isalpha((unsigned char)s[i]) && (unsigned char)s[i] < 0x80)
			i++;
		bool spaced = i > g; /* only spaces between two words of a name */
		for (size_t b = g; b < i; b++)
			spaced &= s[b] == ' ';
		size_t j = i;
		while (j < n &&
		       (isalpha((unsigned char)s[j]) || (unsigned char)s[j] >= 0x80 || s[j] == '-'))
			j++;
		if (j == i)
			break;
		bool lower = false;
		for (size_t b = i + 1; b < j; b++)
			lower |= islower((unsigned char)s[b]) || (unsigned char)s[b] >= 0x80;
		bool cap = isupper((unsigned char)s[i]) && j - i >= 2 && lower &&
			   !is_when_name(s + i, j - i);
		bool first = words++ == 0;
		if (run && (!cap || !spaced)) {
			if (run >= 2 && !asked)
				return true;
			run = 0;
		}
		if (!first && cap) {
			if (!run)
				asked = false;
			run++;
			asked |= word_in(s + i, j - i, q);
		}
		i = j;
	}
	return run >= 2 && !asked;
}

/* Whether s has a street address: a capitalised word, not a month or day,
 * followed by a house number of 1 to 4 digits that ends the line or is
 * followed by a comma ("Mastgatan 4, 2nd floor", "Kråkviksvägen 12,"). */
static bool has_address(const char *s, size_t n)
{
	for (size_t i = 0; i < n;) {
		while (i < n && !isalpha((unsigned char)s[i]) && (unsigned char)s[i] < 0x80)
			i++;
		size_t j = i;
		while (j < n && (isalpha((unsigned char)s[j]) || (unsigned char)s[j] >= 0x80))
			j++;
		if (j == i)
			break;
		size_t k = j, d;
		if (j - i >= 3 && isupper((unsigned char)s[i]) && !is_when_name(s + i, j - i) &&
		    k < n && s[k] == ' ') {
			k++;
			for (d = 0; k + d < n && isdigit((unsigned char)s[k + d]); d++)
				;
			/* the number ends the line or is followed by a comma */
			if (d >= 1 && d <= 4 &&
			    (k + d == n || s[k + d] == ',' || s[k + d] == '\n' || s[k + d] == '.'))
				return true;
		}
		i = j;
	}
	return false;
}

/* What the question asks for, and whether a sentence has that kind of
 * thing: a date or time for "when", a sum of money for "what did it cost",
 * a number for "how many" and "how much" of other things, an identifier
 * for "which number/code/reference", a name for "who", a street address. */
enum qkind { Q_OTHER, Q_WHEN, Q_MONEY, Q_COUNT, Q_ID, Q_WHO, Q_ADDRESS, Q_NAMED };

/* Words that make "how much" and "what is the ..." ask for money. */
static const char *const money_words[] = {
	/* the first MONEY_ASKS only say that a sum is asked for */
	"cost", "costs", "price", "prices", "fee", "fees", "charge", "charged", "pay", "paid",
	"spend", "spent", "owe", "money",
	/* these name the sum's kind, a thing to find beside it ("rent") */
	"salary", "rent", "deposit", "refund", "penalty", "fine", "budget", "earn", "wage"
};
#define MONEY_WORDS (sizeof money_words / sizeof money_words[0])
#define MONEY_ASKS  14

/* Whether the term w (a word of ret_terms_of) is one of the words that
 * only ask for a sum (money_words' first MONEY_ASKS). */
static bool is_money_term(const char *w)
{
	for (size_t i = 0; i < MONEY_ASKS; i++) {
		char b[16 + STEM_ROOM];
		size_t n = strlen(money_words[i]);
		memcpy(b, money_words[i], n);
		b[stem(b, n)] = '\0';
		if (!strcmp(b, w))
			return true;
	}
	return false;
}

/* Whether the lower-case question low has one of words as a whole word. */
static bool asks_word(const char *low, const char *const *words, size_t n)
{
	for (size_t w = 0; w < n; w++) {
		size_t wl = strlen(words[w]);
		for (const char *p = strstr(low, words[w]); p; p = strstr(p + 1, words[w]))
			if ((p == low || !isalpha((unsigned char)p[-1])) &&
			    !isalpha((unsigned char)p[wl]))
				return true;
	}
	return false;
}

/* Whether the lower-case question low asks "which X" or "what X" for a
 * class of things X ("which island", "what brand is my bike"): its answer
 * names one (a proper name, a number), and the word X need not stand
 * beside it ("we took the boat out to Käringön"). */
static bool names_category(const char *low)
{
	static const char *const not_noun[] = {
		"is",	"was",	 "are",	   "were",  "do",      "does",	   "did",  "will", "would",
		"can",	"could", "should", "shall", "may",     "might",	   "must", "have", "has",
		"had",	"i",	 "you",	   "we",    "they",    "he",	   "she",  "it",   "the",
		"a",	"an",	 "my",	   "our",   "your",    "of",	   "to",   "if",   "about",
		"kind", "sort",	 "type",   "else",  "happens", "happened", "s"
	};
	const char *p = NULL;
	if (!strncmp(low, "which ", 6))
		p = low + 6;
	else if (!strncmp(low, "what ", 5))
		p = low + 5;
	else if ((p = strstr(low, " which ")))
		p += 7;
	if (!p)
		return false;
	size_t n = 0;
	while (isalpha((unsigned char)p[n]))
		n++;
	if (!n)
		return false;
	for (size_t i = 0; i < sizeof not_noun / sizeof not_noun[0]; i++)
		if (strlen(not_noun[i]) == n && !strncmp(p, not_noun[i], n))
			return false;
	return true;
}

static enum qkind question_kind(const char *q)
{
	static const char *const *money = money_words;
	static const char *const ids[] = { "number", "code", "reference", "password" };
	char low[256];
	size_t n = 0;
	for (; q[n] && n + 1 < sizeof low; n++)
		low[n] = (char)tolower((unsigned char)q[n]);
	low[n] = '\0';
	/* "when" asks for a time where it opens the question or follows a
	 * preposition ("until when"); mid-question it opens a clause ("the
	 * rent when my lease began", "who can I phone when the office is
	 * closed") */
	const char *w = low;
	while (*w && !isalpha((unsigned char)*w))
		w++;
	if (!strncmp(w, "when ", 5) || !strncmp(w, "and when ", 9) || strstr(low, "until when") ||
	    strstr(low, "by when") || strstr(low, "since when") || strstr(low, "from when") ||
	    strstr(low, "what time") || strstr(low, "what date") || strstr(low, "which day") ||
	    strstr(low, "what day") || strstr(low, "which date") || strstr(low, "how soon"))
		return Q_WHEN;
	if (strstr(low, "address"))
		return Q_ADDRESS;
	if (strstr(low, "how many"))
		return Q_COUNT;
	bool paid = asks_word(low, money, MONEY_WORDS);
	if (strstr(low, "how much"))
		return paid ? Q_MONEY : Q_COUNT;
	if (asks_word(low, ids, sizeof ids / sizeof ids[0]))
		return Q_ID;
	if (paid)
		return Q_MONEY;
	if (!strncmp(low, "who", 3) || strstr(low, " who ") || strstr(low, "name of") ||
	    strstr(low, " called"))
		return Q_WHO;
	return names_category(low) ? Q_NAMED : Q_OTHER;
}

/* Whether s has a sum of money: digits with a currency before or after
 * them ("650 SEK", "EUR 640.00", "€12", "1 284,50 kr"). */
static bool has_money(const char *s, size_t n)
{
	static const char *const cur[] = { "sek",  "kr",      "kronor", "eur",
					   "euro", "euros",   "usd",	"nok",
					   "dkk",  "gbp",     "chf",	"\xe2\x82\xac" /* € */,
					   "$",	   "\xc2\xa3" /* £ */ };
	for (size_t i = 0; i < n; i++) {
		if (!isdigit((unsigned char)s[i]))
			continue;
		size_t a = i, b = i;
		/* the amount: digits, with spaces, dots and commas between */
		while (b < n && (isdigit((unsigned char)s[b]) ||
				 ((s[b] == ' ' || s[b] == '.' || s[b] == ',') && b + 1 < n &&
				  isdigit((unsigned char)s[b + 1]))))
			b++;
		for (size_t c = 0; c < sizeof cur / sizeof cur[0]; c++) {
			size_t cl = strlen(cur[c]);
			bool word = isalpha((unsigned char)cur[c][0]);
			/* after: "650 SEK", "650kr", "650 kr." */
			size_t k = b;
			if (k < n && s[k] == ' ')
				k++;
			if (k + cl <= n && !strncasecmp(s + k, cur[c], cl) &&
			    (!word || k + cl == n || !isalpha((unsigned char)s[k + cl])))
				return true;
			/* before: "EUR 640", "€12" */
			k = a;
			if (k && s[k - 1] == ' ')
				k--;
			if (k >= cl && !strncasecmp(s + k - cl, cur[c], cl) &&
			    (!word || k == cl || !isalpha((unsigned char)s[k - cl - 1])))
				return true;
		}
		i = b;
	}
	return false;
}

/* Whether s names a day: a time ("09:40", "9.30", "7 pm"), an ordinal
 * ("the 25th"), a date in digits ("2026-11-17", "17/11"), a weekday or a
 * month ("Tue", "Nov"), or "today" and the like. */
static bool has_when(const char *s, size_t n)
{
	static const char *const words[] = {
		"monday",   "tuesday", "wednesday", "thursday", "friday",    "saturday", "sunday",
		"mon",	    "tue",     "tues",	    "wed",	"thu",	     "thur",	 "thurs",
		"fri",	    "sat",     "sun",	    "january",	"february",  "march",	 "april",
		"may",	    "june",    "july",	    "august",	"september", "october",	 "november",
		"december", "jan",     "feb",	    "mar",	"apr",	     "jun",	 "jul",
		"aug",	    "sep",     "sept",	    "oct",	"nov",	     "dec",	 "tomorrow",
		"today",    "tonight", "yesterday", "noon",	"midnight"
	};
	for (size_t i = 0; i < n; i++) {
		if (isdigit((unsigned char)s[i])) {
			size_t j = i;
			while (j < n && isdigit((unsigned char)s[j]))
				j++;
			/* 09:40, 9.30, 2026-11-17, 17/11 */
			if (j + 1 < n &&
			    (s[j] == ':' || s[j] == '.' || s[j] == '-' || s[j] == '/') &&
			    isdigit((unsigned char)s[j + 1]))
				return true;
			size_t k = j < n && s[j] == ' ' ? j + 1 : j;
			/* 7 pm, 10am, the 25th */
			if (k + 2 <= n &&
			    (!strncasecmp(s + k, "am", 2) || !strncasecmp(s + k, "pm", 2)) &&
			    (k + 2 == n || !isalpha((unsigned char)s[k + 2])))
				return true;
			if (j + 2 <= n &&
			    (!strncasecmp(s + j, "st", 2) || !strncasecmp(s + j, "nd", 2) ||
			     !strncasecmp(s + j, "rd", 2) || !strncasecmp(s + j, "th", 2)) &&
			    (j + 2 == n || !isalpha((unsigned char)s[j + 2])))
				return true;
			i = j;
			continue;
		}
		if (!isalpha((unsigned char)s[i]) || (i && isalpha((unsigned char)s[i - 1])))
			continue;
		size_t j = i;
		while (j < n && isalpha((unsigned char)s[j]))
			j++;
		/* short forms and "May" only capitalised: "you may", "the sun" */
		if ((isupper((unsigned char)s[i]) || j - i > 4) &&
		    listed(s + i, j - i, words, sizeof words / sizeof words[0]))
			return true;
		i = j;
	}
	return false;
}

/* Whether s has a number: digits, or a number word ("three", "a dozen"). */
static bool has_count(const char *s, size_t n)
{
	static const char *const words[] = { "one",    "two",	 "three",  "four",   "five",
					     "six",    "seven",	 "eight",  "nine",   "ten",
					     "eleven", "twelve", "twenty", "dozen",  "hundred",
					     "half",   "once",	 "twice",  "single", "couple" };
	for (size_t i = 0; i < n; i++) {
		if (isdigit((unsigned char)s[i]))
			return true;
		if (!isalpha((unsigned char)s[i]) || (i && isalpha((unsigned char)s[i - 1])))
			continue;
		size_t j = i;
		while (j < n && isalpha((unsigned char)s[j]))
			j++;
		if (listed(s + i, j - i, words, sizeof words / sizeof words[0]))
			return true;
		i = j;
	}
	return false;
}

/* Whether s names something specific that the question (terms q) does
 * not: a capitalised word after the first that is not a month or day, a
 * word with a digit, or a title in *emphasis* or quotes. */
static bool has_specific(const char *s, size_t n, const struct ret_terms *q)
{
	size_t words = 0;
	for (size_t i = 0; i < n;) {
		unsigned char c = (unsigned char)s[i];
		if (c == '*' || c == '"' ||
		    (c == 0xe2 && i + 2 < n && (unsigned char)s[i + 1] == 0x80 &&
		     (unsigned char)s[i + 2] == 0x9c)) {
			/* *Ilhas*, "Gaivota", “Gaivota” */
			size_t j = i + (c == 0xe2 ? 3 : 1);
			if (j < n && isalpha((unsigned char)s[j]))
				for (size_t k = j; k < n && k < j + 64; k++)
					if (s[k] == (char)c ||
					    (c == 0xe2 && (unsigned char)s[k] == 0x9d))
						return true;
		}
		if (!(isalnum(c) || c >= 0x80)) {
			i++;
			continue;
		}
		size_t j = i;
		bool digit = false;
		while (j < n && (isalnum((unsigned char)s[j]) || (unsigned char)s[j] >= 0x80 ||
				 s[j] == '-')) {
			digit |= isdigit((unsigned char)s[j]) != 0;
			j++;
		}
		bool first = words++ == 0;
		if (!word_in(s + i, j - i, q) &&
		    (digit || (!first && isupper(c) && j - i >= 2 && !is_when_name(s + i, j - i))))
			return true;
		i = j;
	}
	return false;
}

static const char *kind_name(enum qkind k)
{
	static const char *const names[] = { NULL, "when", "money",   "count",
					     "id", "who",  "address", "named" };
	return names[k];
}

static bool has_kind(const char *s, size_t n, enum qkind k, const struct ret_terms *q)
{
	switch (k) {
	case Q_WHEN: return has_when(s, n);
	case Q_MONEY: return has_money(s, n);
	case Q_COUNT: return has_count(s, n);
	case Q_ID: return has_identifier(s, n);
	case Q_WHO: return has_name(s, n, q);
	case Q_ADDRESS: return has_address(s, n);
	case Q_NAMED: return has_specific(s, n, q);
	default: return false;
	}
}

/* A "Label: value" line whose label names what a question of kind k asks
 * for ("When: Tuesday 17 November", "Price: 1 150 SEK"): forms, bookings
 * and receipts put their answers there. */
static bool is_labelled(const char *s, size_t n, enum qkind k)
{
	static const struct {
		enum qkind k;
		const char *label;
	} labels[] = {
		{ Q_WHEN, "when" },    { Q_WHEN, "date" },	 { Q_WHEN, "time" },
		{ Q_WHEN, "day" },     { Q_WHEN, "departure" },	 { Q_WHEN, "arrival" },
		{ Q_MONEY, "price" },  { Q_MONEY, "cost" },	 { Q_MONEY, "total" },
		{ Q_MONEY, "amount" }, { Q_MONEY, "fee" },	 { Q_COUNT, "amount" },
		{ Q_COUNT, "total" },  { Q_ADDRESS, "address" }, { Q_ADDRESS, "where" },
		{ Q_WHO, "who" },      { Q_WHO, "name" },
	};
	size_t i = 0;
	while (i < n && (s[i] == ' ' || s[i] == '\t' || s[i] == '-' || s[i] == '*'))
		i++;
	size_t w = i;
	while (w < n && w - i < 24 && (isalpha((unsigned char)s[w]) || s[w] == ' '))
		w++;
	if (w >= n || s[w] != ':' || w == i)
		return false;
	size_t len = w - i;
	while (len && s[i + len - 1] == ' ')
		len--;
	/* the label's last word names the kind: "Due date", "Total paid" no,
	 * "Amount to pay" no; "Due date", "Departure time" yes */
	size_t lw = len;
	while (lw && s[i + lw - 1] != ' ')
		lw--;
	for (size_t j = 0; j < sizeof labels / sizeof labels[0]; j++) {
		size_t ll = strlen(labels[j].label);
		if (labels[j].k != k)
			continue;
		if ((ll == len && !strncasecmp(s + i, labels[j].label, len)) ||
		    (ll == len - lw && !strncasecmp(s + i + lw, labels[j].label, ll)))
			return true;
	}
	return false;
}

/* A heading of Markdown ("## Costs") or org-mode ("** DONE Talk"). */
static bool is_heading(const char *s)
{
	size_t i = 0;
	if (s[0] == '#')
		return true;
	while (s[i] == '*')
		i++;
	return i > 0 && s[i] == ' ';
}

static double dot(const float *a, const float *b, int d)
{
	double s = 0;
	for (int i = 0; i < d; i++)
		s += (double)a[i] * b[i];
	return s;
}

/* The line of the file at byte off of a chunk's text. */
static int64_t line_at(const struct store_hit *h, size_t off)
{
	if (h->line_start <= 0)
		return 0;
	int64_t l = h->line_start;
	for (size_t i = 0; i < off && h->text[i]; i++)
		l += h->text[i] == '\n';
	return l;
}

/* A candidate sentence of the extractive answer. */
struct cand {
	size_t chunk;
	struct ret_span sp;
	const float *vec; /* its vector from the sentence stage, or NULL */
	double rel;
	double ovw; /* the question's words in the sentence with its neighbours
		       and its document's title and author */
	double ent; /* 1 when those have the question's names, less when only
		       the chunk has them, or nothing does */
	struct ret_terms terms;
};

static int window_terms(const struct store_hit *h, const struct ret_span *sp, size_t ns, size_t i,
			size_t around, struct ret_terms *out);

/* Whether t has every term of names. */
static bool terms_have_all(const struct ret_terms *t, const struct ret_terms *names)
{
	for (size_t i = 0; i < names->n; i++)
		if (!terms_have(t, names->t[i]))
			return false;
	return true;
}

/* Picks the extractive answer from the context (see answer.h); names are
 * the question's capitalised words (the things it is about). */
static int extract(struct ret_answer *a, enum qkind kind, const struct ret_terms *qt,
		   const double *qw, const float *qv, const struct ret_terms *names,
		   const struct ret_answer_params *p, const struct ret_sentvecs *cache)
{
	struct eng_embedder *e = p->ret.embedder;
	int d = e && qv ? eng_embedder_dims(e) : 0;
	struct cand *c = calloc(CAND_MAX, sizeof *c);
	const char **texts = NULL;
	char **owned = NULL;
	float *sv = NULL;
	double *rel = NULL, *sim = NULL;
	size_t nc = 0, *pick = NULL;
	int rc = 0;
	if (!c)
		return MX_ENOMEM;
	for (size_t k = 0; k < a->nctx && nc < CAND_MAX; k++) {
		const char *t = a->ctx[k].hit.text ? a->ctx[k].hit.text : "";
		struct ret_span *sp = NULL;
		size_t ns = 0;
		struct ret_terms ct;
		if ((rc = chunk_terms(&a->ctx[k].hit, &ct)))
			goto out;
		bool chunk_names = terms_have_all(&ct, names);
		ret_terms_clear(&ct);
		if ((rc = ret_sentences_split(t, strlen(t), &sp, &ns)))
			goto out;
		const float *cv = d ? ret_sentvecs_find(cache, a->ctx[k].hit.chunk_id, ns) : NULL;
		for (size_t i = 0; i < ns && nc < CAND_MAX; i++) {
			c[nc].chunk = k;
			c[nc].sp = sp[i];
			c[nc].vec = cv ? cv + i * (size_t)d : NULL;
			if ((rc = ret_terms_of(t + sp[i].start, sp[i].end - sp[i].start, TERMS_MAX,
					       &c[nc].terms))) {
				free(sp);
				goto out;
			}
			/* a line of a form or a list often names its subject in the
			 * line before or its heading ("OUTBOUND" above "Seat 14A") */
			struct ret_terms wt;
			if ((rc = window_terms(&a->ctx[k].hit, sp, ns, i, 1, &wt))) {
				ret_terms_clear(&c[nc].terms);
				free(sp);
				goto out;
			}
			c[nc].ovw = ret_term_overlap(qt, qw, &wt);
			c[nc].ent = terms_have_all(&wt, names) ? 1 : chunk_names ? 0.85 : 0.6;
			ret_terms_clear(&wt);
			nc++;
		}
		free(sp);
	}
	if (!nc)
		goto out;
	owned = calloc(nc, sizeof *owned);
	texts = calloc(nc, sizeof *texts);
	rel = calloc(nc, sizeof *rel);
	sim = calloc(nc * nc, sizeof *sim);
	pick = calloc(p->sentences ? p->sentences : 1, sizeof *pick);
	if (!owned || !texts || !rel || !sim || !pick) {
		rc = MX_ENOMEM;
		goto out;
	}
	for (size_t i = 0; i < nc; i++) {
		const char *t = a->ctx[c[i].chunk].hit.text;
		owned[i] = strndup(t + c[i].sp.start, c[i].sp.end - c[i].sp.start);
		if (!owned[i]) {
			rc = MX_ENOMEM;
			goto out;
		}
		texts[i] = owned[i];
	}
	if (d) {
		/* the sentences the sentence stage did not embed */
		sv = malloc(nc * (size_t)d * sizeof *sv);
		float *tv = malloc(nc * (size_t)d * sizeof *tv);
		const char **todo = calloc(nc, sizeof *todo);
		size_t nt = 0;
		if (!sv || !tv || !todo) {
			free(tv);
			free(todo);
			rc = MX_ENOMEM;
			goto out;
		}
		for (size_t i = 0; i < nc; i++)
			if (c[i].vec)
				memcpy(sv + i * (size_t)d, c[i].vec, (size_t)d * sizeof *sv);
			else
				todo[nt++] = texts[i];
		if (nt && (rc = eng_embed(e, todo, nt, ENG_PASSAGE, tv)))
			snprintf(a->err, sizeof a->err, "%s", eng_errmsg(e));
		for (size_t i = 0, j = 0; !rc && i < nc; i++)
			if (!c[i].vec)
				memcpy(sv + i * (size_t)d, tv + j++ * (size_t)d,
				       (size_t)d * sizeof *sv);
		free(tv);
		free(todo);
		if (rc)
			goto out;
	}
	/* relevance: the question's words in the sentence, the cosine, the
	 * kind of thing asked for, and how well the sentence's chunk (with its
	 * title) covers the question; headings and fragments weigh less */
	double *ccov = calloc(a->nctx ? a->nctx : 1, sizeof *ccov);
	if (!ccov) {
		rc = MX_ENOMEM;
		goto out;
	}
	for (size_t k = 0; k < a->nctx; k++) {
		struct ret_terms ct;
		if ((rc = chunk_terms(&a->ctx[k].hit, &ct))) {
			free(ccov);
			goto out;
		}
		ccov[k] = ret_term_overlap(qt, qw, &ct);
		ret_terms_clear(&ct);
	}
	for (size_t i = 0; i < nc; i++) {
		double ov = ret_term_overlap(qt, qw, &c[i].terms), ovw = c[i].ovw;
		double ctx = 0.7 * ccov[c[i].chunk] + 0.3 / a->ctx[c[i].chunk].cite;
		size_t tl = strlen(texts[i]);
		bool kind_has = kind != Q_OTHER && has_kind(texts[i], tl, kind, qt);
		double kind_bonus = kind_has;
		/* a field labelled with what is asked counts as the words of the
		 * question it answers */
		if (kind_has && is_labelled(texts[i], tl, kind))
			kind_bonus = 5;
		if (d) {
			double cs = dot(qv, sv + i * (size_t)d, d);
			if (cs > a->sent_cosine)
				a->sent_cosine = cs;
			rel[i] = 0.3 * ov + 0.1 * ovw + 0.3 * (cs > 0 ? cs : 0) + 0.2 * ctx +
				 0.1 * kind_bonus;
		} else {
			rel[i] = 0.4 * ov + 0.15 * ovw + 0.3 * ctx + 0.15 * kind_bonus;
		}
		/* headings and fragments weigh less, unless they hold what is
		 * asked ("## Sofia – 2 March" for a birthday); a sentence without
		 * the kind of thing asked for cannot answer it */
		bool frag = is_heading(texts[i]) ||
			    (c[i].terms.n < 3 && !has_kind(texts[i], tl, Q_COUNT, NULL));
		if (frag && !kind_has)
			rel[i] *= 0.5;
		if (kind != Q_OTHER && !kind_has)
			rel[i] *= 0.7;
		/* a sentence far from the things the question names ("The Quiet
		 * Grid") is about something else */
		rel[i] *= c[i].ent;
		c[i].rel = rel[i];
	}
	free(ccov);
	for (size_t i = 0; i < nc; i++)
		for (size_t j = 0; j < nc; j++) {
			if (d) {
				sim[i * nc + j] = dot(sv + i * (size_t)d, sv + j * (size_t)d, d);
			} else {
				/* Jaccard-like: shared words over the smaller set */
				size_t sh = 0, m = c[i].terms.n < c[j].terms.n ? c[i].terms.n
									       : c[j].terms.n;
				for (size_t w = 0; w < c[i].terms.n; w++)
					sh += terms_have(&c[j].terms, c[i].terms.t[w]);
				sim[i * nc + j] = m ? (double)sh / (double)m : 0;
			}
		}
	double best = 0;
	for (size_t i = 0; i < nc; i++)
		if (rel[i] > best)
			best = rel[i];
	size_t np = ret_mmr_select(rel, sim, nc, p->sentences, p->lambda, best * 0.5, pick);
	a->sent = calloc(np ? np : 1, sizeof *a->sent);
	if (!a->sent) {
		rc = MX_ENOMEM;
		goto out;
	}
	for (size_t k = 0; k < np; k++) {
		size_t i = pick[k];
		size_t fresh = 0;
		for (size_t w = 0; w < c[i].terms.n; w++)
			fresh += !terms_have(qt, c[i].terms.t[w]);
		if (k == 0)
			a->novelty = (int)fresh;
		const struct store_hit *h = &a->ctx[c[i].chunk].hit;
		struct ret_answer_sent *s = &a->sent[a->nsent++];
		s->text = owned[i];
		owned[i] = NULL;
		s->cite = a->ctx[c[i].chunk].cite;
		s->ncites = 1;
		s->chunk = c[i].chunk;
		s->score = rel[i];
		s->support = 1; /* the chunk's own words */
		s->supported = true;
		s->line_start = line_at(h, c[i].sp.start);
		s->line_end = line_at(h, c[i].sp.end);
		s->byte_start = h->byte_start + (int64_t)c[i].sp.start;
		s->byte_end = h->byte_start + (int64_t)c[i].sp.end;
	}
out:
	for (size_t i = 0; i < nc; i++) {
		ret_terms_clear(&c[i].terms);
		if (owned)
			free(owned[i]);
	}
	free(c);
	free(owned);
	free(texts);
	free(sv);
	free(rel);
	free(sim);
	free(pick);
	return rc;
}

/* The terms of sentence i of h's text (spans sp, ns of them) with
 * `around` sentences either side, and of h's title and author. */
static int window_terms(const struct store_hit *h, const struct ret_span *sp, size_t ns, size_t i,
			size_t around, struct ret_terms *out)
{
	const char *t = h->text ? h->text : "";
	size_t from = sp[i >= around ? i - around : 0].start,
	       to = sp[i + around < ns ? i + around : ns - 1].end;
	struct mx_buf b;
	mx_buf_init(&b, 1u << 20);
	int rc = mx_buf_appendf(&b, "%s\n%s\n%.*s", h->title ? h->title : "",
				h->author ? h->author : "", (int)(to - from), t + from);
	if (!rc)
		rc = ret_terms_of(b.data, b.len, TERMS_MAX, out);
	mx_buf_free(&b);
	return rc;
}

/* ---- questions that ask for an identifier ---- */

/* Words that ask for an identifier: "policy number", "pickup code". */
static const char *const id_words[] = { "number", "code", "reference", "password", "pin", "ocr" };

static bool is_id_word(const char *w)
{
	for (size_t i = 0; i < sizeof id_words / sizeof id_words[0]; i++)
		if (!strcmp(w, id_words[i]))
			return true;
	return false;
}

/* Whether the n bytes at s are an identifier: a code with upper-case
 * letters and digits ("K7QX4M", "14A"), digit groups joined by '-'
 * ("55-781204"), or four digits or more that are not a year ("4471");
 * times, prices, years and ordinals are not. */
static bool is_identifier(const char *s, size_t n)
{
	size_t digits = 0, upper = 0, lower = 0, dash = 0, other = 0;
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];
		if (isdigit(c))
			digits++;
		else if (isupper(c))
			upper++;
		else if (islower(c))
			lower++;
		else if (c == '-' && i > 0 && i + 1 < n)
			dash++;
		else
			other++;
	}
	if (!digits || other || lower)
		return false;
	if (upper || dash)
		return true;
	if (digits == 4 && (s[0] == '1' || s[0] == '2') && (s[1] == '9' || s[1] == '0'))
		return false; /* 1900-2099: a year */
	return digits >= 4;
}

/* Whether a phone number starts at s[i]: a '+' or a '0', then groups of
 * digits split by single blanks or dashes, 7 digits or more in all
 * ("+46 70 555 62 11", "031-555 40 18"); amounts ("60 000") do not start
 * so, or are shorter. */
static bool phone_at(const char *s, size_t n, size_t i)
{
	if (i > 0 && (isalnum((unsigned char)s[i - 1]) || s[i - 1] == '+'))
		return false;
	if (s[i] == '+')
		i++;
	else if (s[i] != '0')
		return false;
	size_t digits = 0;
	while (i < n) {
		if (isdigit((unsigned char)s[i]))
			digits++;
		else if (!((s[i] == ' ' || s[i] == '-') && i + 1 < n &&
			   isdigit((unsigned char)s[i + 1]) && digits))
			break;
		i++;
	}
	return digits >= 7 && (i == n || !isalpha((unsigned char)s[i]));
}

static bool has_phone(const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if ((s[i] == '+' || s[i] == '0') && phone_at(s, n, i))
			return true;
	return false;
}

/* Words that ask for a phone number, which a contact list does not say
 * beside one. */
static bool is_phone_word(const char *w)
{
	return !strcmp(w, "phone") || !strcmp(w, "telephone") || !strcmp(w, "mobile") ||
	       !strcmp(w, "cell");
}

static bool has_identifier(const char *s, size_t n)
{
	if (has_phone(s, n))
		return true;
	for (size_t i = 0; i < n;) {
		while (i < n && !isalnum((unsigned char)s[i]))
			i++;
		size_t j = i;
		while (j < n && (isalnum((unsigned char)s[j]) || s[j] == '-'))
			j++;
		size_t e = j;
		while (e > i && s[e - 1] == '-')
			e--;
		if (e > i && is_identifier(s + i, e - i))
			return true;
		i = j;
	}
	return false;
}

/* For a question that asks for an identifier ("What is my passport
 * number?"), whether the context has one where the thing asked about is:
 * a sentence with an identifier and the word before the identifier word
 * ("passport"; the identifier word itself when there is none), which with
 * the sentences either side and its document's title and author also
 * holds another of the question's words (when the question has others).
 * Sets *asks. */
static int id_slot(const struct ret_answer *a, const char *question, bool *asks, bool *found)
{
	struct ret_terms qt, st_;
	int rc = ret_terms_of(question, strlen(question), 64, &qt);
	*asks = *found = false;
	if (rc)
		return rc;
	const char *mod = NULL;
	size_t at = 0;
	for (size_t i = 0; i < qt.n && !mod; i++)
		if (is_id_word(qt.t[i])) {
			mod = i > 0 && !is_id_word(qt.t[i - 1]) ? qt.t[i - 1] : qt.t[i];
			at = i > 0 && mod == qt.t[i - 1] ? i - 1 : i;
		}
	*asks = mod != NULL;
	for (size_t k = 0; k < a->nctx && mod && !*found && !rc; k++) {
		const struct store_hit *h = &a->ctx[k].hit;
		const char *t = h->text ? h->text : "";
		struct ret_span *sp = NULL;
		size_t ns = 0;
		if ((rc = ret_sentences_split(t, strlen(t), &sp, &ns)))
			break;
		for (size_t i = 0; i < ns && !*found && !rc; i++) {
			const char *x = t + sp[i].start;
			size_t xl = sp[i].end - sp[i].start;
			if (!has_identifier(x, xl))
				continue;
			struct ret_terms own;
			if ((rc = ret_terms_of(x, xl, TERMS_MAX, &own)))
				break;
			/* a phone number is what a "phone number" asks for, whether
			 * or not the word stands beside it */
			bool has_mod =
				terms_have(&own, mod) || (is_phone_word(mod) && has_phone(x, xl));
			bool other = false, any_other = false;
			ret_terms_clear(&own);
			/* the other words: in the sentences around it, the title
			 * or the author */
			if ((rc = window_terms(h, sp, ns, i, 1, &st_)))
				break;
			for (size_t w = 0; w < qt.n; w++) {
				if (w == at || is_id_word(qt.t[w]))
					continue;
				any_other = true;
				other |= terms_have(&st_, qt.t[w]);
			}
			*found = has_mod && (other || !any_other);
			ret_terms_clear(&st_);
		}
		free(sp);
	}
	ret_terms_clear(&qt);
	return rc;
}

/* ---- the question's parts ---- */

#define QWORDS_MAX 48

/* What a question names and asks about, as terms (ret_terms_of):
 *   caps   its capitalised words after the first, not "I" nor a month or
 *          day: the specific things it is about ("Porto", "Västkraft");
 *   poss   the possessors ("mamma's", "landlord's"): whose thing it asks
 *          about;
 *   ent    caps and poss;
 *   heads  the thing asked about: the last word of the phrase after
 *          "what"/"which" ("which plumbing firm", "what is the current
 *          balance"), and of the phrase after its "of" ("the name of
 *          Sofia's dog"). */
struct qparts {
	struct ret_terms caps, ent, poss, heads;
};

static void qparts_clear(struct qparts *q)
{
	ret_terms_clear(&q->caps);
	ret_terms_clear(&q->ent);
	ret_terms_clear(&q->poss);
	ret_terms_clear(&q->heads);
}

/* Appends the terms of the n bytes at w to t. */
static int terms_add(struct ret_terms *t, const char *w, size_t n)
{
	struct ret_terms x;
	int rc = ret_terms_of(w, n, 8, &x);
	if (rc)
		return rc;
	char **v = x.n ? realloc(t->t, (t->n + x.n) * sizeof *v) : t->t;
	if (x.n && !v) {
		ret_terms_clear(&x);
		return MX_ENOMEM;
	}
	t->t = v;
	for (size_t i = 0; i < x.n; i++)
		t->t[t->n++] = x.t[i];
	free(x.t);
	return 0;
}

static bool word_is(const char *w, const char *const *list, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (!strcmp(w, list[i]))
			return true;
	return false;
}

static int question_parts(const char *q, struct qparts *out)
{
	static const char *const be[] = { "is", "was", "are", "were" };
	static const char *const det[] = { "the", "my",	 "a",	"an",	"your",
					   "our", "his", "her", "their" };
	static const char *const stop[] = { "of",    "at",   "for",   "with",	"in",	 "on",
					    "to",    "from", "by",    "if",	"about", "under",
					    "until", "when", "where", "that",	"which", "who",
					    "do",    "does", "did",   "is",	"are",	 "was",
					    "were",  "will", "would", "should", "can",	 "could",
					    "have",  "has",  "had",   "i",	"me",	 "you",
					    "and",   "or",   "after", "before", "once",	 "than" };
	struct {
		size_t at, len;
		char low[64];
		bool poss, cap;
	} w[QWORDS_MAX];
	size_t nw = 0, n = strlen(q);
	int rc = 0;
	memset(out, 0, sizeof *out);
	for (size_t i = 0; i < n && nw < QWORDS_MAX;) {
		unsigned char c = (unsigned char)q[i];
		if (!(isalnum(c) || c >= 0x80)) {
			i++;
			continue;
		}
		size_t j = i;
		while (j < n && (isalnum((unsigned char)q[j]) || (unsigned char)q[j] >= 0x80 ||
				 q[j] == '-' || q[j] == '\''))
			j++;
		size_t e = j;
		bool poss = false;
		if (e - i > 2 && !strncmp(q + e - 2, "'s", 2)) {
			e -= 2, poss = true;
		} else if (e - i > 4 && !strncmp(q + e - 4, "\xe2\x80\x99s", 4)) {
			e -= 4, poss = true;
		}
		while (e > i && (q[e - 1] == '\'' || q[e - 1] == '-'))
			e--;
		if (e > i && e - i < sizeof w[0].low) {
			size_t k = nw++;
			w[k].at = i;
			w[k].len = e - i;
			for (size_t b = 0; b < e - i; b++)
				w[k].low[b] = (char)tolower((unsigned char)q[i + b]);
			w[k].low[e - i] = '\0';
			w[k].poss = poss;
			bool digit = false;
			for (size_t b = i; b < e; b++)
				digit |= isdigit((unsigned char)q[b]) != 0;
			w[k].cap = k > 0 && !digit && strcmp(w[k].low, "i") &&
				   g_unichar_isupper(
					   g_utf8_get_char_validated(q + i, (gssize)(e - i))) &&
				   !is_when_name(q + i, e - i);
		}
		i = j;
	}
	for (size_t k = 0; k < nw && !rc; k++) {
		if (w[k].cap)
			rc = terms_add(&out->caps, q + w[k].at, w[k].len);
		bool poss = w[k].poss && k > 0 && strcmp(w[k].low, "what");
		if (!rc && poss)
			rc = terms_add(&out->poss, q + w[k].at, w[k].len);
		if (!rc && (w[k].cap || poss))
			rc = terms_add(&out->ent, q + w[k].at, w[k].len);
	}
	/* the asked-about thing */
	size_t k = 0;
	while (k < nw && strcmp(w[k].low, "what") && strcmp(w[k].low, "which"))
		k++;
	if (k < nw && !rc) {
		bool be_next = w[k].poss; /* "what's" */
		k++;
		if (!be_next && k < nw && word_is(w[k].low, be, sizeof be / sizeof be[0])) {
			be_next = true;
			k++;
		}
		/* "what did", "what will": a verb is asked about, no thing */
		bool phrase = be_next ||
			      (k < nw && !word_is(w[k].low, stop, sizeof stop / sizeof stop[0]));
		for (int part = 0; part < 2 && phrase && !rc; part++) {
			while (k < nw && word_is(w[k].low, det, sizeof det / sizeof det[0]))
				k++;
			size_t last = nw;
			/* the phrase's last word ("Sofia's dog": the dog) */
			while (k < nw && !word_is(w[k].low, stop, sizeof stop / sizeof stop[0]))
				last = k++;
			if (last < nw)
				rc = terms_add(&out->heads, q + w[last].at, w[last].len);
			phrase = k < nw && !strcmp(w[k].low, "of");
			k++;
		}
	}
	if (rc)
		qparts_clear(out);
	return rc;
}

/* Calls fn(u, chunk, its sentences sp (ns of them), i) for each sentence i
 * of each chunk of a's context in turn, until fn returns nonzero: 1 stops,
 * a negative status is an error and is returned. 0 or that status. */
typedef int (*ctx_sent_fn)(void *u, const struct store_hit *h, const struct ret_span *sp, size_t ns,
			   size_t i);

static int ctx_sentences(const struct ret_answer *a, ctx_sent_fn fn, void *u)
{
	int rc = 0;
	for (size_t c = 0; c < a->nctx && !rc; c++) {
		const char *t = a->ctx[c].hit.text ? a->ctx[c].hit.text : "";
		struct ret_span *sp = NULL;
		size_t ns = 0;
		if ((rc = ret_sentences_split(t, strlen(t), &sp, &ns)))
			break;
		for (size_t i = 0; i < ns && !rc; i++)
			rc = fn(u, &a->ctx[c].hit, sp, ns, i);
		free(sp);
	}
	return rc < 0 ? rc : 0;
}

/* Whether the sentence i of h (spans sp) is of kind k (question terms q). */
static bool sent_of_kind(const struct store_hit *h, const struct ret_span *sp, size_t i,
			 enum qkind k, const struct ret_terms *q)
{
	const char *t = h->text ? h->text : "";
	return has_kind(t + sp[i].start, sp[i].end - sp[i].start, k, q);
}

struct ent_job {
	enum qkind k;
	const struct ret_terms *qt;
	const struct qparts *qp;
	bool found;
};

static int ent_sentence(void *u, const struct store_hit *h, const struct ret_span *sp, size_t ns,
			size_t i)
{
	struct ent_job *j = u;
	struct ret_terms wt, near;
	int rc;
	if (!sent_of_kind(h, sp, i, j->k, j->qt))
		return 0;
	if ((rc = window_terms(h, sp, ns, i, 1, &wt)))
		return rc;
	/* the possessor in the sentence itself, or the title */
	if ((rc = window_terms(h, sp, ns, i, 0, &near))) {
		ret_terms_clear(&wt);
		return rc;
	}
	bool all = true;
	for (size_t e = 0; e < j->qp->ent.n && all; e++)
		all = terms_have(terms_have(&j->qp->poss, j->qp->ent.t[e]) ? &near : &wt,
				 j->qp->ent.t[e]);
	ret_terms_clear(&wt);
	ret_terms_clear(&near);
	j->found = all;
	return all;
}

/* Whether a sentence of kind k has, with the sentences either side of it
 * and its document's title and author, all of the question's entities. */
static int entity_slot(const struct ret_answer *a, enum qkind k, const struct ret_terms *qt,
		       const struct qparts *qp, bool *found)
{
	struct ent_job j = { k, qt, qp, false };
	int rc = ctx_sentences(a, ent_sentence, &j);
	*found = j.found;
	return rc;
}

/* For a question that asks for a date, an amount, a name or an address
 * (see question_kind), whether the context has a sentence of that kind
 * about the thing asked: when the question names things (qp->ent: "the
 * Lisbon flights", "mamma's address"), a sentence of that kind that, with
 * the sentences either side and its document's title and author, has them
 * all (a possessor in the sentence itself or the title); otherwise a
 * sentence of that kind with one of the question's words in it, its
 * neighbours, title or author, in a chunk that has the rarest of the
 * question's words found in the context (weights qw) or covers the
 * question at least SLOT_SHARE as well as the best chunk. Sets *asks. */
static int typed_slot(const struct ret_answer *a, enum qkind kind, const struct ret_terms *qt,
		      const double *qw, const struct qparts *qp, bool *asks, bool *found)
{
	int rc = 0;
	*asks = *found = false;
	if (kind == Q_OTHER || kind == Q_ID || !qt->n)
		return 0;
	/* the rarest of the question's words that the context has at all (a
	 * word it lacks everywhere is the coverage's business) */
	size_t rare = qt->n;
	for (size_t k = 0; k < a->nctx && !rc; k++) {
		struct ret_terms ct;
		if ((rc = chunk_terms(&a->ctx[k].hit, &ct)))
			return rc;
		for (size_t i = 0; i < qt->n; i++)
			if ((rare == qt->n || qw[i] > qw[rare]) && terms_have(&ct, qt->t[i]))
				rare = i;
		ret_terms_clear(&ct);
	}
	if (rare == qt->n)
		return 0;
	*asks = true;
	if (qp->ent.n)
		return entity_slot(a, kind, qt, qp, found);
	for (size_t k = 0; k < a->nctx && !*found && !rc; k++) {
		const struct store_hit *h = &a->ctx[k].hit;
		const char *t = h->text ? h->text : "";
		struct ret_terms ct;
		if ((rc = chunk_terms(h, &ct)))
			break;
		bool near_best = terms_have(&ct, qt->t[rare]) ||
				 ret_term_overlap(qt, qw, &ct) >= SLOT_SHARE * a->coverage;
		ret_terms_clear(&ct);
		if (!near_best)
			continue;
		struct ret_span *sp = NULL;
		size_t ns = 0;
		if ((rc = ret_sentences_split(t, strlen(t), &sp, &ns)))
			break;
		for (size_t i = 0; i < ns && !*found && !rc; i++) {
			struct ret_terms wt;
			if (!has_kind(t + sp[i].start, sp[i].end - sp[i].start, kind, qt))
				continue;
			if ((rc = window_terms(h, sp, ns, i, 1, &wt)))
				break;
			for (size_t w = 0; w < qt->n && !*found; w++)
				*found = terms_have(&wt, qt->t[w]);
			ret_terms_clear(&wt);
		}
		free(sp);
	}
	return rc;
}

/* The best share of the question's words (terms qt, weights w) in the
 * window (a sentence either side, title and author) of a sentence of the
 * kind it asks for, over the context; -1 when it asks for no kind, 0 when
 * no sentence of that kind is there. An answer of that kind about the
 * thing asked stands in a sentence whose window names that thing. */
struct slot_job {
	enum qkind kind;
	const struct ret_terms *qt;
	const double *w;
	double best;
};

static int slot_sentence(void *u, const struct store_hit *h, const struct ret_span *sp, size_t ns,
			 size_t i)
{
	struct slot_job *j = u;
	struct ret_terms wt;
	int rc;
	if (!sent_of_kind(h, sp, i, j->kind, j->qt))
		return 0;
	if ((rc = window_terms(h, sp, ns, i, 1, &wt)))
		return rc;
	double ov = ret_term_overlap(j->qt, j->w, &wt);
	ret_terms_clear(&wt);
	if (ov > j->best)
		j->best = ov;
	return 0;
}

static int slot_cover(struct ret_answer *a, enum qkind kind, const struct ret_terms *qt,
		      const double *w)
{
	a->slot = kind == Q_OTHER ? -1 : 0;
	if (kind == Q_OTHER)
		return 0;
	/* the words that say it asks for money are not the thing asked */
	double *wk = malloc((qt->n ? qt->n : 1) * sizeof *wk), sum = 0;
	if (!wk)
		return MX_ENOMEM;
	for (size_t i = 0; i < qt->n; i++) {
		wk[i] = kind == Q_MONEY && is_money_term(qt->t[i]) ? 0 : w[i];
		sum += wk[i];
	}
	if (sum <= 0)
		memcpy(wk, w, qt->n * sizeof *wk);
	struct slot_job j = { kind, qt, wk, 0 };
	int rc = ctx_sentences(a, slot_sentence, &j);
	a->slot = j.best;
	free(wk);
	return rc;
}

/* Sets a->entity_missing when a capitalised word of the question (qp->caps)
 * is in no chunk of the context (its titles and authors included), and
 * a->head_missing when the thing it asks about (qp->heads; identifier
 * words and words for the kind of answer aside) is in none, or in none
 * that also has the question's capitalised words ("Which hotel have I
 * booked in Porto?" where Porto and hotels are in different chunks): the context is about something else ("When is
 * my flight to Porto?" over flights to Lisbon; "the current balance of my
 * savings account" where no balance is). */
static bool answer_kind_word(const char *w)
{
	/* words that name the kind of answer ("which day", "what date",
	 * "the last four digits", "the street address", "what did it cost")
	 * are not things to find: a form says "Where: Mastgatan 4" */
	static const char *const kinds[] = { "day",	"date",	  "year",   "month", "week",
					     "hour",	"name",	  "amount", "price", "digit",
					     "address", "street", "cost",   "fee",   "charge" };
	return is_id_word(w) || word_is(w, kinds, sizeof kinds / sizeof kinds[0]);
}

static int named_absent(struct ret_answer *a, const struct qparts *qp, bool category)
{
	bool *cap = calloc(qp->caps.n + 1, sizeof *cap),
	     *head = calloc(qp->heads.n + 1, sizeof *head);
	bool together = false, heads = false;
	int rc = cap && head ? 0 : MX_ENOMEM;
	/* the class of things a "which X" question asks for (category) is
	 * no thing to find: the answer names one of them */
#define KIND_HEAD(i) (answer_kind_word(qp->heads.t[i]) || (category && (i) == 0))
	for (size_t i = 0; i < qp->heads.n; i++)
		heads |= !KIND_HEAD(i);
	for (size_t k = 0; k < a->nctx && !rc; k++) {
		struct ret_terms ct;
		bool all = true;
		if ((rc = chunk_terms(&a->ctx[k].hit, &ct)))
			break;
		for (size_t i = 0; i < qp->caps.n; i++) {
			bool in = terms_have(&ct, qp->caps.t[i]);
			cap[i] |= in;
			all &= in;
		}
		for (size_t i = 0; i < qp->heads.n; i++) {
			bool in = terms_have(&ct, qp->heads.t[i]);
			head[i] |= in;
			all &= in || KIND_HEAD(i);
		}
		together |= all;
		ret_terms_clear(&ct);
	}
	for (size_t i = 0; i < qp->caps.n && !rc; i++)
		a->entity_missing |= !cap[i];
	for (size_t i = 0; i < qp->heads.n && !rc; i++)
		a->head_missing |= !head[i] && !KIND_HEAD(i);
	/* a hotel asked for "in Porto": the thing and the names in one chunk */
	if (!rc && qp->caps.n && heads && !together)
		a->head_missing = true;
#undef KIND_HEAD
	free(cap);
	free(head);
	return rc;
}

/* Outline: retrieve the best documents (one chunk each) and weigh the
 * question's words over them; take the best `docs` documents' chunks in
 * order within the budget; for the first three, add the chunk before or
 * after when the passage runs over the chunk's edge, when the chunk is a
 * heading or little more, or when the neighbour covers the question
 * better; then measure coverage and cosine, decide, and extract. */
int ret_answer_run(struct store *st, const char *question, const struct ret_answer_params *p,
		   struct ret_answer *a)
{
	struct ret_params rp = p->ret;
	struct ret_result r = { 0 };
	struct ret_terms qt = { 0 };
	struct qparts qp = { 0 };
	double *qw = NULL, *qwc = NULL;
	float *qv = NULL, *cv = NULL;
	struct store_vecset vs = { 0 };
	struct ret_sentvecs sc = { 0 };
	size_t cap = 0;
	int rc;
	memset(a, 0, sizeof *a);
	a->cosine = -2;
	a->sent_cosine = -2;
	a->novelty = -1;
	/* a question without a letter or digit ("?", blanks) asks nothing,
	 * whatever the retrieval mode */
	bool word = false;
	for (const char *c = question; *c && !word; c++)
		word = isalnum((unsigned char)*c) || (unsigned char)*c >= 0x80;
	if (!word)
		return MX_EEMPTY;
	rp.question = true;
	rp.per_doc = true;
	rp.limit = p->docs * 2 > 10 ? p->docs * 2 : 10;
	rp.snippet_tokens = rp.snippet_tokens > 0 ? rp.snippet_tokens : 24;
	if (!rp.embedder)
		rp.mode = RET_BM25;
	a->mode = rp.mode;
	bool stage = rp.embedder && rp.mode == RET_HYBRID && p->pool > 0;
	if (stage) {
		/* the question's vector and the index's vectors, once for the
		 * searches of the sentence stage */
		int d = eng_embedder_dims(rp.embedder);
		if (!(qv = malloc((size_t)d * sizeof *qv))) {
			rc = MX_ENOMEM;
			goto out;
		}
		if ((rc = eng_embed(rp.embedder, &question, 1, ENG_QUERY, qv))) {
			snprintf(a->err, sizeof a->err, "%s", eng_errmsg(rp.embedder));
			goto out;
		}
		if (!rp.vecs) {
			if ((rc = store_vecset_load(st, rp.model_id, &vs)))
				goto out;
			rp.vecs = &vs;
		}
		rp.query_vec = qv;
		rp.dims = d;
	}
	rc = ret_search(st, question, &rp, &r);
	if (rc) {
		snprintf(a->err, sizeof a->err, "%s", r.err);
		goto out;
	}
	if (stage && (rc = ret_sentence_stage(st, question, &rp, p->pool, p->chunks, p->w_sent, qv,
					      &sc, rp.limit, &r))) {
		if (!a->err[0])
			snprintf(a->err, sizeof a->err, "%s", eng_errmsg(rp.embedder));
		goto out;
	}
	if ((rc = ret_terms_of(question, strlen(question), 64, &qt)))
		goto out;
	qw = calloc(qt.n ? qt.n : 1, sizeof *qw);
	if (!qw) {
		rc = MX_ENOMEM;
		goto out;
	}
	if ((rc = question_weights(&qt, &r, qw)))
		goto out;
	/* the best chunk of each of the best documents */
	size_t ndocs = r.n < p->docs ? r.n : p->docs;
	for (size_t i = 0; i < ndocs; i++) {
		size_t t = tokens_of(r.hits[i].text ? r.hits[i].text : "");
		if (i > 0 && a->ctx_tokens + t > p->ctx_tokens)
			break;
		if ((rc = ctx_push(a, &cap, &r.hits[i], (int)i + 1, 1.0 / (double)(i + 1),
				   a->nctx)))
			goto out;
		a->ncites = (int)i + 1;
	}
	/* more of the first three documents: the chunks next to the best one
	 * when the passage runs over its edge, and the document's other chunk
	 * that covers the question best, when it covers it at least
	 * SIBLING_SHARE as well as the retrieved one */
	size_t nfirst = a->nctx;
	for (size_t at = 0; at < nfirst && a->ctx[at].cite <= 3; at++) {
		struct ret_terms ct;
		if ((rc = chunk_terms(&a->ctx[at].hit, &ct)))
			goto out;
		/* a sibling nearly as good may hold the answer the retrieved
		 * chunk only points to (a recipe's method, a log's next entry) */
		double own = ret_term_overlap(&qt, qw, &ct), best_ov = own * SIBLING_SHARE;
		ret_terms_clear(&ct);
		struct store_hit best = { 0 };
		const char *t = a->ctx[at].hit.text;
		for (int off = -SIBLINGS; off <= SIBLINGS; off++) {
			struct store_hit nb;
			if (!off || neighbour(st, &a->ctx[at].hit, off, &nb))
				continue;
			bool completes = (off == 1 && (!ends_passage(t) || strlen(t) < 160)) ||
					 (off == -1 && starts_midway(t));
			if ((rc = chunk_terms(&nb, &ct))) {
				store_hit_clear(&nb);
				goto out;
			}
			double ov = ret_term_overlap(&qt, qw, &ct);
			ret_terms_clear(&ct);
			if (completes && a->ctx_tokens + tokens_of(nb.text) <= p->ctx_tokens) {
				rc = ctx_push(a, &cap, &nb, a->ctx[at].cite,
					      a->ctx[at].rank_score * 0.9, a->nctx);
				if (rc) {
					store_hit_clear(&nb);
					goto out;
				}
			} else if (ov >= best_ov && ov > 0 && off != 0) {
				store_hit_clear(&best);
				best = nb;
				best_ov = ov;
				continue;
			}
			store_hit_clear(&nb);
		}
		bool have = false;
		for (size_t k = 0; k < a->nctx && best.text; k++)
			have |= a->ctx[k].hit.chunk_id == best.chunk_id;
		if (best.text && !have && a->ctx_tokens + tokens_of(best.text) <= p->ctx_tokens)
			rc = ctx_push(a, &cap, &best, a->ctx[at].cite, a->ctx[at].rank_score * 0.9,
				      a->nctx);
		store_hit_clear(&best);
		if (rc)
			goto out;
	}
	/* a document's chunks in their order */
	if (a->nctx > 1)
		qsort(a->ctx, a->nctx, sizeof *a->ctx, ctx_cmp);
	/* coverage and cosine: how close the context comes to the question */
	if (rp.embedder && a->nctx) {
		int d = eng_embedder_dims(rp.embedder);
		cv = malloc((size_t)d * sizeof *cv);
		if (!cv || (!qv && !(qv = malloc((size_t)d * sizeof *qv)))) {
			rc = MX_ENOMEM;
			goto out;
		}
		if (!stage && (rc = eng_embed(rp.embedder, &question, 1, ENG_QUERY, qv))) {
			snprintf(a->err, sizeof a->err, "%s", eng_errmsg(rp.embedder));
			goto out;
		}
		for (size_t k = 0; k < a->nctx; k++)
			if (store_vector_get(st, a->ctx[k].hit.chunk_id, rp.model_id, cv, d) == 0) {
				double cs = dot(qv, cv, d);
				if (cs > a->cosine)
					a->cosine = cs;
			}
	}
	/* coverage counts the things asked about, not the words that name the
	 * kind of answer ("the street address", "what did it cost"): a form
	 * says "Where: Mastgatan 4", not "the address is" */
	qwc = calloc(qt.n ? qt.n : 1, sizeof *qwc);
	if (!qwc) {
		rc = MX_ENOMEM;
		goto out;
	}
	double things = 0;
	for (size_t i = 0; i < qt.n; i++) {
		qwc[i] = answer_kind_word(qt.t[i]) ? 0 : qw[i];
		things += qwc[i];
	}
	for (size_t k = 0; k < a->nctx; k++) {
		struct ret_terms ct;
		if ((rc = chunk_terms(&a->ctx[k].hit, &ct)))
			goto out;
		double ov = ret_term_overlap(&qt, things > 0 ? qwc : qw, &ct);
		ret_terms_clear(&ct);
		if (ov > a->coverage)
			a->coverage = ov;
	}
	if ((rc = id_slot(a, question, &a->asks_id, &a->id_found)))
		goto out;
	if ((rc = question_parts(question, &qp)))
		goto out;
	enum qkind kind = question_kind(question);
	if (a->nctx && (rc = extract(a, kind, &qt, qw, qv, &qp.caps, p, &sc)))
		goto out;
	if ((rc = named_absent(a, &qp, kind == Q_NAMED)))
		goto out;
	if ((rc = typed_slot(a, kind, &qt, qw, &qp, &a->asks_typed, &a->typed_found)))
		goto out;
	a->kind = kind_name(kind);
	if ((rc = slot_cover(a, kind, &qt, things > 0 ? qwc : qw)))
		goto out;
	a->confidence = a->coverage;
	a->abstained = !p->no_abstain && ret_answer_abstains(p, a);
	if (a->abstained) {
		/* no answer; its sentences only point into the nearest matches */
		a->near = a->sent;
		a->nnear = a->nsent;
		a->sent = NULL;
		a->nsent = 0;
	}
out:
	ret_result_clear(&r);
	ret_sentvecs_clear(&sc);
	store_vecset_free(&vs);
	ret_terms_clear(&qt);
	qparts_clear(&qp);
	free(qw);
	free(qwc);
	free(qv);
	free(cv);
	return rc;
}

/* ===================================================================== */
/* prompts and checks                                                     */
/* ===================================================================== */

bool ret_answer_declines(const char *answer)
{
	static const char *const says[] = {
		"does not contain", "doesn't contain", "do not contain",     "don't contain",
		"does not say",	    "doesn't say",     "does not mention",   "doesn't mention",
		"not mentioned",    "no information",  "not in the context", "not in the data",
		"cannot find",	    "can't find",      "could not find",     "couldn't find",
		"i don't know",	    "i do not know",   "not stated",	     "does not state",
		"no mention"
	};
	char low[512];
	size_t n = 0;
	/* the opening of the answer: a refusal comes first */
	for (; answer && answer[n] && n + 1 < sizeof low; n++) {
		low[n] = (char)tolower((unsigned char)answer[n]);
	}
	low[n] = '\0';
	/* the typographic apostrophe as a plain one */
	for (char *q = strstr(low, "\xe2\x80\x99"); q; q = strstr(q + 1, "\xe2\x80\x99")) {
		*q = '\'';
		memmove(q + 1, q + 3, strlen(q + 3) + 1);
	}
	for (size_t i = 0; i < sizeof says / sizeof says[0]; i++)
		if (strstr(low, says[i]))
			return true;
	return false;
}

const char *ret_answer_instructions(void)
{
	return "You answer questions about the user's own mail, notes and documents. "
	       "Use only the numbered context below, never other knowledge. "
	       "After each sentence, cite the context it comes from as [n]. "
	       "If the context does not contain the answer, say that the data does not "
	       "contain it. Be brief.";
}

char *ret_answer_prompt(const struct ret_answer *a, const char *question)
{
	struct mx_buf b;
	mx_buf_init(&b, PROMPT_MAX);
	int rc = mx_buf_appends(&b, "Context:\n");
	for (int cite = 1; cite <= a->ncites && !rc; cite++) {
		bool first = true;
		for (size_t k = 0; k < a->nctx && !rc; k++) {
			if (a->ctx[k].cite != cite)
				continue;
			const struct store_hit *h = &a->ctx[k].hit;
			if (first) {
				char label[1024];
				ret_cite_label(h, 0, 0, label, sizeof label);
				rc = mx_buf_appendf(&b, "\n[%d] %s\n", cite, label);
				first = false;
			}
			if (!rc)
				rc = mx_buf_appendf(&b, "%s\n", h->text ? h->text : "");
		}
	}
	if (!rc)
		rc = mx_buf_appendf(&b, "\nQuestion: %s\n", question);
	if (rc) {
		mx_buf_free(&b);
		return NULL;
	}
	return mx_buf_detach(&b);
}

/* Reads the citations "[n]", "[n, m]" and "[n][m]" out of s, writing the
 * text without them into clean (room for strlen(s) + 1); the numbers
 * into cites (room for max), returns how many. */
static size_t strip_cites(const char *s, char *clean, int *cites, size_t max)
{
	size_t nc = 0, o = 0;
	for (size_t i = 0; s[i];) {
		if (s[i] == '[') {
			size_t j = i + 1;
			int tmp[8];
			size_t nt = 0;
			bool ok = true;
			while (ok && s[j] && s[j] != ']') {
				while (s[j] == ' ' || s[j] == ',')
					j++;
				if (!isdigit((unsigned char)s[j])) {
					ok = false;
					break;
				}
				long v = 0;
				while (isdigit((unsigned char)s[j]) && v < 100000)
					v = v * 10 + (s[j++] - '0');
				if (nt < 8)
					tmp[nt++] = (int)v;
				while (s[j] == ' ' || s[j] == ',')
					j++;
			}
			if (ok && s[j] == ']' && nt) {
				for (size_t k = 0; k < nt && nc < max; k++)
					cites[nc++] = tmp[k];
				i = j + 1;
				continue;
			}
		}
		clean[o++] = s[i++];
	}
	while (o && isspace((unsigned char)clean[o - 1]))
		o--;
	clean[o] = '\0';
	return nc;
}

/* The length of the citations and blanks that open s ("[1] [2] "). */
static size_t leading_cites(const char *s)
{
	size_t i = 0, end = 0;
	for (;;) {
		while (s[i] == ' ' || s[i] == '\t' || s[i] == '\n')
			i++;
		if (s[i] != '[')
			return end;
		size_t j = i + 1;
		while (isdigit((unsigned char)s[j]) || s[j] == ',' || s[j] == ' ')
			j++;
		if (s[j] != ']' || j == i + 1)
			return end;
		i = end = j + 1;
	}
}

/* The best cosine between a claim's vector cv (d floats) and the
 * sentences of text t, embedded in one batch; -2 when t has none. */
static int best_sentence_cos(struct ret_answer *a, const char *t, const float *cv, int d,
			     struct eng_embedder *e, double *best)
{
	struct ret_span *sp = NULL;
	size_t ns = 0;
	char **one = NULL;
	float *sv = NULL;
	*best = -2;
	int rc = ret_sentences_split(t, strlen(t), &sp, &ns);
	if (rc || !ns)
		goto out;
	if (ns > CAND_MAX)
		ns = CAND_MAX;
	one = calloc(ns, sizeof *one);
	sv = malloc(ns * (size_t)d * sizeof *sv);
	if (!one || !sv) {
		rc = MX_ENOMEM;
		goto out;
	}
	for (size_t i = 0; i < ns; i++)
		if (!(one[i] = strndup(t + sp[i].start, sp[i].end - sp[i].start))) {
			rc = MX_ENOMEM;
			goto out;
		}
	if ((rc = eng_embed(e, (const char *const *)one, ns, ENG_PASSAGE, sv))) {
		snprintf(a->err, sizeof a->err, "%s", eng_errmsg(e));
		goto out;
	}
	for (size_t i = 0; i < ns; i++)
		if (dot(cv, sv + i * (size_t)d, d) > *best)
			*best = dot(cv, sv + i * (size_t)d, d);
out:
	for (size_t i = 0; one && i < ns; i++)
		free(one[i]);
	free(one);
	free(sv);
	free(sp);
	return rc;
}

/* The support of a claim by the chunks of document cite: the best over
 * its chunks (see ret_support_score); *chunk the best chunk. */
static int support_of(struct ret_answer *a, const char *claim, const float *cv, int d,
		      struct eng_embedder *e, int cite, double *sup, size_t *chunk)
{
	struct ret_terms ct, st_ = { 0 };
	int rc = ret_terms_of(claim, strlen(claim), TERMS_MAX, &ct);
	*sup = 0;
	if (rc)
		return rc;
	for (size_t k = 0; k < a->nctx && !rc; k++) {
		if (a->ctx[k].cite != cite)
			continue;
		const char *t = a->ctx[k].hit.text ? a->ctx[k].hit.text : "";
		if ((rc = chunk_terms(&a->ctx[k].hit, &st_)))
			break;
		double ov = ret_term_overlap(&ct, NULL, &st_);
		ret_terms_clear(&st_);
		double best_cos = -2;
		if (d && (rc = best_sentence_cos(a, t, cv, d, e, &best_cos)))
			break;
		double s = ret_support_score(best_cos, ov);
		if (s > *sup) {
			*sup = s;
			*chunk = k;
		}
	}
	ret_terms_clear(&ct);
	return rc;
}

int ret_answer_check(struct ret_answer *a, const char *answer, struct eng_embedder *e,
		     double min_support)
{
	struct ret_span *sp = NULL;
	size_t ns = 0;
	int d = e ? eng_embedder_dims(e) : 0;
	float *cv = NULL;
	char *clean = NULL;
	sent_clear(a->sent, a->nsent);
	a->sent = NULL;
	a->nsent = 0;
	size_t len = strlen(answer);
	int rc = ret_sentences_split(answer, len, &sp, &ns);
	if (rc)
		return rc;
	a->sent = calloc(ns ? ns : 1, sizeof *a->sent);
	clean = malloc(len + 1);
	cv = d ? malloc((size_t)d * sizeof *cv) : NULL;
	if (!a->sent || !clean || (d && !cv)) {
		rc = MX_ENOMEM;
		goto out;
	}
	for (size_t i = 0; i < ns; i++) {
		char *raw = strndup(answer + sp[i].start, sp[i].end - sp[i].start);
		int cites[16];
		if (!raw) {
			rc = MX_ENOMEM;
			goto out;
		}
		/* citations that open a sentence ("... 650 SEK. [1] It is") close
		 * the one before */
		size_t lead = leading_cites(raw);
		if (lead && a->nsent) {
			struct ret_answer_sent *prev = &a->sent[a->nsent - 1];
			char save = raw[lead];
			raw[lead] = '\0';
			size_t nl = strip_cites(raw, clean, cites, 16);
			raw[lead] = save;
			if (!prev->cite && nl)
				prev->cite = cites[0];
			prev->ncites += (int)nl;
			memmove(raw, raw + lead, strlen(raw + lead) + 1);
			if (!has_alnum(raw, strlen(raw))) {
				free(raw);
				continue;
			}
		}
		size_t nc = strip_cites(raw, clean, cites, 16);
		struct ret_answer_sent *s = &a->sent[a->nsent++];
		s->text = raw;
		s->ncites = (int)nc;
		s->cite = nc ? cites[0] : 0;
		s->support = -1;
		s->chunk = SIZE_MAX; /* none until a citation is checked */
		s->byte_start = (int64_t)sp[i].start;
		s->byte_end = (int64_t)sp[i].end;
	}
	/* then the checks, once the citations sit on their sentences */
	for (size_t i = 0; i < a->nsent; i++) {
		struct ret_answer_sent *s = &a->sent[i];
		if (!s->cite) {
			s->supported = false;
			continue;
		}
		strip_cites(s->text, clean, (int[1]){ 0 }, 0);
		if (s->cite < 1 || s->cite > a->ncites) {
			s->support = 0;
			s->supported = false;
			continue;
		}
		if (d) {
			const char *tx = clean;
			if ((rc = eng_embed(e, &tx, 1, ENG_PASSAGE, cv))) {
				snprintf(a->err, sizeof a->err, "%s", eng_errmsg(e));
				goto out;
			}
		}
		size_t chunk = 0;
		if ((rc = support_of(a, clean, cv, d, e, s->cite, &s->support, &chunk)))
			goto out;
		s->chunk = chunk;
		s->supported = s->support >= min_support;
	}
out:
	free(sp);
	free(clean);
	free(cv);
	return rc;
}

/* ===================================================================== */
/* the generative answer                                                  */
/* ===================================================================== */

void ret_answer_fit(struct ret_answer *a, size_t max_tokens)
{
	while (a->nctx > 1 && a->ctx_tokens > max_tokens) {
		struct ret_ctx_chunk *last = &a->ctx[a->nctx - 1];
		size_t t = tokens_of(last->hit.text ? last->hit.text : "");
		a->ctx_tokens -= t < a->ctx_tokens ? t : a->ctx_tokens;
		store_hit_clear(&last->hit);
		a->nctx--;
	}
	if (a->nctx == 1 && a->ctx_tokens > max_tokens && a->ctx[0].hit.text) {
		char *t = a->ctx[0].hit.text;
		size_t keep =
			mx_utf8_floor(t, max_tokens * 4 < strlen(t) ? max_tokens * 4 : strlen(t));
		t[keep] = '\0';
		a->ctx_tokens = tokens_of(t);
	}
	a->ncites = a->nctx ? a->ctx[a->nctx - 1].cite : 0;
}

int ret_answer_generate(struct ret_answer *a, const char *question, struct chat *ch,
			ret_stream_fn fn, void *ctx, struct eng_embedder *e, double min_support,
			char **reply, char **prompt)
{
	struct chat_session *s = NULL;
	char *user = NULL;
	int rc = 0;
	*reply = NULL;
	if (prompt)
		*prompt = NULL;
	for (int tries = 0; tries < 12; tries++) {
		const char *sys = ret_answer_instructions();
		free(user);
		user = ret_answer_prompt(a, question);
		chat_session_free(s);
		s = NULL;
		if (!user || chat_session_new(&s) ||
		    chat_session_add(s, CHAT_ROLE_SYSTEM, sys, strlen(sys)) ||
		    chat_session_add(s, CHAT_ROLE_USER, user, strlen(user))) {
			rc = MX_ENOMEM;
			goto out;
		}
		rc = chat_reply(ch, s, fn, ctx, reply, NULL, NULL);
		if (rc != MX_ETOOBIG || !a->nctx)
			break;
		/* the prompt does not fit the window: a smaller context */
		size_t was = a->ctx_tokens;
		ret_answer_fit(a, a->ctx_tokens / 2);
		if (a->ctx_tokens >= was)
			break;
	}
	if (rc) {
		snprintf(a->err, sizeof a->err, "%s", chat_errmsg(ch));
		goto out;
	}
	rc = ret_answer_check(a, *reply ? *reply : "", e, min_support);
out:
	if (rc) {
		free(*reply);
		*reply = NULL;
	}
	if (prompt && !rc) {
		*prompt = user;
		user = NULL;
	}
	free(user);
	chat_session_free(s);
	return rc;
}
