// `expire-span compare`: trains several models on the same data for the same number of updates,
// each in a process of its own (so that its peak memory is its own), evaluates each on the whole
// test split, and prints one table: the metric, memories kept, training speed and peak memory.
// Every run trains into OUT/NAME (OUT/NAME/seed-S for a chosen seed), so an interrupted
// comparison resumes where it stopped. With --seeds N each model trains N times, seeds S..S+N-1,
// and its row gives the means: single runs of small models differ by several points with the seed.
import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadCorpus, type Corpus } from '../data/corpus.js';
import { makeConfig } from '../model/config.js';
import { checkTrainingFits } from './arguments.js';
import { CliError } from './errors.js';
import { makeTrainOptions, parseTrainFlags } from './flags.js';
import { metricLabel } from './metric.js';
import { DEFAULT_RUNS, PRESETS, type Run } from './presets.js';

export const compareHelp = `Usage: expire-span compare [--preset NAME] [--data DATA] [shared flags]
                          [--run "NAME: flags" ...] [--seeds N] [--jobs N] [--out DIR] [--json]

Trains every run on the same data with the shared training flags plus its own, evaluates each
on the whole test split, and prints: the metric (bpc, error % or accuracy %), memories kept per
stream (mean over layers, during the test), training tokens/s and peak memory (each run is a
process of its own). Runs train into OUT/NAME (default compare/<preset or date>): running the
same command again resumes and reuses them.

  --preset NAME   a documented comparison (data, shared flags, runs); flags given after it add
                  to or override its shared flags. Presets:
${PRESETS.map((p) => `                    ${p.name.padEnd(10)} ${p.summary}`).join('\n')}
  --run "NAME: FLAGS"  a model to train (repeatable); default: the preset's runs, or expire-span
                  (--expire-span), transformer-xl, adaptive-span (--adapt-span), compressive
                  (--compress); a bare --run NAME picks that run of the preset (or the defaults)
  --seeds N       train each model N times, with seeds S..S+N-1 (S: --seed, default 1), into
                  OUT/NAME/seed-S; rows give the means (peak: the largest) and every seed's metric
  --jobs N        train up to N runs at once (default 1), their lines prefixed with [NAME] or
                  [NAME seed S]; give each --threads (cores / N) so that they do not contend
  --json          print the table as JSON`;

export interface SeedResult {
  seed: number;
  /** bpc, error % or accuracy % on the whole test split. */
  metric: number;
  bpc: number;
  kept: number;
  tokensPerSecond: number;
  peakRssMiB: number;
}

/** One model: the means over its seeds (peak memory: the largest), and each seed's figures. */
export interface CompareRow {
  name: string;
  /** bpc, error % or accuracy % on the whole test split. */
  metric: number;
  bpc: number;
  kept: number;
  tokensPerSecond: number;
  peakRssMiB: number;
  seeds: SeedResult[];
}

interface PlannedRun {
  name: string;
  /** The model's training flags (a --seed among them gives the first seed; each run sets its own). */
  argv: string[];
  /** The seeds to train with, and whether one was chosen (then each trains into OUT/NAME/seed-S). */
  seeds: number[];
  seeded: boolean;
}

interface Plan {
  label: string;
  data: string;
  out: string;
  json: boolean;
  jobs: number;
  runs: PlannedRun[];
}

const MAX_SEEDS = 100, MAX_JOBS = 64;

/** The integer value of a compare flag, in [1, max]. */
function count(flag: string, text: string, max: number): number {
  const n = Number(text);
  if (!/^\d+$/.test(text) || n < 1 || n > max) throw new CliError(`${flag} must be an integer in [1, ${max}], got "${text}"`);
  return n;
}

function plan(argv: string[]): Plan | null {
  let preset: (typeof PRESETS)[number] | undefined, out: string | undefined, json = false, seeds: number | undefined, jobs = 1;
  const runs: string[] = [], shared: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    const next = () => {
      if (i + 1 >= argv.length) throw new CliError(`${arg} needs a value`);
      return argv[++i];
    };
    if (arg === '--help' || arg === '-h') return null;
    else if (arg === '--json') json = true;
    else if (arg === '--out') out = next();
    else if (arg === '--seeds') seeds = count(arg, next(), MAX_SEEDS);
    else if (arg === '--jobs') jobs = count(arg, next(), MAX_JOBS);
    else if (arg === '--preset') {
      const name = next();
      preset = PRESETS.find((p) => p.name === name);
      if (!preset) throw new CliError(`--preset: no preset "${name}" (presets: ${PRESETS.map((p) => p.name).join(', ')})`);
    } else if (arg === '--run') runs.push(next());
    else shared.push(arg);
  }
  const known = preset?.runs ?? DEFAULT_RUNS;
  const chosen = runs.length > 0 ? chosenRuns(runs, known, preset?.name) : known;
  const sharedFlags = [...(preset?.data ? ['--data', preset.data] : []), ...(preset?.shared ?? []), ...shared];
  const label = preset?.name ?? new Date().toISOString().replace(/[:.]/g, '-');
  const outDir = out ?? join('compare', label);
  // Later flags win: the run's own over the shared ones (parseArgs keeps the last value).
  const planned = chosen.map((r): PlannedRun => {
    const argv = [...sharedFlags, ...r.flags], first = runFlags(r.name, argv).train.seed;
    const start = first ?? 1, list = Array.from({ length: seeds ?? 1 }, (_, i) => start + i);
    return { name: r.name, argv, seeds: list, seeded: first !== undefined || seeds !== undefined };
  });
  const data = runFlags(planned[0].name, planned[0].argv).train.data;
  if (!data) throw new CliError(`--data is required${preset ? ` (the ${preset.name} preset trains on a file of yours)` : ''}`);
  return { label, data, out: outDir, json, jobs, runs: planned };
}

/**
 * The runs given by --run: "NAME: FLAGS" a model of the user's, a bare "NAME" the preset's (or
 * the default) run of that name, so that a preset's comparison can be narrowed to some of its models.
 */
function chosenRuns(texts: string[], known: Run[], presetName: string | undefined): Run[] {
  const runs: Run[] = [];
  for (const text of texts) {
    const colon = text.indexOf(':'), name = (colon < 0 ? text : text.slice(0, colon)).trim();
    if (!/^[A-Za-z0-9._-]+$/.test(name)) throw new CliError(`--run "${text}": start with a name (letters, digits, . _ -), then a colon and the flags, e.g. "xl-256: --attn-lim 256" (a name alone picks a preset's run)`);
    if (runs.some((r) => r.name === name)) throw new CliError(`--run: two runs are named "${name}"`);
    if (colon >= 0) {
      runs.push({ name, flags: text.slice(colon + 1).split(/\s+/).filter((w) => w !== '') });
      continue;
    }
    const presetRun = known.find((r) => r.name === name);
    if (!presetRun) {
      const among = `${presetName ? `the ${presetName} preset's runs` : 'the default runs'} (${known.map((r) => r.name).join(', ')})`;
      throw new CliError(`--run "${text}": no run named "${name}" among ${among}; give a model of your own as "${name}: FLAGS"`);
    }
    runs.push(presetRun);
  }
  return runs;
}

/** A run's training flags, parsed; errors name the run. */
function runFlags(name: string, argv: string[]): ReturnType<typeof parseTrainFlags> {
  try {
    return parseTrainFlags(argv);
  } catch (e) {
    throw new CliError(`run ${name}: ${(e as Error).message}`);
  }
}

/** Checks every run's flags against the data before any training starts. */
function validate(p: Plan, corpus: Corpus): void {
  for (const run of p.runs) {
    const flags = runFlags(run.name, run.argv);
    try {
      if (flags.checkpoint || flags.out || flags.fullTest) throw new CliError('--checkpoint, --out and --full-test are set by compare');
      // Checked with the last seed: every seed before it is in range too.
      const options = makeTrainOptions({ ...flags.train, seed: run.seeds[run.seeds.length - 1] }), streams = Math.max(options.batchSz, options.testBatchSz);
      const config = makeConfig({ ...flags.model, vocabSize: corpus.vocab.size });
      checkTrainingFits(config, streams);
    } catch (e) {
      throw new CliError(`run ${run.name}: ${(e as Error).message}`);
    }
  }
}

const MAIN = fileURLToPath(new URL('./main.js', import.meta.url));

/** The children at work, so that a signal to compare reaches them too, and the signal that stopped compare. */
const running = new Set<ChildProcess>();
let stopBy: string | null = null;

/**
 * Runs `expire-span ARGS` in a process of its own. Its stdout: returned (`capture` true), printed
 * with every line prefixed (a string: runs side by side), or passed through (null).
 */
function child(args: string[], capture: boolean, prefix: string | null = null): Promise<string> {
  return new Promise((resolve, reject) => {
    // A process group of its own: a terminal's Ctrl-C reaches compare only, which passes it on once.
    const piped = capture || prefix !== null;
    const proc = spawn(process.execPath, [MAIN, ...args], { stdio: ['ignore', piped ? 'pipe' : 'inherit', 'inherit'], detached: true });
    running.add(proc);
    let out = '', partial = '';
    proc.stdout?.setEncoding('utf8').on('data', (chunk: string) => {
      if (capture) out += chunk;
      else {
        const lines = (partial + chunk).split('\n');
        partial = lines.pop()!;
        for (const line of lines) console.log(`${prefix}${line}`);
      }
    });
    proc.on('error', reject);
    proc.on('close', (code, signal) => {
      running.delete(proc);
      if (partial !== '') console.log(`${prefix}${partial}`);
      if (code === 0) resolve(out);
      else reject(new CliError(`\`expire-span ${args[0]}\` exited with ${code ?? signal}; see its messages above`));
    });
  });
}

const mean = (values: number[]) => values.reduce((a, b) => a + b, 0) / values.length;

/** Trains (or resumes, or reuses) one model with one seed and evaluates it on the test split. */
async function runSeed(p: Plan, run: PlannedRun, seed: number): Promise<SeedResult> {
  const dir = run.seeded ? join(p.out, run.name, `seed-${seed}`) : join(p.out, run.name);
  const argv = run.seeded ? [...run.argv, '--seed', String(seed)] : run.argv;
  // Side by side, every line says whose it is; one at a time, a header does.
  const prefix = p.jobs > 1 ? `[${run.name}${run.seeded ? ` seed ${seed}` : ''}] ` : null;
  if (!p.json) console.log(prefix ? `${prefix}expire-span train ${argv.join(' ')} --checkpoint ${dir}` : `\n== ${run.name}: expire-span train ${argv.join(' ')} --checkpoint ${dir}`);
  await child(['train', ...argv, '--checkpoint', dir], p.json, p.json ? null : prefix);
  if (stopBy) throw new CliError(`stopped by ${stopBy} while training ${run.name}${run.seeded ? ` (seed ${seed})` : ''}; run the same command to resume`);
  const test = JSON.parse((await child(['eval', '--checkpoint', dir, '--json'], true)).trim().split('\n').pop()!) as { value: number; bpc: number; kept: number[] };
  const epochs = readFileSync(join(dir, 'metrics.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l) as { tokens_per_s: number; peak_rss_mib: number });
  return {
    seed,
    metric: test.value,
    bpc: test.bpc,
    kept: mean(test.kept),
    tokensPerSecond: mean(epochs.map((e) => e.tokens_per_s)),
    peakRssMiB: Math.max(...epochs.map((e) => e.peak_rss_mib)),
  };
}

/** Every run of every model, at most p.jobs at a time; results in the plan's order. */
async function runAll(p: Plan): Promise<SeedResult[][]> {
  const tasks = p.runs.flatMap((run, r) => run.seeds.map((seed, s) => ({ run, r, seed, s })));
  const results: SeedResult[][] = p.runs.map((run) => new Array<SeedResult>(run.seeds.length));
  let nextTask = 0, failure: unknown = null;
  const worker = async () => {
    while (nextTask < tasks.length && !stopBy) {
      const t = tasks[nextTask++];
      try {
        results[t.r][t.s] = await runSeed(p, t.run, t.seed);
      } catch (e) {
        // The first failure is the one to report; runs beside it save where they are and stop.
        if (failure === null) {
          failure = e;
          stopBy ??= 'another run failing';
          for (const proc of running) proc.kill('SIGTERM');
        }
        return;
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(p.jobs, tasks.length) }, worker));
  if (failure !== null) throw failure;
  return results;
}

function summarise(run: PlannedRun, seeds: SeedResult[]): CompareRow {
  return {
    name: run.name,
    metric: mean(seeds.map((s) => s.metric)),
    bpc: mean(seeds.map((s) => s.bpc)),
    kept: mean(seeds.map((s) => s.kept)),
    tokensPerSecond: mean(seeds.map((s) => s.tokensPerSecond)),
    peakRssMiB: Math.max(...seeds.map((s) => s.peakRssMiB)),
    seeds,
  };
}

/** For labelled data: the metric of always answering the test split's most frequent target. */
function majority(corpus: Corpus): number | null {
  const labels = corpus.test.labels;
  if (!labels || corpus.metric === 'bpc') return null;
  const counts = new Map<number, number>();
  let scored = 0;
  for (const l of labels) if (l >= 0) (scored++, counts.set(l, (counts.get(l) ?? 0) + 1));
  if (scored === 0) return null;
  const accuracy = Math.max(...counts.values()) / scored;
  return 100 * (corpus.metric === 'error' ? 1 - accuracy : accuracy);
}

/** The comparison argv asks for, every run's flags checked against the data; null for --help. */
export function planComparison(argv: string[]): { plan: Plan; corpus: Corpus } | null {
  const p = plan(argv);
  if (!p) return null;
  const corpus = loadCorpus(p.data);
  validate(p, corpus);
  return { plan: p, corpus };
}

export async function compareCommand(argv: string[]): Promise<void> {
  const planned = planComparison(argv);
  if (!planned) return console.log(compareHelp);
  const { plan: p, corpus } = planned;
  // SIGINT / SIGTERM reach the run in progress (train saves and stops after its batch), then
  // compare stops; `kill PID` on compare alone would otherwise leave the child training.
  const onSignal = (signal: NodeJS.Signals) => {
    stopBy = signal;
    for (const proc of running) proc.kill(signal);
  };
  process.on('SIGINT', onSignal).on('SIGTERM', onSignal);
  const results = await runAll(p);
  const rows = p.runs.map((run, r) => summarise(run, results[r]));
  const baseline = majority(corpus);
  if (p.json) {
    console.log(JSON.stringify({ comparison: p.label, data: p.data, metric: corpus.metric, majority: baseline, runs: rows }, null, 2));
    return;
  }
  const label = metricLabel(corpus.metric), several = p.runs.some((r) => r.seeds.length > 1);
  const format = (x: number) => (corpus.metric === 'bpc' ? x.toFixed(3) : x.toFixed(1));
  console.log(`\n${p.label}: ${p.data} (test split; runs in ${p.out}${several ? `; means over ${p.runs[0].seeds.length} seeds` : ''})`);
  console.log(`${'model'.padEnd(18)}${label.padStart(12)}${'kept memories'.padStart(15)}${'tokens/s'.padStart(11)}${'peak RSS'.padStart(11)}${several ? '   per seed' : ''}`);
  for (const r of rows) {
    const perSeed = several ? `   ${r.seeds.map((s) => format(s.metric)).join(', ')}` : '';
    console.log(`${r.name.padEnd(18)}${format(r.metric).padStart(12)}${r.kept.toFixed(0).padStart(15)}${Math.round(r.tokensPerSecond).toLocaleString('en-US').padStart(11)}${`${r.peakRssMiB.toFixed(0)} MiB`.padStart(11)}${perSeed}`);
  }
  if (baseline !== null) console.log(`${'(majority answer)'.padEnd(18)}${baseline.toFixed(1).padStart(12)}`);
}
