/* mmlu.c - reading RouteLLM's MMLU labels (format in mmlu.h). */
#include <dirent.h>
#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../common/buf.h"
#include "../common/fsutil.h"
#include "../common/status.h"
#include "mmlu.h"
#include "router_int.h"

void rtr_mmlu_free(struct rtr_mmlu *m)
{
	if (!m)
		return;
	for (size_t i = 0; i < m->n; i++)
		free(m->items[i].prompt);
	free(m->items);
	for (size_t i = 0; i < m->nsubjects; i++)
		free(m->subjects[i]);
	free(m->subjects);
	memset(m, 0, sizeof *m);
}

/* One CSV field from *pos (quoted or bare) into b; *end_row says whether a
 * line end (or the end of data) followed it. */
static int csv_field(const char *d, size_t len, size_t *pos, struct mx_buf *b, bool *end_row,
		     size_t *line)
{
	size_t i = *pos;
	int rc;
	mx_buf_reset(b);
	if (i < len && d[i] == '"') {
		i++;
		for (;;) {
			if (i >= len)
				return MX_ECORRUPT; /* an unterminated quote */
			if (d[i] == '"') {
				if (i + 1 < len && d[i + 1] == '"') {
					if ((rc = mx_buf_append(b, "\"", 1)))
						return rc;
					i += 2;
					continue;
				}
				i++;
				break;
			}
			if (d[i] == '\n')
				(*line)++;
			if ((rc = mx_buf_append(b, d + i, 1)))
				return rc;
			i++;
		}
	} else {
		size_t s = i;
		while (i < len && d[i] != ',' && d[i] != '\n' && d[i] != '\r')
			i++;
		if (memchr(d + s, '"', i - s))
			return MX_ECORRUPT;
		if ((rc = mx_buf_append(b, d + s, i - s)))
			return rc;
	}
	if (i < len && d[i] == ',') {
		*end_row = false;
		i++;
	} else if (i >= len) {
		*end_row = true;
	} else if (d[i] == '\r' || d[i] == '\n') {
		if (d[i] == '\r')
			i++;
		if (i < len && d[i] == '\n')
			i++;
		(*line)++;
		*end_row = true;
	} else {
		return MX_ECORRUPT; /* text after a closing quote */
	}
	*pos = i;
	return 0;
}

static int parse_bool(const char *s, bool *v)
{
	if (!strcmp(s, "True")) {
		*v = true;
		return 0;
	}
	if (!strcmp(s, "False")) {
		*v = false;
		return 0;
	}
	return MX_ECORRUPT;
}

int rtr_mmlu_parse_csv(const char *data, size_t len, unsigned subject, struct rtr_mmlu *m,
		       char *err, size_t errsz)
{
	int rc = 0;
	size_t pos = 0, line = 1, row = 0, cap = m->n;
	struct mx_buf f[3];
	for (int k = 0; k < 3; k++)
		mx_buf_init(&f[k], RTR_MMLU_MAX_PROMPT);
	while (pos < len) {
		size_t row_line = line;
		bool end = false;
		int nf = 0;
		while (!end) {
			if (nf >= 3) {
				rc = MX_ECORRUPT;
				mx_seterr(err, errsz, "line %zu: more than 3 fields", row_line);
				goto out;
			}
			if ((rc = csv_field(data, len, &pos, &f[nf], &end, &line))) {
				mx_seterr(err, errsz, "line %zu: %s", row_line,
					  rc == MX_ECORRUPT ? "malformed CSV" : mx_strerror(rc));
				goto out;
			}
			nf++;
		}
		if (nf == 1 && !f[0].len)
			continue; /* a blank line */
		if (nf != 3) {
			rc = MX_ECORRUPT;
			mx_seterr(err, errsz, "line %zu: %d fields, expected 3", row_line, nf);
			goto out;
		}
		if (row++ == 0)
			continue; /* the header */
		struct rtr_mmlu_item it = { .subject = subject };
		if (parse_bool(f[1].data ? f[1].data : "", &it.weak_ok) ||
		    parse_bool(f[2].data ? f[2].data : "", &it.strong_ok)) {
			rc = MX_ECORRUPT;
			mx_seterr(err, errsz, "line %zu: expected True or False", row_line);
			goto out;
		}
		if (m->n >= RTR_MMLU_MAX_ROWS) {
			rc = MX_ETOOBIG;
			mx_seterr(err, errsz, "more than %zu rows", RTR_MMLU_MAX_ROWS);
			goto out;
		}
		if (m->n == cap) {
			cap = cap ? cap * 2 : 256;
			struct rtr_mmlu_item *n = realloc(m->items, cap * sizeof *n);
			if (!n) {
				rc = MX_ENOMEM;
				goto out;
			}
			m->items = n;
		}
		it.prompt = f[0].data ? mx_buf_detach(&f[0]) : strdup("");
		if (!it.prompt) {
			rc = MX_ENOMEM;
			goto out;
		}
		m->items[m->n++] = it;
	}
out:
	for (int k = 0; k < 3; k++)
		mx_buf_free(&f[k]);
	return rc;
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The eval prompts of contaminated_prompts.jsonl, sorted (may be none). */
static int load_contaminated(const char *dir, char ***out, size_t *n)
{
	char *path = mx_path_join(dir, "contaminated_prompts.jsonl"), *data = NULL;
	size_t len = 0, cap = 0;
	*out = NULL;
	*n = 0;
	if (!path)
		return MX_ENOMEM;
	int rc = mx_read_file(path, RTR_MMLU_MAX_FILE, &data, &len);
	free(path);
	if (rc == MX_ENOTFOUND)
		return 0;
	if (rc)
		return rc;
	for (char *p = data, *nl; p && *p; p = nl ? nl + 1 : NULL) {
		nl = strchr(p, '\n');
		if (nl)
			*nl = '\0';
		json_object *o = json_tokener_parse(p);
		json_object *v;
		if (o && json_object_object_get_ex(o, "eval_prompt", &v) &&
		    json_object_is_type(v, json_type_string)) {
			if (*n == cap) {
				cap = cap ? cap * 2 : 16;
				char **nn = realloc(*out, cap * sizeof *nn);
				if (!nn) {
					json_object_put(o);
					rc = MX_ENOMEM;
					break;
				}
				*out = nn;
			}
			if (!((*out)[*n] = strdup(json_object_get_string(v)))) {
				json_object_put(o);
				rc = MX_ENOMEM;
				break;
			}
			(*n)++;
		}
		json_object_put(o);
	}
	free(data);
	if (*n)
		qsort(*out, *n, sizeof **out, cmp_str);
	return rc;
}

int rtr_mmlu_load(const char *dir, struct rtr_mmlu *out, char *err, size_t errsz)
{
	int rc = 0;
	char *rdir = mx_path_join(dir, "responses"), *data = NULL, *path = NULL;
	char **cont = NULL;
	size_t ncont = 0, len = 0, cap = 0;
	DIR *d = NULL;
	memset(out, 0, sizeof *out);
	if (!rdir)
		return MX_ENOMEM;
	if (!(d = opendir(rdir))) {
		mx_seterr(err, errsz, "no folder '%s'", rdir);
		rc = MX_ENOTFOUND;
		goto out;
	}
	struct dirent *e;
	while ((e = readdir(d))) {
		size_t nl = strlen(e->d_name);
		if (nl <= 9 || strncmp(e->d_name, "mmlu_", 5) || strcmp(e->d_name + nl - 4, ".csv"))
			continue;
		if (out->nsubjects >= RTR_MMLU_MAX_SUBJ) {
			rc = MX_ETOOBIG;
			mx_seterr(err, errsz, "more than %d subjects", RTR_MMLU_MAX_SUBJ);
			goto out;
		}
		if (out->nsubjects == cap) {
			cap = cap ? cap * 2 : 64;
			char **n = realloc(out->subjects, cap * sizeof *n);
			if (!n) {
				rc = MX_ENOMEM;
				goto out;
			}
			out->subjects = n;
		}
		if (!(out->subjects[out->nsubjects] = strndup(e->d_name + 5, nl - 9))) {
			rc = MX_ENOMEM;
			goto out;
		}
		out->nsubjects++;
	}
	if (!out->nsubjects) {
		mx_seterr(err, errsz, "no mmlu_*.csv in '%s'", rdir);
		rc = MX_ENOTFOUND;
		goto out;
	}
	qsort(out->subjects, out->nsubjects, sizeof *out->subjects, cmp_str);
	if ((rc = load_contaminated(dir, &cont, &ncont))) {
		mx_seterr(err, errsz, "cannot read contaminated_prompts.jsonl: %s",
			  mx_strerror(rc));
		goto out;
	}
	for (size_t s = 0; s < out->nsubjects; s++) {
		char name[1200];
		snprintf(name, sizeof name, "mmlu_%s.csv", out->subjects[s]);
		if (!(path = mx_path_join(rdir, name))) {
			rc = MX_ENOMEM;
			goto out;
		}
		if ((rc = mx_read_file(path, RTR_MMLU_MAX_FILE, &data, &len))) {
			mx_seterr(err, errsz, "cannot read '%s': %s", path, mx_strerror(rc));
			goto out;
		}
		size_t before = out->n;
		char e2[200] = "";
		if ((rc = rtr_mmlu_parse_csv(data, len, (unsigned)s, out, e2, sizeof e2))) {
			mx_seterr(err, errsz, "%s: %s", path, e2);
			goto out;
		}
		/* drop the contaminated prompts */
		size_t w = before;
		for (size_t i = before; i < out->n; i++) {
			const char *pr = out->items[i].prompt;
			if (ncont && bsearch(&pr, cont, ncont, sizeof *cont, cmp_str)) {
				free(out->items[i].prompt);
				out->dropped++;
				continue;
			}
			out->items[w++] = out->items[i];
		}
		out->n = w;
		free(data);
		data = NULL;
		free(path);
		path = NULL;
	}
out:
	if (d)
		closedir(d);
	for (size_t i = 0; i < ncont; i++)
		free(cont[i]);
	free(cont);
	free(data);
	free(path);
	free(rdir);
	if (rc)
		rtr_mmlu_free(out);
	return rc;
}
