#include "gemm.h"

#include <algorithm>
#include <string>

#include "thread_pool.h"

#if defined(EXPIRE_SPAN_OPENBLAS)
#include <cblas.h>
#elif defined(EXPIRE_SPAN_ACCELERATE)
#include <Accelerate/Accelerate.h>
#endif

namespace es {
namespace {
#if defined(EXPIRE_SPAN_OPENBLAS)
extern "C" char* openblas_get_corename(void);

// Where the built-in kernel has a SIMD path (AVX-512, AVX2) it runs every product: it is as fast
// as OpenBLAS's own AVX-512 kernels call for call, and in training faster (5-15% per batch on 2
// threads, bench/README.md), since OpenBLAS's threads would share the cores with our pool's and
// spin while they wait. Debian's 0.3.21 also takes CPUs newer than itself for a "Prescott" and
// runs SSE3 kernels several times slower. OpenBLAS runs them where we have only portable code.
bool blas_preferred() { return std::string(gemm_builtin_isa()) == "portable"; }
#else
bool blas_preferred() { return true; }  // Accelerate (Apple's matrix units)
#endif
}  // namespace

const char* blas_core() {
#if defined(EXPIRE_SPAN_OPENBLAS)
  return openblas_get_corename();
#else
  return "";
#endif
}

const char* blas_library() { return EXPIRE_SPAN_BLAS; }

bool gemm_cblas(const Gemm& g) {
#if defined(EXPIRE_SPAN_OPENBLAS) || defined(EXPIRE_SPAN_ACCELERATE)
  if (g.m <= 0 || g.n <= 0) return true;
  const CBLAS_TRANSPOSE ta = g.trans_a ? CblasTrans : CblasNoTrans;
  const CBLAS_TRANSPOSE tb = g.trans_b ? CblasTrans : CblasNoTrans;
  for (int t = 0; t < g.batch; t++) {
    cblas_sgemm(CblasRowMajor, ta, tb, g.m, g.n, g.k, g.alpha, g.a + t * g.stride_a, g.lda,
                g.b + t * g.stride_b, g.ldb, g.beta, g.c + t * g.stride_c, g.ldc);
  }
  return true;
#else
  (void)g;
  return false;
#endif
}

void gemm(const Gemm& g) {
  if (g.m <= 0 || g.n <= 0 || g.batch <= 0) return;
#if defined(EXPIRE_SPAN_OPENBLAS) || defined(EXPIRE_SPAN_ACCELERATE)
  // A batch of small products goes to the built-in kernel, which spreads the batch over the
  // threads; the library would run them one after another, each too small to split.
  const double flops = 2.0 * g.m * g.n * g.k;
  static const bool use_blas = blas_preferred();
  if (use_blas && !g.packed_b && g.k > 0 && (flops >= 32768 || g.batch == 1)) {
    gemm_cblas(g);
    return;
  }
#endif
  gemm_builtin(g);
}

const char* gemm_backend() {
#if defined(EXPIRE_SPAN_OPENBLAS)
  return blas_preferred() ? "openblas" : "builtin";
#elif defined(EXPIRE_SPAN_ACCELERATE)
  return "accelerate";
#else
  return "builtin";
#endif
}


#if defined(EXPIRE_SPAN_OPENBLAS)
extern "C" void openblas_set_num_threads(int);
void set_blas_threads(int threads) { openblas_set_num_threads(threads); }
#else
void set_blas_threads(int) {}
#endif

}  // namespace es
