// Counter-based dropout masks (mirrors native/dropout.h exactly): whether element `index`
// survives depends only on (seed, index), so backward recomputes the mask instead of storing it
// and both kernel implementations draw the same one.

function mix32(h: number): number {
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

/** The factor dropout multiplies element `index` by: 0, or 1 / (1 - p). */
export function dropoutFactor(seed: number, index: number, p: number): number {
  if (p <= 0) return 1;
  const low = index >>> 0, high = Math.floor(index / 4294967296) >>> 0;
  const h = (mix32((Math.imul(low, 0x9e3779b9) + seed) >>> 0) ^ mix32((high + 0x7f4a7c15) >>> 0)) >>> 0;
  const u = mix32(h) / 4294967296;
  // Math.fround: the native code computes 1 / (1 - p) in float32.
  return u < Math.fround(p) ? 0 : Math.fround(1 / Math.fround(1 - Math.fround(p)));
}
