// Expire-Span's span predictor: every memory h_i gets e_i = L * sigmoid(w . h_i / preDiv + b).
// w starts at 0 and b at -log(1/p - 1), so every span starts at p * L.
import type { ModelConfig } from '../../model/config.js';
import { linear, reshape, scale, sigmoid } from '../../tensor/ops.js';
import type { Tape } from '../../tensor/tape.js';
import type { Tensor } from '../../tensor/tensor.js';
import { constant, type ParameterStore } from '../parameters.js';

export class SpanPredictor {
  readonly weight: Tensor;
  readonly bias: Tensor;

  constructor(params: ParameterStore, name: string, private readonly c: ModelConfig) {
    this.weight = params.add(`${name}.weight`, [1, c.hidSz], constant(0));
    this.bias = params.add(`${name}.bias`, [1], constant(-Math.log(1 / c.expireSpanInitPercentage - 1)));
  }

  /** memory: [rows, H] -> spans [rows] in (0, attnLim). */
  forward(t: Tape, memory: Tensor): Tensor {
    // w . (h / preDiv) as (w / preDiv) . h: scales H numbers instead of every memory row.
    const w = this.c.expireSpanPreDiv === 1 ? this.weight : scale(t, this.weight, 1 / this.c.expireSpanPreDiv);
    const logits = linear(t, memory, w, this.bias);
    return reshape(t, scale(t, sigmoid(t, logits), this.c.attnLim), [memory.rows]);
  }
}
