#include "engine/cuda/caching_allocator.h"

#include "engine/core/error.h"
#include "kernels/cuda/runtime.h"

namespace facet {

size_t CudaCachingAllocator::round_size(size_t bytes) {
  if (bytes == 0) bytes = 1;
  const size_t small = 512, large = 2u << 20;
  if (bytes < (1u << 20)) return (bytes + small - 1) / small * small;
  return (bytes + large - 1) / large * large;
}

CudaCachingAllocator::~CudaCachingAllocator() {
  for (auto& kv : block_sizes_) cuda::device_free(kv.first);
}

void* CudaCachingAllocator::allocate(size_t bytes) {
  size_t size = round_size(bytes);
  std::lock_guard<std::mutex> lock(mu_);
  auto it = free_blocks_.lower_bound(size);
  void* p = nullptr;
  if (it != free_blocks_.end() && it->first <= 2 * size) {
    p = it->second;
    size = it->first;
    free_blocks_.erase(it);
  } else {
    try {
      p = cuda::device_malloc(size);
    } catch (const std::exception&) {

      for (auto& kv : free_blocks_) {  // out of memory: give the cache back and retry once
        cuda::device_free(kv.second);
        block_sizes_.erase(kv.second);
        st_.reserved_bytes -= kv.first;
        ++st_.system_frees;
      }
      free_blocks_.clear();
      try {
        p = cuda::device_malloc(size);
      } catch (const std::exception& e) {
        throw Error(detail::concat("out of GPU memory allocating ", bytes, " bytes (", st_.current_bytes,
                                   " in use): ", e.what(), ". Try a smaller batch size or resolution."));
      }
    }
    block_sizes_[p] = size;
    st_.reserved_bytes += size;
    ++st_.system_allocs;
  }
  st_.current_bytes += size;
  if (st_.current_bytes > st_.peak_bytes) st_.peak_bytes = st_.current_bytes;
  return p;
}

void CudaCachingAllocator::deallocate(void* p, size_t) {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = block_sizes_.find(p);
  if (it == block_sizes_.end()) return;
  st_.current_bytes -= it->second;
  free_blocks_.emplace(it->second, p);
}

MemoryStats CudaCachingAllocator::stats() const {
  std::lock_guard<std::mutex> lock(mu_);
  return st_;
}

void CudaCachingAllocator::reset_peak() {
  std::lock_guard<std::mutex> lock(mu_);
  st_.peak_bytes = st_.current_bytes;
}

void CudaCachingAllocator::release_cached() {
  std::lock_guard<std::mutex> lock(mu_);
  for (auto& kv : free_blocks_) {
    cuda::device_free(kv.second);
    block_sizes_.erase(kv.second);
    st_.reserved_bytes -= kv.first;
    ++st_.system_frees;
  }
  free_blocks_.clear();
}

}  // namespace facet
