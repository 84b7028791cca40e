// Preview grids (see preview.h).
#include "pipeline/train/preview.h"

#include <algorithm>
#include <cstdio>
#include <filesystem>

#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>

#include "engine/core/error.h"
#include "engine/io/atomic_file.h"

namespace facet::train {

Tensor preview_faces(Context& ctx, const HostFaces& faces, int count) {
  const int64_t P = std::min<int64_t>(count, faces.size()), R = faces.resolution;
  FACET_CHECK(P >= 1, "preview: no faces");
  std::vector<float> v(static_cast<size_t>(P * R * R * 3));
  for (size_t i = 0; i < v.size(); ++i) v[i] = faces.bgr[i] * (1.0f / 255.0f);
  return Tensor::from_vector(ctx, {P, R, R, 3}, v, DType::F32, ctx.device());
}

namespace {

// Tile b of an [N, R, R, C] host array (C = 3 BGR or 1 mask) as 8-bit BGR.
cv::Mat tile(const std::vector<float>& v, int64_t b, int64_t R, int64_t C) {
  cv::Mat m(static_cast<int>(R), static_cast<int>(R), CV_8UC3);
  const float* p = v.data() + b * R * R * C;
  for (int64_t y = 0; y < R; ++y)
    for (int64_t x = 0; x < R; ++x) {
      auto& px = m.at<cv::Vec3b>(static_cast<int>(y), static_cast<int>(x));
      for (int c = 0; c < 3; ++c) {
        const float f = p[(y * R + x) * C + (C == 3 ? c : 0)];
        px[c] = cv::saturate_cast<uint8_t>(std::isfinite(f) ? f * 255.0f + 0.5f : 0.0f);
      }
    }
  return m;
}

}  // namespace

cv::Mat render_preview(Context& ctx, models::SaehdModel& model, const Tensor& src, const Tensor& dst,
                       int64_t iteration) {
  NoGradGuard ng(ctx);
  models::SaehdPredictions p = model.train_forward(ctx, src, dst, /*with_swap=*/true);
  const int64_t R = src.dim(1), ns = src.dim(0), nd = dst.dim(0);
  std::vector<PreviewRow> rows = {
      {"src", src.to_float(ctx), ns, 3},
      {"src->src", p.src_src.image.to_float(ctx), ns, 3},
      {"src mask", p.src_src.mask.to_float(ctx), ns, 1},
      {"dst", dst.to_float(ctx), nd, 3},
      {"dst->dst", p.dst_dst.image.to_float(ctx), nd, 3},
      {"dst mask", p.dst_dst.mask.to_float(ctx), nd, 1},
      {"dst->src", p.src_dst.image.to_float(ctx), nd, 3},
      {"swap mask", p.src_dst.mask.to_float(ctx), nd, 1},
  };
  return draw_preview_grid(rows, R, iteration);
}

cv::Mat draw_preview_grid(const std::vector<PreviewRow>& rows, int64_t R, int64_t iteration) {
  int64_t cols = 0;
  for (const PreviewRow& r : rows) cols = std::max(cols, r.n);
  // Small resolutions are enlarged (nearest) so labels and faces stay readable.
  const int scale = R >= 128 ? 1 : static_cast<int>((128 + R - 1) / R);
  const int T = static_cast<int>(R) * scale, label_w = 90, gap = 2;
  cv::Mat grid(static_cast<int>(rows.size()) * (T + gap) + 24, label_w + static_cast<int>(cols) * (T + gap), CV_8UC3,
               cv::Scalar(32, 32, 32));
  char head[64];
  std::snprintf(head, sizeof head, "iteration %lld", static_cast<long long>(iteration));
  cv::putText(grid, head, cv::Point(6, 17), cv::FONT_HERSHEY_SIMPLEX, 0.5, cv::Scalar(230, 230, 230), 1, cv::LINE_AA);
  for (size_t r = 0; r < rows.size(); ++r) {
    const int y = 24 + static_cast<int>(r) * (T + gap);
    cv::putText(grid, rows[r].label.c_str(), cv::Point(6, y + T / 2 + 5), cv::FONT_HERSHEY_SIMPLEX, 0.45,
                cv::Scalar(230, 230, 230), 1, cv::LINE_AA);
    for (int64_t b = 0; b < rows[r].n; ++b) {
      cv::Mat t = tile(rows[r].data, b, R, rows[r].C);
      if (scale > 1) cv::resize(t, t, cv::Size(T, T), 0, 0, cv::INTER_NEAREST);
      t.copyTo(grid(cv::Rect(label_w + static_cast<int>(b) * (T + gap), y, T, T)));
    }
  }
  return grid;
}

std::string write_preview(const std::string& previews_dir, const cv::Mat& grid, int64_t iteration) {
  std::filesystem::create_directories(previews_dir);
  std::vector<uint8_t> png;
  FACET_CHECK(cv::imencode(".png", grid, png), "preview: PNG encoding failed");
  char name[32];
  std::snprintf(name, sizeof name, "%08lld.png", static_cast<long long>(iteration));
  const std::string path = (std::filesystem::path(previews_dir) / name).string();
  const std::string latest = (std::filesystem::path(previews_dir) / "latest.png").string();
  for (const std::string& p : {path, latest})
    write_file_atomically(p, [&](std::FILE* f) { write_all(f, png.data(), png.size(), p); });
  return path;
}

}  // namespace facet::train
