// Prints the fastest of three sgemm products (1024^3; 256^3 on the TypeScript kernels, a hundred
// times slower), after a warm-up, in GFLOP/s, on the threads given as the argument. PeakSampler
// runs it in a process of its own, so that its matrices do not count in the training bench's
// peak RSS.
import { GemmRoute, kernels, nativeKernels } from '../src/kernels/index.js';

const threads = Number(process.argv[2]);
if (!Number.isInteger(threads) || threads < 1) throw new Error(`peak-sample: threads must be a positive integer, got "${process.argv[2]}"`);
kernels.setThreads(threads);
const n = nativeKernels ? 1024 : 256;
const a = new Float32Array(n * n).fill(0.5), c = new Float32Array(n * n);
/** One product, in seconds. */
const product = (): number => {
  const t = process.hrtime.bigint();
  if (nativeKernels) nativeKernels.gemmVia(GemmRoute.Builtin, false, false, n, n, n, 1, a, 0, n, 0, a, 0, n, 0, 0, c, 0, n, 0, 1);
  else kernels.gemm(false, false, n, n, n, 1, a, 0, n, 0, a, 0, n, 0, 0, c, 0, n, 0, 1);
  return Number(process.hrtime.bigint() - t) / 1e9;
};
// A fresh process runs its first products slowly: on a VM its threads may share one core for
// the first tens of milliseconds (five products at one thread's speed, then twice that, seen
// on the project machine). Warm up for a quarter of a second, then take the best of three.
for (let spent = 0; spent < 0.25; ) spent += product();
let best = 0;
for (let i = 0; i < 3; i++) best = Math.max(best, (2 * n ** 3) / product() / 1e9);
console.log(best);
