// Allocator interface and usage statistics. The CPU allocator hands out 64-byte aligned
// blocks; the CUDA one (engine/cuda/caching_allocator.h) caches blocks so that a steady-state
// training step calls neither cudaMalloc nor cudaFree.
#pragma once
#include <cstddef>
#include <cstdint>
#include <mutex>

namespace facet {

struct MemoryStats {
  size_t current_bytes = 0;   // handed out to tensors now
  size_t peak_bytes = 0;      // high-water mark of current_bytes
  size_t reserved_bytes = 0;  // held from the system (cached + in use)
  uint64_t system_allocs = 0; // calls to malloc / cudaMalloc
  uint64_t system_frees = 0;  // calls to free / cudaFree
};

class Allocator {
 public:
  virtual ~Allocator() = default;
  virtual void* allocate(size_t bytes) = 0;
  virtual void deallocate(void* p, size_t bytes) = 0;
  virtual MemoryStats stats() const = 0;
  virtual void reset_peak() = 0;
};

// 64-byte aligned host memory (cache lines, AVX-512 loads). Not cached: the OS allocator is fast
// enough for the CPU backend, and a plain free keeps leaks visible to sanitizers.
class CpuAllocator final : public Allocator {
 public:
  void* allocate(size_t bytes) override;
  void deallocate(void* p, size_t bytes) override;
  MemoryStats stats() const override;
  void reset_peak() override;

 private:
  mutable std::mutex mu_;
  MemoryStats st_;
};

}  // namespace facet
