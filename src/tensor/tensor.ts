// A float32 tensor: a flat row-major buffer with a shape, and (when it takes part in training)
// a gradient buffer of the same size. Tensors do not compute anything themselves; ops in
// ./ops.ts do, recording their backward on a Tape.

export type Shape = readonly number[];

export function sizeOf(shape: Shape): number {
  let n = 1;
  for (const d of shape) n *= d;
  return n;
}

export function shapeString(shape: Shape): string {
  return `[${shape.join(', ')}]`;
}

export function checkShape(where: string, shape: Shape): void {
  for (const d of shape) {
    if (!Number.isInteger(d) || d < 0) throw new RangeError(`${where}: bad shape ${shapeString(shape)}: every dimension must be a non-negative integer`);
  }
}

/**
 * Each stream's last `length` rows of a ragged layout (stream b's rows end at offsets[b+1]),
 * copied from `source` ([streams * length, width], stream after stream).
 */
export interface StreamTails {
  offsets: Int32Array;
  length: number;
  source: Tensor;
}

export class Tensor {
  readonly shape: Shape;
  readonly size: number;
  /**
   * Set on a [memory ; block] packing: only each stream's block rows have a gradient anyone
   * reads (memories are detached between blocks), so backward may compute the input gradient of
   * those rows alone (Transformer-XL: 1 of every 9) and add it straight into the block's own
   * gradient, with no gradient buffer for the packing.
   */
  gradRows: StreamTails | null = null;

  /**
   * A tensor that requires a gradient owns a zeroed gradient buffer unless one is given; a Tape
   * passes null for the tensors it makes, and fills that in from its pool when backward needs it.
   */
  constructor(
    readonly data: Float32Array,
    shape: Shape,
    /** Whether backward computes a gradient for this tensor. */
    readonly requiresGrad = false,
    /** Gradient of the loss with respect to this tensor; null until something needs it. */
    public grad: Float32Array | null = requiresGrad ? new Float32Array(data.length) : null,
  ) {
    checkShape('Tensor', shape);
    this.shape = [...shape];
    this.size = sizeOf(shape);
    if (data.length !== this.size) {
      throw new RangeError(`Tensor: a buffer of ${data.length} elements does not fit shape ${shapeString(shape)} (${this.size} elements)`);
    }
  }

  static zeros(shape: Shape, requiresGrad = false): Tensor {
    checkShape('Tensor.zeros', shape);
    return new Tensor(new Float32Array(sizeOf(shape)), shape, requiresGrad);
  }

  static from(values: ArrayLike<number>, shape: Shape, requiresGrad = false): Tensor {
    return new Tensor(Float32Array.from(values), shape, requiresGrad);
  }

  /** A trainable tensor: it owns a zeroed gradient buffer from the start. */
  static parameter(data: Float32Array, shape: Shape): Tensor {
    return new Tensor(data, shape, true);
  }

  /** Size of the last dimension (1 for a scalar). */
  get cols(): number {
    return this.shape.length === 0 ? 1 : this.shape[this.shape.length - 1];
  }

  /** Product of all but the last dimension. */
  get rows(): number {
    return this.cols === 0 ? 0 : this.size / this.cols;
  }

  toString(): string {
    return `Tensor${shapeString(this.shape)}`;
  }
}
