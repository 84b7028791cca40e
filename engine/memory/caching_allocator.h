// Caching allocator (the PyTorch design, reduced), for host and device memory alike: sizes are
// rounded to 512 B below 1 MiB and to 2 MiB above; freed blocks go to a size-ordered cache and
// are reused best-fit (a block at most twice the request). After the first training step every
// request is served from the cache, so a steady-state step calls neither the system allocator
// nor its free (tests assert stats().system_allocs stops growing).
//   - CUDA (engine/cuda/caching_allocator.h): cudaMalloc is slow and synchronising. All work
//     is on one stream per context, so reuse is stream-ordered and needs no event.
//   - CPU: glibc serves blocks above its mmap threshold with fresh mappings, and the first touch
//     of every page of a fresh mapping is a page fault: a tiny-preset CPU training step spent
//     half its time there (283 ms vs 147 ms per iteration, docs/perf.md).
// Blocks are never split or merged; an allocation that fails gives the whole cache back and
// retries once before it reports the problem.
#pragma once
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <unordered_map>

#include "engine/memory/allocator.h"

namespace facet {

// Where the blocks come from: a system allocator, its free, and words for error messages.
struct SystemMemory {
  std::function<void*(size_t bytes)> allocate;  // throws (any std::exception) or returns null on failure
  std::function<void(void* p)> free;
  const char* what = "memory";  // "out of <what> allocating N bytes ..."
  const char* hint = "";        // appended to that message
};

class CachingAllocator final : public Allocator {
 public:
  explicit CachingAllocator(SystemMemory system) : sys_(system) {}
  ~CachingAllocator() override;  // returns every block (storages hold the allocator alive)
  void* allocate(size_t bytes) override;
  void deallocate(void* p, size_t bytes) override;
  MemoryStats stats() const override;
  void reset_peak() override;
  void release_cached();  // gives the cached blocks back to the system

  static size_t round_size(size_t bytes);

 private:
  void* system_allocate(size_t size);  // null on failure
  void release_cached_locked();

  SystemMemory sys_;
  mutable std::mutex mu_;
  std::multimap<size_t, void*> free_blocks_;       // size -> block
  std::unordered_map<void*, size_t> block_sizes_;  // every block we hold, by its rounded size
  MemoryStats st_;
};

// 64-byte aligned host memory (cache lines, AVX-512 loads), cached as above.
std::shared_ptr<Allocator> make_cpu_allocator();

}  // namespace facet
