#!/usr/bin/env bash
# tests/cli/run.sh MEMEX_BINARY [CASE...]
#
# End-to-end tests of the memex command line. Every case runs in a fresh
# temporary directory with its own HOME, MEMEX_HOME and XDG_* (never the
# user's data), in a subshell, and prints one line:
#   ok NAME | FAIL NAME: reason (+ indented output) | skip NAME: reason
# and the run ends with exactly one line "N passed, N failed". The exit
# status is non-zero when a case failed. Naming cases after the binary
# runs only those.
#
# Cases named bug_* expose bugs found in memex while writing this suite;
# their failure messages start with "BUG:". They pass once the bug is fixed.
#
# Needs bash, coreutils, grep, sed and sqlite3 (no python). Cases that need
# ../shared or data/sample print "skip" when those are absent.
set -u

if [ $# -lt 1 ]; then
	echo "usage: $0 MEMEX_BINARY [CASE...]" >&2
	exit 2
fi
HERE=$(cd "$(dirname "$0")" && pwd -P)
case "$1" in
/*) MEMEX=$1 ;;
*) MEMEX=$PWD/$1 ;;
esac
shift
if [ ! -x "$MEMEX" ] || [ -d "$MEMEX" ]; then
	echo "$0: '$MEMEX' is not an executable file" >&2
	exit 2
fi
ONLY=("$@")
REPO=$(cd "$HERE/../.." && pwd -P)
SHARED="$HERE/../../../shared"
[ -d "$SHARED" ] && SHARED=$(cd "$SHARED" && pwd -P)
SAMPLE="$REPO/data/sample"
export MEMEX SHARED SAMPLE REPO

for tool in sqlite3 timeout sha256sum mkfifo stat; do
	if ! command -v "$tool" >/dev/null 2>&1; then
		echo "$0: '$tool' is needed" >&2
		exit 2
	fi
done

# shellcheck source=lib.sh
. "$HERE/lib.sh"

ROOT=$(mktemp -d "${TMPDIR:-/tmp}/memex-cli-tests.XXXXXX") || exit 2
ROOT=$(cd "$ROOT" && pwd -P) || exit 2
trap 'rm -rf "$ROOT"' EXIT
trap 'exit 130' INT TERM

PASS=0
FAILS=0
SKIPS=0
T_START=$(date +%s)

# run_case NAME: runs function t_NAME in a subshell with a fresh
# environment and prints its outcome.
run_case() {
	local name=$1 dir rc
	if [ ${#ONLY[@]} -gt 0 ]; then
		local o found=0
		for o in "${ONLY[@]}"; do [ "$o" = "$name" ] && found=1; done
		[ $found = 1 ] || return 0
	fi
	dir="$ROOT/$name"
	mkdir -p "$dir/home" "$dir/config" "$dir/data" "$dir/cache" "$dir/state" "$dir/runtime" "$dir/w"
	chmod 700 "$dir/runtime"
	(
		export HOME="$dir/home"
		export MEMEX_HOME="$dir/memex-home"
		export XDG_CONFIG_HOME="$dir/config"
		export XDG_DATA_HOME="$dir/data"
		export XDG_CACHE_HOME="$dir/cache"
		export XDG_STATE_HOME="$dir/state"
		export XDG_RUNTIME_DIR="$dir/runtime"
		unset MEMEX_CONFIG XDG_DATA_DIRS XDG_CONFIG_DIRS
		export LC_ALL=C.UTF-8 TZ=UTC
		OUTF="$dir/.stdout"
		ERRF="$dir/.stderr"
		W="$dir/w" # the case's scratch folder
		# background memex processes a case started die with it
		BGPIDS=()
		# shellcheck disable=SC2154
		trap 'for p in "${BGPIDS[@]}"; do kill -9 "$p" 2>/dev/null; done' EXIT
		umask 022
		cd "$W" || exit 1
		"t_$name"
	) >"$dir/.result" 2>"$dir/.case-stderr" </dev/null
	rc=$?
	case $rc in
	0)
		echo "ok $name"
		PASS=$((PASS + 1))
		;;
	77)
		echo "skip $name: $(head -n1 "$dir/.result")"
		SKIPS=$((SKIPS + 1))
		;;
	*)
		echo "FAIL $name: $(head -n1 "$dir/.result")"
		tail -n +2 "$dir/.result" | head -n 80 | sed 's/^/    /'
		if [ -s "$dir/.case-stderr" ]; then
			echo "    --- the case's own stderr:"
			tail -n 10 "$dir/.case-stderr" | sed 's/^/    /'
		fi
		FAILS=$((FAILS + 1))
		;;
	esac
}

need_shared() {
	[ -d "$SHARED/data/mail/notmuch-corpora" ] && [ -d "$SHARED/data/docs/pandoc-testfiles" ] ||
		skip "../shared not found"
}

need_sample() {
	[ -d "$SAMPLE/mail" ] && [ -d "$SAMPLE/notes" ] && [ -d "$SAMPLE/docs" ] ||
		skip "data/sample not found"
}

# ../shared's MIME digest (a message that holds messages) indexed from
# $W/d, one copy under each NAME given (a.eml b.eml; default its own name).
index_mime_digest() {
	need_shared
	local f="$SHARED/data/docs/unstructured-example-docs/eml/mime-multipart-digest.eml" n
	[ -r "$f" ] || skip "mime-multipart-digest.eml not found in ../shared"
	mkdir -p "$W/d"
	[ $# -gt 0 ] || set -- "$(basename "$f")"
	for n in "$@"; do
		cp "$f" "$W/d/$n"
	done
	mx_ok add "$W/d"
	mx_ok index
}

# A small indexed notes source: $W/notes with n1..nN (default 3).
setup_notes() {
	mknotes "$W/notes" "${1:-3}"
	mx_ok add "$W/notes"
	mx_ok index
	assert_eq "$(ndocs_ok)" "${1:-3}" "documents indexed from $W/notes"
}

# The shared 3000-note corpus, generated once per suite run.
CORPUS_N=3000
corpus() {
	local c="$ROOT/corpus$CORPUS_N"
	if [ ! -e "$c/.complete" ]; then
		rm -rf "$c"
		mkcorpus "$c/notes" "$CORPUS_N"
		: >"$c/.complete"
	fi
	printf '%s/notes' "$c"
}

# wait_for_docs PID: polls the index until it holds documents (a batch was
# committed) or PID exits; at most 60 s.
wait_for_docs() {
	local pid=$1 i n
	for ((i = 0; i < 3000; i++)); do
		kill -0 "$pid" 2>/dev/null || return 1
		n=$(sqlite3 -batch "$(db)" 'SELECT count(*) FROM documents' 2>/dev/null)
		[ "${n:-0}" -gt 0 ] 2>/dev/null && return 0
		sleep 0.02
	done
	return 1
}

# ======================================================================
# 1. help and usage
# ======================================================================

EXPECTED_COMMANDS="init add sources index search ask status forget help"

t_help_every_command() {
	mx_ok --help
	[ -z "$ERR" ] || fail "memex --help wrote to stderr" "$(last_output)"
	assert_contains "$OUT" "usage: memex" "memex --help"
	assert_contains "$OUT" "commands:" "memex --help"
	local main_help=$OUT cmds="" name rest c
	# the command table as 'memex --help' prints it
	while IFS=' ' read -r name rest; do
		cmds+=" $name"
	done < <(printf '%s\n' "$main_help" | sed -n '/^commands:/,/^$/p' | grep -E '^  [a-z]')
	for c in $EXPECTED_COMMANDS; do
		assert_contains "$cmds " " $c " "command table in memex --help"
	done
	mx_ok help
	assert_eq "$OUT" "$main_help" "memex help vs memex --help"
	for c in $cmds; do
		mx help "$c"
		assert_rc 0 "memex help $c"
		[ -z "$ERR" ] || fail "memex help $c wrote to stderr" "$(last_output)"
		assert_match "$(printf '%s\n' "$OUT" | head -n1)" "^usage: memex $c( |\$)" "memex help $c"
		local text=$OUT
		mx "$c" --help
		assert_rc 0 "memex $c --help"
		assert_eq "$OUT" "$text" "memex $c --help vs memex help $c"
		[ -z "$ERR" ] || fail "memex $c --help wrote to stderr" "$(last_output)"
		mx "$c" -h
		assert_rc 0 "memex $c -h"
		assert_eq "$OUT" "$text" "memex $c -h vs memex help $c"
	done
	# --help anywhere among a command's arguments
	mx search some words --help
	assert_rc 0
	assert_match "$OUT" '^usage: memex search' "memex search some words --help"
	# help never needs an index
	[ ! -e "$MEMEX_HOME" ] || fail "help created the data home $MEMEX_HOME"
}

t_version() {
	mx_ok --version
	assert_match "$OUT" '^memex [0-9]+\.[0-9]+\.[0-9]+' "memex --version"
}

t_unknown_command() {
	mx frobnicate
	assert_rc 2 "memex frobnicate"
	assert_one_line_error "memex frobnicate"
	assert_contains "$ERR" "frobnicate" "memex frobnicate"
	[ -z "$OUT" ] || fail "memex frobnicate wrote to stdout" "$(last_output)"
	mx help frobnicate
	assert_rc 2 "memex help frobnicate"
	assert_one_line_error "memex help frobnicate"
	mx frobnicate --help
	assert_rc 2 "memex frobnicate --help"
	assert_one_line_error "memex frobnicate --help"
	[ ! -e "$MEMEX_HOME" ] || fail "an unknown command created the data home"
}

t_no_arguments() {
	mx
	assert_rc 2 "memex (no arguments)"
	[ -z "$OUT" ] || fail "memex with no arguments wrote to stdout" "$(last_output)"
	assert_contains "$ERR" "usage: memex" "memex (no arguments)"
	mx -v
	assert_rc 2 "memex -v (no command)"
	mx --no-such-option
	assert_rc 2 "memex --no-such-option"
}

t_usage_errors() {
	local args
	while IFS= read -r args; do
		# shellcheck disable=SC2086
		mx $args
		assert_rc 2 "memex $args"
		[ -n "$ERR" ] || fail "memex $args: nothing on stderr" "$(last_output)"
		[ -z "$OUT" ] || fail "memex $args: usage error wrote to stdout" "$(last_output)"
	done <<'EOF'
init extra
add
add --type bogus somewhere
add --bogus x
index --bogus
index a b
search
search -n 0 word
search -n abc word
search -n 1001 word
search --bogus word
ask
ask --all-chunks word
sources bogus
sources remove
status extra
status --bogus
forget
forget --bogus
EOF
	mx search -n 0 word
	assert_one_line_error "memex search -n 0 word"
	mx add --type bogus somewhere
	assert_one_line_error "memex add --type bogus"
	[ ! -e "$MEMEX_HOME" ] || fail "a usage error created the data home"
}

t_commands_before_init() {
	local c
	for c in "search word" "ask a question" "status" "index" "sources" "forget /tmp/x" "sources remove 1"; do
		# shellcheck disable=SC2086
		mx $c
		assert_rc 1 "memex $c without an index"
		assert_one_line_error "memex $c without an index"
		assert_contains "$ERR" "memex init" "memex $c without an index"
	done
	[ ! -e "$MEMEX_HOME" ] || fail "a command that only reads created the data home $MEMEX_HOME"
}

# ======================================================================
# 2. init
# ======================================================================

t_init_creates_private_home() {
	mx_ok init
	assert_contains "$OUT" "Initialized" "memex init"
	assert_mode "$MEMEX_HOME" 700
	assert_mode "$MEMEX_HOME/index.db" 600
	mx_ok status --json
	local schema
	schema=$(printf '%s\n' "$OUT" | sed -n 's/.*"schema": *\([0-9]*\).*/\1/p')
	[ -n "$schema" ] && [ "$schema" -ge 1 ] || fail "status --json has no schema version" "$(last_output)"
	assert_eq "$(sql 'PRAGMA user_version')" "$schema" "schema version after init"
	# a second init changes nothing, sources survive it
	mknotes "$W/notes" 2
	mx_ok add "$W/notes"
	mx_ok index
	mx_ok init
	assert_contains "$OUT" "Checked existing" "second memex init"
	assert_eq "$(sql 'SELECT count(*) FROM sources')" 1 "sources after a second init"
	assert_eq "$(ndocs)" 2 "documents after a second init"
	assert_mode "$MEMEX_HOME" 700
	assert_mode "$MEMEX_HOME/index.db" 600
}

t_init_home_locations() {
	# $XDG_DATA_HOME/memex when MEMEX_HOME is unset
	(
		unset MEMEX_HOME
		mx_ok init
		assert_contains "$OUT" "$XDG_DATA_HOME/memex/index.db" "memex init with XDG_DATA_HOME"
		assert_mode "$XDG_DATA_HOME/memex" 700
		assert_mode "$XDG_DATA_HOME/memex/index.db" 600
	) || exit 1
	# ~/.local/share/memex when both are unset
	(
		unset MEMEX_HOME XDG_DATA_HOME
		mx_ok init
		assert_mode "$HOME/.local/share/memex" 700
		assert_mode "$HOME/.local/share/memex/index.db" 600
	) || exit 1
	# missing parents are created private too
	(
		export MEMEX_HOME="$W/a/b/c"
		mx_ok init
		assert_mode "$W/a" 700
		assert_mode "$W/a/b" 700
		assert_mode "$W/a/b/c" 700
		assert_mode "$W/a/b/c/index.db" 600
	) || exit 1
	# a data home that is a file
	(
		export MEMEX_HOME="$W/afile"
		echo x >"$MEMEX_HOME"
		mx init
		assert_rc 1 "memex init with MEMEX_HOME a regular file"
		assert_one_line_error "memex init with MEMEX_HOME a regular file"
		assert_eq "$(cat "$MEMEX_HOME")" x "the file MEMEX_HOME names"
	) || exit 1
}

# ======================================================================
# 3. the sample corpus
# ======================================================================

t_sample_index_search_ask() {
	need_sample
	mx_ok add "$SAMPLE/mail" "$SAMPLE/notes" "$SAMPLE/docs"
	assert_match "$OUT" "^Added maildir source [0-9]+: $SAMPLE/mail\$" "memex add data/sample/mail detects a Maildir"
	assert_match "$OUT" "^Added notes source [0-9]+: $SAMPLE/notes\$" "memex add data/sample/notes"
	mx index
	assert_rc 0 "memex index over data/sample"
	assert_match "$OUT" '^Indexed: [0-9]+ files, [1-9][0-9]* added' "memex index over data/sample"
	assert_index_consistent
	# the Maildir++ .Travel folder is read
	local travel
	travel=$(sql "SELECT count(*) FROM documents d JOIN sources s ON s.id = d.source_id WHERE s.path = '$SAMPLE/mail' AND d.path LIKE '.Travel/%' AND d.status = 'ok'")
	[ "$travel" -gt 0 ] 2>/dev/null || fail "no document from mail/.Travel was indexed ($travel)"

	mx search lisbon
	assert_rc 0 "memex search lisbon"
	assert_match "$OUT" '^1\. ' "memex search lisbon: first hit"
	# a citation: file:lines, or <message-id> subject
	assert_match "$OUT" '^   (/[^ ].*:[0-9]+-[0-9]+|<[^>]+> .+)$' "memex search lisbon: citation"
	assert_contains "$OUT" "**" "memex search lisbon: highlighted match"

	mx search --json lisbon
	assert_rc 0 "memex search --json lisbon"
	assert_match "$(head -n1 "$OUTF")" '^\{' "search --json starts an object"
	assert_match "$(tail -n1 "$OUTF")" '^\}$' "search --json ends the object"
	assert_match "$OUT" '"hits": *\[' "search --json"
	assert_match "$OUT" '"citation": *"' "search --json"
	local open close
	open=$(tr -cd '{' <"$OUTF" | wc -c)
	close=$(tr -cd '}' <"$OUTF" | wc -c)
	[ "$open" = "$close" ] || fail "search --json: $open '{' but $close '}'" "$(last_output)"

	# a booking reference that only the .Travel mail (and notes) hold
	local f
	f=$(grep -rl K7QX4M "$SAMPLE/mail/.Travel" 2>/dev/null | head -n1)
	if [ -n "$f" ]; then
		mx search --json -n 50 K7QX4M
		assert_rc 0 "memex search --json K7QX4M"
		assert_contains "$OUT" "\"path\":\"$f\"" "search K7QX4M finds the .Travel message"
	fi

	mx ask "when is my dentist appointment?"
	assert_rc 0 "memex ask"
	assert_match "$OUT" 'No chat model is installed' "memex ask"
	assert_match "$OUT" '^\[1\] ' "memex ask: numbered citations"
	mx ask --json "when is my dentist appointment?"
	assert_rc 0 "memex ask --json"
	assert_match "$OUT" '"citations": *\[' "memex ask --json"

	mx_ok -v index
	assert_contains "$ERR" "files opened: 0" "second index of data/sample"
	assert_match "$OUT" ' 0 added, 0 updated, 0 moved, 0 removed' "second index of data/sample"
	mx_ok status
	assert_match "$OUT" '^documents: [1-9][0-9]* in [0-9]+ chunks; 0 failed' "memex status after data/sample"
}

# ======================================================================
# 4. incremental indexing
# ======================================================================

t_incremental() {
	mknotes "$W/notes" 5
	mx_ok add "$W/notes"
	mx_ok -v index
	assert_contains "$OUT" " 5 added" "first index"
	assert_contains "$ERR" "files opened: 5" "first index"

	# nothing changed: nothing opened
	mx_ok -v index
	assert_contains "$ERR" "files opened: 0" "second index, nothing changed"
	assert_contains "$OUT" " 0 added, 0 updated, 0 moved, 0 removed, 5 unchanged" "second index"

	# content changed (size too)
	printf 'An added line about quokkas.\n' >>"$W/notes/n1.md"
	mx_ok -v index
	assert_contains "$OUT" " 1 updated" "after editing n1.md"
	assert_contains "$ERR" "files opened: 1" "after editing n1.md"
	mx_ok search quokkas
	assert_contains "$OUT" "n1.md" "search finds the edited text"

	# content changed, same size, new mtime
	sed -i 's/zebra2x/zebra2y/' "$W/notes/n2.md"
	touch -d '2001-02-03 04:05:06' "$W/notes/n2.md"
	mx_ok index
	assert_contains "$OUT" " 1 updated" "after a same-size edit of n2.md"
	mx_ok search zebra2y
	assert_contains "$OUT" "n2.md" "search finds the new word of n2.md"
	mx_ok search zebra2x
	assert_contains "$OUT" "No matches" "the old word of n2.md is gone"

	# touched, not changed: opened, not re-parsed
	touch -d '2002-03-04 05:06:07' "$W/notes/n3.md"
	local before
	before=$(sql "SELECT group_concat(id) FROM chunks c JOIN documents d ON d.id = c.doc_id WHERE d.path = 'n3.md'")
	mx_ok -v index
	assert_contains "$OUT" " 0 updated" "after touching n3.md"
	assert_contains "$ERR" "files opened: 1" "after touching n3.md"
	assert_eq "$(sql "SELECT group_concat(id) FROM chunks c JOIN documents d ON d.id = c.doc_id WHERE d.path = 'n3.md'")" "$before" "chunk ids of the touched n3.md"
	mx_ok -v index
	assert_contains "$ERR" "files opened: 0" "the index after a touch remembers the new mtime"

	# renamed: moved, not duplicated
	mv "$W/notes/n4.md" "$W/notes/renamed.md"
	mx_ok -v index
	assert_contains "$OUT" " 1 moved" "after mv n4.md renamed.md"
	assert_contains "$OUT" " 0 added" "after mv n4.md renamed.md"
	assert_contains "$OUT" " 0 removed" "after mv n4.md renamed.md"
	assert_eq "$(ndocs)" 5 "documents after a rename"
	mx_ok status --json
	assert_eq "$(json_int documents)" 5 "memex status --json documents after a rename"
	assert_eq "$(sql "SELECT count(*) FROM documents WHERE path = 'n4.md'")" 0 "documents still at the old path"
	assert_eq "$(sql "SELECT count(*) FROM documents WHERE path = 'renamed.md'")" 1 "documents at the new path"
	mx_ok search zebra4x
	assert_contains "$OUT" "renamed.md" "search cites the renamed file"
	assert_not_contains "$OUT" "n4.md" "search cites the old name"

	# deleted
	rm "$W/notes/n5.md"
	mx_ok index
	assert_contains "$OUT" " 1 removed" "after rm n5.md"
	assert_eq "$(ndocs)" 4 "documents after a delete"
	mx search zebra5x
	assert_rc 0 "search for the deleted file's word"
	assert_contains "$OUT" "No matches" "search for the deleted file's word"
	assert_index_consistent
}

t_index_full_and_json() {
	setup_notes 3
	mx_ok index --full
	assert_contains "$OUT" " 3 updated" "memex index --full re-parses everything"
	mx_ok index --json
	assert_match "$OUT" '"status": *"complete"' "memex index --json"
	assert_eq "$(json_int files_seen)" 3 "index --json files_seen"
	assert_eq "$(json_int files_opened)" 0 "index --json files_opened"
	assert_eq "$(json_int unchanged)" 3 "index --json unchanged"
	assert_eq "$(sql 'SELECT count(*) FROM documents')" 3 "documents after --full"
	assert_index_consistent
}

t_index_one_source() {
	mknotes "$W/a" 2
	mknotes "$W/b" 3
	mx_ok add "$W/a" "$W/b"
	mx index 999
	assert_rc 1 "memex index 999"
	assert_one_line_error "memex index 999"
	mx index "$W/nowhere"
	assert_rc 1 "memex index of a path that is not a source"
	assert_one_line_error "memex index of a path that is not a source"
	mx_ok index "$W/b"
	assert_contains "$OUT" "Indexed: 3 files" "memex index b"
	assert_eq "$(ndocs)" 3 "documents after indexing only b"
	local ida
	ida=$(sql "SELECT id FROM sources WHERE path = '$W/a'")
	mx_ok index "$ida"
	assert_contains "$OUT" "Indexed: 2 files" "memex index ID"
	assert_eq "$(ndocs)" 5 "documents after indexing a by id"
}

# ======================================================================
# 5. crashes and interrupts
# ======================================================================

t_kill9_mid_index() {
	local notes pid rc partial
	notes=$(corpus)
	mx_ok add "$notes"
	"$MEMEX" index >"$W/killed.out" 2>"$W/killed.err" </dev/null &
	pid=$!
	BGPIDS+=("$pid")
	wait_for_docs "$pid"
	sleep 0.05
	kill -0 "$pid" 2>/dev/null ||
		fail "memex index finished before it could be killed; make the corpus larger" "$(cat "$W/killed.out" "$W/killed.err")"
	kill -9 "$pid"
	wait "$pid" 2>/dev/null
	rc=$?
	assert_eq "$rc" 137 "exit status of the killed memex index"
	partial=$(ndocs)
	[ "$partial" -gt 0 ] && [ "$partial" -lt "$CORPUS_N" ] ||
		fail "documents after kill -9: $partial, expected some but not all $CORPUS_N"
	assert_eq "$(sql 'PRAGMA integrity_check')" ok "integrity_check after kill -9"
	mx_ok status
	assert_contains "$OUT" "did not finish" "memex status after kill -9"

	mx index
	assert_rc 0 "memex index after kill -9"
	assert_contains "$OUT" " $partial unchanged" "the second run keeps the first run's $partial documents"
	assert_eq "$(ndocs)" "$CORPUS_N" "documents after the second run"
	assert_eq "$(ndocs_ok)" "$CORPUS_N" "documents indexed ok after the second run"
	assert_eq "$(sql 'SELECT count(*) FROM (SELECT source_id, path FROM documents GROUP BY 1, 2 HAVING count(*) > 1)')" 0 "duplicate (source_id, path)"
	assert_eq "$(sql 'SELECT count(*) FROM chunks')" "$(sql 'SELECT count(*) FROM chunks_fts')" "count(chunks) vs count(chunks_fts)"
	assert_index_consistent
	local v
	v=$(sqlite3 -batch "$(db)" "INSERT INTO chunks_fts(chunks_fts) VALUES('integrity-check')" 2>&1) ||
		fail "FTS5 integrity-check after kill -9: $v"
	mx_ok search walrus${CORPUS_N}x
	assert_contains "$OUT" "n$CORPUS_N.md" "search after kill -9 and a second run"
	mx_ok search walrus1x
	assert_contains "$OUT" "n1.md" "search after kill -9 and a second run"
}

t_sigint_mid_index() {
	local notes pid rc partial
	notes=$(corpus)
	mx_ok add "$notes"
	"$MEMEX" index >"$W/int.out" 2>"$W/int.err" </dev/null &
	pid=$!
	BGPIDS+=("$pid")
	wait_for_docs "$pid"
	kill -0 "$pid" 2>/dev/null ||
		fail "memex index finished before it could be interrupted; make the corpus larger" "$(cat "$W/int.out" "$W/int.err")"
	kill -INT "$pid"
	wait "$pid"
	rc=$?
	OUTF="$W/int.out" ERRF="$W/int.err" RC=$rc LASTCMD="memex index (SIGINT)"
	OUT=$(cat "$OUTF") ERR=$(cat "$ERRF")
	check_sanitizers index
	assert_rc 130 "memex index interrupted by SIGINT"
	assert_match "$OUT" '^Interrupted: ' "memex index interrupted by SIGINT"
	assert_one_line_error "memex index interrupted by SIGINT"
	assert_contains "$ERR" "interrupted" "memex index interrupted by SIGINT"
	partial=$(ndocs)
	[ "$partial" -gt 0 ] && [ "$partial" -lt "$CORPUS_N" ] ||
		fail "documents after SIGINT: $partial, expected some but not all $CORPUS_N"
	assert_eq "$(sql 'SELECT status FROM runs ORDER BY id DESC LIMIT 1')" interrupted "status of the interrupted run"
	mx index
	assert_rc 0 "memex index after SIGINT"
	assert_contains "$OUT" " $partial unchanged" "the follow-up run keeps the interrupted run's work"
	assert_eq "$(ndocs)" "$CORPUS_N" "documents after the follow-up run"
	assert_index_consistent
}

t_read_while_indexing() {
	local notes pid rc f
	notes=$(corpus)
	mx_ok add "$notes"
	"$MEMEX" index >"$W/bg.out" 2>"$W/bg.err" </dev/null &
	pid=$!
	BGPIDS+=("$pid")
	wait_for_docs "$pid"
	# readers are not blocked by the writer
	mx search walrus1x
	assert_rc 0 "memex search while indexing"
	mx status
	assert_rc 0 "memex status while indexing"
	# the WAL files are private too
	for f in "$MEMEX_HOME"/index.db*; do
		[ -e "$f" ] || continue
		assert_mode "$f" 600
	done
	wait "$pid"
	rc=$?
	[ "$rc" = 0 ] || fail "background memex index exited $rc" "$(cat "$W/bg.out" "$W/bg.err")"
	assert_eq "$(ndocs)" "$CORPUS_N" "documents after the background run"
}

# ======================================================================
# 6. bad input
# ======================================================================

t_add_missing_path() {
	setup_notes 3
	mx add "$W/does-not-exist"
	assert_rc 1 "memex add of a missing path"
	assert_one_line_error "memex add of a missing path"
	assert_contains "$ERR" "does-not-exist" "memex add of a missing path"
	assert_eq "$(ndocs)" 3 "documents after a failed add"
	assert_eq "$(sql 'SELECT count(*) FROM sources')" 1 "sources after a failed add"
}

t_add_fifo() {
	setup_notes 3
	mkfifo "$W/fifo"
	CMD_TIMEOUT=10 mx add "$W/fifo"
	assert_rc 1 "memex add of a FIFO"
	assert_one_line_error "memex add of a FIFO"
	ln -s "$W/fifo" "$W/link-to-fifo.md"
	CMD_TIMEOUT=10 mx add "$W/link-to-fifo.md"
	assert_rc 1 "memex add of a symlink to a FIFO"
	assert_one_line_error "memex add of a symlink to a FIFO"
	assert_eq "$(ndocs)" 3 "documents after a failed add"
	assert_eq "$(sql 'SELECT count(*) FROM sources')" 1 "sources after a failed add"
}

t_add_empty_file() {
	setup_notes 3
	: >"$W/empty.md"
	mx add "$W/empty.md"
	assert_rc 1 "memex add of a 0-byte file"
	assert_one_line_error "memex add of a 0-byte file"
	assert_contains "$ERR" "empty" "memex add of a 0-byte file"
	assert_eq "$(ndocs)" 3 "documents after a failed add"
	assert_eq "$(sql 'SELECT count(*) FROM sources')" 1 "sources after a failed add"
}

t_fifo_and_empty_in_notes() {
	setup_notes 3
	mkfifo "$W/notes/pipe.md" "$W/notes/pipe"
	: >"$W/notes/empty.md"
	mkfifo "$W/elsewhere-fifo"
	ln -s "$W/elsewhere-fifo" "$W/notes/link-to-fifo.md"
	CMD_TIMEOUT=20 mx -v index
	assert_rc 0 "memex index with a FIFO and a 0-byte file in the folder"
	assert_match "$ERR" "^skipped +$W/notes/pipe.md: " "memex -v index reports the FIFO as skipped"
	assert_match "$ERR" "^skipped +$W/notes/empty.md: " "memex -v index reports the 0-byte file as skipped"
	mx_ok status --all
	assert_match "$OUT" "^  skipped $W/notes/pipe.md: .*(FIFO|regular)" "memex status --all lists the FIFO"
	assert_match "$OUT" "^  skipped $W/notes/empty.md: .*empty" "memex status --all lists the 0-byte file"
	assert_eq "$(ndocs_ok)" 3 "documents indexed next to the FIFO"
	CMD_TIMEOUT=20 mx_ok -v index
	assert_contains "$ERR" "files opened: 0" "second run with a FIFO in the folder"
}

# max_file_size from $XDG_CONFIG_HOME/memex/config
t_size_cap_config() {
	setup_notes 2
	mkdir -p "$XDG_CONFIG_HOME/memex"
	printf '# test\nmax_file_size = 1K\n' >"$XDG_CONFIG_HOME/memex/config"
	head -c 4000 /dev/zero | tr '\0' 'a' | fold -w 70 >"$W/notes/big.md"
	mx index
	assert_rc 3 "memex index with a file over max_file_size"
	assert_match "$ERR" "^memex: cannot index '$W/notes/big.md': .*too large" "memex index with a file over max_file_size"
	assert_eq "$(ndocs_ok)" 2 "documents after the partial run"
	mx_ok status
	assert_match "$OUT" "^  $W/notes/big.md: .*too large" "memex status lists the large file"
	mx_ok status --json
	assert_eq "$(json_int failed)" 1 "memex status --json failed"
	assert_match "$OUT" '"reason": *"[^"]*too large' "memex status --json reason"
}

# max_file_size from the file $MEMEX_CONFIG names
t_size_cap_memex_config() {
	setup_notes 2
	printf 'max_file_size = 2K\n' >"$W/my.conf"
	head -c 3000 /dev/zero | tr '\0' 'b' | fold -w 70 >"$W/notes/big.md"
	head -c 1500 /dev/zero | tr '\0' 'c' | fold -w 70 >"$W/notes/medium.md"
	MEMEX_CONFIG="$W/my.conf" mx index
	assert_rc 3 "memex index with MEMEX_CONFIG and a file over 2K"
	mx_ok status
	assert_match "$OUT" "^  $W/notes/big.md: .*too large" "memex status lists the large file"
	assert_not_contains "$OUT" "medium.md" "memex status (medium.md is under the cap)"
	assert_eq "$(ndocs_ok)" 3 "documents after the partial run"
}

t_bug_size_cap_not_retried() {
	setup_notes 2
	mkdir -p "$XDG_CONFIG_HOME/memex"
	printf 'max_file_size = 1K\n' >"$XDG_CONFIG_HOME/memex/config"
	{ printf 'capybara\n'; head -c 4000 /dev/zero | tr '\0' 'a' | fold -w 70; } >"$W/notes/big.md"
	mx index
	assert_rc 3 "memex index with a file over max_file_size"
	# the message says "see max_file_size": raise it and index again
	rm "$XDG_CONFIG_HOME/memex/config"
	mx index
	[ "$RC" = 0 ] && [ "$(ndocs_ok)" = 3 ] ||
		fail "BUG: after raising max_file_size, 'memex index' still does not index the file it refused as too large (exit $RC, $(ndocs_ok) documents ok; only --full retries it)" "$(last_output)"
	mx_ok search capybara
	assert_contains "$OUT" "big.md" "search for the formerly too large file"
}

t_binary_md() {
	setup_notes 3
	printf 'PK\003\004\000\000\001\002binary\000\377\376 junk' >"$W/notes/x.md"
	head -c 2000 /dev/urandom >>"$W/notes/x.md"
	mx index
	assert_rc 3 "memex index with a binary x.md"
	assert_match "$ERR" "^memex: cannot index '$W/notes/x.md': .*binary" "memex index with a binary x.md"
	assert_eq "$(ndocs_ok)" 3 "documents after the partial run"
	mx_ok status
	assert_match "$OUT" "^  $W/notes/x.md: .*binary" "memex status lists the binary file"
	mx_ok sources
	assert_contains "$OUT" "1 failed" "memex sources counts the failure"
	# an unchanged bad file is not re-read
	mx -v index
	assert_rc 3 "second memex index with the binary x.md"
	assert_contains "$ERR" "files opened: 0" "second memex index with the binary x.md"
	# fixing it clears the failure
	printf 'now a real note about okapis\n' >"$W/notes/x.md"
	mx_ok index
	mx_ok status --json
	assert_eq "$(json_int failed)" 0 "failures after fixing x.md"
	mx_ok search okapis
	assert_contains "$OUT" "x.md" "search the fixed x.md"
}

t_corrupt_db() {
	setup_notes 3
	rm -f "$(db)-wal" "$(db)-shm"
	head -c 65536 /dev/urandom >"$(db)"
	local before c
	before=$(sha "$(db)")
	for c in "index" "search zebra1x" "ask about zebras" "status" "sources" "add $W/notes" "forget $W/notes/n1.md" "sources remove 1" "init"; do
		# shellcheck disable=SC2086
		mx $c
		assert_rc 1 "memex $c on a damaged index"
		assert_one_line_error "memex $c on a damaged index"
		assert_contains "$ERR" "damaged" "memex $c on a damaged index"
		assert_eq "$(sha "$(db)")" "$before" "sha256 of the damaged index after memex $c"
	done
}

# a real index whose pages (not its header) are damaged
t_corrupt_db_pages() {
	setup_notes 3
	rm -f "$(db)-wal" "$(db)-shm"
	head -c 40960 /dev/zero | tr '\0' '\377' | dd of="$(db)" bs=4096 seek=1 conv=notrunc 2>/dev/null
	local before c
	before=$(sha "$(db)")
	for c in "index" "search zebra1x" "ask about zebras" "status" "sources" "add $W/notes" "forget $W/notes/n1.md" "sources remove 1"; do
		# shellcheck disable=SC2086
		mx $c
		assert_rc 1 "memex $c on an index with damaged pages"
		assert_one_line_error "memex $c on an index with damaged pages"
		assert_eq "$(sha "$(db)")" "$before" "sha256 of the damaged index after memex $c"
	done
}

t_bug_corrupt_db_pages_messages() {
	setup_notes 3
	rm -f "$(db)-wal" "$(db)-shm"
	head -c 40960 /dev/zero | tr '\0' '\377' | dd of="$(db)" bs=4096 seek=1 conv=notrunc 2>/dev/null
	local c bad=""
	for c in "search zebra1x" "ask about zebras"; do
		# shellcheck disable=SC2086
		mx $c
		printf '%s\n' "$ERR" | grep -qiE 'damaged|malformed|corrupt' ||
			bad+="memex $c (exit $RC): $ERR"$'\n'
	done
	mx init
	[ "$RC" != 0 ] || bad+="memex init (exit 0) says: $OUT"$'\n'
	[ -z "$bad" ] || fail "BUG: on an index with damaged pages these do not say the index is damaged:" "$bad"
}

t_newer_db() {
	setup_notes 3
	sqlite3 "$(db)" 'PRAGMA user_version = 99' || fail "cannot set user_version"
	rm -f "$(db)-wal" "$(db)-shm"
	local before c
	before=$(sha "$(db)")
	for c in "index" "search zebra1x" "ask about zebras" "status" "sources" "add $W/notes" "forget $W/notes/n1.md" "sources remove 1" "init"; do
		# shellcheck disable=SC2086
		mx $c
		assert_rc 1 "memex $c on an index from a newer memex"
		assert_one_line_error "memex $c on an index from a newer memex"
		assert_match "$ERR" 'newer|upgrade' "memex $c on an index from a newer memex"
		assert_eq "$(sha "$(db)")" "$before" "sha256 of the newer index after memex $c"
	done
	assert_eq "$(sqlite3 "$(db)" 'PRAGMA user_version')" 99 "user_version after the refused commands"
}

# Runs memex ARGS in a mount namespace where $MEMEX_HOME is a read-only
# bind mount; sets RC/OUT/ERR. Skips when namespaces or mounts are not
# permitted.
mx_readonly_home() {
	local script
	[ -f "$MEMEX_HOME/index.db" ] || fail "setup: no index at $MEMEX_HOME/index.db"
	# shellcheck disable=SC2016
	script='mount --bind "$1" "$1" 2>/dev/null && mount -o remount,ro,bind "$1" 2>/dev/null || exit 99
if touch "$1/.probe" 2>/dev/null; then rm -f "$1/.probe"; exit 98; fi
shift
exec "$MEMEX" "$@"'
	command -v unshare >/dev/null 2>&1 || skip "unshare not found"
	# root: a mount namespace; others: a user namespace mapped to root too
	local ns=-m
	[ "$(id -u)" = 0 ] || ns=-rm
	run timeout -k 5 "$CMD_TIMEOUT" unshare "$ns" bash -c "$script" _ "$MEMEX_HOME" "$@"
	# shellcheck disable=SC2034 # read by last_output
	LASTCMD="memex $* (read-only data home)"
	[ "$RC" != 99 ] || skip "cannot make a read-only bind mount here (unshare -m / mount not permitted)"
	[ "$RC" != 98 ] || skip "the read-only bind mount is still writable"
	if grep -qE '^unshare: ' "$ERRF"; then
		skip "unshare -m is not permitted: $(head -n1 "$ERRF")"
	fi
	check_sanitizers "$@"
}

t_readonly_home() {
	setup_notes 3
	[ ! -e "$(db)-wal" ] || fail "setup: index.db-wal left behind by a clean memex index"
	local before
	before=$(sha "$(db)")
	printf 'a new note about tapirs\n' >"$W/notes/new.md"
	mx_readonly_home index
	assert_rc 1 "memex index with a read-only data home"
	assert_one_line_error "memex index with a read-only data home"
	assert_match "$ERR" '[Rr]ead-only|[Rr]ead only|[Pp]ermission' "the error says why"
	assert_eq "$(sha "$(db)")" "$before" "sha256 of the index"
	mx_readonly_home add "$W"
	assert_rc 1 "memex add with a read-only data home"
	assert_one_line_error "memex add with a read-only data home"
	# reading still works
	mx_readonly_home search zebra1x
	assert_rc 0 "memex search with a read-only data home"
	assert_contains "$OUT" "n1.md" "memex search with a read-only data home"
	mx_readonly_home status
	assert_rc 0 "memex status with a read-only data home"
	# back to writable: nothing was lost
	mx_ok index
	assert_contains "$OUT" " 1 added" "memex index once the data home is writable"
	assert_eq "$(ndocs)" 4 "documents"
}

t_config_errors() {
	mkdir -p "$XDG_CONFIG_HOME/memex"
	local cfg="$XDG_CONFIG_HOME/memex/config"
	printf 'max_file_size = lots\n' >"$cfg"
	mx init
	assert_rc 1 "memex init with a bad max_file_size"
	assert_one_line_error "memex init with a bad max_file_size"
	assert_contains "$ERR" "$cfg:1" "the error names the file and line"
	printf '\n# comment\nthis line has no equals sign\n' >"$cfg"
	mx init
	assert_rc 1 "memex init with a line without '='"
	assert_one_line_error "memex init with a line without '='"
	assert_contains "$ERR" "$cfg:3" "the error names the file and line"
	printf 'chunk_target_tokens = 500\nchunk_max_tokens = 100\n' >"$cfg"
	mx init
	assert_rc 1 "memex init with target > max tokens"
	assert_one_line_error "memex init with target > max tokens"
	printf 'some_future_key = 1\n' >"$cfg"
	mx init
	assert_rc 0 "memex init with an unknown key"
	assert_match "$ERR" '^memex: warning: .*some_future_key' "memex init with an unknown key"
	rm "$cfg"
	MEMEX_CONFIG="$W/missing.conf" mx status
	assert_rc 1 "memex status with MEMEX_CONFIG naming a missing file"
	assert_one_line_error "memex status with MEMEX_CONFIG naming a missing file"
	MEMEX_CONFIG=/dev/null mx_ok status
	MEMEX_CONFIG='' mx_ok status
	# --help works whatever the configuration
	printf 'max_file_size = lots\n' >"$cfg"
	mx_ok index --help
}

# ======================================================================
# 7. ../shared corpora
# ======================================================================

t_shared_corpora() {
	need_shared
	local mail="$SHARED/data/mail/notmuch-corpora" docs="$SHARED/data/docs/pandoc-testfiles"
	mx_ok add "$mail" "$docs"
	assert_match "$OUT" "^Added maildir source [0-9]+: $mail\$" "memex add detects notmuch-corpora as a Maildir"
	local t0 t1
	t0=$(date +%s)
	CMD_TIMEOUT=60 mx index
	t1=$(date +%s)
	assert_rc 3 "memex index over notmuch-corpora and pandoc-testfiles"
	[ $((t1 - t0)) -le 60 ] || fail "memex index took $((t1 - t0)) s"
	assert_match "$ERR" "^memex: cannot index '$mail/" "memex index reports the non-mail files"
	assert_index_consistent
	mx_ok status
	assert_match "$OUT" '^failed:$' "memex status lists failures"
	assert_match "$OUT" "^  $mail/[^:]+: [^ ]" "memex status gives the failed file and a reason"
	mx_ok status --json
	local nf
	nf=$(json_int failed)
	[ "$nf" -ge 1 ] && [ "$nf" -le 10 ] || fail "memex status --json: $nf failed, expected a couple" "$(last_output)"
	[ "$(json_int documents)" -ge 300 ] || fail "memex status --json: only $(json_int documents) documents" "$(last_output)"
	mx -v index
	assert_rc 3 "second memex index (the failures remain)"
	assert_contains "$ERR" "files opened: 0" "second memex index"
	mx_ok search --json linux
	assert_match "$OUT" '"message_id": *"[^"]' "search finds mail from notmuch-corpora"
}

# ======================================================================
# 8. sources and forget
# ======================================================================

t_sources_and_forget() {
	mknotes "$W/notes" 3
	mkdir -p "$W/other"
	printf 'a note about persimmons\n' >"$W/other/p.md"
	mx_ok add "$W/notes" "$W/other"
	mx_ok index
	assert_eq "$(ndocs)" 4 "documents"

	mx_ok sources
	assert_match "$OUT" "^ +[0-9]+  notes +$W/notes\$" "memex sources lists notes"
	assert_match "$OUT" "^ +[0-9]+  notes +$W/other\$" "memex sources lists other"
	mx_ok sources --json
	assert_contains "$OUT" "\"path\":\"$W/notes\"" "memex sources --json"
	assert_contains "$OUT" "\"path\":\"$W/other\"" "memex sources --json"

	# forget one file
	mx_ok forget "$W/notes/n1.md"
	assert_contains "$OUT" "Forgot 1 documents" "memex forget n1.md"
	mx_ok search zebra1x
	assert_contains "$OUT" "No matches" "search after forget"
	assert_eq "$(ndocs)" 3 "documents after forget"
	mx_ok search zebra2x
	assert_contains "$OUT" "n2.md" "the other files are still found"
	mx forget "$W/notes/n1.md"
	assert_rc 1 "forgetting it again"
	assert_one_line_error "forgetting it again"
	mx forget "$W/notes/n"
	assert_rc 1 "forget of a prefix that is no path"
	assert_eq "$(ndocs)" 3 "documents after forgetting a mere prefix"

	# forget a folder inside a source
	mkdir -p "$W/notes/sub"
	printf 'deep kumquat\n' >"$W/notes/sub/k.md"
	printf 'deep kumquat two\n' >"$W/notes/sub/k2.md"
	mx_ok index
	mx_ok forget "$W/notes/sub"
	assert_contains "$OUT" "Forgot 2 documents" "memex forget of a folder"
	mx_ok search kumquat
	assert_contains "$OUT" "No matches" "search after forgetting a folder"

	# remove a source by id
	local id
	id=$(sql "SELECT id FROM sources WHERE path = '$W/other'")
	mx_ok sources remove "$id"
	assert_contains "$OUT" "Removed source $id" "memex sources remove $id"
	mx_ok search persimmons
	assert_contains "$OUT" "No matches" "search after removing the source"
	assert_eq "$(sql "SELECT count(*) FROM documents WHERE source_id = $id")" 0 "documents of the removed source"
	mx_ok sources
	assert_not_contains "$OUT" "$W/other" "memex sources after remove"
	mx sources remove "$id"
	assert_rc 1 "removing it again"
	assert_one_line_error "removing it again"
	assert_index_consistent

	# nesting is refused, either way round
	mx add "$W/notes/sub"
	assert_rc 1 "adding a folder inside a source"
	assert_one_line_error "adding a folder inside a source"
	assert_contains "$ERR" "inside" "adding a folder inside a source"
	mx add "$W"
	assert_rc 1 "adding a folder that contains a source"
	assert_one_line_error "adding a folder that contains a source"
	assert_contains "$ERR" "contains" "adding a folder that contains a source"
	assert_eq "$(sql 'SELECT count(*) FROM sources')" 1 "sources after refused adds"
	# the same source again is fine, and a sibling whose name extends it too
	mx_ok add "$W/notes/"
	assert_contains "$OUT" "already a source" "adding the same source again"
	mkdir -p "$W/notes2"
	printf 'sibling\n' >"$W/notes2/s.md"
	mx_ok add "$W/notes2"
	# remove by path
	mx_ok sources remove "$W/notes2"
	assert_eq "$(sql 'SELECT count(*) FROM sources')" 1 "sources after remove by path"
	# forget a whole source: the source goes too
	mx_ok forget "$W/notes"
	assert_eq "$(sql 'SELECT count(*) FROM sources')" 0 "sources after forgetting the source folder"
	assert_eq "$(ndocs)" 0 "documents after forgetting the source folder"
}

t_bug_forget_root() {
	setup_notes 3
	mx forget /
	[ "$RC" = 0 ] && [ "$(ndocs)" = 0 ] ||
		fail "BUG: 'memex forget /' (every file below /) forgets nothing: exit $RC, $(ndocs) documents left: $ERR" "$(last_output)"
}

t_source_folder_vanished() {
	setup_notes 3
	mv "$W/notes" "$W/notes.away"
	mx index
	assert_rc 3 "memex index when a source folder is gone"
	assert_contains "$ERR" "cannot read" "memex index when a source folder is gone"
	assert_eq "$(ndocs)" 3 "documents kept while the folder is gone"
	mv "$W/notes.away" "$W/notes"
	mx_ok index
	assert_contains "$OUT" " 3 unchanged" "memex index once the folder is back"
}

t_symlinks() {
	mknotes "$W/notes" 2
	mkdir -p "$W/outside"
	printf 'linked note about axolotls\n' >"$W/outside/target.md"
	ln -s "$W/outside/target.md" "$W/notes/link.md"
	ln -s . "$W/notes/loop"
	ln -s .. "$W/notes/up"
	ln -s "$W/nowhere.md" "$W/notes/dangling.md"
	mx_ok add "$W/notes"
	CMD_TIMEOUT=20 mx index
	assert_rc 0 "memex index with symlink loops and a dangling link"
	mx_ok search axolotls
	assert_contains "$OUT" "link.md" "a symlinked file is indexed"
	assert_eq "$(ndocs)" 3 "documents (links to folders are not followed)"
}

t_bug_single_file_note_source() {
	printf -- '---\ntitle: Single Note\n---\n\nA single file note about narwhals.\n' >"$W/single.md"
	mkdir -p "$W/folder"
	cp "$W/single.md" "$W/folder/infolder.md"
	mx_ok add "$W/single.md" "$W/folder"
	assert_contains "$OUT" "Added notes source" "memex add of a single .md file"
	mx index
	assert_rc 0 "memex index of a single-file note source"
	mx_ok search --json -n 5 narwhals
	assert_contains "$OUT" "\"path\":\"$W/single.md\"" "search finds the single-file source"
	# the same file in a folder and as a source is the same kind of document
	local t1 t2
	t1=$(sql "SELECT d.type FROM documents d JOIN sources s ON s.id = d.source_id WHERE s.path = '$W/single.md'")
	t2=$(sql "SELECT d.type FROM documents d JOIN sources s ON s.id = d.source_id WHERE s.path = '$W/folder'")
	[ "$t1" = "$t2" ] ||
		fail "BUG: a markdown file added as a single-file source is typed '$t1', in a folder '$t2' (the connector gets the path \"\" for single-file sources)"
}

t_single_file_eml_and_mbox() {
	printf 'From: Ann <ann@example.org>\nTo: Bob <bob@example.org>\nSubject: Meeting about capybaras\nDate: Mon, 2 Nov 2026 10:00:00 +0000\nMessage-ID: <abc123@example.org>\n\nHello Bob, the capybara meeting is on.\n' >"$W/msg.eml"
	printf 'From ann@example.org Mon Nov  2 10:00:00 2026\nFrom: Ann <ann@example.org>\nSubject: boxed\n\nbody\n' >"$W/box.mbox"
	mx_ok add "$W/msg.eml"
	assert_contains "$OUT" "Added eml source" "memex add of an .eml file"
	mx_ok add "$W/box.mbox"
	assert_contains "$OUT" "Added mbox source" "memex add of an mbox file"
	mx index
	assert_rc 0 "memex index of an eml and an mbox source"
	mx_ok search capybara
	assert_contains "$OUT" "<abc123@example.org>" "search cites the message id"
	mx_ok status --all
	mx_ok search boxed
	assert_contains "$OUT" "boxed" "the mbox's message is found by search"
}

t_bug_status_path_single_file() {
	# a single-file source whose document failed: its path has no trailing '/'
	printf 'text\0\1\2\3binary' >"$W/bin.md"
	mx_ok add "$W/bin.md"
	mx index
	mx_ok status --all
	assert_match "$OUT" "^  failed  $W/bin.md: binary" \
		"BUG: memex status names a single-file source's problem as '$W/bin.md/' (source path + '/' + \"\")"
}

# mkmsg SUBJECT ID BODY: an RFC 5322 message on stdout.
mkmsg() {
	printf 'From: Ann <ann@example.org>\nTo: Bob <bob@example.org>\nSubject: %s\nDate: Mon, 2 Nov 2026 10:00:00 +0000\nMessage-ID: <%s@example.org>\n\n%s\n' "$1" "$2" "$3"
}

t_maildir_flags_and_folders() {
	local m="$W/mail"
	mkdir -p "$m/cur" "$m/new" "$m/tmp" "$m/.Work/cur" "$m/.Work/new" "$m/.Work/tmp"
	mkmsg "Gnocchi recipe" m1 "the gnocchi body" >"$m/cur/1000.M1P1.host:2,S"
	mkmsg "Lentil plan" m2 "a body about lentils" >"$m/new/1001.M2P2.host"
	mkmsg "Temp draft" m3 "a tmpword body" >"$m/tmp/1002.M3P3.host"
	mkmsg "Work report" m4 "the quarterly body" >"$m/.Work/cur/1003.M4P4.host:2,"
	echo "3 V1 N1" >"$m/dovecot-uidlist"
	: >"$m/.Work/maildirfolder"
	mx_ok add "$m"
	assert_contains "$OUT" "Added maildir source" "memex add of a Maildir"
	mx_ok index --json
	assert_eq "$(json_int files_seen)" 3 "files seen in the Maildir (tmp/ and dovecot files are not)"
	assert_eq "$(json_int added)" 3 "messages added"
	mx_ok search quarterly
	assert_contains "$OUT" "<m4@example.org> Work report, Ann <ann@example.org>, 2026-11-02" "citation of a message in a Maildir++ folder"
	mx_ok search tmpword
	assert_contains "$OUT" "No matches" "a message in tmp/ is not indexed"
	# reading and replying rename the files: moves, not new documents
	mv "$m/cur/1000.M1P1.host:2,S" "$m/cur/1000.M1P1.host:2,RS"
	mv "$m/new/1001.M2P2.host" "$m/cur/1001.M2P2.host:2,S"
	mx_ok index
	assert_contains "$OUT" " 2 moved" "flag changes and new/ -> cur/"
	assert_contains "$OUT" " 0 added" "flag changes and new/ -> cur/"
	assert_eq "$(ndocs)" 3 "documents after the renames"
	mx_ok search --json lentils
	assert_contains "$OUT" "\"path\":\"$m/cur/1001.M2P2.host:2,S\"" "search cites the message's new file"
	assert_index_consistent
}

t_odd_content() {
	mkdir -p "$W/notes"
	local i
	head -c 200000 /dev/zero | tr '\0' a >"$W/notes/longword.txt"
	for ((i = 0; i < 5000; i++)); do printf 'é'; done >"$W/notes/eacute.txt"
	for ((i = 0; i < 5000; i++)); do printf '中文'; done >"$W/notes/cjk.txt"
	{ head -c 20000 /dev/zero | tr '\0' '\n'; echo needle; } >"$W/notes/blank.txt"
	printf '# only a heading' >"$W/notes/heading.md"
	printf -- '---\ntitle: Hippogriff\n---\n' >"$W/notes/onlyfm.md"
	printf -- '---\nunterminated front matter\n' >"$W/notes/badfm.md"
	printf 'no newline at the end, gryphon' >"$W/notes/nonl.txt"
	mx_ok add "$W/notes"
	mx index
	assert_rc 0 "memex index of odd but valid text"
	assert_eq "$(ndocs_ok)" 8 "documents"
	mx_ok search needle
	assert_contains "$OUT" "blank.txt:20001-20001" "citation after 20000 blank lines"
	mx_ok search hippogriff
	assert_contains "$OUT" "onlyfm.md" "a note with only front matter is found by its title"
	mx_ok search gryphon
	assert_contains "$OUT" "nonl.txt:1-1" "a file without a final newline"
	local v
	v=$(sql "SELECT count(*) FROM chunks WHERE length(CAST(text AS BLOB)) > 20000")
	assert_eq "$v" 0 "chunks over 20000 bytes"
	assert_index_consistent
}

t_empty_source() {
	mkdir -p "$W/empty"
	mx_ok add "$W/empty"
	mx_ok index
	assert_contains "$OUT" "Indexed: 0 files" "memex index of an empty folder"
	mx_ok search anything
	assert_contains "$OUT" "No matches" "search in an empty index"
	mx_ok ask anything at all
	assert_contains "$OUT" "No chat model is installed" "ask in an empty index"
}

t_unreadable_folder() {
	[ "$(id -u)" != 0 ] || skip "running as root: permissions do not stop reads"
	mknotes "$W/notes" 2
	mknotes "$W/notes/sub" 2
	mx_ok add "$W/notes"
	mx_ok index
	assert_eq "$(ndocs_ok)" 4 "documents"
	chmod 000 "$W/notes/sub"
	mx index
	chmod 755 "$W/notes/sub"
	assert_rc 3 "memex index with an unreadable folder"
	assert_contains "$ERR" "cannot read" "memex index with an unreadable folder"
	assert_eq "$(ndocs_ok)" 4 "documents kept while a folder is unreadable"
	mx_ok index
	assert_contains "$OUT" " 4 unchanged" "memex index once the folder is readable again"
}

t_bug_unreadable_file_not_retried() {
	[ "$(id -u)" != 0 ] || skip "running as root: permissions do not stop reads"
	mknotes "$W/notes" 2
	printf 'a secret note about pangolins\n' >"$W/notes/secret.md"
	chmod 000 "$W/notes/secret.md"
	mx_ok add "$W/notes"
	mx index
	assert_rc 3 "memex index with an unreadable file"
	assert_match "$ERR" "^memex: cannot index '$W/notes/secret.md': " "memex index with an unreadable file"
	chmod 644 "$W/notes/secret.md"
	mx index
	[ "$RC" = 0 ] && [ "$(ndocs_ok)" = 3 ] ||
		fail "BUG: a file that could not be read is never retried once readable (chmod does not change mtime or size): exit $RC, $(ndocs_ok) documents ok" "$(last_output)"
}

t_bug_index_numeric_folder_name() {
	mkdir -p "$W/2024"
	printf 'a note about the year of the dragon\n' >"$W/2024/a.md"
	mx_ok add "$W/2024"
	mx index 2024
	[ "$RC" = 0 ] ||
		fail "BUG: 'memex index 2024' (a source folder named 2024, run from its parent) is taken as source id 2024 only: exit $RC: $ERR ('memex sources remove 2024' accepts it as a path)" "$(last_output)"
	assert_eq "$(ndocs_ok)" 1 "documents"
}

# ======================================================================
# 9. privacy
# ======================================================================

check_private_home() {
	local f
	assert_mode "$1" 700
	for f in "$1"/*; do
		[ -e "$f" ] || continue
		assert_mode "$f" 600
	done
	f=$(find "$1" -perm /077 2>/dev/null | head -n 5)
	[ -z "$f" ] || fail "files readable by others in the data home: $f" "$(ls -la "$1")"
}

t_privacy_umask() {
	local m
	for m in 022 000; do
		(
			umask "$m"
			export MEMEX_HOME="$W/home-$m"
			mknotes "$W/notes-$m" 3
			mx_ok add "$W/notes-$m"
			check_private_home "$MEMEX_HOME"
			mx_ok index
			mx_ok search zebra1x
			check_private_home "$MEMEX_HOME"
			mx_ok status
			check_private_home "$MEMEX_HOME"
		) || exit 1
	done
}

# ======================================================================
# more: content, citations, output hygiene
# ======================================================================

t_citations_and_lines() {
	mkdir -p "$W/notes"
	local i
	for ((i = 1; i <= 8000; i++)); do
		if [ $i = 5000 ]; then
			echo "line $i has the wombat marker"
		else
			echo "line $i of filler text about nothing in particular"
		fi
	done >"$W/notes/long.txt"
	printf -- '---\ntitle: Front Title\nauthor: Maya\ndate: 2026-01-02\n---\n\nfirst body line\n\nsecond para with quokka here\n' >"$W/notes/fm.md"
	printf 'crlf line one\r\ncrlf line two platypus\r\n' >"$W/notes/crlf.md"
	mx_ok add "$W/notes"
	mx_ok index
	mx_ok search wombat
	local a b
	a=$(printf '%s\n' "$OUT" | grep -oE 'long\.txt:[0-9]+-[0-9]+' | head -n1)
	[ -n "$a" ] || fail "no long.txt:A-B citation" "$(last_output)"
	b=${a##*-}
	a=${a#long.txt:}
	a=${a%-*}
	[ "$a" -le 5000 ] && [ "$b" -ge 5000 ] || fail "citation long.txt:$a-$b does not cover line 5000"
	[ $((b - a)) -lt 200 ] || fail "citation long.txt:$a-$b is not a passage"
	mx_ok search quokka
	assert_match "$OUT" '^1\. Front Title$' "the front matter title"
	a=$(printf '%s\n' "$OUT" | grep -oE 'fm\.md:[0-9]+-[0-9]+' | head -n1)
	b=${a##*-}
	a=${a#fm.md:}
	a=${a%-*}
	[ -n "$a" ] && [ "$a" -ge 6 ] && [ "$b" -ge 9 ] && [ "$b" -le 10 ] ||
		fail "citation fm.md:$a-$b should cover lines 7-9 of the file (after the front matter)" "$(last_output)"
	mx_ok search platypus
	assert_contains "$OUT" "crlf.md:1-2" "CRLF line numbers"
}

t_encodings() {
	mkdir -p "$W/notes"
	printf 'caf\351 au lait in latin1, gr\374n\n' >"$W/notes/latin1.txt"
	printf '\377\376h\000e\000l\000l\000o\000 \000u\000t\000f\000s\000i\000x\000t\000e\000e\000n\000\n\000' >"$W/notes/utf16.txt"
	printf '\357\273\277bom note about ibexes\n' >"$W/notes/bom.md"
	mx_ok add "$W/notes"
	mx_ok index
	mx_ok search cafe
	assert_contains "$OUT" "latin1.txt" "search cafe finds the Latin-1 file"
	mx_ok search café
	assert_contains "$OUT" "latin1.txt" "search café finds the Latin-1 file"
	assert_contains "$OUT" "café" "the snippet is UTF-8"
	mx_ok search utfsixteen
	assert_contains "$OUT" "utf16.txt" "search finds the UTF-16 file"
	mx_ok search ibexes
	assert_contains "$OUT" "bom.md" "search finds the file with a BOM"
	mx_ok status --json
	assert_eq "$(json_int failed)" 0 "failures"
}

t_weird_queries() {
	setup_notes 3
	local q
	while IFS= read -r q; do
		mx search -- "$q"
		case $RC in
		0) ;;
		2) assert_one_line_error "memex search '$q'" ;;
		*) fail "memex search '$q' exited $RC" "$(last_output)" ;;
		esac
		mx ask -- "$q"
		[ "$RC" = 0 ] || [ "$RC" = 2 ] || fail "memex ask '$q' exited $RC" "$(last_output)"
	done <<'EOF'
"
*
NEAR(
-zebra1x
zebra1x:
a:b
AND
OR zebra1x
NOT
(
)
^
"unterminated
zebra*
"note talks"
title:zebra1x
{
body:harbour
x"y
'
zebra1x OR zebra2x
NEAR(zebra1x harbour)
*zebra
.
🦘 ünïcödé 中文
a/b\c
%_%
EOF
	mx search "$(head -c 5000 /dev/zero | tr '\0' a)"
	[ "$RC" = 0 ] || [ "$RC" = 2 ] || fail "a 5000-byte query exited $RC" "$(last_output)"
	mx search -n 1000 harbour
	assert_rc 0 "search -n 1000"
	mx search --all-chunks harbour
	assert_rc 0 "search --all-chunks"
}

t_bug_control_chars_in_output() {
	mkdir -p "$W/notes"
	local evil=$'\033]0;pwned\007\033[2J'
	printf 'serval content\n' >"$W/notes/${evil}x.md"
	printf 'bad\000binary' >"$W/notes/${evil}bin.md"
	mx_ok add "$W/notes"
	mx -v index
	local bad=""
	grep -q $'[\033\007]' "$ERRF" && bad+="memex -v index (stderr); "
	mx search serval
	local shown
	shown=$(cat -v "$OUTF" | head -n 4)
	assert_contains "$OUT" "serval" "memex search serval"
	grep -q $'[\033\007]' "$OUTF" && bad+="memex search; "
	mx ask serval
	grep -q $'[\033\007]' "$OUTF" && bad+="memex ask; "
	mx status
	grep -q $'[\033\007]' "$OUTF" && bad+="memex status; "
	mx sources
	[ -n "$bad" ] || return 0
	fail "BUG: a file name with terminal escape sequences reaches the terminal raw in: $bad(snippets are cleaned, citations and paths are not)" \
		"memex search serval | cat -v:" "$shown"
}

t_bug_json_not_utf8() {
	mkdir -p "$W/notes"
	printf 'caracal content\n' >"$W/notes/"$'bad\377name.md'
	mx_ok add "$W/notes"
	mx_ok index
	mx_ok search --json caracal
	assert_contains "$OUT" "caracal" "memex search --json caracal"
	local invalid
	if command -v iconv >/dev/null 2>&1; then
		iconv -f UTF-8 -t UTF-8 "$OUTF" >/dev/null 2>&1 && return 0
	else
		invalid=$(LC_ALL=C.UTF-8 grep -caxv '.*' "$OUTF")
		[ "$invalid" = 0 ] && return 0
	fi
	fail "BUG: 'memex search --json' prints invalid UTF-8 (hence invalid JSON) for a file name that is not UTF-8" \
		"$(grep -a '"path"\|"title"' "$OUTF" | cat -v)"
}

t_bug_subsecond_edit() {
	mkdir -p "$W/notes"
	printf 'alpha version one\n' >"$W/notes/a.md"
	touch -d '2020-01-01 00:00:00.100000000' "$W/notes/a.md"
	case $(stat -c %y "$W/notes/a.md") in
	*.1000000*) ;;
	*) skip "the file system does not keep sub-second mtimes" ;;
	esac
	mx_ok add "$W/notes"
	mx_ok index
	printf 'alpha version two\n' >"$W/notes/a.md"
	touch -d '2020-01-01 00:00:00.900000000' "$W/notes/a.md"
	mx_ok index
	mx_ok search two
	assert_contains "$OUT" "a.md" \
		"BUG: an edit that keeps the size within the same second as the last index is never seen (mtime is compared in whole seconds; st_mtim has nanoseconds)"
}

# ======================================================================

# ======================================================================
# mail: filters, show, thread, charsets, contacts, bench
# ======================================================================

t_mail_filters_show_thread() {
	need_sample
	mx_ok add "$SAMPLE/mail"
	mx_ok index
	# folder: only the Maildir++ .Travel folder
	mx_ok search --json -n 50 folder:Travel
	assert_match "$OUT" '"path":"[^"]*/\.Travel/' "folder:Travel lists .Travel mail"
	if printf '%s\n' "$OUT" | grep '"path"' | grep -v '/\.Travel/' >/dev/null; then
		fail "folder:Travel listed mail from another folder" "$(last_output)"
	fi
	# is:unread: the messages in new/ (the sample marks everything in cur/ seen)
	mx_ok search --json -n 50 is:unread
	local unread
	unread=$(printf '%s\n' "$OUT" | grep -c '"path"')
	assert_eq "$unread" 4 "is:unread lists the 4 messages in new/"
	if printf '%s\n' "$OUT" | grep '"path"' | grep -v '/new/' >/dev/null; then
		fail "is:unread listed a message outside new/" "$(last_output)"
	fi
	# from: and after: combined with words
	mx_ok search --json from:majornatandvard dentist
	assert_contains "$OUT" "Majorna" "from:majornatandvard dentist"
	mx_ok search --json -n 10 from:majornatandvard after:2026-11-01 appointment
	assert_contains "$OUT" "rem-20261117-0940" "after:2026-11-01 keeps the November reminder"
	assert_not_contains "$OUT" "bk-20261117-0940" "after:2026-11-01 drops the October booking"
	mx_ok search --json subject:invoice
	assert_contains "$OUT" "electricity invoice" "subject:invoice"
	mx search after:2026-13-40 x
	assert_rc 2 "a bad date"
	assert_contains "$ERR" "is not a date" "a bad date"
	# the ISO-8859-1 message is searchable by its decoded words
	mx_ok search --json "Födelsedagsmiddag"
	assert_contains "$OUT" "Birgitta" "the Latin-1 message is found by its decoded subject"
	# show: headers and the whole text of a message
	mx_ok show "<K7QX4M.conf.20260805191406@skagerrak-air.example>"
	assert_contains "$OUT" "Subject:    Your booking confirmation K7QX4M" "memex show: subject"
	assert_contains "$OUT" "Folder:     Travel" "memex show: folder"
	assert_contains "$OUT" "SR 1471" "memex show: body"
	mx_ok show --json "K7QX4M.conf.20260805191406@skagerrak-air.example"
	assert_match "$OUT" '"text": *"' "memex show --json"
	mx show "<no-such-id@example.org>"
	assert_rc 1 "memex show of an unknown id"
	# threads: the cabin thread has 5 messages
	mx_ok search --json --threads -n 1 subject:cabin orust
	local tid
	tid=$(printf '%s\n' "$OUT" | sed -n 's/.*"thread_id":"\([0-9a-f]*\)".*/\1/p' | head -n1)
	[ -n "$tid" ] || fail "no thread_id in search --json" "$(last_output)"
	mx_ok thread --list "$tid"
	assert_contains "$OUT" "5 messages" "the cabin thread"
	mx_ok thread "$tid"
	assert_match "$OUT" '\[\.\.\. [0-9]+ quoted or signature lines? hidden' "thread folds quoted replies"
	mx_ok search --threads cabin
	assert_contains "$OUT" "thread $tid" "search --threads groups the cabin thread"
	# contacts come from the headers
	local c
	c=$(sql "SELECT count(*) FROM contacts WHERE name = 'Birgitta Åberg' AND messages >= 1")
	assert_eq "$c" 1 "the contacts view knows Birgitta Åberg"
	# bench: figures, for the sample Maildir
	mx_ok bench index --runs 2 "$SAMPLE/mail"
	assert_match "$OUT" 'documents/s' "memex bench index"
}

t_mbox_append_cli() {
	local box="$W/box.mbox" i
	: >"$box"
	for i in 1 2 3; do
		printf 'From ann@example.org Mon Nov  2 10:00:00 2026\n' >>"$box"
		mkmsg "Boxed $i" "box$i" "body number $i" >>"$box"
		printf '\n' >>"$box"
	done
	mx_ok add "$box"
	assert_contains "$OUT" "Added mbox source" "memex add of an mbox"
	mx_ok index --json
	assert_match "$OUT" '"added": *3' "three messages read"
	printf 'From ann@example.org Mon Nov  2 11:00:00 2026\n' >>"$box"
	mkmsg "Boxed 4" "box4" "the appended message" >>"$box"
	mx_ok index --json
	assert_match "$OUT" '"added": *1' "only the appended message is read"
	mx_ok search appended
	assert_contains "$OUT" "Boxed 4" "the appended message is found"
	mx_ok show "<box2@example.org>"
	assert_contains "$OUT" "body number 2" "show reads a message back from the mbox"
}

t_shared_mail_all() {
	# every message of every mail corpus, under whatever build runs the
	# suite (the ASan one in 'make test'): no crash, hang or report
	need_shared
	local d f
	for d in crymap-mime-testdata gmime-testdata mime4j-testmsgs mimekit-testdata mu-testdata notmuch-corpora; do
		mx_ok add --type maildir "$SHARED/data/mail/$d"
	done
	for f in "$SHARED"/data/mail/mime4j-mbox-rlug/test-1/mbox.rlug*; do
		mx_ok add --type mbox "$f"
	done
	mx index
	assert_rc 3 "indexing every shared mail corpus (non-mail files are recorded)"
	assert_match "$OUT" '^Indexed: [0-9]+ files, [0-9]+ added' "indexing every shared mail corpus"
	assert_index_consistent
	local ok
	ok=$(sql "SELECT count(*) FROM documents WHERE type = 'mail' AND status = 'ok'")
	[ "$ok" -ge 450 ] 2>/dev/null || fail "only $ok mail documents from the shared corpora"
	# the ISO-8859-2 mbox decodes: no U+FFFD in its text
	local bad
	bad=$(sql "SELECT count(*) FROM chunks c JOIN documents d ON d.id = c.doc_id JOIN sources s ON s.id = d.source_id WHERE s.path LIKE '%mbox.rlug%' AND instr(c.text, char(65533)) > 0")
	assert_eq "$bad" 0 "the ISO-8859-2 mbox decodes without replacement characters"
}

t_shared_docs_all() {
	# every shared document indexes or is recorded with a reason, with
	# citations that carry pages and headings
	need_shared
	mx_ok add "$SHARED/data/docs/unstructured-example-docs" "$SHARED/data/docs/pandoc-testfiles"
	mx index
	[ "$RC" -eq 0 ] || [ "$RC" -eq 3 ] || fail "index of the shared documents exited $RC" "$(last_output)"
	assert_index_consistent
	local noreason
	noreason=$(sql "SELECT count(*) FROM documents WHERE status <> 'ok' AND coalesce(error, '') = ''")
	assert_eq "$noreason" 0 "every document not indexed has a reason"
	local t n
	for t in docx pptx xlsx odt epub pdf rtf html; do
		n=$(sql "SELECT count(*) FROM documents WHERE type = '$t' AND status = 'ok'")
		[ "$n" -ge 2 ] 2>/dev/null || fail "fewer than 2 $t documents indexed ($n)"
	done
	mx_ok search -n 3 type:pdf "layout parser"
	assert_match "$OUT" '\.pdf p\. [0-9]+' "a PDF hit cites its page"
	mx_ok search -n 3 type:docx headers
	assert_match "$OUT" '\.docx § ' "a docx hit cites its heading"
	mx_ok search -n 5 type:xlsx
	assert_match "$OUT" '\.xlsx' "type:xlsx lists spreadsheets"
	mx_ok status --all
	assert_contains "$OUT" "image-only PDF" "status names image-only PDFs"
}

t_hostile_documents() {
	# XXE, billion laughs and a zip bomb in a notes folder: refused or
	# inert within seconds, and nothing of /etc/passwd in the index
	local d="$W/notes"
	mkdir -p "$d"
	printf '<?xml version="1.0"?>\n<!DOCTYPE html [<!ENTITY x SYSTEM "file:///etc/passwd">]>\n<html><body><p>xxe &x; probe</p></body></html>\n' >"$d/xxe.xhtml"
	{
		printf '<?xml version="1.0"?>\n<!DOCTYPE lolz [\n<!ENTITY lol "lol">\n'
		local i prev=lol
		for i in 1 2 3 4 5 6 7 8 9; do
			printf '<!ENTITY lol%s "' "$i"
			printf '&%s;' $prev $prev $prev $prev $prev $prev $prev $prev $prev $prev
			printf '">\n'
			prev=lol$i
		done
		printf ']>\n<html><body><p>laughs &lol9;</p></body></html>\n'
	} >"$d/lol.xhtml"
	# 300 MB of zeros in a tar.gz of about 300 KB: a compression bomb
	head -c 300000000 /dev/zero >"$W/zeros.bin"
	tar -C "$W" -czf "$d/bomb.tar.gz" zeros.bin
	rm -f "$W/zeros.bin"
	local start=$SECONDS
	mx_ok add "$d"
	mx index
	[ $((SECONDS - start)) -lt 30 ] || fail "hostile files took $((SECONDS - start)) s"
	[ "$RC" -eq 0 ] || [ "$RC" -eq 3 ] || fail "index exited $RC" "$(last_output)"
	local leaked
	leaked=$(sql "SELECT count(*) FROM chunks WHERE text LIKE '%root:%' OR text LIKE '%/bin/%sh%'")
	assert_eq "$leaked" 0 "nothing of /etc/passwd is in the index"
	mx_ok search probe
	assert_contains "$OUT" "xxe.xhtml" "the XXE file is indexed without its entity"
	local why
	why=$(sql "SELECT error FROM documents WHERE path = 'bomb.tar.gz'")
	assert_match "$why" 'expands|over|bomb' "the archive bomb is recorded with the reason"
}

t_eval_beir_small() {
	local b="$W/beir"
	mkdir -p "$b/qrels"
	printf '%s\n' '{"_id": "d1", "title": "Apples", "text": "Apple trees grow in orchards."}' \
		'{"_id": "d2", "title": "Harbours", "text": "Ships dock in the harbour at night."}' \
		'{"_id": "d3", "title": "Teeth", "text": "The dentist checks teeth twice a year."}' >"$b/corpus.jsonl"
	printf '%s\n' '{"_id": "q1", "text": "where do apple trees grow"}' \
		'{"_id": "q2", "text": "ships in a harbour"}' >"$b/queries.jsonl"
	printf 'query-id\tcorpus-id\tscore\nq1\td1\t1\nq2\td2\t1\n' >"$b/qrels/test.tsv"
	mx_ok eval beir --mode bm25 "$b"
	assert_match "$OUT" 'bm25 +2 +1\.0000 +1\.0000 +1\.0000' "BM25 finds both judged documents first"
	mx_ok eval beir --mode bm25 --json "$b"
	assert_match "$OUT" '"ndcg@10": *1' "eval --json"
	mx eval beir "$W/nothing-here"
	assert_rc 1 "eval of a missing folder"
}

t_model_and_embeddings() {
	# without a model: BM25, and model info says how to get one
	mx_ok model info
	assert_contains "$OUT" "No embedder" "model info without a model"
	mx search --mode dense anything
	[ "$RC" -ne 0 ] || fail "dense search without an embedder succeeded"
	local gguf="$REPO/build/use-lite/use-lite.gguf"
	if [ ! -f "$gguf" ]; then
		skip "no converted USE-Lite model (make model)"
	fi
	mkdir -p "$W/notes"
	printf '# Dentist\n\nThe check-up with Dr Ahlgren is on Tuesday at 09:40.\n' >"$W/notes/health.md"
	printf '# Boats\n\nThe ferry leaves the harbour at noon.\n' >"$W/notes/boats.md"
	printf 'embedder = %s\n' "$gguf" >"$W/config"
	export MEMEX_CONFIG="$W/config"
	mx_ok add "$W/notes"
	mx_ok index
	assert_contains "$OUT" "Embedded: 2 chunks" "index embeds new chunks"
	local nv
	nv=$(sql "SELECT count(*) FROM vectors v JOIN vectors_i8 q USING (model_id, chunk_id)")
	assert_eq "$nv" 2 "float and int8 vectors are stored"
	mx_ok search --mode dense -n 1 "when is my tooth appointment"
	assert_contains "$OUT" "health.md" "dense search finds a paraphrase"
	mx_ok search -n 1 dentist
	assert_contains "$OUT" "health.md" "hybrid (the default with vectors) search"
	mx_ok model info
	assert_contains "$OUT" "dimensions:  512" "model info"
	mx_ok reembed
	assert_contains "$OUT" "Re-embedded: 0 chunks" "reembed with nothing new"
}

CASES=(
	help_every_command version unknown_command no_arguments usage_errors
	commands_before_init
	init_creates_private_home init_home_locations
	sample_index_search_ask
	incremental index_full_and_json index_one_source
	kill9_mid_index sigint_mid_index read_while_indexing
	add_missing_path add_fifo add_empty_file fifo_and_empty_in_notes
	size_cap_config size_cap_memex_config binary_md
	corrupt_db corrupt_db_pages newer_db readonly_home config_errors
	shared_corpora
	sources_and_forget source_folder_vanished symlinks
	single_file_eml_and_mbox maildir_flags_and_folders odd_content empty_source
	unreadable_folder
	privacy_umask
	citations_and_lines encodings weird_queries
	bug_size_cap_not_retried bug_corrupt_db_pages_messages
	bug_forget_root
	bug_control_chars_in_output bug_json_not_utf8 bug_subsecond_edit
	bug_single_file_note_source bug_status_path_single_file
	bug_unreadable_file_not_retried bug_index_numeric_folder_name
	mail_filters_show_thread mbox_append_cli shared_mail_all shared_docs_all
	hostile_documents eval_beir_small model_and_embeddings
)

# More cases live in tests/cli/cases_AREA.sh, one file per area: each
# defines its t_ functions and appends their names with CASES+=(...).
for f in "$HERE"/cases_*.sh; do
	[ -e "$f" ] || continue
	# shellcheck disable=SC1090
	. "$f"
done

for c in "${CASES[@]}"; do
	run_case "$c"
done

# every t_ function must be listed above
if [ ${#ONLY[@]} -eq 0 ]; then
	for f in $(declare -F | sed -n "s/^declare -f t_//p"); do
		case " ${CASES[*]} " in
		*" $f "*) ;;
		*)
			echo "FAIL suite: t_$f is not in CASES"
			FAILS=$((FAILS + 1))
			;;
		esac
	done
fi

echo "# $(basename "$MEMEX") in $(($(date +%s) - T_START)) s, $SKIPS skipped" >&2
echo "$PASS passed, $FAILS failed"
[ "$FAILS" -eq 0 ]
