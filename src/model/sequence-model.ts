// The block-recurrent sequence model (Expire-Span, or the baselines Transformer-XL, Adaptive-Span
// and the Compressive Transformer, which differ only in their attention): embeddings,
// layers that attend over their per-stream memories, and a log-softmax output. forward() takes
// one block of M tokens per stream, and leaves in `memory` what the next block will see.
import { positionLength, type ModelConfig } from './config.js';
import { MemoryState } from './memory-state.js';
import { enterBlock, leaveBlock, memoryWithPrefix } from './memory-step.js';
import { Linear } from '../nn/linear.js';
import { LayerNorm } from '../nn/layer-norm.js';
import { normal, ParameterStore } from '../nn/parameters.js';
import { TransformerLayer } from '../nn/transformer-layer.js';
import { add, crossEntropy, embedding, scale, sum } from '../tensor/ops.js';
import { Random } from '../tensor/random.js';
import type { Tape } from '../tensor/tape.js';
import type { Tensor } from '../tensor/tensor.js';

export interface ForwardOptions {
  /** Training adds the span loss and enables the random regularisers (noise, layer drop). */
  training: boolean;
  /** Source of the regularisers' randomness. */
  random?: Random;
  /**
   * The memory belongs to this call (nothing else reads its layers afterwards): each layer's
   * kept states stay in the tape's buffer of the block's packed rows (readable after backward or
   * Tape.reset()), and the next block gives that buffer back to the tape's pool once it has read
   * them, instead of copying them into arrays of their own.
   */
  recycleMemory?: boolean;
}

export interface BlockResult {
  /** log-softmax over the vocabulary: [batch * M, vocab]. */
  logprobs: Tensor;
  /** Mean negative log-likelihood over the counted targets: [1]. */
  nll: Tensor;
  /** Per-position negative log-likelihood (0 where the target is left out). */
  nllPerToken: Float32Array;
  /** The span loss summed over layers (training with Expire-Span only): [1]. */
  aux: Tensor | null;
  /** What training minimises: nll + aux. */
  loss: Tensor;
  /** Expire-Span: per layer, the span of every block token ([batch * M], stream-major); else empty. */
  spans: Float32Array[];
}

export class SequenceModel {
  readonly params: ParameterStore;
  readonly inEmb: Tensor;
  readonly keyPe: Tensor;
  readonly layers: TransformerLayer[];
  readonly outNorm: LayerNorm | null;
  readonly out: Linear;
  private readonly noRandom = new Random(1);

  constructor(readonly config: ModelConfig, seed = 1) {
    const c = config;
    this.params = new ParameterStore(new Random(seed));
    this.inEmb = this.params.add('in_emb.weight', [c.vocabSize, c.hidSz], normal);
    // One position embedding, shared by every layer's attention (the reference's layer 0 owns it).
    this.keyPe = this.params.add('layers.0.attn.attn.key_pe', [1, c.headDim, positionLength(c)], normal);
    this.layers = Array.from({ length: c.nlayers }, (_, l) => new TransformerLayer(this.params, `layers.${l}`, c, this.keyPe));
    this.out = new Linear(this.params, 'out.out_emb', c.hidSz, c.vocabSize);
    this.outNorm = c.preNorm ? new LayerNorm(this.params, 'out_norm', c.hidSz) : null;
  }

  /**
   * One block: x and y hold batch * M token ids (stream-major); a negative target is left out
   * of the loss. Replaces memory's layers with the memories kept for the next block.
   */
  forward(t: Tape, x: Int32Array, y: Int32Array, memory: MemoryState, options: ForwardOptions): BlockResult {
    if (y.length !== x.length) throw new RangeError(`SequenceModel.forward: x and y must hold as many ids, got ${x.length} and ${y.length}`);
    const { hidden, aux, spans } = this.encode(t, x, memory, options);
    const ce = crossEntropy(t, this.out.forward(t, hidden), y);
    const loss = aux ? add(t, ce.loss, aux) : ce.loss;
    t.retain(ce.logprobs, ce.loss, ce.nll, aux, loss);
    return { logprobs: ce.logprobs, nll: ce.loss, nllPerToken: ce.nll, aux, loss, spans };
  }

  /**
   * The block's final hidden states [batch * M, H] (after the output norm, before the output
   * layer), for heads of other kinds (an agent's policy and value); aux and spans as in forward.
   */
  encode(t: Tape, x: Int32Array, memory: MemoryState, { training, random = this.noRandom, recycleMemory = false }: ForwardOptions): { hidden: Tensor; aux: Tensor | null; spans: Float32Array[] } {
    const c = this.config, batch = memory.batch, block = c.memSz;
    if (x.length !== batch * block) {
      throw new RangeError(`SequenceModel: x must hold batch x mem-sz = ${batch} x ${block} = ${batch * block} ids, got ${x.length}`);
    }
    if (memory.layers.length !== c.nlayers || memory.width !== c.hidSz) {
      throw new RangeError(`SequenceModel: the memory has ${memory.layers.length} layers of width ${memory.width}, the model ${c.nlayers} of ${c.hidSz}`);
    }
    const spanCap = training && c.expireSpan && c.expireSpanNoisy ? random.next() * c.attnLim : Infinity;

    let h = embedding(t, x, this.inEmb, [batch * block]);
    const auxTerms: Tensor[] = [];
    const spans: Float32Array[] = [];
    this.layers.forEach((layer, l) => {
      const cacheSize = layer.attn.cacheSize();
      const input = enterBlock(t, c, memory.layers[l], h, batch, block, recycleMemory);
      const dropped = training && c.expireSpanLayerdrop > 0 && random.next() < c.expireSpanLayerdrop;
      const ctx = { batch, queries: block, layout: { offsets: input.offsets }, counters: input.counters, spanCap, compressed: input.compressed, dropout: training ? c.dropout : 0, random };
      const result = layer.forward(t, h, input.packed, ctx, dropped);
      if (result.out) h = result.out;
      if (training && result.aux) auxTerms.push(scale(t, sum(t, result.aux), c.expireSpanLoss / batch));
      if (training && layer.attn.adaptiveSpan) auxTerms.push(layer.attn.adaptiveSpan.loss(t));
      if (result.spans) spans.push(blockRows(result.spans.data, input.offsets, batch, block));
      memory.layers[l] = leaveBlock(c, batch, input, result.spans?.data, cacheSize, recycleMemory ? t : undefined);
    });
    if (this.outNorm) h = this.outNorm.forward(t, h);
    const aux = auxTerms.length > 0 ? auxTerms.reduce((a, b) => add(t, a, b)) : null;
    return { hidden: h, aux, spans };
  }

  /**
   * The next rows of a block under way, without moving the memory: x holds Q new ids per stream;
   * prefixes[l] (batch x M x H) holds in its first k rows per stream the layer-l inputs of the
   * block's rows so far, and gets the new rows' inputs after them. Gives what encode gives for
   * these rows of the whole block (attention is causal) at the cost of Q rows. Evaluation only;
   * not for the Compressive Transformer.
   */
  encodeNext(t: Tape, x: Int32Array, memory: MemoryState, prefixes: Float32Array[], k: number): { hidden: Tensor; spans: Float32Array[] } {
    const c = this.config, batch = memory.batch, H = c.hidSz, Q = x.length / batch;
    if (c.compress) throw new Error('SequenceModel.encodeNext: the Compressive Transformer runs whole blocks only');
    if (!Number.isInteger(Q) || Q < 1 || k < 0 || k + Q > c.memSz) throw new RangeError(`SequenceModel.encodeNext: ${x.length} ids for ${batch} streams after ${k} rows do not fit a block of ${c.memSz}`);
    let h = embedding(t, x, this.inEmb, [batch * Q]);
    const spans: Float32Array[] = [];
    this.layers.forEach((layer, l) => {
      if (prefixes[l].length !== batch * c.memSz * H) throw new RangeError(`SequenceModel.encodeNext: prefix ${l} must hold ${batch} x ${c.memSz} x ${H} values`);
      for (let b = 0; b < batch; b++) prefixes[l].set(h.data.subarray(b * Q * H, (b + 1) * Q * H), (b * c.memSz + k) * H);
      const input = enterBlock(t, c, memoryWithPrefix(memory.layers[l], prefixes[l], k, batch, H), h, batch, Q);
      const ctx = { batch, queries: Q, layout: { offsets: input.offsets }, counters: input.counters, spanCap: Infinity, compressed: 0, dropout: 0, random: this.noRandom };
      const result = layer.forward(t, h, input.packed, ctx);
      h = result.out!;
      if (result.spans) spans.push(blockRows(result.spans.data, input.offsets, batch, Q));
    });
    if (this.outNorm) h = this.outNorm.forward(t, h);
    return { hidden: h, spans };
  }

  /** Memory rows each layer keeps between blocks (Transformer-XL-style models). */
  cacheSizes(): number[] {
    return this.layers.map((layer) => layer.attn.cacheSize());
  }

  /** How many steps back each layer's queries look (see MemoryAttention.window). */
  windows(): number[] {
    return this.layers.map((layer) => layer.attn.window());
  }

  /** The starting memory for `batch` streams. */
  initialMemory(batch: number): MemoryState {
    return MemoryState.initial(this.config, batch, this.cacheSizes());
  }

  /** Keeps parameters in their allowed ranges; call after every optimiser update. */
  clampParameters(): void {
    for (const layer of this.layers) layer.attn.adaptiveSpan?.clamp();
  }
}


/** The last M values of every stream's packed rows (its block), stream after stream. */
function blockRows(values: Float32Array, offsets: Int32Array, batch: number, block: number): Float32Array {
  const out = new Float32Array(batch * block);
  for (let b = 0; b < batch; b++) out.set(values.subarray(offsets[b + 1] - block, offsets[b + 1]), b * block);
  return out;
}
