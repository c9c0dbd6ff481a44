// Gradients by a tape: define-by-run reverse-mode autodiff over coarse ops.
//
// Why a tape rather than hand-written backward passes per layer: the models differ mostly in
// their attention (Expire-Span, Transformer-XL, Adaptive-Span, Compressive), and each of those
// is one fused op with its own kernel pair anyway. Around them, a tape lets a layer be written
// once, as its forward, and stay correct when a variant changes its wiring (pre-/post-norm,
// layer drop). Ops are coarse (a matrix product, a layer norm, a whole attention), so the tape
// holds tens of entries per layer and costs nothing measurable; the numeric work stays in the
// kernels. Every buffer an op creates comes from the tape's pool and goes back on reset(), so a
// training step allocates nothing once the shapes have been seen.
import { kernels } from '../kernels/index.js';
import { BufferPool } from './buffer-pool.js';
import { checkShape, shapeString, sizeOf, Tensor, type Shape } from './tensor.js';

export class Tape {
  readonly pool = new BufferPool();
  /** When false (evaluation), ops record nothing and no gradients are kept. */
  recording = true;
  private readonly steps: { backward: () => void; outputs: (Tensor | null)[]; buffers: Float32Array[] }[] = [];
  /** Buffers taken since the last recorded step, and those retained: returned on reset(). */
  private owned: Float32Array[] = [];
  /** Gradient buffers of tape-made tensors, returned to the pool as soon as they are spent. */
  private readonly grads = new Set<Float32Array>();
  /** Buffers whose owner takes them over instead of the pool (see handOver). */
  private readonly handedOver = new Map<ArrayBufferLike, (data: Float32Array) => void>();

  /** A tensor whose buffer lives until reset(). Its contents are NOT cleared. */
  tensor(shape: Shape, requiresGrad = false): Tensor {
    checkShape('Tape.tensor', shape);
    const data = this.pool.take(sizeOf(shape));
    this.owned.push(data);
    return new Tensor(data, shape, requiresGrad && this.recording, null);
  }

  /** A zero-filled float32 buffer that lives until reset() (for op-private saved values). */
  scratch(size: number, zero = false): Float32Array {
    const data = this.pool.take(size);
    this.owned.push(data);
    if (zero) kernels.fill(data, 0, size);
    return data;
  }

  /** Whether an op with these inputs must record a backward step. */
  tracks(...inputs: (Tensor | null | undefined)[]): boolean {
    return this.recording && inputs.some((t) => t?.requiresGrad);
  }

  /** The gradient buffer of t, zero-filled on first use (only tape-made tensors lack one). */
  gradOf(t: Tensor): Float32Array {
    if (t.grad === null) {
      t.grad = this.pool.take(t.size);
      kernels.fill(t.grad, 0, t.size);
      this.grads.add(t.grad);
    }
    return t.grad;
  }

  /**
   * For a value read by one op only, whose backward reads it for the last time: its gradient in
   * its own buffer (the op's kernel overwrites the value with it), or, if some gradient has
   * already been added up for it, that gradient buffer as gradOf gives it.
   */
  gradOverValue(t: Tensor): Float32Array {
    if (t.grad === null) t.grad = t.data;
    return t.grad;
  }

  /**
   * For an elementwise op whose backward can run in place: x's gradient in the buffer of the
   * op's result's (which nothing reads after this op), or, when x has a gradient already or
   * `out`'s is not the tape's own, x's gradient as gradOf gives it.
   */
  passGrad(out: Tensor, x: Tensor): Float32Array {
    if (x.grad !== null || out.grad === null || !this.grads.has(out.grad)) return this.gradOf(x);
    [x.grad, out.grad] = [out.grad, null];
    return x.grad;
  }

  /**
   * Records the backward of an op whose results are `outputs`; steps run in reverse order. A
   * result's gradient is read only by its own op's backward (every consumer, recorded later, has
   * run by then), so it goes back to the pool right after: backward's peak memory is the
   * gradients in flight, not all of them.
   */
  record(backward: () => void, ...outputs: (Tensor | null)[]): void {
    this.steps.push({ backward, outputs, buffers: this.owned });
    this.owned = [];
  }

  /**
   * Keeps the buffers of these results until reset(). Without this, the buffers an op took
   * (its results and saved values) go back to the pool as soon as its backward has run: no step
   * recorded later can read them, and every step recorded earlier runs afterwards, so reusing
   * them for gradients keeps backward's peak near forward's.
   */
  retain(...results: (Tensor | Float32Array | null)[]): void {
    for (const r of results) {
      if (r === null) continue;
      const buffer = (r instanceof Tensor ? r.data : r).buffer;
      for (const step of this.steps) {
        const i = step.buffers.findIndex((b) => b.buffer === buffer);
        if (i >= 0) this.owned.push(...step.buffers.splice(i, 1));
      }
    }
  }

  /**
   * When the tape lets go of t's buffer (after the backward step that last reads it, or on
   * reset), `takeOver` gets it instead of the pool: the buffer is then the caller's, to give
   * back to the pool itself. Lets a value outlive the step in a buffer the step already filled.
   */
  handOver(t: Tensor, takeOver: (data: Float32Array) => void): void {
    this.handedOver.set(t.data.buffer, takeOver);
  }

  /** Returns a buffer the tape let go of to the pool, or to whoever it was handed over to. */
  private release(b: Float32Array): void {
    const takeOver = this.handedOver.get(b.buffer);
    if (!takeOver) return this.pool.give(b);
    this.handedOver.delete(b.buffer);
    takeOver(b);
  }

  /** Backpropagates from a scalar: d loss / d loss = seed. */
  backward(loss: Tensor, seed = 1): void {
    if (loss.size !== 1) throw new RangeError(`Tape.backward: the loss must have one element, got ${shapeString(loss.shape)}`);
    if (!loss.requiresGrad) throw new Error('Tape.backward: the loss does not depend on anything that requires a gradient');
    this.gradOf(loss)[0] += seed;
    for (let i = this.steps.length - 1; i >= 0; i--) {
      const { backward, outputs, buffers } = this.steps[i];
      backward();
      for (const b of buffers) this.release(b);
      buffers.length = 0;
      for (const out of outputs) {
        if (out?.grad && this.grads.delete(out.grad)) {
          this.pool.give(out.grad);
          out.grad = null;
        }
      }
    }
    this.steps.length = 0;
  }

  /** Returns every buffer handed out since the last reset to the pool, and forgets the graph.
   * Tensors made by this tape must not be used afterwards. */
  reset(): void {
    for (const step of this.steps) for (const b of step.buffers) this.release(b);
    for (const b of this.owned) this.release(b);
    for (const g of this.grads) this.pool.give(g);
    this.owned = [];
    this.grads.clear();
    this.handedOver.clear();
    this.steps.length = 0;
    this.pool.endStep();
  }
}
