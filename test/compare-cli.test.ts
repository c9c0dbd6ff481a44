// `expire-span compare` end to end on a tiny task: one table (JSON) with a row per run, every run
// trained in its own folder, a second invocation reusing them, and bad run flags refused first.
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';

const CLI = join('dist', 'src', 'cli', 'main.js');
const dir = mkdtempSync(join(tmpdir(), 'compare-'));
after(() => rmSync(dir, { recursive: true, force: true }));

const run = (args: string[]) => spawnSync(process.execPath, [CLI, 'compare', ...args], { encoding: 'utf8' });
const SHARED = ['--data', 'task:needle:gap=20,jitter=5,train=20000,valid=2000,test=2000', '--nlayers', '1', '--hid-sz', '16', '--inner-hid-sz', '32', '--nheads', '2',
  '--mem-sz', '8', '--batch-sz', '4', '--nbatches', '5', '--nepochs', '2', '--optim', 'adam', '--lr', '0.003', '--dropout', '0', '--test-batch-sz', '4', '--threads', '1'];

interface Table {
  metric: string;
  majority: number;
  runs: { name: string; metric: number; bpc: number; kept: number; tokensPerSecond: number; peakRssMiB: number; seeds: { seed: number; metric: number; bpc: number }[] }[];
}

describe('compare command', () => {
  const out = join(dir, 'needle');
  const args = [...SHARED, '--out', out, '--json', '--run', 'expire: --expire-span --attn-lim 64 --expire-span-ramp 4', '--run', 'xl-16: --attn-lim 16'];
  let first: Table;

  it('trains every run and prints one row each, with the majority answer for labelled data', () => {
    const r = run(args);
    assert.equal(r.status, 0, r.stderr);
    first = JSON.parse(r.stdout) as Table;
    assert.equal(first.metric, 'accuracy');
    assert.deepEqual(first.runs.map((x) => x.name), ['expire', 'xl-16']);
    for (const row of first.runs) {
      assert.ok(row.metric >= 0 && row.metric <= 100 && Number.isFinite(row.bpc), JSON.stringify(row));
      assert.ok(row.tokensPerSecond > 0 && row.peakRssMiB > 10, JSON.stringify(row));
      assert.ok(existsSync(join(out, row.name, 'model.safetensors')));
    }
    assert.equal(first.runs[1].kept, 16, 'Transformer-XL keeps exactly attn-lim memories');
    assert.ok(first.runs[0].kept > 8, 'Expire-Span keeps its block and more');
    assert.ok(first.majority > 0 && first.majority < 100);
  });

  it('a second run reuses the trained models and reports the same results', () => {
    const r = run(args);
    assert.equal(r.status, 0, r.stderr);
    const again = JSON.parse(r.stdout) as Table;
    assert.deepEqual(again.runs.map((x) => [x.metric, x.kept]), first.runs.map((x) => [x.metric, x.kept]));
  });

  it('--seeds trains each model once per seed, each into its own folder, and reports the means; --jobs trains them side by side', () => {
    const out2 = join(dir, 'seeds');
    const r = run([...SHARED, '--out', out2, '--json', '--seed', '5', '--seeds', '2', '--run', 'xl-16: --attn-lim 16']);
    assert.equal(r.status, 0, r.stderr);
    const [row] = (JSON.parse(r.stdout) as Table).runs;
    assert.deepEqual(row.seeds.map((s) => s.seed), [5, 6]);
    for (const s of row.seeds) assert.ok(existsSync(join(out2, 'xl-16', `seed-${s.seed}`, 'model.safetensors')), `seed ${s.seed} trained in its own folder`);
    assert.notEqual(row.seeds[0].bpc, row.seeds[1].bpc, 'the seeds train different models');
    assert.equal(row.metric, (row.seeds[0].metric + row.seeds[1].metric) / 2);
    assert.equal(row.bpc, (row.seeds[0].bpc + row.seeds[1].bpc) / 2);
    assert.match(run([...SHARED, '--seeds', '0']).stderr, /--seeds must be an integer in \[1, 100\], got "0"/);

    // Two at a time: the same models (each run is deterministic), every line marked with its run.
    const out3 = join(dir, 'jobs'), side = [...SHARED, '--out', out3, '--seed', '5', '--seeds', '2', '--jobs', '2', '--run', 'xl-16: --attn-lim 16'];
    const both = run([...side, '--json']);
    assert.equal(both.status, 0, both.stderr);
    const pick = (seeds: Table['runs'][number]['seeds']) => seeds.map((s) => [s.seed, s.metric, s.bpc]);
    assert.deepEqual(pick((JSON.parse(both.stdout) as Table).runs[0].seeds), pick(row.seeds));
    const shown = run(side);
    assert.equal(shown.status, 0, shown.stderr);
    assert.match(shown.stdout, /^\[xl-16 seed 6\] /m);
    assert.match(shown.stdout, /per seed/);
    assert.match(run([...SHARED, '--jobs', 'two']).stderr, /--jobs must be an integer in \[1, 64\], got "two"/);
  });

  it('refuses a bad run before training anything, naming the run', () => {
    const r = run([...SHARED, '--out', join(dir, 'bad'), '--run', 'ok: --expire-span', '--run', 'broken: --attn-lim -3']);
    assert.equal(r.status, 2);
    assert.match(r.stderr, /run broken: .*attn-lim/);
    assert.equal(existsSync(join(dir, 'bad', 'ok')), false);
    assert.match(run(['--preset', 'nope']).stderr, /--preset: no preset "nope" \(presets: copy, needle, collision, char\)/);
    assert.match(run(['--preset', 'char']).stderr, /--data is required \(the char preset trains on a file of yours\)/);
  });

  it('a bare --run NAME picks that run of the preset, with its flags, and refuses a name the preset lacks', () => {
    // The copy preset's transformer-xl run has --attn-lim 180 (the default is 64); shared flags
    // after the preset shrink everything else (later flags win, and the run's own come last).
    const small = ['--preset', 'copy', ...SHARED, '--out', join(dir, 'picked'), '--json'];
    const r = run([...small, '--run', 'transformer-xl']);
    assert.equal(r.status, 0, r.stderr);
    const rows = (JSON.parse(r.stdout) as Table).runs;
    assert.deepEqual(rows.map((x) => [x.name, x.kept]), [['transformer-xl', 180]]);
    const bad = run([...small, '--run', 'transformer-xl', '--run', 'adaptive-span']);
    assert.equal(bad.status, 2);
    assert.match(bad.stderr, /--run "adaptive-span": no run named "adaptive-span" among the copy preset's runs \(expire-span, transformer-xl\); give a model of your own as "adaptive-span: FLAGS"/);
  });

  it('passes SIGTERM on to the run in progress, which saves and stops, then stops itself', async () => {
    const out2 = join(dir, 'stopped');
    // Far more training than the 300 ms before the signal: on a fast machine 2 x 400 batches had
    // finished by then, and the signal reached the evaluation instead.
    const endless = SHARED.map((a, i) => (SHARED[i - 1] === '--nbatches' ? '400' : SHARED[i - 1] === '--nepochs' ? '1000' : a));
    const long = [...endless, '--out', out2, '--run', 'expire: --expire-span --attn-lim 64'];
    const proc = spawn(process.execPath, [CLI, 'compare', ...long], { stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    const signalled = new Promise<void>((resolve) => {
      const onData = (chunk: Buffer) => {
        output += chunk;
        if (/Expire-Span: 1 layers/.test(output)) {
          setTimeout(() => (proc.kill('SIGTERM'), resolve()), 300);
          proc.stdout!.off('data', onData);
        }
      };
      proc.stdout!.on('data', onData);
    });
    proc.stderr!.on('data', (chunk) => (output += chunk));
    await signalled;
    const code = await new Promise<number | null>((resolve) => proc.on('close', resolve));
    assert.equal(code, 2, output);
    assert.match(output, /stopped by SIGTERM while training expire; run the same command to resume/);
    const checkpoint = join(out2, 'expire', 'trainer.safetensors');
    assert.ok(existsSync(checkpoint), 'the run saved where it stopped');
    const saved = readFileSync(checkpoint);
    await new Promise((resolve) => setTimeout(resolve, 800));
    assert.ok(readFileSync(checkpoint).equals(saved), 'nothing trains on after compare stopped');
  });
});
