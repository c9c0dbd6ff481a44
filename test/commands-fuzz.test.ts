// The numeric flags of eval, generate, inspect, rl, compare and bench, and the options of every
// task and environment, given missing, empty, non-numeric, negative, zero, fractional or absurd
// values: each is refused with an error that names the flag (or option), or is a legal finite
// value and the command runs (on tiny models and data, so a legal value costs little). The cases
// (commands-fuzz-cases.ts) run in-process, as `expire-span` runs them, in one child process per
// group: a value let through into long work then fails its group by timeout instead of hanging.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { FIXTURES, GROUPS } from './commands-fuzz-cases.js';

const CLI = join('dist', 'src', 'cli', 'main.js');
const CASES = fileURLToPath(new URL('./commands-fuzz-cases.js', import.meta.url));
const dir = mkdtempSync(join(tmpdir(), 'commands-fuzz-'));
after(() => rmSync(dir, { recursive: true, force: true }));

before(() => {
  const fixtures = FIXTURES(dir);
  writeFileSync(fixtures.text, 'the quick brown fox jumps over the lazy dog\n'.repeat(40));
  for (const args of fixtures.commands) {
    const r = spawnSync(process.execPath, [CLI, ...args], { encoding: 'utf8' });
    assert.equal(r.status, 0, r.stderr);
  }
});

describe('bad numbers and options are refused by name, never hang', () => {
  for (const group of Object.keys(GROUPS)) {
    it(group, () => {
      const r = spawnSync(process.execPath, [CASES, group, dir], { encoding: 'utf8', timeout: 120_000, env: process.env });
      const cases = r.stderr.split('\n').filter((l) => l.startsWith('case: '));
      const last = cases.at(-1) ?? '(none)';
      assert.ok(r.signal === null, `${group} did not finish in 120 s; the case under way: ${last}`);
      assert.equal(r.status, 0, `${group} failed at ${last}:\n${r.stderr.split('\n').filter((l) => !l.startsWith('case: ')).join('\n')}`);
      assert.ok(cases.length > 10, `${group} ran ${cases.length} cases`);
    });
  }
});
