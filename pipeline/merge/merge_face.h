// Per-face compositing: DeepFaceLab's MergeMaskedFace (merger/MergeMasked.py) for one predicted
// face, and MergeMasked's combination of several faces in one frame. The frame loop, the model
// call and video encoding live elsewhere; this takes what the model produced and the frame.
//
//   FaceMergeInputs in;            // per face
//   in.face_mat = ...;             // frame -> aligned face at R (DFL get_transform_mat(lmrks, R, ft))
//   in.predicted_face = ...;       // model output for extract_dst_face(frame, in.face_mat, R)
//   in.predicted_mask = ...; in.predicted_dst_mask = ...;
//   cv::Mat out = merge_face(frame, in, settings);
#pragma once
#include <vector>

#include <opencv2/core.hpp>

#include "pipeline/merge/merge_settings.h"

namespace facet::merge {

struct FaceMergeInputs {
  // Frame -> face affine for the R x R output (2x3). R is the predicted face's size.
  cv::Matx23d face_mat = cv::Matx23d(1, 0, 0, 0, 1, 0);
  cv::Mat predicted_face;      // R x R CV_32FC3 BGR [0,1] (clipped on use, as DFL)
  cv::Mat predicted_mask;      // R x R CV_32FC1: learned mask of the predicted face ("learned-prd")
  cv::Mat predicted_dst_mask;  // R x R CV_32FC1: learned mask of the dst face ("learned-dst")
  cv::Mat xseg_prd_mask;       // R x R CV_32FC1: the face segmenter on the predicted face ("XSeg-prd")
  cv::Mat xseg_dst_mask;       // R x R CV_32FC1: the face segmenter on the dst face ("XSeg-dst")
  // Frame-sized CV_32FC1 landmark hull of the dst face: mask mode "dst" draws on it, and every
  // mode is confined to the face region grown from it (merge_mask.h, face_region_4r). The merge
  // stage always gives it; without it (synthetic tests of the mask steps alone) nothing is confined.
  cv::Mat dst_hull_mask;
  double motion_power = 0.0;   // this face's motion in frame pixels (DFL Merger.py), for motion blur
  double motion_deg = 0.0;     // its direction in degrees
};

struct FaceMergeResult {
  cv::Mat image;  // CV_32FC3 [0,1]: the frame with the face merged (the R x R face for raw-predict)
  cv::Mat mask;   // CV_32FC1: the merge mask in the same geometry (DFL's merged_mask output)
  bool seamless_failed = false;  // seamless mode fell back to overlay (OpenCV refused the clone)
};

// The dst face crop DFL feeds the model: warpAffine(frame, face_mat, R x R, INTER_CUBIC,
// zero border), clipped to [0,1]. frame: CV_8UC3 or CV_32FC3 [0,1]. Returns CV_32FC3.
cv::Mat extract_dst_face(const cv::Mat& frame, const cv::Matx23d& face_mat, int size);

// One face, float result and mask. frame: CV_8UC3 or CV_32FC3 BGR [0,1]. Throws
// std::invalid_argument for inconsistent inputs or invalid settings.
FaceMergeResult merge_face_with_mask(const cv::Mat& frame, const FaceMergeInputs& face, const MergeSettings& settings);

// One face; the image in the frame's own type (CV_8UC3 is rounded, so untouched pixels stay
// bit-identical; DFL truncates).
cv::Mat merge_face(const cv::Mat& frame, const FaceMergeInputs& face, const MergeSettings& settings);

// Every face of a frame: each merged against the original frame, then combined in order
// (DFL MergeMasked). No faces: the frame (as float) and a zero mask.
FaceMergeResult merge_faces(const cv::Mat& frame, const std::vector<FaceMergeInputs>& faces,
                            const MergeSettings& settings);

}  // namespace facet::merge
