// The built-in matrix product: the classic packed algorithm (Goto / BLIS). op(A) and op(B) are
// copied into contiguous micro-panels (which also absorbs the transposes), and a register-blocked
// micro-kernel computes one MR x NR tile of C per call. The instruction set is picked at run time.
#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

#include "gemm.h"
#include "kernels.h"
#include "thread_pool.h"

#if defined(__x86_64__)
#include <immintrin.h>
#define ES_X86 1
#endif

namespace es {
namespace {

constexpr int KC = 256;   // depth of one packed block: a B micro-panel (KC x NR) stays in L1
constexpr int NC = 2048;  // columns of B packed at once (L2/L3)

// A 64-byte aligned scratch buffer per thread, grown on demand and kept across calls.
struct Scratch {
  float* data = nullptr;
  size_t size = 0;
  float* get(size_t n) {
    if (n > size) {
      std::free(data);
      data = static_cast<float*>(std::aligned_alloc(64, ((n * sizeof(float) + 63) / 64) * 64));
      size = n;
    }
    return data;
  }
  ~Scratch() { std::free(data); }
};
thread_local Scratch scratch_a, scratch_b;

enum class Isa { Portable, Avx2, Avx512 };

// The widest kernel the CPU runs, or a narrower one named by EXPIRE_SPAN_GEMM_ISA ("avx2" or
// "portable"), so that every path can be tested on one machine.
Isa detect_isa() {
  const char* env = std::getenv("EXPIRE_SPAN_GEMM_ISA");
  const std::string wanted = env ? env : "";
  if (wanted == "portable") return Isa::Portable;
#if ES_X86
  if (wanted != "avx2" && __builtin_cpu_supports("avx512f")) return Isa::Avx512;
  if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma")) return Isa::Avx2;
#endif
  return Isa::Portable;
}

const Isa isa = detect_isa();

#if ES_X86
// GCC 12 warns about the undefined vector inside its own _mm512_shuffle_f32x4 (a known false
// positive, GCC bug 105593).
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
// The AVX-512 form of transpose_into for the first cols / 16 * 16 columns: 16 x 16 blocks in
// four rounds of shuffles (pairs of rows, then pairs of pairs, then 128-bit lanes twice). A last
// block of fewer than 16 rows is loaded under a mask and stored under one.
__attribute__((target("avx512f"))) void transpose_blocks_avx512(const float* src, long ld, int rows, int cols,
                                                               float* dst, int stride) {
  for (int i = 0; i < rows; i += 16) {
    const int n = std::min(16, rows - i);
    const __mmask16 live = static_cast<__mmask16>((1u << n) - 1);
    for (int p = 0; p + 16 <= cols; p += 16) {
      __m512 r[16], t[16];
      for (int k = 0; k < 16; k++) r[k] = k < n ? _mm512_loadu_ps(src + (i + k) * ld + p) : _mm512_setzero_ps();
      for (int k = 0; k < 16; k += 2) {
        t[k] = _mm512_unpacklo_ps(r[k], r[k + 1]);
        t[k + 1] = _mm512_unpackhi_ps(r[k], r[k + 1]);
      }
      for (int k = 0; k < 16; k += 4) {
        r[k] = _mm512_shuffle_ps(t[k], t[k + 2], _MM_SHUFFLE(1, 0, 1, 0));
        r[k + 1] = _mm512_shuffle_ps(t[k], t[k + 2], _MM_SHUFFLE(3, 2, 3, 2));
        r[k + 2] = _mm512_shuffle_ps(t[k + 1], t[k + 3], _MM_SHUFFLE(1, 0, 1, 0));
        r[k + 3] = _mm512_shuffle_ps(t[k + 1], t[k + 3], _MM_SHUFFLE(3, 2, 3, 2));
      }
      // r[4q + c]: column 4l + c of rows 4q..4q+3 in lane l.
      for (int k = 0; k < 4; k++) {
        t[k] = _mm512_shuffle_f32x4(r[k], r[k + 4], 0x88);
        t[k + 4] = _mm512_shuffle_f32x4(r[k], r[k + 4], 0xdd);
        t[k + 8] = _mm512_shuffle_f32x4(r[k + 8], r[k + 12], 0x88);
        t[k + 12] = _mm512_shuffle_f32x4(r[k + 8], r[k + 12], 0xdd);
      }
      for (int k = 0; k < 8; k++) {
        const __m512 lo = _mm512_shuffle_f32x4(t[k], t[k + 8], 0x88), hi = _mm512_shuffle_f32x4(t[k], t[k + 8], 0xdd);
        _mm512_mask_storeu_ps(dst + (p + k) * stride + i, live, lo);      // column k
        _mm512_mask_storeu_ps(dst + (p + k + 8) * stride + i, live, hi);  // column k + 8
      }
    }
  }
}
#pragma GCC diagnostic pop
#endif

// dst[p * stride + i] = src[i * ld + p] for i < rows, p < cols: the transposing copy both
// packings need when their operand is stored the other way round. With the AVX-512 kernel, 16 x 16
// blocks in AVX-512 registers; otherwise 4 x 4 blocks through SSE registers (x86-64's baseline).
// Edges are copied one by one.
void transpose_into(const float* src, long ld, int rows, int cols, float* dst, int stride) {
#if ES_X86
  if (isa == Isa::Avx512 && cols >= 16) {
    transpose_blocks_avx512(src, ld, rows, cols, dst, stride);
    const int done = cols / 16 * 16;  // the rest, column by column
    for (int i = 0; i < rows; i++)
      for (int p = done; p < cols; p++) dst[p * stride + i] = src[i * ld + p];
    return;
  }
#endif
  int i = 0;
#if ES_X86
  for (; i + 4 <= rows; i += 4) {
    int p = 0;
    for (; p + 4 <= cols; p += 4) {
      __m128 r0 = _mm_loadu_ps(src + i * ld + p), r1 = _mm_loadu_ps(src + (i + 1) * ld + p);
      __m128 r2 = _mm_loadu_ps(src + (i + 2) * ld + p), r3 = _mm_loadu_ps(src + (i + 3) * ld + p);
      _MM_TRANSPOSE4_PS(r0, r1, r2, r3);
      _mm_storeu_ps(dst + p * stride + i, r0);
      _mm_storeu_ps(dst + (p + 1) * stride + i, r1);
      _mm_storeu_ps(dst + (p + 2) * stride + i, r2);
      _mm_storeu_ps(dst + (p + 3) * stride + i, r3);
    }
    for (; p < cols; p++)
      for (int k = 0; k < 4; k++) dst[p * stride + i + k] = src[(i + k) * ld + p];
  }
#endif
  for (; i < rows; i++)
    for (int p = 0; p < cols; p++) dst[p * stride + i] = src[i * ld + p];
}

// Copies n floats into a panel row of width W, zero-filling the rest.
template <int W>
inline void panel_row(const float* src, int n, float* dst) {
  if (n == W) {
    std::memcpy(dst, src, W * sizeof(float));
    return;
  }
  for (int i = 0; i < n; i++) dst[i] = src[i];
  for (int i = n; i < W; i++) dst[i] = 0.f;
}

// Packs rows [i0, i0+mc) and depth [p0, p0+kc) of op(A) into panels of MR rows: within a panel,
// element (i, p) sits at p * MR + i. Rows past mc are zero.
template <int MR>
void pack_a(const Gemm& g, const float* a, int i0, int mc, int p0, int kc, float* out) {
  if (g.trans_a) {
    // op(A)(i, p) = a[p * lda + i]: stored row p holds depth p of every panel. It is read once,
    // front to back, and dealt out; a panel at a time would read MR floats per row with a stride
    // of lda, which the prefetcher does not follow.
    for (int p = 0; p < kc; p++) {
      const float* src = a + static_cast<long>(p0 + p) * g.lda + i0;
      for (int r = 0; r < mc; r += MR) panel_row<MR>(src + r, std::min(MR, mc - r), out + static_cast<long>(r) * kc + p * MR);
    }
    return;
  }
  for (int r = 0; r < mc; r += MR) {  // op(A)(i, p) = a[i * lda + p]
    const int rows = std::min(MR, mc - r);
    float* panel = out + static_cast<long>(r) * kc;
    transpose_into(a + static_cast<long>(i0 + r) * g.lda + p0, g.lda, rows, kc, panel, MR);
    for (int i = rows; i < MR; i++)
      for (int p = 0; p < kc; p++) panel[p * MR + i] = 0.f;
  }
}

// Packs depth [p0, p0+kc) and columns [j0, j0+nc) of op(B) into panels of NR columns: within a
// panel, element (p, j) sits at p * NR + j. Columns past nc are zero.
template <int NR>
void pack_b(const Gemm& g, const float* b, int p0, int kc, int j0, int nc, float* out) {
  if (!g.trans_b) {
    // op(B)(p, j) = b[p * ldb + j]: each stored row read once, front to back (see pack_a).
    for (int p = 0; p < kc; p++) {
      const float* src = b + static_cast<long>(p0 + p) * g.ldb + j0;
      for (int c = 0; c < nc; c += NR) panel_row<NR>(src + c, std::min(NR, nc - c), out + static_cast<long>(c) * kc + p * NR);
    }
    return;
  }
  for (int c = 0; c < nc; c += NR) {  // op(B)(p, j) = b[j * ldb + p]
    const int cols = std::min(NR, nc - c);
    float* panel = out + static_cast<long>(c) * kc;
    // The next panel's rows, ahead of time: short rows a row stride apart (an attention head's
    // slice of the keys) are a pattern the hardware prefetcher does not follow.
    for (int j = c + NR; j < std::min(nc, c + 2 * NR); j++)
      for (int p = 0; p < kc; p += 16) __builtin_prefetch(b + static_cast<long>(j0 + j) * g.ldb + p0 + p);
    transpose_into(b + static_cast<long>(j0 + c) * g.ldb + p0, g.ldb, cols, kc, panel, NR);
    for (int j = cols; j < NR; j++)
      for (int p = 0; p < kc; p++) panel[p * NR + j] = 0.f;
  }
}

// Writes an accumulated MR x NR tile (row-major in `acc`) into C: the first depth block applies
// alpha and beta, later blocks add.
template <int MR, int NR>
inline void store_tile(const float* acc, float* c, long ldc, int rows, int cols, float alpha,
                       float beta, bool first) {
  for (int i = 0; i < rows; i++) {
    float* row = c + i * ldc;
    const float* src = acc + i * NR;
    if (!first) {
      for (int j = 0; j < cols; j++) row[j] += alpha * src[j];
    } else if (beta == 0.f) {
      for (int j = 0; j < cols; j++) row[j] = alpha * src[j];
    } else {
      for (int j = 0; j < cols; j++) row[j] = alpha * src[j] + beta * row[j];
    }
  }
}

// --- micro-kernels: C tile (rows x cols, at most MR x NR) from panels A (kc x MR), B (kc x NR) ---

#if defined(__GNUC__)
// Portable, but still SIMD: GCC/Clang vector extensions map to SSE on x86 and NEON on ARM.
struct Portable {
  static constexpr int MR = 4, NR = 16;
  static constexpr bool kDirectA = false;
  typedef float v4 __attribute__((vector_size(16), aligned(4)));
  static void micro(int kc, const float* a, const float* b, float* c, long ldc, int rows, int cols,
                    float alpha, float beta, bool first) {
    v4 acc[MR][NR / 4] = {};
    for (int p = 0; p < kc; p++, a += MR, b += NR) {
      v4 bv[NR / 4];
      std::memcpy(bv, b, sizeof bv);
      for (int i = 0; i < MR; i++)
        for (int j = 0; j < NR / 4; j++) acc[i][j] += a[i] * bv[j];
    }
    float tile[MR * NR];
    std::memcpy(tile, acc, sizeof tile);
    store_tile<MR, NR>(tile, c, ldc, rows, cols, alpha, beta, first);
  }
};
#else
struct Portable {
  static constexpr int MR = 4, NR = 16;
  static constexpr bool kDirectA = false;
  static void micro(int kc, const float* a, const float* b, float* c, long ldc, int rows, int cols,
                    float alpha, float beta, bool first) {
    float acc[MR * NR] = {};
    for (int p = 0; p < kc; p++, a += MR, b += NR)
      for (int i = 0; i < MR; i++)
        for (int j = 0; j < NR; j++) acc[i * NR + j] += a[i] * b[j];
    store_tile<MR, NR>(acc, c, ldc, rows, cols, alpha, beta, first);
  }
};
#endif

#if ES_X86
struct Avx2 {
  static constexpr int MR = 6, NR = 16;
  static constexpr bool kDirectA = false;
  __attribute__((target("avx2,fma"))) static void micro(int kc, const float* a, const float* b,
                                                         float* c, long ldc, int rows, int cols,
                                                         float alpha, float beta, bool first) {
    __m256 acc[MR][2];
    for (int i = 0; i < MR; i++) acc[i][0] = acc[i][1] = _mm256_setzero_ps();
    for (int p = 0; p < kc; p++, a += MR, b += NR) {
      const __m256 b0 = _mm256_load_ps(b), b1 = _mm256_load_ps(b + 8);
      for (int i = 0; i < MR; i++) {
        const __m256 ai = _mm256_broadcast_ss(a + i);
        acc[i][0] = _mm256_fmadd_ps(ai, b0, acc[i][0]);
        acc[i][1] = _mm256_fmadd_ps(ai, b1, acc[i][1]);
      }
    }
    if (rows == MR && cols == NR) {
      const __m256 va = _mm256_set1_ps(alpha), vb = _mm256_set1_ps(beta);
      for (int i = 0; i < MR; i++) {
        float* row = c + i * ldc;
        for (int h = 0; h < 2; h++) {
          __m256 v = _mm256_mul_ps(va, acc[i][h]);
          if (!first) v = _mm256_add_ps(v, _mm256_loadu_ps(row + 8 * h));
          else if (beta != 0.f) v = _mm256_fmadd_ps(vb, _mm256_loadu_ps(row + 8 * h), v);
          _mm256_storeu_ps(row + 8 * h, v);
        }
      }
      return;
    }
    alignas(32) float tile[MR * NR];
    for (int i = 0; i < MR; i++) {
      _mm256_store_ps(tile + i * NR, acc[i][0]);
      _mm256_store_ps(tile + i * NR + 8, acc[i][1]);
    }
    store_tile<MR, NR>(tile, c, ldc, rows, cols, alpha, beta, first);
  }
};

struct Avx512 {
  static constexpr int MR = 12, NR = 32;
  static constexpr bool kDirectA = true;
  // The tile of C (rows x cols, at most MR x NR) from A (MR x kc) and a packed B panel, with A's
  // element (i, p) at a[i * rs + p * cs]: a packed panel has rs = 1, cs = MR; A read where it is
  // stored has its own strides. RS and CS fix a stride at compile time (0: the argument's). R
  // rows are computed (rows <= R): a last tile of 8 rows (of 128) need not cost 12.
  template <long RS, long CS, int R = MR>
  __attribute__((target("avx512f"))) static void tile(int kc, const float* a, long rs, long cs,
                                                       const float* b, float* c, long ldc, int rows,
                                                       int cols, float alpha, float beta, bool first) {
    __m512 acc[R][2];
    for (int i = 0; i < R; i++) acc[i][0] = acc[i][1] = _mm512_setzero_ps();
    const long r = RS ? RS : rs, s = CS ? CS : cs;
    for (int p = 0; p < kc; p++, a += s, b += NR) {
      const __m512 b0 = _mm512_load_ps(b), b1 = _mm512_load_ps(b + 16);
      for (int i = 0; i < R; i++) {
        const __m512 ai = _mm512_set1_ps(a[i * r]);
        acc[i][0] = _mm512_fmadd_ps(ai, b0, acc[i][0]);
        acc[i][1] = _mm512_fmadd_ps(ai, b1, acc[i][1]);
      }
    }
    if (rows == R && cols == NR) {
      const __m512 va = _mm512_set1_ps(alpha), vb = _mm512_set1_ps(beta);
      for (int i = 0; i < R; i++) {
        float* row = c + i * ldc;
        for (int h = 0; h < 2; h++) {
          __m512 v = _mm512_mul_ps(va, acc[i][h]);
          if (!first) v = _mm512_add_ps(v, _mm512_loadu_ps(row + 16 * h));
          else if (beta != 0.f) v = _mm512_fmadd_ps(vb, _mm512_loadu_ps(row + 16 * h), v);
          _mm512_storeu_ps(row + 16 * h, v);
        }
      }
      return;
    }
    alignas(64) float part[R * NR];
    for (int i = 0; i < R; i++) {
      _mm512_store_ps(part + i * NR, acc[i][0]);
      _mm512_store_ps(part + i * NR + 16, acc[i][1]);
    }
    store_tile<R, NR>(part, c, ldc, rows, cols, alpha, beta, first);
  }
  static void micro(int kc, const float* a, const float* b, float* c, long ldc, int rows, int cols,
                    float alpha, float beta, bool first) {
    if (rows <= 4) tile<1, MR, 4>(kc, a, 1, MR, b, c, ldc, rows, cols, alpha, beta, first);
    else if (rows <= 8) tile<1, MR, 8>(kc, a, 1, MR, b, c, ldc, rows, cols, alpha, beta, first);
    else tile<1, MR>(kc, a, 1, MR, b, c, ldc, rows, cols, alpha, beta, first);
  }
};
#endif

// What one MR x NR tile of C (rows [i, i + rows), columns [j, j + cols)) takes from depth block
// [pc, pc + kc) under g's band: the depth range [k0, k1) relative to pc, and whether it is the
// tile's first contribution (which applies beta); nothing when !run.
struct TilePlan {
  bool run;
  int k0, k1;
  bool first;
};

inline TilePlan plan_tile(const Gemm& g, long i, int rows, long j, int cols, int pc, int kc) {
  const long lo = i + g.band_lo, hi = i + rows - 1 + g.band_hi;  // the union of the rows' bands
  if (g.band == Gemm::kBandColumns && (j + cols <= lo || j >= hi)) return {false, 0, 0, false};
  if (g.band == Gemm::kBandDepth) {
    const long k0 = std::clamp<long>(lo, 0, g.k), k1 = std::clamp<long>(hi, k0, g.k);
    if (k0 == k1) return {pc == 0, 0, 0, true};  // no terms at all: C = beta C, once
    const long b0 = std::max<long>(pc, k0), b1 = std::min<long>(pc + kc, k1);
    if (b0 >= b1) return {false, 0, 0, false};
    return {true, static_cast<int>(b0 - pc), static_cast<int>(b1 - pc), b0 == k0};
  }
  return {true, 0, kc, pc == 0};
}

// Rows [i0, i0+mc) x depth [p0, p0+kc) of op(A) times packed B (kc x nc) into C (rows i0..,
// columns of the block; nc a multiple of NR), with A read where it is stored (full row panels)
// or packed into ap (a last partial one).
template <class K>
void direct_block(const Gemm& g, const float* a, int i0, int mc, int p0, int kc, const float* bp,
                  float* c, int j0, int nc, float* ap) {
  constexpr int MR = K::MR, NR = K::NR;
  const int full = mc / MR * MR;
  if (full < mc) pack_a<MR>(g, a, i0 + full, mc - full, p0, kc, ap);
  for (int jr = 0; jr < nc; jr += NR) {
    const float* bpanel = bp + static_cast<long>(jr) * kc;
    for (int ir = 0; ir < full; ir += MR) {
      const TilePlan t = plan_tile(g, i0 + ir, MR, j0 + jr, NR, p0, kc);
      if (!t.run) continue;
      float* ct = c + static_cast<long>(ir) * g.ldc + jr;
      const int p = p0 + t.k0;
      if (g.trans_a)
        K::template tile<1, 0>(t.k1 - t.k0, a + static_cast<long>(p) * g.lda + i0 + ir, 1, g.lda, bpanel + t.k0 * NR, ct, g.ldc, MR, NR, g.alpha, g.beta, t.first);
      else
        K::template tile<0, 1>(t.k1 - t.k0, a + static_cast<long>(i0 + ir) * g.lda + p, g.lda, 1, bpanel + t.k0 * NR, ct, g.ldc, MR, NR, g.alpha, g.beta, t.first);
    }
    if (full < mc) {
      const TilePlan t = plan_tile(g, i0 + full, mc - full, j0 + jr, NR, p0, kc);
      if (t.run)
        K::micro(t.k1 - t.k0, ap + t.k0 * MR, bpanel + t.k0 * NR, c + static_cast<long>(full) * g.ldc + jr, g.ldc, mc - full, NR, g.alpha, g.beta, t.first);
    }
  }
}

// One product (one batch item) restricted to rows [m0, m1) and columns [n0, n1) of C.
template <class K>
void gemm_block(const Gemm& g, const float* a, const float* b, float* c, int m0, int m1, int n0,
                int n1) {
  constexpr int MR = K::MR, NR = K::NR, MC = MR * 16;
  if (g.k == 0) {  // empty sum: C = beta * C
    for (int i = m0; i < m1; i++)
      for (int j = n0; j < n1; j++) c[i * g.ldc + j] = g.beta == 0.f ? 0.f : g.beta * c[i * g.ldc + j];
    return;
  }
  // A is read where it lies when B is only one or two panels wide (each packed A panel would be
  // read once or twice), and when A is stored transposed: its MR rows at one depth are then
  // adjacent, as in a packed panel, and the copy is saved (1-2% of a training step).
  const bool direct_a = K::kDirectA && (n1 - n0) % NR == 0 && (g.trans_a || n1 - n0 <= 2 * NR);
  // A pre-packed B: depth block pc at pc * npad, its panels kc x NR in column order.
  const long npad = (static_cast<long>(g.n) + NR - 1) / NR * NR;
  float* b_scratch = g.packed_b ? nullptr : scratch_b.get(static_cast<size_t>(KC) * ((std::min(NC, n1 - n0) + NR - 1) / NR * NR));
  float* ap = scratch_a.get(static_cast<size_t>(KC) * ((std::min(MC, m1 - m0) + MR - 1) / MR * MR));
  for (int jc = n0; jc < n1; jc += NC) {
    const int nc = std::min(NC, n1 - jc);
    for (int pc = 0; pc < g.k; pc += KC) {
      const int kc = std::min(KC, g.k - pc);
      const float* bp = b_scratch;
      if (g.packed_b) bp = g.packed_b + pc * npad + static_cast<long>(jc) * kc;
      else pack_b<NR>(g, b, pc, kc, jc, nc, b_scratch);
      for (int ic = m0; ic < m1; ic += MC) {
        const int mc = std::min(MC, m1 - ic);
        if constexpr (K::kDirectA) {
          if (direct_a) {
            direct_block<K>(g, a, ic, mc, pc, kc, bp, c + static_cast<long>(ic) * g.ldc + jc, jc, nc, ap);
            continue;
          }
        }
        pack_a<MR>(g, a, ic, mc, pc, kc, ap);
        for (int jr = 0; jr < nc; jr += NR) {
          for (int ir = 0; ir < mc; ir += MR) {
            const int rows = std::min(MR, mc - ir), cols = std::min(NR, nc - jr);
            const TilePlan t = plan_tile(g, ic + ir, rows, jc + jr, cols, pc, kc);
            if (!t.run) continue;
            K::micro(t.k1 - t.k0, ap + static_cast<long>(ir) * kc + t.k0 * MR, bp + static_cast<long>(jr) * kc + t.k0 * NR,
                     c + static_cast<long>(ic + ir) * g.ldc + jc + jr, g.ldc, rows, cols, g.alpha, g.beta, t.first);
          }
        }
      }
    }
  }
}

// A product with one column (n == 1) or one row (m == 1) of C, as dot products and axpys: the
// tiles would compute MR x NR entries for every one used.
ES_MULTIVERSION void gemm_thin(const Gemm& g, const float* a, const float* b, float* c) {
  const bool column = g.n == 1;
  std::vector<float> acc(column ? g.m : g.n, 0.f), v(g.k);
  if (column) {  // acc[i] = sum_p op(A)(i, p) v[p], v = op(B)'s column
    for (int p = 0; p < g.k; p++) v[p] = b[g.trans_b ? p : p * g.ldb];
    if (!g.trans_a) {
      for (int i = 0; i < g.m; i++) {
        const float* ai = a + static_cast<long>(i) * g.lda;
        float sum = 0.f;
#pragma omp simd reduction(+ : sum)
        for (int p = 0; p < g.k; p++) sum += ai[p] * v[p];
        acc[i] = sum;
      }
    } else {
      for (int p = 0; p < g.k; p++) {
        const float* ap = a + static_cast<long>(p) * g.lda;
#pragma omp simd
        for (int i = 0; i < g.m; i++) acc[i] += ap[i] * v[p];
      }
    }
  } else {  // acc[j] = sum_p v[p] op(B)(p, j), v = op(A)'s row
    for (int p = 0; p < g.k; p++) v[p] = a[g.trans_a ? p * g.lda : p];
    if (!g.trans_b) {
      for (int p = 0; p < g.k; p++) {
        const float* bp = b + static_cast<long>(p) * g.ldb;
#pragma omp simd
        for (int j = 0; j < g.n; j++) acc[j] += v[p] * bp[j];
      }
    } else {
      for (int j = 0; j < g.n; j++) {
        const float* bj = b + static_cast<long>(j) * g.ldb;
        float sum = 0.f;
#pragma omp simd reduction(+ : sum)
        for (int p = 0; p < g.k; p++) sum += v[p] * bj[p];
        acc[j] = sum;
      }
    }
  }
  const long step = column ? g.ldc : 1;
  for (size_t i = 0; i < acc.size(); i++) {
    float* ci = c + static_cast<long>(i) * step;
    *ci = g.beta == 0.f ? g.alpha * acc[i] : g.alpha * acc[i] + g.beta * *ci;
  }
}

template <class K>
void gemm_run(const Gemm& g) {
  if ((g.m == 1 || g.n == 1) && !g.packed_b) {
    for (int t = 0; t < g.batch; t++) gemm_thin(g, g.a + t * g.stride_a, g.b + t * g.stride_b, g.c + t * g.stride_c);
    return;
  }
  const int threads = num_threads();
  const double flops = 2.0 * g.m * g.n * std::max(g.k, 1);
  if (g.batch >= threads || threads == 1 || flops * g.batch < 1e5) {
    // Enough independent products (or too little work): one thread per batch item.
    parallel_range(g.batch, flops < 1e5 ? std::max(1L, static_cast<long>(1e5 / flops)) : 1,
                   [&](long t0, long t1) {
                     for (long t = t0; t < t1; t++)
                       gemm_block<K>(g, g.a + t * g.stride_a, g.b + t * g.stride_b,
                                     g.c + t * g.stride_c, 0, g.m, 0, g.n);
                   });
    return;
  }
  // Few large products: split each along its longer side, on tile boundaries.
  for (int t = 0; t < g.batch; t++) {
    const float* a = g.a + t * g.stride_a;
    const float* b = g.b + t * g.stride_b;
    float* c = g.c + t * g.stride_c;
    const bool split_m = g.m >= g.n;
    const int extent = split_m ? g.m : g.n, unit = split_m ? K::MR : K::NR;
    const int units = (extent + unit - 1) / unit;
    const int parts = std::min(threads, units);
    parallel_for(parts, [&](int p) {
      const int lo = static_cast<int>(static_cast<long>(units) * p / parts) * unit;
      const int hi = std::min(extent, static_cast<int>(static_cast<long>(units) * (p + 1) / parts) * unit);
      if (lo >= hi) return;
      if (split_m) gemm_block<K>(g, a, b, c, lo, hi, 0, g.n);
      else gemm_block<K>(g, a, b, c, 0, g.m, lo, hi);
    });
  }
}

int builtin_nr() {
  switch (isa) {
#if ES_X86
    case Isa::Avx512: return Avx512::NR;
    case Isa::Avx2: return Avx2::NR;
#endif
    default: return Portable::NR;
  }
}

template <class K>
void pack_whole_b(const Gemm& g, float* out) {
  constexpr int NR = K::NR;
  const long npad = (static_cast<long>(g.n) + NR - 1) / NR * NR;
  for (int pc = 0; pc < g.k; pc += KC) pack_b<NR>(g, g.b, pc, std::min(KC, g.k - pc), 0, g.n, out + pc * npad);
}

}  // namespace

long gemm_packed_b_size(int k, int n) {
  const long nr = builtin_nr();
  return static_cast<long>(k) * ((n + nr - 1) / nr * nr);
}

void gemm_pack_b(bool trans_b, int k, int n, const float* b, long ldb, float* out) {
  Gemm g;
  g.trans_b = trans_b;
  g.k = k;
  g.n = n;
  g.b = b;
  g.ldb = ldb;
  switch (isa) {
#if ES_X86
    case Isa::Avx512: return pack_whole_b<Avx512>(g, out);
    case Isa::Avx2: return pack_whole_b<Avx2>(g, out);
#endif
    default: return pack_whole_b<Portable>(g, out);
  }
}

void gemm_builtin(const Gemm& g) {
  if (g.m <= 0 || g.n <= 0 || g.batch <= 0) return;
  switch (isa) {
#if ES_X86
    case Isa::Avx512: return gemm_run<Avx512>(g);
    case Isa::Avx2: return gemm_run<Avx2>(g);
#endif
    default: return gemm_run<Portable>(g);
  }
}

const char* gemm_builtin_isa() {
  switch (isa) {
    case Isa::Avx512: return "avx512";
    case Isa::Avx2: return "avx2";
    default: return "portable";
  }
}

}  // namespace es
