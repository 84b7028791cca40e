// Face metadata JSON and face image files (see face_image.h, docs/formats-faceset.md).
#include "pipeline/faces/face_image.h"

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <set>

#include <nlohmann/json.hpp>
#include <opencv2/imgcodecs.hpp>

#include "engine/core/error.h"
#include "engine/io/read_file.h"

namespace facet::faces {

using nlohmann::json;

namespace {

json points_json(const Landmarks& l) {
  json a = json::array();
  for (const Point& p : l) a.push_back({p.x, p.y});
  return a;
}

Landmarks points_from(const json& j, const char* key, const std::string& what) {
  FACET_CHECK(j.is_array(), what, ": '", key, "' must be an array of [x, y] pairs");
  Landmarks l;
  for (const json& p : j) {
    FACET_CHECK(p.is_array() && p.size() == 2 && p[0].is_number() && p[1].is_number(), what, ": '", key,
                "' must be an array of [x, y] pairs");
    l.emplace_back(p[0].get<double>(), p[1].get<double>());
  }
  FACET_CHECK(l.empty() || l.size() == 68, what, ": '", key, "' has ", l.size(), " points, expected 68");
  return l;
}

const std::set<std::string>& known_keys() {
  static const std::set<std::string> k = {"facet_face",   "face_type",         "size",
                                          "landmarks",    "source_frame",      "source_filename",
                                          "face_index",   "source_rect",       "source_landmarks",
                                          "image_to_face_mat", "eyebrows_expand_mod"};
  return k;
}

}  // namespace

std::string face_metadata_to_json(const FaceMetadata& m) {
  json j = json::object();
  if (!m.extra_json.empty()) {
    j = json::parse(m.extra_json, nullptr, false);
    FACET_CHECK(j.is_object(), "face metadata: extra_json is not a JSON object");
  }
  j["facet_face"] = m.format_version;
  j["face_type"] = face_type_name(m.face_type);
  j["size"] = {m.width, m.height};
  j["landmarks"] = points_json(m.landmarks);
  j["source_frame"] = m.source_frame;
  j["source_filename"] = m.source_filename;
  j["face_index"] = m.face_index;
  j["source_rect"] = {m.source_rect[0], m.source_rect[1], m.source_rect[2], m.source_rect[3]};
  j["source_landmarks"] = points_json(m.source_landmarks);
  const Affine& a = m.image_to_face;
  j["image_to_face_mat"] = {{a(0, 0), a(0, 1), a(0, 2)}, {a(1, 0), a(1, 1), a(1, 2)}};
  j["eyebrows_expand_mod"] = m.eyebrows_expand_mod;
  return j.dump();
}

FaceMetadata face_metadata_from_json(const std::string& text, const std::string& what) {
  const json j = json::parse(text, nullptr, false);
  FACET_CHECK(!j.is_discarded() && j.is_object(), what, ": metadata is not a valid JSON object");
  FACET_CHECK(j.contains("facet_face") && j["facet_face"].is_number_integer(), what,
              ": metadata has no 'facet_face' format version");
  FaceMetadata m;
  try {
    m.format_version = j["facet_face"].get<int>();
    FACET_CHECK(m.format_version >= 1 && m.format_version <= kFaceFormatVersion, what, ": face format version ",
                m.format_version, " is not supported (this build reads 1..", kFaceFormatVersion, ")");
    m.face_type = parse_face_type(j.at("face_type").get<std::string>());
    const json& size = j.at("size");
    FACET_CHECK(size.is_array() && size.size() == 2, what, ": 'size' must be [width, height]");
    m.width = size[0].get<int>(), m.height = size[1].get<int>();
    m.landmarks = points_from(j.at("landmarks"), "landmarks", what);
    m.source_frame = j.value("source_frame", int64_t(-1));
    m.source_filename = j.value("source_filename", std::string());
    m.face_index = j.value("face_index", 0);
    if (j.contains("source_rect")) {
      const json& r = j["source_rect"];
      FACET_CHECK(r.is_array() && r.size() == 4, what, ": 'source_rect' must be [left, top, right, bottom]");
      for (int i = 0; i < 4; ++i) m.source_rect[i] = r[i].get<double>();
    }
    if (j.contains("source_landmarks")) m.source_landmarks = points_from(j["source_landmarks"], "source_landmarks", what);
    const json& a = j.at("image_to_face_mat");
    FACET_CHECK(a.is_array() && a.size() == 2 && a[0].size() == 3 && a[1].size() == 3, what,
                ": 'image_to_face_mat' must be 2x3");
    for (int r = 0; r < 2; ++r)
      for (int c = 0; c < 3; ++c) m.image_to_face(r, c) = a[r][c].get<double>();
    m.eyebrows_expand_mod = j.value("eyebrows_expand_mod", 1.0);
  } catch (const json::exception& e) {
    throw Error(what + ": malformed metadata (" + e.what() + ")");
  }
  json extra = json::object();
  for (auto it = j.begin(); it != j.end(); ++it)
    if (!known_keys().count(it.key())) extra[it.key()] = it.value();
  if (!extra.empty()) m.extra_json = extra.dump();
  return m;
}

std::vector<uint8_t> encode_face_image(const cv::Mat& image, const FaceMetadata& meta, ImageFormat fmt,
                                       int jpeg_quality) {
  FACET_CHECK(!image.empty() && image.depth() == CV_8U, "encode_face_image: need a non-empty 8-bit image");
  FACET_CHECK(fmt == ImageFormat::Png || fmt == ImageFormat::Jpeg, "encode_face_image: format must be PNG or JPEG");
  std::vector<uint8_t> bytes;
  const std::vector<int> params = fmt == ImageFormat::Jpeg ? std::vector<int>{cv::IMWRITE_JPEG_QUALITY, jpeg_quality}
                                                          : std::vector<int>{cv::IMWRITE_PNG_COMPRESSION, 3};
  FACET_CHECK(cv::imencode(fmt == ImageFormat::Jpeg ? ".jpg" : ".png", image, bytes, params),
              "encode_face_image: OpenCV could not encode the image");
  FaceMetadata m = meta;
  m.width = image.cols, m.height = image.rows;
  return embed_image_metadata(bytes, face_metadata_to_json(m));
}

void write_face_image(const std::string& path, const cv::Mat& image, const FaceMetadata& meta, int jpeg_quality) {
  const ImageFormat fmt = image_format_from_extension(path);
  FACET_CHECK(fmt != ImageFormat::Unknown, path, ": face images must be .png, .jpg or .jpeg");
  const std::vector<uint8_t> bytes = encode_face_image(image, meta, fmt, jpeg_quality);
  const std::string tmp = path + ".tmp";
  {
    std::ofstream f(tmp, std::ios::binary | std::ios::trunc);
    FACET_CHECK(f, path, ": cannot open for writing");
    f.write(reinterpret_cast<const char*>(bytes.data()), std::streamsize(bytes.size()));
    f.close();
    if (!f) {
      std::remove(tmp.c_str());
      throw Error(path + ": write failed (disk full?)");
    }
  }
  std::error_code ec;
  std::filesystem::rename(tmp, path, ec);
  if (ec) {
    std::remove(tmp.c_str());
    throw Error(path + ": cannot rename into place: " + ec.message());
  }
}

std::optional<FaceMetadata> read_face_metadata(const std::string& path) {
  const std::vector<uint8_t> bytes = read_file_bytes(path);
  const std::optional<std::string> payload = extract_image_metadata(bytes, path);
  if (!payload) return std::nullopt;
  return face_metadata_from_json(*payload, path);
}

FaceImage read_face_image(const std::string& path) {
  const std::vector<uint8_t> bytes = read_file_bytes(path);
  const std::optional<std::string> payload = extract_image_metadata(bytes, path);
  FACET_CHECK(payload.has_value(), path, ": image has no facet face metadata (not an extracted face?)");
  FaceImage f;
  f.meta = face_metadata_from_json(*payload, path);
  f.image = cv::imdecode(bytes, cv::IMREAD_COLOR);
  FACET_CHECK(!f.image.empty(), path, ": image data cannot be decoded (corrupt)");
  return f;
}

}  // namespace facet::faces
