#!/bin/sh
# make run: starts a demo intake server on 127.0.0.1:8080. Everything it
# makes lives in ./var/ (git-ignored): the data folder, an export token and,
# unless var/sealtipd.conf names recipients, a DEMO investigator key that is
# not passphrase-protected — for trying sealtip out, never for real reports.
set -eu
BUILD=${BUILD:-build}
VAR=var
LISTEN=${LISTEN:-127.0.0.1:8080}
umask 077
mkdir -p "$VAR/data"

demo_key="$VAR/demo-investigator-UNPROTECTED"
if [ -f "$VAR/sealtipd.conf" ] && grep -q '^[[:space:]]*recipient[[:space:]]*=' "$VAR/sealtipd.conf"; then
	config="--config $VAR/sealtipd.conf"
	key_note="recipients from $VAR/sealtipd.conf"
	pub=$(sed -n 's/^[[:space:]]*recipient[[:space:]]*=[[:space:]]*//p' "$VAR/sealtipd.conf" | head -1)
	key="YOUR-KEY.key"
else
	if [ ! -f "$demo_key.key" ]; then
		"$BUILD/sealtip" keygen --unprotected -o "$demo_key" >/dev/null 2>&1
	fi
	config="--recipient $demo_key.pub"
	key_note="DEMO key, not passphrase-protected: $demo_key.key"
	pub="$demo_key.pub"
	key="$demo_key.key"
fi
if [ ! -f "$VAR/export-token" ]; then
	head -c 32 /dev/urandom | od -An -tx1 -v | tr -d ' \n' > "$VAR/export-token"
fi

# The command-line report goes in var/, the demo's own folder (mode 0700),
# not /tmp where another user could have put a file of that name first;
# under a name not yet taken, since sealtip never overwrites.
n=1
while [ -e "$VAR/report-$n.env" ] || [ -e "$VAR/receipt-$n.json" ]; do n=$((n + 1)); done
fingerprint=$("$BUILD/sealtip" fingerprint "$pub")
cat <<TXT
sealtip demo
  page:         http://$LISTEN/
  investigator: $fingerprint
                ($key_note)

Report from the command line instead of the page:
  $BUILD/sealtip seal -r $pub --field what="Asked for a Rolex to stop a deportation" -o $VAR/report-$n.env
  $BUILD/sealtip submit http://$LISTEN/ $VAR/report-$n.env -o $VAR/receipt-$n.json

Then, as the investigator (export is safe while the server runs):
  $BUILD/sealtip export --db $VAR/data/reports.db -o $VAR/export.bin
  $BUILD/sealtip open -k $key -o $VAR/reports $VAR/export.bin
or over HTTP with the export token:
  $BUILD/sealtip fetch http://$LISTEN --token-file $VAR/export-token -o $VAR/export-http.bin

Ctrl-C stops the server.
TXT
# shellcheck disable=SC2086 # config holds two words on purpose
# The log's origin names the deployment and is fixed at its first start; a
# .invalid name says plainly that this log is a demo.
exec "$BUILD/sealtipd" --data "$VAR/data" $config --listen "$LISTEN" \
	--origin demo.sealtip.invalid/log --export-token-file "$VAR/export-token"
