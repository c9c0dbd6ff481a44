// An agent's checkpoint: a folder with
//   agent.safetensors  parameters (model and heads), Adam's moments, and (metadata) the settings
//                      and progress: one atomic write, so a resume never mixes two updates;
//   metrics.jsonl      one JSON object per progress report.
// A resume continues from the last update with fresh episodes (environments restart).
import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { readSafetensorsFile, writeFileAtomic, writeSafetensorsFile } from '../io/file.js';
import { checkStoredParameters, makeConfig, type ModelConfig } from '../model/config.js';
import type { A2COptions, A2CTrainer } from './a2c.js';
import { Agent } from './agent.js';

export const AGENT_CHECKPOINT_VERSION = 1;

export interface AgentConfig {
  version: number;
  model: ModelConfig;
  /** The environment spec, NAME[:options]. */
  env: string;
  actions: number;
  envs: number;
  updates: number;
  seed: number;
  a2c: A2COptions;
}

export interface AgentProgress {
  update: number;
  random: number[];
  optimizerStep: number;
  history: Record<string, unknown>[];
}

const FILE = 'agent.safetensors';

export function hasAgentCheckpoint(dir: string): boolean {
  return existsSync(join(dir, FILE));
}

export function saveAgentCheckpoint(dir: string, config: AgentConfig, trainer: A2CTrainer, progress: AgentProgress): void {
  mkdirSync(dir, { recursive: true });
  const params = [...trainer.agent.model.params.entries()];
  const entry = (name: string, shape: readonly number[], data: Float32Array): [string, { shape: readonly number[]; data: Float32Array }] => [name, { shape, data }];
  const entries = [
    ...params.map(([name, t]) => entry(`param.${name}`, t.shape, t.data)),
    ...params.flatMap(([name, t], i) => [entry(`adam.m.${name}`, t.shape, trainer.optimizer.m[i]), entry(`adam.v.${name}`, t.shape, trainer.optimizer.v[i])]),
  ];
  writeSafetensorsFile(join(dir, FILE), entries, { config: JSON.stringify(config), progress: JSON.stringify(progress) });
  writeFileAtomic(join(dir, 'metrics.jsonl'), progress.history.map((r) => JSON.stringify(r) + '\n').join(''));
}

export interface LoadedAgent {
  config: AgentConfig;
  progress: AgentProgress;
  agent: Agent;
  /** Puts Adam's moments and step back into a trainer made for this agent. */
  restore(trainer: A2CTrainer): void;
}

export function loadAgentCheckpoint(dir: string): LoadedAgent {
  const path = join(dir, FILE);
  const { tensors, metadata } = readSafetensorsFile(path);
  const parse = <T>(text: string | undefined, what: string): T => {
    try {
      return JSON.parse(text ?? '') as T;
    } catch {
      throw new Error(`${path}: the ${what} is missing or not JSON`);
    }
  };
  const config = parse<AgentConfig>(metadata.config, 'config');
  if (config.version !== AGENT_CHECKPOINT_VERSION) throw new Error(`${path}: agent checkpoint version ${config.version}, this program reads version ${AGENT_CHECKPOINT_VERSION}`);
  const progress = parse<AgentProgress>(metadata.progress, 'progress');
  const modelConfig = makeConfig(config.model);
  checkStoredParameters(modelConfig, tensors, path);
  if (!Number.isInteger(config.actions) || config.actions < 1 || config.actions > 1 << 16) throw new Error(`${path}: actions must be an integer from 1 to 65536, got ${config.actions}`);
  const agent = new Agent(modelConfig, config.actions, config.seed);
  const f32 = (name: string) => {
    const t = tensors.get(name);
    if (!t || !(t.data instanceof Float32Array)) throw new Error(`${path}: no float32 tensor "${name}"`);
    return t as { shape: readonly number[]; data: Float32Array };
  };
  for (const [name] of agent.model.params.entries()) {
    const t = f32(`param.${name}`);
    agent.model.params.load(name, t.shape, t.data);
  }
  return {
    config,
    progress,
    agent,
    restore(trainer) {
      [...agent.model.params.entries()].forEach(([name], i) => {
        trainer.optimizer.m[i].set(f32(`adam.m.${name}`).data);
        trainer.optimizer.v[i].set(f32(`adam.v.${name}`).data);
      });
      trainer.optimizer.step = progress.optimizerStep;
      trainer.random.state = progress.random;
    },
  };
}
