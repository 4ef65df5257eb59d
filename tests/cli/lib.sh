# tests/cli/lib.sh - helpers for the memex CLI tests (sourced by run.sh).
#
# Every case runs in its own subshell (see run_case in run.sh), so an
# assertion that fails simply prints the reason and exits that subshell:
#   exit 0   the case passed
#   exit 1   the case failed; the first line printed is the reason, the
#            rest is the relevant output
#   exit 77  the case was skipped; the first line printed is the reason
#
# Globals set by run/mx: RC (exit status), OUT (stdout), ERR (stderr),
# with the raw bytes in "$OUTF" and "$ERRF".

# Seconds any single memex command may take before it counts as hung.
: "${CMD_TIMEOUT:=60}"

# ---- outcome -----------------------------------------------------------

fail() {
	printf '%s\n' "$@"
	exit 1
}

skip() {
	printf '%s\n' "$1"
	exit 77
}

# The last command's output, for failure messages (truncated).
last_output() {
	printf -- '--- command: %s (exit %s)\n' "${LASTCMD:-?}" "${RC:-?}"
	printf -- '--- stdout:\n'
	head -n 40 "$OUTF" 2>/dev/null
	printf -- '--- stderr:\n'
	head -n 40 "$ERRF" 2>/dev/null
}

# ---- running commands --------------------------------------------------

# run CMD ARGS...: runs a command with stdin from /dev/null, capturing
# stdout, stderr and the exit status.
run() {
	LASTCMD="$*"
	"$@" >"$OUTF" 2>"$ERRF" </dev/null
	RC=$?
	# shellcheck disable=SC2034 # OUT, ERR: read by the cases
	OUT=$(cat "$OUTF")
	ERR=$(cat "$ERRF")
}

# Fails the case when memex's stderr carries a sanitizer report.
check_sanitizers() {
	if grep -qE 'ERROR: AddressSanitizer|ERROR: LeakSanitizer|runtime error:|UndefinedBehaviorSanitizer|AddressSanitizer:DEADLYSIGNAL' "$ERRF" 2>/dev/null; then
		fail "sanitizer report from: memex $* (exit $RC)" "$(head -n 16 "$ERRF")"
	fi
}

# mx ARGS...: runs memex with a timeout; checks for sanitizer reports and
# hangs.
mx() {
	run timeout -k 5 "$CMD_TIMEOUT" "$MEMEX" "$@"
	LASTCMD="memex $*"
	check_sanitizers "$@"
	if [ "$RC" -eq 124 ] || [ "$RC" -eq 137 ]; then
		fail "memex $* did not finish within ${CMD_TIMEOUT}s (exit $RC)" "$(last_output)"
	fi
}

# mx_ok ARGS...: mx and expect exit 0.
mx_ok() {
	mx "$@"
	[ "$RC" -eq 0 ] || fail "memex $* exited $RC, expected 0" "$(last_output)"
}

# ---- assertions --------------------------------------------------------

# assert_rc EXPECTED [WHAT]: the last command's exit status.
assert_rc() {
	[ "$RC" -eq "$1" ] || fail "${2:-$LASTCMD}: exit $RC, expected $1" "$(last_output)"
}

# assert_eq ACTUAL EXPECTED WHAT
assert_eq() {
	[ "$1" = "$2" ] || fail "$3: got '$1', expected '$2'" "$(last_output)"
}

# assert_contains HAYSTACK NEEDLE WHAT (fixed string)
assert_contains() {
	case "$1" in
	*"$2"*) ;;
	*) fail "$3: '$2' not found" "$(last_output)" ;;
	esac
}

# assert_not_contains HAYSTACK NEEDLE WHAT (fixed string)
assert_not_contains() {
	case "$1" in
	*"$2"*) fail "$3: '$2' found but should not be" "$(last_output)" ;;
	*) ;;
	esac
}

# assert_match HAYSTACK ERE WHAT
assert_match() {
	printf '%s\n' "$1" | grep -qE -- "$2" || fail "$3: no line matches /$2/" "$(last_output)"
}

# assert_no_match HAYSTACK ERE WHAT
assert_no_match() {
	if printf '%s\n' "$1" | grep -qE -- "$2"; then
		fail "$3: a line matches /$2/ but none should" "$(last_output)"
	fi
}

# assert_one_line_error [WHAT]: stderr of the last command is exactly one
# line starting with "memex: ".
assert_one_line_error() {
	local n
	n=$(wc -l <"$ERRF")
	[ -s "$ERRF" ] || fail "${1:-$LASTCMD}: no error message on stderr" "$(last_output)"
	[ "$n" -eq 1 ] || fail "${1:-$LASTCMD}: error is $n lines, expected one" "$(last_output)"
	case "$ERR" in
	"memex: "*) ;;
	*) fail "${1:-$LASTCMD}: error does not start with 'memex: '" "$(last_output)" ;;
	esac
}

# assert_mode PATH MODE (octal, as stat -c %a prints it)
assert_mode() {
	local m
	m=$(stat -c %a "$1" 2>/dev/null) || fail "$1 does not exist"
	[ "$m" = "$2" ] || fail "mode of $1 is $m, expected $2" "$(ls -la "$(dirname "$1")")"
}

# ---- the index ---------------------------------------------------------

db() { printf '%s/index.db' "$MEMEX_HOME"; }

# sql QUERY: prints the result of a query on the index.
sql() {
	sqlite3 -batch "$(db)" "$1" 2>&1
}

ndocs() { sqlite3 -batch "$(db)" 'SELECT count(*) FROM documents' 2>/dev/null || echo "?"; }
ndocs_ok() { sqlite3 -batch "$(db)" "SELECT count(*) FROM documents WHERE status='ok'" 2>/dev/null || echo "?"; }

sha() { sha256sum "$1" | cut -d' ' -f1; }

# json_int KEY: the first integer value of "KEY" in the last stdout.
json_int() {
	grep -oE "\"$1\": *-?[0-9]+" "$OUTF" | head -n1 | grep -oE -- '-?[0-9]+$'
}

# Structural checks shared by several cases: no duplicate documents, and
# the FTS table in step with chunks.
assert_index_consistent() {
	local v
	v=$(sql 'PRAGMA integrity_check')
	[ "$v" = ok ] || fail "PRAGMA integrity_check: $v"
	v=$(sql 'SELECT count(*) FROM (SELECT source_id, path, part FROM documents GROUP BY 1, 2, 3 HAVING count(*) > 1)')
	[ "$v" = 0 ] || fail "$v duplicate (source_id, path, part) in documents"
	v=$(sql 'SELECT (SELECT count(*) FROM chunks) - (SELECT count(*) FROM chunks_fts)')
	[ "$v" = 0 ] || fail "chunks and chunks_fts differ by $v rows"
	v=$(sql 'SELECT count(*) FROM chunks_fts f LEFT JOIN chunks c ON c.id = f.rowid WHERE c.id IS NULL')
	[ "$v" = 0 ] || fail "$v rows of chunks_fts have no chunk"
	v=$(sql 'SELECT count(*) FROM chunks c LEFT JOIN documents d ON d.id = c.doc_id WHERE d.id IS NULL')
	[ "$v" = 0 ] || fail "$v chunks have no document"
}

# ---- data --------------------------------------------------------------

# mknotes DIR N: N small markdown notes n1.md..nN.md, note i holding the
# unique word "zebra<i>x".
mknotes() {
	local dir=$1 n=$2 i
	mkdir -p "$dir"
	for ((i = 1; i <= n; i++)); do
		printf '# Note %d\n\nThis note talks about the harbour and zebra%dx.\n' "$i" "$i" >"$dir/n$i.md"
	done
}

# mkcorpus DIR N: N markdown notes of a few KB each (several paragraphs),
# note i holding the unique word "walrus<i>x". Large enough that indexing
# 3000 of them takes a noticeable time even in the plain build.
mkcorpus() {
	local dir=$1 n=$2 i p body=""
	mkdir -p "$dir"
	for ((p = 1; p <= 16; p++)); do
		body+="Paragraph $p talks about the harbour, the ferry to the islands and the lighthouse keepers who read the tide tables by lamplight every evening. "
		body+="Lorem ipsum dolor sit amet, consectetur adipiscing elit, sed do eiusmod tempor incididunt ut labore et dolore magna aliqua."$'\n\n'
	done
	for ((i = 1; i <= n; i++)); do
		printf '# Note %d\n\n%s\nThe marker of this note is walrus%dx.\n' "$i" "$body" "$i" >"$dir/n$i.md"
	done
}
