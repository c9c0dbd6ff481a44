// The models: gradients of the whole block-recurrent model against finite differences for
// every kind and norm placement, and the memory properties Expire-Span and Transformer-XL
// promise.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { AttentionMode } from '../src/kernels/attention.js';
import { kernels } from '../src/kernels/index.js';
import { makeConfig, type ModelConfig } from '../src/model/config.js';
import { MemoryState } from '../src/model/memory-state.js';
import { SequenceModel } from '../src/model/sequence-model.js';
import { Random } from '../src/tensor/random.js';
import { Tape } from '../src/tensor/tape.js';
import { assertClose, randomInt, rng } from './helpers.js';

const random = rng(11);
const tokens = (n: number, vocab: number) => Int32Array.from({ length: n }, () => randomInt(random, 0, vocab - 1));

const small = { vocabSize: 7, hidSz: 8, innerHidSz: 12, nlayers: 2, nheads: 2, memSz: 4, attnLim: 8, dropout: 0 };
const KINDS: [string, Partial<ModelConfig>][] = [
  ['Expire-Span', { expireSpan: true, expireSpanRamp: 3, expireSpanLoss: 0.05, expireSpanInitPercentage: 0.4, expireSpanPreDiv: 2 }],
  ['Expire-Span, noisy with layer drop', { expireSpan: true, expireSpanRamp: 2, expireSpanLoss: 0.05, expireSpanNoisy: true, expireSpanLayerdrop: 0.3 }],
  ['Transformer-XL', {}],
  ['Expire-Span with dropout', { expireSpan: true, expireSpanRamp: 3, expireSpanLoss: 0.05, dropout: 0.3 }],
  ['Adaptive-Span', { adaptSpan: true, adaptSpanLen: 3, adaptSpanLoss: 0.1, adaptSpanInit: 0.4 }],
  ['Compressive', { compress: true, compressRate: 2, compressSize: 4 }],
];

/** A model whose span predictors are random (so spans differ and memories expire). */
function model(c: ModelConfig): SequenceModel {
  const m = new SequenceModel(c, 3);
  const r = new Random(5);
  for (const [name, p] of m.params.entries()) {
    if (name.includes('span_predictor.weight')) for (let i = 0; i < p.size; i++) p.data[i] = r.normal() * 0.8;
  }
  return m;
}

/**
 * Total loss of consecutive blocks, each starting from the given memory (regularisers replayed
 * with seed 9). Memories are detached between blocks, so the gradient is that of this sum with
 * the memories held fixed: finite differences must hold them fixed too.
 */
function loss(m: SequenceModel, memories: MemoryState[], xs: Int32Array[], ys: Int32Array[], withGrad: boolean): number {
  const random = new Random(9);
  let total = 0;
  for (let k = 0; k < xs.length; k++) {
    const t = new Tape();
    t.recording = withGrad;
    const r = m.forward(t, xs[k], ys[k], memories[k].clone(), { training: true, random });
    total += r.loss.data[0];
    if (withGrad) t.backward(r.loss);
    t.reset();
  }
  return total;
}

/** The memory entering each of the blocks, with the current parameters. */
function memoriesBefore(m: SequenceModel, batch: number, xs: Int32Array[], ys: Int32Array[]): MemoryState[] {
  const random = new Random(9), memory = MemoryState.initial(m.config, batch), states: MemoryState[] = [];
  for (let k = 0; k < xs.length; k++) {
    states.push(memory.clone());
    const t = new Tape();
    t.recording = false;
    m.forward(t, xs[k], ys[k], memory, { training: true, random });
    t.reset();
  }
  return states;
}

describe('model gradients match finite differences', () => {
  for (const [kind, settings] of KINDS) {
    for (const preNorm of [false, true]) {
      it(`${kind}, ${preNorm ? 'pre' : 'post'}-norm, over 3 blocks`, () => {
        const c = makeConfig({ ...small, ...settings, preNorm });
        const m = model(c), batch = 2;
        const xs = [0, 1, 2].map(() => tokens(batch * c.memSz, c.vocabSize)), ys = [0, 1, 2].map(() => tokens(batch * c.memSz, c.vocabSize));
        const memories = memoriesBefore(m, batch, xs, ys);
        loss(m, memories, xs, ys, true);
        // Directional derivative per parameter: differences of L(p + e u) against grad . u.
        // A step may carry a ReLU input across 0 (the loss has kinks there), which spoils the
        // central difference; at a kink the gradient is one of the one-sided derivatives. So
        // central and one-sided differences at several steps are tried, and the closest must
        // agree: a wrong gradient agrees with none of them.
        for (const [name, p] of m.params.entries()) {
          const u = Float32Array.from({ length: p.size }, () => (random() < 0.5 ? -1 : 1));
          const analytic = p.grad!.reduce((s, g, i) => s + g * u[i], 0);
          const keep = p.data.slice();
          const at = (eps: number) => {
            p.data.forEach((_, i) => (p.data[i] = keep[i] + eps * u[i]));
            const value = loss(m, memories, xs, ys, false);
            p.data.set(keep);
            return value;
          };
          const center = at(0);
          const numeric = [1e-3, 3e-4, 1e-4].flatMap((eps) => {
            const [up, down] = [at(eps), at(-eps)];
            return [(up - down) / (2 * eps), (up - center) / eps, (center - down) / eps];
          });
          const closest = numeric.reduce((a, b) => (Math.abs(b - analytic) < Math.abs(a - analytic) ? b : a));
          assertClose([analytic], [closest], `${name} (differences: ${numeric.map((v) => v.toFixed(5)).join(', ')})`, 3e-2, 3e-3);
        }
      });
    }
  }
});

describe('memory', () => {
  it('Transformer-XL keeps exactly the last attn-lim inputs of each layer', () => {
    const c = makeConfig({ ...small, attnLim: 6 });
    const m = model(c), batch = 2, M = c.memSz, H = c.hidSz;
    const memory = MemoryState.initial(c, batch);
    const seen: Int32Array[] = [];
    for (let k = 0; k < 3; k++) {
      const x = tokens(batch * M, c.vocabSize);
      seen.push(x);
      const t = new Tape();
      m.forward(t, x, tokens(batch * M, c.vocabSize), memory, { training: false });
      t.reset();
      // Layer 0's inputs are the embeddings: its cache must be the last 6 tokens' embeddings
      // of each stream, zeros where fewer than 6 have been seen.
      assert.deepEqual(memory.lengths(0), [6, 6]);
      for (let b = 0; b < batch; b++) {
        const history = seen.flatMap((xk) => [...xk.subarray(b * M, (b + 1) * M)]);
        const last = [...Array(Math.max(0, 6 - history.length)).fill(-1), ...history.slice(-6)];
        last.forEach((id, i) => {
          const row = memory.layers[0].hidden.subarray((b * 6 + i) * H, (b * 6 + i + 1) * H);
          const want = id < 0 ? new Float32Array(H) : m.inEmb.data.subarray(id * H, (id + 1) * H);
          assertClose(row, want, `block ${k} stream ${b} memory ${i}`, 0, 0);
        });
      }
    }
  });

  it('Expire-Span drops a memory exactly when its mask is 0 for every query of the next block', () => {
    const r = rng(3);
    for (let trial = 0; trial < 20; trial++) {
      const batch = 2, block = randomInt(r, 1, 4), ramp = randomInt(r, 1, 3), width = 2;
      const lengths = [0, 1].map(() => block + randomInt(r, block, 10));
      const offsets = Int32Array.of(0, lengths[0], lengths[0] + lengths[1]), rows = offsets[2];
      const counters = new Float32Array(rows), spans = Float32Array.from({ length: rows }, () => r() * 12);
      for (let b = 0; b < batch; b++) {
        for (let i = 0; i < lengths[b]; i++) counters[offsets[b] + i] = lengths[b] - block - i; // block: 0, -1, ...
      }
      const kept = { h: new Float32Array(rows * width), c: new Float32Array(rows), o: new Int32Array(3) };
      const hidden = Float32Array.from({ length: rows * width }, (_, i) => i);
      kernels.memoryPrune(AttentionMode.Expire, batch, block, width, ramp, 0, hidden, counters, offsets, spans, kept.h, kept.c, kept.o);
      // The next block, if nothing were dropped: every memory aged by `block`, then a new block.
      const nextOffsets = Int32Array.of(0, lengths[0] + block, rows + 2 * block);
      const nextCounters = new Float32Array(rows + 2 * block), nextSpans = new Float32Array(rows + 2 * block);
      for (let b = 0; b < batch; b++) {
        for (let i = 0; i < lengths[b]; i++) {
          nextCounters[nextOffsets[b] + i] = counters[offsets[b] + i] + block;
          nextSpans[nextOffsets[b] + i] = spans[offsets[b] + i];
        }
        for (let m = 0; m < block; m++) [nextCounters[nextOffsets[b + 1] - block + m], nextSpans[nextOffsets[b + 1] - block + m]] = [-m, 5];
      }
      // One-hot values (headDim = n): out[(b * block + m) * n + row] is query m's weight on that row.
      const n = rows + 2 * block, out = new Float32Array(batch * block * n), aux = new Float32Array(batch);
      const identity = Float32Array.from({ length: n * n }, (_, j) => (j % (n + 1) === 0 ? 1 : 0));
      kernels.attentionForward(AttentionMode.Expire, batch, block, 1, n, 1, 1 << 30, 1, 0, new Float32Array(batch * block * n), new Float32Array(n * n), identity, nextOffsets, new Float32Array(n), nextSpans, nextCounters, ramp, Infinity, 0, 0, out, aux);
      for (let b = 0; b < batch; b++) {
        const keptCounters = new Set([...kept.c.subarray(kept.o[b], kept.o[b + 1])]);
        for (let i = 0; i < lengths[b]; i++) {
          // Seen by some query of the next block (a weight > 0), or it is the block just processed.
          let seen = false;
          for (let m = 0; m < block; m++) seen ||= out[(b * block + m) * n + nextOffsets[b] + i] > 0;
          const inBlock = i >= lengths[b] - block;
          assert.equal(keptCounters.has(counters[offsets[b] + i] + block), seen || inBlock, `trial ${trial}, stream ${b}, memory ${i}`);
        }
      }
    }
  });

  it('the span loss reaches a span only through (query, memory) pairs on the ramp', () => {
    const r = rng(8);
    for (let trial = 0; trial < 20; trial++) {
      const batch = 1, block = randomInt(r, 1, 4), ramp = randomInt(r, 1, 4), lb = block + randomInt(r, block, 10);
      const spans = Float32Array.from({ length: lb }, () => r() * 14), counters = Float32Array.from({ length: lb }, (_, i) => lb - block - i);
      const cap = r() < 0.5 ? Infinity : 8;
      const width = 2, zero = (k: number) => new Float32Array(k);
      const q = Float32Array.from({ length: block * width }, () => r()), kv = Float32Array.from({ length: lb * width }, () => r());
      const offsets = Int32Array.of(0, lb);
      // Only the span loss has a gradient (dout = 0, d loss / d aux = 1).
      const dspans = zero(lb);
      kernels.attentionBackward(AttentionMode.Expire, batch, block, 1, width, block, 1 << 30, 1, 0, q, kv, kv, offsets, zero(width * block), spans, counters, ramp, cap, 0, 0, zero(block * width), Float32Array.of(1), zero(block * width), zero(lb * width), zero(lb * width), zero(width * block), dspans);
      for (let i = 0; i < lb; i++) {
        let pairs = 0;
        for (let m = 0; m < block; m++) {
          const x = (Math.min(spans[i], cap) - counters[i] - m) / ramp + 1;
          if (x > 0 && x < 1) pairs++;
        }
        const want = spans[i] > cap ? 0 : pairs / ramp / block;
        assertClose([dspans[i]], [want], `trial ${trial}, memory ${i} (${pairs} ramp pairs)`, 1e-5, 1e-7);
      }
    }
  });

  it('state can be cloned, and one stream reset to the starting memory', () => {
    const c = makeConfig({ ...small, expireSpan: true, expireSpanRamp: 2 });
    const m = model(c), batch = 3;
    const memory = MemoryState.initial(c, batch);
    for (let k = 0; k < 3; k++) {
      const t = new Tape();
      m.forward(t, tokens(batch * c.memSz, 7), tokens(batch * c.memSz, 7), memory, { training: false });
      t.reset();
    }
    const copy = memory.clone();
    const before = memory.lengths(1);
    memory.resetStream(c, 1);
    assert.deepEqual(memory.lengths(1), [before[0], c.memSz, before[2]]);
    assert.deepEqual(copy.lengths(1), before, 'the clone is independent');
    const o = memory.layers[1].offsets;
    assert.deepEqual([...memory.layers[1].counters.subarray(o[1], o[2])], [4, 3, 2, 1]);
    assert.ok(memory.layers[1].hidden.subarray(o[1] * c.hidSz, o[2] * c.hidSz).every((v) => v === 0));
    const co = copy.layers[1].offsets;
    assertClose(memory.layers[1].hidden.subarray(0, o[1] * c.hidSz), copy.layers[1].hidden.subarray(0, co[1] * c.hidSz), 'stream 0 untouched', 0, 0);
    assert.throws(() => memory.resetStream(c, 3), /no stream 3 \(batch 3\)/);
  });

  it('in training the kept states stay in the packed rows\' pool buffer, with the same losses, gradients and memories', () => {
    for (const [name, kind] of KINDS) {
      const c = makeConfig({ ...small, ...kind });
      const m = model(c), batch = 3;
      const run = (recycleMemory: boolean) => {
        const memory = MemoryState.initial(c, batch), random = new Random(9), xr = rng(4);
        const losses: number[] = [], grads: number[] = [];
        // One tape for every block, as the trainer runs it; which buffers its pool hands out.
        const t = new Tape(), taken = new Set<ArrayBufferLike>(), take = t.pool.take.bind(t.pool);
        t.pool.take = (size) => {
          const b = take(size);
          taken.add(b.buffer);
          return b;
        };
        let inPool = 0, allocations = 0;
        for (let k = 0; k < 5; k++) {
          const ids = () => Int32Array.from({ length: batch * c.memSz }, () => randomInt(xr, 0, 6));
          const r = m.forward(t, ids(), ids(), memory, { training: true, random, recycleMemory });
          if (recycleMemory) assert.throws(() => memory.layers[0].hidden, /still in the block's packed rows/, name);
          t.backward(r.loss);
          losses.push(r.loss.data[0]);
          grads.push(...[...m.params.entries()].map(([, p]) => p.grad!.reduce((a, b) => a + Math.abs(b), 0)));
          for (const [, p] of m.params.entries()) p.grad!.fill(0);
          inPool += memory.layers.filter((l) => taken.has(l.hidden.buffer)).length;
          t.reset();
          if (k === 1) allocations = t.pool.allocations;
        }
        return { losses, grads, memory, inPool, newAllocations: t.pool.allocations - allocations };
      };
      const fresh = run(false), recycled = run(true);
      assert.deepEqual(recycled.losses, fresh.losses, name);
      assert.deepEqual(recycled.grads, fresh.grads, name);
      assert.deepEqual(recycled.memory.tensors('m').map(([n, t]) => [n, [...t.data]]), fresh.memory.tensors('m').map(([n, t]) => [n, [...t.data]]), name);
      assert.equal(fresh.inPool, 0, name);
      assert.equal(recycled.inPool, 5 * c.nlayers, `${name}: layer memories held in pool buffers`);
      // Each memory's buffer went back to the pool: fixed-size memories allocate nothing new.
      if (name === 'Transformer-XL') assert.equal(recycled.newAllocations, 0, name);
    }
  });

  it('state saves to named tensors and loads back, refusing inconsistent ones', () => {
    const c = makeConfig({ ...small, compress: true, compressRate: 2, compressSize: 4 });
    const m = model(c), batch = 2;
    const memory = m.initialMemory(batch);
    const t = new Tape();
    m.forward(t, tokens(batch * c.memSz, 7), tokens(batch * c.memSz, 7), memory, { training: false });
    t.reset();
    const saved = new Map(memory.tensors('mem').map(([name, x]) => [name, x.data]));
    assert.ok(saved.has('mem.1.compressed'));
    const restored = m.initialMemory(batch);
    restored.load('mem', (name) => saved.get(name), 'test');
    assert.deepEqual(restored.layers, memory.layers);
    const broken = new Map(saved);
    broken.set('mem.0.offsets', Int32Array.of(0, 9, 3));
    assert.throws(() => m.initialMemory(batch).load('mem', (name) => broken.get(name), 'file.safetensors'), /file\.safetensors: mem\.0\.offsets must start at 0 and never decrease/);
    broken.set('mem.0.offsets', Int32Array.of(0, 8, 17));
    assert.throws(() => m.initialMemory(batch).load('mem', (name) => broken.get(name), 'f'), /mem\.0 holds 16 counters and 16 states for 17 memories/);
  });
});
