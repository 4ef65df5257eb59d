# tests/cli/cases_fixes4.sh - fixes from a QA pass: junk message-ids in
# threads, control characters in a sender's name, impossible dates in
# search filters, summarize on an archive, and the --since digest's count
# of messages. Sourced by run.sh.

# notmuch's lkml mail carries "References: <yes>" (git send-email's
# answer to "In-Reply-To?"): ids that are not local@domain link nothing,
# so the maildir-flags patch is not one thread with the Makefile patch and
# the CIFS FS-Cache series.
t_fixes4_thread_junk_references() {
	need_shared
	local nm="$SHARED/data/mail/notmuch-corpora"
	mkdir -p "$W/mail"
	cp -r "$nm/default/." "$nm/lkml" "$W/mail/"
	mx_ok add "$W/mail"
	mx_ok index
	local mid
	mid=$(sql "SELECT message_id FROM documents WHERE title = '[notmuch] [PATCH 1/2] lib/message: Add function to get maildir flags.' LIMIT 1")
	[ -n "$mid" ] || skip "the maildir-flags patch is not in the corpus"
	mx_ok summarize "<$mid>"
	assert_match "$OUT" '^Thread: \[notmuch\] \[PATCH 1/2\] lib/message: Add function to get maildir flags\.$' \
		"summarize: the patch's thread"
	assert_not_contains "$OUT" "Makefile: Enable backslash escapes" "summarize: an unrelated patch"
	assert_not_contains "$OUT" "cifs" "summarize: the CIFS series"
	assert_not_contains "$OUT" "Suresh Jayaraman" "summarize: the CIFS author"
	# no thread is held together by <yes> alone
	[ "$(sql "SELECT count(DISTINCT thread_id) FROM documents WHERE title LIKE '%Makefile: Enable backslash escapes%' OR title LIKE '%maildir flags%' OR title LIKE '%cifs: FS-Cache page management%'")" -eq 3 ] ||
		fail "three unrelated threads expected" "$(sql "SELECT thread_id, title FROM documents WHERE type = 'mail'" | head -20)"
}

CASES+=(fixes4_thread_junk_references)
