// Shared helpers for the pipeline tests: where the sample videos are, scratch folders, running
// the ffmpeg/ffprobe command-line tools when present (only to build inputs and cross-check), and
// a synthetic 68-point face in template units.
#pragma once
#include <cstdio>
#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <functional>
#include <string>
#include <vector>

#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include "engine/core/error.h"
#include "pipeline/faces/align.h"
#include "pipeline/train/synthetic_faces.h"

namespace facet::testing {

// $FACET_ASSETS/name, else <source>/assets/name; "" when neither exists.
inline std::string asset_path(const std::string& name) {
  namespace fs = std::filesystem;
  if (const char* env = std::getenv("FACET_ASSETS"))
    if (fs::exists(fs::path(env) / name)) return (fs::path(env) / name).string();
#ifdef FACET_SOURCE_ASSETS
  if (fs::exists(fs::path(FACET_SOURCE_ASSETS) / name)) return (fs::path(FACET_SOURCE_ASSETS) / name).string();
#endif
  return "";
}

#define FACET_REQUIRE_ASSET(var, name)                                                                  \
  const std::string var = ::facet::testing::asset_path(name);                                          \
  if (var.empty()) GTEST_SKIP() << "asset " << name << " not found (run scripts/fetch-assets.sh or set " \
                                   "FACET_ASSETS)"

// A fresh empty folder under the system temp dir, removed by the destructor.
class ScratchDir {
 public:
  explicit ScratchDir(const std::string& tag) {
    namespace fs = std::filesystem;
    path_ = (fs::temp_directory_path() / ("facet_test_" + tag + "_" + std::to_string(::getpid()))).string();
    fs::remove_all(path_);
    fs::create_directories(path_);
  }
  ~ScratchDir() {
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
  }
  const std::string& path() const { return path_; }
  std::string file(const std::string& name) const { return (std::filesystem::path(path_) / name).string(); }

 private:
  std::string path_;
};

inline bool have_tool(const std::string& tool) {
  return std::system(("command -v " + tool + " >/dev/null 2>&1").c_str()) == 0;
}

// Runs a shell command, returns its stdout ("" on failure).
inline std::string run_capture(const std::string& cmd) {
  std::string out;
  if (FILE* p = ::popen(cmd.c_str(), "r")) {
    char buf[4096];
    size_t n;
    while ((n = std::fread(buf, 1, sizeof buf, p)) > 0) out.append(buf, n);
    ::pclose(p);
  }
  return out;
}

// The message of the facet::Error that f() throws, or "" when it throws none.
inline std::string error_of(const std::function<void()>& f) {
  try {
    f();
  } catch (const Error& e) {
    return e.what();
  }
  return "";
}

// The facet binary of the same build (bin/facet beside tests/), or "" when it was not built.
inline std::string facet_binary() {
  namespace fs = std::filesystem;
  std::error_code ec;
  const fs::path self = fs::read_symlink("/proc/self/exe", ec);
  if (ec) return "";
  for (const fs::path& p : {self.parent_path() / "../../bin/facet", self.parent_path() / "../bin/facet"})
    if (fs::exists(p)) return fs::canonical(p).string();
  return "";
}

#define FACET_REQUIRE_BINARY(var)                       \
  const std::string var = ::facet::testing::facet_binary(); \
  if (var.empty()) GTEST_SKIP() << "facet binary not built next to the tests"

// Runs a shell command with its output discarded; its exit code (-1 when it did not exit).
inline int exit_code_of(const std::string& cmd) {
  const int st = std::system((cmd + " >/dev/null 2>&1").c_str());
  return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

// The synthetic faces' frontal 68-point face in template units (train::synthetic_frontal_landmarks).
inline faces::Landmarks synthetic_face_template() { return train::synthetic_frontal_landmarks(); }

// The synthetic face placed in a frame by a similarity: scale s, rotation `angle` (radians), then shift.
inline faces::Landmarks place_face(const faces::Landmarks& t, double s, double angle, faces::Point shift) {
  faces::Landmarks out;
  const double c = std::cos(angle) * s, sn = std::sin(angle) * s;
  for (const auto& p : t) out.emplace_back(c * p.x - sn * p.y + shift.x, sn * p.x + c * p.y + shift.y);
  return out;
}

}  // namespace facet::testing
