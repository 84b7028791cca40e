// The emulated CUDA device's shared state, as the stand-ins for the CUDA runtime, cuBLAS and
// cuDNN see it: which memory the device may touch, which streams are alive, the device's
// properties and the runtime's sticky/last error. One process-wide device; every emulated call
// takes the same lock (device work runs on the calling host thread, one call at a time), so
// kernels and library calls never interleave.
//
// The emulator is a test and debugging backend: the same kernels/cuda sources, compiled as host
// C++ into an emulated libfacet_kernels.so, run on the CPU so that CI executes every CUDA path.
#pragma once
#include <cuda_runtime.h>

#include <cstddef>
#include <mutex>
#include <string>

namespace facet::emu {

// What kind of memory a pointer lies in. Pageable is everything the emulator did not allocate.
enum class MemKind { Pageable, Device, PinnedHost };

struct MemRange {
  MemKind kind = MemKind::Pageable;
  const char* base = nullptr;  // start of the allocation holding the pointer (nullptr if pageable)
  size_t bytes = 0;            // its size
};

// Looks up the allocation holding [p, p + bytes). kind == Pageable when p is in no allocation
// the emulator made; throws std::runtime_error when the range starts inside an allocation but
// runs past its end.
MemRange find_range(const void* p, size_t bytes, const char* what);

// True when device code may read/write [p, p + bytes): device memory or page-locked host memory
// (all of it is mapped, as with unified addressing).
bool device_accessible(const void* p, size_t bytes);

// Streams: the legacy default stream (nullptr) and those made by cudaStreamCreate* are alive
// until destroyed.
bool stream_alive(cudaStream_t s);

// The lock every emulated call holds while it runs device work.
std::recursive_mutex& device_lock();

// Records err as the runtime's last error (read and cleared by cudaGetLastError) and returns it.
cudaError_t set_last_error(cudaError_t err);

// The one emulated device's properties (compute capability from FACET_EMULATED_CC, e.g. "7.5";
// default 9.0).
const cudaDeviceProp& device_properties();

// Raised by the emulator for misuse the hardware or the library would refuse or leave undefined
// (bad descriptors, barrier divergence, out-of-range launch shapes); the stand-ins turn it into
// the documented error status, and the message is kept for cudaGetErrorString-style reporting.
void report_misuse(const std::string& message);
const std::string& last_misuse();

}  // namespace facet::emu
