#!/bin/sh
# Builds the served page into DEST (default build/web): the files of web/
# that are served, plus vendor/sodium.js, one classic script made of
# libsodium.js (sumo) and its wrappers from node_modules (pinned by
# package-lock.json; see docs/web-crypto.md for why one file), plus
# i18n/languages.json, the list of languages made from the files in web/i18n/
# (so adding a language is adding a file). Everything is written to a temp
# folder beside DEST, then renamed into place.
#
# Beside the tree (not in it, so it is not served and does not list itself)
# it writes DEST.manifest: one sha256sum line per served file, sorted by
# path in byte order ("<sha256 hex>  <path relative to DEST>"). The operator
# publishes it; `sealtip audit --url URL --web-manifest FILE` checks that a
# live server serves exactly these bytes (docs/audit.md).
set -eu

dest=${1:-build/web}
web=$(dirname "$0")
modules=${NODE_MODULES:-node_modules}
sodium="$modules/libsodium-sumo/dist/modules-sumo/libsodium-sumo.js"
wrappers="$modules/libsodium-wrappers-sumo/dist/modules-sumo/libsodium-wrappers.js"

for f in "$sodium" "$wrappers"; do
	if [ ! -f "$f" ]; then
		echo "build.sh: $f is missing: run 'make deps' (npm ci) first" >&2
		exit 1
	fi
done

mkdir -p "$(dirname "$dest")"
tmp=$(mktemp -d "$dest.tmp.XXXXXX")
trap 'rm -rf "$tmp" "$tmp.list" "$tmp.manifest"' EXIT INT TERM

# What is served: pages, scripts, styles and data; never this script.
for f in "$web"/*.html "$web"/*.js "$web"/*.css "$web"/*.json "$web"/*.svg; do
	if [ -f "$f" ]; then cp "$f" "$tmp/"; fi
done
mkdir "$tmp/i18n" "$tmp/vendor"
cp "$web"/i18n/*.json "$tmp/i18n/"

# The wrappers read the global `libsodium` the first file defines; a newline
# between them keeps a trailing comment in one from swallowing the other.
{ cat "$sodium"; echo; cat "$wrappers"; echo; } > "$tmp/vendor/sodium.js"

node -e '
const fs = require("fs");
const dir = process.argv[1];
const languages = fs.readdirSync(dir).filter((f) => /^[a-z]{2,3}(-[A-Za-z0-9]+)*\.json$/.test(f)).sort()
  .map((f) => { const t = JSON.parse(fs.readFileSync(dir + "/" + f, "utf8")); return { lang: t.lang, name: t.name }; });
fs.writeFileSync(dir + "/languages.json", JSON.stringify(languages) + "\n");
' "$tmp/i18n"

chmod -R a+rX "$tmp"
# Every file, hidden ones excepted (the server never serves them); a name
# sha256sum would have to escape (space, backslash, newline) is refused.
(cd "$tmp" && find . -type f ! -path '*/.*' -printf '%P\n') | LC_ALL=C sort > "$tmp.list"
if grep '[^A-Za-z0-9._~+/-]' "$tmp.list" >&2; then
	echo "build.sh: these served file names have a character the manifest does not allow" >&2
	exit 1
fi
(cd "$tmp" && xargs -r -d '\n' sha256sum --) < "$tmp.list" > "$tmp.manifest"
rm -f "$tmp.list"

rm -rf "$dest.old"
if [ -e "$dest" ]; then mv "$dest" "$dest.old"; fi
mv "$tmp" "$dest"
rm -rf "$dest.old"
mv "$tmp.manifest" "$dest.manifest"
trap - EXIT INT TERM
