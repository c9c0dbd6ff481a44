import type { ModelConfig } from '../model/config.js';
import { dropout, relu } from '../tensor/ops.js';
import type { Tape } from '../tensor/tape.js';
import type { Tensor } from '../tensor/tensor.js';
import { Linear } from './linear.js';
import type { ParameterStore } from './parameters.js';

/** Linear - ReLU - (dropout) - Linear. Pre-norm scales fc2 by 1/sqrt(2 nlayers) at init. */
export class FeedForward {
  readonly fc1: Linear;
  readonly fc2: Linear;

  constructor(params: ParameterStore, name: string, c: ModelConfig) {
    this.fc1 = new Linear(params, `${name}.fc1`, c.hidSz, c.innerHidSz);
    this.fc2 = new Linear(params, `${name}.fc2`, c.innerHidSz, c.hidSz, { scale: c.preNorm ? 1 / Math.sqrt(2 * c.nlayers) : 1 });
  }

  /**
   * dropout: probability after the ReLU (0 outside training), seed: of its mask. With
   * `residual`, returns residual + FFN(h) (one buffer, see ops.linear).
   */
  forward(t: Tape, h: Tensor, p = 0, seed = 0, residual: Tensor | null = null): Tensor {
    // fc1's output is read by nothing but the ReLU (its backward needs only the ReLU's output).
    return this.fc2.forward(t, dropout(t, relu(t, this.fc1.forward(t, h), true), p, seed), residual);
  }
}
