/*
 * retriever_int.h - what the files of the retriever share, not for
 * callers.
 */
#ifndef MX_RETRIEVER_INT_H
#define MX_RETRIEVER_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Whether the n bytes at w are a word too common to help rank a question
 * (case-insensitive, ASCII). */
bool ret_is_stopword(const char *w, size_t n);

/* "YYYY-MM-DD" (UTC) of epoch seconds t into buf; "" for 0. */
void ret_date_ymd(int64_t t, char *buf, size_t n);

#endif
