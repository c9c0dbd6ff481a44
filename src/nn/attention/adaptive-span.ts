// Adaptive-Span (Sukhbaatar et al. 2019) on the Transformer-XL layer: each head (or the whole
// layer) learns a span ratio z in [0, 1]; over the window, distance d gets the mask
// clamp((1 - d + z L) / R + 1, 0, 1), applied after the softmax and renormalised (in the kernel).
import type { ModelConfig } from '../../model/config.js';
import { reshape, scale, sum } from '../../tensor/ops.js';
import type { Tape } from '../../tensor/tape.js';
import type { Tensor } from '../../tensor/tensor.js';
import { constant, type ParameterStore } from '../parameters.js';

export class AdaptiveSpan {
  /** z: [nheads, 1, 1], or [1] with --adapt-span-layer. */
  readonly sizeRatio: Tensor;

  constructor(params: ParameterStore, name: string, private readonly c: ModelConfig) {
    this.sizeRatio = params.add(`${name}.mask.size_ratio`, c.adaptSpanLayer ? [1] : [c.nheads, 1, 1], constant(c.adaptSpanInit));
  }

  /** z as the kernel takes it: one per head, or one for all. */
  ratios(t: Tape): Tensor {
    return reshape(t, this.sizeRatio, [this.sizeRatio.size]);
  }

  /** The largest span including the ramp, as the reference rounds it: in [0, L]. */
  private maxSize(): number {
    let z = -Infinity;
    for (const v of this.sizeRatio.data) z = Math.max(z, v);
    return Math.max(0, Math.min(this.c.attnLim, Math.ceil(z * this.c.attnLim + this.c.adaptSpanLen)));
  }

  /** Positions beyond every head's span, skipped in multiples of the trim step. */
  private trimLength(): number {
    const L = this.c.attnLim;
    return Math.floor(Math.min(L - 1, L - this.maxSize()) / this.c.adaptSpanTrimStep) * this.c.adaptSpanTrimStep;
  }

  /** How far back queries look: the window less the trimmed positions (their mask is 0). */
  window(): number {
    return this.c.attnLim - this.trimLength();
  }

  /** Memories to keep: the window, or with --adapt-span-cache the trimmed window plus 64 steps
   * of slack for spans that grow. */
  cacheSize(): number {
    return this.c.adaptSpanCache ? Math.min(this.c.attnLim, this.c.attnLim - this.trimLength() + 64) : this.c.attnLim;
  }

  /** The span penalty mean(z) * coeff * L: [1]. */
  loss(t: Tape): Tensor {
    return scale(t, sum(t, this.sizeRatio), (this.c.adaptSpanLoss * this.c.attnLim) / this.sizeRatio.size);
  }

  /** Keeps z in [0, 1] (after every optimiser update, as the reference does). */
  clamp(): void {
    const z = this.sizeRatio.data;
    for (let i = 0; i < z.length; i++) z[i] = Math.min(1, Math.max(0, z[i]));
  }
}
