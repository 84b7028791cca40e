// The SAEHD training iteration driven with the engine alone (models::SaehdTrainStep over the
// engine's synthetic banks, as bench_train_step drives it): the two halves give what one step
// gives, the loss window is enforced, a fixed batch is learnt; and the synthetic banks themselves
// are deterministic, face-like (an elliptical mask) and differ by seed. The trainer's uses (NaN
// skip and rollback, host banks, hooks) are tested through TrainStep in tests/pipeline.
#include <gtest/gtest.h>

#include <cmath>
#include <memory>
#include <string>
#include <vector>

#include "engine/augment/synthetic_bank.h"
#include "engine/core/error.h"
#include "engine/models/saehd_options.h"
#include "engine/models/saehd_train_step.h"

namespace facet::models {
namespace {

constexpr int kFaces = 6;

// A tiny-preset model, AdaBelief and two 64-px banks on the CPU.
struct TinyRun {
  Context ctx{Device::cpu(), 11};
  SaehdOptions opt = saehd_preset("tiny");
  std::unique_ptr<SaehdModel> model;
  std::unique_ptr<ParameterBuffer> params;
  std::unique_ptr<Optimizer> optim;
  FaceBank src, dst;
  std::unique_ptr<SaehdTrainStep> step;
  std::vector<int32_t> src_idx{0, 3}, dst_idx{1, 4};

  // augment = false: identity geometry, so a fixed batch is the same every step.
  explicit TinyRun(int64_t window, bool augment = true) {
    model = SaehdModel::create(ctx, opt, nn::LayerInit{ctx.device(), DType::F32});
    params = std::make_unique<ParameterBuffer>(ctx, model->parameters());
    AdaBeliefOptions ao;
    ao.lr = 2e-4;
    optim = std::make_unique<AdaBelief>(ctx, *params, ao);
    src = synthetic_face_bank(ctx, ctx.device(), kFaces, opt.resolution, 1);
    dst = synthetic_face_bank(ctx, ctx.device(), kFaces, opt.resolution, 2);
    SaehdTrainStepOptions so;
    so.loss = SaehdLossConfig::from_options(opt);
    so.src_augment.resolution = so.dst_augment.resolution = opt.resolution;
    so.dst_augment.random_flip = true;
    for (AugmentOptions* a : {&so.src_augment, &so.dst_augment})
      if (!augment) a->random_warp = a->random_flip = false, a->rotation_deg = a->scale = a->translation = 0;
    so.loss_window = window;
    step = std::make_unique<SaehdTrainStep>(ctx, *model, *params, *optim, SaehdTrainBanks{&src, &dst}, so);
  }
};

TEST(SaehdTrainStep, HalvesEqualAWholeStepAndTheWindowIsEnforced) {
  TinyRun whole(3), halves(3);
  for (int i = 0; i < 3; ++i) {
    EXPECT_TRUE(whole.step->step(whole.src_idx, whole.dst_idx));
    halves.step->build_batches(halves.src_idx, halves.dst_idx);
    EXPECT_TRUE(halves.step->update());
  }
  EXPECT_EQ(whole.step->pending(), 3);
  try {
    whole.step->step(whole.src_idx, whole.dst_idx);
    FAIL() << "expected an error: the loss window is full";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("3 losses pending; call read_losses() first"), std::string::npos) << e.what();
  }
  const SaehdTrainStep::Losses a = whole.step->read_losses(), b = halves.step->read_losses();
  ASSERT_EQ(a.src.size(), 3u);
  EXPECT_EQ(a.src, b.src);
  EXPECT_EQ(a.dst, b.dst);
  EXPECT_EQ(a.skipped, 0);
  EXPECT_EQ(whole.params->params().to_float(whole.ctx), halves.params->params().to_float(halves.ctx));
  EXPECT_EQ(whole.step->pending(), 0);
  EXPECT_TRUE(whole.step->checks_each_step());  // NanCheck::Auto on the CPU
}

TEST(SaehdTrainStep, LearnsAFixedBatch) {
  TinyRun r(10, /*augment=*/false);
  r.step->step(r.src_idx, r.dst_idx);
  const SaehdTrainStep::Losses first = r.step->read_losses();
  for (int i = 0; i < 8; ++i) r.step->step(r.src_idx, r.dst_idx);
  const SaehdTrainStep::Losses later = r.step->read_losses();
  ASSERT_EQ(later.src.size(), 8u);
  ASSERT_TRUE(std::isfinite(first.src[0]) && std::isfinite(first.dst[0]));
  EXPECT_LT(later.src.back() + later.dst.back(), 0.9 * (first.src[0] + first.dst[0]));
}

TEST(SyntheticBank, DeterministicFaceLikeAndSeeded) {
  const SyntheticBankPixels a = synthetic_bank_pixels(2, 64, 1), b = synthetic_bank_pixels(2, 64, 1);
  const SyntheticBankPixels c = synthetic_bank_pixels(2, 64, 2);
  EXPECT_EQ(a.bgr, b.bgr);
  EXPECT_EQ(a.mask, b.mask);
  EXPECT_NE(a.bgr, c.bgr);
  ASSERT_EQ(a.bgr.size(), 2u * 64 * 64 * 3);
  ASSERT_EQ(a.mask.size(), 2u * 64 * 64);
  // The ellipse (centre (32, 35.2), semi-axes 20.5 x 26.9 px) covers the middle, not the corners,
  // and about pi * 20.5 * 26.9 / 64^2 of the image.
  EXPECT_EQ(a.mask[35 * 64 + 32], 1.f);
  EXPECT_EQ(a.mask[0], 0.f);
  double inside = 0;
  for (int i = 0; i < 64 * 64; ++i) inside += a.mask[i];
  EXPECT_NEAR(inside / (64 * 64), 3.14159265 * 0.32 * 0.42, 0.01);
  // The two faces of one bank differ.
  EXPECT_FALSE(std::equal(a.bgr.begin(), a.bgr.begin() + 64 * 64 * 3, a.bgr.begin() + 64 * 64 * 3));
  Context ctx;
  const FaceBank bank = a.to_bank(ctx, Device::cpu());
  EXPECT_EQ(bank.size(), 2);
  EXPECT_EQ(bank.resolution(), 64);
  EXPECT_TRUE(bank.is_u8());
  ASSERT_NE(bank.mask_data(), nullptr);
  EXPECT_EQ(bank.mask_data()[35 * 64 + 32], 1.f);
}

}  // namespace
}  // namespace facet::models
