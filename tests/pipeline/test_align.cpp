// Alignment math (Umeyama, get_transform_mat per face type), landmark masks and pose, on
// hand-checkable cases: a face that is the template under a known similarity must give back that
// similarity, and each face type's crop must have the side ratio and centre of DFL's table.
#include <cmath>

#include <gtest/gtest.h>
#include <opencv2/calib3d.hpp>
#include <opencv2/imgproc.hpp>

#include "engine/core/error.h"
#include "pipeline/faces/align.h"
#include "pipeline/faces/landmark_masks.h"
#include "pipeline/faces/pose.h"
#include "pipeline_test_support.h"

namespace facet::faces {
namespace {

using facet::testing::place_face;
using facet::testing::synthetic_face_template;

constexpr double kS = 256;

// The frame-space point of a template-space point for a face placed with place_face(s, a, shift).
Point frame_of(Point t, double s, double a, Point shift) { return place_face({t}, s, a, shift)[0]; }

TEST(Umeyama, RecoversAKnownSimilarityExactly) {
  std::vector<Point> tmpl(template_landmarks().begin(), template_landmarks().end());
  const double s = 153.7, a = 0.37;
  const Point shift(211.5, 97.25);
  const std::vector<Point> frame = place_face(tmpl, s, a, shift);
  const Affine m = umeyama(frame, tmpl, true);
  // The inverse similarity: scale 1/s, rotation -a.
  EXPECT_NEAR(m(0, 0), std::cos(a) / s, 1e-12);
  EXPECT_NEAR(m(0, 1), std::sin(a) / s, 1e-12);
  EXPECT_NEAR(m(1, 0), -std::sin(a) / s, 1e-12);
  EXPECT_NEAR(m(1, 1), std::cos(a) / s, 1e-12);
  for (size_t i = 0; i < tmpl.size(); ++i) {
    const Point p = transform_point(frame[i], m);
    EXPECT_NEAR(p.x, tmpl[i].x, 1e-12);
    EXPECT_NEAR(p.y, tmpl[i].y, 1e-12);
  }
  // Forward direction too, and without scale estimation on a pure rotation + shift.
  const Affine f = umeyama(tmpl, frame, true);
  EXPECT_NEAR(f(0, 2), shift.x, 1e-9);
  EXPECT_NEAR(f(1, 2), shift.y, 1e-9);
  const std::vector<Point> rigid = place_face(tmpl, 1.0, -1.1, {3, -4});
  const Affine r = umeyama(tmpl, rigid, false);
  EXPECT_NEAR(r(0, 0), std::cos(-1.1), 1e-12);
  EXPECT_NEAR(r(1, 0), std::sin(-1.1), 1e-12);
}

TEST(Umeyama, NeverReflectsAndRejectsDegenerateInput) {
  std::vector<Point> tmpl(template_landmarks().begin(), template_landmarks().end());
  std::vector<Point> mirrored;
  for (const Point& p : tmpl) mirrored.emplace_back(-p.x, p.y);
  const Affine m = umeyama(tmpl, mirrored, true);
  EXPECT_GT(m(0, 0) * m(1, 1) - m(0, 1) * m(1, 0), 0.0) << "a similarity, never a reflection";
  std::vector<Point> same(5, Point(1, 1));
  EXPECT_THROW(umeyama(same, same, true), Error);
  EXPECT_THROW(umeyama({Point(0, 0)}, {Point(1, 1)}, true), Error);
}

TEST(Align, AffineHelpersAgreeWithOpenCV) {
  const std::array<Point, 3> src = {Point(10, 20), Point(200, 35), Point(50, 180)};
  const std::array<Point, 3> dst = {Point(0, 0), Point(256, 0), Point(256, 256)};
  const Affine m = affine_from_3_points(src, dst);
  std::vector<cv::Point2f> s32(src.begin(), src.end()), d32(dst.begin(), dst.end());
  const cv::Mat ref = cv::getAffineTransform(s32.data(), d32.data());
  for (int r = 0; r < 2; ++r)
    for (int c = 0; c < 3; ++c) EXPECT_NEAR(m(r, c), ref.at<double>(r, c), 1e-4 * (1 + std::abs(m(r, c))));
  const Affine inv = invert_affine(m);
  for (const Point& p : src) {
    const Point q = transform_point(transform_point(p, m), inv);
    EXPECT_NEAR(q.x, p.x, 1e-9);
    EXPECT_NEAR(q.y, p.y, 1e-9);
  }
  const auto back = transform_points(transform_points({src.begin(), src.end()}, m), m, /*invert=*/true);
  EXPECT_NEAR(back[2].y, 180, 1e-9);
  EXPECT_THROW(invert_affine(Affine(1, 2, 0, 2, 4, 0)), Error);
}

TEST(Align, HalfFaceMapsTheTemplateSquareOntoTheImage) {
  const double s = 140, a = -0.25;
  const Point shift(300, 200);
  const Landmarks frame = place_face(synthetic_face_template(), s, a, shift);
  const Affine m = get_transform_mat(frame, kS, FaceType::Half);
  for (const Point& corner : {Point(0, 0), Point(1, 0), Point(1, 1), Point(0, 1)}) {
    const Point p = transform_point(frame_of(corner, s, a, shift), m);
    EXPECT_NEAR(p.x, corner.x * kS, 1e-9);
    EXPECT_NEAR(p.y, corner.y * kS, 1e-9);
  }
  const auto aligned = transform_points(frame, m);
  for (int i = 0; i < 33; ++i) {
    EXPECT_NEAR(aligned[template_landmark_indices()[i]].x, template_landmarks()[i].x * kS, 1e-9);
    EXPECT_NEAR(aligned[template_landmark_indices()[i]].y, template_landmarks()[i].y * kS, 1e-9);
  }
}

TEST(Align, CropSideRatiosMatchDFLTable) {
  EXPECT_NEAR(face_type_crop_ratio(FaceType::Half), 1.0, 1e-12);
  EXPECT_NEAR(face_type_crop_ratio(FaceType::MidFull), 1.191, 1e-3);
  EXPECT_NEAR(face_type_crop_ratio(FaceType::Full), 1.597, 1e-3);
  EXPECT_NEAR(face_type_crop_ratio(FaceType::WholeFace), 2.131, 1e-3);
  EXPECT_NEAR(face_type_crop_ratio(FaceType::Head), 2.980, 1e-3);
  const double s = 97, a = 0.6;
  const Point shift(120, 310);
  const Landmarks frame = place_face(synthetic_face_template(), s, a, shift);
  for (FaceType t : {FaceType::Half, FaceType::MidFull, FaceType::Full, FaceType::WholeFace, FaceType::Head,
                     FaceType::FullNoAlign, FaceType::HeadNoAlign}) {
    const Affine m = get_transform_mat(frame, kS, t);
    const double ratio = face_type_crop_ratio(t);
    // The template square's side, seen in the crop, is S / ratio; its edges stay perpendicular.
    const Point p0 = transform_point(frame_of({0, 0}, s, a, shift), m);
    const Point p1 = transform_point(frame_of({1, 0}, s, a, shift), m);
    const Point p3 = transform_point(frame_of({0, 1}, s, a, shift), m);
    EXPECT_NEAR(cv::norm(p1 - p0), kS / ratio, 1e-9) << face_type_name(t);
    EXPECT_NEAR(cv::norm(p3 - p0), kS / ratio, 1e-9) << face_type_name(t);
    EXPECT_NEAR((p1 - p0).dot(p3 - p0), 0.0, 1e-7) << face_type_name(t);
    if (t == FaceType::Half || t == FaceType::MidFull || t == FaceType::Full) {
      const Point c = transform_point(frame_of({0.5, 0.5}, s, a, shift), m);
      EXPECT_NEAR(c.x, kS / 2, 1e-9) << face_type_name(t);
      EXPECT_NEAR(c.y, kS / 2, 1e-9) << face_type_name(t);
    }
  }
}

TEST(Align, WholeFaceCentreMovesSevenPercentTowardTheForehead) {
  const double s = 120, a = -0.4;
  const Point shift(250, 260);
  const Landmarks frame = place_face(synthetic_face_template(), s, a, shift);
  const Affine m = get_transform_mat(frame, kS, FaceType::WholeFace);
  const double side = kS / face_type_crop_ratio(FaceType::WholeFace);
  const Point c = transform_point(frame_of({0.5, 0.5}, s, a, shift), m);
  EXPECT_NEAR(c.x, kS / 2, 1e-9);
  EXPECT_NEAR(c.y, kS / 2 + 0.07 * side, 1e-9);  // the face sits lower: more forehead above it
}

TEST(Align, HeadCentreMovesUpAndFollowsYaw) {
  const double s = 110, a = 0.2;
  const Point shift(260, 240);
  Landmarks tmpl = synthetic_face_template();
  EXPECT_NEAR(estimate_averaged_yaw(tmpl), 0.0, 1e-12);
  {
    const Affine m = get_transform_mat(place_face(tmpl, s, a, shift), kS, FaceType::Head);
    const Point c = transform_point(frame_of({0.5, 0.0}, s, a, shift), m);  // centre 50% of a side up
    EXPECT_NEAR(c.x, kS / 2, 1e-9);
    EXPECT_NEAR(c.y, kS / 2, 1e-9);
  }
  // Turn the head: the jaw shifts right in template space, the 33 alignment points do not.
  for (int i = 0; i <= 16; ++i) tmpl[i].x += 0.1;
  const double yaw = estimate_averaged_yaw(tmpl);
  EXPECT_NEAR(yaw, 0.2, 1e-12);  // nose-to-right-jaw 0.1 longer, nose-to-left-jaw 0.1 shorter
  const double damped = yaw * std::abs(std::tanh(2 * yaw));
  const Affine m = get_transform_mat(place_face(tmpl, s, a, shift), kS, FaceType::Head);
  const Point c = transform_point(frame_of({0.5 + damped / 2, 0.0}, s, a, shift), m);
  EXPECT_NEAR(c.x, kS / 2, 1e-9);
  EXPECT_NEAR(c.y, kS / 2, 1e-9);
}

TEST(Align, NoAlignTypesRemoveRotation) {
  const double s = 130, a = 0.5;
  const Landmarks frame = place_face(synthetic_face_template(), s, a, {200, 200});
  const Affine full = get_transform_mat(frame, kS, FaceType::Full);
  const Affine na = get_transform_mat(frame, kS, FaceType::FullNoAlign);
  EXPECT_NEAR(na(0, 1), 0.0, 1e-12);
  EXPECT_NEAR(na(1, 0), 0.0, 1e-12);
  EXPECT_NEAR(na(0, 0), na(1, 1), 1e-12);
  EXPECT_NEAR(na(0, 0), std::hypot(full(0, 0), full(1, 0)), 1e-12) << "same crop area";
  const cv::Rect2d r = rect_from_landmarks(frame);
  EXPECT_NEAR(r.width, r.height, 1e-9);
  EXPECT_NEAR(r.width, 255 / na(0, 0), 1e-9);
}

TEST(Align, ScaleZoomsAndWrongLandmarkCountThrows) {
  const Landmarks frame = place_face(synthetic_face_template(), 100, 0, {150, 150});
  const Affine m1 = get_transform_mat(frame, kS, FaceType::Full, 1.0);
  const Affine m2 = get_transform_mat(frame, kS, FaceType::Full, 1.25);
  EXPECT_NEAR(m2(0, 0) / m1(0, 0), 1.25, 1e-12);
  EXPECT_THROW(get_transform_mat(Landmarks(5), kS, FaceType::Full), Error);
  EXPECT_THROW(parse_face_type("sideways"), Error);
  EXPECT_EQ(parse_face_type("wf"), FaceType::WholeFace);
  EXPECT_EQ(parse_face_type(face_type_name(FaceType::MidFull)), FaceType::MidFull);
}

Landmarks aligned_face(FaceType t = FaceType::WholeFace) {
  const Landmarks frame = place_face(synthetic_face_template(), 100, 0.1, {150, 150});
  return transform_points(frame, get_transform_mat(frame, kS, t));
}

TEST(LandmarkMasks, ExpandEyebrowsByHand) {
  Landmarks l = synthetic_face_template();
  for (auto& p : l) p = p * 100.0;  // integer-ish pixel coordinates
  const auto e = expand_eyebrows(l, 1.0);
  // Point 18 against eye-top point 36 (second of the left eye-top row): p + 0.5 (p - q), truncated.
  const cv::Point p18(int(l[18].x), int(l[18].y)), q(int(l[36].x), int(l[36].y));
  EXPECT_EQ(e[18].x, int(p18.x + 0.5 * (p18.x - q.x)));
  EXPECT_EQ(e[18].y, int(p18.y + 0.5 * (p18.y - q.y)));
  EXPECT_EQ(e[30], cv::Point(int(l[30].x), int(l[30].y))) << "non-brow points only truncated";
  EXPECT_LT(e[19].y, int(l[19].y)) << "brows move up";
}

TEST(LandmarkMasks, HullCoversTheFaceAndReachesTheForehead) {
  const Landmarks l = aligned_face();
  const cv::Mat m = hull_mask(cv::Size(256, 256), l);
  ASSERT_EQ(m.type(), CV_32FC1);
  const cv::Point nose(int(l[30].x), int(l[30].y));
  EXPECT_EQ(m.at<float>(nose), 1.0f);
  EXPECT_EQ(m.at<float>(0, 0), 0.0f);
  EXPECT_EQ(m.at<float>(255, 255), 0.0f);
  double lo, hi;
  cv::minMaxLoc(m, &lo, &hi);
  EXPECT_EQ(lo, 0.0);
  EXPECT_EQ(hi, 1.0);
  EXPECT_EQ(cv::countNonZero(m != 0.0f & m != 1.0f), 0) << "binary";
  // Raising the brows (mod 1 vs 0) adds area above them.
  const cv::Mat flat = hull_mask(cv::Size(256, 256), l, 0.0);
  EXPECT_GT(cv::sum(m)[0], cv::sum(flat)[0] + 50);
  const int brow_row = int(l[19].y) - 3;
  EXPECT_EQ(m.at<float>(brow_row, int(l[19].x)), 1.0f);
}

TEST(LandmarkMasks, EyeAndMouthMasksAreSoftAndLocal) {
  const Landmarks l = aligned_face();
  const cv::Mat eyes = eye_mask(cv::Size(256, 256), l), mouth = mouth_mask(cv::Size(256, 256), l);
  const cv::Point eye_c((int(l[36].x) + int(l[39].x)) / 2, (int(l[37].y) + int(l[41].y)) / 2);
  EXPECT_GT(eyes.at<float>(eye_c), 0.9f);
  EXPECT_LT(eyes.at<float>(int(l[8].y) - 2, int(l[8].x)), 1e-6f) << "nothing at the chin";
  double lo, hi;
  cv::minMaxLoc(eyes, &lo, &hi);
  EXPECT_GE(lo, 0.0);
  EXPECT_LE(hi, 1.0 + 1e-6);
  cv::Mat nonbinary = (eyes > 0.01f) & (eyes < 0.99f);
  EXPECT_GT(cv::countNonZero(nonbinary), 100) << "blurred edges";
  // Left and right eye regions carry about the same weight (the face is nearly symmetric).
  const double left = cv::sum(eyes(cv::Rect(0, 0, int(l[27].x), 256)))[0];
  const double right = cv::sum(eyes(cv::Rect(int(l[27].x), 0, 256 - int(l[27].x), 256)))[0];
  EXPECT_NEAR(left / right, 1.0, 0.2);
  const cv::Point mouth_c(int(l[66].x), int((l[62].y + l[66].y) / 2));
  EXPECT_GT(mouth.at<float>(mouth_c), 0.5f);
  EXPECT_LT(mouth.at<float>(eye_c), 1e-6f);
}

TEST(Pose, SolvePnPRecoversAKnownRotation) {
  const double size = 256, pitch = 0.12, yaw = 0.3, roll = -0.07;
  const cv::Matx33d Rx(1, 0, 0, 0, std::cos(pitch), -std::sin(pitch), 0, std::sin(pitch), std::cos(pitch));
  const cv::Matx33d Ry(std::cos(yaw), 0, std::sin(yaw), 0, 1, 0, -std::sin(yaw), 0, std::cos(yaw));
  const cv::Matx33d Rz(std::cos(roll), -std::sin(roll), 0, std::sin(roll), std::cos(roll), 0, 0, 0, 1);
  const cv::Matx33d R = Rz * Ry * Rx;
  const cv::Vec3d e = rotation_to_euler(R);
  EXPECT_NEAR(e[0], pitch, 1e-12);
  EXPECT_NEAR(e[1], yaw, 1e-12);
  EXPECT_NEAR(e[2], roll, 1e-12);
  const cv::Vec3d t(3, -5, 420);
  Landmarks img;
  for (const cv::Point3d& P : mean_face_3d()) {
    const cv::Vec3d q = R * cv::Vec3d(P.x, P.y, P.z) + t;
    img.emplace_back(size * q[0] / q[2] + size / 2, size * q[1] / q[2] + size / 2);
  }
  const Pose p = estimate_pitch_yaw_roll(img, size);
  EXPECT_NEAR(p.pitch, -pitch, 1e-4) << "DFL flips the pitch sign";
  EXPECT_NEAR(p.yaw, yaw, 1e-4);
  EXPECT_NEAR(p.roll, roll, 1e-4);
}

TEST(Pose, FrontalSyntheticFaceLooksAhead) {
  const Pose p = estimate_pitch_yaw_roll(aligned_face(FaceType::Full), kS);
  EXPECT_LT(std::abs(p.yaw), 0.35);
  EXPECT_LT(std::abs(p.roll), 0.1);
}

}  // namespace
}  // namespace facet::faces
