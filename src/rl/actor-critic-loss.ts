// The advantage actor-critic loss as one op: over the scored rows i (action >= 0),
//   loss = (1/n) sum_i [ -adv_i log pi(a_i | i) - beta H(pi(. | i)) + c (v_i - ret_i)^2 ]
// with pi = softmax(logits_i) and H its entropy. Advantages and returns are constants.
// Gradients: d/dz_j = (adv (p_j - [j = a]) + beta p_j (log p_j + H)) / n, d/dv = 2 c (v - ret) / n.
import type { Tape } from '../tensor/tape.js';
import type { Tensor } from '../tensor/tensor.js';

export interface ActorCriticTerms {
  loss: Tensor;
  /** Mean policy entropy over the scored rows (nats). */
  entropy: number;
  /** Mean squared value error over the scored rows. */
  valueError: number;
}

export interface ActorCriticTargets {
  /** The action taken at each row, -1 where nothing is scored. */
  actions: Int32Array;
  advantages: Float32Array;
  returns: Float32Array;
  /** Entropy bonus beta and value coefficient c. */
  entropy: number;
  value: number;
}

/** logits: [N, A], values: [N, 1]. */
export function actorCriticLoss(t: Tape, logits: Tensor, values: Tensor, { actions, advantages, returns, entropy: beta, value: c }: ActorCriticTargets): ActorCriticTerms {
  const N = logits.rows, A = logits.cols;
  if (values.size !== N || actions.length !== N || advantages.length !== N || returns.length !== N) {
    throw new RangeError(`actorCriticLoss: ${N} rows of logits, but ${values.size} values, ${actions.length} actions, ${advantages.length} advantages, ${returns.length} returns`);
  }
  const z = logits.data, v = values.data;
  const logp = new Float32Array(N * A), entropies = new Float32Array(N);
  let n = 0, total = 0, entropySum = 0, valueSum = 0;
  for (let i = 0; i < N; i++) {
    const a = actions[i];
    if (a < 0) continue;
    if (a >= A) throw new RangeError(`actorCriticLoss: action ${a} at row ${i}, only ${A} actions`);
    let max = -Infinity;
    for (let j = 0; j < A; j++) max = Math.max(max, z[i * A + j]);
    let sum = 0;
    for (let j = 0; j < A; j++) sum += Math.exp(z[i * A + j] - max);
    const lse = max + Math.log(sum);
    let h = 0;
    for (let j = 0; j < A; j++) {
      const lp = z[i * A + j] - lse;
      logp[i * A + j] = lp;
      h -= Math.exp(lp) * lp;
    }
    entropies[i] = h;
    const dv = v[i] - returns[i];
    total += -advantages[i] * logp[i * A + a] - beta * h + c * dv * dv;
    entropySum += h;
    valueSum += dv * dv;
    n++;
  }
  const loss = t.tensor([1], n > 0 && t.tracks(logits, values));
  loss.data[0] = n > 0 ? total / n : 0;
  if (loss.requiresGrad) {
    t.record(() => {
      const g = t.gradOf(loss)[0] / n, gz = t.gradOf(logits), gv = t.gradOf(values);
      for (let i = 0; i < N; i++) {
        const a = actions[i];
        if (a < 0) continue;
        for (let j = 0; j < A; j++) {
          const lp = logp[i * A + j], p = Math.exp(lp);
          gz[i * A + j] += g * (advantages[i] * (p - (j === a ? 1 : 0)) + beta * p * (lp + entropies[i]));
        }
        gv[i] += g * 2 * c * (v[i] - returns[i]);
      }
    }, loss);
  }
  return { loss, entropy: n > 0 ? entropySum / n : 0, valueError: n > 0 ? valueSum / n : 0 };
}
