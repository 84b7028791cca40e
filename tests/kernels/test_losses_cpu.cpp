// Kernel-level checks of kernels/cpu/blur and kernels/cpu/losses against DFL's definitions written
// out the direct way (non-separable 2-D windows, the softmax formula, closed forms), then the engine
// ops over them (shapes, error messages). Gradients are checked numerically by the op table
// (tests/engine/cases_losses.cpp).
#include <gtest/gtest.h>

#include <cmath>
#include <random>
#include <string>
#include <vector>

#include "engine/autograd/tape.h"
#include "engine/core/error.h"
#include "engine/ops/blur.h"
#include "engine/ops/losses.h"
#include "kernels/cpu/blur.h"
#include "kernels/cpu/losses.h"

using namespace facet;

namespace {

std::vector<double> random_vec(size_t n, uint32_t seed, double lo = 0.0, double hi = 1.0) {
  std::mt19937 rng(seed);
  std::uniform_real_distribution<double> u(lo, hi);
  std::vector<double> v(n);
  for (auto& x : v) x = u(rng);
  return v;
}

// DFL's 2-D window: softmax(-0.5 (x^2 + y^2) / sigma^2) over an fs x fs grid centred at (fs-1)/2.
std::vector<double> dfl_dssim_window(int fs, double sigma) {
  std::vector<double> k(fs), w(fs * fs);
  for (int i = 0; i < fs; ++i) {
    double d = i - (fs - 1) / 2.0;
    k[i] = d * d * (-0.5 / (sigma * sigma));
  }
  double mx = -1e300, sum = 0;
  for (int i = 0; i < fs; ++i)
    for (int j = 0; j < fs; ++j) mx = std::max(mx, k[i] + k[j]);
  for (int i = 0; i < fs; ++i)
    for (int j = 0; j < fs; ++j) sum += (w[i * fs + j] = std::exp(k[i] + k[j] - mx));
  for (auto& x : w) x /= sum;
  return w;
}

// DFL's make_kernel for gaussian_blur: np.outer of the 1-D Gaussian, divided by its sum.
std::vector<double> dfl_blur_kernel(int ks, double sigma) {
  std::vector<double> k(ks), w(ks * ks);
  double mean = std::floor(0.5 * ks), sum = 0;
  for (int i = 0; i < ks; ++i) k[i] = std::exp(-(i - mean) * (i - mean) / (2 * sigma * sigma));
  for (int i = 0; i < ks; ++i)
    for (int j = 0; j < ks; ++j) sum += (w[i * ks + j] = k[i] * k[j]);
  for (auto& x : w) x /= sum;
  return w;
}

// nn.dssim done the direct way: 2-D window, VALID, per-channel mean, then mean over channels.
std::vector<double> direct_dssim(const std::vector<double>& a, const std::vector<double>& b, int N, int H, int W, int C,
                                 int fs, std::vector<double>* per_channel = nullptr) {
  auto w = dfl_dssim_window(fs, 1.5);
  const double c1 = 1e-4, c2 = 9e-4;
  int Ho = H - fs + 1, Wo = W - fs + 1;
  std::vector<double> loss(N, 0.0);
  if (per_channel) per_channel->assign(N * C, 0.0);
  for (int n = 0; n < N; ++n)
    for (int c = 0; c < C; ++c) {
      double acc = 0;
      for (int ho = 0; ho < Ho; ++ho)
        for (int wo = 0; wo < Wo; ++wo) {
          double mx = 0, my = 0, mxy = 0, mq = 0;
          for (int i = 0; i < fs; ++i)
            for (int j = 0; j < fs; ++j) {
              size_t k = ((static_cast<size_t>(n) * H + ho + i) * W + wo + j) * C + c;
              double wt = w[i * fs + j];
              mx += wt * a[k];
              my += wt * b[k];
              mxy += wt * a[k] * b[k];
              mq += wt * (a[k] * a[k] + b[k] * b[k]);
            }
          double lum = (2 * mx * my + c1) / (mx * mx + my * my + c1);
          double cs = (2 * mxy - 2 * mx * my + c2) / (mq - mx * mx - my * my + c2);
          acc += lum * cs;
        }
      double d = (1 - acc / (Ho * Wo)) / 2;
      if (per_channel) (*per_channel)[n * C + c] = d;
      loss[n] += d / C;
    }
  return loss;
}

}  // namespace

TEST(BlurCpu, KernelSizeFollowsDflRule) {
  EXPECT_EQ(cpu::gaussian_blur_kernel_size(4.0), 17);   // R=128 soft mask
  EXPECT_EQ(cpu::gaussian_blur_kernel_size(1.0), 5);    // int(4) = 4 -> odd 5
  EXPECT_EQ(cpu::gaussian_blur_kernel_size(0.5), 3);    // max(3, 2)
  EXPECT_EQ(cpu::gaussian_blur_kernel_size(0.75), 3);   // int(3.0) = 3, odd
  EXPECT_EQ(cpu::gaussian_blur_kernel_size(2.6), 11);   // int(10.4) = 10 -> 11
  EXPECT_EQ(cpu::gaussian_blur_kernel_size(16.0), 65);  // R=128 style blur (R//8)
  EXPECT_EQ(cpu::gaussian_blur_kernel_size(1.99), 7);   // int(7.96) = 7
}

TEST(BlurCpu, MatchesDirect2dConvolutionWithDflKernel) {
  const int N = 2, H = 9, W = 12, C = 3;
  for (double sigma : {0.6, 1.0, 2.3}) {
    for (int ks : {0, 3, 7, 9}) {
      int k = ks ? ks : static_cast<int>(cpu::gaussian_blur_kernel_size(sigma));
      auto x = random_vec(N * H * W * C, 7, -1, 1);
      std::vector<double> y(x.size());
      cpu::gaussian_blur(x.data(), y.data(), N, H, W, C, sigma, k);
      auto w = dfl_blur_kernel(k, sigma);
      int p = k / 2;
      double err = 0;
      for (int n = 0; n < N; ++n)
        for (int h = 0; h < H; ++h)
          for (int ww = 0; ww < W; ++ww)
            for (int c = 0; c < C; ++c) {
              double r = 0;
              for (int i = 0; i < k; ++i)
                for (int j = 0; j < k; ++j) {
                  int hh = h + i - p, wc = ww + j - p;
                  if (hh < 0 || hh >= H || wc < 0 || wc >= W) continue;
                  r += w[i * k + j] * x[((n * H + hh) * W + wc) * C + c];
                }
              err = std::max(err, std::fabs(r - y[((n * H + h) * W + ww) * C + c]));
            }
      EXPECT_LT(err, 1e-13) << "sigma " << sigma << " ks " << k;
    }
  }
}

TEST(BlurCpu, ConstantImageStaysConstantAwayFromBorder) {
  const int H = 30, W = 26, C = 2;
  const double sigma = 4.0, v = 0.7;
  const int ks = static_cast<int>(cpu::gaussian_blur_kernel_size(sigma)), p = ks / 2;
  std::vector<float> x(H * W * C, static_cast<float>(v)), y(x.size());
  cpu::gaussian_blur(x.data(), y.data(), 1, H, W, C, sigma, ks);
  for (int h = 0; h < H; ++h)
    for (int w = 0; w < W; ++w)
      for (int c = 0; c < C; ++c) {
        float got = y[(h * W + w) * C + c];
        if (h >= p && h < H - p && w >= p && w < W - p)
          EXPECT_NEAR(got, v, 1e-6) << h << "," << w;
        else
          EXPECT_LT(got, v - 1e-4) << "zero padding must darken the border at " << h << "," << w;
      }
}

// <blur(x), g> == <x, blur(g)>: the blur is self-adjoint, so its backward is the same blur.
TEST(BlurCpu, IsSelfAdjointSoBackwardIsTheSameBlur) {
  const int N = 2, H = 11, W = 8, C = 3;
  for (double sigma : {0.7, 1.5, 4.0}) {
    auto x = random_vec(N * H * W * C, 3, -1, 1), g = random_vec(x.size(), 4, -1, 1);
    std::vector<double> bx(x.size()), bg(x.size());
    int64_t ks = cpu::gaussian_blur_kernel_size(sigma);
    cpu::gaussian_blur(x.data(), bx.data(), N, H, W, C, sigma, ks);
    cpu::gaussian_blur(g.data(), bg.data(), N, H, W, C, sigma, ks);
    double l = 0, r = 0;
    for (size_t i = 0; i < x.size(); ++i) {
      l += bx[i] * g[i];
      r += x[i] * bg[i];
    }
    EXPECT_NEAR(l, r, 1e-12 * std::max(1.0, std::fabs(l))) << "sigma " << sigma;
  }
}

TEST(DssimCpu, WindowSumsToOneIsSymmetricAndFactorisesDflSoftmax) {
  for (int fs : {1, 3, 4, 7, 8, 11, 16}) {
    std::vector<double> w(fs);
    cpu::gaussian_window_1d(fs, 1.5, w.data());
    double sum = 0;
    for (int i = 0; i < fs; ++i) {
      sum += w[i];
      EXPECT_DOUBLE_EQ(w[i], w[fs - 1 - i]) << "fs " << fs;
    }
    EXPECT_NEAR(sum, 1.0, 1e-15);
    auto ref = dfl_dssim_window(fs, 1.5);
    double sum2 = 0;
    for (int i = 0; i < fs; ++i)
      for (int j = 0; j < fs; ++j) {
        EXPECT_NEAR(w[i] * w[j], ref[i * fs + j], 1e-16) << "fs " << fs;
        sum2 += ref[i * fs + j];
      }
    EXPECT_NEAR(sum2, 1.0, 1e-14);
  }
}

TEST(DssimCpu, IdenticalImagesGiveZeroLossAndZeroGradient) {
  const int N = 2, H = 16, W = 14, C = 3;
  auto a = random_vec(N * H * W * C, 11);
  std::vector<double> loss(N), pc(N * C), ga(a.size()), gb(a.size()), g(N, 1.0);
  cpu::dssim_forward(a.data(), a.data(), N, H, W, C, 7, 1.5, pc.data(), loss.data());
  for (double v : pc) EXPECT_EQ(v, 0.0);
  for (double v : loss) EXPECT_EQ(v, 0.0);
  cpu::dssim_backward(a.data(), a.data(), N, H, W, C, 7, 1.5, g.data(), ga.data(), gb.data());
  for (size_t i = 0; i < a.size(); ++i) {
    EXPECT_NEAR(ga[i], 0.0, 1e-15);
    EXPECT_NEAR(gb[i], 0.0, 1e-15);
  }
  std::vector<float> af(a.begin(), a.end()), lf(N);
  cpu::dssim_forward(af.data(), af.data(), N, H, W, C, 11, 1.5, static_cast<float*>(nullptr), lf.data());
  for (float v : lf) EXPECT_EQ(v, 0.0f);
}

// Constant images p (per channel) and q: every window mean is p / q, every variance 0, so
// cs = c2/c2 = 1 and dssim = (1 - (2pq + c1)/(p^2 + q^2 + c1)) / 2 exactly.
TEST(DssimCpu, ConstantImagesMatchClosedForm) {
  const int N = 2, H = 9, W = 10, C = 3;
  const double pv[N][C] = {{0.2, 0.5, 0.9}, {0.0, 1.0, 0.3}}, qv[N][C] = {{0.4, 0.5, 0.1}, {0.6, 0.2, 0.3}};
  std::vector<double> a(N * H * W * C), b(a.size());
  for (int n = 0; n < N; ++n)
    for (int i = 0; i < H * W; ++i)
      for (int c = 0; c < C; ++c) {
        a[(n * H * W + i) * C + c] = pv[n][c];
        b[(n * H * W + i) * C + c] = qv[n][c];
      }
  for (int fs : {3, 4, 9}) {
    std::vector<double> pc(N * C), loss(N);
    cpu::dssim_forward(a.data(), b.data(), N, H, W, C, fs, 1.5, pc.data(), loss.data());
    for (int n = 0; n < N; ++n) {
      double mean = 0;
      for (int c = 0; c < C; ++c) {
        double p = pv[n][c], q = qv[n][c];
        double want = (1 - (2 * p * q + 1e-4) / (p * p + q * q + 1e-4)) / 2;
        EXPECT_NEAR(pc[n * C + c], want, 1e-12) << "fs " << fs << " n " << n << " c " << c;
        mean += want / C;
      }
      EXPECT_NEAR(loss[n], mean, 1e-12);
    }
    // By hand: p = 0.2, q = 0.4 -> (1 - 0.1601/0.2001)/2 = 0.0999500249875...; p = q -> 0.
    EXPECT_NEAR(pc[0], 0.09995002498750627, 1e-12);
    EXPECT_NEAR(pc[1], 0.0, 1e-14);
  }
}

TEST(DssimCpu, MatchesDirectNonSeparableReference) {
  const int N = 2, H = 19, W = 17, C = 3;
  auto a = random_vec(N * H * W * C, 21), b = random_vec(a.size(), 22);
  for (size_t i = 0; i < a.size(); ++i) b[i] = 0.7 * a[i] + 0.3 * b[i];  // correlated, like training
  for (int fs : {1, 3, 4, 7, 11, 17}) {
    std::vector<double> pc_ref, pc(N * C), loss(N);
    auto ref = direct_dssim(a, b, N, H, W, C, fs, &pc_ref);
    cpu::dssim_forward(a.data(), b.data(), N, H, W, C, fs, 1.5, pc.data(), loss.data());
    for (int n = 0; n < N; ++n) EXPECT_NEAR(loss[n], ref[n], 1e-13) << "fs " << fs;
    for (int i = 0; i < N * C; ++i) EXPECT_NEAR(pc[i], pc_ref[i], 1e-13) << "fs " << fs;
    std::vector<float> af(a.begin(), a.end()), bf(b.begin(), b.end()), lf(N);
    cpu::dssim_forward(af.data(), bf.data(), N, H, W, C, fs, 1.5, static_cast<float*>(nullptr), lf.data());
    for (int n = 0; n < N; ++n) EXPECT_NEAR(lf[n], ref[n], 2e-6) << "float, fs " << fs;
  }
}

TEST(DssimCpu, BackwardMatchesCentralDifferencesOfTheDirectReference) {
  const int N = 2, H = 12, W = 13, C = 2, fs = 5;
  auto a = random_vec(N * H * W * C, 31), b = random_vec(a.size(), 32);
  std::vector<double> g = {0.7, -1.3}, ga(a.size()), gb(a.size());
  cpu::dssim_backward(a.data(), b.data(), N, H, W, C, fs, 1.5, g.data(), ga.data(), gb.data());
  auto L = [&](const std::vector<double>& x, const std::vector<double>& y) {
    auto l = direct_dssim(x, y, N, H, W, C, fs);
    return g[0] * l[0] + g[1] * l[1];
  };
  for (size_t i = 0; i < a.size(); i += 7) {
    const double eps = 1e-6;
    auto ap = a, am = a, bp = b, bm = b;
    ap[i] += eps, am[i] -= eps, bp[i] += eps, bm[i] -= eps;
    EXPECT_NEAR(ga[i], (L(ap, b) - L(am, b)) / (2 * eps), 1e-9) << i;
    EXPECT_NEAR(gb[i], (L(a, bp) - L(a, bm)) / (2 * eps), 1e-9) << i;
  }
}

TEST(PointwiseLossCpu, MaskBroadcastsOverChannels) {
  const int N = 2, H = 3, W = 4, C = 3, M = H * W * C;
  auto a = random_vec(N * M, 41, -1, 1), b = random_vec(N * M, 42, -1, 1), m1 = random_vec(N * H * W, 43);
  std::vector<double> mfull(N * M);
  for (int i = 0; i < N * M; ++i) mfull[i] = m1[i / C];
  for (int kind = 0; kind < 2; ++kind) {
    auto fwd = kind == 0 ? cpu::mse_forward<double> : cpu::l1_forward<double>;
    auto bwd = kind == 0 ? cpu::mse_backward<double> : cpu::l1_backward<double>;
    std::vector<double> l1(N), lf(N), ln(N), g = {1.0, -2.0};
    fwd(a.data(), b.data(), m1.data(), N, M, C, 1, l1.data());
    fwd(a.data(), b.data(), mfull.data(), N, M, C, C, lf.data());
    fwd(a.data(), b.data(), nullptr, N, M, C, 0, ln.data());
    for (int n = 0; n < N; ++n) {
      double want = 0, want_nomask = 0;
      for (int i = 0; i < M; ++i) {
        double d = a[n * M + i] - b[n * M + i], f = kind == 0 ? d * d : std::fabs(d);
        want += m1[(n * M + i) / C] * f / M;
        want_nomask += f / M;
      }
      EXPECT_NEAR(l1[n], want, 1e-14);
      EXPECT_NEAR(lf[n], want, 1e-14);
      EXPECT_NEAR(ln[n], want_nomask, 1e-14);
    }
    std::vector<double> ga1(N * M), gb1(N * M), gaf(N * M), gbf(N * M);
    bwd(a.data(), b.data(), m1.data(), N, M, C, 1, g.data(), ga1.data(), gb1.data());
    bwd(a.data(), b.data(), mfull.data(), N, M, C, C, g.data(), gaf.data(), gbf.data());
    for (int i = 0; i < N * M; ++i) {
      double d = a[i] - b[i], df = kind == 0 ? 2 * d : (d > 0 ? 1.0 : -1.0);
      double want = g[i / M] / M * m1[i / C] * df;
      EXPECT_NEAR(ga1[i], want, 1e-15);
      EXPECT_NEAR(gb1[i], -want, 1e-15);
      EXPECT_EQ(ga1[i], gaf[i]);
      EXPECT_EQ(gb1[i], gbf[i]);
    }
  }
}

TEST(PointwiseLossCpu, L1GradientIsZeroWhereImagesAgree) {
  std::vector<float> a = {0.5f, -1.f, 2.f, 3.f}, b = {0.5f, 0.f, 2.f, 1.f}, g = {1.f}, ga(4), gb(4), l(1);
  cpu::l1_forward(a.data(), b.data(), static_cast<const float*>(nullptr), 1, 4, 1, 0, l.data());
  EXPECT_FLOAT_EQ(l[0], 3.f / 4.f);
  cpu::l1_backward(a.data(), b.data(), static_cast<const float*>(nullptr), 1, 4, 1, 0, g.data(), ga.data(), gb.data());
  EXPECT_EQ(ga[0], 0.f);
  EXPECT_EQ(ga[1], -0.25f);
  EXPECT_EQ(ga[2], 0.f);
  EXPECT_EQ(ga[3], 0.25f);
  EXPECT_EQ(gb[3], -0.25f);
}

// ---- The engine ops over these kernels: shapes, errors a user can act on, recorded backward ----

namespace {

template <typename F>
std::string error_of(F&& f) {
  try {
    f();
  } catch (const facet::Error& e) {
    return e.what();
  }
  return "(no error)";
}

facet::Tensor image(facet::Context& ctx, facet::Shape s, uint32_t seed) {
  return facet::Tensor::from_vector(ctx, s, random_vec(static_cast<size_t>(facet::numel(s)), seed), facet::DType::F64);
}

}  // namespace

TEST(LossOps, DssimReturnsPerSampleVectorOfTheKernel) {
  facet::Context ctx;
  auto a = image(ctx, {3, 12, 14, 2}, 51), b = image(ctx, {3, 12, 14, 2}, 52);
  facet::Tensor y = facet::dssim(ctx, a, b, 5);
  ASSERT_EQ(y.shape(), (facet::Shape{3}));
  auto want = direct_dssim(a.to_double(ctx), b.to_double(ctx), 3, 12, 14, 2, 5);
  auto got = y.to_double(ctx);
  for (int n = 0; n < 3; ++n) EXPECT_NEAR(got[n], want[n], 1e-13);
}

TEST(LossOps, ClearErrors) {
  facet::Context ctx;
  auto a = image(ctx, {2, 8, 9, 3}, 1), b = image(ctx, {2, 8, 8, 3}, 2), m = image(ctx, {2, 8, 9, 2}, 3);
  EXPECT_NE(error_of([&] { facet::dssim(ctx, a, b, 3); }).find("differ"), std::string::npos);
  EXPECT_NE(error_of([&] { facet::dssim(ctx, a, a, 9); }).find("larger than the 8x9 image"), std::string::npos);
  EXPECT_NE(error_of([&] { facet::dssim(ctx, a, a, 0); }).find("filter_size"), std::string::npos);
  EXPECT_NE(error_of([&] { facet::dssim(ctx, a.view({2, 72, 3}), a.view({2, 72, 3}), 3); }).find("NHWC"),
            std::string::npos);
  EXPECT_NE(error_of([&] { facet::mse_loss(ctx, a, b); }).find("differ"), std::string::npos);
  EXPECT_NE(error_of([&] { facet::l1_loss(ctx, a, a, m); }).find("[2,8,9,1]"), std::string::npos);
  EXPECT_NE(error_of([&] { facet::gaussian_blur(ctx, a, 1.0, 4); }).find("odd"), std::string::npos);
  EXPECT_NE(error_of([&] { facet::gaussian_blur(ctx, a, 0.0); }).find("sigma"), std::string::npos);
  EXPECT_NE(error_of([&] { facet::gaussian_blur(ctx, a.view({2, 72, 3}), 1.0); }).find("NHWC"), std::string::npos);
  EXPECT_EQ(facet::gaussian_blur_kernel_size(4.0), 17);
}

// The recorded backward of the blur is the blur of the seed, and the mask gets no gradient.
TEST(LossOps, BlurBackwardIsBlurOfGradAndMaskIsConstant) {
  facet::Context ctx;
  auto x = image(ctx, {2, 10, 7, 3}, 61);
  x.set_requires_grad(true);
  facet::Tensor y = facet::gaussian_blur(ctx, x, 1.3);
  auto r = image(ctx, {2, 10, 7, 3}, 62);
  facet::backward(ctx, y, r);
  auto want = facet::gaussian_blur(ctx, r, 1.3).to_double(ctx);
  auto got = x.grad().to_double(ctx);
  for (size_t i = 0; i < got.size(); ++i) EXPECT_EQ(got[i], want[i]);

  auto a = image(ctx, {2, 4, 4, 3}, 63), b = image(ctx, {2, 4, 4, 3}, 64), m = image(ctx, {2, 4, 4, 1}, 65);
  a.set_requires_grad(true);
  m.set_requires_grad(true);
  facet::Tensor l = facet::mse_loss(ctx, a, b, m);
  facet::backward(ctx, l, facet::Tensor::full(ctx, {2}, 1.0, facet::DType::F64, facet::Device::cpu()));
  EXPECT_TRUE(a.grad().defined());
  EXPECT_FALSE(m.grad().defined());
  EXPECT_FALSE(b.grad().defined());
}
