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

/** A named tensor as the memory is saved (safetensors entries). */
export interface NamedTensor {
  shape: readonly number[];
  data: Float32Array | Int32Array;
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

  /** Memories held per stream, averaged over the streams, per layer. */
  meanLengths(): number[] {
    return this.layers.map((l) => l.offsets[this.batch] / this.batch);
  }

  /** Memories held, summed over streams and layers. */
  get size(): number {
    return this.layers.reduce((s, l) => s + l.offsets[this.batch], 0);
  }

  /** The memory as named tensors: <prefix>.<layer>.hidden, .counters, .offsets (and .compressed). */
  tensors(prefix: string): [string, NamedTensor][] {
    const w = this.width;
    return this.layers.flatMap((l, i): [string, NamedTensor][] => [
      [`${prefix}.${i}.hidden`, { shape: [l.hidden.length / w, w], data: l.hidden }],
      [`${prefix}.${i}.counters`, { shape: [l.counters.length], data: l.counters }],
      [`${prefix}.${i}.offsets`, { shape: [l.offsets.length], data: l.offsets }],
      ...(l.compressed ? [[`${prefix}.${i}.compressed`, { shape: [l.compressed.length / w, w], data: l.compressed }] as [string, NamedTensor]] : []),
    ]);
  }

  /**
   * Puts back what tensors(prefix) wrote, checking every size and offset first; `get` looks a
   * tensor up by name, `where` names the source in errors. Nothing changes if anything is wrong.
   */
  load(prefix: string, get: (name: string) => Float32Array | Int32Array | BigInt64Array | Float64Array | Uint8Array | undefined, where: string): void {
    const f32 = (name: string) => {
      const data = get(name);
      if (!(data instanceof Float32Array)) throw new Error(`${where}: no float32 tensor "${name}"`);
      return data;
    };
    const layers = this.layers.map((old, l): LayerMemory => {
      const name = `${prefix}.${l}`;
      const offsets = get(`${name}.offsets`);
      if (!(offsets instanceof Int32Array) || offsets.length !== this.batch + 1) throw new Error(`${where}: ${name}.offsets must be ${this.batch + 1} int32 values`);
      for (let b = 0; b < this.batch; b++) {
        if (offsets[0] !== 0 || offsets[b + 1] < offsets[b]) throw new Error(`${where}: ${name}.offsets must start at 0 and never decrease`);
      }
      const rows = offsets[this.batch];
      const layer: LayerMemory = { hidden: f32(`${name}.hidden`), counters: f32(`${name}.counters`), offsets };
      if (layer.hidden.length !== rows * this.width || layer.counters.length !== rows) throw new Error(`${where}: ${name} holds ${layer.counters.length} counters and ${layer.hidden.length / this.width} states for ${rows} memories`);
      if (old.compressed) {
        layer.compressed = f32(`${name}.compressed`);
        if (layer.compressed.length !== old.compressed.length) throw new Error(`${where}: ${name}.compressed must hold ${old.compressed.length} values`);
      }
      return layer;
    });
    layers.forEach((layer, l) => (this.layers[l] = layer));
  }

  /** A memory whose layer list is new but shares every layer's arrays (which are never written). */
  shallowCopy(): MemoryState {
    return new MemoryState(this.batch, this.width, [...this.layers]);
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
