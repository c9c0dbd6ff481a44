// One layer: attention over [memory ; block] then the feed-forward, post-norm by default:
//   h2 = LN1(h + Attn(h)); out = LN2(h2 + FFN(h2))
// or pre-norm:
//   h2 = h + Attn(LN1(h)) (keys and values from LN1(memory)); out = h2 + FFN(LN2(h2))
import type { ModelConfig } from '../model/config.js';
import type { Tape } from '../tensor/tape.js';
import type { Tensor } from '../tensor/tensor.js';
import { MemoryAttention, type AttentionContext } from './attention/memory-attention.js';
import { FeedForward } from './feed-forward.js';
import { LayerNorm } from './layer-norm.js';
import type { ParameterStore } from './parameters.js';

export interface LayerOutput {
  /** The layer's output [batch * M, H]; null when only spans were asked for. */
  out: Tensor | null;
  /** Expire-Span's span loss per stream, before its coefficient. */
  aux: Tensor | null;
  /** Every memory row's span (Expire-Span), for pruning. */
  spans: Tensor | null;
}

export class TransformerLayer {
  readonly attn: MemoryAttention;
  readonly ff: FeedForward;
  readonly norm1: LayerNorm;
  readonly norm2: LayerNorm;

  constructor(params: ParameterStore, name: string, private readonly c: ModelConfig, keyPe: Tensor) {
    this.attn = new MemoryAttention(params, `${name}.attn`, c, keyPe);
    this.ff = new FeedForward(params, `${name}.ff`, c);
    this.norm1 = new LayerNorm(params, `${name}.norm1`, c.hidSz);
    this.norm2 = new LayerNorm(params, `${name}.norm2`, c.hidSz);
  }

  /**
   * h: [batch * M, H], the block; memory: [rows, H], the packed [cache ; block] of every stream.
   * With `spansOnly` (a dropped layer) only the spans are computed.
   */
  forward(t: Tape, h: Tensor, memory: Tensor, ctx: AttentionContext, spansOnly = false): LayerOutput {
    const pre = this.c.preNorm;
    const keys = pre ? this.norm1.forward(t, memory) : memory;
    const spans = this.attn.spans(t, keys);
    if (spansOnly) return { out: null, aux: null, spans };
    // Each residual sum is taken inside the output projection before it (one buffer, one pass).
    if (pre) {
      const { out: h2, aux } = this.attn.forward(t, this.norm1.forward(t, h), keys, spans, ctx, h);
      return { out: this.feedForward(t, this.norm2.forward(t, h2), ctx, h2), aux, spans };
    }
    const { out: sum, aux } = this.attn.forward(t, h, keys, spans, ctx, h);
    const h2 = this.norm1.forward(t, sum);
    return { out: this.norm2.forward(t, this.feedForward(t, h2, ctx, h2)), aux, spans };
  }

  private feedForward(t: Tape, x: Tensor, ctx: AttentionContext, residual: Tensor): Tensor {
    return this.ff.forward(t, x, ctx.dropout, ctx.dropout > 0 ? ctx.random.nextUint32() : 0, residual);
  }
}
