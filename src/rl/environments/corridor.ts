// Corridor: a colour cue at the start, a corridor of `length` steps, then a junction with one exit
// per colour. Walking is automatic (any action steps forward), so the only decision is the exit,
// and it needs the cue seen `length` steps earlier. The right exit gives +1, a wrong one -1; every
// step costs `penalty`. Corridor cells show one of `noise` tokens at random (1: all the same).
//
// Observations: cue0..cue{C-1} (step 0), corridor0..corridor{noise-1}, junction (step `length`).
import { option } from '../../data/tasks/task.js';
import type { EnvironmentKind } from './environment.js';

export const corridor: EnvironmentKind = {
  name: 'corridor',
  summary: 'remember the colour cue at the start of a corridor, choose the matching exit at its end',
  options: [
    option('length', 200, 1, 100_000, 'steps from the cue to the junction'),
    option('colours', 2, 2, 16, 'cue colours, one exit each'),
    option('noise', 1, 1, 64, 'kinds of corridor cells shown at random'),
    option('penalty', 0.001, 0, 1, 'cost of every step', false),
  ],
  observations: (o) => [
    ...Array.from({ length: o.colours }, (_, c) => `cue${c}`),
    ...Array.from({ length: o.noise }, (_, n) => `corridor${n}`),
    'junction',
  ],
  actions: (o) => Array.from({ length: o.colours }, (_, c) => `exit${c}`),
  chance: (o) => 1 / o.colours,
  create(o, random) {
    const corridor0 = o.colours, junction = o.colours + o.noise;
    let cue = 0, position = 0;
    return {
      reset() {
        cue = random.nextUint32() % o.colours;
        position = 0;
        return cue;
      },
      step(action) {
        if (position < o.length) {
          position++;
          const observation = position === o.length ? junction : corridor0 + (random.nextUint32() % o.noise);
          return { observation, reward: -o.penalty, done: false };
        }
        const success = action === cue;
        return { observation: junction, reward: (success ? 1 : -1) - o.penalty, done: true, trial: { success } };
      },
    };
  },
};
