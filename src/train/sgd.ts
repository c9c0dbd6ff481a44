// SGD with momentum, as torch.optim.SGD (no dampening, no Nesterov, no weight decay):
//   buf = g on the first update, then buf = momentum * buf + g;  p -= lr * buf
import { kernels } from '../kernels/index.js';
import type { Tensor } from '../tensor/tensor.js';

export class Sgd {
  step = 0;
  readonly momentumBuffers: Float32Array[];

  constructor(readonly params: readonly Tensor[], public lr: number, readonly momentum: number) {
    this.momentumBuffers = params.map((p) => new Float32Array(p.size));
  }

  update(lr = this.lr): void {
    this.step++;
    this.params.forEach((p, i) => {
      const buf = this.momentumBuffers[i];
      if (this.momentum !== 0) {
        if (this.step === 1) buf.set(p.grad!);
        else {
          kernels.scale(buf, this.momentum, buf, p.size);
          kernels.axpy(1, p.grad!, buf, p.size);
        }
      }
      kernels.axpy(-lr, this.momentum !== 0 ? buf : p.grad!, p.data, p.size);
    });
  }

  zeroGrad(): void {
    for (const p of this.params) kernels.fill(p.grad!, 0, p.size);
  }
}
