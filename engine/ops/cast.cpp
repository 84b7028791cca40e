// cast_to / autocast (see cast.h). Tensor::cast dispatches to kernels/{cpu,cuda}/fill.h's cast,
// which converts between every pair of f32, f64, f16 and bf16 on either device.
#include "engine/ops/cast.h"

#include "engine/autograd/tape.h"
#include "engine/ops/dispatch.h"

namespace facet {

Tensor cast_to(Context& ctx, const Tensor& x, DType dt) {
  FACET_CHECK(x.defined(), "cast_to: undefined tensor");
  if (x.dtype() == dt) return x;
  if (x.device().is_cuda()) require_cuda_build("cast_to");
  Tensor y = x.cast(ctx, dt);
  if (needs_grad(ctx, {&x})) {
    const DType back = x.dtype();
    record(ctx, "cast", y, {x}, [&ctx, back](const Tensor& gy) -> std::vector<Tensor> { return {gy.cast(ctx, back)}; });
  }
  return y;
}

Tensor autocast(Context& ctx, const Tensor& x) {
  if (!ctx.compute_dtype || !x.defined()) return x;
  return cast_to(ctx, x, *ctx.compute_dtype);
}

}  // namespace facet
