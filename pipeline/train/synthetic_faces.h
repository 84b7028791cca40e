// Synthetic two-identity face sets, so that the whole training path (face-set loading with
// embedded metadata, landmark masks, augmentation, both decoders, the swap) runs in tests and in
// the demo without any real footage. Each identity is a cartoon face with its own skin, hair,
// eye colour, brows, face width, mouth and (for B) a beard; every image varies pose (roll, a
// fake yaw, scale, shift), lighting direction and strength, and background. The 68 landmarks are
// generated first and the drawing follows them, so the stored landmarks are exact and the hull
// and eyes/mouth masks line up with what is drawn. Deterministic in (identity, seed, index).
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include <opencv2/core/mat.hpp>

#include "pipeline/faces/align.h"
#include "pipeline/faces/face_type.h"
#include "pipeline/train/training_faces.h"

namespace facet::train {

enum class SyntheticIdentity { A, B };

// The frontal face every synthetic face starts from, 68 points in template units: DFL's 33
// alignment-template points exactly, the jaw symmetric about the nose line x = 0.490127 (so
// faces::estimate_averaged_yaw is 0), and lips. Tests place it in frames to check alignment.
faces::Landmarks synthetic_frontal_landmarks();

// One face image (BGR 8-bit, size x size) and its 68 landmarks in its pixels, laid out as a
// `type` crop (the template square scaled by the face type's crop ratio, as extraction would).
// head_mask, when given, receives what was drawn of the head (skin, hair, beard) as a CV_8UC1
// 0/255 mask: the ground truth a face segmenter should find.
cv::Mat draw_synthetic_face(SyntheticIdentity id, uint64_t seed, int index, int size,
                            faces::FaceType type, faces::Landmarks* landmarks, cv::Mat* head_mask = nullptr);

struct SyntheticFaceSetOptions {
  int count = 48;   // faces per identity
  int size = 128;   // pixels
  uint64_t seed = 1;
  std::string ext = "png";  // png or jpg
  faces::FaceType face_type = faces::FaceType::Full;
};

// Writes a face set (images with embedded metadata, as extraction writes them) into `dir`
// (created if needed). Returns the file names written.
std::vector<std::string> write_synthetic_face_set(const std::string& dir, SyntheticIdentity id,
                                                  const SyntheticFaceSetOptions& opt);

// The same faces straight into training memory at `resolution` (benchmarks, quick tests):
// drawn at that size as `type` crops, with their masks, no files involved.
HostFaces synthetic_host_faces(SyntheticIdentity id, int count, int resolution, uint64_t seed = 1,
                               faces::FaceType type = faces::FaceType::Full);

}  // namespace facet::train
