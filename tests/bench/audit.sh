#!/bin/sh
# sealtip audit throughput: tests/bench/audit.sh BUILD
# Makes a database of about 256 MiB with the real sealtipd (32 envelopes of
# 8 MiB, plus 200 small ones so the tree and checkpoints count too), then
# runs bench_audit on it.
set -eu
BUILD=${1:-build}
make --no-print-directory "$BUILD/bench/bench_audit" >/dev/null
work=$(mktemp -d "${TMPDIR:-/tmp}/sealtip-bench-audit.XXXXXX")
pid=
: >"$work/out"
cleanup() {
	[ -n "$pid" ] && kill "$pid" 2>/dev/null || :
	rm -rf "$work"
}
trap cleanup EXIT
pub=tests/vectors/shared/alice.pub
"$BUILD/sealtipd" --data "$work/data" --listen 127.0.0.1:0 --recipient "$pub" \
	--web "$work" --pow-bits 0 >"$work/out" 2>&1 &
pid=$!
i=0
while ! grep -q '^listening on' "$work/out"; do
	i=$((i + 1)); [ $i -lt 100 ] || { cat "$work/out"; exit 1; }
	sleep 0.1
done
url=$(sed -n 's|^listening on \(http://[^/]*\)/$|\1|p' "$work/out")
head -c $((8 * 1024 * 1024 - 4096)) /dev/urandom >"$work/evidence.bin"
"$BUILD/sealtip" seal -r "$pub" --field what=bench --file "$work/evidence.bin" -o "$work/big.env"
"$BUILD/sealtip" seal -r "$pub" --field what=bench -o "$work/small.env"
post() {
	curl -sf -o /dev/null --data-binary @"$1" -H 'Content-Type: application/octet-stream' \
		"$url/api/v1/reports"
}
for i in $(seq 32); do post "$work/big.env"; done
seq 200 | xargs -P 16 -I{} curl -sf -o /dev/null --data-binary @"$work/small.env" \
	-H 'Content-Type: application/octet-stream' "$url/api/v1/reports"
kill "$pid"
wait "$pid" || :
pid=
checkpoints=$(sqlite3 "file:$work/data/reports.db?immutable=1" "SELECT count(*) FROM checkpoints" 2>/dev/null || echo "?")
echo "database: $(du -m "$work/data/reports.db" | cut -f1) MiB, $checkpoints signed checkpoints (each an Ed25519 verification)"
"$BUILD/bench/bench_audit" "$BUILD/sealtip" "$work/data/reports.db" 3
