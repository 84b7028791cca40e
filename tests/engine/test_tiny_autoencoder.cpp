// End-to-end engine check on the CPU: a tiny conv autoencoder built from DFL's blocks (two
// Downscales, two Upscales, 32x32 inputs) overfits one fixed batch — the loss falls at least 10x
// within a bounded number of steps — and two runs in deterministic mode give bit-identical losses.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdio>

#include "engine/autograd/tape.h"
#include "engine/nn/layers.h"
#include "engine/ops/elementwise.h"
#include "engine/ops/losses.h"
#include "engine/optim/optimizer.h"

using namespace facet;

namespace {

struct TinyAE : nn::Module {
  std::shared_ptr<nn::Downscale> d1, d2;
  std::shared_ptr<nn::Upscale> u1, u2;
  std::shared_ptr<nn::Conv2d> out;
  explicit TinyAE(Context& ctx) {
    d1 = register_module("down1", std::make_shared<nn::Downscale>(ctx, 3, 16));
    d2 = register_module("down2", std::make_shared<nn::Downscale>(ctx, 16, 32));
    u1 = register_module("up1", std::make_shared<nn::Upscale>(ctx, 32, 32));
    u2 = register_module("up2", std::make_shared<nn::Upscale>(ctx, 32, 16));
    out = register_module("out", std::make_shared<nn::Conv2d>(ctx, 16, 3, 1));
  }
  Tensor forward(Context& ctx, const Tensor& x) {
    return sigmoid(ctx, out->forward(ctx, u2->forward(ctx, u1->forward(ctx, d2->forward(ctx, d1->forward(ctx, x))))));
  }
};

// Smooth synthetic images: a blob and a gradient per sample (fixed by the context seed).
Tensor make_batch(Context& ctx) {
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
  return Tensor::from_vector(ctx, {n, s, s, 3}, v);
}

std::vector<float> train(int steps) {
  Context ctx(Device::cpu(), 1234);
  ctx.deterministic = true;
  TinyAE model(ctx);
  ParameterBuffer params(ctx, model.parameters());
  AdamOptions opt;
  opt.lr = 2e-3;
  Adam adam(ctx, params, opt);
  Tensor batch = make_batch(ctx);
  std::vector<float> losses;
  for (int i = 0; i < steps; ++i) {
    params.zero_grad(ctx);
    Tensor loss = mean(ctx, mse_loss(ctx, model.forward(ctx, batch), batch));
    losses.push_back(loss.to_float(ctx)[0]);
    backward(ctx, loss);
    adam.step(ctx);
  }
  return losses;
}

}  // namespace

TEST(TinyAutoencoder, OverfitsAFixedBatchAndIsDeterministic) {
  const int steps = 300;
  std::vector<float> a = train(steps);
  float best = *std::min_element(a.begin() + steps - 20, a.end());
  std::printf("tiny autoencoder: loss %.5f -> %.6f (%.1fx) in %d steps\n", a.front(), best, a.front() / best, steps);
  EXPECT_LT(best * 10.0f, a.front()) << "loss " << a.front() << " -> " << best << " in " << steps << " steps";
  std::vector<float> b = train(steps);
  ASSERT_EQ(a.size(), b.size());
  for (size_t i = 0; i < a.size(); ++i) ASSERT_EQ(a[i], b[i]) << "step " << i;  // bit-identical
}
