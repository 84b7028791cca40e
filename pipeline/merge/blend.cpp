// Compositing primitives for the merger. alpha_blend is written per pixel (not with cv::Mat
// arithmetic) so that a zero mask gives back the background bit for bit.
#include "pipeline/merge/blend.h"

#include <algorithm>
#include <stdexcept>

#include <opencv2/imgproc.hpp>
#include <opencv2/photo.hpp>

#include "pipeline/merge/color_transfer.h"

namespace facet::merge {

cv::Mat alpha_blend(const cv::Mat& bg, const cv::Mat& fg, const cv::Mat& mask) {
  if (bg.type() != CV_32FC3 || fg.type() != CV_32FC3 || mask.type() != CV_32FC1 || bg.size() != fg.size() ||
      bg.size() != mask.size())
    throw std::invalid_argument("alpha_blend: need CV_32FC3 images and a CV_32FC1 mask of one size");
  cv::Mat out(bg.size(), CV_32FC3);
  for (int y = 0; y < bg.rows; ++y) {
    const cv::Vec3f* b = bg.ptr<cv::Vec3f>(y);
    const cv::Vec3f* f = fg.ptr<cv::Vec3f>(y);
    const float* m = mask.ptr<float>(y);
    cv::Vec3f* o = out.ptr<cv::Vec3f>(y);
    for (int x = 0; x < bg.cols; ++x) {
      if (m[x] == 0.f) {
        o[x] = b[x];
        continue;
      }
      for (int c = 0; c < 3; ++c) o[x][c] = b[x][c] * (1.f - m[x]) + f[x][c] * m[x];
    }
  }
  return out;
}

cv::Mat hist_match_face(const cv::Mat& prd_face, const cv::Mat& dst_face, const cv::Mat& mask_area, bool masked,
                        int threshold) {
  if (!masked) return hist_match(prd_face, dst_face, threshold);
  cv::Mat a = prd_face.clone(), b = dst_face.clone();
  for (int y = 0; y < a.rows; ++y) {
    cv::Vec3f* pa = a.ptr<cv::Vec3f>(y);
    cv::Vec3f* pb = b.ptr<cv::Vec3f>(y);
    const float* m = mask_area.ptr<float>(y);
    for (int x = 0; x < a.cols; ++x) {
      // x*m + (1 - m), then values above 1 set to 1 (DFL's white background).
      for (int c = 0; c < 3; ++c) {
        pa[x][c] = std::min(pa[x][c] * m[x] + (1.f - m[x]), 1.f);
        pb[x][c] = pb[x][c] * m[x] + (1.f - m[x]);
      }
    }
  }
  return hist_match(a, b, threshold);
}

cv::Mat seamless_mask(const cv::Mat& frame_mask) {
  for (int i = 1; i < 10; ++i) {
    const float t = static_cast<float>(i / 10.0);
    cv::Mat above = frame_mask > t;
    if (cv::countNonZero(above) == 0) continue;
    cv::Mat bin = cv::Mat::zeros(frame_mask.size(), CV_32F);
    bin.setTo(1.f, above);
    return bin;
  }
  return cv::Mat();
}

bool seamless_clone(cv::Mat& face, const cv::Mat& frame_u8, const cv::Mat& binary_mask) {
  if (binary_mask.empty()) return false;
  cv::Mat face_u8(face.size(), CV_8UC3), mask_u8;
  for (int y = 0; y < face.rows; ++y) {
    const float* p = face.ptr<float>(y);
    uint8_t* q = face_u8.ptr<uint8_t>(y);
    for (int x = 0; x < face.cols * 3; ++x) q[x] = static_cast<uint8_t>(std::clamp(p[x] * 255.f, 0.f, 255.f));
  }
  binary_mask.convertTo(mask_u8, CV_8U, 255.0);
  const cv::Rect r = cv::boundingRect(mask_u8);
  if (r.area() == 0) return false;
  const cv::Point centre(static_cast<int>(r.x + r.width / 2.0), static_cast<int>(r.y + r.height / 2.0));
  try {
    cv::Mat cloned;
    cv::seamlessClone(face_u8, frame_u8, mask_u8, centre, cloned, cv::NORMAL_CLONE);
    cloned.convertTo(face, CV_32F, 1.0 / 255.0);
  } catch (const cv::Exception&) {
    return false;
  }
  return true;
}

void combine_faces(const std::vector<cv::Mat>& images, const std::vector<cv::Mat>& masks, cv::Mat& image,
                   cv::Mat& mask) {
  if (images.empty() || images.size() != masks.size())
    throw std::invalid_argument("combine_faces: need one mask per image and at least one image");
  image = images[0].clone();
  mask = masks[0].clone();
  for (size_t i = 1; i < images.size(); ++i) {
    if (images[i].size() != image.size())
      throw std::invalid_argument("combine_faces: face results have different sizes (raw-predict with several faces?)");
    image = alpha_blend(image, images[i], masks[i]);
    mask = mask + masks[i];
    cv::min(mask, 1.0, mask);
  }
}

}  // namespace facet::merge
