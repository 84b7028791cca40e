// nn modules: double-precision gradient checks of every layer (input and parameter gradients),
// parameter naming and counting, state-dict round trips and their errors.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <functional>

#include "engine/autograd/tape.h"
#include "engine/core/error.h"
#include "engine/nn/layers.h"

using namespace facet;
using namespace facet::nn;

namespace {

// Checks d<r, m(x)>/dθ for x and every parameter θ against central differences.
void gradcheck_module(Context& ctx, UnaryModule& m, const Shape& xshape, int max_checks = 60) {
  Tensor x = Tensor::uniform(ctx, xshape, -1, 1, DType::F64, Device::cpu()).set_requires_grad(true);
  Tensor y = m(ctx, x);
  Tensor r = Tensor::uniform(ctx, y.shape(), -1, 1, DType::F64, Device::cpu());
  std::vector<double> rv = r.to_double(ctx);
  backward(ctx, y, r);
  auto loss = [&]() {
    NoGradGuard ng(ctx);
    std::vector<double> out = m(ctx, x).to_double(ctx);
    double s = 0;
    for (size_t i = 0; i < out.size(); ++i) s += rv[i] * out[i];
    return s;
  };
  std::vector<std::pair<std::string, Tensor>> checked = m.named_parameters();
  checked.emplace_back("input", x);
  for (auto& [name, t] : checked) {
    ASSERT_TRUE(t.grad().defined()) << name;
    std::vector<double> g = t.grad().to_double(ctx);
    double* p = t.data_as<double>();
    int64_t step = std::max<int64_t>(1, t.numel() / max_checks);
    for (int64_t j = 0; j < t.numel(); j += step) {
      double v = p[j], eps = 1e-6 * std::max(1.0, std::fabs(v));
      p[j] = v + eps;
      double lp = loss();
      p[j] = v - eps;
      double lm = loss();
      p[j] = v;
      double num = (lp - lm) / (2 * eps);
      ASSERT_NEAR(g[j], num, 1e-5 * std::max({1.0, std::fabs(num), std::fabs(g[j])})) << name << "[" << j << "]";
    }
  }
}

const LayerInit kF64{Device::cpu(), DType::F64};

}  // namespace

TEST(Modules, Conv2dGradCheck) {
  Context ctx;
  Conv2d m(ctx, 3, 5, 3, 1, true, kF64);
  gradcheck_module(ctx, m, {2, 6, 7, 3});
}

TEST(Modules, DenseGradCheck) {
  Context ctx;
  Dense m(ctx, 7, 4, true, kF64);
  gradcheck_module(ctx, m, {3, 7});
}

TEST(Modules, DownscaleGradCheck) {
  Context ctx;
  Downscale m(ctx, 3, 4, 5, kF64);
  auto y = m(ctx, Tensor::zeros(ctx, {1, 8, 8, 3}, DType::F64, Device::cpu()));
  EXPECT_EQ(y.shape(), (Shape{1, 4, 4, 4}));  // k5 s2 with DFL's symmetric padding halves H, W
  ctx.tape().clear();
  gradcheck_module(ctx, m, {2, 8, 6, 3});
}

TEST(Modules, UpscaleGradCheck) {
  Context ctx;
  Upscale m(ctx, 4, 3, 3, kF64);
  auto y = m(ctx, Tensor::zeros(ctx, {1, 3, 5, 4}, DType::F64, Device::cpu()));
  EXPECT_EQ(y.shape(), (Shape{1, 6, 10, 3}));
  ctx.tape().clear();
  gradcheck_module(ctx, m, {2, 3, 4, 4});
}

TEST(Modules, ResidualBlockGradCheck) {
  Context ctx;
  ResidualBlock m(ctx, 4, 3, kF64);
  gradcheck_module(ctx, m, {2, 5, 5, 4});
}

TEST(Modules, NamesCountsAndInit) {
  Context ctx;
  ResidualBlock m(ctx, 8);
  auto named = m.named_parameters();
  ASSERT_EQ(named.size(), 4u);
  EXPECT_EQ(named[0].first, "conv1/weight");
  EXPECT_EQ(named[3].first, "conv2/bias");
  EXPECT_EQ(m.num_parameters(), 2 * (8 * 3 * 3 * 8 + 8));
  // glorot-uniform bound sqrt(6 / (fan_in + fan_out)) and zero biases
  double limit = std::sqrt(6.0 / (9 * 8 + 9 * 8));
  auto w = m.conv1->weight.to_double(ctx);
  double mx = 0;
  for (double v : w) mx = std::max(mx, std::fabs(v));
  EXPECT_LE(mx, limit);
  EXPECT_GT(mx, 0.8 * limit);
  for (double v : m.conv1->bias.to_double(ctx)) EXPECT_EQ(v, 0.0);
}

TEST(Modules, StateDictRoundTripAndErrors) {
  Context ctx(Device::cpu(), 1), ctx2(Device::cpu(), 2);
  Upscale a(ctx, 4, 2), b(ctx2, 4, 2);
  EXPECT_NE(a.conv1->weight.to_double(ctx), b.conv1->weight.to_double(ctx2));
  b.load_state_dict(ctx2, a.state_dict());
  EXPECT_EQ(a.conv1->weight.to_double(ctx), b.conv1->weight.to_double(ctx2));
  Upscale wrong(ctx, 4, 3);
  try {
    b.load_state_dict(ctx2, wrong.state_dict());
    FAIL() << "shape mismatch accepted";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("conv1/weight"), std::string::npos) << e.what();
  }
  NamedTensors partial = a.state_dict();
  partial.pop_back();
  EXPECT_THROW(b.load_state_dict(ctx2, partial), Error);
}
