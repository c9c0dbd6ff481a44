// The memory-attention kernels' definition, shared by the native and TypeScript implementations.
//
// Keys and values are ragged per stream: stream b owns rows offsets[b] .. offsets[b+1]-1 of k and
// v, Lb rows in time order, the last M being its current block. Heads are contiguous column
// slices: head h uses columns h*D .. h*D+D-1. Query m of stream b sits at row qpos = Lb - M + m
// of its stream and sees:
//   - the rows i with qpos - window <= i < qpos (strictly earlier, never itself), with the
//     position term for distance d = qpos - i when d <= P: key index P - d;
//   - in compressive mode also, before them, `compressed` rows of compressed memory (the first
//     rows of the stream, excluded from the window): rows a .. a + S - 1 with a = floor(m / rate)
//     and S = compressed - M / rate + 1 slots, slot j with key index j.
// logit = (q . k_i + q . keyPe[:, index]) / sqrt(D), keyPe: D x P.
//
// Per mode, with w the weights that multiply the values:
//   Window (Transformer-XL), Compressive: w = softmax(logits).
//   Expire (Expire-Span): a soft mask shared by the heads,
//       c_i = clamp((min(e_i, limit) - counter_i - m) / R + 1, 0, 1)  (spans e, counters: per row;
//       limit caps spans in noisy training, else Infinity); p = softmax over the keys with c_i > 0;
//       w = p c / (sum p c + 1e-8). aux[b] = sum over ALL (m, i) pairs with 0 < x < 1 (x the
//       unclamped argument) of r = min(e_i, limit) - counter_i - m, divided by R * M.
//   Adaptive (Adaptive-Span): a mask per head from its ratio z_h (spans: per head, or one shared),
//       c = clamp((1 - d + z_h * limit) / R + 1, 0, 1) (limit = attn-lim); p = softmax over the
//       window; w = p c / (sum p c + 1e-8).
//
// Attention dropout draws the mask of the weight of stream b, head h, query m and key i from
// its slot K * M * offsets[b] + (h * M + m) * Lb + i. Nothing of p or w is kept for backward,
// which recomputes them.

export const AttentionMode = {
  /** Transformer-XL: a fixed window, plain softmax. */
  Window: 0,
  /** Expire-Span: learned per-memory spans give each memory a soft mask. */
  Expire: 1,
  /** Adaptive-Span: a learned span per head masks the window after the softmax. */
  Adaptive: 2,
  /** Compressive Transformer: the window plus mean-pooled compressed memories. */
  Compressive: 3,
} as const;
export type AttentionMode = (typeof AttentionMode)[keyof typeof AttentionMode];
