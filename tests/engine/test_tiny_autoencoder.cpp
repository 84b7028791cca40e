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
#include "support/tiny_autoencoder.h"

using namespace facet;
using facet::test::TinyAE;
using facet::test::make_batch;

namespace {

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
