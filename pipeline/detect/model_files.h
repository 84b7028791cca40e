// Where the face models are. They are never committed: scripts/fetch-assets.sh downloads them
// (sha256-checked) into the repository's assets/ folder. Lookup order: an explicit folder (the
// --assets option), $FACET_ASSETS, then an assets/ folder holding the models next to or above
// the running executable (a build folder inside the repository finds <repo>/assets), then one next
// to or above the current directory. A missing model is an error that says how to fetch it.
#pragma once
#include <string>
#include <vector>

#include "pipeline/detect/blazeface.h"

namespace facet::detect {

struct ModelPaths {
  std::string assets_dir;  // the folder the models were found in
  std::string detector;    // face_detection_{short,full}_range.tflite
  std::string landmark;    // face_landmark.tflite
};

// The folders searched, in order (for messages and tests). `explicit_dir` may be empty.
std::vector<std::string> asset_search_path(const std::string& explicit_dir);

// Finds the folder holding the detector of `kind` and the landmark model. An explicit folder or
// $FACET_ASSETS must hold them (no fallback past a folder the user named). Throws facet::Error
// naming the missing file, the folders searched, and "run scripts/fetch-assets.sh".
ModelPaths find_models(DetectorKind kind, const std::string& explicit_dir = "");

}  // namespace facet::detect
