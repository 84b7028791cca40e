#include "engine/cuda/mapped_host_allocator.h"

#include <algorithm>

#include "engine/core/error.h"
#include "kernels/cuda/runtime.h"

namespace facet {

void* MappedHostAllocator::allocate(size_t bytes) {
  void* p = nullptr;
  try {
    p = cuda::host_malloc_mapped(std::max<size_t>(bytes, 1));
  } catch (const std::exception& e) {
    throw Error("cannot pin " + std::to_string(bytes >> 20) + " MiB of host memory for the GPU: " + e.what());
  }
  std::lock_guard<std::mutex> lock(mu_);
  st_.current_bytes += bytes;
  st_.reserved_bytes += bytes;
  st_.peak_bytes = std::max(st_.peak_bytes, st_.current_bytes);
  ++st_.system_allocs;
  return p;
}

void MappedHostAllocator::deallocate(void* p, size_t bytes) {
  if (!p) return;
  cuda::host_free_pinned(p);
  std::lock_guard<std::mutex> lock(mu_);
  st_.current_bytes -= bytes;
  st_.reserved_bytes -= bytes;
  ++st_.system_frees;
}

MemoryStats MappedHostAllocator::stats() const {
  std::lock_guard<std::mutex> lock(mu_);
  return st_;
}

void MappedHostAllocator::reset_peak() {
  std::lock_guard<std::mutex> lock(mu_);
  st_.peak_bytes = st_.current_bytes;
}

}  // namespace facet
