// One episode played by an agent on its own, as training plays it: fresh memory, one observation
// at a time through a model stream, actions drawn from the policy (or its most likely action).
import { ModelStream } from '../model/model-stream.js';
import { sampleToken } from '../model/sampling.js';
import type { Random } from '../tensor/random.js';
import type { Agent } from './agent.js';
import type { Environment } from './environments/environment.js';

export interface Episode {
  observations: number[];
  actions: number[];
  rewards: number[];
  /** Trials that ended, and how many succeeded. */
  trials: number;
  successes: number;
  /** Memories each layer held at the end. */
  kept: number[];
}

export function playEpisode(agent: Agent, env: Environment, random: Random, { greedy = false, maxSteps = 1_000_000 } = {}): Episode {
  const stream = new ModelStream(agent.model);
  const episode: Episode = { observations: [env.reset()], actions: [], rewards: [], trials: 0, successes: 0, kept: [] };
  for (let t = 0; t < maxSteps; t++) {
    const { hidden } = stream.pushHidden([episode.observations[t]]);
    const action = sampleToken(agent.policyLogits(hidden), { temperature: greedy ? 0 : 1, topK: 0 }, random.next());
    const step = env.step(action);
    episode.actions.push(action);
    episode.rewards.push(step.reward);
    if (step.trial) (episode.trials++, (episode.successes += Number(step.trial.success)));
    if (step.done) break;
    episode.observations.push(step.observation);
  }
  episode.kept = stream.kept;
  return episode;
}
