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

// One polygon of DeepFaceLab's XSeg editor (core/imagelib/SegIEPolys.py): an include polygon adds
// its area to the face mask, an exclude polygon removes it; drawn in order, includes first.
struct SegPolygon {
  bool include = true;
  std::vector<Point> points;  // face-image pixels
};

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
  std::vector<SegPolygon> seg_polygons;  // hand-drawn XSeg polygons (DFL seg_ie_polys), may be empty
  // A learned segmentation mask as DFL's `xseg apply` stores it: an encoded 8-bit one-channel PNG
  // (or JPEG when the PNG exceeds 50 000 bytes), of any size; empty if none. decode_xseg_mask().
  std::vector<uint8_t> xseg_mask;
  // Keys of the JSON object that this version does not know, kept as a JSON object text ("" if none)
  // so a newer tool's additions (e.g. a segmentation mask) survive a rewrite by this one.
  std::string extra_json;
};

std::string face_metadata_to_json(const FaceMetadata& m);
// Throws facet::Error naming `what` on malformed JSON, missing required keys or wrong shapes.
FaceMetadata face_metadata_from_json(const std::string& json, const std::string& what = "face metadata");

// The xseg mask decoded to 8-bit one channel (0 background .. 255 face), or an empty Mat when the
// face has none. Throws facet::Error naming `what` when the stored bytes cannot be decoded.
cv::Mat decode_xseg_mask(const FaceMetadata& m, const std::string& what = "face metadata");

// An 8-bit one-channel mask encoded as DFL's DFLJPG.set_xseg_mask does: PNG, or when that
// exceeds kXsegMaskMaxBytes the best JPEG quality (100 down to 0) that fits.
inline constexpr size_t kXsegMaskMaxBytes = 50000;
std::vector<uint8_t> encode_xseg_mask(const cv::Mat& mask);

// The polygons as the JSON array stored under "seg_ie_polys" ([{"type": "include"|"exclude",
// "points": [[x, y], ...]}, ...]), and back (throws facet::Error naming `what`).
std::string seg_polygons_to_json(const std::vector<SegPolygon>& polys);
std::vector<SegPolygon> seg_polygons_from_json(const std::string& json_array, const std::string& what);

// The polygons drawn as DFL's SegIEPolys.overlay_mask does (cv::fillPoly of the points truncated to
// integers, 255 for include, 0 for exclude, in order) onto a zero mask of `size`.
cv::Mat seg_polygons_mask(cv::Size size, const std::vector<SegPolygon>& polys);

// The metadata carried by encoded image bytes: facet's own, or else (JPEG only) DeepFaceLab's
// DFLJPG dict (dfl_face.h); nullopt if the image has neither. Throws facet::Error naming `what`
// for a structurally corrupt image or broken metadata.
std::optional<FaceMetadata> face_metadata_from_image(const std::vector<uint8_t>& bytes, const std::string& what);

// Encodes `image` (8-bit BGR or gray) with cv::imencode as PNG or JPEG, then embeds the metadata.
std::vector<uint8_t> encode_face_image(const cv::Mat& image, const FaceMetadata& meta, ImageFormat fmt,
                                       int jpeg_quality = 90);
// Writes a face image; the format comes from the extension (.png, .jpg, .jpeg). width/height of
// `meta` are set from the image. Written to a temporary name, then renamed into place.
void write_face_image(const std::string& path, const cv::Mat& image, const FaceMetadata& meta, int jpeg_quality = 90);

// The metadata of a face image file (facet's, or a DeepFaceLab face's), or nullopt if it is a valid
// image without either.
// Throws facet::Error naming the file for unreadable or structurally corrupt files.
std::optional<FaceMetadata> read_face_metadata(const std::string& path);

// Replaces the metadata of a face file with `meta`, keeping its pixels byte for byte, atomically
// (a reader sees the old file or the new one). Refuses (facet::Error naming the file) a
// DeepFaceLab face whose metadata is only DFL's APP15 pickle: DFL's loader unpickles every APP15
// segment, so facet's beside it would make the file unreadable to DFL.
void update_face_metadata(const std::string& path, const FaceMetadata& meta);

struct FaceImage {
  cv::Mat image;  // BGR, 8-bit
  FaceMetadata meta;
};
// Decodes pixels and metadata; throws facet::Error naming the file when either is missing or broken.
FaceImage read_face_image(const std::string& path);

}  // namespace facet::faces
