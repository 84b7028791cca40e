#include "engine/ops/dispatch.h"

#include "kernels/cuda/runtime.h"  // cuda::Handles (declarations only: every build includes it)

namespace facet {

void* cuda_stream(Context& ctx) { return ctx.device().is_cuda() ? ctx.cuda_handles().stream : nullptr; }

Tensor scratch(Context& ctx, size_t bytes, Device device) {
  if (bytes == 0) return Tensor();
  return Tensor::empty(ctx, {static_cast<int64_t>((bytes + 3) / 4)}, DType::F32, device);
}

}  // namespace facet
