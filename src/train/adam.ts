// Adam as torch.optim.Adam with its defaults (betas 0.9, 0.999; eps 1e-8; no weight decay).
import { kernels } from '../kernels/index.js';
import type { Tensor } from '../tensor/tensor.js';

export interface AdamOptions {
  lr: number;
  beta1?: number;
  beta2?: number;
  eps?: number;
}

export class Adam {
  readonly beta1: number;
  readonly beta2: number;
  readonly eps: number;
  lr: number;
  /** Updates taken so far. */
  step = 0;
  /** First and second moment estimates, one pair per parameter. */
  readonly m: Float32Array[];
  readonly v: Float32Array[];

  constructor(readonly params: readonly Tensor[], { lr, beta1 = 0.9, beta2 = 0.999, eps = 1e-8 }: AdamOptions) {
    for (const [i, p] of params.entries()) {
      if (!p.requiresGrad || p.grad === null) throw new Error(`Adam: parameter ${i} (${p}) does not require a gradient`);
    }
    this.lr = lr;
    this.beta1 = beta1;
    this.beta2 = beta2;
    this.eps = eps;
    this.m = params.map((p) => new Float32Array(p.size));
    this.v = params.map((p) => new Float32Array(p.size));
  }

  /** One update from the current gradients (at lr, or the rate given for this step). */
  update(lr = this.lr): void {
    this.step++;
    this.params.forEach((p, i) => {
      kernels.adam(p.data, p.grad!, this.m[i], this.v[i], p.size, lr, this.beta1, this.beta2, this.eps, this.step);
    });
  }

  zeroGrad(): void {
    for (const p of this.params) kernels.fill(p.grad!, 0, p.size);
  }
}
