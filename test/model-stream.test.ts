// Streaming: log-probs (and spans) the same whatever the chunking, and the same as block-wise
// evaluation with mem-sz blocks; memory bounded by the spans, not by the stream's length.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { makeConfig, type ModelConfig } from '../src/model/config.js';
import { ModelStream } from '../src/model/model-stream.js';
import { SequenceModel } from '../src/model/sequence-model.js';
import { Random } from '../src/tensor/random.js';
import { Tape } from '../src/tensor/tape.js';
import { assertClose, randomInt, rng } from './helpers.js';

const random = rng(23);
const small = { vocabSize: 11, hidSz: 16, innerHidSz: 24, nlayers: 2, nheads: 2, memSz: 8, attnLim: 24, dropout: 0 };
const KINDS: [string, Partial<ModelConfig>][] = [
  ['Expire-Span', { expireSpan: true, expireSpanRamp: 4, expireSpanInitPercentage: 0.3 }],
  ['Expire-Span, pre-norm', { expireSpan: true, expireSpanRamp: 2, preNorm: true }],
  ['Transformer-XL', {}],
  ['Adaptive-Span', { adaptSpan: true, adaptSpanLen: 4, adaptSpanInit: 0.4, adaptSpanCache: true }],
  ['Compressive', { compress: true, compressRate: 2, compressSize: 8 }],
];

/** A model with random span predictors, so that spans differ from token to token. */
function model(partial: Partial<ModelConfig>): SequenceModel {
  const m = new SequenceModel(makeConfig({ ...small, ...partial }), 7);
  const r = new Random(3);
  for (const [name, p] of m.params.entries()) if (name.includes('span_predictor.weight')) for (let i = 0; i < p.size; i++) p.data[i] = r.normal();
  return m;
}

/** Block-wise evaluation of one stream: log-probs and per-layer spans of every token. */
function blockwise(m: SequenceModel, x: Int32Array): { logprobs: Float32Array; spans: Float32Array[] } {
  const { memSz: M, vocabSize: V } = m.config, memory = m.initialMemory(1), t = new Tape();
  t.recording = false;
  const logprobs = new Float32Array(x.length * V), spans: Float32Array[] = [];
  for (let at = 0; at < x.length; at += M) {
    const r = m.forward(t, x.subarray(at, at + M), new Int32Array(M).fill(-1), memory, { training: false });
    logprobs.set(r.logprobs.data, at * V);
    r.spans.forEach((s, l) => (spans[l] ??= new Float32Array(x.length)).set(s, at));
    t.reset();
  }
  return { logprobs, spans };
}

/** Random chunk sizes (0 to 2M + 1) covering n tokens. */
function chunking(n: number, M: number): number[] {
  const sizes: number[] = [];
  for (let left = n; left > 0; ) {
    const s = Math.min(left, randomInt(random, 0, 2 * M + 1));
    sizes.push(s);
    left -= s;
  }
  return sizes;
}

describe('ModelStream', () => {
  for (const [name, partial] of KINDS) {
    it(`${name}: any chunking gives the block-wise log-probs and spans`, () => {
      const m = model(partial), M = m.config.memSz, V = m.config.vocabSize;
      const x = Int32Array.from({ length: 6 * M }, () => randomInt(random, 0, V - 1));
      const expected = blockwise(m, x);
      for (let trial = 0; trial < 4; trial++) {
        const stream = new ModelStream(m), sizes = trial === 0 ? new Array(x.length).fill(1) : chunking(x.length, M);
        const logprobs = new Float32Array(x.length * V), spans = expected.spans.map(() => new Float32Array(x.length));
        let at = 0;
        for (const size of sizes) {
          const out = stream.push(x.subarray(at, at + size));
          assert.equal(out.logprobs.length, size * V);
          logprobs.set(out.logprobs, at * V);
          out.spans.forEach((s, l) => spans[l].set(s, at));
          at += size;
        }
        assert.equal(stream.position, x.length);
        assertClose(logprobs, expected.logprobs, `${name}, chunks ${sizes.join(',')}`);
        spans.forEach((s, l) => assertClose(s, expected.spans[l], `${name} spans of layer ${l}`));
        assert.equal(spans.length, m.config.expireSpan ? m.config.nlayers : 0);
      }
    });
  }

  it('keeps Expire-Span memory bounded by the spans, not by the stream', () => {
    // Every span starts at 0.005 x 4096 = 20.5 (the predictor's weight is 0 before training).
    const m = new SequenceModel(makeConfig({ ...small, expireSpan: true, expireSpanRamp: 4, attnLim: 4096, expireSpanInitPercentage: 0.005 }));
    const stream = new ModelStream(m), M = m.config.memSz;
    let longest = 0;
    for (let i = 0; i < 60 * M; i++) {
      const out = stream.push([randomInt(random, 0, m.config.vocabSize - 1)]);
      for (const s of out.spans) longest = Math.max(longest, s[0]);
      for (const kept of stream.kept) assert.ok(kept <= Math.ceil(longest + m.config.expireSpanRamp) + M, `kept ${kept} with spans up to ${longest.toFixed(1)}`);
    }
    assert.ok(longest < 21 && Math.max(...stream.kept) <= 25 + M, `kept ${stream.kept} of ${stream.position} tokens`);
    stream.reset();
    assert.equal(stream.position, 0);
  });

  it('refuses ids outside the vocabulary, naming the token', () => {
    const stream = new ModelStream(model({}));
    assert.throws(() => stream.push([1, 2, 11]), /token 2 is 11, not an id in \[0, 11\)/);
    assert.throws(() => stream.push([0.5]), /token 0 is 0.5/);
    assert.equal(stream.position, 0);
  });
});
