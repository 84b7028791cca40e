// merge_faces on the region of the frame the faces can touch (see frame_compose.h).
#include "pipeline/merge/frame_compose.h"

#include <algorithm>
#include <cmath>

#include "pipeline/faces/landmark_masks.h"
#include "pipeline/merge/merge_mask.h"

namespace facet::merge {

namespace {

// Settings whose effect reaches beyond the faces.
bool whole_frame_settings(const MergeSettings& s) {
  return s.mode == MergeMode::RawPredict || s.image_denoise_power != 0 || s.bicubic_degrade_power != 0 ||
         s.color_degrade_power != 0;
}

// Frame-space bounding box of the face square [-g, R + g]^2 under the inverse of `mat`.
cv::Rect2d square_box(const cv::Matx23d& mat, int R, double g) {
  const faces::Affine inv = faces::invert_affine(mat);
  double x0 = 1e300, y0 = 1e300, x1 = -1e300, y1 = -1e300;
  for (double u : {-g, R + g})
    for (double v : {-g, R + g}) {
      const faces::Point p = faces::transform_point(faces::Point(u, v), inv);
      x0 = std::min(x0, p.x), x1 = std::max(x1, p.x), y0 = std::min(y0, p.y), y1 = std::max(y1, p.y);
    }
  return {x0, y0, x1 - x0, y1 - y0};
}

}  // namespace

cv::Rect compose_region(cv::Size frame_size, const std::vector<FrameFace>& faces, const MergeSettings& s) {
  const cv::Rect whole(0, 0, frame_size.width, frame_size.height);
  if (faces.empty() || whole_frame_settings(s)) return whole;
  constexpr double kFaceMargin = 3.0, kFrameMargin = 3.0;  // cubic reach in face and frame pixels
  double x0 = 1e300, y0 = 1e300, x1 = -1e300, y1 = -1e300;
  for (const FrameFace& f : faces) {
    const int R = f.in.predicted_face.rows;
    const cv::Matx23d out_mat = scale_face_mat(f.in.face_mat, R, 1.0 + 0.01 * s.output_face_scale);
    for (const cv::Matx23d& m : {f.in.face_mat, out_mat}) {
      const cv::Rect2d b = square_box(m, R, kFaceMargin);
      if (!std::isfinite(b.x) || !std::isfinite(b.y) || !std::isfinite(b.width) || !std::isfinite(b.height))
        return whole;
      x0 = std::min(x0, b.x), y0 = std::min(y0, b.y);
      x1 = std::max(x1, b.x + b.width), y1 = std::max(y1, b.y + b.height);
    }
  }
  const int l = int(std::floor(std::max(x0 - kFrameMargin, 0.0)));
  const int t = int(std::floor(std::max(y0 - kFrameMargin, 0.0)));
  const int r = int(std::ceil(std::min(x1 + kFrameMargin, double(frame_size.width))));
  const int b = int(std::ceil(std::min(y1 + kFrameMargin, double(frame_size.height))));
  if (r - l < 1 || b - t < 1) return cv::Rect(0, 0, 1, 1) & whole;  // every face lies outside the frame
  return cv::Rect(l, t, r - l, b - t);
}

ComposedFrame compose_frame(const cv::Mat& frame, const std::vector<FrameFace>& faces, const MergeSettings& s,
                            bool want_mask, bool allow_roi) {
  ComposedFrame out;
  if (faces.empty()) {
    out.image = frame;  // passes through bit for bit
    if (want_mask) out.mask = cv::Mat::zeros(frame.size(), CV_8U);
    out.roi = cv::Rect(0, 0, frame.cols, frame.rows);
    return out;
  }
  out.roi = allow_roi ? compose_region(frame.size(), faces, s) : cv::Rect(0, 0, frame.cols, frame.rows);
  const cv::Point o = out.roi.tl();
  std::vector<FaceMergeInputs> in;
  for (const FrameFace& f : faces) {
    FaceMergeInputs fi = f.in;
    // frame -> face becomes crop -> face: p = p_crop + o, so t' = t + A o.
    fi.face_mat(0, 2) += fi.face_mat(0, 0) * o.x + fi.face_mat(0, 1) * o.y;
    fi.face_mat(1, 2) += fi.face_mat(1, 0) * o.x + fi.face_mat(1, 1) * o.y;
    // Mask mode "dst" draws on the hull and every mode is confined to the face region grown from
    // it. Drawn in the region with the landmarks moved by its whole-pixel offset, so the hull's
    // integer rounding is the frame's.
    if (f.landmarks.size() == 68) {
      faces::Landmarks moved = f.landmarks;
      for (auto& p : moved) p.x -= o.x, p.y -= o.y;
      fi.dst_hull_mask = faces::hull_mask(out.roi.size(), moved);
    }
    in.push_back(std::move(fi));
  }
  const FaceMergeResult r = merge_faces(frame(out.roi), in, s);
  out.seamless_failed = r.seamless_failed;
  if (s.mode == MergeMode::RawPredict) {  // R x R face, not a frame
    r.image.convertTo(out.image, CV_8U, 255.0);
    if (want_mask) r.mask.convertTo(out.mask, CV_8U, 255.0);
    return out;
  }
  out.image = frame.clone();
  r.image.convertTo(out.image(out.roi), CV_8U, 255.0);  // rounds: untouched pixels keep their value
  if (want_mask) {
    out.mask = cv::Mat::zeros(frame.size(), CV_8U);
    r.mask.convertTo(out.mask(out.roi), CV_8U, 255.0);
  }
  return out;
}

}  // namespace facet::merge
