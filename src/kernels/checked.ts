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
  if (!Number.isInteger(v) || v < 0 || v > MAX_DIM) fail(op, `${name} must be an integer in [0, 2^31), got ${v}`);
}

function finite(op: string, name: string, v: number): void {
  if (typeof v !== 'number' || !Number.isFinite(v)) fail(op, `${name} must be a finite number, got ${v}`);
}

/** The buffer must hold `needed` elements. */
function holds(op: string, name: string, x: { length: number }, needed: number, shape: string): void {
  if (x.length < needed) fail(op, `${name} (${shape}) needs ${needed} elements, but its buffer has ${x.length}`);
}

function f32s(op: string, names: string, ...xs: unknown[]): void {
  const list = names.split(',');
  for (let i = 0; i < xs.length; i++) f32(op, list[i], xs[i]);
}

function sizes(op: string, names: string, ...vs: number[]): void {
  const list = names.split(',');
  for (let i = 0; i < vs.length; i++) size(op, list[i], vs[i]);
}

/** Checks one gemm operand: stored as rows x cols with leading dimension ld, `batch` times. */
function operand(op: string, name: string, x: Float32Array, rows: number, cols: number, offset: number, ld: number, stride: number, batch: number, shape: string): void {
  sizes(op, `${name} offset,ld${name.toLowerCase()},stride${name}`, offset, ld, stride);
  if (ld < Math.max(1, cols)) fail(op, `ld${name.toLowerCase()} = ${ld} is less than the ${cols} columns of ${name} (${shape})`);
  if (rows === 0 || cols === 0 || batch === 0) return;
  const needed = offset + (batch - 1) * stride + (rows - 1) * ld + cols;
  holds(op, name, x, needed, `${shape}, ld ${ld}, offset ${offset}, batch ${batch}, stride ${stride}`);
}

/** Wraps kernels with argument checks; behaviour on valid input is unchanged. */
export function checked<K extends Kernels>(k: K): K {
  const vectors = (op: string, n: number, buffers: Record<string, Float32Array>) => {
    size(op, 'n', n);
    for (const [name, x] of Object.entries(buffers)) {
      f32(op, name, x);
      holds(op, name, x, n, `n = ${n}`);
    }
  };
  const elementwise3 = (op: 'add' | 'mul' | 'mulAcc') => (a: Float32Array, b: Float32Array, out: Float32Array, n: number) => {
    vectors(op, n, { a, b, out });
    k[op](a, b, out, n);
  };
  const rowsCols = (op: string, rows: number, cols: number, buffers: Record<string, Float32Array>, perRow: Record<string, Float32Array> = {}) => {
    sizes(op, 'rows,cols', rows, cols);
    for (const [name, x] of Object.entries(buffers)) {
      f32(op, name, x);
      holds(op, name, x, rows * cols, `rows x cols = ${rows} x ${cols}`);
    }
    for (const [name, x] of Object.entries(perRow)) {
      f32(op, name, x);
      holds(op, name, x, rows, `rows = ${rows}`);
    }
  };
  const columns = (op: string, cols: number, buffers: Record<string, Float32Array>) => {
    for (const [name, x] of Object.entries(buffers)) {
      f32(op, name, x);
      holds(op, name, x, cols, `cols = ${cols}`);
    }
  };
  const targets = (op: string, target: Int32Array, rows: number, cols: number) => {
    i32(op, 'target', target);
    holds(op, 'target', target, rows, `rows = ${rows}`);
    for (let r = 0; r < rows; r++) {
      if (target[r] >= cols) fail(op, `target[${r}] = ${target[r]} is out of range for ${cols} classes (negative targets are left out)`);
    }
  };
  const ids = (op: string, ids: Int32Array, n: number, table: Float32Array, dim: number) => {
    i32(op, 'ids', ids);
    holds(op, 'ids', ids, n, `n = ${n}`);
    const vocab = dim === 0 ? 0 : Math.floor(table.length / dim);
    for (let i = 0; i < n; i++) {
      if (ids[i] < 0 || ids[i] >= vocab) fail(op, `ids[${i}] = ${ids[i]} is out of range for a table of ${vocab} rows x ${dim}`);
    }
  };

  const wrapped: Kernels = {
    info: (): KernelInfo => k.info(),
    setThreads(threads) {
      if (!Number.isInteger(threads) || threads < 1 || threads > 256) fail('setThreads', `threads must be an integer in [1, 256], got ${threads}`);
      k.setThreads(threads);
    },
    gemm(transA, transB, m, n, kk, alpha, a, aOffset, lda, strideA, b, bOffset, ldb, strideB, beta, c, cOffset, ldc, strideC, batch) {
      const op = 'gemm';
      f32s(op, 'A,B,C', a, b, c);
      sizes(op, 'm,n,k,batch', m, n, kk, batch);
      finite(op, 'alpha', alpha);
      finite(op, 'beta', beta);
      const shapes = `op(A) ${m} x ${kk}${transA ? ' (transposed)' : ''}, op(B) ${kk} x ${n}${transB ? ' (transposed)' : ''}, C ${m} x ${n}`;
      operand(op, 'A', a, transA ? kk : m, transA ? m : kk, aOffset, lda, strideA, batch, shapes);
      operand(op, 'B', b, transB ? n : kk, transB ? kk : n, bOffset, ldb, strideB, batch, shapes);
      operand(op, 'C', c, m, n, cOffset, ldc, strideC, batch, shapes);
      k.gemm(transA, transB, m, n, kk, alpha, a, aOffset, lda, strideA, b, bOffset, ldb, strideB, beta, c, cOffset, ldc, strideC, batch);
    },
    add: elementwise3('add'),
    mul: elementwise3('mul'),
    mulAcc: elementwise3('mulAcc'),
    axpy(alpha, x, y, n) {
      vectors('axpy', n, { x, y });
      finite('axpy', 'alpha', alpha);
      k.axpy(alpha, x, y, n);
    },
    scale(x, alpha, out, n) {
      vectors('scale', n, { x, out });
      finite('scale', 'alpha', alpha);
      k.scale(x, alpha, out, n);
    },
    fill(x, value, n) {
      vectors('fill', n, { x });
      if (typeof value !== 'number') fail('fill', `value must be a number, got ${typeof value}`);
      k.fill(x, value, n);
    },
    addBias(x, bias, out, rows, cols) {
      rowsCols('addBias', rows, cols, { x, out });
      columns('addBias', cols, { bias });
      k.addBias(x, bias, out, rows, cols);
    },
    sumRows(dy, dbias, rows, cols) {
      rowsCols('sumRows', rows, cols, { dy });
      columns('sumRows', cols, { dbias });
      k.sumRows(dy, dbias, rows, cols);
    },
    reluForward(x, y, n) {
      vectors('reluForward', n, { x, y });
      k.reluForward(x, y, n);
    },
    reluBackward(y, dy, dx, n) {
      vectors('reluBackward', n, { y, dy, dx });
      k.reluBackward(y, dy, dx, n);
    },
    sumSquares(x, n) {
      vectors('sumSquares', n, { x });
      return k.sumSquares(x, n);
    },
    sum(x, n) {
      vectors('sum', n, { x });
      return k.sum(x, n);
    },
    layerNormForward(x, w, b, y, mean, rstd, rows, cols, eps) {
      rowsCols('layerNormForward', rows, cols, { x, y }, { mean, rstd });
      columns('layerNormForward', cols, { w, b });
      if (!(eps > 0) || !Number.isFinite(eps)) fail('layerNormForward', `eps must be a positive finite number, got ${eps}`);
      k.layerNormForward(x, w, b, y, mean, rstd, rows, cols, eps);
    },
    layerNormBackward(dy, x, w, mean, rstd, dx, dw, db, rows, cols) {
      rowsCols('layerNormBackward', rows, cols, { dy, x, dx }, { mean, rstd });
      columns('layerNormBackward', cols, { w, dw, db });
      k.layerNormBackward(dy, x, w, mean, rstd, dx, dw, db, rows, cols);
    },
    softmaxForward(x, y, rows, cols) {
      rowsCols('softmaxForward', rows, cols, { x, y });
      k.softmaxForward(x, y, rows, cols);
    },
    softmaxBackward(y, dy, dx, rows, cols) {
      rowsCols('softmaxBackward', rows, cols, { y, dy, dx });
      k.softmaxBackward(y, dy, dx, rows, cols);
    },
    logSoftmaxForward(x, y, rows, cols) {
      rowsCols('logSoftmaxForward', rows, cols, { x, y });
      k.logSoftmaxForward(x, y, rows, cols);
    },
    logSoftmaxBackward(y, dy, dx, rows, cols) {
      rowsCols('logSoftmaxBackward', rows, cols, { y, dy, dx });
      k.logSoftmaxBackward(y, dy, dx, rows, cols);
    },
    logSoftmaxNllForward(logits, target, logprobs, nll, rows, cols) {
      rowsCols('logSoftmaxNllForward', rows, cols, { logits, logprobs }, { nll });
      if (cols === 0 && rows > 0) fail('logSoftmaxNllForward', 'cols must be at least 1');
      targets('logSoftmaxNllForward', target, rows, cols);
      return k.logSoftmaxNllForward(logits, target, logprobs, nll, rows, cols);
    },
    logSoftmaxNllBackward(logprobs, target, dlogits, rows, cols, scale) {
      rowsCols('logSoftmaxNllBackward', rows, cols, { logprobs, dlogits });
      finite('logSoftmaxNllBackward', 'scale', scale);
      targets('logSoftmaxNllBackward', target, rows, cols);
      k.logSoftmaxNllBackward(logprobs, target, dlogits, rows, cols, scale);
    },
    embeddingForward(idArray, table, out, n, dim) {
      rowsCols('embeddingForward', n, dim, { out });
      f32('embeddingForward', 'table', table);
      ids('embeddingForward', idArray, n, table, dim);
      k.embeddingForward(idArray, table, out, n, dim);
    },
    embeddingBackward(idArray, dout, dtable, n, dim) {
      rowsCols('embeddingBackward', n, dim, { dout });
      f32('embeddingBackward', 'dtable', dtable);
      ids('embeddingBackward', idArray, n, dtable, dim);
      k.embeddingBackward(idArray, dout, dtable, n, dim);
    },
    adam(param, grad, m, v, n, lr, beta1, beta2, eps, step) {
      const op = 'adam';
      vectors(op, n, { param, grad, m, v });
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
