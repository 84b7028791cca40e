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

// The R x R working mask for `mode`, values below 1/255 set to 0 (step 5-6). prd_mask and
// dst_mask are the model's learned masks (R x R CV_32FC1, needed only by the learned modes);
// hull_face is the dst landmark hull already warped into the face (mode dst only).
cv::Mat working_mask(MaskMode mode, int size, const cv::Mat& prd_mask, const cv::Mat& dst_mask, const cv::Mat& hull_face);

// Step 6-7: resize to 4R (cubic) and, when `process` (every mode but raw-*): zero-pad by R,
// erode (erode > 0) or dilate (erode < 0) with an ellipse of |erode|, zero a border of
// R + blur/2, GaussianBlur with kernel blur|1 (if blur > 0), crop the pad, clip to [0,1].
cv::Mat subres_mask(const cv::Mat& working, int size, int erode, int blur, bool process);

// Step 8: the 4R mask into the frame: warpAffine(WARP_INVERSE_MAP | INTER_CUBIC, zero border)
// with the 4R face-output matrix, clipped to [0,1], values below 1/255 set to 0.
cv::Mat mask_to_frame(const cv::Mat& mask_4r, const cv::Matx23d& face_mask_output_mat, cv::Size frame_size);

}  // namespace facet::merge
