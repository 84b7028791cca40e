// The merge never pastes beyond the dst face: a predicted face that is the source's saturated
// backdrop everywhere but a small face disk, with learned masks that claim the whole square (the
// way an undertrained model's masks overshoot), merged in every mask mode: the frame must equal
// the original outside the dst hull grown by 1.5 * kFaceRegionGrowth of the face square (plus a
// face pixel and two frame pixels for the warps), while the face inside is still pasted. Also the XSeg modes'
// working masks (the segmenter's masks given by the caller) and their refusals.
#include <cmath>
#include <string>
#include <vector>

#include <gtest/gtest.h>
#include <opencv2/imgproc.hpp>

#include "pipeline/faces/landmark_masks.h"
#include "pipeline/merge/frame_compose.h"
#include "pipeline/merge/merge_face.h"
#include "pipeline/merge/merge_mask.h"
#include "pipeline/train/synthetic_faces.h"

namespace facet::merge {
namespace {

constexpr int kR = 64;
const cv::Vec3b kBackdrop(255, 0, 0);  // saturated blue (BGR): the source crop's background

// A grey textured frame with a dst face: landmarks of the synthetic frontal template placed in a
// 120-pixel square at (60, 30). Returns the frame, the frame->face matrix and the landmarks.
struct Scene {
  cv::Mat frame;
  cv::Matx23d face_mat;
  faces::Landmarks landmarks;
  double square_side = 0;  // the face square's side in frame pixels
};

Scene make_scene() {
  Scene s;
  s.frame = cv::Mat(200, 240, CV_8UC3);
  cv::RNG rng(3);
  for (int y = 0; y < s.frame.rows; ++y)
    for (int x = 0; x < s.frame.cols; ++x) {
      const uchar g = cv::saturate_cast<uchar>(100 + rng.uniform(0, 40));
      s.frame.at<cv::Vec3b>(y, x) = cv::Vec3b(g, g, g);
    }
  const faces::Landmarks tmpl = train::synthetic_frontal_landmarks();  // template units [0, 1]
  const double x0 = 60, y0 = 30, side = 120;
  for (const auto& p : tmpl) s.landmarks.emplace_back(x0 + p.x * side, y0 + p.y * side);
  s.square_side = 1.6 * side;  // the face square: the template square grown about its centre
  const double sq0x = x0 + side / 2 - s.square_side / 2, sq0y = y0 + side / 2 - s.square_side / 2;
  const double k = kR / s.square_side;
  s.face_mat = cv::Matx23d(k, 0, -k * sq0x, 0, k, -k * sq0y);
  return s;
}

FrameFace backdrop_face(const Scene& s) {
  FrameFace f;
  f.in.face_mat = s.face_mat;
  cv::Mat pred(kR, kR, CV_32FC3, cv::Scalar(kBackdrop[0] / 255.0, kBackdrop[1] / 255.0, kBackdrop[2] / 255.0));
  cv::circle(pred, cv::Point(kR / 2, kR / 2), kR / 6, cv::Scalar(0.45, 0.6, 0.85), cv::FILLED);  // skin
  f.in.predicted_face = pred;
  f.in.predicted_mask = cv::Mat::ones(kR, kR, CV_32F);  // overshooting learned masks
  f.in.predicted_dst_mask = cv::Mat::ones(kR, kR, CV_32F);
  f.in.xseg_prd_mask = cv::Mat::ones(kR, kR, CV_32F);
  f.in.xseg_dst_mask = cv::Mat::ones(kR, kR, CV_32F);
  f.landmarks = s.landmarks;
  return f;
}

// 255 where a frame pixel lies farther than `reach` pixels from the dst hull.
cv::Mat beyond_hull(const Scene& s, double reach) {
  cv::Mat hull = faces::hull_mask(s.frame.size(), s.landmarks), outside, dist;
  hull.convertTo(outside, CV_8U, -255.0, 255.0);  // 255 outside the hull
  cv::distanceTransform(outside, dist, cv::DIST_L2, cv::DIST_MASK_PRECISE);
  return dist > reach;
}

// The region's promised reach, plus one face pixel (the hull is warped into the R x R face and
// back) and two frame pixels (the cubic warps).
double reach(const Scene& s) { return 1.5 * kFaceRegionGrowth * s.square_side + s.square_side / kR + 2.0; }

double farthest_change(const Scene& s, const cv::Mat& changed) {
  cv::Mat hull = faces::hull_mask(s.frame.size(), s.landmarks), outside, dist;
  hull.convertTo(outside, CV_8U, -255.0, 255.0);
  cv::distanceTransform(outside, dist, cv::DIST_L2, cv::DIST_MASK_PRECISE);
  double mx = 0;
  cv::minMaxLoc(dist, nullptr, &mx, nullptr, nullptr, changed);
  return mx;
}

TEST(MergeFaceRegion, NothingBeyondTheDstFaceReachesTheFrameInAnyMaskMode) {
  const Scene s = make_scene();
  const cv::Mat far = beyond_hull(s, reach(s));
  ASSERT_GT(cv::countNonZero(far), 0);
  const MaskMode modes[] = {MaskMode::Full,       MaskMode::Dst,
                            MaskMode::LearnedPrd, MaskMode::LearnedDst,
                            MaskMode::LearnedPrdTimesDst, MaskMode::LearnedPrdPlusDst,
                            MaskMode::XSegPrd,    MaskMode::XSegDst,
                            MaskMode::XSegPrdTimesDst, MaskMode::LearnedTimesXSeg};
  for (MergeMode mode : {MergeMode::Overlay, MergeMode::Seamless})
    for (MaskMode mm : modes)
      for (int blur : {0, 60}) {
        SCOPED_TRACE(to_string(mode) + " / mask mode " + std::to_string(static_cast<int>(mm)) + " / blur " +
                     std::to_string(blur));
        MergeSettings st;
        st.mode = mode, st.mask_mode = mm, st.color_transfer = ColorTransferMode::None;
        st.blur_mask_modifier = blur, st.erode_mask_modifier = -20;  // dilation pushes outward too
        const ComposedFrame c = compose_frame(s.frame, {backdrop_face(s)}, st, true, true);
        cv::Mat diff;
        cv::absdiff(c.image, s.frame, diff);
        cv::Mat changed;
        cv::cvtColor(diff, changed, cv::COLOR_BGR2GRAY);
        changed = changed > 0;
        cv::Mat leaked = changed & far;
        EXPECT_EQ(cv::countNonZero(leaked), 0) << "pixels changed beyond the dst face region; farthest "
                                               << farthest_change(s, changed) << " px from the hull, allowed "
                                               << reach(s);
        EXPECT_GT(cv::countNonZero(changed), 100) << "the face was not pasted at all";
        EXPECT_EQ(cv::countNonZero(c.mask & far), 0) << "the merge mask reaches beyond the dst face region";
      }
}

TEST(MergeFaceRegion, RegionCoversTheHullAndFadesWithinItsReach) {
  cv::Mat hull = cv::Mat::zeros(kR, kR, CV_32F);
  cv::rectangle(hull, cv::Rect(20, 20, 24, 24), cv::Scalar(1), cv::FILLED);
  const cv::Mat region = face_region_4r(hull, kR);
  ASSERT_EQ(region.size(), cv::Size(4 * kR, 4 * kR));
  cv::Mat hull4;
  cv::resize(hull, hull4, region.size(), 0, 0, cv::INTER_NEAREST);
  double lo = 0;
  cv::minMaxLoc(region, &lo, nullptr, nullptr, nullptr, hull4 > 0.5f);
  EXPECT_FLOAT_EQ(lo, 1.f) << "the region must keep the whole hull";
  // Beyond 1.5 growths of the 4R square the region is 0; just outside the hull it is still 1.
  const int g = static_cast<int>(std::lround(kFaceRegionGrowth * 4 * kR));
  EXPECT_FLOAT_EQ(region.at<float>(4 * 32, 4 * 44 + g / 2 - 1), 1.f);
  EXPECT_FLOAT_EQ(region.at<float>(4 * 32, 4 * 44 + g + g / 2 + 2), 0.f);
  EXPECT_THROW(face_region_4r(cv::Mat::zeros(kR, kR + 1, CV_32F), kR), std::invalid_argument);
}

TEST(MergeFaceRegion, XSegModesMultiplyTheSegmenterMasksAndNameWhatIsMissing) {
  FaceMasks m;
  m.learned_prd = cv::Mat(kR, kR, CV_32F, cv::Scalar(0.5));
  m.learned_dst = cv::Mat(kR, kR, CV_32F, cv::Scalar(0.8));
  m.xseg_prd = cv::Mat(kR, kR, CV_32F, cv::Scalar(0.9));
  m.xseg_dst = cv::Mat(kR, kR, CV_32F, cv::Scalar(1.5));  // clipped to 1 on use
  auto at = [&](MaskMode mode) { return working_mask(mode, kR, m).at<float>(10, 10); };
  EXPECT_FLOAT_EQ(at(MaskMode::XSegPrd), 0.9f);
  EXPECT_FLOAT_EQ(at(MaskMode::XSegDst), 1.f);
  EXPECT_FLOAT_EQ(at(MaskMode::XSegPrdTimesDst), 0.9f);
  EXPECT_FLOAT_EQ(at(MaskMode::LearnedTimesXSeg), 0.5f * 0.8f * 0.9f);
  FaceMasks none;
  try {
    working_mask(MaskMode::XSegDst, kR, none);
    ADD_FAILURE() << "XSeg-dst without the segmenter's mask was accepted";
  } catch (const std::invalid_argument& e) {
    EXPECT_NE(std::string(e.what()).find("segmenter"), std::string::npos) << e.what();
  }
}

}  // namespace
}  // namespace facet::merge
