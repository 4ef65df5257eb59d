# tests/cli/cases_net.sh - the parts of memex that talk HTTP: the cloud
# client (memex cloud, memex audit) and model downloads (memex model pull),
# against the loopback fake server tests/tools/fake_openai (built by
# 'make testbins' beside the memex binary). Nothing leaves 127.0.0.1.

FAKE_OPENAI="$(dirname "$MEMEX")/tests/tools/fake_openai"

# start_fake ARGS...: starts the fake server in the background (killed
# with the case) and sets PORT.
start_fake() {
	[ -x "$FAKE_OPENAI" ] || skip "no $FAKE_OPENAI (make testbins)"
	rm -f "$W/port"
	"$FAKE_OPENAI" --port-file "$W/port" --max-seconds 60 "$@" >/dev/null 2>&1 &
	BGPIDS+=($!)
	local i
	for ((i = 0; i < 250; i++)); do
		[ -s "$W/port" ] && break
		sleep 0.02
	done
	[ -s "$W/port" ] || fail "the fake server did not start"
	PORT=$(cat "$W/port")
}

stop_fake() {
	local p
	for p in "${BGPIDS[@]}"; do kill "$p" 2>/dev/null; done
	BGPIDS=()
}

# cloud_env: memex talks to the fake server.
cloud_env() {
	export MEMEX_CLOUD_URL="http://127.0.0.1:$PORT/v1" MEMEX_CLOUD_MODEL=fake-model
}

# audit_body N: the N-th record's body decoded from its JSON string,
# written byte for byte to $W/decoded (sqlite3's JSON functions).
audit_body() {
	local line
	line=$(sed -n "${1}p" "$MEMEX_HOME/audit.jsonl")
	printf '%s' "$line" >"$W/line.json"
	rm -f "$W/decoded"
	sqlite3 :memory: "SELECT writefile('$W/decoded', json_extract(CAST(readfile('$W/line.json') AS TEXT), '\$.body'));" >/dev/null ||
		fail "cannot decode audit record $1"
}

t_net_cloud_check_and_audit() {
	start_fake --mode sse --record "$W/received" --reply "OK from the fake"
	cloud_env
	mx audit
	assert_rc 0
	assert_contains "$OUT" "Nothing has left this machine" "memex audit before any request"
	mx_ok cloud check --stream
	assert_eq "$OUT" "OK from the fake" "the streamed answer"
	assert_contains "$ERR" "recorded in $MEMEX_HOME/audit.jsonl" "memex cloud check"
	assert_mode "$MEMEX_HOME" 700
	assert_mode "$MEMEX_HOME/audit.jsonl" 600
	# the log holds exactly the bytes the server received
	assert_eq "$(wc -l <"$MEMEX_HOME/audit.jsonl")" 1 "audit records"
	audit_body 1
	cmp -s "$W/decoded" "$W/received" || fail "the audit body differs from what the server received" \
		"$(head -c 400 "$W/decoded")" "---" "$(head -c 400 "$W/received")"
	assert_contains "$(cat "$MEMEX_HOME/audit.jsonl")" "\"sha256\":\"$(sha "$W/received")\"" "the record's sha256"
	assert_contains "$(cat "$MEMEX_HOME/audit.jsonl")" "\"bytes\":$(wc -c <"$W/received")," "the record's length"
	mx_ok audit
	assert_contains "$OUT" "fake-model" "memex audit"
	assert_contains "$OUT" "user: ping" "memex audit shows the messages sent"
	assert_contains "$OUT" "reason: memex cloud check" "memex audit shows the reason"
	mx_ok audit --json
	assert_match "$OUT" '"endpoint": *"http://127.0.0.1:[0-9]+/v1/chat/completions"' "memex audit --json"
	# a second request is appended; filters
	mx_ok cloud check
	assert_eq "$OUT" "OK from the fake" "the non-streamed answer"
	assert_eq "$(wc -l <"$MEMEX_HOME/audit.jsonl")" 2 "audit records after two requests"
	# record 1 then 2, as the server received them
	audit_body 1
	cat "$W/decoded" >"$W/all"
	audit_body 2
	cat "$W/decoded" >>"$W/all"
	cmp -s "$W/all" "$W/received" || fail "two audit bodies differ from what the server received"
	mx_ok audit -n 1 --json
	assert_eq "$(grep -c '"attempt"' "$OUTF")" 1 "memex audit -n 1"
	assert_eq "$(jq -r '.[0].sha256' "$OUTF")" "$(sed -n 2p "$MEMEX_HOME/audit.jsonl" | jq -r .sha256)" \
		"memex audit -n 1 shows the newest record"
	mx_ok audit --json
	assert_eq "$(jq length "$OUTF")" 2 "memex audit --json is one array of both records"
	assert_eq "$(jq -r '.[1].sha256' "$OUTF")" "$(sed -n 2p "$MEMEX_HOME/audit.jsonl" | jq -r .sha256)" \
		"memex audit --json keeps the log's order"
	mx_ok audit -n 5
	assert_contains "$OUT" "2 request(s) shown of 2" "memex audit -n larger than the log"
	mx_ok audit --since 2099-01-01
	assert_contains "$OUT" "No requests recorded since then" "memex audit --since a future date"
	mx_ok audit --since 2000-01-01T00:00
	assert_contains "$OUT" "2 request(s) shown" "memex audit --since a past date"
	mx audit --since yesterday
	assert_rc 2 "memex audit --since yesterday"
	assert_one_line_error
	mx audit -n 0
	assert_rc 2 "memex audit -n 0"
	# a damaged line is reported, and the rest still listed
	printf '{"torn\n' >>"$MEMEX_HOME/audit.jsonl"
	mx_ok audit
	assert_contains "$ERR" "1 damaged line(s)" "memex audit with a damaged line"
	assert_contains "$OUT" "2 request(s) shown" "memex audit with a damaged line"
}

t_net_cloud_errors() {
	start_fake --mode 500
	cloud_env
	printf 'cloud_retries = 1\ncloud_timeout = 1.5\n' >"$W/config"
	export MEMEX_CONFIG="$W/config"
	mx cloud check
	assert_rc 1 "memex cloud check against a failing server"
	assert_one_line_error
	assert_contains "$ERR" "HTTP 500 from 127.0.0.1: internal trouble" "the error"
	# both attempts are recorded
	assert_eq "$(wc -l <"$MEMEX_HOME/audit.jsonl")" 2 "audit records of a retried request"
	stop_fake
	start_fake --mode hang
	cloud_env
	local t0 t1
	t0=$(date +%s%N)
	mx cloud check
	t1=$(date +%s%N)
	assert_rc 1 "memex cloud check against a server that never answers"
	assert_one_line_error
	assert_contains "$ERR" "no answer from 127.0.0.1 within 1.5 s" "the timeout error"
	[ $(((t1 - t0) / 1000000)) -lt 6000 ] || fail "the timeout took $(((t1 - t0) / 1000000)) ms"
	stop_fake
	start_fake --mode malformed
	cloud_env
	mx cloud check
	assert_rc 1
	assert_contains "$ERR" "malformed JSON in the reply" "malformed JSON"
	stop_fake
	start_fake --mode endless
	cloud_env
	printf 'cloud_max_response = 64K\n' >"$W/config"
	mx cloud check
	assert_rc 1
	assert_contains "$ERR" "over 65536 bytes" "an endless reply"
}

t_net_cloud_key_file() {
	start_fake --mode json --record "$W/received"
	cloud_env
	printf 'sk-test-key-123\n' >"$W/key"
	chmod 644 "$W/key"
	printf 'cloud_key_file = %s\n' "$W/key" >"$W/config"
	export MEMEX_CONFIG="$W/config"
	mx cloud check
	assert_rc 1 "a key file readable by others"
	assert_one_line_error
	assert_contains "$ERR" "chmod 600" "the key-file error says how to fix it"
	[ ! -e "$MEMEX_HOME/audit.jsonl" ] || fail "a refused request was recorded"
	[ ! -e "$W/received" ] || fail "a request was sent with a refused key file"
	chmod 600 "$W/key"
	mx_ok cloud check
	mx_ok cloud show
	assert_contains "$OUT" "file $W/key" "memex cloud show names the key file"
	assert_not_contains "$OUT" "sk-test-key-123" "memex cloud show never prints the key"
	assert_not_contains "$(cat "$MEMEX_HOME/audit.jsonl")" "sk-test-key-123" "the audit log never holds the key"
	# MEMEX_CLOUD_KEY wins over the file
	MEMEX_CLOUD_KEY=sk-env mx_ok cloud show --json
	assert_contains "$OUT" "MEMEX_CLOUD_KEY (environment)" "memex cloud show --json"
}

t_net_cloud_refuses_plain_http() {
	mx_ok cloud
	assert_contains "$OUT" "No cloud model is configured" "memex cloud without a set-up"
	mx cloud check
	assert_rc 1 "memex cloud check without a set-up"
	assert_one_line_error
	MEMEX_CLOUD_URL=http://192.0.2.1/v1 MEMEX_CLOUD_MODEL=m mx cloud check
	assert_rc 1 "plain http to another host"
	assert_one_line_error
	assert_contains "$ERR" "refusing plain http://" "the error"
	[ ! -s "$MEMEX_HOME/audit.jsonl" ] || fail "a refused URL left an audit record"
	mx cloud bogus
	assert_rc 2 "memex cloud bogus"
	printf 'cloud_timeout = soon\n' >"$W/config"
	MEMEX_CONFIG="$W/config" mx cloud
	assert_rc 1 "a bad cloud_timeout"
	assert_contains "$ERR" "bad value 'soon' for cloud_timeout" "the config error"
}

# a payload of N bytes in $W/payload and its sha256 in PAYSHA
payload() {
	head -c "$1" /dev/urandom >"$W/payload"
	PAYSHA=$(sha "$W/payload")
}

t_net_model_pull_resume() {
	payload 3000000
	start_fake --file "$W/payload" --drop-first --log "$W/requests"
	local url="http://127.0.0.1:$PORT/files/test-model.gguf" m="$MEMEX_HOME/models/test-model.gguf"
	mx model pull --retries 0 --sha256 "$PAYSHA" "$url"
	assert_rc 1 "a pull whose connection drops halfway"
	assert_contains "$ERR" "run again to resume" "the interrupted pull"
	[ ! -e "$m" ] || fail "a partial download has the model's name"
	[ -s "$m.part" ] || fail "no .part was kept"
	assert_mode "$MEMEX_HOME/models" 700
	assert_mode "$m.part" 600
	mx_ok model list
	assert_not_contains "$OUT" "test-model.gguf" "memex model list shows a partial download as a model"
	mx model info "$m.part"
	assert_rc 1 "memex model info on a .part"
	assert_contains "$ERR" "unfinished download" "memex model info on a .part"
	local half
	half=$(stat -c %s "$m.part")
	mx_ok model pull --sha256 "$PAYSHA" "$url"
	assert_contains "$OUT" "SHA-256 verified" "the resumed pull"
	assert_contains "$ERR" "resumed from $half bytes" "the resumed pull"
	assert_eq "$(sha "$m")" "$PAYSHA" "the model's sha256"
	assert_mode "$m" 600
	[ ! -e "$m.part" ] || fail "the .part is still there"
	assert_contains "$(cat "$W/requests")" "range=bytes=$half-" "the second request asked for the rest"
	mx_ok model pull --sha256 "$PAYSHA" "$url"
	assert_contains "$OUT" "Already here" "pulling an installed model again"
	mx_ok model list --json
	assert_contains "$OUT" "test-model.gguf" "memex model list --json"
	mx_ok model rm test-model.gguf
	[ ! -e "$m" ] || fail "memex model rm left the file"
	mx model rm /etc/hostname
	assert_rc 1 "memex model rm outside the models folder"
	assert_contains "$ERR" "not in the models folder" "memex model rm /etc/hostname"
}

t_net_model_pull_auto_resume() {
	payload 2000000
	start_fake --file "$W/payload" --drop-first --log "$W/requests"
	mx_ok model pull --sha256 "$PAYSHA" --out auto.gguf "http://127.0.0.1:$PORT/x/y"
	assert_contains "$ERR" "broke off" "the warning about the broken transfer"
	assert_eq "$(sha "$MEMEX_HOME/models/auto.gguf")" "$PAYSHA" "the model after an automatic resume"
	assert_eq "$(grep -c '^GET' "$W/requests")" 2 "requests of one pull that resumed once"
}

t_net_model_pull_verification() {
	payload 500000
	start_fake --file "$W/payload"
	local url="http://127.0.0.1:$PORT/f/bad.gguf" m="$MEMEX_HOME/models/bad.gguf"
	mx model pull --sha256 0000000000000000000000000000000000000000000000000000000000000000 "$url"
	assert_rc 1 "a pull with the wrong sha256"
	assert_one_line_error
	assert_contains "$ERR" "SHA-256 mismatch" "the error"
	[ ! -e "$m" ] && [ ! -e "$m.part" ] || fail "a file that failed verification was kept"
	mx model pull "$url"
	assert_rc 1 "a URL without --sha256"
	assert_contains "$ERR" "--no-verify" "the error says how to go on"
	[ ! -e "$m.part" ] || fail "an unverifiable pull downloaded something"
	mx model pull all-minilm-l6-v2
	assert_rc 1 "a catalog model whose sha256 is unknown"
	assert_contains "$ERR" "no SHA-256 is known for 'all-minilm-l6-v2'" "the error"
	mx_ok model pull --no-verify "$url"
	assert_contains "$OUT" "NOT verified: its SHA-256 is $PAYSHA" "memex model pull --no-verify"
	mx model pull --sha256 nothex "$url"
	assert_rc 2 "a malformed --sha256"
	mx model pull no-such-model
	assert_rc 2 "an unknown model name"
	mx model pull --no-verify http://192.0.2.1/m.gguf
	assert_rc 1 "plain http to another host"
	assert_contains "$ERR" "https" "the error"
	mx_ok model list
	assert_match "$OUT" '^qwen2\.5-0\.5b +chat .* pinned' "the catalog lists pinned hashes"
	assert_match "$OUT" '^smollm2-360m +chat .* pinned' "the catalog lists pinned hashes"
	assert_match "$OUT" '^all-minilm-l6-v2 +embed.* unknown' "the catalog lists unknown hashes"
}

t_net_model_info_gguf() {
	local f="$SHARED/fixtures/bert/bert-minilm-shape-q8_0.gguf"
	[ -f "$f" ] || skip "../shared fixtures not found"
	start_fake --file "$f"
	mx_ok model pull --sha256 "$(sha "$f")" --out minilm.gguf "http://127.0.0.1:$PORT/m"
	mx_ok model info minilm.gguf
	assert_contains "$OUT" "arch:        bert" "memex model info"
	assert_contains "$OUT" "embedding:   384" "memex model info"
	assert_contains "$OUT" "Q8_0" "memex model info lists tensor types"
	assert_contains "$OUT" "dimensions" "memex model info of an embedder"
}

CASES+=(net_cloud_check_and_audit net_cloud_errors net_cloud_key_file net_cloud_refuses_plain_http
	net_model_pull_resume net_model_pull_auto_resume net_model_pull_verification net_model_info_gguf)
