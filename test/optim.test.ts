// Adam and gradient clipping follow PyTorch's definitions (DESIGN.md §2, numerical details).
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Tensor } from '../src/tensor/tensor.js';
import { Adam } from '../src/train/adam.js';
import { clipGradNorm, gradNorm } from '../src/train/clip.js';
import { assertClose, randomArray, rng } from './helpers.js';

const random = rng(5);

describe('Adam', () => {
  it('matches torch.optim.Adam, computed independently in float64, over several steps', () => {
    const p = Tensor.parameter(randomArray(random, 7), [7]);
    const [lr, b1, b2, eps] = [0.01, 0.9, 0.999, 1e-8];
    const adam = new Adam([p], { lr });
    const want = Float64Array.from(p.data), m = new Float64Array(7), v = new Float64Array(7);
    for (let step = 1; step <= 5; step++) {
      const g = randomArray(random, 7);
      p.grad!.set(g);
      adam.update();
      for (let i = 0; i < 7; i++) {
        m[i] = b1 * m[i] + (1 - b1) * g[i];
        v[i] = b2 * v[i] + (1 - b2) * g[i] * g[i];
        const denom = Math.sqrt(v[i]) / Math.sqrt(1 - b2 ** step) + eps;
        want[i] -= (lr / (1 - b1 ** step)) * (m[i] / denom);
      }
      assertClose(p.data, want, `parameters after step ${step}`, 1e-5, 1e-7);
    }
    assert.equal(adam.step, 5);
    adam.zeroGrad();
    assert.ok(p.grad!.every((x) => x === 0));
  });

  it('refuses a parameter without a gradient', () => {
    assert.throws(() => new Adam([Tensor.zeros([2])], { lr: 1e-3 }), /Adam: parameter 0 \(Tensor\[2\]\) does not require a gradient/);
  });
});

describe('clipGradNorm', () => {
  const params = () => [Tensor.parameter(new Float32Array(2), [2]), Tensor.parameter(new Float32Array(1), [1])];

  it('scales all gradients by clip / (norm + 1e-6) when the joint norm exceeds clip', () => {
    const ps = params();
    ps[0].grad!.set([3, 0]);
    ps[1].grad!.set([4]);
    assert.equal(gradNorm(ps), 5);
    assert.equal(clipGradNorm(ps, 1), 5);
    const f = 1 / (5 + 1e-6);
    assertClose([...ps[0].grad!, ...ps[1].grad!], [3 * f, 0, 4 * f], 'clipped gradients', 1e-6, 0);
  });

  it('leaves gradients under the limit, or non-finite ones, untouched', () => {
    const ps = params();
    ps[0].grad!.set([0.3, 0.4]);
    assert.equal(clipGradNorm(ps, 1).toFixed(6), '0.500000');
    assertClose(ps[0].grad!, Float32Array.of(0.3, 0.4), 'unclipped', 0, 0);
    ps[1].grad![0] = NaN;
    assert.ok(Number.isNaN(clipGradNorm(ps, 0.1)));
    assertClose(ps[0].grad!, Float32Array.of(0.3, 0.4), 'untouched when the norm is NaN', 0, 0);
  });
});
