// Face set summary (see faceset_info.h).
#include "pipeline/tools/faceset_info.h"

#include <algorithm>
#include <cctype>
#include <filesystem>

#include <nlohmann/json.hpp>

#include "pipeline/faces/face_type.h"

namespace facet::tools {

namespace fs = std::filesystem;

namespace {

std::string ext_of(const std::string& name) {
  std::string e = fs::path(name).extension().string();
  for (char& c : e) c = char(std::tolower(static_cast<unsigned char>(c)));
  if (!e.empty()) e.erase(0, 1);
  return e == "jpeg" ? "jpg" : e;
}

std::string counts(const std::map<std::string, int64_t>& m) {
  std::string s;
  for (const auto& [k, v] : m) s += (s.empty() ? "" : ", ") + k + " (" + std::to_string(v) + ")";
  return s.empty() ? "-" : s;
}

}  // namespace

FaceSetSummary summarize_face_set(const std::string& dir, bool decode_pixels) {
  faces::FaceSetOptions o;
  o.decode_pixels = decode_pixels;
  const faces::FaceSet set = faces::load_face_set(dir, o);
  FaceSetSummary s;
  s.dir = dir;
  s.faces = int64_t(set.faces.size());
  s.skipped = set.skipped;
  std::map<std::string, std::map<int64_t, int>> frames;  // source -> frame -> faces
  std::map<std::string, int64_t> per_source;
  for (const faces::FaceSetEntry& e : set.faces) {
    ++s.face_types[faces::face_type_name(e.meta.face_type)];
    ++s.sizes[std::to_string(e.meta.width) + "x" + std::to_string(e.meta.height)];
    ++s.formats[ext_of(e.filename)];
    ++per_source[e.meta.source_filename];
    if (e.meta.source_frame >= 0) ++frames[e.meta.source_filename][e.meta.source_frame];
    std::error_code ec;
    const auto n = fs::file_size(e.path, ec);
    if (!ec) s.bytes += int64_t(n);
  }
  for (const auto& [name, n] : per_source) {
    FaceSetSource src;
    src.name = name;
    src.faces = n;
    const auto it = frames.find(name);
    if (it != frames.end() && !it->second.empty()) {
      src.frames = int64_t(it->second.size());
      src.first_frame = it->second.begin()->first;
      src.last_frame = it->second.rbegin()->first;
      for (const auto& [f, c] : it->second) src.multi_face_frames += c > 1;
    }
    s.sources.push_back(src);
  }
  std::error_code ec;
  for (const auto& de : fs::directory_iterator(dir, ec)) {
    const std::string name = de.path().filename().string();
    const std::string suffix = ".alignments.json";
    if (name.size() > suffix.size() && name.compare(name.size() - suffix.size(), suffix.size(), suffix) == 0)
      s.alignments_files.push_back(name);
  }
  std::sort(s.alignments_files.begin(), s.alignments_files.end());
  return s;
}

std::string format_face_set_summary(const FaceSetSummary& s, int max_skipped) {
  char buf[512];
  std::string out;
  std::snprintf(buf, sizeof buf, "face set:    %s\n", s.dir.c_str());
  out += buf;
  std::snprintf(buf, sizeof buf, "faces:       %lld (%.1f MB)\n", static_cast<long long>(s.faces), s.bytes / 1e6);
  out += buf;
  out += "face types:  " + counts(s.face_types) + "\n";
  out += "sizes:       " + counts(s.sizes) + "\n";
  out += "formats:     " + counts(s.formats) + "\n";
  out += "sources:     " + (s.sources.empty() ? std::string("-") : std::to_string(s.sources.size())) + "\n";
  for (const FaceSetSource& src : s.sources) {
    std::snprintf(buf, sizeof buf, "  %-30s %lld faces", src.name.empty() ? "(unknown)" : src.name.c_str(),
                  static_cast<long long>(src.faces));
    out += buf;
    if (src.frames > 0) {
      std::snprintf(buf, sizeof buf, " in %lld frames (%lld..%lld)", static_cast<long long>(src.frames),
                    static_cast<long long>(src.first_frame), static_cast<long long>(src.last_frame));
      out += buf;
      if (src.multi_face_frames) {
        std::snprintf(buf, sizeof buf, ", %lld frames with several faces", static_cast<long long>(src.multi_face_frames));
        out += buf;
      }
    }
    out += "\n";
  }
  if (!s.alignments_files.empty()) {
    out += "alignments:  ";
    for (size_t i = 0; i < s.alignments_files.size(); ++i) out += (i ? ", " : "") + s.alignments_files[i];
    out += "\n";
  }
  std::snprintf(buf, sizeof buf, "skipped:     %zu\n", s.skipped.size());
  out += buf;
  const size_t shown = max_skipped < 0 ? s.skipped.size() : std::min(s.skipped.size(), size_t(max_skipped));
  for (size_t i = 0; i < shown; ++i) out += "  " + s.skipped[i].filename + ": " + s.skipped[i].reason + "\n";
  if (shown < s.skipped.size()) {
    std::snprintf(buf, sizeof buf, "  ... and %zu more (--all lists them)\n", s.skipped.size() - shown);
    out += buf;
  }
  return out;
}

std::string face_set_summary_json(const FaceSetSummary& s) {
  nlohmann::ordered_json j = {{"dir", s.dir}, {"faces", s.faces}, {"bytes", s.bytes}, {"face_types", s.face_types},
                      {"sizes", s.sizes}, {"formats", s.formats}, {"alignments_files", s.alignments_files}};
  j["sources"] = nlohmann::ordered_json::array();
  for (const FaceSetSource& src : s.sources)
    j["sources"].push_back({{"name", src.name}, {"faces", src.faces}, {"frames", src.frames},
                            {"first_frame", src.first_frame}, {"last_frame", src.last_frame},
                            {"multi_face_frames", src.multi_face_frames}});
  j["skipped"] = nlohmann::ordered_json::array();
  for (const faces::SkippedFile& f : s.skipped) j["skipped"].push_back({{"file", f.filename}, {"reason", f.reason}});
  return j.dump(1) + "\n";
}

}  // namespace facet::tools
