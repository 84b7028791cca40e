// Head pose from 68 landmarks: DFL's facelib/LandmarksProcessor.py estimate_pitch_yaw_roll fits the
// standard 68-point 3D mean face with solvePnP under a pinhole camera of focal = size and takes
// Euler angles of the rotation. Used to sort face sets by yaw/pitch and for uniform-yaw sampling.
// (estimate_averaged_yaw, the cheap yaw used for HEAD centring, lives in align.h.)
#pragma once
#include <array>

#include <opencv2/core/types.hpp>

#include "pipeline/faces/align.h"

namespace facet::faces {

struct Pose {
  double pitch = 0, yaw = 0, roll = 0;  // radians, each clipped to [-pi/2, pi/2]
};

// DFL landmarks_68_3D: the 68-point 3D mean face (x right, y down, mm-ish units).
const std::array<cv::Point3d, 68>& mean_face_3d();

// DFL estimate_pitch_yaw_roll(aligned_landmarks, size): landmarks in an aligned size x size face image.
// Returns DFL's convention (pitch sign flipped so that looking up is positive).
Pose estimate_pitch_yaw_roll(const Landmarks& aligned_lmrks68, double size = 256);

// The Euler angles (x, y, z) of a rotation matrix R = Rz·Ry·Rx (DFL mathlib.rotationMatrixToEulerAngles).
cv::Vec3d rotation_to_euler(const cv::Matx33d& R);

}  // namespace facet::faces
