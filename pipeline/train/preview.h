// The preview grid a user watches to judge training: one column per preview face, rows
//   src | src->src | src mask (learned) | dst | dst->dst | dst mask (learned) | dst->src (the swap) | swap mask
// rendered from fixed, un-augmented faces of each side (the same faces every time, so previews
// are comparable across iterations), with row labels and the iteration in the corner.
#pragma once
#include <cstdint>
#include <string>

#include <opencv2/core/mat.hpp>

#include "engine/core/context.h"
#include "engine/models/saehd_model.h"
#include "engine/tensor/tensor.h"
#include "pipeline/train/training_faces.h"

namespace facet::train {

// The first min(count, N) faces of a side as f32 BGR [P, R, R, 3] in [0, 1] on ctx's device.
Tensor preview_faces(Context& ctx, const HostFaces& faces, int count);

// Runs the model (no gradients) on the preview faces and draws the grid (BGR 8-bit).
cv::Mat render_preview(Context& ctx, models::SaehdModel& model, const Tensor& src, const Tensor& dst,
                       int64_t iteration);

// One labelled row of a preview grid: n tiles of an [n, R, R, C] host array in [0, 1] (C = 3 BGR
// or 1 mask). draw_preview_grid lays rows out under the iteration, small R enlarged.
struct PreviewRow {
  std::string label;
  std::vector<float> data;
  int64_t n, C;
};
cv::Mat draw_preview_grid(const std::vector<PreviewRow>& rows, int64_t R, int64_t iteration);

// Writes previews/<iteration>.png and previews/latest.png (atomically). Returns the first path.
std::string write_preview(const std::string& previews_dir, const cv::Mat& grid, int64_t iteration);

}  // namespace facet::train
