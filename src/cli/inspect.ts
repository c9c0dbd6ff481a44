// `expire-span inspect`: runs a checkpoint over a text and writes what it keeps: an HTML page of
// the text coloured by span, SVG charts, and the numbers as JSON.
import { mkdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { writeFileAtomic } from '../io/file.js';
import { kernels } from '../kernels/index.js';
import { Vocabulary } from '../data/vocabulary.js';
import { inspectTokens, type Inspection } from '../model/inspection.js';
import { hasAgentCheckpoint, loadAgentCheckpoint } from '../rl/agent-checkpoint.js';
import { environmentKind } from '../rl/environments/index.js';
import { playEpisode } from '../rl/episode.js';
import { Random } from '../tensor/random.js';
import { keptOverTime, spanHistogram } from '../report/inspect-charts.js';
import { inspectPage, textPieces } from '../report/inspect-page.js';
import { numberFlag, openCheckpoint, parseFlags, threadsFlag } from './arguments.js';
import { CliError } from './errors.js';

/** Largest text file read (token vocabularies; byte vocabularies stop at --limit). */
const MAX_TEXT_BYTES = 1 << 30;

export const inspectHelp = `Usage: expire-span inspect --checkpoint DIR (--text FILE | --prompt TEXT) --out DIR
                          [--limit N] [--threads N]
       expire-span inspect --checkpoint AGENT_DIR --out DIR [--seed S]

Runs the model over the text as one stream (an agent: over the observations of an episode it
plays, greedily, in an environment seeded with S) and writes into --out:
  index.html            the text coloured by each token's span (0 .. attn-lim), a layer selector;
                        hover a character for its span, how long it is kept and its age
  span-histogram.svg    spans per layer
  kept-over-time.svg    memories of the text each layer holds, position by position
  spans.json            the numbers: per layer, each token's span, reach and memories held
                        (and an agent's episode: actions, rewards, trials)
Transformer-XL (a fixed window) and Adaptive-Span (per-head spans) checkpoints work too.

  --limit N   refuse texts longer than N tokens; an episode stops after N steps (default 200000)`;

export function inspectCommand(argv: string[]): void {
  const values = parseFlags('inspect', argv, {
    checkpoint: { type: 'string' },
    text: { type: 'string' },
    prompt: { type: 'string' },
    out: { type: 'string' },
    limit: { type: 'string' },
    seed: { type: 'string' },
    threads: { type: 'string' },
    help: { type: 'boolean', short: 'h', default: false },
  });
  if (values.help) return console.log(inspectHelp);
  if (!values.out) throw new CliError('inspect: --out DIR is required');
  const limit = numberFlag('limit', values.limit, { integer: true, min: 1, max: 1e8 }) ?? 200_000;
  const threads = threadsFlag(values.threads);
  const seed = numberFlag('seed', values.seed, { integer: true, min: 0, max: 2 ** 31 - 1 }) ?? 1;
  if (values.checkpoint && hasAgentCheckpoint(values.checkpoint)) {
    if (values.text !== undefined || values.prompt !== undefined) throw new CliError('inspect: an agent checkpoint is inspected on an episode it plays, not on --text or --prompt');
    if (threads !== undefined) kernels.setThreads(threads);
    return inspectEpisode(values.checkpoint, values.out, seed, limit);
  }
  if ((values.text === undefined) === (values.prompt === undefined)) throw new CliError('inspect: give either --text FILE or --prompt TEXT');
  let size = 0;
  if (values.text !== undefined) {
    try {
      size = statSync(values.text).size;
    } catch (e) {
      throw new CliError(`--text: cannot read ${values.text} (${(e as NodeJS.ErrnoException).code})`);
    }
  }
  const saved = openCheckpoint('inspect', values.checkpoint);
  if (threads !== undefined) kernels.setThreads(threads);

  let tokens: Int32Array;
  const source = values.text ?? 'the prompt';
  if (values.text !== undefined && saved.vocab.kind === 'bytes') {
    // One token per byte: refuse before reading.
    if (size > limit) throw new CliError(`${values.text}: ${size.toLocaleString('en-US')} tokens, more than --limit ${limit}`);
    tokens = Int32Array.from(readFileSync(values.text));
  } else {
    if (size > MAX_TEXT_BYTES) throw new CliError(`--text: ${values.text} holds ${size.toLocaleString('en-US')} bytes, more than the ${MAX_TEXT_BYTES.toLocaleString('en-US')} inspect reads`);
    try {
      tokens = saved.vocab.encode(values.prompt ?? readFileSync(values.text!, 'utf8'), values.text ?? '--prompt');
    } catch (e) {
      throw new CliError((e as Error).message);
    }
  }
  if (tokens.length === 0) throw new CliError(`${values.text ?? '--prompt'}: no tokens to inspect`);
  if (tokens.length > limit) throw new CliError(`${values.text ?? '--prompt'}: ${tokens.length.toLocaleString('en-US')} tokens, more than --limit ${limit}`);
  writeInspection(values.out, inspectTokens(saved.model, tokens), saved.vocab, source, {});
}

/** An agent's episode: the observations it saw, coloured by what it kept. */
function inspectEpisode(dir: string, out: string, seed: number, limit: number): void {
  const { agent, config } = loadAgentCheckpoint(dir);
  const { kind, options } = environmentKind(config.env);
  const episode = playEpisode(agent, kind.create(options, new Random(seed)), new Random(seed), { greedy: true, maxSteps: limit });
  const vocab = Vocabulary.fromTokens([...kind.observations(options), '(padding)']);
  const actions = kind.actions(options);
  const total = episode.rewards.reduce((a, b) => a + b, 0);
  const summary = { env: config.env, seed, steps: episode.actions.length, return: total, trials: episode.trials, successes: episode.successes, actions: episode.actions.map((a) => actions[a]), rewards: episode.rewards };
  writeInspection(out, inspectTokens(agent.model, Int32Array.from(episode.observations)), vocab, `an episode of ${config.env} (seed ${seed})`, { episode: summary });
  console.log(`episode: ${episode.actions.length} steps, return ${total.toFixed(3)}, ${episode.successes} of ${episode.trials} trials succeeded`);
}

/** Writes the page, the charts and the numbers, and prints a summary per layer. */
function writeInspection(out: string, inspection: Inspection, vocab: Vocabulary, source: string, extra: Record<string, unknown>): void {
  const tokens = inspection.tokens;
  mkdirSync(out, { recursive: true });
  writeFileAtomic(join(out, 'index.html'), inspectPage(inspection, textPieces(vocab, tokens), source));
  writeFileAtomic(join(out, 'span-histogram.svg'), spanHistogram(inspection));
  writeFileAtomic(join(out, 'kept-over-time.svg'), keptOverTime(inspection));
  const numbers = {
    model: inspection.model,
    attnLim: inspection.attnLim,
    ramp: inspection.ramp,
    memSz: inspection.memSz,
    tokens: Array.from(tokens),
    layers: inspection.layers.map((l) => ({ spans: Array.from(l.spans), reach: Array.from(l.reach), kept: Array.from(l.kept), headSpans: l.headSpans })),
    ...extra,
  };
  writeFileAtomic(join(out, 'spans.json'), JSON.stringify(numbers) + '\n');
  const mean = (a: ArrayLike<number>) => Array.from(a).reduce((s, v) => s + v, 0) / Math.max(1, a.length);
  console.log(`${inspection.model}, ${tokens.length.toLocaleString('en-US')} tokens of ${source}:`);
  inspection.layers.forEach((l, i) => console.log(`  layer ${i + 1}: mean span ${mean(l.spans).toFixed(1)} of ${inspection.attnLim}, holds ${mean(l.kept).toFixed(0)} memories on average (at most ${Math.max(...l.kept)})`));
  console.log(`wrote ${join(out, 'index.html')}, span-histogram.svg, kept-over-time.svg and spans.json`);
}
