// `expire-span parity FILE.safetensors [...]`: replays golden files dumped from the authors'
// PyTorch code and compares every tensor they hold (see src/train/parity.ts).
import { parseArgs } from 'node:util';
import { modelName } from '../model/config.js';
import { runParity } from '../train/parity.js';
import { CliError } from './errors.js';

export const parityHelp = `Usage: expire-span parity FILE.safetensors [...] [--tolerance X] [--json]

Runs every block of each golden file (made by the reference's PyTorch code) through this
implementation in training mode with dropout 0, and compares log-probs, nll, aux loss, every
gradient, the memory caches after each block and the parameters after one Adam step. Prints the
largest relative error of each group; exits 1 if any exceeds the tolerance (default 1e-4).`;

export function parityCommand(argv: string[]): void {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: { tolerance: { type: 'string' }, json: { type: 'boolean', default: false }, help: { type: 'boolean', short: 'h', default: false } },
  });
  if (values.help) return console.log(parityHelp);
  if (positionals.length === 0) throw new CliError('parity: give at least one golden .safetensors file');
  const tolerance = values.tolerance === undefined ? 1e-4 : Number(values.tolerance);
  if (!(tolerance > 0) || !Number.isFinite(tolerance)) throw new CliError(`parity: --tolerance must be a positive number, got "${values.tolerance}"`);
  // A file that cannot be replayed is reported and counted as a failure; the others still run.
  const reports = positionals.map((file) => {
    try {
      return runParity(file, tolerance);
    } catch (e) {
      return { file, error: (e as Error).message, ok: false as const };
    }
  });
  if (values.json) {
    console.log(JSON.stringify(reports.map((r) => ('config' in r ? { ...r, config: undefined } : r)), null, 2));
  } else {
    for (const r of reports) {
      if ('error' in r) {
        console.log(`${r.file}: ERROR — ${r.error}`);
        continue;
      }
      console.log(`${r.file}: ${modelName(r.config)}, ${r.config.nlayers} layers, ${r.blocks} blocks — ${r.ok ? 'PASS' : 'FAIL'}`);
      for (const g of r.groups) {
        const flag = g.worst <= tolerance ? 'ok  ' : 'FAIL';
        console.log(`  ${flag} ${g.name.padEnd(15)} max rel err ${g.worst.toExponential(2).padStart(9)}  (${g.compared} compared; worst: ${g.where})`);
      }
    }
  }
  if (!reports.every((r) => r.ok)) process.exitCode = 1;
}
