// Multi-head attention of a block over per-stream memories, with the relative position
// embedding shared by all layers: Expire-Span (learned per-memory spans, soft mask), the
// Transformer-XL window, Adaptive-Span (a learned span per head) or the Compressive Transformer
// (the window plus compressed memories). Heads are contiguous slices of the projections
// (head k: features k*D .. k*D+D-1).
import { AttentionMode } from '../../kernels/attention.js';
import type { ModelConfig } from '../../model/config.js';
import { memoryAttention, type Ragged } from '../../tensor/memory-ops.js';
import type { Tape } from '../../tensor/tape.js';
import type { Random } from '../../tensor/random.js';
import type { Tensor } from '../../tensor/tensor.js';
import { Linear } from '../linear.js';
import type { ParameterStore } from '../parameters.js';
import { AdaptiveSpan } from './adaptive-span.js';
import { SpanPredictor } from './span-predictor.js';

export function attentionMode(c: ModelConfig): AttentionMode {
  if (c.expireSpan) return AttentionMode.Expire;
  if (c.adaptSpan) return AttentionMode.Adaptive;
  return c.compress ? AttentionMode.Compressive : AttentionMode.Window;
}

export interface AttentionContext {
  batch: number;
  /** Query rows per stream: the last rows of each stream's packed memory (M in a whole block). */
  queries: number;
  layout: Ragged;
  /** Expire-Span: age of every memory row, measured from the block's first query. */
  counters: Float32Array;
  /** Expire-Span: spans above this are clamped for the mask and loss (noisy training). */
  spanCap: number;
  /** Compressive: compressed rows at the start of every stream. */
  compressed: number;
  /** Dropout probability in this pass (0 outside training), and where its masks' seeds come from. */
  dropout: number;
  random: Random;
}

export class MemoryAttention {
  readonly mode: AttentionMode;
  readonly projQuery: Linear;
  readonly projKey: Linear;
  readonly projVal: Linear;
  readonly projOut: Linear;
  readonly spanPredictor: SpanPredictor | null;
  readonly adaptiveSpan: AdaptiveSpan | null;

  constructor(params: ParameterStore, name: string, private readonly c: ModelConfig, private readonly keyPe: Tensor) {
    this.mode = attentionMode(c);
    const inner = c.nheads * c.headDim;
    this.projQuery = new Linear(params, `${name}.proj_query`, c.hidSz, inner, { bias: false });
    this.projOut = new Linear(params, `${name}.proj_out`, inner, c.hidSz, { bias: false, scale: c.preNorm ? 1 / Math.sqrt(2 * c.nlayers) : 1 });
    this.projVal = new Linear(params, `${name}.proj_val`, c.hidSz, inner, { bias: false });
    this.projKey = new Linear(params, `${name}.proj_key`, c.hidSz, inner, { bias: false });
    this.spanPredictor = c.expireSpan ? new SpanPredictor(params, `${name}.attn.expire_span.span_predictor`, c) : null;
    this.adaptiveSpan = c.adaptSpan ? new AdaptiveSpan(params, `${name}.attn.adaptive_span`, c) : null;
  }

  /** Expire-Span: the span of every memory row. */
  spans(t: Tape, memory: Tensor): Tensor | null {
    return this.spanPredictor?.forward(t, memory) ?? null;
  }

  /** Memory rows each stream keeps for the next block (Transformer-XL-style models). */
  cacheSize(): number {
    return this.adaptiveSpan?.cacheSize() ?? this.c.attnLim;
  }

  /** How many steps back a query looks: unbounded for Expire-Span (its spans decide). */
  window(): number {
    return this.mode === AttentionMode.Expire ? 2 ** 31 - 1 : (this.adaptiveSpan?.window() ?? this.c.attnLim);
  }

  /**
   * query: [batch * Q, H] (Q = ctx.queries: the block, or its newest rows), memory: [rows, H]
   * (keys and values: the packed memory of every stream, ending in those rows), spans from
   * spans(memory). Returns the output [batch * Q, H] (plus `residual` when given, in one
   * buffer) and, for Expire-Span, the span loss per stream before its coefficient.
   */
  forward(t: Tape, query: Tensor, memory: Tensor, spans: Tensor | null, ctx: AttentionContext, residual: Tensor | null = null): { out: Tensor; aux: Tensor | null } {
    const c = this.c, mode = this.mode;
    const q = this.projQuery.forward(t, query);
    const k = this.projKey.forward(t, memory);
    const v = this.projVal.forward(t, memory);
    const { out, aux } = memoryAttention(
      t,
      {
        mode,
        batch: ctx.batch,
        block: ctx.queries,
        heads: c.nheads,
        headDim: c.headDim,
        window: this.window(),
        ramp: mode === AttentionMode.Adaptive ? c.adaptSpanLen : c.expireSpanRamp,
        limit: mode === AttentionMode.Adaptive ? c.attnLim : ctx.spanCap,
        rate: c.compressRate,
        compressed: ctx.compressed,
        dropout: ctx.dropout,
        seed: ctx.dropout > 0 ? ctx.random.nextUint32() : 0,
        exclusiveKeys: true,
      },
      q, k, v, ctx.layout, this.keyPe, this.adaptiveSpan ? this.adaptiveSpan.ratios(t) : spans, ctx.counters,
    );
    return { out: this.projOut.forward(t, out, residual), aux };
  }
}
