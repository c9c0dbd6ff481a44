// The FLOP count `bench train` reports GFLOP/s from: its matrix products against the products a
// forward pass runs, and its attention term against keys counted by hand.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { kernels } from '../src/kernels/index.js';
import { makeConfig, type ModelConfig } from '../src/model/config.js';
import { attentionFlops, forwardFlops } from '../src/model/flops.js';
import { SequenceModel } from '../src/model/sequence-model.js';
import { Tape } from '../src/tensor/tape.js';

const small = { vocabSize: 7, hidSz: 8, innerHidSz: 12, nlayers: 2, nheads: 2, memSz: 4, attnLim: 8, dropout: 0 };
const KINDS: [string, Partial<ModelConfig>][] = [
  ['Expire-Span', { expireSpan: true, expireSpanRamp: 3, expireSpanInitPercentage: 0.4 }],
  ['Transformer-XL', {}],
  ['Adaptive-Span', { adaptSpan: true, adaptSpanLen: 3, adaptSpanCache: true }],
  ['Compressive', { compress: true, compressRate: 2, compressSize: 4 }],
];

/** 2 m n k summed over every kernels.gemm call that run() makes. */
function gemmFlops(run: () => void): number {
  const gemm = kernels.gemm;
  let flops = 0;
  kernels.gemm = (...args) => {
    const [, , m, n, k] = args;
    flops += 2 * m * n * k * (args[args.length - 1] as number);
    gemm(...args);
  };
  try {
    run();
  } finally {
    kernels.gemm = gemm;
  }
  return flops;
}

describe('forwardFlops', () => {
  for (const [kind, extra] of KINDS) {
    it(`${kind}: counts the products of a forward pass, keys and values of the cache and the block`, () => {
      const c = makeConfig({ ...small, ...extra });
      const m = new SequenceModel(c, 3), batch = 3;
      const memory = m.initialMemory(batch);
      const ids = () => Int32Array.from({ length: batch * c.memSz }, (_, i) => (i * 5 + 1) % c.vocabSize);
      const block = () => {
        const t = new Tape();
        m.forward(t, ids(), ids(), memory, { training: false });
        t.reset();
      };
      for (let i = 0; i < 3; i++) block(); // memories of several blocks
      const cache = memory.meanLengths(), windows = m.windows();
      const attention = cache.reduce((sum, rows, l) => sum + attentionFlops(c, batch, rows, windows[l]), 0);
      assert.equal(gemmFlops(block), forwardFlops(c, batch, cache, windows) - attention);
    });
  }
});

describe('attentionFlops', () => {
  it('counts each query\'s keys: the cache and the rows before it, within attn-lim outside Expire-Span', () => {
    // 4 queries of dimension 3 per head, 2 heads. Expire-Span, 5 cached memories: query m sees
    // 5 + m keys (26 pairs), position terms on the last min(5 + m, 4) of them (16).
    const es = makeConfig({ ...small, hidSz: 6, expireSpan: true });
    assert.equal(attentionFlops(es, 1, 5), 2 * 2 * 3 * (2 * 26 + 16));
    // Transformer-XL with attn-lim 8 and 7 cached rows: 7, 8, 8, 8 keys (31), all within reach.
    const xl = makeConfig({ ...small, hidSz: 6 });
    assert.equal(attentionFlops(xl, 2, 7), 2 * 2 * 2 * 3 * (2 * 31 + 31));
    // A window of 6 (Adaptive-Span's trimmed one): 6 keys for every query.
    assert.equal(attentionFlops(xl, 1, 7, 6), 2 * 2 * 3 * (2 * 24 + 24));
  });
});
