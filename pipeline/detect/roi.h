// Regions of interest for the MediaPipe face nets and the one resampler both nets read through.
// A RotatedRoi is a square (or rectangle) in frame pixels, centred at (cx, cy) and turned by
// `rotation` radians; the detector's letterbox is the unrotated square around the whole frame, the
// landmark crop the rotated square MediaPipe derives from a detection or from landmarks
// (MediaPipe's ImageToTensorCalculator and FaceDetectionFrontDetectionToRoi). The sampling
// convention is MediaPipe's OpenCV path (ImageToTensorCalculator, OpenCV converter): tensor pixel (u, v) of an out_w x out_h tensor reads the
// frame at centre + R(rotation) * ((u/out_w - 0.5) * w, (v/out_h - 0.5) * h), bilinearly, with
// frame pixel i at coordinate i. Matching the reference bit for bit here keeps the golden tests
// about the nets and the decoding, not about resampling.
#pragma once
#include <array>
#include <vector>

#include <opencv2/core/mat.hpp>
#include <opencv2/core/types.hpp>

namespace facet::detect {

struct RotatedRoi {
  double cx = 0, cy = 0;  // centre, frame pixels
  double w = 0, h = 0;    // size, frame pixels (w == h for the landmark crop)
  double rotation = 0;    // radians; positive turns the crop clockwise on screen (y down)

  // Frame pixel position of normalised crop coordinates (0..1 across the crop, as the nets see it).
  cv::Point2d to_frame(double xn, double yn) const;
  // The four corners in frame pixels: top-left, top-right, bottom-right, bottom-left of the crop.
  std::array<cv::Point2d, 4> corners() const;
};

enum class Border { Zero, Replicate };

// Samples `roi` of an 8-bit BGR frame into out (out_h x out_w x 3 floats, RGB order), mapping
// pixel values v in [0, 255] to lo + v * (hi - lo) / 255. Border::Zero reads outside pixels as 0
// (before the mapping, so they become `lo`), Border::Replicate clamps to the edge.
void sample_roi(const cv::Mat& bgr, const RotatedRoi& roi, int out_w, int out_h, Border border, float lo, float hi,
                float* out);

// MediaPipe's NormalizeRadians: a - 2*pi*floor((a + pi) / (2*pi)), into [-pi, pi).
double normalize_radians(double a);

// Rotation that brings the vector from `from` to `to` (frame pixels, y down) to horizontal:
// NormalizeRadians(0 - atan2(-(to.y - from.y), to.x - from.x)) (DetectionsToRectsCalculator).
double rotation_from_points(const cv::Point2d& from, const cv::Point2d& to);

// RectTransformationCalculator {scale 1.5, square_long}: a square of side scale * max(w, h)
// centred on the box centre. box = left, top, right, bottom in frame pixels.
RotatedRoi square_roi(const std::array<double, 4>& box, double rotation, double scale = 1.5);

// The landmark-model ROI for a detection: its box, rotated from keypoint 0 (right eye) to 1 (left eye).
RotatedRoi roi_from_detection(const std::array<double, 4>& box, const cv::Point2d& right_eye,
                              const cv::Point2d& left_eye);

// The ROI MediaPipe tracks a face with from its own 468 landmarks (face_landmark_landmarks_to_roi):
// the axis-aligned bounds of all points, rotated from point 33 to point 263 (outer eye corners).
RotatedRoi roi_from_mesh(const std::vector<cv::Point3f>& mesh468);

}  // namespace facet::detect
