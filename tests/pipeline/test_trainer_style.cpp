// DFL's style powers in the trainer (face_style_power, bg_style_power; engine terms tested in
// tests/engine/test_saehd_loss.cpp): stored and validated (0..100, named when out of range),
// zeroed while pretraining, added to the src side only — the first step's dst loss is the same
// with or without them, its src loss is larger — and training with them stays finite.
#include <cmath>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "engine/core/error.h"
#include "pipeline/train/train_step.h"
#include "test_trainer_support.h"

namespace facet::train {
namespace {

using facet::testing::error_of;
using facet::testing::micro_request;

TEST(TrainerStyle, StoredValidatedAndOffWhilePretraining) {
  TrainRequest req = micro_request(0);
  req.face_style_power = 10, req.bg_style_power = 2.5;
  const ModelRecord r = new_model_record(req, Device::cpu());
  const ModelRecord back = model_record_from_json(model_record_to_json(r), "options.json");
  EXPECT_EQ(back.settings.face_style_power, 10);
  EXPECT_EQ(back.settings.bg_style_power, 2.5);
  nlohmann::json j = nlohmann::json::parse(model_record_to_json(r));
  j["train"].erase("face_style_power");
  EXPECT_EQ(model_record_from_json(j.dump(), "options.json").settings.face_style_power, 0) << "older files: off";
  TrainRequest bad = micro_request(0);
  bad.face_style_power = 150;
  EXPECT_NE(error_of([&] { new_model_record(bad, Device::cpu()); }).find("face_style_power = 150"), std::string::npos);
  bad.face_style_power.reset();
  bad.bg_style_power = -1;
  EXPECT_NE(error_of([&] { new_model_record(bad, Device::cpu()); }).find("bg_style_power"), std::string::npos);
  TrainSettings s = r.settings;
  s.pretrain = true;
  EXPECT_EQ(pretrain_overrides(s).face_style_power, 0);
  EXPECT_EQ(pretrain_overrides(s).bg_style_power, 0);
}

TrainStep::Losses first_steps(double face, double bg, int steps) {
  const HostFaces src = synthetic_host_faces(SyntheticIdentity::A, 6, 64, 3);
  const HostFaces dst = synthetic_host_faces(SyntheticIdentity::B, 6, 64, 4);
  TrainRequest req = micro_request(0);
  req.face_style_power = face, req.bg_style_power = bg;
  const ModelRecord rec = new_model_record(req, Device::cpu());
  Context ctx(Device::cpu(), rec.spec.seed);
  TrainStep ts(ctx, rec, src, dst, TrainStepOptions{});
  for (int i = 1; i <= steps; ++i) ts.step(i);
  return ts.read_losses();
}

TEST(TrainerStyle, StyleTermsAddToTheSrcLossOnly) {
  const TrainStep::Losses plain = first_steps(0, 0, 1), face = first_steps(20, 0, 1), bg = first_steps(0, 20, 1);
  ASSERT_EQ(plain.src.size(), 1u);
  EXPECT_EQ(face.dst[0], plain.dst[0]);
  EXPECT_EQ(bg.dst[0], plain.dst[0]);
  EXPECT_GT(face.src[0], plain.src[0]);
  EXPECT_GT(bg.src[0], plain.src[0]);
  const TrainStep::Losses both = first_steps(5, 5, 6);
  for (size_t i = 0; i < both.src.size(); ++i) EXPECT_TRUE(std::isfinite(both.src[i]) && std::isfinite(both.dst[i]));
  EXPECT_EQ(both.skipped, 0);
}

}  // namespace
}  // namespace facet::train
