// Post-composite effects, each a line-for-line port of DFL's numpy/cv2 code (same OpenCV calls,
// same default borders) except reduce_colors, which replaces PIL's quantizer with a median cut.
#include "pipeline/merge/post_effects.h"

#include <algorithm>
#include <array>
#include <cmath>
#include <cstdint>
#include <stdexcept>
#include <unordered_map>
#include <vector>

#include <opencv2/imgproc.hpp>

namespace facet::merge {

int motion_blur_kernel_size(double motion_power, int motion_blur_power) {
  if (motion_blur_power == 0) return 0;
  int k = static_cast<int>(motion_power * (motion_blur_power / 100.0));
  if (k < 1) return 0;
  return std::clamp(k + 1, 2, 50);
}

cv::Mat linear_motion_blur(const cv::Mat& img, int size, double angle_deg) {
  if (size < 1) throw std::invalid_argument("linear_motion_blur: size must be >= 1");
  cv::Mat k = cv::Mat::zeros(size, size, CV_32F);
  k.row((size - 1) / 2).setTo(1.f);
  const cv::Mat rot = cv::getRotationMatrix2D(cv::Point2f(size / 2.f - 0.5f, size / 2.f - 0.5f), angle_deg, 1.0);
  cv::Mat kr;
  cv::warpAffine(k, kr, rot, k.size());
  kr *= 1.0 / cv::sum(kr)[0];
  cv::Mat out;
  cv::filter2D(img, out, -1, kr);
  return out;
}

namespace {
// Median passes shared by blursharpen (unit 10) and denoise (unit 100): while n > 0, a full pass
// when int(n/unit) != 0, else a blend with (n % unit)/unit; n steps down by 10.
cv::Mat median_passes(cv::Mat img, int n, int unit) {
  while (n > 0) {
    cv::Mat blurred;
    cv::medianBlur(img, blurred, 5);
    if (n / unit != 0) {
      img = blurred;
    } else {
      const double p = (n % unit) / static_cast<double>(unit);
      cv::addWeighted(img, 1.0 - p, blurred, p, 0.0, img);
    }
    n = std::max(n - 10, 0);
  }
  return img;
}
}  // namespace

cv::Mat blursharpen(const cv::Mat& img, SharpenMode mode, int kernel_size, int amount) {
  if (kernel_size % 2 == 0) kernel_size += 1;
  if (amount > 0) {
    if (mode == SharpenMode::Box) {
      cv::Mat delta = cv::Mat::zeros(kernel_size, kernel_size, CV_32F);
      delta.at<float>(kernel_size / 2, kernel_size / 2) = 1.f;
      const cv::Mat box = cv::Mat::ones(kernel_size, kernel_size, CV_32F) / static_cast<float>(kernel_size * kernel_size);
      const cv::Mat kernel = delta + (delta - box) * static_cast<float>(amount);
      cv::Mat out;
      cv::filter2D(img, out, -1, kernel);
      return out;
    }
    if (mode == SharpenMode::Gaussian) {
      cv::Mat blur, out;
      cv::GaussianBlur(img, blur, cv::Size(kernel_size, kernel_size), 0);
      cv::addWeighted(img, 1.0 + 0.5 * amount, blur, -(0.5 * amount), 0, out);
      return out;
    }
    return img.clone();  // sharpen mode none: DFL returns the image
  }
  if (amount < 0) return median_passes(img.clone(), -amount, 10);
  return img.clone();
}

cv::Mat denoise(const cv::Mat& img, int power) { return median_passes(img.clone(), power, 100); }

cv::Mat bicubic_degrade(const cv::Mat& img, int power) {
  if (power == 0) return img.clone();
  const double p = 1.0 - power / 101.0;
  const cv::Size small(std::max(1, static_cast<int>(img.cols * p)), std::max(1, static_cast<int>(img.rows * p)));
  cv::Mat down, up;
  cv::resize(img, down, small, 0, 0, cv::INTER_CUBIC);
  cv::resize(down, up, img.size(), 0, 0, cv::INTER_CUBIC);
  return up;
}

cv::Mat reduce_colors(const cv::Mat& img, int n_colors) {
  if (img.type() != CV_32FC3) throw std::invalid_argument("reduce_colors: expected CV_32FC3");
  if (n_colors < 1) throw std::invalid_argument("reduce_colors: n_colors must be >= 1");
  // DFL converts with (img*255).astype(uint8): truncation.
  cv::Mat u8(img.size(), CV_8UC3);
  for (int y = 0; y < img.rows; ++y) {
    const float* p = img.ptr<float>(y);
    uint8_t* q = u8.ptr<uint8_t>(y);
    for (int x = 0; x < img.cols * 3; ++x) q[x] = static_cast<uint8_t>(std::clamp(p[x] * 255.f, 0.f, 255.f));
  }

  struct Colour {
    std::array<uint8_t, 3> c;
    int64_t count;
  };
  std::unordered_map<uint32_t, int64_t> hist;
  for (int y = 0; y < u8.rows; ++y) {
    const cv::Vec3b* p = u8.ptr<cv::Vec3b>(y);
    for (int x = 0; x < u8.cols; ++x) ++hist[(uint32_t(p[x][0]) << 16) | (uint32_t(p[x][1]) << 8) | p[x][2]];
  }
  std::vector<Colour> colours;
  colours.reserve(hist.size());
  for (const auto& [key, n] : hist)
    colours.push_back({{uint8_t(key >> 16), uint8_t(key >> 8), uint8_t(key)}, n});
  std::sort(colours.begin(), colours.end(), [](const Colour& a, const Colour& b) { return a.c < b.c; });

  // Boxes are ranges of `colours`; split the most populous box with more than one colour along
  // its widest channel at the count-weighted median.
  struct Box {
    size_t begin, end;
    int64_t pixels;
  };
  auto box_pixels = [&](size_t b, size_t e) {
    int64_t n = 0;
    for (size_t i = b; i < e; ++i) n += colours[i].count;
    return n;
  };
  std::vector<Box> boxes{{0, colours.size(), box_pixels(0, colours.size())}};
  while (static_cast<int>(boxes.size()) < n_colors) {
    int best = -1;
    for (size_t i = 0; i < boxes.size(); ++i)
      if (boxes[i].end - boxes[i].begin > 1 && (best < 0 || boxes[i].pixels > boxes[best].pixels)) best = static_cast<int>(i);
    if (best < 0) break;
    Box b = boxes[best];
    int axis = 0, widest = -1;
    for (int c = 0; c < 3; ++c) {
      int lo = 255, hi = 0;
      for (size_t i = b.begin; i < b.end; ++i) {
        lo = std::min<int>(lo, colours[i].c[c]);
        hi = std::max<int>(hi, colours[i].c[c]);
      }
      if (hi - lo > widest) widest = hi - lo, axis = c;
    }
    std::sort(colours.begin() + b.begin, colours.begin() + b.end,
              [axis](const Colour& x, const Colour& y) { return x.c[axis] < y.c[axis] || (x.c[axis] == y.c[axis] && x.c < y.c); });
    int64_t acc = 0;
    size_t split = b.begin + 1;
    for (size_t i = b.begin; i < b.end - 1; ++i) {
      acc += colours[i].count;
      split = i + 1;
      if (2 * acc >= b.pixels) break;
    }
    boxes[best] = {b.begin, split, box_pixels(b.begin, split)};
    boxes.push_back({split, b.end, box_pixels(split, b.end)});
  }

  std::unordered_map<uint32_t, cv::Vec3f> palette_of;
  for (const Box& b : boxes) {
    double s[3] = {0, 0, 0};
    for (size_t i = b.begin; i < b.end; ++i)
      for (int c = 0; c < 3; ++c) s[c] += double(colours[i].c[c]) * colours[i].count;
    cv::Vec3f mean;
    for (int c = 0; c < 3; ++c) mean[c] = std::round(s[c] / b.pixels) / 255.f;
    for (size_t i = b.begin; i < b.end; ++i) {
      const auto& c = colours[i].c;
      palette_of[(uint32_t(c[0]) << 16) | (uint32_t(c[1]) << 8) | c[2]] = mean;
    }
  }
  cv::Mat out(img.size(), CV_32FC3);
  for (int y = 0; y < u8.rows; ++y) {
    const cv::Vec3b* p = u8.ptr<cv::Vec3b>(y);
    cv::Vec3f* q = out.ptr<cv::Vec3f>(y);
    for (int x = 0; x < u8.cols; ++x) q[x] = palette_of[(uint32_t(p[x][0]) << 16) | (uint32_t(p[x][1]) << 8) | p[x][2]];
  }
  return out;
}

cv::Mat color_degrade(const cv::Mat& img, int power) {
  if (power == 0) return img.clone();
  const cv::Mat reduced = reduce_colors(img, 256);
  if (power == 100) return reduced;
  const double a = power / 100.0;
  cv::Mat out;
  cv::addWeighted(img, 1.0 - a, reduced, a, 0.0, out);
  return out;
}

}  // namespace facet::merge
