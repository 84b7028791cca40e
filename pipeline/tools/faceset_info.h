// `facet faceset info`: what a face set folder holds, read from the metadata inside each face
// image (pipeline/faces/face_set.h): how many faces, of which face types and sizes, from which
// sources and frame ranges, and every file that was skipped with the reason, so a user can see at
// a glance whether a folder is fit for training before spending hours on it.
#pragma once
#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "pipeline/faces/face_set.h"

namespace facet::tools {

struct FaceSetSource {
  std::string name;              // source_filename ("" when the metadata has none)
  int64_t faces = 0;
  int64_t frames = 0;            // distinct frames with faces
  int64_t first_frame = -1, last_frame = -1;
  int64_t multi_face_frames = 0; // frames with more than one face
};

struct FaceSetSummary {
  std::string dir;
  int64_t faces = 0;
  int64_t bytes = 0;                             // of the face images
  std::map<std::string, int64_t> face_types;     // DFL name -> count
  std::map<std::string, int64_t> sizes;          // "512x512" -> count
  std::map<std::string, int64_t> formats;        // "jpg" / "png" -> count
  std::vector<FaceSetSource> sources;            // by name
  std::vector<faces::SkippedFile> skipped;
  std::vector<std::string> alignments_files;     // *.alignments.json found in the folder
};

// Throws facet::Error only when `dir` is not a folder. decode_pixels: also decode every image to
// find damage inside the compressed data (slower).
FaceSetSummary summarize_face_set(const std::string& dir, bool decode_pixels = false);

// Human-readable report; at most `max_skipped` skipped files are listed by name (-1 = all).
std::string format_face_set_summary(const FaceSetSummary& s, int max_skipped = 20);

// The same as JSON (every skipped file listed).
std::string face_set_summary_json(const FaceSetSummary& s);

}  // namespace facet::tools
