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

// A plausible frontal 68-point face in template units: the 33 template points exactly, the jaw
// symmetric about the nose line x = 0.490127 (so estimate_averaged_yaw is 0), and a mouth.
inline faces::Landmarks synthetic_face_template() {
  faces::Landmarks l(68);
  const auto& t = faces::template_landmarks();
  const auto& idx = faces::template_landmark_indices();
  for (int i = 0; i < 33; ++i) l[idx[i]] = t[i];
  const double cx = 0.490127;
  for (int i = 0; i <= 8; ++i) {  // jaw from the right temple (0) to the chin (8), mirrored for 9..16
    const double a = (i / 8.0) * (3.14159265358979 / 2);
    const faces::Point p(cx - 0.52 * std::cos(a), 0.22 + 0.78 * std::sin(a));
    l[i] = p;
    l[16 - i] = faces::Point(2 * cx - p.x, p.y);
  }
  const double mouth[][2] = {{0.340985, 0.745405}, {0.428858, 0.727388}, {0.490127, 0.742578}, {0.551395, 0.727388},
                             {0.639268, 0.745405}, {0.642159, 0.864805}, {0.556721, 0.902192}, {0.490127, 0.909281},
                             {0.423532, 0.902192}, {0.338094, 0.864805}, {0.290379, 0.784792}, {0.428096, 0.778746},
                             {0.490127, 0.785343}, {0.552157, 0.778746}, {0.689874, 0.784792}, {0.553364, 0.824182},
                             {0.490127, 0.831803}, {0.42689, 0.824182}};
  int k = 0;
  for (int i = 49; i < 68; ++i)
    if (i != 54) l[i] = faces::Point(mouth[k][0], mouth[k][1]), ++k;
  return l;
}

// The synthetic face placed in a frame by a similarity: scale s, rotation `angle` (radians), then shift.
inline faces::Landmarks place_face(const faces::Landmarks& t, double s, double angle, faces::Point shift) {
  faces::Landmarks out;
  const double c = std::cos(angle) * s, sn = std::sin(angle) * s;
  for (const auto& p : t) out.emplace_back(c * p.x - sn * p.y + shift.x, sn * p.x + c * p.y + shift.y);
  return out;
}

}  // namespace facet::testing
