// Named groups of the 468 FaceMesh landmarks (from MediaPipe's
// mediapipe/python/solutions/face_mesh_connections.py, as polylines) and the 468 -> 68 iBUG/dlib
// mapping used for alignment and masks (one mesh point per iBUG point, the widely copied
// community table; Google publishes no official one).
// "Left"/"right" are the subject's sides (the left eye is on the image's right for a frontal face).
#pragma once
#include <array>
#include <vector>

#include <opencv2/core/types.hpp>

#include "pipeline/faces/align.h"

namespace facet::detect {

constexpr int kMeshPoints = 468;

// kMeshToIbug68[i] = the mesh point used as iBUG point i (jaw 0-16, brows 17-26, nose 27-35,
// eyes 36-47, mouth 48-67).
extern const std::array<int, 68> kMeshToIbug68;

// Outer eye corners MediaPipe uses for the tracking ROI's rotation.
constexpr int kMeshRightEyeOuter = 33, kMeshLeftEyeOuter = 263;

// Polylines of the mesh (closed where noted).
extern const std::vector<int> kMeshFaceOval;  // closed loop from the forehead top, clockwise
extern const std::vector<int> kMeshLipsOuterUpper, kMeshLipsOuterLower, kMeshLipsInnerUpper, kMeshLipsInnerLower;
extern const std::vector<int> kMeshRightEyeUpper, kMeshRightEyeLower, kMeshLeftEyeUpper, kMeshLeftEyeLower;
extern const std::vector<int> kMeshRightEyebrow, kMeshLeftEyebrow;  // lower then upper edge, 10 each

// The 68 iBUG points (frame pixels, double) picked out of 468 mesh points.
faces::Landmarks mesh_to_ibug68(const std::vector<cv::Point3f>& mesh468);

}  // namespace facet::detect
