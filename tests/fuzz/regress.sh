#!/bin/sh
# make fuzz-regress: regress.sh DIR TARGET... runs DIR/TARGET (the gcc
# ASan+UBSan build with standalone.c) on every file of tests/fuzz/corpus/TARGET
# and tests/fuzz/regressions/TARGET; exits non-zero on the first failure.
# Then replays each file of tests/fuzz/known-bugs/TARGET alone and says
# whether it still crashes, without failing: those are bugs reported and not
# fixed yet, and one that stopped crashing should move to regressions/.
set -eu
dir=$1
shift
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1}

for t in "$@"; do
	"$dir/$t" "tests/fuzz/corpus/$t" "tests/fuzz/regressions/$t"
done

for t in "$@"; do
	[ -d "tests/fuzz/known-bugs/$t" ] || continue
	for f in "tests/fuzz/known-bugs/$t"/*; do
		[ -f "$f" ] || continue
		if ASAN_OPTIONS=detect_leaks=1 "$dir/$t" "$f" >/dev/null 2>&1; then
			echo "known bug $f no longer crashes: move it to tests/fuzz/regressions/$t/"
		else
			echo "known bug still present: $f (see tests/fuzz/known-bugs/README.md)"
		fi
	done
done
