/*
 * conn_pdf.c - PDF documents through poppler-glib.
 *
 * A PDF is a tree of objects found through a cross-reference table at the
 * end of the file; text lives in page content streams as glyph runs placed
 * by coordinates. Poppler does all of that: this connector loads the bytes
 * from memory, asks each page for its text in reading order, and feeds it
 * to a conn_builder with a section per page, so that chunks can cite
 * "page N".
 *
 * Refused: encrypted PDFs that need a password (MX_EUNSUPPORTED), PDFs
 * whose pages carry no text layer at all (scans without OCR:
 * MX_EUNSUPPORTED), files poppler cannot read (MX_EINVAL). Capped: the
 * number of pages read, the text kept, and the time spent (MX_ETOOBIG).
 *
 * Poppler reports syntax problems of broken files through GLib's log at
 * the INFO level (domain "Poppler"), which the default log handler does
 * not print, so nothing reaches stderr without a global handler of ours.
 */
#include <glib.h>
#include <poppler.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../common/status.h"
#include "conn.h"

#define PDF_MAX_PAGES 5000
#define PDF_MAX_TEXT  (32u << 20)

/* ===================================================================== */
/* page text                                                             */
/* ===================================================================== */

/*
 * Poppler's page text has "\n" between lines and may carry "\r", form
 * feeds and stray control characters from broken fonts. Normalised in
 * place: line ends become "\n", form feeds go, other control characters
 * become spaces, spaces at either end of a line go, runs of blank lines
 * shrink to one, and the page is trimmed. Returns the new length.
 */
static size_t normalise_page(char *s, size_t n)
{
	size_t o = 0;
	int newlines = 0; /* newlines pending since the last text */
	size_t spaces = 0;
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];
		if (c == '\r') {
			if (i + 1 < n && s[i + 1] == '\n')
				continue;
			c = '\n';
		}
		if (c == '\f')
			continue;
		if (c == '\n') {
			spaces = 0; /* trailing spaces of a line are dropped */
			if (newlines < 2)
				newlines++;
			continue;
		}
		if (c < 0x20 || c == 0x7f) {
			if (c != '\t')
				c = ' ';
		}
		if (c == ' ' || c == '\t') {
			spaces++;
			continue;
		}
		if (o > 0) {
			for (int k = 0; k < newlines; k++)
				s[o++] = '\n';
			if (!newlines)
				for (size_t k = 0; k < spaces; k++)
					s[o++] = ' ';
		}
		newlines = 0;
		spaces = 0;
		s[o++] = (char)c;
	}
	s[o] = '\0';
	return o;
}

/* Appends page i's text (0-based) and the text of its text boxes
 * (FreeText annotations: shown on the page, but not in its content
 * stream). *any is set when there was text. */
static int read_page(struct conn_builder *b, PopplerDocument *pd, int i, bool *any)
{
	int rc = 0;
	PopplerPage *page = poppler_document_get_page(pd, i);
	if (!page)
		return 0; /* a broken page object: the others still count */
	if ((rc = conn_builder_page(b, i + 1)))
		goto out;
	char *t = poppler_page_get_text(page);
	if (t) {
		size_t n = normalise_page(t, strlen(t));
		if (n > 0) {
			*any = true;
			rc = conn_builder_raw(b, t, n);
		}
		g_free(t);
	}
	GList *annots = poppler_page_get_annot_mapping(page);
	for (GList *l = annots; l && !rc; l = l->next) {
		PopplerAnnotMapping *m = l->data;
		if (!m || !m->annot ||
		    poppler_annot_get_annot_type(m->annot) != POPPLER_ANNOT_FREE_TEXT)
			continue;
		char *c = poppler_annot_get_contents(m->annot);
		size_t n = c ? normalise_page(c, strlen(c)) : 0;
		if (n > 0) {
			*any = true;
			if (!(rc = conn_builder_paragraph(b)))
				rc = conn_builder_raw(b, c, n);
		}
		g_free(c);
	}
	poppler_page_free_annot_mapping(annots);
out:
	g_object_unref(page);
	return rc;
}

/* ===================================================================== */
/* metadata                                                              */
/* ===================================================================== */

/* A g_malloc'd string from poppler, cleaned into a malloc'd one (or NULL). */
static char *take_field(gchar *g)
{
	if (!g)
		return NULL;
	char *s = strndup(g, 1024);
	g_free(g);
	return conn_clean_field(s);
}

static int64_t creation_date(PopplerDocument *pd)
{
	GDateTime *dt = poppler_document_get_creation_date_time(pd);
	if (!dt)
		return 0;
	gint64 t = g_date_time_to_unix(dt);
	g_date_time_unref(dt);
	return t > 0 ? (int64_t)t : 0;
}

/* ===================================================================== */
/* parse                                                                 */
/* ===================================================================== */

static int pdf_open(const char *data, size_t len, PopplerDocument **out, struct conn_doc *doc)
{
	GError *err = NULL;
	int rc = 0;
	/* the bytes stay the caller's: every reference to the document (and
	 * so to these bytes) is dropped before parse() returns */
	GBytes *bytes = g_bytes_new_static(data, len);
	PopplerDocument *pd = poppler_document_new_from_bytes(bytes, NULL, &err);
	g_bytes_unref(bytes);
	if (pd) {
		*out = pd;
		return 0;
	}
	if (err && err->domain == POPPLER_ERROR && err->code == POPPLER_ERROR_ENCRYPTED) {
		snprintf(doc->err, sizeof doc->err, "encrypted PDF");
		rc = MX_EUNSUPPORTED;
	} else {
		snprintf(doc->err, sizeof doc->err, "not a readable PDF: %.200s",
			 err && err->message ? err->message : "unknown error");
		rc = MX_EINVAL;
	}
	if (err)
		g_error_free(err);
	return rc;
}

static int pdf_parse(const char *path, const char *data, size_t len, struct conn_doc *doc)
{
	(void)path;
	int rc = 0;
	PopplerDocument *pd = NULL;
	struct conn_builder b;
	struct conn_limits lim = conn_limits_default();
	conn_builder_init(&b, PDF_MAX_TEXT, conn_now() + lim.seconds);

	if (len == 0) {
		snprintf(doc->err, sizeof doc->err, "empty file");
		rc = MX_EEMPTY;
		goto out;
	}
	if (len > (size_t)G_MAXSSIZE) {
		snprintf(doc->err, sizeof doc->err, "file too big");
		rc = MX_ETOOBIG;
		goto out;
	}
	if ((rc = pdf_open(data, len, &pd, doc)))
		goto out;

	int npages = poppler_document_get_n_pages(pd);
	if (npages <= 0) {
		snprintf(doc->err, sizeof doc->err, "PDF has no pages");
		rc = MX_EEMPTY;
		goto out;
	}
	int nread = npages > PDF_MAX_PAGES ? PDF_MAX_PAGES : npages;
	bool any_text = false;
	for (int i = 0; i < nread && !b.truncated; i++) {
		rc = conn_now() > b.deadline ? MX_ETOOBIG : read_page(&b, pd, i, &any_text);
		if (rc == MX_ETOOBIG) {
			snprintf(doc->err, sizeof doc->err, "time limit (%.0f s) passed at page %d",
				 lim.seconds, i + 1);
			goto out;
		}
		if (rc) {
			snprintf(doc->err, sizeof doc->err, "out of memory");
			goto out;
		}
	}
	if (!any_text) {
		snprintf(doc->err, sizeof doc->err, "image-only PDF (no text layer)");
		rc = MX_EUNSUPPORTED;
		goto out;
	}
	if (nread < npages && !b.truncated)
		snprintf(doc->note, sizeof doc->note, "only the first %d of %d pages read", nread,
			 npages);
	doc->type = "pdf";
	doc->title = take_field(poppler_document_get_title(pd));
	doc->author = take_field(poppler_document_get_author(pd));
	doc->date = creation_date(pd);
	doc->line_base = -1;
	if ((rc = conn_builder_finish(&b, doc)))
		snprintf(doc->err, sizeof doc->err, "out of memory");
out:
	conn_builder_free(&b);
	if (pd)
		g_object_unref(pd);
	return rc;
}

const struct conn_ops conn_pdf_ops = { "pdf", pdf_parse };
