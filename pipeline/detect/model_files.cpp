// Model lookup (see model_files.h).
#include "pipeline/detect/model_files.h"

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <system_error>

#include "engine/core/error.h"
#include "pipeline/detect/face_mesh.h"

namespace facet::detect {

namespace fs = std::filesystem;

namespace {

// `start`/assets, then the same in each parent folder up to the root.
void add_upwards(fs::path start, std::vector<std::string>& out) {
  std::error_code ec;
  start = fs::weakly_canonical(start, ec);
  if (ec || start.empty()) return;
  for (fs::path p = start;; p = p.parent_path()) {
    const std::string d = (p / "assets").string();
    if (std::find(out.begin(), out.end(), d) == out.end()) out.push_back(d);
    if (p == p.parent_path()) break;
  }
}

fs::path executable_dir() {
  std::error_code ec;
  const fs::path exe = fs::read_symlink("/proc/self/exe", ec);
  return ec ? fs::path() : exe.parent_path();
}

bool has_models(const std::string& dir, const char* detector_file) {
  std::error_code ec;
  return fs::is_regular_file(fs::path(dir) / detector_file, ec) && fs::is_regular_file(fs::path(dir) / kFaceLandmarkFile, ec);
}

}  // namespace

std::vector<std::string> asset_search_path(const std::string& explicit_dir) {
  std::vector<std::string> dirs;
  if (!explicit_dir.empty()) return {explicit_dir};
  if (const char* env = std::getenv("FACET_ASSETS"); env && *env) return {env};
  const fs::path exe = executable_dir();
  if (!exe.empty()) add_upwards(exe, dirs);
  std::error_code ec;
  const fs::path cwd = fs::current_path(ec);
  if (!ec) add_upwards(cwd, dirs);
  return dirs;
}

ModelPaths find_models(DetectorKind kind, const std::string& explicit_dir) {
  const DetectorSpec& spec = detector_spec(kind);
  const std::vector<std::string> dirs = asset_search_path(explicit_dir);
  for (const auto& d : dirs) {
    if (!has_models(d, spec.file)) continue;
    return {d, (fs::path(d) / spec.file).string(), (fs::path(d) / kFaceLandmarkFile).string()};
  }
  std::string where;
  for (const auto& d : dirs) where += (where.empty() ? "" : ", ") + d;
  const char* origin = !explicit_dir.empty() ? " (--assets)" : std::getenv("FACET_ASSETS") ? " ($FACET_ASSETS)" : "";
  throw Error(std::string("face models not found: need ") + spec.file + " and " + kFaceLandmarkFile + " in " +
              (dirs.size() == 1 ? "" : "one of ") + (where.empty() ? std::string("(no folder)") : where) + origin +
              ". Run scripts/fetch-assets.sh to download them, or point --assets / FACET_ASSETS at their folder.");
}

}  // namespace facet::detect
