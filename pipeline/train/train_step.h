// One SAEHD training iteration, the part the trainer and the benchmark share:
//   sample src and dst indices (shuffled epochs, Philox) -> augment both batches where the model
//   trains -> forward both sides -> SAEHD loss per side -> backward of the batch sum -> optimizer.
// The step never waits for the device: each side's batch-mean loss is copied into a small device
// window, and read_losses() (called every N iterations for the status line) is the only sync.
//
// Non-finite losses. A NaN/Inf loss must not update the weights. Where reading the loss is free
// (the CPU backend) it is checked before backward and the update is skipped exactly. On a GPU
// that check would be a sync per step, so it happens at read_losses(): the step keeps a device
// copy of the weights and optimizer state as of the previous read (taken only when all losses
// read were finite), and a non-finite loss in the window restores it, discarding that window's
// updates (the iteration counter and the random stream go on). Either way a NaN never reaches
// the weights that are saved, since the trainer reads the losses before every checkpoint.
#pragma once
#include <cstdint>
#include <functional>
#include <memory>
#include <vector>

#include "engine/augment/augment.h"
#include "engine/core/context.h"
#include "engine/models/saehd_loss.h"
#include "engine/models/saehd_model.h"
#include "engine/optim/optimizer.h"
#include "pipeline/train/face_sampler.h"
#include "pipeline/train/train_options.h"
#include "pipeline/train/training_faces.h"

namespace facet::train {

enum class NanCheck {
  Auto,      // EachStep on the CPU, AtRead on a GPU
  EachStep,  // read the loss before every update and skip it exactly (a sync per step on a GPU)
  AtRead,    // check at read_losses() and roll back to the last verified state
};

struct TrainStepOptions {
  bool faces_on_host = false;  // GPU: faces in pinned host memory even when they fit in device memory
  NanCheck nan_check = NanCheck::Auto;
  int64_t loss_window = 10;    // capacity: read_losses() must be called at least this often
};

// Test seam: sees (and may modify) each side's augmented batch before the forward.
using BatchHook = std::function<void(int64_t iteration, AugmentedBatch& src, AugmentedBatch& dst)>;

std::unique_ptr<Optimizer> make_optimizer(Context& ctx, ParameterBuffer& params, const std::string& name,
                                          const TrainSettings& s);

class TrainStep {
 public:
  TrainStep(Context& ctx, const ModelRecord& rec, const HostFaces& src, const HostFaces& dst,
            const TrainStepOptions& opt);
  ~TrainStep();

  // Runs iteration number `iteration` (1-based; for hooks and logs). Returns false when the
  // update was skipped right away for a non-finite loss (NanCheck::EachStep). Throws when
  // pending() == the loss window (read_losses() was not called).
  bool step(int64_t iteration);

  struct Losses {
    std::vector<float> src, dst;  // batch means of the iterations since the last read, in order
    int64_t skipped = 0;          // updates discarded by this read (rollback) or skipped since the last read
    bool rolled_back = false;
  };
  // Reads the pending losses (a device sync), checks them, snapshots or rolls back.
  Losses read_losses();
  int64_t pending() const { return pending_; }
  // Declares the current weights verified (after loading a checkpoint): the rollback point.
  void mark_verified() { if (!each_step_) take_snapshot(); }

  models::SaehdModel& model() { return *model_; }
  ParameterBuffer& params() { return *params_; }
  Optimizer& optimizer() { return *opt_; }
  FaceSampler& src_sampler() { return src_sampler_; }
  FaceSampler& dst_sampler() { return dst_sampler_; }
  const TrainingBank& src_bank() const { return src_bank_; }
  const TrainingBank& dst_bank() const { return dst_bank_; }
  bool checks_each_step() const { return each_step_; }
  BatchHook on_batch;


 private:
  void build_batch(const TrainingBank& tb, Augmenter& aug, const std::vector<int32_t>& idx, AugmentedBatch& host,
                   AugmentedBatch& out, const FaceBank* ct);
  void setup_colour_transfer(const HostFaces& src, const HostFaces& dst);
  void take_snapshot();
  void restore_snapshot();

  Context& ctx_;
  ModelRecord rec_;
  models::SaehdLossConfig loss_cfg_;
  TrainSettings effective_;  // the settings in effect (pretrain_overrides)
  std::unique_ptr<models::SaehdModel> model_;
  std::unique_ptr<ParameterBuffer> params_;
  std::unique_ptr<Optimizer> opt_;
  TrainingBank src_bank_, dst_bank_;
  std::unique_ptr<Context> host_ctx_;  // augments host-resident banks on the CPU
  FaceBank ct_copy_;                   // dst images where the src bank is, when the two banks are apart (rct)
  const FaceBank* src_ct_ = nullptr;   // the dst faces rct recolours src samples toward; null: ct_mode none
  Augmenter src_aug_, dst_aug_;
  FaceSampler src_sampler_, dst_sampler_;
  std::vector<int32_t> src_idx_, dst_idx_;
  AugmentedBatch src_batch_, dst_batch_, src_host_, dst_host_;
  Tensor win_src_, win_dst_;  // [window] batch-mean losses on the device
  int64_t window_ = 10, pending_ = 0, skipped_since_read_ = 0;
  bool each_step_ = true;
  // Last verified-finite weights and optimizer state (lazy checking only).
  Tensor snap_params_;
  std::vector<Tensor> snap_state_;
  int64_t snap_opt_iter_ = 0;
};

}  // namespace facet::train
