// Max pooling and bilinear resize over the primitives of engine/ops/backend.h. Max pooling saves
// only its input: the backward recomputes each window's argmax (cheap for the small windows nets
// use) rather than storing an index tensor, so the tape holds no integer buffers.
#include "engine/ops/pool_resize.h"

#include "engine/autograd/tape.h"
#include "engine/core/error.h"
#include "engine/ops/backend.h"
#include "kernels/cpu/pool_resize.h"  // tf_window_geometry

namespace facet {

Tensor max_pool2d(Context& ctx, const Tensor& x, int kernel_h, int kernel_w, int stride_h, int stride_w,
                  PoolPadding padding) {
  FACET_CHECK(x.rank() == 4, "max_pool2d: expected NHWC [N,H,W,C], got ", shape_str(x.shape()));
  FACET_CHECK(kernel_h >= 1 && kernel_w >= 1 && stride_h >= 1 && stride_w >= 1, "max_pool2d: kernel ", kernel_h,
              "x", kernel_w, " and stride ", stride_h, "x", stride_w, " must be positive");
  const bool same = padding == PoolPadding::Same;
  backend::PoolGeom g{x.dim(0), x.dim(1), x.dim(2), x.dim(3), kernel_h, kernel_w, stride_h, stride_w, 0, 0, 0, 0};
  cpu::tf_window_geometry(g.H, g.kh, g.sh, same, &g.OH, &g.pad_top);
  cpu::tf_window_geometry(g.W, g.kw, g.sw, same, &g.OW, &g.pad_left);
  FACET_CHECK(g.OH > 0 && g.OW > 0, "max_pool2d: VALID window ", kernel_h, "x", kernel_w, " is larger than the image ",
              shape_str(x.shape()));
  Tensor y = Tensor::empty(ctx, {g.N, g.OH, g.OW, g.C}, x.dtype(), x.device());
  backend::max_pool2d_forward(ctx, g, x, y);
  if (needs_grad(ctx, {&x})) {
    record(ctx, "max_pool2d", y, {x}, [&ctx, x, g](const Tensor& gy) -> std::vector<Tensor> {
      Tensor gx = Tensor::empty(ctx, x.shape(), x.dtype(), x.device());
      backend::max_pool2d_backward(ctx, g, x, gy, gx);
      return {gx};
    });
  }
  return y;
}

Tensor resize_bilinear(Context& ctx, const Tensor& x, int64_t out_h, int64_t out_w) {
  FACET_CHECK(x.rank() == 4, "resize_bilinear: expected NHWC [N,H,W,C], got ", shape_str(x.shape()));
  FACET_CHECK(out_h >= 1 && out_w >= 1, "resize_bilinear: output size ", out_h, "x", out_w, " must be positive");
  FACET_CHECK(x.dim(1) >= 1 && x.dim(2) >= 1, "resize_bilinear: empty input image ", shape_str(x.shape()));
  Tensor y = Tensor::empty(ctx, {x.dim(0), out_h, out_w, x.dim(3)}, x.dtype(), x.device());
  backend::resize_bilinear_forward(ctx, x, y);
  if (needs_grad(ctx, {&x})) {
    const Shape xs = x.shape();
    const DType dt = x.dtype();
    record(ctx, "resize_bilinear", y, {x},
           [&ctx, xs, dt](const Tensor& gy) -> std::vector<Tensor> {
             Tensor gx = Tensor::empty(ctx, xs, dt, gy.device());
             backend::resize_bilinear_backward(ctx, gy, gx);
             return {gx};
           });
  }
  return y;
}

}  // namespace facet
