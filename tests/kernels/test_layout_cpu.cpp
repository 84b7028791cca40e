// Hand-checked values for the CPU data-movement and resampling references. The op table only
// proves each backward matches its forward; these tests pin the forwards themselves: DFL's DCR
// pixel-shuffle order (and that it is not PyTorch's CRD), TF half-pixel bilinear values, TF SAME
// pooling geometry with -inf padding, and small pad / slice / concat / permute examples. The last
// tests check that the engine ops refuse bad arguments with a message naming the op and shapes.
#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <random>
#include <vector>

#include "engine/core/error.h"
#include "engine/ops/layout.h"
#include "engine/ops/pool_resize.h"
#include "kernels/cpu/layout.h"
#include "kernels/cpu/pool_resize.h"

using namespace facet;

namespace {

std::vector<double> ramp(size_t n) {
  std::vector<double> v(n);
  for (size_t i = 0; i < n; ++i) v[i] = static_cast<double>(i);
  return v;
}

std::vector<double> random_values(size_t n, unsigned seed) {
  std::mt19937 rng(seed);
  std::uniform_real_distribution<double> u(-1.0, 1.0);
  std::vector<double> v(n);
  for (auto& x : v) x = u(rng);
  return v;
}

}  // namespace

// [1,2,2,4] -> [1,4,4,1]: out[2h+i, 2w+j] = in[h, w, i*2 + j]. Input value = its flat index.
TEST(LayoutCpu, PixelShuffleDcrHandExample) {
  const std::vector<double> x = ramp(16);
  std::vector<double> y(16);
  cpu::pixel_shuffle<double>(x.data(), y.data(), 1, 2, 2, 1, 2);
  const std::vector<double> expected = {
      0, 1, 4,  5,   // row 0: (h0,i0) w0 j0/j1 | w1 j0/j1
      2, 3, 6,  7,   // row 1: (h0,i1)
      8, 9, 12, 13,  // row 2: (h1,i0)
      10, 11, 14, 15,  // row 3: (h1,i1)
  };
  for (size_t k = 0; k < 16; ++k) EXPECT_EQ(y[k], expected[k]) << "element " << k;
}

// With 2 output channels DCR and PyTorch's CRD differ: [1,1,1,8] -> [1,2,2,2].
// DCR: out[i,j,c] = in[(i*2+j)*2 + c] -> memory order unchanged 0..7.
// CRD: out[i,j,c] = in[c*4 + i*2 + j] -> 0,4,1,5,2,6,3,7.
TEST(LayoutCpu, PixelShuffleIsNotPytorchCrd) {
  const std::vector<double> x = ramp(8);
  std::vector<double> y(8);
  cpu::pixel_shuffle<double>(x.data(), y.data(), 1, 1, 1, 2, 2);
  const std::vector<double> dcr = {0, 1, 2, 3, 4, 5, 6, 7};
  const std::vector<double> crd = {0, 4, 1, 5, 2, 6, 3, 7};
  EXPECT_EQ(y, dcr);
  EXPECT_NE(y, crd);
  // Spot-check the formula on one element: out[n=0, h=1, w=0, c=1] = in[(1*2+0)*2 + 1] = 5.
  EXPECT_EQ(y[(1 * 2 + 0) * 2 + 1], 5.0);
}

TEST(LayoutCpu, PixelShuffleThenSpaceToDepthIsIdentity) {
  for (int64_t r : {2, 3}) {
    const int64_t N = 2, H = 3, W = 5, C = 4;
    const size_t n = static_cast<size_t>(N * H * W * C * r * r);
    const std::vector<double> x = random_values(n, static_cast<unsigned>(r));
    std::vector<double> y(n), back(n);
    cpu::pixel_shuffle<double>(x.data(), y.data(), N, H, W, C, r);
    cpu::space_to_depth<double>(y.data(), back.data(), N, H, W, C, r);
    EXPECT_EQ(back, x) << "r = " << r;
    // and the other way round
    cpu::space_to_depth<double>(x.data(), y.data(), N, H, W, C, r);
    cpu::pixel_shuffle<double>(y.data(), back.data(), N, H, W, C, r);
    EXPECT_EQ(back, x) << "r = " << r;
  }
}

TEST(LayoutCpu, PixelNormHasUnitMeanSquare) {
  const int64_t N = 3, D = 50;
  std::vector<double> x = random_values(N * D, 7), y(N * D);
  for (int64_t k = 0; k < D; ++k) x[2 * D + k] *= 100.0;  // scale does not matter
  cpu::pixel_norm<double>(x.data(), y.data(), N, D, 1e-6);
  for (int64_t n = 0; n < N; ++n) {
    double ms = 0, xs = 0;
    for (int64_t k = 0; k < D; ++k) {
      ms += y[n * D + k] * y[n * D + k];
      xs += x[n * D + k] * x[n * D + k];
    }
    ms /= D;
    EXPECT_NEAR(ms, 1.0 / (1.0 + 1e-6 / (xs / D)), 1e-12) << "sample " << n;
    EXPECT_NEAR(y[n * D + 3], x[n * D + 3] / std::sqrt(xs / D + 1e-6), 1e-12);
  }
}

// TF2 tf.image.resize([[1,2],[3,4]], [4,4], 'bilinear') (half-pixel centres).
TEST(LayoutCpu, ResizeBilinearUpsample2x2) {
  const std::vector<double> x = {1, 2, 3, 4};
  std::vector<double> y(16);
  cpu::resize_bilinear<double>(x.data(), y.data(), 1, 2, 2, 1, 4, 4);
  const std::vector<double> expected = {1.0, 1.25, 1.75, 2.0,  1.5, 1.75, 2.25, 2.5,
                                        2.5, 2.75, 3.25, 3.5,  3.0, 3.25, 3.75, 4.0};
  for (size_t k = 0; k < 16; ++k) EXPECT_DOUBLE_EQ(y[k], expected[k]) << "element " << k;
  // float gives the same values (all are exact binary fractions)
  const std::vector<float> xf = {1, 2, 3, 4};
  std::vector<float> yf(16);
  cpu::resize_bilinear<float>(xf.data(), yf.data(), 1, 2, 2, 1, 4, 4);
  for (size_t k = 0; k < 16; ++k) EXPECT_EQ(yf[k], static_cast<float>(expected[k])) << "element " << k;
}

TEST(LayoutCpu, ResizeBilinearSameSizeIsIdentity) {
  const int64_t N = 2, H = 5, W = 3, C = 4;
  const std::vector<double> x = random_values(N * H * W * C, 3);
  std::vector<double> y(x.size());
  cpu::resize_bilinear<double>(x.data(), y.data(), N, H, W, C, H, W);
  EXPECT_EQ(y, x);
}

// The backward is the transpose of the forward: <R x, g> == <x, R^T g>.
TEST(LayoutCpu, ResizeBilinearBackwardIsAdjoint) {
  const int64_t N = 2, H = 5, W = 7, C = 3, OH = 8, OW = 4;
  const std::vector<double> x = random_values(N * H * W * C, 11), g = random_values(N * OH * OW * C, 12);
  std::vector<double> y(g.size()), dx(x.size(), 123.0);  // dx is overwritten, not accumulated
  cpu::resize_bilinear<double>(x.data(), y.data(), N, H, W, C, OH, OW);
  cpu::resize_bilinear_backward<double>(g.data(), dx.data(), N, H, W, C, OH, OW);
  double lhs = 0, rhs = 0;
  for (size_t i = 0; i < y.size(); ++i) lhs += y[i] * g[i];
  for (size_t i = 0; i < x.size(); ++i) rhs += x[i] * dx[i];
  EXPECT_NEAR(lhs, rhs, 1e-12);
}

TEST(LayoutCpu, SameMaxPoolOutputSizes) {
  struct G {
    int64_t in, k, s, out, before;
  };
  // out = ceil(in/s); pad_total = max((out-1)*s + k - in, 0); before = total/2 (extra goes after).
  for (const G& c : {G{5, 3, 2, 3, 1}, G{6, 2, 2, 3, 0}, G{7, 3, 2, 4, 1}, G{4, 3, 1, 4, 1}, G{5, 2, 2, 3, 0},
                     G{8, 3, 2, 4, 0}, G{1, 3, 2, 1, 1}, G{64, 3, 2, 32, 0}}) {
    int64_t out = -1, before = -1;
    cpu::tf_window_geometry(c.in, c.k, c.s, true, &out, &before);
    EXPECT_EQ(out, c.out) << "in " << c.in << " k " << c.k << " s " << c.s;
    EXPECT_EQ(before, c.before) << "in " << c.in << " k " << c.k << " s " << c.s;
  }
  int64_t out = -1, before = -1;
  cpu::tf_window_geometry(7, 3, 2, false, &out, &before);
  EXPECT_EQ(out, 3);
  EXPECT_EQ(before, 0);
}

// 5x5 ramp, k2 s2 SAME: 3x3 output, pad 0 before / 1 after; each window's max is its bottom-right
// pixel clipped to the image.
TEST(LayoutCpu, MaxPoolSameValues) {
  const std::vector<double> x = ramp(25);
  int64_t oh, pt, ow, pl;
  cpu::tf_window_geometry(5, 2, 2, true, &oh, &pt);
  cpu::tf_window_geometry(5, 2, 2, true, &ow, &pl);
  ASSERT_EQ(oh, 3);
  std::vector<double> y(9);
  cpu::max_pool2d<double>(x.data(), y.data(), 1, 5, 5, 1, 2, 2, 2, 2, pt, pl, oh, ow);
  const std::vector<double> expected = {6, 8, 9, 16, 18, 19, 21, 23, 24};
  EXPECT_EQ(y, expected);
}

// SAME pads with -inf: on an all-negative image a border window must not return 0.
TEST(LayoutCpu, MaxPoolPaddingNeverWins) {
  std::vector<double> x(9);
  for (size_t i = 0; i < 9; ++i) x[i] = -1.0 - static_cast<double>(i);
  std::vector<double> y(9);
  cpu::max_pool2d<double>(x.data(), y.data(), 1, 3, 3, 1, 3, 3, 1, 1, 1, 1, 3, 3);
  const std::vector<double> expected = {-1, -1, -2, -1, -1, -2, -4, -4, -5};
  EXPECT_EQ(y, expected);
}

// Ties go to the first maximum in window order; the backward routes there only.
TEST(LayoutCpu, MaxPoolBackwardFirstMaxOnTies) {
  const std::vector<double> x = {1, 3, 3, 2};  // 2x2, one window
  const std::vector<double> dy = {5};
  std::vector<double> y(1), dx(4, -7.0);
  cpu::max_pool2d<double>(x.data(), y.data(), 1, 2, 2, 1, 2, 2, 2, 2, 0, 0, 1, 1);
  cpu::max_pool2d_backward<double>(x.data(), dy.data(), dx.data(), 1, 2, 2, 1, 2, 2, 2, 2, 0, 0, 1, 1);
  EXPECT_EQ(y[0], 3.0);
  EXPECT_EQ(dx, (std::vector<double>{0, 5, 0, 0}));
}

// The forward takes each channel's first maximum in window order, as the backward routes: a NaN
// that opens its window stays, a later one is passed over; channels do not mix (3 channels).
TEST(LayoutCpu, MaxPoolNanFollowsWindowOrderPerChannel) {
  const double nan = std::numeric_limits<double>::quiet_NaN();
  // 2x2 image, one 2x2 window; pixel-major, channels innermost.
  const std::vector<double> x = {nan, 1, -3,  /**/ 2, nan, -1,  /**/ 5, 0, -2,  /**/ 4, 7, nan};
  std::vector<double> y(3);
  cpu::max_pool2d<double>(x.data(), y.data(), 1, 2, 2, 3, 2, 2, 2, 2, 0, 0, 1, 1);
  EXPECT_TRUE(std::isnan(y[0]));
  EXPECT_EQ(y[1], 7.0);
  EXPECT_EQ(y[2], -1.0);
}

TEST(LayoutCpu, PadAndSliceHandExample) {
  // [2,3] -> pad (1,0) rows, (0,2) cols with 9
  const std::vector<double> x = {1, 2, 3, 4, 5, 6};
  const int64_t shape[] = {2, 3}, before[] = {1, 0}, after[] = {0, 2};
  std::vector<double> y(3 * 5);
  cpu::pad<double>(x.data(), y.data(), 2, shape, before, after, 9.0);
  EXPECT_EQ(y, (std::vector<double>{9, 9, 9, 9, 9, 1, 2, 3, 9, 9, 4, 5, 6, 9, 9}));
  // slicing the padded tensor back gives x
  const int64_t pshape[] = {3, 5}, begin[] = {1, 0}, out[] = {2, 3};
  std::vector<double> back(6);
  cpu::slice<double>(y.data(), back.data(), 2, pshape, begin, out);
  EXPECT_EQ(back, x);
  // an inner-axis slice: columns 1..3 of row 0..1 of the padded tensor
  const int64_t b2[] = {0, 1}, o2[] = {2, 3};
  std::vector<double> s2(6);
  cpu::slice<double>(y.data(), s2.data(), 2, pshape, b2, o2);
  EXPECT_EQ(s2, (std::vector<double>{9, 9, 9, 2, 3, 9}));
}

// pad copies whole innermost rows; every output element must still be what the definition says:
// the input element at (index - before) where that lies inside the input, else the pad value.
TEST(LayoutCpu, PadMatchesItsDefinitionOnEveryAxis) {
  const int64_t shape[] = {2, 3, 4, 5};
  const std::vector<std::vector<int64_t>> pads = {
      {0, 0, 0, 3, 0, 0, 0, 2},  // channels only (the face nets' residual pads)
      {1, 0, 2, 0, 0, 1, 1, 2},  // every axis, asymmetric
      {0, 2, 0, 0, 0, 0, 0, 0},  // outer axis only
      {0, 0, 0, -2, 0, 0, 0, 0}, // a negative (cropping) innermost pad takes the element-wise path
  };
  const auto x = random_values(2 * 3 * 4 * 5, 11);
  for (const auto& p : pads) {
    const int64_t before[] = {p[0], p[1], p[2], p[3]}, after[] = {p[4], p[5], p[6], p[7]};
    int64_t os[4];
    for (int a = 0; a < 4; ++a) os[a] = shape[a] + before[a] + after[a];
    std::vector<double> y(size_t(os[0] * os[1] * os[2] * os[3]), -1.0);
    cpu::pad<double>(x.data(), y.data(), 4, shape, before, after, 7.5);
    size_t o = 0;
    for (int64_t i0 = 0; i0 < os[0]; ++i0)
      for (int64_t i1 = 0; i1 < os[1]; ++i1)
        for (int64_t i2 = 0; i2 < os[2]; ++i2)
          for (int64_t i3 = 0; i3 < os[3]; ++i3, ++o) {
            const int64_t k[] = {i0 - before[0], i1 - before[1], i2 - before[2], i3 - before[3]};
            bool inside = true;
            for (int a = 0; a < 4; ++a) inside = inside && k[a] >= 0 && k[a] < shape[a];
            const double want = inside ? x[size_t(((k[0] * 3 + k[1]) * 4 + k[2]) * 5 + k[3])] : 7.5;
            ASSERT_EQ(y[o], want) << "pads " << ::testing::PrintToString(p) << " at " << i0 << "," << i1 << "," << i2 << "," << i3;
          }
  }
}

TEST(LayoutCpu, ConcatAndSplitHandExample) {
  // concat along axis 1 of [2,1] and [2,2]: outer 2, inner 1
  const std::vector<double> a = {1, 2}, b = {3, 4, 5, 6};
  const double* xs[] = {a.data(), b.data()};
  const int64_t sizes[] = {1, 2};
  std::vector<double> y(6);
  cpu::concat<double>(xs, sizes, 2, y.data(), 2, 1);
  EXPECT_EQ(y, (std::vector<double>{1, 3, 4, 2, 5, 6}));
  std::vector<double> a2(2), b2(4);
  double* outs[] = {a2.data(), b2.data()};
  cpu::split<double>(y.data(), outs, sizes, 2, 2, 1);
  EXPECT_EQ(a2, a);
  EXPECT_EQ(b2, b);
}

TEST(LayoutCpu, PermuteNhwcToNchw) {
  // [1,2,2,3] NHWC ramp -> NCHW: channel c plane = x[.., c]
  const std::vector<double> x = ramp(12);
  const int64_t shape[] = {1, 2, 2, 3};
  const int perm[] = {0, 3, 1, 2};
  std::vector<double> y(12);
  cpu::permute<double>(x.data(), y.data(), 4, shape, perm);
  EXPECT_EQ(y, (std::vector<double>{0, 3, 6, 9, 1, 4, 7, 10, 2, 5, 8, 11}));
  // and back
  const int64_t nchw[] = {1, 3, 2, 2};
  const int inv[] = {0, 2, 3, 1};
  std::vector<double> back(12);
  cpu::permute<double>(y.data(), back.data(), 4, nchw, inv);
  EXPECT_EQ(back, x);
}

namespace {
// Runs f, expecting a facet::Error whose message contains every one of `parts`.
template <typename F>
void expect_error(F&& f, std::initializer_list<const char*> parts) {
  try {
    f();
    ADD_FAILURE() << "no facet::Error thrown";
  } catch (const Error& e) {
    for (const char* p : parts) EXPECT_NE(std::string(e.what()).find(p), std::string::npos) << e.what();
  }
}
}  // namespace

TEST(LayoutOps, RefuseBadArgumentsWithClearMessages) {
  Context ctx(Device::cpu());
  Tensor x = Tensor::zeros(ctx, {2, 3, 4, 6});
  expect_error([&] { pixel_shuffle(ctx, x, 2); }, {"pixel_shuffle", "[2,3,4,6]", "r*r = 4"});
  expect_error([&] { space_to_depth(ctx, x, 2); }, {"space_to_depth", "[2,3,4,6]"});
  expect_error([&] { pixel_shuffle(ctx, Tensor::zeros(ctx, {3, 8}), 2); }, {"pixel_shuffle", "NHWC", "[3,8]"});
  expect_error([&] { concat(ctx, {x, Tensor::zeros(ctx, {2, 3, 5, 6})}, 3); },
               {"concat", "[2,3,5,6]", "[2,3,4,6]", "axis 3"});
  expect_error([&] { slice(ctx, x, {0, 0, 1, 0}, {2, 3, 5, 6}); }, {"slice", "axis 2", "[2,3,4,6]"});
  expect_error([&] { pad(ctx, x, {0, 0, 0}, {0, 0, 0}); }, {"pad", "expected 4"});
  expect_error([&] { pad(ctx, x, {0, -1, 0, 0}, {0, 0, 0, 0}); }, {"pad", "negative", "axis 1"});
  expect_error([&] { reshape(ctx, x, {5, -1}); }, {"reshape", "[5,-1]", "[2,3,4,6]"});
  expect_error([&] { reshape(ctx, x, {2, 3, 4, 5}); }, {"reshape", "144 elements", "120 elements"});
  expect_error([&] { permute(ctx, x, {0, 1, 1, 2}); }, {"permute", "{0,1,1,2}", "not a permutation"});
  expect_error([&] { max_pool2d(ctx, x, 5, 1, PoolPadding::Valid); }, {"max_pool2d", "larger than", "[2,3,4,6]"});
  expect_error([&] { resize_bilinear(ctx, x, 0, 4); }, {"resize_bilinear", "0x4"});
}

// The engine ops return what the kernels compute, in the documented output shapes.
TEST(LayoutOps, EngineShapesAndValues) {
  Context ctx(Device::cpu());
  std::vector<double> v(16);
  for (size_t i = 0; i < 16; ++i) v[i] = static_cast<double>(i);
  Tensor x = Tensor::from_vector(ctx, {1, 2, 2, 4}, v, DType::F32);
  Tensor y = pixel_shuffle(ctx, x, 2);
  EXPECT_EQ(y.shape(), (Shape{1, 4, 4, 1}));
  EXPECT_EQ(y.to_double(ctx), (std::vector<double>{0, 1, 4, 5, 2, 3, 6, 7, 8, 9, 12, 13, 10, 11, 14, 15}));
  EXPECT_EQ(space_to_depth(ctx, y, 2).to_double(ctx), v);
  EXPECT_EQ(reshape(ctx, x, {-1, 8}).shape(), (Shape{2, 8}));
  EXPECT_EQ(permute(ctx, x, {0, 3, 1, 2}).shape(), (Shape{1, 4, 2, 2}));
  EXPECT_EQ(concat(ctx, {x, x, x}, -1).shape(), (Shape{1, 2, 2, 12}));
  EXPECT_EQ(slice_axis(ctx, x, 3, 1, 3).to_double(ctx), (std::vector<double>{1, 2, 5, 6, 9, 10, 13, 14}));
  EXPECT_EQ(pad(ctx, x, {0, 1, 0, 0}, {0, 0, 1, 0}).shape(), (Shape{1, 3, 3, 4}));
  EXPECT_EQ(max_pool2d(ctx, Tensor::zeros(ctx, {1, 5, 7, 2}), 3, 2, PoolPadding::Same).shape(), (Shape{1, 3, 4, 2}));
  EXPECT_EQ(max_pool2d(ctx, Tensor::zeros(ctx, {1, 5, 7, 2}), 3, 2, PoolPadding::Valid).shape(), (Shape{1, 2, 3, 2}));
  EXPECT_EQ(resize_bilinear(ctx, x, 3, 5).shape(), (Shape{1, 3, 5, 4}));
  // pixel_norm of a constant sample is +-1 everywhere (up to eps)
  Tensor c = Tensor::full(ctx, {2, 3, 3, 2}, -3.0, DType::F64, Device::cpu());
  for (double e : pixel_norm(ctx, c).to_double(ctx)) EXPECT_NEAR(e, -1.0, 1e-6);
}
