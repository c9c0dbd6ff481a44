// Checks shared by the commands that read a checkpoint or take numeric options.
import { totalmem } from 'node:os';
import { trainingBytes, type ModelConfig } from '../model/config.js';
import { hasCheckpoint, loadCheckpoint, type LoadedCheckpoint } from '../train/checkpoint.js';
import { CliError } from './errors.js';

/** The number a flag holds, checked: undefined when the flag was not given. */
export function numberFlag(flag: string, raw: string | undefined, { integer = false, min = -Infinity, max = Infinity } = {}): number | undefined {
  if (raw === undefined) return undefined;
  const n = raw.trim() === '' ? NaN : Number(raw);
  const what = `${integer ? 'an integer' : 'a number'} from ${min} to ${max}`;
  if (!Number.isFinite(n) || (integer && !Number.isInteger(n)) || n < min || n > max) throw new CliError(`--${flag} must be ${what}, got "${raw}"`);
  return n;
}

/** The checkpoint in --checkpoint DIR, or an error naming the command and what is missing. */
export function openCheckpoint(command: string, dir: string | undefined): LoadedCheckpoint {
  if (!dir) throw new CliError(`${command}: --checkpoint DIR is required`);
  if (!hasCheckpoint(dir)) throw new CliError(`${command}: no checkpoint in ${dir} (it should hold trainer.safetensors)`);
  return loadCheckpoint(dir);
}

/**
 * Refuses, before anything is allocated, a model whose estimated training memory with `streams`
 * parallel streams exceeds the machine's. `what` and `unit` word the message ("this config" /
 * "streams"), `lower` names the flags that would help.
 */
export function checkFitsInMemory(config: ModelConfig, streams: number, what: string, unit: string, lower: string): void {
  const needed = trainingBytes(config, streams), have = totalmem();
  if (needed > have) throw new CliError(`${what} needs about ${(needed / 2 ** 30).toFixed(1)} GiB to train with ${streams} ${unit}, more than this machine's ${(have / 2 ** 30).toFixed(1)} GiB: lower ${lower}`);
}
