#include <cstdlib>
#include <new>

#include "engine/core/error.h"
#include "engine/memory/allocator.h"

namespace facet {

void* CpuAllocator::allocate(size_t bytes) {
  size_t rounded = (bytes + 63) / 64 * 64;
  if (rounded == 0) rounded = 64;
  void* p = std::aligned_alloc(64, rounded);
  FACET_CHECK(p != nullptr, "out of host memory allocating ", bytes, " bytes");
  std::lock_guard<std::mutex> lock(mu_);
  st_.current_bytes += bytes;
  st_.reserved_bytes += bytes;
  if (st_.current_bytes > st_.peak_bytes) st_.peak_bytes = st_.current_bytes;
  ++st_.system_allocs;
  return p;
}

void CpuAllocator::deallocate(void* p, size_t bytes) {
  std::free(p);
  std::lock_guard<std::mutex> lock(mu_);
  st_.current_bytes -= bytes;
  st_.reserved_bytes -= bytes;
  ++st_.system_frees;
}

MemoryStats CpuAllocator::stats() const {
  std::lock_guard<std::mutex> lock(mu_);
  return st_;
}

void CpuAllocator::reset_peak() {
  std::lock_guard<std::mutex> lock(mu_);
  st_.peak_bytes = st_.current_bytes;
}

}  // namespace facet
