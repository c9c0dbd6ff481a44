// Declarations of the non-matrix-product kernels. All buffers are contiguous float32 (ids and
// targets int32), row-major; sizes are element counts. Backward kernels ADD into their gradient
// outputs, so a tensor used twice gets the sum of both contributions. Callers (src/kernels) check
// shapes and bounds before calling: these functions trust their arguments.
#pragma once

#if defined(__GNUC__) && !defined(__clang__) && defined(__x86_64__) && defined(__linux__)
// Compile hot loops for several instruction sets and pick one at load time.
#define ES_MULTIVERSION __attribute__((target_clones("avx512f", "avx2", "default")))
#else
#define ES_MULTIVERSION
#endif

namespace es {

// --- elementwise (n elements) ---
void add(const float* a, const float* b, float* out, long n);        // out = a + b
void mul(const float* a, const float* b, float* out, long n);        // out = a * b
void mul_acc(const float* a, const float* b, float* out, long n);    // out += a * b
void axpy(float alpha, const float* x, float* y, long n);            // y += alpha * x
void scale(const float* x, float alpha, float* out, long n);         // out = alpha * x
void fill(float* x, float value, long n);
void copy(const float* x, float* out, long n);  // out = x (not overlapping)
// Gives x's whole pages back to the OS; their contents become zeros (pages.cc).
void discard_pages(float* x, long n);
// Keeps large heap blocks mapped, so that freeing one returns its memory (pages.cc).
void keep_large_blocks_mapped();
void add_bias(const float* x, const float* bias, float* out, long rows, long cols);  // out = x + bias
void sum_rows(const float* dy, float* dbias, long rows, long cols);  // dbias += sum over rows of dy
void relu_forward(const float* x, float* y, long n);                 // y = max(x, 0)
void relu_backward(const float* y, const float* dy, float* dx, long n);  // dx += dy * (y > 0); dx = dy * (y > 0) when dx is dy
void sigmoid_forward(const float* x, float* y, long n);              // y = 1 / (1 + exp(-x))
void sigmoid_backward(const float* y, const float* dy, float* dx, long n);  // dx += dy * y (1 - y)
// y = x * factor, factor 0 with probability p else 1 / (1 - p), from (seed, index) (dropout.h)
void dropout_forward(const float* x, float* y, long n, float p, unsigned seed);
void dropout_backward(const float* dy, float* dx, long n, float p, unsigned seed);  // dx += dy * factor
double sum_squares(const float* x, long n);                          // sum of x^2, in double
double sum(const float* x, long n);

// --- layer norm over the last dimension: x, y: rows x cols; w, b: cols; mean, rstd: rows ---
void layer_norm_forward(const float* x, const float* w, const float* b, float* y, float* mean,
                        float* rstd, long rows, long cols, float eps);
void layer_norm_backward(const float* dy, const float* x, const float* w, const float* mean,
                         const float* rstd, float* dx, float* dw, float* db, long rows, long cols);

// --- softmax over the last dimension: x, y: rows x cols ---
void softmax_forward(const float* x, float* y, long rows, long cols);
void softmax_backward(const float* y, const float* dy, float* dx, long rows, long cols);
void log_softmax_forward(const float* x, float* y, long rows, long cols);
void log_softmax_backward(const float* y, const float* dy, float* dx, long rows, long cols);
// logprobs = log_softmax(logits); nll[r] = -logprobs[r, target[r]] (0 where target < 0).
// Returns the sum of nll. Targets must be < cols.
double log_softmax_nll_forward(const float* logits, const int* target, float* logprobs, float* nll,
                               long rows, long cols);
// dlogits += scale * (softmax - onehot(target)) on rows whose target >= 0.
void log_softmax_nll_backward(const float* logprobs, const int* target, float* dlogits,
                              long rows, long cols, float scale);

// --- embedding: ids: n; table: vocab x dim; out: n x dim. ids must be in [0, vocab) ---
void embedding_forward(const int* ids, const float* table, float* out, long n, long dim);
void embedding_backward(const int* ids, const float* dout, float* dtable, long n, long dim);

// --- optimiser ---
// One bias-corrected Adam update (PyTorch's formula); `step` counts from 1.
void adam(float* param, const float* grad, float* m, float* v, long n, float lr, float beta1,
          float beta2, float eps, long step);

}  // namespace es
