// The common shape of the reinforcement-learning environments: observations are tokens (the
// policy model's vocabulary), actions are indices, and each environment is seeded. A trial is
// what success is counted over: an episode (corridor, instruction) or one goal (portal).
import type { TaskOption } from '../../data/tasks/task.js';
import type { Random } from '../../tensor/random.js';

export interface Step {
  observation: number;
  reward: number;
  /** The episode is over: the next observation comes from reset(). */
  done: boolean;
  /** Set when a trial ended in this step: whether it succeeded. */
  trial?: { success: boolean };
}

export interface Environment {
  /** Starts an episode; returns its first observation. */
  reset(): number;
  step(action: number): Step;
}

export interface EnvironmentKind {
  name: string;
  summary: string;
  options: TaskOption[];
  /** Token names of the observations. */
  observations(options: Record<string, number>): string[];
  actions(options: Record<string, number>): string[];
  create(options: Record<string, number>, random: Random): Environment;
  /** The success rate of a policy that acts uniformly at random. */
  chance(options: Record<string, number>): number;
}
