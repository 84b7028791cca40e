// `facet faceset dedupe`: finds near-duplicate faces (the same face from consecutive frames of a
// still shot, or a file copied twice), which only make training see some frames more often than
// others. Each face is reduced to a 32x32 colour thumbnail; two faces are near-duplicates when the
// mean absolute difference of their thumbnails (in [0, 1], 0 = identical) is at most the
// threshold. Faces are visited in name order and each is compared with the faces kept so far, so
// of a run of near-identical faces the first stays. The search is exact but pruned: the difference
// of the thumbnails' mean colours, and the difference of their 8x8 averages, are lower bounds of the
// thumbnail distance, so most pairs are rejected after one or 192 comparisons.
//
// Removing means moving to <dir>/_removed/ (never deleting), so a wrong threshold is undone by
// moving the files back. Use it on training face sets: a face removed from a destination set is
// not swapped at merge (merge skips faces whose image is missing).
#pragma once
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include <opencv2/core/mat.hpp>

#include "pipeline/faces/face_set.h"

namespace facet::tools {

inline constexpr double kDefaultDedupeThreshold = 0.002;

struct DuplicateFace {
  std::string filename;  // the near-duplicate (to remove)
  std::string kept;      // the earlier face it matches
  double distance = 0;
};

struct DedupeResult {
  int64_t faces = 0;  // faces compared
  std::vector<DuplicateFace> duplicates;
  std::vector<faces::SkippedFile> skipped;
};

using DedupeProgressFn = std::function<void(int64_t done, int64_t total)>;

// 32x32 BGR float thumbnail (INTER_AREA), values in [0, 1].
cv::Mat face_thumbnail(const cv::Mat& bgr);
// Mean absolute difference of two thumbnails.
double thumbnail_distance(const cv::Mat& a, const cv::Mat& b);

DedupeResult find_duplicates(const std::string& dir, double threshold = kDefaultDedupeThreshold,
                             const DedupeProgressFn& progress = {});

// Moves each duplicate to <dir>/_removed/ (an existing name there gets a numeric suffix).
// Returns the new paths. Throws facet::Error when a move fails.
std::vector<std::string> move_duplicates(const std::string& dir, const std::vector<DuplicateFace>& dups);

}  // namespace facet::tools
