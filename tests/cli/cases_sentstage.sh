# tests/cli/cases_sentstage.sh - memex eval ask's --pool (the sentence
# stage of hybrid answers) and its time per question. Sourced by run.sh;
# the test HOME has no embedder, so the figures are BM25's (the stage
# itself is tested in test_answer: sentence_stage_finds_the_line).

t_eval_ask_pool() {
	mx eval ask --pool x "$W/none.jsonl"
	assert_rc 2 "eval ask --pool x"
	assert_one_line_error "eval ask --pool x"
	mx eval ask --pool -1 "$W/none.jsonl"
	assert_rc 2 "eval ask --pool -1"
	mx_ok eval --help
	assert_contains "$OUT" "--pool N" "eval --help: --pool"
	need_sample
	[ -f "$SAMPLE/questions.jsonl" ] || skip "data/sample/questions.jsonl not found"
	mx_ok eval ask --mode bm25 --pool 0 "$SAMPLE/questions.jsonl"
	assert_match "$OUT" 'time per question +[0-9]+ ms mean, [0-9]+ ms at most' "eval ask: the time per question"
	mx_ok eval ask --json --mode bm25 "$SAMPLE/questions.jsonl"
	assert_match "$OUT" '"ms_per_question":' "eval ask --json: the time per question"
}

CASES+=(eval_ask_pool)
