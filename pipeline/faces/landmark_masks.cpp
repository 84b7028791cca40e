// Landmark masks (see landmark_masks.h). Integer rounding follows DFL (numpy int casts truncate
// toward zero, midpoints use floor division) so the hull covers the same pixels.
#include "pipeline/faces/landmark_masks.h"

#include <cmath>

#include <opencv2/imgproc.hpp>

#include "engine/core/error.h"

namespace facet::faces {

static int floordiv2(int v) { return int(std::floor(v / 2.0)); }
static cv::Point mid(cv::Point a, cv::Point b) { return {floordiv2(a.x + b.x), floordiv2(a.y + b.y)}; }

static std::vector<cv::Point> to_int(const Landmarks& l) {
  std::vector<cv::Point> p;
  p.reserve(l.size());
  for (const Point& q : l) p.emplace_back(int(q.x), int(q.y));  // truncation, like astype(int)
  return p;
}

std::vector<cv::Point> expand_eyebrows(const Landmarks& l, double mod) {
  FACET_CHECK(l.size() == 68, "expand_eyebrows: expected 68 landmarks, got ", l.size());
  std::vector<cv::Point> p = to_int(l);
  const cv::Point ml = mid(p[36], p[0]), mr = mid(p[16], p[45]);
  const cv::Point ql = mid(p[36], ml), qr = mid(p[45], mr);
  const cv::Point bot_l[5] = {ql, p[36], p[37], p[38], p[39]};
  const cv::Point bot_r[5] = {p[42], p[43], p[44], p[45], qr};
  for (int i = 0; i < 5; ++i) {
    const cv::Point tl = p[17 + i], tr = p[22 + i];
    p[17 + i] = cv::Point(int(tl.x + mod * 0.5 * (tl.x - bot_l[i].x)), int(tl.y + mod * 0.5 * (tl.y - bot_l[i].y)));
    p[22 + i] = cv::Point(int(tr.x + mod * 0.5 * (tr.x - bot_r[i].x)), int(tr.y + mod * 0.5 * (tr.y - bot_r[i].y)));
  }
  return p;
}

static void fill_hull(cv::Mat& m, const std::vector<cv::Point>& pts) {
  std::vector<cv::Point> hull;
  cv::convexHull(pts, hull);
  cv::fillConvexPoly(m, hull, cv::Scalar(1.0));
}

static std::vector<cv::Point> pick(const std::vector<cv::Point>& p, std::initializer_list<std::pair<int, int>> ranges) {
  std::vector<cv::Point> out;
  for (auto [b, e] : ranges)
    for (int i = b; i < e; ++i) out.push_back(p[i]);
  return out;
}

cv::Mat hull_mask(cv::Size size, const Landmarks& l, double mod) {
  const std::vector<cv::Point> p = expand_eyebrows(l, mod);
  cv::Mat m = cv::Mat::zeros(size, CV_32FC1);
  fill_hull(m, pick(p, {{0, 9}, {17, 18}}));                        // right jaw
  fill_hull(m, pick(p, {{8, 17}, {26, 27}}));                       // left jaw
  fill_hull(m, pick(p, {{17, 20}, {8, 9}}));                        // right cheek
  fill_hull(m, pick(p, {{24, 27}, {8, 9}}));                        // left cheek
  fill_hull(m, pick(p, {{19, 25}, {8, 9}}));                        // nose ridge
  fill_hull(m, pick(p, {{17, 22}, {27, 28}, {31, 36}, {8, 9}}));    // right eye region
  fill_hull(m, pick(p, {{22, 27}, {27, 28}, {31, 36}, {8, 9}}));    // left eye region
  fill_hull(m, pick(p, {{27, 31}, {31, 36}}));                      // nose
  return m;
}

static cv::Mat soft_parts_mask(cv::Size size, const Landmarks& l, std::initializer_list<std::pair<int, int>> parts) {
  FACET_CHECK(l.size() == 68, "eye/mouth mask: expected 68 landmarks, got ", l.size());
  const std::vector<cv::Point> p = to_int(l);
  cv::Mat m = cv::Mat::zeros(size, CV_32FC1);
  for (auto [b, e] : parts) fill_hull(m, pick(p, {{b, e}}));
  const int h = size.height;
  const int d = h / 32;
  if (d > 0) cv::dilate(m, m, cv::getStructuringElement(cv::MORPH_ELLIPSE, cv::Size(d, d)));
  int blur = h / 16;
  blur += 1 - blur % 2;
  cv::GaussianBlur(m, m, cv::Size(blur, blur), 0);
  return m;
}

cv::Mat eye_mask(cv::Size size, const Landmarks& l) { return soft_parts_mask(size, l, {{36, 42}, {42, 48}}); }

cv::Mat mouth_mask(cv::Size size, const Landmarks& l) { return soft_parts_mask(size, l, {{60, 68}}); }

}  // namespace facet::faces
