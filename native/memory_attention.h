// Masked relative-position attention over ragged per-stream memories, memory pruning and
// mean-pooling. The exact definition is in src/kernels/attention.ts (shared with the TypeScript
// reference in src/kernels/reference-memory.ts).
#pragma once

namespace es {

enum AttentionMode { kWindow = 0, kExpire = 1, kAdaptive = 2, kCompressive = 3 };

struct AttentionArgs {
  int mode, batch, block, heads, head_dim, pe_len;
  long window;
  int rate, compressed;           // compressive mode
  const float *q, *k, *v;         // q: (B*M) x (K*D); k, v: rows x (K*D)
  const int* offsets;             // B + 1
  const float* key_pe;            // D x P
  const float *spans, *counters;  // expire: per row; adaptive: spans per head (or 1)
  long spans_len;
  float ramp, limit;
  float dropout;   // on the attention weights, after renormalisation
  unsigned seed;   // of the dropout mask, drawn per weight slot (see attention.ts)
};

// out: (B*M) x (K*D); aux: B (expire mode)
void attention_forward(const AttentionArgs& a, float* out, float* aux);
// Accumulates into dq, dk, dv, dkey_pe and (expire, adaptive) dspans. aux_grad: B (expire).
// The attention weights are recomputed, not kept from forward.
void attention_backward(const AttentionArgs& a, const float* dout,
                        const float* aux_grad, float* dq, float* dk, float* dv, float* dkey_pe,
                        float* dspans);

// Keeps live memories (see memoryPrune in src/kernels/reference-memory.ts); returns rows kept.
long memory_prune(int mode, int batch, int block, long width, float ramp, long window,
                  const float* hidden, const float* counters, const int* offsets,
                  const float* spans, float* out_hidden, float* out_counters, int* out_offsets);

// out[r] = mean of rows r*rate .. r*rate+rate-1 of x (rows x width).
void mean_pool_rows(const float* x, long rows, long width, int rate, float* out);

}  // namespace es
