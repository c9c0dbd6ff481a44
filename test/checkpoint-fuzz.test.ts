// Hostile checkpoints: a real checkpoint mutated thousands of times (bytes flipped, cut short,
// header lengths and config values made absurd) is either loaded or refused with an Error that
// says what is wrong; never a crash from inside (TypeError, RangeError), a hang or a huge
// allocation. EXPIRE_SPAN_FUZZ=N runs N mutations (default 1500).
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, it } from 'node:test';
import { loadCorpus } from '../src/data/corpus.js';
import { makeConfig } from '../src/model/config.js';
import { SequenceModel } from '../src/model/sequence-model.js';
import { Random } from '../src/tensor/random.js';
import { loadCheckpoint, saveCheckpoint } from '../src/train/checkpoint.js';
import { makeTrainOptions } from '../src/cli/flags.js';
import { Trainer } from '../src/train/trainer.js';

const dir = mkdtempSync(join(tmpdir(), 'fuzz-'));
after(() => rmSync(dir, { recursive: true, force: true }));
const ROUNDS = Number(process.env.EXPIRE_SPAN_FUZZ ?? 1500);

const ABSURD = [-1, 0, 0.5, 4096, 1 << 20, (1 << 24) - 1, 1e9, 2 ** 31, 1e300, 'x', null, [], {}];
const FIELDS = ['hidSz', 'nlayers', 'nheads', 'innerHidSz', 'memSz', 'attnLim', 'vocabSize', 'headDim', 'expireSpanRamp', 'compressSize'];

it(`refuses ${ROUNDS} mutated checkpoints cleanly`, { timeout: 300_000 }, () => {
  const data = 'task:needle:gap=20,jitter=5,train=3000,valid=600,test=600';
  const corpus = loadCorpus(data);
  const config = makeConfig({ vocabSize: corpus.vocab.size, hidSz: 8, innerHidSz: 16, nlayers: 2, nheads: 2, memSz: 8, attnLim: 16, expireSpan: true, dropout: 0 });
  const trainer = new Trainer(new SequenceModel(config), corpus, makeTrainOptions({ data, batchSz: 2, nbatches: 2, nepochs: 1, optim: 'adam', lr: 0.01 }));
  trainer.trainBlocks(2);
  saveCheckpoint(dir, trainer);
  const path = join(dir, 'trainer.safetensors');
  const original = readFileSync(path);
  const headerLength = Number(original.readBigUInt64LE(0));
  const header = JSON.parse(original.subarray(8, 8 + headerLength).toString('utf8'));
  const r = new Random(42);
  const pick = <T>(xs: readonly T[]) => xs[r.nextUint32() % xs.length];
  const outcomes = new Map<string, number>();

  for (let round = 0; round < ROUNDS; round++) {
    let bytes: Buffer;
    const kind = round % 5;
    if (kind === 0) {
      // Flip a few bytes of the header (or just after it).
      bytes = Buffer.from(original);
      for (let i = 0; i < 1 + (r.nextUint32() % 4); i++) bytes[r.nextUint32() % (8 + headerLength + 16)] ^= 1 + (r.nextUint32() % 255);
    } else if (kind === 1) {
      bytes = original.subarray(0, r.nextUint32() % original.length);
    } else if (kind === 2) {
      bytes = Buffer.from(original);
      bytes.writeBigUInt64LE(BigInt(r.nextUint32()) * BigInt(1 + (r.nextUint32() % 1000)), 0);
    } else {
      // A well-formed file whose config or tensor entries say something absurd.
      const h = structuredClone(header);
      const meta = JSON.parse(h.__metadata__.config);
      if (kind === 3) meta.model[pick(FIELDS)] = pick(ABSURD);
      else {
        const names = Object.keys(h).filter((n) => n !== '__metadata__');
        const entry = h[pick(names)];
        if (r.next() < 0.5) entry.shape = [pick([0, 1, 3, 2 ** 20, 2 ** 40]), pick([1, 7, 2 ** 30])];
        else entry.dtype = pick(['F16', 'I8', 'Q4', 'F64']);
      }
      h.__metadata__.config = JSON.stringify(meta);
      const json = Buffer.from(JSON.stringify(h));
      const length = Buffer.alloc(8);
      length.writeBigUInt64LE(BigInt(json.length));
      bytes = Buffer.concat([length, json, original.subarray(8 + headerLength)]);
    }
    writeFileSync(path, bytes);
    try {
      loadCheckpoint(dir);
      outcomes.set('loaded', (outcomes.get('loaded') ?? 0) + 1);
    } catch (e) {
      const error = e as Error;
      assert.ok(error instanceof Error && !(error instanceof TypeError) && !(error instanceof RangeError), `round ${round} (kind ${kind}): ${error?.name}: ${error?.message}`);
      assert.ok(error.message.length > 10, `round ${round}: an empty message`);
      outcomes.set(error.name, (outcomes.get(error.name) ?? 0) + 1);
    }
  }
  if (process.env.EXPIRE_SPAN_FUZZ_REPORT) console.log(JSON.stringify([...outcomes]));
  assert.ok((outcomes.get('SafetensorsError') ?? 0) > ROUNDS / 4, JSON.stringify([...outcomes]));
  assert.ok((outcomes.get('ConfigError') ?? 0) > 0, JSON.stringify([...outcomes]));
});
