// Parity with the authors' PyTorch code on every golden file in ../shared/golden (DESIGN.md §3),
// through the library and through the `parity` command, which must also fail on a wrong file.
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { writeSafetensorsFile } from '../src/io/file.js';
import { parseSafetensors } from '../src/io/safetensors.js';
import { runParity } from '../src/train/parity.js';

const GOLDEN = join('..', 'shared', 'golden');
const files = existsSync(GOLDEN) ? readdirSync(GOLDEN).filter((f) => f.endsWith('.safetensors')).map((f) => join(GOLDEN, f)) : [];
const missing = files.length === 0 ? `no golden files in ${GOLDEN} (the shared folder is not beside this checkout)` : false;
const CLI = join('dist', 'src', 'cli', 'main.js');

describe('parity with the reference', { skip: missing }, () => {
  it('finds the four golden cases', () => {
    assert.deepEqual(files.map((f) => f.split(/[\\/]/).pop()).sort(), [
      'adaptive_span_postnorm.safetensors', 'compressive_postnorm.safetensors', 'expire_span_postnorm.safetensors', 'transformer_xl_postnorm.safetensors',
    ]);
  });

  for (const file of files) {
    it(`${file}: every tensor within 1e-4`, () => {
      const report = runParity(file);
      for (const g of report.groups) assert.ok(g.worst <= 1e-4, `${g.name}: ${g.worst} at ${g.where}`);
      const names = report.groups.map((g) => g.name);
      for (const group of ['logprobs', 'nll', 'aux', 'gradients', 'cache hidden', 'adam step']) assert.ok(names.includes(group), `${group} was not compared`);
      assert.ok(report.ok);
    });
  }

  it('the parity command passes on all of them and exits 0', () => {
    const out = execFileSync(process.execPath, [CLI, 'parity', ...files], { encoding: 'utf8' });
    assert.equal(out.match(/— PASS/g)?.length, files.length, out);
  });

  it('the parity command fails, naming the group, when a reference tensor is off by 1e-3', () => {
    const source = files.find((f) => f.includes('expire_span'))!;
    const { tensors, metadata } = parseSafetensors(readFileSync(source));
    const logprobs = tensors.get('block1.logprobs')!.data as Float32Array;
    logprobs[5] += 1e-3 * Math.max(...logprobs.map(Math.abs));
    const dir = mkdtempSync(join(tmpdir(), 'parity-'));
    try {
      const broken = join(dir, 'broken.safetensors');
      writeSafetensorsFile(broken, tensors, metadata);
      const run = spawnSync(process.execPath, [CLI, 'parity', broken], { encoding: 'utf8' });
      assert.equal(run.status, 1, run.stdout + run.stderr);
      assert.match(run.stdout, /FAIL logprobs +max rel err +1\.\d+e-3 .*block1\.logprobs/);
      assert.match(run.stdout, /ok {3}gradients/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
