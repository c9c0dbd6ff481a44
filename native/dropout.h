// Counter-based dropout masks: whether element `index` survives depends only on (seed, index),
// so forward and backward agree without storing a mask, threads need no shared state, and the
// TypeScript reference (src/kernels/dropout.ts) draws exactly the same mask.
#pragma once
#include <cstdint>

namespace es {

inline uint32_t mix32(uint32_t h) {  // murmur3's finaliser
  h ^= h >> 16;
  h *= 0x85ebca6bu;
  h ^= h >> 13;
  h *= 0xc2b2ae35u;
  h ^= h >> 16;
  return h;
}

// The factor dropout multiplies element `index` by: 0, or 1 / (1 - p). p in [0, 1).
inline float dropout_factor(uint32_t seed, uint64_t index, float p) {
  if (p <= 0.f) return 1.f;
  const uint32_t h = mix32(static_cast<uint32_t>(index) * 0x9e3779b9u + seed) ^
                     mix32(static_cast<uint32_t>(index >> 32) + 0x7f4a7c15u);
  const double u = mix32(h) / 4294967296.0;
  return u < p ? 0.f : 1.f / (1.f - p);
}

}  // namespace es
