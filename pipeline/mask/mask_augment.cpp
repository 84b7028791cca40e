// The mask model's sample augmentation (see mask_augment.h).
#include "pipeline/mask/mask_augment.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <random>

#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>

namespace facet::mask {

namespace {

// splitmix64: a well-mixed 64-bit seed from the (seed, iteration, slot) triple.
uint64_t mix(uint64_t x) {
  x += 0x9e3779b97f4a7c15ull;
  x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ull;
  x = (x ^ (x >> 27)) * 0x94d049bb133111ebull;
  return x ^ (x >> 31);
}

struct Rng {
  std::mt19937_64 g;
  double uniform(double lo = 0, double hi = 1) { return std::uniform_real_distribution<double>(lo, hi)(g); }
  int integer(int lo, int hi) { return std::uniform_int_distribution<int>(lo, hi)(g); }  // [lo, hi]
  bool chance(double p) { return uniform() < p; }
};

cv::Mat face_image(const MaskSampleSource& s, int64_t i) {
  const int R = s.resolution;
  cv::Mat u8(R, R, CV_8UC3, const_cast<uint8_t*>(s.bgr + static_cast<size_t>(i) * R * R * 3)), f;
  u8.convertTo(f, CV_32F, 1.0 / 255.0);
  return f;
}

cv::Mat face_label(const MaskSampleSource& s, int64_t i) {
  const int R = s.resolution;
  return cv::Mat(R, R, CV_32FC1, const_cast<float*>(s.label + static_cast<size_t>(i) * R * R)).clone();
}

// Rotation, scale and shift about the centre (+ optional flip), one matrix for image and label.
cv::Mat random_affine(Rng& r, int R, double rot_deg, double scale, double shift, bool flip) {
  cv::Mat m = cv::getRotationMatrix2D(cv::Point2f(R * 0.5f, R * 0.5f), r.uniform(-rot_deg, rot_deg),
                                      1.0 + r.uniform(-scale, scale));
  m.at<double>(0, 2) += r.uniform(-shift, shift) * R;
  m.at<double>(1, 2) += r.uniform(-shift, shift) * R;
  if (flip) {  // x -> R - 1 - x after the affine
    m.at<double>(0, 0) = -m.at<double>(0, 0), m.at<double>(0, 1) = -m.at<double>(0, 1);
    m.at<double>(0, 2) = R - 1 - m.at<double>(0, 2);
  }
  return m;
}

void warp_pair(const cv::Mat& m, cv::Mat& img, cv::Mat& label) {
  const cv::Size sz = img.size();
  cv::warpAffine(img, img, m, sz, cv::INTER_LINEAR, cv::BORDER_REPLICATE);
  cv::warpAffine(label, label, m, sz, cv::INTER_LINEAR, cv::BORDER_CONSTANT, cv::Scalar(0));
}

// DFL's random warp (core/imagelib/warp.py gen_warp_params) for an image and its label alike: a
// grid of 3, 5 or 9 points a side whose interior points move by a truncated normal of 0.24 cells,
// smoothed to a per-pixel map, then one remap of both (replicate border for the image, zero for
// the label).
void random_warp_pair(Rng& r, cv::Mat& img, cv::Mat& label) {
  const int R = img.rows, cells = 1 << r.integer(1, 3), n = cells + 1;
  const double cell = static_cast<double>(R) / cells;
  cv::Mat gx(n, n, CV_32F), gy(n, n, CV_32F);
  std::normal_distribution<double> normal(0.0, 1.0);
  auto truncnorm = [&] {
    for (;;) {
      const double v = normal(r.g);
      if (std::fabs(v) <= 2.5) return v / 2.5;
    }
  };
  for (int i = 0; i < n; ++i)
    for (int j = 0; j < n; ++j) {
      const bool interior = i > 0 && j > 0 && i < n - 1 && j < n - 1;
      gx.at<float>(i, j) = static_cast<float>(j * cell + (interior ? truncnorm() * 0.24 * cell : 0.0));
      gy.at<float>(i, j) = static_cast<float>(i * cell + (interior ? truncnorm() * 0.24 * cell : 0.0));
    }
  // Grid point k sits at pixel k * cell: resize the (n x n) grid to (R + cell) and keep R, so the
  // corners land on the image's corners.
  const int big = R + static_cast<int>(std::lround(cell));
  cv::Mat mx, my;
  cv::resize(gx, mx, cv::Size(big, big), 0, 0, cv::INTER_LINEAR);
  cv::resize(gy, my, cv::Size(big, big), 0, 0, cv::INTER_LINEAR);
  const int off = static_cast<int>(std::lround(cell / 2));
  mx = mx(cv::Rect(off, off, R, R)).clone(), my = my(cv::Rect(off, off, R, R)).clone();
  cv::remap(img, img, mx, my, cv::INTER_LINEAR, cv::BORDER_REPLICATE);
  cv::remap(label, label, mx, my, cv::INTER_LINEAR, cv::BORDER_CONSTANT, cv::Scalar(0));
}

void hsv_shift(Rng& r, cv::Mat& img) {
  cv::Mat hsv;
  cv::cvtColor(img, hsv, cv::COLOR_BGR2HSV);  // H in [0,360), S, V in [0,1]
  const double dh = r.integer(-18, 18), ds = r.uniform(-0.25, 0.25), dv = r.uniform(-0.25, 0.25);
  for (int y = 0; y < hsv.rows; ++y) {
    cv::Vec3f* p = hsv.ptr<cv::Vec3f>(y);
    for (int x = 0; x < hsv.cols; ++x) {
      p[x][0] = static_cast<float>(std::fmod(p[x][0] + dh + 360.0, 360.0));
      p[x][1] = static_cast<float>(std::clamp(p[x][1] + ds, 0.0, 1.0));
      p[x][2] = static_cast<float>(std::clamp(p[x][2] + dv, 0.0, 1.0));
    }
  }
  cv::cvtColor(hsv, img, cv::COLOR_HSV2BGR);
}

// Per channel: in_lo..in_hi stretched to out_lo..out_hi with a gamma (DFL's apply_random_rgb_levels).
void rgb_levels(Rng& r, cv::Mat& img) {
  std::vector<cv::Mat> ch;
  cv::split(img, ch);
  for (cv::Mat& c : ch) {
    const double in_lo = r.uniform(0, 0.25), in_hi = 1 - r.uniform(0, 0.25), gamma = r.uniform(0.5, 1.5);
    const double out_lo = r.uniform(0, 0.25), out_hi = 1 - r.uniform(0, 0.25);
    cv::Mat t = (c - in_lo) / (in_hi - in_lo);
    cv::min(cv::max(t, 0.0), 1.0, t);
    cv::pow(t, gamma, t);
    c = t * (out_hi - out_lo) + out_lo;
  }
  cv::merge(ch, img);
}

void background_from(Rng& r, const MaskSampleSource& s, int64_t index, cv::Mat& img, const cv::Mat& label) {
  const int R = s.resolution;
  int64_t other = s.count > 1 ? r.integer(0, static_cast<int>(s.count - 2)) : 0;
  if (s.count > 1 && other >= index) ++other;
  cv::Mat bg = face_image(s, other), bg_mask = face_label(s, other);
  warp_pair(random_affine(r, R, 180, 0.10, 0.10, r.chance(0.5)), bg, bg_mask);
  cv::Mat keep;
  cv::merge(std::vector<cv::Mat>(3, 1.0 - bg_mask), keep);
  bg = bg.mul(keep);
  if (r.chance(0.5)) hsv_shift(r, bg);
  else rgb_levels(r, bg);
  // c_mask = 1 - (1 - bg_mask)(1 - mask): where neither face is, the other face's backdrop shows.
  cv::Mat c1 = 1.0 - (1.0 - bg_mask).mul(1.0 - label), c;
  cv::merge(std::vector<cv::Mat>(3, c1), c);
  const double w = 0.15 + r.uniform() * 0.85;
  cv::Mat outside = cv::Scalar::all(1.0) - c;
  img = img.mul(c) + img.mul(outside) * w + bg.mul(outside) * (1 - w);
}

void occluder(Rng& r, cv::Mat& img, cv::Mat& label) {
  const int R = img.rows, n = r.integer(5, 9);
  // A blob entering from a random side towards a point on the face, like a hand or a microphone.
  const double cx = R * r.uniform(0.3, 0.7), cy = R * r.uniform(0.3, 0.8), rad = R * r.uniform(0.12, 0.3);
  std::vector<cv::Point> pts;
  for (int k = 0; k < n; ++k) {
    const double a = 2 * M_PI * (k + r.uniform(-0.3, 0.3)) / n, rr = rad * r.uniform(0.6, 1.4);
    pts.emplace_back(static_cast<int>(cx + rr * std::cos(a)), static_cast<int>(cy + rr * std::sin(a)));
  }
  const double side = r.uniform(0, 2 * M_PI);  // an arm from the border to the blob
  pts.emplace_back(static_cast<int>(cx + 2 * R * std::cos(side + 0.15)), static_cast<int>(cy + 2 * R * std::sin(side + 0.15)));
  pts.emplace_back(static_cast<int>(cx + 2 * R * std::cos(side - 0.15)), static_cast<int>(cy + 2 * R * std::sin(side - 0.15)));
  std::vector<cv::Point> hull;
  cv::convexHull(pts, hull);
  cv::Mat shape = cv::Mat::zeros(R, R, CV_8UC1);
  cv::fillPoly(shape, std::vector<std::vector<cv::Point>>{hull}, cv::Scalar(255));
  const cv::Vec3f a(static_cast<float>(r.uniform()), static_cast<float>(r.uniform()), static_cast<float>(r.uniform()));
  const cv::Vec3f b = r.chance(0.5) ? a : cv::Vec3f(static_cast<float>(r.uniform()), static_cast<float>(r.uniform()),
                                                    static_cast<float>(r.uniform()));
  const double period = R * r.uniform(0.03, 0.2), tilt = r.uniform(0, M_PI);
  for (int y = 0; y < R; ++y) {
    const uint8_t* s = shape.ptr<uint8_t>(y);
    cv::Vec3f* p = img.ptr<cv::Vec3f>(y);
    float* l = label.ptr<float>(y);
    for (int x = 0; x < R; ++x)
      if (s[x]) {
        const double t = (x * std::cos(tilt) + y * std::sin(tilt)) / period;
        p[x] = (static_cast<int>(std::floor(t)) & 1) ? a : b;
        l[x] = 0.f;
      }
  }
}

void blur_or_sharpen(Rng& r, cv::Mat& img) {
  const int kind = r.integer(0, 3), k = 2 * r.integer(1, 2) + 1;  // kernel 3 or 5
  if (kind == 0) {
    cv::Mat blurred;
    cv::GaussianBlur(img, blurred, cv::Size(k, k), 0);
    img = img * 2.0 - blurred;  // unsharp mask
  } else if (kind == 1) {
    cv::Mat kern = cv::Mat::zeros(k, k, CV_32F);
    kern.row(k / 2).setTo(1.0f / k);
    const cv::Mat rot = cv::getRotationMatrix2D(cv::Point2f(k / 2.f, k / 2.f), r.uniform(0, 360), 1.0);
    cv::warpAffine(kern, kern, rot, kern.size());
    kern /= std::max(1e-6, cv::sum(kern)[0]);
    cv::filter2D(img, img, -1, kern);
  } else if (kind == 2) {
    cv::GaussianBlur(img, img, cv::Size(k, k), 0);
  }
}

void degrade(Rng& r, cv::Mat& img) {
  const int R = img.rows;
  if (r.chance(0.25)) {
    const int small = std::max(4, static_cast<int>(R * r.uniform(0.75, 1.0)));
    const int interp = r.chance(0.5) ? cv::INTER_NEAREST : cv::INTER_LINEAR;
    cv::resize(img, img, cv::Size(small, small), 0, 0, interp);
    cv::resize(img, img, cv::Size(R, R), 0, 0, interp);
  }
  if (r.chance(0.25)) {
    cv::Mat u8;
    img.convertTo(u8, CV_8U, 255.0);
    std::vector<uint8_t> buf;
    cv::imencode(".jpg", u8, buf, {cv::IMWRITE_JPEG_QUALITY, r.integer(10, 75)});
    cv::imdecode(buf, cv::IMREAD_COLOR).convertTo(img, CV_32F, 1.0 / 255.0);
  }
}

void store(const cv::Mat& img, const cv::Mat& label, float* image_out, float* label_out) {
  const int R = img.rows;
  cv::Mat clipped;
  cv::min(cv::max(img, 0.0), 1.0, clipped);
  for (int y = 0; y < R; ++y) {
    std::memcpy(image_out + static_cast<size_t>(y) * R * 3, clipped.ptr<float>(y), static_cast<size_t>(R) * 3 * sizeof(float));
    const float* l = label.ptr<float>(y);
    for (int x = 0; x < R; ++x) label_out[static_cast<size_t>(y) * R + x] = l[x] >= 0.5f ? 1.f : 0.f;
  }
}

}  // namespace

void augment_mask_sample(const MaskSampleSource& src, int64_t index, uint64_t seed, int64_t iteration, int slot,
                         float* image, float* label) {
  Rng r{std::mt19937_64(mix(mix(mix(seed) ^ static_cast<uint64_t>(iteration)) ^ static_cast<uint64_t>(slot)))};
  cv::Mat img = face_image(src, index), lab = face_label(src, index);
  if (src.count > 1 && r.chance(0.5)) background_from(r, src, index, img, lab);
  if (r.chance(0.5)) occluder(r, img, lab);
  random_warp_pair(r, img, lab);
  warp_pair(random_affine(r, src.resolution, 10, 0.05, 0.05, r.chance(0.5)), img, lab);
  if (r.chance(0.5)) hsv_shift(r, img);
  else rgb_levels(r, img);
  blur_or_sharpen(r, img);
  degrade(r, img);
  store(img, lab, image, label);
}

void plain_mask_sample(const MaskSampleSource& src, int64_t index, float* image, float* label) {
  store(face_image(src, index), face_label(src, index), image, label);
}

}  // namespace facet::mask
