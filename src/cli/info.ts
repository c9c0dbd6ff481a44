// `expire-span info`: which kernels this installation runs on.
import { kernels } from '../kernels/index.js';

export function infoCommand(argv: string[]): void {
  const info = kernels.info();
  if (argv.includes('--json')) {
    console.log(JSON.stringify(info, null, 2));
    return;
  }
  console.log(`kernels:        ${info.backend}`);
  console.log(`matrix product: ${info.gemm}`);
  console.log(`CBLAS at build: ${info.blas}${info.blasCore ? ` (OpenBLAS core: ${info.blasCore})` : ''}`);
  console.log(`built-in gemm:  ${info.builtinIsa}`);
  console.log(`threads:        ${info.threads}`);
}
