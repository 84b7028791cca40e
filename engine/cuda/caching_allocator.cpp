#include "engine/cuda/caching_allocator.h"

#include "kernels/cuda/runtime.h"

namespace facet {

std::shared_ptr<CachingAllocator> make_cuda_allocator() {
  SystemMemory m;
  m.allocate = [](size_t bytes) { return cuda::device_malloc(bytes); };
  m.free = [](void* p) { cuda::device_free(p); };
  m.what = "GPU memory";
  m.hint = ". Try a smaller batch size or resolution.";
  return std::make_shared<CachingAllocator>(m);
}

}  // namespace facet
