// Loss and blur primitives (engine/ops/backend.h) over kernels/{cpu,cuda}/losses.h and blur.h.
#include "engine/ops/backend.h"
#include "engine/ops/dispatch.h"
#include "kernels/cpu/blur.h"
#include "kernels/cpu/losses.h"
#include "kernels/cuda/blur.h"
#include "kernels/cuda/losses.h"

namespace facet::backend {

namespace {

struct ImageDims {
  int64_t N, H, W, C;
};
ImageDims dims(const Tensor& x) { return {x.dim(0), x.dim(1), x.dim(2), x.dim(3)}; }

// a, b viewed as [N, M] with C channels on the last axis.
struct LossDims {
  int64_t N, M, C;
};
LossDims loss_dims(const Tensor& a) {
  const int64_t N = a.dim(0);
  return {N, a.numel() / N, a.rank() >= 2 ? a.dim(-1) : 1};
}

}  // namespace

void dssim_forward(Context& ctx, const Tensor& a, const Tensor& b, int64_t fs, double sigma, Tensor& loss) {
  const ImageDims d = dims(a);
  on_device(
      ctx, "dssim", a,
      [&](auto t) {
        using T = decltype(t);
        cpu::dssim_forward<T>(a.data_as<T>(), b.data_as<T>(), d.N, d.H, d.W, d.C, fs, sigma, nullptr,
                              loss.data_as<T>());
      },
      [&](auto stream) {
        Tensor ws = scratch(ctx, cuda::dssim_workspace_bytes(d.N, d.H, d.W, d.C, fs), a.device());
        cuda::dssim_forward(a.dtype(), a.data(), b.data(), d.N, d.H, d.W, d.C, fs, sigma, nullptr, loss.data(),
                            data_or_null(ws), stream);
      });
}

void dssim_backward(Context& ctx, const Tensor& a, const Tensor& b, int64_t fs, double sigma, const Tensor& gy,
                    Tensor& ga, Tensor& gb) {
  const ImageDims d = dims(a);
  on_device(
      ctx, "dssim", a,
      [&](auto t) {
        using T = decltype(t);
        cpu::dssim_backward<T>(a.data_as<T>(), b.data_as<T>(), d.N, d.H, d.W, d.C, fs, sigma, gy.data_as<T>(),
                               data_or_null<T>(ga), data_or_null<T>(gb));
      },
      [&](auto stream) {
        Tensor ws = scratch(ctx, cuda::dssim_workspace_bytes(d.N, d.H, d.W, d.C, fs), a.device());
        cuda::dssim_backward(a.dtype(), a.data(), b.data(), d.N, d.H, d.W, d.C, fs, sigma, gy.data(),
                             data_or_null(ga), data_or_null(gb), data_or_null(ws), stream);
      });
}

void pointwise_loss_forward(Context& ctx, const char* op, PointwiseLoss kind, const Tensor& a, const Tensor& b,
                            const Tensor& mask, int64_t mask_c, Tensor& loss) {
  const LossDims d = loss_dims(a);
  const bool mse = kind == PointwiseLoss::Mse;
  on_device(
      ctx, op, a,
      [&](auto t) {
        using T = decltype(t);
        auto f = mse ? cpu::mse_forward<T> : cpu::l1_forward<T>;
        f(a.data_as<T>(), b.data_as<T>(), data_or_null<T>(mask), d.N, d.M, d.C, mask_c, loss.data_as<T>());
      },
      [&](auto stream) {
        Tensor ws = scratch(ctx, cuda::loss_workspace_bytes(d.N, d.M), a.device());
        auto f = mse ? cuda::mse_forward : cuda::l1_forward;
        f(a.dtype(), a.data(), b.data(), data_or_null(mask), d.N, d.M, d.C, mask_c, loss.data(), data_or_null(ws),
          stream);
      });
}

void pointwise_loss_backward(Context& ctx, const char* op, PointwiseLoss kind, const Tensor& a, const Tensor& b,
                             const Tensor& mask, int64_t mask_c, const Tensor& gy, Tensor& ga, Tensor& gb) {
  const LossDims d = loss_dims(a);
  const bool mse = kind == PointwiseLoss::Mse;
  on_device(
      ctx, op, a,
      [&](auto t) {
        using T = decltype(t);
        auto f = mse ? cpu::mse_backward<T> : cpu::l1_backward<T>;
        f(a.data_as<T>(), b.data_as<T>(), data_or_null<T>(mask), d.N, d.M, d.C, mask_c, gy.data_as<T>(),
          data_or_null<T>(ga), data_or_null<T>(gb));
      },
      [&](auto stream) {
        auto f = mse ? cuda::mse_backward : cuda::l1_backward;
        f(a.dtype(), a.data(), b.data(), data_or_null(mask), d.N, d.M, d.C, mask_c, gy.data(), data_or_null(ga),
          data_or_null(gb), stream);
      });
}

void gaussian_blur(Context& ctx, const Tensor& x, Tensor& y, double sigma, int64_t kernel_size) {
  const ImageDims d = dims(x);
  on_device(
      ctx, "gaussian_blur", x,
      [&](auto t) {
        using T = decltype(t);
        cpu::gaussian_blur<T>(x.data_as<T>(), y.data_as<T>(), d.N, d.H, d.W, d.C, sigma, kernel_size);
      },
      [&](auto stream) {
        Tensor ws = scratch(ctx, cuda::gaussian_blur_workspace_bytes(d.N, d.H, d.W, d.C, kernel_size), x.device());
        cuda::gaussian_blur(x.dtype(), x.data(), y.data(), data_or_null(ws), d.N, d.H, d.W, d.C, sigma, kernel_size,
                            stream);
      });
}

}  // namespace facet::backend
