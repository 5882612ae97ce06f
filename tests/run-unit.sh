#!/bin/sh
# Runs each cmocka test binary; prints one closing tally for all of them.
# UNIT_RUNNER, if set, is put before each binary (make valgrind uses it).
set -u
runner=${UNIT_RUNNER:-}
passed=0 failed=0
for t in "$@"; do
	if out=$(CMOCKA_MESSAGE_OUTPUT=stdout $runner "$t" 2>&1); then
		status=0
	else
		status=$?
	fi
	n_pass=$(printf '%s\n' "$out" | grep -c '^\[       OK \]')
	n_run=$(printf '%s\n' "$out" | grep -c '^\[ RUN      \]')
	n_fail=$((n_run - n_pass))
	passed=$((passed + n_pass))
	failed=$((failed + n_fail))
	if [ "$status" -ne 0 ]; then
		printf '%s\n' "$out"
		[ "$n_fail" -eq 0 ] && failed=$((failed + 1))
		echo "FAILED: $t (exit $status)"
	fi
done
echo "unit: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
