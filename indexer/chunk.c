/*
 * chunk.c - split text into overlapping, citation-ready chunks.
 *
 * Outline:
 *  1. Segment: paragraphs (blank-line separated), then sentences (a '.',
 *     '!' or '?' or CJK full stop followed by white space), then, for a
 *     sentence still over max_tokens, cuts at white space or, failing
 *     that, at a UTF-8 character boundary.
 *  2. Pack segments greedily: a chunk closes before it would pass
 *     max_tokens, or once it has target_tokens and a paragraph ends.
 *  3. Overlap: unless the chunk ended a paragraph, the next one starts with
 *     the last segments of this one, up to overlap_tokens, and always moves
 *     forward by at least one segment.
 *  4. A last chunk under a quarter of the target joins the one before it
 *     when the two fit in max_tokens.
 */
#include <stdlib.h>
#include <string.h>

#include "../common/status.h"
#include "../common/utf8.h"
#include "indexer.h"

struct idx_chunk_params idx_chunk_params_default(void)
{
	return (struct idx_chunk_params){ .target_tokens = 300,
					  .max_tokens = 400,
					  .overlap_tokens = 50 };
}

static bool is_alnum_ascii(unsigned char c)
{
	return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

static bool is_space(unsigned char c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v';
}

/* The token estimate, one character at a time, so that a cut can grow in
 * linear time: each maximal run of ASCII letters and digits counts one
 * token per 6 characters begun, other ASCII marks one each, CJK and later
 * scripts one per character, and other non-ASCII letters one per three. */
struct tok_state {
	size_t tokens, run, latin;
};

/* Consumes the character at p (n > 0 bytes left); returns its length. */
static size_t tok_step(struct tok_state *st, const unsigned char *p, size_t n)
{
	if (is_alnum_ascii(p[0])) {
		if (st->run++ % 6 == 0)
			st->tokens++;
		return 1;
	}
	st->run = 0;
	if (p[0] < 0x80) {
		if (!is_space(p[0]))
			st->tokens++;
		return 1;
	}
	uint32_t cp = 0;
	size_t k = mx_utf8_decode(p, n, &cp);
	if (!k)
		k = 1;
	if (cp >= 0x2E80)
		st->tokens++;
	else if (++st->latin % 3 == 0)
		st->tokens++;
	return k;
}

size_t idx_tokens_estimate(const char *s, size_t n)
{
	struct tok_state st = { 0 };
	const unsigned char *p = (const unsigned char *)s;
	for (size_t i = 0; i < n;)
		i += tok_step(&st, p + i, n - i);
	return st.tokens;
}

struct seg {
	size_t start, end, tokens;
	bool para_end;
};

struct segs {
	struct seg *v;
	size_t n, cap;
};

static int seg_push(struct segs *s, size_t start, size_t end, size_t tokens, bool para_end)
{
	if (s->n == s->cap) {
		size_t c = s->cap ? s->cap * 2 : 64;
		struct seg *v = realloc(s->v, c * sizeof *v);
		if (!v)
			return MX_ENOMEM;
		s->v = v;
		s->cap = c;
	}
	s->v[s->n++] = (struct seg){ start, end, tokens, para_end };
	return 0;
}

/* A sentence over max tokens: cut at white space (or a character
 * boundary) into pieces of at most max tokens. Linear in the length: the
 * estimate grows one character at a time. */
static int split_long(struct segs *s, const char *t, size_t start, size_t end, size_t max,
		      bool para_end)
{
	const unsigned char *u = (const unsigned char *)t;
	int rc;
	while (start < end) {
		struct tok_state st = { 0 };
		size_t cut = start, last_space = 0;
		while (cut < end) {
			struct tok_state before = st;
			size_t step = tok_step(&st, u + cut, end - cut);
			if (st.tokens > max && cut > start) {
				st = before;
				break;
			}
			cut += step;
			if (cut < end && is_space(u[cut]))
				last_space = cut;
		}
		if (cut < end && last_space > start)
			cut = last_space;
		cut = start + mx_utf8_floor(t + start, cut - start);
		if (cut <= start) /* cannot happen on valid UTF-8; be safe */
			cut = end;
		size_t tok = idx_tokens_estimate(t + start, cut - start);
		if ((rc = seg_push(s, start, cut, tok, para_end && cut >= end)))
			return rc;
		start = cut;
		while (start < end && is_space(u[start]))
			start++;
	}
	return 0;
}

static bool sentence_end(const char *t, size_t i, size_t n)
{
	unsigned char c = (unsigned char)t[i];
	if ((c == '.' || c == '!' || c == '?') && i + 1 < n) {
		size_t j = i + 1;
		while (j < n && (t[j] == '"' || t[j] == '\'' || t[j] == ')'))
			j++;
		return j < n && is_space((unsigned char)t[j]);
	}
	/* U+3002 IDEOGRAPHIC FULL STOP, U+FF01, U+FF1F */
	if (c == 0xE3 && i + 2 < n && (unsigned char)t[i + 1] == 0x80 &&
	    (unsigned char)t[i + 2] == 0x82)
		return true;
	if (c == 0xEF && i + 2 < n && (unsigned char)t[i + 1] == 0xBC &&
	    ((unsigned char)t[i + 2] == 0x81 || (unsigned char)t[i + 2] == 0x9F))
		return true;
	return false;
}

/* Length of the sentence terminator at i (1 for ASCII, 3 for CJK). */
static size_t end_len(const char *t, size_t i)
{
	return (unsigned char)t[i] < 0x80 ? 1 : 3;
}

static int segment(const char *t, size_t n, size_t max, struct segs *s)
{
	size_t i = 0;
	int rc;
	while (i < n) {
		while (i < n && is_space((unsigned char)t[i]))
			i++;
		if (i >= n)
			break;
		/* paragraph [i, pe): ends at a blank line or the end */
		size_t pe = i;
		while (pe < n) {
			if (t[pe] == '\n') {
				size_t j = pe + 1;
				while (j < n && (t[j] == ' ' || t[j] == '\t' || t[j] == '\r'))
					j++;
				if (j >= n || t[j] == '\n')
					break;
			}
			pe++;
		}
		/* sentences inside the paragraph */
		size_t ss = i;
		for (size_t k = i; k < pe; k++) {
			if (!sentence_end(t, k, pe))
				continue;
			size_t se = k + end_len(t, k);
			while (se < pe && (t[se] == '"' || t[se] == '\'' || t[se] == ')'))
				se++;
			size_t tok = idx_tokens_estimate(t + ss, se - ss);
			rc = tok > max ? split_long(s, t, ss, se, max, false)
				       : seg_push(s, ss, se, tok, false);
			if (rc)
				return rc;
			ss = se;
			while (ss < pe && is_space((unsigned char)t[ss]))
				ss++;
			k = ss ? ss - 1 : 0;
		}
		size_t end = pe;
		while (end > ss && is_space((unsigned char)t[end - 1]))
			end--;
		if (end > ss) {
			size_t tok = idx_tokens_estimate(t + ss, end - ss);
			rc = tok > max ? split_long(s, t, ss, end, max, true)
				       : seg_push(s, ss, end, tok, true);
			if (rc)
				return rc;
		} else if (s->n) {
			s->v[s->n - 1].para_end = true;
		}
		i = pe;
	}
	return 0;
}

/* 1-based line of byte offset off, by binary search over line starts. */
static int64_t line_of(const size_t *starts, size_t nlines, size_t off)
{
	size_t lo = 0, hi = nlines;
	while (hi - lo > 1) {
		size_t mid = lo + (hi - lo) / 2;
		if (starts[mid] <= off)
			lo = mid;
		else
			hi = mid;
	}
	return (int64_t)lo + 1;
}

int idx_chunk_text(const char *text, size_t len, int64_t line_base,
		   const struct idx_chunk_params *p, struct idx_span **out, size_t *n)
{
	struct segs s = { 0 };
	struct idx_span *v = NULL;
	size_t *starts = NULL, nlines = 0, k = 0;
	int rc = 0;
	*out = NULL;
	*n = 0;
	if (!p->max_tokens || p->target_tokens > p->max_tokens ||
	    p->overlap_tokens >= p->max_tokens)
		return MX_EINVAL;
	if ((rc = segment(text, len, p->max_tokens, &s)))
		goto out;
	if (s.n == 0)
		goto out;
	if (line_base >= 0) {
		size_t cnt = 1;
		for (size_t i = 0; i < len; i++)
			cnt += text[i] == '\n';
		starts = malloc(cnt * sizeof *starts);
		if (!starts) {
			rc = MX_ENOMEM;
			goto out;
		}
		starts[nlines++] = 0;
		for (size_t i = 0; i < len; i++)
			if (text[i] == '\n')
				starts[nlines++] = i + 1;
	}
	v = malloc(s.n * sizeof *v); /* never more chunks than segments */
	if (!v) {
		rc = MX_ENOMEM;
		goto out;
	}
	size_t i = 0;
	while (i < s.n) {
		size_t j = i, tok = 0;
		while (j < s.n) {
			if (tok && tok + s.v[j].tokens > p->max_tokens)
				break;
			tok += s.v[j].tokens;
			j++;
			if (tok >= p->max_tokens ||
			    (tok >= p->target_tokens && s.v[j - 1].para_end))
				break;
		}
		struct idx_span *c = &v[k++];
		c->start = s.v[i].start;
		c->end = s.v[j - 1].end;
		if (starts) {
			c->line_start = line_base + line_of(starts, nlines, c->start);
			c->line_end = line_base + line_of(starts, nlines, c->end - 1);
		} else {
			c->line_start = c->line_end = 0;
		}
		if (j >= s.n)
			break;
		size_t next = j;
		if (!s.v[j - 1].para_end) {
			size_t ov = 0;
			while (next - 1 > i && ov + s.v[next - 1].tokens <= p->overlap_tokens) {
				next--;
				ov += s.v[next].tokens;
			}
		}
		i = next;
	}
	/* A small tail (a closing line of tags, a signature) is folded into
	 * the chunk before it when they fit together: alone, it would be a
	 * chunk with no context that ranks high on title matches. */
	if (k >= 2) {
		struct idx_span *a = &v[k - 2], *b = &v[k - 1];
		size_t tail = idx_tokens_estimate(text + b->start, b->end - b->start);
		if (tail * 4 < p->target_tokens &&
		    idx_tokens_estimate(text + a->start, b->end - a->start) <= p->max_tokens) {
			a->end = b->end;
			a->line_end = b->line_end;
			k--;
		}
	}
out:
	free(s.v);
	free(starts);
	if (rc) {
		free(v);
		return rc;
	}
	*out = v;
	*n = k;
	return 0;
}
