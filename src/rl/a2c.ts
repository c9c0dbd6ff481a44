// Advantage actor-critic (A2C) with GAE over parallel environments, the policy a sequence model
// that carries memory across the steps of an episode and starts fresh memory with each episode.
//
// One update = one block of M steps (mem-sz) in every environment, then one gradient step:
//   acting: at step k each stream's new observation is run against the block's earlier steps
//     (SequenceModel.encodeNext) to get the policy at k; the environment steps with the sampled
//     action;
//   learning: the whole block is run again with gradients, from the memory it started with, so
//     the policy and values are exactly those acted with; GAE(lambda) advantages bootstrap from
//     the value of the next block's first observation.
// An episode that ends inside a block leaves its stream idle (padding, not scored) until the
// block ends; there its memory is reset and the next episode starts with the next block. So no
// episode ever sees another's memories.
import type { Random } from '../tensor/random.js';
import { Tape } from '../tensor/tape.js';
import { add } from '../tensor/ops.js';
import type { MemoryState } from '../model/memory-state.js';
import { Adam } from '../train/adam.js';
import { clipGradNorm } from '../train/clip.js';
import { sampleToken } from '../model/sampling.js';
import { actorCriticLoss } from './actor-critic-loss.js';
import type { Agent } from './agent.js';
import type { Environment } from './environments/environment.js';

export interface A2COptions {
  lr: number;
  gamma: number;
  lambda: number;
  /** Entropy bonus. */
  entropy: number;
  /** Weight of the value loss. */
  value: number;
  gradClip: number;
}

/** Actions are drawn from softmax(logits) itself. */
const POLICY = { temperature: 1, topK: 0 };

export const DEFAULT_A2C: A2COptions = { lr: 1e-3, gamma: 0.99, lambda: 0.95, entropy: 0.01, value: 0.5, gradClip: 1 };

/** What one or more updates saw. */
export interface RlStats {
  steps: number;
  episodes: number;
  /** Sum of the finished episodes' returns. */
  returns: number;
  trials: number;
  successes: number;
  /** Memories held per layer, summed over updates (divide by `updates`). */
  kept: number[];
  entropy: number;
  updates: number;
}

export function emptyRlStats(layers: number): RlStats {
  return { steps: 0, episodes: 0, returns: 0, trials: 0, successes: 0, kept: new Array(layers).fill(0), entropy: 0, updates: 0 };
}

export class A2CTrainer {
  readonly optimizer: Adam;
  memory: MemoryState;
  /** Each stream's next observation (the first of the next block). */
  private readonly observation: Int32Array;
  private readonly episodeReturn: Float64Array;
  private readonly tape = new Tape();
  private readonly acting = new Tape();
  /** Per layer, the inputs of the block's steps so far (streams x M x H), reused every update. */
  private readonly prefixes: Float32Array[];
  /** The padding token: an id past the environment's observations. */
  readonly pad: number;

  constructor(readonly agent: Agent, readonly envs: Environment[], readonly options: A2COptions, readonly random: Random) {
    const c = agent.model.config;
    this.pad = c.vocabSize - 1;
    this.optimizer = new Adam(agent.model.params.tensors, { lr: options.lr });
    this.memory = agent.model.initialMemory(envs.length);
    this.observation = Int32Array.from(envs, (env) => env.reset());
    this.episodeReturn = new Float64Array(envs.length);
    this.acting.recording = false;
    this.prefixes = agent.model.layers.map(() => new Float32Array(envs.length * c.memSz * c.hidSz));
  }

  /** One block of steps in every environment and one gradient step; adds to `stats`. */
  update(stats: RlStats): void {
    const { model } = this.agent, c = model.config, B = this.envs.length, M = c.memSz, o = this.options;
    const x = new Int32Array(B * M).fill(this.pad), actions = new Int32Array(B * M).fill(-1);
    const rewards = new Float32Array(B * M), ended = new Uint8Array(B);
    const A = this.agent.actions;

    // Acting, step by step.
    const prefixes = this.prefixes, now = new Int32Array(B);
    for (let k = 0; k < M; k++) {
      for (let b = 0; b < B; b++) now[b] = x[b * M + k] = ended[b] ? this.pad : this.observation[b];
      const { hidden } = model.encodeNext(this.acting, now, this.memory, prefixes, k);
      const { logits } = this.agent.heads(this.acting, hidden);
      for (let b = 0; b < B; b++) {
        if (ended[b]) continue;
        const row = logits.data.subarray(b * A, (b + 1) * A);
        const action = sampleToken(row, POLICY, this.random.next());
        const step = this.envs[b].step(action);
        actions[b * M + k] = action;
        rewards[b * M + k] = step.reward;
        this.episodeReturn[b] += step.reward;
        stats.steps++;
        if (step.trial) (stats.trials++, (stats.successes += Number(step.trial.success)));
        if (step.done) {
          ended[b] = 1;
          stats.episodes++;
          stats.returns += this.episodeReturn[b];
          this.episodeReturn[b] = 0;
        } else this.observation[b] = step.observation;
      }
      this.acting.reset();
    }

    // Learning: the same block with gradients, from the memory it started with.
    const t = this.tape;
    const { hidden, aux } = model.encode(t, x, this.memory, { training: true, random: this.random });
    const { logits, values } = this.agent.heads(t, hidden);
    this.memory.meanLengths().forEach((n, l) => (stats.kept[l] += n));
    // Finished episodes: fresh memory and a new episode from the next block on.
    const cacheSizes = model.cacheSizes();
    for (let b = 0; b < B; b++) {
      if (!ended[b]) continue;
      this.memory.resetStream(c, b, cacheSizes);
      this.observation[b] = this.envs[b].reset();
    }
    const bootstrap = this.nextValues(ended);

    const advantages = new Float32Array(B * M), returns = new Float32Array(B * M);
    for (let b = 0; b < B; b++) {
      let next = bootstrap[b], gae = 0;
      for (let k = M - 1; k >= 0; k--) {
        const i = b * M + k;
        if (actions[i] < 0) continue;
        // The episode's last step has no future; a running one bootstraps from what follows.
        const terminal = ended[b] && (k === M - 1 || actions[i + 1] < 0);
        if (terminal) (next = 0, (gae = 0));
        const delta = rewards[i] + o.gamma * next - values.data[i];
        gae = delta + o.gamma * o.lambda * gae;
        advantages[i] = gae;
        returns[i] = gae + values.data[i];
        next = values.data[i];
      }
    }
    const terms = actorCriticLoss(t, logits, values, { actions, advantages, returns, entropy: o.entropy, value: o.value });
    const loss = aux ? add(t, terms.loss, aux) : terms.loss;
    if (loss.requiresGrad) {
      t.backward(loss);
      clipGradNorm(model.params.tensors, o.gradClip);
      this.optimizer.update();
      model.clampParameters();
    }
    this.optimizer.zeroGrad();
    t.reset();
    stats.entropy += terms.entropy;
    stats.updates++;
  }

  /** The value of each running stream's next observation (0 for streams whose episode ended). */
  private nextValues(ended: Uint8Array): Float32Array {
    const { model } = this.agent, B = this.envs.length;
    // Row 0 of every stream's prefix is rewritten before it is read: the buffers can be shared.
    const { hidden } = model.encodeNext(this.acting, this.observation, this.memory, this.prefixes, 0);
    const { values } = this.agent.heads(this.acting, hidden);
    const out = Float32Array.from({ length: B }, (_, b) => (ended[b] ? 0 : values.data[b]));
    this.acting.reset();
    return out;
  }
}
