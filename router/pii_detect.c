/*
 * pii_detect.c - pattern detectors: every PII type but names.
 *
 * Each detector walks the bytes once and adds candidates; none of them
 * allocates except through rtr_cands_add. Offsets are always checked
 * against n: the input may be any bytes.
 *
 *   email, url, ip (v4, v6)        shapes
 *   card (Luhn), iban (mod 97)     checksums
 *   national ids                   SSN, NINO, DNI/NIE, NIR, codice fiscale,
 *                                  personnummer, HETU; any id after a cue
 *   secrets                        known prefixes, JWT, key=value, entropy
 *   phone                          digit groups with separators, +CC
 *   date                           numeric and month-name dates (+ time)
 *   account                        numbers after "account", "order", ...
 *   address                        street lines, units, postcodes, blocks
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "sanitize_int.h"

#define WANT(t) (types & (1u << (t)))

/* ---- small helpers ---- */

static bool at_word_start(const char *s, size_t i)
{
	return i == 0 || !rtr_is_wordbyte((unsigned char)s[i - 1]);
}

static bool at_word_end(const char *s, size_t n, size_t i)
{
	return i >= n || !rtr_is_wordbyte((unsigned char)s[i]);
}

/* Does s[i..) start with the lower-case ASCII word w (case-insensitive)? */
static bool starts_with_ci(const char *s, size_t n, size_t i, const char *w)
{
	size_t k = strlen(w);
	if (i > n || n - i < k)
		return false;
	for (size_t j = 0; j < k; j++)
		if (rtr_lower((unsigned char)s[i + j]) != (unsigned char)w[j])
			return false;
	return true;
}

/* The lower-case words before position i (up to max bytes back), copied
 * lower-cased into buf: cue matching looks at this window. */
static size_t window_before(const char *s, size_t i, size_t max, char *buf, size_t cap)
{
	size_t b = i > max ? i - max : 0;
	size_t o = 0;
	for (size_t j = b; j < i && o + 1 < cap; j++)
		buf[o++] = (char)rtr_lower((unsigned char)s[j]);
	buf[o] = '\0';
	return o;
}

/* Does a cue occur in win, starting at a word start? */
static bool window_has(const char *win, const char *const *cues)
{
	for (size_t k = 0; cues[k]; k++) {
		size_t cl = strlen(cues[k]);
		/* a short cue is a whole word: "ref" but not "refers", "tel" but
		 * not "tell"; longer ones may be prefixes ("licen", "call") */
		bool whole = cl <= 3 && rtr_is_alpha((unsigned char)cues[k][cl - 1]);
		for (const char *f = strstr(win, cues[k]); f; f = strstr(f + 1, cues[k]))
			if ((f == win || !rtr_is_alpha((unsigned char)f[-1])) &&
			    (!whole || !rtr_is_alpha((unsigned char)f[cl])))
				return true;
	}
	return false;
}

/* Is the word before position i a unit word (Apt., Suite, Box, No.)? Then
 * the digits at i are a unit or house number, not a phone or an id. */
static bool after_unit_word(const char *s, size_t i)
{
	static const char *const units[] = {
		"apt", "suite", "unit",	 "flat",      "box",	  "no",
		"ste", "room",	"floor", "apartment", "building", NULL
	};
	size_t p = i;
	while (p > 0 && (s[p - 1] == ' ' || s[p - 1] == '.' || s[p - 1] == '#'))
		p--;
	size_t q = p;
	while (q > 0 && rtr_is_alpha((unsigned char)s[q - 1]))
		q--;
	for (size_t k = 0; units[k] && q < p; k++)
		if (rtr_word_eq(s + q, p - q, units[k]))
			return true;
	return false;
}

/* ---- email ---- */

static bool is_local_byte(unsigned char c)
{
	return rtr_is_alnum(c) || c == '.' || c == '_' || c == '%' || c == '+' || c == '-' ||
	       c == '\'' || c >= 0x80;
}

static bool is_host_byte(unsigned char c)
{
	return rtr_is_alnum(c) || c == '.' || c == '-' || c >= 0x80;
}

/* The end of a host name at s[i..) with a dot and a 2+ letter TLD, or i. */
static size_t host_end(const char *s, size_t n, size_t i)
{
	size_t j = i;
	while (j < n && is_host_byte((unsigned char)s[j]))
		j++;
	while (j > i && (s[j - 1] == '.' || s[j - 1] == '-'))
		j--;
	size_t dot = j;
	while (dot > i && s[dot - 1] != '.')
		dot--;
	if (dot <= i + 1 || j - dot < 2)
		return i;
	for (size_t k = dot; k < j; k++)
		if (!rtr_is_alpha((unsigned char)s[k]) && (unsigned char)s[k] < 0x80)
			return i;
	return j;
}

static void detect_email(const char *s, size_t n, struct rtr_cands *c)
{
	for (size_t i = 1; i + 1 < n; i++) {
		if (s[i] != '@')
			continue;
		size_t b = i;
		while (b > 0 && i - b < 128 && is_local_byte((unsigned char)s[b - 1]))
			b--;
		while (b < i && (s[b] == '.' || s[b] == '\''))
			b++;
		if (b == i)
			continue;
		size_t e = host_end(s, n, i + 1);
		if (e == i + 1)
			continue;
		/* mailto: belongs to it */
		if (b >= 7 && starts_with_ci(s, n, b - 7, "mailto:"))
			b -= 7;
		rtr_cands_add(c, b, e, RTR_PII_EMAIL, RTR_PRIO_CHECKED);
	}
}

/* ---- URL ---- */

static bool is_url_byte(unsigned char c)
{
	return c > ' ' && c != '"' && c != '<' && c != '>' && c != '`' && c != 0x7f;
}

/* Public reference sites whose plain links are not personal. */
static const char *const public_hosts[] = { "wikipedia.org",
					    "wikimedia.org",
					    "github.com",
					    "gitlab.com",
					    "stackoverflow.com",
					    "google.com",
					    "youtube.com",
					    "python.org",
					    "rust-lang.org",
					    "mozilla.org",
					    "w3.org",
					    "ietf.org",
					    "arxiv.org",
					    "doi.org",
					    "debian.org",
					    "kernel.org",
					    "microsoft.com",
					    "apple.com",
					    "gnu.org",
					    "readthedocs.io",
					    "docs.rs",
					    NULL };

static const char *const url_secret_keys[] = {
	"token", "key=",    "secret", "sig=",	 "signature", "password", "passwd",	"pwd=",
	"auth",	 "session", "code=",  "access_", "apikey",    "api_key",  "credential", NULL
};

static void detect_url(const char *s, size_t n, struct rtr_cands *c)
{
	for (size_t i = 0; i < n; i++) {
		size_t h; /* where the host starts */
		unsigned char f = rtr_lower((unsigned char)s[i]);
		if ((f != 'h' && f != 'f' && f != 'w') || !at_word_start(s, i))
			continue;
		if (starts_with_ci(s, n, i, "https://"))
			h = i + 8;
		else if (starts_with_ci(s, n, i, "http://"))
			h = i + 7;
		else if (starts_with_ci(s, n, i, "ftp://"))
			h = i + 6;
		else if (starts_with_ci(s, n, i, "www."))
			h = i;
		else
			continue;
		size_t e = h;
		while (e < n && e - i < 4096 && is_url_byte((unsigned char)s[e]))
			e++;
		while (e > h && strchr(".,;:!?)]}'", s[e - 1]))
			e--;
		if (e <= h + 3)
			continue;
		/* host part and what follows */
		size_t he = h;
		bool userinfo = false;
		while (he < e && s[he] != '/' && s[he] != '?' && s[he] != '#') {
			if (s[he] == '@')
				userinfo = true;
			he++;
		}
		char low[4200];
		size_t k = 0;
		for (size_t j = i; j < e && k + 1 < sizeof low; j++)
			low[k++] = (char)rtr_lower((unsigned char)s[j]);
		low[k] = '\0';
		bool public_ = false;
		for (size_t p = 0; public_hosts[p]; p++) {
			const char *hit = strstr(low + (h - i), public_hosts[p]);
			if (hit && (size_t)(hit - low) + strlen(public_hosts[p]) <= he - i)
				public_ = true;
		}
		bool secret = userinfo;
		const char *q = strpbrk(low + (he - i), "?#");
		if (q && window_has(q, url_secret_keys))
			secret = true;
		if (!public_ || secret)
			rtr_cands_add(c, i, e, RTR_PII_URL,
				      secret ? RTR_PRIO_CHECKED : RTR_PRIO_SHAPE);
		i = e;
	}
}

/* ---- IP addresses ---- */

static void detect_ipv4(const char *s, size_t n, struct rtr_cands *c)
{
	for (size_t i = 0; i < n; i++) {
		if (!rtr_is_digit((unsigned char)s[i]) ||
		    (i && (rtr_is_alnum((unsigned char)s[i - 1]) || s[i - 1] == '.')))
			continue;
		size_t j = i;
		int parts = 0;
		bool ok = true;
		while (parts < 4) {
			unsigned v = 0;
			size_t d = j;
			while (j < n && rtr_is_digit((unsigned char)s[j]) && j - d < 4)
				v = v * 10 + (unsigned)(s[j++] - '0');
			if (j == d || j - d > 3 || v > 255) {
				ok = false;
				break;
			}
			parts++;
			if (parts < 4) {
				if (j + 1 >= n || s[j] != '.' ||
				    !rtr_is_digit((unsigned char)s[j + 1])) {
					ok = false;
					break;
				}
				j++;
			}
		}
		if (!ok || (j < n &&
			    (rtr_is_alnum((unsigned char)s[j]) ||
			     (s[j] == '.' && j + 1 < n && rtr_is_digit((unsigned char)s[j + 1])))))
			continue;
		/* an optional /prefix */
		if (j + 1 < n && s[j] == '/' && rtr_is_digit((unsigned char)s[j + 1])) {
			size_t k = j + 1;
			while (k < n && rtr_is_digit((unsigned char)s[k]) && k - j < 3)
				k++;
			j = k;
		}
		rtr_cands_add(c, i, j, RTR_PII_IP, RTR_PRIO_CHECKED);
		i = j;
	}
}

static bool is_hex(unsigned char c)
{
	return rtr_is_digit(c) || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}

static void detect_ipv6(const char *s, size_t n, struct rtr_cands *c)
{
	for (size_t i = 0; i < n; i++) {
		if (!(is_hex((unsigned char)s[i]) || s[i] == ':') ||
		    (i && (rtr_is_alnum((unsigned char)s[i - 1]) || s[i - 1] == ':')))
			continue;
		size_t j = i;
		int groups = 0, colons = 0;
		bool dbl = false, ok = true;
		while (j < n) {
			size_t d = j;
			while (j < n && is_hex((unsigned char)s[j]) && j - d < 5)
				j++;
			if (j - d > 4) {
				ok = false;
				break;
			}
			if (j > d)
				groups++;
			if (j < n && s[j] == ':') {
				if (j + 1 < n && s[j + 1] == ':') {
					if (dbl) {
						ok = false;
						break;
					}
					dbl = true;
					colons += 2;
					j += 2;
				} else {
					colons++;
					j++;
				}
				continue;
			}
			break;
		}
		/* a trailing single colon belongs to the sentence */
		if (ok && j > i && s[j - 1] == ':' && !(j >= 2 && s[j - 2] == ':')) {
			j--;
			colons--;
		}
		if (!ok ||
		    (j < n && (rtr_is_alnum((unsigned char)s[j]) ||
			       (s[j] == '.' && j + 1 < n && is_hex((unsigned char)s[j + 1])))))
			continue;
		if (!((groups == 8 && colons == 7 && !dbl) || (dbl && groups >= 1 && groups <= 7)))
			continue;
		/* "::1" alone and plain times are not worth it; need a hex letter
		 * or 8 groups or :: with 2+ groups */
		bool letter = false;
		for (size_t k = i; k < j; k++)
			if (rtr_is_alpha((unsigned char)s[k]))
				letter = true;
		if (!letter && groups < 8 && !(dbl && groups >= 2))
			continue;
		rtr_cands_add(c, i, j, RTR_PII_IP, RTR_PRIO_CHECKED);
		i = j;
	}
}

/* ---- digit runs: cards, phones, ids ---- */

static bool luhn_ok(const char *d, size_t nd)
{
	unsigned sum = 0;
	for (size_t k = 0; k < nd; k++) {
		unsigned v = (unsigned)(d[nd - 1 - k] - '0');
		if (k & 1) {
			v *= 2;
			if (v > 9)
				v -= 9;
		}
		sum += v;
	}
	return sum % 10 == 0;
}

/* Collects the digits of a run of digit groups starting at i, groups
 * separated by one space or dash. Returns the end; digits into d (up to
 * cap), *nd their number, *ngroups the groups. */
static size_t digit_run(const char *s, size_t n, size_t i, char *d, size_t cap, size_t *nd,
			int *ngroups, bool allow_sep)
{
	size_t j = i, k = 0;
	int g = 0;
	while (j < n && rtr_is_digit((unsigned char)s[j])) {
		while (j < n && rtr_is_digit((unsigned char)s[j])) {
			if (k < cap)
				d[k] = s[j];
			k++;
			j++;
		}
		g++;
		if (allow_sep && j + 1 < n && (s[j] == ' ' || s[j] == '-') &&
		    rtr_is_digit((unsigned char)s[j + 1]))
			j++;
		else
			break;
	}
	*nd = k;
	*ngroups = g;
	return j;
}

static void detect_card(const char *s, size_t n, struct rtr_cands *c)
{
	char d[32];
	for (size_t i = 0; i < n; i++) {
		if (!rtr_is_digit((unsigned char)s[i]) || !at_word_start(s, i))
			continue;
		size_t nd;
		int g;
		size_t e = digit_run(s, n, i, d, sizeof d, &nd, &g, true);
		if (!at_word_end(s, n, e)) {
			i = e;
			continue;
		}
		/* the longest Luhn-valid prefix of groups of 13-19 digits */
		if (nd >= 13 && nd <= 19 && d[0] != '0' && luhn_ok(d, nd))
			rtr_cands_add(c, i, e, RTR_PII_CARD, RTR_PRIO_CHECKED);
		i = e;
	}
}

/* ---- IBAN ---- */

struct iban_len {
	char cc[3];
	unsigned char len;
};

static const struct iban_len iban_lens[] = {
	{ "AD", 24 }, { "AE", 23 }, { "AL", 28 }, { "AT", 20 }, { "AZ", 28 }, { "BA", 20 },
	{ "BE", 16 }, { "BG", 22 }, { "BH", 22 }, { "BR", 29 }, { "CH", 21 }, { "CR", 22 },
	{ "CY", 28 }, { "CZ", 24 }, { "DE", 22 }, { "DK", 18 }, { "DO", 28 }, { "EE", 20 },
	{ "EG", 29 }, { "ES", 24 }, { "FI", 18 }, { "FO", 18 }, { "FR", 27 }, { "GB", 22 },
	{ "GE", 22 }, { "GI", 23 }, { "GL", 18 }, { "GR", 27 }, { "GT", 28 }, { "HR", 21 },
	{ "HU", 28 }, { "IE", 22 }, { "IL", 23 }, { "IQ", 23 }, { "IS", 26 }, { "IT", 27 },
	{ "JO", 30 }, { "KW", 30 }, { "KZ", 20 }, { "LB", 28 }, { "LC", 32 }, { "LI", 21 },
	{ "LT", 20 }, { "LU", 20 }, { "LV", 21 }, { "MC", 27 }, { "MD", 24 }, { "ME", 22 },
	{ "MK", 19 }, { "MR", 27 }, { "MT", 31 }, { "MU", 30 }, { "NL", 18 }, { "NO", 15 },
	{ "PK", 24 }, { "PL", 28 }, { "PS", 29 }, { "PT", 25 }, { "QA", 29 }, { "RO", 24 },
	{ "RS", 22 }, { "SA", 24 }, { "SC", 31 }, { "SE", 24 }, { "SI", 19 }, { "SK", 24 },
	{ "SM", 27 }, { "ST", 25 }, { "SV", 28 }, { "TL", 23 }, { "TN", 24 }, { "TR", 26 },
	{ "UA", 29 }, { "VA", 22 }, { "VG", 24 }, { "XK", 20 },
};

static bool iban_ok(const char *a, size_t na)
{
	if (na < 15 || na > 34)
		return false;
	char cc[3] = { (char)(a[0] & ~0x20), (char)(a[1] & ~0x20), 0 };
	for (size_t k = 0; k < sizeof iban_lens / sizeof iban_lens[0]; k++)
		if (!memcmp(iban_lens[k].cc, cc, 2) && iban_lens[k].len != na)
			return false;
	unsigned rem = 0;
	for (size_t k = 0; k < na; k++) {
		unsigned char ch = (unsigned char)a[(k + 4) % na];
		if (rtr_is_digit(ch)) {
			rem = (rem * 10 + (ch - '0')) % 97;
		} else {
			unsigned v = (unsigned)(rtr_lower(ch) - 'a') + 10;
			rem = (rem * 100 + v) % 97;
		}
	}
	return rem == 1;
}

static void detect_iban(const char *s, size_t n, struct rtr_cands *c)
{
	for (size_t i = 0; i + 15 <= n; i++) {
		if (!at_word_start(s, i) || !rtr_is_alpha((unsigned char)s[i]) ||
		    !rtr_is_alpha((unsigned char)s[i + 1]) ||
		    !rtr_is_digit((unsigned char)s[i + 2]) ||
		    !rtr_is_digit((unsigned char)s[i + 3]))
			continue;
		char a[40];
		size_t na = 0, j = i, best = 0;
		while (j < n && na < 34) {
			unsigned char ch = (unsigned char)s[j];
			if (rtr_is_alnum(ch)) {
				a[na++] = (char)ch;
				j++;
				if (at_word_end(s, n, j) && iban_ok(a, na))
					best = j;
			} else if (ch == ' ' && j + 1 < n &&
				   rtr_is_alnum((unsigned char)s[j + 1]) && na % 4 == 0) {
				j++;
			} else {
				break;
			}
		}
		if (best) {
			rtr_cands_add(c, i, best, RTR_PII_IBAN, RTR_PRIO_CHECKED + 2);
			i = best;
		}
	}
}

/* ---- national ids ---- */

static bool ssn_ok(const char *d)
{
	int area = (d[0] - '0') * 100 + (d[1] - '0') * 10 + (d[2] - '0');
	int grp = (d[3] - '0') * 10 + (d[4] - '0');
	int ser = (d[5] - '0') * 1000 + (d[6] - '0') * 100 + (d[7] - '0') * 10 + (d[8] - '0');
	return area && area != 666 && area < 900 && grp && ser;
}

static const char *const id_cues[] = { "ssn",
				       "social security",
				       "passport",
				       "driver's licen",
				       "drivers licen",
				       "driver licen",
				       "driving licen",
				       "license number",
				       "licence number",
				       "license no",
				       "licence no",
				       "national id",
				       "id number",
				       "id no",
				       "identity card",
				       "identity number",
				       "tax id",
				       "tax number",
				       "taxpayer",
				       "steuer",
				       "personnummer",
				       "bsn",
				       "aadhaar",
				       "nino",
				       "national insurance",
				       "sin number",
				       "social insurance",
				       "dni",
				       "nie ",
				       "codice fiscale",
				       "personal number",
				       "personal id",
				       "citizen id",
				       "id card",
				       "health insurance number",
				       "medicare",
				       "nhs number",
				       NULL };

/* The token after a cue: letters, digits and - / . of which 5+ digits... */
static size_t id_token_end(const char *s, size_t n, size_t i, int *digits)
{
	size_t j = i;
	*digits = 0;
	while (j < n && j - i < 40) {
		unsigned char ch = (unsigned char)s[j];
		if (rtr_is_digit(ch))
			(*digits)++;
		else if (!(rtr_is_alpha(ch) ||
			   ((ch == '-' || ch == '.' || ch == '/') && j + 1 < n &&
			    rtr_is_digit((unsigned char)s[j + 1]) && j > i &&
			    rtr_is_alnum((unsigned char)s[j - 1])) ||
			   /* a space only between digit groups: "123 456 789" */
			   (ch == ' ' && j + 1 < n && rtr_is_digit((unsigned char)s[j + 1]) &&
			    j > i && rtr_is_digit((unsigned char)s[j - 1]))))
			break;
		j++;
	}
	return j;
}

static void detect_id_cue(const char *s, size_t n, struct rtr_cands *c)
{
	char win[64];
	for (size_t i = 0; i < n; i++) {
		if (!rtr_is_alnum((unsigned char)s[i]) || !at_word_start(s, i))
			continue;
		int digits;
		size_t e = id_token_end(s, n, i, &digits);
		if (digits < 5 || e - i > 24) {
			i = e;
			continue;
		}
		window_before(s, i, 48, win, sizeof win);
		if (window_has(win, id_cues))
			rtr_cands_add(c, i, e, RTR_PII_ID, RTR_PRIO_CUE);
		i = e;
	}
}

static int digit_at(const char *s, size_t n, size_t i)
{
	return i < n && rtr_is_digit((unsigned char)s[i]) ? s[i] - '0' : -1;
}

/* Fixed shapes with a checksum or an unmistakable form. */
static void detect_id_shapes(const char *s, size_t n, struct rtr_cands *c)
{
	for (size_t i = 0; i < n; i++) {
		if (!at_word_start(s, i) || !rtr_is_alnum((unsigned char)s[i]))
			continue;
		/* US SSN: 3-2-4 with dashes or spaces */
		if (i + 11 <= n && digit_at(s, n, i) >= 0 && digit_at(s, n, i + 1) >= 0 &&
		    digit_at(s, n, i + 2) >= 0 && (s[i + 3] == '-' || s[i + 3] == ' ') &&
		    digit_at(s, n, i + 4) >= 0 && digit_at(s, n, i + 5) >= 0 &&
		    s[i + 6] == s[i + 3] && digit_at(s, n, i + 7) >= 0 &&
		    digit_at(s, n, i + 8) >= 0 && digit_at(s, n, i + 9) >= 0 &&
		    digit_at(s, n, i + 10) >= 0 && at_word_end(s, n, i + 11) &&
		    !(i + 12 < n && s[i + 11] == s[i + 3] &&
		      rtr_is_digit((unsigned char)s[i + 12]))) {
			char d[9] = { s[i],	s[i + 1], s[i + 2], s[i + 4], s[i + 5],
				      s[i + 7], s[i + 8], s[i + 9], s[i + 10] };
			if (ssn_ok(d) && !(s[i + 3] == ' ' && after_unit_word(s, i)))
				rtr_cands_add(c, i, i + 11, RTR_PII_ID, RTR_PRIO_SHAPE + 4);
		}
		/* word of 8-16 alphanumerics */
		size_t e = i;
		while (e < n && rtr_is_alnum((unsigned char)s[e]))
			e++;
		if (!at_word_end(s, n, e))
			continue;
		size_t len = e - i;
		const char *w = s + i;
		/* UK NINO: two letters, six digits, A-D */
		if (len == 9 && rtr_is_alpha((unsigned char)w[0]) &&
		    rtr_is_alpha((unsigned char)w[1]) && rtr_lower((unsigned char)w[8]) >= 'a' &&
		    rtr_lower((unsigned char)w[8]) <= 'd') {
			bool ok = true;
			for (int k = 2; k < 8; k++)
				ok = ok && rtr_is_digit((unsigned char)w[k]);
			if (ok && w[0] >= 'A' && w[0] <= 'Z' && w[1] >= 'A' && w[1] <= 'Z')
				rtr_cands_add(c, i, e, RTR_PII_ID, RTR_PRIO_SHAPE);
		}
		/* Spanish DNI: 8 digits and the check letter; NIE: X/Y/Z 7 digits letter */
		if (len == 9 && rtr_is_alpha((unsigned char)w[8])) {
			static const char letters[] = "TRWAGMYFPDXBNJZSQVHLCKE";
			unsigned long v = 0;
			bool ok = true;
			int k0 = 0;
			char f = (char)(w[0] & ~0x20);
			if (f == 'X' || f == 'Y' || f == 'Z')
				v = (unsigned long)(f - 'X'), k0 = 1;
			for (int k = k0; k < 8; k++) {
				ok = ok && rtr_is_digit((unsigned char)w[k]);
				v = v * 10 + (unsigned long)(w[k] - '0');
			}
			if (ok && (w[8] & ~0x20) == letters[v % 23])
				rtr_cands_add(c, i, e, RTR_PII_ID, RTR_PRIO_CHECKED);
		}
		/* Italian codice fiscale: LLLLLLDDLDDLDDDL */
		if (len == 16) {
			static const char shape[] = "AAAAAA99A99A999A";
			bool ok = true;
			for (int k = 0; k < 16 && ok; k++)
				ok = shape[k] == 'A' ? rtr_is_alpha((unsigned char)w[k])
						     : rtr_is_digit((unsigned char)w[k]);
			if (ok)
				rtr_cands_add(c, i, e, RTR_PII_ID, RTR_PRIO_SHAPE);
		}
		/* French NIR: 15 digits, key = 97 - (first 13 mod 97) */
		if (len == 15 && (w[0] == '1' || w[0] == '2')) {
			bool ok = true;
			unsigned long long v = 0;
			for (int k = 0; k < 15; k++)
				ok = ok && rtr_is_digit((unsigned char)w[k]);
			if (ok) {
				for (int k = 0; k < 13; k++)
					v = v * 10 + (unsigned)(w[k] - '0');
				unsigned key = (unsigned)((w[13] - '0') * 10 + (w[14] - '0'));
				if (97 - v % 97 == key)
					rtr_cands_add(c, i, e, RTR_PII_ID, RTR_PRIO_CHECKED);
			}
		}
		i = e;
	}
	/* Swedish personnummer YYMMDD-NNNN (Luhn over 10 digits) and Finnish
	 * HETU DDMMYY[-+A]NNNC */
	for (size_t i = 0; i + 11 <= n; i++) {
		if (!at_word_start(s, i))
			continue;
		bool six = true;
		for (int k = 0; k < 6; k++)
			six = six && rtr_is_digit((unsigned char)s[i + k]);
		if (!six)
			continue;
		char sep = s[i + 6];
		if (sep == '-' || sep == '+') {
			bool four = true;
			for (int k = 7; k < 11; k++)
				four = four && rtr_is_digit((unsigned char)s[i + k]);
			int mm = (s[i + 2] - '0') * 10 + (s[i + 3] - '0');
			int dd = (s[i + 4] - '0') * 10 + (s[i + 5] - '0');
			if (four && at_word_end(s, n, i + 11) && mm >= 1 && mm <= 12 && dd >= 1 &&
			    dd <= 31) {
				char d[10] = { s[i],	 s[i + 1], s[i + 2], s[i + 3], s[i + 4],
					       s[i + 5], s[i + 7], s[i + 8], s[i + 9], s[i + 10] };
				if (luhn_ok(d, 10))
					rtr_cands_add(c, i, i + 11, RTR_PII_ID, RTR_PRIO_CHECKED);
			}
		}
		if ((sep == '-' || sep == '+' || sep == 'A') && i + 11 <= n) {
			static const char chk[] = "0123456789ABCDEFHJKLMNPRSTUVWXY";
			bool three = true;
			unsigned long v = 0;
			for (int k = 0; k < 6; k++)
				v = v * 10 + (unsigned long)(s[i + k] - '0');
			for (int k = 7; k < 10; k++) {
				three = three && rtr_is_digit((unsigned char)s[i + k]);
				v = v * 10 + (unsigned long)(s[i + k] - '0');
			}
			if (three && s[i + 10] == chk[v % 31] && at_word_end(s, n, i + 11) &&
			    rtr_is_alpha((unsigned char)s[i + 10]))
				rtr_cands_add(c, i, i + 11, RTR_PII_ID, RTR_PRIO_CHECKED);
		}
	}
}

/* ---- secrets ---- */

struct prefix {
	const char *p;
	size_t min; /* least length of the whole token */
};

static const struct prefix secret_prefixes[] = {
	{ "sk-", 20 },	    { "sk_live_", 20 }, { "sk_test_", 20 },    { "rk_live_", 20 },
	{ "pk_live_", 20 }, { "ghp_", 30 },	{ "gho_", 30 },	       { "ghu_", 30 },
	{ "ghs_", 30 },	    { "ghr_", 30 },	{ "github_pat_", 30 }, { "glpat-", 20 },
	{ "AKIA", 20 },	    { "ASIA", 20 },	{ "xoxb-", 15 },       { "xoxp-", 15 },
	{ "xoxa-", 15 },    { "xoxr-", 15 },	{ "xoxs-", 15 },       { "xapp-", 15 },
	{ "AIza", 35 },	    { "ya29.", 20 },	{ "hf_", 30 },	       { "npm_", 30 },
	{ "SG.", 40 },	    { "sq0atp-", 20 },	{ "shpat_", 30 },      { "dop_v1_", 40 },
	{ "pypi-", 40 },    { "eyJ", 30 },
};

static bool is_token_byte(unsigned char c)
{
	return rtr_is_alnum(c) || c == '_' || c == '-' || c == '.' || c == '/' || c == '+' ||
	       c == '=';
}

static double entropy(const char *s, size_t n)
{
	unsigned cnt[256] = { 0 };
	for (size_t i = 0; i < n; i++)
		cnt[(unsigned char)s[i]]++;
	double h = 0;
	for (int k = 0; k < 256; k++)
		if (cnt[k]) {
			double p = (double)cnt[k] / (double)n;
			h -= p * log2(p);
		}
	return h;
}

static const char *const secret_cues[] = {
	"password", "passwd", "pwd",	 "passphrase",	"secret",     "token",	     "api key",
	"api_key",  "apikey", "api-key", "access key",	"access_key", "private key", "bearer",
	"pin code", "pin:",   "pin is",	 "credentials", NULL
};

static void detect_secret(const char *s, size_t n, struct rtr_cands *c)
{
	char win[48];
	for (size_t i = 0; i < n; i++) {
		if (!is_token_byte((unsigned char)s[i]) ||
		    (i && is_token_byte((unsigned char)s[i - 1])))
			continue;
		size_t e = i;
		while (e < n && e - i < 4096 && is_token_byte((unsigned char)s[e]))
			e++;
		while (e > i && strchr(".,/-", s[e - 1]))
			e--;
		size_t len = e - i;
		if (!len)
			continue;
		bool hit = false;
		for (size_t k = 0; k < sizeof secret_prefixes / sizeof secret_prefixes[0]; k++) {
			size_t pl = strlen(secret_prefixes[k].p);
			if (len >= secret_prefixes[k].min &&
			    !strncmp(s + i, secret_prefixes[k].p, pl)) {
				hit = true;
				break;
			}
		}
		int up = 0, lo = 0, dg = 0;
		for (size_t k = 0; k < len; k++) {
			unsigned char ch = (unsigned char)s[i + k];
			up += ch >= 'A' && ch <= 'Z';
			lo += ch >= 'a' && ch <= 'z';
			dg += rtr_is_digit(ch);
		}
		if (!hit && len >= 24 && up && lo && dg && !memchr(s + i, '/', len) &&
		    entropy(s + i, len) >= 4.0)
			hit = true;
		/* after "password:" and the like: the next token, whatever it is */
		if (!hit && len >= 4 && len <= 200 && (up + lo + dg) * 2 >= (int)len &&
		    dg + up > 0) {
			window_before(s, i, 24, win, sizeof win);
			size_t wl = strlen(win);
			/* the cue must be followed by ':', '=' or 'is' */
			bool sep = false;
			for (size_t k = wl; k > 0; k--) {
				char ch = win[k - 1];
				if (ch == ' ')
					continue;
				sep = ch == ':' || ch == '=' ||
				      (k >= 3 && win[k - 1] == 's' && win[k - 2] == 'i' &&
				       win[k - 3] == ' ');
				break;
			}
			if (sep && window_has(win, secret_cues))
				hit = true;
		}
		if (hit)
			rtr_cands_add(c, i, e, RTR_PII_SECRET, RTR_PRIO_CHECKED - 1);
		i = e;
	}
	/* PEM private keys */
	for (size_t i = 0; i + 30 < n; i++) {
		if (s[i] != '-' || !starts_with_ci(s, n, i, "-----begin ") ||
		    !memmem(s + i, n - i < 64 ? n - i : 64, "PRIVATE KEY", 11))
			continue;
		const char *end = memmem(s + i + 11, n - i - 11, "-----END ", 9);
		size_t e = end ? (size_t)(end - s) + 9 : n;
		while (e < n && s[e] != '\n')
			e++;
		rtr_cands_add(c, i, e, RTR_PII_SECRET, RTR_PRIO_CHECKED + 5);
		i = e;
	}
}

/* ---- phone numbers ---- */

static const char *const phone_cues[] = { "telephone", "phone",	 "call",    "tel",     "mobile",
					  "cell",      "fax",	 "reach",   "text me", "whatsapp",
					  "sms",       "number", "contact", "desk",    "office",
					  "dial",      NULL };

static void detect_phone(const char *s, size_t n, struct rtr_cands *c)
{
	char win[40];
	for (size_t i = 0; i < n; i++) {
		unsigned char ch = (unsigned char)s[i];
		bool plus = ch == '+';
		if (!(plus || ch == '(' || rtr_is_digit(ch)))
			continue;
		if (i && (rtr_is_alnum((unsigned char)s[i - 1]) || s[i - 1] == '+' ||
			  s[i - 1] == '.' || s[i - 1] == '/' || s[i - 1] == '-' || s[i - 1] == ':'))
			continue;
		size_t j = i + (plus ? 1 : 0);
		int digits = 0, groups = 0, seps = 0, maxg = 0, g1 = 0;
		bool paren = false, ok = true;
		while (j < n) {
			if (s[j] == '(') {
				if (paren)
					break;
				size_t k = j + 1, d = 0;
				while (k < n && rtr_is_digit((unsigned char)s[k]) && d < 6)
					k++, d++;
				if (!d || k >= n || s[k] != ')') {
					ok = j > i;
					break;
				}
				paren = true;
				digits += (int)d;
				groups++;
				j = k + 1;
				if (j < n && s[j] == ' ' && j + 1 < n &&
				    rtr_is_digit((unsigned char)s[j + 1]))
					j++, seps++;
				continue;
			}
			size_t d = j;
			while (j < n && rtr_is_digit((unsigned char)s[j]))
				j++;
			if (j == d)
				break;
			digits += (int)(j - d);
			if (!g1)
				g1 = (int)(j - d);
			if ((int)(j - d) > maxg)
				maxg = (int)(j - d);
			groups++;
			if (j + 1 < n && (s[j] == ' ' || s[j] == '-' || s[j] == '.') &&
			    (rtr_is_digit((unsigned char)s[j + 1]) || s[j + 1] == '(')) {
				j++;
				seps++;
				continue;
			}
			break;
		}
		if (!ok || digits < 7 || digits > 15) {
			if (j > i)
				i = j - 1;
			continue;
		}
		/* an extension */
		size_t e = j;
		if (e + 2 < n && s[e] == ' ' && (s[e + 1] == 'x' || s[e + 1] == 'X') &&
		    rtr_is_digit((unsigned char)s[e + 2]))
			j = ++e;
		if (e + 1 < n && (s[e] == 'x' || s[e] == 'X') &&
		    rtr_is_digit((unsigned char)s[e + 1])) {
			e++;
			while (e < n && rtr_is_digit((unsigned char)s[e]) && e - j < 7)
				e++;
		} else if (starts_with_ci(s, n, e, " ext")) {
			size_t k = e + 4;
			while (k < n && (s[k] == '.' || s[k] == ' '))
				k++;
			size_t d = k;
			while (k < n && rtr_is_digit((unsigned char)s[k]) && k - d < 6)
				k++;
			if (k > d)
				e = k;
		}
		if (e < n &&
		    (rtr_is_alpha((unsigned char)s[e]) || s[e] == '/' ||
		     (s[e] == '.' && e + 1 < n && rtr_is_digit((unsigned char)s[e + 1])))) {
			i = e;
			continue;
		}
		if (!plus && after_unit_word(s, i)) {
			i = e;
			continue;
		}
		window_before(s, i, 32, win, sizeof win);
		bool cue = window_has(win, phone_cues);
		/* plain runs need a + or a cue; grouped ones stand alone */
		bool take = plus || paren || (groups >= 2 && seps >= 1 && maxg <= 5) ||
			    (cue && digits >= 7);
		/* two groups: a short area code (785 8949, 06-10446904) or 8+
		 * digits (9493 7477), but not two years (1990 2000) */
		if (!take && groups == 2 && seps == 1 && g1 <= 4 && maxg <= 8 &&
		    (g1 <= 3 || digits >= 8))
			take = true;
		if (take && !plus && !paren && groups == 2 && !cue && g1 == 4 && digits == 8 &&
		    (s[i] == '1' || s[i] == '2') && (s[i + 5] == '1' || s[i + 5] == '2'))
			take = false;
		if (take)
			rtr_cands_add(c, i, e, RTR_PII_PHONE, RTR_PRIO_SHAPE);
		i = e;
	}
}

/* ---- dates ---- */

static const char *const months[] = { "january",   "february", "march",	   "april",
				      "may",	   "june",     "july",	   "august",
				      "september", "october",  "november", "december" };

/* The month at s[i..) (full or 3-letter, optional '.'), or 0; *e its end. */
static int month_at(const char *s, size_t n, size_t i, size_t *e)
{
	if (i >= n || !strchr("jfmasond", rtr_lower((unsigned char)s[i])) || !at_word_start(s, i))
		return 0;
	for (int m = 0; m < 12; m++) {
		size_t k = strlen(months[m]);
		if (starts_with_ci(s, n, i, months[m]) && at_word_end(s, n, i + k)) {
			*e = i + k;
			return m + 1;
		}
		if (starts_with_ci(s, n, i,
				   (char[4]){ months[m][0], months[m][1], months[m][2], 0 }) &&
		    at_word_end(s, n, i + 3) && m != 4) {
			*e = i + 3 + (i + 3 < n && s[i + 3] == '.');
			return m + 1;
		}
	}
	return 0;
}

/* A number of 1-4 digits at s[i..); returns its end or i. */
static size_t number_at(const char *s, size_t n, size_t i, int *v, int maxd)
{
	size_t j = i;
	*v = 0;
	while (j < n && rtr_is_digit((unsigned char)s[j]) && (int)(j - i) < maxd)
		*v = *v * 10 + (s[j++] - '0');
	if (j < n && rtr_is_digit((unsigned char)s[j]))
		return i;
	return j;
}

/* An optional time after a date: [ T]HH:MM[:SS][Z|+HH:MM| am/pm] */
static size_t time_after(const char *s, size_t n, size_t e)
{
	if (e + 5 < n && (s[e] == ' ' || s[e] == 'T') && rtr_is_digit((unsigned char)s[e + 1])) {
		int h, m;
		size_t k = number_at(s, n, e + 1, &h, 2);
		if (k > e + 1 && k < n && s[k] == ':' && h < 24) {
			size_t k2 = number_at(s, n, k + 1, &m, 2);
			if (k2 == k + 3 && m < 60) {
				e = k2;
				if (e + 2 < n && s[e] == ':' &&
				    rtr_is_digit((unsigned char)s[e + 1]))
					e = number_at(s, n, e + 1, &m, 2) > e + 1 ? e + 3 : e;
				if (e < n && s[e] == 'Z')
					e++;
			}
		}
	}
	return e;
}

static void detect_date(const char *s, size_t n, struct rtr_cands *c)
{
	for (size_t i = 0; i < n; i++) {
		if (!at_word_start(s, i))
			continue;
		int a, b, y;
		size_t e1, e2, e3, me;
		if (rtr_is_digit((unsigned char)s[i])) {
			e1 = number_at(s, n, i, &a, 4);
			if (e1 == i || e1 + 1 >= n)
				continue;
			char sep = s[e1];
			if (sep == '/' || sep == '-' || sep == '.') {
				e2 = number_at(s, n, e1 + 1, &b, 2);
				if (e2 == e1 + 1 || e2 + 1 >= n || s[e2] != sep)
					goto month_name;
				e3 = number_at(s, n, e2 + 1, &y, 4);
				if (e3 == e2 + 1 || !at_word_end(s, n, e3) ||
				    (e3 < n - 1 && s[e3] == sep &&
				     rtr_is_digit((unsigned char)s[e3 + 1])))
					continue;
				int ly = (int)(e1 - i), ry = (int)(e3 - e2 - 1);
				bool ok;
				if (ly == 4) /* yyyy-mm-dd */
					ok = b >= 1 && b <= 12 && y >= 1 && y <= 31 && ry <= 2;
				else if (ry == 4 || ry == 2) /* d/m/y or m/d/y */
					ok = a >= 1 && b >= 1 && a <= 31 && b <= 31 &&
					     (a <= 12 || b <= 12) &&
					     (ry == 4 || sep != '.' || true);
				else
					ok = false;
				if (ok && ry == 2 && sep == '.' && ly != 4)
					ok = true;
				if (ok && ry == 2 && sep == '-' && ly != 4)
					ok = false; /* 12-10-15 looks like a code more often */
				if (ok) {
					size_t e = time_after(s, n, e3);
					rtr_cands_add(c, i, e, RTR_PII_DATE, RTR_PRIO_SHAPE + 6);
					i = e;
				}
				continue;
			}
		month_name:
			/* 12 March 1985, 12th of March, 1985 */
			if (e1 - i <= 2 && a >= 1 && a <= 31) {
				size_t k = e1;
				if (k + 2 <= n && (starts_with_ci(s, n, k, "st") ||
						   starts_with_ci(s, n, k, "nd") ||
						   starts_with_ci(s, n, k, "rd") ||
						   starts_with_ci(s, n, k, "th")))
					k += 2;
				while (k < n && s[k] == ' ')
					k++;
				if (starts_with_ci(s, n, k, "of "))
					k += 3;
				int m = month_at(s, n, k, &me);
				if (m) {
					size_t e = me;
					size_t k2 = me;
					while (k2 < n && (s[k2] == ' ' || s[k2] == ','))
						k2++;
					size_t ye = number_at(s, n, k2, &y, 4);
					if (ye == k2 + 4 && at_word_end(s, n, ye))
						e = ye;
					if (e > me)
						rtr_cands_add(c, i, e, RTR_PII_DATE,
							      RTR_PRIO_SHAPE + 6);
					i = e;
				}
			}
			continue;
		}
		/* March 12, 1985 / March 12th 1985 */
		int m = month_at(s, n, i, &me);
		if (!m)
			continue;
		size_t k = me;
		while (k < n && s[k] == ' ')
			k++;
		e1 = number_at(s, n, k, &a, 2);
		if (e1 == k || a < 1 || a > 31)
			continue;
		size_t k2 = e1;
		if (starts_with_ci(s, n, k2, "st") || starts_with_ci(s, n, k2, "nd") ||
		    starts_with_ci(s, n, k2, "rd") || starts_with_ci(s, n, k2, "th"))
			k2 += 2;
		if (!at_word_end(s, n, k2))
			continue;
		size_t e = k2;
		while (k2 < n && (s[k2] == ' ' || s[k2] == ','))
			k2++;
		size_t ye = number_at(s, n, k2, &y, 4);
		if (ye == k2 + 4 && at_word_end(s, n, ye))
			e = ye;
		if (e > k2 - 1 && ye == k2 + 4)
			rtr_cands_add(c, i, e, RTR_PII_DATE, RTR_PRIO_SHAPE + 6);
		i = e;
	}
}

/* Day names after a word that ties them to a plan: "meet Sunday", "on
 * Monday", "next Friday". */
static void detect_weekday(const char *s, size_t n, struct rtr_cands *c)
{
	static const char *const days[] = { "monday", "tuesday",  "wednesday", "thursday",
					    "friday", "saturday", "sunday",    NULL };
	static const char *const cues[] = { "on",    "meet",   "next",	"last", "this", "every",
					    "until", "by",     "since", "from", "till", "before",
					    "after", "coming", "see",	NULL };
	for (size_t i = 0; i < n; i++) {
		if (!rtr_is_alpha((unsigned char)s[i]) || !at_word_start(s, i))
			continue;
		size_t e = i;
		while (e < n && rtr_is_alpha((unsigned char)s[e]))
			e++;
		bool day = false;
		for (size_t k = 0; days[k] && !day; k++)
			day = rtr_word_eq(s + i, e - i, days[k]);
		if (day) {
			/* the word before */
			size_t p = i;
			while (p > 0 && s[p - 1] == ' ')
				p--;
			size_t q = p;
			while (q > 0 && rtr_is_alpha((unsigned char)s[q - 1]))
				q--;
			bool cue = false;
			for (size_t k = 0; cues[k] && !cue && q < p; k++)
				cue = rtr_word_eq(s + q, p - q, cues[k]);
			if (cue)
				rtr_cands_add(c, i, e, RTR_PII_DATE, RTR_PRIO_SHAPE);
		}
		i = e;
	}
}

/* ---- account and order numbers ---- */

static const char *const account_cues[] = {
	"account",	 "acct",	"a/c",	       "order",	  "invoice",   "customer",
	"client number", "client id",	"member",      "policy",  "reference", "ref",
	"ticket",	 "case number", "case no",     "case #",  "tracking",  "booking",
	"confirmation",	 "reservation", "contract",    "loyalty", "routing",   "sort code",
	"card number",	 "receipt",	"transaction", "iban",	  "bic",       "swift",
	"subscriber",	 "patient",	"claim",       "user id", "userid",    "username",
	"login",	 NULL
};

static void detect_account(const char *s, size_t n, struct rtr_cands *c)
{
	char win[48];
	for (size_t i = 0; i < n; i++) {
		if (!rtr_is_alnum((unsigned char)s[i]) || !at_word_start(s, i))
			continue;
		size_t e = i;
		int digits = 0;
		while (e < n && e - i < 40) {
			unsigned char ch = (unsigned char)s[e];
			if (rtr_is_digit(ch))
				digits++;
			else if (!(rtr_is_alpha(ch) ||
				   ((ch == '-' || ch == '/' || ch == '_') && e + 1 < n &&
				    rtr_is_alnum((unsigned char)s[e + 1]))))
				break;
			e++;
		}
		if (digits < 4 || !at_word_end(s, n, e)) {
			i = e;
			continue;
		}
		window_before(s, i, 40, win, sizeof win);
		if (window_has(win, account_cues))
			rtr_cands_add(c, i, e, RTR_PII_ACCOUNT, RTR_PRIO_CUE - 2);
		i = e;
	}
}

/* ---- addresses ---- */

/* Street words, international, sorted by bytes (bsearch); matched as
 * whole words, any ASCII case. */
static const char *const street_words[] = {
	"allee",     "alley",	"allée",    "av.",	"ave",	     "ave.",	 "avenida",
	"avenue",    "baan",	"blvd",	    "blvd.",	"boulevard", "bulevar",	 "cadde",
	"caddesi",   "calle",	"camino",   "carrera",	"cesta",     "chemin",	 "cir",
	"circle",    "close",	"corso",    "court",	"crescent",  "ct",	 "ct.",
	"damm",	     "dr.",	"dreef",    "drive",	"esplanade", "estrada",	 "gade",
	"gardens",   "gasse",	"gata",	    "gatan",	"gate",	     "gaten",	 "gracht",
	"green",     "grove",	"gränd",    "highway",	"hill",	     "hwy",	 "impasse",
	"kade",	     "katu",	"kuja",	    "laan",	"lane",	     "largo",	 "ln",
	"mahallesi", "mews",	"nábřeží",  "náměstí",	"odos",	     "park",	 "parkway",
	"paseo",     "piazza",	"pkwy",	    "pl",	"pl.",	     "place",	 "platz",
	"plaza",     "plein",	"polku",    "praça",	"promenade", "prospekt", "quai",
	"quay",	     "rd",	"rd.",	    "ring",	"rise",	     "road",	 "row",
	"rua",	     "rue",	"sokak",    "sq",	"square",    "st",	 "st.",
	"steeg",     "str",	"str.",	    "straat",	"strasse",   "straße",	 "street",
	"tanya",     "terrace", "tie",	    "trail",	"travessa",  "trg",	 "třída",
	"u.",	     "ufer",	"ul.",	    "ulica",	"ulitsa",    "utca",	 "vei",
	"veien",     "vej",	"via",	    "viale",	"vicolo",    "view",	 "väg",
	"vägen",     "walk",	"way",	    "weg",	"wharf",     "út",	 "λεωφόρος",
	"οδός",	     "πλατεία", "переулок", "проспект", "улица",     NULL
};

/* Compound street names: Nassaustraat, Ziegelgasse, Björkvägen. */
static bool has_street_suffix(const char *s, size_t len)
{
	static const char *const suf[] = { "straat", "strasse", "straße",   "gasse", "gatan",
					   "vägen",  "gade",	"laan",	    "weg",   "allee",
					   "platz",  "katu",	"veien",    "vegen", "stigen",
					   "gränd",  "ulica",	"steenweg", "dreef", "street",
					   "road",   NULL };
	for (size_t k = 0; suf[k]; k++) {
		size_t sl = strlen(suf[k]);
		if (len > sl + 2 && rtr_word_eq(s + len - sl, sl, suf[k]))
			return true;
	}
	return false;
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

static bool is_street_word(const char *s, size_t len)
{
	char w[24];
	if (len == 0)
		return false;
	if (has_street_suffix(s, len))
		return true;
	if (len >= sizeof w)
		return false;
	for (size_t k = 0; k < len; k++)
		w[k] = (char)rtr_lower((unsigned char)s[k]);
	w[len] = '\0';
	const char *key = w;
	return bsearch(&key, street_words, sizeof street_words / sizeof street_words[0] - 1,
		       sizeof street_words[0], cmp_str) != NULL;
}

static const char *const unit_words[] = { "suite", "apt",    "apt.",	 "apartment", "unit",
					  "flat",  "floor",  "fl.",	 "room",      "rm",
					  "box",   "po box", "p.o. box", "building",  "bldg",
					  "bldg.", "#",	     NULL };

/* Words of a line, for the address scan. */
struct aword {
	size_t s, e;
	bool num, cap, lower, street, unit;
};

static bool word_is_lower_prose(const char *s, size_t b, size_t e)
{
	static const char *const prose[] = {
		"in",	  "for",   "the",    "and",   "or",    "is",	  "are",    "was",  "be",
		"to",	  "of",	   "on",     "at",    "after", "before",  "last",   "next", "case",
		"please", "if",	   "it",     "this",  "that",  "with",	  "from",   "by",   "but",
		"so",	  "i",	   "we",     "you",   "he",    "she",	  "they",   "my",   "your",
		"his",	  "her",   "their",  "our",   "an",    "a",	  "as",	    "when", "where",
		"which",  "who",   "will",   "would", "can",   "could",	  "should", "have", "has",
		"had",	  "not",   "serves", "there", "here",  "then",	  "than",   "did",  "do",
		"does",	  "night", "mail",   "post",  "issue", "concert", "now",    "also", "about",
		"until",  "since", NULL
	};
	for (size_t k = 0; prose[k]; k++)
		if (rtr_word_eq(s + b, e - b, prose[k]))
			return true;
	return false;
}

/* A region or state code in capitals: "ON", "SO", "NSW". */
static bool is_code(const char *s, const struct aword *x)
{
	size_t len = x->e - x->s;
	if (len < 2 || len > 3)
		return false;
	for (size_t k = x->s; k < x->e; k++)
		if (!(s[k] >= 'A' && s[k] <= 'Z'))
			return false;
	return true;
}

/* Splits s[b..e) into words (runs of non-space, trailing ,;: cut). */
static size_t split_words(const char *s, size_t b, size_t e, struct aword *w, size_t cap)
{
	size_t nw = 0;
	size_t i = b;
	while (i < e && nw < cap) {
		while (i < e && (s[i] == ' ' || s[i] == '\t' || s[i] == ','))
			i++;
		if (i >= e)
			break;
		size_t ws = i;
		while (i < e && s[i] != ' ' && s[i] != '\t' && s[i] != ',')
			i++;
		size_t we = i;
		while (we > ws && strchr(";:?!\"", s[we - 1]))
			we--;
		if (we == ws)
			continue;
		unsigned char f = (unsigned char)s[ws];
		struct aword a = { ws, we, false, false, false, false, false };
		a.num = rtr_is_digit(f);
		a.cap = (f >= 'A' && f <= 'Z') || f >= 0x80;
		a.lower = f >= 'a' && f <= 'z';
		a.street = is_street_word(s + ws, we - ws);
		for (size_t k = 0; unit_words[k]; k++)
			if (rtr_word_eq(s + ws, we - ws, unit_words[k]))
				a.unit = true;
		w[nw++] = a;
	}
	return nw;
}

static const char *const address_cues[] = {
	"address",	"lives at",	"live at",    "living at",    "lived in",
	"live in",	"located at",	"meet me at", "meet you at",  "sent to",
	"send it to",	"return to",	"moved to",   "arrived at",   "taxi to",
	"is at",	"ship to",	"deliver to", "delivered to", "mail to",
	"office is at", "offices are",	"we'll meet", "it's in",      "it is in",
	"at:",		"to:",		"residence",  "reside at",    "home is",
	"staying at",	"headquarters", NULL
};

/* Is the word a house number: 1-5 digits, maybe a letter or -digits. */
static bool is_house_number(const char *s, size_t b, size_t e)
{
	size_t d = 0, k = b;
	while (k < e && rtr_is_digit((unsigned char)s[k]))
		k++, d++;
	if (d == 0 || d > 5)
		return false;
	if (k == e)
		return true;
	if (e - k == 1 && rtr_is_alpha((unsigned char)s[k]))
		return true;
	if (s[k] == '-' || s[k] == '/') {
		k++;
		while (k < e && rtr_is_alnum((unsigned char)s[k]))
			k++;
		return k == e && e - b <= 9;
	}
	if (s[k] == '.' && k + 1 == e)
		return true;
	return false;
}

static bool is_ordinal(const char *s, size_t b, size_t e)
{
	size_t k = b;
	while (k < e && rtr_is_digit((unsigned char)s[k]))
		k++;
	return k > b && k + 2 == e &&
	       (rtr_word_eq(s + k, 2, "st") || rtr_word_eq(s + k, 2, "nd") ||
		rtr_word_eq(s + k, 2, "rd") || rtr_word_eq(s + k, 2, "th"));
}

static const char *const street_particles[] = { "de",  "da", "do", "dos", "das", "del", "della",
						"di",  "la", "le", "les", "van", "von", "der",
						"den", "el", "y",  "e",	  "u",	 "s",	NULL };

/* Street words strong enough to make an address without a number. */
static const char *const strong_street[] = {
	"street", "st.",     "road",	"avenue",  "ave.",   "boulevard", "blvd",   "blvd.",
	"lane",	  "drive",   "highway", "parkway", "straße", "strasse",	  "ulica",  "utca",
	"calle",  "avenida", "rua",	"rue",	   "via",    "viale",	  "piazza", "gatan",
	"vägen",  "gade",    "vej",	"laan",	   "straat", "weg",	  NULL
};

static bool any_word(const char *s, const struct aword *x, const char *const *list)
{
	for (size_t k = 0; list[k]; k++)
		if (rtr_word_eq(s + x->s, x->e - x->s, list[k]))
			return true;
	return false;
}

/* A unit at w[k]: "Suite 246", "Apt. 018", "P.O. Box 101", "PSC 7004, Box
 * 8380"; returns the index after it, or k. */
static size_t unit_at(const char *s, const struct aword *w, size_t nw, size_t k)
{
	if (k + 1 < nw &&
	    (rtr_word_eq(s + w[k].s, w[k].e - w[k].s, "p.o.") ||
	     rtr_word_eq(s + w[k].s, w[k].e - w[k].s, "po")) &&
	    rtr_word_eq(s + w[k + 1].s, w[k + 1].e - w[k + 1].s, "box"))
		k++;
	if (k + 1 < nw &&
	    (w[k].unit || rtr_word_eq(s + w[k].s, w[k].e - w[k].s, "psc") ||
	     rtr_word_eq(s + w[k].s, w[k].e - w[k].s, "cmr")) &&
	    (w[k + 1].num || (w[k + 1].e - w[k + 1].s <= 4 && !w[k + 1].lower)))
		return k + 2;
	return k;
}

/* One address line at [b, e): returns the end of the address part or b.
 *   [house number [number]] words [street word] [number] [unit]
 * is a street line when it has a street word, or a number on both sides,
 * or a number and an address cue before it. */
static size_t street_line(const char *s, size_t b, size_t e, bool cue, bool nocase, bool *unit)
{
	struct aword w[16];
	size_t nw = split_words(s, b, e, w, 16);
	*unit = false;
	if (!nw)
		return b;
	size_t u = unit_at(s, w, nw, 0);
	if (u > 0) {
		*unit = true;
		/* PSC 7004, Box 8380 */
		size_t u2 = unit_at(s, w, nw, u);
		return w[(u2 > u ? u2 : u) - 1].e;
	}
	/* military ships: USS Name */
	if (nw >= 2 &&
	    (rtr_word_eq(s + w[0].s, w[0].e - w[0].s, "uss") ||
	     rtr_word_eq(s + w[0].s, w[0].e - w[0].s, "usns") ||
	     rtr_word_eq(s + w[0].s, w[0].e - w[0].s, "usnv") ||
	     rtr_word_eq(s + w[0].s, w[0].e - w[0].s, "uscgc")) &&
	    !w[1].lower)
		return w[1].e;
	size_t best = b;
	bool street = false, lead = false, trail = false, strong = false;
	size_t k = 0;
	if (w[0].num && is_house_number(s, w[0].s, w[0].e))
		lead = true, k = 1;
	/* a second number: "95 230 Wit Rd" */
	bool two = false;
	if (lead && k < nw && w[k].num && is_house_number(s, w[k].s, w[k].e))
		k++, two = true;
	/* "12 P.O. Box 101" */
	if (lead && unit_at(s, w, nw, k) > k) {
		*unit = true;
		return w[unit_at(s, w, nw, k) - 1].e;
	}
	size_t words = 0;
	for (; k < nw && words < 7; k++) {
		if (w[k].num && !is_ordinal(s, w[k].s, w[k].e)) {
			if (!is_house_number(s, w[k].s, w[k].e) || !words)
				break;
			trail = true;
			best = w[k].e;
			k++;
			/* "Bygget 91 street" */
			if (k < nw && w[k].street && !w[k].num) {
				street = true;
				best = w[k].e;
				k++;
			}
			break;
		}
		if (w[k].unit)
			break;
		if (word_is_lower_prose(s, w[k].s, w[k].e) && !w[k].street &&
		    !any_word(s, &w[k], street_particles))
			break;
		if (any_word(s, &w[k], street_particles) && w[k].lower) {
			if (k + 1 < nw && !w[k + 1].lower)
				continue;
			break;
		}
		words++;
		if (w[k].street)
			street = true;
		if (any_word(s, &w[k], strong_street))
			strong = true;
		if (w[k].cap || w[k].street || w[k].num || cue || lead)
			best = w[k].e;
		else
			break;
	}
	if (!words)
		return b;
	bool named = false; /* a word of 3+ letters without an apostrophe */
	for (size_t m = 0; m < nw && m < k; m++)
		if (!w[m].num && w[m].e - w[m].s >= 3 && !memchr(s + w[m].s, '\'', w[m].e - w[m].s))
			named = true;
	bool ok = (lead && (street || trail || cue || (two && named))) ||
		  (trail && (street || cue)) || (strong && words >= 2 && (!w[0].lower || nocase));
	if (!ok)
		return b;
	/* a unit and what follows on the line: "Suite 603 Calgary AB" */
	size_t u2 = unit_at(s, w, nw, k);
	if (u2 > k) {
		best = w[u2 - 1].e;
		k = u2;
	}
	for (size_t m = 0; k < nw && m < 4; k++, m++) {
		/* a comma ends it: the caller follows ", City, Country" */
		if (k > 0 && memchr(s + w[k - 1].e, ',', w[k].s - w[k - 1].e))
			break;
		if ((word_is_lower_prose(s, w[k].s, w[k].e) && !is_code(s, &w[k])) ||
		    (w[k].lower && !nocase))
			break;
		if (w[k].num && !is_house_number(s, w[k].s, w[k].e))
			break;
		best = w[k].e;
	}
	return best;
}

/* Is line [b, e) short and name-like enough to continue an address
 * block (city, region, country, postcode)? Returns the end of the part to
 * take, or b. */
static size_t block_line(const char *s, size_t b, size_t e)
{
	struct aword w[12];
	size_t nw = split_words(s, b, e, w, 12);
	if (!nw || nw > 7)
		return b;
	/* "Republic of the Congo 75271": a country and a postcode */
	if (nw >= 2 && w[nw - 1].num && w[nw - 1].e == e && !w[0].lower) {
		bool ok = true;
		for (size_t k = 0; k + 1 < nw && ok; k++)
			ok = w[k].cap || w[k].num ||
			     rtr_word_eq(s + w[k].s, w[k].e - w[k].s, "of") ||
			     rtr_word_eq(s + w[k].s, w[k].e - w[k].s, "the") ||
			     rtr_word_eq(s + w[k].s, w[k].e - w[k].s, "and");
		if (ok)
			return e;
	}
	if (nw > 6)
		return b;
	size_t end = b;
	for (size_t k = 0; k < nw; k++) {
		/* "Trinidad and Tobago", "Republic of the Congo" */
		if (k > 0 && k + 1 < nw && !w[k + 1].lower &&
		    (rtr_word_eq(s + w[k].s, w[k].e - w[k].s, "and") ||
		     rtr_word_eq(s + w[k].s, w[k].e - w[k].s, "of") ||
		     rtr_word_eq(s + w[k].s, w[k].e - w[k].s, "the")))
			continue;
		if (word_is_lower_prose(s, w[k].s, w[k].e) && !is_code(s, &w[k]))
			break;
		if (!(w[k].cap || w[k].num || w[k].unit || w[k].street || w[k].lower ||
		      s[w[k].s] == '(' || s[w[k].s] == ','))
			break;
		end = w[k].e;
	}
	return end;
}

static void detect_address(const char *s, size_t n, struct rtr_cands *c)
{
	char win[64];
	bool nocase = true;
	for (size_t j = 0; j < n && nocase; j++)
		nocase = !(s[j] >= 'A' && s[j] <= 'Z');
	size_t i = 0;
	while (i < n) {
		/* a segment: to the end of the line or a sentence end */
		size_t ls = i;
		while (ls < n && (s[ls] == ' ' || s[ls] == '\t' || s[ls] == '>' || s[ls] == '?'))
			ls++;
		size_t le = ls;
		while (le < n && s[le] != '\n')
			le++;
		/* try a street line at every word start of the line */
		size_t p = ls;
		size_t taken = ls;
		while (p < le) {
			if (!(p == ls || (s[p - 1] == ' ' && at_word_start(s, p)))) {
				p++;
				continue;
			}
			if (p < taken) {
				p++;
				continue;
			}
			/* prose words cannot open a street line (but "rue de ...") */
			if (!nocase && s[p] >= 'a' && s[p] <= 'z') {
				size_t q = p;
				while (q < le && s[q] != ' ')
					q++;
				if (!is_street_word(s + p, q - p)) {
					p = q;
					continue;
				}
			}
			window_before(s, p, 40, win, sizeof win);
			bool cue = window_has(win, address_cues);
			bool unit;
			size_t e =
				street_line(s, p, le - p > 400 ? p + 400 : le, cue, nocase, &unit);
			if (e > p) {
				size_t bs = p, be = e;
				/* same line: ", City, Country 12345" */
				for (;;) {
					size_t q = be;
					while (q < le && (s[q] == ',' || s[q] == ' '))
						q++;
					if (q == be || q >= le)
						break;
					size_t qe = q;
					while (qe < le && s[qe] != ',' && s[qe] != '.' &&
					       s[qe] != '?' && s[qe] != '!')
						qe++;
					size_t t = block_line(s, q, qe);
					if (t <= q || s[be] != ',')
						break;
					be = t;
				}
				/* following lines of a block */
				size_t nl = le, lines = 0;
				while (nl < n && lines < 5) {
					size_t a = nl + 1;
					while (a < n &&
					       (s[a] == ' ' || s[a] == '\t' || s[a] == '>' ||
						s[a] == '?' || s[a] == ',' || s[a] == '\n'))
						a++;
					size_t z = a;
					while (z < n && s[z] != '\n')
						z++;
					if (a >= n || z == a)
						break;
					/* a blank line ends a block unless the next is short */
					size_t t = block_line(s, a, z);
					if (t <= a)
						break;
					be = t;
					lines++;
					nl = z;
					if (t < z)
						break;
				}
				rtr_cands_add(c, bs, be, RTR_PII_ADDRESS,
					      unit ? RTR_PRIO_ADDRESS - 2 : RTR_PRIO_ADDRESS);
				taken = be;
				if (be > le) {
					le = be;
					while (le < n && s[le] != '\n')
						le++;
				}
				p = be;
				continue;
			}
			p++;
		}
		i = le + 1;
	}
	/* military post: APO AE 09123 */
	for (size_t j = 0; j + 12 <= n; j++) {
		if (!at_word_start(s, j) ||
		    !(starts_with_ci(s, n, j, "apo ") || starts_with_ci(s, n, j, "fpo ") ||
		      starts_with_ci(s, n, j, "dpo ")))
			continue;
		if (!(s[j] >= 'A' && s[j] <= 'Z') && !(s[j + 4] >= 'a' && s[j + 4] <= 'z'))
			continue;
		bool ok = rtr_is_alpha((unsigned char)s[j + 4]) &&
			  rtr_is_alpha((unsigned char)s[j + 5]) && s[j + 6] == ' ';
		for (size_t k = j + 7; k < j + 12 && ok; k++)
			ok = rtr_is_digit((unsigned char)s[k]);
		if (ok && at_word_end(s, n, j + 12))
			rtr_cands_add(c, j, j + 12, RTR_PII_ADDRESS, RTR_PRIO_ADDRESS);
	}
	/* postcodes after a cue */
	for (size_t j = 0; j < n; j++) {
		if (!rtr_is_alnum((unsigned char)s[j]) || !at_word_start(s, j))
			continue;
		size_t e = j;
		int digits = 0;
		while (e < n && e - j < 10 && (rtr_is_alnum((unsigned char)s[e]) || s[e] == '-')) {
			digits += rtr_is_digit((unsigned char)s[e]);
			e++;
		}
		if (digits >= 3 && at_word_end(s, n, e)) {
			window_before(s, j, 20, win, sizeof win);
			if (strstr(win, "zip") || strstr(win, "postcode") ||
			    strstr(win, "postal code") || strstr(win, "post code") ||
			    strstr(win, "plz"))
				rtr_cands_add(c, j, e, RTR_PII_ADDRESS, RTR_PRIO_CUE);
		}
		j = e;
	}
}

void rtr_detect_patterns(const char *s, size_t n, uint32_t types, struct rtr_cands *c)
{
	if (WANT(RTR_PII_EMAIL))
		detect_email(s, n, c);
	if (WANT(RTR_PII_URL))
		detect_url(s, n, c);
	if (WANT(RTR_PII_IP)) {
		detect_ipv4(s, n, c);
		detect_ipv6(s, n, c);
	}
	if (WANT(RTR_PII_CARD))
		detect_card(s, n, c);
	if (WANT(RTR_PII_IBAN))
		detect_iban(s, n, c);
	if (WANT(RTR_PII_ID)) {
		detect_id_shapes(s, n, c);
		detect_id_cue(s, n, c);
	}
	if (WANT(RTR_PII_SECRET))
		detect_secret(s, n, c);
	if (WANT(RTR_PII_PHONE))
		detect_phone(s, n, c);
	if (WANT(RTR_PII_DATE)) {
		detect_date(s, n, c);
		detect_weekday(s, n, c);
	}
	if (WANT(RTR_PII_ACCOUNT))
		detect_account(s, n, c);
	if (WANT(RTR_PII_ADDRESS))
		detect_address(s, n, c);
}
