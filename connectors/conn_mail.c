/*
 * conn_mail.c - RFC 5322 messages, parsed with GMime 3.
 *
 * For a message this produces: the headers (Subject, From, To, Cc, Date
 * with its offset, Message-ID, In-Reply-To, References, List-Id), the body
 * text, the attachments (name, type, decoded size), and child documents
 * for message/rfc822 parts (parsed as messages) and for text attachments.
 *
 * The body: inline text/plain parts in MIME order (in a
 * multipart/alternative the text/plain branch wins); failing those, the
 * first text/html part turned into text. Transfer encodings (base64,
 * quoted-printable, uuencode) are undone by GMime; charsets are converted
 * here, so that every invalid byte becomes U+FFFD (GMime would drop them).
 * Quoted replies and signatures in the body are marked (conn_find_quotes).
 */
#include <gmime/gmime.h>
#include <libxml/parser.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "../common/buf.h"
#include "../common/status.h"
#include "../common/utf8.h"
#include "conn.h"

#define MAIL_MAX_DEPTH	  16	      /* nesting of multiparts and messages */
#define MAIL_MAX_ADDRS	  256	      /* addresses kept per message */
#define MAIL_MAX_ATTS	  256	      /* attachments listed per message */
#define MAIL_MAX_CHILDREN 64	      /* child documents per message */
#define MAIL_MAX_REFS	  128	      /* References kept */
#define MAIL_TEXT_CAP	  (32u << 20) /* text kept per message */

void conn_global_init(void)
{
	g_mime_init();
	xmlInitParser();
	conn_xml_lockdown();
}

void conn_global_shutdown(void)
{
	g_mime_shutdown();
	xmlCleanupParser();
}

/* Per-message parse state. */
struct walk {
	struct conn_doc *doc;
	struct mx_buf body; /* text/plain parts so far */
	GMimePart *html;    /* the first inline text/html part */
	bool have_plain;
	int nchild;
	int depth; /* message nesting */
	int rc;
};

/* A malloc'd, valid UTF-8 copy of a string GMime gave us (or NULL). */
static char *dup_utf8(const char *s)
{
	if (!s)
		return NULL;
	char *out = NULL;
	if (mx_utf8_repair(s, strlen(s), &out, NULL, NULL))
		return NULL;
	return out;
}

/* ===================================================================== */
/* decoding                                                              */
/* ===================================================================== */

/* The part's content with its transfer encoding undone (malloc'd). */
static int part_bytes(GMimePart *part, char **out, size_t *len)
{
	GMimeDataWrapper *w = g_mime_part_get_content(part);
	GMimeStream *mem = g_mime_stream_mem_new();
	if (w)
		g_mime_data_wrapper_write_to_stream(w, mem);
	GByteArray *ba = g_mime_stream_mem_get_byte_array(GMIME_STREAM_MEM(mem));
	size_t n = ba ? ba->len : 0;
	char *p = malloc(n + 1);
	if (!p) {
		g_object_unref(mem);
		return MX_ENOMEM;
	}
	if (n)
		memcpy(p, ba->data, n);
	p[n] = '\0';
	g_object_unref(mem);
	*out = p;
	*len = n;
	return 0;
}

/* A text part's content as UTF-8 (malloc'd); *nrepl counts invalid bytes
 * replaced. */
static int part_text(GMimePart *part, char **out, size_t *len, size_t *nrepl)
{
	char *raw = NULL;
	size_t rawlen = 0;
	int rc = part_bytes(part, &raw, &rawlen);
	if (rc)
		return rc;
	const char *cs = g_mime_object_get_content_type_parameter(GMIME_OBJECT(part), "charset");
	const char *iconv_name = cs ? g_mime_charset_iconv_name(cs) : NULL;
	rc = conn_to_utf8(iconv_name, raw, rawlen, out, len, nrepl);
	free(raw);
	return rc;
}

static int64_t part_size(GMimePart *part)
{
	GMimeDataWrapper *w = g_mime_part_get_content(part);
	if (!w)
		return 0;
	GMimeStream *null = g_mime_stream_null_new();
	g_mime_data_wrapper_write_to_stream(w, null);
	int64_t n = (int64_t)GMIME_STREAM_NULL(null)->written;
	g_object_unref(null);
	return n;
}

/* ===================================================================== */
/* headers                                                               */
/* ===================================================================== */

static int add_addrs(struct conn_doc *doc, InternetAddressList *l, const char *role,
		     struct mx_buf *rcpt)
{
	int n = l ? internet_address_list_length(l) : 0;
	for (int i = 0; i < n; i++) {
		InternetAddress *ia = internet_address_list_get_address(l, i);
		if (INTERNET_ADDRESS_IS_GROUP(ia)) {
			int rc = add_addrs(
				doc, internet_address_group_get_members(INTERNET_ADDRESS_GROUP(ia)),
				role, rcpt);
			if (rc)
				return rc;
			continue;
		}
		if (!INTERNET_ADDRESS_IS_MAILBOX(ia) || doc->naddrs >= MAIL_MAX_ADDRS)
			continue;
		const char *addr = internet_address_mailbox_get_addr(INTERNET_ADDRESS_MAILBOX(ia));
		const char *name = internet_address_get_name(ia);
		if (!addr || !*addr)
			continue;
		struct conn_addr *v = realloc(doc->addrs, (doc->naddrs + 1) * sizeof *v);
		if (!v)
			return MX_ENOMEM;
		doc->addrs = v;
		struct conn_addr *a = &v[doc->naddrs];
		a->role = role;
		a->addr = dup_utf8(addr);
		a->name = name && *name ? conn_clean_field(dup_utf8(name)) : NULL;
		if (!a->addr)
			return MX_ENOMEM;
		doc->naddrs++;
		if (rcpt) {
			/* the recipients line, capped: past it, addresses are
			 * still in addrs */
			if (rcpt->len)
				mx_buf_appends(rcpt, ", ");
			if (a->name)
				mx_buf_appendf(rcpt, "%s <%s>", a->name, a->addr);
			else
				mx_buf_appends(rcpt, a->addr);
		}
	}
	return 0;
}

/* The end of an RFC 2047 encoded word "=?charset?X?text?=" that starts at
 * p, or NULL: no white space, three '?' between the "=?" and "?=". */
static const char *encoded_word_end(const char *p)
{
	const char *q = p + 2;
	for (int k = 0; k < 2; k++) {
		while (*q && *q != '?' && *q != ' ' && *q != '\t' && *q != '\r' && *q != '\n')
			q++;
		if (*q != '?')
			return NULL;
		q++;
	}
	for (; *q && *q != ' ' && *q != '\t' && *q != '\r' && *q != '\n'; q++)
		if (q[0] == '?' && q[1] == '=')
			return q + 2;
	return NULL;
}

/* An address header parsed again with each encoded word of a display name
 * in double quotes, where GMime's own parse dropped mailboxes: an encoded
 * word that holds specials (";", "]", as a name with a terminal escape
 * does) makes GMime drop the mailbox, and a From line with it. Quoted, the
 * word is still decoded and the address survives. The list (unref it)
 * when it holds more than `have` entries, else NULL. */
static InternetAddressList *addrs_requoted(GMimeObject *o, const char *name, int have)
{
	GMimeHeaderList *hl = g_mime_object_get_header_list(o);
	GMimeHeader *h = hl ? g_mime_header_list_get_header(hl, name) : NULL;
	const char *raw = h ? g_mime_header_get_raw_value(h) : NULL;
	if (!raw || !strstr(raw, "=?"))
		return NULL;
	struct mx_buf b;
	mx_buf_init(&b, 3 * strlen(raw) + 16);
	bool quoted = false, angle = false;
	int rc = 0;
	for (const char *p = raw; *p && !rc;) {
		const char *e = NULL;
		if (!quoted && !angle && p[0] == '=' && p[1] == '?' && (e = encoded_word_end(p))) {
			rc = mx_buf_appendf(&b, "\"%.*s\"", (int)(e - p), p);
			p = e;
			continue;
		}
		if (quoted && *p == '\\' && p[1]) {
			rc = mx_buf_append(&b, p, 2);
			p += 2;
			continue;
		}
		if (*p == '"' && !angle)
			quoted = !quoted;
		else if (*p == '<' && !quoted)
			angle = true;
		else if (*p == '>' && !quoted)
			angle = false;
		rc = mx_buf_append(&b, p++, 1);
	}
	InternetAddressList *l = NULL;
	if (!rc && b.data)
		l = internet_address_list_parse(NULL, b.data);
	mx_buf_free(&b);
	if (l && internet_address_list_length(l) <= have) {
		g_object_unref(l);
		l = NULL;
	}
	return l;
}

/* add_addrs over header `name` of the message: GMime's parse, or
 * addrs_requoted's where that finds more. */
static int add_header_addrs(struct conn_doc *doc, GMimeMessage *msg, GMimeAddressType type,
			    const char *name, const char *role, struct mx_buf *rcpt)
{
	InternetAddressList *l = g_mime_message_get_addresses(msg, type);
	InternetAddressList *again =
		addrs_requoted(GMIME_OBJECT(msg), name, l ? internet_address_list_length(l) : 0);
	int rc = add_addrs(doc, again ? again : l, role, rcpt);
	if (again)
		g_object_unref(again);
	return rc;
}

/* Message-ids of a References or In-Reply-To header, space-separated: the
 * contents of each <...>, or, in a header with no brackets at all, each
 * word. (GMime 3.2's parser stops at the first id without an '@', such as
 * "<yes>", and loses the rest of the chain.) The newest max are kept: the
 * end of the chain matters most. */
static char *ids_of(const char *h, int max)
{
	if (!h)
		return NULL;
	const char *ids[MAIL_MAX_REFS];
	size_t lens[MAIL_MAX_REFS];
	int n = 0;
	bool brackets = strchr(h, '<') != NULL;
	for (const char *p = h; *p;) {
		const char *s, *e;
		if (brackets) {
			s = strchr(p, '<');
			if (!s)
				break;
			s++;
			e = strchr(s, '>');
			if (!e)
				break;
			p = e + 1;
		} else {
			while (*p == ' ' || *p == '\t' || *p == '\r' || *p == '\n')
				p++;
			s = p;
			while (*p && *p != ' ' && *p != '\t' && *p != '\r' && *p != '\n')
				p++;
			e = p;
		}
		while (s < e && (*s == ' ' || *s == '\t'))
			s++;
		while (e > s && (e[-1] == ' ' || e[-1] == '\t'))
			e--;
		if (e == s || memchr(s, ' ', (size_t)(e - s)) || memchr(s, '\n', (size_t)(e - s)))
			continue;
		if (n == MAIL_MAX_REFS) { /* keep the newest: slide */
			memmove(ids, ids + 1, (MAIL_MAX_REFS - 1) * sizeof *ids);
			memmove(lens, lens + 1, (MAIL_MAX_REFS - 1) * sizeof *lens);
			n--;
		}
		ids[n] = s;
		lens[n++] = (size_t)(e - s);
	}
	struct mx_buf b;
	mx_buf_init(&b, 64 * 1024);
	for (int i = n > max ? n - max : 0; i < n; i++) {
		if (b.len)
			mx_buf_append(&b, " ", 1);
		mx_buf_append(&b, ids[i], lens[i]);
	}
	if (!b.len) {
		mx_buf_free(&b);
		return NULL;
	}
	char *str = mx_buf_detach(&b);
	char *u = dup_utf8(str);
	free(str);
	return u;
}

static int read_headers(GMimeMessage *msg, struct conn_doc *doc)
{
	GMimeObject *o = GMIME_OBJECT(msg);
	const char *subject = g_mime_message_get_subject(msg);
	const char *mid = g_mime_message_get_message_id(msg);
	GDateTime *date = g_mime_message_get_date(msg);
	doc->type = "mail";
	doc->line_base = -1;
	doc->title = conn_clean_field(dup_utf8(subject));
	if (mid && *mid && !(doc->message_id = dup_utf8(mid)))
		return MX_ENOMEM;
	if (date) {
		doc->date = (int64_t)g_date_time_to_unix(date);
		doc->date_offset = (int)(g_date_time_get_utc_offset(date) / G_TIME_SPAN_MINUTE);
	}
	struct mx_buf rcpt;
	mx_buf_init(&rcpt, 16 * 1024);
	int rc = add_header_addrs(doc, msg, GMIME_ADDRESS_TYPE_FROM, "From", "from", NULL);
	if (!rc)
		rc = add_header_addrs(doc, msg, GMIME_ADDRESS_TYPE_TO, "To", "to", &rcpt);
	if (!rc)
		rc = add_header_addrs(doc, msg, GMIME_ADDRESS_TYPE_CC, "Cc", "cc", &rcpt);
	if (!rc && rcpt.len)
		doc->recipients = dup_utf8(rcpt.data);
	mx_buf_free(&rcpt);
	if (rc)
		return rc;
	if (doc->naddrs && !strcmp(doc->addrs[0].role, "from")) {
		const struct conn_addr *a = &doc->addrs[0];
		struct mx_buf b;
		mx_buf_init(&b, 4096);
		if (a->name)
			mx_buf_appendf(&b, "%s <%s>", a->name, a->addr);
		else
			mx_buf_appends(&b, a->addr);
		doc->author = b.data ? conn_clean_field(mx_buf_detach(&b)) : NULL;
		mx_buf_free(&b);
	}
	doc->in_reply_to = ids_of(g_mime_object_get_header(o, "In-Reply-To"), 1);
	doc->refs = ids_of(g_mime_object_get_header(o, "References"), MAIL_MAX_REFS);
	const char *list = g_mime_object_get_header(o, "List-Id");
	if (list) {
		/* "Name <list.example.org>": the part in brackets */
		const char *lt = strrchr(list, '<'), *gt = lt ? strchr(lt, '>') : NULL;
		char *v = lt && gt ? strndup(lt + 1, (size_t)(gt - lt - 1)) : strdup(list);
		doc->list_id = conn_clean_field(v ? dup_utf8(v) : NULL);
		free(v);
	}
	return 0;
}

/* ===================================================================== */
/* the MIME tree                                                         */
/* ===================================================================== */

static void walk_object(struct walk *w, GMimeObject *o, int depth);
static int extract_message(GMimeMessage *msg, struct conn_doc *doc, int depth);

static bool is_type(GMimeObject *o, const char *type, const char *sub)
{
	GMimeContentType *ct = g_mime_object_get_content_type(o);
	return ct && g_mime_content_type_is_type(ct, type, sub);
}

static bool is_attachment(GMimeObject *o)
{
	GMimeContentDisposition *d = g_mime_object_get_content_disposition(o);
	const char *disp = d ? g_mime_content_disposition_get_disposition(d) : NULL;
	if (disp && !strcasecmp(disp, "attachment"))
		return true;
	/* an inline part with a file name that is not text is an attachment
	 * too (images, PDFs sent "inline") */
	return GMIME_IS_PART(o) && g_mime_part_get_filename(GMIME_PART(o)) &&
	       !is_type(o, "text", "*");
}

/* Adds an empty child document and returns it (NULL past the cap). */
static struct conn_doc *new_child(struct walk *w)
{
	struct conn_doc *d = w->doc;
	if (d->nchildren >= MAIL_MAX_CHILDREN)
		return NULL;
	struct conn_doc *v = realloc(d->children, (d->nchildren + 1) * sizeof *v);
	if (!v) {
		w->rc = MX_ENOMEM;
		return NULL;
	}
	d->children = v;
	struct conn_doc *c = &v[d->nchildren++];
	conn_doc_init(c);
	char key[16];
	snprintf(key, sizeof key, "%d", ++w->nchild);
	if (!(c->part = strdup(key)))
		w->rc = MX_ENOMEM;
	return c;
}

static void add_att(struct walk *w, const char *name, char *mime_type, int64_t size)
{
	struct conn_doc *d = w->doc;
	if (d->natts >= MAIL_MAX_ATTS) {
		g_free(mime_type);
		return;
	}
	struct conn_att *v = realloc(d->atts, (d->natts + 1) * sizeof *v);
	if (!v) {
		g_free(mime_type);
		w->rc = MX_ENOMEM;
		return;
	}
	d->atts = v;
	struct conn_att *a = &v[d->natts++];
	a->name = conn_clean_field(dup_utf8(name));
	a->mime_type = dup_utf8(mime_type);
	a->size = size;
	g_free(mime_type);
}

/* Whether an attachment is text worth indexing as a child document. */
static bool text_attachment(GMimeObject *o, const char *name)
{
	if (is_type(o, "text", "plain") || is_type(o, "text", "markdown") ||
	    is_type(o, "text", "x-markdown") || is_type(o, "text", "csv"))
		return true;
	const char *dot = name ? strrchr(name, '.') : NULL;
	return dot && (!strcasecmp(dot, ".txt") || !strcasecmp(dot, ".md") ||
		       !strcasecmp(dot, ".org") || !strcasecmp(dot, ".csv"));
}

/* RFC 2045 5.2: a Content-Type that is not "type/subtype" means
 * text/plain (GMime would call it application/octet-stream). */
static bool invalid_type(GMimeObject *o)
{
	const char *raw = g_mime_object_get_header(o, "Content-Type");
	if (!raw)
		return false;
	const char *semi = strchr(raw, ';');
	size_t n = semi ? (size_t)(semi - raw) : strlen(raw);
	return !memchr(raw, '/', n);
}

/* The size of an embedded message as it stands in its parent. */
static int64_t message_size(GMimeMessage *m)
{
	GMimeStream *null = g_mime_stream_null_new();
	g_mime_object_write_to_stream(GMIME_OBJECT(m), NULL, null);
	int64_t n = (int64_t)GMIME_STREAM_NULL(null)->written;
	g_object_unref(null);
	return n;
}

static void add_message_child(struct walk *w, GMimeMessage *inner, int64_t size);

/* A message/rfc822 part sent with a base64 or quoted-printable encoding
 * (RFC 2046 forbids it; senders do it): decode and parse it. */
static void walk_encoded_message(struct walk *w, GMimePart *part)
{
	char *raw = NULL;
	size_t len = 0;
	if ((w->rc = part_bytes(part, &raw, &len)))
		return;
	GMimeStream *stream = g_mime_stream_mem_new_with_buffer(raw, len);
	GMimeParser *parser = g_mime_parser_new_with_stream(stream);
	GMimeMessage *inner = g_mime_parser_construct_message(parser, NULL);
	if (inner) {
		add_message_child(w, inner, (int64_t)len);
		g_object_unref(inner);
	}
	g_object_unref(parser);
	g_object_unref(stream);
	free(raw);
}

/* An attachment a document connector reads (PDF, office files, HTML,
 * archives): decoded and parsed into a child document. One that does not
 * parse stays listed as an attachment only. */
static void doc_attachment(struct walk *w, GMimePart *part, const char *name, int64_t size)
{
	if (size <= 0 || (uint64_t)size > conn_limits_default().max_entry)
		return;
	char *raw = NULL;
	size_t len = 0;
	if ((w->rc = part_bytes(part, &raw, &len)))
		return;
	char why[128];
	const struct conn_ops *ops = conn_sniff(name ? name : "", raw, len);
	if (!ops && name)
		ops = conn_for_file("notes", name, why, sizeof why);
	if (ops && ops != &conn_mail_ops && ops != &conn_note_ops) {
		struct conn_doc *c = new_child(w);
		if (c && !w->rc) {
			int rc = ops->parse(name ? name : "attachment", raw, len, c);
			if (rc == MX_ENOMEM) {
				w->rc = rc;
			} else if (rc) {
				/* not readable: keep only the attachment's listing */
				conn_doc_clear(c);
				w->doc->nchildren--;
				w->nchild--;
			} else if (!c->title) {
				c->title = strdup(name ? name : "attachment");
			}
			if (c->type && !strcmp(c->type, ""))
				c->type = "attachment";
		}
	}
	free(raw);
}

static void walk_part(struct walk *w, GMimePart *part)
{
	GMimeObject *o = GMIME_OBJECT(part);
	const char *name = g_mime_part_get_filename(part);
	if (is_type(o, "message", "rfc822")) {
		walk_encoded_message(w, part);
		return;
	}
	if (!is_attachment(o) && (is_type(o, "text", "plain") || invalid_type(o))) {
		char *t = NULL;
		size_t n = 0, repl = 0;
		if ((w->rc = part_text(part, &t, &n, &repl)))
			return;
		w->doc->nreplaced += repl;
		/* past the cap, what fits is kept */
		if (w->body.len)
			mx_buf_appends(&w->body, "\n\n");
		mx_buf_append(&w->body, t, n);
		free(t);
		w->have_plain = true;
		return;
	}
	if (!is_attachment(o) && is_type(o, "text", "html")) {
		if (!w->html)
			w->html = part;
		return;
	}
	if (!is_attachment(o) && !name)
		return; /* an inline part of no use for text (a logo, a calendar) */
	GMimeContentType *ct = g_mime_object_get_content_type(o);
	int64_t size = part_size(part);
	add_att(w, name, ct ? g_mime_content_type_get_mime_type(ct) : NULL, size);
	if (w->rc)
		return;
	if (!text_attachment(o, name)) {
		doc_attachment(w, part, name, size);
		return;
	}
	struct conn_doc *c = new_child(w);
	if (!c)
		return;
	c->type = "attachment";
	c->line_base = 0;
	c->title = conn_clean_field(dup_utf8(name ? name : "attachment"));
	if ((w->rc = part_text(part, &c->text, &c->text_len, &c->nreplaced)))
		return;
	if (!c->title)
		c->title = strdup("attachment");
}

/* An embedded message: listed as an attachment and parsed as a child. */
static void add_message_child(struct walk *w, GMimeMessage *inner, int64_t size)
{
	const char *subj = g_mime_message_get_subject(inner);
	add_att(w, subj ? subj : "message", g_strdup("message/rfc822"), size);
	if (w->rc || w->depth + 1 > MAIL_MAX_DEPTH)
		return;
	struct conn_doc *c = new_child(w);
	if (c && !w->rc) {
		int rc = extract_message(inner, c, w->depth + 1);
		if (rc == MX_ENOMEM)
			w->rc = rc;
	}
}

static void walk_object(struct walk *w, GMimeObject *o, int depth)
{
	if (!o || w->rc || depth > MAIL_MAX_DEPTH)
		return;
	if (GMIME_IS_MULTIPART(o)) {
		GMimeMultipart *m = GMIME_MULTIPART(o);
		int n = g_mime_multipart_get_count(m);
		if (is_type(o, "multipart", "alternative")) {
			/* the plain branch if there is one, else the last (the
			 * richest) */
			GMimeObject *best = NULL;
			for (int i = 0; i < n && !best; i++) {
				GMimeObject *c = g_mime_multipart_get_part(m, i);
				if (is_type(c, "text", "plain"))
					best = c;
			}
			walk_object(w,
				    best ? best
				    : n	 ? g_mime_multipart_get_part(m, n - 1)
					 : NULL,
				    depth + 1);
			return;
		}
		for (int i = 0; i < n && !w->rc; i++)
			walk_object(w, g_mime_multipart_get_part(m, i), depth + 1);
		return;
	}
	if (GMIME_IS_MESSAGE_PART(o)) {
		GMimeMessage *inner = g_mime_message_part_get_message(GMIME_MESSAGE_PART(o));
		if (inner)
			add_message_child(w, inner, message_size(inner));
		return;
	}
	if (GMIME_IS_PART(o))
		walk_part(w, GMIME_PART(o));
}

/* Fills doc from a parsed message. */
static int extract_message(GMimeMessage *msg, struct conn_doc *doc, int depth)
{
	int rc = read_headers(msg, doc);
	if (rc)
		return rc;
	struct walk w = { .doc = doc, .depth = depth };
	mx_buf_init(&w.body, MAIL_TEXT_CAP);
	walk_object(&w, g_mime_message_get_mime_part(msg), 0);
	if (!w.rc && !w.have_plain && w.html) {
		char *html = NULL, *text = NULL;
		size_t hn = 0, tn = 0, repl = 0;
		if (!(w.rc = part_text(w.html, &html, &hn, &repl)) &&
		    !(w.rc = conn_html_to_text(html, hn, MAIL_TEXT_CAP, &text, &tn))) {
			mx_buf_append(&w.body, text, tn);
			snprintf(doc->note, sizeof doc->note, "text from the HTML part");
		}
		doc->nreplaced += repl;
		free(html);
		free(text);
	}
	if (w.rc) {
		mx_buf_free(&w.body);
		return w.rc;
	}
	if (!w.have_plain && !w.html)
		snprintf(doc->note, sizeof doc->note, "no text part");
	doc->text_len = w.body.len;
	doc->text = mx_buf_detach(&w.body);
	if (!doc->text)
		return MX_ENOMEM;
	if (doc->nreplaced && !doc->note[0])
		snprintf(doc->note, sizeof doc->note, "%zu invalid bytes replaced", doc->nreplaced);
	return conn_find_quotes(doc->text, doc->text_len, &doc->quoted, &doc->nquoted);
}

static int mail_parse(const char *path, const char *data, size_t len, struct conn_doc *doc)
{
	(void)path;
	int rc = 0;
	if (len == 0) {
		snprintf(doc->err, sizeof doc->err, "empty file");
		return MX_EEMPTY;
	}
	/* a message saved in UTF-16 (it happens): read it as UTF-8 */
	char *conv = NULL;
	const char *u16 = conn_utf16_kind(data, len);
	if (u16) {
		const unsigned char *p = (const unsigned char *)data;
		size_t skip =
			len >= 2 && (p[0] == 0xFF || p[0] == 0xFE) && (p[1] == 0xFE || p[1] == 0xFF)
				? 2
				: 0;
		size_t clen = 0, repl = 0;
		if ((rc = conn_to_utf8(u16, data + skip, len - skip, &conv, &clen, &repl)))
			return rc;
		data = conv;
		len = clen;
	}
	/* a single message saved with its mbox "From " line */
	if (len > 5 && !memcmp(data, "From ", 5)) {
		const char *nl = memchr(data, '\n', len);
		size_t skip = nl ? (size_t)(nl - data) + 1 : len;
		data += skip, len -= skip;
	}
	GMimeStream *stream = g_mime_stream_mem_new_with_buffer(data, len);
	GMimeParser *parser = g_mime_parser_new_with_stream(stream);
	GMimeMessage *msg = g_mime_parser_construct_message(parser, NULL);
	if (!msg) {
		snprintf(doc->err, sizeof doc->err, "not a mail message");
		rc = MX_EINVAL;
		goto out;
	}
	InternetAddressList *from = g_mime_message_get_from(msg);
	if (!g_mime_message_get_subject(msg) && !g_mime_message_get_message_id(msg) &&
	    !g_mime_message_get_date(msg) && !(from && internet_address_list_length(from))) {
		snprintf(doc->err, sizeof doc->err,
			 "not a mail message (no From, Subject, Date or Message-ID)");
		rc = MX_EINVAL;
		goto out;
	}
	rc = extract_message(msg, doc, 0);
	if (rc == MX_ENOMEM)
		snprintf(doc->err, sizeof doc->err, "out of memory");
out:
	if (msg)
		g_object_unref(msg);
	g_object_unref(parser);
	g_object_unref(stream);
	free(conv);
	return rc;
}

const struct conn_ops conn_mail_ops = { "mail", mail_parse };
