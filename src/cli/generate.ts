// `expire-span generate`: samples from a checkpoint after a prompt, printing as it goes. The model
// runs as a stream, so memory stays bounded by what it keeps however long the text gets.
import { randomBytes } from 'node:crypto';
import { kernels } from '../kernels/index.js';
import type { Vocabulary } from '../data/vocabulary.js';
import { ModelStream } from '../model/model-stream.js';
import { sampleToken } from '../model/sampling.js';
import { Random } from '../tensor/random.js';
import { numberFlag, openCheckpoint, parseFlags, threadsFlag } from './arguments.js';
import { CliError } from './errors.js';

export const generateHelp = `Usage: expire-span generate --checkpoint DIR --prompt TEXT [--tokens N] [--temperature T]
                           [--top-k K] [--seed S] [--threads N]

Prints the prompt and N sampled tokens (default 200) after it, as they are drawn, then (on stderr)
the memories each layer keeps and the seed that reproduces the sample.

  --temperature T  0 takes the most likely token; higher is more random (default 1)
  --top-k K        draw from the K most likely tokens only (default 0: all)
  --seed S         the sampler's seed (default: a random one, reported at the end)`;

export function generateCommand(argv: string[]): void {
  const values = parseFlags('generate', argv, {
    checkpoint: { type: 'string' },
    prompt: { type: 'string' },
    tokens: { type: 'string' },
    temperature: { type: 'string' },
    'top-k': { type: 'string' },
    seed: { type: 'string' },
    threads: { type: 'string' },
    help: { type: 'boolean', short: 'h', default: false },
  });
  if (values.help) return console.log(generateHelp);
  if (values.prompt === undefined) throw new CliError('generate: --prompt TEXT is required');
  const tokens = numberFlag('tokens', values.tokens, { integer: true, min: 0, max: 1e8 }) ?? 200;
  const temperature = numberFlag('temperature', values.temperature, { min: 0, max: 1e6 }) ?? 1;
  const topK = numberFlag('top-k', values['top-k'], { integer: true, min: 0, max: 1 << 24 }) ?? 0;
  const seed = numberFlag('seed', values.seed, { integer: true, min: 0, max: 2 ** 32 - 1 }) ?? randomBytes(4).readUInt32LE();
  const threads = threadsFlag(values.threads);
  const saved = openCheckpoint('generate', values.checkpoint);
  if (threads !== undefined) kernels.setThreads(threads);
  let prompt: Int32Array;
  try {
    prompt = saved.vocab.encode(values.prompt, '--prompt');
  } catch (e) {
    throw new CliError((e as Error).message);
  }
  if (prompt.length === 0) throw new CliError('--prompt must hold at least one token');

  const V = saved.model.config.vocabSize, random = new Random(seed), stream = new ModelStream(saved.model);
  const print = textPrinter(saved.vocab);
  print(prompt);
  const started = performance.now();
  let next = stream.push(prompt).logprobs.subarray((prompt.length - 1) * V);
  for (let i = 0; i < tokens; i++) {
    const id = sampleToken(next, { temperature, topK }, random.next());
    print(Int32Array.of(id));
    if (i + 1 < tokens) next = stream.push([id]).logprobs;
  }
  print(null);
  const seconds = (performance.now() - started) / 1000;
  console.error(
    `\n[${tokens} tokens in ${seconds.toFixed(1)} s; memories kept per layer: ${stream.kept.join('/')} after ${stream.position} tokens; seed ${seed}]`,
  );
}

/** Writes ids to stdout as text; null flushes (bytes may end inside a UTF-8 character). */
function textPrinter(vocab: Vocabulary): (ids: Int32Array | null) => void {
  const decoder = new TextDecoder();
  let first = true;
  return (ids) => {
    if (vocab.kind === 'bytes') process.stdout.write(ids ? decoder.decode(Uint8Array.from(ids), { stream: true }) : decoder.decode());
    else if (ids) process.stdout.write((first ? '' : ' ') + vocab.decode(ids));
    else process.stdout.write('\n');
    first = false;
  };
}
