// Command-line flags with the reference's names (main.py, models/*.py): parsing, and values
// checked so that a bad one is refused with the flag's name before any work starts.
import type { ParseArgsConfig } from 'node:util';
import type { ModelConfig } from '../model/config.js';
import { DEFAULT_TRAIN, type TrainOptions } from '../train/options.js';
import { parseFlags } from './arguments.js';
import { CliError } from './errors.js';

type Kind = 'int' | 'real' | 'bool' | 'string';

/** Model flags: flag name -> [config field, kind]. */
export const MODEL_FLAGS: Record<string, [keyof ModelConfig, Kind]> = {
  'hid-sz': ['hidSz', 'int'],
  'inner-hid-sz': ['innerHidSz', 'int'],
  nlayers: ['nlayers', 'int'],
  'mem-sz': ['memSz', 'int'],
  nheads: ['nheads', 'int'],
  'head-dim': ['headDim', 'int'],
  'attn-lim': ['attnLim', 'int'],
  dropout: ['dropout', 'real'],
  'pre-norm': ['preNorm', 'bool'],
  'expire-span': ['expireSpan', 'bool'],
  'expire-span-loss': ['expireSpanLoss', 'real'],
  'expire-span-ramp': ['expireSpanRamp', 'int'],
  'expire-span-init-percentage': ['expireSpanInitPercentage', 'real'],
  'expire-span-noisy': ['expireSpanNoisy', 'bool'],
  'expire-span-pre-div': ['expireSpanPreDiv', 'real'],
  'expire-span-layerdrop': ['expireSpanLayerdrop', 'real'],
  'adapt-span': ['adaptSpan', 'bool'],
  'adapt-span-loss': ['adaptSpanLoss', 'real'],
  'adapt-span-len': ['adaptSpanLen', 'real'],
  'adapt-span-init': ['adaptSpanInit', 'real'],
  'adapt-span-cache': ['adaptSpanCache', 'bool'],
  'adapt-span-trim-step': ['adaptSpanTrimStep', 'int'],
  'adapt-span-layer': ['adaptSpanLayer', 'bool'],
  compress: ['compress', 'bool'],
  'compress-rate': ['compressRate', 'int'],
  'compress-size': ['compressSize', 'int'],
};

export const TRAIN_FLAGS: Record<string, [keyof TrainOptions, Kind]> = {
  data: ['data', 'string'],
  'batch-sz': ['batchSz', 'int'],
  'test-batch-sz': ['testBatchSz', 'int'],
  nbatches: ['nbatches', 'int'],
  nepochs: ['nepochs', 'int'],
  optim: ['optim', 'string'],
  lr: ['lr', 'real'],
  momentum: ['momentum', 'real'],
  'lr-warmup': ['lrWarmup', 'int'],
  'lr-decay': ['lrDecay', 'bool'],
  'grad-clip': ['gradClip', 'real'],
  'full-valid': ['fullValid', 'bool'],
  'data-eos': ['dataEos', 'bool'],
  seed: ['seed', 'int'],
  threads: ['threads', 'int'],
  'max-nonfinite': ['maxNonfinite', 'int'],
};

/** Flags of the reference that change nothing here (GPU, logging, loading details). */
const ACCEPTED: Record<string, Kind> = {
  'no-cuda': 'bool',
  'lazy-load-data': 'bool',
  'local-rank': 'int',
  plot: 'bool',
  'plot-dir': 'string',
  'plot-name': 'string',
  'data-type': 'string',
  'split-batch': 'int',
};

/** Reference flags for models this implementation does not have. */
const UNSUPPORTED = ['feedback', 'staircase', 'share-proj-kv', 'staircase-size'];

export interface ParsedTrainFlags {
  model: Partial<ModelConfig>;
  train: Partial<TrainOptions>;
  checkpoint?: string;
  out?: string;
  fullTest: boolean;
  checkpointFreq: number;
  help: boolean;
  /** Reference flags given that change nothing here. */
  ignored: string[];
}

export function flagValue(flag: string, raw: string | boolean | undefined, kind: Kind): number | string | boolean | undefined {
  if (raw === undefined) return undefined;
  if (kind === 'bool' || kind === 'string') {
    if (kind === 'string' && (raw === '' || typeof raw !== 'string')) throw new CliError(`--${flag} needs a value`);
    return raw;
  }
  const n = typeof raw === 'string' && raw.trim() !== '' ? Number(raw) : NaN;
  if (!Number.isFinite(n)) throw new CliError(`--${flag} must be a number, got "${raw}"`);
  if (kind === 'int' && !Number.isInteger(n)) throw new CliError(`--${flag} must be an integer, got "${raw}"`);
  return n;
}

export function parseTrainFlags(argv: string[]): ParsedTrainFlags {
  // --data-omit-labels takes one or more values (argparse nargs="+"): gather them by hand.
  const omit: string[] = [];
  const rest: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    if (argv[i] !== '--data-omit-labels') {
      rest.push(argv[i]);
      continue;
    }
    const start = omit.length;
    while (i + 1 < argv.length && !argv[i + 1].startsWith('--')) omit.push(argv[++i]);
    if (omit.length === start) throw new CliError('--data-omit-labels needs at least one label');
  }
  const options: NonNullable<ParseArgsConfig['options']> = {
    checkpoint: { type: 'string' },
    out: { type: 'string' },
    'checkpoint-freq': { type: 'string' },
    'full-test': { type: 'boolean' },
    help: { type: 'boolean', short: 'h' },
  };
  for (const [flag, [, kind]] of [...Object.entries(MODEL_FLAGS), ...Object.entries(TRAIN_FLAGS)]) options[flag] = { type: kind === 'bool' ? 'boolean' : 'string' };
  for (const [flag, kind] of Object.entries(ACCEPTED)) options[flag] = { type: kind === 'bool' ? 'boolean' : 'string' };
  for (const flag of UNSUPPORTED) options[flag] = { type: 'boolean' };
  const values = parseFlags('train', rest, options);
  for (const flag of UNSUPPORTED) if (values[flag]) throw new CliError(`--${flag}: that model is not implemented here (Expire-Span, Transformer-XL, Adaptive-Span and Compressive are)`);
  const split = flagValue('split-batch', values['split-batch'], 'int');
  if (split !== undefined && split !== 1) throw new CliError('--split-batch: only 1 is supported (the whole batch in one pass)');

  const model: Partial<ModelConfig> = {};
  for (const [flag, [field, kind]] of Object.entries(MODEL_FLAGS)) {
    const v = flagValue(flag, values[flag], kind);
    if (v !== undefined) (model as Record<string, unknown>)[field] = v;
  }
  const train: Partial<TrainOptions> = {};
  for (const [flag, [field, kind]] of Object.entries(TRAIN_FLAGS)) {
    const v = flagValue(flag, values[flag], kind);
    if (v !== undefined) (train as Record<string, unknown>)[field] = v;
  }
  if (omit.length > 0) train.dataOmitLabels = omit;
  const freq = flagValue('checkpoint-freq', values['checkpoint-freq'], 'int') as number | undefined;
  return {
    model,
    train,
    checkpoint: values.checkpoint as string | undefined,
    out: values.out as string | undefined,
    fullTest: values['full-test'] === true,
    checkpointFreq: freq ?? 0,
    help: values.help === true,
    ignored: Object.keys(ACCEPTED).filter((flag) => values[flag] !== undefined && flag !== 'split-batch').map((flag) => `--${flag}`),
  };
}

/** Complete, checked training options. */
export function makeTrainOptions(partial: Partial<TrainOptions>): TrainOptions {
  const o: TrainOptions = { ...DEFAULT_TRAIN, ...partial };
  const int = (f: keyof TrainOptions, flag: string, min: number, max = 2 ** 31 - 1) => {
    const v = o[f] as number;
    if (!Number.isInteger(v) || v < min || v > max) throw new CliError(`--${flag} must be an integer from ${min} to ${max}, got ${v}`);
  };
  const real = (f: keyof TrainOptions, flag: string, ok: (v: number) => boolean, range: string) => {
    const v = o[f] as number;
    if (!Number.isFinite(v) || !ok(v)) throw new CliError(`--${flag} must be ${range}, got ${v}`);
  };
  if (!o.data) throw new CliError('--data is required: a folder (train.txt, valid.txt, test.txt), any file, builtin:sources or task:NAME');
  int('batchSz', 'batch-sz', 1, 1 << 16);
  int('testBatchSz', 'test-batch-sz', 0, 1 << 16);
  int('nbatches', 'nbatches', 1);
  int('nepochs', 'nepochs', 1);
  int('lrWarmup', 'lr-warmup', 0);
  int('seed', 'seed', 0, 2 ** 32 - 1);
  int('threads', 'threads', 1, 256);
  int('maxNonfinite', 'max-nonfinite', 0);
  real('lr', 'lr', (v) => v > 0 && v <= 1e3, 'in (0, 1000]');
  real('momentum', 'momentum', (v) => v >= 0 && v < 1, 'in [0, 1)');
  real('gradClip', 'grad-clip', (v) => v >= 0 && v <= 1e9, 'in [0, 1e9] (0: no clipping)');
  if (o.optim !== 'adam' && o.optim !== 'sgd') throw new CliError(`--optim must be adam or sgd, got "${o.optim}"`);
  return o;
}
