# tests/cli/cases_chat.sh - memex chat (sourced by run.sh). The model is
# the small random-weight qwen2 fixture of ../shared: its replies are
# meaningless, so these cases check that chat runs, streams, stops where
# told and fails clearly, not what it says.

chat_fixture() {
	CHAT_MODEL="$SHARED/fixtures/llama/qwen2-s-f16.gguf"
	[ -r "$CHAT_MODEL" ] || skip "../shared/fixtures/llama/qwen2-s-f16.gguf not found"
}

# mx_in INPUT ARGS...: memex with INPUT (a string) on stdin.
mx_in() {
	local input=$1
	shift
	LASTCMD="memex $*"
	printf '%s' "$input" >"$W/stdin"
	timeout -k 5 "$CMD_TIMEOUT" "$MEMEX" "$@" <"$W/stdin" >"$OUTF" 2>"$ERRF"
	RC=$?
	OUT=$(cat "$OUTF")
	ERR=$(cat "$ERRF")
	check_sanitizers "$@"
	if [ "$RC" -eq 124 ] || [ "$RC" -eq 137 ]; then
		fail "memex $* did not finish within ${CMD_TIMEOUT}s (exit $RC)" "$(last_output)"
	fi
}

t_chat_no_model() {
	mx_in $'Hello\n' chat
	assert_rc 1 "memex chat without a chat model"
	assert_one_line_error "memex chat without a chat model"
	assert_contains "$ERR" "no chat model configured" "memex chat without a chat model"
	assert_contains "$ERR" "--model" "memex chat without a chat model"
	mx_in $'Hello\n' chat --model "$W/missing.gguf"
	assert_rc 1 "memex chat --model (missing file)"
	assert_one_line_error "memex chat --model (missing file)"
	assert_contains "$ERR" "missing.gguf" "memex chat --model (missing file)"
}

t_chat_usage() {
	mx chat --help
	assert_rc 0
	assert_contains "$OUT" "usage: memex chat" "memex chat --help"
	assert_contains "$OUT" "--max-tokens" "memex chat --help"
	local bad
	for bad in "--temp abc" "--top-p 2" "--max-tokens 0" "--seed -1" "--template jinja" "extra"; do
		# shellcheck disable=SC2086
		mx_in "" chat $bad
		assert_rc 2 "memex chat $bad"
	done
}

# Two lines in, two replies out (JSON, one per line), each within
# --max-tokens; the second turn reuses the first turn's prompt.
t_chat_runs() {
	chat_fixture
	mx_in $'Hello\nAnd how are you?\n' chat --model "$CHAT_MODEL" --max-tokens 5 --temp 0 --ctx 512 --json
	assert_rc 0 "memex chat --json"
	local n
	n=$(printf '%s\n' "$OUT" | grep -c '"reply":')
	assert_eq "$n" 2 "replies of memex chat --json for two lines"
	assert_no_match "$OUT" '"tokens":([6-9]|[1-9][0-9])' "tokens per reply with --max-tokens 5"
	assert_match "$OUT" '"end":"(max tokens|end of turn|stop string)"' "why a reply ended"
	assert_contains "$ERR" "no chat template; using ChatML" "the warning about the fixture's missing template"
}

# Plain output streams the reply; --stats tells the tokens and speed;
# --max-tokens is where the reply stops.
t_chat_streams() {
	chat_fixture
	mx_in $'Hello\n' chat --model "$CHAT_MODEL" --max-tokens 3 --temp 0 --stats --ctx 256
	assert_rc 0 "memex chat --stats"
	[ -n "$OUT" ] || fail "memex chat printed no reply" "$(last_output)"
	assert_match "$ERR" '^\[[0-9]+ prompt tokens \([0-9]+ computed\) in [0-9.]+ s; [1-3] tokens in [0-9.]+ s, [0-9.]+ tokens/s; (max tokens|end of turn|stop string)\]$' "memex chat --stats"
	# the same seed gives the same reply, with sampling on
	mx_in $'Hi\n' chat --model "$CHAT_MODEL" --max-tokens 6 --temp 0.9 --seed 7 --ctx 256
	local a=$OUT
	mx_in $'Hi\n' chat --model "$CHAT_MODEL" --max-tokens 6 --temp 0.9 --seed 7 --ctx 256
	assert_eq "$OUT" "$a" "two runs with --seed 7"
}

# The model from the configuration; /clear; an over-long line is refused
# and the conversation goes on.
t_chat_config() {
	chat_fixture
	mkdir -p "$XDG_CONFIG_HOME/memex"
	printf 'chat_model = %s\nchat_ctx = 128\n' "$CHAT_MODEL" >"$XDG_CONFIG_HOME/memex/config"
	local long
	long=$(head -c 3000 /dev/zero | tr '\0' 'x' | sed 's/xxxxx/xxxx /g')
	mx_in $'Hello\n/clear\n'"$long"$'\nBye\n' chat --max-tokens 2 --temp 0 --json
	assert_rc 0 "memex chat with chat_model in the configuration"
	assert_eq "$(printf '%s\n' "$OUT" | grep -c '"reply":')" 2 "replies (the long line refused)"
	assert_contains "$ERR" "too long for the context window" "an over-long line"
	printf 'chat_template = nosuch\n' >>"$XDG_CONFIG_HOME/memex/config"
	mx_in $'Hello\n' chat
	assert_rc 1 "a bad chat_template in the configuration"
	assert_contains "$ERR" "chat_template" "a bad chat_template in the configuration"
}

CASES+=(chat_no_model chat_usage chat_runs chat_streams chat_config)
