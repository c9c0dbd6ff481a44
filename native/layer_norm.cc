// Layer norm over the last dimension, as torch.nn.LayerNorm (biased variance, eps inside sqrt).
#include <cmath>
#include <vector>

#include "kernels.h"
#include "thread_pool.h"

namespace es {
namespace {
constexpr long GRAIN_ELEMENTS = 1 << 14;

// x, y: rows x cols; mean, rstd: rows
ES_MULTIVERSION void forward_rows(const float* x, const float* w, const float* b, float* y,
                                  float* mean, float* rstd, long r0, long r1, long cols, float eps) {
  for (long r = r0; r < r1; r++) {
    const float* xr = x + r * cols;
    // The sums in double, in SIMD lanes (omp simd lets the compiler reorder them: without it
    // each row would be one serial chain of additions).
    double s = 0;
#pragma omp simd reduction(+ : s)
    for (long c = 0; c < cols; c++) s += xr[c];
    const float mu = static_cast<float>(s / cols);
    double ss = 0;
#pragma omp simd reduction(+ : ss)
    for (long c = 0; c < cols; c++) {
      const double d = xr[c] - mu;
      ss += d * d;
    }
    const float rs = static_cast<float>(1.0 / std::sqrt(ss / cols + eps));
    float* yr = y + r * cols;
    for (long c = 0; c < cols; c++) yr[c] = (xr[c] - mu) * rs * w[c] + b[c];
    mean[r] = mu;
    rstd[r] = rs;
  }
}

// dx += rstd * (g - mean(g) - xhat * mean(g * xhat)) with g = dy * w; dw += dy * xhat; db += dy
ES_MULTIVERSION void backward_rows(const float* dy, const float* x, const float* w,
                                   const float* mean, const float* rstd, float* dx, float* dw,
                                   float* db, long r0, long r1, long cols) {
  for (long r = r0; r < r1; r++) {
    const float* dyr = dy + r * cols;
    const float* xr = x + r * cols;
    const float mu = mean[r], rs = rstd[r];
    double g_sum = 0, gx_sum = 0;
#pragma omp simd reduction(+ : g_sum, gx_sum)
    for (long c = 0; c < cols; c++) {
      const float xhat = (xr[c] - mu) * rs;
      const float g = dyr[c] * w[c];
      g_sum += g;
      gx_sum += g * xhat;
    }
    const float g_mean = static_cast<float>(g_sum / cols), gx_mean = static_cast<float>(gx_sum / cols);
    float* dxr = dx + r * cols;
    for (long c = 0; c < cols; c++) {
      const float xhat = (xr[c] - mu) * rs;
      dxr[c] += rs * (dyr[c] * w[c] - g_mean - xhat * gx_mean);
      dw[c] += dyr[c] * xhat;
      db[c] += dyr[c];
    }
  }
}
}  // namespace

void layer_norm_forward(const float* x, const float* w, const float* b, float* y, float* mean,
                        float* rstd, long rows, long cols, float eps) {
  parallel_range(rows, GRAIN_ELEMENTS / cols + 1, [&](long r0, long r1) {
    forward_rows(x, w, b, y, mean, rstd, r0, r1, cols, eps);
  });
}

void layer_norm_backward(const float* dy, const float* x, const float* w, const float* mean,
                         const float* rstd, float* dx, float* dw, float* db, long rows, long cols) {
  const int parts = rows * cols >= 2 * GRAIN_ELEMENTS ? num_threads() : 1;
  if (parts == 1) {
    backward_rows(dy, x, w, mean, rstd, dx, dw, db, 0, rows, cols);
    return;
  }
  // Each part sums its rows' dw, db privately; the parts are added at the end.
  std::vector<float> partial(static_cast<size_t>(parts) * 2 * cols, 0.f);
  parallel_for(parts, [&](int p) {
    const long r0 = rows * p / parts, r1 = rows * (p + 1) / parts;
    float* pw = partial.data() + static_cast<size_t>(p) * 2 * cols;
    backward_rows(dy, x, w, mean, rstd, dx, pw, pw + cols, r0, r1, cols);
  });
  for (int p = 0; p < parts; p++) {
    const float* pw = partial.data() + static_cast<size_t>(p) * 2 * cols;
    for (long c = 0; c < cols; c++) {
      dw[c] += pw[c];
      db[c] += pw[cols + c];
    }
  }
}

}  // namespace es
