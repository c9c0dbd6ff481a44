// The model's parameters by name. Names are the reference's PyTorch names (e.g.
// "layers.0.attn.proj_query.weight"), so weights move between the two implementations.
import type { Random } from '../tensor/random.js';
import { Tensor, shapeString, sizeOf, type Shape } from '../tensor/tensor.js';

export type Init = (random: Random, size: number) => Float32Array;

/** U(-1/sqrt(fanIn), 1/sqrt(fanIn)), torch.nn.Linear's default for weight and bias. */
export const uniformFanIn = (fanIn: number): Init => (random, size) => {
  const bound = 1 / Math.sqrt(fanIn);
  return Float32Array.from({ length: size }, () => (2 * random.next() - 1) * bound);
};
export const normal: Init = (random, size) => Float32Array.from({ length: size }, () => random.normal());
export const constant = (value: number): Init => (_, size) => new Float32Array(size).fill(value);

export class ParameterStore {
  private readonly byName = new Map<string, Tensor>();

  constructor(private readonly random: Random) {}

  add(name: string, shape: Shape, init: Init): Tensor {
    if (this.byName.has(name)) throw new Error(`ParameterStore: "${name}" is defined twice`);
    const t = Tensor.parameter(init(this.random, sizeOf(shape)), shape);
    this.byName.set(name, t);
    return t;
  }

  get(name: string): Tensor {
    const t = this.byName.get(name);
    if (!t) throw new Error(`no parameter named "${name}"`);
    return t;
  }

  has(name: string): boolean {
    return this.byName.has(name);
  }

  entries(): IterableIterator<[string, Tensor]> {
    return this.byName.entries();
  }

  get tensors(): Tensor[] {
    return [...this.byName.values()];
  }

  get count(): number {
    let n = 0;
    for (const t of this.byName.values()) n += t.size;
    return n;
  }

  /** Copies values into the parameter `name`, checking the shape (extra leading 1s allowed). */
  load(name: string, shape: readonly number[], data: Float32Array): void {
    const t = this.get(name);
    const squeeze = (s: readonly number[]) => s.filter((d) => d !== 1);
    if (data.length !== t.size || squeeze(shape).join() !== squeeze(t.shape).join()) {
      throw new Error(`parameter "${name}": the model has shape ${shapeString(t.shape)}, the file has ${shapeString(shape)}`);
    }
    t.data.set(data);
  }
}
