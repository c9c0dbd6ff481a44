// Portal: rooms joined by coloured portals whose destinations are drawn anew each episode and stay
// fixed within it. The agent is shown its room and a goal room; stepping through portal k of room
// r leads to dest[r][k]. Reaching the goal gives +1 and a new goal; every step costs `penalty`.
// Learning the map once and remembering it lets later goals be reached by the shortest path: a
// trial (one goal) succeeds when it is reached in as few steps as the shortest path takes.
//
// Observation (one token): the portal just taken (none at the start), the room, the goal.
import { option } from '../../data/tasks/task.js';
import { Random } from '../../tensor/random.js';
import type { Environment, EnvironmentKind } from './environment.js';

type Options = Record<string, number>;

export const portal: EnvironmentKind = {
  name: 'portal',
  summary: 'rooms joined by portals with fixed destinations per episode: remember the map, take the shortest way to each goal',
  options: [
    option('rooms', 4, 2, 12, 'rooms'),
    option('portals', 3, 2, 8, 'portals per room (their colours are the actions)'),
    option('steps', 100, 1, 100_000, 'steps per episode'),
    option('penalty', 0.01, 0, 1, 'cost of every step', false),
  ],
  observations: (o) =>
    Array.from({ length: (o.portals + 1) * o.rooms * o.rooms }, (_, i) => {
      const taken = Math.floor(i / (o.rooms * o.rooms)), room = Math.floor(i / o.rooms) % o.rooms, goal = i % o.rooms;
      return `${taken === 0 ? 'start' : `via${taken - 1}`}:room${room}:goal${goal}`;
    }),
  actions: (o) => Array.from({ length: o.portals }, (_, k) => `portal${k}`),
  chance(o) {
    // A random walk's success rate, measured (the map and goals as the environment draws them).
    const random = new Random(12345), env = createPortal(o, random);
    let trials = 0, successes = 0;
    for (let episode = 0; episode < 200; episode++) {
      env.reset();
      for (let done = false; !done; ) {
        const step = env.step(random.nextUint32() % o.portals);
        done = step.done;
        if (step.trial) (trials++, (successes += Number(step.trial.success)));
      }
    }
    return trials > 0 ? successes / trials : 0;
  },
  create: (o, random) => createPortal(o, random),
};

function createPortal(o: Options, random: Random): Environment {
  const R = o.rooms, K = o.portals;
  const dest = new Int32Array(R * K);
  let room = 0, goal = 0, t = 0, trialSteps = 0, shortest = 0;
  const token = (taken: number) => (taken * R + room) * R + goal;
  const newGoal = () => {
    goal = (room + 1 + (random.nextUint32() % (R - 1))) % R;
    trialSteps = 0;
    shortest = distance(dest, R, K, room, goal);
  };
  return {
    reset() {
      // A random cycle through every room (each room's cycle portal at a random index) keeps
      // every goal reachable; the other portals lead to random other rooms.
      const order = Array.from({ length: R }, (_, i) => i);
      for (let i = R - 1; i > 0; i--) {
        const j = random.nextUint32() % (i + 1);
        [order[i], order[j]] = [order[j], order[i]];
      }
      for (let i = 0; i < R; i++) {
        const r = order[i], cyclePortal = random.nextUint32() % K;
        for (let k = 0; k < K; k++) dest[r * K + k] = k === cyclePortal ? order[(i + 1) % R] : (r + 1 + (random.nextUint32() % (R - 1))) % R;
      }
      room = random.nextUint32() % R;
      t = 0;
      newGoal();
      return token(0);
    },
    step(action) {
      room = dest[room * K + action];
      t++;
      trialSteps++;
      let reward = -o.penalty, trial: { success: boolean } | undefined;
      if (room === goal) {
        reward += 1;
        trial = { success: trialSteps <= shortest };
        newGoal();
      }
      return { observation: token(action + 1), reward, done: t >= o.steps, trial };
    },
  };
}

/** Fewest portal steps from one room to another (breadth-first). */
export function distance(dest: Int32Array, rooms: number, portals: number, from: number, to: number): number {
  const seen = new Int32Array(rooms).fill(-1);
  seen[from] = 0;
  const queue = [from];
  for (let q = 0; q < queue.length; q++) {
    const r = queue[q];
    if (r === to) return seen[r];
    for (let k = 0; k < portals; k++) {
      const next = dest[r * portals + k];
      if (seen[next] < 0) (seen[next] = seen[r] + 1, queue.push(next));
    }
  }
  return Infinity;
}
