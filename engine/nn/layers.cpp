#include "engine/nn/layers.h"

#include "engine/nn/init.h"
#include "engine/ops/cast.h"
#include "engine/ops/elementwise.h"
#include "engine/ops/layout.h"
#include "engine/ops/linear.h"

namespace facet::nn {

Conv2d::Conv2d(Context& ctx, int64_t in, int64_t out, int64_t k, int64_t stride, bool with_bias, const LayerInit& init)
    : Conv2d(ctx, in, out, k, Conv2dOptions::symmetric(k, stride), with_bias, init) {}

Conv2d::Conv2d(Context& ctx, int64_t in, int64_t out, int64_t k, const Conv2dOptions& opt, bool with_bias,
               const LayerInit& init)
    : options(opt) {
  weight = Tensor::empty(ctx, {out, k, k, in}, init.dtype, init.device);
  glorot_uniform_(ctx, weight, k * k * in, k * k * out);
  register_parameter("weight", weight);
  if (with_bias) {
    bias = Tensor::zeros(ctx, {out}, init.dtype, init.device);
    register_parameter("bias", bias);
  }
}

// Under ctx.compute_dtype the input and the masters are cast in the graph (identity otherwise).
Tensor Conv2d::forward(Context& ctx, const Tensor& x) {
  return conv2d(ctx, autocast(ctx, x), autocast(ctx, weight), autocast(ctx, bias), options);
}

Tensor Conv2d::forward_leaky_relu(Context& ctx, const Tensor& x, double slope) {
  return conv2d_leaky_relu(ctx, autocast(ctx, x), autocast(ctx, weight), autocast(ctx, bias), options, slope);
}

Dense::Dense(Context& ctx, int64_t in, int64_t out, bool with_bias, const LayerInit& init) {
  weight = Tensor::empty(ctx, {in, out}, init.dtype, init.device);
  glorot_uniform_(ctx, weight, in, out);
  register_parameter("weight", weight);
  if (with_bias) {
    bias = Tensor::zeros(ctx, {out}, init.dtype, init.device);
    register_parameter("bias", bias);
  }
}

Tensor Dense::forward(Context& ctx, const Tensor& x) {
  return dense(ctx, autocast(ctx, x), autocast(ctx, weight), autocast(ctx, bias));
}

Downscale::Downscale(Context& ctx, int64_t in, int64_t out, int64_t k, const LayerInit& init) {
  conv1 = register_module("conv1", std::make_shared<Conv2d>(ctx, in, out, k, 2, true, init));
}

Tensor Downscale::forward(Context& ctx, const Tensor& x) { return conv1->forward_leaky_relu(ctx, x, 0.1); }

Upscale::Upscale(Context& ctx, int64_t in, int64_t out, int64_t k, const LayerInit& init) {
  conv1 = register_module("conv1", std::make_shared<Conv2d>(ctx, in, out * 4, k, 1, true, init));
}

Tensor Upscale::forward(Context& ctx, const Tensor& x) {
  return pixel_shuffle(ctx, conv1->forward_leaky_relu(ctx, x, 0.1), 2);
}

ResidualBlock::ResidualBlock(Context& ctx, int64_t ch, int64_t k, const LayerInit& init) {
  conv1 = register_module("conv1", std::make_shared<Conv2d>(ctx, ch, ch, k, 1, true, init));
  conv2 = register_module("conv2", std::make_shared<Conv2d>(ctx, ch, ch, k, 1, true, init));
}

Tensor ResidualBlock::forward(Context& ctx, const Tensor& x) {
  const Tensor xc = autocast(ctx, x);  // the skip joins conv2's output in the compute dtype
  Tensor h = conv1->forward_leaky_relu(ctx, xc, 0.2);
  h = conv2->forward(ctx, h);
  return leaky_relu(ctx, add(ctx, xc, h), 0.2);
}

}  // namespace facet::nn
