// The memory kernels (masked relative-position attention over ragged memories, pruning):
// backward against finite differences (float64 reference), native against the reference.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, it } from 'node:test';
import { AttentionMode } from '../src/kernels/attention.js';
import { nativeKernels, referenceKernels, type FloatArray, type Kernels } from '../src/kernels/index.js';
import { assertClose, randomInt, rng } from './helpers.js';

const random = rng(2024);
const ref = referenceKernels;

interface Case {
  mode: number;
  batch: number;
  block: number;
  heads: number;
  headDim: number;
  peLen: number;
  window: number;
  rate: number;
  compressed: number;
  offsets: Int32Array;
  rows: number;
  ramp: number;
  limit: number;
  dropout: number;
  seed: number;
}

const MODES = [AttentionMode.Window, AttentionMode.Expire, AttentionMode.Adaptive, AttentionMode.Compressive];
const NAME = ['window', 'expire', 'adaptive', 'compressive'];

function randomCase(mode: number): Case {
  const batch = randomInt(random, 1, 3), heads = randomInt(random, 1, 3), headDim = randomInt(random, 1, 4);
  const rate = mode === AttentionMode.Compressive ? randomInt(random, 1, 3) : 1;
  const block = rate * randomInt(random, 1, 3);
  const compressed = mode === AttentionMode.Compressive ? block / rate + randomInt(random, 0, 3) : 0;
  const lengths = Array.from({ length: batch }, () => compressed + block + randomInt(random, mode === AttentionMode.Expire ? block : 0, 12));
  const offsets = Int32Array.from([0, ...lengths.map((_, b) => lengths.slice(0, b + 1).reduce((s, x) => s + x, 0))]);
  const window = mode === AttentionMode.Expire ? 1 << 30 : randomInt(random, 1, 8);
  const peLen = mode === AttentionMode.Expire ? block : mode === AttentionMode.Compressive ? window + compressed - block / rate + 1 : window;
  const limit = mode === AttentionMode.Adaptive ? window : random() < 0.5 ? Infinity : 9;
  const dropout = random() < 0.5 ? 0 : 0.3, seed = randomInt(random, 0, 2 ** 31);
  return { mode, batch, block, heads, headDim, peLen, window, rate, compressed, offsets, rows: offsets[batch], ramp: randomInt(random, 1, 4) + 0.5, limit, dropout, seed };
}

function buffers<F extends FloatArray>(c: Case, make: (n: number, lo?: number, hi?: number) => F) {
  const width = c.heads * c.headDim;
  const counters = make(c.mode === AttentionMode.Expire ? c.rows : 0);
  if (c.mode === AttentionMode.Expire) {
    for (let b = 0; b < c.batch; b++) {
      // Older memories count higher; pruning leaves gaps; the block counts 0, -1, ..., -(M-1).
      const lb = c.offsets[b + 1] - c.offsets[b];
      let counter = 0;
      for (let i = lb - 1; i >= 0; i--) {
        counters[c.offsets[b] + i] = i >= lb - c.block ? -(i - (lb - c.block)) : (counter += randomInt(random, 1, 2));
      }
    }
  }
  const spans = c.mode === AttentionMode.Expire ? make(c.rows, 0, 14) : c.mode === AttentionMode.Adaptive ? make(random() < 0.3 ? 1 : c.heads, 0, 1) : make(0);
  return {
    q: make(c.batch * c.block * width), k: make(c.rows * width), v: make(c.rows * width),
    keyPe: make(c.headDim * c.peLen), spans, counters,
  };
}

const f64 = (n: number, lo = -1, hi = 1) => Float64Array.from({ length: n }, () => lo + (hi - lo) * random());
const f32 = (n: number, lo = -1, hi = 1) => Float32Array.from({ length: n }, () => lo + (hi - lo) * random());

function forward<F extends FloatArray>(k: Kernels<F>, c: Case, x: ReturnType<typeof buffers<F>>, make: (n: number) => F) {
  const out = make(c.batch * c.block * c.heads * c.headDim), aux = make(c.mode === AttentionMode.Expire ? c.batch : 0);
  k.attentionForward(c.mode, c.batch, c.block, c.heads, c.headDim, c.peLen, c.window, c.rate, c.compressed, x.q, x.k, x.v, c.offsets, x.keyPe, x.spans, x.counters, c.ramp, c.limit, c.dropout, c.seed, out, aux);
  return { out, aux };
}

function backward<F extends FloatArray>(k: Kernels<F>, c: Case, x: ReturnType<typeof buffers<F>>, dout: F, auxGrad: F, g: { q: F; k: F; v: F; keyPe: F; spans: F }) {
  k.attentionBackward(c.mode, c.batch, c.block, c.heads, c.headDim, c.peLen, c.window, c.rate, c.compressed, x.q, x.k, x.v, c.offsets, x.keyPe, x.spans, x.counters, c.ramp, c.limit, c.dropout, c.seed, dout, auxGrad, g.q, g.k, g.v, g.keyPe, g.spans);
}

describe('memory attention: backward matches finite differences (float64 reference)', () => {
  for (const mode of MODES) {
    for (let trial = 0; trial < 4; trial++) {
      it(`${NAME[mode]} mode, case ${trial}`, () => {
        const c = randomCase(mode);
        const x = buffers(c, f64);
        const zeros = (n: number) => new Float64Array(n);
        const r = f64(c.batch * c.block * c.heads * c.headDim), rAux = f64(mode === AttentionMode.Expire ? c.batch : 0);
        const loss = () => {
          const { out, aux } = forward(ref, c, x, zeros);
          let s = 0;
          for (let i = 0; i < out.length; i++) s += r[i] * out[i];
          if (mode === AttentionMode.Expire) for (let b = 0; b < c.batch; b++) s += rAux[b] * aux[b];
          return s;
        };
        const g = { q: zeros(x.q.length), k: zeros(x.k.length), v: zeros(x.v.length), keyPe: zeros(x.keyPe.length), spans: zeros(x.spans.length) };
        backward(ref, c, x, r, rAux, g);
        const names: ('q' | 'k' | 'v' | 'keyPe' | 'spans')[] = ['q', 'k', 'v', 'keyPe', 'spans'];
        for (const name of names) {
          const buf = x[name];
          const numeric = new Float64Array(buf.length);
          for (let i = 0; i < buf.length; i++) {
            const keep = buf[i];
            buf[i] = keep + 1e-6;
            const up = loss();
            buf[i] = keep - 1e-6;
            const down = loss();
            buf[i] = keep;
            numeric[i] = (up - down) / 2e-6;
          }
          assertClose(g[name], numeric, `d${name} (${JSON.stringify({ ...c, offsets: [...c.offsets] })})`, 1e-5, 1e-6);
        }
      });
    }
  }

  it('a query never sees itself or later keys, and sees only its window', () => {
    const c: Case = { mode: AttentionMode.Window, batch: 1, block: 3, heads: 1, headDim: 2, peLen: 2, window: 2, rate: 1, compressed: 0, offsets: Int32Array.of(0, 5), rows: 5, ramp: 1, limit: Infinity, dropout: 0, seed: 0 };
    // One value per key, one-hot (headDim = rows): out[m * 5 + i] is query m's weight on key i.
    const x = { ...buffers({ ...c, headDim: 5 }, f64), v: Float64Array.from({ length: 25 }, (_, j) => (j % 6 === 0 ? 1 : 0)) };
    const { out } = forward(ref, { ...c, headDim: 5 }, x, (n) => new Float64Array(n));
    // Query m sits at key 2 + m and sees keys 2 + m - 2 and 2 + m - 1.
    for (let m = 0; m < 3; m++) {
      for (let i = 0; i < 5; i++) assert.equal(out[m * 5 + i] > 0, i >= m && i < m + 2, `query ${m}, key ${i}`);
    }
  });
});

describe('memory pruning', () => {
  it('expire mode keeps the current block and memories whose mask is positive at the next block', () => {
    const hidden = Float64Array.from({ length: 12 }, (_, i) => i);
    // One stream: 4 memories then a block of 2; R = 2, M = 2: keep iff e - c + R - M > 0, i.e. e > c.
    const counters = Float64Array.of(4, 3, 2, 1, 0, -1), spans = Float64Array.of(4.5, 3, 1, 1.5, 0, 0);
    const outH = new Float64Array(12), outC = new Float64Array(6), outO = new Int32Array(2);
    const kept = ref.memoryPrune(AttentionMode.Expire, 1, 2, 2, 2, 0, hidden, counters, Int32Array.of(0, 6), spans, outH, outC, outO);
    assert.equal(kept, 4);
    assert.deepEqual([...outC.subarray(0, 4)], [6, 3, 2, 1]);
    assert.deepEqual([...outH.subarray(0, 8)], [0, 1, 6, 7, 8, 9, 10, 11]);
    assert.deepEqual([...outO], [0, 4]);
  });

  it('window mode keeps each stream\'s last `window` rows', () => {
    const hidden = Float64Array.from({ length: 7 }, (_, i) => i);
    const counters = new Float64Array(7), outH = new Float64Array(7), outC = new Float64Array(7), outO = new Int32Array(3);
    const kept = ref.memoryPrune(AttentionMode.Window, 2, 1, 1, 1, 2, hidden, counters, Int32Array.of(0, 4, 7), new Float64Array(0), outH, outC, outO);
    assert.equal(kept, 4);
    assert.deepEqual([...outH.subarray(0, 4)], [2, 3, 5, 6]);
    assert.deepEqual([...outO], [0, 2, 4]);
  });
});

const forcedTypescript = !nativeKernels;
describe('memory kernels: native matches the reference', { skip: forcedTypescript ? 'the native kernels are not loaded in this run' : false }, () => {
  // Forward and backward (which adds into the gradients) of both kernels on the same inputs.
  const compareAttention = (c: Case, x: ReturnType<typeof buffers<Float32Array>>) => {
    const zeros = (n: number) => new Float32Array(n);
    const want = forward(ref as unknown as Kernels, c, x, zeros), got = forward(nativeKernels!, c, x, zeros);
    assertClose(got.out, want.out, 'out', 1e-4, 1e-5);
    if (c.mode === AttentionMode.Expire) assertClose(got.aux, want.aux, 'aux', 1e-4, 1e-5);
    const dout = f32(got.out.length), auxGrad = f32(got.aux.length);
    const grads = () => ({ q: f32(x.q.length), k: f32(x.k.length), v: f32(x.v.length), keyPe: f32(x.keyPe.length), spans: f32(x.spans.length) });
    const gr = grads(), gn = { q: gr.q.slice(), k: gr.k.slice(), v: gr.v.slice(), keyPe: gr.keyPe.slice(), spans: gr.spans.slice() };
    for (const [k, g] of [[ref as unknown as Kernels, gr], [nativeKernels!, gn]] as const) backward(k, c, x, dout, auxGrad, g);
    for (const name of ['q', 'k', 'v', 'keyPe', 'spans'] as const) assertClose(gn[name], gr[name], `d${name}`, 1e-4, 1e-5);
    return { dout, auxGrad };
  };

  // The model's sizes take the matrix products' other paths: head dim 64 (values read in place),
  // more keys and position terms than one depth block, and one stream whose products are split
  // between two threads.
  for (const mode of [AttentionMode.Window, AttentionMode.Expire]) {
    it(`${NAME[mode]} mode at the model's sizes (head dim 64, 300 keys, one stream on two threads)`, () => {
      const threads = nativeKernels!.info().threads;
      nativeKernels!.setThreads(2);
      try {
        for (const [batch, dropout] of [[1, 0], [3, 0.3]]) {
          const block = 16, heads = 2, headDim = 64, window = mode === AttentionMode.Window ? 270 : 1 << 30;
          const lengths = Array.from({ length: batch }, (_, b) => 290 + 5 * b);
          const offsets = Int32Array.from([0, ...lengths.map((_, b) => lengths.slice(0, b + 1).reduce((s, n) => s + n, 0))]);
          const c: Case = {
            mode, batch, block, heads, headDim, peLen: mode === AttentionMode.Window ? window : block, window, rate: 1, compressed: 0,
            offsets, rows: offsets[batch], ramp: 16.5, limit: Infinity, dropout, seed: 7,
          };
          const x = buffers(c, f32);
          if (mode === AttentionMode.Expire) x.spans.set(f32(c.rows, 0, 300));
          compareAttention(c, x);
        }
      } finally {
        nativeKernels!.setThreads(threads);
      }
    });
  }

  for (const mode of MODES) {
    it(`${NAME[mode]} mode, forward, backward and pruning on random ragged memories`, () => {
      for (let trial = 0; trial < 10; trial++) {
        const c = randomCase(mode);
        const x = buffers(c, f32);
        const zeros = (n: number) => new Float32Array(n);
        const { dout, auxGrad } = compareAttention(c, x);
        // Keys and values overwritten with their own gradients (dk = k, dv = v) give the same.
        const zeroGrads = () => ({ q: zeros(x.q.length), k: zeros(x.k.length), v: zeros(x.v.length), keyPe: zeros(x.keyPe.length), spans: zeros(x.spans.length) });
        for (const kern of [ref as unknown as Kernels, nativeKernels!]) {
          const want = zeroGrads(), own = { ...x, k: x.k.slice(), v: x.v.slice() }, g = zeroGrads();
          backward(kern, c, x, dout, auxGrad, want);
          backward(kern, c, own, dout, auxGrad, { ...g, k: own.k, v: own.v });
          assertClose(own.k, want.k, 'dk over k', 1e-6, 1e-7);
          assertClose(own.v, want.v, 'dv over v', 1e-6, 1e-7);
          assertClose(g.q, want.q, 'dq with dk over k', 1e-6, 1e-7);
        }

        const width = 3, hidden = f32(c.rows * width);
        const outs = () => ({ h: new Float32Array(c.rows * width), c: new Float32Array(c.rows), o: new Int32Array(c.batch + 1) });
        const a = outs(), b = outs();
        const counters = f32(c.rows, -5, 20), spans = f32(c.rows, 0, 20);
        const keptRef = ref.memoryPrune(mode, c.batch, c.block, width, c.ramp, c.window, hidden, counters, c.offsets, spans, a.h, a.c, a.o);
        const keptNat = nativeKernels!.memoryPrune(mode, c.batch, c.block, width, c.ramp, c.window, hidden, counters, c.offsets, spans, b.h, b.c, b.o);
        assert.equal(keptNat, keptRef);
        assert.deepEqual(b.o, a.o);
        assert.deepEqual(b.h, a.h);
        assert.deepEqual(b.c, a.c);
        // In place (rows move only towards the front), and width 0 (which rows stay, nothing moved).
        for (const k of [ref as unknown as Kernels, nativeKernels!]) {
          const inPlace = hidden.slice(), c0 = outs();
          assert.equal(k.memoryPrune(mode, c.batch, c.block, width, c.ramp, c.window, inPlace, counters, c.offsets, spans, inPlace, c0.c, c0.o), keptRef);
          assert.deepEqual(inPlace.subarray(0, keptRef * width), a.h.subarray(0, keptRef * width));
          const untouched = hidden.slice(), c1 = outs();
          assert.equal(k.memoryPrune(mode, c.batch, c.block, 0, c.ramp, c.window, untouched, counters, c.offsets, spans, untouched, c1.c, c1.o), keptRef);
          assert.deepEqual([c1.c, c1.o, untouched], [a.c, a.o, hidden]);
        }
      }
    });
  }

  // The products skip what lies outside each query's keys (a band) in every built-in kernel;
  // the instruction set is fixed when the addon loads, so the tests above run again in a
  // process of their own for the kernels this one does not use.
  it('the model-size cases with the AVX2 and the portable matrix kernels', () => {
    // Without the runner's NODE_TEST_CONTEXT, whose child processes report to it, not to stdout.
    const { NODE_TEST_CONTEXT: _, ...env } = process.env;
    for (const isa of ['avx2', 'portable']) {
      const out = execFileSync(process.execPath, ['--test', '--test-name-pattern', "at the model's sizes", fileURLToPath(import.meta.url)], {
        env: { ...env, EXPIRE_SPAN_GEMM_ISA: isa, EXPIRE_SPAN_KERNELS: 'native' },
        encoding: 'utf8',
      });
      assert.match(out, /^# pass 2$/m, `${isa}: ${out}`);
      assert.match(out, /^# fail 0$/m, `${isa}: ${out}`);
    }
  });

  it('mean-pooling rows', () => {
    const x = f32(12 * 5), a = new Float32Array(4 * 5), b = new Float32Array(4 * 5);
    ref.meanPoolRows(x, 12, 5, 3, a);
    nativeKernels!.meanPoolRows(x, 12, 5, 3, b);
    assertClose(b, a, 'pooled', 1e-6, 1e-7);
    assertClose(b.subarray(0, 5), Array.from({ length: 5 }, (_, c) => (x[c] + x[5 + c] + x[10 + c]) / 3), 'first group', 1e-6, 1e-7);
  });
});
