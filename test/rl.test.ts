// Reinforcement learning: each environment's rules checked by playing it, the actor-critic loss
// against finite differences, memory reset between episodes, and an agent that learns to
// remember a cue.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { makeConfig } from '../src/model/config.js';
import { A2CTrainer, DEFAULT_A2C, emptyRlStats } from '../src/rl/a2c.js';
import { actorCriticLoss } from '../src/rl/actor-critic-loss.js';
import { Agent } from '../src/rl/agent.js';
import { environmentKind } from '../src/rl/environments/index.js';
import { Random } from '../src/tensor/random.js';
import { Tape } from '../src/tensor/tape.js';
import { Tensor } from '../src/tensor/tensor.js';

const make = (spec: string, seed = 1) => {
  const { kind, options } = environmentKind(spec);
  return { kind, options, env: kind.create(options, new Random(seed)), names: kind.observations(options) };
};

describe('environments', () => {
  it('corridor: the cue, `length` corridor cells, the junction; the matching exit pays +1', () => {
    const { env, names } = make('corridor:length=7,colours=3,noise=2,penalty=0.01');
    const cues = new Set<string>();
    for (let episode = 0; episode < 30; episode++) {
      const first = names[env.reset()];
      assert.match(first, /^cue[012]$/);
      cues.add(first);
      const seen: string[] = [];
      for (let k = 0; k < 7; k++) {
        const step = env.step(episode % 3);
        assert.equal(step.done, false);
        assert.ok(Math.abs(step.reward + 0.01) < 1e-12);
        seen.push(names[step.observation]);
      }
      assert.deepEqual(seen.slice(0, 6).map((n) => n.replace(/\d$/, '')), new Array(6).fill('corridor'));
      assert.equal(seen[6], 'junction');
      const exit = episode % 3, step = env.step(exit), right = `cue${exit}` === first;
      assert.equal(step.done, true);
      assert.deepEqual(step.trial, { success: right });
      assert.ok(Math.abs(step.reward - ((right ? 1 : -1) - 0.01)) < 1e-12);
    }
    assert.equal(cues.size, 3, 'every cue colour comes up');
  });

  it('instruction: one instruction, `delay` distractors, then the instructed object pays +1', () => {
    const { env, names } = make('instruction:objects=3,delay=5,distractors=4');
    for (let episode = 0; episode < 20; episode++) {
      const fetch = Number(names[env.reset()].replace('fetch', ''));
      for (let k = 0; k < 5; k++) {
        const step = env.step(0);
        assert.equal(names[step.observation].startsWith(k < 4 ? 'distractor' : 'objects'), true);
        assert.equal(step.reward, 0);
      }
      const choice = episode % 3, step = env.step(choice);
      assert.deepEqual([step.done, step.reward, step.trial?.success], [true, choice === fetch ? 1 : -1, choice === fetch]);
    }
  });

  it('portal: destinations fixed within an episode; a learned map reaches every goal in one step', () => {
    const R = 5, { env, names } = make(`portal:rooms=${R},steps=400,penalty=0`);
    const parse = (id: number) => {
      const start = /^room(\d+):goal(\d+)$/.exec(names[id]);
      if (start) return { room: Number(start[1]), goal: Number(start[2]) };
      const [, from, portal, to, goal] = /^room(\d+):portal(\d+):room(\d+):goal(\d+)$/.exec(names[id])!.map(Number);
      return { from, portal, room: to, goal };
    };
    const maps: string[] = [];
    for (let episode = 0; episode < 3; episode++) {
      let now = parse(env.reset());
      const dest = new Int32Array(R * R).fill(-1);
      // Trials are counted from the first goal set after exploring.
      let trials = 0, successes = 0, exploring = true, counting = false;
      const take = (action: number) => {
        const step = env.step(action), next = parse(step.observation);
        assert.deepEqual([next.from, next.portal], [now.room, action], 'the observation shows the step taken');
        const known = dest[now.room * R + action];
        if (known >= 0) assert.equal(next.room, known, 'the same portal leads to the same room');
        dest[now.room * R + action] = next.room;
        assert.equal(step.reward + 0, next.room === now.goal ? 1 : 0);
        if (next.room === now.goal) assert.notEqual(next.goal, next.room, 'a new goal elsewhere');
        if (step.trial && counting) (trials++, (successes += Number(step.trial.success)));
        if (step.trial && !exploring) counting = true;
        now = next;
        return step.done;
      };
      // Explore: try the room's untried portals, else walk at random, until all are known.
      const walk = new Random(episode + 7);
      for (let steps = 0; dest.includes(-1); steps++) {
        assert.ok(steps < 10_000, 'every room is reachable');
        const untried = [...Array(R).keys()].find((k) => dest[now.room * R + k] < 0);
        take(untried ?? walk.nextUint32() % R);
      }
      for (let r = 0; r < R; r++) assert.deepEqual([...dest.subarray(r * R, (r + 1) * R)].sort(), [...Array(R).keys()], 'one portal to each room');
      exploring = false;
      // Then take the portal that leads to the goal.
      for (let done = false; !done; ) done = take(dest.subarray(now.room * R, (now.room + 1) * R).indexOf(now.goal));
      assert.ok(trials > 100 && successes === trials, `${successes} of ${trials} trials in one step`);
      maps.push(dest.join());
    }
    assert.equal(new Set(maps).size, 3, 'each episode draws its own map');
  });

  it('chance is what a random policy achieves', () => {
    assert.equal(make('corridor:colours=4').kind.chance(make('corridor:colours=4').options), 0.25);
    const { kind, options, env } = make('portal:rooms=4,steps=20000');
    assert.equal(kind.chance(options), 0.25);
    // Measured: a random walk reaches the goal in one step a quarter of the time.
    const walk = new Random(5);
    let trials = 0, successes = 0;
    env.reset();
    for (let done = false; !done; ) {
      const step = env.step(walk.nextUint32() % 4);
      done = step.done;
      if (step.trial) (trials++, (successes += Number(step.trial.success)));
    }
    assert.ok(Math.abs(successes / trials - 0.25) < 0.02, `${successes} of ${trials}`);
  });

  it('refuses unknown environments and options by name', () => {
    assert.throws(() => environmentKind('maze'), /unknown environment "maze" \(environments: corridor, portal, instruction\)/);
    assert.throws(() => environmentKind('corridor:length=0'), /env corridor: length must be an integer in \[1, 100000\], got "0"/);
    assert.throws(() => environmentKind('portal:doors=3'), /env portal has no option "doors"/);
  });
});

describe('actor-critic loss', () => {
  it('matches finite differences for logits and values', () => {
    const N = 5, A = 3, r = new Random(4);
    const logits = new Tensor(Float32Array.from({ length: N * A }, () => r.normal()), [N, A], true, new Float32Array(N * A));
    const values = new Tensor(Float32Array.from({ length: N }, () => r.normal()), [N, 1], true, new Float32Array(N));
    const targets = { actions: Int32Array.of(0, 2, -1, 1, 2), advantages: Float32Array.of(0.5, -1.2, 3, 0.7, 0.1), returns: Float32Array.of(1, -1, 0, 0.5, 2), entropy: 0.05, value: 0.5 };
    const lossAt = () => {
      const t = new Tape();
      t.recording = false;
      return actorCriticLoss(t, logits, values, targets).loss.data[0];
    };
    const t = new Tape();
    t.backward(actorCriticLoss(t, logits, values, targets).loss);
    for (const p of [logits, values]) {
      for (let i = 0; i < p.size; i++) {
        const keep = p.data[i], h = 1e-2;
        p.data[i] = keep + h;
        const up = lossAt();
        p.data[i] = keep - h;
        const down = lossAt();
        p.data[i] = keep;
        const numeric = (up - down) / (2 * h);
        assert.ok(Math.abs(numeric - p.grad![i]) < 2e-3 + 1e-2 * Math.abs(numeric), `element ${i}: ${p.grad![i]} vs ${numeric}`);
      }
    }
    // The unscored row gets no gradient.
    for (let j = 0; j < A; j++) assert.equal(logits.grad![2 * A + j], 0);
    assert.equal(values.grad![2], 0);
  });
});

describe('A2C', () => {
  const agentFor = (spec: string, memSz: number) => {
    const { kind, options } = environmentKind(spec);
    const config = makeConfig({ vocabSize: kind.observations(options).length + 1, hidSz: 16, innerHidSz: 32, nlayers: 1, nheads: 2, memSz, attnLim: 16, dropout: 0, expireSpan: true, expireSpanRamp: 4 });
    const agent = new Agent(config, kind.actions(options).length, 1);
    const envs = Array.from({ length: 16 }, (_, i) => kind.create(options, new Random(10 + i)));
    return { agent, trainer: new A2CTrainer(agent, envs, { ...DEFAULT_A2C, lr: 3e-3 }, new Random(2)) };
  };

  it('starts every episode with fresh memory', () => {
    // Episodes of 3 steps in blocks of 8: every stream's episode ends inside every block.
    const { agent, trainer } = agentFor('corridor:length=2', 8);
    const fresh = agent.model.initialMemory(16);
    for (let u = 0; u < 3; u++) {
      trainer.update(emptyRlStats(1));
      assert.deepEqual(trainer.memory.layers[0].offsets, fresh.layers[0].offsets);
      assert.deepEqual(trainer.memory.layers[0].counters, fresh.layers[0].counters);
      assert.ok(trainer.memory.layers[0].hidden.every((v) => v === 0));
    }
  });

  it('learns to remember the cue of a short corridor', () => {
    const { trainer } = agentFor('corridor:length=4', 8);
    for (let u = 0; u < 100; u++) trainer.update(emptyRlStats(1));
    const last = emptyRlStats(1);
    for (let u = 0; u < 50; u++) trainer.update(last);
    assert.ok(last.successes / last.trials >= 0.9, `success ${last.successes} of ${last.trials}`);
  });
});
