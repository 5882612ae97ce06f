#!/usr/bin/env python3
"""Makes tests/vectors/own/: envelopes whose payloads are built here, in
Python, straight from the design's Payload section (not by sealtip's C code),
then sealed with build/tools/vector_tool. The C and JavaScript readers must
decrypt each to exactly NAME.payload. Run once; the outputs are checked in and
never regenerated (sealed boxes are randomised, so a rerun differs).

    make build/tools/vector_tool && python3 tests/vectors/make-own.py
"""
import hashlib, json, os, struct, subprocess, sys

HERE = os.path.dirname(os.path.abspath(__file__))
OUT = os.path.join(HERE, "own")
TOOL = os.path.join(HERE, "..", "..", "build", "tools", "vector_tool")

# Fixed test keys (X25519 secret keys); test data, never used for anything real.
KEYS = {
    "dana": "4f2d7c1e9a0b3c5d6e7f8091a2b3c4d5e6f708192a3b4c5d6e7f8091a2b3c4d5",
    "eli": "1122334455667788990011223344556677889900aabbccddeeff001122334455",
}


def padme(length):
    if length < 2:
        return length
    e = length.bit_length() - 1
    s = e.bit_length()  # floor(log2 e) + 1
    z = e - s
    mask = (1 << z) - 1
    return (length + mask) & ~mask


def deterministic_bytes(label, n):
    out = bytearray()
    counter = 0
    while len(out) < n:
        out += hashlib.sha256(f"{label}:{counter}".encode()).digest()
        counter += 1
    return bytes(out[:n])


def build(name, recipients, fields, files, lang="km"):
    manifest = {"v": 1, "form": "bribery-report/1", "lang": lang, "fields": fields,
                "files": [{"name": f[0], "type": f[1], "size": len(f[2]),
                           "sha256": hashlib.sha256(f[2]).hexdigest()} for f in files]}
    text = json.dumps(manifest, ensure_ascii=False, separators=(",", ":")).encode()
    body = struct.pack("<I", len(text)) + text + b"".join(f[2] for f in files)
    payload = body + bytes(padme(len(body)) - len(body))
    pubs = [os.path.join(OUT, r + ".pub") for r in recipients]
    env = subprocess.run([TOOL, "seal-payload", *pubs], input=payload,
                         capture_output=True, check=True).stdout
    with open(os.path.join(OUT, name + ".env"), "wb") as f:
        f.write(env)
    with open(os.path.join(OUT, name + ".payload"), "wb") as f:
        f.write(payload)
    meta = {"envelope": name + ".env", "payload": name + ".payload",
            "recipients": recipients, "payload_len": len(payload),
            "unpadded_len": len(body), "manifest": manifest,
            "payload_sha256": hashlib.sha256(payload).hexdigest(),
            "envelope_sha256": hashlib.sha256(env).hexdigest()}
    with open(os.path.join(OUT, name + ".json"), "w", encoding="utf-8") as f:
        json.dump(meta, f, ensure_ascii=False, indent=1)
        f.write("\n")


def main():
    os.makedirs(OUT, exist_ok=True)
    keys = {}
    for who, sk in KEYS.items():
        pub = subprocess.run([TOOL, "public-key", sk], capture_output=True,
                             check=True).stdout
        with open(os.path.join(OUT, who + ".pub"), "wb") as f:
            f.write(pub)
        keys[who] = {"box_sk": sk, "pub_file": who + ".pub",
                     "key_id": pub.split(b"\n")[0].split()[-1].decode()}
    with open(os.path.join(OUT, "keys.json"), "w") as f:
        json.dump(keys, f, indent=1)
        f.write("\n")

    build("khmer-two-files", ["dana"],
          {"what": "មន្ត្រីគយបានទាមទារទូរស័ព្ទ iPhone និងប្រាក់ ៥០០ ដុល្លារ",
           "official_name": "លោក ក", "goods": ["phone", "watch"],
           "knowledge": "took_part"},
          [("រូបថត.jpg", "image/jpeg", deterministic_bytes("photo", 70000)),
           ("note.txt", "text/plain", "ខ្ញុំបានឃើញ\n".encode())])
    build("two-recipients", ["dana", "eli"], {"what": "Cash at the border post"},
          [("empty.bin", "application/octet-stream", b"")], lang="en")
    # 4 + manifest + file = 65000 unpadded -> padme 65536: one full FINAL chunk.
    fixed = {"what": "one full chunk"}
    probe = json.dumps({"v": 1, "form": "bribery-report/1", "lang": "en", "fields": fixed,
                        "files": [{"name": "a.bin", "type": "application/octet-stream",
                                   "size": 0, "sha256": "0" * 64}]},
                       ensure_ascii=False, separators=(",", ":")).encode()
    size = 65000 - 4 - len(probe)
    size = 65000 - 4 - len(probe) - (len(str(size)) - 1)
    build("one-full-chunk", ["dana"], fixed,
          [("a.bin", "application/octet-stream", deterministic_bytes("full", size))], lang="en")
    build("no-files", ["eli"], {"what": "x"}, [], lang="en")
    for name in ("one-full-chunk",):
        meta = json.load(open(os.path.join(OUT, name + ".json")))
        assert meta["payload_len"] == 65536, meta["payload_len"]


if __name__ == "__main__":
    sys.exit(main())
