// The alignments file: one JSON file per source video (or image folder) listing, frame by frame,
// the faces found there: the face image file each was saved as, the detector box, the 68 frame
// landmarks and the frame->face matrix (faceswap's .fsa idea, lib/align/alignments.py, as plain JSON).
// Merge walks it to know which frames have faces. Face images are the source of truth: loading
// with the faces folder drops every face whose image file no longer exists, so deleting a bad face
// image removes that face from the merge. Format: docs/formats-faceset.md.
#pragma once
#include <array>
#include <cstdint>
#include <string>
#include <vector>

#include "pipeline/faces/align.h"
#include "pipeline/faces/face_set.h"

namespace facet::faces {

constexpr int kAlignmentsFormatVersion = 1;

struct AlignedFace {
  int face_index = 0;         // order within the frame
  std::string file;           // face image file name, relative to the faces folder ("" if not saved)
  std::array<double, 4> rect{};  // detector box: left, top, right, bottom (frame pixels)
  Landmarks landmarks;        // 68 points, frame pixels
  Affine image_to_face = Affine::eye();
};

struct FrameAlignments {
  int64_t frame = 0;          // frame index in the source
  double time = -1;           // presentation time in seconds (-1 unknown)
  std::vector<AlignedFace> faces;  // may be empty: frame was processed, no face found
};

struct Alignments {
  int format_version = kAlignmentsFormatVersion;
  std::string source;         // source file name (video or folder)
  FaceType face_type = FaceType::WholeFace;
  int face_size = 0;          // side of the face images in pixels
  std::vector<FrameAlignments> frames;  // sorted by frame index, unique

  const FrameAlignments* find(int64_t frame) const;  // nullptr if the frame is not listed
  size_t face_count() const;
  void sort();  // sorts frames by index and faces by face_index
};

std::string alignments_to_json(const Alignments& a);
// Throws facet::Error naming `what` on malformed content.
Alignments alignments_from_json(const std::string& json, const std::string& what = "alignments");

// Written atomically (a crash leaves the previous file intact).
void save_alignments(const std::string& path, const Alignments& a);

// Reads an alignments file. With `faces_dir`, faces whose `file` is missing from that folder are
// dropped and their names appended to `removed` (when given); frames stay listed.
Alignments load_alignments(const std::string& path, const std::string& faces_dir = "",
                           std::vector<std::string>* removed = nullptr);

// Rebuilds alignments for one source from the metadata inside a face set (faces whose
// source_filename matches `source`, or all faces when `source` is empty).
Alignments alignments_from_face_set(const FaceSet& set, const std::string& source = "");

}  // namespace facet::faces
