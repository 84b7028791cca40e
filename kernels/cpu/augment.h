// DeepFaceLab's training augmentation (core/imagelib/warp.py gen_warp_params + warp_by_params,
// samplelib/SampleProcessor's HSV jitter and rct colour transfer) as per-output-pixel formulas,
// so that a batch can be built on the device straight from faces kept decoded in memory.
//
// Everything CPU and CUDA must agree on lives here as FACET_HD inline functions compiled for
// both: the parameter generator (Philox words -> rotation, scale, shift, flip, warp grid, HSV),
// the coordinate chain, the OpenCV bicubic / bilinear taps and the OpenCV float colour
// conversions. kernels/cuda/augment.cu runs the same code, so the backends cannot drift apart.
//
// Per output pixel (xo, yo) at resolution w the source position in the face-set image (S x S):
//   x = flip ? w-1-xo : xo                         (DFL flips last, so we undo it first)
//   x -> P-space, P = max(w, 64)                   (DFL works at 64 when w < 64, then resizes)
//   q = inverse(rmat) * (x, y)                     (cv2.warpAffine samples at the inverse map)
//   q = warp_map(clamp(q, 0, P-1))                 (warped input only: cv2.remap by the grid)
//   s = (q + 0.5) * S / P - 0.5                    (cv2.resize from S to the working size)
// and the image is sampled ONCE there (bicubic a=-0.75, replicate border; masks bilinear, zero
// border). DFL resamples three times (resize, remap, warpAffine); docs/augmentation.md lists the
// differences. Colour operations are pointwise and run after the sampling: rct, then HSV, then
// the optional DFL remap-border factor, clip.
#pragma once
#include <math.h>

#include <cmath>
#include <cstdint>

#include "kernels/common/philox.h"  // FACET_HD, philox_word

namespace facet::aug {

constexpr int kMaxGridPoints = 9;              // cell = P/8 gives 9 grid points per axis
constexpr int kMaxInterior = kMaxGridPoints - 2;
constexpr int kNormalAttempts = 16;            // rejection attempts per truncated normal (P(fail) ~ 1e-30)
constexpr uint64_t kWordsPerSample = 8192;     // Philox words reserved per sample (layout: gen_sample)
constexpr int kMinParamRes = 64;               // DFL computes parameters at 64 for smaller outputs

// What a batch draws, from AugmentOptions (engine/augment/warp_params.h).
struct GenConfig {
  int32_t out_res = 0;        // w
  int32_t random_flip = 0;    // flip with p = 0.4
  int32_t random_warp = 1;    // random-warp grid on the warped input
  int32_t grid_aliased = 0;   // DFL's numpy view aliasing of mapy = mapx.T (see warp_params.h)
  int32_t remap_zero_border = 0;  // DFL's cv2.remap default BORDER_CONSTANT (see source_coord)
  double rotation_deg = 10;   // U(-r, r)
  double scale_range = 0.15;  // U(1/(1+s), 1+s)
  double translation = 0.05;  // U(-t, t) * P pixels
  double hsv_power = 0;       // 0 = no HSV jitter
};

// One sample's augmentation, in double. P-space is the parameter resolution max(w, 64).
struct SampleParams {
  double rotation_deg, scale, tx, ty;  // as drawn (tx, ty in units of P)
  double minv[6];                      // P-space inverse affine: q = [m0 m1 m2; m3 m4 m5] (x, y, 1)
  double grid_x[kMaxGridPoints * kMaxGridPoints];  // cc x cc, row-major [gy][gx], P pixels
  double grid_y[kMaxGridPoints * kMaxGridPoints];
  double sat_shift, val_shift;         // HSV: S += sat_shift, V += val_shift
  int32_t flip;                        // mirror the outputs horizontally
  int32_t grid_points;                 // cc (3, 5 or 9); 0 = no warp
  int32_t cell_size;                   // P/2, P/4 or P/8
  int32_t hue_shift;                   // degrees, integer in [-h, h]
  int32_t apply_hsv;                   // HSV jitter on the warped input
  int32_t remap_zero_border;           // emulate DFL's zero border in cv2.remap (warped input)
};

// rct statistics per sample: the src face being recoloured and the reference (dst) face.
// mean / population std of the L*a*b* channels at the working resolution w.
struct RctStats {
  double src_mean[3], src_std[3], ref_mean[3], ref_std[3];
};

FACET_HD int64_t param_res(int64_t w) { return w < kMinParamRes ? kMinParamRes : w; }

// ---- random numbers ------------------------------------------------------------------------

// Uniform double in [0, 1) with 53 random bits from words idx and idx+1 of the stream.
FACET_HD double uniform53(uint64_t seed, uint64_t idx) {
  const uint64_t hi = philox_word(seed, idx), lo = philox_word(seed, idx + 1);
  return static_cast<double>(((hi << 32) | lo) >> 11) * (1.0 / 9007199254740992.0);
}
// numpy randint(n) from one word: floor(word * n / 2^32), unbiased to 2^-32.
FACET_HD int32_t rand_below(uint64_t seed, uint64_t idx, uint32_t n) {
  return static_cast<int32_t>((static_cast<uint64_t>(philox_word(seed, idx)) * n) >> 32);
}
// DFL's randomex.random_normal: N(0,1) (Box-Muller here), rejecting |x| > 2.5, divided by 2.5.
// Attempt a uses words base + 4a .. base + 4a + 3.
FACET_HD double truncated_normal(uint64_t seed, uint64_t base) {
  for (int a = 0; a < kNormalAttempts; ++a) {
    const double u1 = uniform53(seed, base + 4 * a), u2 = uniform53(seed, base + 4 * a + 2);
    const double z = ::sqrt(-2.0 * ::log(1.0 - u1)) * ::cos(6.283185307179586 * u2);
    if (z >= -2.5 && z <= 2.5) return z / 2.5;
  }
  return 0.0;
}

// ---- parameters ----------------------------------------------------------------------------

// cv2.getRotationMatrix2D((P//2, P//2), rot, scale) with (tx*P, ty*P) added, stored inverted
// (cv2.invertAffineTransform) because sampling walks from output pixels to source positions.
FACET_HD void set_affine(SampleParams* p, int64_t P, double rot_deg, double scale, double tx, double ty) {
  p->rotation_deg = rot_deg, p->scale = scale, p->tx = tx, p->ty = ty;
  const double ang = rot_deg * (3.141592653589793 / 180.0);
  const double al = ::cos(ang) * scale, be = ::sin(ang) * scale, c = static_cast<double>(P / 2);
  const double m0 = al, m1 = be, m2 = (1 - al) * c - be * c + tx * P;
  const double m3 = -be, m4 = al, m5 = be * c + (1 - al) * c + ty * P;
  double d = m0 * m4 - m1 * m3;
  d = d != 0 ? 1.0 / d : 0.0;
  const double a11 = m4 * d, a22 = m0 * d, a12 = -m1 * d, a21 = -m3 * d;
  p->minv[0] = a11, p->minv[1] = a12, p->minv[2] = -a11 * m2 - a12 * m5;
  p->minv[3] = a21, p->minv[4] = a22, p->minv[5] = -a21 * m2 - a22 * m5;
}

// The undisplaced grid: np.linspace(0, P, cc) along x (columns) and y (rows).
FACET_HD void set_regular_grid(SampleParams* p, int64_t P, int32_t cell_size) {
  const int cc = static_cast<int>(P / cell_size + 1);
  p->cell_size = cell_size;
  p->grid_points = cc;
  const double step = static_cast<double>(P) / (cc - 1);
  for (int i = 0; i < cc; ++i)
    for (int j = 0; j < cc; ++j) {
      p->grid_x[i * cc + j] = j == cc - 1 ? static_cast<double>(P) : j * step;
      p->grid_y[i * cc + j] = i == cc - 1 ? static_cast<double>(P) : i * step;
    }
}

// Sample b of a batch uses words [offset + b*kWordsPerSample, +kWordsPerSample) of the stream:
//   0-1 rotation, 2-3 scale, 4-5 tx, 6-7 ty, 8 flip, 9 cell size, 10 hue, 11-12 S, 13-14 V,
//   15 rct partner (drawn by the engine on the host), 16+ the grid normals: value n (interior
//   point k = (gy-1)*7 + (gx-1), axis a: n = 2k + a) uses 4*kNormalAttempts words from 16 + 64n.
// The layout does not depend on the options, so turning one off leaves the others' draws alone.
FACET_HD void gen_sample(uint64_t seed, uint64_t base, const GenConfig& c, SampleParams* p) {
  // Every field is written (the grid beyond grid_points too), whatever the buffer held before: the
  // CPU reference fills a zeroed vector, the GPU kernel uninitialised device memory.
  *p = SampleParams{};
  const int64_t P = param_res(c.out_res);
  const double rot = -c.rotation_deg + 2.0 * c.rotation_deg * uniform53(seed, base + 0);
  const double s_lo = 1.0 / (1.0 + c.scale_range), s_hi = 1.0 + c.scale_range;
  const double scale = s_lo + (s_hi - s_lo) * uniform53(seed, base + 2);
  const double tx = -c.translation + 2.0 * c.translation * uniform53(seed, base + 4);
  const double ty = -c.translation + 2.0 * c.translation * uniform53(seed, base + 6);
  set_affine(p, P, rot, scale, tx, ty);
  p->flip = c.random_flip && rand_below(seed, base + 8, 10) < 4;

  const int32_t cell = static_cast<int32_t>(P >> (1 + rand_below(seed, base + 9, 3)));
  set_regular_grid(p, P, cell);
  const int cc = p->grid_points;
  const double amp = cell * 0.24;
  auto normal = [&](int gy, int gx, int axis) {
    const int n = 2 * ((gy - 1) * kMaxInterior + (gx - 1)) + axis;
    return truncated_normal(seed, base + 16 + static_cast<uint64_t>(n) * 4 * kNormalAttempts);
  };
  for (int i = 1; i < cc - 1; ++i)
    for (int j = 1; j < cc - 1; ++j) {
      double dx = normal(i, j, 0), dy = normal(i, j, 1);
      if (c.grid_aliased) {  // mapx = grid + n1 + n2^T, mapy = grid^T + n1^T + n2
        dx += normal(j, i, 1);
        dy += normal(j, i, 0);
      }
      p->grid_x[i * cc + j] += dx * amp;
      p->grid_y[i * cc + j] += dy * amp;
    }
  if (!c.random_warp) p->grid_points = 0;

  p->apply_hsv = c.hsv_power > 0;
  p->hue_shift = 0, p->sat_shift = 0, p->val_shift = 0;
  if (p->apply_hsv) {
    const int32_t h = (int32_t)(180.0 * c.hsv_power) > 1 ? (int32_t)(180.0 * c.hsv_power) : 1;
    p->hue_shift = rand_below(seed, base + 10, static_cast<uint32_t>(2 * h + 1)) - h;
    p->sat_shift = (uniform53(seed, base + 11) - 0.5) * c.hsv_power;
    p->val_shift = (uniform53(seed, base + 13) - 0.5) * c.hsv_power;
  }
  p->remap_zero_border = c.remap_zero_border;
}

// ---- geometry ------------------------------------------------------------------------------

template <typename T>
FACET_HD T clampv(T v, T lo, T hi) { return v < lo ? lo : (v > hi ? hi : v); }

// DFL's warp map at a (possibly fractional) P-space point: the cc x cc grid resized bilinearly
// (cv2.resize, half-pixel centres, edge clamp) to (P+cell)^2 and cropped by cell//2, i.e. the
// resize's source coordinate of column q + cell//2. At integer q this is DFL's mapx/mapy.
template <typename T>
FACET_HD void warp_map(const SampleParams& p, int64_t P, T qx, T qy, T* u, T* v) {
  const int cc = p.grid_points;
  const T scale = static_cast<T>(cc) / static_cast<T>(P + p.cell_size);
  const T off = static_cast<T>(p.cell_size / 2) + T(0.5);
  const T fx = clampv((qx + off) * scale - T(0.5), T(0), static_cast<T>(cc - 1));
  const T fy = clampv((qy + off) * scale - T(0.5), T(0), static_cast<T>(cc - 1));
  int ix = static_cast<int>(fx), iy = static_cast<int>(fy);  // fx, fy >= 0: truncation = floor
  ix = ix > cc - 2 ? cc - 2 : ix;
  iy = iy > cc - 2 ? cc - 2 : iy;
  const T ax = fx - ix, ay = fy - iy;
  const int k = iy * cc + ix;
  auto bil = [&](const double* g) {
    const T top = static_cast<T>(g[k]) * (1 - ax) + static_cast<T>(g[k + 1]) * ax;
    const T bot = static_cast<T>(g[k + cc]) * (1 - ax) + static_cast<T>(g[k + cc + 1]) * ax;
    return top * (1 - ay) + bot * ay;
  };
  *u = bil(p.grid_x);
  *v = bil(p.grid_y);
}

// OpenCV's interpolateCubic (imgproc/src/imgwarp.cpp), A = -0.75, taps at floor(x) - 1 .. + 2.
template <typename T>
FACET_HD void cubic_coeffs(T x, T c[4]) {
  const T A = T(-0.75);
  c[0] = ((A * (x + 1) - 5 * A) * (x + 1) + 8 * A) * (x + 1) - 4 * A;
  c[1] = ((A + 2) * x - (A + 3)) * x * x + 1;
  c[2] = ((A + 2) * (1 - x) - (A + 3)) * (1 - x) * (1 - x) + 1;
  c[3] = 1 - c[0] - c[1] - c[2];
}

// Sum of the bicubic weights at P-space position u whose taps fall inside [0, P-1]: what
// cv2.remap's default zero border leaves of a locally flat image (0.5 on the last row/column
// reached by the undisplaced map, 1.09 on the first).
template <typename T>
FACET_HD T remap_coverage(T u, int64_t P) {
  const T f = ::floor(u);
  T c[4];
  cubic_coeffs(u - f, c);
  const int64_t i0 = static_cast<int64_t>(f) - 1;
  T s = 0;
  for (int k = 0; k < 4; ++k) s += (i0 + k >= 0 && i0 + k < P) ? c[k] : T(0);
  return s;
}

// Output pixel (xo, yo) at resolution w -> position in the S x S source (see the file comment).
// `coverage` (optional) receives the remap_zero_border factor (1 when not emulated).
template <typename T>
FACET_HD void source_coord(const SampleParams& p, int64_t S, int64_t w, int64_t xo, int64_t yo, bool warp,
                           T* xs, T* ys, T* coverage = nullptr) {
  const int64_t P = param_res(w);
  T x = static_cast<T>(p.flip ? w - 1 - xo : xo), y = static_cast<T>(yo);
  if (P != w) {
    const T r = static_cast<T>(P) / static_cast<T>(w);
    x = (x + T(0.5)) * r - T(0.5);
    y = (y + T(0.5)) * r - T(0.5);
  }
  T qx = static_cast<T>(p.minv[0]) * x + static_cast<T>(p.minv[1]) * y + static_cast<T>(p.minv[2]);
  T qy = static_cast<T>(p.minv[3]) * x + static_cast<T>(p.minv[4]) * y + static_cast<T>(p.minv[5]);
  if (coverage) *coverage = T(1);
  if (warp && p.grid_points > 0) {
    const T hi = static_cast<T>(P - 1);
    warp_map(p, P, clampv(qx, T(0), hi), clampv(qy, T(0), hi), &qx, &qy);
    if (coverage && p.remap_zero_border) *coverage = remap_coverage(qx, P) * remap_coverage(qy, P);
  }
  if (S != P) {
    const T r = static_cast<T>(S) / static_cast<T>(P);
    qx = (qx + T(0.5)) * r - T(0.5);
    qy = (qy + T(0.5)) * r - T(0.5);
  }
  *xs = qx;
  *ys = qy;
}

// ---- interpolation -------------------------------------------------------------------------

template <typename T> FACET_HD T load_px(const uint8_t* p, int64_t i) { return static_cast<T>(p[i]) * T(1.0 / 255.0); }
template <typename T> FACET_HD T load_px(const float* p, int64_t i) { return static_cast<T>(p[i]); }

FACET_HD int64_t clamp_idx(int64_t i, int64_t n) { return i < 0 ? 0 : (i >= n ? n - 1 : i); }

// Bicubic sample of a 3-channel S x S image, BORDER_REPLICATE (each tap clamped to the image).
template <typename T, typename In>
FACET_HD void bicubic3(const In* img, int64_t S, T xs, T ys, T out[3]) {
  const T fx = ::floor(xs), fy = ::floor(ys);
  T cx[4], cy[4];
  cubic_coeffs(xs - fx, cx);
  cubic_coeffs(ys - fy, cy);
  const int64_t ix = static_cast<int64_t>(fx), iy = static_cast<int64_t>(fy);
  int64_t col[4];
  for (int k = 0; k < 4; ++k) col[k] = clamp_idx(ix - 1 + k, S) * 3;
  out[0] = out[1] = out[2] = T(0);
  for (int r = 0; r < 4; ++r) {
    const In* row = img + clamp_idx(iy - 1 + r, S) * S * 3;
    T a0 = 0, a1 = 0, a2 = 0;
    for (int k = 0; k < 4; ++k) {
      a0 += cx[k] * load_px<T>(row, col[k]);
      a1 += cx[k] * load_px<T>(row, col[k] + 1);
      a2 += cx[k] * load_px<T>(row, col[k] + 2);
    }
    out[0] += cy[r] * a0, out[1] += cy[r] * a1, out[2] += cy[r] * a2;
  }
}

// Bilinear sample of a 3-channel image with edge clamping (cv2.resize INTER_LINEAR).
template <typename T, typename In>
FACET_HD void bilinear3_clamped(const In* img, int64_t S, T xs, T ys, T out[3]) {
  const T fx = ::floor(xs), fy = ::floor(ys), ax = xs - fx, ay = ys - fy;
  const int64_t ix = static_cast<int64_t>(fx), iy = static_cast<int64_t>(fy);
  const int64_t x0 = clamp_idx(ix, S) * 3, x1 = clamp_idx(ix + 1, S) * 3;
  const In* r0 = img + clamp_idx(iy, S) * S * 3;
  const In* r1 = img + clamp_idx(iy + 1, S) * S * 3;
  for (int c = 0; c < 3; ++c) {
    const T top = load_px<T>(r0, x0 + c) * (1 - ax) + load_px<T>(r0, x1 + c) * ax;
    const T bot = load_px<T>(r1, x0 + c) * (1 - ax) + load_px<T>(r1, x1 + c) * ax;
    out[c] = top * (1 - ay) + bot * ay;
  }
}

// Mask value at one source pixel: the full-face mask, or DFL's EYES_MOUTH mask (eyes/mouth
// mask times the binarised full mask, SampleProcessor L142-150) when em is given.
FACET_HD float mask_tap(const float* mask, const float* em, int64_t i) {
  return em ? (mask[i] != 0.0f ? em[i] : 0.0f) : mask[i];
}

// Bilinear sample of a 1-channel mask with BORDER_CONSTANT 0 (taps outside the image are 0).
template <typename T>
FACET_HD T bilinear_mask(const float* mask, const float* em, int64_t S, T xs, T ys) {
  const T fx = ::floor(xs), fy = ::floor(ys), ax = xs - fx, ay = ys - fy;
  const int64_t ix = static_cast<int64_t>(fx), iy = static_cast<int64_t>(fy);
  T acc = 0;
  for (int r = 0; r < 2; ++r) {
    const int64_t yy = iy + r;
    if (yy < 0 || yy >= S) continue;
    const T wy = r ? ay : 1 - ay;
    for (int k = 0; k < 2; ++k) {
      const int64_t xx = ix + k;
      if (xx < 0 || xx >= S) continue;
      acc += wy * (k ? ax : 1 - ax) * static_cast<T>(mask_tap(mask, em, yy * S + xx));
    }
  }
  return acc;
}

// ---- colour (OpenCV float conversions, imgproc/src/color_lab.cpp and color_hsv.cpp) --------

template <typename T> FACET_HD T clip01(T v) { return v < T(0) ? T(0) : (v > T(1) ? T(1) : v); }

// sRGB gamma as in COLOR_BGR2Lab (OpenCV tabulates these with a spline; we evaluate them).
template <typename T> FACET_HD T srgb_to_linear(T x) {
  return x <= T(0.04045) ? x * T(1.0 / 12.92) : static_cast<T>(::pow((x + T(0.055)) * T(1.0 / 1.055), T(2.4)));
}
template <typename T> FACET_HD T linear_to_srgb(T x) {
  return x <= T(0.0031308) ? x * T(12.92) : static_cast<T>(T(1.055) * ::pow(x, T(1.0 / 2.4)) - T(0.055));
}

// cv2.cvtColor(BGR float in [0,1] -> Lab): L in [0,100], a, b about [-127, 127]. Inputs clipped.
template <typename T>
FACET_HD void bgr_to_lab(const T bgr[3], T lab[3]) {
  const T B = srgb_to_linear(clip01(bgr[0])), G = srgb_to_linear(clip01(bgr[1])), R = srgb_to_linear(clip01(bgr[2]));
  const T X = (T(0.412453) * R + T(0.357580) * G + T(0.180423) * B) / T(0.950456);
  const T Y = T(0.212671) * R + T(0.715160) * G + T(0.072169) * B;
  const T Z = (T(0.019334) * R + T(0.119193) * G + T(0.950227) * B) / T(1.088754);
  const T th = T(0.008856), k = T(7.787), a = T(16.0 / 116.0);
  const T FX = X > th ? static_cast<T>(::cbrt(X)) : k * X + a;
  const T FY = Y > th ? static_cast<T>(::cbrt(Y)) : k * Y + a;
  const T FZ = Z > th ? static_cast<T>(::cbrt(Z)) : k * Z + a;
  lab[0] = Y > th ? T(116) * FY - T(16) : T(903.3) * Y;
  lab[1] = T(500) * (FX - FY);
  lab[2] = T(200) * (FY - FZ);
}

// cv2.cvtColor(Lab -> BGR float): the linear RGB is clipped to [0,1] before the gamma.
template <typename T>
FACET_HD void lab_to_bgr(const T lab[3], T bgr[3]) {
  const T li = lab[0], ai = lab[1], bi = lab[2];
  const T k = T(7.787), a = T(16.0 / 116.0), l_th = T(0.008856) * T(903.3), f_th = T(7.787) * T(0.008856) + a;
  T y, fy;
  if (li <= l_th) {
    y = li / T(903.3);
    fy = k * y + a;
  } else {
    fy = (li + T(16)) / T(116);
    y = fy * fy * fy;
  }
  T fx = ai / T(500) + fy, fz = fy - bi / T(200);
  fx = fx <= f_th ? (fx - a) / k : fx * fx * fx;
  fz = fz <= f_th ? (fz - a) / k : fz * fz * fz;
  const T X = fx * T(0.950456), Z = fz * T(1.088754);
  const T R = T(3.240479) * X + T(-1.53715) * y + T(-0.498535) * Z;
  const T G = T(-0.969256) * X + T(1.875991) * y + T(0.041556) * Z;
  const T B = T(0.055648) * X + T(-0.204043) * y + T(1.057311) * Z;
  bgr[0] = linear_to_srgb(clip01(B));
  bgr[1] = linear_to_srgb(clip01(G));
  bgr[2] = linear_to_srgb(clip01(R));
}

// cv2.cvtColor(BGR float -> HSV): H in [0,360), S, V in [0,1] (OpenCV's FLT_EPSILON guards).
template <typename T>
FACET_HD void bgr_to_hsv(const T bgr[3], T hsv[3]) {
  const T b = bgr[0], g = bgr[1], r = bgr[2], eps = T(1.1920928955078125e-07);
  T v = r, vmin = r;
  v = v < g ? g : v, v = v < b ? b : v;
  vmin = vmin > g ? g : vmin, vmin = vmin > b ? b : vmin;
  const T diff = v - vmin;
  const T s = diff / ((v < 0 ? -v : v) + eps);
  const T d = T(60) / (diff + eps);
  T h;
  if (v == r) h = (g - b) * d;
  else if (v == g) h = (b - r) * d + T(120);
  else h = (r - g) * d + T(240);
  if (h < 0) h += T(360);
  hsv[0] = h, hsv[1] = s, hsv[2] = v;
}

// cv2.cvtColor(HSV float -> BGR), H in degrees.
template <typename T>
FACET_HD void hsv_to_bgr(const T hsv[3], T bgr[3]) {
  T h = hsv[0];
  const T s = hsv[1], v = hsv[2];
  if (s == 0) {
    bgr[0] = bgr[1] = bgr[2] = v;
    return;
  }
  h *= T(6.0 / 360.0);
  while (h < 0) h += 6;
  while (h >= 6) h -= 6;
  int sector = static_cast<int>(::floor(h));
  h -= sector;
  if (sector < 0 || sector >= 6) sector = 0, h = 0;
  const T tab[4] = {v, v * (1 - s), v * (1 - s * h), v * (1 - s * (1 - h))};
  const int sd[6][3] = {{1, 3, 0}, {1, 0, 2}, {3, 0, 1}, {0, 2, 1}, {0, 1, 3}, {2, 1, 0}};
  bgr[0] = tab[sd[sector][0]], bgr[1] = tab[sd[sector][1]], bgr[2] = tab[sd[sector][2]];
}

// DFL's random_hsv_shift: H = (H + shift) mod 360, S and V shifted and clipped, back to BGR.
template <typename T>
FACET_HD void apply_hsv(const SampleParams& p, T bgr[3]) {
  T hsv[3];
  bgr_to_hsv(bgr, hsv);
  T h = hsv[0] + static_cast<T>(p.hue_shift);
  h = h - T(360) * ::floor(h / T(360));  // Python's non-negative modulo
  if (h >= T(360)) h -= T(360);
  hsv[0] = h;
  hsv[1] = clip01(hsv[1] + static_cast<T>(p.sat_shift));
  hsv[2] = clip01(hsv[2] + static_cast<T>(p.val_shift));
  hsv_to_bgr(hsv, bgr);
}

// reinhard_color_transfer (color_transfer.py, rct): per Lab channel
// t' = (t - mean_src) * std_ref / std_src + mean_ref, L clipped to [0,100], a,b to [-127,127].
// A constant channel (std 0, a NaN in DFL) keeps its value instead (the division is guarded).
template <typename T>
FACET_HD void apply_rct(const RctStats& s, T bgr[3]) {
  T lab[3];
  bgr_to_lab(bgr, lab);
  for (int c = 0; c < 3; ++c) {
    const double sd = s.src_std[c] > 1e-12 ? s.src_std[c] : 1e-12;
    lab[c] = (lab[c] - static_cast<T>(s.src_mean[c])) * static_cast<T>(s.ref_std[c] / sd) +
             static_cast<T>(s.ref_mean[c]);
  }
  lab[0] = clampv(lab[0], T(0), T(100));
  lab[1] = clampv(lab[1], T(-127), T(127));
  lab[2] = clampv(lab[2], T(-127), T(127));
  lab_to_bgr(lab, bgr);
}

// One output pixel of the warped input (warp = true) or the target (warp = false).
template <typename T, typename In>
FACET_HD void image_pixel(const In* img, int64_t S, const SampleParams& p, const RctStats* rct, int64_t w,
                          int64_t xo, int64_t yo, bool warp, T out[3]) {
  T xs, ys, cov;
  source_coord(p, S, w, xo, yo, warp, &xs, &ys, &cov);
  bicubic3(img, S, xs, ys, out);
  for (int c = 0; c < 3; ++c) out[c] = clip01(out[c]);
  if (rct) apply_rct(*rct, out);
  if (warp && p.apply_hsv) apply_hsv(p, out);
  for (int c = 0; c < 3; ++c) out[c] = clip01(out[c] * cov);  // DFL: colour, remap, affine, clip
}

// One output pixel of a mask (affine + flip, never the warp grid).
template <typename T>
FACET_HD T mask_pixel(const float* mask, const float* em, int64_t S, const SampleParams& p, int64_t w, int64_t xo,
                      int64_t yo) {
  T xs, ys;
  source_coord(p, S, w, xo, yo, false, &xs, &ys);
  return clip01(bilinear_mask(mask, em, S, xs, ys));
}

// Pixel k (row-major over R x R) of a face resized to R, in Lab: the src face bicubic (cv2.resize
// INTER_CUBIC, as DFL resizes it to the training resolution), the reference bilinear
// (cv2.resize INTER_LINEAR, as DFL resizes the ct sample).
template <typename In>
FACET_HD void resized_lab(const In* img, int64_t S, int64_t R, int64_t k, bool cubic, double lab[3]) {
  const double r = static_cast<double>(S) / static_cast<double>(R);
  const double xs = (static_cast<double>(k % R) + 0.5) * r - 0.5, ys = (static_cast<double>(k / R) + 0.5) * r - 0.5;
  float bgr[3], l[3];
  if (cubic) bicubic3(img, S, static_cast<float>(xs), static_cast<float>(ys), bgr);
  else bilinear3_clamped(img, S, static_cast<float>(xs), static_cast<float>(ys), bgr);
  bgr_to_lab(bgr, l);
  lab[0] = l[0], lab[1] = l[1], lab[2] = l[2];
}

}  // namespace facet::aug

namespace facet::cpu {

// Parameters of B samples from the Philox stream (seed, offset): sample b uses words
// offset + b*aug::kWordsPerSample onwards. Identical to cuda::augment_gen_params.
void augment_gen_params(uint64_t seed, uint64_t offset, int64_t B, const aug::GenConfig& cfg,
                        aug::SampleParams* out);

// rct statistics of B (src, reference) pairs at resolution R: src face idx[b] of `bank`
// (S x S x 3, uint8 when bank_u8 else float in [0,1]) and reference face ct_idx[b] of `ct_bank`.
void augment_rct_stats(const void* bank, bool bank_u8, int64_t S, const int32_t* idx, const void* ct_bank,
                       bool ct_u8, int64_t S_ct, const int32_t* ct_idx, int64_t B, int64_t R, aug::RctStats* out);

// warped / target [B, w, w, 3] (either may be null) of faces idx[b] with params[b]; rct may be
// null (no colour transfer) or hold B entries. Values in [0, 1].
template <typename T>
void augment_images(const void* bank, bool bank_u8, int64_t S, const int32_t* idx, const aug::SampleParams* params,
                    const aug::RctStats* rct, int64_t B, int64_t w, T* warped, T* target);

// mask_out / em_out [B, w, w, 1] (either may be null) from the face-set masks [N, S, S, 1].
// em_out is DFL's EYES_MOUTH mask: em * (mask != 0), sampled, then divided by its per-sample
// maximum (when non-zero). em_out needs em.
template <typename T>
void augment_masks(const float* mask, const float* em, int64_t S, const int32_t* idx, const aug::SampleParams* params,
                   int64_t B, int64_t w, T* mask_out, T* em_out);

}  // namespace facet::cpu
