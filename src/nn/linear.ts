import { linear } from '../tensor/ops.js';
import type { Tape } from '../tensor/tape.js';
import type { Tensor } from '../tensor/tensor.js';
import { type ParameterStore, uniformFanIn } from './parameters.js';

/** torch.nn.Linear: y = x W^T + b, W: [out, in]. */
export class Linear {
  readonly weight: Tensor;
  readonly bias: Tensor | null;

  constructor(params: ParameterStore, name: string, inFeatures: number, outFeatures: number, { bias = true, scale = 1 } = {}) {
    // `scale` shrinks the initial values (the reference's pre-norm output layers).
    const init = uniformFanIn(inFeatures);
    const scaled = scale === 1 ? init : (r: Parameters<typeof init>[0], n: number) => init(r, n).map((v) => v * scale);
    this.weight = params.add(`${name}.weight`, [outFeatures, inFeatures], scaled);
    this.bias = bias ? params.add(`${name}.bias`, [outFeatures], scaled) : null;
  }

  /** y = x W^T + b, plus `residual` when given (see ops.linear). */
  forward(t: Tape, x: Tensor, residual: Tensor | null = null): Tensor {
    return linear(t, x, this.weight, this.bias, residual);
  }
}
