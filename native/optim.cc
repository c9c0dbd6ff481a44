// Adam, exactly as torch.optim.Adam (no weight decay, no amsgrad):
//   m = b1 m + (1 - b1) g;  v = b2 v + (1 - b2) g^2
//   p -= (lr / (1 - b1^t)) * m / (sqrt(v) / sqrt(1 - b2^t) + eps)
#include <cmath>

#include "kernels.h"
#include "thread_pool.h"

namespace es {
namespace {
ES_MULTIVERSION void adam_span(float* p, const float* g, float* m, float* v, long n, float step_size,
                               float beta1, float beta2, float eps, float inv_sqrt_bc2) {
  for (long i = 0; i < n; i++) {
    m[i] = beta1 * m[i] + (1.f - beta1) * g[i];
    v[i] = beta2 * v[i] + (1.f - beta2) * g[i] * g[i];
    p[i] -= step_size * m[i] / (std::sqrt(v[i]) * inv_sqrt_bc2 + eps);
  }
}
}  // namespace

void adam(float* param, const float* grad, float* m, float* v, long n, float lr, float beta1,
          float beta2, float eps, long step) {
  const double bc1 = 1.0 - std::pow(static_cast<double>(beta1), static_cast<double>(step));
  const double bc2 = 1.0 - std::pow(static_cast<double>(beta2), static_cast<double>(step));
  const float step_size = static_cast<float>(lr / bc1);
  const float inv_sqrt_bc2 = static_cast<float>(1.0 / std::sqrt(bc2));
  parallel_range(n, 1 << 15, [&](long i, long j) {
    adam_span(param + i, grad + i, m + i, v + i, j - i, step_size, beta1, beta2, eps, inv_sqrt_bc2);
  });
}

}  // namespace es
