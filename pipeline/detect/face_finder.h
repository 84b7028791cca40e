// The face finder: detector + landmarker for a batch of frames, the part of extraction that
// runs nets. Per batch: BlazeFace on every frame in one run; faces smaller than the minimum size
// dropped and at most max_faces kept; frames where nothing was found retried with the frame turned
// 90, 180 and 270 degrees (sideways or upside-down footage), the detections mapped back; FaceMesh
// on every face's rotated ROI in one run; faces whose presence score is low dropped; then the
// refinement pass: the landmarker runs again on the crop aligned from its own landmarks (the ROI
// MediaPipe tracks faces with: landmark bounds, rotation from the outer eye corners). That crop
// depends on the face rather than on the detector's box, which moves from frame to frame, so the
// refined landmarks jitter less (measured in docs/extract.md).
#pragma once
#include <string>
#include <vector>

#include <opencv2/core/mat.hpp>

#include "engine/core/context.h"
#include "pipeline/detect/blazeface.h"
#include "pipeline/detect/face_mesh.h"
#include "pipeline/faces/align.h"

namespace facet::detect {

struct FinderOptions {
  DetectorKind detector = DetectorKind::ShortRange;
  float min_score = 0.5f;      // detector score threshold (MediaPipe's min_detection_confidence)
  int max_faces = 0;           // per frame, highest scores first; 0 = no limit
  double min_face = 0;         // pixels: faces whose detector box has a shorter long side are dropped
  float min_presence = 0.5f;   // FaceMesh face-presence threshold (MediaPipe's default)
  bool refine = true;          // second landmark pass on the landmark-aligned crop
  bool rotation_retry = true;  // retry frames without faces turned by 90/180/270 degrees
};

struct FoundFace {
  Detection detection;         // frame pixels
  MeshResult mesh;             // the landmark pass kept (the refined one unless it lost the face)
  faces::Landmarks landmarks;  // 68 iBUG points from `mesh`, frame pixels
  int retry_rotation = 0;      // 0, or the clockwise turn of the frame that the detector found it in
  bool refined = false;
};

// Seconds spent in each part since construction (for profiling and the progress line).
struct FinderTimings {
  double detect = 0, landmarks = 0, refine = 0, retry = 0;
};

// Maps a point of the frame turned clockwise by `degrees` (0/90/180/270, cv::rotate) back onto the
// original w x h frame.
cv::Point2d unrotate_point(const cv::Point2d& p, int degrees, int w, int h);

class FaceFinder {
 public:
  FaceFinder(Context& ctx, const std::string& detector_path, const std::string& landmark_path,
             const FinderOptions& opt, Device device);

  const FinderOptions& options() const { return opt_; }
  const FinderTimings& timings() const { return timings_; }

  // Faces of each frame (8-bit BGR), highest detector score first.
  std::vector<std::vector<FoundFace>> find(const std::vector<const cv::Mat*>& frames);

 private:
  std::vector<Detection> filter(std::vector<Detection> dets) const;

  FinderOptions opt_;
  BlazeFace detector_;
  FaceMesh mesh_;
  FinderTimings timings_;
};

}  // namespace facet::detect
