// Model configuration: the reference's settings (main.py, models/*.py), its flag names and its
// defaults, checked together so that an impossible model is refused with the field to fix.

export interface ModelConfig {
  /** Vocabulary size (set from the data). */
  vocabSize: number;
  /** --hid-sz: width H of the hidden states. */
  hidSz: number;
  /** --inner-hid-sz: width of the feed-forward layer. */
  innerHidSz: number;
  /** --nlayers */
  nlayers: number;
  /** --nheads */
  nheads: number;
  /** --head-dim: width D of one head; 0 means hidSz / nheads. */
  headDim: number;
  /** --mem-sz: block length M, the tokens processed per step. */
  memSz: number;
  /** --attn-lim: the longest span L (Expire-Span), or the window (Transformer-XL). */
  attnLim: number;
  /** --dropout: after attention renormalisation and after the feed-forward ReLU. */
  dropout: number;
  /** --pre-norm: layer norms before the sublayers instead of after. */
  preNorm: boolean;
  /** --expire-span: learned memory spans; otherwise the Transformer-XL window. */
  expireSpan: boolean;
  /** --expire-span-loss: coefficient alpha of the span penalty. */
  expireSpanLoss: number;
  /** --expire-span-ramp: ramp length R of the soft mask. */
  expireSpanRamp: number;
  /** --expire-span-init-percentage: every span starts at this fraction of attnLim. */
  expireSpanInitPercentage: number;
  /** --expire-span-pre-div: divide hidden states by this before the span predictor. */
  expireSpanPreDiv: number;
  /** --expire-span-noisy: clamp spans to a random fraction of attnLim in training. */
  expireSpanNoisy: boolean;
  /** --expire-span-layerdrop: probability of skipping a layer in training. */
  expireSpanLayerdrop: number;
}

export const DEFAULT_CONFIG: Omit<ModelConfig, 'vocabSize'> = {
  hidSz: 256,
  innerHidSz: 1024,
  nlayers: 8,
  nheads: 2,
  headDim: 0,
  memSz: 64,
  attnLim: 64,
  dropout: 0.2,
  preNorm: false,
  expireSpan: false,
  expireSpanLoss: 0,
  expireSpanRamp: 32,
  expireSpanInitPercentage: 0.1,
  expireSpanPreDiv: 1,
  expireSpanNoisy: false,
  expireSpanLayerdrop: 0,
};

/** Reference flag name of each field (for messages and for reading the reference's args). */
export const FLAG: Record<keyof ModelConfig, string> = {
  vocabSize: 'vocab-sz',
  hidSz: 'hid-sz',
  innerHidSz: 'inner-hid-sz',
  nlayers: 'nlayers',
  nheads: 'nheads',
  headDim: 'head-dim',
  memSz: 'mem-sz',
  attnLim: 'attn-lim',
  dropout: 'dropout',
  preNorm: 'pre-norm',
  expireSpan: 'expire-span',
  expireSpanLoss: 'expire-span-loss',
  expireSpanRamp: 'expire-span-ramp',
  expireSpanInitPercentage: 'expire-span-init-percentage',
  expireSpanPreDiv: 'expire-span-pre-div',
  expireSpanNoisy: 'expire-span-noisy',
  expireSpanLayerdrop: 'expire-span-layerdrop',
};

export class ConfigError extends Error {
  constructor(field: keyof ModelConfig, message: string) {
    super(`--${FLAG[field]}: ${message}`);
    this.name = 'ConfigError';
  }
}

/** The complete, checked configuration: defaults filled in, headDim resolved. */
export function makeConfig(partial: Partial<ModelConfig> & { vocabSize: number }): ModelConfig {
  const c: ModelConfig = { ...DEFAULT_CONFIG, ...partial };
  const int = (f: keyof ModelConfig, min: number, max = 1 << 24) => {
    const v = c[f] as number;
    if (!Number.isInteger(v) || v < min || v > max) throw new ConfigError(f, `must be an integer from ${min} to ${max}, got ${v}`);
  };
  const real = (f: keyof ModelConfig, ok: (v: number) => boolean, range: string) => {
    const v = c[f] as number;
    if (typeof v !== 'number' || !Number.isFinite(v) || !ok(v)) throw new ConfigError(f, `must be ${range}, got ${v}`);
  };
  for (const f of ['preNorm', 'expireSpan', 'expireSpanNoisy'] as const) {
    if (typeof c[f] !== 'boolean') throw new ConfigError(f, `must be true or false, got ${String(c[f])}`);
  }
  int('vocabSize', 1);
  int('hidSz', 1, 65536);
  int('innerHidSz', 1, 1 << 20);
  int('nlayers', 1, 1024);
  int('nheads', 1, 4096);
  int('headDim', 0, 65536);
  int('memSz', 1, 1 << 20);
  int('attnLim', 1);
  real('dropout', (v) => v >= 0 && v < 1, 'in [0, 1)');
  real('expireSpanLoss', (v) => v >= 0, 'a non-negative number');
  real('expireSpanRamp', (v) => v > 0, 'a positive number (the mask ramps from 1 to 0 over this many steps)');
  real('expireSpanInitPercentage', (v) => v > 0 && v < 1, 'in (0, 1)');
  real('expireSpanPreDiv', (v) => v > 0, 'a positive number');
  real('expireSpanLayerdrop', (v) => v >= 0 && v < 1, 'in [0, 1)');
  if (c.headDim === 0) {
    if (c.hidSz % c.nheads !== 0) {
      throw new ConfigError('nheads', `hid-sz ${c.hidSz} is not divisible by ${c.nheads} heads (set --head-dim to choose the head width)`);
    }
    c.headDim = c.hidSz / c.nheads;
  }
  if (c.attnLim < c.memSz) throw new ConfigError('attnLim', `must be at least mem-sz (${c.memSz}), got ${c.attnLim}`);
  return c;
}

/** Reads the reference's argparse namespace (snake_case keys, as in its args dump). */
export function configFromReferenceArgs(args: Record<string, unknown>, vocabSize?: number): ModelConfig {
  const partial: Partial<ModelConfig> & { vocabSize: number } = { vocabSize: vocabSize ?? (args.vocab_sz as number) };
  for (const [field, flag] of Object.entries(FLAG) as [keyof ModelConfig, string][]) {
    const key = flag.replaceAll('-', '_');
    if (field !== 'vocabSize' && key in args) (partial as Record<string, unknown>)[field] = args[key];
  }
  for (const unsupported of ['compress', 'feedback', 'staircase', 'adapt_span']) {
    if (args[unsupported] === true) throw new Error(`reference args: --${unsupported.replaceAll('_', '-')} models are not supported yet`);
  }
  return makeConfig(partial);
}

/** Length of the shared position embedding: the last M steps (Expire-Span) or the window. */
export function positionLength(c: ModelConfig): number {
  return c.expireSpan ? Math.min(c.attnLim, c.memSz) : c.attnLim;
}
