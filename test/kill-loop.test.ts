// Crash safety: a real training process killed with SIGKILL at random moments (checkpoint writes
// included: tiny epochs checkpoint every few milliseconds) always leaves a loadable checkpoint,
// and resuming after every kill ends on the trajectory of a run never interrupted.
// EXPIRE_SPAN_KILLS=N kills N times (default 8).
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, it } from 'node:test';
import { Random } from '../src/tensor/random.js';
import { hasCheckpoint, loadCheckpoint } from '../src/train/checkpoint.js';

const CLI = join('dist', 'src', 'cli', 'main.js');
const KILLS = Number(process.env.EXPIRE_SPAN_KILLS ?? 8);
const dir = mkdtempSync(join(tmpdir(), 'kill-'));
after(() => rmSync(dir, { recursive: true, force: true }));

const text = join(dir, 'text.txt');
writeFileSync(text, Array.from({ length: 2000 }, (_, i) => `row ${i % 31}: kill me ${i % 7} softly\n`).join(''));
// Long enough that no run of KILLS kills (each at most 750 ms after its start) can finish it:
// uninterrupted it takes about 6 s on a fast 2-core machine (with 40 epochs per kill, 2 s, and
// there it finished before the eighth kill).
const flags = (checkpoint: string) => ['train', '--data', text, '--nlayers', '1', '--hid-sz', '16', '--inner-hid-sz', '32', '--nheads', '2', '--mem-sz', '8',
  '--attn-lim', '16', '--batch-sz', '2', '--nbatches', '3', '--nepochs', String(120 * Math.max(8, KILLS)), '--optim', 'adam', '--lr', '0.003', '--dropout', '0.1', '--expire-span', '--checkpoint', checkpoint];
const trajectory = (d: string) => readFileSync(join(d, 'metrics.jsonl'), 'utf8').trim().split('\n').map((l) => {
  const m = JSON.parse(l);
  return [m.epoch, m.step, m.train_loss, m.valid_loss];
});

it(`survives ${KILLS} SIGKILLs at random moments and ends on the uninterrupted trajectory`, { timeout: 600_000 }, async () => {
  const whole = join(dir, 'whole'), killed = join(dir, 'killed');
  assert.equal(spawnSync(process.execPath, [CLI, ...flags(whole)], { encoding: 'utf8' }).status, 0);
  const r = new Random(7);
  let kills = 0;
  for (let attempt = 0; kills < KILLS && attempt < KILLS * 4; attempt++) {
    const child = spawn(process.execPath, [CLI, ...flags(killed)], { stdio: 'ignore' });
    const delay = 150 + (r.nextUint32() % 600);
    const timer = setTimeout(() => child.kill('SIGKILL'), delay);
    const signal = await new Promise<string | null>((resolve) => child.on('exit', (_, s) => resolve(s)));
    clearTimeout(timer);
    if (signal === 'SIGKILL') kills++;
    // Whatever the moment, what is on disk loads.
    if (hasCheckpoint(killed)) assert.doesNotThrow(() => loadCheckpoint(killed), `after a kill at ${delay} ms`);
    if (signal === null) break; // it finished before being killed
  }
  if (process.env.EXPIRE_SPAN_KILLS_REPORT) console.log(`${kills} kills, then ${trajectory(killed).length} epochs`);
  assert.equal(kills, KILLS, 'every kill landed before the run could finish');
  const rest = spawnSync(process.execPath, [CLI, ...flags(killed)], { encoding: 'utf8' });
  assert.equal(rest.status, 0, rest.stderr);
  assert.ok(existsSync(join(killed, 'metrics.jsonl')));
  assert.deepEqual(trajectory(killed), trajectory(whole));
});
