// Face alignment, DeepFaceLab's way (facelib/LandmarksProcessor.py get_transform_mat,
// core/mathlib/umeyama.py): a least-squares similarity
// (Umeyama) maps 33 of the 68 landmarks (17..48 and 54) onto DFL's unit-square template
// landmarks_2D_new; the crop for a face type is a square around that template square, padded
// per face type, and an affine matrix maps the frame into an S x S face image. Merge uses the
// inverse to paste the face back. Everything is in double; the template is DFL's float values.
#pragma once
#include <array>
#include <vector>

#include <opencv2/core/types.hpp>

#include "pipeline/faces/face_type.h"

namespace facet::faces {

using Point = cv::Point2d;
using Landmarks = std::vector<Point>;  // 68 points, iBUG order, x right, y down
using Affine = cv::Matx23d;            // [x'; y'] = A * [x; y; 1]

// DFL landmarks_2D_new: 33 template points for 68-pt indices 17..48 and 54, in the unit square.
const std::array<Point, 33>& template_landmarks();
// The 68-pt indices the template points correspond to (17..48, 54).
const std::array<int, 33>& template_landmark_indices();

// Least-squares similarity (rotation, uniform scale, translation) taking src onto dst
// (Umeyama 1991, the scikit-image port DFL uses, reflections excluded). src.size() == dst.size() >= 2.
// estimate_scale=false fixes the scale at 1.
Affine umeyama(const std::vector<Point>& src, const std::vector<Point>& dst, bool estimate_scale = true);

// Frame -> unit template square (DFL's `mat` inside get_transform_mat).
Affine template_transform(const Landmarks& lmrks68);

// Frame -> S x S face image of the given type. scale > 1 zooms in (merge's output_face_scale).
Affine get_transform_mat(const Landmarks& lmrks68, double output_size, FaceType type, double scale = 1.0);

Point transform_point(const Point& p, const Affine& m);
std::vector<Point> transform_points(const std::vector<Point>& pts, const Affine& m, bool invert = false);
Affine invert_affine(const Affine& m);  // throws facet::Error when singular
// The affine map taking the three src points onto the three dst points (cv::getAffineTransform in double).
Affine affine_from_3_points(const std::array<Point, 3>& src, const std::array<Point, 3>& dst);

// DFL estimate_averaged_yaw: right minus left jaw-to-nose-bridge distance (points 0,1,2 / 14,15,16
// against 27,28,29), in the units of the given landmarks (template units when fed template-space points).
double estimate_averaged_yaw(const Landmarks& lmrks68);

// DFL get_rect_from_landmarks: (l, t, r, b) of the full_face_no_align square in the frame.
cv::Rect2d rect_from_landmarks(const Landmarks& lmrks68);

}  // namespace facet::faces
