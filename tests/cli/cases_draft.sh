# tests/cli/cases_draft.sh - the local draft answer in 'memex ask' (with the
# random-weight qwen2 fixture as the chat model, so its confidence is
# meaningless but real) and the arbiter's use of it, with the loopback fake
# server of cases_router.sh: the draft's confidence is shown by --explain
# and --json, the draft is labelled as a model answer without sources, and
# a private question still never leaves.

# draft_setup: router_setup auto with the fixture as the chat model.
draft_setup() {
	local model="$SHARED/fixtures/llama/qwen2-s-f16.gguf"
	[ -r "$model" ] || skip "../shared/fixtures/llama/qwen2-s-f16.gguf not found"
	fake_start json
	router_setup auto "chat_model = $model" "chat_ctx = 256"
}

t_draft_explain_shows_confidence() {
	draft_setup
	local CMD_TIMEOUT=300 q="what is the boiling point of water at altitude?"
	mx_ok ask --explain --max-tokens 4 "$q"
	assert_contains "$OUT" "Local model answer (no sources: not from your data):" "the draft, labelled"
	assert_match "$OUT" "draft: mean log-prob -[0-9.]+, mean entropy [0-9.]+ nats over [0-9]+ tokens" "--explain: the draft's confidence"
	# the random weights are far from confident: the draft does not keep it
	assert_not_contains "$OUT" "draft-confident" "random weights are not confident"
	mx_ok ask --json --explain --max-tokens 4 "$q"
	local lp ent n
	lp=$(jq -r '.draft.mean_logprob' "$OUTF")
	ent=$(jq -r '.draft.mean_entropy' "$OUTF")
	n=$(jq -r '.draft.tokens' "$OUTF")
	[ "$n" -ge 1 ] && [ "$n" -le 48 ] || fail "draft tokens: $n" "$(last_output)"
	awk -v a="$lp" -v b="$ent" 'BEGIN { exit !(a < 0 && b > 0) }' || fail "draft logprob $lp entropy $ent" "$(last_output)"
	assert_eq "$(jq -r '.draft.sources' "$OUTF")" false "the draft has no sources"
	assert_eq "$(jq -r '.cloud.arbiter.draft.mean_logprob' "$OUTF")" "$lp" "the arbiter got the draft's log-prob"
	assert_eq "$(jq -r '.cloud.arbiter.draft.confident_above' "$OUTF")" "-0.35" "the threshold"
}

t_draft_private_never_sent() {
	draft_setup
	local CMD_TIMEOUT=300 q
	for q in "what did Anna say about the weather in Oslo" "when is my dentist appointment?"; do
		mx_ok ask --explain --max-tokens 4 "$q"
		assert_contains "$OUT" "private: yes" "ask '$q'"
		assert_contains "$OUT" "answer on this machine" "ask '$q'"
		nothing_sent "ask '$q' with a local draft"
	done
	# no draft when the index answers
	mx_ok ask --json --max-tokens 4 "how long should cinnamon buns bake in the oven?"
	if [ "$(jq -r '.abstained' "$OUTF")" = false ]; then
		assert_eq "$(jq -r '.draft' "$OUTF")" null "no draft when the index answers"
	fi
	nothing_sent "ask with an answer from the index"
}

CASES+=(draft_explain_shows_confidence draft_private_never_sent)
