// Allocator of mapped, page-locked host memory (kernels/cuda/runtime.h: host_malloc_mapped) for
// data a kernel reads in place over the bus: the training face banks that do not fit in device
// memory. A block is addressable by host code and by kernels at the same pointer, so the Storage
// it backs is tagged with the CUDA device that reads it. Not cached: banks are allocated once
// per run, and pinning is slow enough that nobody should do it per step.
#pragma once
#include <mutex>

#include "engine/memory/allocator.h"

namespace facet {

class MappedHostAllocator final : public Allocator {
 public:
  void* allocate(size_t bytes) override;  // throws facet::Error naming the size on failure
  void deallocate(void* p, size_t bytes) override;
  MemoryStats stats() const override;
  void reset_peak() override;

 private:
  mutable std::mutex mu_;
  MemoryStats st_;
};

}  // namespace facet
