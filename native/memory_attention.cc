#include "memory_attention.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <vector>

#include "dropout.h"
#include "kernels.h"
#include "thread_pool.h"

namespace es {
namespace {

constexpr float kEps = 1e-8f;

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

inline bool masked(const AttentionArgs& a) { return a.mode == kExpire || a.mode == kAdaptive; }
inline float clamp01(float x) { return std::min(1.f, std::max(0.f, x)); }

// The keys one query sees (see attention.ts): global row, key_pe index (-1: none) and the
// unclamped mask argument x (2 where there is no mask). Expire mode leaves out x <= 0.
struct Visible {
  std::vector<long> row;
  std::vector<int> pe;
  std::vector<float> x;

  void collect(const AttentionArgs& a, int b, int h, int m) {
    row.clear();
    pe.clear();
    x.clear();
    const long base = a.offsets[b], lb = a.offsets[b + 1] - base, qpos = lb - a.block + m;
    long first = 0;
    if (a.mode == kCompressive) {
      first = a.compressed;
      const int slots = a.compressed - a.block / a.rate + 1, start = m / a.rate;
      for (int j = 0; j < slots; j++) add(base + start + j, j, 2.f);
    }
    const float z = a.mode == kAdaptive ? a.spans[a.spans_len == 1 ? 0 : h] : 0.f;
    for (long i = std::max(first, qpos - a.window); i < qpos; i++) {
      const long d = qpos - i;
      float xi = 2.f;
      if (a.mode == kExpire) {
        xi = (std::min(a.spans[base + i], a.limit) - a.counters[base + i] - static_cast<float>(m)) / a.ramp + 1.f;
        if (xi <= 0.f) continue;  // expired for this query: not in the softmax
      } else if (a.mode == kAdaptive) {
        xi = (1.f - static_cast<float>(d) + z * a.limit) / a.ramp + 1.f;
      }
      add(base + i, d <= a.pe_len ? static_cast<int>(a.pe_len - d) : -1, xi);
    }
  }

 private:
  void add(long r, int p, float xi) {
    row.push_back(r);
    pe.push_back(p);
    x.push_back(xi);
  }
};

// Per-thread scratch, reused across calls.
struct Scratch {
  Visible keys;
  std::vector<float> p, dw, dp, qpe, dqpe;
};

// q . keyPe[:, j] for every j (keyPe: D x P).
void position_scores(const AttentionArgs& a, const float* q, float* qpe) {
  std::fill(qpe, qpe + a.pe_len, 0.f);
  for (int d = 0; d < a.head_dim; d++) axpy_n(q[d], a.key_pe + static_cast<long>(d) * a.pe_len, qpe, a.pe_len);
}

// The expire-mode span loss of one stream (see attention.ts).
float expire_aux(const AttentionArgs& a, int b) {
  const long base = a.offsets[b], lb = a.offsets[b + 1] - base;
  double sum = 0;
  for (int m = 0; m < a.block; m++)
    for (long i = 0; i < lb; i++) {
      const float r = std::min(a.spans[base + i], a.limit) - a.counters[base + i] - static_cast<float>(m);
      const float x = r / a.ramp + 1.f;
      if (x > 0.f && x < 1.f) sum += r;
    }
  return static_cast<float>(sum / a.ramp / a.block);
}

}  // namespace

void attention_forward(const AttentionArgs& a, float* out, float* probs, float* aux) {
  const int M = a.block, K = a.heads, D = a.head_dim;
  const long width = static_cast<long>(K) * D;
  const float scale = 1.f / std::sqrt(static_cast<float>(D));
  parallel_for(a.batch, [&](int b) {
    thread_local Scratch s;
    const long base = a.offsets[b], lb = a.offsets[b + 1] - base;
    if (a.mode == kExpire) aux[b] = expire_aux(a, b);
    s.qpe.resize(a.pe_len);
    for (int h = 0; h < K; h++) {
      for (int m = 0; m < M; m++) {
        const long qrow = (static_cast<long>(b) * M + m) * width + h * D;
        const float* q = a.q + qrow;
        // Slot of global row r: p[r]; p points before the stream's first row.
        float* p = probs + static_cast<long>(K) * M * base + (static_cast<long>(h) * M + m) * lb - base;
        std::fill(p + base, p + base + lb, 0.f);
        s.keys.collect(a, b, h, m);
        const size_t n = s.keys.row.size();
        position_scores(a, q, s.qpe.data());
        float max = -INFINITY;
        s.p.resize(n);
        for (size_t j = 0; j < n; j++) {
          float z = dot(q, a.k + s.keys.row[j] * width + h * D, D);
          if (s.keys.pe[j] >= 0) z += s.qpe[s.keys.pe[j]];
          s.p[j] = z * scale;
          max = std::max(max, s.p[j]);
        }
        double total = 0;
        for (size_t j = 0; j < n; j++) total += std::exp(s.p[j] - max);
        const float inv = total > 0 ? static_cast<float>(1.0 / total) : 0.f;
        double pc = 0;
        for (size_t j = 0; j < n; j++) {
          s.p[j] = std::exp(s.p[j] - max) * inv;
          p[s.keys.row[j]] = s.p[j];
          pc += s.p[j] * clamp01(s.keys.x[j]);
        }
        const float norm = masked(a) ? static_cast<float>(1.0 / (pc + kEps)) : 1.f;
        float* o = out + qrow;
        std::fill(o, o + D, 0.f);
        const long slot0 = static_cast<long>(K) * M * base + (static_cast<long>(h) * M + m) * lb - base;
        for (size_t j = 0; j < n; j++) {
          const float drop = dropout_factor(a.seed, slot0 + s.keys.row[j], a.dropout);
          if (drop != 0.f) axpy_n(s.p[j] * clamp01(s.keys.x[j]) * norm * drop, a.v + s.keys.row[j] * width + h * D, o, D);
        }
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
  // Streams are dealt to threads in contiguous groups; each group owns its streams' rows, and
  // sums what all streams share (dkey_pe; adaptive mode's per-head dspans) privately.
  const int threads = std::max(1, std::min(num_threads(), a.batch));
  const long shared_spans = a.mode == kAdaptive ? a.spans_len : 0;
  const long partial_size = static_cast<long>(D) * P + shared_spans;
  std::vector<float> partial(static_cast<size_t>(threads) * partial_size, 0.f);
  parallel_for(threads, [&](int t) {
    thread_local Scratch s;
    float* dpe = partial.data() + static_cast<size_t>(t) * partial_size;
    float* dz = dpe + static_cast<long>(D) * P;
    s.dqpe.resize(P);
    for (int b = a.batch * t / threads; b < a.batch * (t + 1) / threads; b++) {
      const long base = a.offsets[b], lb = a.offsets[b + 1] - base;
      if (a.mode == kExpire) {
        // d aux_b / d e_i = (pairs of memory i on the ramp) / (R M), where e_i is under the limit.
        for (long i = base; i < base + lb; i++) {
          if (a.spans[i] > a.limit) continue;
          int count = 0;
          for (int m = 0; m < M; m++) {
            const float x = (std::min(a.spans[i], a.limit) - a.counters[i] - static_cast<float>(m)) / a.ramp + 1.f;
            if (x > 0.f && x < 1.f) count++;
          }
          dspans[i] += aux_grad[b] * count / a.ramp / M;
        }
      }
      for (int h = 0; h < K; h++) {
        for (int m = 0; m < M; m++) {
          const long qrow = (static_cast<long>(b) * M + m) * width + h * D;
          const float* q = a.q + qrow;
          const float* g_out = dout + qrow;
          const float* p = probs + static_cast<long>(K) * M * base + (static_cast<long>(h) * M + m) * lb - base;
          s.keys.collect(a, b, h, m);
          const size_t n = s.keys.row.size();
          s.dw.resize(n);
          s.dp.resize(n);
          double pc = 0;
          for (size_t j = 0; j < n; j++) pc += p[s.keys.row[j]] * clamp01(s.keys.x[j]);
          const float norm = masked(a) ? static_cast<float>(1.0 / (pc + kEps)) : 1.f;
          // Through dropout and the values: dw_j = drop_j (dout . v_j); dv_j += w_j drop_j dout;
          // g = sum w_j dw_j.
          const long slot0 = static_cast<long>(K) * M * base + (static_cast<long>(h) * M + m) * lb - base;
          double g = 0;
          for (size_t j = 0; j < n; j++) {
            const long vo = s.keys.row[j] * width + h * D;
            const float w = p[s.keys.row[j]] * clamp01(s.keys.x[j]) * norm;
            const float drop = dropout_factor(a.seed, slot0 + s.keys.row[j], a.dropout);
            s.dw[j] = drop == 0.f ? 0.f : drop * dot(g_out, a.v + vo, D);
            g += static_cast<double>(w) * s.dw[j];
            if (drop != 0.f) axpy_n(w * drop, g_out, dv + vo, D);
          }
          // Through the renormalisation and the mask, then the softmax.
          double pdp = 0;
          for (size_t j = 0; j < n; j++) {
            const float pj = p[s.keys.row[j]], xj = s.keys.x[j];
            if (masked(a)) {
              const float da = (s.dw[j] - static_cast<float>(g)) * norm;
              if (xj >= 0.f && xj <= 1.f) {
                const float dmask = da * pj / a.ramp;
                if (a.mode == kExpire && a.spans[s.keys.row[j]] <= a.limit) dspans[s.keys.row[j]] += dmask;
                if (a.mode == kAdaptive) dz[a.spans_len == 1 ? 0 : h] += dmask * a.limit;
              }
              s.dp[j] = da * clamp01(xj);
            } else {
              s.dp[j] = s.dw[j];
            }
            pdp += static_cast<double>(pj) * s.dp[j];
          }
          std::fill(s.dqpe.begin(), s.dqpe.end(), 0.f);
          float* g_q = dq + qrow;
          for (size_t j = 0; j < n; j++) {
            const float ds = p[s.keys.row[j]] * (s.dp[j] - static_cast<float>(pdp)) * scale;
            const long ko = s.keys.row[j] * width + h * D;
            axpy_n(ds, a.k + ko, g_q, D);
            axpy_n(ds, q, dk + ko, D);
            if (s.keys.pe[j] >= 0) s.dqpe[s.keys.pe[j]] += ds;
          }
          // Position term: dq += keyPe dqpe, dkeyPe += q dqpe^T.
          for (int d = 0; d < D; d++) {
            g_q[d] += dot(a.key_pe + static_cast<long>(d) * P, s.dqpe.data(), P);
            axpy_n(q[d], s.dqpe.data(), dpe + static_cast<long>(d) * P, P);
          }
        }
      }
    }
  });
  for (int t = 0; t < threads; t++) {
    const float* part = partial.data() + static_cast<size_t>(t) * partial_size;
    axpy(1.f, part, dkey_pe, static_cast<long>(D) * P);
    if (shared_spans > 0) axpy(1.f, part + static_cast<long>(D) * P, dspans, shared_spans);
  }
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

void mean_pool_rows(const float* x, long rows, long width, int rate, float* out) {
  const float inv = 1.f / static_cast<float>(rate);
  for (long r = 0; r < rows / rate; r++) {
    float* o = out + r * width;
    std::fill(o, o + width, 0.f);
    for (int j = 0; j < rate; j++) axpy_n(1.f, x + (r * rate + j) * width, o, static_cast<int>(width));
    for (long c = 0; c < width; c++) o[c] *= inv;
  }
}

}  // namespace es
