// `expire-span rl`: trains an agent (A2C over parallel environments, the policy a sequence model
// over the episode) on a memory task, with progress, checkpoints, resume and a final evaluation.
import type { ParseArgsConfig } from 'node:util';
import { kernels } from '../kernels/index.js';
import { makeConfig, modelName, trainingBytes, type ModelConfig } from '../model/config.js';
import { A2CTrainer, DEFAULT_A2C, emptyRlStats, type A2COptions, type RlStats } from '../rl/a2c.js';
import { Agent } from '../rl/agent.js';
import { hasAgentCheckpoint, loadAgentCheckpoint, saveAgentCheckpoint, type AgentConfig } from '../rl/agent-checkpoint.js';
import { ENVIRONMENTS, environmentKind } from '../rl/environments/index.js';
import { playEpisode } from '../rl/episode.js';
import { Random } from '../tensor/random.js';
import { checkFitsInMemory, numberFlag, parseFlags, threadsFlag } from './arguments.js';
import { CliError } from './errors.js';
import { flagValue, MODEL_FLAGS } from './flags.js';

/** A small CPU-sized model unless flags say otherwise. */
const RL_MODEL: Partial<ModelConfig> = { nlayers: 2, hidSz: 64, innerHidSz: 128, nheads: 4, memSz: 32, attnLim: 256, dropout: 0, preNorm: true };

/** Documented CPU-sized runs (results in README.md): an environment and flags; flags given after
 * --preset override them. */
export const RL_PRESETS: Record<string, { summary: string; args: string }> = {
  corridor: {
    summary: 'corridor of 200 steps, Expire-Span agent (attn-lim 256)',
    args: '--env corridor:length=200 --expire-span --attn-lim 256 --mem-sz 32 --expire-span-init-percentage 0.9 --expire-span-ramp 16 --expire-span-loss 1e-5 --gamma 1 --updates 3000',
  },
  'corridor-xl': {
    summary: 'the same corridor, Transformer-XL agent with a window of 50 (a quarter of it)',
    args: '--env corridor:length=200 --attn-lim 50 --mem-sz 32 --gamma 1 --updates 3000',
  },
  instruction: {
    summary: 'fetch one of 4 objects named 100 steps earlier, Expire-Span agent',
    args: '--env instruction:objects=4,delay=100 --expire-span --attn-lim 128 --mem-sz 32 --expire-span-init-percentage 0.9 --expire-span-ramp 16 --expire-span-loss 1e-5 --gamma 1 --updates 2000',
  },
  portal: {
    summary: '4 rooms of 4 portals, 100 steps per episode, Expire-Span agent',
    args: '--env portal:rooms=4,steps=100 --expire-span --attn-lim 128 --mem-sz 32 --expire-span-init-percentage 0.9 --expire-span-ramp 16 --expire-span-loss 1e-5 --gamma 0.9 --updates 2000',
  },
};

export const rlHelp = `Usage: expire-span rl (--env NAME[:option=value,...] | --preset NAME) --checkpoint DIR [model flags] [options]

Trains an agent whose policy is a sequence model over the episode (memory carried across its
steps, fresh for each episode) with advantage actor-critic (A2C, GAE) on parallel environments.
Progress every --log-every updates: episodes, mean return, success rate (and chance), memories
kept per layer; a checkpoint each time (running the command again resumes). At the end, greedy
episodes measure the success rate.

Presets (flags after --preset override theirs):
${Object.entries(RL_PRESETS).map(([name, p]) => `  ${name.padEnd(12)} ${p.summary}\n      ${p.args}`).join('\n')}

Environments:
${ENVIRONMENTS.map((e) => `  ${e.name.padEnd(12)} ${e.summary}\n${e.options.map((o) => `      ${`${o.name}=${o.default}`.padEnd(16)} ${o.help}`).join('\n')}`).join('\n')}

Model: the train command's model flags (--expire-span, --attn-lim, --mem-sz, ...); defaults here:
  --nlayers 2 --hid-sz 64 --inner-hid-sz 128 --nheads 4 --mem-sz 32 --attn-lim 256 --dropout 0 --pre-norm
  (mem-sz is also the rollout length: one update per mem-sz steps of every environment)

Options:
  --envs N            environments in parallel (default 16)
  --updates N         updates in all (default 2000)
  --lr R --gamma G --lambda L --entropy B --value-coef C --grad-clip X
                      (defaults ${DEFAULT_A2C.lr}, ${DEFAULT_A2C.gamma}, ${DEFAULT_A2C.lambda}, ${DEFAULT_A2C.entropy}, ${DEFAULT_A2C.value}, ${DEFAULT_A2C.gradClip})
  --seed S --threads N --log-every N (default 100) --eval-episodes N (default 100)`;

const A2C_FLAGS: Record<string, [keyof A2COptions, number, number]> = {
  lr: ['lr', 1e-12, 10],
  gamma: ['gamma', 0, 1],
  lambda: ['lambda', 0, 1],
  entropy: ['entropy', 0, 100],
  'value-coef': ['value', 0, 100],
  'grad-clip': ['gradClip', 0, 1e6],
};

export function rlCommand(argv: string[]): void {
  const at = argv.indexOf('--preset');
  if (at >= 0) {
    const preset = RL_PRESETS[argv[at + 1]];
    if (!preset) throw new CliError(`--preset must be one of ${Object.keys(RL_PRESETS).join(', ')}, got "${argv[at + 1] ?? ''}"`);
    argv = [...preset.args.split(' '), ...argv.slice(0, at), ...argv.slice(at + 2)];
  }
  const options: NonNullable<ParseArgsConfig['options']> = {
    env: { type: 'string' },
    checkpoint: { type: 'string' },
    envs: { type: 'string' },
    updates: { type: 'string' },
    seed: { type: 'string' },
    threads: { type: 'string' },
    'log-every': { type: 'string' },
    'eval-episodes': { type: 'string' },
    help: { type: 'boolean', short: 'h' },
  };
  for (const flag of Object.keys(A2C_FLAGS)) options[flag] = { type: 'string' };
  for (const [flag, [, kind]] of Object.entries(MODEL_FLAGS)) options[flag] = { type: kind === 'bool' ? 'boolean' : 'string' };
  const values = parseFlags('rl', argv, options);
  if (values.help) return console.log(rlHelp);
  const str = (flag: string) => values[flag] as string | undefined;
  const dir = str('checkpoint');
  if (!dir) throw new CliError('rl: --checkpoint DIR is required');
  const threads = threadsFlag(str('threads'));
  const logEvery = numberFlag('log-every', str('log-every'), { integer: true, min: 1, max: 1e9 }) ?? 100;
  const evalEpisodes = numberFlag('eval-episodes', str('eval-episodes'), { integer: true, min: 0, max: 1e6 }) ?? 100;
  if (threads !== undefined) kernels.setThreads(threads);

  let config: AgentConfig, agent: Agent, resume: ReturnType<typeof loadAgentCheckpoint> | null = null;
  if (hasAgentCheckpoint(dir)) {
    resume = loadAgentCheckpoint(dir);
    ({ config, agent } = resume);
    const updates = numberFlag('updates', str('updates'), { integer: true, min: 1, max: 1e9 });
    if (updates !== undefined) config.updates = updates;
    const ignored = Object.keys(values).filter((flag) => !['checkpoint', 'updates', 'threads', 'log-every', 'eval-episodes'].includes(flag));
    console.log(`resuming ${dir} at update ${resume.progress.update} of ${config.updates} (${config.env})` + (ignored.length ? `; its own settings apply, not --${ignored.join(', --')}` : ''));
  } else {
    const envSpec = str('env');
    if (!envSpec) throw new CliError('rl: --env NAME[:options] is required (environments: ' + ENVIRONMENTS.map((e) => e.name).join(', ') + ')');
    const { kind, options: envOptions } = environmentKind(envSpec);
    const model: Partial<ModelConfig> = { ...RL_MODEL };
    for (const [flag, [field, kind]] of Object.entries(MODEL_FLAGS)) {
      const v = flagValue(flag, values[flag], kind);
      if (v !== undefined) (model as Record<string, unknown>)[field] = v;
    }
    const a2c: A2COptions = { ...DEFAULT_A2C };
    for (const [flag, [field, min, max]] of Object.entries(A2C_FLAGS)) {
      const v = numberFlag(flag, str(flag), { min, max });
      if (v !== undefined) a2c[field] = v;
    }
    // Observations are the model's tokens, plus one for padding.
    const modelConfig = makeConfig({ ...model, vocabSize: kind.observations(envOptions).length + 1 });
    if (modelConfig.compress) throw new CliError('rl: the Compressive Transformer is not supported as a policy (it runs whole blocks only)');
    const envs = numberFlag('envs', str('envs'), { integer: true, min: 1, max: 4096 }) ?? 16;
    checkFitsInMemory(trainingBytes(modelConfig, envs), 'this agent', `to train with ${envs} environments`, "--envs, --attn-lim, --mem-sz or the model's size");
    config = {
      version: 1,
      model: modelConfig,
      env: envSpec,
      actions: kind.actions(envOptions).length,
      envs,
      updates: numberFlag('updates', str('updates'), { integer: true, min: 1, max: 1e9 }) ?? 2000,
      seed: numberFlag('seed', str('seed'), { integer: true, min: 0, max: 2 ** 31 - 1 }) ?? 1,
      a2c,
    };
    agent = new Agent(modelConfig, config.actions, config.seed);
  }

  const { kind, options: envOptions } = environmentKind(config.env);
  const envs = Array.from({ length: config.envs }, (_, i) => kind.create(envOptions, new Random(config.seed * 1000 + i + 1 + (resume?.progress.update ?? 0) * config.envs)));
  const trainer = new A2CTrainer(agent, envs, config.a2c, new Random(config.seed));
  const progress = resume?.progress ?? { update: 0, random: [], optimizerStep: 0, history: [] };
  resume?.restore(trainer);
  const chance = kind.chance(envOptions);
  const c = agent.model.config;
  if (!resume) console.log(`${modelName(c)} agent on ${config.env}: ${c.nlayers} layers, ${c.hidSz} wide, attn-lim ${c.attnLim}, ${config.envs} environments, ${config.updates} updates of ${c.memSz} steps; chance ${(100 * chance).toFixed(1)}%`);

  let stats = emptyRlStats(c.nlayers), started = performance.now();
  while (progress.update < config.updates) {
    trainer.update(stats);
    progress.update++;
    if (progress.update % logEvery !== 0 && progress.update !== config.updates) continue;
    const record = report(progress.update, config.updates, stats, chance, (performance.now() - started) / stats.updates);
    progress.history.push(record);
    progress.random = trainer.random.state;
    progress.optimizerStep = trainer.optimizer.step;
    saveAgentCheckpoint(dir, config, trainer, progress);
    stats = emptyRlStats(c.nlayers);
    started = performance.now();
  }

  if (evalEpisodes > 0) {
    const env = kind.create(envOptions, new Random(987_654_321));
    const random = new Random(config.seed + 1);
    let trials = 0, successes = 0, returns = 0;
    const kept = new Array(c.nlayers).fill(0);
    for (let e = 0; e < evalEpisodes; e++) {
      const episode = playEpisode(agent, env, random, { greedy: true });
      trials += episode.trials;
      successes += episode.successes;
      returns += episode.rewards.reduce((a, b) => a + b, 0);
      episode.kept.forEach((k, l) => (kept[l] += k / evalEpisodes));
    }
    console.log(`greedy evaluation, ${evalEpisodes} episodes: success ${percent(successes, trials)} (chance ${(100 * chance).toFixed(1)}%), mean return ${(returns / evalEpisodes).toFixed(3)}, memories held at the end ${kept.map((k) => k.toFixed(0)).join('/')} per layer`);
  }
  console.log(`saved to ${dir} (run the same command to continue; \`expire-span inspect --checkpoint ${dir} --out DIR\` shows an episode)`);
}

const percent = (n: number, d: number) => (d > 0 ? `${((100 * n) / d).toFixed(1)}%` : 'n/a');

function report(update: number, total: number, s: RlStats, chance: number, msPerUpdate: number): Record<string, unknown> {
  const kept = s.kept.map((k) => k / s.updates);
  console.log(
    `update ${update}/${total}: ${s.episodes} episodes, mean return ${s.episodes ? (s.returns / s.episodes).toFixed(3) : 'n/a'}, ` +
      `success ${percent(s.successes, s.trials)} (chance ${(100 * chance).toFixed(1)}%), kept ${kept.map((k) => k.toFixed(0)).join('/')} memories per layer, ` +
      `entropy ${(s.entropy / s.updates).toFixed(3)}, ${msPerUpdate.toFixed(0)} ms/update`,
  );
  return { update, episodes: s.episodes, mean_return: s.episodes ? s.returns / s.episodes : null, success: s.trials ? s.successes / s.trials : null, chance, kept_memories: kept, entropy: s.entropy / s.updates, ms_per_update: msPerUpdate };
}
