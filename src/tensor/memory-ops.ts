// Differentiable ops over ragged per-stream memories: joining a memory cache with the current
// block, and the masked relative-position attention (kernel definition in kernels/attention.ts).
import { AttentionMode } from '../kernels/attention.js';
import { kernels } from '../kernels/index.js';
import { ShapeError } from './ops.js';
import type { Tape } from './tape.js';
import { shapeString, Tensor } from './tensor.js';

/** A layout of memory rows: stream b owns rows offsets[b] .. offsets[b+1]-1. */
export interface Ragged {
  offsets: Int32Array;
}

/**
 * [cache_b ; block_b] for every stream b, packed: cache rows come from `cacheHidden` (no
 * gradient: memories are detached between blocks), block rows from h [batch * block, width].
 * Returns the packed tensor and its offsets.
 */
export function joinMemory(t: Tape, cacheHidden: Float32Array, cacheOffsets: Int32Array, h: Tensor, batch: number, block: number): { packed: Tensor; offsets: Int32Array } {
  const width = h.cols;
  if (h.rows !== batch * block) throw new ShapeError('joinMemory', `h ${shapeString(h.shape)} is not ${batch} streams x ${block} steps`);
  const cacheRows = cacheOffsets[batch];
  const offsets = new Int32Array(batch + 1);
  for (let b = 0; b < batch; b++) offsets[b + 1] = offsets[b] + (cacheOffsets[b + 1] - cacheOffsets[b]) + block;
  const packed = t.tensor([cacheRows + batch * block, width], t.tracks(h));
  // On both cores: for Transformer-XL this copies every layer's whole memory, every block.
  const copy = (from: Float32Array, to: number) => kernels.copy(from, packed.data.subarray(to, to + from.length), from.length);
  for (let b = 0; b < batch; b++) {
    const c0 = cacheOffsets[b] * width, c1 = cacheOffsets[b + 1] * width, at = offsets[b] * width;
    copy(cacheHidden.subarray(c0, c1), at);
    copy(h.data.subarray(b * block * width, (b + 1) * block * width), at + c1 - c0);
  }
  if (packed.requiresGrad) {
    packed.gradRows = { offsets, length: block, source: h };
    t.record(() => {
      // Ops that honour gradRows (linear) added their part to h's gradient already.
      const dp = packed.grad;
      if (dp === null) return;
      const dh = t.gradOf(h);
      for (let b = 0; b < batch; b++) {
        const from = (offsets[b + 1] - block) * width;
        kernels.axpy(1, dp.subarray(from, from + block * width), dh.subarray(b * block * width, (b + 1) * block * width), block * width);
      }
    }, packed);
  }
  return { packed, offsets };
}

export interface AttentionSpec {
  mode: AttentionMode;
  batch: number;
  block: number;
  heads: number;
  headDim: number;
  /** Farthest distance a query sees (effectively unbounded for Expire-Span). */
  window: number;
  /** Expire and adaptive modes: the mask's ramp length R. */
  ramp: number;
  /** Expire mode: the cap on spans (noisy training; Infinity otherwise). Adaptive: attn-lim. */
  limit: number;
  /** Compressive mode: compression rate, and compressed rows at the start of every stream. */
  rate: number;
  compressed: number;
  /** Dropout on the attention weights, and the seed of its mask. */
  dropout: number;
  seed: number;
  /** k and v are read by this op alone: backward writes their gradients over them. */
  exclusiveKeys?: boolean;
}

/**
 * Multi-head attention of the block's queries over ragged memories (kernels/attention.ts).
 * q: [batch * block, heads * headDim]; k, v: [rows, heads * headDim]; keyPe: [1, headDim, P].
 * spans: expire mode, the span e of every memory row [rows]; adaptive mode, the span ratio of
 * every head [heads] (or [1]). counters: expire mode, every memory's age.
 * Returns out like q and, in expire mode, aux [batch]: each stream's span loss before its coefficient.
 */
export function memoryAttention(t: Tape, s: AttentionSpec, q: Tensor, k: Tensor, v: Tensor, layout: Ragged, keyPe: Tensor, spans: Tensor | null, counters: Float32Array): { out: Tensor; aux: Tensor | null } {
  const expire = s.mode === AttentionMode.Expire;
  const width = s.heads * s.headDim, rows = layout.offsets[s.batch];
  const op = 'memoryAttention';
  if (q.rows !== s.batch * s.block || q.cols !== width) throw new ShapeError(op, `q ${shapeString(q.shape)} is not [${s.batch * s.block}, ${width}]`);
  if (k.rows !== rows || k.cols !== width || v.rows !== rows || v.cols !== width) {
    throw new ShapeError(op, `k ${shapeString(k.shape)} and v ${shapeString(v.shape)} must be [${rows}, ${width}]`);
  }
  if (keyPe.shape.length !== 3 || keyPe.shape[1] !== s.headDim) throw new ShapeError(op, `keyPe ${shapeString(keyPe.shape)} must be [1, ${s.headDim}, P]`);
  if (expire && (!spans || spans.size !== rows)) throw new ShapeError(op, `expire mode needs one span per memory row (${rows})`);
  if (s.mode === AttentionMode.Adaptive && (!spans || (spans.size !== s.heads && spans.size !== 1))) throw new ShapeError(op, `adaptive mode needs one span ratio per head (${s.heads}) or one`);
  const peLen = keyPe.shape[2];
  const none = new Float32Array(0);
  const spanData = spans?.data ?? none;
  const out = t.tensor(q.shape, t.tracks(q, k, v, keyPe, spans));
  const aux = expire ? t.tensor([s.batch], t.tracks(spans)) : null;
  const dims = [s.mode, s.batch, s.block, s.heads, s.headDim, peLen, s.window, s.rate, s.compressed] as const;
  kernels.attentionForward(...dims, q.data, k.data, v.data, layout.offsets, keyPe.data, spanData, counters, s.ramp, s.limit, s.dropout, s.seed, out.data, aux?.data ?? none);
  if (out.requiresGrad || aux?.requiresGrad) {
    t.record(() => {
      // Inputs that need no gradient still get a buffer: the kernel writes all of them.
      const grad = (x: Tensor | null) => (x === null ? none : x.requiresGrad ? t.gradOf(x) : t.scratch(x.size, true));
      // Keys and values nothing else reads hold their own gradients: two fewer buffers of the
      // largest size in flight (the kernel overwrites them once read for the last time).
      const overwrite = (x: Tensor) => (s.exclusiveKeys && x.requiresGrad ? t.gradOverValue(x) : grad(x));
      const auxGrad = aux === null ? none : aux.requiresGrad ? t.gradOf(aux) : t.scratch(s.batch, true);
      kernels.attentionBackward(...dims, q.data, k.data, v.data, layout.offsets, keyPe.data, spanData, counters, s.ramp, s.limit, s.dropout, s.seed,
        t.gradOf(out), auxGrad, grad(q), overwrite(k), overwrite(v), grad(keyPe), grad(spans));
    }, out, aux);
  }
  return { out, aux };
}
