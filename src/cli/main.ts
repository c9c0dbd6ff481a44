#!/usr/bin/env node
// The `expire-span` command: one file per subcommand in this folder. Commands are imported
// inside the try below, so that an error while the kernels load is reported like any other.
import { createRequire } from 'node:module';
import { CliError } from './errors.js';

const HELP = `Usage: expire-span <command> [options]

Commands:
  train            train or resume a model (reference flags; --help for them)
  eval             evaluate a checkpoint over a whole split
  generate         sample text from a checkpoint after a prompt, streaming
  inspect          what a checkpoint keeps over a text: HTML page, charts, JSON
  rl               train an agent on a memory task (corridor, portal, instruction)
  compare          train several models on the same data and print one table (presets: --help)
  tasks            the synthetic tasks (--data task:NAME) and their options
  info             which kernels (native or TypeScript, BLAS, instruction set) this install uses
  parity FILE...   replay golden files from the authors' PyTorch code and compare every tensor
  bench kernels    matrix-product GFLOP/s and per-call overhead, against the system BLAS

Run \`expire-span <command> --help\` for a command's options.`;

async function main(argv: string[]): Promise<void> {
  const [command, ...rest] = argv;
  switch (command) {
    case undefined:
    case '-h':
    case '--help':
    case 'help':
      console.log(HELP);
      return;
    case '-v':
    case '--version':
      console.log((createRequire(import.meta.url)('../../../package.json') as { version: string }).version);
      return;
    case 'info':
      return (await import('./info.js')).infoCommand(rest);
    case 'train':
      return (await import('./train.js')).trainCommand(rest);
    case 'eval':
      return (await import('./eval.js')).evalCommand(rest);
    case 'generate':
      return (await import('./generate.js')).generateCommand(rest);
    case 'inspect':
      return (await import('./inspect.js')).inspectCommand(rest);
    case 'rl':
      return (await import('./rl.js')).rlCommand(rest);
    case 'compare':
      return (await import('./compare.js')).compareCommand(rest);
    case 'tasks':
      return console.log((await import('../data/tasks/index.js')).describeTasks());
    case 'parity':
      return (await import('./parity.js')).parityCommand(rest);
    case 'bench':
      return (await import('./bench.js')).benchCommand(rest);
    default:
      throw new CliError(`unknown command "${command}" (run \`expire-span --help\` for the list)`);
  }
}

try {
  await main(process.argv.slice(2));
} catch (e) {
  const error = e as Error & { code?: string };
  // Mistakes in what was asked (flags, config, data) exit 2 without a stack trace.
  const usage = error instanceof CliError || ['ConfigError', 'DataError'].includes(error.name) || error.code?.startsWith('ERR_PARSE_ARGS');
  if (usage) {
    console.error(`expire-span: ${error.message}`);
    process.exit(2);
  }
  if (process.env.EXPIRE_SPAN_DEBUG) throw e;
  console.error(`expire-span: ${error.message}\n(set EXPIRE_SPAN_DEBUG=1 for the stack trace)`);
  process.exit(1);
}
