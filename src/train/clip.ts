// Gradient-norm clipping over all parameters together, as torch.nn.utils.clip_grad_norm_:
// with n the L2 norm of every gradient concatenated, if n > maxNorm scale all by maxNorm / (n + 1e-6).
import { kernels } from '../kernels/index.js';
import type { Tensor } from '../tensor/tensor.js';

/** The L2 norm of all gradients together (NaN or Infinity if any gradient is not finite). */
export function gradNorm(params: readonly Tensor[]): number {
  let total = 0;
  for (const p of params) if (p.grad) total += kernels.sumSquares(p.grad, p.size);
  return Math.sqrt(total);
}

/** Clips in place and returns the norm before clipping. A non-finite norm leaves the gradients
 * untouched, so the caller can see it and skip the update. maxNorm <= 0 only measures. */
export function clipGradNorm(params: readonly Tensor[], maxNorm: number): number {
  if (!Number.isFinite(maxNorm)) throw new RangeError(`clipGradNorm: maxNorm must be finite, got ${maxNorm}`);
  const norm = gradNorm(params);
  if (maxNorm > 0 && Number.isFinite(norm) && norm > maxNorm) {
    const factor = maxNorm / (norm + 1e-6);
    for (const p of params) if (p.grad) kernels.scale(p.grad, factor, p.grad, p.size);
  }
  return norm;
}
