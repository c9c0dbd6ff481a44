// The train and eval commands end to end: a run, its checkpoint, a resume after SIGKILL that
// continues the same trajectory, evaluation, and bad flags refused by name before any work.
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { readSafetensorsFile, writeSafetensorsFile } from '../src/io/file.js';

const CLI = join('dist', 'src', 'cli', 'main.js');
const dir = mkdtempSync(join(tmpdir(), 'train-'));
after(() => rmSync(dir, { recursive: true, force: true }));

const text = join(dir, 'text.txt');
writeFileSync(text, Array.from({ length: 3000 }, (_, i) => `line ${i % 97}: the quick brown fox ${i % 13} jumps\n`).join(''));
const FLAGS = ['train', '--data', text, '--nlayers', '2', '--hid-sz', '32', '--inner-hid-sz', '64', '--nheads', '2', '--mem-sz', '16', '--attn-lim', '64',
  '--batch-sz', '4', '--nbatches', '8', '--nepochs', '4', '--optim', 'adam', '--lr', '0.003', '--lr-warmup', '4', '--lr-decay', '--grad-clip', '0.5',
  '--dropout', '0.1', '--expire-span', '--expire-span-ramp', '8', '--expire-span-loss', '1e-4', '--expire-span-noisy', '--expire-span-layerdrop', '0.1'];

function run(args: string[]) {
  return spawnSync(process.execPath, [CLI, ...args], { encoding: 'utf8' });
}

const metrics = (d: string) => readFileSync(join(d, 'metrics.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
const trajectory = (d: string) => metrics(d).map((m) => [m.epoch, m.step, m.train_loss, m.valid_loss, m.kept_memories]);

describe('train and eval commands', () => {
  const whole = join(dir, 'whole');

  it('trains, writes a checkpoint and one metrics line per epoch', () => {
    const r = run([...FLAGS, '--checkpoint', whole]);
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, /Expire-Span: 2 layers, 32 wide/);
    assert.match(r.stdout, /epoch 4: train \d+\.\d+ bpc, valid \d+\.\d+ bpc, kept \d+\/\d+ memories per layer/);
    assert.match(r.stdout, new RegExp(`saved to ${whole.replace(/[/\\]/g, '.')}`));
    for (const f of ['model.safetensors', 'config.json', 'trainer.safetensors', 'metrics.jsonl']) assert.ok(existsSync(join(whole, f)), f);
    // Training curves, one point per epoch: the metric (train and valid), kept memories per layer, speed.
    const curves = readFileSync(join(whole, 'training-metric.svg'), 'utf8');
    assert.equal(curves.match(/<polyline /g)?.length, 2);
    assert.match(curves, /bits per character per epoch/);
    assert.equal(readFileSync(join(whole, 'training-kept.svg'), 'utf8').match(/<polyline /g)?.length, 2);
    assert.match(readFileSync(join(whole, 'training-speed.svg'), 'utf8'), /tokens\/s/);
    const m = metrics(whole);
    assert.equal(m.length, 4);
    assert.ok((m[3].train_loss as number) < (m[0].train_loss as number), 'it learns');
    const config = JSON.parse(readFileSync(join(whole, 'config.json'), 'utf8'));
    assert.equal(config.model.expireSpan, true);
    assert.deepEqual(config.vocab, { kind: 'bytes' });
  });

  it('resumes after SIGKILL on the same trajectory', async () => {
    const killed = join(dir, 'killed');
    const child = spawn(process.execPath, [CLI, ...FLAGS, '--checkpoint', killed], { stdio: 'ignore' });
    // Kill it as soon as two epochs are checkpointed.
    await new Promise<void>((resolve, reject) => {
      const done = (error?: Error) => {
        clearInterval(poll);
        clearTimeout(limit);
        if (error) reject(error);
        else resolve();
      };
      const poll = setInterval(() => {
        if (existsSync(join(killed, 'metrics.jsonl')) && metrics(killed).length >= 2) {
          child.kill('SIGKILL');
          done();
        }
      }, 5);
      const limit = setTimeout(() => done(new Error('no checkpoint after 60 s')), 60_000);
      child.on('exit', () => done());
    });
    await new Promise((resolve) => (child.exitCode !== null || child.signalCode !== null ? resolve(null) : child.on('exit', resolve)));
    const r = run([...FLAGS, '--checkpoint', killed]);
    assert.equal(r.status, 0, r.stderr);
    assert.deepEqual(trajectory(killed), trajectory(whole));
  });

  it('stops on SIGINT after the batch under way, saves, exits 0, and resumes on the same trajectory', async () => {
    const stopped = join(dir, 'stopped');
    const child = spawn(process.execPath, [CLI, ...FLAGS, '--checkpoint', stopped], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.on('data', (chunk) => {
      out += chunk;
      // Interrupt as soon as the first epoch is reported: the second is under way.
      if (out.includes('epoch 1:') && child.exitCode === null && !child.killed) child.kill('SIGINT');
    });
    const code = await new Promise<number | null>((resolve) => child.on('exit', (c) => resolve(c)));
    assert.equal(code, 0, out);
    const m = /stopped by SIGINT at update (\d+) \(epoch (\d), batch (\d) of 8\); saved to .*: resume with `expire-span train --checkpoint /.exec(out);
    assert.ok(m, out);
    assert.ok(Number(m[2]) >= 2, 'stopped after the first epoch');
    const r = run([...FLAGS, '--checkpoint', stopped]);
    assert.equal(r.status, 0, r.stderr);
    assert.deepEqual(trajectory(stopped), trajectory(whole));
  });

  it('a disk that fills while a checkpoint is written leaves the previous one whole and says so', () => {
    const full = join(dir, 'full');
    cpSync(whole, full, { recursive: true });
    const before = readFileSync(join(full, 'trainer.safetensors'));
    // A real write failure from the kernel: files may not grow past 64 KiB (EFBIG; Node ignores
    // SIGXFSZ), smaller than the checkpoint, as a full disk would cut it short.
    const limited = spawnSync('sh', ['-c', 'ulimit -f 64 && exec "$0" "$@"', process.execPath, CLI, ...FLAGS, '--nepochs', '6', '--checkpoint', full], { encoding: 'utf8' });
    assert.equal(limited.status, 1, limited.stdout + limited.stderr);
    assert.match(limited.stderr, /could not save a checkpoint at update 40: could not write .*trainer\.safetensors \(EFBIG\); its previous content is intact; the checkpoint in .* is still whole .*: make room and run the same command to resume/);
    assert.ok(readFileSync(join(full, 'trainer.safetensors')).equals(before), 'the checkpoint is unchanged');
    assert.deepEqual(readdirSync(full).filter((f) => f.endsWith('.tmp')), [], 'no temporary file is left');
    const resumed = run([...FLAGS, '--nepochs', '6', '--checkpoint', full]);
    assert.equal(resumed.status, 0, resumed.stderr);
    assert.deepEqual(trajectory(full).slice(0, 4), trajectory(whole));
    assert.equal(trajectory(full).length, 6);
  });

  it('stops when updates keep failing (non-finite), leaving the last checkpoint as it was', () => {
    const diverged = join(dir, 'diverged');
    cpSync(whole, diverged, { recursive: true });
    // Weights near the float32 limit (finite, so the file loads) overflow in the first product.
    const file = readSafetensorsFile(join(diverged, 'trainer.safetensors'));
    for (const [name, t] of file.tensors) if (name.startsWith('param.') && name.includes('.ff.')) (t.data as Float32Array).fill(3e38);
    writeSafetensorsFile(join(diverged, 'trainer.safetensors'), file.tensors, file.metadata);
    const before = readFileSync(join(diverged, 'trainer.safetensors'));
    const r = run([...FLAGS, '--nepochs', '6', '--max-nonfinite', '3', '--checkpoint', diverged]);
    assert.equal(r.status, 1, r.stdout + r.stderr);
    assert.match(r.stderr, /training stopped: 3 updates in a row had a non-finite loss or gradient \(after update \d+\); .*the last checkpoint in .* \(epoch 4\) is intact/);
    assert.ok(readFileSync(join(diverged, 'trainer.safetensors')).equals(before), 'the checkpoint is unchanged');
  });

  it('evaluates a checkpoint over a whole split', () => {
    const r = run(['eval', '--checkpoint', whole, '--split', 'valid', '--json'].slice(0));
    assert.equal(r.status, 0, r.stderr);
    const out = JSON.parse(r.stdout);
    assert.equal(out.split, 'valid');
    assert.ok(out.bpc > 0 && out.bpc < 8, `bpc ${out.bpc}`);
    assert.equal(out.tokens % 16, 0);
  });

  it('refuses bad flags and data by name, before any work', () => {
    const refused = (args: string[], pattern: RegExp) => {
      const r = run(args);
      assert.equal(r.status, 2, `${args.join(' ')}: ${r.stdout}${r.stderr}`);
      assert.match(r.stderr, pattern);
    };
    const base = ['train', '--data', text, '--checkpoint', join(dir, 'never')];
    refused([...base, '--nlayers', 'two'], /--nlayers must be a number, got "two"/);
    refused([...base, '--batch-sz', '0'], /--batch-sz must be an integer from 1/);
    refused([...base, '--lr=-1'], /--lr must be in \(0, 1000\], got -1/);
    refused([...base, '--hid-sz', '30', '--nheads', '4'], /--nheads: hid-sz 30 is not divisible by 4 heads/);
    refused([...base, '--mem-sz', '64', '--attn-lim', '32'], /--attn-lim: must be at least mem-sz \(64\)/);
    // Far more than any machine here has: refused with the estimate, before allocating the model.
    refused([...base, '--hid-sz', '8192', '--inner-hid-sz', '32768', '--nlayers', '64', '--attn-lim', '65536', '--batch-sz', '64'], /this config needs about [\d.]+ GiB to train with 64 streams, more than this machine's [\d.]+ GiB/);
    refused([...base, '--expire-span-ramp=-2'], /--expire-span-ramp: must be an integer from 1 to 16777216, got -2/);
    refused([...base, '--optim', 'rmsprop'], /--optim must be adam or sgd/);
    refused([...base, '--bogus', '1'], /unknown flag --bogus/);
    refused([...base, '--feedback'], /--feedback: that model is not implemented here/);
    refused(['train', '--nlayers', '2'], /--data is required/);
    refused(['train', '--data', join(dir, 'nope.txt')], /--data: cannot read ".*nope\.txt": ENOENT/);
    refused(['eval', '--checkpoint', join(dir, 'nothing')], /eval: no checkpoint in/);
    // A model that may look 16M steps back, evaluated on 4096 streams: refused with the estimate.
    const far = join(dir, 'far');
    const trained = run(['train', '--data', text, '--nlayers', '1', '--hid-sz', '8', '--inner-hid-sz', '8', '--nheads', '2', '--mem-sz', '4', '--attn-lim', '16777216', '--expire-span',
      '--batch-sz', '1', '--test-batch-sz', '1', '--nbatches', '2', '--nepochs', '1', '--checkpoint', far]);
    assert.equal(trained.status, 0, trained.stderr);
    refused(['eval', '--checkpoint', far, '--test-batch-sz', '4096'], /this model needs about [\d.]+ GiB to evaluate with 4096 streams, more than this machine's [\d.]+ GiB: lower --test-batch-sz/);
    refused([...FLAGS.slice(0, 3), '--hid-sz', '64', '--checkpoint', whole], /holds a model trained with hidSz = 32, not 64/);
    refused([...FLAGS.slice(0, 3), '--batch-sz', '8', '--checkpoint', whole], /was trained with --batch-sz 4; a resume keeps it/);
    assert.ok(!existsSync(join(dir, 'never')), 'nothing was written');
  });
});
