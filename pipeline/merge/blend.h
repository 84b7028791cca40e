// Compositing primitives of DFL's merger (MergeMasked.py step 9 and 12): alpha blending, the
// hist-match mode's masked histogram matching, the seamless (Poisson) clone with DFL's mask
// binarisation, and the combination of several faces' results into one frame.
#pragma once
#include <vector>

#include <opencv2/core.hpp>

namespace facet::merge {

// bg*(1 - m) + fg*m for CV_32FC3 images and a CV_32FC1 mask. Where m == 0 the result is bg
// exactly (bitwise), which is what keeps pixels outside the face untouched.
cv::Mat alpha_blend(const cv::Mat& bg, const cv::Mat& fg, const cv::Mat& mask);

// The hist-match mode's face: with `masked`, both faces are replaced by white (1) outside the
// binarised mask (DFL's hist_match_1/2), then hist_match(prd, dst, threshold). DFL's line
// `hist_match_2[hist_match_1 > 1] = 1` indexes with the wrong array but is a no-op (hist_match_1
// was clipped to 1 the line before), so it is left out.
cv::Mat hist_match_face(const cv::Mat& prd_face, const cv::Mat& dst_face, const cv::Mat& mask_area, bool masked,
                        int threshold);

// DFL's seamless mask: the first i/10 (i = 1..9) with pixels above it binarises the frame mask
// (>  i/10 -> 1, <= i/10 -> 0). Empty Mat when no pixel exceeds 0.1.
cv::Mat seamless_mask(const cv::Mat& frame_mask);

// cv::seamlessClone(NORMAL_CLONE) of the warped face into the original 8-bit frame, centred on
// the bounding rect of the binary mask (DFL computes the centre itself to avoid jitter). The face
// goes to 8 bits by truncation as DFL's astype(uint8). Returns false, leaving `face` as it was,
// when the mask is empty or OpenCV refuses (DFL prints "Seamless fail" and continues).
bool seamless_clone(cv::Mat& face, const cv::Mat& frame_u8, const cv::Mat& binary_mask);

// DFL MergeMasked's combination: the first face's image and mask, then for each further face
// final = final*(1 - m_i) + img_i*m_i and mask = clip(mask + m_i, 0, 1).
void combine_faces(const std::vector<cv::Mat>& images, const std::vector<cv::Mat>& masks, cv::Mat& image,
                   cv::Mat& mask);

}  // namespace facet::merge
