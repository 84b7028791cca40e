// MergeMaskedFace, step by step as DFL's merger/MergeMasked.py (MergeMaskedFace).
// Super-resolution (FaceEnhancer) is not here. The XSeg mask modes take the segmenter's masks
// from the caller (the merge stage runs the mask model). Everything else follows DFL's order of
// operations, including where the colour transfer happens (before compositing, or after it for
// the seamless modes). One addition to DFL: the mask is confined to the dst face region (the
// hull grown a little, merge_mask.h), so the source crop's background never reaches the frame.
#include "pipeline/merge/merge_face.h"

#include <algorithm>
#include <cmath>
#include <stdexcept>
#include <string>

#include <opencv2/imgproc.hpp>

#include "pipeline/merge/blend.h"
#include "pipeline/merge/color_transfer.h"
#include "pipeline/merge/merge_mask.h"
#include "pipeline/merge/post_effects.h"

namespace facet::merge {
namespace {

struct Frame {
  cv::Mat bgr;  // CV_32FC3 [0,1]
  cv::Mat u8;   // CV_8UC3, for the seamless clone
};

Frame to_frame(const cv::Mat& frame) {
  if (frame.empty()) throw std::invalid_argument("merge: empty frame");
  Frame f;
  if (frame.type() == CV_8UC3) {
    f.u8 = frame;
    frame.convertTo(f.bgr, CV_32F, 1.0 / 255.0);
  } else if (frame.type() == CV_32FC3) {
    f.bgr = frame;
    frame.convertTo(f.u8, CV_8U, 255.0);
  } else {
    throw std::invalid_argument("merge: frame must be CV_8UC3 or CV_32FC3 BGR");
  }
  return f;
}

int check_face(const FaceMergeInputs& in) {
  const cv::Mat& p = in.predicted_face;
  if (p.empty()) throw std::invalid_argument("merge: predicted_face is empty");
  if (p.type() != CV_32FC3 || p.rows != p.cols)
    throw std::invalid_argument("merge: predicted_face must be square CV_32FC3, got " + std::to_string(p.cols) + "x" +
                                std::to_string(p.rows) + " type " + std::to_string(p.type()));
  for (int i = 0; i < 2; ++i)
    for (int j = 0; j < 3; ++j)
      if (!std::isfinite(in.face_mat(i, j))) throw std::invalid_argument("merge: face_mat has a non-finite entry");
  const double det = in.face_mat(0, 0) * in.face_mat(1, 1) - in.face_mat(0, 1) * in.face_mat(1, 0);
  if (det == 0.0) throw std::invalid_argument("merge: face_mat is singular");
  return p.rows;
}

cv::Mat clip01(cv::Mat m) {
  cv::min(cv::max(m, 0.0), 1.0, m);
  return m;
}

// Face -> frame: DFL's warpAffine(face, mat, frame_size, WARP_INVERSE_MAP | INTER_CUBIC), zero border.
cv::Mat to_frame_space(const cv::Mat& face, const cv::Matx23d& mat, cv::Size size) {
  cv::Mat out;
  cv::warpAffine(face, out, cv::Mat(mat), size, cv::WARP_INVERSE_MAP | cv::INTER_CUBIC, cv::BORDER_CONSTANT,
                 cv::Scalar::all(0));
  return out;
}

cv::Mat to_face_space(const cv::Mat& img, const cv::Matx23d& mat, int size) {
  cv::Mat out;
  cv::warpAffine(img, out, cv::Mat(mat), cv::Size(size, size), cv::INTER_CUBIC, cv::BORDER_CONSTANT,
                 cv::Scalar::all(0));
  return out;
}

bool is_raw(MergeMode m) { return m == MergeMode::RawRgb || m == MergeMode::RawPredict; }
bool is_seamless(MergeMode m) { return m == MergeMode::Seamless || m == MergeMode::SeamlessHistMatch; }

// DFL merges only when the frame mask (>= 0.1) spans at least 4 pixels both ways.
bool mask_big_enough(const cv::Mat& frame_mask) {
  cv::Mat nz;
  cv::findNonZero(frame_mask >= 0.1f, nz);
  if (nz.empty()) return false;
  const cv::Rect r = cv::boundingRect(nz);
  return std::min(r.width - 1, r.height - 1) >= 4;  // DFL: max - min, not max - min + 1
}

}  // namespace

cv::Mat extract_dst_face(const cv::Mat& frame, const cv::Matx23d& face_mat, int size) {
  return clip01(to_face_space(to_frame(frame).bgr, face_mat, size));
}

FaceMergeResult merge_face_with_mask(const cv::Mat& frame_in, const FaceMergeInputs& in, const MergeSettings& s) {
  validate(s);
  const Frame frame = to_frame(frame_in);
  const int r = check_face(in);
  const cv::Size frame_size = frame.bgr.size();
  cv::Mat img_bgr = frame.bgr;

  // Step 2: the output matrix (face scaled about its centre) and its 4R version for the mask.
  const cv::Matx23d face_mat = in.face_mat;
  const cv::Matx23d face_output_mat = scale_face_mat(face_mat, r, 1.0 + 0.01 * s.output_face_scale);
  const cv::Matx23d face_mask_output_mat = face_output_mat * 4.0;

  // Step 3: the dst face as the model saw it, and its hull mask in face space.
  const cv::Mat dst_face = clip01(to_face_space(img_bgr, face_mat, r));
  FaceMasks masks{in.predicted_mask, in.predicted_dst_mask, cv::Mat(), in.xseg_prd_mask, in.xseg_dst_mask};
  if (!in.dst_hull_mask.empty()) {
    if (in.dst_hull_mask.type() != CV_32FC1 || in.dst_hull_mask.size() != frame_size)
      throw std::invalid_argument("merge: dst_hull_mask must be CV_32FC1 of the frame size");
    masks.hull = clip01(to_face_space(in.dst_hull_mask, face_mat, r));
  } else if (s.mask_mode == MaskMode::Dst) {
    throw std::invalid_argument("merge: mask mode \"dst\" needs dst_hull_mask, CV_32FC1 of the frame size");
  }
  cv::Mat prd_face = clip01(in.predicted_face.clone());

  // Steps 5-8: the mask, confined to the dst face region.
  const cv::Mat wrk = working_mask(s.mask_mode, r, masks);
  cv::Mat mask_4r = subres_mask(wrk, r, s.erode_mask_modifier, s.blur_mask_modifier, !is_raw(s.mode));
  if (!is_raw(s.mode) && !masks.hull.empty()) cv::multiply(mask_4r, face_region_4r(masks.hull, r), mask_4r);
  const cv::Mat img_mask = mask_to_frame(mask_4r, face_mask_output_mat, frame_size);
  cv::Mat wrk_r;
  cv::resize(mask_4r, wrk_r, cv::Size(r, r), 0, 0, cv::INTER_CUBIC);

  FaceMergeResult res;
  res.mask = img_mask;
  switch (s.mode) {
    case MergeMode::Original: res.image = img_bgr.clone(); return res;
    case MergeMode::RawRgb: {
      const cv::Mat face = to_frame_space(prd_face, face_output_mat, frame_size);
      const cv::Mat square = to_frame_space(cv::Mat::ones(r, r, CV_32F), face_output_mat, frame_size);
      res.image = clip01(alpha_blend(img_bgr, face, square));
      return res;
    }
    case MergeMode::RawPredict:
      res.image = prd_face;
      res.mask = wrk_r;
      return res;
    default: break;
  }

  if (!mask_big_enough(img_mask)) {
    res.image = img_bgr.clone();
    return res;
  }

  cv::Mat mask_area = cv::Mat::zeros(r, r, CV_32F);
  mask_area.setTo(1.f, wrk_r > 0.f);
  const bool seamless = is_seamless(s.mode);
  const bool has_ct = s.color_transfer != ColorTransferMode::None;

  // Step 10 (non-seamless): colour-match the prediction to the dst face before compositing.
  if (!seamless && has_ct) prd_face = apply_color_transfer(s.color_transfer, prd_face, dst_face, mask_area, s.random_seed);
  if (s.mode == MergeMode::HistMatch)
    prd_face = hist_match_face(prd_face, dst_face, mask_area, s.masked_hist_match, s.hist_match_threshold);

  // Step 9.
  cv::Mat out = clip01(to_frame_space(prd_face, face_output_mat, frame_size));
  if (seamless) res.seamless_failed = !seamless_clone(out, frame.u8, seamless_mask(img_mask));
  out = alpha_blend(img_bgr, out, img_mask);

  // Step 10 (seamless) and 11: effects on the face re-extracted from the composite.
  if ((seamless && has_ct) || s.mode == MergeMode::SeamlessHistMatch || s.motion_blur_power != 0 ||
      s.blursharpen_amount != 0 || s.image_denoise_power != 0 || s.bicubic_degrade_power != 0) {
    cv::Mat out_face = to_face_space(out, face_mat, r);
    if (seamless && has_ct)
      out_face = apply_color_transfer(s.color_transfer, out_face, dst_face, mask_area, s.random_seed);
    if (s.mode == MergeMode::SeamlessHistMatch) out_face = hist_match(out_face, dst_face, s.hist_match_threshold);
    if (s.motion_blur_power != 0) {
      const int k = motion_blur_kernel_size(in.motion_power, s.motion_blur_power);
      if (k >= 1) out_face = linear_motion_blur(out_face, k, in.motion_deg);
    }
    if (s.blursharpen_amount != 0) out_face = blursharpen(out_face, s.sharpen_mode, 3, s.blursharpen_amount);
    if (s.image_denoise_power != 0) img_bgr = denoise(img_bgr, s.image_denoise_power);
    if (s.bicubic_degrade_power != 0) img_bgr = bicubic_degrade(img_bgr, s.bicubic_degrade_power);
    const cv::Mat new_out = to_frame_space(out_face, face_mat, frame_size);
    out = clip01(alpha_blend(img_bgr, new_out, img_mask));
  }
  if (s.color_degrade_power != 0) out = color_degrade(out, s.color_degrade_power);
  res.image = out;
  return res;
}

cv::Mat merge_face(const cv::Mat& frame, const FaceMergeInputs& face, const MergeSettings& settings) {
  FaceMergeResult r = merge_face_with_mask(frame, face, settings);
  if (frame.depth() == CV_8U) {
    cv::Mat u8;
    r.image.convertTo(u8, CV_8U, 255.0);
    return u8;
  }
  return r.image;
}

FaceMergeResult merge_faces(const cv::Mat& frame, const std::vector<FaceMergeInputs>& faces,
                            const MergeSettings& settings) {
  FaceMergeResult out;
  if (faces.empty()) {
    validate(settings);
    out.image = to_frame(frame).bgr.clone();
    out.mask = cv::Mat::zeros(frame.size(), CV_32F);
    return out;
  }
  std::vector<cv::Mat> images, masks;
  for (const FaceMergeInputs& f : faces) {
    FaceMergeResult r = merge_face_with_mask(frame, f, settings);
    out.seamless_failed = out.seamless_failed || r.seamless_failed;
    images.push_back(r.image);
    masks.push_back(r.mask);
  }
  combine_faces(images, masks, out.image, out.mask);
  return out;
}

}  // namespace facet::merge
