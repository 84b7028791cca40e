// TFLite importer against golden outputs of the pure-Python reference interpreter
// (tests/tools/gen_tflite_golden.py -> tests/fixtures/tflite/*.json):
//  * tiny hand-made graphs: every step's output (each supported op and fused activation) in full;
//  * the three MediaPipe models: both outputs (sum, sum |x|, every stride-th value) and the first
//    operator of each type (intermediates), for the documented input pattern;
//  * batching: a batch of N gives, per sample, what N batch-1 runs give.
// The reference computes in double precision, the engine in float32; tolerances are stated at
// each comparison. Real-model tests are skipped when the assets are missing.
#include <gtest/gtest.h>

#include <chrono>
#include <cmath>
#include <cstdlib>
#include <fstream>
#include <iostream>
#include <nlohmann/json.hpp>

#include "engine/core/error.h"
#include "engine/tflite/model.h"
#include "support/test_paths.h"

using namespace facet;
using namespace facet::tflite;
using nlohmann::json;

namespace {

std::string fixture(const std::string& name) { return test::fixture_path("tflite/" + name); }
std::string asset(const std::string& name) { return test::asset_path(name); }
bool exists(const std::string& p) { return test::file_exists(p); }

json load_json(const std::string& path) {
  std::ifstream in(path);
  if (!in) throw Error("missing fixture " + path + " (run tests/tools/gen_tflite_golden.py)");
  return json::parse(in);
}

// The input pattern of gen_tflite_golden.py; sample i of the batch uses phase n = first_n + i.
Tensor pattern(Context& ctx, const Shape& shape, int first_n = 0) {
  const int64_t N = shape[0], H = shape[1], W = shape[2], C = shape[3];
  std::vector<float> v;
  v.reserve(static_cast<size_t>(numel(shape)));
  for (int64_t n = 0; n < N; ++n)
    for (int64_t h = 0; h < H; ++h)
      for (int64_t w = 0; w < W; ++w)
        for (int64_t c = 0; c < C; ++c) {
          const double k = static_cast<double>(first_n + n);
          const double x = 0.75 * std::sin(0.21 * h + 0.13 * w + 2.1 * c + 0.5 * k) +
                           0.25 * std::cos(0.07 * h * (c + 1) - 0.19 * w + 0.3 * k);
          v.push_back(static_cast<float>(x));
        }
  return Tensor::from_vector(ctx, shape, v);
}

Shape json_shape(const json& j) { return j.get<Shape>(); }

// max_i |a_i - b_i| / (atol + rtol * |b_i|): <= 1 means within tolerance.
double scaled_error(const std::vector<float>& a, const std::vector<double>& b, double atol, double rtol,
                    size_t* worst = nullptr) {
  double e = 0;
  for (size_t i = 0; i < b.size(); ++i) {
    const double s = std::fabs(a[i] - b[i]) / (atol + rtol * std::fabs(b[i]));
    if (s > e || std::isnan(s)) {
      e = std::isnan(s) ? INFINITY : s;
      if (worst) *worst = i;
    }
  }
  return e;
}

class TfliteTiny : public ::testing::TestWithParam<const char*> {};

}  // namespace

// Every step of the tiny graphs against the reference, in full. Values are O(1) and come from
// at most 27-term sums, so float32 stays within 2e-5 (absolute + relative) of double.
TEST_P(TfliteTiny, EveryStepMatchesReference) {
  const std::string name = GetParam();
  const json g = load_json(fixture(name + ".json"));
  Context ctx;
  Model m = load_tflite(ctx, fixture(name + ".tflite"), Device::cpu());
  ASSERT_EQ(m.inputs().size(), g["inputs"].size());
  std::vector<Tensor> in;
  for (size_t k = 0; k < m.inputs().size(); ++k) {
    EXPECT_EQ(m.inputs()[k].shape, json_shape(g["inputs"][k]));
    in.push_back(pattern(ctx, m.inputs()[k].shape, static_cast<int>(k)));
  }
  const std::vector<Tensor> all = m.run_all(ctx, in);
  size_t checked = 0;
  for (const json& s : g["steps"]) {
    const Tensor& t = all.at(s["tensor"].get<size_t>());
    const std::string what = s["op"].get<std::string>() + " '" + s["name"].get<std::string>() + "'";
    ASSERT_TRUE(t.defined()) << what;
    EXPECT_EQ(t.shape(), json_shape(s["shape"])) << what;
    const auto ref = s["values"].get<std::vector<double>>();
    ASSERT_EQ(static_cast<size_t>(t.numel()), ref.size()) << what;
    size_t worst = 0;
    EXPECT_LE(scaled_error(t.to_float(ctx), ref, 2e-5, 2e-5, &worst), 1.0)
        << what << " at element " << worst << ": " << t.to_float(ctx)[worst] << " vs " << ref[worst];
    ++checked;
  }
  EXPECT_EQ(checked, g["steps"].size());
  const std::vector<Tensor> outs = m.run(ctx, in);
  ASSERT_EQ(outs.size(), g["outputs"].size());
  for (size_t k = 0; k < outs.size(); ++k) {
    EXPECT_EQ(m.outputs()[k].name, g["outputs"][k]["name"].get<std::string>());
    EXPECT_EQ(outs[k].shape(), json_shape(g["outputs"][k]["shape"]));
    EXPECT_LE(scaled_error(outs[k].to_float(ctx), g["outputs"][k]["values"].get<std::vector<double>>(), 2e-5, 2e-5),
              1.0)
        << "output " << k;
  }
}

INSTANTIATE_TEST_SUITE_P(Graphs, TfliteTiny, ::testing::Values("tiny_conv", "tiny_blocks", "tiny_add"));

// A batch of 3 through every op kind (RESHAPE and CONCATENATION included) equals 3 single runs.
TEST(TfliteBatch, TinyGraphBatchEqualsSingleRuns) {
  Context ctx;
  Model m = load_tflite(ctx, fixture("tiny_blocks.tflite"), Device::cpu());
  Shape s = m.inputs()[0].shape;
  s[0] = 3;
  const std::vector<Tensor> batched = m.run(ctx, {pattern(ctx, s)});
  for (int n = 0; n < 3; ++n) {
    const std::vector<Tensor> single = m.run(ctx, {pattern(ctx, m.inputs()[0].shape, n)});
    for (size_t k = 0; k < single.size(); ++k) {
      ASSERT_EQ(batched[k].dim(0), 3);
      const auto b = batched[k].slice0(n, n + 1).to_double(ctx);
      const auto a = single[k].to_float(ctx);
      EXPECT_LE(scaled_error(a, b, 1e-6, 1e-6), 1.0) << "output " << k << " sample " << n;
    }
  }
}

TEST(TfliteModelApi, ValidatesInputs) {
  Context ctx;
  Model m = load_tflite(ctx, fixture("tiny_add.tflite"), Device::cpu());
  ASSERT_EQ(m.inputs().size(), 2u);
  EXPECT_EQ(m.inputs()[0].name, "x");
  EXPECT_EQ(m.inputs()[1].name, "y");
  EXPECT_EQ(m.outputs().size(), 5u);
  EXPECT_EQ(m.outputs()[1].name, "add_relu");
  EXPECT_EQ(m.num_steps(), 5u);
  EXPECT_EQ(m.device(), Device::cpu());
  const Tensor x = pattern(ctx, {1, 3, 5, 2});
  EXPECT_THROW(m.run(ctx, {x}), Error);                                       // one input missing
  EXPECT_THROW(m.run(ctx, {x, pattern(ctx, {1, 3, 4, 2})}), Error);            // wrong shape
  EXPECT_THROW(m.run(ctx, {x, x.cast(ctx, DType::F64)}), Error);              // wrong dtype
  EXPECT_THROW(m.run(ctx, {pattern(ctx, {2, 3, 5, 2}), pattern(ctx, {3, 3, 5, 2})}), Error);  // batches differ
  EXPECT_THROW(m.run(ctx, {x, pattern(ctx, {3, 3, 5, 2})}), Error);
  EXPECT_EQ(m.run(ctx, {pattern(ctx, {4, 3, 5, 2}), pattern(ctx, {4, 3, 5, 2})})[0].dim(0), 4);
  try {
    m.run(ctx, {x, pattern(ctx, {1, 3, 4, 2})});
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("'y' has shape [1,3,4,2], the graph expects [1,3,5,2]"), std::string::npos)
        << e.what();
  }
  EXPECT_THROW(Model().run(ctx, {x, x}), Error);
  // The device must be the CPU or the context's CUDA device.
  EXPECT_THROW(load_tflite(ctx, fixture("tiny_add.tflite"), Device::cuda(0)), Error);
}

// ---- the MediaPipe models ------------------------------------------------------------------------

namespace {

const char* const kRealModels[] = {"face_detection_short_range", "face_detection_full_range", "face_landmark"};

class TfliteGolden : public ::testing::TestWithParam<const char*> {};

// Compares a tensor with a golden summary: every stride-th value within atol + rtol * |ref| and
// the sum within the same tolerance scaled by the number of elements (a sum of n terms).
void expect_matches_summary(Context& ctx, const Tensor& t, const json& s, double atol, double rtol,
                            const std::string& what) {
  ASSERT_TRUE(t.defined()) << what;
  ASSERT_EQ(t.shape(), json_shape(s["shape"])) << what;
  const std::vector<float> v = t.to_float(ctx);
  const size_t stride = s["stride"].get<size_t>();
  const auto ref = s["samples"].get<std::vector<double>>();
  std::vector<float> picked;
  for (size_t i = 0; i < ref.size(); ++i) picked.push_back(v.at(i * stride));
  size_t worst = 0;
  const double e = scaled_error(picked, ref, atol, rtol, &worst);
  EXPECT_LE(e, 1.0) << what << ": sample " << worst << " (element " << worst * stride << ") is " << picked[worst]
                    << ", reference " << ref[worst];
  double sum = 0, abs_sum = 0;
  for (float x : v) sum += x, abs_sum += std::fabs(x);
  EXPECT_NEAR(sum, s["sum"].get<double>(), atol * v.size() + rtol * s["abs_sum"].get<double>()) << what << " sum";
  EXPECT_NEAR(abs_sum, s["abs_sum"].get<double>(), atol * v.size() + rtol * s["abs_sum"].get<double>())
      << what << " sum |x|";
  ::testing::Test::RecordProperty(what + "_max_scaled_error", std::to_string(e));
}

}  // namespace

// Outputs and the first operator of each type against the reference. Float32 vs double through
// 20-50 layers of up to 1152-term sums: the largest difference seen is 2.5e-5 on values up to
// ~150 (regressors; activations reach ~25); the test allows 2e-4 absolute + 2e-5 relative.
TEST_P(TfliteGolden, MatchesReference) {
  const std::string name = GetParam();
  const std::string path = asset(name + ".tflite");
  if (!exists(path)) GTEST_SKIP() << "missing " << path << " (run scripts/fetch-assets.sh or set FACET_ASSETS)";
  const json g = load_json(fixture("golden_" + name + ".json"));
  Context ctx;
  Model m = load_tflite(ctx, path, Device::cpu());
  ASSERT_EQ(m.inputs().size(), 1u);
  ASSERT_EQ(m.inputs()[0].shape, json_shape(g["input_shape"]));
  const Tensor x = pattern(ctx, m.inputs()[0].shape);

  using clock = std::chrono::steady_clock;
  auto t0 = clock::now();
  std::vector<Tensor> outs = m.run(ctx, {x});
  const double first = std::chrono::duration<double>(clock::now() - t0).count();
  t0 = clock::now();
  outs = m.run(ctx, {x});
  const double second = std::chrono::duration<double>(clock::now() - t0).count();
  std::cout << "[ timing   ] " << name << " on the CPU: " << first * 1e3 << " ms (first run), " << second * 1e3
            << " ms (second)\n";
  RecordProperty("cpu_ms", std::to_string(second * 1e3));

  ASSERT_EQ(outs.size(), g["outputs"].size());
  for (size_t k = 0; k < outs.size(); ++k)
    expect_matches_summary(ctx, outs[k], g["outputs"][k], 2e-4, 2e-5, g["outputs"][k]["name"].get<std::string>());

  const std::vector<Tensor> all = m.run_all(ctx, {x});
  for (const json& s : g["intermediates"]) {
    const std::string what = "operator " + std::to_string(s["op_index"].get<int>()) + " (" +
                             s["op"].get<std::string>() + ")";
    expect_matches_summary(ctx, all.at(s["tensor"].get<size_t>()), s, 2e-4, 2e-5, what);
  }
}

INSTANTIATE_TEST_SUITE_P(Models, TfliteGolden, ::testing::ValuesIn(kRealModels));

// A batch of 2 through a real graph equals two batch-1 runs (the RESHAPE/CONCATENATION heads of
// the detector and the landmark model's 1x1 outputs included).
TEST_P(TfliteGolden, BatchOfTwoEqualsSingleRuns) {
  const std::string name = GetParam();
  const std::string path = asset(name + ".tflite");
  if (!exists(path)) GTEST_SKIP() << "missing " << path << " (run scripts/fetch-assets.sh or set FACET_ASSETS)";
  Context ctx;
  Model m = load_tflite(ctx, path, Device::cpu());
  Shape s = m.inputs()[0].shape;
  s[0] = 2;
  const std::vector<Tensor> batched = m.run(ctx, {pattern(ctx, s)});
  for (int n = 0; n < 2; ++n) {
    const std::vector<Tensor> single = m.run(ctx, {pattern(ctx, m.inputs()[0].shape, n)});
    for (size_t k = 0; k < single.size(); ++k) {
      Shape want = m.outputs()[k].shape;
      want[0] = 2;
      ASSERT_EQ(batched[k].shape(), want);
      EXPECT_LE(scaled_error(single[k].to_float(ctx), batched[k].slice0(n, n + 1).to_double(ctx), 1e-4, 1e-5), 1.0)
          << "output " << k << " sample " << n;
    }
  }
}
