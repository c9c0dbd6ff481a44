// The tensor layer: each op's recorded backward against finite differences of its forward, run
// on the active kernels (float32, so the tolerance is looser than the kernel-level float64
// checks: a wiring mistake is an O(1) error, rounding is ~1e-3), plus shape errors and reuse.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ShapeError, add, crossEntropy, dropout, embedding, layerNorm, linear, logSoftmax, matmul, mul, relu, reshape, scale, softmax, sum } from '../src/tensor/ops.js';
import { BufferPool } from '../src/tensor/buffer-pool.js';
import { Tape } from '../src/tensor/tape.js';
import { Tensor, type Shape } from '../src/tensor/tensor.js';
import { assertClose, randomArray, randomInt, rng } from './helpers.js';

const random = rng(7);
const input = (shape: Shape, lo = -1, hi = 1) => Tensor.from(randomArray(random, shape.reduce((a, b) => a * b, 1), lo, hi), shape, true);

/**
 * Checks d(sum(r * f(inputs)))/d(input) from the tape against central differences, for every
 * element of every input. `f` must build its output on the tape it is given.
 */
function gradcheck(name: string, inputs: Tensor[], f: (t: Tape) => Tensor, eps = 1e-2, rtol = 2e-2, atol = 2e-3): void {
  for (const x of inputs) x.grad!.fill(0);
  const tape = new Tape();
  const out = f(tape);
  const r = randomArray(random, out.size);
  const weights = new Tensor(r, out.shape);
  tape.backward(sum(tape, mul(tape, out, weights)));
  const analytic = inputs.map((x) => Float32Array.from(x.grad!));
  tape.reset();

  const evalTape = new Tape();
  evalTape.recording = false;
  const loss = () => {
    const y = f(evalTape);
    let s = 0;
    for (let i = 0; i < y.size; i++) s += r[i] * y.data[i];
    evalTape.reset();
    return s;
  };
  inputs.forEach((x, which) => {
    const numeric = new Float64Array(x.size);
    for (let i = 0; i < x.size; i++) {
      const keep = x.data[i];
      x.data[i] = keep + eps;
      const up = loss();
      x.data[i] = keep - eps;
      const down = loss();
      x.data[i] = keep;
      numeric[i] = (up - down) / (2 * eps);
    }
    assertClose(analytic[which], numeric, `${name}: gradient of input ${which}`, rtol, atol);
  });
}

describe('tensor ops: backward matches finite differences', () => {
  it('add, mul, scale, relu, reshape', () => {
    const a = input([3, 4]), b = input([3, 4]);
    gradcheck('add', [a, b], (t) => add(t, a, b));
    gradcheck('mul', [a, b], (t) => mul(t, a, b));
    gradcheck('scale', [a], (t) => scale(t, a, -1.5));
    const away = Tensor.from(randomArray(random, 12).map((v) => (v < 0 ? v - 0.2 : v + 0.2)), [3, 4], true);
    gradcheck('relu', [away], (t) => relu(t, away));
    gradcheck('relu in place of a temporary', [away], (t) => relu(t, scale(t, away, 1.5), true));
    gradcheck('reshape', [a, b], (t) => mul(t, reshape(t, a, [4, 3]), reshape(t, b, [4, 3])));
  });

  it('dropout with a fixed seed', () => {
    const x = input([4, 5]);
    gradcheck('dropout', [x], (t) => dropout(t, x, 0.4, 99));
  });

  it('a tensor used twice gets both gradients', () => {
    const a = input([5]);
    gradcheck('a * a + a', [a], (t) => add(t, mul(t, a, a), a));
  });

  it('matmul: 2-D and batched, all transposes', () => {
    for (const transA of [false, true]) {
      for (const transB of [false, true]) {
        const [m, n, k] = [3, 5, 4];
        const a2 = input(transA ? [k, m] : [m, k]), b2 = input(transB ? [n, k] : [k, n]);
        gradcheck(`matmul transA=${transA} transB=${transB}`, [a2, b2], (t) => matmul(t, a2, b2, { transA, transB }));
        const a3 = input(transA ? [2, k, m] : [2, m, k]), b3 = input(transB ? [2, n, k] : [2, k, n]);
        gradcheck(`batched matmul transA=${transA} transB=${transB}`, [a3, b3], (t) => matmul(t, a3, b3, { transA, transB }));
      }
    }
  });

  it('linear with and without bias, on 3-D input', () => {
    const x = input([2, 3, 4]), w = input([5, 4]), b = input([5]);
    gradcheck('linear', [x, w, b], (t) => linear(t, x, w, b));
    gradcheck('linear without bias', [x, w], (t) => linear(t, x, w));
    const r = input([2, 3, 5]);
    gradcheck('linear plus a residual', [x, w, b, r], (t) => linear(t, x, w, b, r));
    const t = new Tape();
    assertClose(linear(t, x, w, b, r).data, add(t, r, linear(t, x, w, b)).data, 'residual + x W^T + b');
    assert.throws(() => linear(t, x, w, b, input([3, 5])), /linear: residual \[3, 5\] is not \[2, 3, 5\]/);
  });

  it("linear computes the input gradient only on a packing's block rows, straight into the block's gradient", () => {
    const x = input([7, 4]), w = input([3, 4]);
    // Two streams: rows 0-3 (block: 2-3) and 4-6 (block: 5-6), copies of the block's rows 0-3.
    const offsets = Int32Array.of(0, 4, 7);
    const full = new Tape();
    full.backward(sum(full, linear(full, x, w)));
    const expected = Float32Array.from(x.grad!);
    w.grad!.fill(0);
    const block = input([4, 4]);
    block.grad!.fill(1);
    const packed = new Tape().tensor([7, 4], true);
    packed.data.set(x.data);
    packed.gradRows = { offsets, length: 2, source: block };
    const tails = new Tape();
    tails.backward(sum(tails, linear(tails, packed, w)));
    assert.equal(packed.grad, null, 'no gradient buffer for the packing');
    [2, 3, 5, 6].forEach((row, i) => assertClose(block.grad!.subarray(i * 4, i * 4 + 4), expected.subarray(row * 4, row * 4 + 4).map((v) => v + 1), `row ${row}`));
  });

  it('layer norm', () => {
    const x = input([4, 6], -2, 2), w = input([6]), b = input([6]);
    gradcheck('layerNorm', [x, w, b], (t) => layerNorm(t, x, w, b), 1e-2, 3e-2, 5e-3);
  });

  it('softmax and log-softmax', () => {
    const x = input([3, 5], -2, 2);
    gradcheck('softmax', [x], (t) => softmax(t, x));
    gradcheck('logSoftmax', [x], (t) => logSoftmax(t, x));
  });

  it('cross-entropy with a left-out position', () => {
    const logits = input([4, 6], -2, 2);
    const targets = Int32Array.of(1, -1, 5, 0);
    gradcheck('crossEntropy', [logits], (t) => crossEntropy(t, logits, targets).loss);
    const tape = new Tape();
    const ce = crossEntropy(tape, logits, targets);
    assert.equal(ce.count, 3);
    assert.equal(ce.nll[1], 0);
    assertClose([ce.loss.data[0]], [(ce.nll[0] + ce.nll[2] + ce.nll[3]) / 3], 'mean over counted positions');
  });

  it('embedding with repeated ids', () => {
    const table = input([4, 3]);
    const ids = Int32Array.from({ length: 6 }, () => randomInt(random, 0, 3));
    gradcheck('embedding', [table], (t) => embedding(t, ids, table, [2, 3]));
  });
});

describe('tensor ops: errors and buffer reuse', () => {
  it('refuses mismatched shapes with a message naming the op and the shapes', () => {
    const t = new Tape();
    assert.throws(() => add(t, input([2, 3]), input([3, 2])), (e: Error) => e instanceof ShapeError && /add: shapes differ: \[2, 3\] and \[3, 2\]/.test(e.message));
    assert.throws(() => matmul(t, input([2, 3]), input([4, 5])), /matmul: inner dimensions differ: op\(a\) is 2 x 3, op\(b\) is 4 x 5/);
    assert.throws(() => matmul(t, input([2, 2, 3]), input([3, 3, 5])), /matmul: batch sizes differ/);
    assert.throws(() => linear(t, input([2, 3]), input([5, 4])), /linear: input \[2, 3\] must end in 4/);
    assert.throws(() => layerNorm(t, input([2, 3]), input([4]), input([3])), /layerNorm: weight must have shape \[3\], got \[4\]/);
    assert.throws(() => crossEntropy(t, input([2, 3]), Int32Array.of(1)), /crossEntropy: 1 targets for logits \[2, 3\]/);
    assert.throws(() => crossEntropy(t, input([2, 3]), Int32Array.of(1, 3)), /logSoftmaxNllForward: target\[1\] = 3 is out of range for 3 classes/);
    assert.throws(() => embedding(t, Int32Array.of(0, 9), input([4, 3])), /embeddingForward: ids\[1\] = 9 is out of range for a table of 4 rows x 3/);
    assert.throws(() => reshape(t, input([2, 3]), [4, 2]), /reshape: cannot view \[2, 3\] \(6 elements\) as \[4, 2\]/);
    assert.throws(() => Tensor.zeros([2, -1]), /bad shape \[2, -1\]/);
    assert.throws(() => new Tensor(new Float32Array(5), [2, 3]), /5 elements does not fit shape \[2, 3\] \(6 elements\)/);
  });

  it('a repeated step allocates no new buffers', () => {
    const tape = new Tape();
    const x = input([8, 16]), w = input([32, 16]), b = input([32]), g = input([32]), beta = input([32]);
    const step = () => {
      const h = layerNorm(tape, relu(tape, linear(tape, x, w, b)), g, beta);
      tape.backward(crossEntropy(tape, h, Int32Array.from({ length: 8 }, (_, i) => i)).loss);
      tape.reset();
    };
    step();
    const after = tape.pool.allocations;
    for (let i = 0; i < 5; i++) step();
    assert.equal(tape.pool.allocations, after);
  });

  it('backward hands forward buffers to the gradients once no step can read them; retained results survive', () => {
    const tape = new Tape();
    const x = input([64, 64]);
    let h = x;
    for (let i = 0; i < 10; i++) h = scale(tape, h, 0.5);
    const loss = sum(tape, h);
    tape.retain(h);
    const kept = Float32Array.from(h.data);
    const forward = tape.pool.allocations;
    tape.backward(loss);
    // Ten 64x64 forward buffers; backward holds at most two 64x64 gradients and one forward
    // buffer at a time, plus the loss's gradient: without reuse it would allocate eleven.
    assert.ok(tape.pool.allocations - forward <= 4, `backward allocated ${tape.pool.allocations - forward} buffers`);
    for (let i = 0; i < 4; i++) tape.tensor([64, 64]).data.fill(7);
    assert.deepEqual(h.data, kept);
    assertClose(x.grad!, new Float32Array(x.size).fill(0.5 ** 10), 'x.grad');
    tape.reset();
  });

  it('passes a result\'s gradient buffer on to an input that has none (in-place elementwise backward)', () => {
    const t = new Tape();
    const x = t.tensor([4], true), out = t.tensor([4], true), other = t.tensor([4], true);
    const dy = t.gradOf(out);
    assert.equal(t.passGrad(out, x), dy);
    assert.equal(x.grad, dy);
    assert.equal(out.grad, null);
    // x has a gradient now: a second result adds to it in its own buffer.
    t.gradOf(other);
    assert.equal(t.passGrad(other, x), dy);
    assert.notEqual(other.grad, dy);
    // A leaf's gradient is its own, never passed on.
    const leaf = input([4]), y = t.tensor([4], true);
    assert.notEqual(t.passGrad(leaf, y), leaf.grad);
    assert.ok(leaf.grad !== null);
    t.reset();
  });

  it('hands a buffer over to its taker instead of the pool, after the last step that reads it or on reset', () => {
    for (const training of [true, false]) {
      const tape = new Tape();
      tape.recording = training;
      const x = input([8, 8]);
      const h = scale(tape, x, 2), loss = sum(tape, scale(tape, h, 3));
      const taken: { data: Float32Array | null } = { data: null };
      tape.handOver(h, (data) => {
        // No step that reads h is left to run: its values are final.
        assert.ok(!training || x.grad !== null, 'handed over before the backward that reads it');
        taken.data = data;
      });
      if (training) {
        tape.backward(loss);
        assert.ok(taken.data !== null, 'handed over during backward');
      }
      tape.reset();
      assert.equal(taken.data?.buffer, h.data.buffer, `training ${training}`);
      assert.deepEqual(taken.data, new Float32Array(64).map((_, i) => 2 * x.data[i]));
      // The pool never got it back: new tensors do not land on it.
      for (let i = 0; i < 4; i++) assert.notEqual(tape.tensor([8, 8]).data.buffer, h.data.buffer);
      tape.reset();
    }
  });

  it('lets go of buffers left idle while sizes grow step after step', () => {
    const tape = new Tape();
    for (let step = 1; step <= 40; step++) {
      // A memory that grows every step, as Expire-Span's does early in training.
      const x = input([step * 8, 64]);
      tape.backward(sum(tape, scale(tape, relu(tape, x), 2)));
      tape.reset();
    }
    // Live per step: about four buffers of the last size; every earlier size would be ~20x that.
    const last = 40 * 8 * 64;
    assert.ok(tape.pool.idle <= 12 * last, `idle ${tape.pool.idle} elements, last step's buffers ${last}`);
    const reused = tape.pool.allocations;
    const x = input([320, 64]);
    tape.backward(sum(tape, scale(tape, relu(tape, x), 2)));
    tape.reset();
    assert.equal(tape.pool.allocations, reused, 'a step of the same size still reuses its buffers');
  });

  it('lets go of a buffer as soon as its tensor has grown into the next size class', () => {
    const pool = new BufferPool();
    const small = pool.take(1 << 16);
    pool.give(small);
    pool.endStep();
    // Next step: the same tensor, a little larger (another class). Its old buffer goes.
    const grown = pool.take((1 << 16) + 1000);
    assert.equal(pool.allocations, 2);
    assert.equal(pool.idle, 0, 'the outgrown buffer was dropped when the larger one was allocated');
    // A buffer given back during this step may still be wanted in it: kept.
    pool.give(pool.take(1 << 16));
    pool.take(1 << 17);
    assert.equal(pool.idle, 1 << 16);
    // So is one of a much smaller class: no tensor grows twofold in one step.
    pool.endStep();
    pool.take(1 << 18);
    assert.equal(pool.idle, 1 << 16);
    pool.give(grown);
  });

  it('records nothing and keeps no gradients when not recording', () => {
    const tape = new Tape();
    tape.recording = false;
    const x = input([2, 3]);
    const y = relu(tape, x);
    assert.equal(y.requiresGrad, false);
    assert.throws(() => tape.backward(sum(tape, y)), /does not depend on anything that requires a gradient/);
  });
});
