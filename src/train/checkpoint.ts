// Checkpoints: a folder with
//   model.safetensors  the parameters under the reference's names (key_pe under every layer, as
//                      PyTorch's state_dict lists it), loadable by the reference code;
//   config.json        model and training settings, vocabulary, progress (for people);
//   metrics.jsonl      one JSON object per epoch so far;
//   trainer.safetensors everything a resume needs in one file: parameters, optimiser moments,
//                      memories of the train and valid streams, and (metadata) positions, RNG,
//                      step and epoch — one atomic write, so a resume never mixes two epochs.
import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { readSafetensorsFile, writeFileAtomic, writeSafetensorsFile } from '../io/file.js';
import type { StoredTensor, TensorData } from '../io/safetensors.js';
import { Vocabulary, type VocabularyJSON } from '../data/vocabulary.js';
import { checkStoredParameters, makeConfig, type ModelConfig } from '../model/config.js';
import { SequenceModel } from '../model/sequence-model.js';
import { Adam } from './adam.js';
import type { TrainOptions } from './options.js';
import type { Accumulator, Trainer } from './trainer.js';

export const CHECKPOINT_VERSION = 1;

export interface CheckpointConfig {
  version: number;
  model: ModelConfig;
  train: TrainOptions;
  vocab: VocabularyJSON;
}

interface TrainerState {
  step: number;
  epoch: number;
  random: number[];
  trainPos: number;
  validPos: number;
  optimizerStep: number;
  history: Record<string, unknown>[];
  /** A run stopped mid-epoch: the updates done in that epoch and their sums. */
  epochBlocks?: number;
  epochSums?: Accumulator | null;
}

type Entry = [string, { shape: readonly number[]; data: TensorData }];

/** The parameters under the names PyTorch's state_dict uses (shared key_pe once per layer). */
function modelEntries(model: SequenceModel): Entry[] {
  const entries: Entry[] = [...model.params.entries()].map(([name, t]) => [name, { shape: t.shape, data: t.data }]);
  for (let l = 1; l < model.config.nlayers; l++) entries.push([`layers.${l}.attn.attn.key_pe`, { shape: model.keyPe.shape, data: model.keyPe.data }]);
  return entries;
}

export function saveCheckpoint(dir: string, trainer: Trainer): void {
  mkdirSync(dir, { recursive: true });
  const { model, optimizer } = trainer;
  const config: CheckpointConfig = { version: CHECKPOINT_VERSION, model: model.config, train: trainer.options, vocab: trainer.corpus.vocab.toJSON() };
  const state: TrainerState = {
    step: trainer.step,
    epoch: trainer.epoch,
    random: trainer.random.state,
    trainPos: trainer.train.batches.pos,
    validPos: trainer.valid.batches.pos,
    optimizerStep: optimizer.step,
    history: trainer.history,
    epochBlocks: trainer.epochBlocks,
    epochSums: trainer.epochSums,
  };
  const moments: Entry[] = [...model.params.entries()].flatMap(([name, t], i): Entry[] =>
    optimizer instanceof Adam
      ? [[`adam.m.${name}`, { shape: t.shape, data: optimizer.m[i] }], [`adam.v.${name}`, { shape: t.shape, data: optimizer.v[i] }]]
      : [[`sgd.momentum.${name}`, { shape: t.shape, data: optimizer.momentumBuffers[i] }]],
  );
  const params: Entry[] = [...model.params.entries()].map(([name, t]) => [`param.${name}`, { shape: t.shape, data: t.data }]);
  writeSafetensorsFile(join(dir, 'trainer.safetensors'), [...params, ...moments, ...trainer.train.memory.tensors('memory.train'), ...trainer.valid.memory.tensors('memory.valid')], {
    config: JSON.stringify(config),
    state: JSON.stringify(state),
  });
  writeSafetensorsFile(join(dir, 'model.safetensors'), modelEntries(model), { config: JSON.stringify(config) });
  writeFileAtomic(join(dir, 'config.json'), JSON.stringify({ ...config, progress: { epoch: state.epoch, step: state.step } }, null, 2) + '\n');
  // The whole history each time: a run killed and resumed never repeats or loses an epoch's line.
  writeFileAtomic(join(dir, 'metrics.jsonl'), trainer.history.map((r) => JSON.stringify(r) + '\n').join(''));
}

export function hasCheckpoint(dir: string): boolean {
  return existsSync(join(dir, 'trainer.safetensors'));
}

export interface LoadedCheckpoint {
  config: CheckpointConfig;
  vocab: Vocabulary;
  model: SequenceModel;
  /** Puts the optimiser, memories, positions and counters back into a trainer made for this model. */
  restore(trainer: Trainer): void;
}

function json<T>(text: string | undefined, what: string): T {
  try {
    return JSON.parse(text ?? '') as T;
  } catch {
    throw new Error(`${what} is missing or not JSON`);
  }
}

export function loadCheckpoint(dir: string): LoadedCheckpoint {
  const path = join(dir, 'trainer.safetensors');
  const { tensors, metadata } = readSafetensorsFile(path);
  const config = json<CheckpointConfig>(metadata.config, `${path}: the config`);
  if (config.version !== CHECKPOINT_VERSION) throw new Error(`${path}: checkpoint version ${config.version}, this program reads version ${CHECKPOINT_VERSION}`);
  const state = json<TrainerState>(metadata.state, `${path}: the trainer state`);
  const vocab = Vocabulary.fromJSON(config.vocab);
  const modelConfig = makeConfig(config.model);
  // A config that describes a far larger model than the file holds is refused before allocating it.
  checkStoredParameters(modelConfig, tensors, path);
  const model = new SequenceModel(modelConfig, config.train.seed);
  const f32 = (name: string): StoredTensor & { data: Float32Array } => {
    const t = tensors.get(name);
    if (!t || !(t.data instanceof Float32Array)) throw new Error(`${path}: no float32 tensor "${name}"`);
    return t as StoredTensor & { data: Float32Array };
  };
  for (const [name] of model.params.entries()) {
    const t = f32(`param.${name}`);
    model.params.load(name, t.shape, t.data);
  }
  return {
    config,
    vocab,
    model,
    restore(trainer: Trainer) {
      const { optimizer } = trainer;
      [...model.params.entries()].forEach(([name], i) => {
        if (optimizer instanceof Adam) {
          optimizer.m[i].set(f32(`adam.m.${name}`).data);
          optimizer.v[i].set(f32(`adam.v.${name}`).data);
        } else optimizer.momentumBuffers[i].set(f32(`sgd.momentum.${name}`).data);
      });
      optimizer.step = state.optimizerStep;
      trainer.step = state.step;
      trainer.epoch = state.epoch;
      trainer.history = Array.isArray(state.history) ? state.history : [];
      trainer.epochBlocks = Number.isInteger(state.epochBlocks) ? state.epochBlocks! : 0;
      trainer.epochSums = state.epochSums ?? null;
      trainer.random.state = state.random;
      trainer.train.batches.pos = state.trainPos;
      trainer.valid.batches.pos = state.validPos;
      trainer.train.memory.load('memory.train', (name) => tensors.get(name)?.data, path);
      trainer.valid.memory.load('memory.valid', (name) => tensors.get(name)?.data, path);
    },
  };
}
