// The memory-attention kernels' shared description (used by both implementations).
//
// Keys and values are ragged per stream: stream b owns rows offsets[b] .. offsets[b+1]-1 of k and
// v (its memories in time order, the last M being its current block). Query m of stream b sits at
// key index qpos = Lb - M + m and attends to keys i with qpos - window <= i < qpos (strictly
// earlier, never itself). Heads are contiguous column slices: head h uses columns h*D .. h*D+D-1.
//
// logit_i = (q . k_i + q . keyPe[:, P - d]) / sqrt(D), the position term only for d = qpos - i
// in 1..P. Expire mode multiplies by a per-key soft mask shared by all heads:
//   c_i = clamp((min(e_i, cap) - counter_i - m) / R + 1, 0, 1),
// takes the softmax over keys with c_i > 0, multiplies by c and renormalises (+1e-8). Window mode
// (Transformer-XL) is a plain softmax over the window.
//
// probs (saved for backward) holds the softmax of stream b, head h, query m at
//   K * M * offsets[b] + (h * M + m) * Lb + i   (0 for keys not attended).
// aux[b] = sum over ALL (m, i) pairs on the ramp (0 < clamp < 1) of r = min(e_i, cap) - counter_i - m,
// divided by R * M: the Expire-Span auxiliary loss of stream b before its coefficient.

export const enum AttentionMode {
  /** Transformer-XL: a fixed window, plain softmax. */
  Window = 0,
  /** Expire-Span: learned spans give each memory a soft mask. */
  Expire = 1,
}
