// Face set sorting (see faceset_sort.h).
#include "pipeline/tools/faceset_sort.h"

#include <algorithm>
#include <cctype>
#include <cmath>
#include <filesystem>
#include <limits>
#include <map>
#include <set>

#include <opencv2/core.hpp>
#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>

#include "engine/core/error.h"
#include "pipeline/faces/alignments.h"
#include "pipeline/faces/landmark_masks.h"
#include "pipeline/faces/pose.h"

namespace facet::tools {

namespace fs = std::filesystem;

namespace {

constexpr int kHistBins = 64;  // per channel; DFL uses 256, 64 orders the same and is 4x cheaper

// Runs fn(i) for i in [0, n) on all cores, in chunks so progress can be reported between them.
void parallel_chunks(int64_t n, const std::function<void(int64_t)>& fn, const SortProgressFn& progress) {
  const int64_t chunk = 64;
  for (int64_t lo = 0; lo < n; lo += chunk) {
    const int64_t hi = std::min(n, lo + chunk);
    cv::parallel_for_(cv::Range(int(lo), int(hi)), [&](const cv::Range& r) {
      for (int i = r.start; i < r.end; ++i) fn(i);
    });
    if (progress) progress(hi, n);
  }
}

// sqrt of the normalized per-channel histograms, so the Bhattacharyya coefficient is a dot product.
std::vector<float> sqrt_histogram(const cv::Mat& bgr) {
  std::vector<float> h(3 * kHistBins, 0.f);
  const int ch = bgr.channels();
  for (int y = 0; y < bgr.rows; ++y) {
    const uint8_t* p = bgr.ptr<uint8_t>(y);
    for (int x = 0; x < bgr.cols; ++x)
      for (int c = 0; c < 3; ++c) h[c * kHistBins + p[x * ch + std::min(c, ch - 1)] * kHistBins / 256] += 1.f;
  }
  const float n = float(std::max(1, bgr.rows * bgr.cols));
  for (float& v : h) v = std::sqrt(v / n);
  return h;
}

// Sum over the channels of the Bhattacharyya distance sqrt(1 - BC), as DFL's sort_by_hist sums
// cv2.compareHist(..., HISTCMP_BHATTACHARYYA) over b, g, r.
double hist_distance(const std::vector<float>& a, const std::vector<float>& b) {
  double d = 0;
  for (int c = 0; c < 3; ++c) {
    double bc = 0;
    for (int i = 0; i < kHistBins; ++i) bc += double(a[c * kHistBins + i]) * b[c * kHistBins + i];
    d += std::sqrt(std::max(0.0, 1.0 - bc));
  }
  return d;
}

bool has_digit_prefix(const std::string& name, size_t* len) {
  size_t i = 0;
  while (i < name.size() && std::isdigit(static_cast<unsigned char>(name[i]))) ++i;
  if (i >= 5 && i + 1 < name.size() && name[i] == '_') {
    *len = i + 1;
    return true;
  }
  return false;
}

std::string ext_of(const std::string& name) {
  std::string e = fs::path(name).extension().string();
  if (!e.empty()) e.erase(0, 1);
  return e;
}

}  // namespace

SortKey parse_sort_key(const std::string& name) {
  if (name == "blur") return SortKey::Blur;
  if (name == "yaw") return SortKey::Yaw;
  if (name == "pitch") return SortKey::Pitch;
  if (name == "hist") return SortKey::Hist;
  if (name == "face-size" || name == "face_size") return SortKey::FaceSize;
  throw Error("unknown sort key '" + name + "' (use blur, yaw, pitch, hist or face-size)");
}

std::string sort_key_name(SortKey k) {
  switch (k) {
    case SortKey::Blur: return "blur";
    case SortKey::Yaw: return "yaw";
    case SortKey::Pitch: return "pitch";
    case SortKey::Hist: return "hist";
    case SortKey::FaceSize: return "face-size";
  }
  return "?";
}

double blur_score(const cv::Mat& bgr, const faces::Landmarks& landmarks, double eyebrows_expand_mod) {
  FACET_CHECK(!bgr.empty(), "blur_score: empty image");
  cv::Mat gray;
  if (bgr.channels() == 3) cv::cvtColor(bgr, gray, cv::COLOR_BGR2GRAY);
  else if (bgr.channels() == 4) cv::cvtColor(bgr, gray, cv::COLOR_BGRA2GRAY);
  else gray = bgr;
  cv::Mat lap;
  cv::Laplacian(gray, lap, CV_64F);
  cv::Mat mask;
  if (landmarks.size() == 68) {
    cv::Mat hull = faces::hull_mask(gray.size(), landmarks, eyebrows_expand_mod);
    hull.convertTo(mask, CV_8U, 255.0);
    const int k = std::max(3, (std::min(gray.rows, gray.cols) / 32) | 1);
    cv::erode(mask, mask, cv::getStructuringElement(cv::MORPH_ELLIPSE, cv::Size(k, k)));
    if (cv::countNonZero(mask) < 16) mask.release();
  }
  cv::Scalar mean, stddev;
  cv::meanStdDev(lap, mean, stddev, mask);
  return stddev[0] * stddev[0];
}

std::string strip_sort_prefix(const std::string& filename, const faces::FaceMetadata& meta) {
  if (filename == faces::face_image_name(meta.source_filename, meta.source_frame, meta.face_index, ext_of(filename)))
    return filename;
  size_t len = 0;
  return has_digit_prefix(filename, &len) ? filename.substr(len) : filename;
}

SortResult sort_face_set(const std::string& dir, SortKey key, bool reverse, const SortProgressFn& progress) {
  faces::FaceSet set = faces::load_face_set(dir);
  SortResult r;
  r.key = key;
  r.skipped = set.skipped;
  const int64_t n = int64_t(set.faces.size());
  std::vector<double> value(size_t(n), 0.0);
  std::vector<std::string> error(static_cast<size_t>(n));
  std::vector<std::vector<float>> hists(key == SortKey::Hist ? size_t(n) : 0);

  if (key == SortKey::Blur || key == SortKey::Hist) {
    parallel_chunks(
        n,
        [&](int64_t i) {
          const faces::FaceSetEntry& e = set.faces[size_t(i)];
          cv::Mat img;
          try {
            img = cv::imread(e.path, cv::IMREAD_COLOR);
          } catch (const cv::Exception&) {
          }
          if (img.empty()) {
            error[size_t(i)] = "cannot decode the image";
            return;
          }
          if (key == SortKey::Blur) {
            // Landmarks are in the face image's pixels at the size stored in the metadata.
            faces::Landmarks l = e.meta.landmarks;
            if (e.meta.width > 0 && e.meta.width != img.cols)
              for (auto& p : l) p = faces::Point(p.x * img.cols / e.meta.width, p.y * img.rows / e.meta.height);
            value[size_t(i)] = blur_score(img, l, e.meta.eyebrows_expand_mod);
          } else {
            hists[size_t(i)] = sqrt_histogram(img);
          }
        },
        progress);
  } else {
    for (int64_t i = 0; i < n; ++i) {
      const faces::FaceMetadata& m = set.faces[size_t(i)].meta;
      if (key == SortKey::FaceSize) {
        const auto& rc = m.source_rect;
        value[size_t(i)] = std::fabs((rc[2] - rc[0]) * (rc[3] - rc[1]));
      } else if (m.landmarks.size() == 68) {
        const faces::Pose p = faces::estimate_pitch_yaw_roll(m.landmarks, m.width > 0 ? m.width : 256);
        value[size_t(i)] = key == SortKey::Yaw ? p.yaw : p.pitch;
      } else {
        error[size_t(i)] = "no 68 landmarks in the metadata";
      }
    }
  }

  std::vector<int64_t> idx;
  for (int64_t i = 0; i < n; ++i) {
    if (error[size_t(i)].empty()) idx.push_back(i);
    else r.skipped.push_back({set.faces[size_t(i)].filename, error[size_t(i)]});
  }

  if (key == SortKey::Hist) {
    // DFL's greedy chain: position i+1 gets the remaining face closest to the face at position i.
    const size_t m = idx.size();
    for (size_t i = 0; i + 1 < m; ++i) {
      const auto& hi = hists[size_t(idx[i])];
      size_t best = i + 1;
      double best_d = std::numeric_limits<double>::infinity();
      for (size_t j = i + 1; j < m; ++j) {
        const double d = hist_distance(hi, hists[size_t(idx[j])]);
        if (d < best_d) best_d = d, best = j;
      }
      std::swap(idx[i + 1], idx[best]);
      value[size_t(idx[i + 1])] = best_d;
      if (progress && (i % 64 == 0 || i + 2 == m)) progress(int64_t(i + 2), int64_t(m));
    }
    if (reverse) std::reverse(idx.begin(), idx.end());
  } else {
    // Largest first (DFL sorts these with reverse=True); ties keep name order.
    std::stable_sort(idx.begin(), idx.end(), [&](int64_t a, int64_t b) {
      return reverse ? value[size_t(a)] < value[size_t(b)] : value[size_t(a)] > value[size_t(b)];
    });
  }

  // Bases must stay unique, or two faces would get names differing only in the prefix and a later
  // sort could not tell them apart: when stripping makes two names equal, both keep their full name.
  std::map<std::string, int> base_count;
  std::vector<std::string> base(static_cast<size_t>(n));
  for (int64_t i : idx) {
    base[size_t(i)] = strip_sort_prefix(set.faces[size_t(i)].filename, set.faces[size_t(i)].meta);
    ++base_count[base[size_t(i)]];
  }
  for (int64_t i : idx) {
    const faces::FaceSetEntry& e = set.faces[size_t(i)];
    const std::string& b = base[size_t(i)];
    r.order.push_back({e.filename, value[size_t(i)], base_count[b] > 1 ? e.filename : b});
  }
  return r;
}

std::vector<std::pair<std::string, std::string>> plan_sort_renames(const std::vector<SortedFace>& order) {
  int width = 5;
  for (size_t n = order.size(); n >= 100000; n /= 10) ++width;
  std::vector<std::pair<std::string, std::string>> plan;
  for (size_t i = 0; i < order.size(); ++i) {
    std::string pos = std::to_string(i);
    pos.insert(0, size_t(std::max(0, width - int(pos.size()))), '0');
    std::string to = pos + "_" + order[i].base;
    if (to != order[i].filename) plan.emplace_back(order[i].filename, std::move(to));
  }
  return plan;
}

RenameReport apply_renames(const std::string& dir, const std::vector<std::pair<std::string, std::string>>& renames) {
  RenameReport rep;
  if (renames.empty()) return rep;
  std::set<std::string> sources, targets;
  for (const auto& [from, to] : renames) {
    FACET_CHECK(from.find('/') == std::string::npos && to.find('/') == std::string::npos && !to.empty(),
                "rename: file names only, got '", from, "' -> '", to, "'");
    FACET_CHECK(fs::exists(fs::path(dir) / from), dir, "/", from, ": missing (the folder changed while sorting?)");
    FACET_CHECK(sources.insert(from).second, "rename: '", from, "' listed twice");
    FACET_CHECK(targets.insert(to).second, "rename: two files would be named '", to, "'");
  }
  // A target may be the current name of another file: of one that is renamed too (then go through
  // temporary names), or of one that is not (then refuse: it would be overwritten).
  bool clash = false;
  for (const std::string& t : targets) {
    if (!fs::exists(fs::path(dir) / t)) continue;
    FACET_CHECK(sources.count(t), dir, "/", t, ": exists and is not part of the face set; not overwriting it");
    clash = true;
  }
  auto move = [&](const std::string& a, const std::string& b) {
    std::error_code ec;
    fs::rename(fs::path(dir) / a, fs::path(dir) / b, ec);
    FACET_CHECK(!ec, dir, "/", a, ": cannot rename to ", b, " (", ec.message(), ")");
  };
  if (clash) {
    std::vector<std::string> tmp;
    for (size_t i = 0; i < renames.size(); ++i) {
      tmp.push_back("facet-sort-tmp-" + std::to_string(i) + "-" + renames[i].first);
      move(renames[i].first, tmp.back());
    }
    for (size_t i = 0; i < renames.size(); ++i) move(tmp[i], renames[i].second), ++rep.renamed;
  } else {
    for (const auto& [from, to] : renames) move(from, to), ++rep.renamed;
  }

  // Alignments files name the face images; merge drops faces whose file is gone, so follow the renames.
  std::map<std::string, std::string> map(renames.begin(), renames.end());
  std::error_code ec;
  std::vector<fs::path> files;
  for (const auto& de : fs::directory_iterator(dir, ec)) {
    const std::string name = de.path().filename().string();
    const std::string suffix = ".alignments.json";
    if (name.size() > suffix.size() && name.compare(name.size() - suffix.size(), suffix.size(), suffix) == 0)
      files.push_back(de.path());
  }
  std::sort(files.begin(), files.end());
  for (const fs::path& p : files) {
    try {
      faces::Alignments a = faces::load_alignments(p.string());
      bool changed = false;
      for (auto& fr : a.frames)
        for (auto& f : fr.faces)
          if (auto it = map.find(f.file); it != map.end()) f.file = it->second, changed = true;
      if (changed) {
        faces::save_alignments(p.string(), a);
        rep.alignments_updated.push_back(p.filename().string());
      }
    } catch (const Error& e) {
      rep.warnings.push_back(std::string(e.what()) + " (not updated to the new names)");
    }
  }
  return rep;
}

}  // namespace facet::tools
