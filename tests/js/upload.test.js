// When a Stop during the upload may come after the whole envelope left the
// browser (web/upload.js, uploadProgress): the page must then not say that
// nothing was sent. On a clock of the test's own.
import test from 'node:test';
import assert from 'node:assert';
import { uploadProgress } from '../../web/upload.js';

const MiB = 1024 * 1024;

// Runs fn(at) with Date.now() returning the milliseconds given to at().
function withClock(fn) {
  const realNow = Date.now;
  let now = 0;
  Date.now = () => now;
  try {
    fn((ms) => { now = ms; });
  } finally {
    Date.now = realNow;
  }
}

test('upload progress: the last MiB may always have left', () => {
  withClock((at) => {
    const small = uploadProgress(512 * 1024);
    at(10);
    assert.strictEqual(small.mayHaveAllLeft(), true, 'nothing reported yet, but less than a MiB in all');
    const progress = uploadProgress(16 * MiB);
    at(60000); // a slow line: 15.2 MiB in a minute
    progress.update(15.2 * MiB);
    assert.strictEqual(progress.mayHaveAllLeft(), true);
    progress.update(14.9 * MiB - 1); // the clock stands: only the bytes left differ
    assert.strictEqual(progress.mayHaveAllLeft(), false);
  });
});

test('upload progress: far from the end on a stalled or slow line, nothing can have left unseen', () => {
  withClock((at) => {
    const progress = uploadProgress(16 * MiB);
    at(100);
    progress.update(4 * MiB); // the socket buffers take a burst at once
    at(150);
    assert.strictEqual(progress.mayHaveAllLeft(), true, '4 MiB in 0.15 s: the other 12 could follow within a second');
    at(5000);
    assert.strictEqual(progress.mayHaveAllLeft(), false, 'stalled since: 0.8 MiB/s on average, 0 in the last second');
    for (let ms = 5100; ms <= 10000; ms += 100) {
      at(ms);
      progress.update(4 * MiB + ((ms - 5000) / 1000) * 256 * 1024); // then 256 KiB/s
    }
    assert.strictEqual(progress.mayHaveAllLeft(), false);
  });
});

test('upload progress: on a fast line, what a second can carry may have left', () => {
  withClock((at) => {
    const progress = uploadProgress(95 * MiB);
    for (let ms = 100; ms <= 1000; ms += 100) {
      at(ms);
      progress.update(ms * 50 * 1000); // 50 MB/s, 47.7 MiB/s
    }
    assert.strictEqual(progress.mayHaveAllLeft(), true, '47.3 MiB left at 47.7 MiB/s');
    const big = uploadProgress(200 * MiB);
    for (let ms = 100; ms <= 1000; ms += 100) {
      at(1000 + ms);
      big.update(ms * 50 * 1000);
    }
    assert.strictEqual(big.mayHaveAllLeft(), false, '152 MiB left at 47.7 MiB/s');
    // A line that sped up: the last second's pace counts, not only the
    // average (34 MiB/s here).
    const faster = uploadProgress(120 * MiB);
    at(3000);
    faster.update(10 * MiB);
    for (let ms = 3100; ms <= 4000; ms += 100) {
      at(ms);
      faster.update(10 * MiB + (ms - 3000) * 60 * 1024); // then 60 MiB/s
    }
    assert.strictEqual(faster.mayHaveAllLeft(), true, '51.4 MiB left at 60 MiB/s');
    faster.update(10 * MiB + 1000 * 40 * 1024); // the same second at 40 MiB/s
    assert.strictEqual(faster.mayHaveAllLeft(), false, '70 MiB left at 40 MiB/s');
  });
});
