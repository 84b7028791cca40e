// The training augmentation on the CPU (engine/augment, kernels/cpu/augment): parameter
// distributions against DFL's gen_warp_params, reproducibility from (seed, offset), exact
// geometry cases (identity, integer shifts, flips, borders), the warp map against an explicit
// "cv2.resize the grid, then crop" construction, OpenCV's bicubic coefficients, and the
// OpenCV float colour conversions, rct and HSV jitter.
#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <random>
#include <vector>

#include "engine/augment/augment.h"
#include "engine/augment/warp_params.h"
#include "engine/core/error.h"

using namespace facet;

namespace {

struct HostFaces {
  int64_t n, s;
  std::vector<float> img, mask, em;
};

// Random faces in [0,1] with a full-face mask (zero on a border band) and an eyes-mouth mask.
HostFaces random_faces(int64_t n, int64_t s, uint32_t seed) {
  std::mt19937 rng(seed);
  std::uniform_real_distribution<float> u(0.f, 1.f);
  HostFaces f{n, s, std::vector<float>(n * s * s * 3), std::vector<float>(n * s * s), std::vector<float>(n * s * s)};
  for (auto& v : f.img) v = u(rng);
  for (int64_t i = 0; i < n * s * s; ++i) {
    const int64_t x = i % s, y = (i / s) % s;
    const bool inside = x >= s / 8 && y >= s / 8 && x < s - s / 8 && y < s - s / 8;
    f.mask[i] = inside ? 0.5f + 0.5f * u(rng) : 0.f;
    f.em[i] = 0.6f * u(rng);
  }
  return f;
}

FaceBank bank_of(Context& ctx, const HostFaces& f) {
  Tensor img = Tensor::from_vector(ctx, {f.n, f.s, f.s, 3}, f.img);
  Tensor m = Tensor::from_vector(ctx, {f.n, f.s, f.s, 1}, f.mask);
  Tensor e = Tensor::from_vector(ctx, {f.n, f.s, f.s, 1}, f.em);
  return FaceBank::from_tensors(img, m, e);
}

AugmentOptions opts_at(int w) {
  AugmentOptions o;
  o.resolution = w;
  return o;
}

double mean_of(const std::vector<double>& v) {
  double s = 0;
  for (double x : v) s += x;
  return s / v.size();
}
double var_of(const std::vector<double>& v) {
  const double m = mean_of(v);
  double s = 0;
  for (double x : v) s += (x - m) * (x - m);
  return s / v.size();
}

// Exact std of DFL's truncnorm (N(0,1) truncated to [-2.5, 2.5], divided by 2.5).
double truncnorm_std() {
  const double a = 2.5, phi = std::exp(-a * a / 2) / std::sqrt(2 * M_PI), z = std::erf(a / std::sqrt(2.0));
  return std::sqrt(1 - 2 * a * phi / z) / a;
}

}  // namespace

TEST(AugmentParams, DistributionsMatchGenWarpParams) {
  AugmentOptions o = opts_at(128);
  o.random_flip = true;
  const int64_t n = 20000;
  auto ps = gen_warp_params(11, 0, n, o);
  std::vector<double> rot, sc, tx, ty, disp;
  int flips = 0, cells[3] = {0, 0, 0};
  double max_rel = 0;
  for (const auto& p : ps) {
    rot.push_back(p.rotation_deg), sc.push_back(p.scale), tx.push_back(p.tx), ty.push_back(p.ty);
    EXPECT_GE(p.rotation_deg, -10.0);
    EXPECT_LE(p.rotation_deg, 10.0);
    EXPECT_GE(p.scale, 1 / 1.15);
    EXPECT_LE(p.scale, 1.15);
    EXPECT_LE(std::abs(p.tx), 0.05);
    EXPECT_LE(std::abs(p.ty), 0.05);
    flips += p.flip;
    ASSERT_TRUE(p.cell_size == 64 || p.cell_size == 32 || p.cell_size == 16) << p.cell_size;
    cells[p.cell_size == 64 ? 0 : p.cell_size == 32 ? 1 : 2]++;
    const int cc = p.grid_points;
    ASSERT_EQ(cc, 128 / p.cell_size + 1);
    for (int i = 0; i < cc; ++i)
      for (int j = 0; j < cc; ++j) {
        const double gx = j * 128.0 / (cc - 1), gy = i * 128.0 / (cc - 1);
        const double dx = p.grid_x[i * cc + j] - gx, dy = p.grid_y[i * cc + j] - gy;
        if (i == 0 || j == 0 || i == cc - 1 || j == cc - 1) {
          EXPECT_EQ(dx, 0.0);  // borders fixed
          EXPECT_EQ(dy, 0.0);
        } else {
          disp.push_back(dx / p.cell_size), disp.push_back(dy / p.cell_size);
          max_rel = std::max({max_rel, std::abs(dx) / p.cell_size, std::abs(dy) / p.cell_size});
        }
      }
  }
  EXPECT_NEAR(mean_of(rot), 0.0, 0.25);
  EXPECT_NEAR(var_of(rot), 100.0 / 3, 1.5);
  EXPECT_NEAR(mean_of(sc), (1 / 1.15 + 1.15) / 2, 0.003);
  EXPECT_NEAR(mean_of(tx), 0.0, 0.0015);
  EXPECT_NEAR(mean_of(ty), 0.0, 0.0015);
  const double sd_flip = std::sqrt(0.4 * 0.6 / n);
  EXPECT_NEAR(flips / double(n), 0.4, 4 * sd_flip);
  const double sd_cell = std::sqrt(n * (1 / 3.0) * (2 / 3.0));
  for (int c : cells) EXPECT_NEAR(c, n / 3.0, 4 * sd_cell);
  EXPECT_LE(max_rel, 0.24 + 1e-12);
  EXPECT_GT(max_rel, 0.2);  // the tails are reached
  EXPECT_NEAR(mean_of(disp), 0.0, 0.002);
  // 0.24 * std(truncnorm) = 0.0916 (DFL's "~0.4 * 0.24 = 0.096" rounds the truncated std up)
  EXPECT_NEAR(std::sqrt(var_of(disp)), 0.24 * truncnorm_std(), 0.002);
}

TEST(AugmentParams, OptionsTurnPartsOff) {
  AugmentOptions o = opts_at(96);
  o.random_warp = false;
  for (const auto& p : gen_warp_params(3, 0, 500, o)) {
    EXPECT_EQ(p.flip, 0);         // random_flip defaults to false (DFL's src side)
    EXPECT_EQ(p.grid_points, 0);  // no warp
    EXPECT_EQ(p.apply_hsv, 0);
  }
  o.hsv_power = 0.1;  // h = max(1, int(18)) = 18
  int lo = 0, hi = 0;
  for (const auto& p : gen_warp_params(3, 0, 4000, o)) {
    EXPECT_EQ(p.apply_hsv, 1);
    EXPECT_GE(p.hue_shift, -18);
    EXPECT_LE(p.hue_shift, 18);
    lo += p.hue_shift == -18, hi += p.hue_shift == 18;
    EXPECT_LE(std::abs(p.sat_shift), 0.05);
    EXPECT_LE(std::abs(p.val_shift), 0.05);
  }
  EXPECT_GT(lo, 0);
  EXPECT_GT(hi, 0);
}

TEST(AugmentParams, DflGridAliasingCouplesXAndY) {
  AugmentOptions o = opts_at(128);
  o.dfl_grid_aliasing = true;
  std::vector<double> disp;
  for (const auto& p : gen_warp_params(5, 0, 3000, o)) {
    const int cc = p.grid_points;
    const double step = 128.0 / (cc - 1);
    for (int i = 1; i < cc - 1; ++i)
      for (int j = 1; j < cc - 1; ++j) {
        const double dx_ij = p.grid_x[i * cc + j] - j * step, dy_ji = p.grid_y[j * cc + i] - j * step;
        EXPECT_NEAR(dx_ij, dy_ji, 1e-9);  // numpy: mapy is mapx.T, one buffer
        EXPECT_LE(std::abs(dx_ij), 0.48 * p.cell_size + 1e-9);
        disp.push_back(dx_ij / p.cell_size);
      }
  }
  EXPECT_NEAR(std::sqrt(var_of(disp)), std::sqrt(2.0) * 0.24 * truncnorm_std(), 0.004);
}

TEST(AugmentParams, ReproducibleFromSeedAndOffset) {
  AugmentOptions o = opts_at(64);
  o.random_flip = true, o.hsv_power = 0.05;
  auto a = gen_warp_params(42, 1000, 8, o), b = gen_warp_params(42, 1000, 8, o);
  auto c = gen_warp_params(42, 1000 + augment_rng_words(8), 8, o), d = gen_warp_params(43, 1000, 8, o);
  EXPECT_EQ(std::memcmp(a.data(), b.data(), a.size() * sizeof(a[0])), 0);
  EXPECT_NE(std::memcmp(a.data(), c.data(), a.size() * sizeof(a[0])), 0);
  EXPECT_NE(std::memcmp(a.data(), d.data(), a.size() * sizeof(a[0])), 0);
  // sample b of a batch is sample 0 of a batch starting b blocks later
  auto e = gen_warp_params(42, 1000 + 5 * aug::kWordsPerSample, 1, o);
  EXPECT_EQ(std::memcmp(&a[5], &e[0], sizeof(a[0])), 0);
}

TEST(AugmentKernel, BicubicCoefficientsMatchOpenCV) {
  double c[4];
  aug::cubic_coeffs(0.0, c);  // integer positions are exact
  EXPECT_EQ(c[0], 0.0); EXPECT_EQ(c[1], 1.0); EXPECT_EQ(c[2], 0.0); EXPECT_EQ(c[3], 0.0);
  aug::cubic_coeffs(0.5, c);  // by hand from interpolateCubic with A = -0.75
  EXPECT_DOUBLE_EQ(c[0], -0.09375); EXPECT_DOUBLE_EQ(c[1], 0.59375);
  EXPECT_DOUBLE_EQ(c[2], 0.59375); EXPECT_DOUBLE_EQ(c[3], -0.09375);
  aug::cubic_coeffs(0.25, c);
  EXPECT_DOUBLE_EQ(c[0], -0.10546875); EXPECT_DOUBLE_EQ(c[1], 0.87890625);
  EXPECT_DOUBLE_EQ(c[2], 0.26171875); EXPECT_DOUBLE_EQ(c[3], -0.03515625);
  for (double t : {0.1, 0.37, 0.8}) {  // partition of unity (A = -0.75 is not linear-exact off t = 0.5)
    aug::cubic_coeffs(t, c);
    EXPECT_NEAR(c[0] + c[1] + c[2] + c[3], 1.0, 1e-15);
  }
}

// cv2.resize(grid, (P+cell,)*2, INTER_LINEAR)[half:-half, half:-half], written as OpenCV does it.
std::vector<double> explicit_warp_map(const double* grid, int cc, int P, int cell) {
  const int D = P + cell, half = cell / 2;
  const double scale = 1.0 / (static_cast<double>(D) / cc);
  std::vector<int> sx(D);
  std::vector<double> fx(D);
  for (int d = 0; d < D; ++d) {
    double f = (d + 0.5) * scale - 0.5;
    int s = static_cast<int>(std::floor(f));
    f -= s;
    if (s < 0) f = 0, s = 0;
    if (s >= cc - 1) f = 0, s = cc - 1;
    sx[d] = s, fx[d] = f;
  }
  auto at = [&](int r, int c) { return grid[std::min(r, cc - 1) * cc + std::min(c, cc - 1)]; };
  std::vector<double> out(static_cast<size_t>(P) * P);
  for (int y = 0; y < P; ++y)
    for (int x = 0; x < P; ++x) {
      const int Y = y + half, X = x + half;
      const double top = at(sx[Y], sx[X]) * (1 - fx[X]) + at(sx[Y], sx[X] + 1) * fx[X];
      const double bot = at(sx[Y] + 1, sx[X]) * (1 - fx[X]) + at(sx[Y] + 1, sx[X] + 1) * fx[X];
      out[y * P + x] = top * (1 - fx[Y]) + bot * fx[Y];
    }
  return out;
}

TEST(AugmentKernel, WarpMapEqualsUpsampledCroppedGrid) {
  for (int w : {128, 100, 64, 40}) {  // 100: spacing 12.5 != cell 12, odd half cells; 40: P = 64
    const int P = static_cast<int>(aug::param_res(w));
    int seen[3] = {0, 0, 0};
    for (const auto& p : gen_warp_params(9, 0, 24, opts_at(w))) {
      seen[p.cell_size == P / 2 ? 0 : p.cell_size == P / 4 ? 1 : 2] = 1;
      const auto mx = explicit_warp_map(p.grid_x, p.grid_points, P, p.cell_size);
      const auto my = explicit_warp_map(p.grid_y, p.grid_points, P, p.cell_size);
      double err = 0;
      for (int y = 0; y < P; ++y)
        for (int x = 0; x < P; ++x) {
          double u, v;
          aug::warp_map<double>(p, P, x, y, &u, &v);
          err = std::max({err, std::abs(u - mx[y * P + x]), std::abs(v - my[y * P + x])});
        }
      EXPECT_LT(err, 1e-9) << "w " << w << " cell " << p.cell_size;
    }
    EXPECT_EQ(seen[0] + seen[1] + seen[2], 3) << "all three cell sizes drawn at w " << w;
  }
}

TEST(AugmentKernel, IdentityReproducesInputExactly) {
  Context ctx;
  for (int S : {64, 32}) {  // 32 goes through DFL's "parameters at 64" path
    HostFaces f = random_faces(2, S, 1);
    FaceBank bank = bank_of(ctx, f);
    Augmenter a(opts_at(S));
    std::vector<aug::SampleParams> ps(2, identity_warp_params(S));
    AugmentedBatch out;
    a.run_with_params(ctx, bank, {1, 0}, ps, out);
    const float* t = out.target.data_as<float>();
    const float* wp = out.warped.data_as<float>();
    const float* m = out.mask.data_as<float>();
    for (int64_t k = 0; k < S * S * 3; ++k) {
      ASSERT_EQ(t[k], f.img[S * S * 3 + k]) << k;
      ASSERT_EQ(wp[k], f.img[S * S * 3 + k]) << k;
      ASSERT_EQ(t[S * S * 3 + k], f.img[k]) << k;
    }
    for (int64_t k = 0; k < S * S; ++k) ASSERT_EQ(m[k], f.mask[S * S + k]) << k;
  }
  // a uint8 bank reads as value / 255
  std::vector<uint8_t> px(16 * 16 * 3);
  for (size_t i = 0; i < px.size(); ++i) px[i] = static_cast<uint8_t>(i * 37 % 256);
  FaceBank b8 = FaceBank::from_u8(ctx, Device::cpu(), px.data(), 1, 16);
  AugmentedBatch out;
  Augmenter(opts_at(16)).run_with_params(ctx, b8, {0}, {identity_warp_params(16)}, out);
  for (size_t i = 0; i < px.size(); ++i) ASSERT_EQ(out.target.data_as<float>()[i], px[i] * (1.0f / 255.0f));
  EXPECT_FALSE(out.mask.defined());
}

TEST(AugmentKernel, IntegerTranslationShiftsWithReplicateAndZeroBorders) {
  Context ctx;
  const int S = 64, kx = 3, ky = 5;
  HostFaces f = random_faces(1, S, 2);
  for (auto& v : f.mask) v = 1.f;  // a mask of ones shows the zero border
  FaceBank bank = bank_of(ctx, f);
  aug::SampleParams p = identity_warp_params(S);
  set_warp_affine(p, S, 0, 1, double(kx) / S, double(ky) / S);
  AugmentedBatch out;
  Augmenter(opts_at(S)).run_with_params(ctx, bank, {0}, {p}, out);
  const float* t = out.target.data_as<float>();
  const float* m = out.mask.data_as<float>();
  for (int y = 0; y < S; ++y)
    for (int x = 0; x < S; ++x) {
      const int sy = std::max(y - ky, 0), sx = std::max(x - kx, 0);
      for (int c = 0; c < 3; ++c) ASSERT_EQ(t[(y * S + x) * 3 + c], f.img[(sy * S + sx) * 3 + c]) << x << "," << y;
      ASSERT_EQ(m[y * S + x], (x >= kx && y >= ky) ? 1.f : 0.f) << x << "," << y;
    }
}

TEST(AugmentKernel, FlipMirrorsEveryOutput) {
  Context ctx;
  const int S = 64;
  HostFaces f = random_faces(1, S, 3);
  FaceBank bank = bank_of(ctx, f);
  aug::SampleParams p = identity_warp_params(S);
  p.flip = 1;
  AugmentedBatch out;
  Augmenter(opts_at(S)).run_with_params(ctx, bank, {0}, {p}, out);
  for (int y = 0; y < S; ++y)
    for (int x = 0; x < S; ++x) {
      for (int c = 0; c < 3; ++c)
        ASSERT_EQ(out.target.data_as<float>()[(y * S + x) * 3 + c], f.img[(y * S + S - 1 - x) * 3 + c]);
      ASSERT_EQ(out.mask.data_as<float>()[y * S + x], f.mask[y * S + S - 1 - x]);
    }
}

TEST(AugmentKernel, RegularGridWarpIsDflsHalfPixelShift) {
  // An undisplaced grid maps x to x + 0.5 (cv2.resize's half-pixel centres over the cropped
  // grid); at a half-pixel offset the symmetric bicubic taps reproduce a linear ramp exactly,
  // so the warped input reads ramp(x + 0.5).
  Context ctx;
  const int S = 64;
  HostFaces f = random_faces(1, S, 4);
  for (int64_t i = 0; i < S * S; ++i)
    for (int c = 0; c < 3; ++c) f.img[i * 3 + c] = 0.1f + 0.01f * (i % S) + 0.002f * (i / S);
  FaceBank bank = bank_of(ctx, f);
  for (int cell : {32, 16, 8}) {
    aug::SampleParams p = identity_warp_params(S);
    aug::set_regular_grid(&p, S, cell);
    AugmentedBatch out;
    Augmenter(opts_at(S)).run_with_params(ctx, bank, {0}, {p}, out);
    for (int y = 2; y < S - 3; ++y)
      for (int x = 2; x < S - 3; ++x)
        ASSERT_NEAR(out.warped.data_as<float>()[(y * S + x) * 3], 0.1f + 0.01f * (x + 0.5f) + 0.002f * (y + 0.5f), 2e-6)
            << x << "," << y << " cell " << cell;
  }
}

TEST(AugmentKernel, DflRemapZeroBorderDarkensTheWarpedEdges) {
  // cv2.remap's default zero border: with the undisplaced map (x -> x + 0.5) the last column
  // keeps the weights of taps 62 and 63 only (0.5) and the first gains tap -1's negative lobe
  // back (1.09375). Off by default: the warped input is flat.
  Context ctx;
  const int S = 64;
  HostFaces f = random_faces(1, S, 8);
  for (auto& v : f.img) v = 0.5f;
  FaceBank bank = bank_of(ctx, f);
  aug::SampleParams p = identity_warp_params(S);
  aug::set_regular_grid(&p, S, 16);
  AugmentOptions o = opts_at(S);
  AugmentedBatch plain;
  Augmenter(o).run_with_params(ctx, bank, {0}, {p}, plain);
  p.remap_zero_border = 1;
  AugmentedBatch dfl;
  Augmenter(o).run_with_params(ctx, bank, {0}, {p}, dfl);
  auto at = [&](const Tensor& t, int x, int y) { return t.data_as<float>()[(y * S + x) * 3]; };
  EXPECT_FLOAT_EQ(at(plain.warped, S - 1, 20), 0.5f);
  EXPECT_FLOAT_EQ(at(dfl.warped, 20, 20), 0.5f);
  EXPECT_FLOAT_EQ(at(dfl.warped, S - 1, 20), 0.25f);
  EXPECT_FLOAT_EQ(at(dfl.warped, 0, 20), 0.546875f);
  EXPECT_FLOAT_EQ(at(dfl.warped, S - 1, S - 1), 0.125f);
  EXPECT_FLOAT_EQ(at(dfl.target, S - 1, S - 1), 0.5f);  // the target has no remap
  AugmentOptions od = o;
  od.dfl_remap_zero_border = true;
  for (const auto& q : gen_warp_params(1, 0, 4, od)) EXPECT_EQ(q.remap_zero_border, 1);
}

TEST(AugmentKernel, EyesMouthMaskIsGatedByTheFullMaskAndNormalised) {
  Context ctx;
  const int S = 64;
  HostFaces f = random_faces(2, S, 5);
  FaceBank bank = bank_of(ctx, f);
  AugmentOptions o = opts_at(48);
  o.random_flip = true;
  AugmentedBatch out = Augmenter(o).run(ctx, bank, {0, 1});
  for (int b = 0; b < 2; ++b) {
    float mx = 0;
    for (int k = 0; k < 48 * 48; ++k) {
      const float v = out.eyes_mouth.data_as<float>()[b * 48 * 48 + k];
      mx = std::max(mx, v);
      if (out.mask.data_as<float>()[b * 48 * 48 + k] == 0.f) ASSERT_EQ(v, 0.f);
    }
    EXPECT_FLOAT_EQ(mx, 1.0f);
  }
}

TEST(AugmentColour, LabAndHsvMatchOpenCV) {
  // cv2.cvtColor float reference values (OpenCV docs: red -> 53.24, 80.09, 67.20)
  const double cases[3][6] = {{0, 0, 1, 53.2405879, 80.0941668, 67.2015370},
                              {0, 1, 0, 87.7350995, -86.1812575, 83.1774771},
                              {0.2, 0.4, 0.6, 47.6439175, 15.3722699, 36.4973184}};
  for (const auto& c : cases) {
    const double bgr[3] = {c[0], c[1], c[2]};
    double lab[3], back[3];
    aug::bgr_to_lab(bgr, lab);
    for (int k = 0; k < 3; ++k) EXPECT_NEAR(lab[k], c[3 + k], 1e-6);
    aug::lab_to_bgr(lab, back);
    for (int k = 0; k < 3; ++k) EXPECT_NEAR(back[k], bgr[k], 2e-4);  // OpenCV's constants are 6-digit
  }
  const double white[3] = {1, 1, 1};
  double lab[3];
  aug::bgr_to_lab(white, lab);
  EXPECT_NEAR(lab[0], 100, 1e-9); EXPECT_NEAR(lab[1], 0, 1e-9); EXPECT_NEAR(lab[2], 0, 1e-9);

  const double red[3] = {0, 0, 1}, green[3] = {0, 1, 0}, blue[3] = {1, 0, 0}, grey[3] = {0.3, 0.3, 0.3};
  double hsv[3], bgr[3];
  aug::bgr_to_hsv(red, hsv);
  EXPECT_NEAR(hsv[0], 0, 1e-5); EXPECT_NEAR(hsv[1], 1, 1e-6); EXPECT_NEAR(hsv[2], 1, 1e-12);
  aug::bgr_to_hsv(green, hsv);
  EXPECT_NEAR(hsv[0], 120, 1e-4);
  aug::bgr_to_hsv(blue, hsv);
  EXPECT_NEAR(hsv[0], 240, 1e-4);
  aug::bgr_to_hsv(grey, hsv);
  EXPECT_NEAR(hsv[1], 0, 1e-6);
  std::mt19937 rng(6);
  std::uniform_real_distribution<double> u(0, 1);
  for (int i = 0; i < 200; ++i) {
    const double c[3] = {u(rng), u(rng), u(rng)};
    aug::bgr_to_hsv(c, hsv);
    aug::hsv_to_bgr(hsv, bgr);
    for (int k = 0; k < 3; ++k) ASSERT_NEAR(bgr[k], c[k], 1e-5);
  }
  aug::SampleParams p{};
  p.hue_shift = 120;  // red -> green
  double px[3] = {0, 0, 1};
  aug::apply_hsv(p, px);
  EXPECT_NEAR(px[0], 0, 1e-4); EXPECT_NEAR(px[1], 1, 1e-4); EXPECT_NEAR(px[2], 0, 1e-4);
  p.hue_shift = -120;  // red -> blue, through Python's non-negative modulo
  double px2[3] = {0, 0, 1};
  aug::apply_hsv(p, px2);
  EXPECT_NEAR(px2[0], 1, 1e-4); EXPECT_NEAR(px2[1], 0, 1e-4); EXPECT_NEAR(px2[2], 0, 1e-4);
}

TEST(AugmentColour, RctMatchesMeansAndDeviations) {
  const double c1[3] = {0.2, 0.5, 0.7}, c2[3] = {0.6, 0.3, 0.25};
  aug::RctStats st{};
  double l1[3], l2[3];
  aug::bgr_to_lab(c1, l1);
  aug::bgr_to_lab(c2, l2);
  for (int k = 0; k < 3; ++k) st.src_mean[k] = l1[k], st.ref_mean[k] = l2[k], st.src_std[k] = 2, st.ref_std[k] = 2;
  double px[3] = {c1[0], c1[1], c1[2]};
  aug::apply_rct(st, px);  // the src mean colour becomes the reference mean colour
  for (int k = 0; k < 3; ++k) EXPECT_NEAR(px[k], c2[k], 2e-4);  // Lab round trip (6-digit constants)

  // statistics of a two-colour face: mean of the two labs, std half their difference
  Context ctx;
  const int S = 32;
  std::vector<float> img(S * S * 3);
  for (int i = 0; i < S * S; ++i)
    for (int k = 0; k < 3; ++k) img[i * 3 + k] = static_cast<float>(((i % S) < S / 2) ? c1[k] : c2[k]);
  aug::RctStats got{};
  const int32_t zero = 0;
  cpu::augment_rct_stats(img.data(), false, S, &zero, img.data(), false, S, &zero, 1, S, &got);
  for (int k = 0; k < 3; ++k) {
    EXPECT_NEAR(got.src_mean[k], (l1[k] + l2[k]) / 2, 1e-3);
    EXPECT_NEAR(got.src_std[k], std::abs(l1[k] - l2[k]) / 2, 1e-3);
    EXPECT_NEAR(got.ref_mean[k], got.src_mean[k], 1e-9);
  }

  // whole op: a constant src face takes the constant dst face's colour
  std::vector<float> a(S * S * 3), b(S * S * 3);
  for (int i = 0; i < S * S; ++i)
    for (int k = 0; k < 3; ++k) a[i * 3 + k] = static_cast<float>(c1[k]), b[i * 3 + k] = static_cast<float>(c2[k]);
  FaceBank src = FaceBank::from_tensors(Tensor::from_vector(ctx, {1, S, S, 3}, a));
  FaceBank dst = FaceBank::from_tensors(Tensor::from_vector(ctx, {1, S, S, 3}, b));
  AugmentOptions o = opts_at(S);
  o.rct = true;
  AugmentedBatch out = Augmenter(o).run(ctx, src, {0}, &dst);
  for (int64_t i = 0; i < S * S * 3; ++i) {
    ASSERT_NEAR(out.target.data_as<float>()[i], c2[i % 3], 2e-4);
    ASSERT_NEAR(out.warped.data_as<float>()[i], c2[i % 3], 2e-4);
  }
}

TEST(AugmentOp, ReproducibleAllocationFreeAndInRange) {
  Context ctx(Device::cpu(), 123);
  HostFaces f = random_faces(5, 80, 7);
  FaceBank bank = bank_of(ctx, f);
  AugmentOptions o = opts_at(64);
  o.random_flip = true, o.hsv_power = 0.1;
  Augmenter a(o);
  const std::vector<int32_t> idx = {4, 0, 2};
  const uint64_t off0 = ctx.rng_offset();
  AugmentedBatch out;
  a.run(ctx, bank, idx, out);
  EXPECT_EQ(ctx.rng_offset(), off0 + augment_rng_words(3));
  const auto first = out.warped.to_double(ctx), first_t = out.target.to_double(ctx);
  for (double v : first) ASSERT_TRUE(v >= 0 && v <= 1);
  EXPECT_EQ(out.warped.shape(), (Shape{3, 64, 64, 3}));
  EXPECT_EQ(out.eyes_mouth.shape(), (Shape{3, 64, 64, 1}));
  EXPECT_EQ(a.last_params(ctx).size(), 3u);

  const void* data = out.warped.data();
  const auto allocs = ctx.memory_stats(Device::cpu()).system_allocs;
  a.run(ctx, bank, idx, out);  // next batch: new parameters, same buffers, no allocation
  EXPECT_EQ(out.warped.data(), data);
  EXPECT_EQ(ctx.memory_stats(Device::cpu()).system_allocs, allocs);
  EXPECT_NE(out.warped.to_double(ctx), first);

  ctx.set_rng_state(123, off0);  // replay
  a.run(ctx, bank, idx, out);
  EXPECT_EQ(out.warped.to_double(ctx), first);
  EXPECT_EQ(out.target.to_double(ctx), first_t);

  // the HSV jitter touches the warped input only: the target equals a run without it
  AugmentOptions plain = o;
  plain.hsv_power = 0;
  ctx.set_rng_state(123, off0);
  AugmentedBatch out2 = Augmenter(plain).run(ctx, bank, idx);
  EXPECT_EQ(out2.target.to_double(ctx), first_t);
  EXPECT_NE(out2.warped.to_double(ctx), first);

  EXPECT_THROW(a.run(ctx, bank, {5}, out), Error);  // index outside the bank
  AugmentOptions rct = o;
  rct.rct = true;
  EXPECT_THROW(Augmenter(rct).run(ctx, bank, idx), Error);  // rct needs the dst bank
}

// Mapped pinned memory serves a GPU that reads faces over the bus; a CPU context has its faces in
// host memory already, so asking for it there is a caller's mistake and says so.
TEST(AugmentOp, MappedHostBankNeedsACudaContext) {
  Context ctx(Device::cpu(), 1);
  const std::vector<uint8_t> bgr(2 * 16 * 16 * 3, 128);
  try {
    (void)FaceBank::from_u8_mapped(ctx, bgr.data(), 2, 16);
    FAIL() << "expected an error";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("mapped host memory serves a CUDA context, not cpu"), std::string::npos)
        << e.what();
  }
}
