// The training loop of DESIGN.md §2: `batch` contiguous streams, memory carried from block to
// block, a random restart with fresh memory at the end of the data, an optimiser update per
// block (warm-up, optional cosine decay, gradient clipping), and evaluation on streams of their own.
import type { Corpus, Split } from '../data/corpus.js';
import { StreamBatches } from '../data/stream-batches.js';
import type { MemoryState } from '../model/memory-state.js';
import type { SequenceModel } from '../model/sequence-model.js';
import { Random } from '../tensor/random.js';
import { Tape } from '../tensor/tape.js';
import { Adam } from './adam.js';
import { clipGradNorm } from './clip.js';
import type { TrainOptions } from './options.js';
import { learningRate } from './schedule.js';
import { Sgd } from './sgd.js';

/** Averages over the blocks of one pass of training or evaluation. */
export interface Stats {
  /** Mean negative log-likelihood per counted target (nats). */
  loss: number;
  /** Targets counted (every position for text; the scored ones for labelled data). */
  counted: number;
  /** Span loss (training only). */
  aux: number;
  /** Labelled data: share of counted targets whose most likely prediction is wrong (else null). */
  error: number | null;
  blocks: number;
  tokens: number;
  /** Memories held per stream, per layer, averaged over blocks. */
  kept: number[];
  /** Updates skipped because the loss or gradient was not finite. */
  skipped: number;
}

/** Where a stream of blocks stands: its batcher, its memory, and the buffers its blocks are read into. */
export interface Cursor {
  batches: StreamBatches;
  memory: MemoryState;
  x: Int32Array;
  y: Int32Array;
}

/** Training stopped: too many updates in a row had a non-finite loss or gradient. */
export class DivergedError extends Error {
  constructor(readonly run: number, readonly step: number) {
    super(`${run} updates in a row had a non-finite loss or gradient (after update ${step}); try a lower --lr or a --grad-clip, or a larger --max-nonfinite`);
    this.name = 'DivergedError';
  }
}

export class Trainer {
  readonly optimizer: Adam | Sgd;
  readonly random: Random;
  readonly train: Cursor;
  readonly valid: Cursor;
  /** Updates done. */
  step = 0;
  /** Epochs done. */
  epoch = 0;
  /** One record per epoch (written to metrics.jsonl with every checkpoint). */
  history: Record<string, unknown>[] = [];
  /** Updates skipped in a row for a non-finite loss or gradient. */
  nonfiniteRun = 0;
  /** Updates done in the epoch under way, and their sums (a run stopped mid-epoch resumes there). */
  epochBlocks = 0;
  epochSums: Accumulator | null = null;
  private readonly tape = new Tape();
  private readonly omit: Set<number>;

  constructor(readonly model: SequenceModel, readonly corpus: Corpus, readonly options: TrainOptions) {
    const params = model.params.tensors;
    this.optimizer = options.optim === 'adam' ? new Adam(params, { lr: options.lr }) : new Sgd(params, options.lr, options.momentum);
    this.random = new Random(options.seed + 1);
    this.train = this.cursor(corpus.train, options.batchSz, 'train');
    this.valid = this.cursor(corpus.valid, this.testBatch, 'valid');
    this.train.batches.pos = this.randomOffset();
    this.omit = new Set(options.dataOmitLabels.map((token) => {
      const id = corpus.vocab.idOf(token);
      if (id === undefined) throw new Error(`--data-omit-labels: "${token}" is not in the vocabulary`);
      return id;
    }));
  }

  /** Whether the data has targets of its own, reported as an error rate or accuracy. */
  get labelled(): boolean {
    return this.corpus.metric !== 'bpc';
  }

  get testBatch(): number {
    return this.options.testBatchSz || this.options.batchSz;
  }

  cursor(split: Split, batch: number, what: string): Cursor {
    const n = batch * this.model.config.memSz;
    return { batches: new StreamBatches(split, batch, this.model.config.memSz, what), memory: this.model.initialMemory(batch), x: new Int32Array(n), y: new Int32Array(n) };
  }

  private randomOffset(): number {
    return this.random.nextUint32() % this.model.config.memSz;
  }

  /**
   * The rest of the epoch under way: its remaining updates of `nbatches`, onBlock after each.
   * Yields to the event loop between updates, so that signals are heard; when shouldStop says so
   * it returns null with the epoch unfinished (epochBlocks and epochSums say where it stands, and
   * a checkpoint saved now resumes it exactly).
   */
  async trainEpoch(onBlock?: (done: number, stats: Stats) => void, shouldStop?: () => boolean): Promise<Stats | null> {
    const sums = (this.epochSums ??= emptyStats(this.model.config.nlayers));
    while (this.epochBlocks < this.options.nbatches) {
      this.trainBlock(sums);
      this.epochBlocks++;
      onBlock?.(this.epochBlocks, sums);
      const limit = this.options.maxNonfinite;
      if (limit > 0 && this.nonfiniteRun >= limit) throw new DivergedError(this.nonfiniteRun, this.step);
      await new Promise((resolve) => setImmediate(resolve));
      if (this.epochBlocks < this.options.nbatches && shouldStop?.()) return null;
    }
    this.epoch++;
    this.epochBlocks = 0;
    this.epochSums = null;
    return finish(sums, this.labelled);
  }

  /**
   * Lends `size` floats of the buffers that updates use and hold idle between them (contents
   * unspecified): scratch for a benchmark's own work between batches that adds nothing to the
   * process's memory when an idle buffer is large enough (else the pool allocates one and keeps
   * it as its own).
   */
  lendIdle<T>(size: number, use: (buffer: Float32Array) => T): T {
    const buffer = this.tape.pool.take(size);
    try {
      return use(buffer);
    } finally {
      this.tape.pool.give(buffer);
    }
  }

  /** `count` training updates (one block each). */
  trainBlocks(count: number, onBlock?: (done: number, stats: Stats) => void): Stats {
    const stats = emptyStats(this.model.config.nlayers);
    for (let i = 0; i < count; i++) {
      this.trainBlock(stats);
      onBlock?.(i + 1, stats);
    }
    return finish(stats, this.labelled);
  }

  /** One update from the block at the training cursor, added to `stats`. */
  private trainBlock(stats: Accumulator): void {
    const { batches } = this.train;
    const total = this.options.nepochs * this.options.nbatches;
    const result = this.block(this.train, true);
    accumulate(stats, result);
    let nonfinite = !result.finite;
    if (result.finite && result.learned) {
      const norm = clipGradNorm(this.model.params.tensors, this.options.gradClip);
      nonfinite = !Number.isFinite(norm);
      if (!nonfinite) {
        this.step++;
        this.optimizer.update(learningRate({ lr: this.options.lr, warmup: this.options.lrWarmup, decay: this.options.lrDecay, total }, this.step));
        this.model.clampParameters();
      }
    }
    if (nonfinite) stats.skipped++;
    this.nonfiniteRun = nonfinite ? this.nonfiniteRun + 1 : 0;
    this.optimizer.zeroGrad();
    if (batches.advance()) {
      batches.pos = this.randomOffset();
      this.train.memory = this.model.initialMemory(batches.batch);
    }
  }

  /**
   * Evaluation: `blocks` blocks from the cursor's position (the whole split, from the start and
   * with fresh memory, when blocks is "full").
   */
  evaluate(cursor: Cursor, blocks: number | 'full', onBlock?: (done: number, total: number) => void): Stats {
    const stats = emptyStats(this.model.config.nlayers);
    const { batches } = cursor;
    if (blocks === 'full') {
      batches.pos = 0;
      cursor.memory = this.model.initialMemory(batches.batch);
    }
    const count = blocks === 'full' ? batches.blocksPerPass : Math.min(blocks, batches.blocksPerPass);
    for (let i = 0; i < count; i++) {
      accumulate(stats, this.block(cursor, false));
      if (batches.advance()) {
        batches.pos = 0;
        cursor.memory = this.model.initialMemory(batches.batch);
      }
      onBlock?.(i + 1, count);
    }
    return finish(stats, this.labelled);
  }

  /** Validation as the reference does it: nbatches / 10 blocks, continuing where the last stopped. */
  validate(): Stats {
    return this.evaluate(this.valid, this.options.fullValid ? 'full' : Math.max(1, Math.floor(this.options.nbatches / 10)));
  }

  /** Forward (and, in training, backward) over the block at the cursor. */
  private block(cursor: Cursor, training: boolean): BlockStats {
    const { batches, x, y } = cursor, n = x.length;
    batches.read(x, y);
    if (this.omit.size > 0) for (let i = 0; i < n; i++) if (this.omit.has(y[i])) y[i] = -1;
    const t = this.tape;
    t.recording = training;
    const result = this.model.forward(t, x, y, cursor.memory, { training, random: this.random, recycleMemory: true });
    const loss = result.nll.data[0], aux = result.aux?.data[0] ?? 0;
    const finite = Number.isFinite(loss) && Number.isFinite(aux);
    // A block of a task may ask nothing (and, without a span loss, teach nothing).
    const learned = training && finite && result.loss.requiresGrad;
    if (learned) t.backward(result.loss);
    // The argmax over the vocabulary only where an error rate is reported (labelled data).
    const [counted, wrong] = errors(result.logprobs.data, y, this.model.config.vocabSize, this.labelled);
    const kept = cursor.memory.meanLengths();
    t.reset();
    return { loss, aux, counted, wrong, tokens: n, kept, finite, learned };
  }
}

interface BlockStats {
  loss: number;
  aux: number;
  counted: number;
  wrong: number;
  tokens: number;
  kept: number[];
  finite: boolean;
  learned: boolean;
}

/** Targets counted, and (when `argmax`) how many of them the most likely prediction misses. */
function errors(logprobs: Float32Array, y: Int32Array, vocab: number, argmax: boolean): [number, number] {
  let counted = 0, wrong = 0;
  for (let r = 0; r < y.length; r++) {
    if (y[r] < 0) continue;
    counted++;
    if (!argmax) continue;
    let best = 0;
    for (let v = 1; v < vocab; v++) if (logprobs[r * vocab + v] > logprobs[r * vocab + best]) best = v;
    if (best !== y[r]) wrong++;
  }
  return [counted, wrong];
}

export interface Accumulator extends Stats {
  wrong: number;
}

function emptyStats(layers: number): Accumulator {
  return { loss: 0, aux: 0, error: null, blocks: 0, tokens: 0, kept: new Array(layers).fill(0), skipped: 0, counted: 0, wrong: 0 };
}

function accumulate(s: Accumulator, b: BlockStats): void {
  s.blocks++;
  s.tokens += b.tokens;
  s.loss += b.loss * b.counted;
  s.aux += b.aux;
  s.counted += b.counted;
  s.wrong += b.wrong;
  b.kept.forEach((k, l) => (s.kept[l] += k));
}

function finish(s: Accumulator, labelled: boolean): Stats {
  const n = Math.max(1, s.blocks);
  return {
    loss: s.counted > 0 ? s.loss / s.counted : 0,
    counted: s.counted,
    aux: s.aux / n,
    error: labelled && s.counted > 0 ? s.wrong / s.counted : null,
    blocks: s.blocks,
    tokens: s.tokens,
    kept: s.kept.map((k) => k / n),
    skipped: s.skipped,
  };
}
