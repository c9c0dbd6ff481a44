// Training benchmark: times a fixed number of updates of a config on given data (after a
// warm-up) and reports tokens/s, ms per batch, peak RSS, memories kept per layer, and the
// achieved GFLOP/s as a share of the machine's fp32 matrix-product peak.
import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { kernels } from '../src/kernels/index.js';
import { loadCorpus } from '../src/data/corpus.js';
import { checkTrainingFits } from '../src/cli/arguments.js';
import { makeConfig, modelName, type ModelConfig } from '../src/model/config.js';
import { forwardFlops } from '../src/model/flops.js';
import { SequenceModel } from '../src/model/sequence-model.js';
import type { TrainOptions } from '../src/train/options.js';
import { Trainer } from '../src/train/trainer.js';

const SAMPLE_SCRIPT = fileURLToPath(new URL('./peak-sample.js', import.meta.url));

export interface TrainBenchOptions {
  model: Partial<ModelConfig>;
  train: TrainOptions;
  /** Updates timed, after `warmup` untimed ones. */
  batches: number;
  warmup: number;
  /** The machine's fp32 peak in GFLOP/s; sampled between the timed batches when not given. */
  peakGflops?: number;
}

export interface TrainBenchReport {
  model: string;
  config: ModelConfig;
  batches: number;
  tokensPerSecond: number;
  msPerBatch: number;
  peakRssMiB: number;
  /** Memories held per stream after each block, per layer, averaged over the timed batches. */
  keptMemories: number[];
  gflopsPerSecond: number;
  peakGflops: number;
  peakSource: 'given' | 'sgemm between batches';
  shareOfPeak: number;
  loss: number;
}

/**
 * sgemm GFLOP/s on the training's threads (a practical fp32 peak), sampled as often as asked:
 * this VM's speed drifts by tens of percent within a minute, so the training bench samples
 * between its batches and compares against what the machine gave at those moments. Each sample
 * runs in a process of its own (bench/peak-sample.ts): its 8 MiB of matrices would otherwise
 * add to the peak RSS the bench reports for training.
 */
export class PeakSampler {
  private readonly samples: number[] = [];

  constructor(private readonly threads: number) {}

  sample(): void {
    const out = execFileSync(process.execPath, [SAMPLE_SCRIPT, String(this.threads)], { encoding: 'utf8' });
    const gflops = Number(out.trim());
    if (!(gflops > 0)) throw new Error(`bench: the sgemm sample printed "${out.trim()}", not GFLOP/s`);
    this.samples.push(gflops);
  }

  /** The median sample. */
  get gflops(): number {
    const sorted = [...this.samples].sort((x, y) => x - y);
    return sorted[Math.floor(sorted.length / 2)];
  }
}

/** The fp32 peak on `threads` threads from five samples taken now. */
export function measurePeakGflops(threads: number): number {
  const sampler = new PeakSampler(threads);
  for (let i = 0; i < 5; i++) sampler.sample();
  return sampler.gflops;
}

export function runTrainBench(o: TrainBenchOptions): TrainBenchReport {
  kernels.setThreads(o.train.threads);
  const corpus = loadCorpus(o.train.data, { eos: o.train.dataEos });
  const config = makeConfig({ ...o.model, vocabSize: corpus.vocab.size });
  checkTrainingFits(config, o.train.batchSz);
  const model = new SequenceModel(config, o.train.seed);
  const trainer = new Trainer(model, corpus, o.train);
  if (o.warmup > 0) trainer.trainBlocks(o.warmup);
  // Memories per stream, per layer, that the next block starts from, and how far back it looks.
  const shapes = () => ({ cache: trainer.train.memory.meanLengths(), windows: model.windows() });
  const sampler = o.peakGflops === undefined ? new PeakSampler(o.train.threads) : null;
  let flops = 0, seconds = 0, before = shapes(), started = process.hrtime.bigint();
  const stats = trainer.trainBlocks(o.batches, () => {
    seconds += Number(process.hrtime.bigint() - started) / 1e9;
    flops += 3 * forwardFlops(config, o.train.batchSz, before.cache, before.windows);
    before = shapes();
    sampler?.sample(); // untimed
    started = process.hrtime.bigint();
  });
  const peak = o.peakGflops ?? sampler!.gflops;
  const gflops = flops / seconds / 1e9;
  return {
    model: modelName(config),
    config,
    batches: o.batches,
    tokensPerSecond: stats.tokens / seconds,
    msPerBatch: (seconds * 1000) / o.batches,
    peakRssMiB: process.resourceUsage().maxRSS / 1024,
    keptMemories: stats.kept,
    gflopsPerSecond: gflops,
    peakGflops: peak,
    peakSource: o.peakGflops === undefined ? 'sgemm between batches' : 'given',
    shareOfPeak: gflops / peak,
    loss: stats.loss,
  };
}

export function formatTrainReport(r: TrainBenchReport): string {
  const c = r.config;
  return [
    `${r.model}: ${c.nlayers} layers x ${c.hidSz}, mem-sz ${c.memSz}, attn-lim ${c.attnLim}; ${r.batches} timed batches`,
    `  tokens/s        ${Math.round(r.tokensPerSecond).toLocaleString('en-US')}`,
    `  ms per batch    ${r.msPerBatch.toFixed(1)}`,
    `  peak RSS        ${r.peakRssMiB.toFixed(0)} MiB`,
    `  kept memories   ${r.keptMemories.map((k) => k.toFixed(0)).join(' / ')} per stream, per layer`,
    `  achieved        ${r.gflopsPerSecond.toFixed(1)} GFLOP/s = ${(100 * r.shareOfPeak).toFixed(0)}% of ${r.peakGflops.toFixed(0)} GFLOP/s (${r.peakSource})`,
  ].join('\n');
}
