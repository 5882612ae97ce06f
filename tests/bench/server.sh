#!/bin/sh
# sealtipd throughput and memory: tests/bench/server.sh BUILD
# Runs on the repository's disk (not /tmp or tmpfs): the figures are about fsync.
set -eu
BUILD=${1:-build}
work=$(mktemp -d "$BUILD/bench-server.XXXXXX")
trap 'rm -rf "$work"' EXIT
"$BUILD/bench/bench_server" "$BUILD/sealtipd" tests/vectors/shared/alice.pub "$work"
