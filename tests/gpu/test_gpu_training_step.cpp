// Whole training steps on the GPU (skipped without one): after warm-up a step allocates nothing
// from the driver (the caching allocator serves every request), the GPU losses track the CPU
// ones, and deterministic mode gives bit-identical losses run to run.
#include <gtest/gtest.h>

#include "engine/autograd/tape.h"
#include "engine/ops/elementwise.h"
#include "engine/ops/losses.h"
#include "engine/optim/optimizer.h"
#include "support/tiny_autoencoder.h"

using namespace facet;
using facet::test::make_batch;
using facet::test::TinyAE;

namespace {

struct TrainRun {
  std::vector<float> losses;
  uint64_t allocs_after_warmup = 0, allocs_at_end = 0;
};

TrainRun train(Device device, int steps, bool deterministic) {
  Context ctx(device, 1234);
  ctx.deterministic = deterministic;
  TinyAE model(ctx, device);
  ParameterBuffer params(ctx, model.parameters());
  AdamOptions opt;
  opt.lr = 2e-3;
  Adam adam(ctx, params, opt);
  Tensor batch = make_batch(ctx, device);
  Tensor losses = Tensor::zeros(ctx, {steps}, DType::F32, device);
  TrainRun r;
  for (int i = 0; i < steps; ++i) {
    if (i == 3) r.allocs_after_warmup = ctx.memory_stats(device).system_allocs;
    params.zero_grad(ctx);
    Tensor loss = mean(ctx, mse_loss(ctx, model.forward(ctx, batch), batch));
    losses.slice0(i, i + 1).copy_from(ctx, loss.view({1}));  // device-side: no host sync per step
    backward(ctx, loss);
    adam.step(ctx);
  }
  r.allocs_at_end = ctx.memory_stats(device).system_allocs;
  r.losses = losses.to_float(ctx);
  return r;
}

}  // namespace

TEST(GpuTrainingStep, SteadyStateMakesNoDeviceAllocations) {
  if (!cuda_available()) GTEST_SKIP() << "no CUDA device";
  TrainRun r = train(Device::cuda(0), 12, false);
  EXPECT_EQ(r.allocs_after_warmup, r.allocs_at_end) << "cudaMalloc inside steady-state steps";
}

TEST(GpuTrainingStep, MatchesCpuAndIsDeterministic) {
  if (!cuda_available()) GTEST_SKIP() << "no CUDA device";
  TrainRun g1 = train(Device::cuda(0), 30, true), g2 = train(Device::cuda(0), 30, true);
  TrainRun c = train(Device::cpu(), 30, true);
  for (size_t i = 0; i < g1.losses.size(); ++i) {
    ASSERT_EQ(g1.losses[i], g2.losses[i]) << "step " << i;
    EXPECT_NEAR(g1.losses[i], c.losses[i], 2e-3 * c.losses[0]) << "step " << i;
  }
  EXPECT_LT(g1.losses.back(), 0.5f * g1.losses.front());
}
