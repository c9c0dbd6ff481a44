// How one layer's memory meets a block and what it keeps afterwards, for every model kind.
//
// Entering: the layer attends over [memory ; block] per stream. The Compressive Transformer puts
// its compressed memories first: [compressed (C) ; pool(oldest M states) (M/c) ; cache (L) ; block].
// Leaving: Expire-Span keeps the memories still alive at the next block; the others keep each
// stream's last cache-size states (and the Compressive Transformer its last C compressed ones).
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

/** h: [batch * block, H]: the block (or, from SequenceModel.encodeNext, its newest rows). */
export function enterBlock(t: Tape, c: ModelConfig, mem: LayerMemory, h: Tensor, batch: number, block = c.memSz): LayerInput {
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
 * `recycle`: the memory this one replaces, whose arrays nothing reads any more (their contents
 * are in input.packed): written over when large enough.
 */
export function leaveBlock(c: ModelConfig, batch: number, input: LayerInput, spans: Float32Array | undefined, cacheSize: number, recycle?: LayerMemory): LayerMemory {
  const { packed, offsets, counters } = input, rows = offsets[batch], H = c.hidSz;
  const next = { hidden: reuse(recycle?.hidden, rows * H), counters: reuse(recycle?.counters, rows), offsets: new Int32Array(batch + 1) };
  const mode = c.expireSpan ? AttentionMode.Expire : AttentionMode.Window;
  const kept = kernels.memoryPrune(mode, batch, c.memSz, H, c.expireSpanRamp, cacheSize, packed.data, counters, offsets, spans ?? new Float32Array(0), next.hidden, next.counters, next.offsets);
  // Views, not copies: the kept rows are already in place at the front.
  const memory: LayerMemory = { hidden: next.hidden.subarray(0, kept * H), counters: next.counters.subarray(0, kept), offsets: next.offsets };
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

/** Buffers leaveBlock allocated (wholly its own, unlike a loaded memory's views into a file). */
const ownBuffers = new WeakSet<ArrayBufferLike>();

/** An array of n floats: over `old`'s buffer when leaveBlock made it and it has room, else new. */
function reuse(old: Float32Array | undefined, n: number): Float32Array {
  if (old && ownBuffers.has(old.buffer) && old.buffer.byteLength >= 4 * n) return new Float32Array(old.buffer, 0, n);
  const fresh = new Float32Array(n);
  ownBuffers.add(fresh.buffer);
  return fresh;
}
