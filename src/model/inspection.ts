// What a model keeps, token by token: each token's span per layer (Expire-Span: learned per
// token; Adaptive-Span: the largest of the heads' learned spans; Transformer-XL and the
// Compressive Transformer: the fixed window), how far back it is still seen, and how many of the
// text's tokens each layer holds at every step. The model reads the text as a stream.
import { ModelStream } from './model-stream.js';
import { modelName } from './config.js';
import type { SequenceModel } from './sequence-model.js';

export interface LayerInspection {
  /** The span of each token. */
  spans: Float32Array;
  /** The largest distance at which each token is still seen (0: never). */
  reach: Int32Array;
  /** For each token, how many earlier tokens of the text the layer holds when it is the query. */
  kept: Int32Array;
  /** Adaptive-Span: each head's span. */
  headSpans?: number[];
}

export interface Inspection {
  model: string;
  attnLim: number;
  /** The soft mask's ramp: a memory fades over this many steps after its span. */
  ramp: number;
  memSz: number;
  tokens: Int32Array;
  layers: LayerInspection[];
}

export function inspectTokens(model: SequenceModel, tokens: Int32Array): Inspection {
  const c = model.config, T = tokens.length;
  const { spans } = new ModelStream(model).push(tokens);
  const layers = model.layers.map((layer, l): LayerInspection => {
    if (c.expireSpan) {
      // Seen while the distance d < span + ramp.
      const reach = Int32Array.from(spans[l], (e) => Math.max(0, Math.ceil(e + c.expireSpanRamp) - 1));
      return { spans: spans[l], reach, kept: keptOverTime(reach) };
    }
    const adaptive = layer.attn.adaptiveSpan;
    if (adaptive) {
      // Seen while 1 - d + z L + ramp > 0, within the window the layer looks back over.
      const headSpans = Array.from(adaptive.sizeRatio.data, (z) => z * c.attnLim);
      const widest = Math.max(...headSpans);
      const reach = Math.max(0, Math.min(adaptive.window(), Math.ceil(widest + c.adaptSpanLen + 1) - 1));
      return { spans: new Float32Array(T).fill(widest), reach: new Int32Array(T).fill(reach), kept: keptOverTime(new Int32Array(T).fill(reach)), headSpans };
    }
    const reach = new Int32Array(T).fill(c.attnLim);
    return { spans: new Float32Array(T).fill(c.attnLim), reach, kept: keptOverTime(reach) };
  });
  return { model: modelName(c), attnLim: c.attnLim, ramp: c.expireSpan ? c.expireSpanRamp : c.adaptSpan ? c.adaptSpanLen : 0, memSz: c.memSz, tokens, layers };
}

/** kept[t] = #{i < t : t - i <= reach[i]}, by a difference array: O(T). */
function keptOverTime(reach: Int32Array): Int32Array {
  const T = reach.length, delta = new Int32Array(T + 1), kept = new Int32Array(T);
  for (let i = 0; i < T; i++) {
    if (reach[i] === 0 || i + 1 >= T) continue;
    delta[i + 1]++;
    delta[Math.min(T, i + reach[i] + 1)]--;
  }
  for (let t = 0, run = 0; t < T; t++) kept[t] = run += delta[t];
  return kept;
}
