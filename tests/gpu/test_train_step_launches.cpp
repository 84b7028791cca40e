// The work one SAEHD training step asks of the GPU, counted and bounded: kernel launches (ours,
// plus one per cuDNN / cuBLAS call) per steady-state step of the trainer's own iteration
// (models::SaehdTrainStep: on-device augmentation of both batches, forward, loss, backward,
// AdaBelief). The count is exact and the same on the emulated device as on a real GPU, so a
// change that adds launches fails here in CI. The bounds are what the step needs today; lower them
// when a change removes launches (docs/perf.md records the counts, df128's included).
#include <gtest/gtest.h>

#include <cmath>
#include <cstdio>
#include <string>
#include <vector>

#include "engine/augment/synthetic_bank.h"
#include "engine/core/context.h"
#include "engine/models/saehd_model.h"
#include "engine/models/saehd_train_step.h"
#include "engine/optim/optimizer.h"
#include "engine/optim/parameter_buffer.h"

using namespace facet;

namespace {

struct StepLaunches {
  uint64_t first = 0, second = 0;  // two consecutive steady-state steps
};

// Launches of steps 3 and 4 (after two warm-up steps: algorithm choice, allocator caching) of the
// `tiny` preset with `archi`, `batch` faces per side, augmentation on, AdaBelief, f32 compute.
StepLaunches count_step_launches(const std::string& archi, int batch) {
  const Device dev = Device::cuda(0);
  Context ctx(dev, 1234);
  models::SaehdOptions opt = models::saehd_preset("tiny");
  opt.archi = archi;
  auto model = models::SaehdModel::create(ctx, opt, nn::LayerInit{dev, DType::F32});
  ParameterBuffer params(ctx, model->parameters());
  AdaBelief optim(ctx, params, AdaBeliefOptions{});
  const int64_t faces = 4, bank_res = 2 * opt.resolution;
  FaceBank src = synthetic_face_bank(ctx, dev, faces, bank_res, 1);
  FaceBank dst = synthetic_face_bank(ctx, dev, faces, bank_res, 5);
  models::SaehdTrainStepOptions so;
  so.loss = models::SaehdLossConfig::from_options(opt);
  so.src_augment.resolution = so.dst_augment.resolution = opt.resolution;
  so.dst_augment.random_flip = true;
  so.loss_window = 8;
  models::SaehdTrainStep step(ctx, *model, params, optim, models::SaehdTrainBanks{&src, &dst}, so);
  std::vector<int32_t> idx(batch);
  auto run = [&](int it) {
    for (int b = 0; b < batch; ++b) idx[b] = (it + b) % faces;
    const uint64_t before = cuda_work_counts().launches;
    step.step(idx, idx);
    return cuda_work_counts().launches - before;
  };
  run(0), run(1);
  StepLaunches s;
  s.first = run(2);
  s.second = run(3);
  const auto losses = step.read_losses();
  EXPECT_EQ(losses.src.size(), 4u);
  for (float l : losses.src) EXPECT_TRUE(std::isfinite(l)) << archi;
  std::printf("%s tiny, batch %d per side: %llu kernel launches per training step\n", archi.c_str(), batch,
              static_cast<unsigned long long>(s.first));
  return s;
}

}  // namespace

TEST(GpuTrainStepLaunches, DfTinyStepStaysWithinItsLaunchBudget) {
  if (!cuda_available()) GTEST_SKIP() << "no CUDA device";
  const StepLaunches s = count_step_launches("df-ud", 1);
  EXPECT_EQ(s.first, s.second) << "a steady-state step's launches must not vary";
  EXPECT_LE(s.first, 573u) << "launches per df-ud training step grew";
}

TEST(GpuTrainStepLaunches, LiaeTinyStepStaysWithinItsLaunchBudget) {
  if (!cuda_available()) GTEST_SKIP() << "no CUDA device";
  const StepLaunches s = count_step_launches("liae-ud", 1);
  EXPECT_EQ(s.first, s.second) << "a steady-state step's launches must not vary";
  EXPECT_LE(s.first, 408u) << "launches per liae-ud training step grew";
}
