// The kernel interface: every numeric inner loop the model needs, on flat row-major buffers.
// Two implementations share it: `native` (C++ in native/, through N-API) and `reference` (plain
// TypeScript, the specification the native one is tested against and the fallback without it).
// Backward kernels ADD into their gradient outputs. Sizes are element counts.

/** Buffers a kernel computes on. Native kernels take Float32Array only; the TypeScript reference
 * also runs on Float64Array, which the gradient checks use. */
export type FloatArray = Float32Array | Float64Array;

export interface KernelInfo {
  /** "native" or "typescript". */
  backend: string;
  /** Which matrix product runs: "openblas", "accelerate", "builtin" or "typescript". */
  gemm: string;
  /** The CBLAS found when the addon was built ("openblas", "accelerate" or "none"). */
  blas: string;
  /** The CPU kernel set OpenBLAS chose at load time ("" without OpenBLAS). */
  blasCore: string;
  /** Instruction set of the built-in matrix kernel ("avx512", "avx2", "portable" or "none"). */
  builtinIsa: string;
  threads: number;
}

export interface Kernels<F extends FloatArray = Float32Array> {
  info(): KernelInfo;
  /** Threads used inside kernels (the calling thread counts as one). */
  setThreads(threads: number): void;

  /**
   * Batched strided matrix product, row-major: for t in [0, batch)
   *   C_t = alpha * op(A_t) op(B_t) + beta * C_t,  op(A_t): m x k, op(B_t): k x n, C_t: m x n,
   * X_t starting at xOffset + t * strideX. With beta = 0, C is not read.
   */
  gemm(
    transA: boolean, transB: boolean, m: number, n: number, k: number, alpha: number,
    a: F, aOffset: number, lda: number, strideA: number,
    b: F, bOffset: number, ldb: number, strideB: number,
    beta: number, c: F, cOffset: number, ldc: number, strideC: number, batch: number,
  ): void;

  /** out = a + b */
  add(a: F, b: F, out: F, n: number): void;
  /** out = a * b */
  mul(a: F, b: F, out: F, n: number): void;
  /** out += a * b */
  mulAcc(a: F, b: F, out: F, n: number): void;
  /** y += alpha * x */
  axpy(alpha: number, x: F, y: F, n: number): void;
  /** out = alpha * x (out may be x) */
  scale(x: F, alpha: number, out: F, n: number): void;
  fill(x: F, value: number, n: number): void;
  /** out = x (n values; the two do not overlap) */
  copy(x: F, out: F, n: number): void;
  /**
   * x's first n values become unspecified: the native kernels give the memory pages they fill
   * back to the OS (x stays usable; untouched pages cost nothing). For buffers being dropped.
   */
  discard(x: F, n: number): void;
  /** out = x + bias; x, out: rows x cols, bias: cols */
  addBias(x: F, bias: F, out: F, rows: number, cols: number): void;
  /** dbias += column sums of dy; dy: rows x cols */
  sumRows(dy: F, dbias: F, rows: number, cols: number): void;
  /** y = max(x, 0) */
  reluForward(x: F, y: F, n: number): void;
  /** dx += dy where y > 0; dx may be dy itself: then dx = dy where y > 0, else 0. */
  reluBackward(y: F, dy: F, dx: F, n: number): void;
  /** y = 1 / (1 + exp(-x)) */
  sigmoidForward(x: F, y: F, n: number): void;
  /** dx += dy * y * (1 - y) */
  sigmoidBackward(y: F, dy: F, dx: F, n: number): void;
  /** y = x * factor: 0 with probability p, else 1 / (1 - p); the mask comes from (seed, index). */
  dropoutForward(x: F, y: F, n: number, p: number, seed: number): void;
  /** dx += dy * factor, with the same mask as dropoutForward(seed). */
  dropoutBackward(dy: F, dx: F, n: number, p: number, seed: number): void;
  /** Sum of squares, accumulated in double precision. */
  sumSquares(x: F, n: number): number;
  sum(x: F, n: number): number;

  /** y = (x - mean) * rstd * w + b over the last dim; x, y: rows x cols; mean, rstd: rows out. */
  layerNormForward(x: F, w: F, b: F, y: F, mean: F, rstd: F, rows: number, cols: number, eps: number): void;
  layerNormBackward(dy: F, x: F, w: F, mean: F, rstd: F, dx: F, dw: F, db: F, rows: number, cols: number): void;

  /** Softmax over the last dim; x, y: rows x cols. */
  softmaxForward(x: F, y: F, rows: number, cols: number): void;
  /** dx += y * (dy - sum(dy * y)) */
  softmaxBackward(y: F, dy: F, dx: F, rows: number, cols: number): void;
  logSoftmaxForward(x: F, y: F, rows: number, cols: number): void;
  /** dx += dy - exp(y) * sum(dy) */
  logSoftmaxBackward(y: F, dy: F, dx: F, rows: number, cols: number): void;
  /**
   * logprobs = log_softmax(logits); nll[r] = -logprobs[r, target[r]], 0 where target[r] < 0
   * (left out). Returns the sum of nll. logits, logprobs: rows x cols; target, nll: rows.
   */
  logSoftmaxNllForward(logits: F, target: Int32Array, logprobs: F, nll: F, rows: number, cols: number): number;
  /** dlogits += scale * (exp(logprobs) - onehot(target)) on rows with target >= 0. */
  logSoftmaxNllBackward(logprobs: F, target: Int32Array, dlogits: F, rows: number, cols: number, scale: number): void;

  /** out[i] = table[ids[i]]; ids: n, table: vocab x dim, out: n x dim. */
  embeddingForward(ids: Int32Array, table: F, out: F, n: number, dim: number): void;
  /** dtable[ids[i]] += dout[i] */
  embeddingBackward(ids: Int32Array, dout: F, dtable: F, n: number, dim: number): void;

  /**
   * Masked relative-position attention over ragged per-stream memories, in one of four modes
   * (definition in attention.ts). q: (batch*block) x (heads*headDim); k, v: rows x (heads*headDim)
   * with stream b on rows offsets[b] .. offsets[b+1]-1; keyPe: headDim x peLen. rate and
   * compressed: compressive mode. spans: expire mode one per row, adaptive mode one per head (or
   * one); counters: expire mode, one per row; either may be empty when unused. ramp: the mask's
   * ramp R; limit: expire mode's span cap, adaptive mode's span scale. dropout: probability of
   * dropping each attention weight (after renormalisation), mask drawn from (seed, slot), the
   * slot of the weight of stream b, head h, query m and row i being heads*block*offsets[b] +
   * (h*block + m)*Lb + i - offsets[b]. Writes out (like q) and, in expire mode, aux (batch).
   */
  attentionForward(
    mode: number, batch: number, block: number, heads: number, headDim: number, peLen: number, window: number, rate: number, compressed: number,
    q: F, k: F, v: F, offsets: Int32Array, keyPe: F, spans: F, counters: F, ramp: number, limit: number, dropout: number, seed: number,
    out: F, aux: F,
  ): void;
  /** Adds the gradients of attentionForward's out (dout) and aux (auxGrad: batch) into dq, dk,
   * dv, dkeyPe and, in expire and adaptive modes, dspans. The attention weights are recomputed
   * from q, k and keyPe: nothing of forward's is kept. dk and dv may be k and v themselves
   * (when nothing else reads them): they are then overwritten with the gradients. */
  attentionBackward(
    mode: number, batch: number, block: number, heads: number, headDim: number, peLen: number, window: number, rate: number, compressed: number,
    q: F, k: F, v: F, offsets: Int32Array, keyPe: F, spans: F, counters: F, ramp: number, limit: number, dropout: number, seed: number,
    dout: F, auxGrad: F, dq: F, dk: F, dv: F, dkeyPe: F, dspans: F,
  ): void;
  /**
   * Keeps the memories still alive at the next block and ages them by `block` (definition in
   * reference-memory.ts). hidden: rows x width; counters, spans: rows; offsets: batch + 1.
   * Writes the kept rows to outHidden/outCounters/outOffsets and returns how many were kept.
   * outHidden may be hidden itself (kept rows only move towards the front); width 0 moves no
   * states and only tells which rows stay.
   */
  memoryPrune(
    mode: number, batch: number, block: number, width: number, ramp: number, window: number,
    hidden: F, counters: F, offsets: Int32Array, spans: F, outHidden: F, outCounters: F, outOffsets: Int32Array,
  ): number;

  /** out[r] = mean of rows r*rate .. r*rate+rate-1 of x; x: rows x width, rows a multiple of rate. */
  meanPoolRows(x: F, rows: number, width: number, rate: number, out: F): void;

  /** One bias-corrected Adam step as torch.optim.Adam (step counts from 1). */
  adam(param: F, grad: F, m: F, v: F, n: number, lr: number, beta1: number, beta2: number, eps: number, step: number): void;
}
