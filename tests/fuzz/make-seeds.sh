#!/bin/sh
# Regenerates the seed corpora in tests/fuzz/corpus/ from the test vectors,
# fresh key files and hand-written inputs. Run from the repository root after
# `make` (it uses build/sealtip, and build/sealtipd for the answers of
# fuzz_httpclient). Key files are random, so a run changes them:
# commit the result only when the seeds themselves needed to change.
set -eu
out=tests/fuzz/corpus
tmp=$(mktemp -d)
srv=""
trap '[ -z "$srv" ] || kill "$srv" 2>/dev/null; rm -rf "$tmp"' EXIT
sealtip=${SEALTIP:-build/sealtip}
sealtipd=${SEALTIPD:-build/sealtipd}
pass="correct horse battery staple" # FUZZ_PASSPHRASE in fuzz_keyfile.c

cc -std=c17 -D_GNU_SOURCE -O1 -Icrypto -o "$tmp/seedgen" tests/fuzz/seedgen.c \
	crypto/exportfile.c crypto/keyfile.c crypto/status.c crypto/sha256.c crypto/envelope.c \
	crypto/padme.c crypto/note.c crypto/tlog.c crypto/utf8.c $(pkg-config --cflags --libs libsodium)

for t in fuzz_envelope fuzz_payload fuzz_keyfile fuzz_exportfile fuzz_config fuzz_request \
	fuzz_note fuzz_httpclient; do
	rm -rf "${out:?}/$t"
	mkdir -p "$out/$t"
done

# fuzz_envelope: control byte (how the input is split) || envelope. Every
# vector fed whole (0x00); the small ones also in a second split.
i=0
for f in tests/vectors/shared/*.env tests/vectors/own/*.env; do
	b=$(basename "$f" .env)
	d=$(basename "$(dirname "$f")")
	{ printf '\000'; cat "$f"; } >"$out/fuzz_envelope/$d-$b"
	if [ "$(wc -c <"$f")" -lt 8192 ]; then
		i=$((i + 1))
		c=$(printf '%03o' $(((i * 37) % 255 + 1)))
		{ printf "\\$c"; cat "$f"; } >"$out/fuzz_envelope/$d-$b-split"
	fi
done

# fuzz_payload: the decrypted payloads of the own vectors, and edge cases.
for f in tests/vectors/own/*.payload; do
	cp "$f" "$out/fuzz_payload/$(basename "$f")"
done
: >"$out/fuzz_payload/empty"
printf '\000\000\000\000' >"$out/fuzz_payload/zero-manifest-length"
m='{"v":1,"form":"f","lang":"en","fields":{"a":"b","c":["d","e"]},"files":[{"name":"x.txt","type":"text/plain","size":3,"sha256":"ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"}]}'
{
	printf '%b' "\\$(printf '%03o' ${#m})\\000\\000\\000"
	printf '%s' "$m"
	printf 'abc'
} >"$tmp/p"
# Pad to the Padmé length of what was written.
python3 - "$tmp/p" "$out/fuzz_payload/one-file-padded" <<'EOF'
import sys
data = open(sys.argv[1], 'rb').read()
L = len(data)
E = L.bit_length() - 1
S = E.bit_length()
z = E - S
mask = (1 << z) - 1
open(sys.argv[2], 'wb').write(data + bytes(((L + mask) & ~mask) - L))
EOF
printf '{"v":1,"form":"f","lang":"km","fields":{},"files":[]}' >"$out/fuzz_payload/manifest-alone"

# fuzz_keyfile: public keys, and secret keys of each kind. The low-cost
# protected ones are what the fuzz build can open with its KDF cap.
cp tests/vectors/shared/*.pub tests/vectors/own/*.pub "$out/fuzz_keyfile/"
printf '%s\n' "$pass" >"$tmp/pass"
"$sealtip" keygen --unprotected -o "$tmp/unprot" >/dev/null
"$sealtip" keygen --passphrase-file "$tmp/pass" --kdf interactive -o "$tmp/inter" >/dev/null
cp "$tmp/unprot.key" "$out/fuzz_keyfile/unprotected.key"
cp "$tmp/unprot.pub" "$out/fuzz_keyfile/unprotected.pub"
cp "$tmp/inter.key" "$out/fuzz_keyfile/interactive.key"
"$tmp/seedgen" key "$pass" 1 8192 >"$out/fuzz_keyfile/cheap-1-8k.key"
"$tmp/seedgen" key "$pass" 2 65536 >"$out/fuzz_keyfile/cheap-2-64k.key"
"$tmp/seedgen" key "another passphrase" 1 8192 >"$out/fuzz_keyfile/cheap-wrong-passphrase.key"
head -c -1 "$out/fuzz_keyfile/alice.pub" >"$out/fuzz_keyfile/alice-no-final-newline.pub"
sed 's/$/\r/' "$out/fuzz_keyfile/bob.pub" >"$out/fuzz_keyfile/bob-crlf.pub"

# fuzz_exportfile (v2, signed checkpoint and frontier): the empty log, one
# entry, three after a first index (frontier of 5 leaves), one after 11 with
# a consistency proof from size 6, and none after the end of a log of 7.
v=tests/vectors
"$tmp/seedgen" export 0 >"$out/fuzz_exportfile/empty"
"$tmp/seedgen" export 0 $v/shared/basic.env >"$out/fuzz_exportfile/one"
"$tmp/seedgen" export 5 $v/shared/basic.env $v/own/no-files.env $v/own/two-recipients.env \
	>"$out/fuzz_exportfile/three-after-4"
"$tmp/seedgen" export 0 $v/own/one-full-chunk.env >"$out/fuzz_exportfile/one-full-chunk"
"$tmp/seedgen" export 11 +6 $v/shared/basic.env >"$out/fuzz_exportfile/one-after-10-proof-from-6"
"$tmp/seedgen" export 7 >"$out/fuzz_exportfile/none-after-6-of-7"

# fuzz_config: config files, good and bad.
c=$out/fuzz_config
cat >"$c/full" <<'EOF'
# sealtipd configuration
data = /var/lib/sealtip
recipient = /etc/sealtip/alice.pub
recipient = /etc/sealtip/bob.pub
listen = 127.0.0.1:8080
web = /usr/share/sealtip/web
export-token-file = /etc/sealtip/export.token
max-report-bytes = 104857600
timeout = 30
max-connections = 512
threads = 4
origin = sealtip.example/log
EOF
printf 'data=d\nrecipient=r.pub\n' >"$c/minimal"
printf 'data = d\r\nrecipient = r.pub\r\n\t timeout\t=\t5 \r\n' >"$c/crlf-tabs"
printf '\n\n# only comments\n   # indented\n' >"$c/comments"
printf 'data = d\nrecipient = r.pub\ntimeout = 0\n' >"$c/bad-range"
printf 'data = d\nrecipient = r.pub\nmax-report-bytes = 18446744073709551616\n' >"$c/bad-overflow"
printf 'data = d\nconfig = other.conf\n' >"$c/bad-config-key"
printf 'data d\n' >"$c/bad-no-equals"
printf 'data =\n' >"$c/bad-empty-value"
printf 'data = a=b\nrecipient = =\n' >"$c/equals-in-value"
: >"$c/empty"
for n in $(seq 1 17); do printf 'recipient = r%d.pub\n' "$n"; done >"$c/bad-17-recipients"

# fuzz_request: raw HTTP on one connection.
r=$out/fuzz_request
crlf() { sed 's/$/\r/'; }
printf 'GET /api/v1/config HTTP/1.1\nHost: x\n\n' | crlf >"$r/get-config"
printf 'GET / HTTP/1.1\nHost: x\n\nGET /app.js HTTP/1.1\nHost: x\n\nGET /sub/a.txt HTTP/1.1\nHost: x\nConnection: close\n\n' |
	crlf >"$r/get-static-pipelined"
printf 'GET /../secret.txt HTTP/1.1\nHost: x\n\n' | crlf >"$r/get-traversal"
printf 'GET /%%2e%%2e/secret.txt HTTP/1.1\nHost: x\n\n' | crlf >"$r/get-traversal-encoded"
printf 'GET /sub/%%00a.txt HTTP/1.1\nHost: x\n\n' | crlf >"$r/get-nul"
printf 'HEAD /index.html HTTP/1.1\nHost: x\n\n' | crlf >"$r/head-index"
printf 'GET /api/v1/export HTTP/1.1\nHost: x\nAuthorization: Bearer fuzz-export-token-0123456789abcdef\n\n' |
	crlf >"$r/get-export"
printf 'GET /api/v1/export?after=0 HTTP/1.1\nHost: x\nAuthorization: Bearer wrong-token-0123456789\n\n' |
	crlf >"$r/get-export-wrong-token"
printf 'GET /api/nothing HTTP/1.1\nHost: x\n\n' | crlf >"$r/get-api-404"
printf 'DELETE /api/v1/reports HTTP/1.1\nHost: x\n\n' | crlf >"$r/delete-reports"
printf 'POST /api/v1/reports HTTP/1.1\nHost: x\nTransfer-Encoding: chunked\n\n5\nhello\n0\n\n' |
	crlf >"$r/post-chunked"
printf 'POST /api/v1/reports HTTP/1.1\nHost: x\nContent-Length: 99999999999\n\n' | crlf >"$r/post-too-large"
printf 'POST /api/v1/reports HTTP/1.1\nHost: x\nContent-Length: -1\n\n' | crlf >"$r/post-bad-length"
printf 'POST /api/v1/reports HTTP/1.1\nHost: x\nContent-Length: 10\n\n' | crlf >"$r/post-truncated"
printf '0123456789' >>"$r/post-truncated"
printf 'GARBAGE\r\n\r\n' >"$r/garbage"
post() { # post NAME ENVELOPE...: one connection, one POST per envelope
	for e in "$@"; do
		[ "$e" = "$1" ] && continue
		printf 'POST /api/v1/reports HTTP/1.1\r\nHost: x\r\nContent-Type: application/octet-stream\r\nContent-Length: %d\r\n\r\n' \
			"$(wc -c <"$e")"
		cat "$e"
	done >"$r/$1"
}
post post-basic $v/shared/basic.env
post post-two-own $v/own/no-files.env $v/own/two-recipients.env
post post-large-spooled $v/own/one-full-chunk.env
post post-refused-not-padme $v/shared/bad-not-padme-length.env
post post-refused-nrecip $v/shared/bad-nrecip-17.env
post post-refused-unknown-recipient $v/shared/bad-not-a-recipient.env
{ cat "$r/post-basic"; cat "$r/get-config"; } >"$r/post-then-get"

# fuzz_note: checkpoints signed by fuzz_note.c's fixed key, cosigned,
# with extension lines, by another key, and bare checkpoint and key text.
n=$out/fuzz_note
name=fuzz.sealtip.example/log
seed='sealtip fuzz_note signing seed!!'
root=47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=
printf '%s\n0\n%s\n' "$name" "$root" >"$tmp/cp0"
printf '%s\n18446744073709551615\n%s\nextension line\n' "$name" "$root" >"$tmp/cpext"
printf 'other.example/log\n5\n%s\n' "$root" >"$tmp/cpother"
"$tmp/seedgen" note "$name" "$seed" <"$tmp/cp0" >"$n/checkpoint-empty-tree"
"$tmp/seedgen" note "$name" "$seed" <"$tmp/cpext" >"$n/checkpoint-extension"
"$tmp/seedgen" note "$name" "$seed" <"$tmp/cpother" >"$n/checkpoint-wrong-origin"
"$tmp/seedgen" note "$name" "$seed" <"$tmp/cp0" >"$tmp/signed"
"$tmp/seedgen" note witness.example "another seed for a cosignature!!" <"$tmp/cp0" |
	tail -n 1 >>"$n/checkpoint-empty-tree"
"$tmp/seedgen" note witness.example "another seed for a cosignature!!" <"$tmp/cp0" \
	>"$n/checkpoint-unknown-key"
cp "$tmp/cp0" "$n/text-checkpoint"
cp "$tmp/cpext" "$n/text-checkpoint-extension"
"$tmp/seedgen" vkey "$name" "$seed" >"$n/verifier-key"

# fuzz_httpclient: records of a control byte and what the server answers,
# joined by "@@next@@" (the format: tests/fuzz/fuzz_httpclient.c). The
# control byte is call | after << 2 | limit << 4: call 0 GET, 1 POST from
# memory, 2 POST from a descriptor, 3 httpclient_get; after 0 read_all, 1
# read loop, 2 report_error, 3 nothing; limit an index into the harness's
# limits[] (10: 100 bytes, 13: 4096, 15: 65536).
# First the real answers of sealtipd, asked as httpclient asks (HTTP/1.0,
# Connection: close): at most one upload at a time, so that a second one
# meanwhile gets 503 busy, and 1 KiB envelopes at most, for a 413.
hc=$out/fuzz_httpclient
d=$tmp/sealtipd
mkdir -p "$d/web"
printf '<!doctype html><title>sealtip</title>\n' >"$d/web/index.html"
(umask 077 && printf 'fuzz-export-token-0123456789abcdef\n' >"$d/token")
"$sealtipd" --data "$d/data" --recipient $v/shared/alice.pub --recipient $v/shared/bob.pub \
	--listen 127.0.0.1:0 --web "$d/web" --pow-bits 0 --max-uploads 1 --max-report-bytes 1024 \
	--export-token-file "$d/token" --timeout 5 >"$d/out" 2>"$d/err" &
srv=$!
port=""
for i in $(seq 1 100); do
	port=$(sed -n 's|^listening on http://127\.0\.0\.1:\([0-9]*\)/$|\1|p' "$d/out")
	[ -n "$port" ] && break
	sleep 0.1
done
[ -n "$port" ] || { cat "$d/err" >&2; echo "make-seeds: sealtipd did not start" >&2; exit 1; }
python3 - "$port" "$hc" $v/shared/basic.env <<'EOF'
import socket, sys, time
port, out, env = int(sys.argv[1]), sys.argv[2], open(sys.argv[3], 'rb').read()

def request(method, path, headers='', body=None, length=None):
    if body is not None or method == 'POST':
        headers += 'Content-Length: %d\r\n' % (len(body) if length is None else length)
    return ('%s %s HTTP/1.0\r\nHost: 127.0.0.1:%d\r\n%sConnection: close\r\n\r\n'
            % (method, path, port, headers)).encode()

def answer(s):
    s.settimeout(10)
    got = b''
    while True:
        b = s.recv(65536)
        if not b:
            return got
        got += b

def ask(req):
    with socket.create_connection(('127.0.0.1', port)) as s:
        s.sendall(req)
        return answer(s)

def seed(name, *records):
    with open('%s/%s' % (out, name), 'wb') as f:
        f.write(b'@@next@@'.join(bytes([ctl]) + a for ctl, a in records))

post = request('POST', '/api/v1/reports', 'Content-Type: application/octet-stream\r\n', env) + env
config = ask(request('GET', '/api/v1/config'))
receipt = ask(post)
# One upload under way (half its body sent), then another: 503 busy.
with socket.create_connection(('127.0.0.1', port)) as first:
    first.sendall(post[:len(post) - 100])
    time.sleep(0.5)
    busy = ask(post)
    first.sendall(post[len(post) - 100:])
    second_receipt = answer(first)
# The headers alone: the 413 comes before the body, and a body the server
# never reads would reset the connection under its answer.
too_large = ask(request('POST', '/api/v1/reports', 'Content-Type: application/octet-stream\r\n',
                        length=2000))
export = ask(request('GET', '/api/v1/export?after=0',
                     'Authorization: Bearer fuzz-export-token-0123456789abcdef\r\n'
                     'Accept: application/octet-stream\r\n'))
checkpoint = ask(request('GET', '/api/v1/log/checkpoint'))
not_found = ask(request('GET', '/api/nothing'))
for name, a in (('busy', busy), ('too_large', too_large), ('export', export),
                ('receipt', receipt), ('second_receipt', second_receipt)):
    want = {'busy': b' 503 ', 'too_large': b' 413 ', 'export': b' 200 ',
            'receipt': b' 201 ', 'second_receipt': b' 201 '}[name]
    if a[8:13] != want:
        sys.exit('make-seeds: sealtipd answered %r to the %s request' % (a[:40], name))
seed('config-get', (0xF3, config))
seed('config-read-all-too-small', (0xA0, config))
seed('receipt-201-post-fd', (0xF2, receipt))
seed('receipt-201-post-memory-read-loop', (0x75, second_receipt))
seed('busy-503-retry-after', (0xF9, busy))
seed('too-large-413', (0xFA, too_large))
seed('export-read-loop', (0xA4, export))
seed('export-read-all', (0xF0, export))
seed('checkpoint-get', (0xD3, checkpoint))
seed('not-found-404-get', (0x03, not_found))
# What submit asks, in its order: config, then the upload, refused then taken.
seed('flow-submit', (0xF3, config), (0xF9, busy), (0xF2, receipt))
EOF
kill "$srv"
wait "$srv" || true
srv=""
# Then by hand, what sealtipd never sends.
ok='HTTP/1.1 200 OK\r\n'
printf "\\000${ok}Content-Length: 5\\r\\n" >"$hc/no-blank-line"
printf "\\000${ok}Content-Length: 5\\n\\nhello" >"$hc/lf-only"
: >"$hc/empty"
printf '\000' >"$hc/closed-at-once"
{ printf "\\000${ok}X-Pad: "; head -c 17000 /dev/zero | tr '\0' a; printf '\r\n\r\nbody'; } \
	>"$hc/header-too-long"
# A header block of exactly HTTPCLIENT_HEADER_MAX bytes, blank line included.
{ printf "\\360${ok}X-Pad: "; head -c $((16384 - 17 - 7 - 4)) /dev/zero | tr '\0' a
	printf '\r\n\r\nbody'; } >"$hc/header-at-limit"
printf "\\000${ok}X: a\\000b\\r\\nContent-Length: 1\\r\\n\\r\\nz" >"$hc/nul-in-header"
printf "\\000${ok}Content-Length: -1\\r\\n\\r\\nbody" >"$hc/content-length-negative"
printf "\\000${ok}Content-Length: 18446744073709551616\\r\\n\\r\\nbody" >"$hc/content-length-overflow"
printf "\\004${ok}Content-Length: 18446744073709551615\\r\\n\\r\\nbody" >"$hc/content-length-max"
printf "\\000${ok}Content-Length: 0004\\r\\n\\r\\nbody" >"$hc/content-length-leading-zeros"
printf "\\000${ok}Content-Length: 4, 4\\r\\n\\r\\nbody" >"$hc/content-length-list"
printf "\\000${ok}content-length:\\t 4 \\t\\r\\n\\r\\nbody" >"$hc/content-length-blanks"
printf "\\000${ok}Content-Length: 3\\r\\nContent-Length: 9\\r\\n\\r\\nbodybody" >"$hc/content-length-twice"
printf "\\244${ok}Content-Length: 100\\r\\n\\r\\ncut short" >"$hc/content-length-cut"
printf "\\244${ok}Content-Length: 3\\r\\n\\r\\nmore than three" >"$hc/content-length-short"
printf "\\000${ok}Transfer-Encoding: chunked\\r\\n\\r\\n5\\r\\nhello\\r\\n0\\r\\n\\r\\n" >"$hc/chunked"
printf "\\001${ok}transfer-encoding:identity\\r\\nContent-Length: 2\\r\\n\\r\\nhi" >"$hc/transfer-encoding-lower"
printf '\000HTTP/1.12000 OK\r\n\r\n' >"$hc/status-run-on"
printf '\000HTTP/2 200\r\n\r\n' >"$hc/status-http2"
printf '\003HTTP/1.0 099 Low\r\n\r\n' >"$hc/status-099"
printf '\003HTTP/1.0 999\r\n\r\nlast' >"$hc/status-999-no-reason"
printf '\000HTTP/1.1 20x OK\r\n\r\n' >"$hc/status-not-digits"
printf '\000HTTP/1.1 200 OK\r\n\r\n' >"$hc/no-headers-no-body"
printf '\240HTTP/1.0 200 OK\r\n\r\n%0200d' 0 >"$hc/unsized-larger-than-max"
printf '\012HTTP/1.1 500 Internal\r\nContent-Type: application/json\r\n\r\n{"message":"\\u0000\\n\\ud800 forged\\nline"}' \
	>"$hc/error-json-hostile-message"
printf '\012HTTP/1.1 429 Too Many\r\n\r\n[1,2' >"$hc/error-not-json"

# fuzz_pow: its four seeds (two header values, two raw challenges) are
# written by hand once and kept: nothing here regenerates or removes them.
# fuzz_jsonbuf's six seeds likewise.

echo "seeds: $(find "$out" -type f | wc -l) files in $out"
