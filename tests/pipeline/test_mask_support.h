// Labelled synthetic faces for the mask model's tests: the cartoon faces of synthetic_faces.h,
// each with a hand-like occluder (a palm blob and a forearm from the image border, flat or
// striped, of a random colour) drawn over part of it. The ground truth is what is drawn of the
// head (the skin and hair cap as drawn, synthetic_faces.h) minus the occluder; the
// labels are DFL-style polygons: the head's outline included, the occluder's outline excluded.
// Deterministic in (seed, index).
#pragma once
#include <cmath>
#include <random>
#include <string>
#include <vector>

#include <opencv2/imgproc.hpp>

#include "pipeline/faces/face_image.h"
#include "pipeline/faces/landmark_masks.h"
#include "pipeline/train/synthetic_faces.h"

namespace facet::testing {

struct OccludedFace {
  cv::Mat image;                       // BGR 8-bit
  cv::Mat truth;                       // CV_8UC1 0/255
  faces::FaceMetadata meta;            // landmarks, face type, polygons (include head, exclude occluder)
};

inline OccludedFace occluded_face(uint64_t seed, int index, int size) {
  OccludedFace f;
  const train::SyntheticIdentity id = index % 2 ? train::SyntheticIdentity::B : train::SyntheticIdentity::A;
  cv::Mat head;
  f.image = train::draw_synthetic_face(id, seed, index, size, faces::FaceType::WholeFace, &f.meta.landmarks, &head);
  f.meta.face_type = faces::FaceType::WholeFace;
  f.meta.source_landmarks = f.meta.landmarks;
  f.meta.source_filename = "synthetic.png";
  f.meta.source_frame = index;
  std::vector<std::vector<cv::Point>> contours;
  cv::findContours(head.clone(), contours, cv::RETR_EXTERNAL, cv::CHAIN_APPROX_NONE);
  // The outline as drawn by fillPoly covers the pixels it passes through: the label is the head.
  head = cv::Mat::zeros(f.image.size(), CV_8UC1);
  cv::fillPoly(head, contours, cv::Scalar(255));
  std::mt19937_64 g(seed * 1000003u + static_cast<uint64_t>(index));
  auto u = [&](double lo, double hi) { return std::uniform_real_distribution<double>(lo, hi)(g); };
  // The occluder: a palm over the lower or side face and a forearm to the nearest border.
  const double cx = size * u(0.3, 0.7), cy = size * u(0.45, 0.8), r = size * u(0.1, 0.17);
  std::vector<cv::Point> pts;
  for (int k = 0; k < 10; ++k) {
    const double a = 2 * M_PI * k / 10, rr = r * u(0.75, 1.25);
    pts.emplace_back(cvRound(cx + rr * std::cos(a)), cvRound(cy + rr * std::sin(a)));
  }
  const double dir = cx < size / 2.0 ? M_PI : 0.0;  // out of the nearer side
  const double w = r * 0.7;
  pts.emplace_back(cvRound(cx + 2 * size * std::cos(dir)), cvRound(cy - w + size * 0.3 * u(-1, 1)));
  pts.emplace_back(cvRound(cx + 2 * size * std::cos(dir)), cvRound(cy + w + size * 0.3 * u(-1, 1)));
  std::vector<cv::Point> occ;
  cv::convexHull(pts, occ);
  cv::Mat occ_mask = cv::Mat::zeros(f.image.size(), CV_8UC1);
  cv::fillPoly(occ_mask, std::vector<std::vector<cv::Point>>{occ}, cv::Scalar(255));
  const cv::Scalar a(u(0, 255), u(0, 255), u(0, 255)), b(u(0, 255), u(0, 255), u(0, 255));
  const bool striped = u(0, 1) < 0.5;
  for (int y = 0; y < size; ++y)
    for (int x = 0; x < size; ++x)
      if (occ_mask.at<uint8_t>(y, x)) {
        const cv::Scalar& c = striped && ((x + y) / 4) % 2 ? b : a;
        f.image.at<cv::Vec3b>(y, x) = cv::Vec3b(cv::saturate_cast<uint8_t>(c[0]), cv::saturate_cast<uint8_t>(c[1]),
                                                cv::saturate_cast<uint8_t>(c[2]));
      }
  f.truth = head & ~occ_mask;
  for (const auto& c : contours) {
    faces::SegPolygon p;
    p.include = true;
    for (const cv::Point& q : c) p.points.emplace_back(q.x, q.y);
    f.meta.seg_polygons.push_back(p);
  }
  faces::SegPolygon ex;
  ex.include = false;
  for (const cv::Point& q : occ) ex.points.emplace_back(q.x, q.y);
  f.meta.seg_polygons.push_back(ex);
  return f;
}

// Writes faces [first, first + count) into `dir` as PNG face images; with_labels keeps the polygons.
inline std::vector<OccludedFace> write_occluded_faces(const std::string& dir, uint64_t seed, int first, int count,
                                                      int size, bool with_labels) {
  std::vector<OccludedFace> out;
  for (int i = first; i < first + count; ++i) {
    OccludedFace f = occluded_face(seed, i, size);
    faces::FaceMetadata meta = f.meta;
    if (!with_labels) meta.seg_polygons.clear();
    faces::write_face_image(dir + "/" + faces::face_image_name("synthetic", i, 0, "png"), f.image, meta);
    out.push_back(std::move(f));
  }
  return out;
}

// Intersection over union of two 0/255 (or 0/1) masks.
inline double mask_iou(const cv::Mat& a, const cv::Mat& b) {
  const cv::Mat pa = a > 127, pb = b > 127;
  const double inter = cv::countNonZero(pa & pb), uni = cv::countNonZero(pa | pb);
  return uni > 0 ? inter / uni : 1.0;
}

}  // namespace facet::testing
