// Float32 buffers recycled by size. Training repeats the same shapes every step, so after the
// first step every buffer a step needs comes from here instead of the allocator.
export class BufferPool {
  private readonly free = new Map<number, Float32Array[]>();
  /** How many buffers were ever allocated (not reused): flat after warm-up. */
  allocations = 0;

  take(size: number): Float32Array {
    const list = this.free.get(size);
    const reused = list?.pop();
    if (reused) return reused;
    this.allocations++;
    return new Float32Array(size);
  }

  give(buffer: Float32Array): void {
    let list = this.free.get(buffer.length);
    if (!list) this.free.set(buffer.length, (list = []));
    list.push(buffer);
  }

  /** Drops every free buffer (they are garbage-collected). */
  clear(): void {
    this.free.clear();
  }
}
