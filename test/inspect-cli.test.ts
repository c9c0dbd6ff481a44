// generate and inspect end to end on small trained checkpoints: sampling reproducible by seed and
// streamed, inspection files consistent with each model's rules, bad input refused by name.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';

const CLI = join('dist', 'src', 'cli', 'main.js');
const dir = mkdtempSync(join(tmpdir(), 'inspect-'));
after(() => rmSync(dir, { recursive: true, force: true }));

const run = (args: string[]) => spawnSync(process.execPath, [CLI, ...args], { encoding: 'utf8' });
const text = join(dir, 'text.txt');
writeFileSync(text, Array.from({ length: 400 }, (_, i) => `step ${i % 31}: fox ${i % 7} jumps é\n`).join(''));
const sample = join(dir, 'sample.txt');
writeFileSync(sample, 'step 3: fox 4 jumps é\nstep 4: fox 5 jumps é\n'.repeat(8));

const MODELS: Record<string, string[]> = {
  'expire-span': ['--expire-span', '--expire-span-ramp', '8', '--expire-span-init-percentage', '0.2'],
  'transformer-xl': [],
  'adaptive-span': ['--adapt-span', '--adapt-span-len', '8', '--adapt-span-init', '0.3'],
};
const checkpoint = (name: string) => join(dir, name);

interface Numbers {
  model: string;
  attnLim: number;
  ramp: number;
  tokens: number[];
  layers: { spans: number[]; reach: number[]; kept: number[]; headSpans?: number[] }[];
}

before(() => {
  for (const [name, flags] of Object.entries(MODELS)) {
    const r = run(['train', '--data', text, '--nlayers', '2', '--hid-sz', '16', '--inner-hid-sz', '32', '--nheads', '2', '--mem-sz', '8', '--attn-lim', '48',
      '--batch-sz', '4', '--nbatches', '6', '--nepochs', '1', '--optim', 'adam', '--lr', '0.003', '--dropout', '0', ...flags, '--checkpoint', checkpoint(name)]);
    assert.equal(r.status, 0, r.stderr);
  }
});

describe('generate', () => {
  const base = ['generate', '--checkpoint', checkpoint('expire-span'), '--prompt', 'step 1', '--tokens', '40'];

  it('prints the prompt and the sample, the same for the same seed', () => {
    const a = run([...base, '--seed', '5']), b = run([...base, '--seed', '5']), c = run([...base, '--seed', '6', '--top-k', '3']);
    assert.equal(a.status, 0, a.stderr);
    assert.ok(a.stdout.startsWith('step 1'), a.stdout);
    assert.equal(a.stdout, b.stdout);
    assert.notEqual(a.stdout, c.stdout);
    assert.match(a.stderr, /\[40 tokens in [\d.]+ s; memories kept per layer: \d+\/\d+ after 45 tokens; seed 5\]/);
    // Greedy decoding does not depend on the seed.
    assert.equal(run([...base, '--temperature', '0', '--seed', '1']).stdout, run([...base, '--temperature', '0', '--seed', '2']).stdout);
  });

  it('refuses bad options by name', () => {
    for (const [args, message] of [
      [['--temperature=-1'], /--temperature must be a number from 0/],
      [['--tokens', 'many'], /--tokens must be an integer/],
      [['--top-k', '1.5'], /--top-k must be an integer/],
      [['--prompt', ''], /--prompt must hold at least one token/],
    ] as const) {
      const r = run([...base, ...args]);
      assert.equal(r.status, 2, `${args}: ${r.stderr}`);
      assert.match(r.stderr, message);
    }
    const none = run(['generate', '--checkpoint', join(dir, 'nowhere'), '--prompt', 'x']);
    assert.equal(none.status, 2);
    assert.match(none.stderr, /generate: no checkpoint in/);
  });
});

describe('inspect', () => {
  const inspect = (name: string) => {
    const out = join(dir, `out-${name}`);
    const r = run(['inspect', '--checkpoint', checkpoint(name), '--text', sample, '--out', out]);
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, /layer 2: mean span [\d.]+ of 48, holds \d+ memories on average/);
    return { out, numbers: JSON.parse(readFileSync(join(out, 'spans.json'), 'utf8')) as Numbers };
  };
  const bytes = readFileSync(sample);

  it('Expire-Span: per-token spans, and memories held as the spans say', () => {
    const { out, numbers } = inspect('expire-span');
    assert.equal(numbers.model, 'Expire-Span');
    assert.deepEqual(numbers.tokens, Array.from(bytes));
    assert.equal(numbers.layers.length, 2);
    for (const layer of numbers.layers) {
      assert.ok(layer.spans.every((s) => s > 0 && s < 48));
      assert.ok(new Set(layer.spans).size > 1, 'spans differ from token to token');
      layer.reach.forEach((r, i) => assert.equal(r, Math.ceil(layer.spans[i] + numbers.ramp) - 1));
      // Held at t: the earlier tokens i with t - i <= reach[i], counted directly.
      layer.kept.forEach((k, t) => assert.equal(k, layer.reach.filter((r, i) => i < t && t - i <= r).length, `t ${t}`));
    }
    const page = readFileSync(join(out, 'index.html'), 'utf8');
    assert.match(page, /What Expire-Span keeps/);
    // é is two bytes but one piece of text.
    assert.ok(page.includes('["é",20,2]'), 'the UTF-8 character is one piece');
    for (const svg of ['span-histogram.svg', 'kept-over-time.svg']) assert.equal(readFileSync(join(out, svg), 'utf8').match(/<polyline /g)?.length, 2, svg);
  });

  it('Transformer-XL: the window for every token', () => {
    const { numbers } = inspect('transformer-xl');
    for (const layer of numbers.layers) {
      assert.ok(layer.spans.every((s) => s === 48));
      layer.kept.forEach((k, t) => assert.equal(k, Math.min(t, 48)));
    }
  });

  it('Adaptive-Span: each head\'s span, the widest for every token', () => {
    const { numbers } = inspect('adaptive-span');
    for (const layer of numbers.layers) {
      assert.equal(layer.headSpans?.length, 2);
      assert.ok(layer.spans.every((s) => Math.abs(s - Math.max(...layer.headSpans!)) < 1e-3));
    }
  });

  it('refuses bad input by name', () => {
    for (const [args, message] of [
      [['--prompt', 'x', '--text', sample], /give either --text FILE or --prompt TEXT/],
      [['--text', join(dir, 'missing.txt')], /--text: cannot read .*missing.txt \(ENOENT\)/],
      [['--text', sample, '--limit', '10'], /more than --limit 10/],
    ] as const) {
      const r = run(['inspect', '--checkpoint', checkpoint('expire-span'), '--out', join(dir, 'bad'), ...args]);
      assert.equal(r.status, 2, `${args}: ${r.stderr}`);
      assert.match(r.stderr, message);
    }
  });
});
