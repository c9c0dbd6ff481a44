// `expire-span bench kernels [--json] [--quick]`: see bench/kernels.ts.
import { parseArgs } from 'node:util';
import { formatKernelReport, runKernelBench } from '../../bench/kernels.js';
import { CliError } from './errors.js';

export const benchHelp = `Usage: expire-span bench kernels [--json] [--quick] [--trials N]

Measures sgemm GFLOP/s at the model's shapes on 1 and 2 threads through every available route
(the backend the model uses, the built-in kernel, the system CBLAS called directly) and the
per-call cost of a small op.

  --json       print one JSON object instead of a table
  --quick      short trials (a smoke test, not a measurement)
  --trials N   trials per figure, median reported (default 5)`;

export function benchCommand(argv: string[]): void {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      json: { type: 'boolean', default: false },
      quick: { type: 'boolean', default: false },
      trials: { type: 'string' },
      help: { type: 'boolean', short: 'h', default: false },
    },
  });
  if (values.help) {
    console.log(benchHelp);
    return;
  }
  const [what, ...rest] = positionals;
  if (what !== 'kernels' || rest.length > 0) {
    throw new CliError(what === undefined ? 'bench: say what to benchmark: `expire-span bench kernels`' : `bench: unknown benchmark "${[what, ...rest].join(' ')}" (available: kernels)`);
  }
  let trials = values.quick ? 1 : 5;
  if (values.trials !== undefined) {
    trials = Number(values.trials);
    if (!Number.isInteger(trials) || trials < 1 || trials > 1000) throw new CliError(`bench: --trials must be an integer from 1 to 1000, got "${values.trials}"`);
  }
  const report = runKernelBench({
    trials,
    minSeconds: values.quick ? 0.01 : 0.25,
    shapes: values.quick ? [[64, 32, 48]] : undefined,
  });
  console.log(values.json ? JSON.stringify(report, null, 2) : formatKernelReport(report));
}
