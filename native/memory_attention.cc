#include "memory_attention.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <vector>

#include "kernels.h"
#include "thread_pool.h"

namespace es {
namespace {

constexpr float kEps = 1e-8f;

// r = min(e, cap) - counter - m: how far past its span memory i is for query m (negative: expired)
inline float remaining(const AttentionArgs& a, long i, int m) {
  return std::min(a.spans[i], a.cap) - a.counters[i] - static_cast<float>(m);
}

// Soft mask argument x = r / R + 1; the mask is clamp(x, 0, 1).
inline float ramp_arg(const AttentionArgs& a, long i, int m) { return remaining(a, i, m) / a.ramp + 1.f; }

ES_MULTIVERSION float dot(const float* x, const float* y, int n) {
  float s = 0.f;
#pragma omp simd reduction(+ : s)
  for (int i = 0; i < n; i++) s += x[i] * y[i];
  return s;
}

ES_MULTIVERSION void axpy_n(float alpha, const float* x, float* y, int n) {
#pragma omp simd
  for (int i = 0; i < n; i++) y[i] += alpha * x[i];
}

// Streams run in parallel: each owns its rows of out, dq, dk, dv, dspans; dkey_pe is summed per
// thread and added at the end.
template <typename Fn>
void for_streams(int batch, Fn fn) {
  parallel_for(batch, [&](int b) { fn(b); });
}

// q . keyPe[:, j] for every j: the position term of each distance (keyPe: D x P).
void position_scores(const AttentionArgs& a, const float* q, float* qpe) {
  const int P = a.pe_len, D = a.head_dim;
  for (int j = 0; j < P; j++) qpe[j] = 0.f;
  for (int d = 0; d < D; d++) axpy_n(q[d], a.key_pe + static_cast<long>(d) * P, qpe, P);
}

}  // namespace

void attention_forward(const AttentionArgs& a, float* out, float* probs, float* aux) {
  const int M = a.block, K = a.heads, D = a.head_dim, P = a.pe_len;
  const long width = static_cast<long>(K) * D;
  const float scale = 1.f / std::sqrt(static_cast<float>(D));
  const bool expire = a.mode == kExpire;
  for_streams(a.batch, [&](int b) {
    const long base = a.offsets[b], lb = a.offsets[b + 1] - base;
    if (expire) {
      // Auxiliary loss: every (query, memory) pair on the ramp, causal or not.
      double sum = 0;
      for (int m = 0; m < M; m++)
        for (long i = 0; i < lb; i++) {
          const float r = remaining(a, base + i, m), x = r / a.ramp + 1.f;
          if (x > 0.f && x < 1.f) sum += r;
        }
      aux[b] = static_cast<float>(sum / a.ramp / M);
    }
    std::vector<float> qpe(P), mask(lb);
    for (int m = 0; m < M; m++) {
      const long qpos = lb - M + m, lo = std::max(0L, qpos - a.window), hi = qpos;
      for (long i = lo; i < hi; i++)
        mask[i] = expire ? std::min(1.f, std::max(0.f, ramp_arg(a, base + i, m))) : 1.f;
      for (int h = 0; h < K; h++) {
        const float* q = a.q + (static_cast<long>(b) * M + m) * width + h * D;
        float* p = probs + static_cast<long>(K) * M * base + (static_cast<long>(h) * M + m) * lb;
        std::fill(p, p + lb, 0.f);
        position_scores(a, q, qpe.data());
        float max = -INFINITY;
        for (long i = lo; i < hi; i++) {
          if (mask[i] <= 0.f) continue;
          float s = dot(q, a.k + (base + i) * width + h * D, D);
          const long dist = qpos - i;
          if (dist <= P) s += qpe[P - dist];
          p[i] = s * scale;
          max = std::max(max, p[i]);
        }
        double total = 0;
        for (long i = lo; i < hi; i++)
          if (mask[i] > 0.f) total += std::exp(p[i] - max);
        const float inv = total > 0 ? static_cast<float>(1.0 / total) : 0.f;
        double pc = 0;
        for (long i = lo; i < hi; i++) {
          p[i] = mask[i] > 0.f ? std::exp(p[i] - max) * inv : 0.f;
          pc += p[i] * mask[i];
        }
        const float norm = expire ? static_cast<float>(1.0 / (pc + kEps)) : 1.f;
        float* o = out + (static_cast<long>(b) * M + m) * width + h * D;
        std::fill(o, o + D, 0.f);
        for (long i = lo; i < hi; i++)
          if (p[i] != 0.f) axpy_n(p[i] * mask[i] * norm, a.v + (base + i) * width + h * D, o, D);
      }
    }
  });
}

void attention_backward(const AttentionArgs& a, const float* probs, const float* dout,
                        const float* aux_grad, float* dq, float* dk, float* dv, float* dkey_pe,
                        float* dspans) {
  const int M = a.block, K = a.heads, D = a.head_dim, P = a.pe_len;
  const long width = static_cast<long>(K) * D;
  const float scale = 1.f / std::sqrt(static_cast<float>(D));
  const bool expire = a.mode == kExpire;
  const int threads = std::min(num_threads(), a.batch);
  std::vector<float> dpe_partial(static_cast<size_t>(threads) * D * P, 0.f);
  // Streams are dealt to threads in contiguous groups so each group has its own dkey_pe buffer.
  parallel_for(threads, [&](int t) {
    float* dpe = dpe_partial.data() + static_cast<size_t>(t) * D * P;
    const int b0 = a.batch * t / threads, b1 = a.batch * (t + 1) / threads;
    for (int b = b0; b < b1; b++) {
      const long base = a.offsets[b], lb = a.offsets[b + 1] - base;
      if (expire) {
        for (long i = 0; i < lb; i++) {
          if (a.spans[base + i] > a.cap) continue;
          int count = 0;
          for (int m = 0; m < M; m++) {
            const float x = ramp_arg(a, base + i, m);
            if (x > 0.f && x < 1.f) count++;
          }
          dspans[base + i] += aux_grad[b] * count / a.ramp / M;
        }
      }
      std::vector<float> mask(lb), dw(lb), dp(lb), dqpe(P);
      for (int m = 0; m < M; m++) {
        const long qpos = lb - M + m, lo = std::max(0L, qpos - a.window), hi = qpos;
        for (long i = lo; i < hi; i++)
          mask[i] = expire ? std::min(1.f, std::max(0.f, ramp_arg(a, base + i, m))) : 1.f;
        for (int h = 0; h < K; h++) {
          const long qrow = (static_cast<long>(b) * M + m) * width + h * D;
          const float* q = a.q + qrow;
          const float* g_out = dout + qrow;
          const float* p = probs + static_cast<long>(K) * M * base + (static_cast<long>(h) * M + m) * lb;
          double pc = 0;
          for (long i = lo; i < hi; i++) pc += p[i] * mask[i];
          const float norm = expire ? static_cast<float>(1.0 / (pc + kEps)) : 1.f;
          // dw_i = dout . v_i; dv_i += w_i dout; g = sum w_i dw_i
          double g = 0;
          for (long i = lo; i < hi; i++) {
            if (p[i] == 0.f) continue;
            const long vo = (base + i) * width + h * D;
            dw[i] = dot(g_out, a.v + vo, D);
            const float w = p[i] * mask[i] * norm;
            g += static_cast<double>(w) * dw[i];
            axpy_n(w, g_out, dv + vo, D);
          }
          // Renormalisation and mask: dp_i = da_i c_i, dc_i = da_i p_i; then the softmax.
          double pdp = 0;
          for (long i = lo; i < hi; i++) {
            if (p[i] == 0.f) continue;
            if (expire) {
              const float da = (dw[i] - static_cast<float>(g)) * norm;
              dp[i] = da * mask[i];
              const float x = ramp_arg(a, base + i, m);
              if (x >= 0.f && x <= 1.f && a.spans[base + i] <= a.cap) dspans[base + i] += da * p[i] / a.ramp;
            } else {
              dp[i] = dw[i];
            }
            pdp += static_cast<double>(p[i]) * dp[i];
          }
          std::fill(dqpe.begin(), dqpe.end(), 0.f);
          float* g_q = dq + qrow;
          for (long i = lo; i < hi; i++) {
            if (p[i] == 0.f) continue;
            const float ds = p[i] * (dp[i] - static_cast<float>(pdp)) * scale;
            const long ko = (base + i) * width + h * D;
            axpy_n(ds, a.k + ko, g_q, D);
            axpy_n(ds, q, dk + ko, D);
            const long dist = qpos - i;
            if (dist <= P) dqpe[P - dist] += ds;
          }
          // Position term: dq += keyPe dqpe, dkeyPe += q dqpe^T.
          for (int d = 0; d < D; d++) {
            g_q[d] += dot(a.key_pe + static_cast<long>(d) * P, dqpe.data(), P);
            axpy_n(q[d], dqpe.data(), dpe + static_cast<long>(d) * P, P);
          }
        }
      }
    }
  });
  for (int t = 0; t < threads; t++) axpy(1.f, dpe_partial.data() + static_cast<size_t>(t) * D * P, dkey_pe, static_cast<long>(D) * P);
}

long memory_prune(int mode, int batch, int block, long width, float ramp, long window,
                  const float* hidden, const float* counters, const int* offsets,
                  const float* spans, float* out_hidden, float* out_counters, int* out_offsets) {
  long kept = 0;
  out_offsets[0] = 0;
  for (int b = 0; b < batch; b++) {
    const long base = offsets[b], lb = offsets[b + 1] - base;
    for (long i = 0; i < lb; i++) {
      const bool keep = mode == kExpire
                            ? i >= lb - block || spans[base + i] - counters[base + i] + ramp - block > 0.f
                            : i >= lb - window;
      if (!keep) continue;
      std::memcpy(out_hidden + kept * width, hidden + (base + i) * width, width * sizeof(float));
      out_counters[kept] = counters[base + i] + static_cast<float>(block);
      kept++;
    }
    out_offsets[b + 1] = static_cast<int>(kept);
  }
  return kept;
}

}  // namespace es
