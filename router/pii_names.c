/*
 * pii_names.c - person names: compiled-in lists and context cues.
 *
 * The lists were written for memex from general knowledge of common given
 * names and surnames across Europe, the Americas, Africa and Asia (about
 * 1,350 given names and 2,350 surnames), plus ~1,250 common English words
 * (and place names) that are capitalised at times but are not names. Words
 * of fewer than 3 bytes are left out (too many collide with short words).
 *
 * Outline: the text is split into words (letters of any script, inner
 * apostrophes and hyphens); a word is a seed when
 *   - it is capitalised and on a name list but not a common word;
 *   - a cue stands before it (Mr., Dear, my name is, my colleague, ...) or
 *     after it (said, shouted, ...) and it is capitalised and not a common
 *     word (a common word that is also a name, like "Mark", needs a cue);
 *   - it opens the text as a vocative ("Marisca, can I ...");
 *   - it is a capitalised unknown word in mid-sentence that looks like a
 *     name of another language (letters beyond ASCII, a surname ending),
 *     or is spelt like a name: the mean log-odds of its character
 *     trigrams under the name lists against the common words (a tiny
 *     naive Bayes model trained on the lists when the sanitizer opens);
 *   - the text has no capitals at all and the word is on a name list, or
 *     is spelt very much like a name and has no English ending;
 *   - it stands in a list ("A, B and C") with a name.
 * Each seed grows over the capitalised words beside it (particles such as
 * van/de/von, initials and Jr./MD suffixes included) into one PERSON span.
 */
#include <math.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "../common/status.h"
#include "../common/utf8.h"
#include "sanitize_int.h"

#include "pii_names_data.h"

struct wref {
	const char *p;
	unsigned len;
};

struct wlist {
	struct wref *v;
	size_t n;
};

/* Character trigram counts of the name lists and of the common words: how
 * much a word looks like a name (hashed into TRI_N buckets). */
#define TRI_N 16384
/* Thresholds of name_likeness() for guessing an unknown word a name: a
 * capitalised word in mid-sentence, a word of a text without capitals.
 * Chosen on generated_small.json and the first 700 samples of
 * presidio-research's generated_large.json. */
#define LIKENESS_CAPITALISED (-0.3)
#define LIKENESS_LOWER	     0.3

struct rtr_names {
	struct wlist first, last, common;
	uint16_t tri_name[TRI_N], tri_word[TRI_N];
	double n_name, n_word, vocab;
};

static int wref_cmp(const void *a, const void *b)
{
	const struct wref *x = a, *y = b;
	unsigned n = x->len < y->len ? x->len : y->len;
	int c = memcmp(x->p, y->p, n);
	return c ? c : (x->len > y->len) - (x->len < y->len);
}

static int wlist_build(struct wlist *l, const char *const *lines)
{
	size_t n = 0;
	for (size_t k = 0; lines[k]; k++)
		for (const char *p = lines[k]; *p; p++)
			n += *p == ' ';
	l->v = malloc((n + 1) * sizeof *l->v);
	if (!l->v)
		return -1;
	l->n = 0;
	for (size_t k = 0; lines[k]; k++) {
		const char *p = lines[k];
		while (*p) {
			const char *q = strchr(p, ' ');
			if (!q)
				q = p + strlen(p);
			if (q > p)
				l->v[l->n++] = (struct wref){ p, (unsigned)(q - p) };
			p = *q ? q + 1 : q;
		}
	}
	qsort(l->v, l->n, sizeof *l->v, wref_cmp);
	return 0;
}

static size_t fold(const char *w, size_t n, char *buf, size_t cap);

static unsigned tri_hash(const unsigned char *t)
{
	uint32_t h = 2166136261u;
	for (int k = 0; k < 3; k++)
		h = (h ^ t[k]) * 16777619u;
	return h & (TRI_N - 1);
}

/* Calls fn for each trigram of ^word$ (word lower-case, up to 60 bytes). */
static void tri_each(const char *w, size_t n, void (*fn)(void *, unsigned), void *ctx)
{
	unsigned char b[64];
	if (n > 60)
		n = 60;
	b[0] = '^';
	memcpy(b + 1, w, n);
	b[n + 1] = '$';
	for (size_t k = 0; k + 3 <= n + 2; k++)
		fn(ctx, tri_hash(b + k));
}

static void tri_count(void *ctx, unsigned h)
{
	uint16_t *t = ctx;
	if (t[h] < UINT16_MAX)
		t[h]++;
}

static bool wlist_has_exact(const struct wlist *l, const char *w, size_t n)
{
	struct wref key = { w, (unsigned)n };
	return bsearch(&key, l->v, l->n, sizeof *l->v, wref_cmp) != NULL;
}

static void tri_train(struct rtr_names *nm)
{
	for (size_t k = 0; k < nm->first.n; k++)
		tri_each(nm->first.v[k].p, nm->first.v[k].len, tri_count, nm->tri_name);
	for (size_t k = 0; k < nm->last.n; k++)
		tri_each(nm->last.v[k].p, nm->last.v[k].len, tri_count, nm->tri_name);
	for (size_t k = 0; k < nm->common.n; k++) {
		const struct wref *r = &nm->common.v[k];
		if (!wlist_has_exact(&nm->first, r->p, r->len) &&
		    !wlist_has_exact(&nm->last, r->p, r->len))
			tri_each(r->p, r->len, tri_count, nm->tri_word);
	}
	double v = 0;
	for (size_t h = 0; h < TRI_N; h++) {
		nm->n_name += nm->tri_name[h];
		nm->n_word += nm->tri_word[h];
		v += nm->tri_name[h] || nm->tri_word[h];
	}
	nm->vocab = v;
}

struct tri_score {
	const struct rtr_names *nm;
	double sum;
	int n;
};

static void tri_add(void *ctx, unsigned h)
{
	struct tri_score *t = ctx;
	const struct rtr_names *nm = t->nm;
	t->sum += log((nm->tri_name[h] + 0.5) / (nm->n_name + 0.5 * nm->vocab)) -
		  log((nm->tri_word[h] + 0.5) / (nm->n_word + 0.5 * nm->vocab));
	t->n++;
}

/* Mean log-odds per trigram that the word is a name rather than a common
 * word: above 0 it looks more like the names of the lists. */
static double name_likeness(const struct rtr_names *nm, const char *w, size_t n)
{
	char buf[64];
	size_t k = fold(w, n, buf, sizeof buf);
	if (!k)
		return 0;
	struct tri_score t = { nm, 0, 0 };
	tri_each(buf, k, tri_add, &t);
	return t.n ? t.sum / t.n : 0;
}

static void names_free(struct rtr_names *nm);

static struct rtr_names *names_new(void)
{
	struct rtr_names *nm = calloc(1, sizeof *nm);
	if (!nm)
		return NULL;
	if (wlist_build(&nm->first, first_names) || wlist_build(&nm->last, last_names) ||
	    wlist_build(&nm->common, common_words)) {
		names_free(nm);
		return NULL;
	}
	tri_train(nm);
	return nm;
}

static void names_free(struct rtr_names *nm)
{
	if (!nm)
		return;
	free(nm->first.v);
	free(nm->last.v);
	free(nm->common.v);
	free(nm);
}

/* The lists and the trigram model depend on the compiled-in lists only:
 * built once per process and shared, read-only, by every sanitizer. */
static struct rtr_names *shared_names;
static pthread_once_t shared_once = PTHREAD_ONCE_INIT;

static void shared_build(void)
{
	shared_names = names_new();
}

const struct rtr_names *rtr_names_get(void)
{
	pthread_once(&shared_once, shared_build);
	return shared_names;
}

/* Lower-cases ASCII and the common Latin-1/Latin-A/Greek/Cyrillic capitals
 * of w into buf; returns the length or 0 when too long. */
static size_t fold(const char *w, size_t n, char *buf, size_t cap)
{
	size_t o = 0;
	for (size_t i = 0; i < n;) {
		uint32_t cp;
		size_t k = mx_utf8_decode((const unsigned char *)w + i, n - i, &cp);
		if (!k) {
			cp = (unsigned char)w[i];
			k = 1;
		}
		if (cp >= 'A' && cp <= 'Z')
			cp += 32;
		else if (cp >= 0xC0 && cp <= 0xDE && cp != 0xD7)
			cp += 32;
		else if (cp >= 0x391 && cp <= 0x3AB && cp != 0x3A2)
			cp += 32;
		else if (cp >= 0x410 && cp <= 0x42F)
			cp += 32;
		else if (cp >= 0x400 && cp <= 0x40F)
			cp += 80;
		else if (cp >= 0x100 && cp <= 0x137 && !(cp & 1))
			cp += 1;
		else if (cp >= 0x139 && cp <= 0x148 && (cp & 1))
			cp += 1;
		else if (cp >= 0x14A && cp <= 0x177 && !(cp & 1))
			cp += 1;
		else if (cp >= 0x179 && cp <= 0x17E && (cp & 1))
			cp += 1;
		/* re-encode */
		if (o + 4 >= cap)
			return 0;
		if (cp < 0x80) {
			buf[o++] = (char)cp;
		} else if (cp < 0x800) {
			buf[o++] = (char)(0xC0 | (cp >> 6));
			buf[o++] = (char)(0x80 | (cp & 0x3F));
		} else if (cp < 0x10000) {
			buf[o++] = (char)(0xE0 | (cp >> 12));
			buf[o++] = (char)(0x80 | ((cp >> 6) & 0x3F));
			buf[o++] = (char)(0x80 | (cp & 0x3F));
		} else {
			buf[o++] = (char)(0xF0 | (cp >> 18));
			buf[o++] = (char)(0x80 | ((cp >> 12) & 0x3F));
			buf[o++] = (char)(0x80 | ((cp >> 6) & 0x3F));
			buf[o++] = (char)(0x80 | (cp & 0x3F));
		}
		i += k;
	}
	return o;
}

static bool wlist_has(const struct wlist *l, const char *w, size_t n)
{
	char buf[64];
	size_t k = fold(w, n, buf, sizeof buf);
	if (!k)
		return false;
	struct wref key = { buf, (unsigned)k };
	return bsearch(&key, l->v, l->n, sizeof *l->v, wref_cmp) != NULL;
}

bool rtr_names_is_first(const struct rtr_names *nm, const char *w, size_t n)
{
	return wlist_has(&nm->first, w, n);
}

bool rtr_names_is_last(const struct rtr_names *nm, const char *w, size_t n)
{
	return wlist_has(&nm->last, w, n);
}

bool rtr_names_is_common(const struct rtr_names *nm, const char *w, size_t n)
{
	if (wlist_has(&nm->common, w, n))
		return true;
	/* plurals of common words: songs, boxes */
	if (n > 3 && (w[n - 1] == 's' || w[n - 1] == 'S'))
		return wlist_has(&nm->common, w, n - 1) ||
		       (n > 4 && (w[n - 2] == 'e' || w[n - 2] == 'E') &&
			wlist_has(&nm->common, w, n - 2));
	return false;
}

/* ---- words ---- */

enum { CASE_NONE, CASE_UPPER, CASE_LOWER };

static int cp_case(uint32_t cp)
{
	if ((cp >= 'A' && cp <= 'Z') || (cp >= 0xC0 && cp <= 0xDE && cp != 0xD7) ||
	    (cp >= 0x391 && cp <= 0x3AB) || (cp >= 0x400 && cp <= 0x42F))
		return CASE_UPPER;
	if ((cp >= 'a' && cp <= 'z') || (cp >= 0xDF && cp <= 0xFF && cp != 0xF7) ||
	    (cp >= 0x3AC && cp <= 0x3CE) || (cp >= 0x430 && cp <= 0x45F))
		return CASE_LOWER;
	if (cp >= 0x100 && cp <= 0x17F) {
		bool even = !(cp & 1);
		if ((cp <= 0x137) || (cp >= 0x14A && cp <= 0x177))
			return even ? CASE_UPPER : CASE_LOWER;
		if ((cp >= 0x139 && cp <= 0x148) || (cp >= 0x179 && cp <= 0x17E))
			return even ? CASE_LOWER : CASE_UPPER;
		return CASE_LOWER;
	}
	return CASE_NONE;
}

struct word {
	size_t b, e;
	bool cap, allcap, lower, nonascii;
	bool first, last, common;
	bool sent;     /* first word of a sentence or line */
	bool adj_next; /* only blanks between it and the next word */
	bool poss;     /* followed by 's */
	bool comma;    /* followed by a comma */
	bool initial;  /* a single capital with a dot: "J." */
};

static bool is_letter_at(const char *s, size_t n, size_t i, size_t *len)
{
	unsigned char c = (unsigned char)s[i];
	if (rtr_is_alpha(c)) {
		*len = 1;
		return true;
	}
	if (c < 0x80)
		return false;
	uint32_t cp;
	size_t k = mx_utf8_decode((const unsigned char *)s + i, n - i, &cp);
	if (!k)
		return false;
	*len = k;
	/* letters of any script; not punctuation, symbols or spaces */
	if ((cp >= 0x2000 && cp <= 0x2BFF) || (cp >= 0x3000 && cp <= 0x303F) || cp == 0xA0 ||
	    (cp >= 0xA1 && cp <= 0xBF) || cp == 0xD7 || cp == 0xF7 ||
	    (cp >= 0xFE00 && cp <= 0xFFFF) || cp >= 0x1F000)
		return false;
	return true;
}

/* Splits the text into words; returns their number or SIZE_MAX on ENOMEM. */
static size_t split(const struct rtr_names *nm, const char *s, size_t n, struct word **out)
{
	size_t cap = 256, nw = 0;
	struct word *w = malloc(cap * sizeof *w);
	if (!w)
		return SIZE_MAX;
	size_t i = 0;
	while (i < n) {
		size_t k;
		if (!is_letter_at(s, n, i, &k)) {
			i++;
			continue;
		}
		size_t b = i;
		bool nonascii = false;
		while (i < n) {
			if (is_letter_at(s, n, i, &k)) {
				nonascii = nonascii || k > 1;
				i += k;
			} else if ((s[i] == '\'' || s[i] == '-') && i + 1 < n &&
				   is_letter_at(s, n, i + 1, &k) &&
				   !(s[i] == '\'' && (s[i + 1] == 's' || s[i + 1] == 'S') &&
				     (i + 2 >= n || !is_letter_at(s, n, i + 2, &k)))) {
				i++;
			} else {
				break;
			}
		}
		if (nw == cap) {
			struct word *t = realloc(w, cap * 2 * sizeof *w);
			if (!t) {
				free(w);
				return SIZE_MAX;
			}
			w = t;
			cap *= 2;
		}
		struct word x = { 0 };
		x.b = b;
		x.e = i;
		x.nonascii = nonascii;
		uint32_t cp;
		size_t k0 = mx_utf8_decode((const unsigned char *)s + b, n - b, &cp);
		int c0 = k0 ? cp_case(cp) : CASE_NONE;
		x.cap = c0 == CASE_UPPER;
		x.lower = c0 == CASE_LOWER;
		bool all = x.cap;
		for (size_t j = b; j < i && all;) {
			size_t kk = mx_utf8_decode((const unsigned char *)s + j, i - j, &cp);
			if (!kk)
				break;
			if (cp_case(cp) == CASE_LOWER)
				all = false;
			j += kk;
		}
		x.allcap = all && i - b >= 2;
		x.first = rtr_names_is_first(nm, s + b, i - b);
		x.last = rtr_names_is_last(nm, s + b, i - b);
		x.common = rtr_names_is_common(nm, s + b, i - b);
		/* sentence start: what precedes, skipping blanks and quotes */
		size_t p = b;
		while (p > 0 && (s[p - 1] == ' ' || s[p - 1] == '\t' || s[p - 1] == '"' ||
				 s[p - 1] == '>' || s[p - 1] == '(' || s[p - 1] == '\''))
			p--;
		x.sent = p == 0 || strchr(".!?:;\n\r", s[p - 1]) != NULL ||
			 ((unsigned char)s[p - 1] >= 0x80 && p >= 3 &&
			  (unsigned char)s[p - 3] == 0xE2); /* “ – … */
		x.initial = i - b == 1 && x.cap && i < n && s[i] == '.';
		x.poss = i + 1 < n && s[i] == '\'' && (s[i + 1] == 's' || s[i + 1] == 'S');
		x.comma = i < n && s[i] == ',';
		w[nw++] = x;
	}
	for (size_t k = 0; k + 1 < nw; k++) {
		size_t a = w[k].e, z = w[k + 1].b;
		bool blanks = z > a;
		for (size_t j = a; j < z && blanks; j++)
			blanks = s[j] == ' ' || s[j] == '\t' || (s[j] == '.' && w[k].initial);
		w[k].adj_next = blanks;
	}
	*out = w;
	return nw;
}

/* ---- cues ---- */

static bool weq(const char *s, const struct word *w, const char *lit)
{
	return rtr_word_eq(s + w->b, w->e - w->b, lit);
}

static bool weq_any(const char *s, const struct word *w, const char *const *lits)
{
	for (size_t k = 0; lits[k]; k++)
		if (weq(s, w, lits[k]))
			return true;
	return false;
}

static const char *const titles[] = {
	"mr",	    "mrs",    "ms",	"miss",	   "mx",     "dr",     "prof",	    "sir", "madam",
	"dame",	    "herr",   "frau",	"mme",	   "mlle",   "señor",  "señora",    "sr",  "sra",
	"monsieur", "madame", "signor", "signora", "mister", "doctor", "professor", NULL
};

static const char *const greet[] = { "dear",	"hi",	"hello", "hey",	    "thanks",
				     "dearest", "cc",	"attn",	 "regards", "sincerely",
				     "cheers",	"love", NULL };

static const char *const relations[] = {
	"colleague",   "coworker",    "co-worker",    "friend",	   "boyfriend", "girlfriend",
	"brother",     "sister",      "wife",	      "husband",   "partner",	"son",
	"daughter",    "mother",      "father",	      "mom",	   "mum",	"dad",
	"boss",	       "manager",     "uncle",	      "aunt",	   "cousin",	"kid",
	"child",       "grandfather", "grandmother",  "grandpa",   "grandma",	"neighbor",
	"neighbour",   "nephew",      "niece",	      "fiancé",	   "fiancee",	"fiance",
	"roommate",    "flatmate",    "teacher",      "lawyer",	   "assistant", "guardian",
	"beneficiary", "tenant",      "landlord",     "classmate", "mentor",	"supervisor",
	"secretary",   "stepson",     "stepdaughter", "baby",	   "dog",	"cat",
	"named",       "called",      "producer",     "commenter", "singer",	"director",
	"author",      "writer",      "player",	      "ceo",	   "founder",	"artist",
	"actor",       "actress",     "spouse",	      NULL
};

static const char *const after_verbs[] = {
	"said",	     "says",	  "shouted",  "asked",	 "told",      "wrote",	    "replied",
	"explained", "added",	  "answered", "laughed", "smiled",    "whispered",  "cried",
	"yelled",    "thinks",	  "agreed",   "noted",	 "mentioned", "emailed",    "texted",
	"lives",     "lived",	  "began",    "spent",	 "listed",    "wants",	    "works",
	"worked",    "joined",	  "sings",    "sang",	 "recorded",  "directed",   "writes",
	"met",	     "loves",	  "hates",    "knows",	 "shouts",    "complained", "insisted",
	"promised",  "confirmed", "called",   "phoned",	 "emailed",   "visited",    NULL
};

/* Is there a cue right before word i (in words i-1, i-2, i-3)? */
static bool cue_before(const char *s, const struct word *w, size_t i)
{
	if (i == 0)
		return false;
	const struct word *p = &w[i - 1];
	/* the gap may hold a dot (Mr.), blanks and one comma */
	for (size_t j = p->e; j < w[i].b; j++)
		if (!(s[j] == ' ' || s[j] == '.' || s[j] == ',' || s[j] == '\t' || s[j] == ':' ||
		      (s[j] == '?' && weq(s, p, "name"))))
			return false;
	if (weq_any(s, p, titles) || weq_any(s, p, greet))
		return true;
	if (i >= 2) {
		const struct word *q = &w[i - 2];
		/* name is X, call(s) me X, I'm X, I am X, this is X */
		if (weq(s, p, "is") && (weq(s, q, "name") || weq(s, q, "this")))
			return true;
		if (weq(s, p, "me") && (weq(s, q, "call") || weq(s, q, "calls")))
			return true;
		if (weq(s, p, "am") && weq(s, q, "i"))
			return true;
		if (weq(s, p, "m") && weq(s, q, "i"))
			return true;
		if (weq(s, p, "to") &&
		    (weq(s, q, "speak") || weq(s, q, "talk") || weq(s, q, "assistant") ||
		     weq(s, q, "tribute") || weq(s, q, "married") || weq(s, q, "given")))
			return true;
		if (weq(s, p, "by") &&
		    (weq(s, q, "written") || weq(s, q, "directed") || weq(s, q, "sung") ||
		     weq(s, q, "produced") || weq(s, q, "song") || weq(s, q, "not") ||
		     weq(s, q, "painted")))
			return true;
		if (weq(s, p, "with") && (weq(s, q, "accounts") || weq(s, q, "meeting") ||
					  weq(s, q, "spoke") || weq(s, q, "up")))
			return true;
		/* my colleague X, his wife X */
		if (weq_any(s, p, relations))
			return true;
	}
	if (weq(s, p, "name") || weq(s, p, "named") || weq(s, p, "called") || weq(s, p, "under") ||
	    weq(s, p, "im") || weq(s, p, "i'm") || weq(s, p, "said") || weq(s, p, "says") ||
	    weq(s, p, "by") || weq(s, p, "told") || weq(s, p, "ask") || weq(s, p, "asked") ||
	    weq(s, p, "thank") || weq(s, p, "meet") || weq(s, p, "ms") || weq(s, p, "mrs") ||
	    weq(s, p, "starring") || weq(s, p, "featuring") || weq(s, p, "feat"))
		return true;
	return false;
}

static bool cue_after(const char *s, const struct word *w, size_t nw, size_t i)
{
	if (w[i].poss)
		return true;
	if (i + 1 >= nw)
		return false;
	const struct word *q = &w[i + 1];
	for (size_t j = w[i].e; j < q->b; j++)
		if (!(s[j] == ' ' || s[j] == '\t'))
			return false;
	if (weq_any(s, q, after_verbs))
		return true;
	/* "X is from Y", "X comes from" */
	return i + 2 < nw && q->e < w[i + 2].b && w[i + 2].b - q->e == 1 &&
	       (weq(s, q, "is") || weq(s, q, "was") || weq(s, q, "comes")) &&
	       weq(s, &w[i + 2], "from");
}

/* Surname endings of many languages. */
static bool name_shape(const char *s, const struct word *w)
{
	static const char *const ends[] = {
		"sson", "ssen", "sen",	"ez",	  "ski",    "ska",   "sky",   "ova",   "ov",
		"ev",	"eva",	"vić",	"ić",	  "ic",	    "escu",  "yan",   "enko",  "chuk",
		"czyk", "wicz", "berg", "stein",  "mann",   "ini",   "elli",  "etti",  "poulos",
		"akis", "oglu", "oğlu", "dottir", "dóttir", "quist", "qvist", "ström", "gaard",
		"inen", "ault", "ides", "shvili", "adze",   "ovic",  "evic",  "ishi",  "uchi",
		"moto", "yama", "kawa", "mura",	  NULL
	};
	size_t len = w->e - w->b;
	for (size_t k = 0; ends[k]; k++) {
		size_t el = strlen(ends[k]);
		if (len > el + 2 && rtr_word_eq(s + w->e - el, el, ends[k]))
			return true;
	}
	return false;
}

static const char *const particles[] = { "van", "von", "de",	"den", "der", "da", "di", "du",
					 "des", "del", "della", "dos", "das", "la", "le", "ten",
					 "ter", "al",  "bin",	"ibn", "mac", "st", NULL };

static const char *const suffixes[] = { "jr", "sr",  "md",  "phd", "ii",  "iii",
					"iv", "esq", "dds", "dvm", "cpa", NULL };

/* May word x join a name next to it? */
static bool joinable(const struct word *x)
{
	return (x->cap && (!x->common || x->first || x->last)) || x->initial;
}

/* A word with an apostrophe inside is a name only as O'Brien, D'Angelo. */
static bool apostrophe_ok(const char *s, const struct word *x)
{
	const char *q = memchr(s + x->b, '\'', x->e - x->b);
	return !q || (q == s + x->b + 1);
}

/* Endings of English words that are rarely names. */
static bool english_ending(const char *s, const struct word *x)
{
	static const char *const ends[] = { "ing",  "ed",   "tion", "sion", "ly",  "ness", "ment",
					    "able", "ible", "ful",  "less", "ous", "ive",  "ies",
					    "est",  "ity",  "ism",  "ist",  "ise", "ize",  "ance",
					    "ence", "ship", "ward", "wise", NULL };
	size_t len = x->e - x->b;
	for (size_t k = 0; ends[k]; k++) {
		size_t el = strlen(ends[k]);
		if (len > el + 1 && rtr_word_eq(s + x->e - el, el, ends[k]))
			return true;
	}
	return false;
}

/* Capital then lower-case letters only (no inner capitals or digits). */
static bool plain_capitalised(const char *s, const struct word *x)
{
	for (size_t j = x->b + 1; j < x->e; j++)
		if ((s[j] >= 'A' && s[j] <= 'Z') || rtr_is_digit((unsigned char)s[j]))
			return false;
	return true;
}

/* Is word i in a Title Case run ("Songs Of The Year"): a capitalised
 * function word beside it that does not open a sentence? */
static bool title_case_around(const char *s, const struct word *w, size_t nw, size_t i)
{
	static const char *const fw[] = { "of",	  "the", "to",	 "and",	 "in", "a",
					  "an",	  "for", "on",	 "with", "at", "by",
					  "from", "you", "your", "my",	 NULL };
	for (size_t k = i > 2 ? i - 2 : 0; k < nw && k <= i + 2; k++)
		if (k != i && w[k].cap && !w[k].sent && weq_any(s, &w[k], fw))
			return true;
	return false;
}

/* Are words k and k+1 items of one list: "A, B", "A and B", "A & B"? */
static bool listed_together(const char *s, const struct word *w, size_t nw, size_t k, size_t *next)
{
	if (k + 1 >= nw)
		return false;
	size_t a = w[k].e, z = w[k + 1].b;
	if (z - a <= 3) {
		bool comma = false, other = false;
		for (size_t j = a; j < z; j++) {
			if (s[j] == ',' || s[j] == '&')
				comma = true;
			else if (s[j] != ' ')
				other = true;
		}
		if (comma && !other) {
			*next = k + 1;
			return true;
		}
	}
	if (weq(s, &w[k + 1], "and") || weq(s, &w[k + 1], "or")) {
		if (k + 2 < nw && w[k + 1].b - w[k].e <= 2 && w[k + 2].b - w[k + 1].e == 1) {
			*next = k + 2;
			return true;
		}
	}
	return false;
}

void rtr_detect_names(const struct rtr_names *nm, const char *s, size_t n, struct rtr_cands *c)
{
	struct word *w = NULL;
	size_t nw = split(nm, s, n, &w);
	if (nw == SIZE_MAX) {
		c->err = c->err ? c->err : MX_ENOMEM;
		return;
	}
	int *seed = calloc(nw ? nw : 1, sizeof *seed);
	if (!seed) {
		free(w);
		c->err = c->err ? c->err : MX_ENOMEM;
		return;
	}
	/* a text without capitals (or shouting in capitals) */
	size_t nup = 0, nlow = 0;
	for (size_t i = 0; i < n; i++) {
		nup += s[i] >= 'A' && s[i] <= 'Z';
		nlow += s[i] >= 'a' && s[i] <= 'z';
	}
	bool nocase = nup == 0 || nlow == 0;
	for (size_t i = 0; i < nw; i++) {
		struct word *x = &w[i];
		bool listed = x->first || x->last;
		if (x->initial || x->e - x->b < 2)
			continue;
		if (nocase) {
			if (listed && !x->common)
				seed[i] = RTR_PRIO_LIST;
			else if ((listed || (!x->common && x->e - x->b >= 3)) &&
				 cue_before(s, w, i))
				seed[i] = RTR_PRIO_LIST;
			else if (!x->common && x->e - x->b >= 4 && apostrophe_ok(s, x) &&
				 !english_ending(s, x) &&
				 name_likeness(nm, s + x->b, x->e - x->b) >= LIKENESS_LOWER)
				seed[i] = RTR_PRIO_GUESS;
			continue;
		}
		if (!x->cap)
			continue;
		if (x->allcap && x->e - x->b <= 4 && !listed)
			continue; /* acronyms */
		size_t wl = x->e - x->b;
		bool guessable = !x->common && wl >= 3 && apostrophe_ok(s, x) &&
				 !(wl >= 6 && rtr_word_eq(s + x->e - 2, 2, "ly"));
		bool before = cue_before(s, w, i);
		bool after = cue_after(s, w, nw, i);
		if (listed && !x->common)
			seed[i] = RTR_PRIO_LIST;
		else if (listed && (before || after))
			seed[i] = RTR_PRIO_LIST;
		else if (guessable && before)
			seed[i] = RTR_PRIO_LIST;
		else if (guessable && after)
			seed[i] = RTR_PRIO_GUESS;
		/* Mark Muslija: a given name that is also a word, then a surname */
		else if (x->first && i + 1 < nw && x->adj_next && w[i + 1].cap &&
			 !w[i + 1].common && !w[i + 1].sent && w[i + 1].e - w[i + 1].b >= 3)
			seed[i] = RTR_PRIO_LIST;
		/* a vocative or a speaker: "Marisca, can I ...", "Kalman: ..." */
		else if (guessable && (i == 0 || (x->b > 0 && s[x->b - 1] == '\n')) && i + 1 < nw &&
			 x->e < n && (s[x->e] == ',' || s[x->e] == ':') && !w[i + 1].cap)
			seed[i] = RTR_PRIO_GUESS;
		else if (guessable && x->sent && x->e < n && s[x->e] == ':' && x->e + 1 < n &&
			 (s[x->e + 1] == '"' || s[x->e + 1] == '\\' ||
			  (s[x->e + 1] == ' ' && x->e + 2 < n &&
			   (s[x->e + 2] == '"' || s[x->e + 2] == '\\'))))
			seed[i] = RTR_PRIO_GUESS;
		else if (guessable && (x->nonascii || name_shape(s, x)) &&
			 (!x->sent || (i + 1 < nw && x->adj_next && w[i + 1].lower)))
			seed[i] = RTR_PRIO_GUESS;
		/* any other capitalised word in mid-sentence that is no common
		 * word, acronym or CamelCase, and is spelt more like the names of
		 * the lists than like common words */
		else if (guessable && !x->sent && !x->allcap && plain_capitalised(s, x) &&
			 !title_case_around(s, w, nw, i) &&
			 name_likeness(nm, s + x->b, x->e - x->b) >= LIKENESS_CAPITALISED)
			seed[i] = RTR_PRIO_GUESS;
		/* a particle before: "the van Gijn novel" */
		else if (guessable && !x->sent && i > 0 && w[i - 1].adj_next && w[i - 1].lower &&
			 weq_any(s, &w[i - 1], particles) &&
			 !(i > 1 && w[i - 2].cap && w[i - 2].adj_next))
			seed[i] = RTR_PRIO_GUESS;
	}
	/* lists of names: one name makes its capitalised neighbours names */
	for (int pass = 0; pass < 2; pass++) {
		for (size_t i = 0; i < nw; i++) {
			size_t j;
			if (!seed[i] || !listed_together(s, w, nw, i, &j))
				continue;
			if (!seed[j] && (w[j].cap || nocase) &&
			    (!w[j].common || w[j].first || w[j].last) && apostrophe_ok(s, &w[j]))
				seed[j] = RTR_PRIO_GUESS;
		}
		for (size_t i = nw; i-- > 0;) {
			size_t j;
			if (seed[i] || !(w[i].cap || nocase) ||
			    (w[i].common && !w[i].first && !w[i].last) ||
			    !apostrophe_ok(s, &w[i]) || !listed_together(s, w, nw, i, &j))
				continue;
			if (seed[j])
				seed[i] = RTR_PRIO_GUESS;
		}
	}
	for (size_t i = 0; i < nw; i++) {
		if (!seed[i])
			continue;
		int prio = seed[i];
		/* grow left and right over name words */
		size_t a = i, z = i;
		/* (an unknown word opening a sentence is more often a verb or
		 * a noun than a given name: "Compare Kubernetes ...") */
		while (a > 0 && w[a - 1].adj_next && i - a < 3 && !w[a].sent &&
		       (nocase ? (w[a - 1].first || w[a - 1].last) && !w[a - 1].common
			       : joinable(&w[a - 1]) && apostrophe_ok(s, &w[a - 1]) &&
					 (!w[a - 1].sent || w[a - 1].first || w[a - 1].last ||
					  w[a - 1].nonascii)))
			a--;
		while (z + 1 < nw && w[z].adj_next && z - i < 4) {
			struct word *y = &w[z + 1];
			if (seed[z + 1]) {
				z++;
			} else if (!nocase && joinable(y) && !y->sent && apostrophe_ok(s, y)) {
				z++;
			} else if (nocase && prio != RTR_PRIO_GUESS && !y->common && z == i &&
				   y->e - y->b >= 3 && !weq_any(s, y, after_verbs)) {
				z++;
			} else if (!nocase && weq_any(s, y, particles)) {
				/* van der Voet */
				size_t k = z + 1;
				while (k < nw && k - z <= 3 && w[k].adj_next &&
				       weq_any(s, &w[k], particles))
					k++;
				if (k < nw && k > z + 1 && w[k].cap && !w[k].common &&
				    w[k - 1].adj_next)
					z = k;
				else
					break;
			} else {
				break;
			}
		}
		size_t b = w[a].b, e = w[z].e;
		/* suffixes: Jr., MD, PhD */
		if (z + 1 < nw && w[z].adj_next && weq_any(s, &w[z + 1], suffixes)) {
			e = w[z + 1].e;
			if (e < n && s[e] == '.')
				e++;
			z++;
		} else if (z + 1 < nw && e < n && s[e] == ',' && w[z + 1].b == e + 2 &&
			   weq_any(s, &w[z + 1], suffixes)) {
			e = w[z + 1].e;
			z++;
		}
		/* a title before: Mr. Smith */
		if (a > 0 && weq_any(s, &w[a - 1], titles)) {
			size_t g = w[a - 1].e;
			while (g < b && (s[g] == '.' || s[g] == ' '))
				g++;
			if (g == b)
				b = w[a - 1].b;
		}
		rtr_cands_add(c, b, e, RTR_PII_PERSON, prio);
		i = z;
	}
	free(seed);
	free(w);
}
