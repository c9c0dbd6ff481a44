// Softmax, log-softmax and the fused log-softmax + negative log-likelihood, over the last dimension.
#include <cmath>

#include "kernels.h"
#include "thread_pool.h"

namespace es {
namespace {
constexpr long GRAIN_ELEMENTS = 1 << 13;

template <typename RowFn>
void for_rows(long rows, long cols, RowFn fn) {
  parallel_range(rows, GRAIN_ELEMENTS / cols + 1, [&](long r0, long r1) {
    for (long r = r0; r < r1; r++) fn(r);
  });
}

// Writes log_softmax(x) into y (one row of n) and returns nothing; max-shifted for stability.
ES_MULTIVERSION void log_softmax_row(const float* x, float* y, long n) {
  float mx = -INFINITY;
  for (long c = 0; c < n; c++) mx = x[c] > mx ? x[c] : mx;
  double s = 0;
  for (long c = 0; c < n; c++) s += std::exp(x[c] - mx);
  const float lse = mx + static_cast<float>(std::log(s));
  for (long c = 0; c < n; c++) y[c] = x[c] - lse;
}

ES_MULTIVERSION void softmax_row(const float* x, float* y, long n) {
  float mx = -INFINITY;
  for (long c = 0; c < n; c++) mx = x[c] > mx ? x[c] : mx;
  double s = 0;
  for (long c = 0; c < n; c++) {
    y[c] = std::exp(x[c] - mx);
    s += y[c];
  }
  const float inv = static_cast<float>(1.0 / s);
  for (long c = 0; c < n; c++) y[c] *= inv;
}
}  // namespace

void softmax_forward(const float* x, float* y, long rows, long cols) {
  for_rows(rows, cols, [&](long r) { softmax_row(x + r * cols, y + r * cols, cols); });
}

// dx += y * (dy - sum(dy * y))
void softmax_backward(const float* y, const float* dy, float* dx, long rows, long cols) {
  for_rows(rows, cols, [&](long r) {
    const float *yr = y + r * cols, *dyr = dy + r * cols;
    float* dxr = dx + r * cols;
    double dot = 0;
    for (long c = 0; c < cols; c++) dot += dyr[c] * yr[c];
    const float d = static_cast<float>(dot);
    for (long c = 0; c < cols; c++) dxr[c] += yr[c] * (dyr[c] - d);
  });
}

void log_softmax_forward(const float* x, float* y, long rows, long cols) {
  for_rows(rows, cols, [&](long r) { log_softmax_row(x + r * cols, y + r * cols, cols); });
}

// dx += dy - exp(y) * sum(dy)
void log_softmax_backward(const float* y, const float* dy, float* dx, long rows, long cols) {
  for_rows(rows, cols, [&](long r) {
    const float *yr = y + r * cols, *dyr = dy + r * cols;
    float* dxr = dx + r * cols;
    double s = 0;
    for (long c = 0; c < cols; c++) s += dyr[c];
    const float total = static_cast<float>(s);
    for (long c = 0; c < cols; c++) dxr[c] += dyr[c] - std::exp(yr[c]) * total;
  });
}

double log_softmax_nll_forward(const float* logits, const int* target, float* logprobs, float* nll,
                               long rows, long cols) {
  for_rows(rows, cols, [&](long r) {
    log_softmax_row(logits + r * cols, logprobs + r * cols, cols);
    nll[r] = target[r] >= 0 ? -logprobs[r * cols + target[r]] : 0.f;
  });
  double total = 0;
  for (long r = 0; r < rows; r++) total += nll[r];
  return total;
}

void log_softmax_nll_backward(const float* logprobs, const int* target, float* dlogits, long rows,
                              long cols, float scale) {
  for_rows(rows, cols, [&](long r) {
    if (target[r] < 0) return;
    const float* lp = logprobs + r * cols;
    float* d = dlogits + r * cols;
    for (long c = 0; c < cols; c++) d[c] += scale * std::exp(lp[c]);
    d[target[r]] -= scale;
  });
}

}  // namespace es
