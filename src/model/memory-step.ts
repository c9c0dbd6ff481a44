// How one layer's memory meets a block and what it keeps afterwards, for every model kind.
//
// Entering: the layer attends over [memory ; block] per stream. The Compressive Transformer puts
// its compressed memories first: [compressed (C) ; pool(oldest M states) (M/c) ; cache (L) ; block].
// Leaving: Expire-Span keeps the memories still alive at the next block; the others keep each
// stream's last cache-size states (and the Compressive Transformer its last C compressed ones).
//
// In training the kept states never get a buffer of their own: they are moved to the front of
// the block's packed rows, in that buffer, once backward has read it, and the next block gives
// the buffer back to the pool after reading them. Peak memory then holds each layer's memory
// once (inside the packed rows), not twice.
import { AttentionMode } from '../kernels/attention.js';
import { kernels } from '../kernels/index.js';
import { joinMemory } from '../tensor/memory-ops.js';
import type { Tape } from '../tensor/tape.js';
import type { Tensor } from '../tensor/tensor.js';
import { compressedLength, type ModelConfig } from './config.js';
import type { LayerMemory } from './memory-state.js';

export interface LayerInput {
  /** [rows, H]: every stream's memory followed by its block; gradients reach the block rows. */
  packed: Tensor;
  offsets: Int32Array;
  /** Age of every row from the block's first query (block rows: 0, -1, ..., -(M-1)). */
  counters: Float32Array;
  /** Compressed rows at the start of every stream (Compressive Transformer), else 0. */
  compressed: number;
}

/**
 * h: [batch * block, H]: the block (or, from SequenceModel.encodeNext, its newest rows).
 * `recycle`: nothing reads `mem` afterwards, so a pool buffer holding its states goes back to
 * the pool once they are copied.
 */
export function enterBlock(t: Tape, c: ModelConfig, mem: LayerMemory, h: Tensor, batch: number, block = c.memSz, recycle = false): LayerInput {
  const M = block, H = c.hidSz;
  let cache = mem.hidden, cacheOffsets = mem.offsets, cacheCounters = mem.counters, compressed = 0;
  if (c.compress) {
    // Compressed memory first; the oldest M states of [cache ; block] (all in the cache, as
    // L >= M) are mean-pooled into M/c new compressed states.
    const C = compressedLength(c), fresh = M / c.compressRate;
    compressed = C + fresh;
    const rows = mem.offsets[batch] + batch * compressed;
    cache = new Float32Array(rows * H);
    cacheCounters = new Float32Array(rows);
    cacheOffsets = new Int32Array(batch + 1);
    for (let b = 0; b < batch; b++) {
      const at = mem.offsets[b] + b * compressed, lb = mem.offsets[b + 1] - mem.offsets[b];
      cache.set(mem.compressed!.subarray(b * C * H, (b + 1) * C * H), at * H);
      kernels.meanPoolRows(mem.hidden.subarray(mem.offsets[b] * H, (mem.offsets[b] + M) * H), M, H, c.compressRate, cache.subarray((at + C) * H, (at + compressed) * H));
      cache.set(mem.hidden.subarray(mem.offsets[b] * H, mem.offsets[b + 1] * H), (at + compressed) * H);
      cacheCounters.set(mem.counters.subarray(mem.offsets[b], mem.offsets[b + 1]), at + compressed);
      cacheOffsets[b + 1] = at + compressed + lb;
    }
  }
  const { packed, offsets } = joinMemory(t, cache, cacheOffsets, h, batch, M);
  const pooled = pooledStates.get(mem);
  if (recycle && pooled) {
    pooledStates.delete(mem);
    t.pool.give(pooled);
  }
  const counters = new Float32Array(offsets[batch]);
  const blockCounters = Float32Array.from({ length: M }, (_, m) => -m);
  for (let b = 0; b < batch; b++) {
    counters.set(cacheCounters.subarray(cacheOffsets[b], cacheOffsets[b + 1]), offsets[b]);
    counters.set(blockCounters, offsets[b + 1] - M);
  }
  return { packed, offsets, counters, compressed };
}

/**
 * A block under way, for its next rows' queries: the layer's memory (aged by the k rows already
 * seen) followed by those k rows (prefix: batch x M x H, the first k rows of each stream's M
 * filled; ages k .. 1). Not for the Compressive Transformer, whose compressed memories are laid
 * out per whole block.
 */
export function memoryWithPrefix(mem: LayerMemory, prefix: Float32Array, k: number, batch: number, width: number): LayerMemory {
  const M = prefix.length / batch / width;
  const offsets = new Int32Array(batch + 1);
  for (let b = 0; b < batch; b++) offsets[b + 1] = offsets[b] + (mem.offsets[b + 1] - mem.offsets[b]) + k;
  const hidden = new Float32Array(offsets[batch] * width), counters = new Float32Array(offsets[batch]);
  for (let b = 0; b < batch; b++) {
    const from = mem.offsets[b], rows = mem.offsets[b + 1] - from, at = offsets[b];
    hidden.set(mem.hidden.subarray(from * width, (from + rows) * width), at * width);
    for (let i = 0; i < rows; i++) counters[at + i] = mem.counters[from + i] + k;
    hidden.set(prefix.subarray(b * M * width, (b * M + k) * width), (at + rows) * width);
    for (let j = 0; j < k; j++) counters[at + rows + j] = k - j;
  }
  return { hidden, counters, offsets };
}

/**
 * The layer's memory for the next block. spans: Expire-Span's span of every packed row.
 * `tape` (training): the kept states stay in input.packed's buffer, moved to its front when the
 * tape lets it go; until then the memory's `hidden` cannot be read.
 */
export function leaveBlock(c: ModelConfig, batch: number, input: LayerInput, spans: Float32Array | undefined, cacheSize: number, tape?: Tape): LayerMemory {
  const { packed, offsets, counters } = input, rows = offsets[batch], H = c.hidSz;
  const mode = c.expireSpan ? AttentionMode.Expire : AttentionMode.Window;
  const nextCounters = new Float32Array(rows), nextOffsets = new Int32Array(batch + 1);
  // The spans' buffer goes back to the pool during backward: a later move needs a copy.
  const spanValues = (tape ? spans?.slice() : spans) ?? new Float32Array(0);
  const prune = (width: number, from: Float32Array, to: Float32Array) =>
    kernels.memoryPrune(mode, batch, c.memSz, width, c.expireSpanRamp, cacheSize, from, counters, offsets, spanValues, to, nextCounters, nextOffsets);
  let memory: LayerMemory;
  if (tape) {
    // Width 0: which rows stay (counters and offsets), moving no states yet.
    const kept = prune(0, packed.data, packed.data);
    memory = unsettled(nextCounters.subarray(0, kept), nextOffsets);
    tape.handOver(packed, (data) => {
      prune(H, data, data);
      Object.defineProperty(memory, 'hidden', { value: data.subarray(0, kept * H), writable: true, enumerable: true, configurable: true });
      pooledStates.set(memory, data);
    });
  } else {
    const hidden = new Float32Array(rows * H);
    const kept = prune(H, packed.data, hidden);
    // Views, not copies: the kept rows are already in place at the front.
    memory = { hidden: hidden.subarray(0, kept * H), counters: nextCounters.subarray(0, kept), offsets: nextOffsets };
  }
  if (c.compress) {
    // The last C of [compressed ; new compressed] of every stream.
    const C = compressedLength(c), fresh = c.memSz / c.compressRate;
    memory.compressed = new Float32Array(batch * C * H);
    for (let b = 0; b < batch; b++) {
      const from = (offsets[b] + fresh) * H;
      memory.compressed.set(packed.data.subarray(from, from + C * H), b * C * H);
    }
  }
  return memory;
}

/** Memories whose states lie in a pool buffer (a block's packed rows), to give back when read. */
const pooledStates = new WeakMap<LayerMemory, Float32Array>();

/** A memory whose states are not in place yet: reading them is a bug, and says so. */
function unsettled(counters: Float32Array, offsets: Int32Array): LayerMemory {
  return {
    counters,
    offsets,
    get hidden(): Float32Array {
      throw new Error('LayerMemory: the states are still in the block\'s packed rows (read the memory after backward or Tape.reset())');
    },
  };
}
