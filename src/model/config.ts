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
  /** --adapt-span: Adaptive-Span (a learned span per head) on the Transformer-XL layer. */
  adaptSpan: boolean;
  /** --adapt-span-loss: coefficient of the span penalty mean(z) * attn-lim. */
  adaptSpanLoss: number;
  /** --adapt-span-len: ramp length of the adaptive mask. */
  adaptSpanLen: number;
  /** --adapt-span-init: initial span ratio z. */
  adaptSpanInit: number;
  /** --adapt-span-cache: shrink the cache to the largest span (plus 64). */
  adaptSpanCache: boolean;
  /** --adapt-span-trim-step: positions beyond the largest span are skipped in multiples of this. */
  adaptSpanTrimStep: number;
  /** --adapt-span-layer: one span per layer instead of one per head. */
  adaptSpanLayer: boolean;
  /** --compress: the Compressive Transformer (mean-pool variant). */
  compress: boolean;
  /** --compress-rate: states pooled into one compressed memory. */
  compressRate: number;
  /** --compress-size: compressed memory, counted in states before compression. */
  compressSize: number;
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
  adaptSpan: false,
  adaptSpanLoss: 0,
  adaptSpanLen: 32,
  adaptSpanInit: 0,
  adaptSpanCache: false,
  adaptSpanTrimStep: 64,
  adaptSpanLayer: false,
  compress: false,
  compressRate: 4,
  compressSize: 128,
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
  adaptSpan: 'adapt-span',
  adaptSpanLoss: 'adapt-span-loss',
  adaptSpanLen: 'adapt-span-len',
  adaptSpanInit: 'adapt-span-init',
  adaptSpanCache: 'adapt-span-cache',
  adaptSpanTrimStep: 'adapt-span-trim-step',
  adaptSpanLayer: 'adapt-span-layer',
  compress: 'compress',
  compressRate: 'compress-rate',
  compressSize: 'compress-size',
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
  for (const f of ['preNorm', 'expireSpan', 'expireSpanNoisy', 'adaptSpan', 'adaptSpanCache', 'adaptSpanLayer', 'compress'] as const) {
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
  real('expireSpanLoss', (v) => v >= 0 && v <= 1e3, 'in [0, 1000]');
  int('expireSpanRamp', 1);
  real('expireSpanInitPercentage', (v) => v > 0 && v < 1, 'in (0, 1)');
  real('expireSpanPreDiv', (v) => v > 0 && v <= 1e6, 'in (0, 1e6]');
  real('expireSpanLayerdrop', (v) => v >= 0 && v < 1, 'in [0, 1)');
  real('adaptSpanLoss', (v) => v >= 0 && v <= 1e3, 'in [0, 1000]');
  real('adaptSpanLen', (v) => v > 0 && v <= 1 << 24, `in (0, ${1 << 24}]`);
  real('adaptSpanInit', (v) => v >= 0 && v <= 1, 'in [0, 1]');
  int('adaptSpanTrimStep', 1);
  int('compressRate', 1, 1 << 20);
  int('compressSize', 1);
  const kinds = [c.expireSpan && 'expire-span', c.adaptSpan && 'adapt-span', c.compress && 'compress'].filter(Boolean);
  if (kinds.length > 1) throw new ConfigError(c.adaptSpan ? 'adaptSpan' : 'compress', `choose one of --expire-span, --adapt-span and --compress, not ${kinds.join(' and ')}`);
  if (c.compress) {
    if (c.compressSize % c.compressRate !== 0) throw new ConfigError('compressSize', `must be a multiple of compress-rate ${c.compressRate}, got ${c.compressSize}`);
    if (c.memSz % c.compressRate !== 0) throw new ConfigError('compressRate', `must divide mem-sz ${c.memSz}, got ${c.compressRate}`);
  }
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
  for (const unsupported of ['feedback', 'staircase']) {
    if (args[unsupported] === true) throw new Error(`reference args: --${unsupported.replaceAll('_', '-')} models are not supported yet`);
  }
  return makeConfig(partial);
}

/** Compressed memories kept per stream (Compressive Transformer): compress-size / compress-rate. */
export function compressedLength(c: ModelConfig): number {
  return c.compress ? c.compressSize / c.compressRate : 0;
}

/** Length of the shared position embedding: the last M steps (Expire-Span), the window plus the
 * compressed slots (Compressive), or the window. */
export function positionLength(c: ModelConfig): number {
  if (c.expireSpan) return Math.min(c.attnLim, c.memSz);
  return c.compress ? c.attnLim + compressedLength(c) + 1 : c.attnLim;
}

/** The model's name in reports. */
export function modelName(c: ModelConfig): string {
  if (c.expireSpan) return 'Expire-Span';
  if (c.adaptSpan) return 'Adaptive-Span';
  return c.compress ? 'Compressive Transformer' : 'Transformer-XL';
}

/**
 * Refuses a config that describes far more parameters than a file holds (its `param.*` tensors),
 * before anything is allocated. The count is approximate (embeddings, position embedding,
 * projections, feed-forward; small terms left out), so some slack is allowed.
 */
export function checkStoredParameters(c: ModelConfig, tensors: ReadonlyMap<string, { data: ArrayLike<unknown> }>, where: string): void {
  let stored = 0;
  for (const [name, t] of tensors) if (name.startsWith('param.')) stored += t.data.length;
  const approximate = approximateParameters(c);
  if (approximate > stored + 1e6) throw new Error(`${where}: the config describes a model of about ${approximate.toExponential(2)} parameters, the file holds ${stored}`);
}

/** About how many parameters the model has (see checkStoredParameters). */
export function approximateParameters(c: ModelConfig): number {
  return 2 * c.vocabSize * c.hidSz + c.headDim * positionLength(c) + c.nlayers * (4 * c.hidSz * c.nheads * c.headDim + 2 * c.hidSz * c.innerHidSz);
}

/**
 * An upper estimate of the bytes training takes with `batch` streams: parameters with their
 * gradients and Adam moments, the memories carried between blocks, and per layer what a block
 * saves for backward (the packed memory and its keys and values, the feed-forward and norms),
 * doubled for the gradients in flight; every memory budget full. It still counts the attention
 * weights (which backward now recomputes rather than keeps) as a margin for the runtime itself.
 */
export function trainingBytes(c: ModelConfig, batch: number): number {
  const M = c.memSz, L = memoryLength(c), H = c.hidSz;
  const floats = 4 * approximateParameters(c) + batch * L * H * c.nlayers + 2 * (c.nlayers * layerFloats(c, batch) + 2 * batch * M * c.vocabSize);
  return 4 * floats;
}

/**
 * An upper estimate of the bytes evaluation (or streaming) takes with `batch` streams: the
 * parameters, the memories carried between blocks, and the working set of a layer or two at a
 * time (nothing is saved for backward).
 */
export function evaluationBytes(c: ModelConfig, batch: number): number {
  return 4 * (approximateParameters(c) + batch * memoryLength(c) * c.hidSz * c.nlayers + 2 * (layerFloats(c, batch) + batch * c.memSz * c.vocabSize));
}

/** The longest memory a layer attends to: attn-lim, plus the ramp or the compressed memories. */
function memoryLength(c: ModelConfig): number {
  return c.attnLim + (c.expireSpan ? c.expireSpanRamp : 0) + (c.compress ? compressedLength(c) : 0);
}

/** The floats one layer's block holds: packed memory, keys and values, attention weights (see
 * trainingBytes), feed-forward, norms. */
function layerFloats(c: ModelConfig, batch: number): number {
  const M = c.memSz, H = c.hidSz, inner = c.nheads * c.headDim, L = memoryLength(c);
  return batch * (L + M) * (H + 2 * inner) + batch * c.nheads * M * (L + M) + batch * M * (2 * c.innerHidSz + 6 * H + inner);
}
