// The native kernels against the TypeScript reference, on random shapes including odd sizes and
// one-element edges. Skipped, saying why, only when the TypeScript kernels are forced.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { describe, it } from 'node:test';
import { GemmRoute, kernels, nativeKernels, referenceKernels, type Kernels } from '../src/kernels/index.js';
import { assertClose, randomArray, randomInt, rng } from './helpers.js';

const forcedTypescript = ['typescript', 'ts'].includes((process.env.EXPIRE_SPAN_KERNELS ?? '').toLowerCase());

it('uses the native kernels unless EXPIRE_SPAN_KERNELS=typescript', () => {
  assert.equal(kernels.info().backend, forcedTypescript ? 'typescript' : 'native');
});

const ref = referenceKernels as Kernels;
const native = nativeKernels!;
const skip = forcedTypescript ? 'EXPIRE_SPAN_KERNELS=typescript: the native kernels are not loaded in this run' : false;

describe('native kernels match the reference', { skip }, () => {
  const random = rng(1234);
  const copy = (x: Float32Array) => Float32Array.from(x);

  it('gemm: all transposes, batched with offsets and strides, every route', () => {
    const routes = [GemmRoute.Active, GemmRoute.Builtin, ...(native.info().blas !== 'none' ? [GemmRoute.Cblas] : [])];
    // n = 32 and 64 take the path that reads A in place (with a partial row panel, several depth
    // blocks and, at m = 200, more than one row block); so does n = 96 when A is transposed.
    const shapes = [[1, 1, 1, 1], [1, 7, 3, 1], [13, 1, 5, 2], [37, 45, 300, 1], [65, 33, 17, 3], [5, 129, 257, 2], [130, 70, 1, 1], [3, 4, 0, 2], [37, 64, 300, 1], [200, 32, 20, 2], [29, 96, 300, 2]];
    for (const [m, n, k, batch] of shapes) {
      for (const transA of [false, true]) {
        for (const transB of [false, true]) {
          const lda = (transA ? m : k) + randomInt(random, 0, 3), ldb = (transB ? k : n) + randomInt(random, 0, 3), ldc = n + 2;
          const aRows = transA ? k : m, bRows = transB ? n : k;
          const sA = aRows * lda + 5, sB = bRows * ldb + 1, sC = m * ldc + 3;
          const aOff = 2, bOff = 1, cOff = 4;
          const a = randomArray(random, aOff + sA * batch), b = randomArray(random, bOff + sB * batch);
          const c0 = randomArray(random, cOff + sC * batch);
          const [alpha, beta] = [0.75, randomInt(random, 0, 1) ? 0.5 : 0];
          const want = copy(c0);
          ref.gemm(transA, transB, m, n, k, alpha, a, aOff, lda, sA, b, bOff, ldb, sB, beta, want, cOff, ldc, sC, batch);
          for (const route of routes) {
            const got = copy(c0);
            native.gemmVia(route, transA, transB, m, n, k, alpha, a, aOff, lda, sA, b, bOff, ldb, sB, beta, got, cOff, ldc, sC, batch);
            assertClose(got, want, `gemm route ${route} m=${m} n=${n} k=${k} batch=${batch} transA=${transA} transB=${transB}`, 1e-4, 1e-5 * Math.sqrt(k + 1));
          }
        }
      }
    }
  });

  it('every built-in kernel (avx512, avx2, portable) that the CPU runs matches the reference', () => {
    // The instruction set is fixed when the addon loads, so each one is tried in a fresh process.
    const script = `
      import { GemmRoute, nativeKernels as nk, referenceKernels as ref } from './dist/src/kernels/index.js';
      let worst = 0;
      for (const [m, n, k] of [[1, 1, 1], [13, 37, 5], [70, 129, 300]]) for (const tA of [false, true]) for (const tB of [false, true]) {
        const a = Float32Array.from({ length: m * k }, (_, i) => Math.sin(i)), b = Float32Array.from({ length: k * n }, (_, i) => Math.cos(i));
        const want = new Float32Array(m * n), got = new Float32Array(m * n);
        const args = [tA, tB, m, n, k, 1, a, 0, tA ? m : k, 0, b, 0, tB ? k : n, 0, 0];
        ref.gemm(...args, want, 0, n, 0, 1);
        nk.gemmVia(GemmRoute.Builtin, ...args, got, 0, n, 0, 1);
        for (let i = 0; i < want.length; i++) worst = Math.max(worst, Math.abs(got[i] - want[i]) / (1 + Math.abs(want[i])));
      }
      console.log(JSON.stringify({ isa: nk.info().builtinIsa, worst }));`;
    const seen = new Set<string>();
    for (const isa of ['avx512', 'avx2', 'portable']) {
      const out = execFileSync(process.execPath, ['--input-type=module', '-e', script], {
        env: { ...process.env, EXPIRE_SPAN_GEMM_ISA: isa },
        encoding: 'utf8',
      });
      const { isa: used, worst } = JSON.parse(out) as { isa: string; worst: number };
      assert.ok(worst < 1e-4, `${used}: largest relative error ${worst}`);
      seen.add(used);
    }
    assert.ok(seen.has('portable'), 'the portable kernel was not exercised');
  });

  it('gemm with beta = 0 ignores what C held (NaN stays out)', () => {
    for (const route of [GemmRoute.Active, GemmRoute.Builtin]) {
      const c = new Float32Array(6).fill(NaN);
      native.gemmVia(route, false, false, 2, 3, 1, 1, Float32Array.of(1, 2), 0, 1, 0, Float32Array.of(1, 2, 3), 0, 3, 0, 0, c, 0, 3, 0, 1);
      assert.deepEqual([...c], [1, 2, 3, 2, 4, 6]);
    }
  });

  it('buffers may be views into a larger array (subarray with a byte offset)', () => {
    const base = Float32Array.from({ length: 12 }, (_, i) => i);
    const out = new Float32Array(8);
    native.add(base.subarray(2, 5), base.subarray(6, 9), out.subarray(4), 3);
    assert.deepEqual([...out], [0, 0, 0, 0, 8, 10, 12, 0]);
  });

  it('gemm gives the same result on 1 and 2 threads', () => {
    const [m, n, k] = [300, 200, 150];
    const a = randomArray(random, m * k), b = randomArray(random, k * n);
    const run = (threads: number) => {
      native.setThreads(threads);
      const c = new Float32Array(m * n);
      native.gemmVia(GemmRoute.Builtin, false, false, m, n, k, 1, a, 0, k, 0, b, 0, n, 0, 0, c, 0, n, 0, 1);
      return c;
    };
    const one = run(1), two = run(2);
    native.setThreads(2);
    assert.deepEqual(two, one);
  });

  // Runs fn on the native and the reference kernels with identical copies of `inputs`, then
  // compares every buffer (outputs and accumulated gradients) and the return value.
  function same(what: string, inputs: Float32Array[], fn: (k: Kernels, bufs: Float32Array[]) => number | void, rtol = 1e-5, atol = 1e-5): void {
    const r = inputs.map(copy), nat = inputs.map(copy);
    const rv = fn(ref, r), nv = fn(native, nat);
    r.forEach((x, i) => assertClose(nat[i], x, `${what}: buffer ${i}`, rtol, atol));
    if (typeof rv === 'number') assertClose([nv as number], [rv], `${what}: return value`, rtol, atol);
  }

  const sizes = [[1, 1], [1, 7], [3, 1], [17, 33], [64, 256], [5, 1000], [300, 257]];

  it('elementwise, relu, bias and reductions', () => {
    // 600 x 500: more than the copy's and fill's grain, so both threads take part.
    for (const [rows, cols] of [...sizes, [700, 100], [600, 500]]) {
      const n = rows * cols;
      const v = () => randomArray(random, n);
      same(`add ${n}`, [v(), v(), v()], (k, [a, b, o]) => k.add(a, b, o, n));
      same(`mul ${n}`, [v(), v(), v()], (k, [a, b, o]) => k.mul(a, b, o, n));
      same(`mulAcc ${n}`, [v(), v(), v()], (k, [a, b, o]) => k.mulAcc(a, b, o, n));
      same(`axpy ${n}`, [v(), v()], (k, [x, y]) => k.axpy(-0.3, x, y, n));
      same(`scale ${n}`, [v(), v()], (k, [x, o]) => k.scale(x, 1.7, o, n));
      same(`fill ${n}`, [v()], (k, [x]) => k.fill(x, 0.25, n));
      same(`copy ${n}`, [v(), v()], (k, [x, o]) => k.copy(x, o, n));
      same(`relu ${n}`, [v(), v()], (k, [x, y]) => k.reluForward(x, y, n));
      same(`relu backward ${n}`, [v(), v(), v()], (k, [y, dy, dx]) => k.reluBackward(y, dy, dx, n));
      same(`relu backward in place ${n}`, [v(), v()], (k, [y, dy]) => k.reluBackward(y, dy, dy, n));
      same(`addBias ${rows}x${cols}`, [v(), randomArray(random, cols), v()], (k, [x, b, o]) => k.addBias(x, b, o, rows, cols));
      same(`sumRows ${rows}x${cols}`, [v(), randomArray(random, cols)], (k, [dy, db]) => k.sumRows(dy, db, rows, cols), 1e-4, 1e-4);
      same(`sumSquares ${n}`, [v()], (k, [x]) => k.sumSquares(x, n), 1e-9, 0);
      same(`sum ${n}`, [v()], (k, [x]) => k.sum(x, n), 1e-9, 1e-9);
    }
  });

  it('dropout draws the same mask natively as in TypeScript, dropping about p', () => {
    for (const [n, p, seed] of [[1, 0.5, 1], [1000, 0.2, 7], [100_003, 0.5, 4294967295], [77, 0, 3]] as const) {
      same(`dropoutForward n=${n} p=${p}`, [randomArray(random, n), new Float32Array(n)], (k, [x, y]) => k.dropoutForward(x, y, n, p, seed), 1e-6, 0);
      same(`dropoutBackward n=${n} p=${p}`, [randomArray(random, n), randomArray(random, n)], (k, [dy, dx]) => k.dropoutBackward(dy, dx, n, p, seed), 1e-6, 1e-7);
    }
    const y = new Float32Array(100_000);
    native.dropoutForward(new Float32Array(100_000).fill(1), y, y.length, 0.3, 12345);
    const dropped = y.filter((v) => v === 0).length / y.length;
    assert.ok(Math.abs(dropped - 0.3) < 0.01, `dropped ${dropped}`);
    assert.ok(y.every((v) => v === 0 || Math.abs(v - 1 / 0.7) < 1e-6));
  });

  it('layer norm forward and backward', () => {
    for (const [rows, cols] of sizes) {
      const n = rows * cols;
      const x = randomArray(random, n, -3, 3), w = randomArray(random, cols), b = randomArray(random, cols);
      same(`layerNormForward ${rows}x${cols}`, [x, w, b, new Float32Array(n), new Float32Array(rows), new Float32Array(rows)],
        (k, [x, w, b, y, mu, rs]) => k.layerNormForward(x, w, b, y, mu, rs, rows, cols, 1e-5), 1e-4, 1e-5);
      const mean = new Float32Array(rows), rstd = new Float32Array(rows);
      ref.layerNormForward(x, w, b, new Float32Array(n), mean, rstd, rows, cols, 1e-5);
      same(`layerNormBackward ${rows}x${cols}`, [randomArray(random, n), x, w, mean, rstd, randomArray(random, n), randomArray(random, cols), randomArray(random, cols)],
        (k, [dy, x, w, mu, rs, dx, dw, db]) => k.layerNormBackward(dy, x, w, mu, rs, dx, dw, db, rows, cols), 1e-4, 1e-4);
    }
  });

  it('softmax, log-softmax and the fused NLL', () => {
    for (const [rows, cols] of sizes) {
      const n = rows * cols;
      const x = randomArray(random, n, -8, 8);
      same(`softmax ${rows}x${cols}`, [x, new Float32Array(n)], (k, [x, y]) => k.softmaxForward(x, y, rows, cols), 1e-5, 1e-7);
      same(`logSoftmax ${rows}x${cols}`, [x, new Float32Array(n)], (k, [x, y]) => k.logSoftmaxForward(x, y, rows, cols), 1e-5, 1e-5);
      const y = new Float32Array(n), lp = new Float32Array(n);
      ref.softmaxForward(x, y, rows, cols);
      ref.logSoftmaxForward(x, lp, rows, cols);
      same(`softmaxBackward ${rows}x${cols}`, [y, randomArray(random, n), randomArray(random, n)], (k, [y, dy, dx]) => k.softmaxBackward(y, dy, dx, rows, cols), 1e-4, 1e-5);
      same(`logSoftmaxBackward ${rows}x${cols}`, [lp, randomArray(random, n), randomArray(random, n)], (k, [y, dy, dx]) => k.logSoftmaxBackward(y, dy, dx, rows, cols), 1e-4, 1e-4);
      const target = Int32Array.from({ length: rows }, (_, r) => (r % 5 === 3 ? -1 : randomInt(random, 0, cols - 1)));
      same(`logSoftmaxNllForward ${rows}x${cols}`, [x, new Float32Array(n), new Float32Array(rows)], (k, [x, lp, nll]) => k.logSoftmaxNllForward(x, target, lp, nll, rows, cols), 1e-5, 1e-5);
      same(`logSoftmaxNllBackward ${rows}x${cols}`, [lp, randomArray(random, n)], (k, [lp, d]) => k.logSoftmaxNllBackward(lp, target, d, rows, cols, 0.3), 1e-5, 1e-6);
    }
  });

  it('embedding gather and scatter-add (repeated ids)', () => {
    for (const [n, dim, vocab] of [[1, 1, 1], [7, 3, 2], [2048, 256, 256], [100, 1000, 5]]) {
      const ids = Int32Array.from({ length: n }, () => randomInt(random, 0, vocab - 1));
      same(`embeddingForward ${n}x${dim}`, [randomArray(random, vocab * dim), new Float32Array(n * dim)], (k, [t, o]) => k.embeddingForward(ids, t, o, n, dim), 0, 0);
      same(`embeddingBackward ${n}x${dim}`, [randomArray(random, n * dim), randomArray(random, vocab * dim)], (k, [d, t]) => k.embeddingBackward(ids, d, t, n, dim), 1e-4, 1e-4);
    }
  });

  it('adam', () => {
    for (const n of [1, 5, 100_003]) {
      for (const step of [1, 2, 1000]) {
        same(`adam n=${n} step=${step}`, [randomArray(random, n), randomArray(random, n), randomArray(random, n, -0.1, 0.1), randomArray(random, n, 0, 0.01)],
          (k, [p, g, m, v]) => k.adam(p, g, m, v, n, 1e-3, 0.9, 0.999, 1e-8, step), 1e-5, 1e-6);
      }
    }
  });

  it('discard gives whole pages back (they read as zeros) and leaves the buffer usable', () => {
    // 1 MiB: its interior holds whole pages whatever its alignment.
    const n = 1 << 18, x = new Float32Array(n).fill(1);
    native.discard(x, n);
    assert.equal(x[n >> 1], 0, 'an interior page was given back');
    let kept = 0;
    for (let i = 0; i < n; i++) kept += x[i];
    assert.ok(kept < 4096, `${kept} values survived: only the partial pages at either end may keep theirs`);
    x.fill(2);
    assert.equal(x[n >> 1] + x[0] + x[n - 1], 6, 'the buffer is writable again');
    native.discard(x, 0);
    native.discard(new Float32Array(3), 3);
  });
});
