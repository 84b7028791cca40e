// `facet train`: the loop a user leaves running for days. Around TrainStep it adds the model
// folder (create or resume, options.json, checkpoints, backups), the loss history and curve,
// previews, the status line, and every way of stopping: the target iteration, autosave every N
// minutes, SIGINT / SIGTERM (saved at the next step boundary, then a clean return).
//
// Resume is exact: the checkpoint holds the weights, the optimizer state, the iteration, the
// Philox position and the two samplers' positions, so a run stopped at iteration k and resumed
// draws the same batches and (in deterministic mode) computes bit-identical losses and weights to
// a run that never stopped.
#pragma once
#include <cstdint>
#include <functional>
#include <memory>
#include <string>

#include "engine/core/context.h"
#include "pipeline/train/model_folder.h"
#include "pipeline/train/precision.h"
#include "pipeline/train/train_options.h"
#include "pipeline/train/train_step.h"
#include "pipeline/train/training_faces.h"

namespace facet::train {

struct TrainerHooks {
  BatchHook on_batch;                          // see TrainStep::on_batch
  std::function<void(int64_t iteration)> after_step;  // after each iteration (tests raise SIGINT here)
  SaveStageHook on_save_stage;                 // between checkpoint files (tests throw here)
};

struct TrainerConfig {
  std::string src_dir, dst_dir, model_dir;
  std::string pretrain_dir;    // the generic face set both sides use while request/options say pretrain
  TrainRequest request;
  bool cpu = false;            // train on the CPU even when a GPU is present
  bool deterministic = false;  // bit-identical runs (CPU always; deterministic cuDNN algorithms on GPU)
  bool faces_on_host = false;  // GPU: faces in pinned host memory (see TrainStepOptions)
  Precision precision = Precision::Auto;  // auto: bf16 compute on a GPU, f32 on the CPU (bf16 there is refused)
  NanCheck nan_check = NanCheck::Auto;
  int preview_count = 4;       // faces per side in the preview grid
  bool handle_signals = true;  // install the SIGINT / SIGTERM handlers for the run
  // Under masked training, the src faces' surroundings become face colours (training_faces.h:
  // fill_outside_mask). Off only to measure what it does.
  bool fill_src_outside_mask = true;
  std::function<void(const std::string&)> log;  // messages and status lines (default: stdout)
  TrainerHooks hooks;
};

enum class StopReason { TargetReached, Signal };

struct TrainResult {
  int64_t start_iteration = 0, iteration = 0;
  StopReason reason = StopReason::TargetReached;
  int signal = 0;
  bool resumed = false;
  double ms_per_iteration = 0;  // mean over this run's training time (saves and previews excluded)
  float first_src_loss = NAN, first_dst_loss = NAN, last_src_loss = NAN, last_dst_loss = NAN;  // this run
  int64_t nan_skipped = 0;      // in this run
  int saves = 0;
  std::string model_dir;
  std::string precision;        // the compute precision used: "bf16" or "f32"
};

class Trainer {
 public:
  // Loads the faces, creates or resumes the model (options.json is written). Throws facet::Error
  // (options, faces, corrupt checkpoint) with a message naming the problem.
  explicit Trainer(TrainerConfig cfg);
  ~Trainer();

  // Trains until the target iteration or a stop signal; saves before returning.
  TrainResult run();

  // Saves a checkpoint now (reads pending losses first).
  void save();

  int64_t iteration() const;
  Context& context();
  TrainStep& step();
  const ModelRecord& record() const;
  const ModelFolder& folder() const;
  // Names and skipped files of the loaded faces (the pixels are released once on the device).
  const HostFaces& src_faces() const;
  const HostFaces& dst_faces() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> p_;
};

// The architecture summary `facet train --dry-run` prints: per part the layers (name, kernel,
// channels, output size, parameters), per-part and total parameter counts, FLOPs per image and
// per iteration at `batch` faces per side.
std::string architecture_summary(const ModelRecord& rec);

}  // namespace facet::train
