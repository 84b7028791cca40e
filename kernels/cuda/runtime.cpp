#include "kernels/cuda/runtime.h"

#include <cublasLt.h>
#include <cublas_v2.h>
#include <cudnn.h>

#include <stdexcept>
#include <string>

#include "kernels/cuda/check.h"
#include "kernels/cuda/launch_count.h"

namespace facet::cuda {

int device_count() {
  int n = 0;
  if (cudaGetDeviceCount(&n) != cudaSuccess) {
    cudaGetLastError();  // clear the sticky "no driver" error
    return 0;
  }
  return n;
}

bool is_emulated() {
#if defined(FACET_CUDA_EMULATED)
  return true;
#else
  return false;
#endif
}

int compute_capability(int device) {
  cudaDeviceProp p{};
  if (cudaGetDeviceProperties(&p, device) != cudaSuccess) {
    (void)cudaGetLastError();
    return 0;
  }
  return p.major * 10 + p.minor;
}

std::string device_name(int device) {
  cudaDeviceProp p{};
  if (cudaGetDeviceProperties(&p, device) != cudaSuccess) return "unknown";
  return p.name;
}

Handles create_handles(int device) {
  Handles h;
  h.device = device;
  FACET_CUDA_CHECK(cudaSetDevice(device));
  cudaStream_t s;
  FACET_CUDA_CHECK(cudaStreamCreateWithFlags(&s, cudaStreamNonBlocking));
  h.stream = s;
  cudnnHandle_t dn;
  FACET_CUDNN_CHECK(cudnnCreate(&dn));
  FACET_CUDNN_CHECK(cudnnSetStream(dn, s));
  h.cudnn = dn;
  cublasHandle_t bl;
  FACET_CUBLAS_CHECK(cublasCreate(&bl));
  FACET_CUBLAS_CHECK(cublasSetStream(bl, s));
  h.cublas = bl;
  cublasLtHandle_t lt;
  FACET_CUBLAS_CHECK(cublasLtCreate(&lt));
  h.cublaslt = lt;
  return h;
}

void destroy_handles(Handles& h) {
  if (h.cublaslt) cublasLtDestroy(static_cast<cublasLtHandle_t>(h.cublaslt));
  if (h.cublas) cublasDestroy(static_cast<cublasHandle_t>(h.cublas));
  if (h.cudnn) cudnnDestroy(static_cast<cudnnHandle_t>(h.cudnn));
  if (h.stream) cudaStreamDestroy(as_stream(h.stream));
  h = Handles{};
}

void* device_malloc(size_t bytes) {
  void* p = nullptr;
  FACET_CUDA_CHECK(cudaMalloc(&p, bytes));
  return p;
}
void device_free(void* p) { cudaFree(p); }
void* host_malloc_pinned(size_t bytes) {
  void* p = nullptr;
  FACET_CUDA_CHECK(cudaMallocHost(&p, bytes));
  return p;
}
void host_free_pinned(void* p) { cudaFreeHost(p); }
void* host_malloc_mapped(size_t bytes) {
  void* p = nullptr;
  FACET_CUDA_CHECK(cudaHostAlloc(&p, bytes, cudaHostAllocMapped | cudaHostAllocPortable));
  void* d = nullptr;
  const cudaError_t e = cudaHostGetDevicePointer(&d, p, 0);
  if (e != cudaSuccess || d != p) {
    (void)cudaGetLastError();  // callers catch this and fall back; leave no stale error behind
    cudaFreeHost(p);
    throw Error(std::string("mapped host memory: the device cannot address it at its host address (") +
                             (e != cudaSuccess ? cudaGetErrorString(e) : "no unified addressing") + ")");
  }
  return p;
}

void memcpy_h2d(void* dst, const void* src, size_t bytes, void* stream) {
  count_copy();
  FACET_CUDA_CHECK(cudaMemcpyAsync(dst, src, bytes, cudaMemcpyHostToDevice, as_stream(stream)));
  FACET_CUDA_CHECK(cudaStreamSynchronize(as_stream(stream)));  // src may be pageable and short-lived
}
void memcpy_d2h(void* dst, const void* src, size_t bytes, void* stream) {
  count_copy();
  FACET_CUDA_CHECK(cudaMemcpyAsync(dst, src, bytes, cudaMemcpyDeviceToHost, as_stream(stream)));
  FACET_CUDA_CHECK(cudaStreamSynchronize(as_stream(stream)));
}
void memcpy_d2d(void* dst, const void* src, size_t bytes, void* stream) {
  count_copy();
  FACET_CUDA_CHECK(cudaMemcpyAsync(dst, src, bytes, cudaMemcpyDeviceToDevice, as_stream(stream)));
}
void memset_zero(void* dst, size_t bytes, void* stream) {
  count_copy();
  FACET_CUDA_CHECK(cudaMemsetAsync(dst, 0, bytes, as_stream(stream)));
}
void stream_synchronize(void* stream) { FACET_CUDA_CHECK(cudaStreamSynchronize(as_stream(stream))); }
void device_reset() { (void)cudaDeviceReset(); }

void check_last_error(const char* what) {
  cudaError_t e = cudaGetLastError();
  if (e != cudaSuccess) throw Error(std::string(what) + ": " + cudaGetErrorString(e));
}

}  // namespace facet::cuda
