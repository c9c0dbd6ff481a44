// Instruction: an instruction token says which of `objects` objects to fetch; then `delay` steps of
// irrelevant observations (random distractor tokens); then the objects appear and the agent must
// fetch the instructed one (+1, else -1). Acting before the objects appear does nothing.
//
// Observations: fetch0..fetch{O-1}, distractor0..distractor{D-1}, objects.
import { option } from '../../data/tasks/task.js';
import type { EnvironmentKind } from './environment.js';

export const instruction: EnvironmentKind = {
  name: 'instruction',
  summary: 'an instruction shown once, a long stretch of distractors, then act on the instruction',
  options: [
    option('objects', 4, 2, 32, 'objects the instruction can name'),
    option('delay', 100, 1, 100_000, 'steps of distractors between the instruction and the objects'),
    option('distractors', 16, 1, 128, 'kinds of distractor observations'),
  ],
  observations: (o) => [
    ...Array.from({ length: o.objects }, (_, i) => `fetch${i}`),
    ...Array.from({ length: o.distractors }, (_, i) => `distractor${i}`),
    'objects',
  ],
  actions: (o) => Array.from({ length: o.objects }, (_, i) => `fetch${i}`),
  chance: (o) => 1 / o.objects,
  create(o, random) {
    const distractor0 = o.objects, shown = o.objects + o.distractors;
    let target = 0, t = 0;
    return {
      reset() {
        target = random.nextUint32() % o.objects;
        t = 0;
        return target;
      },
      step(action) {
        if (t < o.delay) {
          t++;
          return { observation: t === o.delay ? shown : distractor0 + (random.nextUint32() % o.distractors), reward: 0, done: false };
        }
        const success = action === target;
        return { observation: shown, reward: success ? 1 : -1, done: true, trial: { success } };
      },
    };
  },
};
