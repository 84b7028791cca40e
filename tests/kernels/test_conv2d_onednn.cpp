// Checks the oneDNN convolutions (kernels/onednn/conv2d.h) against the reference kernels
// (kernels/cpu/conv2d.h, run in double): regular convolutions forward, backward-data and
// backward-weights with and without bias, depthwise forward, over every convolution shape the SAEHD models and the MediaPipe face nets use plus
// odd sizes, strides 1 and 2, TF SAME's asymmetric padding, VALID and explicit pads, at f32 and bf16.
//
// Tolerances are per element, scaled by the sum of the absolute products that make the element
// (the conv of |x| with |w|): an f32 sum of n terms is off by at most about n * 2^-24 of it, a sum of
// bf16-rounded products by about 2^-8 of it (2^-7 allowed). An indexing or padding mistake is caught by a second,
// much tighter test on the root-mean-square error relative to the outputs' own size. ctest runs
// this file once more with oneDNN limited to AVX2 (tests/CMakeLists.txt: ONEDNN_MAX_CPU_ISA), the
// kernels of a CI machine without AVX-512.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <random>
#include <string>
#include <vector>

#include "facet_config.h"
#include "kernels/common/error.h"
#include "kernels/cpu/conv2d.h"

#if FACET_HAS_ONEDNN
#include "kernels/onednn/conv2d.h"

using facet::cpu::Conv2dGeom;
using facet::onednn::Math;

namespace {

std::vector<float> randn(size_t n, uint32_t seed, float scale) {
  std::mt19937 rng(seed);
  std::normal_distribution<float> d(0.f, scale);
  std::vector<float> v(n);
  for (auto& x : v) x = d(rng);
  return v;
}

std::vector<double> to_double(const std::vector<float>& v) { return {v.begin(), v.end()}; }
std::vector<double> absolute(const std::vector<float>& v) {
  std::vector<double> a(v.size());
  for (size_t i = 0; i < v.size(); ++i) a[i] = std::fabs(v[i]);
  return a;
}

// got vs want, element i allowed eps * scale[i] + tiny; and rms(got - want) <= rms_rel * rms(want).
void expect_close(const std::vector<float>& got, const std::vector<double>& want, const std::vector<double>& scale,
                  double eps, double rms_rel, const std::string& what) {
  ASSERT_EQ(got.size(), want.size()) << what;
  double err2 = 0, ref2 = 0;
  size_t bad = 0, first = 0;
  double worst = 0;  // largest error / scale
  for (size_t i = 0; i < got.size(); ++i) {
    const double e = std::fabs(got[i] - want[i]);
    worst = std::max(worst, e / (scale[i] + 1e-30));
    err2 += e * e;
    ref2 += want[i] * want[i];
    if (!(e <= eps * scale[i] + 1e-6)) {
      if (!bad) first = i;
      ++bad;
    }
  }
  EXPECT_EQ(bad, 0u) << what << ": " << bad << " of " << got.size() << " elements out of tolerance, first #" << first
                     << " got " << got[first] << " want " << want[first] << " (scale " << scale[first]
                     << "; worst error / scale " << worst << ", allowed " << eps << ")";
  EXPECT_LE(std::sqrt(err2), rms_rel * std::sqrt(ref2) + 1e-6) << what << ": rms error too large";
}

struct Case {
  const char* name;
  Conv2dGeom g;
};

Conv2dGeom same(int64_t n, int64_t h, int64_t w, int64_t c, int64_t k, int64_t kk, int64_t s) {
  return facet::cpu::conv2d_geom_same(n, h, w, c, k, kk, kk, s, s);
}

std::vector<Case> cases() {
  using facet::cpu::conv2d_geom_explicit;
  using facet::cpu::conv2d_geom_valid;
  return {
      // SAEHD: encoder 5x5 stride-2 downscales (first from RGB), decoder 3x3 upscale convs (before
      // the pixel shuffle), residual 3x3 blocks, 1x1 output heads.
      {"enc_rgb_5x5s2", same(2, 32, 32, 3, 16, 5, 2)},
      {"enc_5x5s2", same(2, 16, 16, 16, 32, 5, 2)},
      {"enc_5x5s2_odd", same(3, 13, 11, 8, 24, 5, 2)},
      {"dec_upscale_3x3", same(2, 8, 8, 64, 128, 3, 1)},
      {"dec_residual_3x3", same(2, 12, 12, 32, 32, 3, 1)},
      {"out_head_1x1", same(2, 16, 16, 16, 3, 1, 1)},
      {"out_head_1x1_k12", same(2, 16, 16, 16, 12, 1, 1)},
      // MediaPipe face nets: BlazeFace's 5x5 / 3x3 stride-2 SAME (odd pad after), pointwise 1x1
      // convs, FaceMesh's 2x2 VALID and 3x3 convs with explicit pads.
      {"blazeface_first_5x5s2", same(1, 128, 128, 3, 24, 5, 2)},
      {"pointwise_1x1", same(2, 16, 16, 24, 48, 1, 1)},
      {"pointwise_odd_1x1", same(1, 7, 9, 13, 5, 1, 1)},
      {"same_3x3s2_even", same(2, 16, 16, 8, 8, 3, 2)},
      {"valid_2x2s2", conv2d_geom_valid(1, 8, 8, 16, 16, 2, 2, 2, 2)},
      {"valid_3x3", conv2d_geom_valid(2, 9, 7, 5, 6, 3, 3, 1, 1)},
      {"explicit_asym_pads", conv2d_geom_explicit(2, 10, 9, 6, 7, 3, 3, 1, 1, 0, 2, 1, 0)},
      {"explicit_pads_s2", conv2d_geom_explicit(1, 11, 12, 4, 5, 3, 3, 2, 2, 1, 1, 1, 1)},
      {"rect_kernel_s21", facet::cpu::conv2d_geom_same(2, 9, 10, 3, 4, 3, 5, 2, 1)},
  };
}

struct Reference {
  std::vector<double> y, y_scale, dx, dx_scale, dw, dw_scale, db, db_scale;
};

// The reference kernels in double, and the same with |x|, |w|, |dy| for the tolerance scales.
Reference reference(const Conv2dGeom& g, const std::vector<float>& x, const std::vector<float>& w,
                    const std::vector<float>& b, const std::vector<float>& dy) {
  namespace cpu = facet::cpu;
  Reference r;
  std::vector<double> ws(static_cast<size_t>(cpu::conv2d_workspace_elems(g)) + 1);
  r.y.resize(dy.size());
  r.y_scale.resize(dy.size());
  r.dx.resize(x.size());
  r.dx_scale.resize(x.size());
  r.dw.resize(w.size());
  r.dw_scale.resize(w.size());
  r.db.resize(b.size());
  r.db_scale.resize(b.size());
  const auto xd = to_double(x), wd = to_double(w), bd = to_double(b), dyd = to_double(dy);
  const auto xa = absolute(x), wa = absolute(w), ba = absolute(b), dya = absolute(dy);
  cpu::conv2d_forward<double>(g, xd.data(), wd.data(), bd.data(), r.y.data(), ws.data());
  cpu::conv2d_forward<double>(g, xa.data(), wa.data(), ba.data(), r.y_scale.data(), ws.data());
  cpu::conv2d_backward_data<double>(g, dyd.data(), wd.data(), r.dx.data(), ws.data());
  cpu::conv2d_backward_data<double>(g, dya.data(), wa.data(), r.dx_scale.data(), ws.data());
  cpu::conv2d_backward_filter<double>(g, xd.data(), dyd.data(), r.dw.data(), r.db.data(), ws.data());
  cpu::conv2d_backward_filter<double>(g, xa.data(), dya.data(), r.dw_scale.data(), r.db_scale.data(), ws.data());
  return r;
}

void check_case(const Case& c, Math math) {
  const Conv2dGeom& g = c.g;
  const auto x = randn(static_cast<size_t>(g.n * g.h * g.w * g.c), 1, 1.f);
  const auto w = randn(static_cast<size_t>(g.k * g.kh * g.kw * g.c), 2, 0.2f);
  const auto b = randn(static_cast<size_t>(g.k), 3, 1.f);
  const auto dy = randn(static_cast<size_t>(g.n * g.oh * g.ow * g.k), 4, 1.f);
  const Reference r = reference(g, x, w, b, dy);
  // f32: n * 2^-24 for the largest n here (5 * 5 * 64 products, or a filter-gradient sum over
  // 2 * 32 * 32 pixels) is under 1e-4. bf16: rounding both factors costs 2^-8 per product; the
  // backward-data kernels round once more inside (seen up to 1.6 * 2^-8 on AVX512_BF16), so 2^-7.
  const double eps = math == Math::BF16 ? 1.0 / 128 : 1e-4;
  const double rms = math == Math::BF16 ? 1e-2 : 1e-5;
  const std::string what = std::string(c.name) + (math == Math::BF16 ? " bf16" : " f32");

  facet::onednn::ConvCache dnn;
  std::vector<float> y(dy.size()), y_nobias(dy.size()), dx(x.size()), dw(w.size()), dw_only(w.size()), db(b.size());
  for (int rep = 0; rep < 2; ++rep) {  // the second call reuses the cached problem
    dnn.forward(g, math, x.data(), w.data(), b.data(), y.data());
    dnn.forward(g, math, x.data(), w.data(), nullptr, y_nobias.data());
    dnn.backward_data(g, math, dy.data(), w.data(), dx.data());
    dnn.backward_filter(g, math, x.data(), dy.data(), dw.data(), db.data());
    dnn.backward_filter(g, math, x.data(), dy.data(), dw_only.data(), nullptr);
    const std::string at = what + (rep ? " (cached)" : "");
    expect_close(y, r.y, r.y_scale, eps, rms, at + " forward");
    std::vector<double> y_nb(r.y), y_nb_scale(r.y_scale);
    for (size_t i = 0; i < y_nb.size(); ++i) {
      y_nb[i] -= b[i % b.size()];
      y_nb_scale[i] -= std::fabs(b[i % b.size()]);
    }
    expect_close(y_nobias, y_nb, y_nb_scale, eps, rms, at + " forward without bias");
    expect_close(dx, r.dx, r.dx_scale, eps, rms, at + " backward data");
    expect_close(dw, r.dw, r.dw_scale, eps, rms, at + " backward weights");
    expect_close(dw_only, r.dw, r.dw_scale, eps, rms, at + " backward weights without bias");
    // (At bf16 the bias gradient may sum the bf16 copy of dy, hence the same tolerance.)
    expect_close(db, r.db, r.db_scale, eps, rms, at + " bias gradient");
  }
  for (const auto& p : dnn.problems())
    if (p.pass == "forward") EXPECT_EQ(p.batch, 1) << what << ": the forward must run image by image";
}

// Depthwise forward (grouped convolution, w [kh, kw, c]) against cpu::depthwise_conv2d_forward in
// double: the face nets' 3x3 and 5x5 depthwise layers, strides 1 and 2, SAME with the odd pad after.
void check_depthwise(const Conv2dGeom& g, Math math, const std::string& what) {
  const auto x = randn(static_cast<size_t>(g.n * g.h * g.w * g.c), 8, 1.f);
  const auto w = randn(static_cast<size_t>(g.kh * g.kw * g.c), 9, 0.3f);
  const auto b = randn(static_cast<size_t>(g.c), 10, 1.f);
  const size_t out = static_cast<size_t>(g.n * g.oh * g.ow * g.c);
  std::vector<double> want(out), scale(out);
  const auto xd = to_double(x), wd = to_double(w), bd = to_double(b), xa = absolute(x), wa = absolute(w),
             ba = absolute(b);
  facet::cpu::depthwise_conv2d_forward<double>(g, xd.data(), wd.data(), bd.data(), want.data());
  facet::cpu::depthwise_conv2d_forward<double>(g, xa.data(), wa.data(), ba.data(), scale.data());
  facet::onednn::ConvCache dnn;
  std::vector<float> y(out);
  for (int rep = 0; rep < 2; ++rep) {
    dnn.depthwise_forward(g, math, x.data(), w.data(), b.data(), y.data());
    expect_close(y, want, scale, math == Math::BF16 ? 1.0 / 128 : 1e-5, math == Math::BF16 ? 1e-2 : 1e-6,
                 what + (rep ? " (cached)" : ""));
  }
  for (const auto& p : dnn.problems()) EXPECT_EQ(p.batch, 1) << what << ": the forward must run image by image";
}

TEST(OnednnDepthwise, MatchesReference) {
  const struct {
    const char* name;
    Conv2dGeom g;
  } dw[] = {
      {"3x3s1", same(2, 16, 16, 24, 24, 3, 1)},   {"3x3s2_odd", same(3, 15, 13, 32, 32, 3, 2)},
      {"5x5s1", same(1, 12, 12, 48, 48, 5, 1)},   {"5x5s2", same(2, 16, 16, 88, 88, 5, 2)},
      {"odd_channels", same(2, 9, 7, 5, 5, 3, 1)}, {"explicit_pads", facet::cpu::conv2d_geom_explicit(1, 8, 8, 16, 16, 3, 3, 2, 2, 0, 1, 0, 1)},
  };
  for (const auto& c : dw) {
    check_depthwise(c.g, Math::F32, std::string(c.name) + " f32");
    if (facet::onednn::cpu_has_native_bf16()) check_depthwise(c.g, Math::BF16, std::string(c.name) + " bf16");
  }
}

class OnednnConv : public ::testing::TestWithParam<Case> {};

TEST_P(OnednnConv, F32MatchesReference) { check_case(GetParam(), Math::F32); }

TEST_P(OnednnConv, Bf16MatchesReference) {
  if (!facet::onednn::cpu_has_native_bf16())
    GTEST_SKIP() << "this CPU has no native bf16 (AVX512_BF16 or AMX), so the CPU backend refuses bf16";
  check_case(GetParam(), Math::BF16);
}

TEST(OnednnConvBf16, RefusedWithoutNativeBf16) {
  if (facet::onednn::cpu_has_native_bf16()) GTEST_SKIP() << "this CPU has native bf16 (ctest runs this once more under AVX2)";
  const Conv2dGeom g = same(1, 4, 4, 2, 2, 3, 1);
  std::vector<float> x(32), w(36), y(32);
  facet::onednn::ConvCache dnn;
  try {
    dnn.forward(g, Math::BF16, x.data(), w.data(), nullptr, y.data());
    FAIL() << "a bf16 convolution ran on a CPU without native bf16";
  } catch (const facet::Error& e) {
    EXPECT_NE(std::string(e.what()).find("AVX512_BF16"), std::string::npos) << e.what();
  }
}

INSTANTIATE_TEST_SUITE_P(Shapes, OnednnConv, ::testing::ValuesIn(cases()),
                         [](const ::testing::TestParamInfo<Case>& i) { return std::string(i.param.name); });

// A forward's per-image result is the same bits whatever batch the image came in.
TEST(OnednnConvBatching, ForwardIsBatchIndependent) {
  const Conv2dGeom g8 = same(8, 12, 12, 16, 32, 3, 1), g1 = same(1, 12, 12, 16, 32, 3, 1);
  const auto x = randn(static_cast<size_t>(g8.n * g8.h * g8.w * g8.c), 5, 1.f);
  const auto w = randn(static_cast<size_t>(g8.k * g8.kh * g8.kw * g8.c), 6, 0.2f);
  const auto b = randn(static_cast<size_t>(g8.k), 7, 1.f);
  for (Math m : {Math::F32, Math::BF16}) {
    if (m == Math::BF16 && !facet::onednn::cpu_has_native_bf16()) continue;
    facet::onednn::ConvCache dnn;
    std::vector<float> all(static_cast<size_t>(g8.n * g8.oh * g8.ow * g8.k)), one(all.size() / 8);
    dnn.forward(g8, m, x.data(), w.data(), b.data(), all.data());
    const size_t xi = static_cast<size_t>(g1.h * g1.w * g1.c);
    for (int64_t i = 0; i < 8; ++i) {
      dnn.forward(g1, m, x.data() + i * xi, w.data(), b.data(), one.data());
      for (size_t j = 0; j < one.size(); ++j)
        ASSERT_EQ(one[j], all[i * one.size() + j]) << "image " << i << " element " << j;
    }
  }
}

}  // namespace

#else

TEST(OnednnConv, NotBuilt) { GTEST_SKIP() << "this build has no oneDNN (Debian: libdnnl-dev), so there is nothing to test"; }

#endif
