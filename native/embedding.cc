// Embedding lookup (a row gather) and its gradient (a scatter-add into the table).
#include <cstring>

#include "kernels.h"
#include "thread_pool.h"

namespace es {

// ids: n; table: vocab x dim; out: n x dim
void embedding_forward(const int* ids, const float* table, float* out, long n, long dim) {
  parallel_range(n, (1 << 14) / dim + 1, [&](long i0, long i1) {
    for (long i = i0; i < i1; i++)
      std::memcpy(out + i * dim, table + static_cast<long>(ids[i]) * dim, dim * sizeof(float));
  });
}

// dtable[ids[i]] += dout[i]. Threads take disjoint column ranges, so repeated ids never race.
void embedding_backward(const int* ids, const float* dout, float* dtable, long n, long dim) {
  parallel_range(dim, n * dim >= (1 << 15) ? 16 : dim, [&](long c0, long c1) {
    for (long i = 0; i < n; i++) {
      const float* src = dout + i * dim;
      float* dst = dtable + static_cast<long>(ids[i]) * dim;
      for (long c = c0; c < c1; c++) dst[c] += src[c];
    }
  });
}

}  // namespace es
