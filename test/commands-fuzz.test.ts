// The numeric flags of eval, generate, inspect, rl, compare and bench, and the options of every
// task and environment, given missing, empty, non-numeric, negative, zero, fractional or absurd
// values: each is refused with an error that names the flag (or option), or is a legal finite
// value and the command runs (on tiny models and data, so a legal value costs little). Run
// in-process, as `expire-span` runs them.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
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

const CLI = join('dist', 'src', 'cli', 'main.js');
const dir = mkdtempSync(join(tmpdir(), 'commands-fuzz-'));
after(() => rmSync(dir, { recursive: true, force: true }));
const TINY = ['--nlayers', '1', '--hid-sz', '8', '--inner-hid-sz', '8', '--nheads', '2', '--mem-sz', '4', '--attn-lim', '8', '--dropout', '0'];
const text = join(dir, 'text.txt'), checkpoint = join(dir, 'model'), agent = join(dir, 'agent');

before(() => {
  writeFileSync(text, 'the quick brown fox jumps over the lazy dog\n'.repeat(40));
  for (const args of [
    ['train', '--data', text, ...TINY, '--expire-span', '--batch-sz', '2', '--test-batch-sz', '2', '--nbatches', '2', '--nepochs', '1', '--checkpoint', checkpoint],
    ['rl', '--env', 'corridor:length=3', ...TINY, '--updates', '1', '--envs', '2', '--eval-episodes', '0', '--checkpoint', agent],
  ]) {
    const r = spawnSync(process.execPath, [CLI, ...args], { encoding: 'utf8' });
    assert.equal(r.status, 0, r.stderr);
  }
});

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

// A value let through by mistake could start long work: the timeouts turn that into a failure.
describe('commands refuse bad numbers by name', { timeout: 120_000 }, () => {
  it('eval', () => {
    fuzzFlags(['test-batch-sz', 'threads'], (argv) => evalCommand(['--checkpoint', checkpoint, ...argv]));
  });

  it('generate', () => {
    fuzzFlags(['tokens', 'temperature', 'top-k', 'seed', 'threads'], (argv) => generateCommand(['--checkpoint', checkpoint, '--prompt', 'the', '--tokens', '3', ...argv]));
  });

  it('inspect, on a text and on an agent', () => {
    const out = join(dir, 'inspect');
    fuzzFlags(['limit', 'threads'], (argv) => inspectCommand(['--checkpoint', checkpoint, '--prompt', 'the fox', '--out', out, ...argv]));
    fuzzFlags(['limit', 'seed', 'threads'], (argv) => inspectCommand(['--checkpoint', agent, '--out', out, '--limit', '30', ...argv]));
  });

  it('rl: its own flags and the model flags, new and resumed', () => {
    let n = 0;
    const own = ['envs', 'updates', 'seed', 'threads', 'log-every', 'eval-episodes', 'lr', 'gamma', 'lambda', 'entropy', 'value-coef', 'grad-clip'];
    const model = Object.entries(MODEL_FLAGS).filter(([, [, kind]]) => kind === 'int' || kind === 'real').map(([flag]) => flag);
    const base = ['--env', 'corridor:length=3', ...TINY, '--updates', '1', '--envs', '2', '--eval-episodes', '1'];
    const accepted = fuzzFlags([...own, ...model], (argv) => rlCommand([...base, '--expire-span', '--checkpoint', join(dir, `rl-${n++}`), ...argv]));
    assert.ok(accepted.includes('--entropy=0'), accepted.join(' '));
    fuzzFlags(['updates', 'threads', 'log-every', 'eval-episodes'], (argv) => rlCommand(['--checkpoint', agent, '--eval-episodes', '0', ...argv]));
  });

  it('compare: every train flag, checked for every run before any training', () => {
    const numeric = Object.entries({ ...MODEL_FLAGS, ...TRAIN_FLAGS }).filter(([, [, kind]]) => kind === 'int' || kind === 'real').map(([flag]) => flag);
    fuzzFlags(numeric, (argv) => {
      planComparison(['--data', text, ...TINY, ...argv, '--run', 'es: --expire-span', '--run', 'xl:']);
    });
  });

  it('bench train and scaling', () => {
    const base = ['train', '--data', text, ...TINY, '--batch-sz', '2', '--batches', '1', '--warmup', '0', '--peak-gflops', '1'];
    for (const separate of [false, true]) fuzzFlags(['batches', 'warmup', 'peak-gflops'], (argv) => benchCommand([...base, ...argv]), separate);
    // No legal value among BAD: a scaling run never starts.
    assert.deepEqual(fuzzFlags(['lims'], (argv) => benchCommand(['scaling', '--data', text, '--batches', '1', ...argv])), []);
    assert.deepEqual(fuzzFlags(['batches'], (argv) => benchCommand(['scaling', '--data', text, '--lims', '8', ...argv])), []);
  });
});

describe('task and environment options refuse bad values by name', { timeout: 120_000 }, () => {
  const options = (specs: { name: string }[]) => specs.map((o) => o.name);

  it('every option of every task', () => {
    for (const task of TASKS) {
      for (const option of [...options(task.options), 'seed', 'train', 'valid', 'test']) {
        for (const value of BAD.slice(1)) {
          const spec = `task:${task.name}:train=3000,valid=2000,test=2000,${option}=${value}`;
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
  });

  it('every option of every environment', () => {
    let n = 0;
    for (const env of ENVIRONMENTS) {
      for (const option of options(env.options)) {
        for (const value of BAD.slice(1)) {
          const spec = `${env.name}:${option}=${value}`;
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
  });
});
