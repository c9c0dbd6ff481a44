// The block-recurrent sequence model (Expire-Span, or the Transformer-XL baseline): embeddings,
// layers that attend over their per-stream memories, and a log-softmax output. forward() takes
// one block of M tokens per stream, and leaves in `memory` what the next block will see.
import { AttentionMode } from '../kernels/attention.js';
import { kernels } from '../kernels/index.js';
import { ConfigError, positionLength, type ModelConfig } from './config.js';
import type { MemoryState } from './memory-state.js';
import { Linear } from '../nn/linear.js';
import { LayerNorm } from '../nn/layer-norm.js';
import { normal, ParameterStore } from '../nn/parameters.js';
import { TransformerLayer } from '../nn/transformer-layer.js';
import { joinMemory } from '../tensor/memory-ops.js';
import { add, crossEntropy, embedding, scale, sum } from '../tensor/ops.js';
import { Random } from '../tensor/random.js';
import type { Tape } from '../tensor/tape.js';
import type { Tensor } from '../tensor/tensor.js';

export interface ForwardOptions {
  /** Training adds the span loss and enables the random regularisers (noise, layer drop). */
  training: boolean;
  /** Source of the regularisers' randomness. */
  random?: Random;
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
  forward(t: Tape, x: Int32Array, y: Int32Array, memory: MemoryState, { training, random = this.noRandom }: ForwardOptions): BlockResult {
    const c = this.config, batch = memory.batch, block = c.memSz;
    if (x.length !== batch * block || y.length !== batch * block) {
      throw new RangeError(`SequenceModel.forward: x and y must hold batch x mem-sz = ${batch} x ${block} = ${batch * block} ids, got ${x.length} and ${y.length}`);
    }
    if (memory.layers.length !== c.nlayers || memory.width !== c.hidSz) {
      throw new RangeError(`SequenceModel.forward: the memory has ${memory.layers.length} layers of width ${memory.width}, the model ${c.nlayers} of ${c.hidSz}`);
    }
    if (training && c.dropout > 0) throw new ConfigError('dropout', 'dropout in training is not implemented yet; use --dropout 0');
    const spanCap = training && c.expireSpan && c.expireSpanNoisy ? random.next() * c.attnLim : Infinity;
    const blockCounters = Float32Array.from({ length: block }, (_, m) => -m);

    let h = embedding(t, x, this.inEmb, [batch * block]);
    const auxTerms: Tensor[] = [];
    this.layers.forEach((layer, l) => {
      const mem = memory.layers[l];
      const { packed, offsets } = joinMemory(t, mem.hidden, mem.offsets, h, batch, block);
      const counters = new Float32Array(offsets[batch]);
      for (let b = 0; b < batch; b++) {
        counters.set(mem.counters.subarray(mem.offsets[b], mem.offsets[b + 1]), offsets[b]);
        counters.set(blockCounters, offsets[b + 1] - block);
      }
      const dropped = training && c.expireSpanLayerdrop > 0 && random.next() < c.expireSpanLayerdrop;
      const result = layer.forward(t, h, packed, { batch, layout: { offsets }, counters, spanCap }, dropped);
      if (result.out) h = result.out;
      if (result.aux && training) auxTerms.push(scale(t, sum(t, result.aux), c.expireSpanLoss / batch));
      memory.layers[l] = prune(c, batch, packed.data, counters, offsets, result.spans?.data);
    });

    if (this.outNorm) h = this.outNorm.forward(t, h);
    const ce = crossEntropy(t, this.out.forward(t, h), y);
    const aux = auxTerms.length > 0 ? auxTerms.reduce((a, b) => add(t, a, b)) : null;
    return { logprobs: ce.logprobs, nll: ce.loss, nllPerToken: ce.nll, aux, loss: aux ? add(t, ce.loss, aux) : ce.loss };
  }
}

/** The memories of [cache ; block] that the next block can still see, aged by one block. */
function prune(c: ModelConfig, batch: number, hidden: Float32Array, counters: Float32Array, offsets: Int32Array, spans: Float32Array | undefined) {
  const rows = offsets[batch];
  const next = { hidden: new Float32Array(rows * c.hidSz), counters: new Float32Array(rows), offsets: new Int32Array(batch + 1) };
  const mode = c.expireSpan ? AttentionMode.Expire : AttentionMode.Window;
  const kept = kernels.memoryPrune(mode, batch, c.memSz, c.hidSz, c.expireSpanRamp, c.attnLim, hidden, counters, offsets, spans ?? new Float32Array(0), next.hidden, next.counters, next.offsets);
  return { hidden: next.hidden.slice(0, kept * c.hidSz), counters: next.counters.slice(0, kept), offsets: next.offsets };
}
