// compose_frame's crop (frame_compose.h) gives the pixels of merge_faces on the whole frame, up to
// the warp's coordinate rounding (bound below), for every blend mode, mask mode, colour transfer and
// post effect the crop is used for, with faces small and large (a face pixel bigger than a frame
// pixel), rotated, partly outside the frame, and two at once; pixels the mask leaves alone are
// bit-exact; settings that act on the whole frame use all of it.
#include <string>
#include <vector>

#include <gtest/gtest.h>
#include <opencv2/imgproc.hpp>

#include "pipeline/merge/frame_compose.h"
#include "pipeline_test_support.h"

namespace facet::testing {
namespace {

using merge::FrameFace;
using merge::MergeSettings;

constexpr int R = 64;

cv::Mat smooth_noise(int h, int w, int type, uint64_t seed, double blur) {
  cv::Mat m(h, w, type);
  cv::RNG rng(seed);
  rng.fill(m, cv::RNG::UNIFORM, 0.0, type == CV_8UC3 ? 255.0 : 1.0);
  cv::GaussianBlur(m, m, cv::Size(0, 0), blur);
  return m;
}

FrameFace make_face(double scale, double angle, faces::Point shift, uint64_t seed) {
  FrameFace f;
  f.landmarks = place_face(synthetic_face_template(), scale, angle, shift);
  f.in.face_mat = faces::get_transform_mat(f.landmarks, R, faces::FaceType::Full);
  f.in.predicted_face = smooth_noise(R, R, CV_32FC3, seed, 2.0);
  cv::Mat m = cv::Mat::zeros(R, R, CV_32F);
  cv::ellipse(m, cv::Point(R / 2, R / 2 + 3), cv::Size(R / 3, R * 2 / 5), 0, 0, 360, cv::Scalar(1), -1);
  cv::GaussianBlur(m, m, cv::Size(0, 0), 2.0);
  f.in.predicted_mask = m;
  f.in.predicted_dst_mask = m.clone()(cv::Rect(0, 0, R, R));
  cv::GaussianBlur(f.in.predicted_dst_mask, f.in.predicted_dst_mask, cv::Size(0, 0), 3.0);
  f.in.motion_power = 12.0;
  f.in.motion_deg = 30.0;
  return f;
}

std::vector<std::pair<std::string, MergeSettings>> settings_cases() {
  std::vector<std::pair<std::string, MergeSettings>> c;
  auto add = [&](const std::string& name, auto edit) {
    MergeSettings s;
    edit(s);
    c.emplace_back(name, s);
  };
  add("defaults", [](MergeSettings&) {});
  add("overlay full none", [](MergeSettings& s) { s.mask_mode = merge::MaskMode::Full, s.color_transfer = merge::ColorTransferMode::None; });
  add("dst hull", [](MergeSettings& s) { s.mask_mode = merge::MaskMode::Dst; });
  add("learned-prd+dst", [](MergeSettings& s) { s.mask_mode = merge::MaskMode::LearnedPrdPlusDst; });
  add("erode blur", [](MergeSettings& s) { s.erode_mask_modifier = 30, s.blur_mask_modifier = 60; });
  add("dilate", [](MergeSettings& s) { s.erode_mask_modifier = -40, s.mask_mode = merge::MaskMode::Full; });
  add("face scale +", [](MergeSettings& s) { s.output_face_scale = 20; });
  add("face scale -", [](MergeSettings& s) { s.output_face_scale = -30, s.mask_mode = merge::MaskMode::Full; });
  add("hist-match", [](MergeSettings& s) { s.mode = merge::MergeMode::HistMatch; });
  add("hist-match unmasked", [](MergeSettings& s) { s.mode = merge::MergeMode::HistMatch, s.masked_hist_match = false; });
  add("seamless", [](MergeSettings& s) { s.mode = merge::MergeMode::Seamless; });
  add("seamless-hist-match", [](MergeSettings& s) { s.mode = merge::MergeMode::SeamlessHistMatch; });
  add("raw-rgb", [](MergeSettings& s) { s.mode = merge::MergeMode::RawRgb; });
  add("original", [](MergeSettings& s) { s.mode = merge::MergeMode::Original; });
  add("lct", [](MergeSettings& s) { s.color_transfer = merge::ColorTransferMode::Lct; });
  add("mkl-m", [](MergeSettings& s) { s.color_transfer = merge::ColorTransferMode::MklM; });
  add("idt-m", [](MergeSettings& s) { s.color_transfer = merge::ColorTransferMode::IdtM; });
  add("sot-m", [](MergeSettings& s) { s.color_transfer = merge::ColorTransferMode::SotM; });
  add("motion blur", [](MergeSettings& s) { s.motion_blur_power = 80; });
  add("box sharpen", [](MergeSettings& s) { s.sharpen_mode = merge::SharpenMode::Box, s.blursharpen_amount = 40; });
  add("gaussian blur", [](MergeSettings& s) { s.sharpen_mode = merge::SharpenMode::Gaussian, s.blursharpen_amount = -2; });
  return c;
}

// OpenCV's warpAffine rounds sample coordinates to 1/32 px in fixed point, relative to the
// output's origin, so moving the origin to the crop's corner moves some samples by 1/32 px. On
// smooth data that is invisible (<= 1 level); on the steep edges of a hard "full" mask it is a few
// levels at edge pixels, and a strong sharpen (amount 40) amplifies it. Measured over these cases:
// at most 11 levels; at most 1.8 % of the crop's values differ (most cases < 0.1 %, <= 1 level),
// 3.6 % with the sharpen.
constexpr double kMaxLevels = 12, kMaxShare = 0.03, kMaxShareSharpened = 0.06;

void expect_same(const cv::Mat& frame, const std::vector<FrameFace>& faces, const std::string& what,
                 bool expect_crop) {
  for (const auto& [name, s] : settings_cases()) {
    const merge::ComposedFrame a = merge::compose_frame(frame, faces, s, true, true);
    const merge::ComposedFrame b = merge::compose_frame(frame, faces, s, true, false);
    cv::Mat d;
    cv::absdiff(a.image, b.image, d);
    EXPECT_LE(cv::norm(d, cv::NORM_INF), kMaxLevels) << what << ", " << name;
    const double share = s.sharpen_mode == merge::SharpenMode::None ? kMaxShare : kMaxShareSharpened;
    EXPECT_LE(cv::countNonZero(d.reshape(1)), share * a.roi.area() * 3) << what << ", " << name;
    EXPECT_LE(cv::norm(a.mask, b.mask, cv::NORM_INF), kMaxLevels) << what << ", " << name;
    EXPECT_EQ(a.seamless_failed, b.seamless_failed) << what << ", " << name;
    // Where the crop's mask is zero the frame is untouched, bit for bit (outside the crop too).
    cv::Mat untouched = a.mask == 0, changed;
    cv::absdiff(a.image, frame, changed);
    cv::cvtColor(changed, changed, cv::COLOR_BGR2GRAY);
    if (s.mode != merge::MergeMode::RawRgb)  // raw-rgb pastes the whole square, whatever the mask says
      EXPECT_EQ(cv::countNonZero(changed & untouched), 0) << what << ", " << name;
    if (expect_crop) EXPECT_LT(a.roi.area(), frame.size().area() / 2) << what << ", " << name;
    if (name == "overlay full none") EXPECT_GT(cv::countNonZero(a.mask), 200) << what;
  }
}

TEST(MergeCompose, CropMatchesWholeFrameForEveryMode) {
  const cv::Mat frame = smooth_noise(180, 240, CV_8UC3, 1, 3.0);
  expect_same(frame, {make_face(30, 0.0, {75, 60}, 2)}, "small upright face", true);
  expect_same(frame, {make_face(100, 0.3, {85, 30}, 3)}, "large rotated face (face px > frame px)", false);
  expect_same(frame, {make_face(40, -0.5, {-10, 140}, 4)}, "face partly outside", true);
  expect_same(frame, {make_face(25, 0.1, {30, 30}, 5), make_face(28, -0.2, {165, 100}, 6)}, "two faces", false);
  expect_same(frame, {make_face(35, 0.0, {75, 60}, 7), make_face(35, 0.0, {92, 65}, 8)}, "overlapping faces", true);
}

TEST(MergeCompose, WholeFrameEffectsUseTheWholeFrameAndNoFacePassesThrough) {
  const cv::Mat frame = smooth_noise(120, 160, CV_8UC3, 9, 2.0);
  const std::vector<FrameFace> faces = {make_face(30, 0.0, {40, 30}, 10)};
  for (int k = 0; k < 3; ++k) {
    MergeSettings s;
    (k == 0 ? s.image_denoise_power : k == 1 ? s.bicubic_degrade_power : s.color_degrade_power) = 30;
    EXPECT_EQ(merge::compose_region(frame.size(), faces, s), cv::Rect(0, 0, 160, 120)) << k;
  }
  EXPECT_LT(merge::compose_region(frame.size(), faces, MergeSettings{}).area(), 160 * 120 / 2);
  const merge::ComposedFrame none = merge::compose_frame(frame, {}, MergeSettings{}, true);
  EXPECT_EQ(none.image.data, frame.data);  // shared, untouched
  EXPECT_EQ(cv::countNonZero(none.mask), 0);
}

}  // namespace
}  // namespace facet::testing
