// Floating-point operations of one training block, counted from the shapes (multiply-adds count
// two): what the hardware must do at least, for reporting achieved GFLOP/s.
import { compressedLength, positionLength, type ModelConfig } from './config.js';

/**
 * Forward FLOPs of one block of `batch` streams when layer l starts the block with `cache[l]`
 * memories per stream (what the previous block left): keys and values are computed for those
 * and for the block's own rows; `windows[l]`: how far back its queries look (attn-lim unless
 * given; Adaptive-Span's trimmed window). Training costs about three times this.
 */
export function forwardFlops(c: ModelConfig, batch: number, cache: readonly number[], windows?: readonly number[]): number {
  const tokens = batch * c.memSz, inner = c.nheads * c.headDim;
  let flops = 0;
  for (let l = 0; l < c.nlayers; l++) {
    const keyRows = batch * (cache[l] + c.memSz + compressedKeys(c));
    flops += 2 * tokens * c.hidSz * inner * 2; // query and output projections
    flops += 2 * keyRows * c.hidSz * inner * 2; // key and value projections
    flops += 2 * tokens * c.hidSz * c.innerHidSz * 2; // feed-forward
    if (c.expireSpan) flops += 2 * keyRows * c.hidSz; // span predictor
    flops += attentionFlops(c, batch, cache[l], windows?.[l]);
  }
  return flops + 2 * tokens * c.hidSz * c.vocabSize; // output layer
}

/**
 * One layer's attention for `batch` streams whose memory holds `cache` rows each: logits and
 * weighted values over the keys each query sees (the cache and the block's earlier rows, at most
 * `window` of them outside Expire-Span, plus C + 1 compressed slots), and the position terms of
 * the keys within the position embedding's reach.
 */
export function attentionFlops(c: ModelConfig, batch: number, cache: number, window = c.attnLim): number {
  const slots = c.compress ? compressedLength(c) + 1 : 0, reach = positionLength(c);
  let pairs = 0, positioned = 0; // (query, key) pairs of one stream; those with a position term
  for (let m = 0; m < c.memSz; m++) {
    const keys = c.expireSpan ? cache + m : Math.min(window, cache + m);
    pairs += slots + keys;
    positioned += slots + Math.min(reach, keys);
  }
  return 2 * batch * c.nheads * c.headDim * (2 * pairs + positioned);
}

/** Compressed keys of the Compressive Transformer: its C kept ones and the block's M / c new ones. */
function compressedKeys(c: ModelConfig): number {
  return c.compress ? compressedLength(c) + c.memSz / c.compressRate : 0;
}
