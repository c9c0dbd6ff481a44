import { layerNorm } from '../tensor/ops.js';
import type { Tape } from '../tensor/tape.js';
import type { Tensor } from '../tensor/tensor.js';
import { constant, type ParameterStore } from './parameters.js';

/** torch.nn.LayerNorm(width) with eps 1e-5, weight 1 and bias 0 at init. */
export class LayerNorm {
  readonly weight: Tensor;
  readonly bias: Tensor;

  constructor(params: ParameterStore, name: string, width: number) {
    this.weight = params.add(`${name}.weight`, [width], constant(1));
    this.bias = params.add(`${name}.bias`, [width], constant(0));
  }

  forward(t: Tape, x: Tensor): Tensor {
    return layerNorm(t, x, this.weight, this.bias, 1e-5);
  }
}
