#!/usr/bin/env bash
# CLI tests for `sealtip`: the real binary on real files in a temp folder.
# Each case checks the exit status, the message, and what was (not) written.
set -u
SEALTIP=${SEALTIP:-build/sealtip}
VECTOR_TOOL=${VECTOR_TOOL:-build/tools/vector_tool}
FAIL_FSYNC=${FAIL_FSYNC:-build/tools/fail_dir_fsync.so} # tests/tools/fail_dir_fsync.c
SIGNAL_INJECT=${SIGNAL_INJECT:-build/tools/signal_inject.so} # tests/tools/signal_inject.c
SEEDGEN=${SEEDGEN:-build/tools/seedgen} # tests/fuzz/seedgen.c: export files
VECTORS=tests/vectors/shared
ALICE_SK=8a9ef0faef18e6f895bc42f2bb507fff605878d9c63ce7e182036e0abb2b01ab
BOB_SK=b8b5e22b85bbd9b61882098c42032d825ea342e6ad32281e9a735fb09e9691ea
CAROL_SK=600df81cf37d8c7517a6d27e4b56b134619796b383ecc391fe6388d3866167eb

case "$SEALTIP" in /*) ;; *) SEALTIP=$PWD/$SEALTIP ;; esac
case "$VECTOR_TOOL" in /*) ;; *) VECTOR_TOOL=$PWD/$VECTOR_TOOL ;; esac
case "$FAIL_FSYNC" in /*) ;; *) FAIL_FSYNC=$PWD/$FAIL_FSYNC ;; esac
case "$SIGNAL_INJECT" in /*) ;; *) SIGNAL_INJECT=$PWD/$SIGNAL_INJECT ;; esac
case "$SEEDGEN" in /*) ;; *) SEEDGEN=$PWD/$SEEDGEN ;; esac
VECTORS=$PWD/$VECTORS

EXPORTS=$PWD/tests/fuzz/corpus/fuzz_exportfile # export files v2 of the vectors (make-seeds.sh)

WORK=$(mktemp -d /tmp/sealtip-cli.XXXXXX)
trap 'rm -rf "$WORK"' EXIT
passed=0 failed=0 current=""

# preloaded LIB NAME=VALUE PROGRAM...: PROGRAM with the test library LIB
# preloaded and NAME set for it. ASan would refuse a library loaded before
# its own.
preloaded() {
	local lib=$1 setting=$2; shift 2
	env LD_PRELOAD="$lib" "$setting" \
		ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}verify_asan_link_order=0" "$@"
}

begin() { current=$1; }
pass() { passed=$((passed + 1)); }
fail() { failed=$((failed + 1)); echo "FAIL: $current: $*"; }
# check DESCRIPTION COMMAND...: the command must succeed.
check() { local what=$1; shift; if "$@"; then :; else fail "$what"; return 1; fi; }
finish_case() { [ "$1" -eq "$failed" ] && pass; }

# run EXPECTED_STATUS COMMAND...: runs, keeps stdout/stderr in $out/$err.
run() {
	local want=$1; shift
	"$@" >"$WORK/stdout" 2>"$WORK/stderr"
	status=$?
	out=$(cat "$WORK/stdout")
	# open's warning about an unprotected key (most keys here are) is
	# checked once, on its own case; elsewhere $err is what else was said.
	err=$(grep -v -x 'sealtip: warning: .* is not protected by a passphrase' "$WORK/stderr")
	if [ "$status" -ne "$want" ]; then
		fail "exit $status, wanted $want: $* :: $err"
		return 1
	fi
	return 0
}
tree_sum() { (cd "$1" && find . -printf '%p %s %m\n' | sort && find . -type f -exec sha256sum {} + | sort) | sha256sum; }
not() { ! "$@"; }
one_line() { [ "$(printf '%s\n' "$err" | wc -l)" -eq 1 ]; }

cd "$WORK"
"$VECTOR_TOOL" secret-key $ALICE_SK > alice.key
"$VECTOR_TOOL" secret-key $BOB_SK > bob.key
"$VECTOR_TOOL" secret-key $CAROL_SK > carol.key

# --- usage -------------------------------------------------------------
begin usage; f0=$failed
run 0 "$SEALTIP" --help && check "lists open" grep -q "open" "$WORK/stdout"
run 2 "$SEALTIP"
run 2 "$SEALTIP" frobnicate
for c in keygen fingerprint seal open; do
	run 0 "$SEALTIP" $c --help && check "$c --help names usage" grep -q "usage: sealtip $c" "$WORK/stdout"
done
run 2 "$SEALTIP" seal -o x.env
run 2 "$SEALTIP" open -k alice.key
run 2 "$SEALTIP" keygen --unprotected --passphrase-file /dev/null -o z
run 2 "$SEALTIP" seal --bogus
check "no file from usage errors" test ! -e x.env -a ! -e z.key -a ! -e z.pub
finish_case $f0

# usage_line EXPECTED: the first stderr line is exactly that, and it is the
# only "sealtip:" line (the usage text follows it).
usage_line() {
	[ "$(printf '%s\n' "$err" | head -1)" = "$1" ] &&
		[ "$(printf '%s\n' "$err" | grep -c '^sealtip:')" -eq 1 ] ||
		{ fail "wanted '$1', got: $err"; return 1; }
}
begin option-errors; f0=$failed
for c in keygen fingerprint seal open export fetch submit audit; do
	run 2 "$SEALTIP" $c --bogus && usage_line "sealtip: $c: unknown option --bogus"
	run 2 "$SEALTIP" $c -Z && usage_line "sealtip: $c: unknown option -Z"
	run 2 "$SEALTIP" $c --help=x && usage_line "sealtip: $c: --help takes no value"
done
run 2 "$SEALTIP" open -k && usage_line "sealtip: open: -k needs a value"
run 2 "$SEALTIP" open inv.env --key && usage_line "sealtip: open: --key needs a value"
run 2 "$SEALTIP" seal -r "$VECTORS/alice.pub" -o && usage_line "sealtip: seal: -o needs a value"
run 2 "$SEALTIP" keygen -o && usage_line "sealtip: keygen: -o needs a value"
run 2 "$SEALTIP" export --db && usage_line "sealtip: export: --db needs a value"
# An empty value is a missing one, refused before anything is done: submit
# and fetch (to a port nothing listens on) would otherwise have sent first.
run 2 "$SEALTIP" submit http://127.0.0.1:9 inv.env -o "" && usage_line "sealtip: submit: -o needs a value"
run 2 "$SEALTIP" fetch http://127.0.0.1:9 --token-file "" -o f.bin && usage_line "sealtip: fetch: --token-file needs a value"
run 2 "$SEALTIP" export --db= -o e.bin && usage_line "sealtip: export: --db needs a value"
run 2 "$SEALTIP" seal -r "$VECTORS/alice.pub" --form "" -o typo.env && usage_line "sealtip: seal: --form needs a value"
run 2 "$SEALTIP" seal -r "$VECTORS/alice.pub" --field "" -o typo.env && usage_line "sealtip: seal: --field needs a value"
run 2 "$SEALTIP" open -k "" -o empty-out inv.env && usage_line "sealtip: open: -k needs a value"
run 2 "$SEALTIP" keygen --unprotected -o "" && usage_line "sealtip: keygen: -o needs a value"
run 2 "$SEALTIP" audit --state= --url http://127.0.0.1:9 && usage_line "sealtip: audit: --state needs a value"
run 2 "$SEALTIP" audit x.db -r && usage_line "sealtip: audit: -r needs a value"
run 2 "$SEALTIP" audit x.db y.db && usage_line "sealtip: audit: one INPUT only"
check "nothing from empty values" test ! -e f.bin -a ! -e e.bin -a ! -e typo.env -a ! -e empty-out
# A mistyped option never shows the answer it carried.
run 2 "$SEALTIP" seal -r "$VECTORS/alice.pub" --fild="what=paid 500 USD to Officer K" -o typo.env &&
	usage_line "sealtip: seal: unknown option --fild"
check "no file from option errors" test ! -e typo.env
finish_case $f0

# --- keygen ------------------------------------------------------------
begin keygen-unprotected; f0=$failed
run 0 "$SEALTIP" keygen --unprotected -o inv
check "pub written" test -f inv.pub
check "key mode 0600" test "$(stat -c %a inv.key)" = 600
keyid=$(head -1 inv.pub | awk '{print $NF}')
check "key id printed" grep -q "$keyid" "$WORK/stdout"
check "fingerprint printed" grep -Eq '([0-9a-f]{4} ){9}[0-9a-f]{4}' "$WORK/stdout"
before=$(cat inv.pub inv.key | sha256sum)
run 1 "$SEALTIP" keygen --unprotected -o inv && one_line
check "refuses overwrite" test "$before" = "$(cat inv.pub inv.key | sha256sum)"
check "says exists" grep -qi "exist" "$WORK/stderr"
finish_case $f0

begin keygen-passphrase; f0=$failed
printf 'correct horse battery staple\n' > pass.txt
printf 'wrong\n' > wrong.txt
run 0 "$SEALTIP" keygen --passphrase-file pass.txt --kdf interactive -o prot
check "protected key 0600" test "$(stat -c %a prot.key)" = 600
check "not labelled unprotected" not grep -q UNPROTECTED prot.key
run 1 "$SEALTIP" keygen -o notty < /dev/null && one_line
check "no tty: nothing written" test ! -e notty.key -a ! -e notty.pub
finish_case $f0

begin keygen-refusals; f0=$failed
run 1 "$SEALTIP" keygen --passphrase-file missing.txt -o nofile && one_line
check "names the missing file" grep -q "missing.txt" "$WORK/stderr"
: > empty.txt
run 1 "$SEALTIP" keygen --passphrase-file empty.txt -o emptypass && one_line
check "refusals: nothing written" test ! -e nofile.key -a ! -e nofile.pub -a ! -e emptypass.key -a ! -e emptypass.pub
printf 'someone else\n' > half.pub
run 1 "$SEALTIP" keygen --unprotected -o half && one_line
check "lone .pub: refused, untouched" test "$(cat half.pub)" = "someone else" -a ! -e half.key
check "says which exists" grep -q "half.pub: already exists" "$WORK/stderr"
# The warning of an unprotected key is not lost when stdout fails.
run 1 bash -c 'exec "$0" keygen --unprotected -o loud >/dev/full' "$SEALTIP" &&
	check "warned, stdout failing" test "$err" = "sealtip: warning: loud.key is not protected by a passphrase: anyone who can read the file can read every report sent to this key
sealtip: cannot write to standard output (the key files were written)"
finish_case $f0

# A name with a newline cannot forge a line: control characters are '?'.
begin names-with-control-characters; f0=$failed
printf 'junk\n' > $'forged\nsealtip: ok.pub: OK'
run 1 "$SEALTIP" fingerprint $'forged\nsealtip: ok.pub: OK' && one_line &&
	check "one error line" test "$err" = "sealtip: forged?sealtip: ok.pub: OK: malformed key file"
run 0 "$SEALTIP" keygen --unprotected -o $'two\nlines' &&
	check "keygen names on stdout" grep -qxF "public key:  two?lines.pub (publish it, with the fingerprint for people to check)" "$WORK/stdout" &&
	check "and on stderr" grep -qxF "sealtip: warning: two?lines.key is not protected by a passphrase: anyone who can read the file can read every report sent to this key" "$WORK/stderr"
run 0 "$SEALTIP" fingerprint inv.pub $'two\nlines.pub' &&
	check "fingerprint names" test "$(printf '%s\n' "$out" | wc -l)" -eq 2 -a -n "$(printf '%s\n' "$out" | grep -F ' two?lines.pub')"
finish_case $f0

# On a terminal (script(1) gives keygen and open a pty): asked twice, never
# echoed, a mismatch refused with nothing written; then a key made and
# opened by passphrase. Each answer is typed only once its prompt is shown.
begin keygen-terminal; f0=$failed
# on_tty STATUS_VAR OUTPUT_FILE COMMAND -- ANSWER...: runs COMMAND on a pty,
# typing each ANSWER after the next prompt ("...: ") appears.
on_tty() {
	local -n status_ref=$1; local output=$2 command=$3 answer prompt pid from to; shift 3
	coproc TTY { script -qefc "$command" /dev/null 2>&1; }
	# bash forgets a coprocess's fds and pid once it ends: keep copies.
	pid=$TTY_PID; exec {from}<&"${TTY[0]}" {to}>&"${TTY[1]}"
	: > "$output"
	for answer in "$@"; do
		IFS= read -r -d ':' -t 20 prompt <&$from || { fail "no prompt before '$answer'"; break; }
		printf '%s:' "$prompt" >> "$output"
		printf '%s\r' "$answer" >&$to
	done
	cat <&$from >> "$output"
	exec {from}<&- {to}>&-
	wait "$pid"; status_ref=$?
}
on_tty status tty1.out "$SEALTIP keygen --kdf interactive -o tty1" "first secret words" "other secret words"
check "mismatch: exit 1" test "$status" -eq 1
check "asked twice" test "$(grep -o 'Passphrase for the new secret key:\|Same passphrase again:' tty1.out | wc -l)" -eq 2
check "mismatch said" grep -q "the two passphrases do not match" tty1.out
check "never echoed" not grep -q "secret words" tty1.out
check "mismatch: nothing written" test ! -e tty1.key -a ! -e tty1.pub
on_tty status tty2.out "$SEALTIP keygen --kdf interactive -o tty2" "plain as day" "plain as day"
check "made: exit 0" test "$status" -eq 0
check "made: protected, 0600" test "$(stat -c %a tty2.key)" = 600
check "made: never echoed" not grep -q "plain as day" tty2.out
"$SEALTIP" seal -r tty2.pub --field what=tty -o tty.env
on_tty status tty3.out "$SEALTIP open -k tty2.key -o ttyout tty.env" "plain as day"
check "opened by passphrase" test "$status" -eq 0 -a -f ttyout/tty/report.json
check "open: never echoed" not grep -q "plain as day" tty3.out
finish_case $f0

begin fingerprint; f0=$failed
run 0 "$SEALTIP" fingerprint "$VECTORS/alice.pub"
check "alice key id" grep -q "874fc3c2ab6e810c" "$WORK/stdout"
check "alice fingerprint" grep -q "4322 6113 d3b8 959f dbf7 5d6e 4cba e15a c2c1 c993" "$WORK/stdout"
head -c 60 "$VECTORS/alice.pub" > short.pub
run 1 "$SEALTIP" fingerprint short.pub && one_line && check "names file" grep -q "short.pub" "$WORK/stderr"
run 1 "$SEALTIP" fingerprint inv.key && one_line
finish_case $f0

# --- seal and open -----------------------------------------------------
khmer="មន្ត្រីអន្តោប្រវេសន៍បានទាមទារនាឡិកា Rolex"
head -c 200000 /dev/urandom > photo.jpg
printf 'ledger line 1\nledger line 2\n' > ledger.txt
begin roundtrip-two-files; f0=$failed
run 0 "$SEALTIP" seal -r inv.pub --lang km --field "what=$khmer" --field "official_name=Officer K" \
	--field goods=watch --field goods=phone --field knowledge=witnessed \
	--file photo.jpg --file ledger.txt -o r1.env
check "quiet on success" test -z "$out"
check "envelope magic" test "$(head -c 7 r1.env)" = sealtip
run 0 "$SEALTIP" open -k inv.key -o out r1.env
check "summary names folder" grep -q "out/r1" "$WORK/stdout"
check "photo identical" cmp -s photo.jpg out/r1/files/01-photo.jpg
check "ledger identical" cmp -s ledger.txt out/r1/files/02-ledger.txt
check "report.json has Khmer verbatim" grep -qF "\"what\":\"$khmer\"" out/r1/report.json
check "report.json keeps list" grep -qF '"goods":["watch","phone"]' out/r1/report.json
check "report.txt has Khmer verbatim" grep -qF "$khmer" out/r1/report.txt
check "report.txt has label" grep -qF "What happened?" out/r1/report.txt
check "report.txt shows option label" grep -qF -- "- Watch" out/r1/report.txt
check "report.txt shows radio label" grep -qF "I saw it happen" out/r1/report.txt
check "report.txt names the file" grep -qF "files/01-photo.jpg" out/r1/report.txt
check "files 0600" test "$(stat -c %a out/r1/files/01-photo.jpg)" = 600
check "no temp left" test -z "$(find out -name '.sealtip-*')"
finish_case $f0

begin roundtrip-sizes; f0=$failed
for n in 0 1 65535 65536 65537 10485760; do
	head -c $n /dev/urandom > "size$n.bin"
	run 0 "$SEALTIP" seal -r inv.pub --field what=sizes --file "size$n.bin" -o "size$n.env"
	run 0 "$SEALTIP" open -k inv.key -o sizes "size$n.env"
	check "size $n identical" cmp -s "size$n.bin" "sizes/size$n/files/01-size$n.bin"
done
finish_case $f0

begin several-recipients; f0=$failed
"$SEALTIP" keygen --unprotected -o inv2 >/dev/null 2>&1
"$SEALTIP" keygen --unprotected -o outsider >/dev/null 2>&1
run 0 "$SEALTIP" seal -r inv.pub -r inv2.pub --field what=both --file ledger.txt -o both.env
run 0 "$SEALTIP" open -k inv.key -o both1 both.env
run 0 "$SEALTIP" open -k inv2.key -o both2 both.env
check "both read the same" cmp -s both1/both/report.json both2/both/report.json
mkdir outsider-out
run 1 "$SEALTIP" open -k outsider.key -o outsider-out both.env && one_line
check "outsider told why" grep -q "not sealed to this key" "$WORK/stderr"
check "outsider: nothing written" test -z "$(ls -A outsider-out)"
finish_case $f0

begin protected-key-open; f0=$failed
run 0 "$SEALTIP" seal -r prot.pub --field what=secret -o p.env
mkdir pout
run 1 "$SEALTIP" open -k prot.key --passphrase-file wrong.txt -o pout p.env && one_line
check "wrong passphrase said" grep -q "passphrase" "$WORK/stderr"
check "wrong passphrase: nothing written" test -z "$(ls -A pout)"
run 0 "$SEALTIP" open -k prot.key --passphrase-file pass.txt -o pout p.env
check "opened with passphrase" grep -qF '"what":"secret"' pout/p/report.json
# No terminal to ask on (setsid: no controlling one): the option to use
# instead is named, and nothing is made.
run 1 setsid -w "$SEALTIP" open -k prot.key -o notty-out p.env < /dev/null &&
	check "no terminal: names --passphrase-file" test "$err" = "sealtip: prot.key: no terminal to ask for its passphrase: use --passphrase-file FILE"
check "no terminal: nothing written" test ! -e notty-out
finish_case $f0

begin seal-refusals; f0=$failed
# no_seal_output: nothing at OUT, no temp file beside it, no answer echoed.
no_seal_output() {
	test ! -e refused.env && test -z "$(find . -maxdepth 1 -name '.sealtip-*')" &&
		not grep -q "500 USD" "$WORK/stderr"
}
run 2 "$SEALTIP" seal -r inv.pub --field "paid 500 USD" -o refused.env &&
	check "no NAME" grep -qx "sealtip: seal: --field #1: wants NAME=VALUE" "$WORK/stderr"
check "no NAME: nothing" no_seal_output
run 1 "$SEALTIP" seal -r inv.pub --field what=x --field "$(printf 'what=paid 500 USD \351')" -o refused.env &&
	one_line && check "not UTF-8 named by NAME" grep -qx "sealtip: --field what: the answer is not valid UTF-8" "$WORK/stderr"
check "not UTF-8: nothing" no_seal_output
run 2 "$SEALTIP" seal -r inv.pub --field what=paid 500 USD -o refused.env &&
	check "unquoted answer" grep -q "^sealtip: seal: 2 unexpected arguments (an answer with spaces needs quotes" "$WORK/stderr"
check "unquoted: nothing" no_seal_output
run 1 "$SEALTIP" seal -r inv.pub --field what=x --file no-such.jpg -o refused.env && one_line &&
	check "missing file named" grep -q "no-such.jpg" "$WORK/stderr"
check "missing file: nothing" no_seal_output
mkdir adir
run 1 "$SEALTIP" seal -r inv.pub --field what=x --file adir -o refused.env && one_line &&
	check "folder named" grep -q "adir" "$WORK/stderr"
check "folder: nothing" no_seal_output
# Seventeen different keys: the same one twice is refused on its own (below).
recipients=(); for i in $(seq 17); do
	"$SEALTIP" keygen --unprotected -o "many-$i" >/dev/null 2>&1; recipients+=(-r "many-$i.pub"); done
run 2 "$SEALTIP" seal "${recipients[@]}" --field what=x -o refused.env &&
	check "17 recipients" grep -q "at most 16 recipients" "$WORK/stderr"
check "17 recipients: nothing" no_seal_output
# A FIFO is refused at once, not waited on with ^C blocked. Bounded by
# SIGKILL, the one signal that would end such a wait, so that a hang fails
# the case instead of the suite.
mkfifo seal.fifo
run 1 timeout -s KILL 20 "$SEALTIP" seal -r inv.pub --field what=x --file seal.fifo -o refused.env && one_line &&
	check "FIFO attachment" grep -qx "sealtip: seal.fifo: not a regular file" "$WORK/stderr"
run 1 timeout -s KILL 20 "$SEALTIP" seal -r seal.fifo --field what=x -o refused.env && one_line &&
	check "FIFO key" grep -qx "sealtip: seal.fifo: cannot read public key: not a regular file" "$WORK/stderr"
run 1 timeout -s KILL 20 "$SEALTIP" open -k inv.key --labels seal.fifo -o fifo-out none.env && one_line &&
	check "FIFO labels" grep -qx "sealtip: seal.fifo: cannot load labels: not a regular file" "$WORK/stderr"
run 1 timeout -s KILL 20 "$SEALTIP" open -k inv.key --verifier-key-file seal.fifo -o fifo-out none.env &&
	one_line && check "FIFO verifier key" grep -qx "sealtip: seal.fifo: cannot read: not a regular file" "$WORK/stderr"
check "FIFO open: no folder" test ! -e fifo-out
run 1 "$SEALTIP" seal -r adir --field what=x -o refused.env && one_line &&
	check "folder key" grep -qx "sealtip: adir: cannot read public key: Is a directory" "$WORK/stderr"
check "FIFO, folder: nothing" no_seal_output
# What a reader or sealtipd would refuse is never written.
run 1 "$SEALTIP" seal -r inv.pub -r "$VECTORS/alice.pub" -r inv.pub --field what=x -o refused.env && one_line &&
	check "a key twice" grep -qx "sealtip: inv.pub: the same recipient key twice (given as -r before)" "$WORK/stderr"
printf 'untrusted comment: zero\n%s\n' "$(printf 'stpk' | cat - /dev/zero | head -c 68 | base64 -w0)" > zero.pub
run 1 "$SEALTIP" seal -r inv.pub -r zero.pub --field what=x -o refused.env && one_line &&
	check "small-order key" grep -qx "sealtip: zero.pub: not a usable public key (small order)" "$WORK/stderr"
answers=(); for i in $(seq 256); do answers+=(--field "seen=$i"); done
run 1 "$SEALTIP" seal -r inv.pub "${answers[@]}" --field seen=257 -o refused.env && one_line &&
	check "257 answers" grep -qx "sealtip: --field seen: more than 256 answers" "$WORK/stderr"
check "refused keys and answers: nothing" no_seal_output
run 0 "$SEALTIP" seal -r inv.pub "${answers[@]}" -o answers256.env
run 0 "$SEALTIP" open -k inv.key -o answers256 answers256.env
check "256 answers open" grep -qF '"seen":["1","2",' answers256/answers256/report.json
run 2 "$SEALTIP" seal -r inv.pub --field what=x -o adir/ &&
	usage_line "sealtip: seal: -o adir/: not a file name"
check "-o a folder: nothing in it" test -z "$(ls -A adir)"
# The output's own failure names the output and the reason.
head -c 3000000 /dev/urandom > big.bin
mkdir small-disk
run 1 bash -c 'ulimit -f 1000; trap "" XFSZ; exec "$0" seal -r inv.pub --file big.bin -o small-disk/x.env' "$SEALTIP" &&
	one_line && check "write failure said" grep -qx "sealtip: small-disk/x.env: cannot write: File too large" "$WORK/stderr"
check "write failure: nothing left" test -z "$(ls -A small-disk)"
rm -f big.bin
run 0 "$SEALTIP" seal -r inv.pub --form custom/9 --field what=x -o form.env
run 0 "$SEALTIP" open -k inv.key -o formout form.env
check "--form kept" grep -qF '"form":"custom/9"' formout/form/report.json
finish_case $f0

begin open-several-inputs; f0=$failed
"$SEALTIP" seal -r inv.pub --field what=second -o good2.env
head -c 100 r1.env > broken.env
run 1 "$SEALTIP" open -k inv.key -o mixed r1.env broken.env good2.env && one_line &&
	check "bad one named" grep -q "broken.env" "$WORK/stderr"
check "good ones kept whole" test -f mixed/r1/files/01-photo.jpg -a -f mixed/good2/report.txt
check "bad one left nothing" test "$(ls -A mixed)" = "$(printf 'good2\nr1')"
run 0 "$SEALTIP" open -k prot.key --passphrase-file pass.txt -o quiet p.env
check "quiet on success: no stderr" test ! -s "$WORK/stderr"
check "one summary line" test "$out" = "p.env: opened into quiet/p (0 attachments)"
# An unprotected key is named on every use, once, and nothing else is said.
run 0 "$SEALTIP" open -k inv.key -o unprotected good2.env
check "unprotected key said" test "$(cat "$WORK/stderr")" = "sealtip: warning: inv.key is not protected by a passphrase"
run 1 "$SEALTIP" open -k outsider.key -o made-for-nothing r1.env && one_line
check "a DIR made for nothing is removed" test ! -e made-for-nothing
finish_case $f0

begin progress-on-terminal; f0=$failed
head -c $((17 << 20)) /dev/urandom > big17.bin
script -qefc "$SEALTIP seal -r inv.pub --field what=big --file big17.bin -o big17.env" /dev/null > prog-seal.out
check "seal: progress on a terminal" grep -Eq $'\rsealing [0-9]+/17 MiB' prog-seal.out
check "seal: line erased at the end" grep -q $'\r\033\[K' prog-seal.out
script -qefc "$SEALTIP open -k inv.key -o progout big17.env" /dev/null > prog-open.out
check "open: progress on a terminal" grep -Eq $'\ropening [0-9]+/17 MiB' prog-open.out
check "open: opened" cmp -s big17.bin progout/big17/files/01-big17.bin
script -qefc "$SEALTIP seal -r inv.pub --field what=small --file ledger.txt -o small-tty.env" /dev/null > prog-small.out
check "small: no progress" not grep -q sealing prog-small.out
run 0 "$SEALTIP" open -k inv.key -o progout2 big17.env
check "not a terminal: no progress" not grep -q opening "$WORK/stderr"
# From a pipe the total is not known: the MiB read, no "/0" (and only once
# 16 MiB were read, like the other progress lines).
script -qefc "cat big17.env | $SEALTIP open -k inv.key -o progpipe /dev/stdin" /dev/null > prog-pipe.out
check "pipe: opened" cmp -s big17.bin progpipe/stdin/files/01-big17.bin
# progress_lines FILE LABEL: the redraws of LABEL in FILE, one a line.
progress_lines() { tr '\r' '\n' < "$1" | grep -a "^$2 "; }
# progress_all FILE LABEL REGEX: there are redraws, and every one is REGEX.
progress_all() {
	[ -n "$(progress_lines "$1" "$2")" ] && ! progress_lines "$1" "$2" | grep -qavE "$3"
}
check "pipe: every line N MiB, N >= 16" progress_all prog-pipe.out opening '^opening (1[6-9]|[2-9][0-9]) MiB$'
# An export file: its size is the total; the redraws are throttled to five a
# second, not one per 64 KiB read (about 270 here).
"$SEEDGEN" export 0 big17.env > big17.bin.export
started=$(date +%s%N)
script -qefc "$SEALTIP audit big17.bin.export" /dev/null > prog-audit.out
elapsed_ms=$((($(date +%s%N) - started) / 1000000))
check "audit: verdict" grep -aq $'\r\033\[Kaudit ok: big17.bin.export: export of 1 entry (indexes 0 to 0) of a log of 1' prog-audit.out
check "audit: every line N/17 MiB" progress_all prog-audit.out audit '^audit [0-9]+/17 MiB$'
check "audit: ends on the total" test "$(progress_lines prog-audit.out audit | tail -1)" = "audit 17/17 MiB"
redraws=$(progress_lines prog-audit.out audit | wc -l)
check "audit: $redraws redraws in $elapsed_ms ms, at most 5 a second" test "$redraws" -le $((elapsed_ms / 200 + 2))
check "audit: line erased at the end" grep -q $'\r\033\[K' prog-audit.out
rm -f big17.bin big17.env big17.bin.export; rm -rf progout progout2 progpipe
finish_case $f0

# stop_and_reap PID WHAT: SIGTERM, then at most 20 s for it to end (a read
# that missed the signal would otherwise hang the suite); sets $status.
stop_and_reap() {
	kill -TERM "$1"
	for i in $(seq 200); do kill -0 "$1" 2>/dev/null || break; sleep 0.1; done
	kill -0 "$1" 2>/dev/null && { fail "$2 still running 20 s after SIGTERM"; kill -KILL "$1"; }
	wait "$1"; status=$?
}
# start_open KEY FIFO DIR SOURCE BYTES: open reads the new FIFO into DIR
# (stdout in DIR.out, stderr in DIR.err) and gets the first BYTES of SOURCE
# on fd 7, left open; returns once its report is under way, its pid in $pid.
start_open() {
	mkfifo "$2"
	"$SEALTIP" open -k "$1" -o "$3" "$2" > "$3.out" 2> "$3.err" & pid=$!
	exec 7> "$2"
	head -c "$5" "$4" >&7
	for i in $(seq 100); do [ -n "$(find "$3" -name '.sealtip-open-*' 2>/dev/null)" ] && break; sleep 0.1; done
	check "$2: report under way" test -n "$(find "$3" -name '.sealtip-open-*')"
}
# interrupt_open KEY FIFO DIR SOURCE BYTES: start_open, then stopped by
# SIGTERM. Sets $status.
interrupt_open() {
	start_open "$@"
	check "$2: no core dumps" grep -Eq '^Max core file size +0 +0 ' /proc/$pid/limits
	stop_and_reap $pid "open of $2"
	exec 7>&-
}
begin interrupted; f0=$failed
interrupt_open inv.key slow.env intr size10485760.env 200000
check "dies of the signal" test "$status" -eq 143
check "says so" grep -qx "sealtip: slow.env: interrupted; nothing of it was kept" intr.err
check "nothing left, not even DIR" test ! -e intr
# The same for an export file, told apart from an envelope by its first bytes
# even from a FIFO.
interrupt_open alice.key slow.bin xintr "$EXPORTS/one" $(($(stat -c %s "$EXPORTS/one") - 100))
check "export: dies of the signal" test "$status" -eq 143
check "export: says so" grep -qx "sealtip: slow.bin: interrupted; no report from it was kept" xintr.err
check "export: nothing left, not even DIR" test ! -e xintr
# A FIFO no writer ever opens: open() itself must not wait with the signals
# blocked, or only SIGKILL would end it (and leave DIR behind).
mkfifo nowriter.env
"$SEALTIP" open -k inv.key -o nowriter nowriter.env 2> nowriter.err & pid=$!
sleep 0.5
stop_and_reap $pid "open of a FIFO without a writer"
check "no writer: dies of the signal" test "$status" -eq 143
check "no writer: says so" grep -qx "sealtip: nowriter.env: interrupted; nothing of it was kept" nowriter.err
check "no writer: nothing left, not even DIR" test ! -e nowriter
# seal: SIGTERM once the temp output exists; it goes, and so does seal.
head -c $((128 << 20)) /dev/zero > huge.bin
mkdir sealing
"$SEALTIP" seal -r inv.pub --field what=big --file huge.bin -o sealing/huge.env 2> seal-intr.err & pid=$!
# The temp output appears after a first pass over the input: a tenth of a
# second here, a minute or more under valgrind.
for i in $(seq 12000); do [ -n "$(ls -A sealing)" ] && break; sleep 0.01; done
check "sealing under way" test -n "$(ls -A sealing)"
stop_and_reap $pid seal
check "seal dies of the signal" test "$status" -eq 143
check "seal says so" grep -qx "sealtip: sealing/huge.env: interrupted; nothing was written" seal-intr.err
check "no temp output left" test -z "$(ls -A sealing)"
rm -f huge.bin
finish_case $f0

# A run killed outright (SIGKILL, a power cut) cannot remove its staging
# folder: the next run into DIR does, unread, and says so. Only folders of
# exactly that name: not a symlink named so (nor what it points to), not a
# file, not a name that is not quite it.
begin killed-leftovers; f0=$failed
start_open inv.key killed.env killed size10485760.env 200000
kill -KILL $pid; { wait $pid; } 2>/dev/null
exec 7>&-
left=$(find killed -name '.sealtip-open-*')
check "killed: its folder stays" test -d "$left"
mkdir -p killed/.sealtip-open-0123456789abcdef/files
echo "paid 500 USD to Officer K" > killed/.sealtip-open-0123456789abcdef/report.txt
mkdir not-ours && echo "not a leftover" > not-ours/report.txt
ln -s ../not-ours killed/.sealtip-open-fedcba9876543210
echo "a file" > killed/.sealtip-open-00000000000000aa
mkdir killed/.sealtip-open-0123456789ABCDEF killed/.sealtip-open-0123456789abcdef0 killed/.sealtip-open-
run 0 "$SEALTIP" open -k inv.key -o killed good2.env &&
	check "said in one line" test "$err" = "sealtip: killed: removed 2 unfinished report folders (.sealtip-open-*) left by an interrupted run, unread" &&
	check "the new report said" test "$out" = "good2.env: opened into killed/good2 (0 attachments)"
check "leftovers gone" test ! -e "$left" -a ! -e killed/.sealtip-open-0123456789abcdef
check "the new report there" test -f killed/good2/report.txt
check "symlink not followed" test -L killed/.sealtip-open-fedcba9876543210 -a "$(ls -A not-ours)" = report.txt -a "$(cat not-ours/report.txt)" = "not a leftover"
check "file and other names kept" test -f killed/.sealtip-open-00000000000000aa -a -d killed/.sealtip-open-0123456789ABCDEF -a -d killed/.sealtip-open-0123456789abcdef0 -a -d killed/.sealtip-open-
run 0 "$SEALTIP" open -k inv.key -o killed r1.env && check "nothing left over: quiet" test -z "$err"
# A live run's folder is not left over: a second run into the same DIR at
# the same time keeps it (DIR's lock is held shared by the first), and the
# first still completes.
start_open inv.key live.env live size10485760.env 200000
run 0 "$SEALTIP" open -k inv.key -o live good2.env && check "second run: nothing removed" test -z "$err"
check "the live run's folder kept" test -n "$(find live -name '.sealtip-open-*')"
tail -c +200001 size10485760.env >&7; exec 7>&-
wait $pid; status=$?
check "the live run completed" test "$status" -eq 0
check "its report whole" cmp -s size10485760.bin live/live/files/01-size10485760.bin
check "its output" test "$(cat live.out)" = "live.env: opened into live/live (1 attachment)" -a \
	"$(cat live.err)" = "sealtip: warning: inv.key is not protected by a passphrase"
check "no folder left" test -z "$(find live -name '.sealtip-open-*')"
# A lock held as a live run holds it: nothing is removed under it.
mkdir -p locked/.sealtip-open-0123456789abcdef
run 0 flock -s locked "$SEALTIP" open -k inv.key -o locked good2.env && check "locked: quiet" test -z "$err"
check "locked: kept" test -d locked/.sealtip-open-0123456789abcdef
# Held exclusively by another program (sealtipd holds its data folder so),
# not by a run sweeping: a bounded wait, then one line, and nothing opened.
mkdir xlocked
start=$SECONDS
run 1 flock -x xlocked "$SEALTIP" open -k inv.key -o xlocked good2.env && one_line &&
	check "xlocked: said" test "$err" = "sealtip: xlocked: locked by another program for 10 s (sealtipd's data folder?); nothing was opened"
check "xlocked: waited 10 s, not forever" test $((SECONDS - start)) -ge 9 -a $((SECONDS - start)) -le 40
check "xlocked: nothing opened" test -z "$(ls -A xlocked)"
finish_case $f0

# A ^C after the whole input was read, while the report is finished (the
# relay drained, files synced) and not yet moved into place: nothing of it
# is kept either (tests/tools/signal_inject.c raises it at end of input).
at_end_of() {
	local file=$1; shift
	preloaded "$SIGNAL_INJECT" SEALTIP_TEST_SIGNAL_EOF_FILE="$file" "$@"
}
begin interrupted-at-the-end; f0=$failed
head -c 3000000 /dev/urandom > end.bin
"$SEALTIP" seal -r inv.pub --field what=x --file end.bin -o end-large.env
"$SEALTIP" seal -r inv.pub --field what=x -o end-small.env
for env in end-large.env end-small.env; do
	run 130 at_end_of "$PWD/$env" "$SEALTIP" open -k inv.key -o end-out $env && one_line &&
		check "$env: says so" grep -qx "sealtip: $env: interrupted; nothing of it was kept" "$WORK/stderr"
	check "$env: nothing left, not even DIR" test ! -e end-out
done
run 130 at_end_of "$EXPORTS/one" "$SEALTIP" open -k alice.key -o end-out "$EXPORTS/one" && one_line &&
	check "export: says so" grep -qx "sealtip: $EXPORTS/one: interrupted; no report from it was kept" "$WORK/stderr"
check "export: nothing left, no .sealtip-log" test ! -e end-out
# A report kept before the signal is said on stdout all the same.
run 130 at_end_of "$PWD/end-large.env" "$SEALTIP" open -k inv.key -o end-out end-small.env end-large.env &&
	check "the first one's line" test "$out" = "end-small.env: opened into end-out/end-small (0 attachments)"
check "the first one kept, only it" test "$(ls -A end-out)" = end-small
rm -f end.bin
finish_case $f0

# keygen interrupted while it writes: its temp file, hidden, would hold the
# secret key (unprotected here), so nothing of the pair may stay behind.
at_first_write() {
	local dir=$1; shift
	preloaded "$SIGNAL_INJECT" SEALTIP_TEST_SIGNAL_WRITE_DIR="$dir" "$@"
}
begin keygen-interrupted; f0=$failed
mkdir kgi
run 130 at_first_write "$WORK/kgi" "$SEALTIP" keygen --unprotected -o kgi/k && one_line &&
	check "says so" test "$err" = "sealtip: kgi/k.key: interrupted; nothing was written"
check "nothing left, no temp file" test -z "$(ls -A kgi)"
finish_case $f0

begin pipes-and-folders; f0=$failed
# An export through a pipe is still an export (its magic is read, not peeked).
# (Process substitution, not `cat |`: run must count in this shell.)
run 0 "$SEALTIP" open -k alice.key -o xpipe /dev/stdin < <(cat "$EXPORTS/one") &&
	check "export from a pipe" grep -qx "/dev/stdin: opened 1 report, indexes 0 to 0, into xpipe" "$WORK/stdout"
check "its report and log state" test -f xpipe/report-000000/report.txt -a -f xpipe/.sealtip-log
run 0 "$SEALTIP" open -k inv.key -o epipe /dev/stdin < <(cat r1.env) &&
	check "envelope from a pipe" test -f epipe/stdin/report.txt
# A pipe that carries less than a magic's worth is an envelope cut short.
run 1 "$SEALTIP" open -k inv.key -o shortpipe /dev/stdin < <(printf 'seal') && one_line
check "short pipe: nothing" test ! -e shortpipe
# A folder as INPUT: the read's own reason, not a stale one.
run 1 "$SEALTIP" open -k inv.key -o fout adir && one_line &&
	check "folder input said" grep -qx "sealtip: adir: read failed: Is a directory" "$WORK/stderr"
check "folder input: nothing" test ! -e fout
finish_case $f0

# Output that cannot be written (a full disk, here a file size limit): said
# with its reason, nothing of the report left. A small envelope is opened on
# one thread, a large one through the relay: both ways.
begin open-write-failure; f0=$failed
head -c 300000 /dev/urandom > mid.bin && head -c 3000000 /dev/urandom > large.bin
"$SEALTIP" seal -r inv.pub --field what=x --file mid.bin -o one-thread.env
"$SEALTIP" seal -r inv.pub --field what=x --file large.bin -o two-threads.env
mkdir limited
run 1 bash -c 'ulimit -f 100; trap "" XFSZ; exec "$0" open -k inv.key -o limited one-thread.env two-threads.env' "$SEALTIP" &&
	check "said for each" test "$err" = "sealtip: one-thread.env: cannot write the report: File too large
sealtip: two-threads.env: cannot write the report: File too large"
check "nothing left" test -z "$(ls -A limited)"
run 0 "$SEALTIP" open -k inv.key -o limited one-thread.env two-threads.env
check "both open without the limit" cmp mid.bin limited/one-thread/files/01-mid.bin
check "both open without the limit (2)" cmp large.bin limited/two-threads/files/01-large.bin
rm -f mid.bin large.bin
finish_case $f0

# A stdout that fails is said, exit 1, as keygen and fingerprint do; the
# report itself is kept. It exited 0 with its "opened into" line lost.
begin open-stdout-failing; f0=$failed
run 1 bash -c 'exec "$0" open -k alice.key -o stdout-full "$1" >/dev/full' "$SEALTIP" "$VECTORS/basic.env" &&
	check "said" test "$err" = "sealtip: cannot write to standard output (the reports opened are kept in stdout-full)"
check "the report kept" test -f stdout-full/basic/report.txt
finish_case $f0

begin never-overwrite; f0=$failed
before=$(tree_sum out)
run 1 "$SEALTIP" open -k inv.key -o out r1.env && one_line
check "says exists" grep -q "already exists" "$WORK/stderr"
check "first report untouched" test "$before" = "$(tree_sum out)"
before=$(sha256sum r1.env)
run 1 "$SEALTIP" seal -r inv.pub --field what=x -o r1.env && one_line
check "seal output not overwritten" test "$before" = "$(sha256sum r1.env)"
finish_case $f0

begin malformed-key-files; f0=$failed
mkdir kout
printf 'untrusted comment: x\nnot base64!!\n' > bad.key
run 1 "$SEALTIP" open -k bad.key -o kout r1.env && one_line
check "names key file" grep -q "bad.key" "$WORK/stderr"
run 1 "$SEALTIP" open -k inv.pub -o kout r1.env && one_line
head -c 100 inv.key > cut.key
run 1 "$SEALTIP" open -k cut.key -o kout r1.env && one_line
run 1 "$SEALTIP" seal -r inv.key --field what=x -o k.env && one_line
check "bad keys: nothing written" test -z "$(ls -A kout)" -a ! -e k.env
finish_case $f0

# --- damaged envelopes: one line naming the input, exit 1, nothing written --
run 0 "$SEALTIP" seal -r inv.pub --field what=small -o small.env
size=$(stat -c %s small.env)
begin flipped-bytes; f0=$failed
mkdir flips
for ((pos = 0; pos < size; pos += 5)); do
	cp small.env flip.env
	printf "$(printf '\\%03o' $(( ($(od -An -tu1 -j$pos -N1 small.env) ^ 1) )))" |
		dd of=flip.env bs=1 seek=$pos conv=notrunc status=none
	run 1 "$SEALTIP" open -k inv.key -o flips flip.env || break
	one_line || { fail "not one line at $pos: $err"; break; }
	grep -q "flip.env" "$WORK/stderr" || { fail "input not named at $pos"; break; }
done
check "flips: nothing written" test -z "$(ls -A flips)"
finish_case $f0

begin truncated-and-trailing; f0=$failed
mkdir cuts
for n in 0 7 8 9 100 $((size - 17)) $((size - 1)); do
	head -c $n small.env > cut.env
	run 1 "$SEALTIP" open -k inv.key -o cuts cut.env && one_line
done
{ cat small.env; printf 'x'; } > trailing.env
run 1 "$SEALTIP" open -k inv.key -o cuts trailing.env && check "trailing said" grep -q "trailing" "$WORK/stderr"
{ printf 'sealtip\002'; tail -c +9 small.env; } > v2.env
run 1 "$SEALTIP" open -k inv.key -o cuts v2.env && check "version said" grep -q "version" "$WORK/stderr"
check "cuts: nothing written" test -z "$(ls -A cuts)"
finish_case $f0

# --- the independent implementation's vectors ---------------------------
begin shared-vectors-positive; f0=$failed
run 0 "$SEALTIP" open -k alice.key -o vec "$VECTORS/basic.env" "$VECTORS/two-recipients.env" \
	"$VECTORS/chunk-boundary.env" "$VECTORS/hostile-names.env"
run 0 "$SEALTIP" open -k bob.key -o vecbob "$VECTORS/two-recipients.env"
check "basic Khmer" grep -qF "មន្ត្រីអន្តោប្រវេសន៍" vec/basic/report.txt
check "receipt.jpg sha" test "$(sha256sum < vec/two-recipients/files/01-receipt.jpg | cut -c1-64)" = e55e15abe0640bbc69a0b8c5babc7602b6841fd6c37c879959bc8e5c7085f4ed
check "empty file" test -f vec/two-recipients/files/02-empty.bin -a ! -s vec/two-recipients/files/02-empty.bin
check "ledger sha" test "$(sha256sum < vec/chunk-boundary/files/01-ledger.pdf | cut -c1-64)" = 9e643ab75d3a5eb7d8bfb3f8cac289efc1dbfa786dce99a6752ad1e4f1103956
mkdir carol-out
run 1 "$SEALTIP" open -k carol.key -o carol-out "$VECTORS/two-recipients.env" && one_line
check "carol: nothing" test -z "$(ls -A carol-out)"
finish_case $f0

begin hostile-names; f0=$failed
h=vec/hostile-names/files
check "15 files, all inside" test "$(find vec/hostile-names -type f -path '*/files/*' | wc -l)" -eq 15
check "nothing escaped to /tmp" test ! -e /tmp/sealtip-absolute.txt
check "nothing beside the output" test "$(ls -A "$WORK/vec")" = "$(printf 'basic\nchunk-boundary\nhostile-names\ntwo-recipients')"
check "no hidden or dot names" test -z "$(find "$h" -mindepth 1 -name '.*')"
check "no control characters" test -z "$(find "$h" -name "*[[:cntrl:]]*")"
check "no backslash" test -z "$(find "$h" -name '*\\*')"
check "every name short" test -z "$(find "$h" -type f -printf '%f\n' | awk 'length($0) > 200')"
check "duplicates kept apart" test -f "$h/04-ok.txt" -a -f "$h/05-ok.txt"
check "CON rewritten" test -f "$h/10-CON"
check "Khmer name kept" test -f "$h/15-ខ្មែរ.txt"
check "no UNVERIFIED" test -z "$(find "$h" -name '*.UNVERIFIED')"
check "original names in report.txt" grep -qF '"../../etc/passwd"' vec/hostile-names/report.txt
check "NUL shown escaped" grep -qF 'nul\u0000byte.txt' vec/hostile-names/report.txt
for f in "$h"/*; do
	# Its block starts "N. files/NN-" (a long name wraps onto ": " rows).
	number=$(basename "$f" | cut -d- -f1)
	want=$(awk -v head="$((10#$number)). files/$number-" 'index($0, head) == 1 { found = 1 }
		found && sub(/^    sha256: /, "") { print; exit }' vec/hostile-names/report.txt)
	[ "$(sha256sum < "$f" | cut -c1-64)" = "$want" ] || fail "content of $f"
done
finish_case $f0

# An envelope's own file name makes its folder: never a hidden one, and
# never DIR's .sealtip-log, which would stop every later export into DIR.
begin dot-input-names; f0=$failed
cp "$VECTORS/basic.env" .sealtip-log.env && cp "$VECTORS/basic.env" .hidden.env
run 0 "$SEALTIP" open -k alice.key -o dots .sealtip-log.env .hidden.env
check "folders not hidden" test "$(ls -A dots)" = "$(printf '_hidden\n_sealtip-log')"
run 0 "$SEALTIP" open -k alice.key -o dots "$EXPORTS/one"
check "an export still opens there" test -f dots/.sealtip-log
finish_case $f0

for v in $(sed -n 's/.*"envelope": "\(bad-[^"]*\)".*/\1/p' "$VECTORS/negative.json"); do
	begin "refuse-$v"; f0=$failed
	rm -rf neg; mkdir neg
	run 1 "$SEALTIP" open -k alice.key -o neg "$VECTORS/$v" && one_line
	grep -qF "$v" "$WORK/stderr" || fail "input not named: $err"
	check "nothing written" test -z "$(ls -A neg)"
	finish_case $f0
done

# --- crafted payloads: wrong sha256 is kept aside, marked -----------------
# crafted_envelope MANIFEST FILEDATA OUT: a payload as given (manifest of
# under 64 KiB, then the files' bytes, then Padme padding), sealed to inv.pub.
crafted_envelope() {
	local mlen=${#1} unpadded E S step padded
	unpadded=$((4 + mlen + ${#2}))
	# padme for this small size: round up to a multiple of 2^(E-S)
	E=$(awk -v l=$unpadded 'BEGIN{e=0; while (2^(e+1) <= l) e++; print e}')
	S=$(awk -v e=$E 'BEGIN{s=0; while (2^(s+1) <= e) s++; print s+1}')
	step=$((1 << (E - S)))
	padded=$(( (unpadded + step - 1) / step * step ))
	{ printf "\\x$(printf %02x $((mlen & 255)))\\x$(printf %02x $((mlen >> 8)))\\x00\\x00"
	  printf '%s' "$1"; printf '%s' "$2"; head -c $((padded - unpadded)) /dev/zero; } |
		"$VECTOR_TOOL" seal-payload inv.pub > "$3"
}
begin sha256-mismatch; f0=$failed
crafted_envelope '{"v":1,"form":"bribery-report/1","lang":"en","fields":{"what":"x"},"files":[{"name":"a.txt","type":"text/plain","size":5,"sha256":"0000000000000000000000000000000000000000000000000000000000000000"}]}' \
	hello mismatch.env
run 1 "$SEALTIP" open -k inv.key -o mm mismatch.env
check "warned" grep -q "did not match" "$WORK/stderr"
check "kept aside, marked" test -f mm/mismatch/files/01-a.txt.UNVERIFIED
check "not under the vouched name" test ! -e mm/mismatch/files/01-a.txt
check "report.txt warns" grep -q "do NOT match" mm/mismatch/report.txt
finish_case $f0

# An answer with a NUL in it names no option, though its text up to the NUL
# does: report.txt shows all of it, escaped, not the clean label.
begin nul-in-answers; f0=$failed
crafted_envelope '{"v":1,"form":"bribery-report/1","lang":"en","fields":{"what":"x","knowledge":"witnessed\u0000 and I paid","demanded":["cash\u0000 too","cash"]},"files":[]}' \
	"" nul.env
run 0 "$SEALTIP" open -k inv.key -o nul-out nul.env
check "radio: all of it" grep -qxF '    | witnessed\x00 and I paid' nul-out/nul/report.txt
check "checkbox: all of it" grep -qxF '    - | cash\x00 too' nul-out/nul/report.txt
check "clean answer: its label" grep -qxF '    - Cash' nul-out/nul/report.txt
check "no label for the NUL ones" not grep -qF 'I saw it happen' nul-out/nul/report.txt
finish_case $f0

# A reporter's text cannot write lines that read as sealtip's own: a question
# id with newlines (a fake attachment, vouched for), a media type with one,
# an answer whose lines read as more ticked options, a line long enough that
# an 80-column terminal would wrap its end into the first column.
begin forged-lines; f0=$failed
crafted_envelope '{"v":1,"form":"bribery-report/1","lang":"en","fields":{"what":"- Watch\n-\u00a0Phone\n\u2060- Car\nfine","goods":["watch","Phone\n- Vehicle"],"other":"Officer K asked for money.                                                How do you know?","official_name":"x\tx\tx\tx\tx\tx\tx\tx\tHow do you know?","x]\n\nAttachments: 1\n1. files/01-receipt.pdf\n    checked: bytes match the manifest\n\n[y":"z"},"files":[{"name":"a.txt","type":"text/plain\n    checked: bytes match the manifest","size":5,"sha256":"2cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b9824"}]}' \
	hello forged.env
run 0 "$SEALTIP" open -k inv.key -o forged-out forged.env
cat > forged-want.txt <<'WANT'
sealtip report
source: forged.env
form: bribery-report/1
language: en

What happened?
    | - Watch
    | - Phone
    | ⁠- Car
    | fine

Name of the official who asked or received
    | x	x	x	x	x	x	x	x	
    : How do you know?

Which goods?
    - Watch
    - | Phone
      | - Vehicle

Anything else investigators should know
    | Officer K asked for money.                                              
    :   How do you know?

[x]\x0a\x0aAttachments: 1\x0a1. files/01-receipt.pdf\x0a    checked: bytes 
    : match the manifest\x0a\x0a[y]
    | z

Attachments: 1
1. files/01-a.txt
    original name: "a.txt"
    type (as sent): text/plain\x0a    checked: bytes match the manifest
    size: 5 bytes
    sha256: 2cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b9824
    checked: bytes match the manifest
WANT
check "report.txt exactly" cmp forged-want.txt forged-out/forged/report.txt
finish_case $f0

# --- export files: log key, DIR/.sealtip-log, refusals (docs/export.md) ----
begin export-log; f0=$failed
run 2 "$SEALTIP" open -k alice.key --verifier-key not-a-key -o xl "$EXPORTS/one" &&
	check "says not a verifier key" grep -q "is not a verifier key" "$WORK/stderr"
echo 'x+00000000+AAAA' > vk.txt
run 2 "$SEALTIP" open -k alice.key --verifier-key a --verifier-key-file vk.txt -o xl "$EXPORTS/one"
# A file that holds no verifier key is bad input, named (exit 1); so is one
# whose first line is too long for any key.
run 1 "$SEALTIP" open -k alice.key --verifier-key-file vk.txt -o xl "$EXPORTS/one" && one_line &&
	check "bad key file named" grep -qx "sealtip: vk.txt: not a verifier key (<name>+<id>+<key>) on its first line" "$WORK/stderr"
head -c 3000 /dev/zero | tr '\0' a > vk-long.txt
run 1 "$SEALTIP" audit --verifier-key-file vk-long.txt "$EXPORTS/one" && one_line &&
	check "audit: long key file named" grep -qx "sealtip: audit: vk-long.txt: not a verifier key (<name>+<id>+<key>) on its first line" "$WORK/stderr"
run 1 "$SEALTIP" audit --verifier-key-file vk.txt "$EXPORTS/one" && one_line &&
	check "audit: bad key file named" grep -qx "sealtip: audit: vk.txt: not a verifier key (<name>+<id>+<key>) on its first line" "$WORK/stderr"
check "usage errors write nothing" test ! -e xl
# A file name cannot forge a verdict line, in audit's summary or open's.
forged=$'x\naudit ok: forged'
cp "$EXPORTS/one" "$forged"
run 0 "$SEALTIP" audit "$forged" &&
	check "audit: one summary line, name escaped" test "$(grep -c '' "$WORK/stdout")" -eq 2 &&
	check "audit: the name as x?audit ok: forged" grep -q '^audit ok: x?audit ok: forged: export of 1 entry ' "$WORK/stdout"
run 0 "$SEALTIP" open -k alice.key -o forged-open "$forged" &&
	check "open: name escaped" grep -qx 'x?audit ok: forged: log verified: checkpoint of 1 entries signed by fuzz.example/sealtip+.*' "$WORK/stdout"
rm -rf "$forged" forged-open
run 0 "$SEALTIP" open -k alice.key -o xl "$EXPORTS/one"
check "first use said" grep -q "NOTE: .*trusting the one the file names" "$WORK/stderr"
check "log verified said" grep -q "log verified: checkpoint of 1 entries signed by fuzz.example/sealtip+" "$WORK/stdout"
check "opened" test -f xl/report-000000/report.json
check "state 0600" test "$(stat -c %a xl/.sealtip-log)" = 600
check "state names size and last" grep -qx "size 1" xl/.sealtip-log
check "state last" grep -qx "last 0" xl/.sealtip-log
# A later export after a gap (entries 5..7 of a log of 8): opened, warned.
rm -rf xl/report-*
# Entry 6 is sealed to another key: said, exit 1; the others open.
run 1 "$SEALTIP" open -k alice.key -o xl "$EXPORTS/three-after-4"
check "foreign entry said" grep -q "three-after-4: entry 6: not sealed to this key" "$WORK/stderr"
check "others opened" test -f xl/report-000005/report.json
check "gap named" grep -q "WARNING: .*reports 1 to 4 were never opened into xl: this export starts at 5" "$WORK/stderr"
check "last moved" grep -qx "last 7" xl/.sealtip-log
# The same key given explicitly is fine; another key is refused, nothing written.
key=$(sed -n 's/^key //p' xl/.sealtip-log)
before=$(tree_sum xl)
other=fuzz.example/sealtip+fb2cef24+AUJCQkJCQkJCQkJCQkJCQkJCQkJCQkJCQkJCQkJCQkJC
run 1 "$SEALTIP" open -k alice.key --verifier-key "$other" -o xl "$EXPORTS/one" && one_line &&
	check "replaced key said" grep -q "verifier-key differs from the log key" "$WORK/stderr"
run 1 "$SEALTIP" open -k alice.key --verifier-key "$other" -o xother "$EXPORTS/one" && one_line &&
	check "foreign signer said" grep -q "the checkpoint is signed by $key, not by the trusted log key $other" "$WORK/stderr"
check "nothing kept in xother" test ! -e xother
run 1 "$SEALTIP" open -k alice.key -o xl "$EXPORTS/one" && one_line &&
	check "rollback said" grep -q "the log was rolled back: its checkpoint has 1 entries" "$WORK/stderr"
check "refusals change nothing" test "$before" = "$(tree_sum xl)"
# A damaged state file stops open for that folder.
mkdir dmg && echo "sealtip-log 1" > dmg/.sealtip-log
run 1 "$SEALTIP" open -k alice.key -o dmg "$EXPORTS/one" && one_line &&
	check "damaged said" grep -q "sealtip-log: damaged" "$WORK/stderr"
check "nothing opened into dmg" test "$(ls -A dmg)" = ".sealtip-log"
# Version 1 files are refused by name.
{ printf 'sealtipE\001'; head -c 8 /dev/zero; printf '\377'; head -c 48 /dev/zero; } > v1.bin
run 1 "$SEALTIP" open -k alice.key -o v1out v1.bin && one_line &&
	check "v1 said" grep -q "version 1 carries no signed checkpoint" "$WORK/stderr"
check "nothing from v1" test ! -e v1out
run 0 "$SEALTIP" audit "$EXPORTS/three-after-4" &&
	check "audit of an export" grep -q "^audit ok: .*three-after-4: export of 3 entries (indexes 5 to 7) of a log of 8" "$WORK/stdout"
finish_case $f0

# Two runs opening exports into one DIR at the same time: one reads and
# saves DIR/.sealtip-log at a time. Before, both read it at their start and
# the later save put the older checkpoint back over the newer one, and DIR
# held reports its .sealtip-log did not count (each later export stopped at
# them: "already exists").
begin concurrent-exports; f0=$failed
"$SEEDGEN" export 4 "$VECTORS/basic.env" > conc-a.bin
"$SEEDGEN" export 8 "$VECTORS/basic.env" > conc-b.bin
mkfifo conc.fifo
"$SEALTIP" open -k alice.key -o conc conc.fifo > conc-a.out 2> conc-a.err & apid=$!
exec 7> conc.fifo
head -c 100 conc-a.bin >&7
# The first run has its file's first bytes: it has read DIR's state and
# waits for the rest of the header.
for i in $(seq 300); do [ -e conc/.sealtip-log.lock ] && break; sleep 0.1; done
"$SEALTIP" open -k alice.key -o conc conc-b.bin > conc-b.out 2> conc-b.err 7>&- & bpid=$!
for i in $(seq 300); do grep -q waiting conc-b.err && break; kill -0 $bpid 2>/dev/null || break; sleep 0.1; done
tail -c +101 conc-a.bin >&7; exec 7>&-
wait $apid; astatus=$?; wait $bpid; bstatus=$?
check "first run ok" test "$astatus" -eq 0
check "second run ok" test "$bstatus" -eq 0
check "second run said it waited" grep -qx "sealtip: conc-b.bin: waiting for another sealtip open to finish its export into conc" conc-b.err
check "both reports there" test -f conc/report-000004/report.json -a -f conc/report-000008/report.json
check "the newer checkpoint remembered" grep -qx "size 9" conc/.sealtip-log
check "every report counted" grep -qx "last 8" conc/.sealtip-log
check "no lock file left" test "$(ls -A conc)" = "$(printf '.sealtip-log\nreport-000004\nreport-000008')"
finish_case $f0

# --- a folder whose fsync fails: nothing is claimed written ----------------
# failing_fsync DIR COMMAND...: COMMAND with every fsync of DIR failing (EIO),
# as on a failing disk.
failing_fsync() {
	local dir=$1; shift
	preloaded "$FAIL_FSYNC" SEALTIP_TEST_FAIL_FSYNC_DIR="$dir" "$@"
}
begin unsynced-folder; f0=$failed
mkdir frail
run 1 failing_fsync frail "$SEALTIP" keygen --unprotected -o frail/k && one_line &&
	check "keygen said" grep -qx "sealtip: frail/k.key: cannot write: Input/output error" "$WORK/stderr"
check "keygen: nothing" test -z "$(ls -A frail)"
run 1 failing_fsync frail "$SEALTIP" seal -r inv.pub --field what=x -o frail/x.env && one_line &&
	check "seal said" grep -qx "sealtip: frail/x.env: Input/output error" "$WORK/stderr"
check "seal: nothing" test -z "$(ls -A frail)"
"$SEALTIP" seal -r inv.pub --field what=unsynced --file inv.pub -o unsynced.env
run 1 failing_fsync frail "$SEALTIP" open -k inv.key -o frail unsynced.env && one_line &&
	check "open said" grep -qx "sealtip: unsynced.env: cannot move the report into frail/unsynced: Input/output error" "$WORK/stderr"
check "open: nothing" test -z "$(ls -A frail)"
run 1 failing_fsync frailnew "$SEALTIP" open -k inv.key -o frailnew unsynced.env && one_line
check "open: the folder it made is gone" test ! -e frailnew
run 1 failing_fsync frail "$SEALTIP" open -k alice.key -o frail "$EXPORTS/one" && one_line &&
	check "export said" grep -qx "sealtip: $EXPORTS/one: entry 0: cannot move the report into frail/report-000000: Input/output error; no report from it was kept" "$WORK/stderr"
check "export: nothing, no .sealtip-log" test -z "$(ls -A frail)"
# .sealtip-log renamed in but not made durable after the report's rename:
# the report is taken back and the state put back as it was (none here).
SEALTIP_TEST_FAIL_FSYNC_AFTER=1 run 1 failing_fsync frail "$SEALTIP" open -k alice.key -o frail "$EXPORTS/one" &&
	one_line && check "state said" grep -qx "sealtip: $EXPORTS/one: cannot save frail/.sealtip-log: Input/output error; no report from it was kept" "$WORK/stderr"
check "state: nothing" test -z "$(ls -A frail)"
# With a state from before, that state is what stays, byte for byte.
mkdir kept && "$SEALTIP" open -k alice.key -o kept "$EXPORTS/one" >/dev/null 2>&1
before=$(tree_sum kept)
SEALTIP_TEST_FAIL_FSYNC_AFTER=1 run 1 failing_fsync kept "$SEALTIP" open -k alice.key -o kept "$EXPORTS/three-after-4" &&
	check "newer state said" grep -qx "sealtip: $EXPORTS/three-after-4: cannot save kept/.sealtip-log: Input/output error; no report from it was kept" "$WORK/stderr"
check "old state and reports as they were" test "$(tree_sum kept)" = "$before"
# The fault touches only that folder: the same commands work beside it.
run 0 failing_fsync elsewhere "$SEALTIP" keygen --unprotected -o frail/k
run 0 failing_fsync elsewhere "$SEALTIP" open -k inv.key -o frail unsynced.env
check "beside it: written" test -f frail/k.key -a -f frail/unsynced/report.txt
finish_case $f0

echo "cli: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
