#include "engine/memory/caching_allocator.h"

#include <cstdlib>

#include "engine/core/error.h"

namespace facet {

size_t CachingAllocator::round_size(size_t bytes) {
  if (bytes == 0) bytes = 1;
  const size_t small = 512, large = 2u << 20;
  if (bytes < (1u << 20)) return (bytes + small - 1) / small * small;
  return (bytes + large - 1) / large * large;
}

CachingAllocator::~CachingAllocator() {
  for (auto& kv : block_sizes_) sys_.free(kv.first);
}

void* CachingAllocator::system_allocate(size_t size) {
  try {
    return sys_.allocate(size);
  } catch (const std::exception&) {
    return nullptr;
  }
}

void* CachingAllocator::allocate(size_t bytes) {
  size_t size = round_size(bytes);
  std::lock_guard<std::mutex> lock(mu_);
  auto it = free_blocks_.lower_bound(size);
  if (it != free_blocks_.end() && it->first <= 2 * size) {
    void* p = it->second;
    size = it->first;
    free_blocks_.erase(it);
    st_.current_bytes += size;
    if (st_.current_bytes > st_.peak_bytes) st_.peak_bytes = st_.current_bytes;
    return p;
  }
  void* p = system_allocate(size);
  if (!p && !free_blocks_.empty()) {  // out of memory: give the cache back and retry once
    release_cached_locked();
    p = system_allocate(size);
  }
  if (!p)
    throw Error(detail::concat("out of ", sys_.what, " allocating ", bytes, " bytes (", st_.current_bytes,
                               " in use)", sys_.hint));
  block_sizes_[p] = size;
  st_.reserved_bytes += size;
  ++st_.system_allocs;
  st_.current_bytes += size;
  if (st_.current_bytes > st_.peak_bytes) st_.peak_bytes = st_.current_bytes;
  return p;
}

void CachingAllocator::deallocate(void* p, size_t) {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = block_sizes_.find(p);
  if (it == block_sizes_.end()) return;
  st_.current_bytes -= it->second;
  free_blocks_.emplace(it->second, p);
}

MemoryStats CachingAllocator::stats() const {
  std::lock_guard<std::mutex> lock(mu_);
  return st_;
}

void CachingAllocator::reset_peak() {
  std::lock_guard<std::mutex> lock(mu_);
  st_.peak_bytes = st_.current_bytes;
}

void CachingAllocator::release_cached() {
  std::lock_guard<std::mutex> lock(mu_);
  release_cached_locked();
}

void CachingAllocator::release_cached_locked() {
  for (auto& kv : free_blocks_) {
    sys_.free(kv.second);
    block_sizes_.erase(kv.second);
    st_.reserved_bytes -= kv.first;
    ++st_.system_frees;
  }
  free_blocks_.clear();
}

std::shared_ptr<Allocator> make_cpu_allocator() {
  SystemMemory m;
  m.allocate = [](size_t bytes) { return std::aligned_alloc(64, bytes); };  // sizes are multiples of 512
  m.free = [](void* p) { std::free(p); };
  m.what = "host memory";
  return std::make_shared<CachingAllocator>(m);
}

}  // namespace facet
