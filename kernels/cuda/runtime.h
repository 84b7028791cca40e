// Thin, exception-free-at-the-boundary wrappers over the CUDA runtime, cuDNN and cuBLAS handles.
// Types are kept opaque (void*) so engine headers need no CUDA include; only .cu/.cpp files in
// kernels/cuda and engine/cuda see the real types. Built only when FACET_HAS_CUDA.
#pragma once
#include <cstddef>
#include <cstdint>
#include <string>

namespace facet::cuda {

// The per-context handles every CUDA kernel call needs. One stream: ops are stream-ordered.
struct Handles {
  int device = 0;
  void* stream = nullptr;    // cudaStream_t
  void* cudnn = nullptr;     // cudnnHandle_t
  void* cublas = nullptr;    // cublasHandle_t
  void* cublaslt = nullptr;  // cublasLtHandle_t
};

// Number of usable devices; 0 (never an exception) when there is no driver or no GPU.
int device_count();
std::string device_name(int device);
// True in the emulated library (kernels/cuda_emu): the "device" is the CPU running our CUDA code
// for the tests, never a backend for real work.
bool is_emulated();
// Compute capability as major * 10 + minor (e.g. 90 for Hopper, 75 for Turing); 0 if unknown.
int compute_capability(int device);

Handles create_handles(int device);
void destroy_handles(Handles& h);

void* device_malloc(size_t bytes);  // throws facet::Error with the CUDA message on failure
void device_free(void* p);
void* host_malloc_pinned(size_t bytes);
void host_free_pinned(void* p);
// Page-locked host memory mapped into every device's address space (cudaHostAllocMapped |
// Portable): kernels read it over the bus with ordinary loads. With unified addressing (every
// 64-bit platform CUDA 13 supports) the device pointer equals the host pointer; this checks that
// and throws if not, so callers may fill the block with plain host writes. Free with
// host_free_pinned.
void* host_malloc_mapped(size_t bytes);

void memcpy_h2d(void* dst, const void* src, size_t bytes, void* stream);
void memcpy_d2h(void* dst, const void* src, size_t bytes, void* stream);  // synchronous w.r.t. host
void memcpy_d2d(void* dst, const void* src, size_t bytes, void* stream);
void memset_zero(void* dst, size_t bytes, void* stream);
void stream_synchronize(void* stream);
void check_last_error(const char* what);
// cudaDeviceReset: ends the device's state (on the emulated device it also clears a sticky error,
// so a test that provokes one leaves the process usable).
void device_reset();  // throws if a previous launch failed

}  // namespace facet::cuda
