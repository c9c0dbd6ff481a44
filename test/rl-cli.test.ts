// The rl command end to end: progress lines, checkpoints, resume, greedy evaluation, inspecting an
// episode, and bad flags refused by name before any work.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';

const CLI = join('dist', 'src', 'cli', 'main.js');
const dir = mkdtempSync(join(tmpdir(), 'rl-'));
after(() => rmSync(dir, { recursive: true, force: true }));
const run = (args: string[]) => spawnSync(process.execPath, [CLI, ...args], { encoding: 'utf8' });
const SMALL = ['--nlayers', '1', '--hid-sz', '16', '--inner-hid-sz', '32', '--nheads', '2', '--mem-sz', '8', '--attn-lim', '16', '--envs', '4', '--log-every', '10'];

describe('rl command', () => {
  const agent = join(dir, 'agent');

  it('trains, reports, checkpoints, resumes and evaluates', () => {
    const first = run(['rl', '--env', 'corridor:length=3', '--expire-span', ...SMALL, '--updates', '20', '--eval-episodes', '5', '--checkpoint', agent]);
    assert.equal(first.status, 0, first.stderr);
    assert.match(first.stdout, /Expire-Span agent on corridor:length=3: 1 layers, 16 wide, attn-lim 16, 4 environments, 20 updates of 8 steps; chance 50.0%/);
    assert.match(first.stdout, /update 20\/20: \d+ episodes, mean return -?[\d.]+, success [\d.]+% \(chance 50.0%\), kept \d+ memories per layer/);
    assert.match(first.stdout, /greedy evaluation, 5 episodes: success [\d.]+%/);
    const again = run(['rl', '--checkpoint', agent, '--updates', '30', '--eval-episodes', '0']);
    assert.equal(again.status, 0, again.stderr);
    assert.match(again.stdout, /resuming .* at update 20 of 30 \(corridor:length=3\)/);
    assert.match(again.stdout, /update 30\/30/);
    const lines = readFileSync(join(agent, 'metrics.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l));
    assert.deepEqual(lines.map((l) => l.update), [10, 20, 30]);
  });

  it('inspect shows an episode the agent plays', () => {
    const out = join(dir, 'episode');
    const r = run(['inspect', '--checkpoint', agent, '--out', out, '--seed', '3']);
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, /episode: 4 steps, return -?[\d.]+, [01] of 1 trials succeeded/);
    const numbers = JSON.parse(readFileSync(join(out, 'spans.json'), 'utf8'));
    assert.equal(numbers.tokens.length, 4, 'the cue, two corridor cells, the junction');
    assert.equal(numbers.episode.actions.length, 4);
    assert.match(readFileSync(join(out, 'index.html'), 'utf8'), /an episode of corridor:length=3 \(seed 3\)/);
  });

  it('refuses bad flags by name', () => {
    for (const [args, message] of [
      [['--env', 'maze'], /unknown environment "maze"/],
      [['--env', 'corridor', '--gamma', '2'], /--gamma must be a number from 0 to 1, got "2"/],
      [['--env', 'corridor', '--envs', '0'], /--envs must be an integer from 1/],
      [['--env', 'corridor', '--compress'], /the Compressive Transformer is not supported as a policy/],
      [['--env', 'corridor', '--lr'], /argument missing|--lr/],
      [['--env', 'corridor', '--bogus'], /unknown flag --bogus/],
      [['--env', 'corridor', '--hid-sz', '8192', '--inner-hid-sz', '32768', '--nlayers', '64', '--attn-lim', '65536', '--envs', '4096'], /this agent needs about [\d.]+ GiB to train with 4096 environments/],
    ] as const) {
      const r = run(['rl', ...args, '--checkpoint', join(dir, 'bad')]);
      assert.equal(r.status, 2, `${args}: ${r.stderr}`);
      assert.match(r.stderr, message);
    }
    const none = run(['rl', '--env', 'corridor']);
    assert.match(none.stderr, /--checkpoint DIR is required/);
  });
});
