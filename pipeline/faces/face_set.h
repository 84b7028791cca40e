// A face set is a folder of face images (.png/.jpg/.jpeg) that each carry their metadata
// (face_image.h). Loading one lists the faces in natural file-name order; files that cannot be
// read, are corrupt, or carry neither facet nor DeepFaceLab metadata (dfl_face.h) are skipped and reported by name, so one bad
// file never stops training or merging. Other files (e.g. an alignments .json) are ignored.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include "pipeline/faces/face_image.h"

namespace facet::faces {

struct FaceSetEntry {
  std::string path;      // full path
  std::string filename;  // name inside the folder
  FaceMetadata meta;
};

struct SkippedFile {
  std::string filename;
  std::string reason;
};

struct FaceSet {
  std::string dir;
  std::vector<FaceSetEntry> faces;
  std::vector<SkippedFile> skipped;
};

struct FaceSetOptions {
  // Also decode the pixels of every image (cv::imdecode) to catch damage inside the compressed
  // data; without it only the file structure (chunk CRCs, JPEG markers) and metadata are checked.
  bool decode_pixels = false;
};

// Throws facet::Error only when `dir` is missing or not a directory.
FaceSet load_face_set(const std::string& dir, const FaceSetOptions& opt = {});

// The conventional face image name: <source stem>_<frame, 6 digits>_<face index>.<ext>, e.g.
// "franck_000123_0.jpg" (frame -1 gives "franck_unknown_0.jpg").
std::string face_image_name(const std::string& source_filename, int64_t frame, int face_index,
                            const std::string& ext = "jpg");

}  // namespace facet::faces
