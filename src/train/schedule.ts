// The learning rate of the k-th update (k from 1), as the reference's schedulers give it:
// linear warm-up lr * k / warmup, then lr (or, with decay, lr * (1 + cos(pi * k / total)) / 2,
// torch's CosineAnnealingLR over all the updates of the run).
export interface Schedule {
  lr: number;
  warmup: number;
  decay: boolean;
  /** Updates in the whole run (nepochs * nbatches). */
  total: number;
}

export function learningRate(s: Schedule, k: number): number {
  if (s.warmup > 0 && k < s.warmup) return (s.lr * k) / s.warmup;
  if (s.decay) return (s.lr * (1 + Math.cos((Math.PI * Math.min(k, s.total)) / s.total))) / 2;
  return s.lr;
}
