// The dispatcher every engine primitive goes through (dlib's tt:: over cpu:: / cuda:: pairs).
// A primitive is one function with one signature (engine/ops/backend.h) whose body names its two
// kernels, cpu::f<T> (typed pointers) and cuda::f (dtype, void pointers, stream); on_device picks
// the one for the tensor's device. The primitives read FACET_HAS_CUDA only here: the CUDA kernel
// is passed as a generic lambda that on_device instantiates only in a CUDA build, so a CPU-only
// build compiles the same sources and never references a cuda:: symbol (the kernels/cuda headers
// are plain C++ declarations, includable in every build).
#pragma once
#include <cstddef>
#include <utility>

#include "engine/core/context.h"
#include "engine/core/error.h"
#include "engine/tensor/tensor.h"
#include "facet_config.h"

namespace facet {

// Whether this build contains the CUDA backend.
inline constexpr bool kCudaBuilt = FACET_HAS_CUDA != 0;

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
  if (!kCudaBuilt) throw Error(detail::concat(op, ": this build has no CUDA backend"));
}

// Runs cuda_kernel(stream) on the context's stream; refused in a build without CUDA. cuda_kernel
// must be a generic lambda ([&](auto stream) { cuda::f(..., stream); }) so that a build without
// CUDA never instantiates it.
template <typename CudaKernel>
void on_cuda(Context& ctx, const char* op, CudaKernel&& cuda_kernel) {
  require_cuda_build(op);
  if constexpr (kCudaBuilt) cuda_kernel(cuda_stream(ctx));
}

// Runs a primitive on `device`: cpu_kernel() on the CPU, else on_cuda(cuda_kernel).
template <typename CpuKernel, typename CudaKernel>
void on_device(Context& ctx, const char* op, Device device, CpuKernel&& cpu_kernel, CudaKernel&& cuda_kernel) {
  if (device.is_cpu())
    cpu_kernel();
  else
    on_cuda(ctx, op, std::forward<CudaKernel>(cuda_kernel));
}

// The same for a kernel templated on the element type: cpu_kernel(T{}) with T the CPU dtype `dt`.
template <typename CpuKernel, typename CudaKernel>
void on_device(Context& ctx, const char* op, Device device, DType dt, CpuKernel&& cpu_kernel,
               CudaKernel&& cuda_kernel) {
  on_device(
      ctx, op, device, [&] { cpu_dispatch(op, dt, cpu_kernel); }, std::forward<CudaKernel>(cuda_kernel));
}

// The usual case: the device and element type are those of tensor `on`.
template <typename CpuKernel, typename CudaKernel>
void on_device(Context& ctx, const char* op, const Tensor& on, CpuKernel&& cpu_kernel, CudaKernel&& cuda_kernel) {
  on_device(ctx, op, on.device(), on.dtype(), std::forward<CpuKernel>(cpu_kernel),
            std::forward<CudaKernel>(cuda_kernel));
}

// Typed pointer / raw pointer of a tensor that may be undefined (optional inputs and outputs).
template <typename T>
T* data_or_null(const Tensor& t) {
  return t.defined() ? t.data_as<T>() : nullptr;
}
inline void* data_or_null(const Tensor& t) { return t.defined() ? t.data() : nullptr; }

// Scratch memory of at least `bytes` on `device` from the context's allocator (a caching pool on
// CUDA, so a steady-state step never reaches cudaMalloc); undefined when no bytes are needed.
Tensor scratch(Context& ctx, size_t bytes, Device device);

}  // namespace facet
