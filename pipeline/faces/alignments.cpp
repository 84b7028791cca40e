// Alignments file JSON (see alignments.h, docs/formats-faceset.md).
#include "pipeline/faces/alignments.h"

#include <algorithm>
#include <filesystem>
#include <map>

#include <nlohmann/json.hpp>

#include "engine/core/error.h"
#include "engine/io/atomic_file.h"
#include "engine/io/read_file.h"

namespace facet::faces {

using nlohmann::json;
namespace fs = std::filesystem;

const FrameAlignments* Alignments::find(int64_t frame) const {
  auto it = std::lower_bound(frames.begin(), frames.end(), frame,
                             [](const FrameAlignments& f, int64_t v) { return f.frame < v; });
  return it != frames.end() && it->frame == frame ? &*it : nullptr;
}

size_t Alignments::face_count() const {
  size_t n = 0;
  for (const auto& f : frames) n += f.faces.size();
  return n;
}

void Alignments::sort() {
  std::stable_sort(frames.begin(), frames.end(), [](const auto& a, const auto& b) { return a.frame < b.frame; });
  for (auto& f : frames)
    std::stable_sort(f.faces.begin(), f.faces.end(), [](const auto& a, const auto& b) { return a.face_index < b.face_index; });
}

std::string alignments_to_json(const Alignments& a) {
  json frames = json::array();
  for (const FrameAlignments& f : a.frames) {
    json faces = json::array();
    for (const AlignedFace& face : f.faces) {
      json lm = json::array();
      for (const Point& p : face.landmarks) lm.push_back({p.x, p.y});
      const Affine& m = face.image_to_face;
      faces.push_back({{"index", face.face_index},
                       {"file", face.file},
                       {"rect", {face.rect[0], face.rect[1], face.rect[2], face.rect[3]}},
                       {"landmarks", lm},
                       {"image_to_face_mat", {{m(0, 0), m(0, 1), m(0, 2)}, {m(1, 0), m(1, 1), m(1, 2)}}}});
    }
    json fj = {{"frame", f.frame}, {"faces", faces}};
    if (f.time >= 0) fj["time"] = f.time;
    frames.push_back(fj);
  }
  const json j = {{"facet_alignments", a.format_version},
                  {"source", a.source},
                  {"face_type", face_type_name(a.face_type)},
                  {"face_size", a.face_size},
                  {"frames", frames}};
  return j.dump(1);
}

Alignments alignments_from_json(const std::string& text, const std::string& what) {
  const json j = json::parse(text, nullptr, false);
  FACET_CHECK(!j.is_discarded() && j.is_object(), what, ": not a valid JSON object");
  FACET_CHECK(j.contains("facet_alignments"), what, ": not a facet alignments file (no 'facet_alignments' key)");
  Alignments a;
  try {
    a.format_version = j["facet_alignments"].get<int>();
    FACET_CHECK(a.format_version >= 1 && a.format_version <= kAlignmentsFormatVersion, what,
                ": alignments format version ", a.format_version, " is not supported (this build reads 1..",
                kAlignmentsFormatVersion, ")");
    a.source = j.value("source", std::string());
    a.face_type = parse_face_type(j.value("face_type", std::string("whole_face")));
    a.face_size = j.value("face_size", 0);
    for (const json& fj : j.at("frames")) {
      FrameAlignments f;
      f.frame = fj.at("frame").get<int64_t>();
      f.time = fj.value("time", -1.0);
      for (const json& face : fj.at("faces")) {
        AlignedFace af;
        af.face_index = face.value("index", int(f.faces.size()));
        af.file = face.value("file", std::string());
        const json& r = face.at("rect");
        FACET_CHECK(r.size() == 4, what, ": frame ", f.frame, ": 'rect' must be [left, top, right, bottom]");
        for (int i = 0; i < 4; ++i) af.rect[i] = r[i].get<double>();
        for (const json& p : face.at("landmarks")) af.landmarks.emplace_back(p.at(0).get<double>(), p.at(1).get<double>());
        FACET_CHECK(af.landmarks.size() == 68, what, ": frame ", f.frame, ": face has ", af.landmarks.size(),
                    " landmarks, expected 68");
        const json& m = face.at("image_to_face_mat");
        FACET_CHECK(m.size() == 2 && m[0].size() == 3 && m[1].size() == 3, what, ": frame ", f.frame,
                    ": 'image_to_face_mat' must be 2x3");
        for (int rr = 0; rr < 2; ++rr)
          for (int c = 0; c < 3; ++c) af.image_to_face(rr, c) = m[rr][c].get<double>();
        f.faces.push_back(std::move(af));
      }
      a.frames.push_back(std::move(f));
    }
  } catch (const json::exception& e) {
    throw Error(what + ": malformed alignments (" + e.what() + ")");
  }
  a.sort();
  for (size_t i = 1; i < a.frames.size(); ++i)
    FACET_CHECK(a.frames[i].frame != a.frames[i - 1].frame, what, ": frame ", a.frames[i].frame, " is listed twice");
  return a;
}

void save_alignments(const std::string& path, const Alignments& a) { write_string_atomically(path, alignments_to_json(a)); }

Alignments load_alignments(const std::string& path, const std::string& faces_dir, std::vector<std::string>* removed) {
  const std::vector<uint8_t> bytes = read_file_bytes(path);
  Alignments a = alignments_from_json(std::string(bytes.begin(), bytes.end()), path);
  if (faces_dir.empty()) return a;
  FACET_CHECK(fs::is_directory(faces_dir), faces_dir, ": faces folder does not exist");
  for (FrameAlignments& f : a.frames) {
    auto gone = [&](const AlignedFace& face) {
      const bool missing = face.file.empty() || !fs::exists(fs::path(faces_dir) / face.file);
      if (missing && removed) removed->push_back(face.file);
      return missing;
    };
    f.faces.erase(std::remove_if(f.faces.begin(), f.faces.end(), gone), f.faces.end());
  }
  return a;
}

Alignments alignments_from_face_set(const FaceSet& set, const std::string& source) {
  Alignments a;
  a.source = source;
  std::map<int64_t, FrameAlignments> frames;
  bool first = true;
  for (const FaceSetEntry& e : set.faces) {
    const FaceMetadata& m = e.meta;
    if (!source.empty() && m.source_filename != source) continue;
    if (first) a.face_type = m.face_type, a.face_size = m.width, first = false;
    if (a.source.empty()) a.source = m.source_filename;
    FrameAlignments& f = frames[m.source_frame];
    f.frame = m.source_frame;
    f.faces.push_back({m.face_index, e.filename, m.source_rect, m.source_landmarks, m.image_to_face});
  }
  for (auto& [k, f] : frames) a.frames.push_back(std::move(f));
  a.sort();
  return a;
}

}  // namespace facet::faces
