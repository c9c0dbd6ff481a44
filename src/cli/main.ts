#!/usr/bin/env node
// The `expire-span` command: one file per subcommand in this folder.
import { createRequire } from 'node:module';
import { benchCommand, benchHelp } from './bench.js';
import { CliError } from './errors.js';
import { infoCommand } from './info.js';

const HELP = `Usage: expire-span <command> [options]

Commands:
  info             which kernels (native or TypeScript, BLAS, instruction set) this install uses
  bench kernels    matrix-product GFLOP/s and per-call overhead, against the system BLAS

Run \`expire-span <command> --help\` for a command's options.

${benchHelp}`;

function main(argv: string[]): void {
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
      return infoCommand(rest, false);
    case 'bench':
      return benchCommand(rest);
    default:
      throw new CliError(`unknown command "${command}" (run \`expire-span --help\` for the list)`);
  }
}

try {
  main(process.argv.slice(2));
} catch (e) {
  if (e instanceof CliError || (e as { code?: string }).code?.startsWith('ERR_PARSE_ARGS')) {
    console.error(`expire-span: ${(e as Error).message}`);
    process.exit(2);
  }
  throw e;
}
