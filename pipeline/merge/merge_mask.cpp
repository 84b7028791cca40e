// Merge-mask construction, a port of MergeMasked.py's mask section with the same OpenCV calls
// (cubic resizes, ellipse structuring elements, default borders) so masks match DFL's.
#include "pipeline/merge/merge_mask.h"

#include <algorithm>
#include <stdexcept>
#include <string>

#include <opencv2/imgproc.hpp>

namespace facet::merge {
namespace {

constexpr float kNoise = 1.f / 255.f;

void zero_below(cv::Mat& m, float t) { m.setTo(0.f, m < t); }

void clip01(cv::Mat& m) { cv::min(cv::max(m, 0.0), 1.0, m); }

const cv::Mat& need(const cv::Mat& m, int size, const char* what, MaskMode mode) {
  if (m.empty())
    throw std::invalid_argument(std::string("merge mask: mask mode \"") + to_string(mode) + "\" needs " + what);
  if (m.type() != CV_32FC1 || m.rows != size || m.cols != size)
    throw std::invalid_argument(std::string("merge mask: ") + what + " must be CV_32FC1 " + std::to_string(size) + "x" +
                                std::to_string(size));
  return m;
}

cv::Mat clipped(const cv::Mat& m) {
  cv::Mat c = m.clone();
  clip01(c);
  return c;
}

}  // namespace

cv::Matx23d scale_face_mat(const cv::Matx23d& m, int size, double s) {
  const double c = (1.0 - s) * size / 2.0;
  return cv::Matx23d(s * m(0, 0), s * m(0, 1), s * m(0, 2) + c, s * m(1, 0), s * m(1, 1), s * m(1, 2) + c);
}

cv::Mat working_mask(MaskMode mode, int size, const FaceMasks& m) {
  auto get = [&](const cv::Mat& x, const char* what) { return clipped(need(x, size, what, mode)); };
  auto product = [](std::initializer_list<cv::Mat> ms) {
    cv::Mat w = *ms.begin();
    for (auto it = ms.begin() + 1; it != ms.end(); ++it) cv::multiply(w, *it, w);
    return w;
  };
  constexpr const char* kPrd = "the predicted (src) mask";
  constexpr const char* kDst = "the predicted dst mask";
  constexpr const char* kXPrd = "the face segmenter's mask of the predicted face (a mask model)";
  constexpr const char* kXDst = "the face segmenter's mask of the dst face (a mask model)";
  cv::Mat w;
  switch (mode) {
    case MaskMode::Full: w = cv::Mat::ones(size, size, CV_32F); break;
    case MaskMode::Dst: w = get(m.hull, "the dst hull mask"); break;
    case MaskMode::LearnedPrd: w = get(m.learned_prd, kPrd); break;
    case MaskMode::LearnedDst: w = get(m.learned_dst, kDst); break;
    case MaskMode::LearnedPrdTimesDst: w = product({get(m.learned_prd, kPrd), get(m.learned_dst, kDst)}); break;
    case MaskMode::LearnedPrdPlusDst:
      w = get(m.learned_prd, kPrd) + get(m.learned_dst, kDst);
      clip01(w);
      break;
    case MaskMode::XSegPrd: w = get(m.xseg_prd, kXPrd); break;
    case MaskMode::XSegDst: w = get(m.xseg_dst, kXDst); break;
    case MaskMode::XSegPrdTimesDst: w = product({get(m.xseg_prd, kXPrd), get(m.xseg_dst, kXDst)}); break;
    case MaskMode::LearnedTimesXSeg:
      w = product({get(m.learned_prd, kPrd), get(m.learned_dst, kDst), get(m.xseg_prd, kXPrd), get(m.xseg_dst, kXDst)});
      break;
    default: throw std::invalid_argument("merge mask: unknown mask mode " + std::to_string(static_cast<int>(mode)));
  }
  zero_below(w, kNoise);
  return w;
}

cv::Mat face_region_4r(const cv::Mat& hull_face, int size) {
  if (hull_face.type() != CV_32FC1 || hull_face.rows != size || hull_face.cols != size)
    throw std::invalid_argument("merge mask: the dst hull must be CV_32FC1 " + std::to_string(size) + "x" +
                                std::to_string(size));
  const int sub = 4 * size;
  const int grow = std::max(1, static_cast<int>(std::lround(kFaceRegionGrowth * sub)));
  cv::Mat region;
  cv::resize(hull_face, region, cv::Size(sub, sub), 0, 0, cv::INTER_LINEAR);
  cv::threshold(region, region, 0.5, 1.0, cv::THRESH_BINARY);
  cv::dilate(region, region, cv::getStructuringElement(cv::MORPH_ELLIPSE, cv::Size(2 * grow + 1, 2 * grow + 1)));
  cv::blur(region, region, cv::Size(grow | 1, grow | 1), cv::Point(-1, -1), cv::BORDER_CONSTANT);
  clip01(region);
  return region;
}

cv::Mat subres_mask(const cv::Mat& working, int size, int erode, int blur, bool process) {
  const int sub = 4 * size;
  cv::Mat m;
  if (working.rows != sub) cv::resize(working, m, cv::Size(sub, sub), 0, 0, cv::INTER_CUBIC);
  else m = working.clone();
  if (!process) return m;

  // Pad by R so erosion and the blur see zeros beyond the face square, as DFL's np.pad.
  cv::Mat p;
  cv::copyMakeBorder(m, p, size, size, size, size, cv::BORDER_CONSTANT, cv::Scalar(0));
  if (erode > 0) cv::erode(p, p, cv::getStructuringElement(cv::MORPH_ELLIPSE, cv::Size(erode, erode)));
  else if (erode < 0) cv::dilate(p, p, cv::getStructuringElement(cv::MORPH_ELLIPSE, cv::Size(-erode, -erode)));

  // Keep the mask inside the predicted square, leaving half a blur kernel so it fades to 0 there.
  const int clip = std::min(size + blur / 2, p.rows);
  p.rowRange(0, clip).setTo(0.f);
  p.rowRange(p.rows - clip, p.rows).setTo(0.f);
  p.colRange(0, clip).setTo(0.f);
  p.colRange(p.cols - clip, p.cols).setTo(0.f);

  if (blur > 0) {
    const int k = blur + (1 - blur % 2);
    cv::GaussianBlur(p, p, cv::Size(k, k), 0);
  }
  cv::Mat out = p(cv::Rect(size, size, sub, sub)).clone();
  clip01(out);
  return out;
}

cv::Mat mask_to_frame(const cv::Mat& mask_4r, const cv::Matx23d& face_mask_output_mat, cv::Size frame_size) {
  cv::Mat out = cv::Mat::zeros(frame_size, CV_32F);
  cv::warpAffine(mask_4r, out, cv::Mat(face_mask_output_mat), frame_size, cv::WARP_INVERSE_MAP | cv::INTER_CUBIC,
                 cv::BORDER_CONSTANT, cv::Scalar(0));
  clip01(out);
  zero_below(out, kNoise);
  return out;
}

}  // namespace facet::merge
