// Face metadata JSON and face image files (see face_image.h, docs/formats-faceset.md).
#include "pipeline/faces/face_image.h"

#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <set>

#include <nlohmann/json.hpp>
#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>

#include "engine/core/error.h"
#include "engine/io/atomic_file.h"
#include "engine/io/read_file.h"
#include "pipeline/faces/dfl_face.h"

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
                                          "image_to_face_mat", "eyebrows_expand_mod", "seg_ie_polys",
                                          "xseg_mask"};
  return k;
}

constexpr char kBase64[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

std::string base64_encode(const std::vector<uint8_t>& b) {
  std::string out;
  out.reserve((b.size() + 2) / 3 * 4);
  for (size_t i = 0; i < b.size(); i += 3) {
    const uint32_t n = uint32_t(b[i]) << 16 | (i + 1 < b.size() ? uint32_t(b[i + 1]) << 8 : 0) |
                       (i + 2 < b.size() ? b[i + 2] : 0);
    out.push_back(kBase64[n >> 18 & 63]);
    out.push_back(kBase64[n >> 12 & 63]);
    out.push_back(i + 1 < b.size() ? kBase64[n >> 6 & 63] : '=');
    out.push_back(i + 2 < b.size() ? kBase64[n & 63] : '=');
  }
  return out;
}

std::vector<uint8_t> base64_decode(const std::string& s, const std::string& what) {
  FACET_CHECK(s.size() % 4 == 0, what, ": 'xseg_mask' is not base64 (length ", s.size(), ")");
  std::vector<uint8_t> out;
  for (size_t i = 0; i < s.size(); i += 4) {
    uint32_t n = 0;
    int pad = 0;
    for (size_t k = 0; k < 4; ++k) {
      const char c = s[i + k];
      const char* p = c ? std::strchr(kBase64, c) : nullptr;
      FACET_CHECK(p || (c == '=' && i + 4 == s.size() && k >= 2), what, ": 'xseg_mask' is not base64");
      if (!p) ++pad;
      FACET_CHECK(p == nullptr || pad == 0, what, ": 'xseg_mask' is not base64");
      n = n << 6 | uint32_t(p ? p - kBase64 : 0);
    }
    out.push_back(uint8_t(n >> 16));
    if (pad < 2) out.push_back(uint8_t(n >> 8));
    if (pad < 1) out.push_back(uint8_t(n));
  }
  return out;
}

json polygons_json(const std::vector<SegPolygon>& polys) {
  json a = json::array();
  for (const SegPolygon& p : polys) a.push_back({{"type", p.include ? "include" : "exclude"}, {"points", points_json(p.points)}});
  return a;
}

std::vector<SegPolygon> polygons_from(const json& j, const std::string& what) {
  FACET_CHECK(j.is_array(), what, ": 'seg_ie_polys' must be an array of {\"type\", \"points\"}");
  std::vector<SegPolygon> out;
  for (const json& p : j) {
    FACET_CHECK(p.is_object() && p.contains("type") && p["type"].is_string() && p.contains("points") &&
                    p["points"].is_array(),
                what, ": 'seg_ie_polys' entries must be {\"type\": \"include\"|\"exclude\", \"points\": [[x, y], ...]}");
    const std::string type = p["type"].get<std::string>();
    FACET_CHECK(type == "include" || type == "exclude", what, ": seg_ie_polys type '", type,
                "' is neither include nor exclude");
    SegPolygon poly{type == "include", {}};
    for (const json& q : p["points"]) {
      FACET_CHECK(q.is_array() && q.size() == 2 && q[0].is_number() && q[1].is_number(), what,
                  ": seg_ie_polys points must be [x, y] pairs");
      poly.points.emplace_back(q[0].get<double>(), q[1].get<double>());
    }
    out.push_back(std::move(poly));
  }
  return out;
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
  if (!m.seg_polygons.empty()) j["seg_ie_polys"] = polygons_json(m.seg_polygons);
  if (!m.xseg_mask.empty()) j["xseg_mask"] = base64_encode(m.xseg_mask);
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
    if (j.contains("seg_ie_polys")) m.seg_polygons = polygons_from(j["seg_ie_polys"], what);
    if (j.contains("xseg_mask")) {
      FACET_CHECK(j["xseg_mask"].is_string(), what, ": 'xseg_mask' must be a base64 string");
      m.xseg_mask = base64_decode(j["xseg_mask"].get<std::string>(), what);
    }
  } catch (const json::exception& e) {
    throw Error(what + ": malformed metadata (" + e.what() + ")");
  }
  json extra = json::object();
  for (auto it = j.begin(); it != j.end(); ++it)
    if (!known_keys().count(it.key())) extra[it.key()] = it.value();
  if (!extra.empty()) m.extra_json = extra.dump();
  return m;
}

std::string seg_polygons_to_json(const std::vector<SegPolygon>& polys) { return polygons_json(polys).dump(); }

std::vector<SegPolygon> seg_polygons_from_json(const std::string& json_array, const std::string& what) {
  const json j = json::parse(json_array, nullptr, false);
  FACET_CHECK(!j.is_discarded(), what, ": polygons are not valid JSON");
  return polygons_from(j, what);
}

cv::Mat decode_xseg_mask(const FaceMetadata& m, const std::string& what) {
  if (m.xseg_mask.empty()) return {};
  cv::Mat mask;
  try {
    mask = cv::imdecode(m.xseg_mask, cv::IMREAD_GRAYSCALE);
  } catch (const cv::Exception& e) {
    throw Error(what + ": xseg mask cannot be decoded (OpenCV: " + e.what() + ")");
  }
  FACET_CHECK(!mask.empty() && mask.type() == CV_8UC1, what, ": xseg mask (", m.xseg_mask.size(),
              " bytes) is not a decodable PNG or JPEG image");
  return mask;
}

std::vector<uint8_t> encode_xseg_mask(const cv::Mat& mask) {
  FACET_CHECK(!mask.empty() && mask.type() == CV_8UC1, "xseg mask: expected an 8-bit one-channel image, got type ",
              mask.type());
  std::vector<uint8_t> buf;
  if (cv::imencode(".png", mask, buf) && buf.size() <= kXsegMaskMaxBytes) return buf;
  for (int q = 100; q >= 0; --q)
    if (cv::imencode(".jpg", mask, buf, {cv::IMWRITE_JPEG_QUALITY, q}) && buf.size() <= kXsegMaskMaxBytes) return buf;
  throw Error(detail::concat("xseg mask: ", mask.cols, "x", mask.rows, " does not fit ", kXsegMaskMaxBytes,
                             " bytes even as JPEG at quality 0"));
}

cv::Mat seg_polygons_mask(cv::Size size, const std::vector<SegPolygon>& polys) {
  cv::Mat mask = cv::Mat::zeros(size, CV_8UC1);
  for (const SegPolygon& p : polys) {
    if (p.points.empty()) continue;
    std::vector<cv::Point> pts;
    for (const Point& q : p.points) pts.emplace_back(int(q.x), int(q.y));  // numpy astype(int32) truncates
    cv::fillPoly(mask, std::vector<std::vector<cv::Point>>{pts}, cv::Scalar(p.include ? 255 : 0));
  }
  return mask;
}

std::optional<FaceMetadata> face_metadata_from_image(const std::vector<uint8_t>& bytes, const std::string& what) {
  const std::optional<std::string> payload = extract_image_metadata(bytes, what);
  if (payload) return face_metadata_from_json(*payload, what);
  if (sniff_image_format(bytes) == ImageFormat::Jpeg) return read_dfl_metadata(bytes, what);
  return std::nullopt;
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
  return face_metadata_from_image(read_file_bytes(path), path);
}

void update_face_metadata(const std::string& path, const FaceMetadata& meta) {
  const std::vector<uint8_t> bytes = read_file_bytes(path);
  FACET_CHECK(extract_image_metadata(bytes, path).has_value(), path,
              ": a DeepFaceLab face: writing facet's metadata into it would make it unreadable to DeepFaceLab; "
              "import the folder first (facet faceset import-dfl) and change the copy");
  const std::vector<uint8_t> out = embed_image_metadata(bytes, face_metadata_to_json(meta), path);
  write_file_atomically(path, [&](std::FILE* f) { write_all(f, out.data(), out.size(), path); });
}

FaceImage read_face_image(const std::string& path) {
  const std::vector<uint8_t> bytes = read_file_bytes(path);
  std::optional<FaceMetadata> meta = face_metadata_from_image(bytes, path);
  FACET_CHECK(meta.has_value(), path, ": image has no facet or DeepFaceLab face metadata (not an extracted face?)");
  FaceImage f;
  f.meta = std::move(*meta);
  f.image = cv::imdecode(bytes, cv::IMREAD_COLOR);
  FACET_CHECK(!f.image.empty(), path, ": image data cannot be decoded (corrupt)");
  return f;
}

}  // namespace facet::faces
