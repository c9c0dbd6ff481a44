// The TypeScript kernels: the specification of every native kernel, written for clarity first.
// They run on Float32Array (rounding on store, as the native code does) or on Float64Array (for
// gradient checks against finite differences).
import { dropoutFactor } from './dropout.js';
import type { FloatArray, KernelInfo, Kernels } from './kernels.js';
import { attentionBackward, attentionForward, meanPoolRows, memoryPrune } from './reference-memory.js';

function rows(count: number, fn: (r: number) => void): void {
  for (let r = 0; r < count; r++) fn(r);
}

function logSoftmaxRow(x: FloatArray, y: FloatArray, offset: number, n: number): void {
  let max = -Infinity;
  for (let c = 0; c < n; c++) max = Math.max(max, x[offset + c]);
  let s = 0;
  for (let c = 0; c < n; c++) s += Math.exp(x[offset + c] - max);
  const lse = max + Math.log(s);
  for (let c = 0; c < n; c++) y[offset + c] = x[offset + c] - lse;
}

export const referenceKernels: Kernels<FloatArray> = {
  info(): KernelInfo {
    return { backend: 'typescript', gemm: 'typescript', blas: 'none', blasCore: '', builtinIsa: 'none', threads: 1 };
  },
  setThreads(): void {
    // single-threaded by nature
  },

  gemm(transA, transB, m, n, k, alpha, a, aOffset, lda, strideA, b, bOffset, ldb, strideB, beta, c, cOffset, ldc, strideC, batch) {
    // op(A)(i, p) = transA ? a[p * lda + i] : a[i * lda + p]; likewise op(B)(p, j).
    const ai = transA ? 1 : lda, ap = transA ? lda : 1;
    const bp = transB ? 1 : ldb, bj = transB ? ldb : 1;
    const acc = new Float64Array(n);
    for (let t = 0; t < batch; t++) {
      const a0 = aOffset + t * strideA, b0 = bOffset + t * strideB, c0 = cOffset + t * strideC;
      for (let i = 0; i < m; i++) {
        acc.fill(0);
        for (let p = 0; p < k; p++) {
          const av = a[a0 + i * ai + p * ap];
          const brow = b0 + p * bp;
          for (let j = 0; j < n; j++) acc[j] += av * b[brow + j * bj];
        }
        const crow = c0 + i * ldc;
        for (let j = 0; j < n; j++) c[crow + j] = beta === 0 ? alpha * acc[j] : alpha * acc[j] + beta * c[crow + j];
      }
    }
  },

  add(a, b, out, n) {
    for (let i = 0; i < n; i++) out[i] = a[i] + b[i];
  },
  mul(a, b, out, n) {
    for (let i = 0; i < n; i++) out[i] = a[i] * b[i];
  },
  mulAcc(a, b, out, n) {
    for (let i = 0; i < n; i++) out[i] += a[i] * b[i];
  },
  axpy(alpha, x, y, n) {
    for (let i = 0; i < n; i++) y[i] += alpha * x[i];
  },
  scale(x, alpha, out, n) {
    for (let i = 0; i < n; i++) out[i] = alpha * x[i];
  },
  fill(x, value, n) {
    x.fill(value, 0, n);
  },
  copy(x, out, n) {
    for (let i = 0; i < n; i++) out[i] = x[i];
  },
  // A JavaScript buffer cannot give its pages back; the garbage collector frees it later.
  discard() {},
  addBias(x, bias, out, rowCount, cols) {
    for (let r = 0; r < rowCount; r++) for (let c = 0; c < cols; c++) out[r * cols + c] = x[r * cols + c] + bias[c];
  },
  sumRows(dy, dbias, rowCount, cols) {
    for (let r = 0; r < rowCount; r++) for (let c = 0; c < cols; c++) dbias[c] += dy[r * cols + c];
  },
  reluForward(x, y, n) {
    for (let i = 0; i < n; i++) y[i] = x[i] > 0 ? x[i] : 0;
  },
  reluBackward(y, dy, dx, n) {
    if (dx === dy) for (let i = 0; i < n; i++) dx[i] = y[i] > 0 ? dx[i] : 0;
    else for (let i = 0; i < n; i++) if (y[i] > 0) dx[i] += dy[i];
  },
  sigmoidForward(x, y, n) {
    for (let i = 0; i < n; i++) y[i] = 1 / (1 + Math.exp(-x[i]));
  },
  sigmoidBackward(y, dy, dx, n) {
    for (let i = 0; i < n; i++) dx[i] += dy[i] * y[i] * (1 - y[i]);
  },
  dropoutForward(x, y, n, p, seed) {
    for (let i = 0; i < n; i++) y[i] = x[i] * dropoutFactor(seed, i, p);
  },
  dropoutBackward(dy, dx, n, p, seed) {
    for (let i = 0; i < n; i++) dx[i] += dy[i] * dropoutFactor(seed, i, p);
  },
  sumSquares(x, n) {
    let s = 0;
    for (let i = 0; i < n; i++) s += x[i] * x[i];
    return s;
  },
  sum(x, n) {
    let s = 0;
    for (let i = 0; i < n; i++) s += x[i];
    return s;
  },

  layerNormForward(x, w, b, y, mean, rstd, rowCount, cols, eps) {
    rows(rowCount, (r) => {
      const o = r * cols;
      let s = 0;
      for (let c = 0; c < cols; c++) s += x[o + c];
      const mu = s / cols;
      let ss = 0;
      for (let c = 0; c < cols; c++) ss += (x[o + c] - mu) ** 2;
      const rs = 1 / Math.sqrt(ss / cols + eps);
      for (let c = 0; c < cols; c++) y[o + c] = (x[o + c] - mu) * rs * w[c] + b[c];
      mean[r] = mu;
      rstd[r] = rs;
    });
  },
  layerNormBackward(dy, x, w, mean, rstd, dx, dw, db, rowCount, cols) {
    // With xhat = (x - mean) * rstd and g = dy * w:
    //   dx += rstd * (g - mean(g) - xhat * mean(g * xhat)); dw += dy * xhat; db += dy
    rows(rowCount, (r) => {
      const o = r * cols, mu = mean[r], rs = rstd[r];
      let gSum = 0, gxSum = 0;
      for (let c = 0; c < cols; c++) {
        const g = dy[o + c] * w[c];
        gSum += g;
        gxSum += g * (x[o + c] - mu) * rs;
      }
      const gMean = gSum / cols, gxMean = gxSum / cols;
      for (let c = 0; c < cols; c++) {
        const xhat = (x[o + c] - mu) * rs;
        dx[o + c] += rs * (dy[o + c] * w[c] - gMean - xhat * gxMean);
        dw[c] += dy[o + c] * xhat;
        db[c] += dy[o + c];
      }
    });
  },

  softmaxForward(x, y, rowCount, cols) {
    rows(rowCount, (r) => {
      const o = r * cols;
      let max = -Infinity;
      for (let c = 0; c < cols; c++) max = Math.max(max, x[o + c]);
      let s = 0;
      for (let c = 0; c < cols; c++) s += Math.exp(x[o + c] - max);
      for (let c = 0; c < cols; c++) y[o + c] = Math.exp(x[o + c] - max) / s;
    });
  },
  softmaxBackward(y, dy, dx, rowCount, cols) {
    rows(rowCount, (r) => {
      const o = r * cols;
      let dot = 0;
      for (let c = 0; c < cols; c++) dot += dy[o + c] * y[o + c];
      for (let c = 0; c < cols; c++) dx[o + c] += y[o + c] * (dy[o + c] - dot);
    });
  },
  logSoftmaxForward(x, y, rowCount, cols) {
    rows(rowCount, (r) => logSoftmaxRow(x, y, r * cols, cols));
  },
  logSoftmaxBackward(y, dy, dx, rowCount, cols) {
    rows(rowCount, (r) => {
      const o = r * cols;
      let s = 0;
      for (let c = 0; c < cols; c++) s += dy[o + c];
      for (let c = 0; c < cols; c++) dx[o + c] += dy[o + c] - Math.exp(y[o + c]) * s;
    });
  },
  logSoftmaxNllForward(logits, target, logprobs, nll, rowCount, cols) {
    let total = 0;
    rows(rowCount, (r) => {
      logSoftmaxRow(logits, logprobs, r * cols, cols);
      nll[r] = target[r] >= 0 ? -logprobs[r * cols + target[r]] : 0;
      total += nll[r];
    });
    return total;
  },
  logSoftmaxNllBackward(logprobs, target, dlogits, rowCount, cols, scale) {
    rows(rowCount, (r) => {
      if (target[r] < 0) return;
      const o = r * cols;
      for (let c = 0; c < cols; c++) dlogits[o + c] += scale * Math.exp(logprobs[o + c]);
      dlogits[o + target[r]] -= scale;
    });
  },

  embeddingForward(ids, table, out, n, dim) {
    for (let i = 0; i < n; i++) out.set(table.subarray(ids[i] * dim, (ids[i] + 1) * dim), i * dim);
  },
  embeddingBackward(ids, dout, dtable, n, dim) {
    for (let i = 0; i < n; i++) for (let c = 0; c < dim; c++) dtable[ids[i] * dim + c] += dout[i * dim + c];
  },

  attentionForward,
  attentionBackward,
  memoryPrune,
  meanPoolRows,

  adam(param, grad, m, v, n, lr, beta1, beta2, eps, step) {
    const stepSize = lr / (1 - beta1 ** step);
    const sqrtBc2 = Math.sqrt(1 - beta2 ** step);
    for (let i = 0; i < n; i++) {
      m[i] = beta1 * m[i] + (1 - beta1) * grad[i];
      v[i] = beta2 * v[i] + (1 - beta2) * grad[i] * grad[i];
      param[i] -= (stepSize * m[i]) / (Math.sqrt(v[i]) / sqrtBc2 + eps);
    }
  },
};
