// Checks the CPU convolution kernels (im2col + GEMM, depthwise loops) against a naive direct
// convolution written here in double, forward and both backwards, and checks TF SAME geometry.
// The reference is deliberately the textbook 7-deep loop so that it shares no code (and no
// indexing shortcut such as contiguous kernel-row runs) with the kernel under test.
#include <gtest/gtest.h>

#include <cmath>
#include <random>
#include <string>
#include <vector>

#include "kernels/cpu/conv2d.h"

using facet::cpu::Conv2dGeom;

namespace {

// Pixel (n, y, x, channel) of an NHWC tensor, or 0 outside the image (zero padding).
double at(const Conv2dGeom& g, const std::vector<double>& x, int64_t n, int64_t y, int64_t xx, int64_t c) {
  if (y < 0 || y >= g.h || xx < 0 || xx >= g.w) return 0.0;
  return x[((n * g.h + y) * g.w + xx) * g.c + c];
}

struct Ref {
  std::vector<double> y, dx, dw, db;
};

// Regular (depthwise=false, w OHWI) or depthwise (w [kh, kw, c], k == c) direct convolution and
// its gradients for the loss sum(y * dy).
Ref reference(const Conv2dGeom& g, bool depthwise, const std::vector<double>& x, const std::vector<double>& w,
              const std::vector<double>& b, const std::vector<double>& dy) {
  Ref r;
  r.y.assign(g.n * g.oh * g.ow * g.k, 0.0);
  r.dx.assign(x.size(), 0.0);
  r.dw.assign(w.size(), 0.0);
  r.db.assign(g.k, 0.0);
  for (int64_t n = 0; n < g.n; ++n)
    for (int64_t oy = 0; oy < g.oh; ++oy)
      for (int64_t ox = 0; ox < g.ow; ++ox)
        for (int64_t o = 0; o < g.k; ++o) {
          const int64_t yi = ((n * g.oh + oy) * g.ow + ox) * g.k + o;
          double acc = b.empty() ? 0.0 : b[o];
          r.db[o] += dy[yi];
          for (int64_t i = 0; i < g.kh; ++i)
            for (int64_t j = 0; j < g.kw; ++j) {
              const int64_t iy = oy * g.stride_h - g.pad_top + i, ix = ox * g.stride_w - g.pad_left + j;
              const bool in = iy >= 0 && iy < g.h && ix >= 0 && ix < g.w;
              const int64_t c_lo = depthwise ? o : 0, c_hi = depthwise ? o + 1 : g.c;
              for (int64_t c = c_lo; c < c_hi; ++c) {
                const int64_t wi = depthwise ? (i * g.kw + j) * g.c + c : ((o * g.kh + i) * g.kw + j) * g.c + c;
                acc += at(g, x, n, iy, ix, c) * w[wi];
                r.dw[wi] += at(g, x, n, iy, ix, c) * dy[yi];
                if (in) r.dx[((n * g.h + iy) * g.w + ix) * g.c + c] += w[wi] * dy[yi];
              }
            }
          r.y[yi] = acc;
        }
  return r;
}

std::vector<double> random_vec(size_t n, uint32_t seed) {
  std::mt19937 rng(seed);
  std::uniform_real_distribution<double> u(-1.0, 1.0);
  std::vector<double> v(n);
  for (auto& e : v) e = u(rng);
  return v;
}

template <typename T>
std::vector<T> as(const std::vector<double>& v) {
  return std::vector<T>(v.begin(), v.end());
}

template <typename T>
void expect_close(const std::vector<T>& got, const std::vector<double>& want, double tol, const std::string& what) {
  ASSERT_EQ(got.size(), want.size()) << what;
  double worst = 0.0;
  size_t worst_i = 0;
  for (size_t i = 0; i < got.size(); ++i) {
    const double err = std::abs(static_cast<double>(got[i]) - want[i]) / (1.0 + std::abs(want[i]));
    if (err > worst) { worst = err; worst_i = i; }
  }
  EXPECT_LE(worst, tol) << what << ": element " << worst_i << " got " << static_cast<double>(got[worst_i])
                        << " want " << want[worst_i];
}

struct Case {
  std::string name;
  Conv2dGeom g;
  bool bias;
};

std::vector<Case> regular_cases() {
  using namespace facet::cpu;
  return {
      {"k1s1_pointwise", conv2d_geom_same(2, 5, 6, 3, 4, 1, 1, 1, 1), true},
      {"k1s2", conv2d_geom_same(2, 7, 6, 5, 3, 1, 1, 2, 2), false},
      {"k3s1_same", conv2d_geom_same(2, 6, 5, 3, 5, 3, 3, 1, 1), true},
      {"k3s2_same_odd_asym", conv2d_geom_same(1, 7, 9, 4, 3, 3, 3, 2, 2), true},
      {"k3s2_same_even_asym", conv2d_geom_same(2, 8, 8, 3, 2, 3, 3, 2, 2), false},
      {"k5s1_same", conv2d_geom_same(1, 9, 7, 3, 4, 5, 5, 1, 1), true},
      {"k5s2_same", conv2d_geom_same(2, 10, 11, 3, 5, 5, 5, 2, 2), true},
      {"k3s1_valid", conv2d_geom_valid(2, 6, 7, 3, 3, 3, 3, 1, 1), true},
      {"k3s2_valid", conv2d_geom_valid(1, 9, 8, 5, 2, 3, 3, 2, 2), false},
      {"k3_explicit_asym", conv2d_geom_explicit(2, 6, 5, 3, 4, 3, 3, 1, 2, 0, 2, 2, 1), true},
      {"k4s2_explicit", conv2d_geom_explicit(1, 8, 8, 2, 3, 4, 4, 2, 2, 1, 1, 1, 1), true},
      {"k3_rect_stride", conv2d_geom_same(1, 9, 10, 3, 3, 3, 2, 2, 1), true},
      {"k5_larger_than_input", conv2d_geom_same(1, 3, 4, 2, 3, 5, 5, 1, 1), true},
      // several im2col blocks, with a block boundary falling inside an image
      {"k3s1_multiblock", conv2d_geom_same(2, 48, 48, 32, 7, 3, 3, 1, 1), true},
  };
}

template <typename T>
void check_regular(const Case& cs, double tol) {
  const Conv2dGeom& g = cs.g;
  const auto x = random_vec(g.n * g.h * g.w * g.c, 1);
  const auto w = random_vec(g.k * g.patch(), 2);
  const auto b = cs.bias ? random_vec(g.k, 3) : std::vector<double>{};
  const auto dy = random_vec(g.n * g.oh * g.ow * g.k, 4);
  const Ref ref = reference(g, false, x, w, b, dy);

  const auto xt = as<T>(x), wt = as<T>(w), bt = as<T>(b), dyt = as<T>(dy);
  std::vector<T> ws(facet::cpu::conv2d_workspace_elems(g) + 1);
  std::vector<T> y(ref.y.size(), T(7)), dx(x.size(), T(7)), dw(w.size(), T(7)), db(g.k, T(7));
  facet::cpu::conv2d_forward<T>(g, xt.data(), wt.data(), cs.bias ? bt.data() : nullptr, y.data(), ws.data());
  facet::cpu::conv2d_backward_data<T>(g, dyt.data(), wt.data(), dx.data(), ws.data());
  facet::cpu::conv2d_backward_filter<T>(g, xt.data(), dyt.data(), dw.data(), db.data(), ws.data());
  expect_close(y, ref.y, tol, cs.name + " forward");
  expect_close(dx, ref.dx, tol, cs.name + " backward data");
  expect_close(dw, ref.dw, tol, cs.name + " backward filter");
  expect_close(db, ref.db, tol, cs.name + " bias grad");
}

}  // namespace

TEST(Conv2dGeom, TfSamePadding) {
  using namespace facet::cpu;
  auto g = conv2d_geom_same(1, 64, 64, 3, 8, 5, 5, 2, 2);
  EXPECT_EQ(g.oh, 32);
  EXPECT_EQ(g.ow, 32);
  EXPECT_EQ(g.pad_top, 1);
  EXPECT_EQ(g.pad_bottom, 2);  // the odd extra pixel goes after
  g = conv2d_geom_same(1, 7, 7, 3, 8, 3, 3, 2, 2);
  EXPECT_EQ(g.oh, 4);
  EXPECT_EQ(g.pad_top, 1);
  EXPECT_EQ(g.pad_bottom, 1);
  g = conv2d_geom_same(1, 8, 8, 3, 8, 3, 3, 2, 2);
  EXPECT_EQ(g.oh, 4);
  EXPECT_EQ(g.pad_left, 0);
  EXPECT_EQ(g.pad_right, 1);
  g = conv2d_geom_same(1, 5, 6, 3, 8, 3, 3, 1, 1);
  EXPECT_EQ(g.oh, 5);
  EXPECT_EQ(g.ow, 6);
  EXPECT_EQ(g.pad_top, 1);
  EXPECT_EQ(g.pad_bottom, 1);
  g = conv2d_geom_same(1, 7, 7, 3, 8, 1, 1, 1, 1);
  EXPECT_TRUE(g.is_pointwise());
  g = conv2d_geom_same(1, 7, 7, 3, 8, 2, 2, 2, 2);  // total pad 1: all of it after
  EXPECT_EQ(g.oh, 4);
  EXPECT_EQ(g.pad_top, 0);
  EXPECT_EQ(g.pad_bottom, 1);
  g = conv2d_geom_same(1, 2, 2, 3, 8, 5, 5, 2, 2);  // kernel larger than the input
  EXPECT_EQ(g.oh, 1);
  EXPECT_EQ(g.pad_top, 1);
  EXPECT_EQ(g.pad_bottom, 2);
}

TEST(Conv2dGeom, ValidAndExplicit) {
  using namespace facet::cpu;
  auto g = conv2d_geom_valid(1, 7, 8, 3, 4, 3, 3, 2, 2);
  EXPECT_EQ(g.oh, 3);
  EXPECT_EQ(g.ow, 3);
  EXPECT_EQ(g.pad_top + g.pad_bottom + g.pad_left + g.pad_right, 0);
  g = conv2d_geom_explicit(1, 8, 8, 3, 4, 3, 3, 2, 2, 0, 1, 1, 1);
  EXPECT_EQ(g.oh, 4);
  EXPECT_EQ(g.ow, 4);
  EXPECT_EQ(conv_out_size(2, 5, 1, 0, 0), 0);
}

TEST(Conv2dCpu, MatchesDirectConvolutionDouble) {
  for (const auto& cs : regular_cases()) {
    SCOPED_TRACE(cs.name);
    check_regular<double>(cs, 1e-11);
  }
}

TEST(Conv2dCpu, MatchesDirectConvolutionFloat) {
  for (const auto& cs : regular_cases()) {
    SCOPED_TRACE(cs.name);
    check_regular<float>(cs, 2e-4);
  }
}

TEST(Conv2dCpu, WorkspaceIsZeroForPointwise) {
  EXPECT_EQ(facet::cpu::conv2d_workspace_elems(facet::cpu::conv2d_geom_same(4, 16, 16, 8, 8, 1, 1, 1, 1)), 0);
  EXPECT_GT(facet::cpu::conv2d_workspace_elems(facet::cpu::conv2d_geom_same(4, 16, 16, 8, 8, 1, 1, 2, 2)), 0);
}

namespace {
template <typename T>
void check_depthwise(const std::string& name, const Conv2dGeom& g, bool bias, double tol) {
  const auto x = random_vec(g.n * g.h * g.w * g.c, 11);
  const auto w = random_vec(g.kh * g.kw * g.c, 12);
  const auto b = bias ? random_vec(g.c, 13) : std::vector<double>{};
  const auto dy = random_vec(g.n * g.oh * g.ow * g.c, 14);
  const Ref ref = reference(g, true, x, w, b, dy);
  const auto xt = as<T>(x), wt = as<T>(w), bt = as<T>(b), dyt = as<T>(dy);
  std::vector<T> y(ref.y.size(), T(7)), dx(x.size(), T(7)), dw(w.size(), T(7)), db(g.c, T(7));
  facet::cpu::depthwise_conv2d_forward<T>(g, xt.data(), wt.data(), bias ? bt.data() : nullptr, y.data());
  facet::cpu::depthwise_conv2d_backward_data<T>(g, dyt.data(), wt.data(), dx.data());
  facet::cpu::depthwise_conv2d_backward_filter<T>(g, xt.data(), dyt.data(), dw.data(), db.data());
  expect_close(y, ref.y, tol, name + " forward");
  expect_close(dx, ref.dx, tol, name + " backward data");
  expect_close(dw, ref.dw, tol, name + " backward filter");
  expect_close(db, ref.db, tol, name + " bias grad");
}
}  // namespace

TEST(DepthwiseConv2dCpu, MatchesDirectConvolution) {
  using namespace facet::cpu;
  const std::vector<std::pair<std::string, Conv2dGeom>> cases = {
      {"k3s1", conv2d_geom_same(2, 6, 7, 5, 5, 3, 3, 1, 1)},
      {"k3s2_asym", conv2d_geom_same(2, 8, 7, 3, 3, 3, 3, 2, 2)},
      {"k5s1", conv2d_geom_same(1, 9, 8, 4, 4, 5, 5, 1, 1)},
      {"k5s2", conv2d_geom_same(2, 10, 9, 6, 6, 5, 5, 2, 2)},
      {"k3_valid", conv2d_geom_valid(1, 7, 7, 3, 3, 3, 3, 1, 1)},
      {"k3_explicit", conv2d_geom_explicit(1, 6, 6, 2, 2, 3, 3, 1, 1, 2, 0, 0, 1)},
  };
  for (const auto& [name, g] : cases) {
    SCOPED_TRACE(name);
    check_depthwise<double>(name, g, true, 1e-12);
    check_depthwise<float>(name, g, false, 1e-5);
  }
}
