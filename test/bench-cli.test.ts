// The benchmark commands run and report what they promise (smoke tests: no timing is asserted).
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { describe, it } from 'node:test';

const CLI = join('dist', 'src', 'cli', 'main.js');
const run = (args: string[]) => spawnSync(process.execPath, [CLI, ...args], { encoding: 'utf8' });

describe('bench commands', () => {
  it('bench kernels --quick --json reports every gemm route and the call overhead', () => {
    const r = run(['bench', 'kernels', '--quick', '--json']);
    assert.equal(r.status, 0, r.stderr);
    const report = JSON.parse(r.stdout);
    assert.ok(report.gemm.length >= 2);
    for (const row of report.gemm) {
      assert.ok(row.gflops.ours > 0, JSON.stringify(row));
      if (report.kernels.backend === 'native') assert.ok(row.gflops.builtin > 0);
    }
    assert.ok(report.overheadNs['add(16), checked'] > 0);
  });

  it('bench train --json reports speed, memory, kept memories and share of peak', () => {
    const r = run(['bench', 'train', '--data', 'builtin:sources', '--expire-span', '--nlayers', '1', '--hid-sz', '16', '--inner-hid-sz', '16',
      '--nheads', '2', '--mem-sz', '8', '--attn-lim', '32', '--batch-sz', '2', '--batches', '3', '--warmup', '1', '--peak-gflops', '100', '--json']);
    assert.equal(r.status, 0, r.stderr);
    const report = JSON.parse(r.stdout);
    assert.equal(report.model, 'Expire-Span');
    assert.equal(report.batches, 3);
    assert.ok(report.tokensPerSecond > 0 && report.msPerBatch > 0 && report.peakRssMiB > 0);
    assert.equal(report.keptMemories.length, 1);
    assert.ok(report.keptMemories[0] >= 8, 'at least the block is kept');
    assert.equal(report.peakGflops, 100);
    assert.ok(report.shareOfPeak > 0);
  });

  it('bench train without --peak-gflops samples the peak between its batches', () => {
    const r = run(['bench', 'train', '--data', 'builtin:sources', '--nlayers', '1', '--hid-sz', '16', '--inner-hid-sz', '16',
      '--nheads', '2', '--mem-sz', '8', '--attn-lim', '16', '--batch-sz', '2', '--batches', '2', '--warmup', '0', '--json']);
    assert.equal(r.status, 0, r.stderr);
    const report = JSON.parse(r.stdout);
    assert.equal(report.peakSource, 'sgemm between batches');
    assert.ok(report.peakGflops > 0);
    assert.ok(Math.abs(report.shareOfPeak - report.gflopsPerSecond / report.peakGflops) < 1e-12);
  });

  it('refuses an unknown benchmark and bad counts by name', () => {
    const unknown = run(['bench', 'nothing']);
    assert.equal(unknown.status, 2);
    assert.match(unknown.stderr, /unknown benchmark "nothing" \(available: kernels, train, scaling\)/);
    const bad = run(['bench', 'train', '--data', 'builtin:sources', '--batches', '0']);
    assert.equal(bad.status, 2);
    assert.match(bad.stderr, /--batches must be an integer from 1 to 1000000, got "0"/);
  });
});
