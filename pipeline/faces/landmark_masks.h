// Masks drawn from 68 landmarks, as DeepFaceLab draws them (facelib/LandmarksProcessor.py
// get_image_hull_mask, get_image_eye_mask, get_image_mouth_mask): the face hull
// (eyebrows raised, then the union of 8 convex parts) is the training mask when no learned/XSeg
// mask exists; the eye and mouth masks weight those regions in the loss ("eyes/mouth priority").
// All masks are CV_32FC1 in [0, 1] of the given size, drawn in that image's pixel coordinates.
#pragma once
#include <vector>

#include <opencv2/core/mat.hpp>

#include "pipeline/faces/align.h"

namespace facet::faces {

// DFL expand_eyebrows: landmarks truncated to integers, eyebrows (17..26) pushed away from the
// eye tops by mod/2 of their distance, so the hull reaches the forehead.
std::vector<cv::Point> expand_eyebrows(const Landmarks& lmrks68, double eyebrows_expand_mod = 1.0);

// DFL get_image_hull_mask: 0/1 mask, union of the convex hulls of jaw, cheek, nose and eye parts.
cv::Mat hull_mask(cv::Size size, const Landmarks& lmrks68, double eyebrows_expand_mod = 1.0);

// DFL get_image_eye_mask: hulls of 36..41 and 42..47, dilated by an ellipse of h/32, Gaussian-blurred
// with an odd kernel of about h/16.
cv::Mat eye_mask(cv::Size size, const Landmarks& lmrks68);

// DFL get_image_mouth_mask: the same treatment on the hull of the inner lips, 60..67
// (LandmarksProcessor.py L411-454).
cv::Mat mouth_mask(cv::Size size, const Landmarks& lmrks68);

}  // namespace facet::faces
