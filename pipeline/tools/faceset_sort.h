// `facet faceset sort`: orders a face set the way DeepFaceLab's sorter does (mainscripts/Sorter.py)
// so a user can page through it and delete the bad faces at one end:
//   blur       sharpest first: variance of the Laplacian of the gray image inside the face hull
//              (eroded a little, so the hull's own edge does not count as detail)
//   yaw, pitch from the head pose (pose.h, DFL estimate_pitch_yaw_roll), largest first
//   hist       similar faces next to each other: greedy chain, each face followed by the remaining
//              one with the closest colour histograms (sum of per-channel Bhattacharyya distances)
//   face-size  area of the detector box in the source frame (source_rect), largest first
// Applying the order renames the files with a numeric prefix ("00042_franck_000123_0.jpg"):
// file bytes, and so every face's metadata, are untouched. A prefix from an earlier sort is
// replaced, not stacked. The alignments files in the folder are updated to the new names, so
// merge still finds the faces.
#pragma once
#include <cstdint>
#include <functional>
#include <string>
#include <utility>
#include <vector>

#include <opencv2/core/mat.hpp>

#include "pipeline/faces/face_set.h"

namespace facet::tools {

enum class SortKey { Blur, Yaw, Pitch, Hist, FaceSize };

// "blur", "yaw", "pitch", "hist", "face-size" (also "face_size"); throws facet::Error listing them.
SortKey parse_sort_key(const std::string& name);
std::string sort_key_name(SortKey k);

struct SortedFace {
  std::string filename;
  double value = 0;  // the sort key (hist: distance to the face before it in the chain)
  std::string base;  // the name without a sort prefix: what the new prefix goes in front of
};

struct SortResult {
  SortKey key = SortKey::Blur;
  std::vector<SortedFace> order;
  std::vector<faces::SkippedFile> skipped;
};

using SortProgressFn = std::function<void(int64_t done, int64_t total)>;

// Reads the set and orders it. Faces whose pixels cannot be decoded (blur, hist) are skipped and
// reported. `reverse` flips the order.
SortResult sort_face_set(const std::string& dir, SortKey key, bool reverse = false,
                         const SortProgressFn& progress = {});

// Sharpness: variance of the Laplacian of the gray image inside the eroded hull of the landmarks
// (the whole image when the hull is empty). Larger = sharper.
double blur_score(const cv::Mat& bgr, const faces::Landmarks& landmarks, double eyebrows_expand_mod = 1.0);

// The name without a prefix written by an earlier sort: a leading run of 5 or more digits and '_'
// is dropped unless the name is the face's conventional name (face_image_name from its metadata,
// which may itself start with digits when the source was an image folder).
std::string strip_sort_prefix(const std::string& filename, const faces::FaceMetadata& meta);

// (old name, new name) for every face whose name changes: "<position, zero-padded>_<base>".
std::vector<std::pair<std::string, std::string>> plan_sort_renames(const std::vector<SortedFace>& order);

struct RenameReport {
  int64_t renamed = 0;
  std::vector<std::string> alignments_updated;  // alignments files rewritten with the new names
  std::vector<std::string> warnings;
};

// Renames the files in `dir` (directly, or through temporary names when a new name is taken by
// another file) and rewrites the alignments files of the folder that name them. Throws
// facet::Error when a rename fails (the files renamed so far stay valid face images).
RenameReport apply_renames(const std::string& dir, const std::vector<std::pair<std::string, std::string>>& renames);

}  // namespace facet::tools
