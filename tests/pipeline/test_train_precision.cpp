// Training precision (pipeline/train/precision.h): the choice auto / f32 / bf16 resolves to a
// compute dtype per device, bf16 on the CPU trains on oneDNN's bf16 convolutions where the CPU has
// native bf16 and is refused up front elsewhere with a message that says what to do, and the precision a run used shows in its summary line, its result and state.json. The GPU
// case (auto = bf16 compute, f32 checkpoints) SKIPS without a device.
#include <cmath>
#include <cstdlib>
#include <gtest/gtest.h>

#include <filesystem>
#include <string>
#include <vector>

#include "engine/core/context.h"
#include "engine/core/error.h"
#include "pipeline/train/precision.h"
#include "test_trainer_support.h"

using namespace facet;
using namespace facet::testing;
namespace fs = std::filesystem;

TEST(TrainPrecision, ChoicesResolvePerDevice) {
  using train::Precision;
  EXPECT_EQ(train::parse_precision("auto"), Precision::Auto);
  EXPECT_EQ(train::parse_precision("f32"), Precision::F32);
  EXPECT_EQ(train::parse_precision("bf16"), Precision::BF16);
  try {
    train::parse_precision("fp16");
    FAIL() << "fp16 accepted";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("auto"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("fp16"), std::string::npos) << e.what();
  }
  const Device cpu = Device::cpu(), gpu = Device::cuda(0);
  EXPECT_FALSE(train::compute_dtype_for(Precision::Auto, cpu).has_value());
  EXPECT_FALSE(train::compute_dtype_for(Precision::F32, cpu).has_value());
  EXPECT_EQ(train::compute_dtype_for(Precision::Auto, gpu, 90), DType::BF16);
  EXPECT_EQ(train::compute_dtype_for(Precision::Auto, gpu, 80), DType::BF16);
  EXPECT_FALSE(train::compute_dtype_for(Precision::F32, gpu, 90).has_value());
  EXPECT_EQ(train::compute_dtype_for(Precision::BF16, gpu, 86), DType::BF16);
  // Turing and Pascal have no bf16 tensor cores: auto is f32 there, bf16 is refused
  EXPECT_FALSE(train::compute_dtype_for(Precision::Auto, gpu, 75).has_value());
  EXPECT_FALSE(train::compute_dtype_for(Precision::Auto, gpu, 61).has_value());
  EXPECT_THROW(train::compute_dtype_for(Precision::BF16, gpu, 75), Error);
  // bf16 on the CPU: f32 tensors, bf16 products inside oneDNN's convolutions, where the CPU has them.
  if (cpu_has_onednn() && cpu_has_native_bf16()) {
    EXPECT_FALSE(train::compute_dtype_for(Precision::BF16, cpu).has_value());
    const train::ComputePlan plan = train::compute_plan_for(Precision::BF16, cpu);
    EXPECT_EQ(plan.cpu_conv, CpuConv::OneDnnBf16);
    EXPECT_EQ(plan.label(), "bf16");
  } else {
    EXPECT_THROW(train::compute_dtype_for(Precision::BF16, cpu), Error);
  }
  EXPECT_EQ(train::compute_plan_for(Precision::Auto, cpu).cpu_conv, CpuConv::OneDnnF32);
  EXPECT_EQ(train::compute_plan_for(Precision::Auto, cpu).label(), "f32");
  EXPECT_EQ(train::compute_label(std::nullopt), "f32");
  EXPECT_EQ(train::compute_label(DType::BF16), "bf16");
}

// bf16 on the CPU trains where the CPU multiplies bf16 natively (oneDNN's bf16 convolutions over
// f32 tensors) and records it; elsewhere it is refused before anything is written.
TEST(TrainPrecision, Bf16OnTheCpuTrainsOrIsRefusedBeforeAnythingIsWritten) {
  ScratchDir dir("precision_cpu_bf16");
  write_face_sets(dir.path(), 4);
  train::TrainerConfig c = micro_config(dir.path(), 2);
  c.precision = train::Precision::BF16;
  if (cpu_has_onednn() && cpu_has_native_bf16()) {
    std::vector<std::string> lines;
    c.log = [&](const std::string& s) { lines.push_back(s); };
    train::Trainer t(c);
    EXPECT_FALSE(t.context().compute_dtype.has_value());  // tensors stay f32
    EXPECT_EQ(t.context().cpu_conv, CpuConv::OneDnnBf16);
    const train::TrainResult r = t.run();
    EXPECT_EQ(r.precision, "bf16");
    ASSERT_FALSE(lines.empty());
    EXPECT_NE(lines.front().find("(bf16 compute)"), std::string::npos) << lines.front();
    EXPECT_EQ(train::ModelFolder(c.model_dir).read_state().precision, "bf16");
    return;
  }
  try {
    train::Trainer t(c);
    FAIL() << "bf16 on a CPU without native bf16 was accepted";
  } catch (const Error& e) {
    const std::string m = e.what();
    EXPECT_NE(m.find("bf16"), std::string::npos) << m;
    EXPECT_NE(m.find("f32"), std::string::npos) << m;
  }
  EXPECT_FALSE(fs::exists(dir.path() + "/model/options.json"));
}

TEST(TrainPrecision, CpuRunRecordsF32) {
  ScratchDir dir("precision_cpu_auto");
  write_face_sets(dir.path(), 4);
  train::TrainerConfig c = micro_config(dir.path(), 2);
  std::vector<std::string> lines;
  c.log = [&](const std::string& s) { lines.push_back(s); };
  train::Trainer t(c);
  EXPECT_FALSE(t.context().compute_dtype.has_value());
  const train::TrainResult r = t.run();
  EXPECT_EQ(r.precision, "f32");
  ASSERT_FALSE(lines.empty());
  EXPECT_NE(lines.front().find("(f32 compute)"), std::string::npos) << lines.front();
  const train::TrainState s = train::ModelFolder(c.model_dir).read_state();
  EXPECT_EQ(s.precision, "f32");
  // The field round-trips, and a state.json without it (older facet) still reads.
  EXPECT_EQ(train::train_state_from_json(train::train_state_to_json(s), "state").precision, "f32");
  train::TrainState old = s;
  old.precision.clear();
  EXPECT_EQ(train::train_state_to_json(old).find("precision"), std::string::npos);
  EXPECT_EQ(train::train_state_from_json(train::train_state_to_json(old), "state").precision, "");
}

TEST(GpuTrainPrecision, AutoTrainsInBf16WithF32Checkpoints) {
  if (!cuda_available()) GTEST_SKIP() << "no CUDA device";
  ScratchDir dir("precision_gpu_auto");
  write_face_sets(dir.path(), 8);
  train::TrainerConfig c = micro_config(dir.path(), 8);
  c.cpu = false;
  train::Trainer t(c);
  ASSERT_EQ(t.context().compute_dtype, DType::BF16);
  const train::TrainResult r = t.run();
  EXPECT_EQ(r.precision, "bf16");
  EXPECT_TRUE(std::isfinite(r.last_src_loss) && std::isfinite(r.last_dst_loss));
  EXPECT_EQ(r.nan_skipped, 0);
  const train::ModelFolder f(c.model_dir);
  EXPECT_EQ(f.read_state().precision, "bf16");
  Context ctx(Device::cpu());
  for (auto& [name, w] : load_safetensors(ctx, f.file(f.read_state().weights_file)).tensors)
    EXPECT_EQ(w.dtype(), DType::F32) << name << ": master weights stay f32";
}

// The real query: the device's own compute capability decides. Run once as it is and once on an
// emulated Turing (tests/pipeline/CMakeLists.txt sets FACET_EMULATED_CC=7.5 for that run).
TEST(GpuPrecision, AutoFollowsTheDevicesComputeCapability) {
  if (!cuda_available()) GTEST_SKIP() << "no CUDA device";
  const int cc = cuda_compute_capability(0);
  ASSERT_GT(cc, 0);
  if (const char* want = std::getenv("FACET_EMULATED_CC"); want && cuda_is_emulated()) {
    EXPECT_EQ(cc, static_cast<int>(std::lround(std::atof(want) * 10))) << want;
  }
  const auto auto_dtype = train::compute_dtype_for(train::Precision::Auto, Device::cuda(0));
  if (cc >= 80) {
    EXPECT_EQ(auto_dtype, DType::BF16);
  } else {
    EXPECT_FALSE(auto_dtype.has_value());
    EXPECT_THROW(train::compute_dtype_for(train::Precision::BF16, Device::cuda(0)), Error);
  }
}
