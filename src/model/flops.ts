// Floating-point operations of one training block, counted from the shapes (multiply-adds count
// two): what the hardware must do at least, for reporting achieved GFLOP/s.
import { compressedLength, positionLength, type ModelConfig } from './config.js';

/**
 * Forward FLOPs of one block of `batch` streams when each layer's attention sees `rows`
 * memories per stream (cache and block); training costs about three times this.
 */
export function forwardFlops(c: ModelConfig, batch: number, rows: readonly number[]): number {
  const tokens = batch * c.memSz, inner = c.nheads * c.headDim, P = positionLength(c);
  let flops = 0;
  for (let l = 0; l < c.nlayers; l++) {
    const memory = batch * (rows[l] + compressedLength(c));
    flops += 2 * tokens * c.hidSz * inner * 2; // query and output projections
    flops += 2 * memory * c.hidSz * inner * 2; // key and value projections
    flops += 2 * tokens * c.hidSz * c.innerHidSz * 2; // feed-forward
    flops += 2 * batch * c.nheads * c.memSz * rows[l] * c.headDim * 2; // logits and weighted values
    flops += 2 * tokens * inner * P; // position terms
    if (c.expireSpan) flops += 2 * memory * c.hidSz; // span predictor
  }
  return flops + 2 * tokens * c.hidSz * c.vocabSize; // output layer
}
