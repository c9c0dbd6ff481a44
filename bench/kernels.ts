// Kernel benchmark: sgemm GFLOP/s on the model's shapes through each available route (the
// active backend, the built-in kernel, the linked CBLAS called straight), side by side and
// interleaved so that machine noise hits all of them alike; and the per-call cost of a small op.
import { GemmRoute, kernels, nativeKernels } from '../src/kernels/index.js';

export interface KernelBenchOptions {
  /** Trials per measurement; the median is reported. */
  trials?: number;
  /** Minimum seconds per trial. */
  minSeconds?: number;
  threads?: number[];
  shapes?: [m: number, k: number, n: number][];
}

export interface GemmRow {
  m: number;
  k: number;
  n: number;
  threads: number;
  /** GFLOP/s by route: "ours" (what the model uses), "builtin", "openblas"/"accelerate" (straight). */
  gflops: Record<string, number>;
}

export interface KernelBenchReport {
  kernels: ReturnType<typeof kernels.info>;
  gemm: GemmRow[];
  /** Nanoseconds per call. */
  overheadNs: Record<string, number>;
  notes: string[];
}

export const DEFAULT_SHAPES: [number, number, number][] = [
  [2048, 256, 256],
  [2048, 256, 1024],
  [2048, 1024, 256],
  [512, 512, 512],
];

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
}

/** Seconds per call of fn, timed over at least minSeconds. */
function timePerCall(fn: () => void, minSeconds: number): number {
  let calls = 1;
  for (;;) {
    const start = process.hrtime.bigint();
    for (let i = 0; i < calls; i++) fn();
    const seconds = Number(process.hrtime.bigint() - start) / 1e9;
    if (seconds >= minSeconds) return seconds / calls;
    calls = Math.max(calls * 2, Math.ceil((calls * minSeconds * 1.2) / Math.max(seconds, 1e-9)));
  }
}

export function runKernelBench({ trials = 5, minSeconds = 0.25, threads = [1, 2], shapes = DEFAULT_SHAPES }: KernelBenchOptions = {}): KernelBenchReport {
  const info = kernels.info();
  const notes: string[] = [];
  if (!nativeKernels) notes.push('The native kernels are not loaded: only the TypeScript matrix product is measured.');
  if (info.blas === 'openblas' && info.gemm === 'builtin') {
    notes.push(
      `The model's products run on the built-in ${info.builtinIsa} kernel (OpenBLAS, with its "${info.blasCore}" kernels, is measured ` +
        'for comparison only): in training it is faster than OpenBLAS\'s threads beside our own, even given OpenBLAS\'s widest kernels.',
    );
  }
  const routes: [string, (g: GemmArgs) => void][] = [['ours', (g) => kernels.gemm(...g)]];
  if (nativeKernels) {
    routes.push(['builtin', (g) => nativeKernels!.gemmVia(GemmRoute.Builtin, ...g)]);
    if (info.blas !== 'none') routes.push([info.blas, (g) => nativeKernels!.gemmVia(GemmRoute.Cblas, ...g)]);
  }

  const rows: GemmRow[] = [];
  for (const [m, k, n] of shapes) {
    const a = new Float32Array(m * k).map((_, i) => ((i * 7919) % 1000) / 1000 - 0.5);
    const b = new Float32Array(k * n).map((_, i) => ((i * 104729) % 1000) / 1000 - 0.5);
    const c = new Float32Array(m * n);
    const args: GemmArgs = [false, false, m, n, k, 1, a, 0, k, 0, b, 0, n, 0, 0, c, 0, n, 0, 1];
    for (const t of threads) {
      kernels.setThreads(t);
      const seconds: Record<string, number[]> = {};
      for (const [, run] of routes) run(args); // warm-up: page in buffers, size scratch space
      for (let trial = 0; trial < trials; trial++) {
        for (const [name, run] of routes) (seconds[name] ??= []).push(timePerCall(() => run(args), minSeconds));
      }
      const gflops: Record<string, number> = {};
      for (const [name] of routes) gflops[name] = (2 * m * n * k) / median(seconds[name]) / 1e9;
      rows.push({ m, k, n, threads: t, gflops });
    }
  }
  kernels.setThreads(Math.max(...threads));

  const small = new Float32Array(16);
  const overheadNs: Record<string, number> = {};
  const calls: [string, () => void][] = [['add(16), checked', () => kernels.add(small, small, small, 16)]];
  if (nativeKernels) {
    calls.push(['add(16), raw binding', () => nativeKernels!.add(small, small, small, 16)]);
    calls.push(['empty binding call', () => nativeKernels!.noop()]);
  }
  for (const [name, fn] of calls) {
    overheadNs[name] = median(Array.from({ length: trials }, () => timePerCall(fn, minSeconds / 5))) * 1e9;
  }
  return { kernels: info, gemm: rows, overheadNs, notes };
}

type GemmArgs = Parameters<typeof kernels.gemm>;

export function formatKernelReport(r: KernelBenchReport): string {
  const i = r.kernels;
  const lines = [
    `kernels: ${i.backend}; matrix product: ${i.gemm} (CBLAS at build: ${i.blas}${i.blasCore ? `, core ${i.blasCore}` : ''}; built-in: ${i.builtinIsa})`,
    '',
    'sgemm GFLOP/s (C = A B, row-major; median of trials, routes interleaved)',
  ];
  const names = Object.keys(r.gemm[0]?.gflops ?? {});
  const blas = names.find((n) => n !== 'ours' && n !== 'builtin');
  const header = ['   M     K     N  thr', ...names.map((n) => n.padStart(10)), ...(blas ? ['ours/blas', 'builtin/blas'].map((n) => n.padStart(13)) : [])];
  lines.push(header.join(''));
  for (const row of r.gemm) {
    const cells = [`${String(row.m).padStart(4)}  ${String(row.k).padStart(4)}  ${String(row.n).padStart(4)}  ${String(row.threads).padStart(3)}`];
    for (const n of names) cells.push(row.gflops[n].toFixed(1).padStart(10));
    if (blas) {
      cells.push(`${((100 * row.gflops.ours) / row.gflops[blas]).toFixed(0)}%`.padStart(13));
      cells.push(`${((100 * row.gflops.builtin) / row.gflops[blas]).toFixed(0)}%`.padStart(13));
    }
    lines.push(cells.join(''));
  }
  lines.push('', 'per-call overhead of a small op');
  for (const [name, ns] of Object.entries(r.overheadNs)) lines.push(`  ${name.padEnd(24)} ${ns.toFixed(0).padStart(6)} ns`);
  for (const note of r.notes) lines.push('', `note: ${note}`);
  return lines.join('\n');
}
