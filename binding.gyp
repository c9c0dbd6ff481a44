{
  "variables": {
    "blas%": "<!(node scripts/detect-blas.mjs)"
  },
  "targets": [
    {
      "target_name": "expire_span_native",
      "sources": [
        "native/addon.cc",
        "native/thread_pool.cc",
        "native/gemm.cc",
        "native/gemm_builtin.cc",
        "native/elementwise.cc",
        "native/pages.cc",
        "native/layer_norm.cc",
        "native/softmax.cc",
        "native/embedding.cc",
        "native/optim.cc",
        "native/memory_attention.cc"
      ],
      "include_dirs": ["<!(node -p \"require('node-addon-api').include_dir\")"],
      "defines": ["NAPI_VERSION=8", "NAPI_CPP_EXCEPTIONS"],
      "cflags!": ["-fno-exceptions"],
      "cflags_cc!": ["-fno-exceptions", "-std=gnu++17"],
      "cflags_cc": ["-std=c++17", "-O3", "-fexceptions", "-fno-math-errno", "-fno-trapping-math", "-fopenmp-simd"],
      "xcode_settings": {
        "GCC_ENABLE_CPP_EXCEPTIONS": "YES",
        "CLANG_CXX_LANGUAGE_STANDARD": "c++17",
        "OTHER_CPLUSPLUSFLAGS": ["-O3", "-fno-trapping-math", "-fopenmp-simd"]
      },
      "conditions": [
        ["blas=='openblas'", {
          "defines": ["EXPIRE_SPAN_BLAS=\"openblas\"", "EXPIRE_SPAN_OPENBLAS"],
          "libraries": ["-lopenblas"]
        }],
        ["blas=='accelerate'", {
          "defines": ["EXPIRE_SPAN_BLAS=\"accelerate\"", "EXPIRE_SPAN_ACCELERATE", "ACCELERATE_NEW_LAPACK"],
          "libraries": ["-framework Accelerate"]
        }],
        ["blas=='none'", {
          "defines": ["EXPIRE_SPAN_BLAS=\"none\""]
        }],
        ["OS=='linux'", {
          "libraries": ["-lpthread"]
        }]
      ]
    }
  ]
}
