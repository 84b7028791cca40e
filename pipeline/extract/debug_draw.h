// Debug frames for extraction (DeepFaceLab's "debug" folder idea): the source frame with, for
// each face found, the detector box (green), the outline of the aligned crop that became the face
// image (yellow, so a bad alignment shows as a crooked or misplaced square), the 68 landmarks
// (red) and the detector's 6 keypoints (blue). Frames without faces are written too, plainly, so
// the folder shows every processed frame.
#pragma once
#include <vector>

#include <opencv2/core/mat.hpp>

#include "pipeline/detect/face_finder.h"
#include "pipeline/faces/align.h"

namespace facet::extract {

struct DebugFace {
  const detect::FoundFace* face = nullptr;
  faces::Affine image_to_face;  // frame -> face image
  int face_size = 0;            // side of the face image
};

// A copy of `frame` with the faces drawn on it.
cv::Mat draw_debug_frame(const cv::Mat& frame, const std::vector<DebugFace>& faces);

}  // namespace facet::extract
