/*
 * cmd_eval_pii.c - memex eval pii: measure the PII sanitizer on a labelled
 * set in presidio-research's format.
 *
 *   memex eval pii FILE [--json] [--skip N] [--limit N] [--errors]
 *
 * FILE is a JSON list of samples {"full_text", "spans": [{"entity_type",
 * "entity_value", "start_position", "end_position"}]} with character
 * offsets (code points) into full_text. Each sample is sanitized by a fresh
 * conversation.
 *
 * Matching is token-level, as presidio-research's token evaluator counts:
 * a token is a maximal run of letters and digits (every non-ASCII letter
 * counts); punctuation and spaces are not tokens. A token's gold label is
 * the type of the labelled span it overlaps (by any byte), its predicted
 * label the type of the sanitizer's span it overlaps, or O.
 *
 * Presidio's types map to ours (PERSON, EMAIL_ADDRESS -> EMAIL,
 * PHONE_NUMBER -> PHONE, CREDIT_CARD -> CARD, IBAN_CODE -> IBAN, US_SSN and
 * US_DRIVER_LICENSE and other national ids -> ID, IP_ADDRESS -> IP,
 * DOMAIN_NAME and URL -> URL, ADDRESS -> ADDRESS, DATE_TIME -> DATE); the
 * others (LOCATION, ORGANIZATION, TITLE, PREFIX, NRP, AGE, ...) are out of
 * scope: their tokens are left out of every count, and what share of them
 * the sanitizer masked anyway is printed.
 *
 * Figures: per type, precision, recall and F2 of the typed labels; overall
 * "pii" as presidio-research's pii_precision/pii_recall (a token is right
 * when it is PII in both, whatever the types), "typed" (micro-average over
 * types) and "all labels" (pii counting also the out-of-scope labels as
 * PII to find). "leak-free" is the share of samples whose sanitized text
 * contains none of the in-scope labelled values as a whole word.
 */
#include <errno.h>
#include <getopt.h>
#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "../common/status.h"
#include "../router/sanitize.h"
#include "cli.h"

#define PII_FILE_MAX (512u << 20)

int cmd_eval_pii(struct cli *c, int argc, char **argv);

/* Presidio type -> ours, or -1 out of scope. */
static int map_type(const char *t)
{
	static const struct {
		const char *p;
		int ours;
	} m[] = {
		{ "PERSON", RTR_PII_PERSON },	 { "EMAIL_ADDRESS", RTR_PII_EMAIL },
		{ "EMAIL", RTR_PII_EMAIL },	 { "PHONE_NUMBER", RTR_PII_PHONE },
		{ "CREDIT_CARD", RTR_PII_CARD }, { "IBAN_CODE", RTR_PII_IBAN },
		{ "US_SSN", RTR_PII_ID },	 { "US_DRIVER_LICENSE", RTR_PII_ID },
		{ "US_PASSPORT", RTR_PII_ID },	 { "UK_NHS", RTR_PII_ID },
		{ "US_ITIN", RTR_PII_ID },	 { "IP_ADDRESS", RTR_PII_IP },
		{ "DOMAIN_NAME", RTR_PII_URL },	 { "URL", RTR_PII_URL },
		{ "ADDRESS", RTR_PII_ADDRESS },	 { "STREET_ADDRESS", RTR_PII_ADDRESS },
		{ "DATE_TIME", RTR_PII_DATE },	 { "US_BANK_NUMBER", RTR_PII_ACCOUNT },
	};
	for (size_t k = 0; k < sizeof m / sizeof m[0]; k++)
		if (!strcmp(t, m[k].p))
			return m[k].ours;
	return -1;
}

struct counts {
	size_t tp, fp, fn;
};

static double ratio(size_t a, size_t b)
{
	return b ? (double)a / (double)b : 0.0;
}

static void prf(const struct counts *k, double *p, double *r, double *f2)
{
	*p = ratio(k->tp, k->tp + k->fp);
	*r = ratio(k->tp, k->tp + k->fn);
	*f2 = (*p + *r) > 0 ? 5.0 * *p * *r / (4.0 * *p + *r) : 0.0;
}

/* Byte offset of code point cp in s (clamped to len). */
static size_t cp_to_byte(const char *s, size_t len, size_t cp)
{
	size_t i = 0, k = 0;
	while (i < len && k < cp) {
		i++;
		while (i < len && ((unsigned char)s[i] & 0xC0) == 0x80)
			i++;
		k++;
	}
	return i;
}

static bool is_tok(unsigned char ch)
{
	return (ch >= '0' && ch <= '9') || (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
	       ch >= 0x80;
}

static bool is_wordch(unsigned char ch)
{
	return is_tok(ch) || ch == '_';
}

/* Does v occur in s as a whole word? */
static bool contains_word(const char *s, const char *v)
{
	size_t vl = strlen(v);
	if (!vl)
		return false;
	for (const char *p = strstr(s, v); p; p = strstr(p + 1, v)) {
		bool l = p == s || !is_wordch((unsigned char)p[-1]) ||
			 !is_wordch((unsigned char)v[0]);
		bool r = !is_wordch((unsigned char)p[vl]) || !is_wordch((unsigned char)v[vl - 1]);
		if (l && r)
			return true;
	}
	return false;
}

struct gold {
	size_t b, e;
	int type; /* ours, or -1 out of scope */
	const char *ptype, *value;
};

struct oos {
	char name[32];
	size_t tokens, masked;
};

static const char *jstr_of(json_object *o, const char *key)
{
	json_object *v;
	return json_object_object_get_ex(o, key, &v) && json_object_is_type(v, json_type_string)
		       ? json_object_get_string(v)
		       : NULL;
}

static bool jint_of(json_object *o, const char *key, int64_t *out)
{
	json_object *v;
	if (!json_object_object_get_ex(o, key, &v) || !json_object_is_type(v, json_type_int))
		return false;
	*out = json_object_get_int64(v);
	return true;
}

static void print_row(const char *name, const struct counts *k)
{
	double p, r, f2;
	prf(k, &p, &r, &f2);
	printf("  %-12s %7zu %7zu %7zu  %9.4f %7.4f %7.4f\n", name, k->tp, k->fp, k->fn, p, r, f2);
}

static json_object *json_row(const struct counts *k)
{
	double p, r, f2;
	prf(k, &p, &r, &f2);
	json_object *x = json_object_new_object();
	json_object_object_add(x, "tp", json_object_new_int64((int64_t)k->tp));
	json_object_object_add(x, "fp", json_object_new_int64((int64_t)k->fp));
	json_object_object_add(x, "fn", json_object_new_int64((int64_t)k->fn));
	json_object_object_add(x, "precision", json_object_new_double(p));
	json_object_object_add(x, "recall", json_object_new_double(r));
	json_object_object_add(x, "f2", json_object_new_double(f2));
	return x;
}

int cmd_eval_pii(struct cli *c, int argc, char **argv)
{
	(void)c;
	static const struct option opts[] = {
		{ "json", no_argument, NULL, 'j' },
		{ "skip", required_argument, NULL, 's' },
		{ "limit", required_argument, NULL, 'l' },
		{ "errors", no_argument, NULL, 'e' },
		{ NULL, 0, NULL, 0 },
	};
	bool json = false, errors = false;
	size_t skip = 0, limit = SIZE_MAX;
	int opt;
	while ((opt = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		if (opt == 'j') {
			json = true;
		} else if (opt == 'e') {
			errors = true;
		} else if (opt == 's' || opt == 'l') {
			size_t v;
			if (cli_parse_count(optarg, 0, SIZE_MAX / 2, &v)) {
				cli_error("--%s takes a count, not '%s'",
					  opt == 's' ? "skip" : "limit", optarg);
				return CLI_USAGE;
			}
			if (opt == 's')
				skip = v;
			else
				limit = v;
		} else {
			return cli_usage(cli_command_find("eval"), true);
		}
	}
	if (optind + 1 != argc)
		return cli_usage(cli_command_find("eval"), true);
	const char *path = argv[optind];
	struct stat st;
	if (stat(path, &st)) {
		cli_error("cannot read '%s': %s", path, strerror(errno));
		return CLI_ERR;
	}
	if (!S_ISREG(st.st_mode) || (uint64_t)st.st_size > PII_FILE_MAX) {
		cli_error("'%s': not a regular file under %u MiB", path, PII_FILE_MAX >> 20);
		return CLI_ERR;
	}
	json_object *root = json_object_from_file(path);
	if (!root || !json_object_is_type(root, json_type_array)) {
		cli_error("'%s': not a JSON list of samples", path);
		json_object_put(root);
		return CLI_ERR;
	}
	int ret = CLI_ERR;
	struct counts typed[RTR_PII_NTYPES] = { 0 }, pii = { 0 }, all = { 0 }, micro = { 0 };
	struct oos oos[32];
	size_t noos = 0, nsamples = 0, leak_free = 0, nbad = 0, ntokens = 0;
	struct gold *g = NULL;
	size_t capg = 0;
	signed char *glab = NULL, *plab = NULL;
	size_t caplab = 0;
	size_t n = json_object_array_length(root);
	for (size_t si = skip; si < n && nsamples < limit; si++) {
		json_object *o = json_object_array_get_idx(root, si), *spans;
		const char *text = o ? jstr_of(o, "full_text") : NULL;
		if (!text || !json_object_object_get_ex(o, "spans", &spans) ||
		    !json_object_is_type(spans, json_type_array)) {
			nbad++;
			continue;
		}
		size_t len = strlen(text);
		size_t ns = json_object_array_length(spans), ng = 0;
		if (ns > capg) {
			struct gold *t = realloc(g, ns * sizeof *t);
			if (!t)
				goto nomem;
			g = t;
			capg = ns;
		}
		for (size_t k = 0; k < ns; k++) {
			json_object *sp = json_object_array_get_idx(spans, k);
			const char *ty = sp ? jstr_of(sp, "entity_type") : NULL;
			int64_t a, b;
			if (!ty || !jint_of(sp, "start_position", &a) ||
			    !jint_of(sp, "end_position", &b) || a < 0 || b < a)
				continue;
			const char *v = jstr_of(sp, "entity_value");
			g[ng++] = (struct gold){ cp_to_byte(text, len, (size_t)a),
						 cp_to_byte(text, len, (size_t)b), map_type(ty), ty,
						 v ? v : "" };
		}
		struct rtr_sanitizer *s = rtr_sanitizer_new(NULL);
		char *out = NULL;
		struct rtr_span *ps = NULL;
		size_t np = 0;
		int rc = s ? rtr_sanitize(s, text, len, &out, &ps, &np) : MX_ENOMEM;
		if (rc) {
			rtr_sanitizer_free(s);
			cli_error("sample %zu: %s", si, mx_strerror(rc));
			goto out;
		}
		if (len + 1 > caplab) {
			signed char *a = realloc(glab, len + 1), *b = realloc(plab, len + 1);
			if (a)
				glab = a;
			if (b)
				plab = b;
			if (!a || !b)
				goto nomem_s;
			caplab = len + 1;
		}
		/* labels per byte: -1 none, -2 out of scope, else type */
		memset(glab, -1, len + 1);
		memset(plab, -1, len + 1);
		for (size_t k = 0; k < ng; k++)
			for (size_t j = g[k].b; j < g[k].e && j < len; j++)
				if (glab[j] == -1 || g[k].type >= 0)
					glab[j] = (signed char)(g[k].type >= 0 ? g[k].type : -2);
		for (size_t k = 0; k < np; k++)
			for (size_t j = ps[k].start; j < ps[k].end && j < len; j++)
				plab[j] = (signed char)ps[k].type;
		/* tokens */
		for (size_t i = 0; i < len;) {
			if (!is_tok((unsigned char)text[i])) {
				i++;
				continue;
			}
			size_t b = i;
			while (i < len && is_tok((unsigned char)text[i]))
				i++;
			int gl = -1, pl = -1;
			for (size_t j = b; j < i; j++) {
				if (glab[j] != -1 && gl == -1)
					gl = glab[j];
				if (glab[j] >= 0)
					gl = glab[j];
				if (plab[j] >= 0 && pl < 0)
					pl = plab[j];
			}
			ntokens++;
			bool gp = gl != -1, pp = pl >= 0;
			/* all labels as PII */
			all.tp += gp && pp;
			all.fp += !gp && pp;
			all.fn += gp && !pp;
			if (gl == -2) {
				const char *name = "?";
				for (size_t k = 0; k < ng; k++)
					if (g[k].type < 0 && g[k].b < i && g[k].e > b)
						name = g[k].ptype;
				size_t k = 0;
				while (k < noos && strcmp(oos[k].name, name))
					k++;
				if (k == noos && noos < sizeof oos / sizeof oos[0]) {
					snprintf(oos[k].name, sizeof oos[k].name, "%s", name);
					oos[k].tokens = oos[k].masked = 0;
					noos++;
				}
				if (k < noos) {
					oos[k].tokens++;
					oos[k].masked += pp;
				}
				continue;
			}
			pii.tp += gp && pp;
			pii.fp += !gp && pp;
			pii.fn += gp && !pp;
			if (gl >= 0 && gl == pl) {
				typed[gl].tp++;
			} else {
				if (gl >= 0)
					typed[gl].fn++;
				if (pl >= 0)
					typed[pl].fp++;
			}
		}
		/* leaks */
		bool leak = false;
		for (size_t k = 0; k < ng; k++)
			if (g[k].type >= 0 && contains_word(out, g[k].value)) {
				leak = true;
				if (errors)
					fprintf(stderr, "leak %zu %s: '%s'\n", si, g[k].ptype,
						g[k].value);
			}
		leak_free += !leak;
		if (errors) {
			for (size_t k = 0; k < ng; k++) {
				if (g[k].type < 0)
					continue;
				bool covered = true;
				for (size_t j = g[k].b; j < g[k].e && j < len; j++)
					if (is_tok((unsigned char)text[j]) && plab[j] != g[k].type)
						covered = false;
				if (!covered)
					fprintf(stderr, "miss %zu %s '%.*s'\n", si, g[k].ptype,
						(int)(g[k].e - g[k].b), text + g[k].b);
			}
			for (size_t k = 0; k < np; k++) {
				bool right = false, oos_ = false;
				for (size_t j = ps[k].start; j < ps[k].end; j++) {
					right = right || glab[j] == ps[k].type;
					oos_ = oos_ || glab[j] == -2;
				}
				bool other = false;
				for (size_t j = ps[k].start; j < ps[k].end; j++)
					other = other || (glab[j] >= 0 && glab[j] != ps[k].type);
				if (!right && !oos_)
					fprintf(stderr, "%s %zu %s '%.*s' in: %s\n",
						other ? "type" : "false", si,
						rtr_pii_type_name(ps[k].type),
						(int)(ps[k].end - ps[k].start), text + ps[k].start,
						text);
			}
		}
		free(out);
		free(ps);
		rtr_sanitizer_free(s);
		nsamples++;
		continue;
	nomem_s:
		free(out);
		free(ps);
		rtr_sanitizer_free(s);
		goto nomem;
	}
	for (int t = 0; t < RTR_PII_NTYPES; t++) {
		micro.tp += typed[t].tp;
		micro.fp += typed[t].fp;
		micro.fn += typed[t].fn;
	}
	double p, r, f2;
	prf(&pii, &p, &r, &f2);
	if (json) {
		json_object *jo = json_object_new_object();
		json_object_object_add(jo, "file", json_object_new_string(path));
		json_object_object_add(jo, "samples", json_object_new_int64((int64_t)nsamples));
		json_object_object_add(jo, "tokens", json_object_new_int64((int64_t)ntokens));
		json_object_object_add(jo, "matching", json_object_new_string("token"));
		json_object *jt = json_object_new_object();
		for (int t = 0; t < RTR_PII_NTYPES; t++)
			if (typed[t].tp + typed[t].fp + typed[t].fn)
				json_object_object_add(jt, rtr_pii_type_name(t),
						       json_row(&typed[t]));
		json_object_object_add(jo, "types", jt);
		json_object_object_add(jo, "pii", json_row(&pii));
		json_object_object_add(jo, "typed", json_row(&micro));
		json_object_object_add(jo, "all_labels", json_row(&all));
		json_object *jx = json_object_new_object();
		for (size_t k = 0; k < noos; k++) {
			json_object *x = json_object_new_object();
			json_object_object_add(x, "tokens",
					       json_object_new_int64((int64_t)oos[k].tokens));
			json_object_object_add(x, "masked",
					       json_object_new_int64((int64_t)oos[k].masked));
			json_object_object_add(jx, oos[k].name, x);
		}
		json_object_object_add(jo, "out_of_scope", jx);
		json_object_object_add(jo, "leak_free",
				       json_object_new_double(ratio(leak_free, nsamples)));
		cli_json_print(jo);
	} else {
		printf("%s: %zu samples, %zu tokens (token-level matching)\n", path, nsamples,
		       ntokens);
		printf("  type              tp      fp      fn  precision  recall      F2\n");
		for (int t = 0; t < RTR_PII_NTYPES; t++)
			if (typed[t].tp + typed[t].fp + typed[t].fn)
				print_row(rtr_pii_type_name(t), &typed[t]);
		print_row("typed", &micro);
		print_row("pii", &pii);
		print_row("all labels", &all);
		for (size_t k = 0; k < noos; k++)
			printf("  out of scope %-14s %6zu tokens, %5.1f%% masked anyway\n",
			       oos[k].name, oos[k].tokens,
			       100.0 * ratio(oos[k].masked, oos[k].tokens));
		printf("  leak-free samples: %zu of %zu (%.2f%%)\n", leak_free, nsamples,
		       100.0 * ratio(leak_free, nsamples));
		printf("overall F2 (pii): %.4f\n", f2);
	}
	if (nbad)
		cli_warn("%zu malformed samples skipped", nbad);
	ret = CLI_OK;
	goto out;
nomem:
	cli_error("out of memory");
out:
	free(g);
	free(glab);
	free(plab);
	json_object_put(root);
	return ret;
}
