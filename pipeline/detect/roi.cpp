// Rotated-ROI geometry and the bilinear resampler shared by the detector letterbox and the
// landmark crop (see roi.h for the convention, which is the reference tool's).
#include "pipeline/detect/roi.h"

#include <algorithm>
#include <cmath>

#include "engine/core/error.h"

namespace facet::detect {

cv::Point2d RotatedRoi::to_frame(double xn, double yn) const {
  const double c = std::cos(rotation), s = std::sin(rotation);
  const double x = (xn - 0.5) * w, y = (yn - 0.5) * h;
  return {cx + c * x - s * y, cy + s * x + c * y};
}

std::array<cv::Point2d, 4> RotatedRoi::corners() const {
  return {to_frame(0, 0), to_frame(1, 0), to_frame(1, 1), to_frame(0, 1)};
}

void sample_roi(const cv::Mat& bgr, const RotatedRoi& roi, int out_w, int out_h, Border border, float lo, float hi,
                float* out) {
  FACET_CHECK(bgr.type() == CV_8UC3 && !bgr.empty(), "sample_roi: expected a non-empty 8-bit BGR image");
  const int W = bgr.cols, H = bgr.rows;
  const double c = std::cos(roi.rotation), s = std::sin(roi.rotation);
  const double scale = (double(hi) - double(lo)) / 255.0;
  const bool zero = border == Border::Zero;
  for (int v = 0; v < out_h; ++v) {
    const double yr = (double(v) / out_h - 0.5) * roi.h;
    for (int u = 0; u < out_w; ++u) {
      const double xr = (double(u) / out_w - 0.5) * roi.w;
      const double sx = roi.cx + c * xr - s * yr;
      const double sy = roi.cy + s * xr + c * yr;
      const double fx0 = std::floor(sx), fy0 = std::floor(sy);
      const int x0 = int(fx0), y0 = int(fy0);
      const double fx = sx - fx0, fy = sy - fy0;
      float* o = out + (size_t(v) * out_w + u) * 3;
      if (x0 >= 0 && y0 >= 0 && x0 + 1 < W && y0 + 1 < H) {
        // The whole 2x2 footprint inside the frame (nearly every pixel): the loop below without its
        // bounds tests, adding the same terms in the same order.
        const uint8_t* p0 = bgr.ptr<uint8_t>(y0) + 3 * x0;
        const uint8_t* p1 = bgr.ptr<uint8_t>(y0 + 1) + 3 * x0;
        const double w00 = (1 - fx) * (1 - fy), w10 = fx * (1 - fy), w01 = (1 - fx) * fy, w11 = fx * fy;
        for (int k = 0; k < 3; ++k) {
          double a = 0;
          a += w00 * p0[2 - k];
          a += w10 * p0[5 - k];
          a += w01 * p1[2 - k];
          a += w11 * p1[5 - k];
          o[k] = float(lo + a * scale);
        }
        continue;
      }
      double acc[3] = {0, 0, 0};
      const int xs[2] = {x0, x0 + 1}, ys[2] = {y0, y0 + 1};
      const double wx[2] = {1 - fx, fx}, wy[2] = {1 - fy, fy};
      for (int j = 0; j < 2; ++j) {
        for (int i = 0; i < 2; ++i) {
          const double wgt = wx[i] * wy[j];
          if (wgt == 0) continue;
          int xx = xs[i], yy = ys[j];
          if (xx < 0 || xx >= W || yy < 0 || yy >= H) {
            if (zero) continue;
            xx = std::clamp(xx, 0, W - 1);
            yy = std::clamp(yy, 0, H - 1);
          }
          const uint8_t* p = bgr.ptr<uint8_t>(yy) + 3 * xx;
          acc[0] += wgt * p[2];  // RGB out of BGR
          acc[1] += wgt * p[1];
          acc[2] += wgt * p[0];
        }
      }
      o[0] = float(lo + acc[0] * scale);
      o[1] = float(lo + acc[1] * scale);
      o[2] = float(lo + acc[2] * scale);
    }
  }
}

double normalize_radians(double a) {
  constexpr double kPi = 3.14159265358979323846;
  return a - 2 * kPi * std::floor((a + kPi) / (2 * kPi));
}

double rotation_from_points(const cv::Point2d& from, const cv::Point2d& to) {
  return normalize_radians(0.0 - std::atan2(-(to.y - from.y), to.x - from.x));
}

RotatedRoi square_roi(const std::array<double, 4>& box, double rotation, double scale) {
  RotatedRoi r;
  r.cx = (box[0] + box[2]) / 2;
  r.cy = (box[1] + box[3]) / 2;
  const double side = std::max(box[2] - box[0], box[3] - box[1]) * scale;
  r.w = r.h = side;
  r.rotation = rotation;
  return r;
}

RotatedRoi roi_from_detection(const std::array<double, 4>& box, const cv::Point2d& right_eye,
                              const cv::Point2d& left_eye) {
  return square_roi(box, rotation_from_points(right_eye, left_eye));
}

RotatedRoi roi_from_mesh(const std::vector<cv::Point3f>& mesh468) {
  FACET_CHECK(mesh468.size() == 468, "roi_from_mesh: expected 468 landmarks, got ", mesh468.size());
  std::array<double, 4> box{mesh468[0].x, mesh468[0].y, mesh468[0].x, mesh468[0].y};
  for (const auto& p : mesh468) {
    box[0] = std::min(box[0], double(p.x));
    box[1] = std::min(box[1], double(p.y));
    box[2] = std::max(box[2], double(p.x));
    box[3] = std::max(box[3], double(p.y));
  }
  const cv::Point2d a(mesh468[33].x, mesh468[33].y), b(mesh468[263].x, mesh468[263].y);
  return square_roi(box, rotation_from_points(a, b));
}

}  // namespace facet::detect
