// Differentiable ops over Tensors. Each op checks its shapes, runs its forward kernel into a
// buffer from the tape, and records a backward step that adds into its inputs' gradients.
// Ops are coarse on purpose: one kernel call (or a few) each, never a loop over elements here.
import { kernels } from '../kernels/index.js';
import type { Tape } from './tape.js';
import { shapeString, sizeOf, Tensor, type Shape } from './tensor.js';

export class ShapeError extends RangeError {
  constructor(op: string, message: string) {
    super(`${op}: ${message}`);
    this.name = 'ShapeError';
  }
}

function sameShape(op: string, a: Tensor, b: Tensor): void {
  if (a.shape.length !== b.shape.length || a.shape.some((d, i) => d !== b.shape[i])) {
    throw new ShapeError(op, `shapes differ: ${shapeString(a.shape)} and ${shapeString(b.shape)}`);
  }
}

function lastDim(op: string, x: Tensor, name: string, want: number, what: string): void {
  if (x.shape.length === 0 || x.cols !== want) {
    throw new ShapeError(op, `${name} ${shapeString(x.shape)} must end in ${want} (${what})`);
  }
}

function vector(op: string, x: Tensor, name: string, length: number): void {
  if (x.shape.length !== 1 || x.shape[0] !== length) {
    throw new ShapeError(op, `${name} must have shape [${length}], got ${shapeString(x.shape)}`);
  }
}

/** A view of x with another shape of the same size; it shares x's data and gradient. */
export function reshape(t: Tape, x: Tensor, shape: Shape): Tensor {
  if (sizeOf(shape) !== x.size) {
    throw new ShapeError('reshape', `cannot view ${shapeString(x.shape)} (${x.size} elements) as ${shapeString(shape)}`);
  }
  const grad = t.tracks(x) ? t.gradOf(x) : null;
  return new Tensor(x.data, shape, grad !== null, grad);
}

/** a + b, same shapes. */
export function add(t: Tape, a: Tensor, b: Tensor): Tensor {
  sameShape('add', a, b);
  const out = t.tensor(a.shape, t.tracks(a, b));
  kernels.add(a.data, b.data, out.data, out.size);
  if (out.requiresGrad) {
    t.record(() => {
      const dy = t.gradOf(out);
      if (a.requiresGrad) kernels.axpy(1, dy, t.gradOf(a), a.size);
      if (b.requiresGrad) kernels.axpy(1, dy, t.gradOf(b), b.size);
    }, out);
  }
  return out;
}

/** a * b elementwise, same shapes. */
export function mul(t: Tape, a: Tensor, b: Tensor): Tensor {
  sameShape('mul', a, b);
  const out = t.tensor(a.shape, t.tracks(a, b));
  kernels.mul(a.data, b.data, out.data, out.size);
  if (out.requiresGrad) {
    t.record(() => {
      const dy = t.gradOf(out);
      if (a.requiresGrad) kernels.mulAcc(dy, b.data, t.gradOf(a), a.size);
      if (b.requiresGrad) kernels.mulAcc(dy, a.data, t.gradOf(b), b.size);
    }, out);
  }
  return out;
}

/** alpha * x. */
export function scale(t: Tape, x: Tensor, alpha: number): Tensor {
  const out = t.tensor(x.shape, t.tracks(x));
  kernels.scale(x.data, alpha, out.data, x.size);
  if (out.requiresGrad) t.record(() => kernels.axpy(alpha, t.gradOf(out), t.gradOf(x), x.size), out);
  return out;
}

/**
 * max(x, 0). With `inPlace` the result overwrites x's values (x must not be read again: its
 * gradient is still computed): saves a buffer where x is a temporary, as a linear's output.
 */
export function relu(t: Tape, x: Tensor, inPlace = false): Tensor {
  const out = inPlace ? new Tensor(x.data, x.shape, t.tracks(x), null) : t.tensor(x.shape, t.tracks(x));
  kernels.reluForward(x.data, out.data, x.size);
  if (out.requiresGrad) {
    t.record(() => {
      const dy = t.gradOf(out);
      // In place, x is read by nothing else either: its gradient overwrites out's.
      kernels.reluBackward(out.data, dy, inPlace ? t.passGrad(out, x) : t.gradOf(x), x.size);
    }, out);
  }
  return out;
}

/** 1 / (1 + exp(-x)). */
export function sigmoid(t: Tape, x: Tensor): Tensor {
  const out = t.tensor(x.shape, t.tracks(x));
  kernels.sigmoidForward(x.data, out.data, x.size);
  if (out.requiresGrad) t.record(() => kernels.sigmoidBackward(out.data, t.gradOf(out), t.gradOf(x), x.size), out);
  return out;
}

/** Inverted dropout: each element is zeroed with probability p, the rest scaled by 1 / (1 - p);
 * the mask is a function of (seed, index), so backward recomputes it. p = 0 returns x itself. */
export function dropout(t: Tape, x: Tensor, p: number, seed: number): Tensor {
  if (p === 0) return x;
  const out = t.tensor(x.shape, t.tracks(x));
  kernels.dropoutForward(x.data, out.data, x.size, p, seed);
  if (out.requiresGrad) t.record(() => kernels.dropoutBackward(t.gradOf(out), t.gradOf(x), x.size, p, seed), out);
  return out;
}

/** Sum of all elements, as a one-element tensor. */
export function sum(t: Tape, x: Tensor): Tensor {
  const out = t.tensor([1], t.tracks(x));
  out.data[0] = kernels.sum(x.data, x.size);
  if (out.requiresGrad) {
    t.record(() => {
      const g = t.gradOf(x);
      const dy = t.gradOf(out)[0];
      // d sum / dx = 1 everywhere: add the scalar to every element.
      const ones = t.scratch(x.size);
      kernels.fill(ones, dy, x.size);
      kernels.axpy(1, ones, g, x.size);
    }, out);
  }
  return out;
}

export interface MatmulOptions {
  transA?: boolean;
  transB?: boolean;
}

/**
 * op(a) @ op(b) with op = optional transpose of the last two dims.
 * a: [m, k] or [batch, m, k] (before op), b: [k, n] or [batch, k, n]; batched needs both 3-D.
 */
export function matmul(t: Tape, a: Tensor, b: Tensor, { transA = false, transB = false }: MatmulOptions = {}): Tensor {
  const op = 'matmul';
  const rank = a.shape.length;
  if ((rank !== 2 && rank !== 3) || b.shape.length !== rank) {
    throw new ShapeError(op, `needs two 2-D or two 3-D tensors, got ${shapeString(a.shape)} and ${shapeString(b.shape)}`);
  }
  const batch = rank === 3 ? a.shape[0] : 1;
  if (rank === 3 && b.shape[0] !== batch) throw new ShapeError(op, `batch sizes differ: ${shapeString(a.shape)} and ${shapeString(b.shape)}`);
  const [ar, ac] = a.shape.slice(-2), [br, bc] = b.shape.slice(-2);
  const [m, k] = transA ? [ac, ar] : [ar, ac];
  const [k2, n] = transB ? [bc, br] : [br, bc];
  if (k !== k2) {
    throw new ShapeError(op, `inner dimensions differ: op(a) is ${m} x ${k}, op(b) is ${k2} x ${n} (a ${shapeString(a.shape)}${transA ? ' transposed' : ''}, b ${shapeString(b.shape)}${transB ? ' transposed' : ''})`);
  }
  const out = t.tensor(rank === 3 ? [batch, m, n] : [m, n], t.tracks(a, b));
  const sa = ar * ac, sb = br * bc, sc = m * n;
  kernels.gemm(transA, transB, m, n, k, 1, a.data, 0, ac, sa, b.data, 0, bc, sb, 0, out.data, 0, n, sc, batch);
  if (out.requiresGrad) {
    t.record(() => {
      const dc = t.gradOf(out);
      // C = op(A) op(B): d op(A) = dC op(B)^T and d op(B) = op(A)^T dC, transposed back as needed.
      if (a.requiresGrad) {
        const da = t.gradOf(a);
        if (!transA) kernels.gemm(false, !transB, m, k, n, 1, dc, 0, n, sc, b.data, 0, bc, sb, 1, da, 0, ac, sa, batch);
        else kernels.gemm(transB, true, k, m, n, 1, b.data, 0, bc, sb, dc, 0, n, sc, 1, da, 0, ac, sa, batch);
      }
      if (b.requiresGrad) {
        const db = t.gradOf(b);
        if (!transB) kernels.gemm(!transA, false, k, n, m, 1, a.data, 0, ac, sa, dc, 0, n, sc, 1, db, 0, bc, sb, batch);
        else kernels.gemm(true, transA, n, k, m, 1, dc, 0, n, sc, a.data, 0, ac, sa, 1, db, 0, bc, sb, batch);
      }
    }, out);
  }
  return out;
}

/**
 * x @ weight^T + bias, as torch.nn.Linear: x [..., in], weight [out, in], bias [out] or null.
 * With `residual` (shaped like the result) it returns residual + that in one pass: a residual
 * connection that keeps no buffer for the product alone.
 */
export function linear(t: Tape, x: Tensor, weight: Tensor, bias: Tensor | null = null, residual: Tensor | null = null): Tensor {
  const op = 'linear';
  if (weight.shape.length !== 2) throw new ShapeError(op, `weight must be 2-D [out, in], got ${shapeString(weight.shape)}`);
  const [outF, inF] = weight.shape;
  lastDim(op, x, 'input', inF, `the weight ${shapeString(weight.shape)} takes ${inF} features`);
  if (bias) vector(op, bias, 'bias', outF);
  const rows = x.rows;
  const shape = [...x.shape.slice(0, -1), outF];
  if (residual && (residual.rows !== rows || residual.cols !== outF)) throw new ShapeError(op, `residual ${shapeString(residual.shape)} is not ${shapeString(shape)}`);
  const out = t.tensor(shape, t.tracks(x, weight, bias, residual));
  if (residual) out.data.set(residual.data);
  kernels.gemm(false, true, rows, outF, inF, 1, x.data, 0, inF, 0, weight.data, 0, inF, 0, residual ? 1 : 0, out.data, 0, outF, 0, 1);
  if (bias) kernels.addBias(out.data, bias.data, out.data, rows, outF);
  if (out.requiresGrad) {
    t.record(() => {
      const dy = t.gradOf(out);
      if (x.requiresGrad) {
        // dx = dy W, on the rows whose gradient is read (of a packing: into its source's rows).
        const product = (dyRows: Float32Array, count: number, dx: Float32Array) =>
          kernels.gemm(false, false, count, inF, outF, 1, dyRows, 0, outF, 0, weight.data, 0, inF, 0, 1, dx, 0, inF, 0, 1);
        const tails = x.gradRows;
        if (tails === null) product(dy, rows, t.gradOf(x));
        else {
          // Each stream's block rows of dy, gathered: one product for all streams, not one each.
          const streams = tails.offsets.length - 1, count = streams * tails.length;
          const gathered = t.pool.take(count * outF);
          for (let b = 0; b < streams; b++) {
            const end = tails.offsets[b + 1] * outF;
            gathered.set(dy.subarray(end - tails.length * outF, end), b * tails.length * outF);
          }
          product(gathered, count, t.gradOf(tails.source));
          t.pool.give(gathered);
        }
      }
      if (weight.requiresGrad) kernels.gemm(true, false, outF, inF, rows, 1, dy, 0, outF, 0, x.data, 0, inF, 0, 1, t.gradOf(weight), 0, inF, 0, 1);
      if (bias?.requiresGrad) kernels.sumRows(dy, t.gradOf(bias), rows, outF);
      if (residual?.requiresGrad) kernels.axpy(1, dy, t.gradOf(residual), dy.length);
    }, out);
  }
  return out;
}

/** Layer norm over the last dim, as torch.nn.LayerNorm(cols, eps). */
export function layerNorm(t: Tape, x: Tensor, weight: Tensor, bias: Tensor, eps = 1e-5): Tensor {
  const cols = x.cols;
  vector('layerNorm', weight, 'weight', cols);
  vector('layerNorm', bias, 'bias', cols);
  const rows = x.rows;
  const out = t.tensor(x.shape, t.tracks(x, weight, bias));
  const mean = t.scratch(rows), rstd = t.scratch(rows);
  kernels.layerNormForward(x.data, weight.data, bias.data, out.data, mean, rstd, rows, cols, eps);
  if (out.requiresGrad) {
    t.record(() => {
      // The kernel writes all three gradients; inputs that need none get throw-away buffers.
      const dx = x.requiresGrad ? t.gradOf(x) : t.scratch(x.size);
      const dw = weight.requiresGrad ? t.gradOf(weight) : t.scratch(cols);
      const db = bias.requiresGrad ? t.gradOf(bias) : t.scratch(cols);
      kernels.layerNormBackward(t.gradOf(out), x.data, weight.data, mean, rstd, dx, dw, db, rows, cols);
    }, out);
  }
  return out;
}

/** Softmax over the last dim. */
export function softmax(t: Tape, x: Tensor): Tensor {
  const out = t.tensor(x.shape, t.tracks(x));
  kernels.softmaxForward(x.data, out.data, x.rows, x.cols);
  if (out.requiresGrad) t.record(() => kernels.softmaxBackward(out.data, t.gradOf(out), t.gradOf(x), x.rows, x.cols), out);
  return out;
}

/** Log-softmax over the last dim. */
export function logSoftmax(t: Tape, x: Tensor): Tensor {
  const out = t.tensor(x.shape, t.tracks(x));
  kernels.logSoftmaxForward(x.data, out.data, x.rows, x.cols);
  if (out.requiresGrad) t.record(() => kernels.logSoftmaxBackward(out.data, t.gradOf(out), t.gradOf(x), x.rows, x.cols), out);
  return out;
}

export interface CrossEntropy {
  /** Mean negative log-likelihood over the counted positions, shape [1]. */
  loss: Tensor;
  /** log_softmax(logits), same shape as logits (no gradient flows through it). */
  logprobs: Tensor;
  /** Per-position negative log-likelihood (0 where left out), one per row. */
  nll: Float32Array;
  /** Positions counted (targets >= 0). */
  count: number;
}

/**
 * Mean NLL of log_softmax(logits) at the targets: logits [..., classes], targets one per row;
 * a negative target leaves its position out of the loss and of the mean.
 */
export function crossEntropy(t: Tape, logits: Tensor, targets: Int32Array): CrossEntropy {
  const rows = logits.rows, cols = logits.cols;
  if (targets.length !== rows) {
    throw new ShapeError('crossEntropy', `${targets.length} targets for logits ${shapeString(logits.shape)} (${rows} positions)`);
  }
  const logprobs = t.tensor(logits.shape);
  const nll = t.scratch(rows);
  const total = kernels.logSoftmaxNllForward(logits.data, targets, logprobs.data, nll, rows, cols);
  let count = 0;
  for (let r = 0; r < rows; r++) if (targets[r] >= 0) count++;
  // With nothing counted the loss is a constant 0: nothing to learn from.
  const loss = t.tensor([1], t.tracks(logits) && count > 0);
  loss.data[0] = count > 0 ? total / count : 0;
  if (loss.requiresGrad && count > 0) {
    t.record(() => kernels.logSoftmaxNllBackward(logprobs.data, targets, t.gradOf(logits), rows, cols, t.gradOf(loss)[0] / count), loss);
  }
  return { loss, logprobs, nll, count };
}

/** Rows of table at ids: table [vocab, dim] -> [...idsShape, dim]. */
export function embedding(t: Tape, ids: Int32Array, table: Tensor, idsShape: Shape = [ids.length]): Tensor {
  if (table.shape.length !== 2) throw new ShapeError('embedding', `table must be 2-D [vocab, dim], got ${shapeString(table.shape)}`);
  if (sizeOf(idsShape) !== ids.length) throw new ShapeError('embedding', `${ids.length} ids do not fill shape ${shapeString(idsShape)}`);
  const dim = table.shape[1];
  const out = t.tensor([...idsShape, dim], t.tracks(table));
  kernels.embeddingForward(ids, table.data, out.data, ids.length, dim);
  if (out.requiresGrad) t.record(() => kernels.embeddingBackward(ids, t.gradOf(out), t.gradOf(table), ids.length, dim), out);
  return out;
}
