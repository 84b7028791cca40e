// cast_to / autocast (see cast.h). Tensor::cast dispatches to kernels/{cpu,cuda}/fill.h's cast,
// which converts between every pair of f32, f64, f16 and bf16 on either device.
#include "engine/ops/cast.h"

#include "engine/autograd/tape.h"
#include "engine/ops/dispatch.h"

namespace facet {

namespace {

// y is x cast; its gradient goes back in x's dtype.
void record_cast(Context& ctx, const Tensor& x, const Tensor& y) {
  if (!needs_grad(ctx, {&x})) return;
  const DType back = x.dtype();
  record(ctx, "cast", y, {x}, [&ctx, back](const Tensor& gy) -> std::vector<Tensor> { return {gy.cast(ctx, back)}; });
}

}  // namespace

Tensor cast_to(Context& ctx, const Tensor& x, DType dt) {
  FACET_CHECK(x.defined(), "cast_to: undefined tensor");
  if (x.dtype() == dt) return x;
  if (x.device().is_cuda()) require_cuda_build("cast_to");
  Tensor y = x.cast(ctx, dt);
  record_cast(ctx, x, y);
  return y;
}

Tensor autocast(Context& ctx, const Tensor& x) {
  if (!ctx.compute_dtype || !x.defined()) return x;
  if (x.is_param() && !ctx.master_casts.empty()) {
    const auto it = ctx.master_casts.find(x.impl().get());
    if (it != ctx.master_casts.end() && it->second.dtype() == *ctx.compute_dtype) {
      // A fresh handle per use: each use is its own tape node, so gradients are not shared.
      Tensor y = it->second.view(it->second.shape());
      record_cast(ctx, x, y);
      return y;
    }
  }
  return cast_to(ctx, x, *ctx.compute_dtype);
}

}  // namespace facet
