// Max pooling and bilinear resize primitives (engine/ops/backend.h) over
// kernels/{cpu,cuda}/pool_resize.h.
#include "engine/ops/backend.h"
#include "engine/ops/dispatch.h"
#include "kernels/cpu/pool_resize.h"
#include "kernels/cuda/pool_resize.h"

namespace facet::backend {

void max_pool2d_forward(Context& ctx, const PoolGeom& g, const Tensor& x, Tensor& y) {
  on_device(
      ctx, "max_pool2d", x,
      [&](auto t) {
        using T = decltype(t);
        cpu::max_pool2d<T>(x.data_as<T>(), y.data_as<T>(), g.N, g.H, g.W, g.C, g.kh, g.kw, g.sh, g.sw, g.pad_top,
                           g.pad_left, g.OH, g.OW);
      },
      [&](auto stream) {
        cuda::max_pool2d(x.dtype(), x.data(), y.data(), g.N, g.H, g.W, g.C, g.kh, g.kw, g.sh, g.sw, g.pad_top,
                         g.pad_left, g.OH, g.OW, stream);
      });
}

void max_pool2d_backward(Context& ctx, const PoolGeom& g, const Tensor& x, const Tensor& gy, Tensor& gx) {
  on_device(
      ctx, "max_pool2d", x,
      [&](auto t) {
        using T = decltype(t);
        cpu::max_pool2d_backward<T>(x.data_as<T>(), gy.data_as<T>(), gx.data_as<T>(), g.N, g.H, g.W, g.C, g.kh, g.kw,
                                    g.sh, g.sw, g.pad_top, g.pad_left, g.OH, g.OW);
      },
      [&](auto stream) {
        cuda::max_pool2d_backward(x.dtype(), x.data(), gy.data(), gx.data(), g.N, g.H, g.W, g.C, g.kh, g.kw, g.sh,
                                  g.sw, g.pad_top, g.pad_left, g.OH, g.OW, stream);
      });
}

// x [N, H, W, C] -> y [N, OH, OW, C].
void resize_bilinear_forward(Context& ctx, const Tensor& x, Tensor& y) {
  const int64_t N = x.dim(0), H = x.dim(1), W = x.dim(2), C = x.dim(3), OH = y.dim(1), OW = y.dim(2);
  on_device(
      ctx, "resize_bilinear", x,
      [&](auto t) {
        using T = decltype(t);
        cpu::resize_bilinear<T>(x.data_as<T>(), y.data_as<T>(), N, H, W, C, OH, OW);
      },
      [&](auto stream) { cuda::resize_bilinear(x.dtype(), x.data(), y.data(), N, H, W, C, OH, OW, stream); });
}

// gy [N, OH, OW, C] -> gx [N, H, W, C].
void resize_bilinear_backward(Context& ctx, const Tensor& gy, Tensor& gx) {
  const int64_t N = gx.dim(0), H = gx.dim(1), W = gx.dim(2), C = gx.dim(3), OH = gy.dim(1), OW = gy.dim(2);
  on_device(
      ctx, "resize_bilinear", gx,
      [&](auto t) {
        using T = decltype(t);
        cpu::resize_bilinear_backward<T>(gy.data_as<T>(), gx.data_as<T>(), N, H, W, C, OH, OW);
      },
      [&](auto stream) {
        cuda::resize_bilinear_backward(gx.dtype(), gy.data(), gx.data(), N, H, W, C, OH, OW, stream);
      });
}

}  // namespace facet::backend
