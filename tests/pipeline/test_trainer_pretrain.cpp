// DFL's pretraining (models/Model_SAEHD/Model.py, pretrain mode, L229-244 and L638-646): a model pretrains on one
// generic face set for both sides, with random warp off, both flips on and no HSV / colour
// transfer / lr_dropout; `--no-pretrain` on resume ends it: the iteration count restarts at 0,
// the inter part(s) are re-initialised (DF: inter; LIAE: inter_AB and inter_B) and the encoder
// and decoders keep their pretrained weights. The setting is stored, changeable and recorded.
#include <cstring>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "engine/core/error.h"
#include "pipeline/train/pretrain.h"
#include "test_trainer_support.h"

namespace facet::train {
namespace {

namespace fs = std::filesystem;
using facet::testing::error_of;
using facet::testing::folder_weights;
using facet::testing::micro_config;
using facet::testing::micro_request;
using facet::testing::ScratchDir;
using facet::testing::write_face_sets;

TEST(TrainerPretrain, OverridesAndStorage) {
  TrainRequest req = micro_request(0);
  req.pretrain = true;
  req.random_hsv_power = 0.2, req.ct_mode = "rct", req.lr_dropout = true, req.src_flip = false;
  const ModelRecord r = new_model_record(req, Device::cpu());
  ASSERT_TRUE(r.settings.pretrain);
  const TrainSettings e = pretrain_overrides(r.settings);
  EXPECT_FALSE(e.random_warp);
  EXPECT_TRUE(e.src_flip && e.dst_flip);
  EXPECT_EQ(e.random_hsv_power, 0.0);
  EXPECT_EQ(e.ct_mode, "none");
  EXPECT_FALSE(e.lr_dropout);
  EXPECT_TRUE(e.uniform_yaw) << "DFL forces uniform_yaw in pretraining";
  EXPECT_FALSE(r.settings.uniform_yaw);
  EXPECT_EQ(r.settings.ct_mode, "rct") << "the stored choices stay for after pretraining";
  const ModelRecord back = model_record_from_json(model_record_to_json(r), "options.json");
  EXPECT_TRUE(back.settings.pretrain);
  nlohmann::json j = nlohmann::json::parse(model_record_to_json(r));
  j["train"].erase("pretrain");
  EXPECT_FALSE(model_record_from_json(j.dump(), "options.json").settings.pretrain) << "older files: off";

  TrainRequest off;
  off.pretrain = false;
  const ModelRecord ended = resume_model_record(r, off, 40);
  EXPECT_TRUE(pretraining_ends(r, ended));
  ASSERT_EQ(ended.changes.size(), 1u);
  EXPECT_EQ(ended.changes[0].option, "pretrain");
  EXPECT_EQ(ended.changes[0].iteration, 40);
  EXPECT_FALSE(pretraining_ends(r, resume_model_record(r, TrainRequest{}, 40)));

  EXPECT_EQ(parts_reset_after_pretrain("df-ud"), std::vector<std::string>({"inter"}));
  EXPECT_EQ(parts_reset_after_pretrain("liae-udt"), std::vector<std::string>({"inter_AB", "inter_B"}));
}

bool starts_with_any(const std::string& name, const std::vector<std::string>& parts) {
  for (const std::string& p : parts)
    if (name.rfind(p + "/", 0) == 0) return true;
  return false;
}

void pretrain_then_train(const std::string& archi) {
  ScratchDir dir("trainer_pretrain_" + archi);
  write_face_sets(dir.path(), 6, 64);
  const std::string generic = dir.path() + "/src";  // any face set serves as the generic one
  TrainerConfig pre = micro_config(dir.path(), 5);
  pre.src_dir.clear(), pre.dst_dir.clear();
  pre.pretrain_dir = generic;
  pre.request.archi = archi;
  pre.request.pretrain = true;
  int batches = 0;
  pre.hooks.on_batch = [&](int64_t, AugmentedBatch& s, AugmentedBatch& d) {
    // no random warp: the network input is the target (same affine and flip), on both sides
    Context cpu;
    EXPECT_EQ(s.warped.to_float(cpu), s.target.to_float(cpu));
    EXPECT_EQ(d.warped.to_float(cpu), d.target.to_float(cpu));
    ++batches;
  };
  {
    Trainer t(pre);
    EXPECT_EQ(t.src_faces().names, t.dst_faces().names) << "one face set for both sides";
    EXPECT_EQ(t.run().iteration, 5);
  }
  EXPECT_EQ(batches, 5);
  const std::string model = dir.path() + "/model";
  const auto pretrained = folder_weights(model);

  // Resuming pretraining without the generic set names what is missing.
  TrainerConfig missing = micro_config(dir.path(), 7);
  missing.request.archi = archi;
  EXPECT_NE(error_of([&] { Trainer t(missing); }).find("--pretrain-faces"), std::string::npos);

  TrainerConfig cfg = micro_config(dir.path(), 3);
  cfg.request.archi = archi;
  cfg.request.pretrain = false;
  std::vector<std::string> log;
  cfg.log = [&](const std::string& s) { log.push_back(s); };
  {
    Trainer t(cfg);
    EXPECT_EQ(t.iteration(), 0) << "the iteration count restarts";
    EXPECT_EQ(ModelFolder(model).read_state().iteration, 0) << "saved at once";
    const auto reset = folder_weights(model);
    const std::vector<std::string> parts = parts_reset_after_pretrain(archi);
    int changed = 0, kept = 0;
    for (const auto& [name, v] : pretrained) {
      const bool same = std::memcmp(v.data(), reset.at(name).data(), v.size() * sizeof(float)) == 0;
      if (starts_with_any(name, parts)) {
        // Weights are drawn afresh; biases start at zero, and LIAE's inter_AB kept its initial
        // zeros through pretraining (frozen without random warp), so only weights must differ.
        const bool bias = name.size() > 5 && name.compare(name.size() - 5, 5, "/bias") == 0;
        if (!bias) EXPECT_FALSE(same) << name << " should be re-initialised";
        changed += !same;
      } else {
        EXPECT_TRUE(same) << name << " should keep its pretrained weights";
        kept += same;
      }
    }
    EXPECT_GT(changed, 0);
    EXPECT_GT(kept, 0);
    EXPECT_EQ(t.run().iteration, 3);
  }
  bool said = false;
  for (const std::string& l : log) said = said || l.find("pretraining ended at iteration 5") != std::string::npos;
  EXPECT_TRUE(said);
  EXPECT_TRUE(fs::exists(model + "/loss_history_pretrain.csv"));
  const ModelRecord stored = ModelFolder(model).read_options();
  EXPECT_FALSE(stored.settings.pretrain);
  ASSERT_FALSE(stored.changes.empty());
  EXPECT_EQ(stored.changes.back().option, "pretrain");
}

TEST(TrainerPretrain, DfPretrainsThenResetsInter) { pretrain_then_train("df-ud"); }
TEST(TrainerPretrain, LiaePretrainsThenResetsBothInters) { pretrain_then_train("liae-ud"); }

}  // namespace
}  // namespace facet::train
