// Caching CUDA allocator (the PyTorch design, reduced): sizes are rounded to 512 B below 1 MiB
// and to 2 MiB above; freed blocks go to a size-ordered cache and are reused best-fit (a block
// at most twice the request). All work is on one stream per context, so reuse is stream-ordered
// and needs no event. After the first training step every request is served from the cache:
// stats().system_allocs stops growing, which a GPU test asserts.
#pragma once
#include <map>
#include <mutex>
#include <unordered_map>

#include "engine/memory/allocator.h"

namespace facet {

class CudaCachingAllocator final : public Allocator {
 public:
  explicit CudaCachingAllocator(int device) : device_(device) {}
  ~CudaCachingAllocator() override;
  void* allocate(size_t bytes) override;
  void deallocate(void* p, size_t bytes) override;
  MemoryStats stats() const override;
  void reset_peak() override;
  void release_cached();  // gives cached blocks back to the driver (cudaFree)

 private:
  static size_t round_size(size_t bytes);
  int device_;
  mutable std::mutex mu_;
  std::multimap<size_t, void*> free_blocks_;       // size -> block
  std::unordered_map<void*, size_t> block_sizes_;  // every block we hold, by its rounded size
  MemoryStats st_;
};

}  // namespace facet
