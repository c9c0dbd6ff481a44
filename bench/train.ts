// Training benchmark: times a fixed number of updates of a config on given data (after a
// warm-up) and reports tokens/s, ms per batch, peak RSS, memories kept per layer, and the
// achieved GFLOP/s as a share of the machine's fp32 matrix-product peak.
import { GemmRoute, kernels, nativeKernels } from '../src/kernels/index.js';
import { loadCorpus } from '../src/data/corpus.js';
import { checkTrainingFits } from '../src/cli/arguments.js';
import { makeConfig, modelName, type ModelConfig } from '../src/model/config.js';
import { forwardFlops } from '../src/model/flops.js';
import { SequenceModel } from '../src/model/sequence-model.js';
import type { TrainOptions } from '../src/train/options.js';
import { Trainer } from '../src/train/trainer.js';

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

/** Side of the square sgemm that samples the peak: 768 = 64 x 12-row tiles, as fast here as
 * 1024^3 in about half the memory; 256 on the TypeScript kernels, a hundred times slower. */
const PEAK_SIDE = nativeKernels ? 768 : 256;

/** Floats a peak sample needs: A (also B) and C. */
export const PEAK_SCRATCH = 2 * PEAK_SIDE * PEAK_SIDE;

/**
 * sgemm GFLOP/s on the training's threads (a practical fp32 peak), sampled as often as asked:
 * this VM's speed drifts by tens of percent within a minute, so the training bench samples
 * between its batches and compares against what the machine gave at those moments. Samples run
 * in the training's own process and threads, in `PEAK_SCRATCH` floats that the caller lends:
 * the training bench lends buffers its model holds idle between updates, so that (at the
 * sizes it is for, whose keys and values alone take megabytes) sampling adds nothing to the peak
 * RSS it reports. (A sampler in a process of its own cost the training
 * 5-10%: each fork left every page of the parent copy-on-write, so the next batch took a page
 * fault on each of its ~100k pages.)
 */
export class PeakSampler {
  private readonly samples: number[] = [];

  /** Takes one sample: the fastest of three products after `warmupSeconds` of untimed ones. */
  sample(scratch: Float32Array, warmupSeconds = 0): void {
    const n = PEAK_SIDE, a = scratch.subarray(0, n * n), c = scratch.subarray(n * n, 2 * n * n);
    a.fill(0.5);
    const product = (): number => {
      const t = process.hrtime.bigint();
      if (nativeKernels) nativeKernels.gemmVia(GemmRoute.Builtin, false, false, n, n, n, 1, a, 0, n, 0, a, 0, n, 0, 0, c, 0, n, 0, 1);
      else kernels.gemm(false, false, n, n, n, 1, a, 0, n, 0, a, 0, n, 0, 0, c, 0, n, 0, 1);
      return Number(process.hrtime.bigint() - t) / 1e9;
    };
    for (let spent = product(); spent < warmupSeconds; ) spent += product();
    let best = 0;
    for (let i = 0; i < 3; i++) best = Math.max(best, (2 * n ** 3) / product() / 1e9);
    this.samples.push(best);
  }

  /** The median sample. */
  get gflops(): number {
    const sorted = [...this.samples].sort((x, y) => x - y);
    return sorted[Math.floor(sorted.length / 2)];
  }
}

/** The fp32 peak on `threads` threads from five samples taken now (after a quarter second's
 * warm-up: on a VM a process's threads may share one core for its first tens of milliseconds). */
export function measurePeakGflops(threads: number): number {
  kernels.setThreads(threads);
  const sampler = new PeakSampler(), scratch = new Float32Array(PEAK_SCRATCH);
  for (let i = 0; i < 5; i++) sampler.sample(scratch, i === 0 ? 0.25 : 0);
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
  const sampler = o.peakGflops === undefined ? new PeakSampler() : null;
  let flops = 0, seconds = 0, before = shapes(), started = process.hrtime.bigint();
  const stats = trainer.trainBlocks(o.batches, () => {
    seconds += Number(process.hrtime.bigint() - started) / 1e9;
    flops += 3 * forwardFlops(config, o.train.batchSz, before.cache, before.windows);
    before = shapes();
    if (sampler) trainer.lendIdle(PEAK_SCRATCH, (scratch) => sampler.sample(scratch)); // untimed
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
