// Matrix products, row-major, in the four transpose forms and batched with strides:
//   for t in [0, batch): C_t = alpha * op(A_t) op(B_t) + beta * C_t
//   op(A_t): m x k, op(B_t): k x n, C_t: m x n; X_t starts at x + t * strideX.
// With beta == 0, C is written without being read (it may hold garbage).
#pragma once

namespace es {

struct Gemm {
  bool trans_a = false, trans_b = false;
  int m = 0, n = 0, k = 0;
  float alpha = 1.f, beta = 0.f;
  const float* a = nullptr;
  long lda = 0, stride_a = 0;
  const float* b = nullptr;
  long ldb = 0, stride_b = 0;
  float* c = nullptr;
  long ldc = 0, stride_c = 0;
  int batch = 1;
  // op(B) already packed by gemm_pack_b (built-in kernel only): b, ldb, trans_b and stride_b are
  // then not read, and every batch item uses the same B.
  const float* packed_b = nullptr;
  // A band (built-in kernel only): row i of C depends on index j only for j in
  // [i + band_lo, i + band_hi). kBandColumns: j is a column of C, and entries outside the band
  // may be left unwritten. kBandDepth: j is a depth index, op(A)'s entries outside the band are
  // zero, and their terms are skipped (which leaves every sum as it was: adding 0 is exact).
  // Attention's causal window makes most of its products banded.
  enum Band { kNoBand, kBandColumns, kBandDepth };
  Band band = kNoBand;
  long band_lo = 0, band_hi = 0;
};

// The product through the active backend: the system CBLAS when built with one, else built-in.
void gemm(const Gemm& g);
// The built-in packed kernel (AVX-512, AVX2+FMA or portable C++, chosen at run time).
void gemm_builtin(const Gemm& g);

// Floats gemm_pack_b writes for a k x n op(B).
long gemm_packed_b_size(int k, int n);
// Packs op(B) (k x n; b[p * ldb + j], or b[j * ldb + p] when trans_b) in the built-in kernel's
// layout, for products that share one B (Gemm::packed_b).
void gemm_pack_b(bool trans_b, int k, int n, const float* b, long ldb, float* out);

// The product straight through the linked CBLAS; false (and nothing done) when there is none.
bool gemm_cblas(const Gemm& g);

// "openblas", "accelerate" or "builtin": what gemm() uses now.
const char* gemm_backend();
// What the build found ("openblas", "accelerate" or "none").
const char* blas_library();
// The CPU kernel set OpenBLAS chose ("SkylakeX", "Haswell", "Prescott", ...); "" without OpenBLAS.
const char* blas_core();
// The built-in kernel's instruction set: "avx512", "avx2" or "portable".
const char* gemm_builtin_isa();
// Threads used by the CBLAS library, kept in step with the pool.
void set_blas_threads(int threads);

}  // namespace es
