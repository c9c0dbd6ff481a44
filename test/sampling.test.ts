// Drawing tokens: greedy at temperature 0, only the k most likely with top-k, and frequencies
// that follow exp(logprob / temperature).
import assert from 'node:assert/strict';
import { it } from 'node:test';
import { sampleToken } from '../src/model/sampling.js';
import { Random } from '../src/tensor/random.js';

const logprobs = Float32Array.from([0.1, 0.5, 0.3, 0.1].map(Math.log));

it('temperature 0 and top-k 1 take the most likely token', () => {
  for (const u of [0, 0.5, 0.999]) {
    assert.equal(sampleToken(logprobs, { temperature: 0, topK: 0 }, u), 1);
    assert.equal(sampleToken(logprobs, { temperature: 2, topK: 1 }, u), 1);
  }
});

it('draws with the model\'s probabilities at temperature 1, sharper below, only the top k with top-k', () => {
  const counts = (temperature: number, topK: number) => {
    const r = new Random(4), n = new Array(4).fill(0);
    for (let i = 0; i < 20000; i++) n[sampleToken(logprobs, { temperature, topK }, r.next())]++;
    return n.map((c) => c / 20000);
  };
  counts(1, 0).forEach((f, i) => assert.ok(Math.abs(f - [0.1, 0.5, 0.3, 0.1][i]) < 0.015, `token ${i}: ${f}`));
  // Temperature 0.5 squares the probabilities: 0.01, 0.25, 0.09, 0.01 over 0.36.
  counts(0.5, 0).forEach((f, i) => assert.ok(Math.abs(f - [0.01, 0.25, 0.09, 0.01][i] / 0.36) < 0.015, `token ${i}: ${f}`));
  const top2 = counts(1, 2);
  assert.equal(top2[0] + top2[3], 0);
  assert.ok(Math.abs(top2[1] - 0.625) < 0.015, `${top2[1]}`);
});
