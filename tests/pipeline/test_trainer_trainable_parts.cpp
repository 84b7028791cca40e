// DFL's trainable-weights rule in the trainer (the optimizer side is tested in
// tests/engine/test_optimizers.cpp: Optimizers.FrozenRange*): LIAE without random warp leaves
// inter_AB exactly as it was while the other parts train; with random warp, and for DF, all train.
#include <map>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "pipeline/train/train_step.h"
#include "test_trainer_support.h"

namespace facet::train {
namespace {

using facet::testing::micro_request;

// DFL's trainable-weights rule (SAEHD Model.py L335-338): LIAE without random warp trains the
// encoder, inter_B and the decoder, and leaves inter_AB exactly as it was; with random warp, and
// for DF always, every part trains.
std::map<std::string, bool> parts_moved(const std::string& archi, bool random_warp) {
  const HostFaces src = synthetic_host_faces(SyntheticIdentity::A, 6, 64, 3);
  const HostFaces dst = synthetic_host_faces(SyntheticIdentity::B, 6, 64, 4);
  TrainRequest req = micro_request(0);
  req.archi = archi;
  req.random_warp = random_warp;
  const ModelRecord rec = new_model_record(req, Device::cpu());
  Context ctx(Device::cpu(), rec.spec.seed);
  TrainStep ts(ctx, rec, src, dst, TrainStepOptions{});
  std::map<std::string, std::vector<float>> before;
  for (auto& [name, t] : ts.model().named_parameters()) before[name] = t.to_float(ctx);
  for (int i = 1; i <= 3; ++i) ts.step(i);
  ts.read_losses();
  std::map<std::string, bool> moved;
  for (auto& [name, t] : ts.model().named_parameters()) {
    const std::string part = name.substr(0, name.find('/'));
    moved[part] = moved[part] || t.to_float(ctx) != before[name];
  }
  return moved;
}

TEST(TrainerTrainableParts, LiaeWithoutRandomWarpFreezesInterAB) {
  const auto off = parts_moved("liae-ud", false);
  EXPECT_FALSE(off.at("inter_AB"));
  EXPECT_TRUE(off.at("inter_B"));
  EXPECT_TRUE(off.at("encoder"));
  EXPECT_TRUE(off.at("decoder"));
  const auto on = parts_moved("liae-ud", true);
  EXPECT_TRUE(on.at("inter_AB"));
  const auto df = parts_moved("df-ud", false);
  for (const auto& [part, m] : df) EXPECT_TRUE(m) << part;
}

}  // namespace
}  // namespace facet::train
