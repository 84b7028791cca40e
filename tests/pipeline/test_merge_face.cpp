// merge_face on synthetic frames with a known face: a 160x120 textured frame, a face square
// at x 40..120, y 20..100 mapped to R = 64 (axis-aligned, or rotated 12 degrees about its
// centre), a constant-colour predicted face and disk-shaped learned masks. Checks what each mode
// promises (untouched background, pasted colour, raw outputs), the mask modifiers' direction,
// the face-scale matrix, several faces per frame, post effects and the settings' JSON.
#include <cmath>
#include <string>
#include <vector>

#include <gtest/gtest.h>
#include <opencv2/imgproc.hpp>

#include "pipeline/merge/blend.h"
#include "pipeline/merge/merge_face.h"
#include "pipeline/merge/merge_mask.h"
#include "pipeline/merge/merge_settings.h"
#include "pipeline/merge/post_effects.h"

namespace facet::merge {
namespace {

constexpr int kR = 64;
const cv::Vec3f kFaceColour(0.2f, 0.55f, 0.8f);

cv::Mat textured_frame(int w = 160, int h = 120, uint64_t seed = 1) {
  cv::Mat f(h, w, CV_8UC3);
  cv::RNG rng(seed);
  for (int y = 0; y < h; ++y)
    for (int x = 0; x < w; ++x)
      f.at<cv::Vec3b>(y, x) = cv::Vec3b(cv::saturate_cast<uchar>(60 + x + rng.uniform(0, 30)),
                                        cv::saturate_cast<uchar>(40 + y + rng.uniform(0, 30)),
                                        cv::saturate_cast<uchar>(120 + rng.uniform(0, 60)));
  return f;
}

// Frame -> face matrix for the square [x0, x0+side] x [y0, y0+side], rotated by deg about its centre.
cv::Matx23d face_matrix(double x0, double y0, double side, double deg = 0) {
  const double s = kR / side, a = deg * CV_PI / 180, c = std::cos(a) * s, sn = std::sin(a) * s;
  const double cx = x0 + side / 2, cy = y0 + side / 2;
  // p_face = S R (p - centre) + (R/2, R/2)
  return cv::Matx23d(c, sn, -c * cx - sn * cy + kR / 2.0, -sn, c, sn * cx - c * cy + kR / 2.0);
}

cv::Mat disk_mask(double radius, double cx = kR / 2.0, double cy = kR / 2.0) {
  cv::Mat m = cv::Mat::zeros(kR, kR, CV_32F);
  cv::circle(m, cv::Point(cvRound(cx), cvRound(cy)), cvRound(radius), cv::Scalar(1), cv::FILLED);
  return m;
}

FaceMergeInputs face_at(double x0, double y0, double side, double deg = 0) {
  FaceMergeInputs in;
  in.face_mat = face_matrix(x0, y0, side, deg);
  in.predicted_face = cv::Mat(kR, kR, CV_32FC3, cv::Scalar(kFaceColour[0], kFaceColour[1], kFaceColour[2]));
  in.predicted_mask = disk_mask(26);
  in.predicted_dst_mask = disk_mask(24);
  return in;
}

MergeSettings no_colour(MergeMode mode = MergeMode::Overlay) {
  MergeSettings s;
  s.mode = mode;
  s.color_transfer = ColorTransferMode::None;
  return s;
}

double mask_area(const cv::Mat& m) { return cv::sum(m)[0]; }

// Pixels where the mask is exactly 0 are bit-identical to the frame; returns how many there are.
int expect_untouched_outside(const cv::Mat& frame, const cv::Mat& out, const cv::Mat& mask, const std::string& what) {
  int outside = 0, differ = 0;
  for (int y = 0; y < frame.rows; ++y)
    for (int x = 0; x < frame.cols; ++x)
      if (mask.at<float>(y, x) == 0.f) {
        ++outside;
        if (out.at<cv::Vec3b>(y, x) != frame.at<cv::Vec3b>(y, x)) ++differ;
      }
  EXPECT_EQ(differ, 0) << what;
  return outside;
}

TEST(MergeFace, PixelsOutsideTheMaskAreUntouched) {
  const cv::Mat frame = textured_frame();
  for (double deg : {0.0, 12.0}) {
    const FaceMergeInputs in = face_at(40, 20, 80, deg);
    for (MergeMode mode : {MergeMode::Overlay, MergeMode::HistMatch, MergeMode::Seamless, MergeMode::SeamlessHistMatch}) {
      for (ColorTransferMode ct : {ColorTransferMode::None, ColorTransferMode::Rct}) {
        MergeSettings s;
        s.mode = mode;
        s.color_transfer = ct;
        s.blur_mask_modifier = 20;
        const std::string what = to_string(mode) + " / " + to_string(ct) + " / " + std::to_string(deg);
        const FaceMergeResult r = merge_face_with_mask(frame, in, s);
        EXPECT_FALSE(r.seamless_failed) << what;
        const cv::Mat out = merge_face(frame, in, s);
        ASSERT_EQ(out.type(), CV_8UC3);
        const int outside = expect_untouched_outside(frame, out, r.mask, what);
        EXPECT_GT(outside, 10000) << what;
        // ...and the face did change the inside.
        EXPECT_GT(cv::norm(out, frame, cv::NORM_INF), 20) << what;
      }
    }
  }
}

TEST(MergeFace, OverlayWithFullMaskPastesTheFace) {
  const cv::Mat frame = textured_frame();
  MergeSettings s = no_colour();
  s.mask_mode = MaskMode::Full;
  const FaceMergeResult r = merge_face_with_mask(frame, face_at(40, 20, 80), s);
  ASSERT_EQ(r.image.type(), CV_32FC3);
  for (int y = 24; y < 96; ++y)
    for (int x = 44; x < 116; ++x) {
      ASSERT_NEAR(r.mask.at<float>(y, x), 1.f, 1e-5) << x << "," << y;
      const cv::Vec3f p = r.image.at<cv::Vec3f>(y, x);
      for (int c = 0; c < 3; ++c) ASSERT_NEAR(p[c], kFaceColour[c], 1e-5) << x << "," << y;
    }
  // The mask is the face square: nothing beyond a 2-pixel margin.
  for (int y = 0; y < frame.rows; ++y)
    for (int x = 0; x < frame.cols; ++x)
      if (x < 38 || x > 122 || y < 18 || y > 102) ASSERT_EQ(r.mask.at<float>(y, x), 0.f) << x << "," << y;
  // Float frames give the same pixels.
  cv::Mat ff;
  frame.convertTo(ff, CV_32F, 1.0 / 255);
  EXPECT_LT(cv::norm(merge_face(ff, face_at(40, 20, 80), s), r.image, cv::NORM_INF), 1e-6);
}

TEST(MergeFace, OverlayBlendsWithTheWarpedMask) {
  // A disk mask: the output is frame*(1-m) + colour*m everywhere, m the returned frame mask.
  const cv::Mat frame = textured_frame();
  const FaceMergeResult r = merge_face_with_mask(frame, face_at(40, 20, 80, 12), no_colour());
  cv::Mat f;
  frame.convertTo(f, CV_32F, 1.0 / 255);
  double worst = 0;
  for (int y = 0; y < frame.rows; ++y)
    for (int x = 0; x < frame.cols; ++x) {
      const float m = r.mask.at<float>(y, x);
      for (int c = 0; c < 3; ++c) {
        const double e = f.at<cv::Vec3f>(y, x)[c] * (1 - m) + kFaceColour[c] * m;
        worst = std::max(worst, std::abs(e - r.image.at<cv::Vec3f>(y, x)[c]));
      }
    }
  EXPECT_LT(worst, 1e-5);
  // learned-prd*learned-dst: the smaller disk (radius 24 of 64 over an 80-pixel square = 30 px).
  EXPECT_NEAR(mask_area(r.mask), CV_PI * 30 * 30, 0.06 * CV_PI * 30 * 30);
}

TEST(MergeFace, RawRgbPastesTheSquare) {
  const cv::Mat frame = textured_frame();
  const cv::Mat out = merge_face(frame, face_at(40, 20, 80), no_colour(MergeMode::RawRgb));
  for (int y = 0; y < frame.rows; ++y)
    for (int x = 0; x < frame.cols; ++x) {
      const cv::Vec3b p = out.at<cv::Vec3b>(y, x);
      if (x >= 42 && x < 118 && y >= 22 && y < 98) {
        for (int c = 0; c < 3; ++c) ASSERT_EQ(p[c], cvRound(kFaceColour[c] * 255)) << x << "," << y;
      } else if (x < 38 || x > 122 || y < 18 || y > 102) {
        ASSERT_EQ(p, frame.at<cv::Vec3b>(y, x)) << x << "," << y;
      }
    }
}

TEST(MergeFace, RawPredictReturnsTheFace) {
  const FaceMergeInputs in = face_at(40, 20, 80);
  const FaceMergeResult r = merge_face_with_mask(textured_frame(), in, no_colour(MergeMode::RawPredict));
  ASSERT_EQ(r.image.size(), cv::Size(kR, kR));
  EXPECT_EQ(cv::norm(r.image, in.predicted_face, cv::NORM_INF), 0.0);
  ASSERT_EQ(r.mask.size(), cv::Size(kR, kR));
  EXPECT_NEAR(mask_area(r.mask), CV_PI * 24 * 24, 0.06 * CV_PI * 24 * 24);
}

TEST(MergeFace, OriginalReturnsTheFrame) {
  const cv::Mat frame = textured_frame();
  EXPECT_EQ(cv::norm(merge_face(frame, face_at(40, 20, 80), no_colour(MergeMode::Original)), frame, cv::NORM_INF), 0);
}

TEST(MergeFace, ErodeShrinksAndDilateGrowsTheMask) {
  const cv::Mat frame = textured_frame();
  FaceMergeInputs in = face_at(40, 20, 80);
  in.predicted_mask = disk_mask(18);
  MergeSettings s = no_colour();
  s.mask_mode = MaskMode::LearnedPrd;
  double previous = 1e18;
  for (int erode : {-80, -40, -10, 0, 10, 40, 80}) {
    s.erode_mask_modifier = erode;
    const double area = mask_area(merge_face_with_mask(frame, in, s).mask);
    EXPECT_LT(area, previous) << "erode " << erode;
    previous = area;
  }
  // An erosion kernel of 40 4R-pixels takes 20 off the radius: 5 R-pixels = 6.25 frame pixels
  // (80/64 frame px per R px).
  s.erode_mask_modifier = 0;
  const double r0 = std::sqrt(mask_area(merge_face_with_mask(frame, in, s).mask) / CV_PI);
  s.erode_mask_modifier = 40;
  const double r1 = std::sqrt(mask_area(merge_face_with_mask(frame, in, s).mask) / CV_PI);
  EXPECT_NEAR(r0 - r1, 20.0 / 4 * 80 / 64, 1.0);
}

TEST(MergeFace, BlurSoftensTheEdge) {
  const cv::Mat frame = textured_frame();
  MergeSettings s = no_colour();
  int previous_soft = -1;
  double previous_slope = 1e9;
  for (int blur : {0, 40, 120}) {
    s.blur_mask_modifier = blur;
    const cv::Mat m = merge_face_with_mask(frame, face_at(40, 20, 80), s).mask;
    const int soft = cv::countNonZero((m > 0.f) & (m < 1.f));
    cv::Mat gx, gy, mag;
    cv::Sobel(m, gx, CV_32F, 1, 0);
    cv::Sobel(m, gy, CV_32F, 0, 1);
    cv::magnitude(gx, gy, mag);
    double slope;
    cv::minMaxLoc(mag, nullptr, &slope);
    EXPECT_GT(soft, previous_soft) << "blur " << blur;
    EXPECT_LT(slope, previous_slope) << "blur " << blur;
    previous_soft = soft;
    previous_slope = slope;
  }
}

TEST(MergeFace, DstMaskModeUsesTheHull) {
  const cv::Mat frame = textured_frame();
  FaceMergeInputs in = face_at(40, 20, 80);
  MergeSettings s = no_colour();
  s.mask_mode = MaskMode::Dst;
  EXPECT_THROW(
      {
        try {
          merge_face(frame, in, s);
        } catch (const std::invalid_argument& e) {
          EXPECT_NE(std::string(e.what()).find("dst_hull_mask"), std::string::npos) << e.what();
          throw;
        }
      },
      std::invalid_argument);
  in.dst_hull_mask = cv::Mat::zeros(frame.size(), CV_32F);
  cv::rectangle(in.dst_hull_mask, cv::Rect(60, 40, 40, 30), cv::Scalar(1), cv::FILLED);
  const FaceMergeResult r = merge_face_with_mask(frame, in, s);
  EXPECT_NEAR(mask_area(r.mask), 40 * 30, 0.1 * 40 * 30);
  EXPECT_EQ(r.mask.at<float>(30, 50), 0.f);
  EXPECT_NEAR(r.mask.at<float>(55, 80), 1.f, 1e-4);
}

TEST(MergeFace, OutputFaceScaleMatchesDflMatrixAndShrinksThePaste) {
  // DFL builds the scaled matrix from the face square's corners pulled towards its centre by
  // 1/scale; scale_face_mat must give the same matrix.
  const cv::Matx23d m = face_matrix(40, 20, 80, 12);
  const double scale = 1.2;
  cv::Matx23d inv;
  cv::invertAffineTransform(m, inv);
  auto frame_pt = [&](double x, double y) { return cv::Point2f(cv::Vec2d(inv * cv::Vec3d(x, y, 1))); };
  const cv::Point2f c = frame_pt(kR / 2.0, kR / 2.0);
  std::vector<cv::Point2f> src, dst = {{0, 0}, {float(kR), 0}, {float(kR), float(kR)}};
  for (const cv::Point2f& p : {frame_pt(0, 0), frame_pt(kR, 0), frame_pt(kR, kR)}) src.push_back(c + (p - c) / scale);
  const cv::Mat dfl = cv::getAffineTransform(src, dst);
  const cv::Matx23d ours = scale_face_mat(m, kR, scale);
  for (int i = 0; i < 2; ++i)
    for (int j = 0; j < 3; ++j) EXPECT_NEAR(ours(i, j), dfl.at<double>(i, j), 1e-4);

  const cv::Mat frame = textured_frame();
  MergeSettings s = no_colour();
  const double a0 = mask_area(merge_face_with_mask(frame, face_at(40, 20, 80), s).mask);
  s.output_face_scale = 20;
  const double a1 = mask_area(merge_face_with_mask(frame, face_at(40, 20, 80), s).mask);
  EXPECT_NEAR(a1 / a0, 1 / (1.2 * 1.2), 0.05);
}

TEST(MergeFace, SeveralFacesAreCompositedInTurn) {
  const cv::Mat frame = textured_frame(200, 120);
  FaceMergeInputs left = face_at(5, 20, 80), right = face_at(110, 30, 70, -8);
  right.predicted_face.setTo(cv::Scalar(0.9, 0.1, 0.3));
  const MergeSettings s = no_colour();
  const FaceMergeResult both = merge_faces(frame, {left, right}, s);
  const FaceMergeResult l = merge_face_with_mask(frame, left, s), r = merge_face_with_mask(frame, right, s);
  cv::Mat union_mask;
  cv::min(l.mask + r.mask, 1.0, union_mask);
  EXPECT_LT(cv::norm(both.mask, union_mask, cv::NORM_INF), 1e-6);
  // DFL's rule: final = result_left*(1 - m_right) + result_right*m_right.
  EXPECT_LT(cv::norm(both.image, alpha_blend(l.image, r.image, r.mask), cv::NORM_INF), 1e-6);
  // The faces do not overlap, so inside each face its own result shows.
  EXPECT_LT(cv::norm(both.image, l.image, cv::NORM_INF, (l.mask > 0) & (r.mask == 0)), 1e-6);
  EXPECT_LT(cv::norm(both.image, r.image, cv::NORM_INF, r.mask == 1), 1e-6);
  EXPECT_GT(cv::countNonZero(r.mask == 1), 1000);
  cv::Mat u8;
  both.image.convertTo(u8, CV_8U, 255);
  EXPECT_GT(expect_untouched_outside(frame, u8, both.mask, "two faces"), 5000);
  // No faces: the frame.
  const FaceMergeResult none = merge_faces(frame, {}, s);
  cv::Mat none_u8;
  none.image.convertTo(none_u8, CV_8U, 255);
  EXPECT_EQ(cv::norm(none_u8, frame, cv::NORM_INF), 0);
  EXPECT_EQ(cv::countNonZero(none.mask), 0);
}

TEST(MergeFace, ColourTransferAndPostEffectsChangeOnlyTheFace) {
  const cv::Mat frame = textured_frame();
  FaceMergeInputs in = face_at(40, 20, 80, 12);
  cv::randu(in.predicted_face, 0.3, 0.7);  // texture, so every colour transfer has something to do
  in.motion_power = 30;
  in.motion_deg = 35;
  const cv::Mat base = merge_face(frame, in, no_colour());
  for (int ct = 1; ct <= 8; ++ct) {
    MergeSettings s;
    s.color_transfer = static_cast<ColorTransferMode>(ct);
    const FaceMergeResult r = merge_face_with_mask(frame, in, s);
    cv::Mat out;
    r.image.convertTo(out, CV_8U, 255);
    EXPECT_GT(cv::norm(out, base, cv::NORM_INF), 2) << to_string(s.color_transfer);
    expect_untouched_outside(frame, out, r.mask, to_string(s.color_transfer));
  }
  MergeSettings s = no_colour();
  s.motion_blur_power = 50;
  s.sharpen_mode = SharpenMode::Gaussian;
  s.blursharpen_amount = 30;
  const FaceMergeResult r = merge_face_with_mask(frame, in, s);
  cv::Mat out;
  r.image.convertTo(out, CV_8U, 255);
  EXPECT_GT(cv::norm(out, base, cv::NORM_INF), 2);
  expect_untouched_outside(frame, out, r.mask, "motion blur + sharpen");
}

TEST(MergeFace, BadInputsAreRefused) {
  const cv::Mat frame = textured_frame();
  FaceMergeInputs in = face_at(40, 20, 80);
  in.predicted_face = cv::Mat(kR, kR + 1, CV_32FC3, cv::Scalar::all(0.5));
  EXPECT_THROW(merge_face(frame, in, MergeSettings()), std::invalid_argument);
  in = face_at(40, 20, 80);
  in.predicted_mask.release();
  EXPECT_THROW(merge_face(frame, in, MergeSettings()), std::invalid_argument);  // learned-prd*learned-dst
  MergeSettings bad;
  bad.erode_mask_modifier = 1000;
  EXPECT_THROW(merge_face(frame, face_at(40, 20, 80), bad), std::invalid_argument);
  EXPECT_THROW(merge_face(cv::Mat(10, 10, CV_8UC1), face_at(40, 20, 80), MergeSettings()), std::invalid_argument);
}

TEST(MergeBlend, SeamlessMaskTakesTheFirstThresholdWithPixels) {
  cv::Mat m = cv::Mat::zeros(20, 20, CV_32F);
  m(cv::Rect(5, 5, 10, 10)).setTo(0.05f);
  EXPECT_TRUE(seamless_mask(m).empty());
  m(cv::Rect(8, 8, 4, 4)).setTo(0.5f);
  const cv::Mat b = seamless_mask(m);
  EXPECT_EQ(cv::countNonZero(b), 16);  // > 0.1 only
  EXPECT_EQ(b.at<float>(9, 9), 1.f);
}

TEST(MergeEffects, MotionBlurKernelSizeFollowsDfl) {
  EXPECT_EQ(motion_blur_kernel_size(10, 0), 0);
  EXPECT_EQ(motion_blur_kernel_size(0.5, 100), 0);
  EXPECT_EQ(motion_blur_kernel_size(10, 50), 6);   // int(5) + 1
  EXPECT_EQ(motion_blur_kernel_size(1, 100), 2);   // int(1) + 1
  EXPECT_EQ(motion_blur_kernel_size(300, 100), 50);
}

TEST(MergeEffects, FiltersKeepFlatImagesAndDoWhatTheySay) {
  const cv::Mat flat(32, 32, CV_32FC3, cv::Scalar(0.3, 0.5, 0.7));
  EXPECT_LT(cv::norm(linear_motion_blur(flat, 9, 30), flat, cv::NORM_INF), 1e-5);
  EXPECT_LT(cv::norm(blursharpen(flat, SharpenMode::Box, 3, 50), flat, cv::NORM_INF), 1e-4);
  EXPECT_LT(cv::norm(blursharpen(flat, SharpenMode::Gaussian, 3, 50), flat, cv::NORM_INF), 1e-4);

  cv::Mat noisy(32, 32, CV_32FC3);
  cv::randu(noisy, 0.3, 0.7);
  auto spread = [](const cv::Mat& m) {
    cv::Scalar mean, sd;
    cv::meanStdDev(m, mean, sd);
    return sd[0] + sd[1] + sd[2];
  };
  EXPECT_GT(spread(blursharpen(noisy, SharpenMode::Box, 3, 1)), spread(noisy));
  EXPECT_GT(spread(blursharpen(noisy, SharpenMode::Gaussian, 3, 1)), spread(noisy));
  EXPECT_LT(spread(blursharpen(noisy, SharpenMode::None, 3, -10)), spread(noisy));        // one median pass
  EXPECT_LT(spread(blursharpen(noisy, SharpenMode::None, 3, -30)), spread(blursharpen(noisy, SharpenMode::None, 3, -10)));
  EXPECT_LT(spread(denoise(noisy, 100)), spread(noisy));
  EXPECT_EQ(bicubic_degrade(noisy, 50).size(), noisy.size());
  EXPECT_LT(spread(linear_motion_blur(noisy, 7, 0)), spread(noisy));

  // reduce_colors: at most n distinct colours, close to the input.
  const cv::Mat reduced = reduce_colors(noisy, 16);
  std::vector<cv::Vec3f> seen;
  for (auto it = reduced.begin<cv::Vec3f>(); it != reduced.end<cv::Vec3f>(); ++it)
    if (std::find(seen.begin(), seen.end(), *it) == seen.end()) seen.push_back(*it);
  EXPECT_LE(seen.size(), 16u);
  EXPECT_GT(seen.size(), 8u);
  EXPECT_LT(cv::norm(reduced, noisy, cv::NORM_L1) / (noisy.total() * 3), 0.08);
}

TEST(MergeSettingsJson, DefaultsAreDfls) {
  const MergeSettings d;
  EXPECT_EQ(d.mode, MergeMode::Overlay);
  EXPECT_EQ(d.mask_mode, MaskMode::LearnedPrdTimesDst);
  EXPECT_EQ(d.color_transfer, ColorTransferMode::Rct);
  EXPECT_EQ(d.hist_match_threshold, 238);
  EXPECT_TRUE(d.masked_hist_match);
  EXPECT_EQ(d.erode_mask_modifier, 0);
  EXPECT_EQ(d.blur_mask_modifier, 0);
  EXPECT_EQ(merge_settings_from_json("{}"), d);
  const std::string j = to_json(d);
  EXPECT_NE(j.find("\"mask_mode\": \"learned-prd*learned-dst\""), std::string::npos) << j;
  EXPECT_NE(j.find("\"color_transfer_mode\": \"rct\""), std::string::npos) << j;
}

TEST(MergeSettingsJson, RoundTrip) {
  MergeSettings s;
  s.mode = MergeMode::SeamlessHistMatch;
  s.mask_mode = MaskMode::LearnedPrdPlusDst;
  s.color_transfer = ColorTransferMode::IdtM;
  s.masked_hist_match = false;
  s.hist_match_threshold = 200;
  s.erode_mask_modifier = -35;
  s.blur_mask_modifier = 120;
  s.motion_blur_power = 40;
  s.output_face_scale = -7;
  s.sharpen_mode = SharpenMode::Box;
  s.blursharpen_amount = -20;
  s.image_denoise_power = 300;
  s.bicubic_degrade_power = 10;
  s.color_degrade_power = 55;
  s.random_seed = 12345678901234ull;
  EXPECT_EQ(merge_settings_from_json(to_json(s)), s);
  EXPECT_EQ(merge_settings_from_json(to_json(s, -1)), s);
  // DFL's integer ids work too.
  const MergeSettings ids = merge_settings_from_json(R"({"mode": 3, "mask_mode": 1, "color_transfer_mode": 7})");
  EXPECT_EQ(ids.mode, MergeMode::Seamless);
  EXPECT_EQ(ids.mask_mode, MaskMode::Dst);
  EXPECT_EQ(ids.color_transfer, ColorTransferMode::SotM);
}

void expect_refused(const std::string& json, const std::string& setting) {
  try {
    merge_settings_from_json(json);
    ADD_FAILURE() << json << " was accepted";
  } catch (const std::invalid_argument& e) {
    EXPECT_NE(std::string(e.what()).find("\"" + setting + "\""), std::string::npos)
        << json << " -> " << e.what();
  }
}

TEST(MergeSettingsJson, BadValuesAreRefusedNamingTheSetting) {
  expect_refused(R"({"erode_mask_modifier": 401})", "erode_mask_modifier");
  expect_refused(R"({"blur_mask_modifier": -1})", "blur_mask_modifier");
  expect_refused(R"({"hist_match_threshold": 256})", "hist_match_threshold");
  expect_refused(R"({"motion_blur_power": 101})", "motion_blur_power");
  expect_refused(R"({"output_face_scale": 51})", "output_face_scale");
  expect_refused(R"({"blursharpen_amount": -101})", "blursharpen_amount");
  expect_refused(R"({"image_denoise_power": 501})", "image_denoise_power");
  expect_refused(R"({"bicubic_degrade_power": 101})", "bicubic_degrade_power");
  expect_refused(R"({"color_degrade_power": 101})", "color_degrade_power");
  expect_refused(R"({"mode": "blend"})", "mode");
  expect_refused(R"({"mode": 9})", "mode");
  expect_refused(R"({"mask_mode": "XSeg-fancy"})", "mask_mode");
  expect_refused(R"({"color_transfer_mode": "fancy"})", "color_transfer_mode");
  expect_refused(R"({"sharpen_mode": "unsharp"})", "sharpen_mode");
  expect_refused(R"({"masked_hist_match": 1})", "masked_hist_match");
  expect_refused(R"({"erode_mask_modifier": 1.5})", "erode_mask_modifier");
  expect_refused(R"({"erode_mask_modifier": "10"})", "erode_mask_modifier");
  expect_refused(R"({"random_seed": -1})", "random_seed");
  expect_refused(R"({"erode": 10})", "erode");
  EXPECT_THROW(merge_settings_from_json("[1, 2]"), std::invalid_argument);
  EXPECT_THROW(merge_settings_from_json("{mode: overlay}"), std::invalid_argument);
  MergeSettings s;
  s.blur_mask_modifier = 999;
  try {
    validate(s);
    ADD_FAILURE() << "validate accepted blur 999";
  } catch (const std::invalid_argument& e) {
    EXPECT_NE(std::string(e.what()).find("blur_mask_modifier"), std::string::npos) << e.what();
  }
}

}  // namespace
}  // namespace facet::merge
