// Loss ops over the loss primitives of engine/ops/backend.h: validate -> allocate -> run -> record.
// The backward recomputes what it needs from the saved inputs (DSSIM's window statistics are cheap
// to redo and expensive to keep) and skips the gradient of an input that needs none.
#include "engine/ops/losses.h"

#include "engine/autograd/tape.h"
#include "engine/ops/blur.h"
#include "engine/ops/elementwise.h"
#include "engine/core/error.h"
#include "engine/ops/backend.h"

namespace facet {

namespace {

// ---- MSE / L1 ----

using Kind = backend::PointwiseLoss;

// The mask's channel count for the kernels: 0 (none), 1 (broadcast over the last axis) or C.
int64_t mask_channels(const char* op, const Tensor& a, const Tensor& mask) {
  if (!mask.defined()) return 0;
  check_same_device_dtype(op, a, mask);
  const int64_t C = a.rank() >= 2 ? a.dim(-1) : 1;
  if (mask.shape() == a.shape()) return C;
  Shape bcast = a.shape();
  if (a.rank() >= 2) bcast.back() = 1;
  FACET_CHECK(a.rank() >= 2 && mask.shape() == bcast, op, ": mask of shape ", shape_str(mask.shape()),
              " must be ", shape_str(a.shape()), " or ", shape_str(bcast), " (one weight per pixel)");
  return 1;
}

Tensor pointwise_loss(Context& ctx, Kind kind, const Tensor& a, const Tensor& b, const Tensor& mask) {
  const char* name = kind == Kind::Mse ? "mse_loss" : "l1_loss";
  FACET_CHECK(a.defined() && b.defined(), name, ": undefined input");
  check_same_device_dtype(name, a, b);
  FACET_CHECK(a.shape() == b.shape(), name, ": shapes ", shape_str(a.shape()), " and ", shape_str(b.shape()),
              " differ");
  FACET_CHECK(a.rank() >= 1 && a.dim(0) > 0, name, ": expected a batch [N, ...], got ", shape_str(a.shape()));
  const int64_t mask_c = mask_channels(name, a, mask);
  Tensor y = Tensor::empty(ctx, {a.dim(0)}, a.dtype(), a.device());
  backend::pointwise_loss_forward(ctx, name, kind, a, b, mask, mask_c, y);
  if (needs_grad(ctx, {&a, &b})) {
    record(ctx, name, y, {a, b}, [&ctx, kind, name, a, b, mask, mask_c](const Tensor& gy) -> std::vector<Tensor> {
      Tensor ga, gb;
      if (a.requires_grad()) ga = Tensor::empty(ctx, a.shape(), a.dtype(), a.device());
      if (b.requires_grad()) gb = Tensor::empty(ctx, b.shape(), b.dtype(), b.device());
      backend::pointwise_loss_backward(ctx, name, kind, a, b, mask, mask_c, gy, ga, gb);
      return {ga, gb};
    });
  }
  return y;
}

}  // namespace

Tensor dssim(Context& ctx, const Tensor& a, const Tensor& b, int filter_size, double sigma) {
  FACET_CHECK(a.defined() && b.defined(), "dssim: undefined input");
  check_same_device_dtype("dssim", a, b);
  FACET_CHECK(a.rank() == 4, "dssim: expected NHWC images [N,H,W,C], got shape ", shape_str(a.shape()));
  FACET_CHECK(a.shape() == b.shape(), "dssim: image shapes ", shape_str(a.shape()), " and ", shape_str(b.shape()),
              " differ");
  FACET_CHECK(a.dim(0) > 0 && a.dim(3) > 0, "dssim: empty batch or channel axis in ", shape_str(a.shape()));
  FACET_CHECK(filter_size >= 1, "dssim: filter_size must be at least 1, got ", filter_size);
  FACET_CHECK(filter_size <= a.dim(1) && filter_size <= a.dim(2), "dssim: filter_size ", filter_size,
              " is larger than the ", a.dim(1), "x", a.dim(2), " image (VALID filtering needs fs <= H and fs <= W)");
  FACET_CHECK(sigma > 0.0, "dssim: sigma must be positive, got ", sigma);
  const int64_t fs = filter_size;
  Tensor y = Tensor::empty(ctx, {a.dim(0)}, a.dtype(), a.device());
  backend::dssim_forward(ctx, a, b, fs, sigma, y);
  if (needs_grad(ctx, {&a, &b})) {
    record(ctx, "dssim", y, {a, b}, [&ctx, a, b, fs, sigma](const Tensor& gy) -> std::vector<Tensor> {
      Tensor ga, gb;
      if (a.requires_grad()) ga = Tensor::empty(ctx, a.shape(), a.dtype(), a.device());
      if (b.requires_grad()) gb = Tensor::empty(ctx, b.shape(), b.dtype(), b.device());
      backend::dssim_backward(ctx, a, b, fs, sigma, gy, ga, gb);
      return {ga, gb};
    });
  }
  return y;
}

Tensor mse_loss(Context& ctx, const Tensor& a, const Tensor& b, const Tensor& mask) {
  return pointwise_loss(ctx, Kind::Mse, a, b, mask);
}

Tensor l1_loss(Context& ctx, const Tensor& a, const Tensor& b, const Tensor& mask) {
  return pointwise_loss(ctx, Kind::L1, a, b, mask);
}

Tensor style_loss(Context& ctx, const Tensor& a, const Tensor& b, double blur_radius, double weight) {
  FACET_CHECK(a.defined() && b.defined() && a.rank() == 4 && a.shape() == b.shape(),
              "style_loss: needs two NHWC images of one shape, got ", a.defined() ? shape_str(a.shape()) : "undefined",
              " and ", b.defined() ? shape_str(b.shape()) : "undefined");
  auto moments = [&](const Tensor& x, Tensor& m, Tensor& s) {
    const Tensor xb = blur_radius > 0 ? gaussian_blur(ctx, x, blur_radius) : x;
    m = mean(ctx, xb, {1, 2}, true);                                   // [N,1,1,C]
    const Tensor var = mean(ctx, square(ctx, sub(ctx, xb, m)), {1, 2}, true);
    s = sqrt(ctx, add_scalar(ctx, var, 1e-5));
  };
  Tensor ma, sa, mb, sb;
  moments(a, ma, sa);
  moments(b, mb, sb);
  const Tensor d = add(ctx, square(ctx, sub(ctx, ma, mb)), square(ctx, sub(ctx, sa, sb)));  // [N,1,1,C]
  return mul_scalar(ctx, sum(ctx, d, {1, 2, 3}), weight / static_cast<double>(a.dim(3)));
}

Tensor sigmoid_cross_entropy(Context& ctx, const Tensor& logits, const Tensor& labels) {
  FACET_CHECK(logits.defined() && labels.defined() && logits.rank() >= 2 && logits.shape() == labels.shape(),
              "sigmoid_cross_entropy: needs logits and labels of one shape [N, ...], got ",
              logits.defined() ? shape_str(logits.shape()) : "undefined", " and ",
              labels.defined() ? shape_str(labels.shape()) : "undefined");
  const Tensor t = stop_gradient(labels);
  const Tensor softplus_neg_abs = log(ctx, add_scalar(ctx, exp(ctx, neg(ctx, abs(ctx, logits))), 1.0));
  const Tensor per_element = add(ctx, sub(ctx, relu(ctx, logits), mul(ctx, logits, t)), softplus_neg_abs);
  std::vector<int> axes;
  for (int a = 1; a < logits.rank(); ++a) axes.push_back(a);
  return mean(ctx, per_element, axes);
}

}  // namespace facet
