// Data: the three sources, the reference's dictionary, block batching, and clear errors.
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { DataError, loadCorpus } from '../src/data/corpus.js';
import { StreamBatches } from '../src/data/stream-batches.js';
import { Vocabulary } from '../src/data/vocabulary.js';
import { learningRate } from '../src/train/schedule.js';

const dir = mkdtempSync(join(tmpdir(), 'data-'));
after(() => rmSync(dir, { recursive: true, force: true }));

describe('corpora', () => {
  it('reads any file as bytes split 90/5/5', () => {
    const path = join(dir, 'bytes.bin');
    writeFileSync(path, Uint8Array.from({ length: 1000 }, (_, i) => i % 256));
    const c = loadCorpus(path);
    assert.equal(c.vocab.kind, 'bytes');
    assert.equal(c.vocab.size, 256);
    assert.deepEqual([c.train.tokens.length, c.valid.tokens.length, c.test.tokens.length], [900, 50, 50]);
    assert.equal(c.valid.tokens[0], 900 % 256);
  });

  it('reads a folder the way the reference builds its dictionary', () => {
    const folder = join(dir, 'tokens');
    mkdirSync(folder);
    writeFileSync(join(folder, 'train.txt'), 'b a b\nc b\n');
    writeFileSync(join(folder, 'valid.txt'), 'a z\n');
    writeFileSync(join(folder, 'test.txt'), 'c\n');
    writeFileSync(join(folder, 'train.txt.labels'), '0 0 1\n1 0\n');
    writeFileSync(join(folder, 'valid.txt.labels'), '1 0\n');
    writeFileSync(join(folder, 'test.txt.labels'), '0\n');
    const c = loadCorpus(folder);
    // counts: <unk> 0, b 3, a 1, <eos> 2, c 1 -> by count descending, ties later-first.
    assert.deepEqual(c.vocab.tokens, ['b', '<eos>', 'c', 'a', '<unk>']);
    assert.deepEqual([...c.train.tokens], [0, 3, 0, 2, 0]);
    assert.deepEqual([...c.valid.tokens], [3, 4], 'unknown tokens map to <unk>');
    assert.deepEqual(c.train.labels!.length, 5);
    assert.deepEqual(loadCorpus(folder, { vocab: Vocabulary.fromTokens(['a', 'b', 'c', '<unk>']) }).train.tokens, Int32Array.of(1, 0, 1, 2, 1));
    assert.deepEqual([...loadCorpus(folder, { eos: true }).train.tokens], [0, 3, 0, 1, 2, 0, 1], '--data-eos ends every line with <eos>');
  });

  it('refuses unreadable, empty or malformed data with a clear message', () => {
    const refused = (spec: string, pattern: RegExp) => assert.throws(() => loadCorpus(spec), (e: Error) => e instanceof DataError && pattern.test(e.message));
    refused(join(dir, 'missing.txt'), /^--data: cannot read ".*missing\.txt": ENOENT/);
    writeFileSync(join(dir, 'empty.txt'), '');
    refused(join(dir, 'empty.txt'), /^--data: ".*empty\.txt" is empty/);
    refused('builtin:nothing', /unknown built-in data "builtin:nothing" \(available: builtin:sources\)/);
    const bad = join(dir, 'bad');
    mkdirSync(bad);
    refused(bad, /has no train\.txt/);
    writeFileSync(join(bad, 'train.txt'), Uint8Array.of(0xff, 0xfe, 0x41));
    writeFileSync(join(bad, 'valid.txt'), 'a');
    writeFileSync(join(bad, 'test.txt'), 'a');
    refused(bad, /train\.txt" is not valid UTF-8 text/);
  });

  it("has this package's own sources built in", () => {
    const c = loadCorpus('builtin:sources');
    assert.ok(c.train.tokens.length > 100_000);
    assert.match(c.vocab.decode(c.train.tokens.subarray(0, 2000)), /import|#include/);
  });
});

describe('stream batches', () => {
  it('cuts the data into streams and reads blocks of next-token targets', () => {
    const tokens = Int32Array.from({ length: 23 }, (_, i) => i);
    const s = new StreamBatches({ tokens }, 2, 3, 'train');
    assert.equal(s.length, 11);
    const x = new Int32Array(6), y = new Int32Array(6);
    s.read(x, y);
    assert.deepEqual([...x], [0, 1, 2, 11, 12, 13]);
    assert.deepEqual([...y], [1, 2, 3, 12, 13, 14]);
    assert.equal(s.advance(), false);
    assert.equal(s.advance(), false);
    s.read(x, y);
    assert.deepEqual([...y], [7, 8, 9, 18, 19, 20]);
    assert.equal(s.advance(), true, 'no room for a 4th block: 9 + 3 + 1 > 11');
  });

  it('uses labels as targets when the data has them', () => {
    const s = new StreamBatches({ tokens: Int32Array.of(1, 2, 3, 4), labels: Int32Array.of(5, 6, 7, 8) }, 1, 2, 'train');
    const x = new Int32Array(2), y = new Int32Array(2);
    s.read(x, y);
    assert.deepEqual([...y], [5, 6]);
  });

  it('refuses a split too short for the batch', () => {
    assert.throws(() => new StreamBatches({ tokens: new Int32Array(20) }, 8, 4, 'valid'), /the valid split has 20 tokens, too few for 8 streams of at least 5/);
  });
});

describe('learning-rate schedule', () => {
  it('warms up linearly, then holds or decays along a cosine', () => {
    const s = { lr: 1, warmup: 4, decay: false, total: 100 };
    assert.deepEqual([1, 2, 3, 4, 50].map((k) => learningRate(s, k)), [0.25, 0.5, 0.75, 1, 1]);
    const d = { ...s, decay: true };
    assert.equal(learningRate(d, 2), 0.5);
    assert.ok(Math.abs(learningRate(d, 50) - 0.5) < 1e-12);
    assert.ok(Math.abs(learningRate(d, 100)) < 1e-12);
  });
});
