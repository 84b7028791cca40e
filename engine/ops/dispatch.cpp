#include "engine/ops/dispatch.h"

#if FACET_HAS_CUDA
#include "kernels/cuda/runtime.h"
#endif

namespace facet {

void* cuda_stream(Context& ctx) {
#if FACET_HAS_CUDA
  if (ctx.device().is_cuda()) return ctx.cuda_handles().stream;
#else
  (void)ctx;
#endif
  return nullptr;
}

}  // namespace facet
