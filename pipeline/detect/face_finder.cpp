// Detector + landmarker over a batch of frames (see face_finder.h for the steps and why).
#include "pipeline/detect/face_finder.h"

#include <algorithm>
#include <chrono>

#include <opencv2/core.hpp>

#include "engine/core/error.h"
#include "pipeline/detect/mesh_indices.h"

namespace facet::detect {

namespace {

double seconds_since(std::chrono::steady_clock::time_point t0) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

Detection unrotate_detection(const Detection& d, int degrees, int w, int h) {
  Detection o = d;
  const cv::Point2d a = unrotate_point({d.box[0], d.box[1]}, degrees, w, h);
  const cv::Point2d b = unrotate_point({d.box[2], d.box[3]}, degrees, w, h);
  o.box = {std::min(a.x, b.x), std::min(a.y, b.y), std::max(a.x, b.x), std::max(a.y, b.y)};
  for (int k = 0; k < 6; ++k) o.keypoints[size_t(k)] = unrotate_point(d.keypoints[size_t(k)], degrees, w, h);
  return o;
}

}  // namespace

cv::Point2d unrotate_point(const cv::Point2d& p, int degrees, int w, int h) {
  switch (degrees) {
    case 90: return {p.y, h - 1 - p.x};           // turned clockwise: rotated (x', y') = original (y', h-1-x')
    case 180: return {w - 1 - p.x, h - 1 - p.y};
    case 270: return {w - 1 - p.y, p.x};
    default: return p;
  }
}

FaceFinder::FaceFinder(Context& ctx, const std::string& detector_path, const std::string& landmark_path,
                       const FinderOptions& opt, Device device)
    : opt_(opt), detector_(ctx, opt.detector, detector_path, device), mesh_(ctx, landmark_path, device) {
  FACET_CHECK(opt.max_faces >= 0, "max faces must be >= 0 (0 = no limit), got ", opt.max_faces);
  FACET_CHECK(opt.min_score > 0 && opt.min_score < 1, "detector score threshold must be in (0, 1), got ", opt.min_score);
  FACET_CHECK(opt.min_face >= 0, "minimum face size must be >= 0 pixels, got ", opt.min_face);
}

std::vector<Detection> FaceFinder::filter(std::vector<Detection> dets) const {
  std::vector<Detection> out;
  for (auto& d : dets) {
    if (std::max(d.width(), d.height()) < opt_.min_face) continue;
    out.push_back(d);
    if (opt_.max_faces > 0 && int(out.size()) == opt_.max_faces) break;  // already sorted by score
  }
  return out;
}

std::vector<std::vector<FoundFace>> FaceFinder::find(const std::vector<const cv::Mat*>& frames) {
  const size_t n = frames.size();
  std::vector<std::vector<FoundFace>> result(n);
  if (n == 0) return result;

  auto t0 = std::chrono::steady_clock::now();
  std::vector<std::vector<Detection>> dets = detector_.detect(frames, opt_.min_score);
  std::vector<int> rotation(n, 0);
  for (auto& d : dets) d = filter(std::move(d));
  timings_.detect += seconds_since(t0);

  if (opt_.rotation_retry) {
    t0 = std::chrono::steady_clock::now();
    for (int degrees : {90, 180, 270}) {
      std::vector<size_t> todo;
      for (size_t i = 0; i < n; ++i)
        if (dets[i].empty()) todo.push_back(i);
      if (todo.empty()) break;
      std::vector<cv::Mat> turned(todo.size());
      std::vector<const cv::Mat*> ptrs;
      const int code = degrees == 90 ? cv::ROTATE_90_CLOCKWISE
                                     : degrees == 180 ? cv::ROTATE_180 : cv::ROTATE_90_COUNTERCLOCKWISE;
      for (size_t k = 0; k < todo.size(); ++k) {
        cv::rotate(*frames[todo[k]], turned[k], code);
        ptrs.push_back(&turned[k]);
      }
      auto found = detector_.detect(ptrs, opt_.min_score);
      for (size_t k = 0; k < todo.size(); ++k) {
        const cv::Mat& f = *frames[todo[k]];
        std::vector<Detection> back;
        for (const auto& d : found[k]) back.push_back(unrotate_detection(d, degrees, f.cols, f.rows));
        dets[todo[k]] = filter(std::move(back));
        rotation[todo[k]] = degrees;
      }
    }
    timings_.retry += seconds_since(t0);
  }

  // First landmark pass on the detectors' ROIs, all faces of all frames in one run.
  t0 = std::chrono::steady_clock::now();
  std::vector<MeshRequest> req;
  std::vector<std::pair<size_t, size_t>> owner;  // (frame, detection)
  for (size_t i = 0; i < n; ++i)
    for (size_t j = 0; j < dets[i].size(); ++j) {
      const Detection& d = dets[i][j];
      req.push_back({frames[i], roi_from_detection(d.box, d.keypoints[kRightEye], d.keypoints[kLeftEye])});
      owner.emplace_back(i, j);
    }
  std::vector<MeshResult> first = mesh_.run(req);
  timings_.landmarks += seconds_since(t0);

  std::vector<size_t> kept;
  for (size_t k = 0; k < first.size(); ++k)
    if (first[k].presence >= opt_.min_presence) kept.push_back(k);

  std::vector<MeshResult> second;
  if (opt_.refine && !kept.empty()) {
    t0 = std::chrono::steady_clock::now();
    std::vector<MeshRequest> again;
    for (size_t k : kept) again.push_back({frames[owner[k].first], roi_from_mesh(first[k].points)});
    second = mesh_.run(again);
    timings_.refine += seconds_since(t0);
  }

  for (size_t q = 0; q < kept.size(); ++q) {
    const size_t k = kept[q];
    const auto [i, j] = owner[k];
    FoundFace f;
    f.detection = dets[i][j];
    f.retry_rotation = rotation[i];
    if (!second.empty() && second[q].presence >= opt_.min_presence) {
      f.mesh = std::move(second[q]);
      f.refined = true;
    } else {
      f.mesh = std::move(first[k]);
    }
    f.landmarks = mesh_to_ibug68(f.mesh.points);
    result[i].push_back(std::move(f));
  }
  return result;
}

}  // namespace facet::detect
