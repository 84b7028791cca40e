// Near-duplicate faces (see faceset_dedupe.h).
#include "pipeline/tools/faceset_dedupe.h"

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <limits>
#include <map>

#include <opencv2/core.hpp>
#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>

#include "engine/core/error.h"

namespace facet::tools {

namespace fs = std::filesystem;

namespace {

constexpr int kThumb = 32, kCoarse = 8;

struct Signature {
  cv::Mat thumb;                // 32x32 CV_32FC3
  std::vector<float> coarse;    // 8x8x3 block means of thumb
  double mean = 0;              // over every value of thumb
};

Signature signature(const cv::Mat& thumb) {
  Signature s;
  s.thumb = thumb;
  s.coarse.assign(kCoarse * kCoarse * 3, 0.f);
  const int b = kThumb / kCoarse;
  for (int y = 0; y < kThumb; ++y) {
    const float* p = thumb.ptr<float>(y);
    for (int x = 0; x < kThumb; ++x)
      for (int c = 0; c < 3; ++c) s.coarse[((y / b) * kCoarse + x / b) * 3 + c] += p[x * 3 + c] / float(b * b);
  }
  double sum = 0;
  for (float v : s.coarse) sum += v;
  s.mean = sum / double(s.coarse.size());
  return s;
}

// Mean absolute differences: the 8x8 one never exceeds the 32x32 one (|mean of a block of
// differences| <= mean of their absolute values), so it can reject a pair without the full compare.
double coarse_distance(const Signature& a, const Signature& b) {
  double d = 0;
  for (size_t i = 0; i < a.coarse.size(); ++i) d += std::fabs(double(a.coarse[i]) - b.coarse[i]);
  return d / double(a.coarse.size());
}

}  // namespace

cv::Mat face_thumbnail(const cv::Mat& bgr) {
  FACET_CHECK(!bgr.empty(), "face_thumbnail: empty image");
  cv::Mat c3;
  if (bgr.channels() == 1) cv::cvtColor(bgr, c3, cv::COLOR_GRAY2BGR);
  else if (bgr.channels() == 4) cv::cvtColor(bgr, c3, cv::COLOR_BGRA2BGR);
  else c3 = bgr;
  cv::Mat small, f;
  cv::resize(c3, small, cv::Size(kThumb, kThumb), 0, 0, cv::INTER_AREA);
  small.convertTo(f, CV_32FC3, 1.0 / 255.0);
  return f;
}

double thumbnail_distance(const cv::Mat& a, const cv::Mat& b) {
  FACET_CHECK(a.size() == b.size() && a.type() == b.type(), "thumbnail_distance: thumbnails differ in shape");
  return cv::norm(a, b, cv::NORM_L1) / double(a.total() * a.channels());
}

DedupeResult find_duplicates(const std::string& dir, double threshold, const DedupeProgressFn& progress) {
  FACET_CHECK(threshold >= 0 && threshold < 1, "dedupe threshold must be in [0, 1), got ", threshold);
  const faces::FaceSet set = faces::load_face_set(dir);
  DedupeResult r;
  r.skipped = set.skipped;
  const int64_t n = int64_t(set.faces.size());
  std::vector<Signature> sig(static_cast<size_t>(n));
  std::vector<char> ok(size_t(n), 0);
  // Decoding dominates: do it on all cores, in chunks so progress can be shown.
  for (int64_t lo = 0; lo < n; lo += 64) {
    const int64_t hi = std::min(n, lo + 64);
    cv::parallel_for_(cv::Range(int(lo), int(hi)), [&](const cv::Range& rg) {
      for (int i = rg.start; i < rg.end; ++i) {
        cv::Mat img;
        try {
          img = cv::imread(set.faces[size_t(i)].path, cv::IMREAD_COLOR);
        } catch (const cv::Exception&) {
        }
        if (img.empty()) continue;
        sig[size_t(i)] = signature(face_thumbnail(img));
        ok[size_t(i)] = 1;
      }
    });
    if (progress) progress(hi, n);
  }
  // Kept faces by mean, so only those within `threshold` of a face's mean are looked at.
  std::multimap<double, int64_t> kept;
  for (int64_t i = 0; i < n; ++i) {
    if (!ok[size_t(i)]) {
      r.skipped.push_back({set.faces[size_t(i)].filename, "cannot decode the image"});
      continue;
    }
    ++r.faces;
    const Signature& s = sig[size_t(i)];
    double best = std::numeric_limits<double>::infinity();
    int64_t best_j = -1;
    for (auto it = kept.lower_bound(s.mean - threshold); it != kept.end() && it->first <= s.mean + threshold; ++it) {
      const Signature& t = sig[size_t(it->second)];
      if (coarse_distance(s, t) > threshold) continue;
      const double d = thumbnail_distance(s.thumb, t.thumb);
      if (d <= threshold && (d < best || (d == best && it->second < best_j))) best = d, best_j = it->second;
    }
    if (best_j >= 0) r.duplicates.push_back({set.faces[size_t(i)].filename, set.faces[size_t(best_j)].filename, best});
    else kept.emplace(s.mean, i);
  }
  return r;
}

std::vector<std::string> move_duplicates(const std::string& dir, const std::vector<DuplicateFace>& dups) {
  std::vector<std::string> moved;
  if (dups.empty()) return moved;
  const fs::path bin = fs::path(dir) / "_removed";
  std::error_code ec;
  fs::create_directories(bin, ec);
  FACET_CHECK(!ec, bin.string(), ": cannot create the folder (", ec.message(), ")");
  for (const DuplicateFace& d : dups) {
    const fs::path from = fs::path(dir) / d.filename;
    fs::path to = bin / d.filename;
    for (int k = 1; fs::exists(to); ++k)
      to = bin / (fs::path(d.filename).stem().string() + "-" + std::to_string(k) + fs::path(d.filename).extension().string());
    fs::rename(from, to, ec);
    FACET_CHECK(!ec, from.string(), ": cannot move to ", to.string(), " (", ec.message(), ")");
    moved.push_back(to.string());
  }
  return moved;
}

}  // namespace facet::tools
