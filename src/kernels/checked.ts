// Argument checks in front of a kernel implementation: buffer kinds, integer sizes, bounds,
// finite scalars, index ranges. The native kernels trust their arguments, so everything that
// could make them read or write out of bounds is refused here with an error naming the kernel,
// the argument and the sizes. The checks are O(1) except for index vectors (ids, targets).
import type { KernelInfo, Kernels } from './kernels.js';

export class KernelArgumentError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'KernelArgumentError';
  }
}

function fail(op: string, message: string): never {
  throw new KernelArgumentError(`${op}: ${message}`);
}

function describe(x: unknown): string {
  if (x === null) return 'null';
  if (ArrayBuffer.isView(x)) return `${x.constructor.name}(${(x as unknown as { length: number }).length})`;
  return typeof x === 'object' ? (x as object).constructor?.name ?? 'object' : typeof x;
}

function f32(op: string, name: string, x: unknown): asserts x is Float32Array {
  if (!(x instanceof Float32Array)) fail(op, `${name} must be a Float32Array, got ${describe(x)}`);
}

function i32(op: string, name: string, x: unknown): asserts x is Int32Array {
  if (!(x instanceof Int32Array)) fail(op, `${name} must be an Int32Array, got ${describe(x)}`);
}

const MAX_DIM = 2 ** 31 - 1;

function size(op: string, name: string, v: number): void {
  if (!(v >= 0 && v <= MAX_DIM) || !Number.isInteger(v) || v < 0 || v > MAX_DIM) fail(op, `${name} must be an integer in [0, 2^31), got ${v}`);
}

function finite(op: string, name: string, v: number): void {
  if (typeof v !== 'number' || !Number.isFinite(v)) fail(op, `${name} must be a finite number, got ${v}`);
}

/** The buffer must hold `needed` elements. */
function holds(op: string, name: string, x: { length: number }, needed: number, shape: string): void {
  if (x.length < needed) fail(op, `${name} (${shape}) needs ${needed} elements, but its buffer has ${x.length}`);
}

/** x must be a Float32Array of at least n elements (n checked by the caller). */
function vec(op: string, name: string, x: Float32Array, n: number): void {
  f32(op, name, x);
  if (x.length < n) holds(op, name, x, n, `n = ${n}`);
}

/** x must be a Float32Array holding a rows x cols matrix. */
function mat(op: string, name: string, x: Float32Array, rows: number, cols: number): void {
  f32(op, name, x);
  if (x.length < rows * cols) holds(op, name, x, rows * cols, `rows x cols = ${rows} x ${cols}`);
}

/** x must be a Float32Array with one element per row. */
function perRow(op: string, name: string, x: Float32Array, rows: number): void {
  f32(op, name, x);
  if (x.length < rows) holds(op, name, x, rows, `rows = ${rows}`);
}

/** x must be a Float32Array with one element per column. */
function perCol(op: string, name: string, x: Float32Array, cols: number): void {
  f32(op, name, x);
  if (x.length < cols) holds(op, name, x, cols, `cols = ${cols}`);
}

function probability(op: string, name: string, p: number): void {
  if (!(p >= 0 && p < 1)) fail(op, `${name} must be in [0, 1), got ${p}`);
}

function seed32(op: string, seed: number): void {
  if (!Number.isInteger(seed) || seed < 0 || seed > 0xffffffff) fail(op, `seed must be an integer in [0, 2^32), got ${seed}`);
}

function dims(op: string, rows: number, cols: number): void {
  size(op, 'rows', rows);
  size(op, 'cols', cols);
}

/** Checks one gemm operand: stored as rows x cols with leading dimension ld, `batch` times. */
function operand(op: string, name: string, x: Float32Array, rows: number, cols: number, offset: number, ld: number, stride: number, batch: number, shape: { toString(): string }): void {
  size(op, `${name} offset`, offset);
  size(op, `ld${name.toLowerCase()}`, ld);
  size(op, `stride${name}`, stride);
  if (ld < Math.max(1, cols)) fail(op, `ld${name.toLowerCase()} = ${ld} is less than the ${cols} columns of ${name} (${shape})`);
  if (rows === 0 || cols === 0 || batch === 0) return;
  const needed = offset + (batch - 1) * stride + (rows - 1) * ld + cols;
  if (x.length < needed) holds(op, name, x, needed, `${shape}, ld ${ld}, offset ${offset}, batch ${batch}, stride ${stride}`);
}

/** Wraps kernels with argument checks; behaviour on valid input is unchanged. The checks
 * allocate nothing unless they fail: they run on every kernel call. */
export function checked<K extends Kernels>(k: K): K {
  const elementwise3 = (op: 'add' | 'mul' | 'mulAcc') => (a: Float32Array, b: Float32Array, out: Float32Array, n: number) => {
    size(op, 'n', n);
    vec(op, 'a', a, n);
    vec(op, 'b', b, n);
    vec(op, 'out', out, n);
    k[op](a, b, out, n);
  };
  /** An activation's forward (x -> y) and backward (y, dy -> dx), elementwise over n. */
  const activation = (forward: 'reluForward' | 'sigmoidForward', backward: 'reluBackward' | 'sigmoidBackward') =>
    [
      (x: Float32Array, y: Float32Array, n: number) => {
        size(forward, 'n', n);
        vec(forward, 'x', x, n);
        vec(forward, 'y', y, n);
        k[forward](x, y, n);
      },
      (y: Float32Array, dy: Float32Array, dx: Float32Array, n: number) => {
        size(backward, 'n', n);
        vec(backward, 'y', y, n);
        vec(backward, 'dy', dy, n);
        vec(backward, 'dx', dx, n);
        k[backward](y, dy, dx, n);
      },
    ] as const;
  /** A row-wise normaliser's forward (x -> y) and backward (y, dy -> dx) over rows x cols. */
  const rowwise = (forward: 'softmaxForward' | 'logSoftmaxForward', backward: 'softmaxBackward' | 'logSoftmaxBackward') =>
    [
      (x: Float32Array, y: Float32Array, rows: number, cols: number) => {
        dims(forward, rows, cols);
        mat(forward, 'x', x, rows, cols);
        mat(forward, 'y', y, rows, cols);
        k[forward](x, y, rows, cols);
      },
      (y: Float32Array, dy: Float32Array, dx: Float32Array, rows: number, cols: number) => {
        dims(backward, rows, cols);
        mat(backward, 'y', y, rows, cols);
        mat(backward, 'dy', dy, rows, cols);
        mat(backward, 'dx', dx, rows, cols);
        k[backward](y, dy, dx, rows, cols);
      },
    ] as const;
  const [reluForward, reluBackward] = activation('reluForward', 'reluBackward');
  const [sigmoidForward, sigmoidBackward] = activation('sigmoidForward', 'sigmoidBackward');
  const [softmaxForward, softmaxBackward] = rowwise('softmaxForward', 'softmaxBackward');
  const [logSoftmaxForward, logSoftmaxBackward] = rowwise('logSoftmaxForward', 'logSoftmaxBackward');
  const targets = (op: string, target: Int32Array, rows: number, cols: number) => {
    i32(op, 'target', target);
    if (target.length < rows) holds(op, 'target', target, rows, `rows = ${rows}`);
    for (let r = 0; r < rows; r++) {
      if (target[r] >= cols) fail(op, `target[${r}] = ${target[r]} is out of range for ${cols} classes (negative targets are left out)`);
    }
  };
  const ids = (op: string, ids: Int32Array, n: number, table: Float32Array, dim: number) => {
    i32(op, 'ids', ids);
    if (ids.length < n) holds(op, 'ids', ids, n, `n = ${n}`);
    const vocab = dim === 0 ? 0 : Math.floor(table.length / dim);
    for (let i = 0; i < n; i++) {
      if (ids[i] < 0 || ids[i] >= vocab) fail(op, `ids[${i}] = ${ids[i]} is out of range for a table of ${vocab} rows x ${dim}`);
    }
  };

  /** Checks the ragged layout shared by the memory kernels; returns the number of memory rows. */
  const ragged = (op: string, offsets: Int32Array, batch: number, block: number): number => {
    i32(op, 'offsets', offsets);
    if (offsets.length < batch + 1) holds(op, 'offsets', offsets, batch + 1, `batch + 1 = ${batch + 1}`);
    if (offsets[0] !== 0) fail(op, `offsets[0] must be 0, got ${offsets[0]}`);
    for (let b = 0; b < batch; b++) {
      if (offsets[b + 1] - offsets[b] < block) {
        fail(op, `stream ${b} has ${offsets[b + 1] - offsets[b]} memory rows (offsets[${b}] = ${offsets[b]}, offsets[${b + 1}] = ${offsets[b + 1]}); it needs at least its block of ${block}`);
      }
    }
    return offsets[batch];
  };
  const attention = (op: string, mode: number, batch: number, block: number, heads: number, headDim: number, peLen: number, window: number, rate: number, compressed: number,
    q: Float32Array, k: Float32Array, v: Float32Array, offsets: Int32Array, keyPe: Float32Array, spans: Float32Array, counters: Float32Array, ramp: number, limit: number, dropout: number, seed: number): number => {
    probability(op, 'dropout', dropout);
    seed32(op, seed);
    if (!(mode === 0 || mode === 1 || mode === 2 || mode === 3)) fail(op, `mode must be 0 (window), 1 (expire), 2 (adaptive) or 3 (compressive), got ${mode}`);
    size(op, 'batch', batch);
    size(op, 'block', block);
    size(op, 'heads', heads);
    size(op, 'headDim', headDim);
    size(op, 'peLen', peLen);
    size(op, 'window', window);
    size(op, 'rate', rate);
    size(op, 'compressed', compressed);
    if (headDim < 1 || heads < 1) fail(op, `heads and headDim must be at least 1, got ${heads} and ${headDim}`);
    const rows = ragged(op, offsets, batch, block);
    const width = heads * headDim;
    mat(op, 'q', q, batch * block, width);
    mat(op, 'k', k, rows, width);
    mat(op, 'v', v, rows, width);
    mat(op, 'keyPe', keyPe, headDim, peLen);
    f32(op, 'spans', spans);
    f32(op, 'counters', counters);
    if (mode === 1) {
      perRow(op, 'spans', spans, rows);
      perRow(op, 'counters', counters, rows);
      if (typeof limit !== 'number' || Number.isNaN(limit)) fail(op, `limit must be a number, got ${limit}`);
    }
    if (mode === 2) {
      if (spans.length !== 1 && spans.length !== heads) fail(op, `adaptive mode needs one span ratio per head (${heads}) or one for all, got ${spans.length}`);
      finite(op, 'limit', limit);
    }
    if (mode === 1 || mode === 2) {
      if (!(ramp > 0) || !Number.isFinite(ramp)) fail(op, `ramp must be a positive finite number, got ${ramp}`);
    }
    if (mode === 3) {
      if (rate < 1 || block % rate !== 0) fail(op, `rate ${rate} must be at least 1 and divide the block ${block}`);
      if (compressed < block / rate) fail(op, `compressed (${compressed}) must be at least block / rate = ${block / rate}`);
      for (let b = 0; b < batch; b++) {
        if (offsets[b + 1] - offsets[b] < compressed + block) fail(op, `stream ${b} has ${offsets[b + 1] - offsets[b]} rows, fewer than its ${compressed} compressed rows and its block of ${block}`);
      }
    }
    return rows;
  };

  const wrapped: Kernels = {
    reluForward,
    reluBackward,
    sigmoidForward,
    sigmoidBackward,
    softmaxForward,
    softmaxBackward,
    logSoftmaxForward,
    logSoftmaxBackward,
    info: (): KernelInfo => k.info(),
    setThreads(threads) {
      if (!Number.isInteger(threads) || threads < 1 || threads > 256) fail('setThreads', `threads must be an integer in [1, 256], got ${threads}`);
      k.setThreads(threads);
    },
    gemm(transA, transB, m, n, kk, alpha, a, aOffset, lda, strideA, b, bOffset, ldb, strideB, beta, c, cOffset, ldc, strideC, batch) {
      const op = 'gemm';
      f32(op, 'A', a);
      f32(op, 'B', b);
      f32(op, 'C', c);
      size(op, 'm', m);
      size(op, 'n', n);
      size(op, 'k', kk);
      size(op, 'batch', batch);
      finite(op, 'alpha', alpha);
      finite(op, 'beta', beta);
      const shapes = { toString: () => `op(A) ${m} x ${kk}${transA ? ' (transposed)' : ''}, op(B) ${kk} x ${n}${transB ? ' (transposed)' : ''}, C ${m} x ${n}` };
      operand(op, 'A', a, transA ? kk : m, transA ? m : kk, aOffset, lda, strideA, batch, shapes);
      operand(op, 'B', b, transB ? n : kk, transB ? kk : n, bOffset, ldb, strideB, batch, shapes);
      operand(op, 'C', c, m, n, cOffset, ldc, strideC, batch, shapes);
      k.gemm(transA, transB, m, n, kk, alpha, a, aOffset, lda, strideA, b, bOffset, ldb, strideB, beta, c, cOffset, ldc, strideC, batch);
    },
    add: elementwise3('add'),
    mul: elementwise3('mul'),
    mulAcc: elementwise3('mulAcc'),
    axpy(alpha, x, y, n) {
      size('axpy', 'n', n);
      vec('axpy', 'x', x, n);
      vec('axpy', 'y', y, n);
      finite('axpy', 'alpha', alpha);
      k.axpy(alpha, x, y, n);
    },
    scale(x, alpha, out, n) {
      size('scale', 'n', n);
      vec('scale', 'x', x, n);
      vec('scale', 'out', out, n);
      finite('scale', 'alpha', alpha);
      k.scale(x, alpha, out, n);
    },
    fill(x, value, n) {
      size('fill', 'n', n);
      vec('fill', 'x', x, n);
      if (typeof value !== 'number') fail('fill', `value must be a number, got ${typeof value}`);
      k.fill(x, value, n);
    },
    copy(x, out, n) {
      size('copy', 'n', n);
      vec('copy', 'x', x, n);
      vec('copy', 'out', out, n);
      k.copy(x, out, n);
    },
    discard(x, n) {
      size('discard', 'n', n);
      vec('discard', 'x', x, n);
      k.discard(x, n);
    },
    addBias(x, bias, out, rows, cols) {
      dims('addBias', rows, cols);
      mat('addBias', 'x', x, rows, cols);
      perCol('addBias', 'bias', bias, cols);
      mat('addBias', 'out', out, rows, cols);
      k.addBias(x, bias, out, rows, cols);
    },
    sumRows(dy, dbias, rows, cols) {
      dims('sumRows', rows, cols);
      mat('sumRows', 'dy', dy, rows, cols);
      perCol('sumRows', 'dbias', dbias, cols);
      k.sumRows(dy, dbias, rows, cols);
    },
    attentionForward(mode, batch, block, heads, headDim, peLen, window, rate, compressed, q, kk, v, offsets, keyPe, spans, counters, ramp, limit, dropout, seed, out, aux) {
      const op = 'attentionForward';
      attention(op, mode, batch, block, heads, headDim, peLen, window, rate, compressed, q, kk, v, offsets, keyPe, spans, counters, ramp, limit, dropout, seed);
      mat(op, 'out', out, batch * block, heads * headDim);
      if (mode === 1) perRow(op, 'aux', aux, batch);
      else f32(op, 'aux', aux);
      k.attentionForward(mode, batch, block, heads, headDim, peLen, window, rate, compressed, q, kk, v, offsets, keyPe, spans, counters, ramp, limit, dropout, seed, out, aux);
    },
    attentionBackward(mode, batch, block, heads, headDim, peLen, window, rate, compressed, q, kk, v, offsets, keyPe, spans, counters, ramp, limit, dropout, seed, dout, auxGrad, dq, dk, dv, dkeyPe, dspans) {
      const op = 'attentionBackward';
      const rows = attention(op, mode, batch, block, heads, headDim, peLen, window, rate, compressed, q, kk, v, offsets, keyPe, spans, counters, ramp, limit, dropout, seed);
      const width = heads * headDim;
      mat(op, 'dout', dout, batch * block, width);
      mat(op, 'dq', dq, batch * block, width);
      mat(op, 'dk', dk, rows, width);
      mat(op, 'dv', dv, rows, width);
      mat(op, 'dkeyPe', dkeyPe, headDim, peLen);
      f32(op, 'auxGrad', auxGrad);
      f32(op, 'dspans', dspans);
      if (mode === 1) perRow(op, 'auxGrad', auxGrad, batch);
      if (mode === 1 || mode === 2) perRow(op, 'dspans', dspans, spans.length);
      k.attentionBackward(mode, batch, block, heads, headDim, peLen, window, rate, compressed, q, kk, v, offsets, keyPe, spans, counters, ramp, limit, dropout, seed, dout, auxGrad, dq, dk, dv, dkeyPe, dspans);
    },
    meanPoolRows(x, rows, width, rate, out) {
      const op = 'meanPoolRows';
      dims(op, rows, width);
      size(op, 'rate', rate);
      if (rate < 1 || rows % rate !== 0) fail(op, `rate ${rate} must be at least 1 and divide rows ${rows}`);
      mat(op, 'x', x, rows, width);
      mat(op, 'out', out, rows / rate, width);
      k.meanPoolRows(x, rows, width, rate, out);
    },
    memoryPrune(mode, batch, block, width, ramp, window, hidden, counters, offsets, spans, outHidden, outCounters, outOffsets) {
      const op = 'memoryPrune';
      if (!(mode === 0 || mode === 1 || mode === 2 || mode === 3)) fail(op, `mode must be 0 to 3, got ${mode}`);
      size(op, 'batch', batch);
      size(op, 'block', block);
      size(op, 'width', width);
      size(op, 'window', window);
      finite(op, 'ramp', ramp);
      const rows = ragged(op, offsets, batch, block);
      mat(op, 'hidden', hidden, rows, width);
      perRow(op, 'counters', counters, rows);
      if (mode === 1) perRow(op, 'spans', spans, rows);
      else f32(op, 'spans', spans);
      mat(op, 'outHidden', outHidden, rows, width);
      perRow(op, 'outCounters', outCounters, rows);
      i32(op, 'outOffsets', outOffsets);
      if (outOffsets.length < batch + 1) holds(op, 'outOffsets', outOffsets, batch + 1, `batch + 1 = ${batch + 1}`);
      return k.memoryPrune(mode, batch, block, width, ramp, window, hidden, counters, offsets, spans, outHidden, outCounters, outOffsets);
    },
    dropoutForward(x, y, n, p, seed) {
      size('dropoutForward', 'n', n);
      vec('dropoutForward', 'x', x, n);
      vec('dropoutForward', 'y', y, n);
      probability('dropoutForward', 'p', p);
      seed32('dropoutForward', seed);
      k.dropoutForward(x, y, n, p, seed);
    },
    dropoutBackward(dy, dx, n, p, seed) {
      size('dropoutBackward', 'n', n);
      vec('dropoutBackward', 'dy', dy, n);
      vec('dropoutBackward', 'dx', dx, n);
      probability('dropoutBackward', 'p', p);
      seed32('dropoutBackward', seed);
      k.dropoutBackward(dy, dx, n, p, seed);
    },
    sumSquares(x, n) {
      size('sumSquares', 'n', n);
      vec('sumSquares', 'x', x, n);
      return k.sumSquares(x, n);
    },
    sum(x, n) {
      size('sum', 'n', n);
      vec('sum', 'x', x, n);
      return k.sum(x, n);
    },
    layerNormForward(x, w, b, y, mean, rstd, rows, cols, eps) {
      const op = 'layerNormForward';
      dims(op, rows, cols);
      mat(op, 'x', x, rows, cols);
      perCol(op, 'w', w, cols);
      perCol(op, 'b', b, cols);
      mat(op, 'y', y, rows, cols);
      perRow(op, 'mean', mean, rows);
      perRow(op, 'rstd', rstd, rows);
      if (!(eps > 0) || !Number.isFinite(eps)) fail(op, `eps must be a positive finite number, got ${eps}`);
      k.layerNormForward(x, w, b, y, mean, rstd, rows, cols, eps);
    },
    layerNormBackward(dy, x, w, mean, rstd, dx, dw, db, rows, cols) {
      const op = 'layerNormBackward';
      dims(op, rows, cols);
      mat(op, 'dy', dy, rows, cols);
      mat(op, 'x', x, rows, cols);
      perCol(op, 'w', w, cols);
      perRow(op, 'mean', mean, rows);
      perRow(op, 'rstd', rstd, rows);
      mat(op, 'dx', dx, rows, cols);
      perCol(op, 'dw', dw, cols);
      perCol(op, 'db', db, cols);
      k.layerNormBackward(dy, x, w, mean, rstd, dx, dw, db, rows, cols);
    },
    logSoftmaxNllForward(logits, target, logprobs, nll, rows, cols) {
      const op = 'logSoftmaxNllForward';
      dims(op, rows, cols);
      mat(op, 'logits', logits, rows, cols);
      mat(op, 'logprobs', logprobs, rows, cols);
      perRow(op, 'nll', nll, rows);
      if (cols === 0 && rows > 0) fail(op, 'cols must be at least 1');
      targets(op, target, rows, cols);
      return k.logSoftmaxNllForward(logits, target, logprobs, nll, rows, cols);
    },
    logSoftmaxNllBackward(logprobs, target, dlogits, rows, cols, scale) {
      const op = 'logSoftmaxNllBackward';
      dims(op, rows, cols);
      mat(op, 'logprobs', logprobs, rows, cols);
      mat(op, 'dlogits', dlogits, rows, cols);
      finite(op, 'scale', scale);
      targets(op, target, rows, cols);
      k.logSoftmaxNllBackward(logprobs, target, dlogits, rows, cols, scale);
    },
    embeddingForward(idArray, table, out, n, dim) {
      const op = 'embeddingForward';
      dims(op, n, dim);
      f32(op, 'table', table);
      mat(op, 'out', out, n, dim);
      ids(op, idArray, n, table, dim);
      k.embeddingForward(idArray, table, out, n, dim);
    },
    embeddingBackward(idArray, dout, dtable, n, dim) {
      const op = 'embeddingBackward';
      dims(op, n, dim);
      mat(op, 'dout', dout, n, dim);
      f32(op, 'dtable', dtable);
      ids(op, idArray, n, dtable, dim);
      k.embeddingBackward(idArray, dout, dtable, n, dim);
    },
    adam(param, grad, m, v, n, lr, beta1, beta2, eps, step) {
      const op = 'adam';
      size(op, 'n', n);
      vec(op, 'param', param, n);
      vec(op, 'grad', grad, n);
      vec(op, 'm', m, n);
      vec(op, 'v', v, n);
      finite(op, 'lr', lr);
      if (!(beta1 >= 0 && beta1 < 1)) fail(op, `beta1 must be in [0, 1), got ${beta1}`);
      if (!(beta2 >= 0 && beta2 < 1)) fail(op, `beta2 must be in [0, 1), got ${beta2}`);
      if (!(eps > 0) || !Number.isFinite(eps)) fail(op, `eps must be a positive finite number, got ${eps}`);
      if (!Number.isInteger(step) || step < 1) fail(op, `step must be an integer >= 1, got ${step}`);
      k.adam(param, grad, m, v, n, lr, beta1, beta2, eps, step);
    },
  };
  return Object.assign(Object.create(k) as K, wrapped);
}
