// Portal: R rooms, each with R coloured portals, one to every room (itself included), in an
// order drawn anew each episode and fixed within it. The agent is shown its room and a goal room;
// reaching the goal gives +1 and a new goal; every step costs `penalty`. Every goal is one step
// away through the right portal, so a trial (one goal) succeeds when it is reached in one step:
// by chance 1 / R, always once the agent remembers where each portal of its room led before.
//
// Observations (one token): at the start of an episode (room, goal); after a step (the room left,
// the portal taken, the room reached, the goal), so that each step shows one whole transition.
import { option } from '../../data/tasks/task.js';
import type { Random } from '../../tensor/random.js';
import type { Environment, EnvironmentKind } from './environment.js';

export const portal: EnvironmentKind = {
  name: 'portal',
  summary: 'rooms joined by portals whose destinations are drawn per episode: remember the map, reach each goal in one step',
  options: [
    option('rooms', 4, 2, 8, 'rooms, and portals per room (one to each room)'),
    option('steps', 100, 1, 100_000, 'steps per episode'),
    option('penalty', 0.01, 0, 1, 'cost of every step', false),
  ],
  observations: (o) => {
    const R = o.rooms, names: string[] = [];
    for (let r = 0; r < R; r++) for (let g = 0; g < R; g++) names.push(`room${r}:goal${g}`);
    for (let from = 0; from < R; from++) for (let k = 0; k < R; k++) for (let to = 0; to < R; to++) for (let g = 0; g < R; g++) names.push(`room${from}:portal${k}:room${to}:goal${g}`);
    return names;
  },
  actions: (o) => Array.from({ length: o.rooms }, (_, k) => `portal${k}`),
  chance: (o) => 1 / o.rooms,
  create: (o, random) => createPortal(o.rooms, o.steps, o.penalty, random),
};

function createPortal(R: number, steps: number, penalty: number, random: Random): Environment {
  const dest = new Int32Array(R * R);
  let room = 0, goal = 0, t = 0, trialSteps = 0;
  const newGoal = () => {
    goal = (room + 1 + (random.nextUint32() % (R - 1))) % R;
    trialSteps = 0;
  };
  return {
    reset() {
      // Each room's portals: a random order of all rooms.
      for (let r = 0; r < R; r++) {
        for (let k = 0; k < R; k++) dest[r * R + k] = k;
        for (let k = R - 1; k > 0; k--) {
          const j = random.nextUint32() % (k + 1);
          [dest[r * R + k], dest[r * R + j]] = [dest[r * R + j], dest[r * R + k]];
        }
      }
      room = random.nextUint32() % R;
      t = 0;
      newGoal();
      return room * R + goal;
    },
    step(action) {
      const from = room;
      room = dest[from * R + action];
      t++;
      trialSteps++;
      let reward = -penalty, trial: { success: boolean } | undefined;
      if (room === goal) {
        reward += 1;
        trial = { success: trialSteps === 1 };
        newGoal();
      }
      const observation = R * R + ((from * R + action) * R + room) * R + goal;
      return { observation, reward, done: t >= steps, trial };
    },
  };
}
