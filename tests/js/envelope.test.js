// web/envelope.js against the shared vectors (made by an independent Python
// implementation), against itself for every chunk-layout edge, and against
// the C tool `build/sealtip` when it has been built.
// Run: node --test tests/js/   (Node 18 and 20; real libsodium.js, no mocks)
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, webcrypto } from 'node:crypto';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

// Node 18 has no global crypto, which the ESM build of libsodium.js needs.
if (!globalThis.crypto) globalThis.crypto = webcrypto;
const { default: sodium } = await import('libsodium-wrappers-sumo');
await sodium.ready; // before any describe() body, which may use keys
const envelope = await import('../../web/envelope.js');
const {
  padmeLength, isPadmeLength, envelopeLength, plannedEnvelopeLength, preambleLength, keyId, fingerprint,
  parsePublicKeyFile, startEnvelope, createEnvelopeReader, createPayloadParser,
  sealReport, openReport, parseManifest, leafHash, createLeafHasher,
  createBlobCollector, readPieces, SealtipError, CHUNK_BYTES, SEALED_CHUNK_BYTES,
} = envelope;

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const vectorDir = path.join(root, 'tests/vectors/shared');
const buildDir = process.env.SEALTIP_BUILD ? path.resolve(root, process.env.SEALTIP_BUILD) : path.join(root, 'build');
const jsVectorDir = path.join(buildDir, 'js-vectors');
const sealtipTool = path.join(buildDir, 'sealtip');

const readVector = (name) => new Uint8Array(fs.readFileSync(path.join(vectorDir, name)));
const readJson = (name) => JSON.parse(fs.readFileSync(path.join(vectorDir, name), 'utf8'));
const sha256 = (bytes) => createHash('sha256').update(bytes).digest('hex');
const keys = readJson('keys.json');
const keyPairOf = (name) => ({
  boxPk: sodium.from_hex(keys[name].box_pk),
  boxSk: sodium.from_hex(keys[name].box_sk),
});

// Seals with startEnvelope and returns the envelope and the pieces it came in.
async function sealRaw(payload, boxPks) {
  const pieces = [];
  const writer = await startEnvelope(sodium, boxPks, async (piece) => { pieces.push(piece); });
  // Uneven writes, so chunk boundaries fall inside them.
  for (let offset = 0; offset < payload.length; offset += 40000) {
    await writer.write(payload.subarray(offset, offset + 40000));
  }
  const lengths = await writer.finish();
  return { bytes: Buffer.concat(pieces), pieces, lengths };
}

// Opens with createEnvelopeReader, fed in pieces of splitBytes.
function openRaw(envelopeBytes, keyPair, splitBytes = 65536) {
  const plaintext = [];
  const reader = createEnvelopeReader(sodium, keyPair, (bytes) => plaintext.push(bytes.slice()));
  for (let offset = 0; offset < envelopeBytes.length; offset += splitBytes) {
    reader.update(envelopeBytes.subarray(offset, offset + splitBytes));
  }
  const result = reader.finish();
  return { payload: Buffer.concat(plaintext), ...result };
}

// An independent reading of the layout rules, straight from DESIGN.md: split
// the ciphertext after the preamble into 65553-byte chunks and list the tags.
function chunkTags(envelopeBytes, keyPair) {
  const recipientCount = envelopeBytes[8];
  const preambleBytes = 9 + 88 * recipientCount + 24;
  const preamble = envelopeBytes.subarray(0, preambleBytes);
  const ownId = Buffer.from(keyId(sodium, keyPair.boxPk)).toString('hex');
  let fileKey = null;
  for (let index = 0; index < recipientCount; index++) {
    const entry = envelopeBytes.subarray(9 + 88 * index, 9 + 88 * (index + 1));
    if (Buffer.from(entry.subarray(0, 8)).toString('hex') === ownId) {
      fileKey = sodium.crypto_box_seal_open(entry.slice(8), keyPair.boxPk, keyPair.boxSk);
    }
  }
  const state = sodium.crypto_secretstream_xchacha20poly1305_init_pull(
    preamble.subarray(preambleBytes - 24), fileKey);
  const tags = [];
  const sizes = [];
  for (let offset = preambleBytes; offset < envelopeBytes.length; offset += SEALED_CHUNK_BYTES) {
    const cipher = envelopeBytes.subarray(offset, offset + SEALED_CHUNK_BYTES);
    const opened = sodium.crypto_secretstream_xchacha20poly1305_pull(
      state, cipher, tags.length === 0 ? preamble : null);
    assert.ok(opened, `chunk ${tags.length + 1} opens`);
    tags.push(opened.tag);
    sizes.push(opened.message.length);
  }
  return { tags, sizes };
}

function randomBytes(length) {
  const bytes = new Uint8Array(length);
  for (let offset = 0; offset < length; offset += 65536) {
    webcrypto.getRandomValues(bytes.subarray(offset, Math.min(length, offset + 65536)));
  }
  return bytes;
}

const MESSAGE = 0;
const FINAL = 3;

describe('Padmé', () => {
  test('padmeLength matches the table', () => {
    const table = [
      [0, 0], [1, 1], [2, 2], [3, 3], [4, 4], [7, 7], [8, 8], [9, 10], [17, 18], [33, 36],
      [255, 256], [418, 432], [2554, 2560], [3413, 3456], [65535, 65536], [65536, 65536],
      [65537, 67584], [130252, 131072], [2 ** 53 - 1, 2 ** 53], [2 ** 53, 2 ** 53],
      // Large values computed with Python's exact integers.
      [1099511627777, 1116691496960], [4503599627370497, 4573968371548160],
      [1000000000000007, 1002754604531712], [123456789012345, 124244813938688],
      [8589934591, 8589934592],
    ];
    for (const [unpadded, padded] of table) assert.equal(padmeLength(unpadded), padded, `padme(${unpadded})`);
  });

  test('padmeLength agrees with the floating-point formula where it is exact', () => {
    for (let length = 2; length < 70000; length++) {
      const exponent = Math.floor(Math.log2(length));
      const shift = exponent - (Math.floor(Math.log2(exponent)) + 1);
      const step = 2 ** shift;
      assert.equal(padmeLength(length), Math.ceil(length / step) * step, `padme(${length})`);
    }
  });

  test('isPadmeLength and rejected inputs', () => {
    assert.equal(isPadmeLength(432), true);
    assert.equal(isPadmeLength(131072), true);
    assert.equal(isPadmeLength(433), false);
    assert.equal(isPadmeLength(226), false);
    for (const bad of [-1, 1.5, 2 ** 53 + 2, NaN, '5']) {
      assert.throws(() => padmeLength(bad), { code: 'argument' });
    }
  });

  test('envelopeLength follows the chunk layout', () => {
    assert.equal(preambleLength(1), 121);
    assert.equal(envelopeLength(0, 1), 121 + 17);
    assert.equal(envelopeLength(432, 1), 570);
    assert.equal(envelopeLength(65536, 1), 121 + 65553);
    assert.equal(envelopeLength(131072, 1), 131227);
    assert.equal(envelopeLength(3456, 2), 3682);
  });
});

describe('public keys', () => {
  const aliceText = fs.readFileSync(path.join(vectorDir, 'alice.pub'), 'utf8');

  test('alice.pub: key id and fingerprint (fingerprint computed with python hashlib)', () => {
    const parsed = parsePublicKeyFile(sodium, aliceText);
    assert.equal(parsed.keyId, '874fc3c2ab6e810c');
    assert.equal(parsed.fingerprint, '4322 6113 d3b8 959f dbf7 5d6e 4cba e15a c2c1 c993');
    assert.equal(Buffer.from(parsed.boxPk).toString('hex'), keys.alice.box_pk);
    assert.equal(Buffer.from(parsed.signPk).toString('hex'), keys.alice.sign_pk);
    assert.equal(Buffer.from(keyId(sodium, parsed.boxPk)).toString('hex'), keys.alice.key_id);
    assert.equal(fingerprint(sodium, parsed.boxPk, parsed.signPk), parsed.fingerprint);
  });

  test('bob.pub and carol.pub fingerprints (python hashlib)', () => {
    const bob = parsePublicKeyFile(sodium, fs.readFileSync(path.join(vectorDir, 'bob.pub'), 'utf8'));
    const carol = parsePublicKeyFile(sodium, fs.readFileSync(path.join(vectorDir, 'carol.pub'), 'utf8'));
    assert.equal(bob.fingerprint, 'fe93 b1d4 76cb ae44 f40e 42a0 7433 0e59 d4c4 44e0');
    assert.equal(bob.keyId, keys.bob.key_id);
    assert.equal(carol.fingerprint, '8d26 6f1e 5bb7 7915 1812 fd20 117d 6b1d e341 4f9f');
    assert.equal(carol.keyId, keys.carol.key_id);
  });

  test('the file without its final newline is accepted', () => {
    assert.equal(parsePublicKeyFile(sodium, aliceText.trimEnd()).keyId, '874fc3c2ab6e810c');
  });

  test('malformed public key files are refused with key_format', () => {
    const [comment, encoded] = aliceText.trimEnd().split('\n');
    const lastChar = encoded[encoded.length - 2];
    const spareBitsSet = encoded.slice(0, -2) + String.fromCharCode(lastChar.charCodeAt(0) + 1) + '=';
    const otherTag = Buffer.from(encoded, 'base64');
    otherTag[3] = 0x78; // "stpx"
    const cases = {
      crlf: `${comment}\r\n${encoded}\r\n`,
      'no comment line': `${encoded}\n`,
      'wrong comment prefix': `untrusted-comment: x\n${encoded}\n`,
      'third line': `${comment}\n${encoded}\n\n`,
      'trailing space': `${comment}\n${encoded} \n`,
      'no padding': `${comment}\n${encoded.slice(0, -1)}\n`,
      'url-safe alphabet': `${comment}\n-${encoded.slice(1)}\n`,
      'spare bits set': `${comment}\n${spareBitsSet}\n`,
      'short key': `${comment}\n${Buffer.from(encoded, 'base64').subarray(0, 67).toString('base64')}\n`,
      'wrong tag': `${comment}\n${otherTag.toString('base64')}\n`,
      'control character in comment': `untrusted comment: a\u0001b\n${encoded}\n`,
      'too long': `untrusted comment: ${'x'.repeat(1024)}\n${encoded}\n`,
      empty: '',
    };
    for (const [why, text] of Object.entries(cases)) {
      assert.throws(() => parsePublicKeyFile(sodium, text), { code: 'key_format' }, why);
    }
  });
});

describe('shared vectors: must open', () => {
  for (const name of ['basic', 'two-recipients', 'chunk-boundary', 'hostile-names']) {
    const expected = readJson(`${name}.json`);
    for (const recipient of expected.recipients) {
      test(`${name} opens for ${recipient} with the exact manifest and files`, async () => {
        const envelopeBytes = readVector(expected.envelope);
        assert.equal(sha256(envelopeBytes), expected.envelope_sha256);
        const report = await openReport(sodium, keyPairOf(recipient), envelopeBytes);
        assert.deepStrictEqual(report.manifest, expected.manifest);
        assert.equal(report.payloadLength, expected.payload_len);
        assert.equal(padmeLength(expected.unpadded_len), expected.payload_len);
        assert.equal(4 + report.manifestBytes.length +
          expected.manifest.files.reduce((sum, file) => sum + file.size, 0), expected.unpadded_len);
        assert.equal(report.files.length, expected.manifest.files.length);
        report.files.forEach((bytes, index) => {
          assert.equal(bytes.length, expected.manifest.files[index].size, `file ${index} size`);
          assert.equal(sha256(bytes), expected.manifest.files[index].sha256, `file ${index} sha256`);
        });
        assert.deepEqual(report.recipientKeyIds, expected.recipients.map((who) => keys[who].key_id));
      });
    }
  }

  test('two-recipients is refused to carol: not_recipient', async () => {
    await assert.rejects(openReport(sodium, keyPairOf('carol'), readVector('two-recipients.env')),
      { code: 'not_recipient' });
  });

  test('chunk-boundary is two full chunks, the second FINAL, and nothing after', () => {
    const layout = chunkTags(readVector('chunk-boundary.env'), keyPairOf('alice'));
    assert.deepEqual(layout.tags, [MESSAGE, FINAL]);
    assert.deepEqual(layout.sizes, [65536, 65536]);
  });

  test('a vector opens whatever way its bytes are split', () => {
    const alice = keyPairOf('alice');
    const basic = readVector('basic.env');
    assert.ok(openRaw(basic, alice, 1).payload.equals(openRaw(basic, alice).payload), 'one byte at a time');
    const boundary = readVector('chunk-boundary.env');
    const whole = openRaw(boundary, alice, boundary.length).payload;
    assert.equal(whole.length, 131072);
    for (const split of [7, 88, 121, 4096, 65553, 65554]) {
      assert.ok(openRaw(boundary, alice, split).payload.equals(whole), `split every ${split} bytes`);
    }
  });
});

// tests/vectors/own: payloads built by tests/vectors/make-own.py straight
// from the design (not by our C code), sealed once; checked in for good.
describe('own vectors: open to exactly the recorded payload', () => {
  const ownDir = path.join(root, 'tests/vectors/own');
  const ownKeys = JSON.parse(fs.readFileSync(path.join(ownDir, 'keys.json'), 'utf8'));
  const ownKeyPair = (name) => {
    const boxSk = sodium.from_hex(ownKeys[name].box_sk);
    return { boxPk: sodium.crypto_scalarmult_base(boxSk), boxSk };
  };
  for (const name of ['khmer-two-files', 'two-recipients', 'one-full-chunk', 'no-files']) {
    const expected = JSON.parse(fs.readFileSync(path.join(ownDir, `${name}.json`), 'utf8'));
    for (const recipient of expected.recipients) {
      test(`${name} opens for ${recipient}`, async () => {
        const envelopeBytes = new Uint8Array(fs.readFileSync(path.join(ownDir, expected.envelope)));
        const payload = fs.readFileSync(path.join(ownDir, expected.payload));
        assert.equal(sha256(payload), expected.payload_sha256);
        const opened = openRaw(envelopeBytes, ownKeyPair(recipient), 7777);
        assert.ok(opened.payload.equals(payload), "payload bytes");
        const report = await openReport(sodium, ownKeyPair(recipient), envelopeBytes);
        assert.deepStrictEqual(report.manifest, expected.manifest);
      });
    }
  }
});

describe('shared vectors: must be refused', () => {
  // Chunks are framed by the canonical layout alone, so a cut last chunk is
  // indistinguishable from a corrupted one (chunk_auth); the reader names a
  // byte after a short FINAL chunk or a short MESSAGE chunk by trying prefixes
  // once the last chunk failed. The envelope's own checks run before the payload's.
  const expectedCode = {
    'bad-truncated.env': 'chunk_auth',
    'bad-trailing.env': 'trailing',
    'bad-flipped-ciphertext.env': 'chunk_auth',
    'bad-flipped-preamble.env': 'chunk_auth',
    'bad-version-2.env': 'version',
    'bad-nrecip-0.env': 'nrecip',
    'bad-nrecip-17.env': 'nrecip',
    'bad-not-a-recipient.env': 'not_recipient',
    'bad-no-final.env': 'no_final',
    'bad-empty-final-after-full.env': 'layout',
    'bad-short-message-chunk.env': 'layout',
    'bad-no-ad.env': 'chunk_auth',
    'bad-sizes-exceed-payload.env': 'sizes',
    'bad-manifest-len-too-big.env': 'manifest_len',
    'bad-manifest-bad-utf8.env': 'manifest_json',
    'bad-manifest-duplicate-key.env': 'manifest_json',
    'bad-manifest-not-json.env': 'manifest_json',
    'bad-bad-padding.env': 'padding',
    'bad-not-padme-length.env': 'not_padme',
  };
  const negatives = readJson('negative.json');

  test('every listed negative vector has an expected reason', () => {
    assert.deepEqual(negatives.map((entry) => entry.envelope).sort(), Object.keys(expectedCode).sort());
    const onDisk = fs.readdirSync(vectorDir).filter((name) => name.startsWith('bad-')).sort();
    assert.deepEqual(onDisk, Object.keys(expectedCode).sort());
  });

  for (const { envelope: name, open_with: recipient, why } of negatives) {
    test(`${name} is refused (${why})`, async () => {
      await assert.rejects(openReport(sodium, keyPairOf(recipient), readVector(name)), (error) => {
        assert.ok(error instanceof SealtipError, `a SealtipError, got ${error}`);
        assert.equal(error.code, expectedCode[name]);
        assert.ok(error.message.length > 0);
        return true;
      });
    });
  }

  test('trailing bytes are named whether the FINAL chunk is full or short', async () => {
    const basic = readVector('basic.env');
    assert.equal(readVector('bad-trailing.env').length, basic.length + 1);
    const alice = keyPairOf('alice');
    const afterFullFinal = Buffer.concat([readVector('chunk-boundary.env'), Buffer.of(0)]);
    await assert.rejects(openReport(sodium, alice, afterFullFinal), { code: 'trailing' });
    await assert.rejects(openReport(sodium, alice, Buffer.concat([basic, Buffer.alloc(300, 7)])), { code: 'trailing' });
    const padded = await sealRaw(randomBytes(padmeLength(200000)), [alice.boxPk]);
    assert.throws(() => openRaw(Buffer.concat([padded.bytes, Buffer.alloc(5)]), alice), { code: 'trailing' });
    assert.throws(() => openRaw(padded.bytes.subarray(0, padded.bytes.length - 1), alice), { code: 'chunk_auth' });
  });

  test('errors are sticky: the reader refuses to go on after one', () => {
    const reader = createEnvelopeReader(sodium, keyPairOf('alice'), () => {});
    assert.throws(() => reader.update(readVector('bad-version-2.env')), { code: 'version' });
    assert.throws(() => reader.update(readVector('basic.env')), { code: 'version' });
    assert.throws(() => reader.finish(), { code: 'version' });
  });

  test('a cut preamble and an envelope with no chunk are truncated', async () => {
    const basic = readVector('basic.env');
    await assert.rejects(openReport(sodium, keyPairOf('alice'), basic.subarray(0, 100)), { code: 'truncated' });
    await assert.rejects(openReport(sodium, keyPairOf('alice'), basic.subarray(0, 121)), { code: 'truncated' });
    await assert.rejects(openReport(sodium, keyPairOf('alice'), basic.subarray(0, 130)), { code: 'truncated' });
    const wrongMagic = Buffer.from(basic);
    wrongMagic[0] = 0x53;
    await assert.rejects(openReport(sodium, keyPairOf('alice'), wrongMagic), { code: 'magic' });
  });

  test('a forged sealed key under our key id: recipient_auth', async () => {
    const forged = Buffer.from(readVector('basic.env'));
    forged[9 + 8 + 40] ^= 1; // inside alice's sealed box
    await assert.rejects(openReport(sodium, keyPairOf('alice'), forged), { code: 'recipient_auth' });
  });
});

describe('envelope round trips', () => {
  const recipients = ['alice', 'bob', 'carol'];
  const recipientSets = {
    1: [keyPairOf('alice')],
    2: [keyPairOf('alice'), keyPairOf('bob')],
    16: Array.from({ length: 16 }, (_, index) => (index < 3 ? keyPairOf(recipients[index]) : (() => {
      const pair = sodium.crypto_box_keypair();
      return { boxPk: pair.publicKey, boxSk: pair.privateKey };
    })())),
  };
  const payloadSizes = [0, 1, 65535, 65536, 65537, 10 * 1024 * 1024];

  for (const size of payloadSizes) {
    for (const [count, pairs] of Object.entries(recipientSets)) {
      test(`raw payload of ${size} bytes to ${count} recipient(s): canonical layout, every recipient opens`, async () => {
        const payload = randomBytes(size);
        const sealed = await sealRaw(payload, pairs.map((pair) => pair.boxPk));
        assert.equal(sealed.bytes.length, envelopeLength(size, pairs.length));
        assert.deepEqual(sealed.lengths, { payloadLength: size, envelopeLength: sealed.bytes.length });
        assert.equal(sealed.pieces[0].length, preambleLength(pairs.length), 'the preamble is the first piece');
        assert.equal(sealed.bytes.subarray(0, 9).toString('latin1'), `sealtip\x01${String.fromCharCode(pairs.length)}`);
        pairs.forEach((pair, index) => {
          const entryKeyId = sealed.bytes.subarray(9 + 88 * index, 17 + 88 * index);
          assert.deepEqual(new Uint8Array(entryKeyId), keyId(sodium, pair.boxPk), `key id of recipient ${index}`);
        });
        const chunkCount = size === 0 ? 1 : Math.ceil(size / CHUNK_BYTES);
        const layout = chunkTags(sealed.bytes, pairs[pairs.length - 1]);
        assert.deepEqual(layout.tags, [...Array(chunkCount - 1).fill(MESSAGE), FINAL]);
        assert.equal(layout.sizes[chunkCount - 1], size === 0 ? 0 : size - (chunkCount - 1) * CHUNK_BYTES);
        const openers = size > 65537 ? [pairs[0], pairs[pairs.length - 1]] : pairs;
        for (const pair of openers) {
          const opened = openRaw(sealed.bytes, pair, 50000);
          assert.equal(opened.payloadLength, size);
          assert.ok(Buffer.from(payload).equals(opened.payload), 'payload round-trips');
        }
        const outsider = sodium.crypto_box_keypair();
        assert.throws(() => openRaw(sealed.bytes, { boxPk: outsider.publicKey, boxSk: outsider.privateKey }),
          { code: 'not_recipient' });
      });
    }
  }

  test('0 and 17 recipients are refused when sealing', async () => {
    await assert.rejects(startEnvelope(sodium, [], async () => {}), { code: 'nrecip' });
    const seventeen = Array(17).fill(keyPairOf('alice').boxPk);
    await assert.rejects(startEnvelope(sodium, seventeen, async () => {}), { code: 'nrecip' });
    await assert.rejects(startEnvelope(sodium, [new Uint8Array(31)], async () => {}), { code: 'argument' });
  });

  test('a writer refuses use after finish', async () => {
    const writer = await startEnvelope(sodium, [keyPairOf('alice').boxPk], async () => {});
    await writer.finish();
    await assert.rejects(writer.write(new Uint8Array(1)), { code: 'state' });
    await assert.rejects(writer.finish(), { code: 'state' });
    const aborted = await startEnvelope(sodium, [keyPairOf('alice').boxPk], async () => {});
    await aborted.write(new Uint8Array(10));
    aborted.abort();
    await assert.rejects(aborted.write(new Uint8Array(1)), { code: 'state' });
    await assert.rejects(aborted.finish(), { code: 'state' });
    await assert.rejects(aborted.write('text'), { code: 'state' });
    const fresh = await startEnvelope(sodium, [keyPairOf('alice').boxPk], async () => {});
    await assert.rejects(fresh.write('text'), { code: 'argument' });
  });
});

describe('reports: payload builder and parser', () => {
  const alice = keyPairOf('alice');
  const bob = keyPairOf('bob');

  async function sealToBytes(report, options) {
    const pieces = [];
    const result = await sealReport(sodium, report, async (piece) => { pieces.push(piece); }, options);
    return { result, bytes: Buffer.concat(pieces) };
  }

  for (const size of [0, 1, 65535, 65536, 65537, 10 * 1024 * 1024]) {
    test(`a report with a ${size}-byte attachment round-trips (1, 2 and 16 recipients)`, async () => {
      const attachment = randomBytes(size);
      const sixteen = [alice.boxPk, bob.boxPk, ...Array.from({ length: 14 }, () => sodium.crypto_box_keypair().publicKey)];
      for (const boxPks of [[alice.boxPk], [alice.boxPk, bob.boxPk], sixteen]) {
        const report = {
          recipients: boxPks,
          form: 'bribery-report/1',
          lang: 'en',
          fields: { what: `attachment of ${size} bytes` },
          files: [{ name: 'evidence.bin', type: 'application/octet-stream', size, data: attachment }],
        };
        const { result, bytes } = await sealToBytes(report);
        assert.equal(bytes.length, result.envelopeLength);
        assert.equal(plannedEnvelopeLength(report), bytes.length, 'known before sealing');
        assert.equal(result.payloadLength, padmeLength(result.unpaddedLength));
        assert.equal(result.unpaddedLength, 4 + result.manifestBytes.length + size);
        for (const pair of [alice, bob].slice(0, Math.min(2, boxPks.length))) {
          const opened = await openReport(sodium, pair, bytes);
          assert.deepStrictEqual(opened.manifest, result.manifest);
          assert.deepEqual(opened.manifest.files, [{
            name: 'evidence.bin', type: 'application/octet-stream', size, sha256: sha256(attachment),
          }]);
          assert.ok(Buffer.from(opened.files[0]).equals(Buffer.from(attachment)));
        }
      }
    });
  }

  test('Khmer fields, several files from Blobs, iterables and bytes: exact manifest', async () => {
    const photo = randomBytes(200000);
    const note = new TextEncoder().encode('ខ្ញុំបានឃើញ');
    const report = {
      recipients: [alice.boxPk],
      form: 'bribery-report/1',
      lang: 'km',
      fields: { what: 'មន្ត្រីបានទាមទារលុយ', gifts: ['watch', 'perfume'], empty: [] },
      files: [
        { name: 'រូបថត.jpg', type: 'image/jpeg', size: photo.length, data: new Blob([photo]) },
        { name: 'note.txt', type: 'text/plain', size: note.length, data: async function* () { yield note.subarray(0, 5); yield note.subarray(5); } },
        { name: 'empty', type: '', size: 0, data: new Uint8Array(0) },
      ],
    };
    const { result, bytes } = await sealToBytes(report);
    const expectedManifest = {
      v: 1,
      form: 'bribery-report/1',
      lang: 'km',
      fields: { what: 'មន្ត្រីបានទាមទារលុយ', gifts: ['watch', 'perfume'], empty: [] },
      files: [
        { name: 'រូបថត.jpg', type: 'image/jpeg', size: 200000, sha256: sha256(photo) },
        { name: 'note.txt', type: 'text/plain', size: note.length, sha256: sha256(note) },
        { name: 'empty', type: '', size: 0, sha256: sha256(new Uint8Array(0)) },
      ],
    };
    assert.deepStrictEqual(result.manifest, expectedManifest);
    assert.equal(new TextDecoder().decode(result.manifestBytes), JSON.stringify(expectedManifest));
    const opened = await openReport(sodium, alice, new Blob([bytes]));
    assert.deepStrictEqual(opened.manifest, expectedManifest);
    assert.deepEqual(opened.files.map((file) => sha256(file)), expectedManifest.files.map((file) => file.sha256));
  });

  test('hashing with crypto.subtle gives the same manifest as streaming libsodium SHA-256', async () => {
    const photo = randomBytes(150000);
    const report = {
      recipients: [alice.boxPk], form: 'f', lang: 'en', fields: {},
      files: [
        { name: 'a', type: '', size: photo.length, data: new Blob([photo]) },
        { name: 'b', type: '', size: 3, data: new Uint8Array([1, 2, 3]) },
        { name: 'c', type: '', size: 0, data: new Uint8Array(0) },
      ],
    };
    const streaming = await sealToBytes(report);
    const native = await sealToBytes(report, { sha256Hex: envelope.subtleSha256Hex });
    assert.deepStrictEqual(native.result.manifest, streaming.result.manifest);
    assert.equal(native.result.manifest.files[0].sha256, sha256(photo));
    await assert.rejects(envelope.subtleSha256Hex(() => []), { code: 'argument' });
  });

  test('lone surrogates in typed text become U+FFFD instead of breaking strict readers', async () => {
    const { result } = await sealToBytes({
      recipients: [alice.boxPk], form: 'f', lang: 'en', fields: { what: 'a\ud800b\udc00c\ud83d\ude00' },
    });
    assert.equal(result.manifest.fields.what, 'a\ufffdb\ufffdc\ud83d\ude00');
  });

  test('a file that is not the size it claims is refused: file_changed', async () => {
    await assert.rejects(sealToBytes({
      recipients: [alice.boxPk], form: 'f', lang: 'en', fields: {},
      files: [{ name: 'x', type: '', size: 10, data: new Uint8Array(9) }],
    }), { code: 'file_changed' });
    let reads = 0;
    const shrinking = async function* () { reads += 1; yield new Uint8Array(reads === 1 ? 10 : 5); };
    await assert.rejects(sealToBytes({
      recipients: [alice.boxPk], form: 'f', lang: 'en', fields: {},
      files: [{ name: 'x', type: '', size: 10, data: shrinking }],
    }), { code: 'file_changed' });
  });

  test('a manifest over 1 MiB is refused when building', async () => {
    await assert.rejects(sealToBytes({
      recipients: [alice.boxPk], form: 'f', lang: 'en', fields: { what: 'x'.repeat(1024 * 1024) },
    }), { code: 'too_large' });
  });

  test('progress reports hashing then sealing, ending at the payload length', async () => {
    const events = [];
    const data = randomBytes(150000);
    const { result } = await sealToBytes({
      recipients: [alice.boxPk], form: 'f', lang: 'en', fields: {},
      files: [{ name: 'a', type: '', size: data.length, data }],
    }, { onProgress: (event) => events.push(event) });
    assert.deepEqual(events[0], { phase: 'hashing', done: 65536, total: 150000 });
    assert.deepEqual(events.filter((event) => event.phase === 'hashing').at(-1), { phase: 'hashing', done: 150000, total: 150000 });
    assert.deepEqual(events.at(-1), { phase: 'sealing', done: result.payloadLength, total: result.payloadLength });
  });

  test('the payload parser refuses a payload whose files and padding do not add up', () => {
    const manifest = new TextEncoder().encode(JSON.stringify({
      v: 1, form: 'f', lang: 'en', fields: {}, files: [{ name: 'a', type: '', size: 3, sha256: sha256(Buffer.from('abc')) }],
    }));
    const prefix = Buffer.alloc(4);
    prefix.writeUInt32LE(manifest.length);
    const unpadded = Buffer.concat([prefix, manifest, Buffer.from('abc')]);
    const padded = Buffer.concat([unpadded, Buffer.alloc(padmeLength(unpadded.length) - unpadded.length)]);
    const parse = (bytes) => {
      const parser = createPayloadParser(sodium);
      parser.update(bytes);
      return parser.finish();
    };
    assert.equal(parse(padded).payloadLength, padded.length);
    if (padded.length > unpadded.length) {
      assert.throws(() => parse(padded.subarray(0, padded.length - 1)), { code: 'not_padme' });
    }
    assert.throws(() => parse(Buffer.concat([padded, Buffer.alloc(1)])), { code: 'not_padme' });
    assert.throws(() => parse(Buffer.concat([prefix, manifest, Buffer.from('ab')])), { code: 'sizes' });
    assert.throws(() => parse(Buffer.concat([prefix, manifest.subarray(0, 10)])), { code: 'manifest_len' });
    const wrongFile = Buffer.from(padded);
    wrongFile[4 + manifest.length] ^= 1;
    assert.throws(() => parse(wrongFile), { code: 'file_hash' });
    const zeroLength = Buffer.alloc(8);
    assert.throws(() => parse(zeroLength), { code: 'manifest_len' });
  });
});

describe('strict manifest JSON', () => {
  const encode = (text) => new TextEncoder().encode(text);
  const valid = '{"v":1,"form":"f","lang":"km","fields":{"a":"b","c":["d"]},"files":[{"name":"n","type":"t","size":7,"sha256":"' + '0'.repeat(64) + '"}],"later":{"x":[1.5,null,true]}}';

  test('a valid manifest with unknown keys parses to what JSON.parse gives', () => {
    assert.deepStrictEqual(parseManifest(encode(valid)), JSON.parse(valid));
    assert.deepStrictEqual(parseManifest(encode(' \n' + valid + '\t\r\n')), JSON.parse(valid));
  });

  const invalidJson = {
    'duplicate top-level key': valid.replace('"lang":"km"', '"lang":"km","lang":"en"'),
    'duplicate nested key': valid.replace('"a":"b"', '"a":"b","a":"c"'),
    'duplicate key spelled with an escape': valid.replace('"a":"b"', '"a":"b","\\u0061":"c"'),
    'duplicate __proto__': valid.replace('"a":"b"', '"__proto__":"b","__proto__":"c"'),
    'lone surrogate escape': valid.replace('"b"', '"\\ud800"'),
    'byte order mark': '\ufeff' + valid,
    'trailing comma': valid.replace('["d"]', '["d",]'),
    'single quotes': valid.replace('"b"', "'b'"),
    'leading zero': valid.replace('"size":7', '"size":07'),
    'raw control character': valid.replace('"b"', '"a\u0001b"'),
    'two values': valid + '{}',
    'NaN': valid.replace('"size":7', '"size":NaN'),
    'comment': valid.replace('{"v"', '{/*x*/"v"'),
    'deep nesting': '{"v":1,"x":' + '['.repeat(100) + ']'.repeat(100) + '}',
    'empty': '',
  };
  for (const [why, text] of Object.entries(invalidJson)) {
    test(`refused as manifest_json: ${why}`, () => {
      assert.throws(() => parseManifest(encode(text)), { code: 'manifest_json' });
    });
  }

  test('invalid UTF-8 is refused as manifest_json', () => {
    const bytes = encode(valid);
    bytes[30] = 0xff;
    assert.throws(() => parseManifest(bytes), { code: 'manifest_json' });
    const overlong = Buffer.concat([Buffer.from(valid.slice(0, 30)), Buffer.from([0xc0, 0xaf]), Buffer.from(valid.slice(30))]);
    assert.throws(() => parseManifest(overlong), { code: 'manifest_json' });
  });

  const wrongShape = {
    'v is 2': valid.replace('"v":1', '"v":2'),
    'v is 1.0': valid.replace('"v":1', '"v":1.0'),
    'v missing': valid.replace('"v":1,', ''),
    'size is 7.0': valid.replace('"size":7', '"size":7.0'),
    'size is 7e0': valid.replace('"size":7', '"size":7e0'),
    'size negative': valid.replace('"size":7', '"size":-7'),
    'size over 2^53': valid.replace('"size":7', '"size":9007199254740994'),
    'size 2^53 + 1 (rounds to 2^53 as a double)': valid.replace('"size":7', '"size":9007199254740993'),
    'size with 400 digits': valid.replace('"size":7', `"size":${'9'.repeat(400)}`),
    'uppercase sha256': valid.replace('0'.repeat(64), 'A'.repeat(64)),
    'short sha256': valid.replace('0'.repeat(64), '0'.repeat(63)),
    'field is a number': valid.replace('"a":"b"', '"a":5'),
    'field list holds a number': valid.replace('["d"]', '["d",1]'),
    'files not an array': valid.replace(/"files":\[.*?\]/, '"files":{}'),
    'file name missing': valid.replace('"name":"n",', ''),
    'form not a string': valid.replace('"form":"f"', '"form":null'),
    'not an object': '[1]',
  };
  for (const [why, text] of Object.entries(wrongShape)) {
    test(`refused as manifest_schema: ${why}`, () => {
      assert.throws(() => parseManifest(encode(text)), { code: 'manifest_schema' });
    });
  }

  test('a "__proto__" key stays data and does not change the prototype', () => {
    const parsed = parseManifest(encode(valid.replace('"a":"b"', '"__proto__":"b"')));
    assert.equal(Object.getPrototypeOf(parsed.fields), Object.prototype);
    assert.deepEqual(Object.keys(parsed.fields), ['__proto__', 'c']);
  });

  test('a size of exactly 2^53 is allowed', () => {
    assert.equal(parseManifest(encode(valid.replace('"size":7', '"size":9007199254740992'))).files[0].size, 2 ** 53);
  });

  test('NUL and Khmer inside strings are kept exactly', () => {
    const parsed = parseManifest(encode(valid.replace('"name":"n"', '"name":"a\\u0000ខ្មែរ"')));
    assert.equal(parsed.files[0].name, 'a\u0000ខ្មែរ');
  });
});

describe('leaf hash and collectors', () => {
  test('leafHash is SHA-256(0x00 || envelope), from bytes, Blobs and iterables', async () => {
    const envelopeBytes = readVector('basic.env');
    const expected = createHash('sha256').update(Buffer.of(0)).update(envelopeBytes).digest('hex');
    assert.equal(Buffer.from(await leafHash(sodium, envelopeBytes)).toString('hex'), expected);
    assert.equal(Buffer.from(await leafHash(sodium, new Blob([envelopeBytes]))).toString('hex'), expected);
    const pieces = () => [envelopeBytes.subarray(0, 3), envelopeBytes.subarray(3)];
    assert.equal(Buffer.from(await leafHash(sodium, pieces)).toString('hex'), expected);
    const hasher = createLeafHasher(sodium);
    hasher.update(envelopeBytes);
    assert.equal(Buffer.from(hasher.digest()).toString('hex'), expected);
  });

  test('sealReport can compute the leaf hash as it seals, and a Blob collector keeps every byte', async () => {
    const collector = createBlobCollector('application/octet-stream', 100000);
    const data = randomBytes(300000);
    const result = await sealReport(sodium, {
      recipients: [keyPairOf('alice').boxPk], form: 'f', lang: 'en', fields: {},
      files: [{ name: 'a', type: '', size: data.length, data }],
    }, collector.sink, { leafHash: true });
    const blob = collector.toBlob();
    assert.equal(blob.size, result.envelopeLength);
    const bytes = new Uint8Array(await blob.arrayBuffer());
    const expected = createHash('sha256').update(Buffer.of(0)).update(bytes).digest('hex');
    assert.equal(Buffer.from(result.leafHash).toString('hex'), expected);
    const opened = await openReport(sodium, keyPairOf('alice'), blob);
    assert.ok(Buffer.from(opened.files[0]).equals(Buffer.from(data)));
  });

  test('readPieces slices a Blob into 64 KiB pieces', async () => {
    const sizes = [];
    for await (const piece of readPieces(new Blob([new Uint8Array(150000)]))) sizes.push(piece.length);
    assert.deepEqual(sizes, [65536, 65536, 18928]);
    await assert.rejects(async () => { for await (const piece of readPieces('text')) void piece; }, { code: 'argument' });
  });
});

// Envelopes for the C side to open (build/js-vectors/, git-ignored): each
// NAME.env has a NAME.json in the shared vectors' format; keys are alice's.
describe('JS-made vectors for the C tool', () => {
  test('write build/js-vectors/', async () => {
    fs.mkdirSync(jsVectorDir, { recursive: true });
    const alice = keyPairOf('alice');
    const bob = keyPairOf('bob');
    const cases = {
      'js-basic': { recipients: ['alice'], lang: 'km', fields: { what: 'មន្ត្រីអន្តោប្រវេសន៍បានទាមទារនាឡិកា Rolex', gifts: ['watch', 'phone'] }, files: [] },
      'js-two-recipients': { recipients: ['alice', 'bob'], lang: 'en', fields: { what: 'cash at the passport office' }, files: [['receipt.jpg', 'image/jpeg', 3000], ['empty.bin', '', 0]] },
      'js-chunk-boundary': { recipients: ['alice'], lang: 'en', fields: { what: 'x' }, files: [['ledger.pdf', 'application/pdf', fillTwoChunks('en', { what: 'x' }, 'ledger.pdf', 'application/pdf')]] },
      'js-large': { recipients: ['alice'], lang: 'km', fields: { what: 'ឯកសារធំ' }, files: [['video.mp4', 'video/mp4', 3 * 1024 * 1024 + 5], ['ខ្មែរ.txt', 'text/plain', 8]] },
    };
    for (const [name, spec] of Object.entries(cases)) {
      const files = spec.files.map(([fileName, type, size]) => ({ name: fileName, type, size, data: randomBytes(size) }));
      const pieces = [];
      const result = await sealReport(sodium, {
        recipients: spec.recipients.map((who) => keyPairOf(who).boxPk),
        form: 'bribery-report/1', lang: spec.lang, fields: spec.fields, files,
      }, async (piece) => { pieces.push(piece); });
      const bytes = Buffer.concat(pieces);
      fs.writeFileSync(path.join(jsVectorDir, `${name}.env`), bytes);
      fs.writeFileSync(path.join(jsVectorDir, `${name}.json`), JSON.stringify({
        envelope: `${name}.env`,
        note: 'sealed by web/envelope.js',
        recipients: spec.recipients,
        payload_len: result.payloadLength,
        unpadded_len: result.unpaddedLength,
        manifest: result.manifest,
        envelope_sha256: sha256(bytes),
      }, null, 1));
      const opened = await openReport(sodium, spec.recipients[0] === 'alice' ? alice : bob, bytes);
      assert.deepStrictEqual(opened.manifest, result.manifest);
    }
    const chunkBoundary = JSON.parse(fs.readFileSync(path.join(jsVectorDir, 'js-chunk-boundary.json'), 'utf8'));
    assert.equal(chunkBoundary.payload_len, 131072, 'js-chunk-boundary fills exactly two chunks');
  });
});

describe('interoperability with build/sealtip', () => {
  const missing = !fs.existsSync(sealtipTool);
  const skip = missing ? `build/sealtip is missing (${sealtipTool}); run make first` : false;
  const khmerWhat = 'មន្ត្រីបានទាមទារនាឡិកា Rolex';

  const withBytes = (name, type, bytes) => ({ name, type, size: bytes.length, data: bytes, bytes });

  // Seals here to a key made by `sealtip keygen` (placed at ownKeyIndex among
  // the other recipients), opens with `sealtip open`, compares everything.
  async function sealHereOpenThere({ otherRecipients, ownKeyIndex, files }) {
    const work = fs.mkdtempSync(path.join(os.tmpdir(), 'sealtip-js-'));
    try {
      execFileSync(sealtipTool, ['keygen', '--unprotected', '-o', path.join(work, 'investigator')], { stdio: 'pipe' });
      const publicKey = parsePublicKeyFile(sodium, fs.readFileSync(path.join(work, 'investigator.pub'), 'utf8'));
      const recipientsList = [...otherRecipients];
      recipientsList.splice(ownKeyIndex, 0, publicKey.boxPk);
      const pieces = [];
      const sealed = await sealReport(sodium, {
        recipients: recipientsList,
        form: 'bribery-report/1', lang: 'km',
        fields: { what: khmerWhat, gifts: ['watch', 'perfume'], official: 'Immigration officer' },
        files,
      }, async (piece) => { pieces.push(piece); });
      const envelopePath = path.join(work, 'report.env');
      fs.writeFileSync(envelopePath, Buffer.concat(pieces));
      const outDir = path.join(work, 'out');
      execFileSync(sealtipTool, ['open', '-k', path.join(work, 'investigator.key'), '-o', outDir, envelopePath], { stdio: 'pipe' });

      // One folder per input, named after it: report.json, report.txt, files/.
      assert.deepEqual(fs.readdirSync(outDir), ['report']);
      const reportDir = path.join(outDir, 'report');
      const reportJson = fs.readFileSync(path.join(reportDir, 'report.json'));
      assert.deepStrictEqual(JSON.parse(reportJson.toString('utf8')), sealed.manifest);
      // Khmer and every other byte of the manifest come back unchanged.
      assert.equal(reportJson.toString('utf8').trimEnd(), Buffer.from(sealed.manifestBytes).toString('utf8'));
      assert.ok(fs.readFileSync(path.join(reportDir, 'report.txt'), 'utf8').includes(khmerWhat));
      // Attachments, in manifest order under safe names, byte for byte.
      const written = fs.readdirSync(path.join(reportDir, 'files')).sort();
      assert.equal(written.length, files.length);
      written.forEach((name, index) => {
        const bytes = fs.readFileSync(path.join(reportDir, 'files', name));
        assert.ok(bytes.equals(Buffer.from(files[index].bytes)), `"${files[index].name}" written as ${name}, byte for byte`);
      });
    } finally {
      fs.rmSync(work, { recursive: true, force: true });
    }
  }

  test('sealed here to 2 recipients, opened by `sealtip open`: same manifest and files', { skip }, async () => {
    await sealHereOpenThere({
      otherRecipients: [keyPairOf('bob').boxPk],
      ownKeyIndex: 0,
      files: [
        withBytes('រូបថត.jpg', 'image/jpeg', randomBytes(200000)),
        withBytes('../../escape.txt', 'text/plain', randomBytes(70000)),
        withBytes('empty.bin', '', new Uint8Array(0)),
      ],
    });
  });

  test('sealed here to 16 recipients (ours last) with a 10 MiB + 1 attachment, opened by `sealtip open`', { skip }, async () => {
    const size = 10 * 1024 * 1024 + 1;
    const bytes = randomBytes(size);
    await sealHereOpenThere({
      otherRecipients: Array.from({ length: 15 }, () => sodium.crypto_box_keypair().publicKey),
      ownKeyIndex: 15,
      files: [{ name: 'video.mp4', type: 'video/mp4', size, data: new Blob([bytes]), bytes }],
    });
  });
});

// The file size that makes the unpadded payload exactly 131072 bytes (two full chunks).
function fillTwoChunks(lang, fields, name, type) {
  const manifestBytes = envelope.encodeManifest({
    form: 'bribery-report/1', lang, fields, files: [{ name, type, size: 100000, sha256: '0'.repeat(64) }],
  });
  return 131072 - 4 - manifestBytes.length; // still six digits, so the manifest length holds
}
