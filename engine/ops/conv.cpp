// Convolution ops over the conv primitives of engine/ops/backend.h: validate -> allocate -> run ->
// record. Each op records a single node whose backward computes only the gradients that are
// needed (the first layer's input image and frozen weights need none).
#include "engine/ops/conv.h"

#include <cmath>

#include "engine/autograd/tape.h"
#include "engine/core/error.h"
#include "engine/ops/backend.h"

namespace facet {

namespace {

Tensor empty_like(Context& ctx, const Tensor& t) { return Tensor::empty(ctx, t.shape(), t.dtype(), t.device()); }

// {gx, gw, gb} for a conv node's backward: a buffer for each input that needs a gradient, the
// others left undefined so that the backend skips their pass.
std::vector<Tensor> gradients_to_fill(Context& ctx, const Tensor& x, const Tensor& w, const Tensor& bias) {
  std::vector<Tensor> g(3);
  if (x.requires_grad()) g[0] = empty_like(ctx, x);
  if (w.requires_grad()) g[1] = empty_like(ctx, w);
  if (bias.defined() && bias.requires_grad()) g[2] = empty_like(ctx, bias);
  return g;
}

void check_bias(const char* op, const Tensor& x, const Tensor& bias, int64_t channels) {
  if (!bias.defined()) return;
  check_same_device_dtype(op, x, bias);
  FACET_CHECK(bias.rank() == 1 && bias.dim(0) == channels, op, ": bias of shape ", shape_str(bias.shape()), " for ",
              channels, " output channels");
}

const char* padding_name(Padding p) {
  switch (p) {
    case Padding::Same: return "SAME";
    case Padding::Valid: return "VALID";
    case Padding::Explicit: return "explicit";
  }
  return "?";
}

}  // namespace

cpu::Conv2dGeom conv2d_geometry(const char* op, const Shape& x, int64_t out_channels, int64_t kh, int64_t kw,
                                const Conv2dOptions& opt) {
  FACET_CHECK(x.size() == 4, op, ": input must be NHWC [N, H, W, C], got ", shape_str(x));
  FACET_CHECK(opt.stride_h >= 1 && opt.stride_w >= 1, op, ": strides must be at least 1, got ", opt.stride_h, "x",
              opt.stride_w);
  FACET_CHECK(kh >= 1 && kw >= 1, op, ": kernel size must be at least 1x1, got ", kh, "x", kw);
  const int64_t n = x[0], h = x[1], w = x[2], c = x[3];
  cpu::Conv2dGeom g{};
  switch (opt.padding) {
    case Padding::Same: g = cpu::conv2d_geom_same(n, h, w, c, out_channels, kh, kw, opt.stride_h, opt.stride_w); break;
    case Padding::Valid: g = cpu::conv2d_geom_valid(n, h, w, c, out_channels, kh, kw, opt.stride_h, opt.stride_w); break;
    case Padding::Explicit:
      FACET_CHECK(opt.pad_top >= 0 && opt.pad_bottom >= 0 && opt.pad_left >= 0 && opt.pad_right >= 0, op,
                  ": pads must not be negative, got top ", opt.pad_top, " bottom ", opt.pad_bottom, " left ",
                  opt.pad_left, " right ", opt.pad_right);
      g = cpu::conv2d_geom_explicit(n, h, w, c, out_channels, kh, kw, opt.stride_h, opt.stride_w, opt.pad_top,
                                    opt.pad_bottom, opt.pad_left, opt.pad_right);
      break;
  }
  FACET_CHECK(g.oh > 0 && g.ow > 0, op, ": a ", kh, "x", kw, " kernel with ", padding_name(opt.padding),
              " padding (top ", g.pad_top, " bottom ", g.pad_bottom, " left ", g.pad_left, " right ", g.pad_right,
              ") does not fit the ", h, "x", w, " input ", shape_str(x));
  return g;
}

namespace {

// conv2d and conv2d_leaky_relu: one node whose backward first takes the activation's gradient
// (slope > 0) and then the convolution's.
Tensor conv2d_op(Context& ctx, const char* op, const Tensor& x, const Tensor& w, const Tensor& bias,
                 const Conv2dOptions& opt, double leaky_slope) {
  check_same_device_dtype(op, x, w);
  FACET_CHECK(w.rank() == 4, op, ": weight must be OHWI [out, kh, kw, in], got ", shape_str(w.shape()));
  FACET_CHECK(x.rank() == 4, op, ": input must be NHWC [N, H, W, C], got ", shape_str(x.shape()));
  FACET_CHECK(w.dim(3) == x.dim(3), op, ": weight ", shape_str(w.shape()), " takes ", w.dim(3),
              " input channels but the input ", shape_str(x.shape()), " has ", x.dim(3));
  check_bias(op, x, bias, w.dim(0));
  const cpu::Conv2dGeom g = conv2d_geometry(op, x.shape(), w.dim(0), w.dim(1), w.dim(2), opt);
  const DType dt = x.dtype();
  Tensor y = Tensor::empty(ctx, {g.n, g.oh, g.ow, g.k}, dt, x.device());
  backend::conv2d_forward(ctx, g, x, w, bias, y, leaky_slope);
  if (needs_grad(ctx, {&x, &w, &bias})) {
    // The activation's gradient needs only the sign of its input, which (slope > 0) is the sign of
    // its output: the node keeps y and not the pre-activation.
    const Tensor out = leaky_slope > 0 ? y : Tensor();
    record(ctx, op, y, {x, w, bias},
           [&ctx, op, x, w, bias, g, out, leaky_slope](const Tensor& gy) -> std::vector<Tensor> {
             Tensor gpre = gy;
             if (out.defined()) {
               gpre = empty_like(ctx, gy);
               backend::unary_backward(ctx, op, UnaryOp::LeakyRelu, out, out, gy, gpre, leaky_slope);
             }
             std::vector<Tensor> grads = gradients_to_fill(ctx, x, w, bias);
             backend::conv2d_backward(ctx, g, x, w, gpre, grads[0], grads[1], grads[2]);
             return grads;
           });
  }
  return y;
}

}  // namespace

Tensor conv2d(Context& ctx, const Tensor& x, const Tensor& w, const Tensor& bias, const Conv2dOptions& opt) {
  return conv2d_op(ctx, "conv2d", x, w, bias, opt, 0);
}

Tensor conv2d_leaky_relu(Context& ctx, const Tensor& x, const Tensor& w, const Tensor& bias, const Conv2dOptions& opt,
                         double slope) {
  FACET_CHECK(slope > 0 && std::isfinite(slope), "conv2d_leaky_relu: the slope must be positive and finite, got ",
              slope);
  return conv2d_op(ctx, "conv2d_leaky_relu", x, w, bias, opt, slope);
}

Tensor depthwise_conv2d(Context& ctx, const Tensor& x, const Tensor& w, const Tensor& bias, const Conv2dOptions& opt) {
  check_same_device_dtype("depthwise_conv2d", x, w);
  FACET_CHECK(w.rank() == 3, "depthwise_conv2d: weight must be [kh, kw, C], got ", shape_str(w.shape()));
  FACET_CHECK(x.rank() == 4, "depthwise_conv2d: input must be NHWC [N, H, W, C], got ", shape_str(x.shape()));
  FACET_CHECK(w.dim(2) == x.dim(3), "depthwise_conv2d: weight ", shape_str(w.shape()), " has ", w.dim(2),
              " channels but the input ", shape_str(x.shape()), " has ", x.dim(3), " (channel multiplier 1 only)");
  check_bias("depthwise_conv2d", x, bias, x.dim(3));
  const cpu::Conv2dGeom g = conv2d_geometry("depthwise_conv2d", x.shape(), x.dim(3), w.dim(0), w.dim(1), opt);
  const DType dt = x.dtype();
  Tensor y = Tensor::empty(ctx, {g.n, g.oh, g.ow, g.c}, dt, x.device());
  backend::depthwise_conv2d_forward(ctx, g, x, w, bias, y);
  if (needs_grad(ctx, {&x, &w, &bias})) {
    record(ctx, "depthwise_conv2d", y, {x, w, bias}, [&ctx, x, w, bias, g](const Tensor& gy) -> std::vector<Tensor> {
      std::vector<Tensor> grads = gradients_to_fill(ctx, x, w, bias);
      backend::depthwise_conv2d_backward(ctx, g, x, w, gy, grads[0], grads[1], grads[2]);
      return grads;
    });
  }
  return y;
}

}  // namespace facet
