// Chooses the kernels the whole package runs on. EXPIRE_SPAN_KERNELS selects:
//   (unset)     the native addon, or the TypeScript kernels with one warning if it can't load
//   native      the native addon, or an error if it can't load
//   typescript  the TypeScript kernels (ts also accepted)
import { checked } from './checked.js';
import type { Kernels } from './kernels.js';
import { loadNativeKernels, type NativeKernels } from './native.js';
import { referenceKernels } from './reference.js';

export type { FloatArray, KernelInfo, Kernels } from './kernels.js';
export { KernelArgumentError } from './checked.js';
export { referenceKernels } from './reference.js';
export { GemmRoute, type NativeKernels } from './native.js';

const FIX =
  'To fix: install a C++17 compiler, make and python3 (on Debian: apt-get install -y g++ make python3 libopenblas-dev), ' +
  'then run `npm rebuild expire-span`. Set EXPIRE_SPAN_KERNELS=typescript to use the TypeScript kernels without this message.';

function choose(): { kernels: Kernels; native: NativeKernels | null } {
  const wanted = (globalThis.process?.env?.EXPIRE_SPAN_KERNELS ?? '').toLowerCase();
  if (wanted === 'typescript' || wanted === 'ts') return { kernels: checked(referenceKernels as Kernels), native: null };
  if (wanted !== '' && wanted !== 'native') {
    throw new Error(`EXPIRE_SPAN_KERNELS must be "native" or "typescript", got "${wanted}"`);
  }
  const loaded = loadNativeKernels();
  if ('kernels' in loaded) return { kernels: checked(loaded.kernels), native: loaded.kernels };
  if (wanted === 'native') throw new Error(`expire-span: the native kernels could not be loaded (${loaded.error}). ${FIX}`);
  console.warn(`expire-span: the native kernels could not be loaded (${loaded.error}); using the TypeScript kernels, which are much slower. ${FIX}`);
  return { kernels: checked(referenceKernels as Kernels), native: null };
}

const chosen = choose();

/** The checked kernels every part of the package calls. */
export const kernels: Kernels = chosen.kernels;

/** The raw native kernels when loaded (benchmarks use them to compare matrix-product routes). */
export const nativeKernels: NativeKernels | null = chosen.native;
