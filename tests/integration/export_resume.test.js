// An export whose reports cannot all be written (a full disk; here a file
// size limit): the reports before the one that failed are kept and counted
// in DIR/.sealtip-log, the rest are left for the next run, and opening the
// same file again (or an overlapping export) leaves the reports already
// there as they are (docs/export.md, "What DIR remembers").
import test from 'node:test';
import assert from 'node:assert';
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { spawnSync } from 'node:child_process';
import * as h from './helpers.js';

// sealtip with writes limited to 100 KiB a file, as a nearly full disk.
function openLimited(key, outDir, input, extra = []) {
  const r = spawnSync('bash', ['-c', 'ulimit -f 100; trap "" XFSZ; exec "$0" "$@"', h.SEALTIP,
    'open', '-k', key, '-o', outDir].concat(extra, [input]), { encoding: 'utf8', timeout: 60000 });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

function open(key, outDir, input, extra = []) {
  return h.runTool(['open', '-k', key, '-o', outDir].concat(extra, [input]), { encoding: 'utf8' });
}

function reportDirs(dir) {
  return fs.readdirSync(dir).filter((n) => n.startsWith('report-')).sort();
}

// Every name, mode and byte under dir, for "nothing changed".
function treeDigest(dir) {
  const hash = crypto.createHash('sha256');
  const walk = (d) => {
    for (const name of fs.readdirSync(d).sort()) {
      const p = path.join(d, name);
      const st = fs.lstatSync(p);
      hash.update(`${path.relative(dir, p)} ${st.mode}\n`);
      if (st.isDirectory()) walk(p);
      else hash.update(fs.readFileSync(p));
    }
  };
  walk(dir);
  return hash.digest('hex');
}

test('export open: a report that cannot be written stops there; opening again resumes', async (t) => {
  const dir = h.tmpdir('sealtip-xresume-');
  assert.strictEqual(h.runTool(['keygen', '--unprotected', '-o', path.join(dir, 'inv')]).status, 0);
  const pub = path.join(dir, 'inv.pub');
  const key = path.join(dir, 'inv.key');
  const big = path.join(dir, 'photo.jpg');
  fs.writeFileSync(big, crypto.randomBytes(300000));
  const envs = [0, 1, 2].map((i) => {
    const out = path.join(dir, `r${i}.env`);
    const files = i === 1 ? ['--file', big] : [];
    const r = h.runTool(['seal', '-r', pub, '-o', out, '--field', `what=report ${i}`].concat(files));
    assert.strictEqual(r.status, 0, r.stderr);
    return fs.readFileSync(out);
  });
  const srv = await h.startServer({ recipients: [pub] });
  t.after(() => srv.stop());
  const vkey = JSON.parse((await h.request(srv, 'GET', '/api/v1/config')).body).log.verifier_key;
  for (const env of envs) assert.strictEqual((await h.post(srv, env)).status, 201);
  const all3 = path.join(dir, 'all3.bin');
  const after0 = path.join(dir, 'after0.bin');
  for (const [file, args] of [[all3, []], [after0, ['--after', '0']]]) {
    const r = h.runTool(['export', '--db', srv.db, '-o', file].concat(args));
    assert.strictEqual(r.status, 0, r.stderr);
  }
  const warning = `sealtip: warning: ${key} is not protected by a passphrase\n`;
  const state = (d) => fs.readFileSync(path.join(d, '.sealtip-log'), 'utf8');

  // 1. Entry 1's attachment is over the limit: entry 0 is kept and counted,
  // entry 2 is not opened, and both are said.
  const inbox = path.join(dir, 'inbox');
  let r = openLimited(key, inbox, all3, ['--verifier-key', vkey]);
  assert.strictEqual(r.status, 1, r.stderr);
  assert.strictEqual(r.stderr, warning +
    `sealtip: ${all3}: entry 1: cannot write the report: File too large\n` +
    `sealtip: ${all3}: entry 1 could not be written into ${inbox}, so entry 2 was not opened; ` +
    'open the file again once that is fixed (the reports already there stay as they are)\n');
  assert.strictEqual(r.stdout, `${all3}: opened 1 report, indexes 0 to 0, into ${inbox}\n` +
    `${all3}: log verified: checkpoint of 3 entries signed by ${vkey}\n`);
  assert.deepStrictEqual(fs.readdirSync(inbox).sort(), ['.sealtip-log', 'report-000000']);
  assert.match(state(inbox), /\nsize 3\nroot .*\nlast 0\n$/);

  // 2. The same file again, without the limit: entries 1 and 2 open, entry 0
  // is left as it was.
  const first = treeDigest(path.join(inbox, 'report-000000'));
  r = open(key, inbox, all3);
  assert.strictEqual(r.status, 0, r.stderr);
  assert.strictEqual(r.stderr, warning);
  assert.strictEqual(r.stdout, `${all3}: opened 2 reports, indexes 1 to 2, into ${inbox}; 1 already there\n` +
    `${all3}: log verified: checkpoint of 3 entries signed by ${vkey}\n`);
  assert.deepStrictEqual(reportDirs(inbox), ['report-000000', 'report-000001', 'report-000002']);
  assert.strictEqual(treeDigest(path.join(inbox, 'report-000000')), first);
  assert.ok(fs.readFileSync(path.join(inbox, 'report-000001', 'files', '01-photo.jpg')).equals(fs.readFileSync(big)));
  assert.match(state(inbox), /\nlast 2\n$/);

  // 3. Once more, and an overlapping export: nothing to do, nothing changed.
  const whole = treeDigest(inbox);
  r = open(key, inbox, all3);
  assert.strictEqual(r.status, 0, r.stderr);
  assert.strictEqual(r.stdout, `${all3}: no report opened (3 entries; 3 already there)\n` +
    `${all3}: log verified: checkpoint of 3 entries signed by ${vkey}\n`);
  r = open(key, inbox, after0);
  assert.strictEqual(r.status, 0, r.stderr);
  assert.match(r.stdout, /^.*after0\.bin: no report opened \(2 entries; 2 already there\)\n/);
  assert.strictEqual(treeDigest(inbox), whole);

  // 4. A counted report that is missing (removed by hand) opens again.
  fs.rmSync(path.join(inbox, 'report-000001'), { recursive: true });
  r = open(key, inbox, all3);
  assert.strictEqual(r.status, 0, r.stderr);
  assert.match(r.stdout, /opened 1 report, indexes 1 to 1, into .*; 2 already there\n/);
  assert.strictEqual(treeDigest(inbox), whole);

  // 5. The file's first entry fails: "last" stays as it was (none), since
  // it would also count index 0, which this folder never had; the gap is
  // still named.
  const fresh = path.join(dir, 'fresh');
  r = openLimited(key, fresh, after0, ['--verifier-key', vkey]);
  assert.strictEqual(r.status, 1, r.stderr);
  assert.match(r.stderr, /after0\.bin: entry 1: cannot write the report: File too large\n/);
  assert.match(r.stderr, /after0\.bin: entry 1 could not be written into .*fresh, so entry 2 was not opened; /);
  assert.match(r.stderr, /WARNING: .*after0\.bin: reports 0 to 0 were never opened into /);
  assert.strictEqual(r.stdout, `${after0}: no report opened (2 entries)\n` +
    `${after0}: log verified: checkpoint of 3 entries signed by ${vkey}\n`);
  assert.deepStrictEqual(fs.readdirSync(fresh), ['.sealtip-log']);
  assert.match(state(fresh), /\nsize 3\nroot .*\nlast none\n$/);

  // 6. A folder in the way that .sealtip-log does not count: not touched,
  // and the opening stops there as for a full disk.
  const blocked = path.join(dir, 'blocked');
  fs.mkdirSync(path.join(blocked, 'report-000001'), { recursive: true });
  fs.writeFileSync(path.join(blocked, 'report-000001', 'mine.txt'), 'the investigator\'s own notes\n');
  r = open(key, blocked, all3, ['--verifier-key', vkey]);
  assert.strictEqual(r.status, 1, r.stderr);
  assert.strictEqual(r.stderr, warning +
    `sealtip: ${all3}: entry 1: ${blocked}/report-000001 already exists, not overwriting\n` +
    `sealtip: ${all3}: entry 1 could not be written into ${blocked}, so entry 2 was not opened; ` +
    'open the file again once that is fixed (the reports already there stay as they are)\n');
  assert.deepStrictEqual(fs.readdirSync(blocked).sort(), ['.sealtip-log', 'report-000000', 'report-000001']);
  assert.deepStrictEqual(fs.readdirSync(path.join(blocked, 'report-000001')), ['mine.txt']);
  assert.match(state(blocked), /\nlast 0\n$/);
});
