// `--data task:NAME[:option=value,...]`: the synthetic tasks, generated on the fly from a seed, so
// a checkpoint's data spec regenerates exactly the same splits.
import { Random } from '../../tensor/random.js';
import type { Corpus } from '../corpus.js';
import { DataError } from '../data-error.js';
import { Vocabulary } from '../vocabulary.js';
import { copyTask } from './copy.js';
import { needleTask } from './needle.js';
import { objectCollisionTask } from './object-collision.js';
import { COMMON_OPTIONS, parseTaskOptions, type Task } from './task.js';

export const TASKS: readonly Task[] = [copyTask, objectCollisionTask, needleTask];

/** The corpus of a `task:...` data spec. */
export function taskCorpus(spec: string): Corpus {
  const [, name = '', ...rest] = spec.split(':');
  const task = TASKS.find((t) => t.name === name);
  if (!task) throw new DataError(`unknown task "${name}" (tasks: ${TASKS.map((t) => t.name).join(', ')}; \`expire-span tasks\` lists their options)`);
  const options = parseTaskOptions(task, rest.join(':'));
  const vocab = Vocabulary.fromTokens(task.tokens(options));
  // Each split from its own seed: changing one split's size leaves the others unchanged.
  const split = (which: number, length: number) => task.generate(options, new Random(options.seed * 3 + which + 1), length);
  return { name: spec, vocab, metric: task.metric, train: split(0, options.train), valid: split(1, options.valid), test: split(2, options.test) };
}

/** Every task with its options, for `expire-span tasks`. */
export function describeTasks(): string {
  const line = (o: { name: string; default: number; help: string }) => `    ${`${o.name}=${o.default}`.padEnd(18)} ${o.help}`;
  return [
    'Tasks, used as --data task:NAME or task:NAME:option=value,option=value',
    ...TASKS.flatMap((t) => ['', `  ${t.name}: ${t.summary} (reports ${t.metric})`, ...t.options.map(line)]),
    '',
    '  every task also takes:',
    ...COMMON_OPTIONS.map(line),
  ].join('\n');
}
