// Umeyama similarity and DFL's get_transform_mat (see align.h). The steps mirror
// DFL's facelib/LandmarksProcessor.py get_transform_mat so crops match DFL's for the same
// landmarks; DFL computes in float32, we in double, so values agree to ~1e-5 relative.
#include "pipeline/faces/align.h"

#include <cmath>

#include <opencv2/core.hpp>

#include "engine/core/error.h"

namespace facet::faces {

const std::array<Point, 33>& template_landmarks() {
  static const std::array<Point, 33> t = {{
      {0.000213256, 0.106454}, {0.0752622, 0.038915}, {0.18113, 0.0187482}, {0.29077, 0.0344891},
      {0.393397, 0.0773906},   {0.586856, 0.0773906}, {0.689483, 0.0344891}, {0.799124, 0.0187482},
      {0.904991, 0.038915},    {0.98004, 0.106454},   {0.490127, 0.203352},  {0.490127, 0.307009},
      {0.490127, 0.409805},    {0.490127, 0.515625},  {0.36688, 0.587326},   {0.426036, 0.609345},
      {0.490127, 0.628106},    {0.554217, 0.609345},  {0.613373, 0.587326},  {0.121737, 0.216423},
      {0.187122, 0.178758},    {0.265825, 0.179852},  {0.334606, 0.231733},  {0.260918, 0.245099},
      {0.182743, 0.244077},    {0.645647, 0.231733},  {0.714428, 0.179852},  {0.793132, 0.178758},
      {0.858516, 0.216423},    {0.79751, 0.244077},   {0.719335, 0.245099},  {0.254149, 0.780233},
      {0.726104, 0.780233},
  }};
  return t;
}

const std::array<int, 33>& template_landmark_indices() {
  static const std::array<int, 33> idx = [] {
    std::array<int, 33> a{};
    for (int i = 0; i < 32; ++i) a[i] = 17 + i;
    a[32] = 54;
    return a;
  }();
  return idx;
}

static void check68(const Landmarks& l, const char* who) {
  FACET_CHECK(l.size() == 68, who, ": expected 68 landmarks, got ", l.size());
}

Affine umeyama(const std::vector<Point>& src, const std::vector<Point>& dst, bool estimate_scale) {
  FACET_CHECK(src.size() == dst.size() && src.size() >= 2, "umeyama: need two equal point lists of >= 2 points, got ",
              src.size(), " and ", dst.size());
  const double n = double(src.size());
  Point ms(0, 0), md(0, 0);
  for (size_t i = 0; i < src.size(); ++i) ms += src[i], md += dst[i];
  ms *= 1.0 / n, md *= 1.0 / n;
  // A = dst_demeanᵀ · src_demean / N, and the total variance of src.
  cv::Matx22d A = cv::Matx22d::zeros();
  double var_src = 0;
  for (size_t i = 0; i < src.size(); ++i) {
    const Point s = src[i] - ms, d = dst[i] - md;
    A(0, 0) += d.x * s.x, A(0, 1) += d.x * s.y, A(1, 0) += d.y * s.x, A(1, 1) += d.y * s.y;
    var_src += s.x * s.x + s.y * s.y;
  }
  A *= 1.0 / n;
  var_src /= n;

  cv::Matx21d S;
  cv::Matx22d U, Vt;
  cv::SVD::compute(A, S, U, Vt);
  cv::Vec2d d(1.0, 1.0);
  if (cv::determinant(A) < 0) d[1] = -1;
  const double tol = S(0) * 2 * 2.220446049250313e-16;  // numpy matrix_rank's default tolerance
  const int rank = (S(0) > tol) + (S(1) > tol);
  FACET_CHECK(rank > 0, "umeyama: all source or destination points coincide");
  cv::Matx22d R;
  if (rank == 1) {
    // Rank-deficient (collinear points): keep a proper rotation.
    if (cv::determinant(U) * cv::determinant(Vt) > 0) {
      R = U * Vt;
    } else {
      R = U * cv::Matx22d(d[0], 0, 0, -1) * Vt;
    }
  } else {
    R = U * cv::Matx22d(d[0], 0, 0, d[1]) * Vt;
  }
  double scale = 1.0;
  if (estimate_scale) {
    FACET_CHECK(var_src > 0, "umeyama: source points have no spread");
    scale = (S(0) * d[0] + S(1) * d[1]) / var_src;
  }
  const cv::Matx22d sR = R * scale;
  const Point t = md - Point(sR(0, 0) * ms.x + sR(0, 1) * ms.y, sR(1, 0) * ms.x + sR(1, 1) * ms.y);
  return Affine(sR(0, 0), sR(0, 1), t.x, sR(1, 0), sR(1, 1), t.y);
}

Point transform_point(const Point& p, const Affine& m) {
  return {m(0, 0) * p.x + m(0, 1) * p.y + m(0, 2), m(1, 0) * p.x + m(1, 1) * p.y + m(1, 2)};
}

Affine invert_affine(const Affine& m) {
  const double det = m(0, 0) * m(1, 1) - m(0, 1) * m(1, 0);
  FACET_CHECK(std::abs(det) > 1e-300 && std::isfinite(det), "invert_affine: matrix is singular");
  const double a = m(1, 1) / det, b = -m(0, 1) / det, c = -m(1, 0) / det, d = m(0, 0) / det;
  return Affine(a, b, -(a * m(0, 2) + b * m(1, 2)), c, d, -(c * m(0, 2) + d * m(1, 2)));
}

std::vector<Point> transform_points(const std::vector<Point>& pts, const Affine& m, bool invert) {
  const Affine a = invert ? invert_affine(m) : m;
  std::vector<Point> out;
  out.reserve(pts.size());
  for (const Point& p : pts) out.push_back(transform_point(p, a));
  return out;
}

Affine affine_from_3_points(const std::array<Point, 3>& s, const std::array<Point, 3>& d) {
  // [d0 d1 d2] = A · [s0 s1 s2; 1 1 1]  =>  A = D · S⁻¹.
  const cv::Matx33d S(s[0].x, s[1].x, s[2].x, s[0].y, s[1].y, s[2].y, 1, 1, 1);
  FACET_CHECK(std::abs(cv::determinant(S)) > 1e-300, "affine_from_3_points: source points are collinear");
  const cv::Matx23d D(d[0].x, d[1].x, d[2].x, d[0].y, d[1].y, d[2].y);
  return D * S.inv();
}

Affine template_transform(const Landmarks& l) {
  check68(l, "template_transform");
  std::vector<Point> src, dst;
  for (int i = 0; i < 33; ++i) {
    src.push_back(l[template_landmark_indices()[i]]);
    dst.push_back(template_landmarks()[i]);
  }
  return umeyama(src, dst, true);
}

double estimate_averaged_yaw(const Landmarks& l) {
  check68(l, "estimate_averaged_yaw");
  const double left = ((l[27].x - l[0].x) + (l[28].x - l[1].x) + (l[29].x - l[2].x)) / 3.0;
  const double right = ((l[16].x - l[27].x) + (l[15].x - l[28].x) + (l[14].x - l[29].x)) / 3.0;
  return right - left;
}

static double norm(const Point& p) { return std::sqrt(p.x * p.x + p.y * p.y); }

Affine get_transform_mat(const Landmarks& l, double output_size, FaceType type, double scale) {
  check68(l, "get_transform_mat");
  FACET_CHECK(output_size > 0 && scale > 0, "get_transform_mat: output_size and scale must be positive");
  const Affine mat = template_transform(l);
  const Affine inv = invert_affine(mat);
  // Template square corners and centre in frame space.
  const Point g0 = transform_point({0, 0}, inv), g1 = transform_point({1, 0}, inv);
  const Point g2 = transform_point({1, 1}, inv), g3 = transform_point({0, 1}, inv);
  Point gc = transform_point({0.5, 0.5}, inv);
  const Point tb = (g2 - g0) * (1.0 / norm(g2 - g0));
  const Point bt = (g1 - g3) * (1.0 / norm(g1 - g3));
  const FaceTypeInfo info = face_type_info(type);
  // Half-diagonal of the crop: the crop side is (1 + 2√2·padding) template sides.
  const double mod = (1.0 / scale) * norm(g0 - g2) * (info.padding * std::sqrt(2.0) + 0.5);

  if (type == FaceType::WholeFace) {
    gc += (g0 - g3) * 0.07;  // 7% of the side toward the forehead
  } else if (type == FaceType::Head) {
    double yaw = estimate_averaged_yaw(transform_points(l, mat));
    yaw *= std::abs(std::tanh(yaw * 2));  // damped near zero
    const Point h = g0 - g1;
    gc -= h * (1.0 / norm(h)) * (yaw * norm(h) / 2.0);
    gc += (g0 - g3) * 0.5;  // 50% of the side toward the top of the head
  }

  std::array<Point, 3> src;
  if (!info.remove_align) {
    src = {gc - tb * mod, gc + bt * mod, gc + tb * mod};
  } else {
    // Axis-aligned square with the area of the rotated one (a square of diagonal 2·mod).
    const double side = mod / std::sqrt(2.0);
    src = {gc + Point(-side, -side), gc + Point(side, -side), gc + Point(side, side)};
  }
  const std::array<Point, 3> dst = {Point(0, 0), Point(output_size, 0), Point(output_size, output_size)};
  return affine_from_3_points(src, dst);
}

cv::Rect2d rect_from_landmarks(const Landmarks& l) {
  const Affine m = get_transform_mat(l, 256, FaceType::FullNoAlign);
  const auto p = transform_points({Point(0, 0), Point(255, 255)}, m, true);
  return cv::Rect2d(p[0], p[1]);
}

}  // namespace facet::faces
