// Shared device helpers: dtype <-> float conversion for templated kernels, grid-stride loops,
// dynamic shared memory, and the launch helper every kernel is started with.
#pragma once
#include <cuda_bf16.h>
#include <cuda_fp16.h>

#include "kernels/common/dtype.h"
#include "kernels/cuda/check.h"
#include "kernels/cuda/launch.cuh"
#include "kernels/cuda/runtime.h"

namespace facet::cuda {

template <typename T> __device__ __forceinline__ float to_f(T v) { return static_cast<float>(v); }
template <> __device__ __forceinline__ float to_f(__nv_bfloat16 v) { return __bfloat162float(v); }
template <> __device__ __forceinline__ float to_f(__half v) { return __half2float(v); }
template <typename T> __device__ __forceinline__ T from_f(float v) { return static_cast<T>(v); }
template <> __device__ __forceinline__ __nv_bfloat16 from_f(float v) { return __float2bfloat16(v); }
template <> __device__ __forceinline__ __half from_f(float v) { return __float2half(v); }

// The block's dynamic shared memory (the launch's shared_bytes), as an array of T.
template <typename T>
__device__ __forceinline__ T* dynamic_shared() {
#if defined(FACET_CUDA_EMULATED)
  return static_cast<T*>(::facet::emu::dynamic_shared_memory());
#else
  extern __shared__ __align__(16) unsigned char facet_dynamic_shared[];
  return reinterpret_cast<T*>(facet_dynamic_shared);
#endif
}

// Dynamic shared memory for a window of n floats, rounded up to whole 16-byte words: ptxas merges
// a loop's tail reads of the window into one wider load (a 12-byte LDS that compute-sanitizer's
// memcheck reported past the end of a DSSIM window on an H200), which must stay inside the allocation.
inline size_t window_shared_bytes(int64_t n) { return static_cast<size_t>((n + 3) / 4 * 4) * sizeof(float); }

#define FACET_GRID_STRIDE(i, n) \
  for (long long i = blockIdx.x * (long long)blockDim.x + threadIdx.x; i < (n); i += (long long)blockDim.x * gridDim.x)

// Calls f.template operator()<T>() with T the CUDA type of `dt` (float, double, bf16, half).
template <typename F>
void dispatch(DType dt, F&& f) {
  switch (dt) {
    case DType::F32: f(float{}); break;
    case DType::F64: f(double{}); break;
    case DType::BF16: f(__nv_bfloat16{}); break;
    case DType::F16: f(__half{}); break;
  }
}

// Float-compute kernels (activations, losses) support f32 and bf16 on the GPU.
template <typename F>
void dispatch_float(DType dt, const char* what, F&& f) {
  switch (dt) {
    case DType::F32: f(float{}); break;
    case DType::BF16: f(__nv_bfloat16{}); break;
    default: throw Error(std::string(what) + ": CUDA supports f32 and bf16, not " + dtype_name(dt));
  }
}

}  // namespace facet::cuda
