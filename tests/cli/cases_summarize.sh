# tests/cli/cases_summarize.sh - memex summarize (threads, documents,
# --since digests, --json) and memex chat --ask (follow-up questions
# rewritten into standalone queries, sessions). Sourced by run.sh; the test
# HOME has no embedder, so extractive summaries compare sentences by their
# words. mx_in (input on stdin) comes from cases_chat.sh.

HARBOR_MID="AM0PR07MB4471.20260831101455@gotaferries.example"

sum_setup() {
	need_sample
	mx_ok add "$SAMPLE/mail" "$SAMPLE/notes" "$SAMPLE/docs"
	mx_ok index
}

# squash FILE: the file's text on one line, runs of white space as one
# space (as summaries print sentences).
squash() {
	tr -s ' \t\r\n' '    ' <"$1"
}

# assert_sentences_in SOURCEFILE LINES WHAT: every line of LINES (summary
# sentences, their " [a-b]" or " (message ...)" tails removed) occurs in
# the source, and in the source's order.
assert_sentences_in() {
	local src=$1 lines=$2 what=$3 text line at=0 pos
	text=$(squash "$src")
	while IFS= read -r line; do
		[ -n "$line" ] || continue
		# the source's own text: from where the previous one ended
		pos=$(SRC="$text" NEEDLE="$line" AT="$at" awk 'BEGIN {
			s = substr(ENVIRON["SRC"], ENVIRON["AT"] + 1)
			i = index(s, ENVIRON["NEEDLE"])
			print i ? ENVIRON["AT"] + i + length(ENVIRON["NEEDLE"]) - 1 : -1 }')
		[ "$pos" -ge 0 ] || fail "$what: '$line' is not in the source after offset $at" \
			"$(last_output)"
		at=$pos
	done <<<"$lines"
}

t_summarize_sample_doc() {
	sum_setup
	local f="$SAMPLE/docs/harbor-redesign-brief.md"
	mx_ok summarize "$f"
	assert_contains "$OUT" "Summary of $f (Project brief: Harbor app redesign)" "summarize: the title"
	# the summary: sentences with their lines, then the sections
	local sents
	sents=$(printf '%s\n' "$OUT" | sed -n '3,/^$/p' | sed -n 's/ \[[0-9]*-[0-9]*\]$//p')
	[ "$(printf '%s\n' "$sents" | grep -c .)" -eq 5 ] ||
		fail "summarize: 5 sentences expected" "$(last_output)"
	assert_sentences_in "$f" "$sents" "summarize: document sentences"
	# lines point at the sentence in the file (its first words)
	local l s
	l=$(printf '%s\n' "$OUT" | sed -n '3s/.* \[\([0-9]*\)-[0-9]*\]$/\1/p')
	s=$(printf '%s\n' "$sents" | head -n1 | cut -d' ' -f1)
	sed -n "${l}p" "$f" | grep -qF -- "$s" || fail "summarize: line $l does not hold '$s'" "$(last_output)"
	assert_match "$OUT" '^Sections:$' "summarize: the sections"
	assert_match "$OUT" '^  Project brief: Harbor app redesign > 8\. Budget$' "summarize: a section heading"
	assert_match "$OUT" '^    Design and research: \*\*420 hours\*\*, fixed price\.$' "summarize: a section's sentence"
	assert_match "$OUT" '^Extractive summary: ' "summarize: the mode note"
	# -s: fewer sentences
	mx_ok summarize -s 2 "$f"
	[ "$(printf '%s\n' "$OUT" | sed -n '3,/^$/p' | grep -c '\]$')" -eq 2 ] ||
		fail "summarize -s 2: two sentences expected" "$(last_output)"
}

t_summarize_sample_thread() {
	sum_setup
	mx_ok summarize "$HARBOR_MID"
	assert_contains "$OUT" "Thread: Harbor redesign: can we move the handoff to 18 September?" "summarize: thread subject"
	assert_contains "$OUT" "5 messages, 2026-08-31 to 2026-09-02" "summarize: thread span"
	assert_match "$OUT" '^  Mikael Strand <mikael\.strand@gotaferries\.example>  \(2 messages\)$' "summarize: a participant"
	assert_match "$OUT" '^  Maya Lindqvist <maya\.lindqvist@nordhavn\.example>  \(1 message\)$' "summarize: another"
	[ "$(printf '%s\n' "$OUT" | grep -cE '^  [0-9]\. .*20(26) [0-9:]{5} [+-][0-9]{4}  ')" -eq 5 ] ||
		fail "summarize: 5 timeline lines expected" "$(last_output)"
	assert_match "$OUT" '^  3\. Tue, 01 Sep 2026 09:50 \+0200  Priya Raman: ' "summarize: the timeline's sender and date"
	assert_match "$OUT" '^Decisions:$' "summarize: decisions"
	assert_match "$OUT" 'works for us\. \(message 5, Mikael Strand\)$' "summarize: the decision of message 5"
	assert_match "$OUT" '^Action items:$' "summarize: actions"
	assert_match "$OUT" "the 9th .*\(message 5, Mikael Strand; due 2026-09-09\)$" "summarize: an action with its day"
	# the gist: sentences of the thread's messages, in thread order
	mx_ok thread --full "$HARBOR_MID"
	printf '%s\n' "$OUT" >"$W/thread.txt"
	mx_ok summarize "$HARBOR_MID"
	local gist
	gist=$(printf '%s\n' "$OUT" | sed -n '/^Summary:$/,/^$/p' | sed -n 's/^  - \(.*\) (message [0-9]*, [^)]*)$/\1/p')
	[ "$(printf '%s\n' "$gist" | grep -c .)" -eq 5 ] || fail "summarize: a gist of 5" "$(last_output)"
	assert_sentences_in "$W/thread.txt" "$gist" "summarize: thread gist"
	# a thread by its thread id or by a later message's id: the same
	local tid
	tid=$(sql "SELECT thread_id FROM documents WHERE message_id = '$HARBOR_MID'")
	mx_ok summarize "$tid"
	assert_contains "$OUT" "5 messages, 2026-08-31 to 2026-09-02" "summarize THREAD-ID"
}

t_summarize_json() {
	sum_setup
	mx_ok summarize --json "$HARBOR_MID"
	local k
	for k in kind thread_id subject mode model embedder where participants timeline \
		sentences decisions questions actions summary truncated document_id byte_start \
		byte_end message due due_text open; do
		assert_match "$OUT" "\"$k\":" "summarize --json (thread) has $k"
	done
	assert_match "$OUT" '"kind": *"thread"' "summarize --json: kind"
	assert_match "$OUT" '"mode": *"extractive"' "summarize --json: mode"
	assert_match "$OUT" '"model": *null' "summarize --json: no model"
	assert_match "$OUT" '"where": *"local"' "summarize --json: local"
	assert_match "$OUT" '"due": *"2026-09-09"' "summarize --json: a due day"
	assert_match "$OUT" '"due_text": *"the 9th"' "summarize --json: its words"
	mx_ok summarize --json "$SAMPLE/docs/harbor-redesign-brief.md"
	for k in kind document_id path title sentences line_start line_end byte_start byte_end \
		score sections heading summary; do
		assert_match "$OUT" "\"$k\":" "summarize --json (document) has $k"
	done
	assert_match "$OUT" '"kind": *"document"' "summarize --json: document"
	# byte spans are the sentences' bytes in the extracted text
	local open close
	open=$(tr -cd '{' <"$OUTF" | wc -c)
	close=$(tr -cd '}' <"$OUTF" | wc -c)
	[ "$open" = "$close" ] || fail "summarize --json: $open '{' but $close '}'" "$(last_output)"
	if command -v python3 >/dev/null 2>&1; then
		python3 - "$OUTF" "$SAMPLE/docs/harbor-redesign-brief.md" <<'EOF' || fail "summarize --json: spans or order wrong" "$(last_output)"
import json, sys
o = json.load(open(sys.argv[1]))
src = open(sys.argv[2], encoding="utf-8").read()
last = -1
for s in o["sentences"]:
    assert s["text"] in src, s["text"]
    assert s["byte_start"] > last, "order"
    last = s["byte_start"]
    assert s["byte_end"] - s["byte_start"] == len(s["text"].encode()), "span"
EOF
	fi
}

t_summarize_since_digest() {
	sum_setup
	mx_ok summarize --since 2026-09-01
	assert_match "$OUT" '^Mail since 2026-09-01: [0-9]+ messages$' "digest: the header"
	assert_match "$OUT" '^== Harbor redesign: can we move the handoff to 18 September\?$' "digest: the Harbor thread"
	# only the messages since the date: 4 of its 5 (three on 1 September,
	# one on the 2nd), under the thread's subject
	assert_match "$OUT" '^   4 messages, 2026-09-01 to 2026-09-02; from ' "digest: messages since the date"
	# every thread once
	local dups
	dups=$(printf '%s\n' "$OUT" | grep '^== ' | sort | uniq -d)
	[ -z "$dups" ] || fail "digest: threads listed twice: $dups" "$(last_output)"
	# nothing older than the date
	assert_not_contains "$OUT" "2026-08-" "digest: no older mail"
	# --from: only the threads that person wrote in
	mx_ok summarize --since 2026-09-01 --from mikael.strand@gotaferries.example
	assert_match "$OUT" '^Mail since 2026-09-01 from mikael\.strand@gotaferries\.example: 1 message$' "digest --from: header"
	[ "$(printf '%s\n' "$OUT" | grep -c '^== ')" -eq 1 ] || fail "digest --from: one thread" "$(last_output)"
	mx_ok summarize --since 2026-09-01 -n 2 --json
	assert_match "$OUT" '"kind": *"digest"' "digest --json: kind"
	assert_match "$OUT" '"threads": *\[' "digest --json: threads"
	[ "$(grep -c '"kind": *"thread"' "$OUTF")" -eq 2 ] || fail "digest -n 2: two threads" "$(last_output)"
	mx_ok summarize --since 2031
	assert_contains "$OUT" "(nothing)" "digest: nothing since"
	# relative: N days ago (the sample's mail is from 2026; a long way back
	# finds all of it, a day back none)
	mx_ok summarize --since 1d
	assert_match "$OUT" "^Mail since $(date -u -d '1 day ago' +%Y-%m-%d): " "digest --since 1d"
	mx_ok summarize --since 3000w -n 1
	assert_match "$OUT" '^Mail since [0-9-]+: [1-9][0-9]* messages$' "digest --since 3000w"
}

t_summarize_usage_errors() {
	mx summarize
	assert_rc 2 "memex summarize without a target"
	mx summarize --from a@b.example x
	assert_rc 2 "memex summarize --from without --since"
	assert_one_line_error "memex summarize --from without --since"
	mx summarize -s 0 x
	assert_rc 2 "memex summarize -s 0"
	mx summarize --help
	assert_rc 0 "memex summarize --help"
	assert_contains "$OUT" "usage: memex summarize" "memex summarize --help"
	assert_contains "$OUT" "--since DATE" "memex summarize --help"
	sum_setup
	mx summarize no-such-thing@example.org
	assert_rc 1 "memex summarize (unknown target)"
	assert_one_line_error "memex summarize (unknown target)"
	mx summarize --since 2026-13
	assert_rc 2 "memex summarize --since (a bad date)"
	assert_one_line_error "memex summarize --since (a bad date)"
}

# Five notmuch threads (the largest of two corpora) summarised without an
# error, as text and as JSON.
t_summarize_notmuch_threads() {
	need_shared
	local nm="$SHARED/data/mail/notmuch-corpora"
	mx_ok add "$nm/default" "$nm/lkml"
	mx_ok index
	local tids tid n=0
	tids=$(sql "SELECT thread_id FROM documents WHERE type = 'mail' AND thread_id IS NOT NULL
		GROUP BY thread_id HAVING count(*) > 1 ORDER BY count(*) DESC, thread_id LIMIT 5")
	for tid in $tids; do
		mx_ok summarize "$tid"
		assert_match "$OUT" '^Thread: ' "summarize $tid"
		assert_match "$OUT" '^Timeline:$' "summarize $tid: a timeline"
		assert_match "$OUT" '^  1\. ' "summarize $tid: its first message"
		assert_match "$OUT" '^Summary:$' "summarize $tid: a gist"
		[ -z "$ERR" ] || fail "summarize $tid: stderr not empty" "$(last_output)"
		mx_ok summarize --json "$tid"
		assert_match "$OUT" '"kind": *"thread"' "summarize --json $tid"
		n=$((n + 1))
	done
	[ "$n" -eq 5 ] || fail "5 threads expected, found $n"
}

# Documents of six formats from ../shared summarised without an error.
t_summarize_shared_docs() {
	need_shared
	local u="$SHARED/data/docs/unstructured-example-docs" p="$SHARED/data/docs/pandoc-testfiles"
	mkdir -p "$W/docs"
	cp "$u/example-10k-1p.html" "$u/handbook-1p.docx" "$u/fake.odt" "$u/fake-power-point.pptx" \
		"$u/pdf/layout-parser-paper-fast.pdf" "$p/testsuite.txt" "$W/docs/" ||
		skip "a document of ../shared is missing"
	mx_ok add "$W/docs"
	mx_ok index
	local f n=0
	for f in "$W"/docs/*; do
		mx_ok summarize "$f"
		assert_contains "$OUT" "Summary of $f" "summarize $f"
		[ -z "$ERR" ] || fail "summarize $f: stderr not empty" "$(last_output)"
		# at least one sentence, each with its lines or a plain line
		[ "$(printf '%s\n' "$OUT" | sed -n '3,/^$/p' | grep -c .)" -ge 1 ] ||
			fail "summarize $f: no sentence" "$(last_output)"
		mx_ok summarize --json -s 3 "$f"
		assert_match "$OUT" '"kind": *"document"' "summarize --json $f"
		n=$((n + 1))
	done
	[ "$n" -eq 6 ] || fail "6 documents expected, found $n"
}

# The written summary on the random-weight fixture: the text means
# nothing, the plumbing runs (one call, or map-reduce over parts).
t_summarize_model_fixture() {
	sum_setup
	local model="$SHARED/fixtures/llama/qwen2-s-f16.gguf"
	[ -r "$model" ] || skip "../shared/fixtures/llama/qwen2-s-f16.gguf not found"
	# a window of 256 tokens: the note does not fit, so map-reduce
	mkdir -p "$XDG_CONFIG_HOME/memex"
	printf 'chat_ctx = 256\n' >"$XDG_CONFIG_HOME/memex/config"
	local CMD_TIMEOUT=300
	mx_ok summarize --json --model "$model" --max-tokens 4 "$SAMPLE/notes/plants.md"
	assert_match "$OUT" '"mode": *"generative"' "summarize --model: generative"
	assert_match "$OUT" '"model": *"qwen2"' "summarize --model: the model"
	assert_match "$OUT" '"parts": *([2-9]|[1-9][0-9])' "summarize --model: map over parts"
	assert_match "$OUT" '"reduce_rounds": *[1-9]' "summarize --model: and reduce"
	mx_ok summarize --model "$model" --extractive "$SAMPLE/notes/plants.md"
	assert_match "$OUT" '^Extractive summary' "summarize --extractive: no model"
}

t_chat_ask_followup() {
	sum_setup
	mx_in $'when is my dentist appointment?\nand who sent it?\n' chat --ask
	assert_rc 0 "chat --ask"
	assert_match "$OUT" '^\(searching: who sent it\? dentist appointment\)$' "chat --ask: the follow-up made standalone"
	# the first question runs as typed
	[ "$(printf '%s\n' "$OUT" | grep -c '^(searching: ')" -eq 1 ] || fail "chat --ask: one rewrite" "$(last_output)"
	assert_match "$OUT" '^\[[0-9]+\] .*Majorna Tandvård, 2026-' "chat --ask: the dentist's mail cited"
	assert_match "$OUT" '17 November.* \[[0-9]+\]$' "chat --ask: the appointment"
	# JSON: one object per answer, with the rewrite
	mx_in $'when is my dentist appointment?\nand who sent it?\n' chat --ask --json
	assert_rc 0 "chat --ask --json"
	[ "$(grep -c '^{' "$OUTF")" -eq 2 ] || fail "chat --ask --json: two lines" "$(last_output)"
	assert_match "$(sed -n 2p "$OUTF")" '"rewrite":"rule"' "chat --ask --json: rewritten by rule"
	assert_match "$(sed -n 2p "$OUTF")" '"typed":"and who sent it\?"' "chat --ask --json: as typed"
	assert_match "$(sed -n 1p "$OUTF")" '"rewrite":"none"' "chat --ask --json: the first as typed"
	# a session: saved 0600 in a 0700 folder, and continued by the next run
	mx_in $'when is my dentist appointment?\n' chat --ask --session dentist
	assert_rc 0 "chat --ask --session"
	assert_mode "$MEMEX_HOME/sessions" 700
	assert_mode "$MEMEX_HOME/sessions/dentist.json" 600
	mx_in $'and who sent it?\n' chat --ask --session dentist
	assert_match "$OUT" '^\(searching: who sent it\? dentist appointment\)$' "chat --ask: the session continued"
	mx_in $'/clear\nand who sent it?\n' chat --ask --session dentist
	assert_not_contains "$OUT" "(searching:" "chat --ask: /clear forgets"
	mx_in "" chat --ask --session ../x
	assert_rc 2 "chat --ask --session (a bad name)"
	assert_one_line_error "chat --ask --session (a bad name)"
}

# With the random-weight fixture: the model's rewrite (nonsense) or the
# rule's runs, and the answer is written; the plumbing holds.
t_chat_ask_model_fixture() {
	sum_setup
	local model="$SHARED/fixtures/llama/qwen2-s-f16.gguf"
	[ -r "$model" ] || skip "../shared/fixtures/llama/qwen2-s-f16.gguf not found"
	local CMD_TIMEOUT=300
	mx_in $'when is my dentist appointment?\nand who sent it?\n' chat --ask --json --model "$model" --max-tokens 4 --limit 2
	assert_rc 0 "chat --ask --model"
	[ "$(grep -c '^{' "$OUTF")" -eq 2 ] || fail "chat --ask --model: two answers" "$(last_output)"
	assert_match "$(sed -n 2p "$OUTF")" '"rewrite":"(model|rule)"' "chat --ask --model: rewritten"
	assert_match "$(sed -n 1p "$OUTF")" '"model":"qwen2"' "chat --ask --model: the model"
}

CASES+=(summarize_sample_doc summarize_sample_thread summarize_json summarize_since_digest
	summarize_usage_errors summarize_notmuch_threads summarize_shared_docs
	summarize_model_fixture chat_ask_followup chat_ask_model_fixture)
