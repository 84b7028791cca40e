// Decoding face folders into training memory (see training_faces.h).
#include "pipeline/train/training_faces.h"

#include "pipeline/faces/pose.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <filesystem>
#include <mutex>

#include <nlohmann/json.hpp>
#include <opencv2/core.hpp>
#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>

#include "engine/core/error.h"
#include "engine/io/read_file.h"
#include "pipeline/faces/align.h"
#include "pipeline/faces/background_fill.h"
#include "pipeline/faces/face_image.h"
#include "pipeline/faces/landmark_masks.h"
#include "pipeline/video/image_folder.h"

namespace facet::train {

namespace fs = std::filesystem;
using nlohmann::json;

namespace {

// The share of the face square a landmark hull is shrunk by before the source backdrop is
// filled (training_faces.h: fill_outside_mask). The hull's jaw line sits up to about this far
// outside a turned face (measured on the demo's source faces at 64 px: 3 to 5 px).
constexpr double kHullFillErosion = 1.0 / 12.0;

struct Candidate {
  std::string path, name;
  faces::FaceType type;
  faces::Landmarks landmarks;  // in the stored image's pixels
  double eyebrows_expand_mod = 1.0;
  std::vector<uint8_t> xseg_mask;  // the learned mask stored with the face (encoded), if any
  std::vector<faces::SegPolygon> polygons;  // drawn labels, if any
};

// Aligned images + landmarks.json: every listed image that exists is a candidate.
std::vector<Candidate> sidecar_candidates(const std::string& dir, std::vector<faces::SkippedFile>& skipped) {
  const std::string sidecar = (fs::path(dir) / kLandmarksSidecar).string();
  json j;
  try {
    j = json::parse(read_text_file(sidecar));
  } catch (const json::exception& e) {
    throw Error(detail::concat(sidecar, ": not valid JSON (", e.what(), ")"));
  }
  FACET_CHECK(j.is_object() && j.contains("faces") && j["faces"].is_object(), sidecar,
              ": expected {\"face_type\": ..., \"faces\": {\"image.png\": [[x, y] x 68], ...}}");
  const faces::FaceType type =
      faces::parse_face_type(j.value("face_type", std::string(faces::face_type_name(faces::FaceType::WholeFace))));
  std::vector<std::string> names;
  for (auto it = j["faces"].begin(); it != j["faces"].end(); ++it) names.push_back(it.key());
  std::sort(names.begin(), names.end(), video::natural_less);
  std::vector<Candidate> out;
  for (const std::string& name : names) {
    const json& pts = j["faces"][name];
    if (!pts.is_array() || pts.size() != 68) {
      skipped.push_back({name, "landmarks.json: expected 68 [x, y] points"});
      continue;
    }
    Candidate c{(fs::path(dir) / name).string(), name, type, {}, 1.0, {}, {}};
    bool ok = true;
    for (const json& p : pts) {
      if (!p.is_array() || p.size() != 2 || !p[0].is_number() || !p[1].is_number()) {
        ok = false;
        break;
      }
      c.landmarks.emplace_back(p[0].get<double>(), p[1].get<double>());
    }
    if (!ok) {
      skipped.push_back({name, "landmarks.json: a landmark is not an [x, y] pair of numbers"});
      continue;
    }
    out.push_back(std::move(c));
  }
  return out;
}

std::vector<Candidate> faceset_candidates(const std::string& dir, std::vector<faces::SkippedFile>& skipped) {
  faces::FaceSet set = faces::load_face_set(dir);
  skipped.insert(skipped.end(), set.skipped.begin(), set.skipped.end());
  std::vector<Candidate> out;
  for (auto& f : set.faces)
    out.push_back({f.path, f.filename, f.meta.face_type, f.meta.landmarks, f.meta.eyebrows_expand_mod,
                   std::move(f.meta.xseg_mask), std::move(f.meta.seg_polygons)});
  return out;
}

// DFL SampleProcessor: same face type -> cv2.resize (cubic); otherwise warpAffine with
// get_transform_mat(landmarks, R, type) (cubic, replicate). Returns the landmarks at R.
// `img` may also be the face's learned mask, brought to the image's size first (then linear and a
// zero border instead).
faces::Landmarks to_training_crop(const cv::Mat& img, const Candidate& c, const LoadFacesOptions& opt, cv::Mat& out,
                                  int interpolation = cv::INTER_CUBIC, int border = cv::BORDER_REPLICATE) {
  const int R = opt.resolution;
  if (c.type == opt.face_type) {
    cv::resize(img, out, cv::Size(R, R), 0, 0, interpolation);
    const double sx = static_cast<double>(R) / img.cols, sy = static_cast<double>(R) / img.rows;
    faces::Landmarks l;
    for (const auto& p : c.landmarks) l.emplace_back(p.x * sx, p.y * sy);
    return l;
  }
  const faces::Affine m = faces::get_transform_mat(c.landmarks, R, opt.face_type);
  cv::warpAffine(img, out, cv::Mat(m), cv::Size(R, R), interpolation, border, cv::Scalar::all(0));
  return faces::transform_points(c.landmarks, m);
}

// A mask spanning the whole face image (8-bit, any size: DFL stores xseg_mask smaller) as a
// training crop, R x R CV_32FC1 in [0, 1]: resized to the image, then the image's crop (linear,
// zero border).
cv::Mat mask_training_crop(const cv::Mat& full_u8, cv::Size image_size, const Candidate& c, const LoadFacesOptions& opt) {
  cv::Mat full, crop;
  full_u8.convertTo(full, CV_32F, 1.0 / 255.0);
  if (full.size() != image_size) cv::resize(full, full, image_size, 0, 0, cv::INTER_LINEAR);
  to_training_crop(full, c, opt, crop, cv::INTER_LINEAR, cv::BORDER_CONSTANT);
  cv::min(cv::max(crop, 0.0), 1.0, crop);
  return crop;
}

// The face's stored learned mask as a training crop, or an empty Mat when it has none.
cv::Mat learned_training_mask(const Candidate& c, cv::Size image_size, const LoadFacesOptions& opt) {
  if (c.xseg_mask.empty()) return cv::Mat();
  faces::FaceMetadata m;
  m.xseg_mask = c.xseg_mask;
  return mask_training_crop(faces::decode_xseg_mask(m, c.path), image_size, c, opt);
}

// The face's drawn polygons as a training crop of 0 and 1: drawn at the image's size, cropped and
// binarised at 0.5, as DFL's XSeg sample generator does with its labels.
cv::Mat polygon_training_mask(const Candidate& c, cv::Size image_size, const LoadFacesOptions& opt) {
  cv::Mat crop = mask_training_crop(faces::seg_polygons_mask(image_size, c.polygons), image_size, c, opt);
  cv::threshold(crop, crop, 0.5, 1.0, cv::THRESH_BINARY);
  return crop;
}

// Copies an R x R BGR crop and draws its masks into the given slots. The face mask is the
// learned one when the face carries it (DFL SampleProcessor's get_full_face_mask), else the hull.
void fill_face(const cv::Mat& crop, const faces::Landmarks& l, double eyebrows_expand_mod, int R, uint8_t* bgr,
               float* mask, float* em, const cv::Mat& learned = cv::Mat()) {
  FACET_CHECK(crop.type() == CV_8UC3 && crop.rows == R && crop.cols == R, "expected a ", R, "x", R,
              " BGR 8-bit face, got ", crop.cols, "x", crop.rows, " type ", crop.type());
  FACET_CHECK(l.size() == 68, "expected 68 landmarks, got ", l.size());
  for (int y = 0; y < R; ++y) std::memcpy(bgr + static_cast<size_t>(y) * R * 3, crop.ptr<uint8_t>(y), static_cast<size_t>(R) * 3);
  cv::Mat hull = learned.empty() ? faces::hull_mask(cv::Size(R, R), l, eyebrows_expand_mod) : learned.clone();
  cv::Mat eyes_mouth = faces::eye_mask(cv::Size(R, R), l) + faces::mouth_mask(cv::Size(R, R), l);
  cv::min(eyes_mouth, 1.0, eyes_mouth);
  for (const cv::Mat* m : {&hull, &eyes_mouth})
    FACET_CHECK(m->type() == CV_32FC1 && m->isContinuous() && m->rows == R && m->cols == R,
                "landmark mask has an unexpected format");
  std::memcpy(mask, hull.ptr<float>(), static_cast<size_t>(R) * R * sizeof(float));
  std::memcpy(em, eyes_mouth.ptr<float>(), static_cast<size_t>(R) * R * sizeof(float));
}

}  // namespace

void append_face(HostFaces& f, const std::string& name, const cv::Mat& bgr, const faces::Landmarks& lmrks,
                 double eyebrows_expand_mod) {
  const int R = f.resolution;
  const size_t px = static_cast<size_t>(R) * R;
  const size_t n = f.names.size();
  f.bgr.resize((n + 1) * px * 3);
  f.mask.resize((n + 1) * px);
  f.eyes_mouth.resize((n + 1) * px);
  fill_face(bgr, lmrks, eyebrows_expand_mod, R, &f.bgr[n * px * 3], &f.mask[n * px], &f.eyes_mouth[n * px]);
  f.yaw.push_back(static_cast<float>(faces::estimate_pitch_yaw_roll(lmrks, R).yaw));
  f.names.push_back(name);
}

HostFaces load_training_faces(const std::string& dir, const LoadFacesOptions& opt) {
  FACET_CHECK(fs::is_directory(dir), dir, ": face folder does not exist or is not a folder");
  FACET_CHECK(opt.resolution >= 16, "training resolution ", opt.resolution, " is too small");
  HostFaces hf;
  hf.dir = dir;
  hf.resolution = opt.resolution;
  const bool sidecar = fs::exists(fs::path(dir) / kLandmarksSidecar);
  std::vector<Candidate> cands = sidecar ? sidecar_candidates(dir, hf.skipped) : faceset_candidates(dir, hf.skipped);

  const int R = opt.resolution;
  const size_t img_px = static_cast<size_t>(R) * R;
  const size_t n = cands.size();
  std::vector<uint8_t> bgr(n * img_px * 3);
  std::vector<float> mask(n * img_px), em(n * img_px), yaw(n);
  std::vector<std::string> error(n);  // empty = decoded
  std::vector<char> learned_used(n, 0), unlabelled(n, 0);
  auto work = [&](const cv::Range& range) {
    for (int i = range.start; i < range.end; ++i) {
      const Candidate& c = cands[static_cast<size_t>(i)];
      if (opt.mask_source == FaceMaskSource::Polygons && c.polygons.empty()) {
        unlabelled[static_cast<size_t>(i)] = 1;
        continue;
      }
      try {
        FACET_CHECK(c.landmarks.size() == 68, "expected 68 landmarks, got ", c.landmarks.size());
        cv::Mat img = cv::imread(c.path, cv::IMREAD_COLOR);
        FACET_CHECK(!img.empty(), "cannot be decoded (missing, unreadable or corrupt image data)");
        cv::Mat crop;
        const faces::Landmarks l = to_training_crop(img, c, opt, crop);
        const cv::Mat learned = opt.mask_source == FaceMaskSource::Polygons ? polygon_training_mask(c, img.size(), opt)
                                : opt.mask_source == FaceMaskSource::Hull   ? cv::Mat()
                                                                            : learned_training_mask(c, img.size(), opt);
        fill_face(crop, l, c.eyebrows_expand_mod, R, &bgr[static_cast<size_t>(i) * img_px * 3],
                  &mask[static_cast<size_t>(i) * img_px], &em[static_cast<size_t>(i) * img_px], learned);
        learned_used[static_cast<size_t>(i)] = !learned.empty();
        if (opt.fill_outside_mask) {
          cv::Mat face(R, R, CV_8UC3, &bgr[static_cast<size_t>(i) * img_px * 3]);
          // Under the hull, also the band inside its edge, where backdrop may lie.
          faces::fill_outside_mask(face, cv::Mat(R, R, CV_32FC1, &mask[static_cast<size_t>(i) * img_px]),
                                   learned.empty() ? static_cast<int>(std::lround(R * kHullFillErosion)) : 0);
        }
        yaw[static_cast<size_t>(i)] = static_cast<float>(faces::estimate_pitch_yaw_roll(l, R).yaw);
      } catch (const Error& e) {
        error[static_cast<size_t>(i)] = e.what();
      } catch (const cv::Exception& e) {
        error[static_cast<size_t>(i)] = std::string("OpenCV: ") + e.what();
      }
    }
  };
  if (opt.threads == 1)
    work(cv::Range(0, static_cast<int>(n)));
  else
    cv::parallel_for_(cv::Range(0, static_cast<int>(n)), work, opt.threads > 0 ? opt.threads : -1);

  // Compact: keep decoded faces in load order, report the rest by name.
  size_t k = 0;
  for (size_t i = 0; i < n; ++i) {
    if (unlabelled[i]) {
      ++hf.unlabelled;
      continue;
    }
    if (!error[i].empty()) {
      hf.skipped.push_back({cands[i].name, error[i]});
      continue;
    }
    if (k != i) {
      std::memmove(&bgr[k * img_px * 3], &bgr[i * img_px * 3], img_px * 3);
      std::memmove(&mask[k * img_px], &mask[i * img_px], img_px * sizeof(float));
      std::memmove(&em[k * img_px], &em[i * img_px], img_px * sizeof(float));
    }
    hf.names.push_back(cands[i].name);
    hf.yaw.push_back(yaw[i]);
    hf.learned_masks += learned_used[i] && opt.mask_source == FaceMaskSource::LearnedElseHull;
    if (hf.source_face_type.empty()) hf.source_face_type = faces::face_type_name(cands[i].type);
    ++k;
  }
  bgr.resize(k * img_px * 3), mask.resize(k * img_px), em.resize(k * img_px);
  hf.bgr = std::move(bgr), hf.mask = std::move(mask), hf.eyes_mouth = std::move(em);
  if (k == 0 && hf.unlabelled == 0) {
    std::string why;
    for (size_t i = 0; i < hf.skipped.size() && i < 5; ++i)
      why += "\n  " + hf.skipped[i].filename + ": " + hf.skipped[i].reason;
    throw Error(detail::concat(dir, ": no usable face image (", hf.skipped.size(), " skipped)", why,
                               sidecar ? "" : "\n(a folder of aligned images needs a landmarks.json sidecar)"));
  }
  return hf;
}

namespace {
constexpr int64_t kBankBytesPerPixel = 3 + 2 * static_cast<int64_t>(sizeof(float));  // BGR u8 + two f32 masks
}  // namespace

const char* placement_name(BankPlacement p) {
  switch (p) {
    case BankPlacement::Device: return "device memory";
    case BankPlacement::PinnedHost: return "pinned host memory";
    case BankPlacement::Host: return "host memory (CPU augmentation)";
  }
  return "?";
}

TrainingBank make_training_bank(Context& ctx, const HostFaces& f, bool allow_host_fallback, bool force_host) {
  TrainingBank tb;
  const int64_t R = f.resolution;
  tb.bytes = f.size() * R * R * kBankBytesPerPixel;
  const Device dev = ctx.device();
  const uint8_t* bgr = f.bgr.data();
  const float *mask = f.mask.data(), *em = f.eyes_mouth.data();
  if (!force_host || dev.is_cpu()) {
    try {
      tb.bank = FaceBank::from_u8(ctx, dev, bgr, f.size(), R, mask, em);
      tb.placement = BankPlacement::Device;
      return tb;
    } catch (const std::exception&) {
      if (dev.is_cpu() || !allow_host_fallback) throw;
    }
  }
  try {
    tb.bank = FaceBank::from_u8_mapped(ctx, bgr, f.size(), R, mask, em);
    tb.placement = BankPlacement::PinnedHost;
    return tb;
  } catch (const std::exception&) {
    // e.g. RLIMIT_MEMLOCK in a container: fall through to pageable memory and CPU batches
  }
  return make_host_training_bank(ctx, f);
}

TrainingBank make_host_training_bank(Context& ctx, const HostFaces& f) {
  TrainingBank tb;
  const int64_t R = f.resolution;
  tb.bytes = f.size() * R * R * kBankBytesPerPixel;
  tb.bank = FaceBank::from_u8(ctx, Device::cpu(), f.bgr.data(), f.size(), R, f.mask.data(), f.eyes_mouth.data());
  tb.placement = BankPlacement::Host;
  return tb;
}

}  // namespace facet::train
