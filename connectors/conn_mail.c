/*
 * conn_mail.c - one RFC 5322 message per file, parsed with GMime 3.
 *
 * This is the foundation's mail reader: the headers (From, To, Cc, Subject,
 * Date, Message-ID) and the first text/plain part that is not an attachment,
 * decoded from its transfer encoding and charset to UTF-8 by GMime. Threads,
 * HTML bodies, attachments and quoted-text marking come with the mail issue.
 */
#include <gmime/gmime.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../common/buf.h"
#include "../common/status.h"
#include "../common/utf8.h"
#include "conn.h"

#define MAIL_MAX_DEPTH 32  /* nesting of multiparts we follow */
#define MAIL_MAX_ADDRS 256 /* recipients kept per message */

void conn_global_init(void)
{
	g_mime_init();
}

void conn_global_shutdown(void)
{
	g_mime_shutdown();
}

/* A malloc'd, valid UTF-8 copy of a string GMime gave us. */
static char *dup_utf8(const char *s)
{
	if (!s)
		return NULL;
	char *out = NULL;
	if (mx_utf8_repair(s, strlen(s), &out, NULL, NULL))
		return NULL;
	return out;
}

/* "Name <addr>" or "addr" for one address. */
static int format_addr(InternetAddress *ia, struct mx_buf *b)
{
	const char *name = internet_address_get_name(ia);
	const char *addr = INTERNET_ADDRESS_IS_MAILBOX(ia)
				   ? internet_address_mailbox_get_addr(INTERNET_ADDRESS_MAILBOX(ia))
				   : NULL;
	if (name && *name && addr && *addr)
		return mx_buf_appendf(b, "%s <%s>", name, addr);
	if (addr && *addr)
		return mx_buf_appends(b, addr);
	if (name && *name)
		return mx_buf_appends(b, name);
	return 0;
}

static int append_list(InternetAddressList *l, struct mx_buf *b, int max)
{
	int n = l ? internet_address_list_length(l) : 0;
	int rc = 0;
	for (int i = 0; i < n && i < max && !rc; i++) {
		if (b->len)
			rc = mx_buf_appends(b, ", ");
		if (!rc)
			rc = format_addr(internet_address_list_get_address(l, i), b);
	}
	return rc;
}

/* Depth-first search for the first inline text/plain part. */
static GMimeTextPart *find_text(GMimeObject *o, int depth)
{
	if (!o || depth > MAIL_MAX_DEPTH)
		return NULL;
	if (GMIME_IS_MULTIPART(o)) {
		GMimeMultipart *m = GMIME_MULTIPART(o);
		int n = g_mime_multipart_get_count(m);
		for (int i = 0; i < n; i++) {
			GMimeTextPart *t = find_text(g_mime_multipart_get_part(m, i), depth + 1);
			if (t)
				return t;
		}
		return NULL;
	}
	if (GMIME_IS_TEXT_PART(o)) {
		GMimeContentType *ct = g_mime_object_get_content_type(o);
		if (ct && g_mime_content_type_is_type(ct, "text", "plain") &&
		    !g_mime_part_is_attachment(GMIME_PART(o)))
			return GMIME_TEXT_PART(o);
	}
	return NULL;
}

/* Decoded body text as valid UTF-8: text GMime could not convert (a wrong
 * or missing charset) is read as windows-1252, as mail clients do. */
static int body_text(GMimeTextPart *t, struct conn_doc *doc)
{
	if (!t) {
		doc->text = calloc(1, 1);
		doc->text_len = 0;
		snprintf(doc->note, sizeof doc->note, "no text/plain part");
		return doc->text ? 0 : MX_ENOMEM;
	}
	char *s = g_mime_text_part_get_text(t);
	if (!s) {
		doc->text = calloc(1, 1);
		return doc->text ? 0 : MX_ENOMEM;
	}
	size_t n = strlen(s);
	int rc = 0;
	if (mx_utf8_is_valid(s, n)) {
		doc->text = malloc(n + 1);
		if (doc->text) {
			memcpy(doc->text, s, n + 1);
			doc->text_len = n;
		} else {
			rc = MX_ENOMEM;
		}
	} else {
		rc = conn_text_to_utf8(s, n, doc);
	}
	g_free(s);
	return rc;
}

static int mail_parse(const char *path, const char *data, size_t len, struct conn_doc *doc)
{
	(void)path;
	int rc = 0;
	struct mx_buf rcpt;
	mx_buf_init(&rcpt, 64 * 1024);
	GMimeStream *stream = NULL;
	GMimeParser *parser = NULL;
	GMimeMessage *msg = NULL;

	if (len == 0) {
		snprintf(doc->err, sizeof doc->err, "empty file");
		return MX_EEMPTY;
	}
	/* A single message saved with its mbox "From " line. */
	if (len > 5 && !memcmp(data, "From ", 5)) {
		const char *nl = memchr(data, '\n', len);
		size_t skip = nl ? (size_t)(nl - data) + 1 : len;
		data += skip, len -= skip;
	}
	stream = g_mime_stream_mem_new_with_buffer(data, len);
	parser = g_mime_parser_new_with_stream(stream);
	msg = g_mime_parser_construct_message(parser, NULL);
	if (!msg) {
		snprintf(doc->err, sizeof doc->err, "not a mail message");
		rc = MX_EINVAL;
		goto out;
	}
	const char *subject = g_mime_message_get_subject(msg);
	const char *mid = g_mime_message_get_message_id(msg);
	InternetAddressList *from = g_mime_message_get_from(msg);
	GDateTime *date = g_mime_message_get_date(msg);
	bool has_from = from && internet_address_list_length(from) > 0;
	if (!subject && !mid && !has_from && !date) {
		snprintf(doc->err, sizeof doc->err,
			 "not a mail message (no From, Subject, Date or Message-ID)");
		rc = MX_EINVAL;
		goto out;
	}
	doc->type = "mail";
	doc->line_base = -1;
	if (subject && !(doc->title = dup_utf8(subject)))
		goto nomem;
	if (mid && !(doc->message_id = dup_utf8(mid)))
		goto nomem;
	if (has_from) {
		struct mx_buf a;
		mx_buf_init(&a, 4096);
		if (format_addr(internet_address_list_get_address(from, 0), &a) ||
		    !(doc->author = dup_utf8(a.data ? a.data : ""))) {
			mx_buf_free(&a);
			goto nomem;
		}
		mx_buf_free(&a);
	}
	if (date)
		doc->date = (int64_t)g_date_time_to_unix(date);
	/* Recipients past the cap are dropped: a header with thousands of
	 * addresses is not worth indexing whole. */
	if ((rc = append_list(g_mime_message_get_to(msg), &rcpt, MAIL_MAX_ADDRS)) &&
	    rc != MX_ETOOBIG)
		goto out;
	if ((rc = append_list(g_mime_message_get_cc(msg), &rcpt, MAIL_MAX_ADDRS)) &&
	    rc != MX_ETOOBIG)
		goto out;
	rc = 0;
	if (rcpt.len && !(doc->recipients = dup_utf8(rcpt.data)))
		goto nomem;
	doc->title = conn_clean_field(doc->title);
	doc->author = conn_clean_field(doc->author);
	rc = body_text(find_text(g_mime_message_get_mime_part(msg), 0), doc);
	goto out;
nomem:
	rc = MX_ENOMEM;
	snprintf(doc->err, sizeof doc->err, "out of memory");
out:
	mx_buf_free(&rcpt);
	if (msg)
		g_object_unref(msg);
	if (parser)
		g_object_unref(parser);
	if (stream)
		g_object_unref(stream);
	return rc;
}

const struct conn_ops conn_mail_ops = { "mail", mail_parse };
