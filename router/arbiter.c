/*
 * arbiter.c - the decision: privacy first, then policy, then need (see
 * arbiter.h for the order and README.md for the numbers).
 */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "../common/status.h"
#include "arbiter.h"
#include "sanitize_int.h"

#define MAX_WORDS 256
#define WORD_MAX  48

/* ---- words ---------------------------------------------------------------- */

static bool is_word_byte(unsigned char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
	       c >= 0x80 || c == '\'';
}

static char lower(char c)
{
	return c >= 'A' && c <= 'Z' ? (char)(c - 'A' + 'a') : c;
}

/* The next word of s from *pos: lower-cased into w (truncated to WORD_MAX-1),
 * with *first_upper telling whether it began with a capital. false at the
 * end. Apostrophes inside a word stay ("i'm"); leading/trailing ones go. */
static bool is_rsquo(const char *s)
{
	return (unsigned char)s[0] == 0xe2 && (unsigned char)s[1] == 0x80 &&
	       (unsigned char)s[2] == 0x99;
}

static bool next_word(const char *s, size_t *pos, char w[WORD_MAX], bool *first_upper)
{
	size_t i = *pos;
	for (;;) {
		if (!s[i])
			break;
		if (is_rsquo(s + i)) {
			i += 3;
			continue;
		}
		if (is_word_byte((unsigned char)s[i]) && s[i] != '\'')
			break;
		i++;
	}
	if (!s[i]) {
		*pos = i;
		return false;
	}
	size_t n = 0;
	if (first_upper)
		*first_upper = s[i] >= 'A' && s[i] <= 'Z';
	while (s[i]) {
		char c;
		if (is_rsquo(s + i)) { /* U+2019 as an apostrophe: "I\u2019m" */
			c = '\'';
			i += 3;
		} else if (is_word_byte((unsigned char)s[i])) {
			c = lower(s[i]);
			i++;
		} else {
			break;
		}
		if (n < WORD_MAX - 1)
			w[n++] = c;
	}
	while (n && w[n - 1] == '\'')
		n--;
	w[n] = '\0';
	*pos = i;
	return true;
}

static bool in_list(const char *w, const char *const *list)
{
	for (size_t i = 0; list[i]; i++)
		if (!strcmp(w, list[i]))
			return true;
	return false;
}

static const char *const stop_words[] = {
	"a",	"an",	 "the",	 "and",	  "or",	   "but",   "if",    "of",     "to",	"in",
	"on",	"at",	 "by",	 "for",	  "with",  "from",  "as",    "is",     "are",	"was",
	"were", "be",	 "been", "being", "do",	   "does",  "did",   "what",   "which", "who",
	"whom", "whose", "when", "where", "why",   "how",   "that",  "this",   "these", "those",
	"it",	"its",	 "i",	 "me",	  "my",	   "we",    "our",   "us",     "you",	"your",
	"he",	"she",	 "they", "them",  "their", "his",   "her",   "there",  "here",	"about",
	"into", "than",	 "then", "so",	  "can",   "could", "would", "should", "will",	"shall",
	"may",	"might", "must", "have",  "has",   "had",   "not",   "no",     "yes",	"any",
	"all",	"some",	 "much", "many",  "more",  "most",  "very",  "just",   "also",	"again",
	"last", "next",	 "tell", "show",  "find",  "give",  "know",  "get",    "got",	"is't",
	"i'm",	"i've",	 "i'd",	 "i'll",  "mine",  "ours",  NULL
};

/* A crude stem so that "appointments" meets "appointment". */
static void stem(char *w)
{
	size_t n = strlen(w);
	if (n > 5 && !strcmp(w + n - 3, "ing"))
		w[n - 3] = '\0';
	else if (n > 4 && !strcmp(w + n - 2, "ed"))
		w[n - 2] = '\0';
	else if (n > 4 && !strcmp(w + n - 2, "es"))
		w[n - 2] = '\0';
	else if (n > 3 && w[n - 1] == 's' && w[n - 2] != 's')
		w[n - 1] = '\0';
}

/* ---- features ------------------------------------------------------------- */

static const char *const feature_names[RTR_NFEAT] = {
	"log_chars",	   "log_words",	      "mean_word_len", "long_words",	  "digits",
	"math_symbols",	   "log_numbers",     "capitals",      "compute_words",	  "reason_words",
	"negation",	   "log_sentences",   "code_symbols",  "quotes",	  "log_stem",
	"log_option",	   "numeric_options", "option_spread", "which_following", "statements",
	"paired_verdicts",
};

const char *rtr_feature_name(int i)
{
	return i >= 0 && i < RTR_NFEAT ? feature_names[i] : "?";
}

static const char *const compute_words[] = { "calculate", "compute",  "solve",	    "probability",
					     "equation",  "integral", "derivative", "sum",
					     "product",	  "value",    "evaluate",   "simplify",
					     "percent",	  "ratio",    "how many",   NULL };
static const char *const reason_words[] = { "why",     "how",	   "explain", "prove",
					    "justify", "argue",	   "infer",   "implies",
					    "because", "conclude", "best",    NULL };
static const char *const negation_words[] = { "not",	   "except", "least", "false",
					      "incorrect", "never",  "none",  NULL };

/* Whether the text contains needle, ASCII letters compared without case. */
static bool contains_nocase(const char *text, const char *needle)
{
	size_t n = strlen(needle);
	for (const char *s = text; *s; s++) {
		size_t k = 0;
		while (k < n && s[k] && lower(s[k]) == needle[k])
			k++;
		if (k == n)
			return true;
	}
	return false;
}

/* The multiple-choice features: options are lines that begin "X." with X
 * a capital A, B, C, ... in order, after a stem. */
static void option_features(const char *text, float out[RTR_NFEAT])
{
	const char *first = NULL;
	for (const char *s = text; *s; s++)
		if (*s == '\n' && s[1] == 'A' && s[2] == '.') {
			first = s + 1;
			break;
		}
	out[RTR_F_WHICH_FOLLOWING] = contains_nocase(text, "which of the following");
	out[RTR_F_STATEMENTS] = strstr(text, "Statement 1") != NULL;
	out[RTR_F_PAIRED_VERDICTS] = strstr(text, "Wrong, ") || strstr(text, "True, True") ||
				     strstr(text, "False, False");
	if (!first)
		return;
	size_t nopt = 0, total = 0, longest = 0, shortest = SIZE_MAX, numeric = 0;
	char want = 'A';
	for (const char *o = first; o && o[0] == want && o[1] == '.' && want <= 'Z'; want++) {
		const char *e = strchr(o, '\n');
		size_t len = e ? (size_t)(e - o) : strlen(o), digits = 0;
		len = len >= 2 ? len - 2 : 0;
		for (size_t k = 0; k < len; k++)
			digits += o[2 + k] >= '0' && o[2 + k] <= '9';
		nopt++;
		total += len;
		longest = len > longest ? len : longest;
		shortest = len < shortest ? len : shortest;
		numeric += digits * 3 > len;
		o = e ? e + 1 : NULL;
	}
	out[RTR_F_LOG_STEM] = (float)log1p((double)(first - 1 - text));
	out[RTR_F_LOG_OPTION] = (float)log1p((double)total / (double)nopt);
	out[RTR_F_NUMERIC_OPTION] = (float)((double)numeric / (double)nopt);
	out[RTR_F_OPTION_SPREAD] = (float)(log1p((double)longest) - log1p((double)shortest));
}

void rtr_text_features(const char *text, float out[RTR_NFEAT])
{
	size_t bytes = 0, digits = 0, math = 0, code = 0, quotes = 0, sentences = 0;
	size_t words = 0, wchars = 0, longw = 0, numbers = 0, caps = 0;
	size_t compute = 0, reason = 0, neg = 0;
	memset(out, 0, RTR_NFEAT * sizeof *out);
	if (!text)
		return;
	for (const char *s = text; *s; s++) {
		unsigned char c = (unsigned char)*s;
		bytes++;
		if (c >= '0' && c <= '9')
			digits++;
		else if (strchr("=+-*/^<>%()", c))
			math++;
		else if (strchr("{};[]_", c))
			code++;
		else if (c == '"')
			quotes++;
		else if ((c == '.' || c == '?' || c == '!') &&
			 (!s[1] || s[1] == ' ' || s[1] == '\n'))
			sentences++;
	}
	size_t pos = 0;
	char w[WORD_MAX];
	bool up;
	while (next_word(text, &pos, w, &up)) {
		size_t n = strlen(w);
		words++;
		wchars += n;
		if (n >= 10)
			longw++;
		if (w[0] >= '0' && w[0] <= '9')
			numbers++;
		if (up && words > 1)
			caps++;
		if (in_list(w, compute_words))
			compute++;
		if (in_list(w, reason_words))
			reason++;
		if (in_list(w, negation_words))
			neg++;
	}
	if (strstr(text, "how many") || strstr(text, "How many"))
		compute++;
	double b = bytes ? (double)bytes : 1, nw = words ? (double)words : 1;
	out[RTR_F_LOG_CHARS] = (float)log1p((double)bytes);
	out[RTR_F_LOG_WORDS] = (float)log1p((double)words);
	out[RTR_F_MEAN_WORD] = (float)((double)wchars / nw);
	out[RTR_F_LONG_WORDS] = (float)((double)longw / nw);
	out[RTR_F_DIGITS] = (float)((double)digits / b);
	out[RTR_F_MATH] = (float)((double)math / b);
	out[RTR_F_LOG_NUMBERS] = (float)log1p((double)numbers);
	out[RTR_F_CAPITALS] = (float)((double)caps / nw);
	out[RTR_F_COMPUTE] = (float)log1p((double)compute);
	out[RTR_F_REASON] = (float)log1p((double)reason);
	out[RTR_F_NEGATION] = (float)log1p((double)neg);
	out[RTR_F_LOG_SENTENCES] = (float)log1p((double)sentences);
	out[RTR_F_CODE] = (float)((double)code / b);
	out[RTR_F_QUOTES] = (float)log1p((double)quotes);
	option_features(text, out);
}

/* ---- policy ------------------------------------------------------------------- */

static const char *const policy_names[] = { "never", "ask", "auto" };

int rtr_policy_parse(const char *name, enum rtr_policy *p)
{
	for (int i = 0; i < 3; i++)
		if (!strcmp(name, policy_names[i])) {
			*p = (enum rtr_policy)i;
			return 0;
		}
	return MX_EINVAL;
}

const char *rtr_policy_name(enum rtr_policy p)
{
	return (unsigned)p < 3 ? policy_names[p] : "?";
}

struct rtr_params rtr_params_default(void)
{
	return (struct rtr_params){
		.policy = RTR_POLICY_NEVER,
		.share = -1,
		.threshold = NAN,
		.strong_coverage = 0.75,
		.strong_cosine = 0.55,
		.weak_coverage = 0.75,
		.draft_confident = -0.35,
	};
}

bool rtr_path_within(const char *path, const char *dir)
{
	size_t n = strlen(dir);
	while (n > 1 && dir[n - 1] == '/')
		n--;
	if (strncmp(path, dir, n))
		return false;
	return path[n] == '\0' || path[n] == '/' || (n == 1 && dir[0] == '/');
}

/* ---- privacy signals ------------------------------------------------------------ */

static const char *const possessives[] = {
	"my", "mine", "myself", "our", "ours", "ourselves", NULL
};
static const char *const pronouns[] = { "i",	"me",	 "we",	  "us",	  "i'm",   "i've", "i'd",
					"i'll", "we're", "we've", "we'd", "we'll", NULL };
/* "how do I", "can we": a generic how-to, not a question about oneself */
static const char *const modal_before[] = { "do",    "can",   "could", "should",
					    "would", "might", "must",  NULL };

/* The first first-person word of q that makes it personal, or NULL in w. */
static bool first_person(const char *q, char *out, size_t outsz)
{
	size_t pos = 0;
	char w[WORD_MAX], prev[WORD_MAX] = "", prev2[WORD_MAX] = "";
	while (next_word(q, &pos, w, NULL)) {
		bool hit = in_list(w, possessives);
		if (!hit && in_list(w, pronouns)) {
			/* "how do I ...", "how can we ...": generic */
			bool generic = in_list(prev, modal_before) &&
				       (!strcmp(prev2, "how") || !strcmp(prev2, "what") ||
					!strcmp(prev2, "where") || !strcmp(prev2, "why"));
			hit = !generic;
		}
		if (hit) {
			snprintf(out, outsz, "%s", w);
			return true;
		}
		memcpy(prev2, prev, sizeof prev2);
		memcpy(prev, w, sizeof prev);
	}
	return false;
}

/* Whether question word qw (lower-case) occurs as a word of s (any case). */
static bool has_word(const char *s, const char *qw)
{
	size_t pos = 0;
	char w[WORD_MAX];
	while (s && next_word(s, &pos, w, NULL))
		if (!strcmp(w, qw))
			return true;
	return false;
}

/* A word of the question that names the author of a hit: a word of three
 * letters or more of the name part ("Anna Berg" of "Anna Berg <a@b>") that
 * is not a common word, or the whole address. */
static bool names_contact(const char *q, const struct rtr_hit *h, size_t n, char *out, size_t outsz)
{
	for (size_t i = 0; i < n; i++) {
		const char *a = h[i].author;
		if (!a || !*a)
			continue;
		const char *lt = strchr(a, '<'), *gt = lt ? strchr(lt, '>') : NULL;
		const char *at = strchr(a, '@');
		/* the address: <...>, or the whole author when it is one */
		char addr[256] = "";
		if (lt && gt && gt > lt + 1)
			snprintf(addr, sizeof addr, "%.*s", (int)(gt - lt - 1), lt + 1);
		else if (!lt && at)
			snprintf(addr, sizeof addr, "%s", a);
		if (addr[0] && strchr(addr, '@') && strcasestr(q, addr)) {
			snprintf(out, outsz, "%s", addr);
			return true;
		}
		/* the name part */
		size_t nl = lt ? (size_t)(lt - a) : at ? 0 : strlen(a);
		char name[256];
		snprintf(name, sizeof name, "%.*s", (int)(nl < sizeof name ? nl : sizeof name - 1),
			 a);
		size_t pos = 0;
		char w[WORD_MAX];
		while (next_word(name, &pos, w, NULL)) {
			if (strlen(w) < 3 || in_list(w, stop_words))
				continue;
			if (has_word(q, w)) {
				snprintf(out, outsz, "%s", w);
				return true;
			}
		}
	}
	return false;
}

static const char *const mail_dirs[] = { "cur", "new", "tmp", NULL };

/* Whether a path component (len bytes) is a word of q; copies it to out. */
static bool component_named(const char *q, const char *comp, size_t len, char *out, size_t outsz)
{
	char c[WORD_MAX];
	if (len && comp[0] == '.') { /* Maildir++ ".Travel" */
		comp++;
		len--;
	}
	if (len < 3 || len >= WORD_MAX)
		return false;
	for (size_t k = 0; k < len; k++)
		c[k] = lower(comp[k]);
	c[len] = '\0';
	if (in_list(c, mail_dirs) || !has_word(q, c))
		return false;
	snprintf(out, outsz, "%s", c);
	return true;
}

/* A folder below a hit's source, or the source's own name, named in q. */
static bool names_folder(const char *q, const struct rtr_hit *h, size_t n, char *out, size_t outsz)
{
	for (size_t i = 0; i < n; i++) {
		const char *p = h[i].path, *src = h[i].source_path;
		if (!p || !src || !rtr_path_within(p, src))
			continue;
		const char *base = strrchr(src, '/');
		base = base ? base + 1 : src;
		if (component_named(q, base, strlen(base), out, outsz))
			return true;
		/* the directories between the source and the file */
		const char *s = p + strlen(src);
		const char *file = strrchr(p, '/');
		while (file && s < file) {
			while (*s == '/')
				s++;
			const char *slash = strchr(s, '/');
			if (!slash || slash > file)
				break;
			if (component_named(q, s, (size_t)(slash - s), out, outsz))
				return true;
			s = slash;
		}
	}
	return false;
}

/* Whether text holds the words w[0..k) in a row (lower-case; text in any
 * case); with cap (k == 1), only where the word is capitalised. */
static bool has_run(const char *text, char (*w)[WORD_MAX], size_t k, bool cap)
{
	char win[4][WORD_MAX];
	bool capw[4];
	size_t pos = 0, seen = 0;
	char t[WORD_MAX];
	bool up;
	while (text && next_word(text, &pos, t, &up)) {
		size_t n = strlen(t);
		if (n > 2 && !strcmp(t + n - 2, "'s"))
			t[n - 2] = '\0';
		memmove(win[1], win[0], sizeof win[0] * 3);
		memmove(capw + 1, capw, sizeof capw[0] * 3);
		memcpy(win[0], t, WORD_MAX);
		capw[0] = up;
		if (++seen < k)
			continue;
		bool same = true;
		for (size_t j = 0; j < k && same; j++) /* win[0] is the last word */
			same = !strcmp(win[k - 1 - j], w[j]);
		if (same && (!cap || capw[0]))
			return true;
	}
	return false;
}

/*
 * A proper name of q that a retrieved passage (or its document's title)
 * holds. Names are runs of words capitalised inside a sentence (not the
 * first word of the text, of a line or of a sentence), with a lower-case
 * letter after the capital (not acronyms), not stop words, a possessive
 * "'s" dropped. A run of two to four words, one of them at least not a
 * common word (the sanitizer's list of words that are capitalised at times
 * but are not names: countries, months, ...), must appear in a row in a
 * passage ("the Nordic Strings concert"); a single word of three letters or
 * more, not a common word, must appear capitalised ("When is Erik's
 * wedding?"). "Which treaty did the Parties sign?" or "his novel Quiet
 * Winter" do not name the user's world because a passage says "parties" or
 * "The Quiet Grid". The name found goes to out.
 */
static bool names_index_term(const char *q, const struct rtr_hit *const legs[2],
			     const size_t nlegs[2], char *out, size_t outsz)
{
	const struct rtr_names *nm = rtr_names_get();
	char run[4][WORD_MAX];
	size_t nrun = 0, pos = 0;
	bool uncommon = false;
	char w[WORD_MAX];
	bool up;
	for (bool more = true; more;) {
		size_t before = pos;
		more = next_word(q, &pos, w, &up);
		bool in_name = false, joined = false;
		size_t n = 0;
		if (more) {
			size_t start = before;
			n = strlen(w);
			while (q[start] &&
			       !(is_word_byte((unsigned char)q[start]) && q[start] != '\''))
				start++;
			size_t k = start;
			while (k > before && (q[k - 1] == ' ' || q[k - 1] == '-'))
				k--;
			joined = nrun && k == before;
			while (k > 0 && (q[k - 1] == ' ' || q[k - 1] == '\t'))
				k--;
			bool first = k == 0 || strchr(".?!:;\n\r\"(", q[k - 1]);
			unsigned char c1 = (unsigned char)q[start + 1];
			bool title = up && ((c1 >= 'a' && c1 <= 'z') || c1 >= 0x80);
			if (n > 2 && !strcmp(w + n - 2, "'s"))
				w[n -= 2] = '\0';
			in_name = title && !first && n >= 2 && !in_list(w, stop_words);
			if (in_name && (!nrun || joined) && nrun < 4) {
				memcpy(run[nrun++], w, WORD_MAX);
				uncommon |= n >= 3 && !(nm && rtr_names_is_common(nm, w, n));
				continue;
			}
		}
		/* the run ends: look it up */
		if (nrun && uncommon)
			for (int l = 0; l < 2; l++)
				for (size_t i = 0; i < nlegs[l]; i++) {
					const struct rtr_hit *h = &legs[l][i];
					if (!has_run(h->text, run, nrun, nrun == 1) &&
					    !has_run(h->title, run, nrun, nrun == 1))
						continue;
					size_t at = 0;
					out[0] = '\0';
					for (size_t j = 0; j < nrun && at < outsz; j++) {
						int m = snprintf(out + at, outsz - at, "%s%s",
								 j ? " " : "", run[j]);
						if (m < 0)
							break;
						at += (size_t)m;
					}
					return true;
				}
		nrun = 0;
		uncommon = false;
		if (in_name) { /* a name begins here */
			memcpy(run[nrun++], w, WORD_MAX);
			uncommon = n >= 3 && !(nm && rtr_names_is_common(nm, w, n));
		}
	}
	return false;
}

/* Share of the question's content words found in text; *nwords their count. */
static double coverage(const char *q, const char *text, size_t *nwords)
{
	char qw[MAX_WORDS][WORD_MAX];
	size_t nq = 0, pos = 0;
	char w[WORD_MAX];
	while (nq < MAX_WORDS && next_word(q, &pos, w, NULL)) {
		if (strlen(w) < 2 || in_list(w, stop_words))
			continue;
		stem(w);
		bool dup = false;
		for (size_t k = 0; k < nq && !dup; k++)
			dup = !strcmp(qw[k], w);
		if (!dup)
			memcpy(qw[nq++], w, WORD_MAX);
	}
	*nwords = nq;
	if (!nq || !text)
		return 0;
	bool found[MAX_WORDS] = { false };
	size_t nfound = 0;
	pos = 0;
	while (nfound < nq && next_word(text, &pos, w, NULL)) {
		stem(w);
		for (size_t k = 0; k < nq; k++)
			if (!found[k] && !strcmp(qw[k], w)) {
				found[k] = true;
				nfound++;
			}
	}
	return (double)nfound / (double)nq;
}

static double overlap5(const struct rtr_hit *a, size_t na, const struct rtr_hit *b, size_t nb)
{
	size_t ka = na < 5 ? na : 5, kb = nb < 5 ? nb : 5, k = ka < kb ? ka : kb, same = 0;
	if (!k)
		return 0;
	for (size_t i = 0; i < ka; i++)
		for (size_t j = 0; j < kb; j++)
			if (a[i].doc_id == b[j].doc_id) {
				same++;
				break;
			}
	return (double)same / (double)k;
}

size_t rtr_name_candidates(const char *question, char (*out)[48], size_t max)
{
	size_t n = 0, pos = 0;
	char w[WORD_MAX];
	while (n < max && question && next_word(question, &pos, w, NULL)) {
		if (strlen(w) < 3 || in_list(w, stop_words) || (w[0] >= '0' && w[0] <= '9') ||
		    strchr(w, '\''))
			continue;
		bool dup = false;
		for (size_t k = 0; k < n && !dup; k++)
			dup = !strcmp(out[k], w);
		if (!dup)
			memcpy(out[n++], w, WORD_MAX);
	}
	return n;
}

/* ---- the learned score ------------------------------------------------------------ */

double rtr_model_score_part(const struct rtr_model *m, bool full, const char *question,
			    const float *emb, size_t dims)
{
	float x[RTR_LR_MAX_DIMS];
	if (m->nfeat != RTR_NFEAT)
		return NAN;
	if (!full) {
		rtr_text_features(question, x);
		return rtr_target_predict(m->target_feat, m->feat, m->feat_disc, x);
	}
	if (!emb || !m->full || dims != m->embed_dims || dims + RTR_NFEAT > RTR_LR_MAX_DIMS)
		return NAN;
	memcpy(x, emb, dims * sizeof *x);
	rtr_text_features(question, x + dims);
	return rtr_target_predict(m->target_full, m->full, m->full_disc, x);
}

double rtr_model_score(const struct rtr_model *m, const char *question, const float *emb,
		       size_t dims, const char **kind)
{
	if (m->nfeat != RTR_NFEAT) {
		*kind = "none";
		return 0;
	}
	if (m->prefer_full) {
		double s = rtr_model_score_part(m, true, question, emb, dims);
		if (!isnan(s)) {
			*kind = "embedding+features";
			return s;
		}
	}
	*kind = "features";
	return rtr_model_score_part(m, false, question, NULL, 0);
}

/* ---- the decision ------------------------------------------------------------------- */

static void set_why(struct rtr_explain *ex, const char *a, const char *b, const char *c)
{
	snprintf(ex->why, sizeof ex->why, "%s%.*s%s", a, 160, b, c);
}

void rtr_decide(const struct rtr_input *in, const struct rtr_params *p, struct rtr_explain *ex)
{
	memset(ex, 0, sizeof *ex);
	ex->decision = RTR_LOCAL;
	ex->scorer = "none";
	ex->score = NAN;
	ex->threshold = NAN;
	const char *q = in->question ? in->question : "";
	rtr_text_features(q, ex->feat);

	/* retrieval confidence */
	if (in->n_bm25) {
		ex->top_bm25 = in->bm25[0].score;
		if (in->n_bm25 > 1 && fabs(in->bm25[0].score) > 0)
			ex->margin_bm25 =
				(in->bm25[0].score - in->bm25[1].score) / fabs(in->bm25[0].score);
		ex->coverage = coverage(q, in->bm25[0].text, &ex->content_words);
	} else {
		coverage(q, NULL, &ex->content_words);
	}
	if (in->n_dense) {
		ex->top_dense = in->dense[0].score;
		if (in->n_dense > 1)
			ex->margin_dense = in->dense[0].score - in->dense[1].score;
		size_t nw;
		double c = coverage(q, in->dense[0].text, &nw);
		if (c > ex->coverage)
			ex->coverage = c;
	}
	ex->agreement = overlap5(in->bm25, in->n_bm25, in->dense, in->n_dense);
	ex->has_draft = in->has_draft;
	ex->draft_logprob = in->draft_logprob;
	ex->draft_entropy = in->draft_entropy;

	/* 1. privacy */
	if (first_person(q, ex->word, sizeof ex->word))
		ex->reasons |= RTR_R_FIRST_PERSON;
	if (names_contact(q, in->people, in->n_people, ex->contact, sizeof ex->contact) ||
	    names_contact(q, in->bm25, in->n_bm25, ex->contact, sizeof ex->contact) ||
	    names_contact(q, in->dense, in->n_dense, ex->contact, sizeof ex->contact))
		ex->reasons |= RTR_R_CONTACT;
	if (names_folder(q, in->bm25, in->n_bm25, ex->folder, sizeof ex->folder) ||
	    names_folder(q, in->dense, in->n_dense, ex->folder, sizeof ex->folder))
		ex->reasons |= RTR_R_FOLDER;
	const struct rtr_hit *const legs[2] = { in->bm25, in->dense };
	const size_t nlegs[2] = { in->n_bm25, in->n_dense };
	if (names_index_term(q, legs, nlegs, ex->name, sizeof ex->name))
		ex->reasons |= RTR_R_INDEX_NAME;
	bool agree_top = in->n_bm25 && in->n_dense && in->bm25[0].doc_id == in->dense[0].doc_id;
	if ((ex->content_words >= 2 && ex->coverage >= p->strong_coverage) ||
	    (in->n_dense && ex->top_dense >= p->strong_cosine && agree_top))
		ex->reasons |= RTR_R_STRONG_HIT;
	for (size_t s = 0; s < p->n_never_send && !ex->source[0]; s++) {
		for (int l = 0; l < 2 && !ex->source[0]; l++)
			for (size_t i = 0; i < nlegs[l]; i++) {
				const char *sp = legs[l][i].source_path ? legs[l][i].source_path
									: legs[l][i].path;
				if (sp && rtr_path_within(sp, p->never_send[s])) {
					snprintf(ex->source, sizeof ex->source, "%s",
						 p->never_send[s]);
					ex->reasons |= RTR_R_NEVER_SEND;
					break;
				}
			}
	}
	ex->private_q = (ex->reasons & RTR_R_PRIVATE) != 0;

	/* the learned score, looked at whatever happens (for --explain) */
	if (p->model) {
		const float *emb = in->embedding;
		if (emb && p->model->full && p->model->prefer_full &&
		    (!in->fingerprint || strcmp(in->fingerprint, p->model->fingerprint))) {
			ex->reasons |= RTR_R_MODEL_REFUSED;
			emb = NULL;
		}
		ex->score = rtr_model_score(p->model, q, emb, in->dims, &ex->scorer);
		double share = p->share >= 0 ? p->share : p->model->share;
		const double *qt = strcmp(ex->scorer, "embedding+features") ? p->model->qfeat
									    : p->model->qfull;
		ex->threshold =
			!isnan(p->threshold) ? p->threshold : rtr_quantile_threshold(qt, share);
	} else if (!isnan(p->threshold)) {
		ex->threshold = p->threshold;
	}

	if (ex->private_q) {
		if (ex->reasons & RTR_R_NEVER_SEND)
			set_why(ex, "a passage it draws on comes from ", ex->source,
				", which never leaves");
		else if (ex->reasons & RTR_R_FIRST_PERSON)
			set_why(ex, "it is about your own data (\"", ex->word, "\")");
		else if (ex->reasons & RTR_R_CONTACT)
			set_why(ex, "it names a contact in your index (\"", ex->contact, "\")");
		else if (ex->reasons & RTR_R_FOLDER)
			set_why(ex, "it names a folder of your sources (\"", ex->folder, "\")");
		else if (ex->reasons & RTR_R_INDEX_NAME)
			set_why(ex, "it names something in your own data (\"", ex->name, "\")");
		else
			set_why(ex, "your own index holds a passage that matches it closely", "",
				"");
		return;
	}
	/* 2. policy */
	if (p->policy == RTR_POLICY_NEVER) {
		ex->reasons |= RTR_R_POLICY;
		set_why(ex, "the cloud policy is 'never'", "", "");
		return;
	}
	/* 3. need */
	if (in->local == RTR_LOCAL_ANSWERED) {
		/* the answer is in your own data: the cloud, which only gets the
		 * question, cannot do better */
		ex->reasons |= RTR_R_COVERED;
		set_why(ex, "the local answer found it in your index", "", "");
		return;
	}
	if (in->has_draft && in->draft_logprob >= p->draft_confident) {
		ex->reasons |= RTR_R_DRAFT_OK;
		set_why(ex, "the local draft answer is confident", "", "");
		return;
	}
	if (!p->local_model) {
		if (in->local == RTR_LOCAL_UNKNOWN && ex->content_words &&
		    ex->coverage >= p->weak_coverage) {
			ex->reasons |= RTR_R_COVERED;
			set_why(ex, "the passages in your index cover the question", "", "");
			return;
		}
		ex->reasons |= RTR_R_NOT_COVERED;
		ex->decision = RTR_ESCALATE;
		set_why(ex,
			"no local chat model, and your index does not answer this general question",
			"", "");
		return;
	}
	if (!p->model || isnan(ex->score) || !strcmp(ex->scorer, "none")) {
		ex->reasons |= RTR_R_NO_MODEL;
		set_why(ex, "no trained router (memex router train): answered locally", "", "");
		return;
	}
	if (ex->score >= ex->threshold) {
		ex->reasons |= RTR_R_SCORE_HIGH;
		ex->decision = RTR_ESCALATE;
		set_why(ex, "the router expects the cloud model to do better", "", "");
	} else {
		ex->reasons |= RTR_R_SCORE_LOW;
		set_why(ex, "the router expects the local model to do as well", "", "");
	}
}
