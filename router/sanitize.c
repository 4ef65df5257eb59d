/*
 * sanitize.c - the sanitizer handle: the conversation's mapping of values
 * to placeholders, the caller's known values, masking and re-identification.
 *
 * Outline of rtr_sanitize():
 *   1. candidates from the caller's contacts and terms (whole-word matches),
 *      the pattern detectors and the name detector;
 *   2. overlaps resolved: highest priority first, then the longest, then
 *      the earliest; a byte map of taken bytes rejects the rest;
 *   3. each kept span is looked up in the mapping by (type, normalised
 *      value) and gets its placeholder, new values the next number.
 */
#include "sanitize.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "../common/buf.h"
#include "../common/status.h"
#include "sanitize_int.h"

#define KNOWN_MAX     100000
#define KNOWN_LEN_MAX 256

static const char *const type_names[RTR_PII_NTYPES] = {
	[RTR_PII_PERSON] = "PERSON",   [RTR_PII_EMAIL] = "EMAIL", [RTR_PII_PHONE] = "PHONE",
	[RTR_PII_CARD] = "CARD",       [RTR_PII_IBAN] = "IBAN",	  [RTR_PII_ID] = "ID",
	[RTR_PII_IP] = "IP",	       [RTR_PII_URL] = "URL",	  [RTR_PII_SECRET] = "SECRET",
	[RTR_PII_ADDRESS] = "ADDRESS", [RTR_PII_DATE] = "DATE",	  [RTR_PII_ACCOUNT] = "ACCOUNT",
};

const char *rtr_pii_type_name(int type)
{
	return type >= 0 && type < RTR_PII_NTYPES ? type_names[type] : "?";
}

int rtr_pii_type_parse(const char *name)
{
	if (!name)
		return -1;
	for (int t = 0; t < RTR_PII_NTYPES; t++)
		if (!strcasecmp(name, type_names[t]))
			return t;
	return -1;
}

struct rtr_sanitize_params rtr_sanitize_params_default(void)
{
	return (struct rtr_sanitize_params){ .max_input = 1u << 20,
					     .max_entities = 100000,
					     .types = (1u << RTR_PII_NTYPES) - 1,
					     .name_lists = true };
}

/* ---- candidates ---- */

void rtr_cands_add(struct rtr_cands *c, size_t start, size_t end, int type, int prio)
{
	if (c->err || end <= start)
		return;
	if (c->n == c->cap) {
		if (c->n >= c->max) {
			c->err = MX_ETOOBIG;
			return;
		}
		size_t cap = c->cap ? c->cap * 2 : 64;
		struct rtr_cand *v = realloc(c->v, cap * sizeof *v);
		if (!v) {
			c->err = MX_ENOMEM;
			return;
		}
		c->v = v;
		c->cap = cap;
	}
	c->v[c->n++] = (struct rtr_cand){ start, end, type, prio };
}

bool rtr_word_eq(const char *s, size_t n, const char *w)
{
	for (size_t i = 0; i < n; i++)
		if (!w[i] || rtr_lower((unsigned char)s[i]) != (unsigned char)w[i])
			return false;
	return w[n] == '\0';
}

/* ---- the handle ---- */

struct entry {
	int type;
	unsigned id;
	char *key;   /* normalised value */
	char *value; /* the value as first seen */
};

struct known {
	char *norm; /* normalised phrase */
	int type;
};

struct rtr_sanitizer {
	struct rtr_sanitize_params p;
	const struct rtr_names *names; /* shared, not ours */
	struct entry *ent;
	size_t nent, capent;
	size_t *slots; /* open addressing over ent: index + 1, 0 empty */
	size_t nslots;
	size_t *byid[RTR_PII_NTYPES]; /* id - 1 -> index in ent */
	size_t nbyid[RTR_PII_NTYPES], capbyid[RTR_PII_NTYPES];
	struct known *known;
	size_t nknown, capknown;
	bool known_sorted;
	size_t known_maxlen;
};

struct rtr_sanitizer *rtr_sanitizer_new(const struct rtr_sanitize_params *p)
{
	struct rtr_sanitizer *s = calloc(1, sizeof *s);
	if (!s)
		return NULL;
	s->p = p ? *p : rtr_sanitize_params_default();
	if (!s->p.max_input)
		s->p.max_input = 1u << 20;
	if (!s->p.max_entities)
		s->p.max_entities = 100000;
	s->names = rtr_names_get();
	if (!s->names) {
		free(s);
		return NULL;
	}
	return s;
}

void rtr_sanitizer_reset(struct rtr_sanitizer *s)
{
	if (!s)
		return;
	for (size_t i = 0; i < s->nent; i++) {
		free(s->ent[i].key);
		free(s->ent[i].value);
	}
	free(s->ent);
	free(s->slots);
	s->ent = NULL;
	s->slots = NULL;
	s->nent = s->capent = s->nslots = 0;
	for (int t = 0; t < RTR_PII_NTYPES; t++) {
		free(s->byid[t]);
		s->byid[t] = NULL;
		s->nbyid[t] = s->capbyid[t] = 0;
	}
}

void rtr_sanitizer_free(struct rtr_sanitizer *s)
{
	if (!s)
		return;
	rtr_sanitizer_reset(s);
	for (size_t i = 0; i < s->nknown; i++)
		free(s->known[i].norm);
	free(s->known);
	free(s);
}

size_t rtr_sanitizer_count(const struct rtr_sanitizer *s)
{
	return s ? s->nent : 0;
}

/* ---- normalisation and the mapping ---- */

/* Types whose values are compared by their letters and digits only, so
 * that "4111 1111 1111 1111" and "4111-1111-1111-1111" are one card. */
static bool type_is_code(int type)
{
	return type == RTR_PII_PHONE || type == RTR_PII_CARD || type == RTR_PII_IBAN ||
	       type == RTR_PII_ID || type == RTR_PII_ACCOUNT;
}

/* Lower-case ASCII, runs of white space as one space, trimmed; for codes,
 * only letters and digits. Returns a malloc'd string or NULL. */
static char *normalise(const char *v, size_t n, int type)
{
	char *k = malloc(n + 1);
	if (!k)
		return NULL;
	size_t o = 0;
	bool sp = false;
	bool code = type_is_code(type);
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)v[i];
		if (code) {
			if (rtr_is_alnum(c) || c >= 0x80)
				k[o++] = (char)rtr_lower(c);
			continue;
		}
		if (rtr_is_space(c)) {
			sp = o > 0;
			continue;
		}
		if (sp)
			k[o++] = ' ';
		sp = false;
		k[o++] = (char)rtr_lower(c);
	}
	k[o] = '\0';
	return k;
}

static uint64_t hash_key(int type, const char *k)
{
	uint64_t h = 1469598103934665603ull ^ (uint64_t)type;
	for (; *k; k++)
		h = (h ^ (unsigned char)*k) * 1099511628211ull;
	return h;
}

static int slots_grow(struct rtr_sanitizer *s)
{
	size_t n = s->nslots ? s->nslots * 2 : 256;
	size_t *sl = calloc(n, sizeof *sl);
	if (!sl)
		return MX_ENOMEM;
	for (size_t i = 0; i < s->nent; i++) {
		size_t j = (size_t)hash_key(s->ent[i].type, s->ent[i].key) & (n - 1);
		while (sl[j])
			j = (j + 1) & (n - 1);
		sl[j] = i + 1;
	}
	free(s->slots);
	s->slots = sl;
	s->nslots = n;
	return 0;
}

/* The id of (type, value), adding it when new. 0 on failure with *rc set. */
static unsigned map_id(struct rtr_sanitizer *s, int type, const char *v, size_t n, int *rc)
{
	char *key = normalise(v, n, type);
	if (!key) {
		*rc = MX_ENOMEM;
		return 0;
	}
	if (s->nslots) {
		size_t j = (size_t)hash_key(type, key) & (s->nslots - 1);
		while (s->slots[j]) {
			struct entry *e = &s->ent[s->slots[j] - 1];
			if (e->type == type && !strcmp(e->key, key)) {
				free(key);
				return e->id;
			}
			j = (j + 1) & (s->nslots - 1);
		}
	}
	if (s->nent >= s->p.max_entities) {
		free(key);
		*rc = MX_ETOOBIG;
		return 0;
	}
	if ((s->nent + 1) * 2 > s->nslots && slots_grow(s))
		goto nomem;
	if (s->nent == s->capent) {
		size_t cap = s->capent ? s->capent * 2 : 64;
		struct entry *e = realloc(s->ent, cap * sizeof *e);
		if (!e)
			goto nomem;
		s->ent = e;
		s->capent = cap;
	}
	if (s->nbyid[type] == s->capbyid[type]) {
		size_t cap = s->capbyid[type] ? s->capbyid[type] * 2 : 16;
		size_t *b = realloc(s->byid[type], cap * sizeof *b);
		if (!b)
			goto nomem;
		s->byid[type] = b;
		s->capbyid[type] = cap;
	}
	char *val = malloc(n + 1);
	if (!val)
		goto nomem;
	memcpy(val, v, n);
	val[n] = '\0';
	size_t i = s->nent++;
	s->ent[i] = (struct entry){ type, (unsigned)(s->nbyid[type] + 1), key, val };
	s->byid[type][s->nbyid[type]++] = i;
	size_t j = (size_t)hash_key(type, key) & (s->nslots - 1);
	while (s->slots[j])
		j = (j + 1) & (s->nslots - 1);
	s->slots[j] = i + 1;
	return s->ent[i].id;
nomem:
	free(key);
	*rc = MX_ENOMEM;
	return 0;
}

/* ---- the caller's known values ---- */

static int known_add(struct rtr_sanitizer *s, int type, const char *v, size_t n)
{
	if (n < 2 || n > KNOWN_LEN_MAX)
		return MX_EINVAL;
	if (s->nknown >= KNOWN_MAX)
		return MX_ETOOBIG;
	if (s->nknown == s->capknown) {
		size_t cap = s->capknown ? s->capknown * 2 : 32;
		struct known *k = realloc(s->known, cap * sizeof *k);
		if (!k)
			return MX_ENOMEM;
		s->known = k;
		s->capknown = cap;
	}
	char *norm = normalise(v, n, RTR_PII_PERSON); /* case and spaces only */
	if (!norm)
		return MX_ENOMEM;
	size_t len = strlen(norm);
	if (len < 2) {
		free(norm);
		return MX_EINVAL;
	}
	s->known[s->nknown++] = (struct known){ norm, type };
	if (len > s->known_maxlen)
		s->known_maxlen = len;
	s->known_sorted = false;
	return 0;
}

int rtr_sanitizer_add_term(struct rtr_sanitizer *s, int type, const char *value)
{
	if (!s || !value || type < 0 || type >= RTR_PII_NTYPES)
		return MX_EINVAL;
	return known_add(s, type, value, strlen(value));
}

/* Number of letters (bytes of letters; a multi-byte letter counts more). */
static size_t word_letters(const char *w, size_t n)
{
	size_t k = 0;
	for (size_t i = 0; i < n; i++)
		k += rtr_is_alpha((unsigned char)w[i]) || (unsigned char)w[i] >= 0x80;
	return k;
}

int rtr_sanitizer_add_contact(struct rtr_sanitizer *s, const char *name, const char *email)
{
	if (!s)
		return MX_EINVAL;
	size_t nl = name ? strlen(name) : 0, el = email ? strlen(email) : 0;
	if ((!nl && !el) || nl > KNOWN_LEN_MAX || el > KNOWN_LEN_MAX)
		return MX_EINVAL;
	int rc = 0;
	if (el >= 3 && (rc = known_add(s, RTR_PII_EMAIL, email, el)))
		return rc;
	if (nl < 2)
		return 0;
	/* the full name, then each word of it, then "Last, First" */
	if ((rc = known_add(s, RTR_PII_PERSON, name, nl)) && rc != MX_EINVAL)
		return rc;
	size_t words = 0, first_s = 0, first_e = 0, last_s = 0, last_e = 0;
	for (size_t i = 0; i < nl;) {
		while (i < nl && !rtr_is_wordbyte((unsigned char)name[i]))
			i++;
		size_t b = i;
		while (i < nl && (rtr_is_wordbyte((unsigned char)name[i]) || name[i] == '\'' ||
				  name[i] == '-'))
			i++;
		if (i == b)
			break;
		if (!words)
			first_s = b, first_e = i;
		last_s = b, last_e = i;
		words++;
		if (word_letters(name + b, i - b) >= 3 &&
		    !rtr_names_is_common(s->names, name + b, i - b) &&
		    (rc = known_add(s, RTR_PII_PERSON, name + b, i - b)) && rc != MX_EINVAL)
			return rc;
	}
	if (words >= 2) {
		char rev[2 * KNOWN_LEN_MAX + 4];
		size_t o = 0;
		memcpy(rev, name + last_s, last_e - last_s);
		o = last_e - last_s;
		rev[o++] = ',';
		rev[o++] = ' ';
		memcpy(rev + o, name + first_s, first_e - first_s);
		o += first_e - first_s;
		if ((rc = known_add(s, RTR_PII_PERSON, rev, o)) && rc != MX_EINVAL)
			return rc;
	}
	return 0;
}

static int known_cmp(const void *a, const void *b)
{
	const struct known *x = a, *y = b;
	int c = strcmp(x->norm, y->norm);
	return c ? c : x->type - y->type;
}

static const struct known *known_find(const struct rtr_sanitizer *s, const char *k)
{
	size_t lo = 0, hi = s->nknown;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		int c = strcmp(s->known[mid].norm, k);
		if (!c)
			return &s->known[mid];
		if (c < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return NULL;
}

/* Whole-word matches of the known phrases: from every word start, the
 * normalised text is grown up to the longest phrase and looked up at every
 * word end. */
static void detect_known(struct rtr_sanitizer *s, const char *t, size_t n, struct rtr_cands *c)
{
	if (!s->nknown)
		return;
	if (!s->known_sorted) {
		qsort(s->known, s->nknown, sizeof *s->known, known_cmp);
		s->known_sorted = true;
	}
	char key[KNOWN_LEN_MAX + 2];
	for (size_t i = 0; i < n; i++) {
		unsigned char ch = (unsigned char)t[i];
		if (!rtr_is_wordbyte(ch) || (i && rtr_is_wordbyte((unsigned char)t[i - 1])))
			continue;
		size_t o = 0;
		bool sp = false;
		for (size_t j = i; j < n && o <= s->known_maxlen; j++) {
			unsigned char d = (unsigned char)t[j];
			if (rtr_is_space(d)) {
				sp = true;
				continue;
			}
			if (sp) {
				key[o++] = ' ';
				sp = false;
				if (o > s->known_maxlen)
					break;
			}
			key[o++] = (char)rtr_lower(d);
			bool end = j + 1 == n || !rtr_is_wordbyte((unsigned char)t[j + 1]);
			if (end && rtr_is_wordbyte(d)) {
				key[o] = '\0';
				const struct known *k = known_find(s, key);
				if (k)
					rtr_cands_add(c, i, j + 1, k->type, RTR_PRIO_KNOWN);
			}
		}
	}
}

/* ---- sanitize ---- */

static int cand_order(const void *a, const void *b)
{
	const struct rtr_cand *x = a, *y = b;
	if (x->prio != y->prio)
		return y->prio - x->prio;
	size_t lx = x->end - x->start, ly = y->end - y->start;
	if (lx != ly)
		return lx > ly ? -1 : 1;
	return x->start < y->start ? -1 : x->start > y->start;
}

static int cand_by_start(const void *a, const void *b)
{
	const struct rtr_cand *x = a, *y = b;
	return x->start < y->start ? -1 : x->start > y->start;
}

int rtr_sanitize(struct rtr_sanitizer *s, const char *text, size_t len, char **out,
		 struct rtr_span **spans, size_t *nspans)
{
	if (out)
		*out = NULL;
	if (spans)
		*spans = NULL;
	if (nspans)
		*nspans = 0;
	if (!s || !out || (!text && len) || (spans && !nspans))
		return MX_EINVAL;
	if (len > s->p.max_input)
		return MX_ETOOBIG;
	if (!text)
		text = "";
	int rc = 0;
	struct rtr_cands c = { .max = 16 * (size_t)len + 1024 };
	unsigned char *taken = NULL;
	struct rtr_span *sp = NULL;
	size_t nsp = 0;
	struct mx_buf b;
	mx_buf_init(&b, 16 * (size_t)len + 64); /* "ab" -> "<ADDRESS_99999>" */

	detect_known(s, text, len, &c);
	rtr_detect_patterns(text, len, s->p.types, &c);
	if (s->p.name_lists && (s->p.types & (1u << RTR_PII_PERSON)))
		rtr_detect_names(s->names, text, len, &c);
	if ((rc = c.err))
		goto out;
	/* keep candidates of enabled types only (contacts may name others) */
	size_t k = 0;
	for (size_t i = 0; i < c.n; i++)
		if (s->p.types & (1u << c.v[i].type))
			c.v[k++] = c.v[i];
	c.n = k;

	if (c.n)
		qsort(c.v, c.n, sizeof *c.v, cand_order);
	taken = calloc(len / 8 + 1, 1);
	if (!taken) {
		rc = MX_ENOMEM;
		goto out;
	}
	/* the survivors go to kept[]: a split candidate may leave two pieces */
	struct rtr_cand *kept = malloc(c.n * 2 * sizeof *kept + sizeof *kept);
	if (!kept) {
		rc = MX_ENOMEM;
		goto out;
	}
	k = 0;
	for (size_t i = 0; i < c.n; i++) {
		struct rtr_cand *x = &c.v[i];
		bool free_ = true;
		for (size_t j = x->start; j < x->end && free_; j++)
			free_ = !(taken[j >> 3] & (1u << (j & 7)));
		if (free_) {
			for (size_t j = x->start; j < x->end; j++)
				taken[j >> 3] |= (unsigned char)(1u << (j & 7));
			kept[k++] = *x;
			continue;
		}
		/* fuzzy spans (addresses, names) keep their free parts: an
		 * address block with a phone line inside is still an address */
		if (x->type != RTR_PII_ADDRESS && x->type != RTR_PII_PERSON)
			continue;
		size_t j = x->start;
		int pieces = 0;
		while (j < x->end && pieces < 2) {
			while (j < x->end && (taken[j >> 3] & (1u << (j & 7))))
				j++;
			size_t b0 = j;
			while (j < x->end && !(taken[j >> 3] & (1u << (j & 7))))
				j++;
			size_t e0 = j;
			while (b0 < e0 && !rtr_is_wordbyte((unsigned char)text[b0]))
				b0++;
			while (e0 > b0 && !rtr_is_wordbyte((unsigned char)text[e0 - 1]) &&
			       text[e0 - 1] != '.')
				e0--;
			if (e0 - b0 >= 2) {
				for (size_t q = b0; q < e0; q++)
					taken[q >> 3] |= (unsigned char)(1u << (q & 7));
				kept[k++] = (struct rtr_cand){ b0, e0, x->type, x->prio };
				pieces++;
			}
		}
	}
	free(c.v);
	c.v = kept;
	c.n = k;
	if (c.n)
		qsort(c.v, c.n, sizeof *c.v, cand_by_start);

	if (c.n && !(sp = calloc(c.n, sizeof *sp))) {
		rc = MX_ENOMEM;
		goto out;
	}
	size_t at = 0;
	for (size_t i = 0; i < c.n; i++) {
		struct rtr_cand *x = &c.v[i];
		unsigned id = map_id(s, x->type, text + x->start, x->end - x->start, &rc);
		if (!id)
			goto out;
		if ((rc = mx_buf_append(&b, text + at, x->start - at)) ||
		    (rc = mx_buf_appendf(&b, "<%s_%u>", type_names[x->type], id)))
			goto out;
		at = x->end;
		sp[nsp++] = (struct rtr_span){ x->start, x->end, x->type, id };
	}
	if ((rc = mx_buf_append(&b, text + at, len - at)) || (rc = mx_buf_append(&b, "", 0)))
		goto out;
	if (!b.data && !(b.data = calloc(1, 1))) {
		rc = MX_ENOMEM;
		goto out;
	}
	*out = mx_buf_detach(&b);
	if (spans) {
		*spans = sp;
		*nspans = nsp;
		sp = NULL;
	}
out:
	free(sp);
	free(taken);
	free(c.v);
	mx_buf_free(&b);
	return rc;
}

/* ---- re-identification ---- */

int rtr_reidentify(struct rtr_sanitizer *s, const char *text, size_t len, char **out)
{
	if (out)
		*out = NULL;
	if (!s || !out || (!text && len))
		return MX_EINVAL;
	if (len > s->p.max_input)
		return MX_ETOOBIG;
	if (!text)
		text = "";
	struct mx_buf b;
	mx_buf_init(&b, 4 * s->p.max_input);
	int rc = 0;
	size_t at = 0;
	for (size_t i = 0; i < len; i++) {
		if (text[i] != '<')
			continue;
		size_t j = i + 1;
		while (j < len && j - i <= 8 && text[j] >= 'A' && text[j] <= 'Z')
			j++;
		if (j == i + 1 || j >= len || text[j] != '_')
			continue;
		char tname[12];
		memcpy(tname, text + i + 1, j - i - 1);
		tname[j - i - 1] = '\0';
		int type = rtr_pii_type_parse(tname);
		size_t d = ++j;
		unsigned long id = 0;
		while (j < len && rtr_is_digit((unsigned char)text[j]) && j - d < 9)
			id = id * 10 + (unsigned long)(text[j++] - '0');
		if (type < 0 || j == d || j >= len || text[j] != '>' || !id || id > s->nbyid[type])
			continue;
		const struct entry *e = &s->ent[s->byid[type][id - 1]];
		if ((rc = mx_buf_append(&b, text + at, i - at)) ||
		    (rc = mx_buf_appends(&b, e->value)))
			goto out;
		at = j + 1;
		i = j;
	}
	if ((rc = mx_buf_append(&b, text + at, len - at)) || (rc = mx_buf_append(&b, "", 0)))
		goto out;
	if (!b.data && !(b.data = calloc(1, 1))) {
		rc = MX_ENOMEM;
		goto out;
	}
	*out = mx_buf_detach(&b);
out:
	mx_buf_free(&b);
	return rc;
}
