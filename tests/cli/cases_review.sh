# tests/cli/cases_review.sh - input limits of the line readers (sourced by
# run.sh): an over-long line is cut or refused, never held whole. mx_in
# comes from cases_chat.sh, sum_setup from cases_summarize.sh.

# chat --ask: a question over 4096 bytes is cut with a warning and the
# conversation goes on.
t_chat_ask_long_line() {
	sum_setup
	local long
	long=$(head -c 200000 /dev/zero | tr '\0' a)
	mx_in "$long"$'\nwhen is my dentist appointment?\n' chat --ask
	assert_rc 0 "chat --ask with an over-long line"
	assert_contains "$ERR" "longer than 4096 bytes" "chat --ask: the cut is said"
	assert_match "$OUT" '^\[[0-9]+\] .*Majorna Tandvård, 2026-' "chat --ask: the next question answered"
}

# eval ask: a question-set line over 1 MiB is an error naming the line.
t_eval_ask_long_line() {
	need_sample
	mkdir -p "$W/set"
	{
		printf '{"id":"q1","question":"'
		head -c 1100000 /dev/zero | tr '\0' a
		printf '","answerable":false}\n'
	} >"$W/set/q.jsonl"
	mx eval ask --mode bm25 "$W/set/q.jsonl"
	assert_rc 1 "eval ask with an over-long line"
	assert_one_line_error "eval ask with an over-long line"
	assert_contains "$ERR" "line 1: too long" "eval ask: the line named"
}

# eval ask and eval beir build their throwaway index in a private folder of
# $TMPDIR and leave nothing there, after a success or an error.
t_eval_tmp_index_removed() {
	need_sample
	mkdir -p "$W/tmp"
	TMPDIR="$W/tmp" mx_ok eval ask --mode bm25 "$SAMPLE/questions.jsonl"
	TMPDIR="$W/tmp" mx eval beir --mode bm25 "$W/no-such-dataset"
	assert_rc 1 "eval beir on a missing folder"
	[ -z "$(ls -A "$W/tmp")" ] || fail "eval left files in TMPDIR" "$(ls -la "$W/tmp")"
}

CASES+=(chat_ask_long_line eval_ask_long_line eval_tmp_index_removed)
