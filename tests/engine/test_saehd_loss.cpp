// SAEHD loss (engine/models/saehd_loss): DFL's resolution rules, every term alone on tiny inputs
// against values worked out by hand, DSSIM on masked images when masked_training is on, the two
// DSSIM windows from R >= 256, the batch reduction (sum to differentiate, mean to log), and a
// double-precision central-difference check of the whole loss.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <map>
#include <string>
#include <vector>

#include "engine/autograd/tape.h"
#include "engine/core/error.h"
#include "engine/models/saehd_loss.h"
#include "engine/models/saehd_model.h"
#include "engine/ops/elementwise.h"
#include "engine/ops/losses.h"

using namespace facet;
using namespace facet::models;

namespace {

const double kC1 = 0.01 * 0.01;

Tensor full_f64(Context& ctx, const Shape& s, double v) { return Tensor::full(ctx, s, v, DType::F64, Device::cpu()); }
Tensor from_f64(Context& ctx, const Shape& s, const std::vector<double>& v) {
  return Tensor::from_vector(ctx, s, v, DType::F64, Device::cpu());
}
double at(Context& ctx, const Tensor& t, int64_t i) { return t.to_double(ctx)[static_cast<size_t>(i)]; }

// A config without the resolution rules, for images smaller than DFL's windows.
SaehdLossConfig small_config(int fs, bool masked, bool em = false, int fs2 = 0, double sigma = 1) {
  SaehdLossConfig c;
  c.resolution = 16;
  c.masked_training = masked;
  c.eyes_mouth_prio = em;
  c.dssim_filter = fs;
  c.dssim_filter2 = fs2;
  c.mask_blur_sigma = sigma;
  return c;
}

}  // namespace

TEST(SaehdLoss, ResolutionRules) {
  // int(R/11.6) and int(R/23.2), as DFL's Model_SAEHD/Model.py sizes the DSSIM filters.
  const std::vector<std::pair<int, int>> fs = {{64, 5}, {96, 8}, {128, 11}, {192, 16}, {224, 19}, {256, 22}, {320, 27}};
  for (auto [r, f] : fs) EXPECT_EQ(saehd_dssim_filter(r), f) << r;
  EXPECT_EQ(saehd_dssim_filter2(128), 0);
  EXPECT_EQ(saehd_dssim_filter2(224), 0);
  EXPECT_EQ(saehd_dssim_filter2(256), 11);
  EXPECT_EQ(saehd_dssim_filter2(320), 13);
  // max(1, R//32)
  const std::vector<std::pair<int, int>> sg = {{16, 1}, {31, 1}, {64, 2}, {96, 3}, {128, 4}, {256, 8}, {512, 16}};
  for (auto [r, s] : sg) EXPECT_EQ(saehd_mask_blur_sigma(r), s) << r;
  SaehdLossConfig c = SaehdLossConfig::for_resolution(256, false, true);
  EXPECT_EQ(c.dssim_filter, 22);
  EXPECT_EQ(c.dssim_filter2, 11);
  EXPECT_EQ(c.mask_blur_sigma, 8);
  EXPECT_FALSE(c.masked_training);
  EXPECT_TRUE(c.eyes_mouth_prio);
  SaehdOptions o = saehd_preset("quick96");
  c = SaehdLossConfig::from_options(o);
  EXPECT_EQ(c.dssim_filter, 8);
  EXPECT_EQ(c.mask_blur_sigma, 3);
  EXPECT_TRUE(c.masked_training);
}

TEST(SaehdLoss, SoftMaskFollowsTheSigmaRule) {
  // A single lit pixel in a 15x15 mask: the blurred centre is g0^2 / (sum g)^2 (DFL's kernel,
  // size max(3, int(4 sigma)) made odd, sampled at integer offsets), then clip(., 0, 0.5) * 2.
  Context ctx;
  auto centre = [&](double sigma) {
    const int ks0 = std::max(3, static_cast<int>(4 * sigma)), ks = ks0 % 2 ? ks0 : ks0 + 1;
    double s = 0;
    for (int x = -ks / 2; x <= ks / 2; ++x) s += std::exp(-x * x / (2 * sigma * sigma));
    return std::min(1.0 / (s * s), 0.5) * 2;
  };
  std::vector<double> v(15 * 15, 0.0);
  v[7 * 15 + 7] = 1.0;
  Tensor m = from_f64(ctx, {1, 15, 15, 1}, v);
  for (int r : {16, 64, 96}) {  // sigma 1 (kernel 5), 2 (kernel 9), 3 (kernel 13)
    const double sigma = saehd_mask_blur_sigma(r);
    EXPECT_NEAR(at(ctx, saehd_soft_mask(ctx, m, sigma), 7 * 15 + 7), centre(sigma), 1e-12) << "R " << r;
  }
  EXPECT_NEAR(centre(2), 2 * std::pow(1 / (1 + 2 * (std::exp(-0.125) + std::exp(-0.5) + std::exp(-1.125) + std::exp(-2))), 2),
              1e-12);
  // A solid mask saturates: the blur reaches 0.5 well inside, so mb is exactly 1 there, and 0 far outside.
  std::vector<double> half(1 * 15 * 15, 0.0);
  for (int y = 0; y < 15; ++y)
    for (int x = 0; x < 8; ++x) half[y * 15 + x] = 1.0;
  Tensor mb = saehd_soft_mask(ctx, from_f64(ctx, {1, 15, 15, 1}, half), 1.0);
  // Along a row (the vertical kernel sums to 1 mid-image): the last lit column sees (g0+g1+g2)/s
  // >= 0.5, so mb = 1; the first unlit one sees (g1+g2)/s < 0.5 and ramps down: a soft dilation.
  const double g1 = std::exp(-0.5), g2 = std::exp(-2.0), s = 1 + 2 * g1 + 2 * g2;
  EXPECT_DOUBLE_EQ(at(ctx, mb, 7 * 15 + 3), 1.0);
  EXPECT_NEAR(at(ctx, mb, 7 * 15 + 7), 1.0, 1e-15);
  EXPECT_NEAR(at(ctx, mb, 7 * 15 + 8), 2 * (g1 + g2) / s, 1e-12);
  EXPECT_NEAR(at(ctx, mb, 7 * 15 + 9), 2 * g2 / s, 1e-12);
  EXPECT_NEAR(at(ctx, mb, 7 * 15 + 14), 0.0, 1e-15);
}

TEST(SaehdLoss, DssimTermByHandUnmasked) {
  // With a 1x1 window every local variance is 0, so SSIM per pixel is (2xy + c1) / (x^2 + y^2 + c1).
  Context ctx;
  const std::vector<double> t = {0.1, 0.5, 0.9, 0.2, 0.4, 0.6, 0.3, 0.3, 0.3, 1.0, 0.0, 0.5};
  const std::vector<double> p = {0.2, 0.5, 0.7, 0.2, 0.1, 0.9, 0.0, 0.3, 0.6, 0.9, 0.1, 0.5};
  Tensor target = from_f64(ctx, {1, 2, 2, 3}, t), pred = from_f64(ctx, {1, 2, 2, 3}, p);
  Tensor m = full_f64(ctx, {1, 2, 2, 1}, 1.0);
  SaehdSideLoss l = saehd_side_loss(ctx, small_config(1, false), target, pred, m, m);
  double ssim = 0, mse = 0;
  for (size_t i = 0; i < t.size(); ++i) {
    ssim += (2 * t[i] * p[i] + kC1) / (t[i] * t[i] + p[i] * p[i] + kC1);
    mse += (t[i] - p[i]) * (t[i] - p[i]);
  }
  ssim /= t.size();
  mse /= t.size();
  EXPECT_NEAR(at(ctx, l.dssim, 0), 10 * (1 - ssim) / 2, 1e-9);
  EXPECT_NEAR(at(ctx, l.mse, 0), 10 * mse, 1e-12);
  EXPECT_NEAR(at(ctx, l.mask, 0), 0.0, 1e-15);
  EXPECT_FALSE(l.eyes_mouth.defined());
  EXPECT_NEAR(at(ctx, l.total, 0), 10 * (1 - ssim) / 2 + 10 * mse, 1e-9);
}

TEST(SaehdLoss, ConstantImagesWithDflWindow) {
  // R = 64 -> window 5. Constant images have zero local variance, so DSSIM is (1 - s)/2 with
  // s = (2xy + c1)/(x^2 + y^2 + c1) whatever the window; MSE is (x - y)^2.
  Context ctx;
  SaehdLossConfig c = SaehdLossConfig::for_resolution(64, false);
  ASSERT_EQ(c.dssim_filter, 5);
  Tensor t = full_f64(ctx, {2, 8, 8, 3}, 0.5), p = full_f64(ctx, {2, 8, 8, 3}, 0.3);
  Tensor m = full_f64(ctx, {2, 8, 8, 1}, 1.0);
  SaehdSideLoss l = saehd_side_loss(ctx, c, t, p, m, m);
  const double s = (2 * 0.5 * 0.3 + kC1) / (0.25 + 0.09 + kC1);
  for (int b = 0; b < 2; ++b) {
    EXPECT_NEAR(at(ctx, l.dssim, b), 10 * (1 - s) / 2, 1e-12);
    EXPECT_NEAR(at(ctx, l.mse, b), 10 * 0.04, 1e-12);
    EXPECT_NEAR(at(ctx, l.total, b), 10 * (1 - s) / 2 + 0.4, 1e-12);
  }
}

TEST(SaehdLoss, MaskTermByHand) {
  Context ctx;
  Tensor img = full_f64(ctx, {2, 4, 4, 3}, 0.5);
  std::vector<double> tm(32), pm(32);
  double want[2] = {0, 0};
  for (int i = 0; i < 32; ++i) {
    tm[i] = (i % 3 == 0) ? 1.0 : 0.0;
    pm[i] = 0.05 * (i % 7) + 0.1;
    want[i / 16] += (tm[i] - pm[i]) * (tm[i] - pm[i]) / 16;
  }
  // Identical images: DSSIM and MSE vanish (masked or not), so the total is the mask term.
  for (bool masked : {false, true}) {
    SaehdSideLoss l = saehd_side_loss(ctx, small_config(3, masked), img, img, from_f64(ctx, {2, 4, 4, 1}, pm),
                                      from_f64(ctx, {2, 4, 4, 1}, tm));
    for (int b = 0; b < 2; ++b) {
      EXPECT_NEAR(at(ctx, l.mask, b), 10 * want[b], 1e-12);
      EXPECT_NEAR(at(ctx, l.dssim, b), 0.0, 1e-12);
      EXPECT_NEAR(at(ctx, l.total, b), 10 * want[b], 1e-12);
    }
  }
}

TEST(SaehdLoss, MaskedMseUsesTheSquaredSoftMask) {
  // An all-ones 8x8 mask blurred with sigma 1 (kernel 5, zero padding): every pixel reaches 0.5
  // except the four corners, where the blur is (h/s)^2 with h = g0+g1+g2, s = g0+2g1+2g2.
  // DFL compares t*mb with p*mb, so the MSE weight is mb^2.
  Context ctx;
  const double g1 = std::exp(-0.5), g2 = std::exp(-2.0), h = 1 + g1 + g2, s = 1 + 2 * g1 + 2 * g2;
  const double corner = std::min((h / s) * (h / s), 0.5) * 2;
  ASSERT_LT(corner, 1.0);
  Tensor t = full_f64(ctx, {1, 8, 8, 3}, 0.5), p = full_f64(ctx, {1, 8, 8, 3}, 0.3);
  Tensor m = full_f64(ctx, {1, 8, 8, 1}, 1.0);
  SaehdSideLoss l = saehd_side_loss(ctx, small_config(3, true, false, 0, 1.0), t, p, m, m);
  EXPECT_NEAR(at(ctx, l.mse, 0), 10 * 0.04 * (60 + 4 * corner * corner) / 64, 1e-12);
  // Zero mask: both images vanish, so DSSIM and MSE are 0 and only the mask term is left.
  Tensor z = full_f64(ctx, {1, 8, 8, 1}, 0.0);
  l = saehd_side_loss(ctx, small_config(3, true), t, p, m, z);
  EXPECT_NEAR(at(ctx, l.dssim, 0), 0.0, 1e-12);
  EXPECT_NEAR(at(ctx, l.mse, 0), 0.0, 1e-15);
  EXPECT_NEAR(at(ctx, l.mask, 0), 10.0, 1e-12);
}

TEST(SaehdLoss, DssimSeesMaskedImagesWhenMaskedTraining) {
  // DFL feeds target*mb and pred*mb to DSSIM too (Model.py L455-463), not the raw images.
  Context ctx;
  Tensor t = Tensor::uniform(ctx, {2, 12, 12, 3}, 0, 1, DType::F64, Device::cpu());
  Tensor p = Tensor::uniform(ctx, {2, 12, 12, 3}, 0, 1, DType::F64, Device::cpu());
  std::vector<double> mv(2 * 12 * 12, 0.0);
  for (int b = 0; b < 2; ++b)
    for (int y = 3; y < 9; ++y)
      for (int x = 2 + b; x < 10; ++x) mv[(b * 12 + y) * 12 + x] = 1.0;
  Tensor m = from_f64(ctx, {2, 12, 12, 1}, mv);
  SaehdLossConfig c = small_config(4, true, false, 0, 1.0);
  SaehdSideLoss l = saehd_side_loss(ctx, c, t, p, m, m);
  Tensor mb = saehd_soft_mask(ctx, m, 1.0);
  Tensor want = dssim(ctx, mul(ctx, t, mb), mul(ctx, p, mb), 4);
  Tensor raw = dssim(ctx, t, p, 4);
  for (int b = 0; b < 2; ++b) {
    EXPECT_NEAR(at(ctx, l.dssim, b), 10 * at(ctx, want, b), 1e-12);
    EXPECT_GT(std::fabs(at(ctx, l.dssim, b) - 10 * at(ctx, raw, b)), 1e-3);
  }
}

TEST(SaehdLoss, TwoWindowsFromResolution256) {
  Context ctx;
  Tensor t = Tensor::uniform(ctx, {2, 8, 8, 3}, 0, 1, DType::F64, Device::cpu());
  Tensor p = Tensor::uniform(ctx, {2, 8, 8, 3}, 0, 1, DType::F64, Device::cpu());
  Tensor m = full_f64(ctx, {2, 8, 8, 1}, 1.0);
  SaehdSideLoss l = saehd_side_loss(ctx, small_config(5, false, false, 3), t, p, m, m);
  Tensor d5 = dssim(ctx, t, p, 5), d3 = dssim(ctx, t, p, 3);
  for (int b = 0; b < 2; ++b) EXPECT_NEAR(at(ctx, l.dssim, b), 5 * at(ctx, d5, b) + 5 * at(ctx, d3, b), 1e-12);
}

TEST(SaehdLoss, EyesMouthTermByHand) {
  // em lights a 2x2 block of an 8x8 image: 300 * mean over H,W,C of em*|t - p| = 300 * (4/64) * 0.2,
  // computed on the unmasked images even with masked_training on (the face mask is zero here).
  Context ctx;
  Tensor t = full_f64(ctx, {1, 8, 8, 3}, 0.5), p = full_f64(ctx, {1, 8, 8, 3}, 0.3);
  std::vector<double> em(64, 0.0);
  em[2 * 8 + 2] = em[2 * 8 + 3] = em[3 * 8 + 2] = em[3 * 8 + 3] = 1.0;
  Tensor z = full_f64(ctx, {1, 8, 8, 1}, 0.0);
  SaehdSideLoss l = saehd_side_loss(ctx, small_config(3, true, true), t, p, z, z, from_f64(ctx, {1, 8, 8, 1}, em));
  ASSERT_TRUE(l.eyes_mouth.defined());
  EXPECT_NEAR(at(ctx, l.eyes_mouth, 0), 300 * (4.0 / 64) * 0.2, 1e-12);
  EXPECT_NEAR(at(ctx, l.total, 0), 3.75, 1e-12);  // masked DSSIM, MSE and mask terms are all 0
  // eyes_mouth_prio without the mask is an error naming it
  try {
    saehd_side_loss(ctx, small_config(3, true, true), t, p, z, z);
    FAIL() << "missing target_em accepted";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("target_em"), std::string::npos) << e.what();
  }
}

TEST(SaehdLoss, ShapeErrors) {
  Context ctx;
  Tensor t = full_f64(ctx, {1, 8, 8, 3}, 0.5), m = full_f64(ctx, {1, 8, 8, 1}, 1.0);
  EXPECT_THROW(saehd_side_loss(ctx, small_config(3, true), t, full_f64(ctx, {1, 8, 7, 3}, 0.5), m, m), Error);
  EXPECT_THROW(saehd_side_loss(ctx, small_config(3, true), t, t, full_f64(ctx, {1, 8, 8, 3}, 0.5), m), Error);
  EXPECT_THROW(saehd_side_loss(ctx, small_config(9, false), t, t, m, m), Error);  // window larger than image
}

TEST(SaehdLoss, ReductionSumsToDifferentiateAndMeansToLog) {
  // The same sample twice in a batch: with the SUM objective each copy gets the gradient a batch
  // of one gets (a mean would halve it); the logged value is the mean; objective = src + dst sums.
  Context ctx;
  Tensor t1 = Tensor::uniform(ctx, {1, 8, 8, 3}, 0, 1, DType::F64, Device::cpu());
  Tensor p1 = Tensor::uniform(ctx, {1, 8, 8, 3}, 0, 1, DType::F64, Device::cpu());
  Tensor m1 = Tensor::uniform(ctx, {1, 8, 8, 1}, 0, 1, DType::F64, Device::cpu());
  Tensor pm1 = Tensor::uniform(ctx, {1, 8, 8, 1}, 0, 1, DType::F64, Device::cpu());
  auto twice = [&](const Tensor& x) {
    std::vector<double> v = x.to_double(ctx), w = v;
    w.insert(w.end(), v.begin(), v.end());
    Shape s = x.shape();
    s[0] = 2;
    return from_f64(ctx, s, w);
  };
  SaehdLossConfig c = small_config(3, true);
  Tensor pa = p1.clone(ctx).set_requires_grad(true);
  Tensor la = saehd_objective(ctx, saehd_side_loss(ctx, c, t1, pa, pm1, m1).total);
  const double one = la.to_double(ctx)[0];
  backward(ctx, la);
  std::vector<double> ga = pa.grad().to_double(ctx);

  Tensor pb = twice(p1).set_requires_grad(true);
  SaehdSideLoss lb = saehd_side_loss(ctx, c, twice(t1), pb, twice(pm1), twice(m1));
  EXPECT_NEAR(saehd_logged_loss(ctx, lb.total), one, 1e-12);
  Tensor ob = saehd_objective(ctx, lb.total, lb.total);  // src + dst
  EXPECT_NEAR(ob.to_double(ctx)[0], 4 * one, 1e-11);
  ctx.tape().clear();
  Tensor sb = saehd_objective(ctx, saehd_side_loss(ctx, c, twice(t1), pb, twice(pm1), twice(m1)).total);
  EXPECT_NEAR(sb.to_double(ctx)[0], 2 * one, 1e-12);
  backward(ctx, sb);
  std::vector<double> gb = pb.grad().to_double(ctx);
  ASSERT_EQ(gb.size(), 2 * ga.size());
  for (size_t i = 0; i < ga.size(); ++i) {
    ASSERT_NEAR(gb[i], ga[i], 1e-14) << i;
    ASSERT_NEAR(gb[i + ga.size()], ga[i], 1e-14) << i;
  }
}

TEST(SaehdLoss, WholeLossGradCheckDouble) {
  // Every term on (two DSSIM windows, soft mask, eyes/mouth, mask branch) on 16x16 images; the
  // sum objective against central differences in pred and pred_mask.
  Context ctx(Device::cpu(), 7);
  const Shape is = {2, 16, 16, 3}, ms = {2, 16, 16, 1};
  Tensor t = Tensor::uniform(ctx, is, 0, 1, DType::F64, Device::cpu());
  Tensor p = Tensor::uniform(ctx, is, 0, 1, DType::F64, Device::cpu()).set_requires_grad(true);
  Tensor pm = Tensor::uniform(ctx, ms, 0, 1, DType::F64, Device::cpu()).set_requires_grad(true);
  std::vector<double> mv(2 * 16 * 16), ev(2 * 16 * 16);
  for (int b = 0; b < 2; ++b)
    for (int y = 0; y < 16; ++y)
      for (int x = 0; x < 16; ++x) {
        const int i = (b * 16 + y) * 16 + x;
        mv[i] = (std::abs(y - 8) + std::abs(x - 7 - b) < 6) ? 1.0 : 0.0;
        ev[i] = (y >= 5 && y < 8 && x >= 4 && x < 11) ? 1.0 : 0.0;
      }
  Tensor m = from_f64(ctx, ms, mv), em = from_f64(ctx, ms, ev);
  SaehdLossConfig c = small_config(5, true, true, 3, 1.0);
  auto objective = [&]() { return saehd_objective(ctx, saehd_side_loss(ctx, c, t, p, pm, m, em).total); };
  backward(ctx, objective());
  auto value = [&]() {
    NoGradGuard ng(ctx);
    return objective().to_double(ctx)[0];
  };
  for (Tensor* x : {&p, &pm}) {
    std::vector<double> g = x->grad().to_double(ctx);
    double* d = x->data_as<double>();
    for (int64_t j = 0; j < x->numel(); j += 7) {
      const double v = d[j], eps = 1e-6;
      d[j] = v + eps;
      const double lp = value();
      d[j] = v - eps;
      const double lm = value();
      d[j] = v;
      const double num = (lp - lm) / (2 * eps);
      ASSERT_NEAR(g[j], num, 1e-8 + 1e-6 * std::fabs(num)) << (x == &p ? "pred" : "pred_mask") << "[" << j << "]";
    }
  }
}

// ---------------------------------------------------------------- style terms

// Constant images: only the channel means differ (both deviations are sqrt(1e-5)).
TEST(SaehdStyle, StyleLossMeansByHand) {
  Context ctx;
  std::vector<double> a(2 * 4 * 5 * 3), b(a.size());
  for (size_t i = 0; i < a.size(); ++i) a[i] = 0.1 * static_cast<double>(i % 3 + 1), b[i] = 0.5;
  const Tensor l = style_loss(ctx, from_f64(ctx, {2, 4, 5, 3}, a), from_f64(ctx, {2, 4, 5, 3}, b), 0.0, 30.0);
  const double want = (0.4 * 0.4 + 0.3 * 0.3 + 0.2 * 0.2) * 30.0 / 3.0;
  EXPECT_NEAR(at(ctx, l, 0), want, 1e-12);
  EXPECT_NEAR(at(ctx, l, 1), want, 1e-12);
}

// A 0/1 checkerboard against a constant 0.5: equal means, deviations sqrt(0.25 + 1e-5) vs sqrt(1e-5).
TEST(SaehdStyle, StyleLossDeviationsByHand) {
  Context ctx;
  std::vector<double> a(1 * 4 * 4 * 2), b(a.size(), 0.5);
  for (int y = 0; y < 4; ++y)
    for (int x = 0; x < 4; ++x)
      for (int c = 0; c < 2; ++c) a[static_cast<size_t>((y * 4 + x) * 2 + c)] = (x + y) % 2;
  const Tensor l = style_loss(ctx, from_f64(ctx, {1, 4, 4, 2}, a), from_f64(ctx, {1, 4, 4, 2}, b), 0.0, 1.0);
  const double d = std::sqrt(0.25 + 1e-5) - std::sqrt(1e-5);
  EXPECT_NEAR(at(ctx, l, 0), 2 * d * d / 2, 1e-12);
}

namespace {

SaehdOptions style_toy(const std::string& archi) {
  SaehdOptions o;
  o.archi = archi, o.resolution = 64, o.ae_dims = 16, o.e_dims = 8, o.d_dims = 8, o.d_mask_dims = 4;
  o.allow_small_dims = true;
  return o;
}

// Largest |gradient| per top-level part ("encoder", "inter", "decoder_src", ...).
std::map<std::string, double> grad_by_part(Context& ctx, SaehdModel& m) {
  std::map<std::string, double> g;
  for (auto& [name, t] : m.named_parameters()) {
    const std::string part = name.substr(0, name.find('/'));
    double mx = 0;
    if (t.grad().defined())
      for (double v : t.grad().to_double(ctx)) mx = std::max(mx, std::fabs(v));
    g[part] = std::max(g[part], mx);
  }
  return g;
}

}  // namespace

// face_style_power trains the src decoder only (DFL decodes the swap from the dst code cut from
// the graph); bg_style_power reaches the encoder too, through the ordinary swap.
TEST(SaehdStyle, FaceStyleReachesOnlyTheSrcDecoderBgStyleTheEncoder) {
  for (const char* archi : {"df-ud", "liae-ud"}) {
    Context ctx(Device::cpu(), 3);
    auto m = SaehdModel::create(ctx, style_toy(archi));
    for (Tensor& t : m->parameters()) t.set_requires_grad(true);
    const Tensor src = Tensor::uniform(ctx, {2, 64, 64, 3}, 0, 1, DType::F32, Device::cpu());
    const Tensor dst = Tensor::uniform(ctx, {2, 64, 64, 3}, 0, 1, DType::F32, Device::cpu());
    const Tensor mask = Tensor::uniform(ctx, {2, 64, 64, 1}, 0, 1, DType::F32, Device::cpu());
    SaehdPredictions p = m->train_forward(ctx, src, dst, true, true);
    ASSERT_TRUE(p.src_dst_no_code_grad.image.defined());
    // the cut changes no value: the no-code-grad swap equals the ordinary one
    EXPECT_EQ(p.src_dst_no_code_grad.image.to_double(ctx), p.src_dst.image.to_double(ctx));
    const Tensor face = saehd_face_style_loss(ctx, 64, 50.0, p.src_dst_no_code_grad.image, p.src_dst_no_code_grad.mask,
                                              p.dst_dst.image, p.dst_dst.mask);
    EXPECT_GT(at(ctx, face, 0), 0.0);
    backward(ctx, sum(ctx, face));
    const auto gf = grad_by_part(ctx, *m);
    const bool df = std::string(archi).rfind("df", 0) == 0;
    EXPECT_EQ(gf.at("encoder"), 0.0) << archi;
    if (df) {
      EXPECT_EQ(gf.at("inter"), 0.0);
      EXPECT_EQ(gf.at("decoder_dst"), 0.0);
      EXPECT_GT(gf.at("decoder_src"), 0.0);
    } else {
      EXPECT_EQ(gf.at("inter_AB"), 0.0);
      EXPECT_EQ(gf.at("inter_B"), 0.0);
      EXPECT_GT(gf.at("decoder"), 0.0);
    }
    for (Tensor& t : m->parameters()) t.set_grad(Tensor());

    SaehdPredictions q = m->train_forward(ctx, src, dst, true, false);
    const SaehdLossConfig cfg = small_config(5, true);
    const Tensor bg = saehd_bg_style_loss(ctx, cfg, 50.0, q.src_dst.image, dst, mask);
    EXPECT_GT(at(ctx, bg, 0), 0.0);
    backward(ctx, sum(ctx, bg));
    EXPECT_GT(grad_by_part(ctx, *m).at("encoder"), 0.0) << archi;
    // identical images: no background difference
    EXPECT_NEAR(at(ctx, saehd_bg_style_loss(ctx, cfg, 50.0, dst, dst, mask), 1), 0.0, 1e-12);
  }
}
