/*
 * sanitize_int.h - what the files of the sanitizer share (not public).
 *
 * Detection is a set of independent passes over the input bytes, each
 * adding candidate spans (start, end, type, priority) to one list; the
 * sanitizer then keeps, among overlapping candidates, the one of highest
 * priority (then the longest, then the first) and masks those.
 *
 *   pii_detect.c  patterns with checksums and shapes (email ... address)
 *   pii_names.c   person names: lists, contacts, cues
 *   sanitize.c    the handle, the mapping, masking and re-identification
 */
#ifndef MX_RTR_SANITIZE_INT_H
#define MX_RTR_SANITIZE_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "sanitize.h"

/* Priorities: checksummed and exact shapes win over guesses. */
enum {
	RTR_PRIO_GUESS = 10,   /* capitalised word near a cue */
	RTR_PRIO_LIST = 20,    /* name lists */
	RTR_PRIO_ADDRESS = 30, /* address shapes */
	RTR_PRIO_SHAPE = 40,   /* dates, phones, ids without checksum */
	RTR_PRIO_CUE = 45,     /* a value after an explicit cue ("SSN:") */
	RTR_PRIO_CHECKED = 50, /* checksum-valid or unambiguous (email, IBAN) */
	RTR_PRIO_KNOWN = 60,   /* the caller's contacts and terms */
};

struct rtr_cand {
	size_t start, end;
	int type, prio;
};

struct rtr_cands {
	struct rtr_cand *v;
	size_t n, cap, max;
	int err; /* first failure of an append (MX_ENOMEM / MX_ETOOBIG) */
};

/* Appends a candidate (ignored when empty or after an error). */
void rtr_cands_add(struct rtr_cands *c, size_t start, size_t end, int type, int prio);

/* Pattern detectors over s[0..n): every type but PERSON, for the types set
 * in the mask. */
void rtr_detect_patterns(const char *s, size_t n, uint32_t types, struct rtr_cands *c);

/* The compiled-in name lists, opened once per sanitizer. */
struct rtr_names;
/* The name lists and trigram model, built on first use and shared by
 * every sanitizer of the process (never freed); NULL when out of memory. */
const struct rtr_names *rtr_names_get(void);
bool rtr_names_is_first(const struct rtr_names *nm, const char *w, size_t n);
bool rtr_names_is_last(const struct rtr_names *nm, const char *w, size_t n);
/* Common words that are capitalised at times but are not names. */
bool rtr_names_is_common(const struct rtr_names *nm, const char *w, size_t n);

/* Person names from the lists and cues (the contacts are matched apart).
 */
void rtr_detect_names(const struct rtr_names *nm, const char *s, size_t n, struct rtr_cands *c);

/* ---- text helpers ---- */

static inline bool rtr_is_digit(unsigned char c)
{
	return c >= '0' && c <= '9';
}
static inline bool rtr_is_alpha(unsigned char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}
static inline bool rtr_is_alnum(unsigned char c)
{
	return rtr_is_alpha(c) || rtr_is_digit(c);
}
static inline unsigned char rtr_lower(unsigned char c)
{
	return (c >= 'A' && c <= 'Z') ? (unsigned char)(c + 32) : c;
}
static inline bool rtr_is_space(unsigned char c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v';
}
/* A byte that may be part of a word: ASCII letters and digits, and every
 * byte of a multi-byte UTF-8 sequence (letters of other scripts). */
static inline bool rtr_is_wordbyte(unsigned char c)
{
	return rtr_is_alnum(c) || c >= 0x80;
}

/* Case-insensitive (ASCII) comparison of s[0..n) with the NUL-terminated
 * lower-case word w. */
bool rtr_word_eq(const char *s, size_t n, const char *w);

#endif
