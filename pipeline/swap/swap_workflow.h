// `facet swap`: the whole face swap in one go, over a DeepFaceLab-style workspace:
//
//   ws/data_src.mp4          source-face video (any of .mp4 .mkv .mov .avi .webm .m4v), or frames in ws/data_src/
//   ws/data_dst.mp4          destination video (or frames in ws/data_dst/)
//   ws/data_src/aligned/     source face set + its alignments file      (extract)
//   ws/data_dst/aligned/     destination face set + its alignments file (extract)
//   ws/model/                the model folder (train), with merge_settings.json beside it
//   ws/mask_model/           optional: a mask model (facet mask train). When it holds a trained
//                            one, swap applies it to both face sets after extraction (so masked
//                            training uses its masks) and merges with it (XSeg-prd*XSeg-dst unless
//                            the merge settings say otherwise)
//   ws/result.mp4            the swapped video with the destination's sound (merge)
//
// Every path can be overridden. Each step resumes, so the same command after a Ctrl-C (or after
// a finished run) continues instead of redoing work: extraction skips the frames its alignments
// file already lists; training continues the checkpoint until the target iteration or the time
// budget (summed over runs in ws/model/swap_train_seconds.txt) is reached; merge is skipped when
// the result is newer than the model and the merge settings; an interrupted merge starts over
// (a video file cannot be appended to).
//
// The merge settings are DFL's merger settings as one JSON file (merge_stage_settings.h): read
// from `merge_settings_file` when given, else from ws/model/merge_settings.json when it exists,
// else DFL's defaults; what was used is written back beside the model, so editing that file
// and running swap again re-merges with the new look without retraining.
//
// `facet demo` is this workflow on the sample videos, plus a side-by-side comparison video.
#pragma once
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

namespace facet::swap {

struct SwapOptions {
  std::string workspace = "workspace";
  // "" = the workspace layout above.
  std::string src_video, dst_video, src_faces, dst_faces, model_dir, result;
  std::string comparison;        // "" = none; else a side-by-side (destination | result) video here
  std::string assets_dir;        // face-detection models; "" = the default search
  std::string merge_settings_file;
  std::string mask_model_dir;    // "" = ws/mask_model when it holds a trained mask model

  // extract
  int src_every = 1;             // every Nth source frame (training needs variety, not every frame)
  int dst_every = 1;             // every Nth destination frame (the others merge unchanged)
  int face_size = 0;             // extracted face images (>= the model's resolution); 0 = what an
                                 // existing alignments file was made with, else 256
  // train: stops at whichever comes first; with neither set, train_minutes = 60
  int64_t iterations = 0;        // target iteration (stored in the model's options)
  double train_minutes = 0;      // wall-time budget summed over runs
  std::string preset;            // at model creation; "" = tiny on the CPU, quick96 on a GPU
  int batch = 0;                 // 0 = the model's setting (default 8 GPU, 4 CPU)
  bool cpu = false;              // the CPU even when a GPU is present
  bool force_merge = false;      // merge again even when the result looks up to date
};

struct SwapStep {
  std::string name;              // "extract src", "extract dst", "mask", "train", "merge", "comparison"
  double seconds = 0;
  std::string note;              // what it did, or why it was skipped
};

struct SwapResult {
  bool stopped = false;          // Ctrl-C / SIGTERM: everything done so far is kept
  std::string workspace, src_video, dst_video, src_faces, dst_faces, model_dir, result, comparison, preview;
  std::string mask_model_dir;    // the mask model used ("" = none)
  int64_t iteration = 0;         // the model's iteration at the end
  std::vector<SwapStep> steps;
};

struct SwapReport {
  std::function<void(const std::string&)> log;     // what each step does and did
  std::function<void(const std::string&)> status;  // periodic lines (training's loss line); default: log
  // Progress of the current step (label "extract src", "merge", ...): done of total (0 = unknown),
  // of which `resumed` were done by an earlier run (not part of this run's rate).
  std::function<void(const std::string& step, int64_t done, int64_t total, int64_t resumed)> progress;
};

// The workspace paths filled in (videos found on disk). Throws facet::Error naming the paths
// looked at when a video is neither given nor in the workspace.
SwapOptions resolve_swap_paths(const SwapOptions& opt);

// Runs extract src -> extract dst -> train -> merge (-> comparison). Throws facet::Error naming
// the file and the problem; installs the Ctrl-C handler for its duration (a stop returns with
// `stopped` set after saving).
SwapResult run_swap(const SwapOptions& opt, const SwapReport& report);

// dst | result side by side with labels, frame by frame, with dst's audio (written atomically).
void write_comparison_video(const std::string& dst, const std::string& result, const std::string& out);

}  // namespace facet::swap
