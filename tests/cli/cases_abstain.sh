# tests/cli/cases_abstain.sh - memex eval ask's learned abstention model:
# --cv-abstention (leave one question set out) and --train-abstention.
# Sourced by run.sh; the test HOME has no embedder, so the figures are
# BM25's (the model itself is tested in test_answer:
# abstention_model_learns).

t_eval_ask_abstention_model() {
	mx eval ask --cv-abstention "$W/none.jsonl"
	assert_rc 2 "eval ask --cv-abstention with one FILE"
	assert_one_line_error "eval ask --cv-abstention with one FILE"
	mx_ok eval --help
	assert_contains "$OUT" "--cv-abstention" "eval --help: --cv-abstention"
	assert_contains "$OUT" "--train-abstention" "eval --help: --train-abstention"
	need_sample
	[ -f "$SAMPLE/questions-heldout.jsonl" ] || skip "data/sample question sets not found"
	mx_ok eval ask --mode bm25 --cv-abstention --train-abstention \
		"$SAMPLE/questions.jsonl" "$SAMPLE/questions-heldout.jsonl"
	assert_contains "$OUT" "leave one set out" "eval ask --cv-abstention: the folds"
	assert_match "$OUT" 'learned model +source cited [0-9]+/[0-9]+' "eval ask --cv-abstention: the model's figures"
	assert_match "$OUT" 'rules re-calibrated +source cited' "eval ask --cv-abstention: the rules beside it"
	assert_match "$OUT" '\.min_p = 0\.[0-9]+' "eval ask --train-abstention: the table"
	mx_ok eval ask --json --mode bm25 --cv-abstention --train-abstention \
		"$SAMPLE/questions.jsonl" "$SAMPLE/questions-heldout.jsonl"
	assert_match "$OUT" '"abstention_cv":' "eval ask --json: the folds"
	assert_match "$OUT" '"abstention_model":' "eval ask --json: the model"
	assert_match "$OUT" '"min_p": *0\.[0-9]+' "eval ask --json: the threshold"
}

CASES+=(eval_ask_abstention_model)
