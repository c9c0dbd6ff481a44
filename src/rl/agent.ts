// An agent: a sequence model over the episode's observations (Expire-Span, Transformer-XL, ...)
// with a policy head (one logit per action) and a value head on its final hidden states. The
// heads' parameters live in the model's store, so optimisers and checkpoints see them.
import type { ModelConfig } from '../model/config.js';
import { SequenceModel } from '../model/sequence-model.js';
import { Linear } from '../nn/linear.js';
import type { Tape } from '../tensor/tape.js';
import type { Tensor } from '../tensor/tensor.js';

export class Agent {
  readonly model: SequenceModel;
  readonly policy: Linear;
  readonly value: Linear;

  constructor(config: ModelConfig, readonly actions: number, seed = 1) {
    this.model = new SequenceModel(config, seed);
    // A small policy head starts the policy near uniform.
    this.policy = new Linear(this.model.params, 'agent.policy', config.hidSz, actions, { scale: 0.01 });
    this.value = new Linear(this.model.params, 'agent.value', config.hidSz, 1);
  }

  /** One step's action logits from its final hidden state (H values). */
  policyLogits(hidden: Float32Array): Float32Array {
    const H = this.model.config.hidSz, w = this.policy.weight.data, b = this.policy.bias!.data;
    return Float32Array.from({ length: this.actions }, (_, a) => {
      let z = b[a];
      for (let i = 0; i < H; i++) z += w[a * H + i] * hidden[i];
      return z;
    });
  }

  /** hidden: [N, H] -> logits [N, A] and values [N, 1]. */
  heads(t: Tape, hidden: Tensor): { logits: Tensor; values: Tensor } {
    return { logits: this.policy.forward(t, hidden), values: this.value.forward(t, hidden) };
  }
}
