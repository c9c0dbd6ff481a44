// Loads the C++ kernels built by node-gyp (native/, build/Release). Returns why when it can't.
import { createRequire } from 'node:module';
import type { KernelInfo, Kernels } from './kernels.js';

/** The addon's raw functions (see native/addon.cc); `gemm` takes a trailing route argument. */
interface Addon extends Omit<Kernels, 'gemm' | 'info'> {
  info(): Omit<KernelInfo, 'backend'>;
  gemm(...args: [...Parameters<Kernels['gemm']>, route: number]): void;
  noop(): void;
}

/** Which matrix product a native gemm call takes: the active backend, the built-in kernel, or
 * the linked CBLAS straight (the last two for benchmarks). */
export const GemmRoute = { Active: 0, Builtin: 1, Cblas: 2 } as const;
export type GemmRoute = (typeof GemmRoute)[keyof typeof GemmRoute];

export interface NativeKernels extends Kernels {
  /** gemm through a chosen route; the Kernels.gemm arguments, then the route. */
  gemmVia(route: GemmRoute, ...args: Parameters<Kernels['gemm']>): void;
  /** A call that does nothing: the binding's own cost. */
  noop(): void;
}

const ADDON_PATH = '../../../build/Release/expire_span_native.node';

export function loadNativeKernels(): { kernels: NativeKernels } | { error: string } {
  let addon: Addon;
  try {
    addon = createRequire(import.meta.url)(ADDON_PATH) as Addon;
  } catch (e) {
    return { error: (e as Error).message.split('\n')[0] };
  }
  const kernels: NativeKernels = {
    ...addon,
    info: () => ({ backend: 'native', ...addon.info() }),
    // Spelled out: spreading the arguments would allocate on every call.
    gemm: (tA, tB, m, n, k, alpha, a, aO, lda, sA, b, bO, ldb, sB, beta, c, cO, ldc, sC, batch) =>
      addon.gemm(tA, tB, m, n, k, alpha, a, aO, lda, sA, b, bO, ldb, sB, beta, c, cO, ldc, sC, batch, GemmRoute.Active),
    gemmVia: (route, ...args) => addon.gemm(...args, route),
  };
  return { kernels };
}
