// Debug frame drawing (see debug_draw.h). Line widths scale with the frame so the marks stay
// visible on 4K frames and do not swamp 360p ones.
#include "pipeline/extract/debug_draw.h"

#include <algorithm>

#include <opencv2/imgproc.hpp>

namespace facet::extract {

cv::Mat draw_debug_frame(const cv::Mat& frame, const std::vector<DebugFace>& faces) {
  cv::Mat out = frame.clone();
  const int t = std::max(1, std::max(frame.cols, frame.rows) / 500);
  const int shift = 4;  // sub-pixel drawing: coordinates in 1/16 px
  auto fix = [&](const cv::Point2d& p) { return cv::Point(cvRound(p.x * (1 << shift)), cvRound(p.y * (1 << shift))); };
  for (const auto& df : faces) {
    const detect::FoundFace& f = *df.face;
    const auto& b = f.detection.box;
    cv::rectangle(out, fix({b[0], b[1]}), fix({b[2], b[3]}), cv::Scalar(0, 255, 0), t, cv::LINE_AA, shift);
    const double s = df.face_size;
    const std::vector<faces::Point> corners = {{0, 0}, {s, 0}, {s, s}, {0, s}};
    const auto back = faces::transform_points(corners, df.image_to_face, /*invert=*/true);
    std::vector<cv::Point> poly;
    for (const auto& p : back) poly.push_back(fix(p));
    cv::polylines(out, poly, true, cv::Scalar(0, 255, 255), t, cv::LINE_AA, shift);
    // The crop's top edge, thicker: shows which way is up in the face image.
    cv::line(out, poly[0], poly[1], cv::Scalar(0, 255, 255), 2 * t, cv::LINE_AA, shift);
    for (const auto& p : f.landmarks) cv::circle(out, fix(p), t << shift, cv::Scalar(0, 0, 255), cv::FILLED, cv::LINE_AA, shift);
    for (const auto& p : f.detection.keypoints)
      cv::circle(out, fix(p), (t + 1) << shift, cv::Scalar(255, 0, 0), cv::FILLED, cv::LINE_AA, shift);
  }
  return out;
}

}  // namespace facet::extract
