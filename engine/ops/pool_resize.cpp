// Max pooling and bilinear resize over kernels/{cpu,cuda}/pool_resize.h. Max pooling saves only
// its input: the backward recomputes each window's argmax (cheap for the small windows nets use)
// rather than storing an index tensor, so the tape holds no integer buffers.
#include "engine/ops/pool_resize.h"

#include "engine/autograd/tape.h"
#include "engine/ops/dispatch.h"
#include "kernels/cpu/pool_resize.h"
#if FACET_HAS_CUDA
#include "kernels/cuda/pool_resize.h"
#endif

namespace facet {

namespace {

struct PoolArgs {
  int64_t N, H, W, C, kh, kw, sh, sw, pt, pl, OH, OW;
};

}  // namespace

Tensor max_pool2d(Context& ctx, const Tensor& x, int kernel_h, int kernel_w, int stride_h, int stride_w,
                  PoolPadding padding) {
  FACET_CHECK(x.rank() == 4, "max_pool2d: expected NHWC [N,H,W,C], got ", shape_str(x.shape()));
  FACET_CHECK(kernel_h >= 1 && kernel_w >= 1 && stride_h >= 1 && stride_w >= 1, "max_pool2d: kernel ", kernel_h,
              "x", kernel_w, " and stride ", stride_h, "x", stride_w, " must be positive");
  const bool same = padding == PoolPadding::Same;
  PoolArgs g{x.dim(0), x.dim(1), x.dim(2), x.dim(3), kernel_h, kernel_w, stride_h, stride_w, 0, 0, 0, 0};
  cpu::tf_window_geometry(g.H, g.kh, g.sh, same, &g.OH, &g.pt);
  cpu::tf_window_geometry(g.W, g.kw, g.sw, same, &g.OW, &g.pl);
  FACET_CHECK(g.OH > 0 && g.OW > 0, "max_pool2d: VALID window ", kernel_h, "x", kernel_w, " is larger than the image ",
              shape_str(x.shape()));
  Tensor y = Tensor::empty(ctx, {g.N, g.OH, g.OW, g.C}, x.dtype(), x.device());
  if (x.device().is_cpu()) {
    cpu_dispatch("max_pool2d", x.dtype(), [&](auto t) {
      using T = decltype(t);
      cpu::max_pool2d<T>(x.data_as<T>(), y.data_as<T>(), g.N, g.H, g.W, g.C, g.kh, g.kw, g.sh, g.sw, g.pt, g.pl,
                         g.OH, g.OW);
    });
  } else {
    require_cuda_build("max_pool2d");
#if FACET_HAS_CUDA
    cuda::max_pool2d(x.dtype(), x.data(), y.data(), g.N, g.H, g.W, g.C, g.kh, g.kw, g.sh, g.sw, g.pt, g.pl, g.OH,
                     g.OW, cuda_stream(ctx));
#endif
  }
  if (needs_grad(ctx, {&x})) {
    record(ctx, "max_pool2d", y, {x}, [&ctx, x, g](const Tensor& gy) -> std::vector<Tensor> {
      Tensor gx = Tensor::empty(ctx, x.shape(), x.dtype(), x.device());
      if (x.device().is_cpu()) {
        cpu_dispatch("max_pool2d", x.dtype(), [&](auto t) {
          using T = decltype(t);
          cpu::max_pool2d_backward<T>(x.data_as<T>(), gy.data_as<T>(), gx.data_as<T>(), g.N, g.H, g.W, g.C, g.kh,
                                      g.kw, g.sh, g.sw, g.pt, g.pl, g.OH, g.OW);
        });
      } else {
#if FACET_HAS_CUDA
        cuda::max_pool2d_backward(x.dtype(), x.data(), gy.data(), gx.data(), g.N, g.H, g.W, g.C, g.kh, g.kw, g.sh,
                                  g.sw, g.pt, g.pl, g.OH, g.OW, cuda_stream(ctx));
#endif
      }
      return {gx};
    });
  }
  return y;
}

Tensor resize_bilinear(Context& ctx, const Tensor& x, int64_t out_h, int64_t out_w) {
  FACET_CHECK(x.rank() == 4, "resize_bilinear: expected NHWC [N,H,W,C], got ", shape_str(x.shape()));
  FACET_CHECK(out_h >= 1 && out_w >= 1, "resize_bilinear: output size ", out_h, "x", out_w, " must be positive");
  FACET_CHECK(x.dim(1) >= 1 && x.dim(2) >= 1, "resize_bilinear: empty input image ", shape_str(x.shape()));
  const int64_t N = x.dim(0), H = x.dim(1), W = x.dim(2), C = x.dim(3);
  Tensor y = Tensor::empty(ctx, {N, out_h, out_w, C}, x.dtype(), x.device());
  if (x.device().is_cpu()) {
    cpu_dispatch("resize_bilinear", x.dtype(), [&](auto t) {
      using T = decltype(t);
      cpu::resize_bilinear<T>(x.data_as<T>(), y.data_as<T>(), N, H, W, C, out_h, out_w);
    });
  } else {
    require_cuda_build("resize_bilinear");
#if FACET_HAS_CUDA
    cuda::resize_bilinear(x.dtype(), x.data(), y.data(), N, H, W, C, out_h, out_w, cuda_stream(ctx));
#endif
  }
  if (needs_grad(ctx, {&x})) {
    const Shape xs = x.shape();
    const DType dt = x.dtype();
    record(ctx, "resize_bilinear", y, {x},
           [&ctx, xs, dt, N, H, W, C, out_h, out_w](const Tensor& gy) -> std::vector<Tensor> {
             Tensor gx = Tensor::empty(ctx, xs, dt, gy.device());
             if (gy.device().is_cpu()) {
               cpu_dispatch("resize_bilinear", dt, [&](auto t) {
                 using T = decltype(t);
                 cpu::resize_bilinear_backward<T>(gy.data_as<T>(), gx.data_as<T>(), N, H, W, C, out_h, out_w);
               });
             } else {
#if FACET_HAS_CUDA
               cuda::resize_bilinear_backward(dt, gy.data(), gx.data(), N, H, W, C, out_h, out_w, cuda_stream(ctx));
#endif
             }
             return {gx};
           });
  }
  return y;
}

}  // namespace facet
