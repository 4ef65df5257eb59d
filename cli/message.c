/* message.c - printing a document or message read back from its file, for
 * show and thread. */
#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "../common/status.h"
#include "../connectors/conn.h"
#include "cli.h"

/* "Tue, 03 Nov 2026 09:15 +0100": the date as its sender wrote it. */
void cli_format_mail_date(int64_t t, int offset_min, char *buf, size_t n)
{
	time_t local = (time_t)(t + (int64_t)offset_min * 60);
	struct tm tm;
	int off = offset_min < 0 ? -offset_min : offset_min;
	if (!t || !gmtime_r(&local, &tm)) {
		snprintf(buf, n, "(no date)");
		return;
	}
	char day[64];
	strftime(day, sizeof day, "%a, %d %b %Y %H:%M", &tm);
	snprintf(buf, n, "%s %c%02d%02d", day, offset_min < 0 ? '-' : '+', off / 60, off % 60);
}

int cli_load_doc(struct cli *c, const struct store_docfull *d, struct conn_doc *doc)
{
	char *abs = d->path[0] ? malloc(strlen(d->source_path) + strlen(d->path) + 2) : NULL;
	if (abs)
		snprintf(abs, strlen(d->source_path) + strlen(d->path) + 2, "%s/%s", d->source_path,
			 d->path);
	conn_doc_init(doc);
	int rc = conn_load(d->source_type, abs ? abs : d->source_path, d->part,
			   c->cfg.max_file_size, doc);
	if (rc) {
		cli_error("cannot read '%s' back: %s (has it changed since 'memex index'?)",
			  abs ? abs : d->source_path, mx_strerror(rc));
		conn_doc_clear(doc);
	}
	free(abs);
	return rc;
}

/* Prints text[start, end) line by line, sanitised. */
static void print_lines(const char *text, size_t start, size_t end)
{
	char line[8192], safe[8192];
	for (size_t p = start; p < end;) {
		const char *nl = memchr(text + p, '\n', end - p);
		size_t e = nl ? (size_t)(nl - text) : end;
		size_t ll = e - p < sizeof line - 1 ? e - p : sizeof line - 1;
		memcpy(line, text + p, ll);
		line[ll] = '\0';
		printf("%s\n", cli_safe(line, safe, sizeof safe));
		p = nl ? e + 1 : end;
	}
}

/* Prints a document's text; quoted replies and signatures become a
 * one-line marker unless full. */
static void print_text(const struct conn_doc *doc, bool full)
{
	size_t pos = 0;
	for (size_t i = 0; i < doc->nquoted; i++) {
		const struct conn_span *q = &doc->quoted[i];
		if (q->start < pos || q->end > doc->text_len)
			break;
		print_lines(doc->text, pos, q->start);
		if (full) {
			print_lines(doc->text, q->start, q->end);
		} else {
			size_t lines = 0;
			for (size_t k = q->start; k < q->end; k++)
				lines += doc->text[k] == '\n';
			printf("[... %zu quoted or signature line%s hidden; --full shows them]\n",
			       lines, lines == 1 ? "" : "s");
		}
		pos = q->end;
	}
	print_lines(doc->text, pos, doc->text_len);
}

void cli_print_message(const struct store_docfull *d, const struct conn_doc *doc, bool full,
		       const struct store_att *atts, size_t natts)
{
	char safe[4096], date[64];
	if (!strcmp(d->type, "mail")) {
		cli_format_mail_date(d->date, d->date_offset, date, sizeof date);
		printf("From:       %s\n", cli_safe(d->author ? d->author : "", safe, sizeof safe));
		if (d->recipients)
			printf("To:         %s\n", cli_safe(d->recipients, safe, sizeof safe));
		printf("Date:       %s\n", date);
		printf("Subject:    %s\n", cli_safe(d->title ? d->title : "", safe, sizeof safe));
		if (d->message_id)
			printf("Message-ID: <%s>\n", cli_safe(d->message_id, safe, sizeof safe));
		if (d->folder)
			printf("Folder:     %s%s%s\n", cli_safe(d->folder, safe, sizeof safe),
			       d->flags && *d->flags ? "  flags: " : "", d->flags ? d->flags : "");
		if (d->thread_id)
			printf("Thread:     %s\n", d->thread_id);
	} else {
		printf("Title:      %s\n", cli_safe(d->title ? d->title : "", safe, sizeof safe));
		printf("Path:       %s%s%s\n", cli_safe(d->source_path, safe, sizeof safe),
		       d->path[0] ? "/" : "", d->path);
	}
	printf("Document:   %lld (%s)\n", (long long)d->id, d->type);
	if (d->parent_id)
		printf("Inside:     document %lld\n", (long long)d->parent_id);
	printf("\n");
	print_text(doc, full);
	if (natts) {
		printf("\nAttachments:\n");
		for (size_t i = 0; i < natts; i++)
			printf("  %s  (%s, %lld bytes)\n",
			       cli_safe(atts[i].name ? atts[i].name : "(no name)", safe,
					sizeof safe),
			       atts[i].mime_type ? atts[i].mime_type : "?",
			       (long long)atts[i].size);
	}
}
