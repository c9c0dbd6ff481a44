// Bad data files: random bytes, random folders in the reference's format (valid and invalid
// UTF-8, long lines, empty splits, label files that do not match): every one is loaded or refused
// with a DataError naming the file; never another error. EXPIRE_SPAN_FUZZ=N scales the rounds.
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, it } from 'node:test';
import { DataError, loadCorpus } from '../src/data/corpus.js';
import { Random } from '../src/tensor/random.js';

const dir = mkdtempSync(join(tmpdir(), 'data-fuzz-'));
after(() => rmSync(dir, { recursive: true, force: true }));
const ROUNDS = Math.max(60, Math.floor(Number(process.env.EXPIRE_SPAN_FUZZ ?? 1500) / 10));

it(`loads or refuses ${ROUNDS} random files and folders cleanly`, { timeout: 300_000 }, () => {
  const r = new Random(11);
  const words = ['a', 'bb', 'ccc', 'é', '\u0000', 'x'.repeat(5000), '<eos>', '\ufffd'];
  const text = (n: number) => Array.from({ length: n }, () => words[r.nextUint32() % words.length] + [' ', '\n', '\t', '  '][r.nextUint32() % 4]).join('');
  const bytes = (n: number) => Uint8Array.from({ length: n }, () => r.nextUint32() % 256);
  const outcomes = new Map<string, number>();
  for (let round = 0; round < ROUNDS; round++) {
    const at = join(dir, `case-${round}`);
    if (round % 3 === 0) {
      // Any file is data (bytes): random content of random length, empty included.
      writeFileSync(at, bytes(r.nextUint32() % 3000));
    } else {
      mkdirSync(at);
      for (const split of ['train', 'valid', 'test']) {
        if (r.next() < 0.05) continue; // a missing split
        const n = r.nextUint32() % 200;
        writeFileSync(join(at, `${split}.txt`), r.next() < 0.2 ? bytes(n) : text(n));
        if (round % 3 === 2) writeFileSync(join(at, `${split}.txt.labels`), r.next() < 0.5 ? text(n) : bytes(n));
      }
    }
    try {
      const corpus = loadCorpus(at);
      assert.ok(corpus.vocab.size > 0 && corpus.train.tokens.length > 0, `case ${round}: loaded an empty corpus`);
      outcomes.set('loaded', (outcomes.get('loaded') ?? 0) + 1);
    } catch (e) {
      assert.ok(e instanceof DataError, `case ${round}: ${(e as Error).name}: ${(e as Error).message}`);
      assert.ok(e.message.includes(`case-${round}`) || e.message.startsWith('--data'), `case ${round}: "${e.message}" does not say which data`);
      outcomes.set('refused', (outcomes.get('refused') ?? 0) + 1);
    }
  }
  if (process.env.EXPIRE_SPAN_FUZZ_REPORT) console.log(JSON.stringify([...outcomes]));
  assert.ok((outcomes.get('loaded') ?? 0) > 0 && (outcomes.get('refused') ?? 0) > 0, JSON.stringify([...outcomes]));
});
