// Max pooling and bilinear resize over the primitives of engine/ops/backend.h. Max pooling saves
// only its input: the backward recomputes each window's argmax (cheap for the small windows nets
// use) rather than storing an index tensor, so the tape holds no integer buffers.
#include "engine/ops/pool_resize.h"

#include "engine/autograd/tape.h"
#include "engine/core/error.h"
#include "engine/ops/backend.h"
#include "engine/ops/conv.h"
#include "engine/ops/elementwise.h"
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

Tensor blur_pool_filter(Context& ctx, int size, int64_t channels, DType dtype, Device device) {
  FACET_CHECK(size >= 1 && size <= 7, "blur_pool: filter size ", size, " is outside 1..7");
  FACET_CHECK(channels >= 1, "blur_pool: ", channels, " channels");
  std::vector<double> row(1, 1.0);  // binomial coefficients of size - 1
  for (int k = 1; k < size; ++k) {
    std::vector<double> next(row.size() + 1, 0.0);
    for (size_t i = 0; i < row.size(); ++i) next[i] += row[i], next[i + 1] += row[i];
    row = next;
  }
  double total = 0;
  for (double a : row) total += a;
  std::vector<double> w;
  w.reserve(static_cast<size_t>(size * size * channels));
  for (int i = 0; i < size; ++i)
    for (int j = 0; j < size; ++j)
      for (int64_t c = 0; c < channels; ++c) w.push_back(row[i] * row[j] / (total * total));
  return Tensor::from_vector(ctx, {size, size, channels}, w, dtype, device);
}

Tensor blur_pool2d(Context& ctx, const Tensor& x, const Tensor& filter) {
  FACET_CHECK(x.defined() && x.rank() == 4, "blur_pool2d: expected NHWC [N,H,W,C], got ",
              x.defined() ? shape_str(x.shape()) : std::string("undefined"));
  FACET_CHECK(filter.defined() && filter.rank() == 3 && filter.dim(0) == filter.dim(1) && filter.dim(2) == x.dim(3),
              "blur_pool2d: filter must be [k, k, ", x.dim(3), "], got ",
              filter.defined() ? shape_str(filter.shape()) : std::string("undefined"));
  const int64_t k = filter.dim(0), before = (k - 1) / 2, after = k / 2;
  return depthwise_conv2d(ctx, x, stop_gradient(filter), Tensor(), Conv2dOptions::pads(before, after, before, after, 2));
}

}  // namespace facet
