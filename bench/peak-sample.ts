// Prints the fastest of three sgemm products (1024^3; 256^3 on the TypeScript kernels, a hundred
// times slower) in GFLOP/s, on the threads given as the argument. PeakSampler runs it in a
// process of its own, so that its matrices do not count in the training bench's peak RSS.
import { GemmRoute, kernels, nativeKernels } from '../src/kernels/index.js';

const threads = Number(process.argv[2]);
if (!Number.isInteger(threads) || threads < 1) throw new Error(`peak-sample: threads must be a positive integer, got "${process.argv[2]}"`);
kernels.setThreads(threads);
const n = nativeKernels ? 1024 : 256;
const a = new Float32Array(n * n).fill(0.5), c = new Float32Array(n * n);
let best = 0;
// The best of three: the first product in a fresh process runs slower.
for (let i = 0; i < 3; i++) {
  const t = process.hrtime.bigint();
  if (nativeKernels) nativeKernels.gemmVia(GemmRoute.Builtin, false, false, n, n, n, 1, a, 0, n, 0, a, 0, n, 0, 0, c, 0, n, 0, 1);
  else kernels.gemm(false, false, n, n, n, 1, a, 0, n, 0, a, 0, n, 0, 0, c, 0, n, 0, 1);
  best = Math.max(best, (2 * n ** 3) / (Number(process.hrtime.bigint() - t) / 1e9) / 1e9);
}
console.log(best);
