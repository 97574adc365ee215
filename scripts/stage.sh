# Sourced by the Makefile's test recipe (one shell, .ONESHELL): `stage NAME COMMAND...` runs
# one stage of `make test` quietly and prints one line for it; `summary` prints the closing
# "N passed, N failed" line and fails when a stage failed. A stage's output is shown only
# when it fails (go test's whole output, without the fuzzer's progress lines). Every stage
# runs even after one fails, so that one run tells everything.
# shellcheck shell=bash

_stage_passed=0
_stage_failed=0
_stage_failures=""
_stage_logs=$(mktemp -d "${TMPDIR:-/tmp}/ordergate-make-test.XXXXXX")
trap 'rm -rf "$_stage_logs"' EXIT

# _stage_detail summarizes a stage's log: packages of a go test run, executions of a fuzz
# run, else the last line the stage printed.
_stage_detail() {
	local log=$1 ok failed tests execs
	ok=$(grep -c '^ok ' "$log" || true)
	failed=$(grep -c $'^FAIL\t' "$log" || true)
	tests=$(grep -c '^--- FAIL' "$log" || true)
	execs=$({ grep -o 'execs: [0-9]*' "$log" || true; } | tail -n 1 | cut -d' ' -f2)
	if [ -n "$execs" ]; then
		printf '%s executions' "$execs"
	elif [ "$ok" -gt 0 ] || [ "$failed" -gt 0 ]; then
		printf '%d packages ok, %d failed' "$ok" "$failed"
		[ "$tests" -gt 0 ] && printf ' (%d failed tests)' "$tests"
	else # another tool: its last line, when it says something (govulncheck's summary)
		{ grep -v '^[[:space:]]*$' "$log" || true; } | tail -n 1 | cut -c1-160
	fi
	return 0
}

stage() {
	local name=$1
	shift
	local log="$_stage_logs/$(printf '%s' "$name" | tr -c 'A-Za-z0-9_.-' '_').log"
	local start=$SECONDS status=0
	"$@" >"$log" 2>&1 || status=$?
	local took=$((SECONDS - start))
	local detail
	detail=$(_stage_detail "$log")
	if [ "$status" -eq 0 ]; then
		_stage_passed=$((_stage_passed + 1))
		printf 'ok    %-24s %4ds%s\n' "$name" "$took" "${detail:+  $detail}"
		return 0
	fi
	_stage_failed=$((_stage_failed + 1))
	_stage_failures="$_stage_failures $name"
	printf 'FAIL  %-24s %4ds%s (exit status %d); its output:\n' "$name" "$took" "${detail:+  $detail}" "$status"
	{ grep -v '^fuzz: elapsed:' "$log" || true; } | sed 's/^/    /'
	return 0
}

summary() {
	printf '\nmake test: %d passed, %d failed%s\n' "$_stage_passed" "$_stage_failed" \
		"${_stage_failures:+ (failed:$_stage_failures)}"
	[ "$_stage_failed" -eq 0 ]
}
