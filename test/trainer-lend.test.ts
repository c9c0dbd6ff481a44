// Trainer.lendIdle: the training bench samples the machine's peak between updates in buffers the
// trainer lends; whatever is written there must not reach training.
import assert from 'node:assert/strict';
import { it } from 'node:test';
import { makeTrainOptions } from '../src/cli/flags.js';
import { loadCorpus } from '../src/data/corpus.js';
import { makeConfig } from '../src/model/config.js';
import { SequenceModel } from '../src/model/sequence-model.js';
import { Trainer, type Stats } from '../src/train/trainer.js';

const DATA = 'builtin:sources';

/** The statistics of `blocks` updates and the parameters after them; `between` runs after each. */
function train(blocks: number, between?: (trainer: Trainer) => void): { stats: Stats; params: Float32Array[] } {
  const corpus = loadCorpus(DATA);
  const config = makeConfig({ vocabSize: corpus.vocab.size, hidSz: 16, innerHidSz: 32, nlayers: 2, nheads: 2, memSz: 8, attnLim: 32, expireSpan: true, dropout: 0 });
  const model = new SequenceModel(config, 3);
  const trainer = new Trainer(model, corpus, makeTrainOptions({ data: DATA, batchSz: 2, nbatches: blocks, nepochs: 1, optim: 'adam', lr: 0.01 }));
  const stats = trainer.trainBlocks(blocks, () => between?.(trainer));
  assert.equal(trainer.step, blocks);
  return { stats, params: model.params.tensors.map((p) => Float32Array.from(p.data)) };
}

/** Borrows a buffer of each size at once (nested), filling each with NaN. */
function scribble(trainer: Trainer, sizes: number[]): number {
  if (sizes.length === 0) return 0;
  return trainer.lendIdle(sizes[0], (buffer) => {
    assert.equal(buffer.length, sizes[0]);
    buffer.fill(Number.NaN);
    return 1 + scribble(trainer, sizes.slice(1));
  });
}

it('buffers lent between updates and written over leave training unchanged', () => {
  // Sizes of the step's tensors and gradients (16 rows of 16 features, the feed-forward's 32
  // features, the memories and scores), three buffers each: the pool hands these out next step.
  const sizes = [256, 256, 256, 512, 512, 512, 1024, 1024, 1024, 2048, 2048, 4096];
  let lent = 0;
  const plain = train(6);
  const scribbled = train(6, (trainer) => (lent += scribble(trainer, sizes)));
  assert.equal(lent, 6 * sizes.length);
  assert.deepEqual(scribbled.stats, plain.stats);
  assert.ok(Number.isFinite(plain.stats.loss) && plain.stats.loss > 0);
  plain.params.forEach((p, i) => assert.deepEqual(scribbled.params[i], p, `parameter ${i}`));
});

it('a lent buffer goes back to the trainer even when its user throws', () => {
  const corpus = loadCorpus(DATA);
  const model = new SequenceModel(makeConfig({ vocabSize: corpus.vocab.size, hidSz: 8, innerHidSz: 8, nlayers: 1, nheads: 2, memSz: 4, attnLim: 8 }));
  const trainer = new Trainer(model, corpus, makeTrainOptions({ data: DATA, batchSz: 1, nbatches: 1, nepochs: 1 }));
  let first: Float32Array | undefined;
  assert.throws(() => trainer.lendIdle(1000, (buffer) => {
    first = buffer;
    throw new Error('sampler failed');
  }), /sampler failed/);
  // The pool hands the same buffer out again: it was given back.
  trainer.lendIdle(1000, (buffer) => assert.equal(buffer.buffer, first!.buffer));
});
