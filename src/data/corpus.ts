// Where training data comes from, as token ids split into train / valid / test:
//   - a folder in the reference's format: train.txt, valid.txt, test.txt of whitespace-separated
//     tokens (and optional *.labels files of the same length), dictionary as the reference builds it;
//   - any single file, read as bytes and split 90 / 5 / 5 (enwik8's standard split for enwik8);
//   - "builtin:sources": this package's own source code, a corpus that needs no download;
//   - "task:NAME[:options]": a synthetic task (tasks/).
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { DataError } from './data-error.js';
import { taskCorpus } from './tasks/index.js';
import { Vocabulary } from './vocabulary.js';

/** Token ids: bytes stay one byte each (a 100 MB file costs 100 MB, not 400). */
export type TokenIds = Int32Array | Uint8Array;

export interface Split {
  tokens: TokenIds;
  /** Per-position targets for labelled tasks (instead of the next token). */
  labels?: Int32Array;
  /**
   * Tasks of independent episodes: where each starts. A stream cut from the split starts
   * mid-episode; the targets before its first episode start ask about what it never showed.
   */
  episodes?: Int32Array;
}

export interface Corpus {
  /** What was loaded, for messages. */
  name: string;
  vocab: Vocabulary;
  /** What to report: bits per token, or (labelled data) error or accuracy on the scored targets. */
  metric: 'bpc' | 'error' | 'accuracy';
  train: Split;
  valid: Split;
  test: Split;
}

export { DataError } from './data-error.js';

/** Largest file read whole (enwik8 is 100 MB). */
const MAX_BYTES = 1 << 30;

export interface LoadOptions {
  /** A folder's known vocabulary (from a checkpoint) instead of one built from train.txt. */
  vocab?: Vocabulary;
  /** --data-eos: an <eos> token after every line of a folder's files. */
  eos?: boolean;
}

export function loadCorpus(spec: string, { vocab, eos = false }: LoadOptions = {}): Corpus {
  if (spec === 'builtin:sources') return byteCorpus('builtin:sources', packageSources());
  if (spec.startsWith('task:')) {
    if (eos) throw new DataError('--data-eos applies to a folder of token files, not to a task');
    return taskCorpus(spec);
  }
  if (spec.startsWith('builtin:')) {
    throw new DataError(`unknown built-in data "${spec}" (available: builtin:sources)`);
  }
  let stat;
  try {
    stat = statSync(spec);
  } catch (e) {
    throw new DataError(`cannot read "${spec}": ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
  }
  if (stat.isDirectory()) return folderCorpus(spec, vocab, eos);
  if (eos) throw new DataError('--data-eos applies to a folder of token files, not to a single file');
  if (stat.size > MAX_BYTES) throw new DataError(`"${spec}" has ${stat.size} bytes, more than the ${MAX_BYTES} this loader reads`);
  return byteCorpus(spec, readFile(spec));
}

function readFile(path: string): Uint8Array {
  try {
    return readFileSync(path);
  } catch (e) {
    throw new DataError(`cannot read "${path}": ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
  }
}

/** Bytes split 90 / 5 / 5 (for enwik8's 10^8 bytes: 90M / 5M / 5M, its standard split). */
function byteCorpus(name: string, bytes: Uint8Array): Corpus {
  if (bytes.length === 0) throw new DataError(`"${name}" is empty`);
  const nTrain = Math.floor(bytes.length * 0.9), nValid = Math.floor(bytes.length * 0.05);
  const ids = bytes;
  return {
    name,
    vocab: Vocabulary.bytes(),
    metric: 'bpc',
    train: { tokens: ids.subarray(0, nTrain) },
    valid: { tokens: ids.subarray(nTrain, nTrain + nValid) },
    test: { tokens: ids.subarray(nTrain + nValid) },
  };
}

/** The package's own sources (TypeScript when present, else the compiled JavaScript). */
function packageSources(): Uint8Array {
  const root = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..', '..');
  const dirs = [join(root, 'src'), join(root, 'native'), join(root, 'dist', 'src')].filter((d) => existsSync(d));
  const files: string[] = [];
  const walk = (dir: string) => {
    for (const entry of readdirSync(dir, { withFileTypes: true }).sort((a, b) => a.name.localeCompare(b.name))) {
      const path = join(dir, entry.name);
      if (entry.isDirectory()) walk(path);
      else if (/\.(ts|cc|h|js)$/.test(entry.name) && !entry.name.endsWith('.d.ts')) files.push(path);
    }
  };
  // Prefer the TypeScript sources; fall back to the compiled output in an installed package.
  const src = dirs.filter((d) => !d.endsWith(join('dist', 'src')));
  (src.length > 0 ? src : dirs).forEach(walk);
  const parts = files.map((f) => readFileSync(f));
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

/**
 * The reference's dictionary: <unk> first, then tokens in order of appearance in train.txt (with
 * <eos> after every line), sorted by count, most frequent first (ties: later first).
 */
function referenceDictionary(trainText: string): Vocabulary {
  const counts = new Map<string, number>([['<unk>', 0]]);
  for (const line of lines(trainText)) {
    for (const word of [...words(line), '<eos>']) counts.set(word, (counts.get(word) ?? 0) + 1);
  }
  // Python: sorted(items, key=count)[::-1] — a stable ascending sort, then reversed.
  const sorted = [...counts.entries()].map(([w, c], i) => ({ w, c, i })).sort((a, b) => a.c - b.c || a.i - b.i).reverse();
  return Vocabulary.fromTokens(sorted.map((e) => e.w));
}

function lines(text: string): string[] {
  const all = text.split('\n');
  if (all[all.length - 1] === '') all.pop();
  return all;
}

function words(line: string): string[] {
  return line.split(/\s+/).filter((w) => w.length > 0);
}

function folderCorpus(dir: string, given: Vocabulary | undefined, eos: boolean): Corpus {
  const text = (name: string) => {
    const path = join(dir, name);
    if (!existsSync(path)) throw new DataError(`the folder "${dir}" has no ${name} (expected train.txt, valid.txt and test.txt)`);
    const bytes = readFile(path);
    try {
      return new TextDecoder('utf-8', { fatal: true }).decode(bytes);
    } catch {
      throw new DataError(`"${path}" is not valid UTF-8 text`);
    }
  };
  const trainText = text('train.txt');
  const vocab = given ?? referenceDictionary(trainText);
  if (vocab.kind !== 'tokens') throw new DataError(`"${dir}" holds tokens, but the checkpoint's vocabulary is bytes`);
  const unk = vocab.idOf('<unk>') ?? 0;
  const tokenize = (body: string) => {
    const ids: number[] = [];
    for (const line of lines(body)) for (const w of eos ? [...words(line), '<eos>'] : words(line)) ids.push(vocab.idOf(w) ?? unk);
    return Int32Array.from(ids);
  };
  const split = (name: string): Split => {
    const tokens = tokenize(name === 'train.txt' ? trainText : text(name));
    if (tokens.length === 0) throw new DataError(`"${join(dir, name)}" holds no tokens`);
    if (!existsSync(join(dir, `${name}.labels`))) return { tokens };
    const labels = tokenize(text(`${name}.labels`));
    if (labels.length !== tokens.length) throw new DataError(`"${join(dir, name)}.labels" has ${labels.length} tokens but ${name} has ${tokens.length}`);
    return { tokens, labels };
  };
  return { name: dir, vocab, metric: existsSync(join(dir, 'train.txt.labels')) ? 'error' : 'bpc', train: split('train.txt'), valid: split('valid.txt'), test: split('test.txt') };
}
