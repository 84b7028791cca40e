// Unit tests of the face-finding pieces that need no model: SSD anchors, decoding, weighted NMS,
// ROI geometry and the resampler's convention, the rotation-retry point mapping, the 468 -> 68
// table, and the model lookup's error message. The nets themselves are checked against the
// Python reference in test_detect_golden.cpp.
#include <gtest/gtest.h>

#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <set>

#include <opencv2/core.hpp>

#include "engine/core/error.h"
#include "pipeline/detect/blazeface.h"
#include "pipeline/detect/face_finder.h"
#include "pipeline/detect/mesh_indices.h"
#include "pipeline/detect/model_files.h"
#include "pipeline/detect/roi.h"
#include "pipeline_test_support.h"

using namespace facet;
using namespace facet::detect;

namespace {
constexpr double kPi = 3.14159265358979323846;
}

TEST(DetectAnchors, ShortAndFullRangeGrids) {
  const auto s = ssd_anchors(detector_spec(DetectorKind::ShortRange));
  ASSERT_EQ(s.size(), 896u);  // 16x16x2 + 8x8x6
  // First cell of the stride-8 grid twice, then the stride-16 grid with 6 anchors per cell.
  EXPECT_DOUBLE_EQ(s[0].x, 0.5 / 16);
  EXPECT_DOUBLE_EQ(s[1].x, 0.5 / 16);
  EXPECT_DOUBLE_EQ(s[2].x, 1.5 / 16);
  EXPECT_DOUBLE_EQ(s[511].y, 15.5 / 16);
  EXPECT_DOUBLE_EQ(s[512].x, 0.5 / 8);
  EXPECT_DOUBLE_EQ(s[517].x, 0.5 / 8);
  EXPECT_DOUBLE_EQ(s[518].x, 1.5 / 8);
  EXPECT_DOUBLE_EQ(s[895].x, 7.5 / 8);
  EXPECT_DOUBLE_EQ(s[895].y, 7.5 / 8);
  const auto f = ssd_anchors(detector_spec(DetectorKind::FullRange));
  ASSERT_EQ(f.size(), 2304u);  // 48x48x1
  EXPECT_DOUBLE_EQ(f[1].x, 1.5 / 48);
  EXPECT_DOUBLE_EQ(f[48].y, 1.5 / 48);
  EXPECT_EQ(parse_detector_kind("full"), DetectorKind::FullRange);
  EXPECT_THROW(parse_detector_kind("medium"), Error);
}

TEST(DetectDecode, XywhBoxesKeypointsAndClippedSigmoid) {
  const std::vector<cv::Point2d> anchors = {{0.25, 0.5}, {0.75, 0.5}, {0.5, 0.5}};
  std::vector<float> regs(3 * 16, 0.f), scores = {1000.f, -1.f, 0.f};
  // anchor 0: centre +12.8 px right (0.1 of 128), 64 x 32 px box, keypoint 2 at +6.4/-6.4 px
  regs[0] = 12.8f, regs[1] = 0.f, regs[2] = 64.f, regs[3] = 32.f, regs[8] = 6.4f, regs[9] = -6.4f;
  regs[2 * 16 + 2] = -5.f;  // anchor 2: negative width is dropped even though its score passes
  const auto d = decode_detections(regs.data(), scores.data(), anchors, 128, 0.4f);
  ASSERT_EQ(d.size(), 1u);  // anchor 1 scores sigmoid(-1) = 0.27 < 0.4
  EXPECT_NEAR(d[0].score, 1.0 / (1.0 + std::exp(-100.0)), 1e-7) << "logits are clipped at 100";
  EXPECT_NEAR(d[0].box[0], 0.35 - 0.25, 1e-6);
  EXPECT_NEAR(d[0].box[1], 0.5 - 0.125, 1e-6);
  EXPECT_NEAR(d[0].box[2], 0.35 + 0.25, 1e-6);
  EXPECT_NEAR(d[0].box[3], 0.5 + 0.125, 1e-6);
  EXPECT_NEAR(d[0].keypoints[2].x, 0.30, 1e-6);
  EXPECT_NEAR(d[0].keypoints[2].y, 0.45, 1e-6);
  EXPECT_NEAR(d[0].keypoints[0].x, 0.25, 1e-6);
}

TEST(DetectNms, WeightedMeanOfOverlapsKeepsTopScore) {
  Detection a, b, c;
  a.score = 0.9f, a.box = {0, 0, 10, 10};
  b.score = 0.6f, b.box = {1, 1, 11, 11};      // IoU with a = 81/119 > 0.3: merged into a
  c.score = 0.8f, c.box = {20, 20, 30, 30};    // separate face
  a.keypoints[0] = {2, 2}, b.keypoints[0] = {3, 3};
  const auto out = weighted_nms({b, c, a});
  ASSERT_EQ(out.size(), 2u);
  EXPECT_FLOAT_EQ(out[0].score, 0.9f);
  EXPECT_NEAR(out[0].box[0], (0 * 0.9 + 1 * 0.6) / 1.5, 1e-6);
  EXPECT_NEAR(out[0].box[3], (10 * 0.9 + 11 * 0.6) / 1.5, 1e-6);
  EXPECT_NEAR(out[0].keypoints[0].x, (2 * 0.9 + 3 * 0.6) / 1.5, 1e-6);
  EXPECT_FLOAT_EQ(out[1].score, 0.8f);
  EXPECT_DOUBLE_EQ(out[1].box[0], 20);
  EXPECT_NEAR(box_iou(a.box, b.box), 81.0 / 119.0, 1e-12);
  EXPECT_EQ(box_iou({0, 0, 0, 0}, {0, 0, 0, 0}), 0.0);
}

TEST(DetectRoi, RotationSignSquareAndProjection) {
  // Eyes level: no rotation. Left eye lower on screen (y down): the face is turned clockwise.
  EXPECT_NEAR(rotation_from_points({10, 10}, {20, 10}), 0.0, 1e-12);
  EXPECT_NEAR(rotation_from_points({10, 10}, {20, 20}), kPi / 4, 1e-12);
  EXPECT_NEAR(rotation_from_points({10, 10}, {0, 10}), -kPi, 1e-12) << "NormalizeRadians gives [-pi, pi)";
  EXPECT_NEAR(normalize_radians(3 * kPi / 2), -kPi / 2, 1e-12);
  const RotatedRoi r = square_roi({10, 20, 50, 40}, 0.3);
  EXPECT_DOUBLE_EQ(r.cx, 30);
  EXPECT_DOUBLE_EQ(r.cy, 30);
  EXPECT_DOUBLE_EQ(r.w, 60);  // 1.5 x the long side
  EXPECT_DOUBLE_EQ(r.h, 60);
  // The crop's x axis points along the rotation.
  const cv::Point2d p = r.to_frame(1.0, 0.5);
  EXPECT_NEAR(p.x, 30 + 30 * std::cos(0.3), 1e-9);
  EXPECT_NEAR(p.y, 30 + 30 * std::sin(0.3), 1e-9);
  const auto c = r.corners();
  EXPECT_NEAR(cv::norm(c[0] - c[2]), 60 * std::sqrt(2.0), 1e-9);
}

TEST(DetectRoi, SamplerConventionBordersAndChannelOrder) {
  // A 4x2 BGR ramp: B = 10 * x, G = 100, R = 50 * y.
  cv::Mat img(2, 4, CV_8UC3);
  for (int y = 0; y < 2; ++y)
    for (int x = 0; x < 4; ++x) img.at<cv::Vec3b>(y, x) = cv::Vec3b(uint8_t(10 * x), 100, uint8_t(50 * y));
  // A 4x4 crop covering x in [0, 4), y in [-1, 3): tensor pixel u reads x = u, row v reads y = v - 1.
  RotatedRoi roi;
  roi.cx = 2, roi.cy = 1, roi.w = 4, roi.h = 4;
  std::vector<float> out(4 * 4 * 3);
  sample_roi(img, roi, 4, 4, Border::Zero, 0.f, 255.f, out.data());
  auto at = [&](int u, int v, int ch) { return out[size_t((v * 4 + u) * 3 + ch)]; };
  EXPECT_FLOAT_EQ(at(2, 1, 0), 0.f) << "R of row y=0";
  EXPECT_FLOAT_EQ(at(2, 2, 0), 50.f) << "R of row y=1";
  EXPECT_FLOAT_EQ(at(3, 1, 2), 30.f) << "B of column 3 (RGB order out of BGR)";
  EXPECT_FLOAT_EQ(at(1, 0, 1), 0.f) << "row y=-1 is outside: zero border";
  sample_roi(img, roi, 4, 4, Border::Replicate, 0.f, 255.f, out.data());
  EXPECT_FLOAT_EQ(at(1, 0, 1), 100.f) << "replicated edge";
  EXPECT_FLOAT_EQ(at(1, 3, 0), 50.f);
  // Half-pixel positions interpolate; the value range maps to [lo, hi].
  roi.cx = 2.5, roi.cy = 1.5;  // u reads x = u + 0.5, v reads y = v - 0.5
  sample_roi(img, roi, 4, 4, Border::Replicate, -1.f, 1.f, out.data());
  EXPECT_NEAR(at(0, 1, 2), -1 + 5.0 * 2 / 255, 1e-6);
  EXPECT_NEAR(at(0, 1, 0), -1 + 25.0 * 2 / 255, 1e-6);
}

TEST(DetectRetry, UnrotateUndoesCvRotateExactly) {
  cv::Mat img(3, 5, CV_8UC1);
  for (int i = 0; i < 15; ++i) img.data[i] = uint8_t(i);
  const std::pair<int, int> codes[] = {{90, cv::ROTATE_90_CLOCKWISE}, {180, cv::ROTATE_180},
                                       {270, cv::ROTATE_90_COUNTERCLOCKWISE}};
  for (auto [deg, code] : codes) {
    cv::Mat t;
    cv::rotate(img, t, code);
    for (int y = 0; y < t.rows; ++y)
      for (int x = 0; x < t.cols; ++x) {
        const cv::Point2d p = unrotate_point({double(x), double(y)}, deg, img.cols, img.rows);
        ASSERT_EQ(t.at<uint8_t>(y, x), img.at<uint8_t>(int(p.y), int(p.x))) << deg << " deg at " << x << "," << y;
      }
  }
}

TEST(DetectMesh, Ibug68TableAndGroups) {
  std::set<int> used(kMeshToIbug68.begin(), kMeshToIbug68.end());
  EXPECT_EQ(used.size(), 68u) << "68 distinct mesh points";
  for (int i : kMeshToIbug68) EXPECT_TRUE(i >= 0 && i < kMeshPoints);
  EXPECT_EQ(kMeshToIbug68[36], kMeshRightEyeOuter);
  EXPECT_EQ(kMeshToIbug68[45], kMeshLeftEyeOuter);
  EXPECT_EQ(kMeshToIbug68[8], 152) << "chin";
  EXPECT_EQ(kMeshFaceOval.size(), 36u);
  std::vector<cv::Point3f> mesh(468);
  for (int i = 0; i < 468; ++i) mesh[size_t(i)] = cv::Point3f(float(i), float(2 * i), 0.f);
  const auto l = mesh_to_ibug68(mesh);
  ASSERT_EQ(l.size(), 68u);
  EXPECT_DOUBLE_EQ(l[30].x, 4);  // nose tip = mesh 4
  EXPECT_DOUBLE_EQ(l[30].y, 8);
  EXPECT_THROW(mesh_to_ibug68(std::vector<cv::Point3f>(10)), Error);
  // The tracking ROI: bounds of all points, rotation from 33 to 263.
  mesh.assign(468, cv::Point3f(50, 50, 0));
  mesh[0] = cv::Point3f(0, 40, 0), mesh[1] = cv::Point3f(100, 60, 0);
  mesh[33] = cv::Point3f(30, 50, 0), mesh[263] = cv::Point3f(70, 50, 0);
  const RotatedRoi r = roi_from_mesh(mesh);
  EXPECT_DOUBLE_EQ(r.cx, 50);
  EXPECT_DOUBLE_EQ(r.w, 150);
  EXPECT_DOUBLE_EQ(r.rotation, 0);
}

TEST(DetectModels, MissingModelsSayHowToFetchThem) {
  facet::testing::ScratchDir dir("detect_models");
  try {
    find_models(DetectorKind::ShortRange, dir.path());
    ADD_FAILURE() << "found models in an empty folder";
  } catch (const Error& e) {
    const std::string m = e.what();
    EXPECT_NE(m.find("face_detection_short_range.tflite"), std::string::npos) << m;
    EXPECT_NE(m.find("scripts/fetch-assets.sh"), std::string::npos) << m;
    EXPECT_NE(m.find(dir.path()), std::string::npos) << m;
  }
  // A folder with both files is found, and only that folder is searched when named.
  std::ofstream(dir.file("face_detection_full_range.tflite")) << "x";
  std::ofstream(dir.file("face_landmark.tflite")) << "x";
  const ModelPaths p = find_models(DetectorKind::FullRange, dir.path());
  EXPECT_EQ(p.assets_dir, dir.path());
  EXPECT_NE(p.detector.find("face_detection_full_range.tflite"), std::string::npos);
  EXPECT_THROW(find_models(DetectorKind::ShortRange, dir.path()), Error);
  EXPECT_EQ(asset_search_path(dir.path()).size(), 1u);
}

TEST(DetectModels, NotAModelFileIsAClearError) {
  facet::testing::ScratchDir dir("detect_badmodel");
  std::ofstream(dir.file("face_detection_short_range.tflite")) << "this is not a flatbuffer";
  Context ctx;
  try {
    BlazeFace b(ctx, DetectorKind::ShortRange, dir.file("face_detection_short_range.tflite"), Device::cpu());
    ADD_FAILURE() << "loaded a text file as a model";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("face_detection_short_range.tflite"), std::string::npos) << e.what();
  }
  FACET_REQUIRE_ASSET(landmark, "face_landmark.tflite");
  // The landmark model handed to the detector: refused by shape, naming the file.
  EXPECT_THROW(BlazeFace(ctx, DetectorKind::ShortRange, landmark, Device::cpu()), Error);
}
