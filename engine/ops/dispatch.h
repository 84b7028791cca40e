// Helpers every op file uses: pick the CPU template instantiation for a dtype, find the CUDA
// stream of a context, and check where inputs live. Ops call cpu::f<T> or cuda::f (dlib's pairs).
#pragma once
#include "engine/core/context.h"
#include "engine/core/error.h"
#include "engine/tensor/tensor.h"
#include "facet_config.h"

namespace facet {

// Calls f(T{}) with T = float or double for a CPU tensor's dtype; other dtypes are refused.
template <typename F>
void cpu_dispatch(const char* op, DType dt, F&& f) {
  switch (dt) {
    case DType::F32: f(float{}); break;
    case DType::F64: f(double{}); break;
    default:
      throw Error(detail::concat(op, ": the CPU backend computes in f32 or f64, got ", dtype_name(dt),
                                 " (cast first)"));
  }
}

void* cuda_stream(Context& ctx);  // the context's stream (nullptr on a CPU-only context)

// Refuses CUDA tensors in a build without the CUDA backend, with the op's name.
inline void require_cuda_build(const char* op) {
#if !FACET_HAS_CUDA
  throw Error(detail::concat(op, ": this build has no CUDA backend"));
#else
  (void)op;
#endif
}

}  // namespace facet
