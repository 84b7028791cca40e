// Cartoon faces drawn from generated landmarks (see synthetic_faces.h).
#include "pipeline/train/synthetic_faces.h"

#include <cmath>
#include <filesystem>

#include <opencv2/imgproc.hpp>

#include "engine/core/error.h"
#include "engine/core/random.h"
#include "pipeline/faces/face_image.h"
#include "pipeline/faces/face_set.h"

namespace facet::train {

namespace {

constexpr double kPi = 3.14159265358979323846;

struct Look {
  cv::Scalar skin, hair, iris, brow, lip;  // BGR
  double width;       // face width factor about the nose line
  double mouth_width; // mouth width factor
  double brow_thick;  // relative to the face size
  bool beard;
};

Look look_of(SyntheticIdentity id) {
  if (id == SyntheticIdentity::A)
    return {cv::Scalar(150, 175, 225), cv::Scalar(30, 40, 70), cv::Scalar(170, 110, 40), cv::Scalar(40, 50, 80),
            cv::Scalar(90, 80, 200), 0.94, 0.9, 0.012, false};
  return {cv::Scalar(70, 110, 160), cv::Scalar(60, 170, 220), cv::Scalar(60, 140, 40), cv::Scalar(20, 25, 30),
          cv::Scalar(70, 70, 130), 1.08, 1.15, 0.022, true};
}

// Uniform in [lo, hi) from Philox word (seed, idx).
double uni(uint64_t seed, uint64_t idx, double lo, double hi) {
  return lo + (hi - lo) * (philox_word(seed, idx) * (1.0 / 4294967296.0));
}

std::vector<cv::Point> to_px(const faces::Landmarks& l, std::initializer_list<int> ids, int shift) {
  std::vector<cv::Point> out;
  for (int i : ids) out.emplace_back(cvRound(l[i].x * (1 << shift)), cvRound(l[i].y * (1 << shift)));
  return out;
}
std::vector<cv::Point> range_px(const faces::Landmarks& l, int a, int b, int shift) {
  std::vector<cv::Point> out;
  for (int i = a; i <= b; ++i) out.emplace_back(cvRound(l[i].x * (1 << shift)), cvRound(l[i].y * (1 << shift)));
  return out;
}
faces::Point centroid(const faces::Landmarks& l, int a, int b) {
  faces::Point c(0, 0);
  for (int i = a; i <= b; ++i) c += l[i];
  return c * (1.0 / (b - a + 1));
}

}  // namespace

faces::Landmarks synthetic_frontal_landmarks() {
  faces::Landmarks l(68);
  const auto& t = faces::template_landmarks();
  const auto& idx = faces::template_landmark_indices();
  for (int i = 0; i < 33; ++i) l[idx[i]] = t[i];
  const double cx = 0.490127;
  for (int i = 0; i <= 8; ++i) {
    const double a = (i / 8.0) * (kPi / 2);
    const faces::Point p(cx - 0.52 * std::cos(a), 0.22 + 0.78 * std::sin(a));
    l[i] = p;
    l[16 - i] = faces::Point(2 * cx - p.x, p.y);
  }
  const double mouth[][2] = {{0.340985, 0.745405}, {0.428858, 0.727388}, {0.490127, 0.742578}, {0.551395, 0.727388},
                             {0.639268, 0.745405}, {0.642159, 0.864805}, {0.556721, 0.902192}, {0.490127, 0.909281},
                             {0.423532, 0.902192}, {0.338094, 0.864805}, {0.290379, 0.784792}, {0.428096, 0.778746},
                             {0.490127, 0.785343}, {0.552157, 0.778746}, {0.689874, 0.784792}, {0.553364, 0.824182},
                             {0.490127, 0.831803}, {0.42689, 0.824182}};
  int k = 0;
  for (int i = 49; i < 68; ++i)
    if (i != 54) l[i] = faces::Point(mouth[k][0], mouth[k][1]), ++k;
  return l;
}

cv::Mat draw_synthetic_face(SyntheticIdentity id, uint64_t seed, int index, int size, faces::FaceType type,
                            faces::Landmarks* landmarks, cv::Mat* head_mask) {
  FACET_CHECK(size >= 32, "synthetic faces need at least 32 px, got ", size);
  const Look look = look_of(id);
  // 32 Philox words per image, disjoint between identities.
  const uint64_t base = (static_cast<uint64_t>(index) * 2 + (id == SyntheticIdentity::B ? 1 : 0)) * 32;
  const double roll = uni(seed, base + 0, -12, 12) * kPi / 180, yaw = uni(seed, base + 1, -0.35, 0.35);
  const double scale = uni(seed, base + 2, 0.92, 1.05);
  const double shx = uni(seed, base + 3, -0.04, 0.04), shy = uni(seed, base + 4, -0.04, 0.04);
  const double light_dir = uni(seed, base + 5, 0, 2 * kPi), light_amt = uni(seed, base + 6, 0.05, 0.35);
  const double brightness = uni(seed, base + 7, 0.8, 1.15);
  const double mouth_open = uni(seed, base + 8, 0.0, 1.0);
  const cv::Scalar bg(uni(seed, base + 9, 40, 200), uni(seed, base + 10, 40, 200), uni(seed, base + 11, 40, 200));

  // Landmarks: identity shape (width, mouth), an open mouth, then the pose in template units.
  faces::Landmarks l = synthetic_frontal_landmarks();
  const double cx = 0.490127;
  for (int i = 0; i < 68; ++i) {
    l[i].x = cx + (l[i].x - cx) * look.width;
    if (i >= 48) l[i].x = cx + (l[i].x - cx) * look.mouth_width;
  }
  for (int i = 56; i <= 58; ++i) l[i].y += 0.05 * mouth_open;
  for (int i = 65; i <= 67; ++i) l[i].y += 0.05 * mouth_open;
  for (auto& p : l) {
    // Fake yaw: the face turns about a vertical axis behind the nose: x compresses by cos(yaw)
    // and points nearer the nose line (the nose, the mouth) shift more than the jaw.
    const double depth = 0.25 * std::exp(-std::pow((p.x - cx) / 0.25, 2));
    double x = cx + (p.x - cx) * std::cos(yaw) + depth * std::sin(yaw);
    double y = p.y - 0.5;
    x -= 0.5;
    const double xr = std::cos(roll) * x - std::sin(roll) * y, yr = std::sin(roll) * x + std::cos(roll) * y;
    p = faces::Point(0.5 + xr * scale + shx, 0.5 + yr * scale + shy);
  }
  // Template units -> image pixels for this face type's crop (centre at the image centre).
  const double side = size / faces::face_type_crop_ratio(type);
  for (auto& p : l) p = faces::Point((p.x - 0.5) * side + size / 2.0, (p.y - 0.5) * side + size / 2.0);

  constexpr int S = 4;  // sub-pixel bits for anti-aliased drawing
  cv::Mat img(size, size, CV_8UC3, bg);
  // Background: a vertical gradient so the border is not flat.
  for (int y = 0; y < size; ++y) {
    cv::Mat row = img.row(y);
    row *= 0.75 + 0.5 * y / size;
  }

  // Forehead and hair: points above the brows, raised by a fraction of the face height.
  const double face_h = cv::norm(l[8] - l[27]);
  const faces::Point up = (l[27] - l[8]) * (1.0 / std::max(face_h, 1e-6));
  faces::Landmarks head = l;
  for (int i = 17; i <= 26; ++i) head[i] = l[i] + up * (face_h * 0.28);
  std::vector<cv::Point> skin = to_px(head, {0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 26, 25, 24, 23, 22,
                                             21, 20, 19, 18, 17}, S);
  std::vector<cv::Point> hull;
  cv::convexHull(skin, hull);
  // Hair: a cap above the forehead line, wider than the face.
  faces::Landmarks cap;
  for (int i = 17; i <= 26; ++i) cap.push_back(head[i] + up * (face_h * (0.05 + 0.12 * std::sin(kPi * (i - 17) / 9))));
  cap.push_back(head[26] + up * (face_h * 0.35));
  cap.push_back(head[17] + up * (face_h * 0.35));
  std::vector<cv::Point> cap_px;
  for (const auto& p : cap) cap_px.emplace_back(cvRound(p.x * (1 << S)), cvRound(p.y * (1 << S)));
  cv::fillConvexPoly(img, hull, look.skin, cv::LINE_AA, S);
  std::vector<cv::Point> cap_hull;
  cv::convexHull(cap_px, cap_hull);
  cv::fillConvexPoly(img, cap_hull, look.hair, cv::LINE_AA, S);
  if (head_mask) {  // the skin and the hair cap (the beard lies inside the skin)
    *head_mask = cv::Mat::zeros(size, size, CV_8UC1);
    cv::fillConvexPoly(*head_mask, hull, cv::Scalar(255), cv::LINE_8, S);
    cv::fillConvexPoly(*head_mask, cap_hull, cv::Scalar(255), cv::LINE_8, S);
  }
  if (look.beard) {
    std::vector<cv::Point> beard = to_px(l, {3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 54, 55, 56, 57, 58, 59, 48}, S);
    std::vector<cv::Point> bh;
    cv::convexHull(beard, bh);
    cv::fillConvexPoly(img, bh, look.hair * 0.55, cv::LINE_AA, S);
  }
  // Eyes: white, iris, pupil.
  const int th = std::max(1, cvRound(size * look.brow_thick));
  for (auto [a, b] : {std::pair<int, int>{36, 41}, {42, 47}}) {
    std::vector<cv::Point> eye = range_px(l, a, b, S);
    cv::fillConvexPoly(img, eye, cv::Scalar(235, 235, 235), cv::LINE_AA, S);
    const faces::Point c = centroid(l, a, b);
    const double r = cv::norm(l[a + 3] - l[a]) * 0.22;
    cv::circle(img, cv::Point(cvRound(c.x * (1 << S)), cvRound(c.y * (1 << S))), cvRound(r * (1 << S)), look.iris,
               cv::FILLED, cv::LINE_AA, S);
    cv::circle(img, cv::Point(cvRound(c.x * (1 << S)), cvRound(c.y * (1 << S))), cvRound(r * 0.45 * (1 << S)),
               cv::Scalar(15, 15, 15), cv::FILLED, cv::LINE_AA, S);
  }
  cv::polylines(img, range_px(l, 17, 21, S), false, look.brow, th, cv::LINE_AA, S);
  cv::polylines(img, range_px(l, 22, 26, S), false, look.brow, th, cv::LINE_AA, S);
  // Nose.
  cv::polylines(img, range_px(l, 27, 30, S), false, look.skin * 0.7, std::max(1, th / 2), cv::LINE_AA, S);
  cv::polylines(img, range_px(l, 31, 35, S), false, look.skin * 0.6, std::max(1, th / 2), cv::LINE_AA, S);
  // Mouth: outer lips, inner opening.
  cv::fillPoly(img, std::vector<std::vector<cv::Point>>{range_px(l, 48, 59, S)}, look.lip, cv::LINE_AA, S);
  cv::fillPoly(img, std::vector<std::vector<cv::Point>>{range_px(l, 60, 67, S)}, cv::Scalar(40, 30, 60), cv::LINE_AA, S);

  // Light: brightness times a directional ramp across the image.
  cv::Mat f;
  img.convertTo(f, CV_32FC3);
  const double dx = std::cos(light_dir), dy = std::sin(light_dir);
  for (int y = 0; y < size; ++y) {
    auto* row = f.ptr<cv::Vec3f>(y);
    for (int x = 0; x < size; ++x) {
      const double t = ((x - size / 2.0) * dx + (y - size / 2.0) * dy) / size;  // about -0.7..0.7
      row[x] *= static_cast<float>(brightness * (1.0 + light_amt * 2 * t));
    }
  }
  f.convertTo(img, CV_8UC3);  // saturates
  if (landmarks) *landmarks = l;
  return img;
}

std::vector<std::string> write_synthetic_face_set(const std::string& dir, SyntheticIdentity id,
                                                  const SyntheticFaceSetOptions& opt) {
  FACET_CHECK(opt.count >= 1, "synthetic face set: count must be positive");
  FACET_CHECK(opt.ext == "png" || opt.ext == "jpg", "synthetic face set: ext must be png or jpg");
  std::filesystem::create_directories(dir);
  const std::string source = id == SyntheticIdentity::A ? "synthetic_a.mp4" : "synthetic_b.mp4";
  std::vector<std::string> names;
  for (int i = 0; i < opt.count; ++i) {
    faces::FaceMetadata meta;
    cv::Mat img = draw_synthetic_face(id, opt.seed, i, opt.size, opt.face_type, &meta.landmarks);
    meta.face_type = opt.face_type;
    meta.source_frame = i;
    meta.source_filename = source;
    meta.source_landmarks = meta.landmarks;
    meta.source_rect = {0, 0, static_cast<double>(opt.size), static_cast<double>(opt.size)};
    const std::string name = faces::face_image_name(source, i, 0, opt.ext);
    faces::write_face_image((std::filesystem::path(dir) / name).string(), img, meta);
    names.push_back(name);
  }
  return names;
}

HostFaces synthetic_host_faces(SyntheticIdentity id, int count, int resolution, uint64_t seed, faces::FaceType type) {
  HostFaces f;
  f.dir = id == SyntheticIdentity::A ? "(synthetic A)" : "(synthetic B)";
  f.resolution = resolution;
  f.source_face_type = faces::face_type_name(type);
  for (int i = 0; i < count; ++i) {
    faces::Landmarks l;
    const cv::Mat img = draw_synthetic_face(id, seed, i, resolution, type, &l);
    append_face(f, "synthetic_" + std::to_string(i), img, l);
  }
  return f;
}

}  // namespace facet::train
