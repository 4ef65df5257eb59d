/* fuzz_summary.c - summaries of hostile text (summary.h, convo.h).
 *
 * The input is cut at NUL bytes into up to four messages of a thread (the
 * first line of each is its From header, the second its recipients); each
 * is also summarised alone, searched for a date, and used as a follow-up
 * question. Checks: extractive picks are in range, do not overlap and keep
 * the source's order; thread items point inside their message; a date's
 * span is inside the text. */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../../retriever/convo.h"
#include "../../retriever/summary.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define MSGS 4

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *buf = malloc(size + 1);
	if (!buf)
		return 0;
	memcpy(buf, data, size);
	buf[size] = '\0';
	struct ret_thread_msg m[MSGS];
	size_t n = 0;
	struct ret_summary_params p = ret_summary_params_default();
	p.sentences = 3;
	char err[160];
	for (char *s = buf; n < MSGS && s <= buf + size; n++) {
		size_t len = strlen(s);
		char *nl1 = memchr(s, '\n', len);
		char *nl2 = nl1 ? memchr(nl1 + 1, '\n', len - (size_t)(nl1 + 1 - s)) : NULL;
		char *text = nl2 ? nl2 + 1 : s;
		size_t tlen = len - (size_t)(text - s);
		/* the headers: copies cut at their newline */
		m[n] = (struct ret_thread_msg){ .date = 1788164095 + (int64_t)n * 86400,
						.text = text,
						.len = tlen };
		if (nl1) {
			char *from = strndup(s, (size_t)(nl1 - s));
			char *to = nl2 ? strndup(nl1 + 1, (size_t)(nl2 - nl1 - 1)) : NULL;
			m[n].author = from;
			m[n].recipients = to;
		}
		/* alone: picks in order, in range */
		struct ret_sum_sent *ss = NULL;
		size_t ns = 0;
		struct ret_span skip = { tlen / 3, tlen / 2 };
		if (ret_summary_extract(text, tlen, &skip, 1, &p, &ss, &ns, NULL, err,
					sizeof err) == 0)
			for (size_t i = 0; i < ns; i++) {
				if (ss[i].sp.start >= ss[i].sp.end || ss[i].sp.end > tlen)
					abort();
				if (i && ss[i - 1].sp.end > ss[i].sp.start)
					abort();
				if (ss[i].sp.start < skip.end && skip.start < ss[i].sp.end)
					abort();
			}
		free(ss);
		int64_t day;
		struct ret_span w;
		if (ret_date_find(text, tlen, m[n].date, &day, &w) &&
		    (w.start >= w.end || w.end > tlen))
			abort();
		/* as a follow-up question */
		struct ret_convo *c = NULL;
		if (ret_convo_new(&c) == 0 && ret_convo_add(c, "q", text, m[n].author, text) == 0) {
			char *q = NULL;
			bool rw;
			if (ret_convo_rewrite(c, text, &q, &rw) == 0 && !q)
				abort();
			free(q);
			free(ret_convo_clean_reply(text));
		}
		ret_convo_free(c);
		s += len + 1;
	}
	struct ret_thread_summary t;
	if (n && ret_thread_summarize(m, n, &p, &t) == 0) {
		for (size_t i = 0; i < t.nitems; i++) {
			const struct ret_thread_item *it = &t.items[i];
			if (it->msg >= n || it->sp.end > m[it->msg].len ||
			    it->sp.start >= it->sp.end)
				abort();
			if (it->due &&
			    (it->due_sp.end > m[it->msg].len || it->due_sp.start < it->sp.start))
				abort();
		}
		for (size_t i = 0; i < n; i++)
			if (t.timeline[i] != SIZE_MAX && t.timeline_end[i] > m[i].len)
				abort();
	}
	ret_thread_summary_clear(&t);
	for (size_t i = 0; i < n; i++) {
		free((char *)m[i].author);
		free((char *)m[i].recipients);
	}
	free(buf);
	return 0;
}
