// Float32 buffers recycled across steps. Sizes are rounded up to a few classes (2^k times 1,
// 1.25, 1.5 or 1.75) and handed out as views of the requested length: Expire-Span's memory changes
// size every block, and pooling by exact size would keep a buffer of every size ever seen. For
// the same reason idle buffers are let go after a few steps unused: while the memory grows, each
// block needs larger buffers than the last, and the smaller ones would otherwise stay forever.
// Dropped buffers give their pages back to the OS at once (kernels.discard): the garbage
// collector frees the buffers themselves only later, and until then they would count towards
// the process's memory.
import { kernels } from '../kernels/index.js';

/** An idle buffer and the step it was given back in. */
interface Idle {
  buffer: Float32Array;
  since: number;
}

export class BufferPool {
  private readonly free = new Map<number, Idle[]>();
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
    const base = this.free.get(capacity)?.pop()?.buffer ?? this.larger(capacity) ?? this.allocate(capacity);
    return base.length === size ? base : base.subarray(0, size);
  }

  private allocate(capacity: number): Float32Array {
    // A tensor that grew into this class (Expire-Span's memory, block after block) left its old
    // buffers in the classes just below, idle since before this step: let them go first, so
    // that the old and the new buffers never both hold memory.
    for (const [c, list] of this.free) {
      if (c >= capacity || 2 * c < capacity) continue;
      this.keepOnly(c, list, (entry) => entry.since === this.step);
    }
    this.allocations++;
    return new Float32Array(capacity);
  }

  /** Drops the idle buffers of class c that fail `keep`. */
  private keepOnly(c: number, list: Idle[], keep: (entry: Idle) => boolean): void {
    const kept = list.filter(keep);
    if (kept.length === list.length) return;
    for (const entry of list) if (!keep(entry)) kernels.discard(entry.buffer, entry.buffer.length);
    if (kept.length === 0) this.free.delete(c);
    else this.free.set(c, kept);
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

  /** Ends a step: buffers idle for IDLE_STEPS steps are dropped. */
  endStep(): void {
    this.step++;
    for (const [c, list] of this.free) this.keepOnly(c, list, (entry) => this.step - entry.since <= BufferPool.IDLE_STEPS);
  }
}
