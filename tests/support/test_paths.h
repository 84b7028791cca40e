// Where tests find their inputs: fixtures committed under tests/fixtures/, and the downloaded
// assets (face models, sample videos) in $FACET_ASSETS or <repo>/assets (scripts/fetch-assets.sh).
#pragma once
#include <cstdlib>
#include <fstream>
#include <string>

namespace facet::test {

inline std::string repo_dir() {
#if defined(FACET_TEST_SOURCE_DIR)
  return FACET_TEST_SOURCE_DIR;  // set by tests/CMakeLists.txt: absolute even when a compiler cache makes __FILE__ relative
#else
  std::string f = __FILE__;  // <repo>/tests/support/test_paths.h
  return f.substr(0, f.rfind("/tests/support/"));
#endif
}
inline std::string fixture_path(const std::string& rel) { return repo_dir() + "/tests/fixtures/" + rel; }
inline std::string asset_path(const std::string& name) {
  const char* env = std::getenv("FACET_ASSETS");
  return (env && *env ? std::string(env) : repo_dir() + "/assets") + "/" + name;
}
inline bool file_exists(const std::string& p) { return std::ifstream(p).good(); }

}  // namespace facet::test
