# tests/cli/cases_router.sh - the arbiter in 'memex ask', end to end, with the
# loopback fake OpenAI server (tests/tools/fake_openai): private questions
# never reach it; a general one goes out sanitized and its reply comes back
# re-identified; the audit log holds exactly the bytes the server received;
# a failing server leaves the local answer standing.

FAKE_OPENAI="$(dirname "$MEMEX")/tests/tools/fake_openai"

# fake_start MODE [ARGS...]: starts the server in $W (record, log, port);
# sets PORT.
fake_start() {
	local mode=$1 i
	shift
	[ -x "$FAKE_OPENAI" ] || skip "no $FAKE_OPENAI (make testbins)"
	rm -f "$W/port"
	"$FAKE_OPENAI" --mode "$mode" --port-file "$W/port" --record "$W/received" \
		--log "$W/requests" --max-seconds 90 "$@" >/dev/null 2>"$W/fake.err" &
	BGPIDS+=($!)
	for ((i = 0; i < 100; i++)); do
		[ -s "$W/port" ] && break
		sleep 0.05
	done
	[ -s "$W/port" ] || fail "the fake server did not start" "$(cat "$W/fake.err")"
	PORT=$(cat "$W/port")
}

# router_setup POLICY [EXTRA CONFIG LINES]: the sample mail and notes
# indexed, and a configuration pointing at the fake server.
router_setup() {
	need_sample
	mkdir -p "$XDG_CONFIG_HOME/memex"
	{
		[ -n "$1" ] && printf 'cloud_policy = %s\n' "$1"
		printf 'cloud_url = http://127.0.0.1:%s/v1\n' "${PORT:-9}"
		printf 'cloud_model = fake-model\n'
		printf 'cloud_timeout = 3\n'
		printf 'cloud_connect_timeout = 2\n'
		printf 'cloud_retries = 0\n'
		printf 'embedder = none\n'
		shift
		for l in "$@"; do printf '%s\n' "$l"; done
	} >"$XDG_CONFIG_HOME/memex/config"
	mx_ok add "$SAMPLE/mail" "$SAMPLE/notes"
	mx_ok index
}

# nothing_sent WHAT: the server saw no request and no audit log exists.
nothing_sent() {
	[ ! -s "$W/requests" ] || fail "$1: the server got a request" "$(cat "$W/requests")" "$(last_output)"
	[ ! -s "$W/received" ] || fail "$1: the server received bytes" "$(head -c 400 "$W/received")"
	[ ! -s "$MEMEX_HOME/audit.jsonl" ] || fail "$1: the audit log has a record" "$(head -c 400 "$MEMEX_HOME/audit.jsonl")"
}

t_router_private_never_sent() {
	fake_start json
	router_setup auto
	local q
	for q in "when is my dentist appointment?" "What did Anna say about the cabin?" \
		"anything in Travel about the hotel" "Who is Henrik Dahl?" \
		"what should I bring to the dentist"; do
		mx_ok ask --explain "$q"
		assert_contains "$OUT" "answer on this machine" "ask '$q'"
		assert_contains "$OUT" "private: yes" "ask '$q'"
		nothing_sent "ask '$q'"
	done
	# declined with the reason when the index has no answer either
	mx_ok ask "what did Anna say about the weather in Oslo"
	assert_contains "$OUT" 'Not sent to the cloud model: it names a contact in your index ("anna")' "the decline"
	nothing_sent "a private question the index does not answer"
	# --json says so too
	mx_ok ask --json "when is my dentist appointment?"
	assert_eq "$(jq -r '.cloud.decision, .cloud.private' "$OUTF" | tr '\n' ' ')" "local true " "the JSON decision"
	nothing_sent "ask --json"
}

t_router_policy_never_is_the_default() {
	fake_start json
	router_setup ""
	mx_ok ask --explain "what is the boiling point of water at altitude?"
	assert_contains "$OUT" "the cloud policy is 'never'" "the default policy"
	nothing_sent "policy never"
}

t_router_dry_run_sends_nothing() {
	fake_start json
	router_setup auto
	mx_ok ask --dry-run "Is the address jane.doe@example.org well formed?"
	assert_contains "$OUT" "Dry run: this is what would be sent" "dry run"
	assert_contains "$OUT" '"model":"fake-model"' "dry run body"
	assert_contains "$OUT" '<EMAIL_1>' "dry run: the placeholder"
	assert_not_contains "$OUT" 'jane.doe@example.org well formed?"}' "dry run: the address"
	nothing_sent "ask --dry-run"
}

t_router_general_question_sanitized_and_reidentified() {
	fake_start json --reply "The address <EMAIL_1> is well formed."
	router_setup auto
	mx_ok ask "Is the address jane.doe@example.org well formed?"
	assert_contains "$OUT" "Cloud answer (fake-model" "the cloud answer"
	assert_contains "$OUT" "The address jane.doe@example.org is well formed." "re-identified reply"
	[ -s "$W/received" ] || fail "the server received nothing" "$(last_output)"
	grep -q '<EMAIL_1>' "$W/received" || fail "no placeholder in what was sent" "$(cat "$W/received")"
	! grep -q 'jane.doe' "$W/received" || fail "the address left the machine" "$(cat "$W/received")"
	# the audit log: one record whose body is byte for byte what arrived
	assert_mode "$MEMEX_HOME/audit.jsonl" 600
	assert_eq "$(wc -l <"$MEMEX_HOME/audit.jsonl" | tr -d ' ')" 1 "audit records"
	jq -j .body "$MEMEX_HOME/audit.jsonl" >"$W/audited"
	cmp -s "$W/audited" "$W/received" || fail "the audit body differs from the bytes received" \
		"$(cat "$W/audited")" "---" "$(cat "$W/received")"
	assert_eq "$(jq -r .sha256 "$MEMEX_HOME/audit.jsonl")" "$(sha "$W/received")" "audit sha256"
	# no retrieved passage went out: the sample's words are not in it
	! grep -qi 'dentist\|Lindqvist\|kanelbullar' "$W/received" || fail "private text was sent" "$(cat "$W/received")"
	# a plain general question goes out as it is (one that shares no word
	# with the sample: "the boiling point of water" shares "boil" and
	# "water" with a soup recipe, which BM25's threshold lets answer; README,
	# "Measuring answers", the general set)
	mx_ok ask "how many bones are in the human body?"
	grep -q 'how many bones are in the human body' "$W/received" || fail "the general question was not sent" "$(cat "$W/received")"
	assert_eq "$(wc -l <"$MEMEX_HOME/audit.jsonl" | tr -d ' ')" 2 "audit records"
	assert_eq "$(grep -c . "$MEMEX_HOME/audit.jsonl")" 2 "audit records (no blank lines)"
}

t_router_never_send_source() {
	fake_start json
	router_setup auto "never_send_source = $SAMPLE/notes"
	mx_ok ask --explain "how long should cinnamon buns bake in the oven?"
	assert_contains "$OUT" "never-send-source" "a hit from a never_send source"
	assert_contains "$OUT" "private: yes" "never_send"
	nothing_sent "never_send_source"
}

t_router_ask_policy_waits_for_yes() {
	fake_start json --reply "About 93 degrees."
	router_setup ask
	# no terminal and no answer: not sent
	LASTCMD="memex ask (no answer)"
	setsid timeout 30 "$MEMEX" ask "how many bones are in the human body?" \
		</dev/null >"$OUTF" 2>"$ERRF"
	RC=$?
	OUT=$(cat "$OUTF")
	assert_rc 0
	assert_contains "$OUT" "This would be sent to the cloud model" "ask policy shows the request"
	assert_contains "$OUT" "Not sent" "no answer means no"
	nothing_sent "policy ask without an answer"
	printf 'n\n' | setsid timeout 30 "$MEMEX" ask "how many bones are in the human body?" >"$OUTF" 2>"$ERRF"
	RC=$?
	OUT=$(cat "$OUTF")
	assert_contains "$OUT" "Not sent" "'n' means no"
	nothing_sent "policy ask, n"
	printf 'y\n' | setsid timeout 30 "$MEMEX" ask "how many bones are in the human body?" >"$OUTF" 2>"$ERRF"
	RC=$?
	OUT=$(cat "$OUTF")
	assert_rc 0
	assert_contains "$OUT" "About 93 degrees." "'y' sends it"
	[ -s "$W/received" ] || fail "nothing received after 'y'" "$(last_output)"
}

# router_failure MODE WHAT [FAKE ARGS]: the server fails; the local answer
# stands, a one-line warning says why, exit 0.
router_failure() {
	local mode=$1 what=$2
	shift 2
	fake_start "$mode" "$@"
	router_setup auto "cloud_max_response = 65536"
	mx ask "how many bones are in the human body?"
	assert_rc 0 "ask with a server that $what"
	assert_contains "$OUT" "Nearest matches:" "the local answer is shown ($what)"
	assert_contains "$ERR" "memex: warning: the cloud model could not answer" "the warning ($what)"
	assert_contains "$ERR" "the answer above is local" "the warning ($what)"
	assert_not_contains "$OUT" "Cloud answer" "no cloud answer ($what)"
	assert_eq "$(grep -c . "$ERRF")" 1 "one line of warning ($what)"
	[ -s "$MEMEX_HOME/audit.jsonl" ] || fail "the attempt is not in the audit log ($what)"
}

t_router_server_hangs() { router_failure hang "hangs"; assert_contains "$ERR" "within" "a timeout"; }
t_router_server_500() { router_failure 500 "answers 500"; assert_contains "$ERR" "500" "the status"; }
t_router_server_malformed() { router_failure malformed "sends malformed JSON"; }
t_router_server_endless() { router_failure endless "sends an endless body"; }

t_router_train_eval_calibrate() {
	[ -d "$SHARED/data/router/routellm-mmlu" ] || skip "../shared/data/router/routellm-mmlu not found"
	mkdir -p "$XDG_CONFIG_HOME/memex"
	printf 'embedder = none\n' >"$XDG_CONFIG_HOME/memex/config"
	CMD_TIMEOUT=300 mx_ok router train --data "$SHARED/data/router/routellm-mmlu" --share 0.3
	assert_mode "$MEMEX_HOME/router.model" 600
	assert_contains "$OUT" "features only" "train"
	mx_ok router info --json
	assert_eq "$(jq -r .share "$OUTF")" 0.3 "the share"
	mx_ok router calibrate --share 0.1
	assert_mode "$MEMEX_HOME/router.model" 600
	mx_ok router info --json
	assert_eq "$(jq -r .share "$OUTF")" 0.1 "the calibrated share"
	mx_ok -v router info
	assert_contains "$OUT" "numeric_options" "the weights with -v"
	CMD_TIMEOUT=300 mx_ok eval router --data "$SHARED/data/router/routellm-mmlu" --json
	assert_eq "$(jq -r '.routers[0].router' "$OUTF")" "learned (features only)" "eval router"
	assert_eq "$(jq -r '.routers[0].routes' "$OUTF")" true "the scorer that routes comes first"
	# by subject: every held-out subject once, and their questions add up
	assert_eq "$(jq -r '.subjects | length' "$OUTF")" "$(jq -r .heldout_subjects "$OUTF")" "subjects"
	assert_eq "$(jq -r '[.subjects[].questions] | add' "$OUTF")" "$(jq -r .questions "$OUTF")" "questions by subject"
	assert_eq "$(jq -r '[.subjects[].sent_at_half] | add' "$OUTF")" \
		"$(jq -r '(.questions + 1) / 2 | floor' "$OUTF")" "half sent"
	local cpt apgr
	cpt=$(jq -r '.routers[0].cpt50' "$OUTF")
	apgr=$(jq -r '.routers[0].apgr' "$OUTF")
	# sanity: between the oracle and the worst order
	awk -v c="$cpt" -v a="$apgr" 'BEGIN { exit !(c > 0.05 && c < 0.95 && a > 0.2 && a < 0.9) }' ||
		fail "implausible CPT(50%) $cpt / APGR $apgr" "$(cat "$OUTF")"
	assert_eq "$(jq -r '.routers[-1].router' "$OUTF")" oracle "the oracle row"
	case "$(jq -r '.routers[0].target' "$OUTF")" in
	"weak wrong" | "weak wrong, strong right" | "expected gain") ;;
	*) fail "eval router: no target for the learned router" "$(cat "$OUTF")" ;;
	esac
	assert_eq "$(jq -r '.routers[-1].target' "$OUTF")" null "no target for the oracle"
	# cross-validation over the four subject folds: one row per fold and the mean;
	# it writes no model
	local before
	before=$(cksum <"$MEMEX_HOME/router.model")
	CMD_TIMEOUT=300 mx_ok router train --cv --data "$SHARED/data/router/routellm-mmlu"
	assert_eq "$(grep -cE '^[0-3] +[0-9]+ ' "$OUTF")" 4 "four folds"
	assert_contains "$OUT" "mean" "the mean over folds"
	assert_eq "$(cksum <"$MEMEX_HOME/router.model")" "$before" "--cv writes no model"
	# a model of version 1 (before the targets) is refused with a hint
	printf 'MXROUTER\001\000\000\000' >"$MEMEX_HOME/router.model"
	mx router info
	assert_rc 1
	assert_one_line_error
	assert_contains "$ERR" "train" "the hint to train again"
	# a damaged model is refused with one line
	printf 'MXROUTERjunk' >"$MEMEX_HOME/router.model"
	mx router info
	assert_rc 1
	assert_one_line_error
}

CASES+=(router_private_never_sent router_policy_never_is_the_default router_dry_run_sends_nothing
	router_general_question_sanitized_and_reidentified router_never_send_source
	router_ask_policy_waits_for_yes router_server_hangs router_server_500 router_server_malformed
	router_server_endless router_train_eval_calibrate)
