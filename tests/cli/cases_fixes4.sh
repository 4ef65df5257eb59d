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

# A From name whose encoded word decodes to a terminal escape: the sender
# is shown (its address and printable name), never "(unknown sender)", and
# no control character reaches the terminal.
t_fixes4_from_name_control_chars() {
	mkdir -p "$W/mail/cur" "$W/mail/new" "$W/mail/tmp"
	printf '%s\n' 'From: =?utf-8?q?Evil=1B]0;pwned=07Name?= <evil@x.example>' \
		'To: bob@example.org' 'Subject: Hello there' 'Date: Mon, 2 Nov 2026 10:00:00 +0100' \
		'Message-ID: <e1@x.example>' '' 'The meeting is on Tuesday.' >"$W/mail/cur/1.m:2,S"
	mx_ok add "$W/mail"
	mx_ok index
	mx_ok summarize "<e1@x.example>"
	assert_contains "$OUT" "Evil ]0;pwned Name <evil@x.example>  (1 message)" "summarize: the sender"
	assert_not_contains "$OUT" "unknown sender" "summarize: the sender is known"
	if LC_ALL=C grep -q "$(printf '[\033\007]')" "$OUTF"; then
		fail "summarize: a control character in the output" "$(last_output)"
	fi
	mx_ok search meeting
	assert_contains "$OUT" "Evil ]0;pwned Name <evil@x.example>" "search: the sender"
	[ "$(sql "SELECT addr FROM addresses WHERE role = 'from'")" = evil@x.example ] ||
		fail "the From address is not stored" "$(sql 'SELECT * FROM addresses')"
}

# search after:/before: take days that exist (a month's length, leap
# years); an impossible one is a one-line error that names it.
t_fixes4_search_impossible_dates() {
	setup_notes 2
	local d
	for d in 2026-02-30 2026-02-29 2026-13-01 2026-04-31 2026-00-01; do
		mx search "after:$d" harbour
		assert_rc 2 "search after:$d"
		assert_one_line_error "search after:$d"
		assert_contains "$ERR" "'$d' is not a date" "search after:$d: the error"
	done
	mx search before:2026-02-30 harbour
	assert_contains "$ERR" "February 2026 has 28 days" "search before:2026-02-30: the reason"
	mx_ok search after:2028-02-29 harbour
	mx_ok search before:2028-02-29 harbour
	assert_contains "$OUT" "zebra1x" "search before:2028-02-29: the notes"
}

# summarize on an archive: its own text is only the entry names, so it
# lists the documents memex read from it (ids, titles, best sentences)
# instead of "(no sentences to summarise)"; an archive inside it lists its
# own; --json gives them as "documents".
t_fixes4_summarize_archive() {
	command -v zip >/dev/null || skip "zip not installed"
	mkdir -p "$W/src/in" "$W/d"
	printf '# Plan\n\nThe harbour project starts in March with a survey of the old pier. The team will replace the wooden beams before the summer season begins.\n' >"$W/src/plan.md"
	printf 'Budget notes. The ferry terminal costs four million crowns in total. The city pays half of the cost and the port authority pays the rest.\n' >"$W/src/budget.txt"
	(cd "$W/src" && zip -q "$W/src/in/inner.zip" plan.md budget.txt &&
		zip -q "$W/d/bundle.zip" plan.md budget.txt && cd in && zip -q "$W/d/outer.zip" inner.zip) ||
		fail "zip failed"
	mx_ok add "$W/d"
	mx_ok index
	mx_ok summarize "$W/d/bundle.zip"
	assert_not_contains "$OUT" "no sentences to summarise" "summarize ZIP"
	assert_contains "$OUT" "An archive of 2 documents; 'memex summarize ID' summarises one:" "summarize ZIP: the count"
	local plan budget
	plan=$(sql "SELECT d.id FROM documents d JOIN documents p ON p.id = d.parent_id WHERE p.path = 'bundle.zip' AND d.title = 'Plan'")
	budget=$(sql "SELECT d.id FROM documents d JOIN documents p ON p.id = d.parent_id WHERE p.path = 'bundle.zip' AND d.title = 'budget'")
	assert_match "$OUT" "^  \[$plan\] Plan \(note\)$" "summarize ZIP: the note and its id"
	assert_match "$OUT" "^  \[$budget\] budget \(text\)$" "summarize ZIP: the text and its id"
	assert_match "$OUT" '^      The harbour project starts in March with a survey of the old pier\.$' "summarize ZIP: the note's sentence"
	assert_match "$OUT" '^      The ferry terminal costs four million crowns in total\.$' "summarize ZIP: the text's sentence"
	# the id it names summarises that document
	mx_ok summarize "$plan"
	assert_contains "$OUT" "The harbour project starts in March" "summarize ID of a member"
	assert_not_contains "$OUT" "ferry terminal" "summarize ID of a member: that one only"
	# an archive in an archive
	mx_ok summarize "$W/d/outer.zip"
	assert_contains "$OUT" "An archive of 1 document;" "summarize outer ZIP"
	local inner
	inner=$(sql "SELECT d.id FROM documents d JOIN documents p ON p.id = d.parent_id WHERE p.path = 'outer.zip' AND p.parent_id IS NULL")
	assert_contains "$OUT" "(an archive of its own: 'memex summarize $inner')" "summarize outer ZIP: the inner one"
	mx_ok summarize "$inner"
	assert_contains "$OUT" "An archive of 2 documents;" "summarize inner ZIP"
	assert_contains "$OUT" "The ferry terminal costs four million crowns in total." "summarize inner ZIP: a sentence"
	mx_ok summarize --json "$W/d/bundle.zip"
	assert_match "$OUT" '"documents_total": *2' "summarize --json ZIP: the count"
	assert_match "$OUT" "\"document_id\": *$budget" "summarize --json ZIP: a member"
	assert_match "$OUT" '"text": *"The city pays half of the cost and the port authority pays the rest\."' "summarize --json ZIP: a sentence"
}

# The --since digest counts messages (one per Message-ID), not a MIME
# digest's embedded parts, which it counts apart; two copies of one
# message are one.
t_fixes4_digest_counts_messages() {
	index_mime_digest a.eml b.eml
	local parts
	parts=$(sql "SELECT count(*) FROM documents WHERE type = 'mail' AND parent_id IS NOT NULL AND path = 'a.eml'")
	[ "$parts" -gt 0 ] || skip "the digest's parts are not indexed as messages"
	mx_ok summarize --since 1970
	assert_match "$OUT" "^Mail since 1970: 1 message, and $parts embedded in it \(a digest's parts, forwarded mail\)$" \
		"summarize --since: the count"
	mx_ok summarize --json --since 1970
	assert_match "$OUT" '"messages": *1,' "summarize --json --since: messages"
	assert_match "$OUT" "\"embedded_messages\": *$parts," "summarize --json --since: embedded"
}

CASES+=(fixes4_thread_junk_references fixes4_from_name_control_chars fixes4_search_impossible_dates
	fixes4_summarize_archive fixes4_digest_counts_messages)
