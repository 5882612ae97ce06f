#!/bin/sh
# Runs libFuzzer targets one after the other (make fuzz): run.sh FUZZ_DIR
# SECONDS 'EXTRA FLAGS' TARGET... New inputs go to FUZZ_DIR/corpus/TARGET
# (scratch), crashes to FUZZ_DIR/artifacts/TARGET/; the repository's seeds in
# tests/fuzz/corpus/TARGET are read only. Prints executions and findings per
# target and exits 1 when any target found something.
set -u
root=$(pwd)
dir=$1 seconds=$2 flags=$3
shift 3
case $dir in /*) ;; *) dir=$root/$dir ;; esac
found=0
summary=""
for t in "$@"; do
	scratch=$dir/corpus/$t
	artifacts=$dir/artifacts/$t
	log=$dir/logs/$t.log
	# With -jobs, libFuzzer writes fuzz-N.log into the current folder: that
	# is this one, not the repository.
	jobs=$dir/logs/$t.jobs
	mkdir -p "$scratch" "$artifacts" "$jobs"
	opts=""
	[ -f "tests/fuzz/$t.options" ] && opts=$(grep -v '^#' "tests/fuzz/$t.options" | tr '\n' ' ')
	dict=""
	[ -f "tests/fuzz/dict/$t.dict" ] && dict="-dict=$root/tests/fuzz/dict/$t.dict"
	echo "fuzz: $t for ${seconds}s (log: $log)"
	before=$(ls "$artifacts" | wc -l)
	# shellcheck disable=SC2086 # options are words on purpose
	(cd "$jobs" && exec "$dir/$t" -max_total_time="$seconds" -print_final_stats=1 \
		-timeout=20 -artifact_prefix="$artifacts/" $dict $opts $flags \
		"$scratch" "$root/tests/fuzz/corpus/$t") >"$log" 2>&1
	status=$?
	execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -n 1)
	rate=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$log" | tail -n 1)
	cov=$(grep -E '^#[0-9]+.*(DONE|pulse|NEW|REDUCE)' "$log" | tail -n 1 |
		sed -n 's/.*cov: \([0-9]*\).*ft: \([0-9]*\).*corp: \([^ ]*\).*/cov \1 ft \2 corpus \3/p')
	after=$(ls "$artifacts" | wc -l)
	new=$((after - before))
	line="$t: ${execs:-?} executions (${rate:-?}/s), ${cov:-no stats}, exit $status, $new new finding(s)"
	if [ "$status" -ne 0 ] || [ "$new" -gt 0 ]; then
		found=1
		grep -E '^(==[0-9]+==ERROR|SUMMARY|.*runtime error)' "$log" | head -n 5
		ls -t "$artifacts" | head -n "$((new > 0 ? new : 1))" | sed "s|^|  artifact: $artifacts/|"
	fi
	echo "$line"
	summary="$summary$line
"
done
echo
echo "fuzz summary:"
printf '%s' "$summary"
exit "$found"
