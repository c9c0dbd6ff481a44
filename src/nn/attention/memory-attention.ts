// Multi-head attention of a block over per-stream memories: Expire-Span (learned spans, soft
// mask) or the Transformer-XL window, both with the relative position embedding shared by all
// layers. Heads are contiguous slices of the projections (head k: features k*D .. k*D+D-1).
import { AttentionMode } from '../../kernels/attention.js';
import type { ModelConfig } from '../../model/config.js';
import { memoryAttention, type Ragged } from '../../tensor/memory-ops.js';
import type { Tape } from '../../tensor/tape.js';
import type { Tensor } from '../../tensor/tensor.js';
import { Linear } from '../linear.js';
import type { ParameterStore } from '../parameters.js';
import { SpanPredictor } from './span-predictor.js';

export interface AttentionContext {
  batch: number;
  layout: Ragged;
  /** Age of every memory row, measured from the block's first query. */
  counters: Float32Array;
  /** Spans above this are clamped for the mask and loss (noisy training); Infinity otherwise. */
  spanCap: number;
}

export class MemoryAttention {
  readonly projQuery: Linear;
  readonly projKey: Linear;
  readonly projVal: Linear;
  readonly projOut: Linear;
  readonly spanPredictor: SpanPredictor | null;

  constructor(params: ParameterStore, name: string, private readonly c: ModelConfig, private readonly keyPe: Tensor) {
    const inner = c.nheads * c.headDim;
    this.projQuery = new Linear(params, `${name}.proj_query`, c.hidSz, inner, { bias: false });
    this.projOut = new Linear(params, `${name}.proj_out`, inner, c.hidSz, { bias: false, scale: c.preNorm ? 1 / Math.sqrt(2 * c.nlayers) : 1 });
    this.projVal = new Linear(params, `${name}.proj_val`, c.hidSz, inner, { bias: false });
    this.projKey = new Linear(params, `${name}.proj_key`, c.hidSz, inner, { bias: false });
    this.spanPredictor = c.expireSpan ? new SpanPredictor(params, `${name}.attn.expire_span.span_predictor`, c) : null;
  }

  /** The span of every memory row (Expire-Span only). */
  spans(t: Tape, memory: Tensor): Tensor | null {
    return this.spanPredictor?.forward(t, memory) ?? null;
  }

  /**
   * query: [batch * M, H] (the block), memory: [rows, H] (keys and values: cache and block),
   * spans from spans(memory). Returns the output [batch * M, H] and, for Expire-Span, the span
   * loss per stream before its coefficient.
   */
  forward(t: Tape, query: Tensor, memory: Tensor, spans: Tensor | null, ctx: AttentionContext): { out: Tensor; aux: Tensor | null } {
    const c = this.c;
    const q = this.projQuery.forward(t, query);
    const k = this.projKey.forward(t, memory);
    const v = this.projVal.forward(t, memory);
    const { out, aux } = memoryAttention(
      t,
      {
        mode: c.expireSpan ? AttentionMode.Expire : AttentionMode.Window,
        batch: ctx.batch,
        block: c.memSz,
        heads: c.nheads,
        headDim: c.headDim,
        window: c.expireSpan ? 2 ** 31 - 1 : c.attnLim,
        ramp: c.expireSpanRamp,
        limit: ctx.spanCap,
        rate: 1,
        compressed: 0,
      },
      q, k, v, ctx.layout, this.keyPe, spans, ctx.counters,
    );
    return { out: this.projOut.forward(t, out), aux };
  }
}
