// The model folder: everything a training run needs to stop at any moment and continue exactly
// where it stopped, and everything merge needs to use the model.
//
//   options.json                    ModelRecord: fixed options, current settings, change log
//   state.json                      the commit record of the latest checkpoint (TrainState)
//   weights-<iter>.safetensors      parameters under DFL's names (encoder/..., decoder_src/...)
//   optimizer-<iter>.safetensors    optimizer state per parameter ("m/encoder/...") + "iterations"
//   loss_history.csv                iteration,src_loss,dst_loss (one row per iteration)
//   loss_curve.png, previews/       written beside them
//   backups/<iter>/                 the last K checkpoints (hard links where possible)
//
// Crash safety: a checkpoint spans several files, so no single atomic write covers it. Each
// save writes its tensor files under NEW names (atomically, engine/io/atomic_file.h), and only
// then replaces state.json (atomically), which names the files of the checkpoint it commits;
// files of older checkpoints are deleted after that. A kill at any point leaves state.json
// naming a complete, consistent set: the previous one or the new one.
#pragma once
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "engine/core/context.h"
#include "engine/models/saehd_model.h"
#include "engine/optim/optimizer.h"
#include "pipeline/train/epoch_sampler.h"
#include "pipeline/train/train_options.h"

namespace facet::train {

inline constexpr int kStateFormatVersion = 1;

struct TrainState {
  int64_t iteration = 0;                 // completed iterations
  uint64_t rng_seed = 0, rng_offset = 0; // the context's Philox position after `iteration`
  SamplerState src_sampler, dst_sampler;
  int64_t src_faces = 0, dst_faces = 0;  // face counts the samplers were drawing from
  std::string weights_file, optimizer_file;  // names inside the folder
  int64_t loss_csv_bytes = 0;            // loss_history.csv is valid up to here
  int64_t nan_skipped = 0;               // iterations skipped for a non-finite loss, all runs
  double train_seconds = 0;              // wall time spent training, all runs
  std::string precision;                 // compute precision of the run that saved it ("bf16", "f32"; "" = older file)
  std::string saved_utc;
};

std::string train_state_to_json(const TrainState& s);
TrainState train_state_from_json(const std::string& text, const std::string& what);

class ModelFolder {
 public:
  explicit ModelFolder(std::string dir);
  const std::string& dir() const { return dir_; }
  std::string file(const std::string& name) const;  // dir/name
  std::string options_path() const { return file("options.json"); }
  std::string state_path() const { return file("state.json"); }
  std::string loss_csv_path() const { return file("loss_history.csv"); }
  std::string loss_curve_path() const { return file("loss_curve.png"); }
  std::string previews_dir() const { return file("previews"); }
  std::string backups_dir() const { return file("backups"); }

  bool has_options() const;
  bool has_checkpoint() const;
  ModelRecord read_options() const;
  void write_options(const ModelRecord& r) const;  // atomic
  TrainState read_state() const;

 private:
  std::string dir_;
};

// The parameter tensors and optimizer state under checkpoint names. Parameter names come from
// the model's state dict; optimizer state is per parameter, "<state>/<parameter name>", plus
// "iterations".
using NamedTensorList = std::vector<std::pair<std::string, Tensor>>;
NamedTensorList checkpoint_weights(const nn::Module& model);
NamedTensorList checkpoint_optimizer_state(const nn::Module& model, Optimizer& opt);

// Called between the stages of a save ("weights", "optimizer", "state"); tests throw from it to
// simulate a process killed half-way through a checkpoint.
using SaveStageHook = std::function<void(const std::string& stage)>;

// Writes a checkpoint of `model` and `opt` at state.iteration and commits it (state.json).
// Fills state.weights_file / optimizer_file / saved_utc. Old checkpoint files are removed.
void save_checkpoint(Context& ctx, const ModelFolder& folder, const models::SaehdModel& model, Optimizer& opt,
                     TrainState& state, const SaveStageHook& hook = {});
// The same for any module (a mask model's folder keeps this layout too), with the checkpoint
// files' metadata ("facet.model", ...; "facet.iteration" is added).
void save_module_checkpoint(Context& ctx, const ModelFolder& folder, const nn::Module& model, Optimizer& opt,
                            TrainState& state, std::map<std::string, std::string> meta, const SaveStageHook& hook = {});

// Loads the checkpoint that state.json commits into an existing model and optimizer (same
// options). Throws facet::Error naming the file on any mismatch or corruption.
void load_checkpoint(Context& ctx, const ModelFolder& folder, const TrainState& state, nn::Module& model,
                     Optimizer& opt);

// Copies (hard-links where possible) the committed checkpoint into backups/<iteration>/ and
// keeps the newest `keep` backups. Returns the backup folder ("" when keep == 0).
std::string make_backup(const ModelFolder& folder, const TrainState& state, int keep);

// For merge and tools: builds the model from options.json and loads the latest weights.
std::unique_ptr<models::SaehdModel> load_trained_model(Context& ctx, const std::string& model_dir,
                                                       ModelRecord* record = nullptr, TrainState* state = nullptr);

}  // namespace facet::train
