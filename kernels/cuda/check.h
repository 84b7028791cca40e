// Error checks for CUDA, cuDNN and cuBLAS calls: each failure becomes a std::runtime_error naming
// the call and the library's own message (the engine rethrows it as facet::Error).
#pragma once
#include <cuda_runtime.h>

#include <stdexcept>
#include <string>

#define FACET_CUDA_CHECK(call)                                                                  \
  do {                                                                                          \
    cudaError_t e_ = (call);                                                                    \
    if (e_ != cudaSuccess)                                                                      \
      throw std::runtime_error(std::string("CUDA error in ") + #call + ": " + cudaGetErrorString(e_)); \
  } while (0)

#define FACET_CUDNN_CHECK(call)                                                                 \
  do {                                                                                          \
    cudnnStatus_t s_ = (call);                                                                  \
    if (s_ != CUDNN_STATUS_SUCCESS)                                                             \
      throw std::runtime_error(std::string("cuDNN error in ") + #call + ": " + cudnnGetErrorString(s_)); \
  } while (0)

#define FACET_CUBLAS_CHECK(call)                                                                \
  do {                                                                                          \
    cublasStatus_t s_ = (call);                                                                 \
    if (s_ != CUBLAS_STATUS_SUCCESS)                                                            \
      throw std::runtime_error(std::string("cuBLAS error in ") + #call + ": " + cublasGetStatusString(s_)); \
  } while (0)

namespace facet::cuda {
inline cudaStream_t as_stream(void* s) { return static_cast<cudaStream_t>(s); }
inline unsigned grid_for(long long n, int block) {
  long long g = (n + block - 1) / block;
  return static_cast<unsigned>(g < 65535LL * 32 ? (g < 1 ? 1 : g) : 65535LL * 32);
}
}  // namespace facet::cuda
