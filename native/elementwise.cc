#include <algorithm>
#include <cmath>

#include "dropout.h"
#include "kernels.h"
#include "thread_pool.h"

namespace es {
namespace {
// Below this many elements a second thread costs more than it saves.
constexpr long GRAIN = 1 << 15;

ES_MULTIVERSION void add_span(const float* a, const float* b, float* out, long n) {
  for (long i = 0; i < n; i++) out[i] = a[i] + b[i];
}
ES_MULTIVERSION void mul_span(const float* a, const float* b, float* out, long n) {
  for (long i = 0; i < n; i++) out[i] = a[i] * b[i];
}
ES_MULTIVERSION void mul_acc_span(const float* a, const float* b, float* out, long n) {
  for (long i = 0; i < n; i++) out[i] += a[i] * b[i];
}
ES_MULTIVERSION void axpy_span(float alpha, const float* x, float* y, long n) {
  for (long i = 0; i < n; i++) y[i] += alpha * x[i];
}
ES_MULTIVERSION void scale_span(const float* x, float alpha, float* out, long n) {
  for (long i = 0; i < n; i++) out[i] = alpha * x[i];
}
ES_MULTIVERSION void relu_span(const float* x, float* y, long n) {
  for (long i = 0; i < n; i++) y[i] = x[i] > 0.f ? x[i] : 0.f;
}
void sigmoid_span(const float* x, float* y, long n) {
  for (long i = 0; i < n; i++) y[i] = 1.f / (1.f + std::exp(-x[i]));
}
ES_MULTIVERSION void sigmoid_backward_span(const float* y, const float* dy, float* dx, long n) {
  for (long i = 0; i < n; i++) dx[i] += dy[i] * y[i] * (1.f - y[i]);
}
ES_MULTIVERSION void relu_backward_span(const float* y, const float* dy, float* dx, long n) {
  if (dx == dy) {
    for (long i = 0; i < n; i++) dx[i] = y[i] > 0.f ? dx[i] : 0.f;  // in place: the gradient passes or stops
  } else {
    for (long i = 0; i < n; i++) dx[i] += y[i] > 0.f ? dy[i] : 0.f;
  }
}
}  // namespace

void add(const float* a, const float* b, float* out, long n) {
  parallel_range(n, GRAIN, [&](long i, long j) { add_span(a + i, b + i, out + i, j - i); });
}
void mul(const float* a, const float* b, float* out, long n) {
  parallel_range(n, GRAIN, [&](long i, long j) { mul_span(a + i, b + i, out + i, j - i); });
}
void mul_acc(const float* a, const float* b, float* out, long n) {
  parallel_range(n, GRAIN, [&](long i, long j) { mul_acc_span(a + i, b + i, out + i, j - i); });
}
void axpy(float alpha, const float* x, float* y, long n) {
  parallel_range(n, GRAIN, [&](long i, long j) { axpy_span(alpha, x + i, y + i, j - i); });
}
void scale(const float* x, float alpha, float* out, long n) {
  parallel_range(n, GRAIN, [&](long i, long j) { scale_span(x + i, alpha, out + i, j - i); });
}
void fill(float* x, float value, long n) {
  // Gradient buffers are zeroed every step, some of them tens of MiB: worth both cores.
  parallel_range(n, GRAIN * 4, [&](long i, long j) { std::fill(x + i, x + j, value); });
}
void copy(const float* x, float* out, long n) {
  // Memory rows joining the next block: tens of MiB per layer.
  parallel_range(n, GRAIN * 4, [&](long i, long j) { std::copy(x + i, x + j, out + i); });
}
void relu_forward(const float* x, float* y, long n) {
  parallel_range(n, GRAIN, [&](long i, long j) { relu_span(x + i, y + i, j - i); });
}
void relu_backward(const float* y, const float* dy, float* dx, long n) {
  parallel_range(n, GRAIN, [&](long i, long j) { relu_backward_span(y + i, dy + i, dx + i, j - i); });
}

void sigmoid_forward(const float* x, float* y, long n) {
  parallel_range(n, GRAIN / 8, [&](long i, long j) { sigmoid_span(x + i, y + i, j - i); });
}
void sigmoid_backward(const float* y, const float* dy, float* dx, long n) {
  parallel_range(n, GRAIN, [&](long i, long j) { sigmoid_backward_span(y + i, dy + i, dx + i, j - i); });
}

void dropout_forward(const float* x, float* y, long n, float p, unsigned seed) {
  parallel_range(n, GRAIN / 4, [&](long i, long j) {
    for (long k = i; k < j; k++) y[k] = x[k] * dropout_factor(seed, k, p);
  });
}
void dropout_backward(const float* dy, float* dx, long n, float p, unsigned seed) {
  parallel_range(n, GRAIN / 4, [&](long i, long j) {
    for (long k = i; k < j; k++) dx[k] += dy[k] * dropout_factor(seed, k, p);
  });
}

void add_bias(const float* x, const float* bias, float* out, long rows, long cols) {
  parallel_range(rows, GRAIN / cols + 1, [&](long r0, long r1) {
    for (long r = r0; r < r1; r++) add_span(x + r * cols, bias, out + r * cols, cols);
  });
}

void sum_rows(const float* dy, float* dbias, long rows, long cols) {
  // Split over columns so that threads never write the same output.
  parallel_range(cols, rows * cols >= GRAIN ? 16 : cols, [&](long c0, long c1) {
    for (long r = 0; r < rows; r++) add_span(dbias + c0, dy + r * cols + c0, dbias + c0, c1 - c0);
  });
}

// In SIMD lanes: one running double would wait on each add's latency (4 cycles a float).
ES_MULTIVERSION double sum_squares(const float* x, long n) {
  double total = 0;
#pragma omp simd reduction(+ : total)
  for (long i = 0; i < n; i++) total += static_cast<double>(x[i]) * x[i];
  return total;
}

ES_MULTIVERSION double sum(const float* x, long n) {
  double total = 0;
#pragma omp simd reduction(+ : total)
  for (long i = 0; i < n; i++) total += x[i];
  return total;
}

}  // namespace es
