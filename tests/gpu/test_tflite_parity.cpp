// TFLite graphs on the GPU agree with the CPU: every step of the tiny fixture graphs
// (tests/fixtures/tflite) and the outputs of the three MediaPipe models, with a batch of 2.
// Skipped without a CUDA device (and the real models without scripts/fetch-assets.sh's assets).
// Both backends compute in true fp32 (cuDNN FMA math, no TF32), so they differ only by rounding:
// 5e-4 absolute + 5e-5 relative covers it on outputs up to ~150.
#include <gtest/gtest.h>

#include <chrono>
#include <cmath>
#include <cstdlib>
#include <fstream>
#include <iostream>

#include "engine/tflite/model.h"
#include "support/test_paths.h"

using namespace facet;
using namespace facet::tflite;

namespace {

std::string fixture(const std::string& name) { return test::fixture_path("tflite/" + name); }
std::string asset(const std::string& name) { return test::asset_path(name); }
bool exists(const std::string& p) { return test::file_exists(p); }

// gen_tflite_golden.py's input pattern (sample i uses phase first_n + i).
Tensor pattern(Context& ctx, const Shape& shape, int first_n = 0) {
  std::vector<float> v;
  for (int64_t n = 0; n < shape[0]; ++n)
    for (int64_t h = 0; h < shape[1]; ++h)
      for (int64_t w = 0; w < shape[2]; ++w)
        for (int64_t c = 0; c < shape[3]; ++c) {
          const double k = static_cast<double>(first_n + n);
          v.push_back(static_cast<float>(0.75 * std::sin(0.21 * h + 0.13 * w + 2.1 * c + 0.5 * k) +
                                         0.25 * std::cos(0.07 * h * (c + 1) - 0.19 * w + 0.3 * k)));
        }
  return Tensor::from_vector(ctx, shape, v);
}

void expect_close(Context& cpu, const Tensor& c, Context& gpu, const Tensor& g, const std::string& what) {
  ASSERT_TRUE(g.defined()) << what;
  ASSERT_EQ(g.device(), Device::cuda(0)) << what;
  ASSERT_EQ(c.shape(), g.shape()) << what;
  const std::vector<float> a = c.to_float(cpu), b = g.to_float(gpu);
  double worst = 0;
  size_t at = 0;
  for (size_t i = 0; i < a.size(); ++i) {
    const double e = std::fabs(a[i] - b[i]) / (5e-4 + 5e-5 * std::fabs(a[i]));
    if (!(e <= worst)) worst = e, at = i;
  }
  EXPECT_LE(worst, 1.0) << what << " element " << at << ": cpu " << a[at] << " gpu " << b[at];
}

std::vector<Tensor> batch_inputs(Context& ctx, const Model& m, int64_t batch) {
  std::vector<Tensor> in;
  for (size_t k = 0; k < m.inputs().size(); ++k) {
    Shape s = m.inputs()[k].shape;
    s[0] = batch;
    in.push_back(pattern(ctx, s, static_cast<int>(k)));
  }
  return in;
}

class GpuTfliteTiny : public ::testing::TestWithParam<const char*> {};
class GpuTfliteModels : public ::testing::TestWithParam<const char*> {};

}  // namespace

TEST_P(GpuTfliteTiny, EveryStepMatchesCpu) {
  if (!cuda_available()) GTEST_SKIP() << "no CUDA device";
  const std::string path = fixture(std::string(GetParam()) + ".tflite");
  Context cpu(Device::cpu()), gpu(Device::cuda(0));
  Model mc = load_tflite(cpu, path, Device::cpu());
  Model mg = load_tflite(gpu, path, Device::cuda(0));
  EXPECT_EQ(mg.device(), Device::cuda(0));
  const std::vector<Tensor> in = batch_inputs(cpu, mc, 2);  // CPU tensors: the GPU model copies them
  const std::vector<Tensor> vc = mc.run_all(cpu, in), vg = mg.run_all(gpu, in);
  for (size_t t = 0; t < vc.size(); ++t)
    if (vc[t].defined()) expect_close(cpu, vc[t], gpu, vg[t], "tensor " + std::to_string(t));
}

INSTANTIATE_TEST_SUITE_P(Graphs, GpuTfliteTiny, ::testing::Values("tiny_conv", "tiny_blocks", "tiny_add"));

TEST_P(GpuTfliteModels, OutputsMatchCpu) {
  if (!cuda_available()) GTEST_SKIP() << "no CUDA device";
  const std::string name = GetParam();
  const std::string path = asset(name + ".tflite");
  if (!exists(path)) GTEST_SKIP() << "missing " << path << " (run scripts/fetch-assets.sh or set FACET_ASSETS)";
  Context cpu(Device::cpu()), gpu(Device::cuda(0));
  Model mc = load_tflite(cpu, path, Device::cpu());
  Model mg = load_tflite(gpu, path, Device::cuda(0));
  const std::vector<Tensor> in = batch_inputs(cpu, mc, 2);
  std::vector<Tensor> in_g;
  for (const Tensor& x : in) in_g.push_back(x.to(gpu, Device::cuda(0)));
  const std::vector<Tensor> oc = mc.run(cpu, in);
  std::vector<Tensor> og = mg.run(gpu, in_g);
  ASSERT_EQ(oc.size(), og.size());
  for (size_t k = 0; k < oc.size(); ++k) expect_close(cpu, oc[k], gpu, og[k], name + " output " + std::to_string(k));

  // Throughput, for the report: batch 1 and batch 16 after a warm-up run.
  for (int64_t batch : {1, 16}) {
    std::vector<Tensor> x;
    for (const Tensor& t : batch_inputs(cpu, mc, batch)) x.push_back(t.to(gpu, Device::cuda(0)));
    mg.run(gpu, x);
    gpu.synchronize();
    const int reps = 20;
    const auto t0 = std::chrono::steady_clock::now();
    for (int r = 0; r < reps; ++r) og = mg.run(gpu, x);
    gpu.synchronize();
    const double ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count() / reps;
    std::cout << "[ timing   ] " << name << " on " << Device::cuda(0).str() << ", batch " << batch << ": " << ms
              << " ms per run\n";
  }
}

INSTANTIATE_TEST_SUITE_P(Models, GpuTfliteModels,
                         ::testing::Values("face_detection_short_range", "face_detection_full_range", "face_landmark"));
