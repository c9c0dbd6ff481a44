// TypeScript reference of the memory kernels: masked relative-position attention over ragged
// per-stream memories (see attention.ts for the exact definition) and memory pruning.
import { AttentionMode } from './attention.js';
import type { FloatArray } from './kernels.js';

const EPS = 1e-8;

/** The remaining span r = min(e, cap) - counter - m of a memory for query m. */
function remaining(e: number, cap: number, counter: number, m: number): number {
  return Math.min(e, cap) - counter - m;
}

/** The soft expire mask argument x = r / R + 1 (clamped to [0, 1] by callers). */
function rampArg(e: number, cap: number, counter: number, m: number, ramp: number): number {
  return remaining(e, cap, counter, m) / ramp + 1;
}

interface Row {
  lo: number;
  hi: number;
  qpos: number;
}

/** Keys query m of a stream with lb keys may see: [lo, hi). */
function visible(lb: number, block: number, m: number, window: number): Row {
  const qpos = lb - block + m;
  return { lo: Math.max(0, qpos - window), hi: qpos, qpos };
}

export function attentionForward(
  mode: number, batch: number, block: number, heads: number, headDim: number, peLen: number, window: number,
  q: FloatArray, k: FloatArray, v: FloatArray, offsets: Int32Array, keyPe: FloatArray,
  spans: FloatArray, counters: FloatArray, ramp: number, cap: number,
  out: FloatArray, probs: FloatArray, aux: FloatArray,
): void {
  const width = heads * headDim, scale = 1 / Math.sqrt(headDim), expire = mode === AttentionMode.Expire;
  for (let b = 0; b < batch; b++) {
    const base = offsets[b], lb = offsets[b + 1] - base;
    if (expire) {
      // Auxiliary loss: every (query, memory) pair on the ramp, causal or not.
      let sum = 0;
      for (let m = 0; m < block; m++) {
        for (let i = 0; i < lb; i++) {
          const r = remaining(spans[base + i], cap, counters[base + i], m);
          const x = r / ramp + 1;
          if (x > 0 && x < 1) sum += r;
        }
      }
      aux[b] = sum / ramp / block;
    }
    for (let h = 0; h < heads; h++) {
      for (let m = 0; m < block; m++) {
        const qo = (b * block + m) * width + h * headDim;
        const po = heads * block * base + (h * block + m) * lb;
        const { lo, hi, qpos } = visible(lb, block, m, window);
        for (let i = 0; i < lb; i++) probs[po + i] = 0;
        let max = -Infinity;
        for (let i = lo; i < hi; i++) {
          if (expire && rampArg(spans[base + i], cap, counters[base + i], m, ramp) <= 0) continue;
          let s = 0;
          const ko = (base + i) * width + h * headDim;
          for (let d = 0; d < headDim; d++) s += q[qo + d] * k[ko + d];
          const dist = qpos - i;
          if (dist <= peLen) for (let d = 0; d < headDim; d++) s += q[qo + d] * keyPe[d * peLen + peLen - dist];
          s *= scale;
          probs[po + i] = s; // the logit for now
          max = Math.max(max, s);
        }
        let total = 0;
        const live = (i: number) => !expire || rampArg(spans[base + i], cap, counters[base + i], m, ramp) > 0;
        for (let i = lo; i < hi; i++) if (live(i)) total += Math.exp(probs[po + i] - max);
        for (let i = lo; i < hi; i++) probs[po + i] = live(i) ? Math.exp(probs[po + i] - max) / total : 0;
        // Attention weights w_i = p_i c_i / (sum p c + eps) in expire mode, p_i otherwise.
        let norm = 1;
        if (expire) {
          let pc = 0;
          for (let i = lo; i < hi; i++) pc += probs[po + i] * Math.min(1, Math.max(0, rampArg(spans[base + i], cap, counters[base + i], m, ramp)));
          norm = 1 / (pc + EPS);
        }
        for (let d = 0; d < headDim; d++) out[qo + d] = 0;
        for (let i = lo; i < hi; i++) {
          const p = probs[po + i];
          if (p === 0) continue;
          const c = expire ? Math.min(1, rampArg(spans[base + i], cap, counters[base + i], m, ramp)) : 1;
          const w = p * c * norm;
          const vo = (base + i) * width + h * headDim;
          for (let d = 0; d < headDim; d++) out[qo + d] += w * v[vo + d];
        }
      }
    }
  }
}

export function attentionBackward(
  mode: number, batch: number, block: number, heads: number, headDim: number, peLen: number, window: number,
  q: FloatArray, k: FloatArray, v: FloatArray, offsets: Int32Array, keyPe: FloatArray,
  spans: FloatArray, counters: FloatArray, ramp: number, cap: number,
  probs: FloatArray, dout: FloatArray, auxGrad: FloatArray,
  dq: FloatArray, dk: FloatArray, dv: FloatArray, dkeyPe: FloatArray, dspans: FloatArray,
): void {
  const width = heads * headDim, scale = 1 / Math.sqrt(headDim), expire = mode === AttentionMode.Expire;
  for (let b = 0; b < batch; b++) {
    const base = offsets[b], lb = offsets[b + 1] - base;
    if (expire) {
      // d aux_b / d e_i = (pairs of memory i on the ramp) / (R M), where e_i is under the cap.
      for (let i = 0; i < lb; i++) {
        if (spans[base + i] > cap) continue;
        let count = 0;
        for (let m = 0; m < block; m++) {
          const x = rampArg(spans[base + i], cap, counters[base + i], m, ramp);
          if (x > 0 && x < 1) count++;
        }
        dspans[base + i] += (auxGrad[b] * count) / ramp / block;
      }
    }
    for (let h = 0; h < heads; h++) {
      for (let m = 0; m < block; m++) {
        const qo = (b * block + m) * width + h * headDim;
        const po = heads * block * base + (h * block + m) * lb;
        const { lo, hi, qpos } = visible(lb, block, m, window);
        const mask = (i: number) => (expire ? Math.min(1, Math.max(0, rampArg(spans[base + i], cap, counters[base + i], m, ramp))) : 1);
        let pc = 0;
        for (let i = lo; i < hi; i++) pc += probs[po + i] * mask(i);
        const norm = expire ? 1 / (pc + EPS) : 1;
        // dw_i = dout . v_i;  g = sum w_i dw_i
        const dw = new Float64Array(hi - lo);
        let g = 0;
        for (let i = lo; i < hi; i++) {
          const p = probs[po + i];
          if (p === 0) continue;
          const vo = (base + i) * width + h * headDim;
          let s = 0;
          for (let d = 0; d < headDim; d++) s += dout[qo + d] * v[vo + d];
          dw[i - lo] = s;
          const w = p * mask(i) * norm;
          g += w * s;
          for (let d = 0; d < headDim; d++) dv[vo + d] += w * dout[qo + d];
        }
        // Through the renormalisation and the mask: dp_i = da_i c_i, dc_i = da_i p_i.
        const dp = new Float64Array(hi - lo);
        let pdp = 0;
        for (let i = lo; i < hi; i++) {
          const p = probs[po + i];
          if (p === 0) continue;
          if (expire) {
            const da = (dw[i - lo] - g) * norm;
            dp[i - lo] = da * mask(i);
            const x = rampArg(spans[base + i], cap, counters[base + i], m, ramp);
            if (x >= 0 && x <= 1 && spans[base + i] <= cap) dspans[base + i] += (da * p) / ramp;
          } else {
            dp[i - lo] = dw[i - lo];
          }
          pdp += p * dp[i - lo];
        }
        // Through the softmax and the scaled logits.
        for (let i = lo; i < hi; i++) {
          const p = probs[po + i];
          if (p === 0) continue;
          const ds = p * (dp[i - lo] - pdp) * scale;
          const ko = (base + i) * width + h * headDim;
          for (let d = 0; d < headDim; d++) {
            dq[qo + d] += ds * k[ko + d];
            dk[ko + d] += ds * q[qo + d];
          }
          const dist = qpos - i;
          if (dist <= peLen) {
            for (let d = 0; d < headDim; d++) {
              dq[qo + d] += ds * keyPe[d * peLen + peLen - dist];
              dkeyPe[d * peLen + peLen - dist] += ds * q[qo + d];
            }
          }
        }
      }
    }
  }
}

/**
 * Drops expired memories and ages the rest by one block. hidden: rows x width, counters and
 * spans: rows, offsets: batch + 1. Expire mode keeps memory i of a stream iff it is in the current
 * block (its last `block` rows) or e_i - counter_i + R - M > 0 (its mask is still positive at the
 * next block's first query); window mode keeps each stream's last `window` rows. Writes the kept
 * rows in order, counters + block, and new offsets; returns the number of rows kept.
 */
export function memoryPrune(
  mode: number, batch: number, block: number, width: number, ramp: number, window: number,
  hidden: FloatArray, counters: FloatArray, offsets: Int32Array, spans: FloatArray,
  outHidden: FloatArray, outCounters: FloatArray, outOffsets: Int32Array,
): number {
  let kept = 0;
  outOffsets[0] = 0;
  for (let b = 0; b < batch; b++) {
    const base = offsets[b], lb = offsets[b + 1] - base;
    for (let i = 0; i < lb; i++) {
      const keep = mode === AttentionMode.Expire
        ? i >= lb - block || spans[base + i] - counters[base + i] + ramp - block > 0
        : i >= lb - window;
      if (!keep) continue;
      for (let c = 0; c < width; c++) outHidden[kept * width + c] = hidden[(base + i) * width + c];
      outCounters[kept] = counters[base + i] + block;
      kept++;
    }
    outOffsets[b + 1] = kept;
  }
  return kept;
}
