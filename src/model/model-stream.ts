// A model run on a stream: push tokens one at a time or in chunks of any size and get, for each,
// the log-probabilities of the next token. The results are those of block-wise evaluation with
// mem-sz blocks, whatever the chunking: the stream keeps the memory as it stood at the last block
// boundary (pruned there exactly as in evaluation, so it stays bounded by the learned spans, not
// by the stream's length) and, per layer, the inputs of the block's tokens so far. New tokens
// inside a block are run alone against those (attention is causal, so later tokens change
// nothing before them); when a block is complete it is run whole, as evaluation runs it, and the
// memory moves on. (The Compressive Transformer, whose compressed memories are laid out per
// block, runs the block's tokens so far each time, padded.)
import type { MemoryState } from './memory-state.js';
import type { SequenceModel } from './sequence-model.js';
import { logSoftmax } from '../tensor/ops.js';
import { Tape } from '../tensor/tape.js';
import type { Tensor } from '../tensor/tensor.js';

export interface StreamOutput {
  /** The next token's log-probabilities after each pushed token: [tokens, vocab]. */
  logprobs: Float32Array;
  /** Expire-Span: per layer, the span of each pushed token; empty for other models. */
  spans: Float32Array[];
}

export class ModelStream {
  /** Tokens pushed so far. */
  position = 0;
  private memory: MemoryState;
  /** The block under way: its first `filled` tokens are the stream's latest. */
  private readonly block: Int32Array;
  private filled = 0;
  /** Per layer, the inputs of the block's tokens so far (M x H). */
  private readonly prefixes: Float32Array[];
  private readonly tape = new Tape();

  constructor(readonly model: SequenceModel) {
    this.memory = model.initialMemory(1);
    this.block = new Int32Array(model.config.memSz);
    this.prefixes = model.layers.map(() => new Float32Array(model.config.memSz * model.config.hidSz));
    this.tape.recording = false;
  }

  push(tokens: ArrayLike<number>): StreamOutput {
    const V = this.model.config.vocabSize, logprobs = new Float32Array(tokens.length * V);
    const { spans } = this.advance(tokens, (t, hidden, at) => logprobs.set(logSoftmax(t, this.model.out.forward(t, hidden)).data, at * V));
    return { logprobs, spans };
  }

  /** As push, but gives each token's final hidden state ([tokens, H]), for heads of other kinds. */
  pushHidden(tokens: ArrayLike<number>): { hidden: Float32Array; spans: Float32Array[] } {
    const H = this.model.config.hidSz, hidden = new Float32Array(tokens.length * H);
    const { spans } = this.advance(tokens, (_, h, at) => hidden.set(h.data, at * H));
    return { hidden, spans };
  }

  /** Runs the tokens; `read` gets the final hidden states of consecutive pieces from token `at` on. */
  private advance(tokens: ArrayLike<number>, read: (t: Tape, hidden: Tensor, at: number) => void): { spans: Float32Array[] } {
    const { vocabSize: vocab, memSz: M, hidSz: H } = this.model.config;
    for (let i = 0; i < tokens.length; i++) {
      const id = tokens[i];
      if (!Number.isInteger(id) || id < 0 || id >= vocab) throw new RangeError(`ModelStream.push: token ${i} is ${id}, not an id in [0, ${vocab})`);
    }
    const n = tokens.length, layers = this.model.config.expireSpan ? this.model.config.nlayers : 0;
    const spans = Array.from({ length: layers }, () => new Float32Array(n));
    const t = this.tape;
    for (let done = 0; done < n; ) {
      const start = this.filled, take = Math.min(n - done, M - start);
      for (let i = 0; i < take; i++) this.block[start + i] = tokens[done + i];
      const complete = start + take === M;
      if (complete || this.model.config.compress) {
        // The block so far, padded; a complete one moves the memory on.
        this.block.fill(0, start + take);
        const memory = complete ? this.memory : this.memory.shallowCopy();
        const result = this.model.encode(t, this.block, memory, { training: false });
        read(t, rowsOf(t, result.hidden, start, take, H), done);
        result.spans.forEach((s, l) => spans[l].set(s.subarray(start, start + take), done));
      } else {
        const next = this.model.encodeNext(t, this.block.subarray(start, start + take), this.memory, this.prefixes, start);
        read(t, next.hidden, done);
        next.spans.forEach((s, l) => spans[l].set(s, done));
      }
      t.reset();
      this.filled = complete ? 0 : start + take;
      done += take;
    }
    this.position += n;
    return { spans };
  }

  /** Memories each layer holds now: those kept at the last block boundary plus the block's tokens. */
  get kept(): number[] {
    return this.memory.layers.map((_, l) => this.memory.lengths(l)[0] + this.filled);
  }

  /** Back to the start: empty memory, position 0. */
  reset(): void {
    this.memory = this.model.initialMemory(1);
    this.filled = 0;
    this.position = 0;
  }
}

/** Rows from .. from + count of a [rows, H] tensor, as a tensor of its own. */
function rowsOf(t: Tape, x: Tensor, from: number, count: number, width: number): Tensor {
  const out = t.tensor([count, width]);
  out.data.set(x.data.subarray(from * width, (from + count) * width));
  return out;
}
