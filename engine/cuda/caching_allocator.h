// The CUDA device allocator: engine/memory/caching_allocator.h over cudaMalloc / cudaFree.
#pragma once
#include <memory>

#include "engine/memory/caching_allocator.h"

namespace facet {

// Blocks come from cudaMalloc on the current device (the context made it current).
std::shared_ptr<CachingAllocator> make_cuda_allocator();

}  // namespace facet
