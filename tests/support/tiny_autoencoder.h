// A tiny conv autoencoder from DFL's blocks (two Downscales, two Upscales, 1x1 head) and a fixed
// batch of smooth synthetic 32x32 images: shared by the CPU overfit test and the GPU step tests.
#pragma once
#include <cmath>
#include <memory>
#include <vector>

#include "engine/nn/layers.h"
#include "engine/ops/elementwise.h"

namespace facet::test {

struct TinyAE : nn::Module {
  std::shared_ptr<nn::Downscale> d1, d2;
  std::shared_ptr<nn::Upscale> u1, u2;
  std::shared_ptr<nn::Conv2d> out;
  explicit TinyAE(Context& ctx, Device device = Device::cpu()) {
    nn::LayerInit init{device, DType::F32};
    d1 = register_module("down1", std::make_shared<nn::Downscale>(ctx, 3, 16, 5, init));
    d2 = register_module("down2", std::make_shared<nn::Downscale>(ctx, 16, 32, 5, init));
    u1 = register_module("up1", std::make_shared<nn::Upscale>(ctx, 32, 32, 3, init));
    u2 = register_module("up2", std::make_shared<nn::Upscale>(ctx, 32, 16, 3, init));
    out = register_module("out", std::make_shared<nn::Conv2d>(ctx, 16, 3, 1, 1, true, init));
  }
  Tensor forward(Context& ctx, const Tensor& x) {
    return sigmoid(ctx, out->forward(ctx, u2->forward(ctx, u1->forward(ctx, d2->forward(ctx, d1->forward(ctx, x))))));
  }
};

// Smooth synthetic images: a coloured blob on a horizontal ramp, different per sample.
inline Tensor make_batch(Context& ctx, Device device = Device::cpu()) {
  const int n = 4, s = 32;
  std::vector<float> v(static_cast<size_t>(n * s * s * 3));
  for (int b = 0; b < n; ++b)
    for (int y = 0; y < s; ++y)
      for (int x = 0; x < s; ++x) {
        float cx = 8.0f + 5.0f * b, cy = 20.0f - 3.0f * b;
        float blob = std::exp(-((x - cx) * (x - cx) + (y - cy) * (y - cy)) / 40.0f);
        for (int c = 0; c < 3; ++c)
          v[((b * s + y) * s + x) * 3 + c] = 0.15f + 0.6f * blob * (c == b % 3 ? 1.0f : 0.4f) + 0.2f * x / s;
      }
  return Tensor::from_vector(ctx, {n, s, s, 3}, v, DType::F32, device);
}

}  // namespace facet::test
