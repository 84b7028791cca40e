// An extracted face image and the metadata it carries (the idea of DeepFaceLab's DFLIMG/DFLJPG.py, with
// JSON instead of a pickle): enough to train on it (face type, landmarks in face coordinates) and
// to map it back onto its frame at merge (source frame, file, landmarks, image->face matrix).
// The JSON lives in the image itself (image_chunks.h), so a face set is just a folder of images
// and deleting a file deletes the face. Format: docs/formats-faceset.md.
#pragma once
#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include <opencv2/core/mat.hpp>

#include "pipeline/faces/align.h"
#include "pipeline/faces/image_chunks.h"

namespace facet::faces {

constexpr int kFaceFormatVersion = 1;

struct FaceMetadata {
  int format_version = kFaceFormatVersion;
  FaceType face_type = FaceType::WholeFace;
  int width = 0, height = 0;          // of the face image
  Landmarks landmarks;                // 68 points in face-image pixels
  int64_t source_frame = -1;          // frame index in the source video (or image folder); -1 unknown
  std::string source_filename;        // the source video or frame image (file name, not a path)
  std::array<double, 4> source_rect{};  // detector box in the frame: left, top, right, bottom
  Landmarks source_landmarks;         // 68 points in frame pixels
  Affine image_to_face = Affine::eye();  // frame -> face image (get_transform_mat)
  int face_index = 0;                 // which face of that frame (0 = first)
  double eyebrows_expand_mod = 1.0;
  // Keys of the JSON object that this version does not know, kept as a JSON object text ("" if none)
  // so a newer tool's additions (e.g. a segmentation mask) survive a rewrite by this one.
  std::string extra_json;
};

std::string face_metadata_to_json(const FaceMetadata& m);
// Throws facet::Error naming `what` on malformed JSON, missing required keys or wrong shapes.
FaceMetadata face_metadata_from_json(const std::string& json, const std::string& what = "face metadata");

// Encodes `image` (8-bit BGR or gray) with cv::imencode as PNG or JPEG, then embeds the metadata.
std::vector<uint8_t> encode_face_image(const cv::Mat& image, const FaceMetadata& meta, ImageFormat fmt,
                                       int jpeg_quality = 90);
// Writes a face image; the format comes from the extension (.png, .jpg, .jpeg). width/height of
// `meta` are set from the image. Written to a temporary name, then renamed into place.
void write_face_image(const std::string& path, const cv::Mat& image, const FaceMetadata& meta, int jpeg_quality = 90);

// The metadata of a face image file, or nullopt if it is a valid image without facet metadata.
// Throws facet::Error naming the file for unreadable or structurally corrupt files.
std::optional<FaceMetadata> read_face_metadata(const std::string& path);

struct FaceImage {
  cv::Mat image;  // BGR, 8-bit
  FaceMetadata meta;
};
// Decodes pixels and metadata; throws facet::Error naming the file when either is missing or broken.
FaceImage read_face_image(const std::string& path);

}  // namespace facet::faces
