/*
 * sanitize.h - the PII sanitizer: what leaves the machine passes here first.
 *
 * rtr_sanitize() finds personal data in a text and replaces each value with
 * a placeholder such as <PERSON_1> or <EMAIL_2>. A sanitizer is one
 * conversation: the same value always gets the same placeholder for the
 * lifetime of the handle (matching ignores case and runs of spaces, so
 * "Jane  Doe" and "jane doe" are one person), and rtr_reidentify() turns a
 * reply that uses the placeholders back into the real values. The mapping
 * lives only in the handle, in this process: it is never written, logged or
 * sent anywhere.
 *
 * What is detected (enum rtr_pii_type):
 *   EMAIL    mail addresses
 *   PHONE    phone numbers, international (+CC, 00CC) and national formats
 *   CARD     payment card numbers (13-19 digits, Luhn-valid)
 *   IBAN     IBANs (country length and mod-97 checked)
 *   ID       national ids with checksums or fixed shapes (US SSN, UK NINO,
 *            German tax id, French NIR, Dutch BSN, ...), driver licence and
 *            passport numbers after a cue word
 *   IP       IPv4 and IPv6 addresses
 *   URL      links (http, https, ftp, www.); plain links to a few public
 *            reference sites (Wikipedia, GitHub, ...) are kept unless they
 *            carry a token, key, signature or user name
 *   SECRET   API keys and secrets: known prefixes (sk-, ghp_, AKIA, xox*,
 *            ...), JWTs, "password: ..." values, high-entropy tokens
 *   ADDRESS  postal addresses: street lines with house numbers, unit lines,
 *            postcodes after an address, address blocks
 *   DATE     calendar dates (numeric and with month names), with a time
 *   ACCOUNT  account, order, customer, invoice, ... numbers after a cue
 *   PERSON   person names: the caller's contacts, lists of first names and
 *            surnames compiled in, and cues (Mr., Dear X, my colleague X,
 *            X said, My name is X)
 *
 * Input is bytes: invalid UTF-8 and NUL bytes never make it fail; they pass
 * through unchanged unless they are inside a detected value. Inputs over
 * params.max_input bytes are refused (MX_ETOOBIG), and the mapping holds at
 * most params.max_entities values (MX_ETOOBIG beyond; the text is then not
 * returned, so nothing unsanitized can leak by accident).
 *
 * A sanitizer is not thread-safe; use one per conversation.
 */
#ifndef MX_RTR_SANITIZE_H
#define MX_RTR_SANITIZE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Appended to, never renumbered. */
enum rtr_pii_type {
	RTR_PII_PERSON = 0,
	RTR_PII_EMAIL,
	RTR_PII_PHONE,
	RTR_PII_CARD,
	RTR_PII_IBAN,
	RTR_PII_ID,
	RTR_PII_IP,
	RTR_PII_URL,
	RTR_PII_SECRET,
	RTR_PII_ADDRESS,
	RTR_PII_DATE,
	RTR_PII_ACCOUNT,
	RTR_PII_NTYPES
};

/* "PERSON", "EMAIL", ... as used in placeholders; "?" out of range. Static. */
const char *rtr_pii_type_name(int type);
/* The type of a name from rtr_pii_type_name (case-insensitive), or -1. */
int rtr_pii_type_parse(const char *name);

/* One detected value: bytes [start, end) of the input, its type, and the
 * number of its placeholder (<TYPE_id>, id >= 1). */
struct rtr_span {
	size_t start, end;
	int type; /* enum rtr_pii_type */
	unsigned id;
};

struct rtr_sanitize_params {
	size_t max_input;    /* bytes per rtr_sanitize/rtr_reidentify call */
	size_t max_entities; /* distinct values mapped in one conversation */
	uint32_t types;	     /* bit (1u << type) per type to detect */
	bool name_lists;     /* guess names from the compiled-in lists */
};

/* max_input 1 MiB, max_entities 100000, every type, name_lists true. */
struct rtr_sanitize_params rtr_sanitize_params_default(void);

struct rtr_sanitizer;

/* A new conversation. p may be NULL for the defaults (p is copied). NULL
 * when out of memory. */
struct rtr_sanitizer *rtr_sanitizer_new(const struct rtr_sanitize_params *p);
/* Forgets the mapping and the contacts. NULL is fine. */
void rtr_sanitizer_free(struct rtr_sanitizer *s);
/* Forgets the mapping (placeholders start again at 1); keeps contacts. */
void rtr_sanitizer_reset(struct rtr_sanitizer *s);

/* Adds a known person: every occurrence of the name (whole words, any case;
 * also each word of a multi-word name of 3 or more letters that is not a
 * common word, and "Last, First") is masked as PERSON, and of the email as
 * EMAIL. Either may be NULL or empty. The strings are copied. 0,
 * MX_EINVAL (both empty, or over 256 bytes), MX_ETOOBIG (over 100000
 * contacts) or MX_ENOMEM. */
int rtr_sanitizer_add_contact(struct rtr_sanitizer *s, const char *name, const char *email);
/* Adds any private string (a street, a project's code name) to be masked
 * as the given type wherever it occurs as whole words, any case. Copied.
 * 0, MX_EINVAL (bad type, under 2 or over 256 bytes), MX_ETOOBIG,
 * MX_ENOMEM. */
int rtr_sanitizer_add_term(struct rtr_sanitizer *s, int type, const char *value);

/* Sanitizes text[0..len). *out receives the sanitized text, NUL-terminated
 * (the caller frees it with free()). When spans is not NULL, *spans
 * receives the detected values in input order (caller frees with free();
 * NULL when there are none) and *nspans their number (nspans must then be
 * non-NULL). text may be NULL when len is 0. Returns 0, MX_EINVAL (NULL
 * arguments), MX_ETOOBIG (len over max_input, or the mapping full) or
 * MX_ENOMEM; on error *out and *spans are NULL and the mapping may hold
 * values of this text (harmless: they stay local). */
int rtr_sanitize(struct rtr_sanitizer *s, const char *text, size_t len, char **out,
		 struct rtr_span **spans, size_t *nspans);

/* Replaces every placeholder of this conversation in text[0..len) (say, a
 * cloud model's reply) with its real value; unknown placeholders are left
 * as they are. *out is NUL-terminated, the caller frees it. 0, MX_EINVAL,
 * MX_ETOOBIG (len over max_input, or the result over 4 * max_input) or
 * MX_ENOMEM. */
int rtr_reidentify(struct rtr_sanitizer *s, const char *text, size_t len, char **out);

/* Number of distinct values mapped so far. */
size_t rtr_sanitizer_count(const struct rtr_sanitizer *s);

#endif
