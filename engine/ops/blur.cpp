// Gaussian blur over its primitive in engine/ops/backend.h: validate -> allocate -> run -> record.
// The blur is linear and self-adjoint (symmetric kernel, zero padding), so its backward is itself.
#include "engine/ops/blur.h"

#include "engine/autograd/tape.h"
#include "engine/core/error.h"
#include "engine/ops/backend.h"
#include "kernels/cpu/blur.h"  // gaussian_blur_kernel_size

namespace facet {

namespace {

Tensor blur_raw(Context& ctx, const Tensor& x, double sigma, int64_t ks) {
  Tensor y = Tensor::empty(ctx, x.shape(), x.dtype(), x.device());
  backend::gaussian_blur(ctx, x, y, sigma, ks);
  return y;
}

}  // namespace

int gaussian_blur_kernel_size(double sigma) {
  FACET_CHECK(sigma > 0.0, "gaussian_blur: sigma must be positive, got ", sigma);
  return static_cast<int>(cpu::gaussian_blur_kernel_size(sigma));
}

Tensor gaussian_blur(Context& ctx, const Tensor& x, double sigma, int kernel_size) {
  FACET_CHECK(x.defined(), "gaussian_blur: undefined input");
  FACET_CHECK(x.rank() == 4, "gaussian_blur: expected an NHWC image [N,H,W,C], got shape ", shape_str(x.shape()));
  FACET_CHECK(sigma > 0.0, "gaussian_blur: sigma must be positive, got ", sigma);
  FACET_CHECK(kernel_size >= 0 && (kernel_size == 0 || kernel_size % 2 == 1),
              "gaussian_blur: kernel_size must be odd (or 0 for DFL's rule), got ", kernel_size);
  const int64_t ks = kernel_size ? kernel_size : cpu::gaussian_blur_kernel_size(sigma);
  Tensor y = blur_raw(ctx, x, sigma, ks);
  if (needs_grad(ctx, {&x})) {
    record(ctx, "gaussian_blur", y, {x}, [&ctx, sigma, ks](const Tensor& gy) -> std::vector<Tensor> {
      return {blur_raw(ctx, gy, sigma, ks)};
    });
  }
  return y;
}

}  // namespace facet
