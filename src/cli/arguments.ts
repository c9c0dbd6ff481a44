// Checks shared by the commands that read a checkpoint or take numeric options.
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
