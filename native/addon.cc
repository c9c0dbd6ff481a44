// N-API bindings only: unpack arguments, call the kernel. Shapes and bounds are checked by the
// TypeScript side (src/kernels/checked.ts) before any call reaches here; this file checks only
// that each buffer argument is a typed array of the right kind, so a misuse throws, never crashes.
#include <napi.h>

#include <string>

#include "gemm.h"
#include "kernels.h"
#include "memory_attention.h"
#include "thread_pool.h"

namespace {

using Napi::CallbackInfo;

// Flushes denormal floats to zero while a kernel runs on the JavaScript thread, restoring the
// thread's mode afterwards (JavaScript's own arithmetic keeps IEEE denormals). Without it, the
// tiny probabilities of a sharp softmax make matrix products many times slower.
struct FlushDenormals {
  es::FloatMode saved = es::enter_flush_denormals();
  ~FlushDenormals() { es::leave_flush_denormals(saved); }
};

using Napi::Value;

// Every kernel binding is registered through this, so none can forget the guard.
template <Value (*Binding)(const CallbackInfo&)>
Value flushing_denormals(const CallbackInfo& info) {
  FlushDenormals flush;
  return Binding(info);
}

template <typename T>
T* typed(const CallbackInfo& info, size_t i, napi_typedarray_type want, const char* kind) {
  napi_typedarray_type type;
  size_t length;
  void* data = nullptr;
  if (napi_get_typedarray_info(info.Env(), info[i], &type, &length, &data, nullptr, nullptr) !=
          napi_ok ||
      type != want) {
    throw Napi::TypeError::New(info.Env(), "argument " + std::to_string(i) + " must be " + kind);
  }
  return static_cast<T*>(data);
}
float* f32(const CallbackInfo& info, size_t i) {
  return typed<float>(info, i, napi_float32_array, "a Float32Array");
}
int* i32(const CallbackInfo& info, size_t i) {
  return typed<int>(info, i, napi_int32_array, "an Int32Array");
}
long num(const CallbackInfo& info, size_t i) {
  return static_cast<long>(info[i].As<Napi::Number>().Int64Value());
}
float real(const CallbackInfo& info, size_t i) {
  return info[i].As<Napi::Number>().FloatValue();
}

Value Info(const CallbackInfo& info) {
  Napi::Object out = Napi::Object::New(info.Env());
  out.Set("blas", es::blas_library());
  out.Set("blasCore", es::blas_core());
  out.Set("gemm", es::gemm_backend());
  out.Set("builtinIsa", es::gemm_builtin_isa());
  out.Set("threads", es::num_threads());
  return out;
}

Value SetThreads(const CallbackInfo& info) {
  const int threads = static_cast<int>(num(info, 0));
  es::set_num_threads(threads);
  es::set_blas_threads(threads);
  return info.Env().Undefined();
}

// (transA, transB, m, n, k, alpha, a, aOff, lda, strideA, b, bOff, ldb, strideB,
//  beta, c, cOff, ldc, strideC, batch, route) with route 0: the active backend, 1: built-in,
//  2: the linked CBLAS (for benchmarks)
Value Gemm(const CallbackInfo& info) {
  es::Gemm g;
  g.trans_a = info[0].ToBoolean();
  g.trans_b = info[1].ToBoolean();
  g.m = static_cast<int>(num(info, 2));
  g.n = static_cast<int>(num(info, 3));
  g.k = static_cast<int>(num(info, 4));
  g.alpha = real(info, 5);
  g.a = f32(info, 6) + num(info, 7);
  g.lda = num(info, 8);
  g.stride_a = num(info, 9);
  g.b = f32(info, 10) + num(info, 11);
  g.ldb = num(info, 12);
  g.stride_b = num(info, 13);
  g.beta = real(info, 14);
  g.c = f32(info, 15) + num(info, 16);
  g.ldc = num(info, 17);
  g.stride_c = num(info, 18);
  g.batch = static_cast<int>(num(info, 19));
  const long route = num(info, 20);
  if (route == 1) {
    es::gemm_builtin(g);
  } else if (route == 2) {
    if (!es::gemm_cblas(g)) throw Napi::Error::New(info.Env(), "gemm: no CBLAS library was linked");
  } else {
    es::gemm(g);
  }
  return info.Env().Undefined();
}

Value Add(const CallbackInfo& info) {
  es::add(f32(info, 0), f32(info, 1), f32(info, 2), num(info, 3));
  return info.Env().Undefined();
}
Value Mul(const CallbackInfo& info) {
  es::mul(f32(info, 0), f32(info, 1), f32(info, 2), num(info, 3));
  return info.Env().Undefined();
}
Value MulAcc(const CallbackInfo& info) {
  es::mul_acc(f32(info, 0), f32(info, 1), f32(info, 2), num(info, 3));
  return info.Env().Undefined();
}
Value Axpy(const CallbackInfo& info) {
  es::axpy(real(info, 0), f32(info, 1), f32(info, 2), num(info, 3));
  return info.Env().Undefined();
}
Value Scale(const CallbackInfo& info) {
  es::scale(f32(info, 0), real(info, 1), f32(info, 2), num(info, 3));
  return info.Env().Undefined();
}
Value Copy(const CallbackInfo& info) {
  es::copy(f32(info, 0), f32(info, 1), num(info, 2));
  return info.Env().Undefined();
}
Value Fill(const CallbackInfo& info) {
  es::fill(f32(info, 0), real(info, 1), num(info, 2));
  return info.Env().Undefined();
}
Value Discard(const CallbackInfo& info) {
  es::discard_pages(f32(info, 0), num(info, 1));
  return info.Env().Undefined();
}
Value AddBias(const CallbackInfo& info) {
  es::add_bias(f32(info, 0), f32(info, 1), f32(info, 2), num(info, 3), num(info, 4));
  return info.Env().Undefined();
}
Value SumRows(const CallbackInfo& info) {
  es::sum_rows(f32(info, 0), f32(info, 1), num(info, 2), num(info, 3));
  return info.Env().Undefined();
}
Value ReluForward(const CallbackInfo& info) {
  es::relu_forward(f32(info, 0), f32(info, 1), num(info, 2));
  return info.Env().Undefined();
}
Value ReluBackward(const CallbackInfo& info) {
  es::relu_backward(f32(info, 0), f32(info, 1), f32(info, 2), num(info, 3));
  return info.Env().Undefined();
}
Value SigmoidForward(const CallbackInfo& info) {
  es::sigmoid_forward(f32(info, 0), f32(info, 1), num(info, 2));
  return info.Env().Undefined();
}
Value SigmoidBackward(const CallbackInfo& info) {
  es::sigmoid_backward(f32(info, 0), f32(info, 1), f32(info, 2), num(info, 3));
  return info.Env().Undefined();
}

// (mode, batch, block, heads, headDim, peLen, window, rate, compressed, q, k, v, offsets, keyPe,
//  spans, counters, ramp, limit, dropout, seed, ...): the leading arguments of both attention
//  kernels.
es::AttentionArgs attention_args(const CallbackInfo& info) {
  es::AttentionArgs a;
  a.mode = static_cast<int>(num(info, 0));
  a.batch = static_cast<int>(num(info, 1));
  a.block = static_cast<int>(num(info, 2));
  a.heads = static_cast<int>(num(info, 3));
  a.head_dim = static_cast<int>(num(info, 4));
  a.pe_len = static_cast<int>(num(info, 5));
  a.window = num(info, 6);
  a.rate = static_cast<int>(num(info, 7));
  a.compressed = static_cast<int>(num(info, 8));
  a.q = f32(info, 9);
  a.k = f32(info, 10);
  a.v = f32(info, 11);
  a.offsets = i32(info, 12);
  a.key_pe = f32(info, 13);
  a.spans = f32(info, 14);
  a.spans_len = static_cast<long>(info[14].As<Napi::TypedArray>().ElementLength());
  a.counters = f32(info, 15);
  a.ramp = real(info, 16);
  a.limit = real(info, 17);
  a.dropout = real(info, 18);
  a.seed = static_cast<unsigned>(info[19].As<Napi::Number>().Uint32Value());
  return a;
}
// (..., out, aux)
Value AttentionForward(const CallbackInfo& info) {
  es::attention_forward(attention_args(info), f32(info, 20), f32(info, 21));
  return info.Env().Undefined();
}
// (..., dout, auxGrad, dq, dk, dv, dkeyPe, dspans)
Value AttentionBackward(const CallbackInfo& info) {
  es::attention_backward(attention_args(info), f32(info, 20), f32(info, 21), f32(info, 22),
                         f32(info, 23), f32(info, 24), f32(info, 25), f32(info, 26));
  return info.Env().Undefined();
}
// (x, rows, width, rate, out)
Value MeanPoolRows(const CallbackInfo& info) {
  es::mean_pool_rows(f32(info, 0), num(info, 1), num(info, 2), static_cast<int>(num(info, 3)), f32(info, 4));
  return info.Env().Undefined();
}
// (mode, batch, block, width, ramp, window, hidden, counters, offsets, spans, outHidden,
//  outCounters, outOffsets) -> rows kept
Value MemoryPrune(const CallbackInfo& info) {
  const long kept = es::memory_prune(
      static_cast<int>(num(info, 0)), static_cast<int>(num(info, 1)), static_cast<int>(num(info, 2)),
      num(info, 3), real(info, 4), num(info, 5), f32(info, 6), f32(info, 7), i32(info, 8),
      f32(info, 9), f32(info, 10), f32(info, 11), i32(info, 12));
  return Napi::Number::New(info.Env(), static_cast<double>(kept));
}

// (x, y, n, p, seed) and (dy, dx, n, p, seed)
Value DropoutForward(const CallbackInfo& info) {
  es::dropout_forward(f32(info, 0), f32(info, 1), num(info, 2), real(info, 3), info[4].As<Napi::Number>().Uint32Value());
  return info.Env().Undefined();
}
Value DropoutBackward(const CallbackInfo& info) {
  es::dropout_backward(f32(info, 0), f32(info, 1), num(info, 2), real(info, 3), info[4].As<Napi::Number>().Uint32Value());
  return info.Env().Undefined();
}

Value SumSquares(const CallbackInfo& info) {
  return Napi::Number::New(info.Env(), es::sum_squares(f32(info, 0), num(info, 1)));
}
Value Sum(const CallbackInfo& info) {
  return Napi::Number::New(info.Env(), es::sum(f32(info, 0), num(info, 1)));
}
Value LayerNormForward(const CallbackInfo& info) {
  es::layer_norm_forward(f32(info, 0), f32(info, 1), f32(info, 2), f32(info, 3), f32(info, 4),
                         f32(info, 5), num(info, 6), num(info, 7), real(info, 8));
  return info.Env().Undefined();
}
Value LayerNormBackward(const CallbackInfo& info) {
  es::layer_norm_backward(f32(info, 0), f32(info, 1), f32(info, 2), f32(info, 3), f32(info, 4),
                          f32(info, 5), f32(info, 6), f32(info, 7), num(info, 8), num(info, 9));
  return info.Env().Undefined();
}
Value SoftmaxForward(const CallbackInfo& info) {
  es::softmax_forward(f32(info, 0), f32(info, 1), num(info, 2), num(info, 3));
  return info.Env().Undefined();
}
Value SoftmaxBackward(const CallbackInfo& info) {
  es::softmax_backward(f32(info, 0), f32(info, 1), f32(info, 2), num(info, 3), num(info, 4));
  return info.Env().Undefined();
}
Value LogSoftmaxForward(const CallbackInfo& info) {
  es::log_softmax_forward(f32(info, 0), f32(info, 1), num(info, 2), num(info, 3));
  return info.Env().Undefined();
}
Value LogSoftmaxBackward(const CallbackInfo& info) {
  es::log_softmax_backward(f32(info, 0), f32(info, 1), f32(info, 2), num(info, 3), num(info, 4));
  return info.Env().Undefined();
}
Value LogSoftmaxNllForward(const CallbackInfo& info) {
  const double total = es::log_softmax_nll_forward(f32(info, 0), i32(info, 1), f32(info, 2),
                                                   f32(info, 3), num(info, 4), num(info, 5));
  return Napi::Number::New(info.Env(), total);
}
Value LogSoftmaxNllBackward(const CallbackInfo& info) {
  es::log_softmax_nll_backward(f32(info, 0), i32(info, 1), f32(info, 2), num(info, 3),
                               num(info, 4), real(info, 5));
  return info.Env().Undefined();
}
Value EmbeddingForward(const CallbackInfo& info) {
  es::embedding_forward(i32(info, 0), f32(info, 1), f32(info, 2), num(info, 3), num(info, 4));
  return info.Env().Undefined();
}
Value EmbeddingBackward(const CallbackInfo& info) {
  es::embedding_backward(i32(info, 0), f32(info, 1), f32(info, 2), num(info, 3), num(info, 4));
  return info.Env().Undefined();
}
Value Adam(const CallbackInfo& info) {
  es::adam(f32(info, 0), f32(info, 1), f32(info, 2), f32(info, 3), num(info, 4), real(info, 5),
           real(info, 6), real(info, 7), real(info, 8), num(info, 9));
  return info.Env().Undefined();
}
// A do-nothing call: measures the binding's own cost.
Value Noop(const CallbackInfo& info) { return info.Env().Undefined(); }

Napi::Object Init(Napi::Env env, Napi::Object exports) {
  es::keep_large_blocks_mapped();
  const struct {
    const char* name;
    Value (*fn)(const CallbackInfo&);
  } functions[] = {
      {"info", Info},
      {"setThreads", SetThreads},
      {"gemm", flushing_denormals<Gemm>},
      {"add", flushing_denormals<Add>},
      {"mul", flushing_denormals<Mul>},
      {"mulAcc", flushing_denormals<MulAcc>},
      {"axpy", flushing_denormals<Axpy>},
      {"scale", flushing_denormals<Scale>},
      {"fill", flushing_denormals<Fill>},
      {"copy", flushing_denormals<Copy>},
      {"discard", Discard},
      {"addBias", flushing_denormals<AddBias>},
      {"sumRows", flushing_denormals<SumRows>},
      {"reluForward", flushing_denormals<ReluForward>},
      {"reluBackward", flushing_denormals<ReluBackward>},
      {"sigmoidForward", flushing_denormals<SigmoidForward>},
      {"sigmoidBackward", flushing_denormals<SigmoidBackward>},
      {"attentionForward", flushing_denormals<AttentionForward>},
      {"attentionBackward", flushing_denormals<AttentionBackward>},
      {"memoryPrune", flushing_denormals<MemoryPrune>},
      {"meanPoolRows", flushing_denormals<MeanPoolRows>},
      {"dropoutForward", flushing_denormals<DropoutForward>},
      {"dropoutBackward", flushing_denormals<DropoutBackward>},
      {"sumSquares", flushing_denormals<SumSquares>},
      {"sum", flushing_denormals<Sum>},
      {"layerNormForward", flushing_denormals<LayerNormForward>},
      {"layerNormBackward", flushing_denormals<LayerNormBackward>},
      {"softmaxForward", flushing_denormals<SoftmaxForward>},
      {"softmaxBackward", flushing_denormals<SoftmaxBackward>},
      {"logSoftmaxForward", flushing_denormals<LogSoftmaxForward>},
      {"logSoftmaxBackward", flushing_denormals<LogSoftmaxBackward>},
      {"logSoftmaxNllForward", flushing_denormals<LogSoftmaxNllForward>},
      {"logSoftmaxNllBackward", flushing_denormals<LogSoftmaxNllBackward>},
      {"embeddingForward", flushing_denormals<EmbeddingForward>},
      {"embeddingBackward", flushing_denormals<EmbeddingBackward>},
      {"adam", flushing_denormals<Adam>},
      {"noop", Noop},
  };
  for (const auto& f : functions) exports.Set(f.name, Napi::Function::New(env, f.fn, f.name));
  return exports;
}

}  // namespace

NODE_API_MODULE(expire_span_native, Init)
