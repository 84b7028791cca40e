// DeepFaceLab's building blocks (core/leras/archis/DeepFakeArchi.py), as modules:
//   Conv2d         weights OHWI [out, k, k, in], bias [out]; DFL pads "SAME" as symmetric (k-1)/2
//   Dense          weight [in, out], bias [out]
//   Downscale      conv k5 s2 + leaky_relu 0.1
//   Upscale        conv k3 -> leaky_relu 0.1 -> pixel shuffle 2 (DCR order); activation before shuffle
//   ResidualBlock  x = lrelu(conv1(in), 0.2); x = conv2(x); out = lrelu(in + x, 0.2)
// Kernels get glorot-uniform, biases zeros (TF1 defaults, as DFL). Parameters are f32 masters;
// with ctx.compute_dtype set (mixed precision) Conv2d and Dense cast their input and masters to
// it in forward (engine/ops/cast.h), so their outputs, and every block built on them, are in the
// compute dtype while gradients flow back into the masters.
#pragma once
#include "engine/nn/module.h"
#include "engine/ops/conv.h"

namespace facet::nn {

struct LayerInit {
  Device device = Device::cpu();
  DType dtype = DType::F32;
};

class Conv2d : public UnaryModule {
 public:
  // padding: DFL's symmetric (k-1)/2 by default; Conv2dOptions gives TF SAME, VALID or explicit.
  Conv2d(Context& ctx, int64_t in, int64_t out, int64_t k, int64_t stride = 1, bool bias = true,
         const LayerInit& init = {});
  Conv2d(Context& ctx, int64_t in, int64_t out, int64_t k, const Conv2dOptions& opt, bool bias = true,
         const LayerInit& init = {});
  Tensor forward(Context& ctx, const Tensor& x) override;
  // leaky_relu(forward(x), slope) as one op (engine/ops/conv.h: conv2d_leaky_relu).
  Tensor forward_leaky_relu(Context& ctx, const Tensor& x, double slope);
  Tensor weight, bias;  // bias undefined when built without one
  Conv2dOptions options;
};

class Dense : public UnaryModule {
 public:
  Dense(Context& ctx, int64_t in, int64_t out, bool bias = true, const LayerInit& init = {});
  Tensor forward(Context& ctx, const Tensor& x) override;  // x [..., in]
  Tensor weight, bias;
};

class Downscale : public UnaryModule {
 public:
  Downscale(Context& ctx, int64_t in, int64_t out, int64_t k = 5, const LayerInit& init = {});
  Tensor forward(Context& ctx, const Tensor& x) override;
  std::shared_ptr<Conv2d> conv1;
};

class Upscale : public UnaryModule {
 public:
  Upscale(Context& ctx, int64_t in, int64_t out, int64_t k = 3, const LayerInit& init = {});
  Tensor forward(Context& ctx, const Tensor& x) override;
  std::shared_ptr<Conv2d> conv1;
};

class ResidualBlock : public UnaryModule {
 public:
  ResidualBlock(Context& ctx, int64_t ch, int64_t k = 3, const LayerInit& init = {});
  Tensor forward(Context& ctx, const Tensor& x) override;
  std::shared_ptr<Conv2d> conv1, conv2;
};

}  // namespace facet::nn
