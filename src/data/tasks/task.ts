// A synthetic task: a seeded generator of one long token stream with a target at some positions
// (-1 elsewhere: left out of the loss and the metric). Streams are cut into the trainer's parallel
// streams like any corpus, so episodes run back to back and memory carries across them.
import type { Random } from '../../tensor/random.js';
import { DataError } from '../data-error.js';

/** A numeric option of a task, given as `task:NAME:option=value,...`. */
export interface TaskOption {
  name: string;
  help: string;
  default: number;
  min: number;
  max: number;
  integer: boolean;
}

export interface TaskStream {
  tokens: Uint8Array;
  /** The target of every position, or -1 where nothing is asked. */
  labels: Int32Array;
  /** Where each episode starts (tasks made of independent episodes). */
  episodes?: Int32Array;
}

export interface Task {
  name: string;
  summary: string;
  /** What the task reports: accuracy (copy, needle) or error % (object collision). */
  metric: 'accuracy' | 'error';
  options: TaskOption[];
  /** A problem with a combination of options, or undefined. */
  check?(options: Record<string, number>): string | undefined;
  /** Token names; targets are ids in the same vocabulary (at most 256 tokens). */
  tokens(options: Record<string, number>): string[];
  /** Writes `length` positions of the task, drawn from `random`. */
  generate(options: Record<string, number>, random: Random, length: number): TaskStream;
}

/** Episodes written back to back into a stream of `length` positions; the last one is cut short. */
export class StreamWriter {
  readonly tokens: Uint8Array;
  readonly labels: Int32Array;
  private at = 0;
  private readonly starts: number[] = [];

  constructor(readonly length: number) {
    this.tokens = new Uint8Array(length);
    this.labels = new Int32Array(length).fill(-1);
  }

  get full(): boolean {
    return this.at >= this.length;
  }

  /** Marks the next position as the start of an episode. */
  episode(): void {
    if (this.at < this.length) this.starts.push(this.at);
  }

  /** The stream written; episodes only for a task that marks them (else one long episode). */
  finish(): TaskStream {
    return { tokens: this.tokens, labels: this.labels, episodes: this.starts.length > 0 ? Int32Array.from(this.starts) : undefined };
  }

  /** The next position: a token and its target (-1: not scored). */
  put(token: number, label = -1): void {
    if (this.at < this.length) [this.tokens[this.at], this.labels[this.at]] = [token, label];
    this.at++;
  }
}

export const option = (name: string, def: number, min: number, max: number, help: string, integer = true): TaskOption => ({ name, help, default: def, min, max, integer });

/** The options every task takes: its seed and the size of each split. */
export const COMMON_OPTIONS: TaskOption[] = [
  option('seed', 1, 0, 2 ** 31 - 1, 'seed of the generator (the train, valid and test splits draw from seeds derived from it)'),
  option('train', 2_000_000, 1, 1e9, 'tokens in the training split'),
  option('valid', 200_000, 1, 1e9, 'tokens in the validation split'),
  option('test', 200_000, 1, 1e9, 'tokens in the test split'),
];

/** Parses `k=v,k=v` against a task's options; every value is checked and named in errors. */
export function parseTaskOptions(task: Task, text: string): Record<string, number> {
  const values = parseOptions(`task:${task.name}`, [...COMMON_OPTIONS, ...task.options], text);
  const problem = task.check?.(values);
  if (problem) throw new DataError(`task:${task.name}: ${problem}`);
  return values;
}

/** Parses `k=v,k=v` against option specs (defaults for the rest); `owner` names them in errors. */
export function parseOptions(owner: string, specs: TaskOption[], text: string): Record<string, number> {
  const values: Record<string, number> = Object.fromEntries(specs.map((o) => [o.name, o.default]));
  const known = specs.map((o) => o.name).join(', ');
  for (const part of text === '' ? [] : text.split(',')) {
    const eq = part.indexOf('=');
    const name = eq < 0 ? part : part.slice(0, eq);
    const spec = specs.find((o) => o.name === name);
    if (!spec) throw new DataError(`${owner} has no option "${name}" (options: ${known})`);
    const raw = eq < 0 ? '' : part.slice(eq + 1);
    const value = raw.trim() === '' ? NaN : Number(raw);
    if (!Number.isFinite(value) || (spec.integer && !Number.isInteger(value)) || value < spec.min || value > spec.max) {
      throw new DataError(`${owner}: ${name} must be ${spec.integer ? 'an integer' : 'a number'} in [${spec.min}, ${spec.max}], got "${raw}"`);
    }
    values[name] = value;
  }
  return values;
}
