// Checks shared by the commands that read a checkpoint or take numeric options.
import { totalmem } from 'node:os';
import { parseArgs, type ParseArgsConfig } from 'node:util';
import { trainingBytes, type ModelConfig } from '../model/config.js';
import { hasCheckpoint, loadCheckpoint, type LoadedCheckpoint } from '../train/checkpoint.js';
import { CliError } from './errors.js';

type Options = NonNullable<ParseArgsConfig['options']>;

/** What parseFlags returns: strings, booleans, or either where the options are not literal. */
type FlagValues<O extends Options> = { [K in keyof O]?: [O[K]['type']] extends ['boolean'] ? boolean : [O[K]['type']] extends ['string'] ? string : string | boolean };

/** The flags of `expire-span COMMAND`, parsed strictly; a mistake is a CliError naming the flag. */
export function parseFlags<const O extends Options>(command: string, args: string[], options: O): FlagValues<O> {
  try {
    return parseArgs({ args, options, strict: true, allowPositionals: false }).values as FlagValues<O>;
  } catch (e) {
    throw new CliError((e as Error).message.replace(/^Unknown option '(.*)'.*$/s, `unknown flag $1 (see \`expire-span ${command} --help\`)`));
  }
}

/** The number a flag holds, checked: undefined when the flag was not given. */
export function numberFlag(flag: string, raw: string | undefined, { integer = false, min = -Infinity, max = Infinity } = {}): number | undefined {
  if (raw === undefined) return undefined;
  const n = raw.trim() === '' ? NaN : Number(raw);
  const what = `${integer ? 'an integer' : 'a number'} from ${min} to ${max}`;
  if (!Number.isFinite(n) || (integer && !Number.isInteger(n)) || n < min || n > max) throw new CliError(`--${flag} must be ${what}, got "${raw}"`);
  return n;
}

/** --threads, checked against what the kernels accept. */
export const threadsFlag = (raw: string | undefined) => numberFlag('threads', raw, { integer: true, min: 1, max: 256 });

/** The checkpoint in --checkpoint DIR, or an error naming the command and what is missing. */
export function openCheckpoint(command: string, dir: string | undefined): LoadedCheckpoint {
  if (!dir) throw new CliError(`${command}: --checkpoint DIR is required`);
  if (!hasCheckpoint(dir)) throw new CliError(`${command}: no checkpoint in ${dir} (it should hold trainer.safetensors)`);
  return loadCheckpoint(dir);
}

/**
 * Refuses, before anything is allocated, work whose estimated memory (`bytes`) exceeds the
 * machine's. The message reads "SUBJECT needs about N GiB PURPOSE, more than ...: lower LOWER".
 */
export function checkFitsInMemory(bytes: number, subject: string, purpose: string, lower: string): void {
  const have = totalmem(), gib = (n: number) => (n / 2 ** 30).toFixed(1);
  if (bytes > have) throw new CliError(`${subject} needs about ${gib(bytes)} GiB ${purpose}, more than this machine's ${gib(have)} GiB: lower ${lower}`);
}

/** Refuses a config whose training with `streams` parallel streams would not fit in memory. */
export function checkTrainingFits(config: ModelConfig, streams: number): void {
  checkFitsInMemory(trainingBytes(config, streams), 'this config', `to train with ${streams} streams`, "--batch-sz, --attn-lim, --mem-sz or the model's size");
}
