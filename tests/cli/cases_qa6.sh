# tests/cli/cases_qa6.sh - a user's QA pass over summarize, ask and chat
# --ask (issue #6): targets given as paths, unknown targets, odd input.
# Sourced by run.sh; uses sum_setup and mx_in from cases_summarize.sh and
# cases_chat.sh.

# A mail file named by its path summarises its thread; a path or id that
# is not in the index says what it is instead of "no thread".
t_qa6_summarize_targets() {
	sum_setup
	local f
	f=$(grep -l '^Message-ID: <order-3318' "$SAMPLE"/mail/cur/*) || skip "sample mail not found"
	mx_ok summarize "$f"
	assert_match "$OUT" '^Thread: Your bike is ready for pickup' "summarize MAILFILE: its thread"
	mx summarize "$W/no-such-file.txt"
	assert_rc 1 "summarize (a missing path)"
	assert_one_line_error "summarize (a missing path)"
	assert_contains "$ERR" "no such file" "summarize (a missing path)"
	mx summarize "$SAMPLE/docs"
	assert_rc 1 "summarize (a folder)"
	assert_one_line_error "summarize (a folder)"
	assert_contains "$ERR" "is a folder" "summarize (a folder)"
	printf 'Some text that was never indexed by anyone at all.\n' >"$W/loose.txt"
	mx summarize "$W/loose.txt"
	assert_rc 1 "summarize (a file not indexed)"
	assert_one_line_error "summarize (a file not indexed)"
	assert_contains "$ERR" "not in the index" "summarize (a file not indexed)"
	mx summarize 99999
	assert_rc 1 "summarize (an unknown id)"
	assert_one_line_error "summarize (an unknown id)"
	assert_contains "$ERR" "no thread, message or document '99999'" "summarize (an unknown id)"
}

CASES+=(qa6_summarize_targets)
