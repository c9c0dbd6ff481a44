// The cases of commands-fuzz.test.ts, run in a child process so that a value let through by
// mistake into long synchronous work is stopped by the parent's timeout (node:test cannot
// interrupt synchronous work in its own process). Usage: node commands-fuzz-cases.js GROUP DIR,
// DIR holding the fixtures (see FIXTURES). Exits 1 with the failed assertion; before each case
// it writes "case: ARGV" to stderr, so that a timeout names the case that hung.
import assert from 'node:assert/strict';
import { writeSync } from 'node:fs';
import { join } from 'node:path';
import { benchCommand } from '../src/cli/bench.js';
import { planComparison } from '../src/cli/compare.js';
import { evalCommand } from '../src/cli/eval.js';
import { MODEL_FLAGS, TRAIN_FLAGS } from '../src/cli/flags.js';
import { generateCommand } from '../src/cli/generate.js';
import { inspectCommand } from '../src/cli/inspect.js';
import { rlCommand } from '../src/cli/rl.js';
import { loadCorpus } from '../src/data/corpus.js';
import { TASKS } from '../src/data/tasks/index.js';
import { kernels } from '../src/kernels/index.js';
import { ENVIRONMENTS } from '../src/rl/environments/index.js';

/** undefined: the flag given last, with no value. */
const BAD = [undefined, '', 'abc', 'NaN', 'Infinity', '-1', '0', '0.5', '1e30', '-1e30'];

export const TINY = ['--nlayers', '1', '--hid-sz', '8', '--inner-hid-sz', '8', '--nheads', '2', '--mem-sz', '4', '--attn-lim', '8', '--dropout', '0'];

/** What the parent prepares in DIR: a text, a trained model and an agent (argv for `expire-span`). */
export const FIXTURES = (dir: string) => ({
  text: join(dir, 'text.txt'),
  commands: [
    ['train', '--data', join(dir, 'text.txt'), ...TINY, '--expire-span', '--batch-sz', '2', '--test-batch-sz', '2', '--nbatches', '2', '--nepochs', '1', '--checkpoint', join(dir, 'model')],
    ['rl', '--env', 'corridor:length=3', ...TINY, '--updates', '1', '--envs', '2', '--eval-episodes', '0', '--checkpoint', join(dir, 'agent')],
  ],
});

/** Names the case about to run, past the silenced streams. */
const progress = (what: string) => writeSync(2, `case: ${what}\n`);

/** Runs a command with its output silenced; the error it throws, if any. */
function quietly(command: () => void): Error | null {
  const { log, error } = console, { write: out } = process.stdout, { write: err } = process.stderr;
  console.log = console.error = () => {};
  process.stdout.write = process.stderr.write = (() => true) as typeof process.stdout.write;
  try {
    command();
    return null;
  } catch (e) {
    return e as Error;
  } finally {
    Object.assign(console, { log, error });
    process.stdout.write = out;
    process.stderr.write = err;
    kernels.setThreads(1);
  }
}

/**
 * Gives each flag every bad value through `run(extra argv)`: refused naming the flag, or accepted
 * as a finite number. Returns what was accepted.
 */
function fuzzFlags(flags: string[], run: (argv: string[]) => void, separate = false): string[] {
  const accepted: string[] = [];
  for (const flag of flags) {
    for (const value of BAD) {
      const argv = value === undefined ? [`--${flag}`] : separate ? [`--${flag}`, value] : [`--${flag}=${value}`];
      progress(argv.join(' '));
      const error = quietly(() => run(argv));
      const what = `${argv.join(' ')}`;
      if (error === null) {
        assert.ok(value !== undefined && Number.isFinite(Number(value)) && value.trim() !== '', `${what} was accepted`);
        accepted.push(what);
        continue;
      }
      assert.ok(!(error instanceof TypeError || error instanceof RangeError), `${what}: ${error.stack}`);
      assert.ok(error.message.includes(`--${flag}`), `${what}: "${error.message}" does not name the flag`);
    }
  }
  // Absurd values never get through.
  assert.deepEqual(accepted.filter((a) => /1e30/.test(a)), []);
  if (process.env.EXPIRE_SPAN_FLAGS_REPORT) console.log(accepted.join(' '));
  return accepted;
}

/** The groups of cases, each run by its own child process. */
export const GROUPS: Record<string, (dir: string) => void> = {
  eval(dir) {
    fuzzFlags(['test-batch-sz', 'threads'], (argv) => evalCommand(['--checkpoint', join(dir, 'model'), ...argv]));
  },
  generate(dir) {
    fuzzFlags(['tokens', 'temperature', 'top-k', 'seed', 'threads'], (argv) => generateCommand(['--checkpoint', join(dir, 'model'), '--prompt', 'the', '--tokens', '3', ...argv]));
  },
  inspect(dir) {
    const out = join(dir, 'inspect');
    fuzzFlags(['limit', 'threads'], (argv) => inspectCommand(['--checkpoint', join(dir, 'model'), '--prompt', 'the fox', '--out', out, ...argv]));
    fuzzFlags(['limit', 'seed', 'threads'], (argv) => inspectCommand(['--checkpoint', join(dir, 'agent'), '--out', out, '--limit', '30', ...argv]));
  },
  rl(dir) {
    let n = 0;
    const own = ['envs', 'updates', 'seed', 'threads', 'log-every', 'eval-episodes', 'lr', 'gamma', 'lambda', 'entropy', 'value-coef', 'grad-clip'];
    const model = Object.entries(MODEL_FLAGS).filter(([, [, kind]]) => kind === 'int' || kind === 'real').map(([flag]) => flag);
    const base = ['--env', 'corridor:length=3', ...TINY, '--updates', '1', '--envs', '2', '--eval-episodes', '1'];
    const accepted = fuzzFlags([...own, ...model], (argv) => rlCommand([...base, '--expire-span', '--checkpoint', join(dir, `rl-${n++}`), ...argv]));
    assert.ok(accepted.includes('--entropy=0'), accepted.join(' '));
    fuzzFlags(['updates', 'threads', 'log-every', 'eval-episodes'], (argv) => rlCommand(['--checkpoint', join(dir, 'agent'), '--eval-episodes', '0', ...argv]));
  },
  compare(dir) {
    const numeric = Object.entries({ ...MODEL_FLAGS, ...TRAIN_FLAGS }).filter(([, [, kind]]) => kind === 'int' || kind === 'real').map(([flag]) => flag);
    fuzzFlags(numeric, (argv) => {
      planComparison(['--data', join(dir, 'text.txt'), ...TINY, ...argv, '--run', 'es: --expire-span', '--run', 'xl:']);
    });
  },
  bench(dir) {
    const text = join(dir, 'text.txt');
    const base = ['train', '--data', text, ...TINY, '--batch-sz', '2', '--batches', '1', '--warmup', '0', '--peak-gflops', '1'];
    for (const separate of [false, true]) fuzzFlags(['batches', 'warmup', 'peak-gflops'], (argv) => benchCommand([...base, ...argv]), separate);
    // No legal value among BAD: a scaling run never starts.
    assert.deepEqual(fuzzFlags(['lims'], (argv) => benchCommand(['scaling', '--data', text, '--batches', '1', ...argv])), []);
    assert.deepEqual(fuzzFlags(['batches'], (argv) => benchCommand(['scaling', '--data', text, '--lims', '8', ...argv])), []);
  },
  tasks() {
    for (const task of TASKS) {
      for (const option of [...task.options.map((o) => o.name), 'seed', 'train', 'valid', 'test']) {
        for (const value of BAD.slice(1)) {
          const spec = `task:${task.name}:train=3000,valid=2000,test=2000,${option}=${value}`;
          progress(spec);
          const error = quietly(() => loadCorpus(spec));
          if (error === null) {
            assert.ok(Number.isFinite(Number(value)) && value!.trim() !== '' && value !== '1e30', `${spec} was accepted`);
            continue;
          }
          assert.equal(error.name, 'DataError', `${spec}: ${error.stack}`);
          assert.ok(error.message.includes(option), `${spec}: "${error.message}" does not name ${option}`);
        }
      }
    }
  },
  environments(dir) {
    let n = 0;
    for (const env of ENVIRONMENTS) {
      for (const option of env.options.map((o) => o.name)) {
        for (const value of BAD.slice(1)) {
          const spec = `${env.name}:${option}=${value}`;
          progress(`--env ${spec}`);
          const error = quietly(() => rlCommand(['--env', spec, ...TINY, '--updates', '1', '--envs', '1', '--eval-episodes', '0', '--checkpoint', join(dir, `env-${n++}`)]));
          if (error === null) {
            assert.ok(Number.isFinite(Number(value)) && value!.trim() !== '' && value !== '1e30', `--env ${spec} was accepted`);
            continue;
          }
          assert.ok(!(error instanceof TypeError || error instanceof RangeError), `--env ${spec}: ${error.stack}`);
          assert.ok(error.message.includes(option), `--env ${spec}: "${error.message}" does not name ${option}`);
        }
      }
    }
  },
};

const [group, dir] = process.argv.slice(2);
if (group !== undefined) {
  if (!GROUPS[group] || !dir) throw new Error(`usage: commands-fuzz-cases.js (${Object.keys(GROUPS).join('|')}) DIR`);
  GROUPS[group](dir);
}
