// Allocator interface and usage statistics. Contexts use caching allocators for host and device
// memory (engine/memory/caching_allocator.h), so that a steady-state training step calls neither
// malloc nor cudaMalloc.
#pragma once
#include <cstddef>
#include <cstdint>

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

}  // namespace facet
