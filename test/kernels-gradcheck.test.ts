// Every backward kernel against central finite differences of its forward kernel, computed in
// float64 with the TypeScript reference (the native backward kernels are held to the reference
// in kernels-native.test.ts, so together they check the native gradients too).
import { describe, it } from 'node:test';
import { referenceKernels as k } from '../src/kernels/index.js';
import { assertClose, randomInt, rng } from './helpers.js';

const random = rng(99);
const f64 = (n: number, lo = -1, hi = 1) => Float64Array.from({ length: n }, () => lo + (hi - lo) * random());

/** Central differences of scalar f with respect to every element of x (perturbed in place). */
function numericGrad(x: Float64Array, f: () => number, eps = 1e-6): Float64Array {
  const g = new Float64Array(x.length);
  for (let i = 0; i < x.length; i++) {
    const keep = x[i];
    x[i] = keep + eps;
    const up = f();
    x[i] = keep - eps;
    const down = f();
    x[i] = keep;
    g[i] = (up - down) / (2 * eps);
  }
  return g;
}

/** Loss = sum(r * y), the usual way to turn a vector output into a scalar with a random dy = r. */
const dot = (r: Float64Array, y: Float64Array) => r.reduce((s, v, i) => s + v * y[i], 0);

describe('backward kernels match finite differences (float64)', () => {
  for (const [rows, cols] of [[1, 1], [1, 5], [4, 7], [3, 16]]) {
    const n = rows * cols;
    it(`layer norm ${rows}x${cols}`, () => {
      const x = f64(n, -2, 2), w = f64(cols), b = f64(cols), r = f64(n);
      const y = new Float64Array(n), mean = new Float64Array(rows), rstd = new Float64Array(rows);
      const loss = () => (k.layerNormForward(x, w, b, y, mean, rstd, rows, cols, 1e-5), dot(r, y));
      loss();
      const dx = new Float64Array(n), dw = new Float64Array(cols), db = new Float64Array(cols);
      k.layerNormBackward(r, x, w, mean, rstd, dx, dw, db, rows, cols);
      // cols = 1 normalises to exactly b: every dx is 0 and FD agrees.
      assertClose(dx, numericGrad(x, loss), 'dx', 1e-5, 1e-6);
      assertClose(dw, numericGrad(w, loss), 'dw', 1e-5, 1e-6);
      assertClose(db, numericGrad(b, loss), 'db', 1e-5, 1e-6);
    });

    it(`softmax and log-softmax ${rows}x${cols}`, () => {
      const x = f64(n, -3, 3), r = f64(n), y = new Float64Array(n);
      for (const [fwd, bwd] of [[k.softmaxForward, k.softmaxBackward], [k.logSoftmaxForward, k.logSoftmaxBackward]] as const) {
        const loss = () => (fwd(x, y, rows, cols), dot(r, y));
        loss();
        const dx = new Float64Array(n);
        bwd(y, r, dx, rows, cols);
        assertClose(dx, numericGrad(x, loss), `${fwd.name} dx`, 1e-5, 1e-7);
      }
    });

    it(`log-softmax + NLL ${rows}x${cols}, with a left-out row`, () => {
      const x = f64(n, -3, 3), lp = new Float64Array(n), nll = new Float64Array(rows);
      const target = Int32Array.from({ length: rows }, (_, i) => (i === 1 ? -1 : randomInt(random, 0, cols - 1)));
      const scale = 0.7;
      const loss = () => scale * k.logSoftmaxNllForward(x, target, lp, nll, rows, cols);
      loss();
      const dx = new Float64Array(n);
      k.logSoftmaxNllBackward(lp, target, dx, rows, cols, scale);
      assertClose(dx, numericGrad(x, loss), 'dlogits', 1e-5, 1e-7);
    });

    it(`relu, bias, product ${rows}x${cols}`, () => {
      // Values kept away from the kink at 0, where relu has no derivative.
      const x = Float64Array.from(f64(n), (v) => (v < 0 ? v - 0.1 : v + 0.1));
      const r = f64(n), y = new Float64Array(n), dx = new Float64Array(n);
      const reluLoss = () => (k.reluForward(x, y, n), dot(r, y));
      reluLoss();
      k.reluBackward(y, r, dx, n);
      assertClose(dx, numericGrad(x, reluLoss), 'relu dx', 1e-6, 1e-8);

      const bias = f64(cols), dbias = new Float64Array(cols);
      const biasLoss = () => (k.addBias(x, bias, y, rows, cols), dot(r, y));
      k.sumRows(r, dbias, rows, cols);
      assertClose(dbias, numericGrad(bias, biasLoss), 'dbias', 1e-6, 1e-8);

      const a = f64(n), da = new Float64Array(n);
      const mulLoss = () => (k.mul(a, x, y, n), dot(r, y));
      k.mulAcc(r, x, da, n);
      assertClose(da, numericGrad(a, mulLoss), 'mul da', 1e-6, 1e-8);
    });

    it(`embedding ${rows}x${cols}`, () => {
      const vocab = 3, ids = Int32Array.from({ length: rows }, () => randomInt(random, 0, vocab - 1));
      const table = f64(vocab * cols), r = f64(n), out = new Float64Array(n), dtable = new Float64Array(vocab * cols);
      const loss = () => (k.embeddingForward(ids, table, out, rows, cols), dot(r, out));
      k.embeddingBackward(ids, r, dtable, rows, cols);
      assertClose(dtable, numericGrad(table, loss), 'dtable', 1e-6, 1e-8);
    });
  }

  it('gemm: the four transpose forms give the products their backward uses', () => {
    // d/dA sum(R * (A B)) = R B^T and d/dB = A^T R: checked through the gemm forms themselves.
    const [m, n, kk] = [3, 4, 5];
    for (const transA of [false, true]) {
      for (const transB of [false, true]) {
        const a = f64(m * kk), b = f64(kk * n), r = f64(m * n), c = new Float64Array(m * n);
        const lda = transA ? m : kk, ldb = transB ? kk : n;
        const loss = () => (k.gemm(transA, transB, m, n, kk, 1, a, 0, lda, 0, b, 0, ldb, 0, 0, c, 0, n, 0, 1), dot(r, c));
        const da = new Float64Array(m * kk), db = new Float64Array(kk * n);
        if (!transA) k.gemm(false, !transB, m, kk, n, 1, r, 0, n, 0, b, 0, ldb, 0, 1, da, 0, lda, 0, 1);
        else k.gemm(transB, true, kk, m, n, 1, b, 0, ldb, 0, r, 0, n, 0, 1, da, 0, lda, 0, 1);
        if (!transB) k.gemm(!transA, false, kk, n, m, 1, a, 0, lda, 0, r, 0, n, 0, 1, db, 0, ldb, 0, 1);
        else k.gemm(true, transA, n, kk, m, 1, r, 0, n, 0, a, 0, lda, 0, 1, db, 0, ldb, 0, 1);
        assertClose(da, numericGrad(a, loss), `dA transA=${transA} transB=${transB}`, 1e-6, 1e-8);
        assertClose(db, numericGrad(b, loss), `dB transA=${transA} transB=${transB}`, 1e-6, 1e-8);
      }
    }
  });
});
