// `facet model info` (pipeline/tools/model_info.h) on model folders written by hand: the counts
// come from options.json alone, the iteration from state.json, and damaged or missing pieces
// become warnings instead of failures (only a folder without options.json is an error).
#include <filesystem>
#include <fstream>

#include <gtest/gtest.h>

#include "engine/core/error.h"
#include "pipeline/tools/model_info.h"
#include "pipeline/train/train_options.h"
#include "pipeline_test_support.h"

namespace facet::tools {
namespace {

namespace fs = std::filesystem;
using facet::testing::ScratchDir;

void write(const std::string& path, const std::string& text) { std::ofstream(path, std::ios::binary) << text; }

std::string tiny_options() {
  train::TrainRequest req;
  req.preset = "tiny";
  req.seed = 5;
  req.batch = 3;
  train::ModelRecord r = train::new_model_record(req, Device::cpu());
  r.changes.push_back({100, "batch", "4", "3"});
  return train::model_record_to_json(r);
}

TEST(ToolsModel, InfoFromOptionsAlone) {
  ScratchDir dir("tools_model");
  write(dir.file("options.json"), tiny_options());
  const ModelInfo m = read_model_info(dir.path());
  ASSERT_TRUE(m.record_ok);
  EXPECT_FALSE(m.has_state);
  EXPECT_EQ(m.iteration, 0);
  EXPECT_EQ(m.params.total, 3164490);  // the tiny preset (saehd_options.h)
  ASSERT_EQ(m.part_params.size(), 4u);  // df: encoder, inter, decoder_src, decoder_dst
  int64_t sum = 0;
  for (const auto& [part, n] : m.part_params) sum += n;
  EXPECT_EQ(sum, m.params.total);
  EXPECT_NEAR(m.flops.training_per_image / 1e9, 0.78, 0.01);
  const std::string text = format_model_info(m);
  for (const char* s : {"df-ud", "64 px", "full_face", "ae 64, e 16, d 16, d_mask 8", "3,164,490", "GFLOP",
                        "decoder_src", "batch 3", "at iteration 100: batch 4 -> 3", "no checkpoint yet"})
    EXPECT_NE(text.find(s), std::string::npos) << s << "\n" << text;
  EXPECT_NE(format_model_info(m, true).find("upscale"), std::string::npos);  // the layer table
  EXPECT_NE(model_info_json(m).find("\"total\": 3164490"), std::string::npos) << model_info_json(m);
}

TEST(ToolsModel, IterationAndLossFromStateDamageIsAWarning) {
  ScratchDir dir("tools_model_state");
  write(dir.file("options.json"), tiny_options());
  train::TrainState s;
  s.iteration = 1234;
  s.weights_file = "weights-00001234.safetensors";
  s.optimizer_file = "optimizer-00001234.safetensors";
  s.train_seconds = 75;
  write(dir.file("state.json"), train::train_state_to_json(s));
  write(dir.file("loss_history.csv"), "iteration,src_loss,dst_loss\n1233,0.5,0.6\n1234,0.25,0.375\n");
  ModelInfo m = read_model_info(dir.path());
  EXPECT_TRUE(m.state_ok);
  EXPECT_EQ(m.iteration, 1234);
  EXPECT_TRUE(m.has_last_loss);
  EXPECT_EQ(m.last_loss_iteration, 1234);
  EXPECT_DOUBLE_EQ(m.last_dst_loss, 0.375);
  ASSERT_EQ(m.warnings.size(), 1u);  // the weights file it names is missing
  EXPECT_NE(m.warnings[0].find("weights-00001234"), std::string::npos);

  // A state.json this version cannot fully read still gives its iteration.
  write(dir.file("state.json"), "{\"facet_train_state\": 1, \"iteration\": 77}");
  m = read_model_info(dir.path());
  EXPECT_FALSE(m.state_ok);
  EXPECT_EQ(m.iteration, 77);
  EXPECT_FALSE(m.warnings.empty());
  EXPECT_NE(format_model_info(m).find("iteration      77"), std::string::npos) << format_model_info(m);

  // Malformed options: the raw text is shown, no counts, no exception.
  write(dir.file("options.json"), "{\"facet_model\": 1, \"model\": {\"resolution\": 7}}");
  m = read_model_info(dir.path());
  EXPECT_FALSE(m.record_ok);
  EXPECT_NE(format_model_info(m).find("\"resolution\": 7"), std::string::npos);

  fs::remove(dir.file("options.json"));
  EXPECT_THROW(read_model_info(dir.path()), Error);
  EXPECT_THROW(read_model_info(dir.file("missing")), Error);
}

}  // namespace
}  // namespace facet::tools
