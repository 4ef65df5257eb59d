# tests/cli/cases_router2.sh - the arbiter's names rule end to end: a
# question asked impersonally about something of the user's world (a proper
# name that the sample index holds) stays on this machine under 'auto', and
# a general question still goes out. Uses fake_start and router_setup from
# cases_router.sh.

t_router_index_names_stay_local() {
	fake_start json
	router_setup auto
	local q
	for q in "When is Erik's wedding?" "What time does the Lerverk Ceramics shop open on Saturdays?" \
		"Who conducts the Nordic Strings concert?"; do
		mx_ok ask --explain --json "$q"
		assert_eq "$(jq -r '.cloud.decision, .cloud.private' "$OUTF" | tr '\n' ' ')" "local true " "'$q'"
		case "$(jq -r '.cloud.arbiter.reasons' "$OUTF")" in
		*index-name*) ;;
		*) fail "'$q': no index-name reason" "$(cat "$OUTF")" ;;
		esac
		nothing_sent "ask '$q'"
	done
	mx_ok ask --explain "When is Erik's wedding?"
	assert_contains "$OUT" 'it names something in your own data ("erik")' "the reason in words"
	nothing_sent "ask --explain"
	# a general question with a name the index lacks still goes out
	mx_ok ask --json "Who discovered Neptune?"
	assert_eq "$(jq -r '.cloud.private' "$OUTF")" false "a general question"
	[ -s "$W/received" ] || fail "the general question was not sent" "$(cat "$OUTF")"
}

CASES+=(router_index_names_stay_local)
