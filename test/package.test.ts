// The package entry point (package.json "exports") loads and offers the library API.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { it } from 'node:test';

it('the "." export loads and exposes the model, memory, training and I/O API', async () => {
  const pkg = JSON.parse(readFileSync('package.json', 'utf8')) as { exports: { '.': { default: string; types: string } } };
  const api = await import(`../../${pkg.exports['.'].default.replace(/^\.\//, '')}`);
  for (const name of ['SequenceModel', 'MemoryState', 'makeConfig', 'Tape', 'Tensor', 'ops', 'kernels', 'loadCorpus', 'Trainer', 'saveCheckpoint', 'loadCheckpoint', 'runParity', 'parseSafetensors', 'ModelStream', 'sampleToken', 'inspectTokens', 'inspectPage']) {
    assert.ok(api[name], `${name} is exported`);
  }
  const config = api.makeConfig({ vocabSize: 5, hidSz: 8, innerHidSz: 8, nlayers: 1, nheads: 2, memSz: 2, attnLim: 4, expireSpan: true });
  const model = new api.SequenceModel(config);
  const memory = model.initialMemory(1);
  const result = model.forward(new api.Tape(), Int32Array.of(1, 2), Int32Array.of(2, 3), memory, { training: false });
  assert.equal(result.logprobs.shape.join(), '2,5');
  // The same model as a stream, one token at a time.
  const stream = new api.ModelStream(model);
  assert.equal(stream.push([1]).logprobs.length, 5);
  assert.deepEqual(Array.from(stream.push([2]).logprobs), Array.from(result.logprobs.data.subarray(5, 10)));
});
