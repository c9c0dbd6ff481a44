// Block-recurrent batching, as the reference does it: a split is cut into `batch` contiguous
// streams; every step takes the next M tokens of each stream at one shared position. At the end
// of the data training restarts at a random offset in [0, M) with fresh memory (evaluation at 0,
// or stops after one pass). In tasks of episodes, the targets before a stream's first episode
// start ask about tokens before the stream began: they are not scored.
import { DataError, type Split, type TokenIds } from './corpus.js';

export class StreamBatches {
  /** Tokens per stream. */
  readonly length: number;
  /** Position of the next block in every stream. */
  pos = 0;
  private readonly streams: TokenIds;
  private readonly labels: Int32Array | null;
  /** Per stream, where its first whole episode starts (0 when the data has no episodes). */
  private readonly firstEpisode: Int32Array;

  constructor(split: Split, readonly batch: number, readonly block: number, what: string) {
    this.length = Math.floor(split.tokens.length / batch);
    const needed = block + (split.labels ? 0 : 1);
    if (this.length < needed) {
      throw new DataError(`the ${what} split has ${split.tokens.length} tokens, too few for ${batch} streams of at least ${needed} (batch size x (mem-sz + 1))`);
    }
    this.streams = split.tokens.subarray(0, this.length * batch);
    this.labels = split.labels ? split.labels.subarray(0, this.length * batch) : null;
    const episodes = split.episodes;
    this.firstEpisode = Int32Array.from({ length: batch }, (_, b) => {
      if (!episodes) return 0;
      const start = b * this.length, i = firstAtLeast(episodes, start);
      return i < episodes.length ? Math.min(this.length, episodes[i] - start) : this.length;
    });
  }

  /** Last position a block may start at, plus one. */
  private get end(): number {
    return this.length - this.block + (this.labels ? 1 : 0);
  }

  /** Blocks in one pass over the data. */
  get blocksPerPass(): number {
    return Math.ceil(this.end / this.block);
  }

  /** Writes the block at the current position into x and y (batch x M, stream-major). */
  read(x: Int32Array, y: Int32Array): void {
    const M = this.block;
    for (let b = 0; b < this.batch; b++) {
      const at = b * this.length + this.pos;
      x.set(this.streams.subarray(at, at + M), b * M);
      y.set(this.labels ? this.labels.subarray(at, at + M) : this.streams.subarray(at + 1, at + M + 1), b * M);
      for (let i = 0; this.pos + i < this.firstEpisode[b] && i < M; i++) y[b * M + i] = -1;
    }
  }

  /** Moves to the next block; true when the data ran out (the caller restarts and resets memory). */
  advance(): boolean {
    this.pos += this.block;
    return this.pos >= this.end;
  }
}

/** Index of the first value >= v in a sorted array (its length when none is). */
function firstAtLeast(sorted: Int32Array, v: number): number {
  let lo = 0, hi = sorted.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (sorted[mid] < v) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}
