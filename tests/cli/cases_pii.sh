# tests/cli/cases_pii.sh - memex eval pii (sourced by run.sh).

# A tiny labelled set: every detected value counts, a miss and a false
# alarm show in the figures, out-of-scope labels are left out.
t_eval_pii_small() {
	local f="$W/pii.json"
	cat >"$f" <<'JSON'
[
 {"full_text": "Mail jane.roe@example.com or call +44 20 7946 0958.",
  "spans": [{"entity_type": "EMAIL_ADDRESS", "entity_value": "jane.roe@example.com", "start_position": 5, "end_position": 25},
            {"entity_type": "PHONE_NUMBER", "entity_value": "+44 20 7946 0958", "start_position": 34, "end_position": 50}]},
 {"full_text": "Card 4111 1111 1111 1111 is lost, I live in Zürich.",
  "spans": [{"entity_type": "CREDIT_CARD", "entity_value": "4111 1111 1111 1111", "start_position": 5, "end_position": 24},
            {"entity_type": "LOCATION", "entity_value": "Zürich", "start_position": 44, "end_position": 50}]}
]
JSON
	mx_ok eval pii "$f"
	assert_match "$OUT" '^  EMAIL +4 +0 +0 +1\.0000 +1\.0000 +1\.0000' "the email's four tokens are found"
	assert_match "$OUT" '^  CARD +4 +0 +0 ' "the card's four tokens are found"
	assert_match "$OUT" 'leak-free samples: 2 of 2' "no value leaks"
	assert_match "$OUT" 'out of scope LOCATION' "LOCATION is out of scope"
	mx_ok eval pii --json "$f"
	assert_match "$OUT" '"leak_free": *1' "eval pii --json"
	assert_match "$OUT" '"samples": *2' "eval pii --json counts samples"
	mx_ok eval pii --skip 1 --limit 1 "$f"
	assert_match "$OUT" '1 samples' "--skip and --limit"
	mx eval pii "$W/nothing.json"
	assert_rc 1 "eval pii of a missing file"
	assert_one_line_error "eval pii of a missing file"
	printf '{"not": "a list"}' >"$W/bad.json"
	mx eval pii "$W/bad.json"
	assert_rc 1 "eval pii of a JSON object"
	mx eval pii --limit x "$f"
	assert_rc 2 "eval pii --limit x"
}

# The presidio-research set from ../shared: overall F2 of at least 0.85.
t_eval_pii_presidio() {
	local f="$SHARED/data/pii/presidio/generated_small.json"
	[ -f "$f" ] || skip "../shared not found"
	mx_ok eval pii --json "$f"
	local f2
	f2=$(printf '%s' "$OUT" | python3 -c 'import json,sys; print(json.load(sys.stdin)["pii"]["f2"])' 2>/dev/null)
	[ -n "$f2" ] || fail "no pii.f2 in the JSON" "$(last_output)"
	python3 -c "import sys; sys.exit(0 if $f2 >= 0.85 else 1)" || fail "F2 $f2 under 0.85"
}

CASES+=(eval_pii_small eval_pii_presidio)
