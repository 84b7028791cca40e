// Error checks for CUDA, cuDNN and cuBLAS calls. A failure throws facet::Error naming the call,
// the library's own message and the file and line of the call (dlib's cuda_utils habit), so an
// embedding program catches the one documented type. A failed runtime call also leaves its error
// as the runtime's "last error"; the check clears it, so that code which catches the exception on
// purpose (the allocator's retry, the face bank's device -> pinned fallback) does not see a stale
// error at the next kernel launch.
#pragma once
#include <cuda_runtime.h>

#include <string>

#include "kernels/common/error.h"

namespace facet::cuda {
[[noreturn]] inline void throw_error(const char* library, const char* call, const char* message, const char* file,
                                     int line) {
  throw Error(std::string(library) + " error in " + call + ": " + message + " (" + file + ":" + std::to_string(line) +
              ")");
}
}  // namespace facet::cuda

#define FACET_CUDA_CHECK(call)                                                                \
  do {                                                                                        \
    const cudaError_t e_ = (call);                                                            \
    if (e_ != cudaSuccess) {                                                                  \
      (void)cudaGetLastError();                                                               \
      ::facet::cuda::throw_error("CUDA", #call, cudaGetErrorString(e_), __FILE__, __LINE__);  \
    }                                                                                         \
  } while (0)

#define FACET_CUDNN_CHECK(call)                                                               \
  do {                                                                                        \
    const cudnnStatus_t s_ = (call);                                                          \
    if (s_ != CUDNN_STATUS_SUCCESS)                                                           \
      ::facet::cuda::throw_error("cuDNN", #call, cudnnGetErrorString(s_), __FILE__, __LINE__); \
  } while (0)

#define FACET_CUBLAS_CHECK(call)                                                                 \
  do {                                                                                           \
    const cublasStatus_t s_ = (call);                                                            \
    if (s_ != CUBLAS_STATUS_SUCCESS)                                                             \
      ::facet::cuda::throw_error("cuBLAS", #call, cublasGetStatusString(s_), __FILE__, __LINE__); \
  } while (0)

namespace facet::cuda {
inline cudaStream_t as_stream(void* s) { return static_cast<cudaStream_t>(s); }
inline unsigned grid_for(long long n, int block) {
  long long g = (n + block - 1) / block;
  return static_cast<unsigned>(g < 65535LL * 32 ? (g < 1 ? 1 : g) : 65535LL * 32);
}
}  // namespace facet::cuda
