// Float32 buffers recycled across steps. Sizes are rounded up to a few classes (2^k times 1,
// 1.25, 1.5 or 1.75) and handed out as views of the requested length: Expire-Span's memory changes
// size every block, and pooling by exact size would keep a buffer of every size ever seen. For
// the same reason idle buffers are let go after a few steps unused: while the memory grows, each
// block needs larger buffers than the last, and the smaller ones would otherwise stay forever.
export class BufferPool {
  private readonly free = new Map<number, { buffer: Float32Array; since: number }[]>();
  private step = 0;
  /** How many buffers were ever allocated (not reused): flat after warm-up. */
  allocations = 0;

  /** Steps a buffer may stay idle in the pool before it is dropped. */
  static readonly IDLE_STEPS = 4;

  /** The capacity a request of `size` elements is served from (at most 1/4 more). */
  static sizeClass(size: number): number {
    if (size <= 16) return 16;
    const quarter = 2 ** Math.floor(Math.log2(size - 1)) / 4;
    return Math.ceil(size / quarter) * quarter;
  }

  take(size: number): Float32Array {
    const capacity = BufferPool.sizeClass(size);
    const base = this.free.get(capacity)?.pop()?.buffer ?? this.larger(capacity) ?? (this.allocations++, new Float32Array(capacity));
    return base.length === size ? base : base.subarray(0, size);
  }

  /** A free buffer of a larger class, up to 4x: better than allocating while it lies idle. */
  private larger(capacity: number): Float32Array | undefined {
    let best: number | undefined;
    for (const [c, list] of this.free) {
      if (c > capacity && c <= 4 * capacity && list.length > 0 && (best === undefined || c < best)) best = c;
    }
    return best === undefined ? undefined : this.free.get(best)!.pop()!.buffer;
  }

  /** Returns a buffer (or a view from take()) to the pool. */
  give(buffer: Float32Array): void {
    const base = buffer.byteOffset === 0 && buffer.length === buffer.buffer.byteLength / 4 ? buffer : new Float32Array(buffer.buffer);
    let list = this.free.get(base.length);
    if (!list) this.free.set(base.length, (list = []));
    list.push({ buffer: base, since: this.step });
  }

  /** Elements held in idle buffers. */
  get idle(): number {
    let n = 0;
    for (const [capacity, list] of this.free) n += capacity * list.length;
    return n;
  }

  /** Ends a step: buffers idle for IDLE_STEPS steps are dropped (the garbage collector frees them). */
  endStep(): void {
    this.step++;
    for (const [capacity, list] of this.free) {
      const kept = list.filter((entry) => this.step - entry.since <= BufferPool.IDLE_STEPS);
      if (kept.length === 0) this.free.delete(capacity);
      else if (kept.length < list.length) this.free.set(capacity, kept);
    }
  }
}
