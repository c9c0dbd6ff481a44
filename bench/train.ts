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
  /** The machine's fp32 peak in GFLOP/s; measured (best sgemm) when not given. */
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
  peakSource: 'given' | 'measured sgemm';
  shareOfPeak: number;
  loss: number;
}

/** Best sgemm GFLOP/s this machine reaches on all threads (a practical fp32 peak). */
export function measurePeakGflops(): number {
  const n = 1024, a = new Float32Array(n * n).fill(0.5), c = new Float32Array(n * n);
  const run = () => (nativeKernels ? nativeKernels.gemmVia(GemmRoute.Builtin, false, false, n, n, n, 1, a, 0, n, 0, a, 0, n, 0, 0, c, 0, n, 0, 1) : kernels.gemm(false, false, n, n, n, 1, a, 0, n, 0, a, 0, n, 0, 0, c, 0, n, 0, 1));
  run();
  let best = 0;
  for (let i = 0; i < 5; i++) {
    const t = process.hrtime.bigint();
    run();
    best = Math.max(best, (2 * n ** 3) / (Number(process.hrtime.bigint() - t) / 1e9) / 1e9);
  }
  return best;
}

export function runTrainBench(o: TrainBenchOptions): TrainBenchReport {
  kernels.setThreads(o.train.threads);
  const corpus = loadCorpus(o.train.data, { eos: o.train.dataEos });
  const config = makeConfig({ ...o.model, vocabSize: corpus.vocab.size });
  checkTrainingFits(config, o.train.batchSz);
  const trainer = new Trainer(new SequenceModel(config, o.train.seed), corpus, o.train);
  if (o.warmup > 0) trainer.trainBlocks(o.warmup);
  let flops = 0;
  const started = process.hrtime.bigint();
  const stats = trainer.trainBlocks(o.batches, () => {
    // Each layer's attention saw the memory kept after the previous block plus the new block.
    const rows = trainer.train.memory.layers.map((_, l) => trainer.train.memory.lengths(l).reduce((a, b) => a + b, 0) / o.train.batchSz);
    flops += 3 * forwardFlops(config, o.train.batchSz, rows.map((r) => Math.max(r, config.memSz)));
  });
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  const peak = o.peakGflops ?? measurePeakGflops();
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
    peakSource: o.peakGflops === undefined ? 'measured sgemm' : 'given',
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
