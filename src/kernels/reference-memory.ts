// TypeScript reference of the memory kernels: masked relative-position attention over ragged
// per-stream memories (definition in attention.ts) and memory pruning.
import { AttentionMode } from './attention.js';
import { dropoutFactor } from './dropout.js';
import type { FloatArray } from './kernels.js';

const EPS = 1e-8;

interface Settings {
  mode: number;
  batch: number;
  block: number;
  heads: number;
  headDim: number;
  peLen: number;
  window: number;
  rate: number;
  compressed: number;
  spans: FloatArray;
  counters: FloatArray;
  ramp: number;
  limit: number;
}

/** One key a query sees: its row (global), its key_pe index (-1: none), its mask argument x. */
interface Visible {
  row: number;
  pe: number;
  /** Unclamped mask argument (expire and adaptive modes; 2 elsewhere, i.e. mask 1). */
  x: number;
}

/** The keys query m of head h in stream b sees, in row order. */
function visibleKeys(s: Settings, offsets: Int32Array, b: number, h: number, m: number): Visible[] {
  const base = offsets[b], lb = offsets[b + 1] - base, qpos = lb - s.block + m;
  const keys: Visible[] = [];
  const first = s.mode === AttentionMode.Compressive ? s.compressed : 0;
  if (s.mode === AttentionMode.Compressive) {
    const slots = s.compressed - s.block / s.rate + 1, a = Math.floor(m / s.rate);
    for (let j = 0; j < slots; j++) keys.push({ row: base + a + j, pe: j, x: 2 });
  }
  for (let i = Math.max(first, qpos - s.window); i < qpos; i++) {
    const d = qpos - i;
    let x = 2;
    if (s.mode === AttentionMode.Expire) x = (Math.min(s.spans[base + i], s.limit) - s.counters[base + i] - m) / s.ramp + 1;
    if (s.mode === AttentionMode.Adaptive) x = (1 - d + s.spans[s.spans.length === 1 ? 0 : h] * s.limit) / s.ramp + 1;
    keys.push({ row: base + i, pe: d <= s.peLen ? s.peLen - d : -1, x });
  }
  return keys;
}

const clamp01 = (x: number) => Math.min(1, Math.max(0, x));
const masked = (s: Settings) => s.mode === AttentionMode.Expire || s.mode === AttentionMode.Adaptive;
/** Whether a key enters the softmax: expire mode leaves out memories whose mask is 0. */
const inSoftmax = (s: Settings, key: Visible) => s.mode !== AttentionMode.Expire || key.x > 0;

function logit(s: Settings, q: FloatArray, qo: number, k: FloatArray, keyPe: FloatArray, key: Visible, h: number): number {
  const width = s.heads * s.headDim, ko = key.row * width + h * s.headDim;
  let v = 0;
  for (let d = 0; d < s.headDim; d++) v += q[qo + d] * k[ko + d];
  if (key.pe >= 0) for (let d = 0; d < s.headDim; d++) v += q[qo + d] * keyPe[d * s.peLen + key.pe];
  return v / Math.sqrt(s.headDim);
}

/** The keys in query m's softmax (head h, stream b) and their probabilities. */
function rowProbs(s: Settings, q: FloatArray, qo: number, k: FloatArray, keyPe: FloatArray, offsets: Int32Array, b: number, h: number, m: number): { keys: Visible[]; p: number[] } {
  const keys = visibleKeys(s, offsets, b, h, m).filter((key) => inSoftmax(s, key));
  const logits = keys.map((key) => logit(s, q, qo, k, keyPe, key, h));
  const max = logits.reduce((a, z) => Math.max(a, z), -Infinity);
  const total = logits.reduce((acc, z) => acc + Math.exp(z - max), 0);
  return { keys, p: logits.map((z) => Math.exp(z - max) / total) };
}

export function attentionForward(
  mode: number, batch: number, block: number, heads: number, headDim: number, peLen: number, window: number, rate: number, compressed: number,
  q: FloatArray, k: FloatArray, v: FloatArray, offsets: Int32Array, keyPe: FloatArray,
  spans: FloatArray, counters: FloatArray, ramp: number, limit: number, dropout: number, seed: number,
  out: FloatArray, aux: FloatArray,
): void {
  const s: Settings = { mode, batch, block, heads, headDim, peLen, window, rate, compressed, spans, counters, ramp, limit };
  const width = heads * headDim;
  for (let b = 0; b < batch; b++) {
    const base = offsets[b], lb = offsets[b + 1] - base;
    if (mode === AttentionMode.Expire) {
      // Auxiliary loss: every (query, memory) pair on the ramp, causal or not.
      let sum = 0;
      for (let m = 0; m < block; m++) {
        for (let i = 0; i < lb; i++) {
          const r = Math.min(spans[base + i], limit) - counters[base + i] - m;
          const x = r / ramp + 1;
          if (x > 0 && x < 1) sum += r;
        }
      }
      aux[b] = sum / ramp / block;
    }
    for (let h = 0; h < heads; h++) {
      for (let m = 0; m < block; m++) {
        const qo = (b * block + m) * width + h * headDim;
        const po = heads * block * base + (h * block + m) * lb - base; // + row gives the dropout slot
        const { keys, p } = rowProbs(s, q, qo, k, keyPe, offsets, b, h, m);
        const norm = masked(s) ? 1 / (keys.reduce((acc, key, j) => acc + p[j] * clamp01(key.x), 0) + EPS) : 1;
        for (let d = 0; d < headDim; d++) out[qo + d] = 0;
        for (const [j, key] of keys.entries()) {
          const w = p[j] * clamp01(key.x) * norm * dropoutFactor(seed, po + key.row, dropout);
          for (let d = 0; d < headDim; d++) out[qo + d] += w * v[key.row * width + h * headDim + d];
        }
      }
    }
  }
}

export function attentionBackward(
  mode: number, batch: number, block: number, heads: number, headDim: number, peLen: number, window: number, rate: number, compressed: number,
  q: FloatArray, k: FloatArray, v: FloatArray, offsets: Int32Array, keyPe: FloatArray,
  spans: FloatArray, counters: FloatArray, ramp: number, limit: number, dropout: number, seed: number,
  dout: FloatArray, auxGrad: FloatArray,
  dq: FloatArray, dkOut: FloatArray, dvOut: FloatArray, dkeyPe: FloatArray, dspans: FloatArray,
): void {
  // dk and dv may be k and v themselves (nothing else reads them): they then end up holding the
  // gradients. Here their sums run in arrays of their own, copied over at the end.
  const dk = dkOut === k ? new Float64Array(k.length) : dkOut, dv = dvOut === v ? new Float64Array(v.length) : dvOut;
  const s: Settings = { mode, batch, block, heads, headDim, peLen, window, rate, compressed, spans, counters, ramp, limit };
  const width = heads * headDim, scale = 1 / Math.sqrt(headDim);
  for (let b = 0; b < batch; b++) {
    const base = offsets[b], lb = offsets[b + 1] - base;
    if (mode === AttentionMode.Expire) {
      // d aux_b / d e_i = (pairs of memory i on the ramp) / (R M), where e_i is under the limit.
      for (let i = 0; i < lb; i++) {
        if (spans[base + i] > limit) continue;
        let count = 0;
        for (let m = 0; m < block; m++) {
          const x = (Math.min(spans[base + i], limit) - counters[base + i] - m) / ramp + 1;
          if (x > 0 && x < 1) count++;
        }
        dspans[base + i] += (auxGrad[b] * count) / ramp / block;
      }
    }
    for (let h = 0; h < heads; h++) {
      for (let m = 0; m < block; m++) {
        const qo = (b * block + m) * width + h * headDim;
        const po = heads * block * base + (h * block + m) * lb - base;
        const { keys, p } = rowProbs(s, q, qo, k, keyPe, offsets, b, h, m);
        const c = keys.map((key) => clamp01(key.x));
        const norm = masked(s) ? 1 / (keys.reduce((acc, _, j) => acc + p[j] * c[j], 0) + EPS) : 1;
        // Through dropout and the values: dw_j = drop_j (dout . v_j); dv_j += w_j drop_j dout.
        const dw = keys.map((key, j) => {
          const vo = key.row * width + h * headDim, drop = dropoutFactor(seed, po + key.row, dropout);
          let dot = 0;
          for (let d = 0; d < headDim; d++) {
            dot += dout[qo + d] * v[vo + d];
            dv[vo + d] += p[j] * c[j] * norm * drop * dout[qo + d];
          }
          return drop * dot;
        });
        // Through the renormalisation and the mask: w = p c / (sum p c + eps).
        const g = keys.reduce((acc, _, j) => acc + p[j] * c[j] * norm * dw[j], 0);
        const dp = keys.map((key, j) => {
          if (!masked(s)) return dw[j];
          const da = (dw[j] - g) * norm;
          if (key.x >= 0 && key.x <= 1) {
            const dmask = (da * p[j]) / ramp; // d loss / d x times dx / d(span) before the span's own factor
            if (mode === AttentionMode.Expire && spans[key.row] <= limit) dspans[key.row] += dmask;
            if (mode === AttentionMode.Adaptive) dspans[spans.length === 1 ? 0 : h] += dmask * limit;
          }
          return da * c[j];
        });
        // Through the softmax and the scaled logits.
        const pdp = keys.reduce((acc, _, j) => acc + p[j] * dp[j], 0);
        keys.forEach((key, j) => {
          const ds = p[j] * (dp[j] - pdp) * scale;
          const ko = key.row * width + h * headDim;
          for (let d = 0; d < headDim; d++) {
            dq[qo + d] += ds * k[ko + d];
            dk[ko + d] += ds * q[qo + d];
            if (key.pe >= 0) {
              dq[qo + d] += ds * keyPe[d * peLen + key.pe];
              dkeyPe[d * peLen + key.pe] += ds * q[qo + d];
            }
          }
        });
      }
    }
  }
  if (dk !== dkOut) dkOut.set(dk);
  if (dv !== dvOut) dvOut.set(dv);
}

/**
 * Drops expired memories and ages the rest by one block. hidden: rows x width, counters and
 * spans: rows, offsets: batch + 1. Expire mode keeps memory i of a stream iff it is in the current
 * block (its last `block` rows) or e_i - counter_i + R - M > 0 (its mask is still positive at the
 * next block's first query); the other modes keep each stream's last `window` rows. Writes the
 * kept rows in order, counters + block, and new offsets; returns the number of rows kept.
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

/** out[r] = mean of rows r*rate .. r*rate+rate-1 of x (x: rows x width, rows a multiple of rate). */
export function meanPoolRows(x: FloatArray, rows: number, width: number, rate: number, out: FloatArray): void {
  for (let r = 0; r < rows / rate; r++) {
    for (let c = 0; c < width; c++) {
      let s = 0;
      for (let j = 0; j < rate; j++) s += x[(r * rate + j) * width + c];
      out[r * width + c] = s / rate;
    }
  }
}
