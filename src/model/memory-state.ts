// What a model carries from one block to the next: per layer, the inputs h of the memories it
// still holds (rows x H, every stream's rows in time order), each memory's counter (its distance
// from the next block's first query) and the per-stream row offsets. Streams are ragged: each
// keeps exactly its own live memories. A value that can be copied, saved, restored, inspected
// and reset stream by stream.
import { compressedLength, type ModelConfig } from './config.js';

export interface LayerMemory {
  /** rows x width */
  hidden: Float32Array;
  /** rows */
  counters: Float32Array;
  /** batch + 1: stream b owns rows offsets[b] .. offsets[b+1]-1 */
  offsets: Int32Array;
  /** Compressive Transformer: batch x C x width compressed memories (C per stream). */
  compressed?: Float32Array;
}

export class MemoryState {
  constructor(
    readonly batch: number,
    readonly width: number,
    readonly layers: LayerMemory[],
  ) {}

  /**
   * The reference's starting memory: Expire-Span holds min(L, M) zero vectors with counters
   * M, M-1, ..., 1 (their distances from the first query); the others hold L zero vectors (and
   * the Compressive Transformer C zero compressed memories). `cacheSizes` overrides L per layer
   * (Adaptive-Span's shrunk caches: SequenceModel.cacheSizes()).
   */
  static initial(c: ModelConfig, batch: number, cacheSizes?: readonly number[]): MemoryState {
    const layers = Array.from({ length: c.nlayers }, (_, l) => initialLayer(c, batch, cacheSizes?.[l]));
    return new MemoryState(batch, c.hidSz, layers);
  }

  /** Memories held by each stream of layer l. */
  lengths(layer: number): number[] {
    const o = this.layers[layer].offsets;
    return Array.from({ length: this.batch }, (_, b) => o[b + 1] - o[b]);
  }

  /** Memories held, summed over streams and layers. */
  get size(): number {
    return this.layers.reduce((s, l) => s + l.offsets[this.batch], 0);
  }

  clone(): MemoryState {
    return new MemoryState(
      this.batch,
      this.width,
      this.layers.map((l) => ({ hidden: l.hidden.slice(), counters: l.counters.slice(), offsets: l.offsets.slice(), compressed: l.compressed?.slice() })),
    );
  }

  /** Gives stream b the starting memory again (at the end of its data, or between episodes). */
  resetStream(c: ModelConfig, b: number, cacheSizes?: readonly number[]): void {
    if (!Number.isInteger(b) || b < 0 || b >= this.batch) throw new RangeError(`resetStream: no stream ${b} (batch ${this.batch})`);
    this.layers.forEach((l, layer) => {
      const fresh = initialLayer(c, 1, cacheSizes?.[layer]);
      const w = this.width, o = l.offsets;
      const freshRows = fresh.offsets[1];
      const rows = o[this.batch] - (o[b + 1] - o[b]) + freshRows;
      const hidden = new Float32Array(rows * w), counters = new Float32Array(rows), offsets = new Int32Array(this.batch + 1);
      let at = 0;
      for (let s = 0; s < this.batch; s++) {
        const [src, srcCounters, from, to] = s === b ? [fresh.hidden, fresh.counters, 0, freshRows] : [l.hidden, l.counters, o[s], o[s + 1]];
        hidden.set(src.subarray(from * w, to * w), at * w);
        counters.set(srcCounters.subarray(from, to), at);
        at += to - from;
        offsets[s + 1] = at;
      }
      let compressed = l.compressed;
      if (compressed && fresh.compressed) {
        compressed = compressed.slice();
        compressed.set(fresh.compressed, b * fresh.compressed.length);
      }
      this.layers[layer] = { hidden, counters, offsets, compressed };
    });
  }
}

function initialLayer(c: ModelConfig, batch: number, cacheSize = c.attnLim): LayerMemory {
  const rows = c.expireSpan ? Math.min(c.attnLim, c.memSz) : cacheSize;
  const counters = new Float32Array(batch * rows);
  for (let b = 0; b < batch; b++) for (let i = 0; i < rows; i++) counters[b * rows + i] = rows - i;
  return {
    hidden: new Float32Array(batch * rows * c.hidSz),
    counters,
    offsets: Int32Array.from({ length: batch + 1 }, (_, b) => b * rows),
    compressed: c.compress ? new Float32Array(batch * compressedLength(c) * c.hidSz) : undefined,
  };
}
