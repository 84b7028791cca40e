// Loss CSV and loss-curve PNG (see loss_history.h).
#include "pipeline/train/loss_history.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <sstream>

#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>

#include "engine/core/error.h"
#include "engine/io/atomic_file.h"

namespace facet::train {

namespace fs = std::filesystem;

void LossHistory::open(const std::string& path, int64_t valid_bytes, const LossSeriesNames& names) {
  path_ = path;
  rows_.clear();
  if (valid_bytes < 0 || !fs::exists(path)) {
    const std::string header = "iteration," + names.first + "_loss," + names.second + "_loss\n";
    write_string_atomically(path, header);
    bytes_ = static_cast<int64_t>(header.size());
    return;
  }
  const int64_t size = static_cast<int64_t>(fs::file_size(path));
  if (size > valid_bytes) fs::resize_file(path, static_cast<uintmax_t>(valid_bytes));
  std::ifstream in(path);
  FACET_CHECK(in.good(), path, ": cannot be read");
  std::string line;
  std::getline(in, line);  // header
  while (std::getline(in, line)) {
    LossRow r{};
    char* end = nullptr;
    r.iteration = std::strtoll(line.c_str(), &end, 10);
    if (*end != ',') continue;
    r.src = std::strtof(end + 1, &end);
    if (*end != ',') continue;
    r.dst = std::strtof(end + 1, &end);
    rows_.push_back(r);
  }
  bytes_ = static_cast<int64_t>(fs::file_size(path));
}

void LossHistory::append(const std::vector<LossRow>& rows) {
  if (rows.empty()) return;
  std::string text;
  char buf[96];
  for (const LossRow& r : rows) {
    std::snprintf(buf, sizeof buf, "%lld,%.9g,%.9g\n", static_cast<long long>(r.iteration), r.src, r.dst);
    text += buf;
  }
  std::FILE* f = std::fopen(path_.c_str(), "ab");
  FACET_CHECK(f, path_, ": cannot be opened for appending");
  const size_t n = std::fwrite(text.data(), 1, text.size(), f);
  const bool ok = n == text.size() && std::fflush(f) == 0;
  std::fclose(f);
  FACET_CHECK(ok, path_, ": write failed (disk full?)");
  bytes_ += static_cast<int64_t>(text.size());
  rows_.insert(rows_.end(), rows.begin(), rows.end());
}

cv::Mat draw_loss_curve(const std::vector<LossRow>& rows, int64_t target_iter, int width, int height,
                        const LossSeriesNames& names) {
  cv::Mat img(height, width, CV_8UC3, cv::Scalar(255, 255, 255));
  const int left = 70, right = 20, top = 30, bottom = 45;
  const int pw = width - left - right, ph = height - top - bottom;
  const cv::Scalar axis(60, 60, 60), grid(225, 225, 225), src_col(200, 90, 20), dst_col(30, 30, 210);
  cv::putText(img, "loss (log scale) vs iteration", cv::Point(left, 20), cv::FONT_HERSHEY_SIMPLEX, 0.5, axis, 1,
              cv::LINE_AA);
  const int second_x = width - 15 - 11 * static_cast<int>(names.second.size());
  cv::putText(img, names.first, cv::Point(second_x - 20 - 11 * static_cast<int>(names.first.size()), 20),
              cv::FONT_HERSHEY_SIMPLEX, 0.5, src_col, 2, cv::LINE_AA);
  cv::putText(img, names.second, cv::Point(second_x, 20), cv::FONT_HERSHEY_SIMPLEX, 0.5, dst_col, 2, cv::LINE_AA);
  cv::rectangle(img, cv::Rect(left, top, pw, ph), axis, 1);
  if (rows.empty()) return img;

  // Bucket means: at most one point per pixel column.
  const int64_t first = rows.front().iteration, last = std::max(rows.back().iteration, first + 1);
  const int64_t x_max = std::max(last, target_iter);
  struct Acc { double s = 0, d = 0; int ns = 0, nd = 0; };
  std::vector<Acc> acc(static_cast<size_t>(pw));
  double lo = 1e30, hi = -1e30;
  for (const LossRow& r : rows) {
    const int col = static_cast<int>(std::min<int64_t>(pw - 1, (r.iteration - first) * (pw - 1) / std::max<int64_t>(1, x_max - first)));
    Acc& a = acc[static_cast<size_t>(col)];
    if (std::isfinite(r.src) && r.src > 0) a.s += r.src, ++a.ns;
    if (std::isfinite(r.dst) && r.dst > 0) a.d += r.dst, ++a.nd;
  }
  for (const Acc& a : acc) {
    if (a.ns) lo = std::min(lo, a.s / a.ns), hi = std::max(hi, a.s / a.ns);
    if (a.nd) lo = std::min(lo, a.d / a.nd), hi = std::max(hi, a.d / a.nd);
  }
  if (!(lo < 1e30)) return img;
  double llo = std::floor(std::log10(lo) * 4) / 4, lhi = std::ceil(std::log10(hi) * 4) / 4;
  if (lhi - llo < 0.25) lhi = llo + 0.25;
  auto y_of = [&](double v) { return top + ph - static_cast<int>((std::log10(v) - llo) / (lhi - llo) * ph); };
  // Horizontal grid at 1, 2, 5 x 10^k.
  for (int k = static_cast<int>(std::floor(llo)); k <= static_cast<int>(std::ceil(lhi)); ++k)
    for (double m : {1.0, 2.0, 5.0}) {
      const double v = m * std::pow(10.0, k);
      if (std::log10(v) < llo || std::log10(v) > lhi) continue;
      const int y = y_of(v);
      cv::line(img, cv::Point(left + 1, y), cv::Point(left + pw - 1, y), grid, 1);
      char buf[32];
      std::snprintf(buf, sizeof buf, "%.3g", v);
      cv::putText(img, buf, cv::Point(5, y + 4), cv::FONT_HERSHEY_SIMPLEX, 0.4, axis, 1, cv::LINE_AA);
    }
  for (int t = 0; t <= 4; ++t) {
    const int x = left + t * (pw - 1) / 4;
    char buf[32];
    std::snprintf(buf, sizeof buf, "%lld", static_cast<long long>(first + (x_max - first) * t / 4));
    cv::putText(img, buf, cv::Point(x - 15, top + ph + 18), cv::FONT_HERSHEY_SIMPLEX, 0.4, axis, 1, cv::LINE_AA);
  }
  if (target_iter > first) {
    const int x = left + static_cast<int>((target_iter - first) * (pw - 1) / std::max<int64_t>(1, x_max - first));
    for (int y = top; y < top + ph; y += 8) cv::line(img, cv::Point(x, y), cv::Point(x, y + 4), axis, 1);
  }
  cv::putText(img, "iteration", cv::Point(left + pw / 2 - 30, height - 8), cv::FONT_HERSHEY_SIMPLEX, 0.45, axis, 1,
              cv::LINE_AA);
  auto plot = [&](bool src, const cv::Scalar& col) {
    cv::Point prev(-1, -1);
    for (int c = 0; c < pw; ++c) {
      const Acc& a = acc[static_cast<size_t>(c)];
      const int n = src ? a.ns : a.nd;
      if (!n) continue;
      const cv::Point p(left + c, y_of((src ? a.s : a.d) / n));
      if (prev.x >= 0) cv::line(img, prev, p, col, 1, cv::LINE_AA);
      else cv::circle(img, p, 1, col, cv::FILLED);
      prev = p;
    }
  };
  plot(true, src_col);
  plot(false, dst_col);
  return img;
}

void write_loss_curve(const std::string& png_path, const std::vector<LossRow>& rows, int64_t target_iter,
                      const LossSeriesNames& names) {
  const cv::Mat img = draw_loss_curve(rows, target_iter, 900, 420, names);
  std::vector<uint8_t> png;
  FACET_CHECK(cv::imencode(".png", img, png), png_path, ": PNG encoding failed");
  write_file_atomically(png_path, [&](std::FILE* f) { write_all(f, png.data(), png.size(), png_path); });
}

}  // namespace facet::train
