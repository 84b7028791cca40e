// The merge mask (DFL MergeMasked.py steps 5-8): pick the R x R mask for the mask mode, drop
// values below 1/255, upsample to 4R, erode/dilate and blur it there, and warp it back into the
// frame. Working at 4R is DFL's choice: erode/blur sizes are in 4R pixels, so the same setting
// means the same fraction of the face whatever the model resolution.
#pragma once
#include <opencv2/core.hpp>

#include "pipeline/merge/merge_settings.h"

namespace facet::merge {

// face_mat scaled about the centre of the size x size face square: the matrix DFL's
// get_transform_mat returns for the same landmarks with `scale` (the face square shrinks by 1/scale
// in the frame, so the face appears `scale` times larger in the crop). Exact algebra:
// [s*A | s*t + (1-s)*size/2].
cv::Matx23d scale_face_mat(const cv::Matx23d& face_mat, int size, double scale);

// The masks a mask mode draws on, each R x R CV_32FC1 in face space; a mode needs only its own
// (the others may stay empty).
struct FaceMasks {
  cv::Mat learned_prd;  // the model's mask of the predicted face ("learned-prd")
  cv::Mat learned_dst;  // the model's mask of the dst face ("learned-dst")
  cv::Mat hull;         // the dst landmark hull warped into the face (mode "dst")
  cv::Mat xseg_prd;     // the face segmenter on the predicted face ("XSeg-prd")
  cv::Mat xseg_dst;     // the face segmenter on the dst face ("XSeg-dst")
};

// The R x R working mask for `mode`, values below 1/255 set to 0 (step 5-6). Throws
// std::invalid_argument naming the mask the mode needs when it is missing or malformed.
cv::Mat working_mask(MaskMode mode, int size, const FaceMasks& masks);

// How far the merge may reach beyond the dst landmark hull, as a fraction of the face square's
// side: the reach of the soft mask SAEHD trains under (DFL's blur of R/32, two sigmas).
inline constexpr double kFaceRegionGrowth = 1.0 / 16.0;

// The dst face region at 4R: the hull (R x R, face space) grown by kFaceRegionGrowth of the
// square and faded over as much again, so the cut is soft. Everything the merge pastes is
// multiplied by it: whatever the mask mode, the source crop's background beyond the dst face
// never reaches the frame. Its support lies within 1.5 * kFaceRegionGrowth of the hull (plus a
// face pixel, the hull's rounding at R).
cv::Mat face_region_4r(const cv::Mat& hull_face, int size);

// Step 6-7: resize to 4R (cubic) and, when `process` (every mode but raw-*): zero-pad by R,
// erode (erode > 0) or dilate (erode < 0) with an ellipse of |erode|, zero a border of
// R + blur/2, GaussianBlur with kernel blur|1 (if blur > 0), crop the pad, clip to [0,1].
cv::Mat subres_mask(const cv::Mat& working, int size, int erode, int blur, bool process);

// Step 8: the 4R mask into the frame: warpAffine(WARP_INVERSE_MAP | INTER_CUBIC, zero border)
// with the 4R face-output matrix, clipped to [0,1], values below 1/255 set to 0.
cv::Mat mask_to_frame(const cv::Mat& mask_4r, const cv::Matx23d& face_mask_output_mat, cv::Size frame_size);

}  // namespace facet::merge
