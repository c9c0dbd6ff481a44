// `expire-span bench kernels|train|scaling`: benchmarks (bench/), never tests.
import { formatKernelReport, runKernelBench } from '../../bench/kernels.js';
import { formatTrainReport, measurePeakGflops, runTrainBench, type TrainBenchReport } from '../../bench/train.js';
import { numberFlag, parseFlags } from './arguments.js';
import { CliError } from './errors.js';
import { makeTrainOptions, parseTrainFlags } from './flags.js';

export const benchHelp = `Usage:
  expire-span bench kernels [--json] [--quick] [--trials N]
      sgemm GFLOP/s at the model's shapes on 1 and 2 threads through every route (the backend
      the model uses, the built-in kernel, the system CBLAS called directly), and the per-call
      cost of a small op.
  expire-span bench train --data DATA [model and training flags] [--batches 20] [--warmup 3]
                          [--peak-gflops X] [--json]
      times training updates: tokens/s, ms per batch, peak RSS, kept memories per layer, and
      GFLOP/s as a share of the fp32 peak (unless given: the median sgemm GFLOP/s of samples
      taken between the timed batches).
  expire-span bench scaling --data DATA [--lims 1024,4096,16384] [--batches 5] [--json]
      Expire-Span and Transformer-XL (the small config) as attn-lim grows; Expire-Span's spans
      start at the same length (init percentage 102.4 / attn-lim) so it keeps as many memories.`;

/** Pulls bench-only flags out of argv; the rest are training flags. */
function split(argv: string[], names: string[]): { own: Record<string, string | true>; rest: string[] } {
  const own: Record<string, string | true> = {}, rest: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const [flag, ...value] = argv[i].split('=');
    const name = flag.replace(/^--/, '');
    if (!flag.startsWith('--') || !names.includes(name)) rest.push(argv[i]);
    else if (name === 'json') own.json = true;
    else if (value.length > 0) own[name] = value.join('=');
    else if (i + 1 < argv.length) own[name] = argv[++i];
    else throw new CliError(`--${name} needs a value`);
  }
  return { own, rest };
}

function count(flag: string, raw: string | true | undefined, fallback: number, min = 1): number {
  return numberFlag(flag, raw === true ? '' : raw, { integer: true, min, max: 1e6 }) ?? fallback;
}

/** The "reference small config" (dropout 0). */
const SMALL = ['--nlayers', '4', '--hid-sz', '256', '--inner-hid-sz', '1024', '--nheads', '4', '--mem-sz', '128', '--batch-sz', '16',
  '--expire-span-ramp', '32', '--expire-span-loss', '1e-6', '--expire-span-pre-div', '64', '--dropout', '0', '--optim', 'adam', '--lr', '0.0003'];

function trainBench(argv: string[]): TrainBenchReport {
  const { own, rest } = split(argv, ['batches', 'warmup', 'peak-gflops', 'json']);
  const flags = parseTrainFlags(rest);
  const peak = numberFlag('peak-gflops', own['peak-gflops'] === true ? '' : own['peak-gflops'], { min: 1e-3, max: 1e9 });
  return runTrainBench({
    model: flags.model,
    train: makeTrainOptions({ optim: 'adam', ...flags.train }),
    batches: count('batches', own.batches, 20),
    warmup: count('warmup', own.warmup, 3, 0),
    peakGflops: peak,
  });
}

export function benchCommand(argv: string[]): void {
  const [what, ...rest] = argv;
  if (what === undefined || what === '--help' || what === '-h') return console.log(benchHelp);
  if (what === 'train') {
    const report = trainBench(rest);
    console.log(rest.includes('--json') ? JSON.stringify(report, null, 2) : formatTrainReport(report));
    return;
  }
  if (what === 'scaling') {
    const { own, rest: other } = split(rest, ['lims', 'batches', 'json']);
    const lims = String(own.lims ?? '1024,4096,16384').split(',').map((v) => count('lims', v, 0));
    const batches = String(count('batches', own.batches, 5));
    const peak = String(measurePeakGflops(makeTrainOptions(parseTrainFlags(other).train).threads));
    const rows: TrainBenchReport[] = [];
    for (const expire of [true, false]) {
      for (const lim of lims) {
        const model = expire ? ['--expire-span', '--expire-span-init-percentage', String(102.4 / lim)] : [];
        rows.push(trainBench([...SMALL, ...model, '--attn-lim', String(lim), ...other, '--batches', batches, '--warmup', '1', '--peak-gflops', peak]));
        if (!own.json) console.error(`  measured ${rows[rows.length - 1].model} at attn-lim ${lim}`);
      }
    }
    if (own.json) return console.log(JSON.stringify(rows, null, 2));
    console.log('model            attn-lim   tokens/s   ms/batch   kept (mean of layers)   peak RSS   vs attn-lim ' + lims[0]);
    for (const r of rows) {
      const first = rows.find((x) => x.model === r.model)!;
      const kept = r.keptMemories.reduce((a, b) => a + b, 0) / r.keptMemories.length;
      console.log(`${r.model.padEnd(16)} ${String(r.config.attnLim).padStart(8)} ${Math.round(r.tokensPerSecond).toLocaleString('en-US').padStart(10)} ${r.msPerBatch.toFixed(0).padStart(10)} ${kept.toFixed(0).padStart(23)} ${(r.peakRssMiB.toFixed(0) + ' MiB').padStart(10)} ${(r.msPerBatch / first.msPerBatch).toFixed(2).padStart(8)}x`);
    }
    return;
  }
  if (what !== 'kernels') throw new CliError(`bench: unknown benchmark "${what}" (available: kernels, train, scaling)`);
  const values = parseFlags('bench', rest, { json: { type: 'boolean', default: false }, quick: { type: 'boolean', default: false }, trials: { type: 'string' } });
  const trials = values.trials === undefined ? (values.quick ? 1 : 5) : count('trials', values.trials, 5);
  const report = runKernelBench({ trials, minSeconds: values.quick ? 0.01 : 0.25, shapes: values.quick ? [[64, 32, 48]] : undefined });
  console.log(values.json ? JSON.stringify(report, null, 2) : formatKernelReport(report));
}
