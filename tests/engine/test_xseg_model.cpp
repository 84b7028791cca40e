// The XSeg segmenter (engine/models/xseg_model.h): option checks, shapes and DFL's parameter
// names, a double-precision gradient check of a toy network through every block kind (conv, FRN,
// TLU, blur pool, dense bottleneck, sub-pixel upconv, skip concat), learning a mask with DFL's
// RMSprop and loss, and (with a CUDA device, or on the emulated one) GPU-vs-CPU parity.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <set>

#include "engine/autograd/tape.h"
#include "engine/core/error.h"
#include "engine/models/xseg_model.h"
#include "engine/ops/elementwise.h"
#include "engine/ops/losses.h"
#include "engine/optim/optimizer.h"
#include "engine/optim/parameter_buffer.h"
#include "support/sampled_gradcheck.h"

using namespace facet;
using namespace facet::models;

namespace {

XSegOptions toy(int res = 64, int base = 2) { return XSegOptions{res, base}; }

// A disc on a textured background: image [N,R,R,3] and its mask [N,R,R,1], the disc moving per sample.
void disc_batch(Context& ctx, int64_t n, int64_t r, DType dt, Tensor* img, Tensor* mask) {
  std::vector<double> im(static_cast<size_t>(n * r * r * 3)), m(static_cast<size_t>(n * r * r));
  for (int64_t b = 0; b < n; ++b) {
    const double cx = r * (0.35 + 0.1 * b), cy = r * (0.55 - 0.07 * b), rad = r * 0.28;
    for (int64_t y = 0; y < r; ++y)
      for (int64_t x = 0; x < r; ++x) {
        const bool in = (x - cx) * (x - cx) + (y - cy) * (y - cy) < rad * rad;
        const size_t p = static_cast<size_t>((b * r + y) * r + x);
        m[p] = in;
        const double tex = 0.5 + 0.3 * std::sin(0.7 * x + 1.3 * y);
        for (int c = 0; c < 3; ++c) im[p * 3 + c] = in ? 0.55 + 0.1 * c : tex * (0.3 + 0.2 * c);
      }
  }
  *img = Tensor::from_vector(ctx, {n, r, r, 3}, im, dt);
  *mask = Tensor::from_vector(ctx, {n, r, r, 1}, m, dt);
}

}  // namespace

TEST(XSegModel, ValidatesOptions) {
  for (XSegOptions bad : {XSegOptions{96, 8}, XSegOptions{32, 8}, XSegOptions{64, 0}}) {
    try {
      validate(bad);
      FAIL() << bad.resolution << "/" << bad.base_channels;
    } catch (const Error& e) {
      EXPECT_NE(std::string(e.what()).find("xseg"), std::string::npos) << e.what();
    }
  }
  EXPECT_NO_THROW(validate(XSegOptions{}));
}

TEST(XSegModel, ShapesAndDflNames) {
  Context ctx(Device::cpu(), 1);
  XSegModel model(ctx, toy(128, 2));
  std::set<std::string> names;
  for (auto& [n, t] : model.named_parameters()) names.insert(n);
  for (const char* n : {"conv01/conv/weight", "conv01/frn/weight", "conv01/frn/bias", "conv01/frn/eps", "conv01/tlu/tau",
                        "conv22/conv/bias", "conv53/tlu/tau", "dense1/weight", "dense2/bias", "up5/conv/weight",
                        "uconv53/frn/weight", "uconv22/conv/weight", "uconv01/tlu/tau", "out_conv/weight", "out_conv/bias"})
    EXPECT_TRUE(names.count(n)) << n;
  EXPECT_FALSE(names.count("conv23/conv/weight"));  // stage 2 has two blocks, as in DFL
  Tensor faces = Tensor::uniform(ctx, {2, 128, 128, 3}, 0, 1, DType::F32, Device::cpu());
  NoGradGuard ng(ctx);
  Tensor m = model.mask(ctx, faces);
  EXPECT_EQ(m.shape(), (Shape{2, 128, 128, 1}));
  for (double v : m.to_double(ctx)) ASSERT_TRUE(v >= 0 && v <= 1);
  EXPECT_THROW(model.mask(ctx, Tensor::uniform(ctx, {1, 64, 64, 3}, 0, 1, DType::F32, Device::cpu())), Error);
}

TEST(XSegModel, GradCheckDouble) {
  Context ctx(Device::cpu(), 7);
  XSegModel model(ctx, toy(64, 2), {Device::cpu(), DType::F64});
  // Random biases and thresholds keep pre-activations off the TLU kinks; FRN's eps (1e-6, used as
  // |eps|) is moved away from the kink of |.| at 0, which a finite-difference step would cross.
  for (auto& [name, t] : model.named_parameters())
    if (name.find("bias") != std::string::npos || name.find("tau") != std::string::npos)
      t.copy_from(ctx, Tensor::uniform(ctx, t.shape(), -0.3, 0.3, DType::F64, Device::cpu()));
    else if (name.find("/eps") != std::string::npos)
      t.copy_from(ctx, Tensor::uniform(ctx, t.shape(), 0.01, 0.1, DType::F64, Device::cpu()));
  Tensor faces = Tensor::uniform(ctx, {2, 64, 64, 3}, 0, 1, DType::F64, Device::cpu()).set_requires_grad(true);
  Tensor r = Tensor::uniform(ctx, {2, 64, 64, 1}, -1, 1, DType::F64, Device::cpu());
  auto objective = [&]() { return sum(ctx, mul(ctx, model.logits(ctx, faces), r)); };
  backward(ctx, objective());
  auto value = [&]() {
    NoGradGuard ng(ctx);
    return objective().to_double(ctx)[0];
  };
  auto checked = model.named_parameters();
  checked.emplace_back("input", faces);
  const test::SampledGradcheck gc = test::sampled_gradcheck(ctx, checked, value, 5, 2, 1e-5);
  EXPECT_GT(gc.checked, 150);
  EXPECT_LT(gc.retried * 10, gc.checked) << gc.retried << " of " << gc.checked;
}

TEST(XSegModel, LearnsAMaskWithDflsOptimizerAndLoss) {
  Context ctx(Device::cpu(), 11);
  XSegModel model(ctx, toy(64, 4));
  ParameterBuffer params(ctx, model.parameters());
  RMSpropOptions ro;
  ro.lr = 1e-3;  // DFL trains at 1e-4 for 10k+ iterations; a short test needs a larger step
  RMSprop opt(ctx, params, ro);
  Tensor img, mask;
  disc_batch(ctx, 4, 64, DType::F32, &img, &mask);
  double first = 0, last = 0;
  for (int it = 0; it < 60; ++it) {
    params.zero_grad(ctx);
    Tensor loss = sum(ctx, sigmoid_cross_entropy(ctx, model.logits(ctx, img), mask));
    const double v = loss.to_double(ctx)[0];
    if (it == 0) first = v;
    last = v;
    backward(ctx, loss);
    opt.step(ctx);
  }
  EXPECT_LT(last, 0.25 * first) << first << " -> " << last;
  NoGradGuard ng(ctx);
  const std::vector<double> pred = model.mask(ctx, img).to_double(ctx), truth = mask.to_double(ctx);
  double inter = 0, uni = 0;
  for (size_t i = 0; i < pred.size(); ++i) {
    const bool p = pred[i] > 0.5, t = truth[i] > 0.5;
    inter += p && t;
    uni += p || t;
  }
  EXPECT_GT(inter / uni, 0.9);
}

TEST(GpuXSegModel, ForwardAndGradientsMatchCpu) {
  if (!cuda_available()) GTEST_SKIP() << "no CUDA device";
  Context cc(Device::cpu(), 5), gc(Device::cuda(0), 5);
  XSegModel cm(cc, toy(64, 4));
  XSegModel gm(gc, toy(64, 4), {Device::cuda(0), DType::F32});
  gm.load_state_dict(gc, cm.state_dict());
  Tensor img, mask;
  disc_batch(cc, 2, 64, DType::F32, &img, &mask);
  auto run = [&](Context& ctx, XSegModel& m, std::vector<double>* grads) {
    Tensor loss = sum(ctx, sigmoid_cross_entropy(ctx, m.logits(ctx, img.to(ctx, ctx.device())), mask.to(ctx, ctx.device())));
    const double v = loss.to_double(ctx)[0];
    backward(ctx, loss);
    for (auto& [n, t] : m.named_parameters()) {
      const std::vector<double> g = t.grad().to_double(ctx);
      grads->insert(grads->end(), g.begin(), g.begin() + std::min<size_t>(g.size(), 16));
    }
    return v;
  };
  std::vector<double> gcpu, ggpu;
  const double vc = run(cc, cm, &gcpu), vg = run(gc, gm, &ggpu);
  EXPECT_NEAR(vg, vc, 1e-3 * std::fabs(vc));
  ASSERT_EQ(gcpu.size(), ggpu.size());
  double scale = 0;
  for (double g : gcpu) scale = std::max(scale, std::fabs(g));
  for (size_t i = 0; i < gcpu.size(); ++i) EXPECT_NEAR(ggpu[i], gcpu[i], 2e-2 * scale) << "grad " << i;
}
