#!/bin/sh
# make bench: benchmarks, each printed as a ratio to a raw limit measured in
# the same run. Not tests: nothing here fails on a slow machine.
set -eu
BUILD=${1:-build}
work=$(mktemp -d "${TMPDIR:-/tmp}/sealtip-bench.XXXXXX")
# Output on tmpfs when there is one: the bench measures sealtip, not the disk.
out=/dev/shm/sealtip-bench-out.$$
[ -d /dev/shm ] || out=$work/out
trap 'rm -rf "$work" "$out"' EXIT

echo "== SHA-256 (attachments are hashed as they are opened)"
"$BUILD/bench/bench_sha256" 3

"$BUILD/bench/bench_pow"

echo "== sealtip open, 256 MiB envelope"
"$BUILD/sealtip" keygen --unprotected -o "$work/bench" >/dev/null 2>&1
head -c $((256 * 1024 * 1024 - 4096)) /dev/urandom > "$work/evidence.bin"
"$BUILD/sealtip" seal -r "$work/bench.pub" --field what=bench --file "$work/evidence.bin" \
	-o "$work/bench.env"
rm -f "$work/evidence.bin"
"$BUILD/bench/bench_open" "$BUILD/sealtip" "$work/bench.key" "$work/bench.env" "$out"

echo "== sealtipd durable submissions (on the repository's disk: it measures fsync)"
sh tests/bench/server.sh "$BUILD"

echo "== the page: sealing in headless Chromium, with and without WebAssembly, vs sealtip seal"
SEALTIP_BUILD="$BUILD" node tests/browser/bench.js 100 100

echo "== the page: proof-of-work solver in headless Chromium, with and without JIT"
SEALTIP_BUILD="$BUILD" node tests/browser/bench_pow.js 2

echo "== the log: proofs and checkpoint signatures at 10^6 entries"
"$BUILD/bench/bench_tlog" "$work" 1000000

echo "== sealtip audit throughput vs raw SHA-256"
sh tests/bench/audit.sh "$BUILD"
