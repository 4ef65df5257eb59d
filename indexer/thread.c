/*
 * thread.c - group mail into threads.
 *
 * Outline: every message-id that appears (a message's own, its
 * In-Reply-To, its References) is a node; a message joins its own id with
 * every id it refers to (union-find with path halving). Messages that
 * refer to the same missing parent thus share a thread, and a cycle in
 * the references is harmless. A message with no Message-ID is a node of
 * its own. Only ids of the form local@domain link anything: mail in the
 * wild carries junk such as "References: <yes>" (notmuch's lkml corpus),
 * which would otherwise join every message that repeats it into one
 * thread. A reference that is not local@domain is skipped, and a message
 * whose own Message-ID is not is a node of its own. A thread's id is the first 16 hex digits of the SHA-256 of its
 * earliest message's id (by date, then document id), so it stays stable
 * as replies arrive. Only rows whose thread changed are written.
 */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../common/hash.h"
#include "../common/status.h"
#include "../store/store.h"
#include "indexer.h"

struct node {
	const char *id;
	size_t parent;
};

static int node_cmp(const void *a, const void *b)
{
	return strcmp(((const struct node *)a)->id, ((const struct node *)b)->id);
}

static size_t find(struct node *v, size_t i)
{
	while (v[i].parent != i) {
		v[i].parent = v[v[i].parent].parent;
		i = v[i].parent;
	}
	return i;
}

static size_t lookup(const struct node *v, size_t n, const char *id)
{
	size_t lo = 0, hi = n;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		int c = strcmp(v[mid].id, id);
		if (c == 0)
			return mid;
		if (c < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return SIZE_MAX;
}

/* Whether id is local@domain: an '@' with something on both sides. */
static bool id_links(const char *id)
{
	const char *at = strrchr(id, '@');
	return at && at > id && at[1];
}

/* Splits a space-separated list in place, appending the ids that can link
 * messages (id_links) to tok. */
static void split_ids(char *list, const char **tok, size_t *n)
{
	char *save = NULL;
	if (!list)
		return;
	for (char *t = strtok_r(list, " ", &save); t; t = strtok_r(NULL, " ", &save))
		if (id_links(t))
			tok[(*n)++] = t;
}

static size_t count_ids(const char *list)
{
	size_t n = 0;
	for (const char *p = list; p && *p; p++)
		if (*p != ' ' && (p == list || p[-1] == ' '))
			n++;
	return n;
}

int idx_threads_update(struct store *st, uint64_t *changed)
{
	struct store_maillink *m = NULL;
	size_t nm = 0, ntok = 0;
	struct node *v = NULL;
	const char **tok = NULL;
	size_t *first = NULL, *earliest = NULL;
	char(*own)[32] = NULL;
	int rc = store_maillink_list(st, &m, &nm);
	if (rc)
		return rc;
	*changed = 0;
	if (nm == 0)
		goto out;

	/* tokens: per message, its own id then the ids it refers to */
	size_t total = 0;
	for (size_t i = 0; i < nm; i++)
		total += 1 + count_ids(m[i].in_reply_to) + count_ids(m[i].refs);
	tok = calloc(total, sizeof *tok);
	first = calloc(nm + 1, sizeof *first);
	own = calloc(nm, sizeof *own);
	v = calloc(total, sizeof *v);
	if (!tok || !first || !own || !v) {
		rc = MX_ENOMEM;
		goto out;
	}
	for (size_t i = 0; i < nm; i++) {
		first[i] = ntok;
		if (m[i].message_id && id_links(m[i].message_id)) {
			tok[ntok++] = m[i].message_id;
		} else {
			/* a space cannot occur in a real id: no clash */
			snprintf(own[i], sizeof own[i], "doc %lld", (long long)m[i].id);
			tok[ntok++] = own[i];
		}
		split_ids(m[i].in_reply_to, tok, &ntok);
		split_ids(m[i].refs, tok, &ntok);
	}
	first[nm] = ntok;

	/* nodes: the distinct ids */
	for (size_t i = 0; i < ntok; i++)
		v[i] = (struct node){ tok[i], 0 };
	qsort(v, ntok, sizeof *v, node_cmp);
	size_t n = 0;
	for (size_t i = 0; i < ntok; i++)
		if (n == 0 || strcmp(v[n - 1].id, v[i].id))
			v[n++] = v[i];
	for (size_t i = 0; i < n; i++)
		v[i].parent = i;
	for (size_t i = 0; i < nm; i++) {
		size_t self = find(v, lookup(v, n, tok[first[i]]));
		for (size_t k = first[i] + 1; k < first[i + 1]; k++) {
			size_t o = find(v, lookup(v, n, tok[k]));
			if (o != self) {
				/* the smaller index becomes the root */
				if (o < self) {
					v[self].parent = o;
					self = o;
				} else {
					v[o].parent = self;
				}
			}
		}
	}

	/* the earliest message of each thread, by root */
	earliest = malloc(n * sizeof *earliest);
	if (!earliest) {
		rc = MX_ENOMEM;
		goto out;
	}
	for (size_t i = 0; i < n; i++)
		earliest[i] = SIZE_MAX;
	for (size_t i = 0; i < nm; i++) {
		size_t r = find(v, lookup(v, n, tok[first[i]]));
		size_t e = earliest[r];
		if (e == SIZE_MAX || m[i].date < m[e].date ||
		    (m[i].date == m[e].date && m[i].id < m[e].id))
			earliest[r] = i;
	}
	for (size_t i = 0; i < nm && !rc; i++) {
		size_t r = find(v, lookup(v, n, tok[first[i]]));
		const char *root_id = tok[first[earliest[r]]];
		char hex[MX_SHA256_HEX_LEN + 1];
		mx_sha256_hex(root_id, strlen(root_id), hex);
		hex[16] = '\0';
		if (m[i].thread_id && !strcmp(m[i].thread_id, hex))
			continue;
		rc = store_thread_set(st, m[i].id, hex);
		(*changed)++;
	}
out:
	free(earliest);
	free(first);
	free(own);
	free(tok);
	free(v);
	store_maillinks_free(m, nm);
	return rc;
}
