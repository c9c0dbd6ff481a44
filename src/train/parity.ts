// Parity with the authors' PyTorch code: replays a golden file (tensors dumped from the
// reference, DESIGN.md §3) through our model and compares everything it recorded.
import { readSafetensorsFile } from '../io/file.js';
import type { StoredTensor } from '../io/safetensors.js';
import { configFromReferenceArgs, type ModelConfig } from '../model/config.js';
import type { MemoryState } from '../model/memory-state.js';
import { SequenceModel } from '../model/sequence-model.js';
import { Tape } from '../tensor/tape.js';
import { Tensor } from '../tensor/tensor.js';
import { Adam } from './adam.js';
import { clipGradNorm } from './clip.js';

export interface ParityGroup {
  name: string;
  /** Largest error over the group, relative to the largest reference value of each tensor. */
  worst: number;
  /** The tensor where it occurred. */
  where: string;
  compared: number;
}

export interface ParityReport {
  file: string;
  config: ModelConfig;
  blocks: number;
  groups: ParityGroup[];
  tolerance: number;
  ok: boolean;
}

export class ParityError extends Error {}

/** max |a - b| / max |b| (the reference's scale), 0 for two empty tensors. */
export function relativeError(a: ArrayLike<number>, b: ArrayLike<number>): number {
  if (a.length !== b.length) return Infinity;
  let diff = 0, scale = 0;
  for (let i = 0; i < b.length; i++) {
    diff = Math.max(diff, Math.abs(a[i] - b[i]));
    scale = Math.max(scale, Math.abs(b[i]));
  }
  if (Number.isNaN(diff)) return Infinity;
  return diff === 0 ? 0 : diff / Math.max(scale, 1e-30);
}

class Groups {
  private readonly byName = new Map<string, ParityGroup>();
  add(name: string, where: string, error: number): void {
    let g = this.byName.get(name);
    if (!g) this.byName.set(name, (g = { name, worst: -1, where, compared: 0 }));
    g.compared++;
    if (error > g.worst) [g.worst, g.where] = [error, where];
  }
  get list(): ParityGroup[] {
    return [...this.byName.values()];
  }
}

function toInt32(t: StoredTensor, name: string): Int32Array {
  if (t.data instanceof Int32Array) return t.data;
  if (!(t.data instanceof BigInt64Array)) throw new ParityError(`${name}: expected integer ids, got ${t.dtype}`);
  return Int32Array.from(t.data, (v) => {
    if (v < -(2n ** 31n) || v >= 2n ** 31n) throw new ParityError(`${name}: id ${v} does not fit in 32 bits`);
    return Number(v);
  });
}

function float32(t: StoredTensor | undefined, name: string): Float32Array {
  if (!t) throw new ParityError(`the golden file has no tensor "${name}"`);
  if (!(t.data instanceof Float32Array)) throw new ParityError(`${name}: expected F32, got ${t.dtype}`);
  return t.data;
}

/** Replays every block of a golden file and compares; see the `parity` command. */
export function runParity(path: string, tolerance = 1e-4): ParityReport {
  const { tensors, metadata } = readSafetensorsFile(path);
  let info: { meta: { batch: number; nblocks: number; vocab: number; adam_lr: number; grad_clip: number }; args: Record<string, unknown> };
  try {
    info = JSON.parse(metadata.info ?? '');
  } catch {
    throw new ParityError(`${path}: __metadata__.info is missing or not JSON`);
  }
  const { meta, args } = info;
  if (args.expire_span_noisy || Number(args.expire_span_layerdrop) > 0) {
    throw new ParityError(`${path}: random regularisers (--expire-span-noisy, --expire-span-layerdrop) cannot be replayed`);
  }
  const config = configFromReferenceArgs({ ...args, dropout: 0 }, meta.vocab ?? (args.vocab_sz as number));
  const get = (name: string) => float32(tensors.get(name), name);
  const model = new SequenceModel(config);
  const ours = new Set<string>();
  for (const [name] of model.params.entries()) {
    const stored = tensors.get(`param.${name}`);
    if (!stored) throw new ParityError(`${path}: no "param.${name}" for the model's parameter ${name}`);
    model.params.load(name, stored.shape, get(`param.${name}`));
    ours.add(name);
  }
  for (const name of tensors.keys()) {
    if (name.startsWith('param.') && !ours.has(name.slice(6))) throw new ParityError(`${path}: the reference has a parameter "${name.slice(6)}" that this model lacks`);
  }

  const batch = meta.batch, L = config.nlayers;
  const memory = model.initialMemory(batch);
  for (let l = 0; l < L; l++) {
    const h = tensors.get(`init.h.${l}`)!;
    const rows = h.shape[1];
    // init.c holds Expire-Span's counters, or the Compressive Transformer's compressed memory.
    const counters = config.expireSpan ? get(`init.c.${l}`) : Float32Array.from({ length: batch * rows }, (_, i) => rows - (i % rows));
    memory.layers[l] = {
      hidden: get(`init.h.${l}`).slice(),
      counters: counters.slice(),
      offsets: Int32Array.from({ length: batch + 1 }, (_, b) => b * rows),
      compressed: config.compress ? get(`init.c.${l}`).slice() : undefined,
    };
  }

  const groups = new Groups();
  const params = model.params.tensors;
  const tape = new Tape();
  let block0Grads: Float32Array[] | null = null;
  for (let k = 0; k < meta.nblocks; k++) {
    const x = toInt32(tensors.get(`block${k}.x`)!, `block${k}.x`), y = toInt32(tensors.get(`block${k}.y`)!, `block${k}.y`);
    for (const p of params) p.grad!.fill(0);
    const result = model.forward(tape, x, y, memory, { training: true });
    tape.backward(result.loss);
    groups.add('logprobs', `block${k}.logprobs`, relativeError(result.logprobs.data, get(`block${k}.logprobs`)));
    groups.add('nll', `block${k}.nll`, relativeError(result.nll.data, get(`block${k}.nll`)));
    groups.add('aux', `block${k}.aux`, relativeError(result.aux?.data ?? [0], get(`block${k}.aux`)));
    for (const [name, p] of model.params.entries()) {
      groups.add('gradients', `block${k}.grad.${name}`, relativeError(p.grad!, get(`block${k}.grad.${name}`)));
    }
    tape.reset();
    compareCaches(model, memory, k, get, tensors, groups);
    if (k === 0) block0Grads = params.map((p) => p.grad!.slice());
  }

  // One Adam step on block 0's gradients, clipped as the golden run did.
  params.forEach((p, i) => p.grad!.set(block0Grads![i]));
  clipGradNorm(params, meta.grad_clip);
  new Adam(params, { lr: meta.adam_lr }).update();
  model.clampParameters();
  for (const [name, p] of model.params.entries()) groups.add('adam step', `adam.param.${name}`, relativeError(p.data, get(`adam.param.${name}`)));

  const list = groups.list;
  return { file: path, config, blocks: meta.nblocks, groups: list, tolerance, ok: list.every((g) => g.worst <= tolerance) };
}

/**
 * Caches after block k. The reference drops only the batch-wide minimum number of expired
 * memories (in multiples of M); we drop every expired one. So: each memory we keep must be the
 * reference's memory with the same counter, in order, and each memory of the reference that we
 * dropped must really be expired (its span, recomputed from the reference's own hidden state,
 * gives mask 0 at the next block).
 */
function compareCaches(model: SequenceModel, memory: MemoryState, k: number, get: (n: string) => Float32Array, tensors: Map<string, StoredTensor>, groups: Groups): void {
  const c = model.config, batch = memory.batch, H = c.hidSz;
  for (let l = 0; l < c.nlayers; l++) {
    const refH = get(`block${k}.h.${l}`), refShape = tensors.get(`block${k}.h.${l}`)!.shape;
    const rows = refShape[1];
    const ours = memory.layers[l];
    if (!c.expireSpan) {
      groups.add('cache hidden', `block${k}.h.${l}`, relativeError(ours.hidden, refH));
      if (c.compress) groups.add('cache compressed', `block${k}.c.${l}`, relativeError(ours.compressed!, get(`block${k}.c.${l}`)));
      continue;
    }
    const refC = get(`block${k}.c.${l}`);
    const alive = referenceAlive(model, l, refH, refC);
    for (let b = 0; b < batch; b++) {
      let j = 0;
      for (let i = ours.offsets[b]; i < ours.offsets[b + 1]; i++) {
        // Reference memories skipped on the way must be expired.
        while (j < rows && refC[b * rows + j] !== ours.counters[i]) {
          if (alive[b * rows + j]) groups.add('cache counters', `block${k}.c.${l} stream ${b}: live memory with counter ${refC[b * rows + j]} was dropped`, Infinity);
          j++;
        }
        if (j === rows) {
          groups.add('cache counters', `block${k}.c.${l} stream ${b}: kept a memory with counter ${ours.counters[i]} the reference does not have`, Infinity);
          break;
        }
        groups.add('cache counters', `block${k}.c.${l}`, 0);
        groups.add('cache hidden', `block${k}.h.${l}`, relativeError(ours.hidden.subarray(i * H, (i + 1) * H), refH.subarray((b * rows + j) * H, (b * rows + j + 1) * H)));
        j++;
      }
      for (; j < rows; j++) {
        if (alive[b * rows + j]) groups.add('cache counters', `block${k}.c.${l} stream ${b}: live memory with counter ${refC[b * rows + j]} was dropped`, Infinity);
      }
    }
  }
}

/** Whether each of the reference's cached memories still has mask > 0 at the next block. */
function referenceAlive(model: SequenceModel, l: number, hidden: Float32Array, counters: Float32Array): boolean[] {
  const c = model.config, layer = model.layers[l];
  const t = new Tape();
  t.recording = false;
  const rows = counters.length;
  let keys = new Tensor(hidden, [rows, c.hidSz]);
  if (c.preNorm) keys = layer.norm1.forward(t, keys);
  const spans = layer.attn.spans(t, keys)!.data;
  // Mask at the next block's first query: (e - counter) / R + 1 > 0.
  return Array.from(counters, (counter, i) => (spans[i] - counter) / c.expireSpanRamp + 1 > 0);
}
