#include "memory_attention.h"

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <vector>

#include "dropout.h"
#include "gemm.h"
#include "kernels.h"
#include "thread_pool.h"

namespace es {
namespace {

constexpr float kEps = 1e-8f;

ES_MULTIVERSION void axpy_n(float alpha, const float* x, float* y, int n) {
#pragma omp simd
  for (int i = 0; i < n; i++) y[i] += alpha * x[i];
}

inline bool masked(const AttentionArgs& a) { return a.mode == kExpire || a.mode == kAdaptive; }
// Without a mask or dropout the weights are the softmax itself (Transformer-XL, Compressive).
inline bool weights_are_probs(const AttentionArgs& a) { return !masked(a) && a.dropout <= 0.f; }
inline float clamp01(float x) { return std::min(1.f, std::max(0.f, x)); }

// The keys one query sees (see attention.ts), as ranges of the stream's rows: compressed slots
// [clo, clo + slots) with key_pe index j for slot j, then the window [lo, hi) with key_pe index
// P - (qpos - i) while that distance is at most P.
struct Row {
  long lo, hi, qpos, clo;
  int slots;
};

inline Row visible(const AttentionArgs& a, long lb, int m) {
  Row r;
  r.qpos = lb - a.block + m;
  r.clo = 0;
  r.slots = 0;
  long first = 0;
  if (a.mode == kCompressive) {
    first = a.compressed;
    r.slots = a.compressed - a.block / a.rate + 1;
    r.clo = m / a.rate;
  }
  r.lo = std::max(first, r.qpos - a.window);
  r.hi = r.qpos;
  return r;
}

// The mask argument x of every key of the stream for query m of head h (row order): NaN for
// keys outside the softmax (not visible, or expired in expire mode), 2 where there is no mask
// (mask 1); the mask itself is clamp(x, 0, 1).
ES_MULTIVERSION void mask_row(const AttentionArgs& a, long base, long lb, const Row& r, int m, int h, float* x) {
  std::fill(x, x + lb, NAN);
  for (int j = 0; j < r.slots; j++) x[r.clo + j] = 2.f;
  if (a.mode == kExpire) {
    const float* e = a.spans + base;
    const float* c = a.counters + base;
    const float fm = static_cast<float>(m), inv = 1.f / a.ramp;
#pragma omp simd
    for (long i = r.lo; i < r.hi; i++) {
      const float xi = (std::min(e[i], a.limit) - c[i] - fm) * inv + 1.f;
      x[i] = xi > 0.f ? xi : NAN;
    }
  } else if (a.mode == kAdaptive) {
    const float zl = a.spans[a.spans_len == 1 ? 0 : h] * a.limit, inv = 1.f / a.ramp;
#pragma omp simd
    for (long i = r.lo; i < r.hi; i++) x[i] = (1.f - static_cast<float>(r.qpos - i) + zl) * inv + 1.f;
  } else {
    std::fill(x + r.lo, x + r.hi, 2.f);
  }
}

inline bool in_softmax(float x) { return x == x; }  // not NaN

// exp(x) for x <= 0 (0 below -87.3, where float underflows): 2^n exp(r), |r| <= ln2 / 2, with a
// degree-6 polynomial (about 1 ulp). Written to vectorise, unlike std::exp.
inline float exp_nonpositive(float x) {
  const float n = std::floor(x * 1.44269504088896341f + 0.5f);
  const float r = x - n * 0.693145751953125f - n * 1.428606820309417e-06f;
  float p = 1.f / 720.f;
  p = p * r + 1.f / 120.f;
  p = p * r + 1.f / 24.f;
  p = p * r + 1.f / 6.f;
  p = p * r + 0.5f;
  p = p * r + 1.f;
  p = p * r + 1.f;
  // 2^n from its exponent bits.
  const float scale = __builtin_bit_cast(float, (static_cast<int32_t>(n > -126.f ? n : -126.f) + 127) << 23);
  return x < -87.3f ? 0.f : p * scale;
}

// Per-thread scratch, reused across calls: M x Lb matrices and M x P position terms.
struct Scratch {
  std::vector<float> p, w, dw, qpe, dqpe, norms, x;
  float* get(std::vector<float>& v, size_t n) {
    if (v.size() < n) v.resize(n);
    return v.data();
  }
};

// One (stream, head): operands are strided views into the packed q/k/v rows.
struct Head {
  const float* q;  // M x D, row stride width
  const float* k;  // Lb x D
  const float* v;  // Lb x D
  long width;
};

// The keys a stream's queries see, as a band (see Gemm::band): query m sees keys [m + lo, m + hi)
// (visible() below). Products over the M x Lb logits skip what lies outside. Compressive mode's
// slots lie outside any band: none.
struct KeyBand {
  Gemm::Band kind = Gemm::kNoBand;
  long lo = 0, hi = 0;
};

// Rows are queries, the band's index keys (the logits, probabilities and their gradients).
KeyBand query_band(const AttentionArgs& a, long lb, Gemm::Band kind) {
  if (a.mode == kCompressive) return {};
  return {kind, lb - a.block - a.window, lb - a.block};
}

// Rows are keys, the band's index queries (their transposes): key i is seen by queries
// [i + 1 - hi, i + 1 - lo), since m + lo <= i < m + hi.
KeyBand key_band(const AttentionArgs& a, long lb, Gemm::Band kind) {
  const KeyBand q = query_band(a, lb, kind);
  if (q.kind == Gemm::kNoBand) return q;
  return {kind, 1 - q.hi, 1 - q.lo};
}

// C = alpha op(A) op(B) + beta C on strided views, within `band`. Inside a pool task the product
// stays on this thread; with one stream it may use the pool.
void gemm_view(bool ta, bool tb, int m, int n, int k, float alpha, const float* a, long lda,
               const float* b, long ldb, float beta, float* c, long ldc, const float* packed_b = nullptr,
               KeyBand band = {}) {
  if (m <= 0 || n <= 0) return;
  Gemm g;
  g.band = band.kind;
  g.band_lo = band.lo;
  g.band_hi = band.hi;
  g.trans_a = ta;
  g.trans_b = tb;
  g.m = m;
  g.n = n;
  g.k = k;
  g.alpha = alpha;
  g.a = a;
  g.lda = lda;
  g.b = b;
  g.ldb = ldb;
  g.packed_b = packed_b;
  g.beta = beta;
  g.c = c;
  g.ldc = ldc;
  gemm_builtin(g);
}

// The same with B packed by gemm_pack_b.
void gemm_view_packed(bool ta, int m, int n, int k, float alpha, const float* a, long lda, const float* packed_b,
                      float beta, float* c, long ldc) {
  gemm_view(ta, false, m, n, k, alpha, a, lda, nullptr, 0, beta, c, ldc, packed_b);
}

// keyPe (D x P) as the B operand of Q keyPe and, in backward, of dQPE keyPe^T: packed once per
// call, not once per (stream, head).
struct PackedPe {
  std::vector<float> storage;  // both, 64-byte aligned (the micro-kernels' aligned loads)
  float *pe = nullptr, *pe_t = nullptr;
  PackedPe(const AttentionArgs& a, bool transposed_too) {
    if (a.pe_len <= 0) return;
    const long n = gemm_packed_b_size(a.head_dim, a.pe_len), nt = gemm_packed_b_size(a.pe_len, a.head_dim);
    const long pad = 16;  // floats
    storage.resize(n + nt + 2 * pad);
    pe = align(storage.data());
    pe_t = align(pe + n);
    gemm_pack_b(false, a.head_dim, a.pe_len, a.key_pe, a.pe_len, pe);
    if (transposed_too) gemm_pack_b(true, a.pe_len, a.head_dim, a.key_pe, a.pe_len, pe_t);
  }
  static float* align(float* x) {
    return reinterpret_cast<float*>((reinterpret_cast<uintptr_t>(x) + 63) / 64 * 64);
  }
};

// q . keyPe for every query of the head: qpe (M x P) = Q keyPe.
void position_scores(const AttentionArgs& a, const PackedPe& pe, const Head& hd, float* qpe) {
  gemm_view_packed(false, a.block, a.pe_len, a.head_dim, 1.f, hd.q, hd.width, pe.pe, 0.f, qpe, a.pe_len);
}

// The expire-mode span loss of one stream (see attention.ts).
ES_MULTIVERSION float expire_aux(const AttentionArgs& a, int b) {
  const long base = a.offsets[b], lb = a.offsets[b + 1] - base;
  const float *e = a.spans + base, *c = a.counters + base;
  double sum = 0;
  for (int m = 0; m < a.block; m++) {
#pragma omp simd reduction(+ : sum)
    for (long i = 0; i < lb; i++) {
      const float r = std::min(e[i], a.limit) - c[i] - static_cast<float>(m);
      const float x = r / a.ramp + 1.f;
      sum += x > 0.f && x < 1.f ? r : 0.f;
    }
  }
  return static_cast<float>(sum / a.ramp / a.block);
}

// d aux_b / d e_i = (pairs of memory i on the ramp) / (R M), for the spans under the limit.
ES_MULTIVERSION void expire_aux_backward(const AttentionArgs& a, int b, float aux_grad, float* dspans) {
  const long base = a.offsets[b], lb = a.offsets[b + 1] - base;
  for (long i = base; i < base + lb; i++) {
    if (a.spans[i] > a.limit) continue;
    const float t = std::min(a.spans[i], a.limit) - a.counters[i];
    int count = 0;
#pragma omp simd reduction(+ : count)
    for (int m = 0; m < a.block; m++) {
      const float x = (t - static_cast<float>(m)) / a.ramp + 1.f;
      count += x > 0.f && x < 1.f ? 1 : 0;
    }
    dspans[i] += aux_grad * count / a.ramp / a.block;
  }
}

Head head_of(const AttentionArgs& a, int b, int h) {
  const long width = static_cast<long>(a.heads) * a.head_dim, base = a.offsets[b];
  return {a.q + static_cast<long>(b) * a.block * width + h * a.head_dim, a.k + base * width + h * a.head_dim,
          a.v + base * width + h * a.head_dim, width};
}

// Adds the position term of query m (row pr of the logits): key_pe index j for compressed slot
// j, P - d for a window key at distance d <= P.
inline void add_position(const AttentionArgs& a, const Row& r, const float* qpe_row, float scale, float* pr) {
  for (int j = 0; j < r.slots; j++) pr[r.clo + j] += scale * qpe_row[j];
  const long from = std::max(r.lo, r.qpos - a.pe_len);
  const float* q = qpe_row + a.pe_len - r.qpos;  // q[i] is the term of key i
#pragma omp simd
  for (long i = from; i < r.hi; i++) pr[i] += scale * q[i];
}

// The weights that multiply the values, w = p c norm drop, for one row; returns norm.
ES_MULTIVERSION float weights_row(const AttentionArgs& a, const float* pr, const float* x, long lb, long slot, float* wr) {
  double pc = 0;
#pragma omp simd reduction(+ : pc)
  for (long i = 0; i < lb; i++) pc += pr[i] * (in_softmax(x[i]) ? clamp01(x[i]) : 0.f);
  const float norm = masked(a) ? static_cast<float>(1.0 / (pc + kEps)) : 1.f;
#pragma omp simd
  for (long i = 0; i < lb; i++) wr[i] = in_softmax(x[i]) ? pr[i] * clamp01(x[i]) * norm : 0.f;
  if (a.dropout > 0.f)
    for (long i = 0; i < lb; i++) wr[i] *= dropout_factor(a.seed, slot + i, a.dropout);
  return norm;
}

// The softmax of one row in window mode, whose keys are exactly [r.lo, r.hi): no mask to build,
// and nothing to read outside that range (set to 0).
ES_MULTIVERSION void softmax_window_row(const AttentionArgs& a, const Row& r, const float* qpe_row, float scale, long lb, float* pr) {
  add_position(a, r, qpe_row, scale, pr);
  const long lo = r.lo, hi = std::max(r.lo, r.hi);
  float max = -INFINITY;
#pragma omp simd reduction(max : max)
  for (long i = lo; i < hi; i++) max = pr[i] > max ? pr[i] : max;
  float total = 0.f;
#pragma omp simd reduction(+ : total)
  for (long i = lo; i < hi; i++) {
    pr[i] = exp_nonpositive(pr[i] - max);
    total += pr[i];
  }
  const float inv = total > 0.f ? 1.f / total : 0.f;
#pragma omp simd
  for (long i = lo; i < hi; i++) pr[i] *= inv;
  std::fill(pr, pr + lo, 0.f);
  std::fill(pr + hi, pr + lb, 0.f);
}

// From the scaled logits in p (M x Lb, row m at m * lb), writes the softmax probabilities back
// into p (0 outside the softmax), the weights that multiply the values into w and their
// renormalisation factors into norms (M).
ES_MULTIVERSION void softmax_rows(const AttentionArgs& a, int b, int h, const float* qpe, float* p, float* w, float* norms, float* x, float scale) {
  const long base = a.offsets[b], lb = a.offsets[b + 1] - base;
  const long slot0 = static_cast<long>(a.heads) * a.block * base + static_cast<long>(h) * a.block * lb;
  for (int m = 0; m < a.block; m++) {
    float* pr = p + m * lb;
    const Row r = visible(a, lb, m);
    if (a.mode == kWindow) {
      softmax_window_row(a, r, qpe + static_cast<long>(m) * a.pe_len, scale, lb, pr);
      if (a.dropout > 0.f) {  // w = p drop
        float* wr = w + m * lb;
        for (long i = 0; i < lb; i++) wr[i] = pr[i] * dropout_factor(a.seed, slot0 + m * lb + i, a.dropout);
      }
      continue;
    }
    mask_row(a, base, lb, r, m, h, x);
    add_position(a, r, qpe + static_cast<long>(m) * a.pe_len, scale, pr);
    float max = -INFINITY;
#pragma omp simd reduction(max : max)
    for (long i = 0; i < lb; i++) max = std::max(max, in_softmax(x[i]) ? pr[i] : -INFINITY);
    // exp of every logit, then the select: a branch-free loop, which vectorises (with the
    // build's -fno-trapping-math, which lets float operations run on lanes left out).
#pragma omp simd
    for (long i = 0; i < lb; i++) {
      const float e = exp_nonpositive(pr[i] - max);
      pr[i] = in_softmax(x[i]) ? e : 0.f;
    }
    float total = 0.f;
#pragma omp simd reduction(+ : total)
    for (long i = 0; i < lb; i++) total += pr[i];
    const float inv = total > 0.f ? 1.f / total : 0.f;
#pragma omp simd
    for (long i = 0; i < lb; i++) pr[i] *= inv;
    if (!weights_are_probs(a)) norms[m] = weights_row(a, pr, x, lb, slot0 + m * lb, w + m * lb);
  }
}

// The softmax probabilities p (M x Lb) of one (stream, head), the weights w and their norms (see
// softmax_rows). Backward calls this again rather than keeping B x K x M x Lb probabilities from
// forward: the same operations in the same order give the same numbers, for one more M x Lb x D
// product.
void head_probs(const AttentionArgs& a, const PackedPe& pe, int b, int h, Scratch& s, float* p, float* w, float* norms) {
  const Head hd = head_of(a, b, h);
  const long lb = a.offsets[b + 1] - a.offsets[b];
  const float scale = 1.f / std::sqrt(static_cast<float>(a.head_dim));
  float* x = s.get(s.x, lb);
  float* qpe = s.get(s.qpe, static_cast<size_t>(a.block) * std::max(1, a.pe_len));
  gemm_view(false, true, a.block, static_cast<int>(lb), a.head_dim, scale, hd.q, hd.width, hd.k, hd.width, 0.f, p, lb,
            nullptr, query_band(a, lb, Gemm::kBandColumns));
  position_scores(a, pe, hd, qpe);
  softmax_rows(a, b, h, qpe, p, w, norms, x, scale);
}

// Row m of one (stream, head) in backward: dr holds the raw dw = dOut . v on entry and the
// gradient of the scaled logits on return: through the dropout, the renormalisation and the mask
// (masked modes; the mask's gradient goes to dspans in expire mode, and is returned in adaptive
// mode), the softmax and the scale. The row's position-term gradient is written into dq_row (P).
ES_MULTIVERSION float logit_grads_row(const AttentionArgs& a, long base, long lb, const Row& r, const float* pr,
                                      const float* x, float norm, long slot, float scale, float* dr,
                                      float* dspans, float* dq_row) {
  if (a.mode == kWindow) {  // dr's keys outside the band were not computed (masked modes select)
    std::fill(dr, dr + r.lo, 0.f);
    std::fill(dr + std::max(r.lo, r.hi), dr + lb, 0.f);
  }
  if (a.dropout > 0.f)
    for (long i = 0; i < lb; i++) dr[i] *= dropout_factor(a.seed, slot + i, a.dropout);
  float dz = 0.f;
  if (masked(a)) {
    // With dr now dw = drop (dout . v) and g = sum of w dw (w = p c norm, without the drop):
    // da = (dw - g) norm; dp = da c; the mask gets da p / R where 0 <= x <= 1 (and, in expire
    // mode, the span is under the cap). Keys outside the softmax, or of probability 0, get 0.
    float g = 0.f;
#pragma omp simd reduction(+ : g)
    for (long i = 0; i < lb; i++) g += in_softmax(x[i]) ? pr[i] * clamp01(x[i]) * norm * dr[i] : 0.f;
    if (a.mode == kExpire) {
      const float* e = a.spans + base;
      float* de = dspans + base;
#pragma omp simd
      for (long i = 0; i < lb; i++) {
        const bool live = in_softmax(x[i]) && pr[i] != 0.f;
        const float da = (dr[i] - g) * norm;
        de[i] += live && x[i] >= 0.f && x[i] <= 1.f && e[i] <= a.limit ? da * pr[i] / a.ramp : 0.f;
        dr[i] = live ? da * clamp01(x[i]) : 0.f;
      }
    } else {
#pragma omp simd reduction(+ : dz)
      for (long i = 0; i < lb; i++) {
        const bool live = in_softmax(x[i]) && pr[i] != 0.f;
        const float da = (dr[i] - g) * norm;
        dz += live && x[i] >= 0.f && x[i] <= 1.f ? da * pr[i] / a.ramp : 0.f;
        dr[i] = live ? da * clamp01(x[i]) : 0.f;
      }
    }
  }
  // Softmax backward and the scale; everything outside the softmax gets 0.
  float pdp = 0.f;
#pragma omp simd reduction(+ : pdp)
  for (long i = 0; i < lb; i++) pdp += pr[i] * dr[i];
#pragma omp simd
  for (long i = 0; i < lb; i++) dr[i] = pr[i] * (dr[i] - pdp) * scale;
  // Position term: the same keys as add_position, gathered; 0 where no key falls.
  const long from = std::max(r.lo, r.qpos - a.pe_len), to = std::max(from, r.hi);
  float* dqk = dq_row + a.pe_len - r.qpos;  // dqk[i]: key i's entry
  std::fill(dq_row, dqk + from, 0.f);
  std::copy(dr + from, dr + to, dqk + from);
  std::fill(dqk + to, dq_row + a.pe_len, 0.f);
  for (int j = 0; j < r.slots; j++) dq_row[j] += dr[r.clo + j];
  return dz;
}

// The streams, those with the most keys first.
std::vector<int> longest_first(const int* offsets, int batch) {
  std::vector<int> order(batch);
  for (int b = 0; b < batch; b++) order[b] = b;
  std::stable_sort(order.begin(), order.end(), [&](int x, int y) {
    return offsets[x + 1] - offsets[x] > offsets[y + 1] - offsets[y];
  });
  return order;
}

// Streams dealt to `groups` groups of about equal work (keys per stream), longest first, each to
// the group with the least so far: Expire-Span's streams keep different numbers of memories. The
// same offsets always give the same groups, so results do not depend on timing.
std::vector<std::vector<int>> balanced_groups(const int* offsets, int batch, int groups) {
  const auto keys = [&](int b) { return offsets[b + 1] - offsets[b]; };
  std::vector<std::vector<int>> out(groups);
  std::vector<long> load(groups, 0);
  for (const int b : longest_first(offsets, batch)) {
    const int g = static_cast<int>(std::min_element(load.begin(), load.end()) - load.begin());
    out[g].push_back(b);
    load[g] += keys(b);
  }
  return out;
}

}  // namespace

void attention_forward(const AttentionArgs& a, float* out, float* aux) {
  const int M = a.block, K = a.heads, D = a.head_dim;
  const long width = static_cast<long>(K) * D;
  const PackedPe pe(a, false);
  // The pool hands out tasks in order: the longest streams first leave the short ones to even
  // out the end.
  const std::vector<int> order = longest_first(a.offsets, a.batch);
  parallel_for(a.batch, [&](int task) {
    const int b = order[task];
    thread_local Scratch s;
    const long lb = a.offsets[b + 1] - a.offsets[b];
    if (a.mode == kExpire) aux[b] = expire_aux(a, b);
    float* p = s.get(s.p, static_cast<size_t>(M) * lb);  // M x Lb
    float* w = s.get(s.w, static_cast<size_t>(M) * lb);
    float* norms = s.get(s.norms, M);
    for (int h = 0; h < K; h++) {
      const Head hd = head_of(a, b, h);
      head_probs(a, pe, b, h, s, p, w, norms);
      gemm_view(false, false, M, D, static_cast<int>(lb), 1.f, weights_are_probs(a) ? p : w, lb, hd.v, width, 0.f,
                out + static_cast<long>(b) * M * width + h * D, width, nullptr, query_band(a, lb, Gemm::kBandDepth));
    }
  });
}

void attention_backward(const AttentionArgs& a, const float* dout,
                        const float* aux_grad, float* dq, float* dk, float* dv, float* dkey_pe,
                        float* dspans) {
  const int M = a.block, K = a.heads, D = a.head_dim, P = a.pe_len;
  const long width = static_cast<long>(K) * D;
  const float scale = 1.f / std::sqrt(static_cast<float>(D));
  // Streams are dealt to threads in fixed groups; each group owns its streams' rows, and sums
  // what all streams share (dkey_pe; adaptive mode's per-head dspans) privately.
  const int threads = std::max(1, std::min(num_threads(), a.batch));
  const std::vector<std::vector<int>> groups = balanced_groups(a.offsets, a.batch, threads);
  const long shared_spans = a.mode == kAdaptive ? a.spans_len : 0;
  const long partial_size = static_cast<long>(D) * P + shared_spans;
  std::vector<float> partial(static_cast<size_t>(threads) * partial_size, 0.f);
  // dk and dv may be k and v themselves (nothing else reads them): each head's slice of them is
  // then overwritten with its gradient after the slice's last read, instead of added to.
  const float dk_beta = dk == a.k ? 0.f : 1.f, dv_beta = dv == a.v ? 0.f : 1.f;
  const PackedPe pe(a, true);
  parallel_for(threads, [&](int t) {
    thread_local Scratch s;
    float* dpe_t = partial.data() + static_cast<size_t>(t) * partial_size;  // dkeyPe^T, P x D
    float* dz = dpe_t + static_cast<long>(D) * P;
    for (const int b : groups[t]) {
      const long base = a.offsets[b], lb = a.offsets[b + 1] - base;
      if (a.mode == kExpire) expire_aux_backward(a, b, aux_grad[b], dspans);
      float* p = s.get(s.p, static_cast<size_t>(M) * lb);
      float* w = s.get(s.w, static_cast<size_t>(M) * lb);
      float* ds = s.get(s.dw, static_cast<size_t>(M) * lb);
      float* dqpe = s.get(s.dqpe, static_cast<size_t>(M) * std::max(1, P));
      float* norms = s.get(s.norms, M);
      float* x = s.get(s.x, lb);
      for (int h = 0; h < K; h++) {
        const Head hd = head_of(a, b, h);
        const long qoff = static_cast<long>(b) * M * width + h * D;
        const long slot0 = static_cast<long>(K) * M * base + static_cast<long>(h) * M * lb;
        // p, and w = p c norm drop, as forward computed them.
        head_probs(a, pe, b, h, s, p, w, norms);
        // Raw dW = dOut V^T (before the dropout factor); then V's last read is done: dV += W^T dOut.
        gemm_view(false, true, M, static_cast<int>(lb), D, 1.f, dout + qoff, width, hd.v, width, 0.f, ds, lb, nullptr,
                  query_band(a, lb, Gemm::kBandColumns));
        gemm_view(true, false, static_cast<int>(lb), D, M, 1.f, weights_are_probs(a) ? p : w, lb, dout + qoff, width, dv_beta,
                  dv + (base * width) + h * D, width, nullptr, key_band(a, lb, Gemm::kBandDepth));
        for (int m = 0; m < M; m++) {
          const Row r = visible(a, lb, m);
          if (masked(a)) mask_row(a, base, lb, r, m, h, x);
          const float dz_row = logit_grads_row(a, base, lb, r, p + m * lb, x, norms[m], slot0 + m * lb, scale,
                                               ds + m * lb, dspans, dqpe + static_cast<long>(m) * P);
          if (a.mode == kAdaptive) dz[a.spans_len == 1 ? 0 : h] += dz_row * a.limit;
        }
        // dQ += dS K (K's last read), dK += dS^T Q; position term: dQ += dQPE keyPe^T and
        // dkeyPe^T += dQPE^T Q (transposed, so that dQPE, M x P, is read where it lies and only
        // Q, M x D, is packed).
        gemm_view(false, false, M, D, static_cast<int>(lb), 1.f, ds, lb, hd.k, width, 1.f, dq + qoff, width, nullptr,
                  query_band(a, lb, Gemm::kBandDepth));
        gemm_view(true, false, static_cast<int>(lb), D, M, 1.f, ds, lb, hd.q, width, dk_beta, dk + base * width + h * D, width,
                  nullptr, key_band(a, lb, Gemm::kBandDepth));
        if (P > 0) {
          gemm_view_packed(false, M, D, P, 1.f, dqpe, P, pe.pe_t, 1.f, dq + qoff, width);
          gemm_view(true, false, P, D, M, 1.f, dqpe, P, hd.q, width, 1.f, dpe_t, D);
        }
      }
    }
  });
  for (int t = 0; t < threads; t++) {
    const float* part = partial.data() + static_cast<size_t>(t) * partial_size;
    for (int d = 0; d < D; d++)
      for (int j = 0; j < P; j++) dkey_pe[static_cast<long>(d) * P + j] += part[static_cast<long>(j) * D + d];
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
      // memmove: out_hidden may be hidden itself (kept rows only move towards the front).
      std::memmove(out_hidden + kept * width, hidden + (base + i) * width, width * sizeof(float));
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
