// One SAEHD training iteration, the single definition the trainer (pipeline/train/train_step.h),
// `facet bench train` and bench/bench_train_step.cpp all run:
//   augment both batches from their uint8 face banks (on the device) -> forward src and dst ->
//   SAEHD loss per side (+ DFL's style terms on the src side) -> backward of the batch sum ->
//   optimizer step. Under mixed precision the f32 masters are cast once per step.
// The caller owns the model, its parameter buffer, the optimizer and the banks (they outlive the
// step) and picks the sample indices; the step only computes. It never waits for the device:
// each side's batch-mean loss is copied into a small device window, and read_losses() (called
// every N iterations for a status line) is the only sync. A steady-state step allocates nothing
// beyond what the ops' caching allocator serves (the batches and scratch are reused).
//
// Non-finite losses. A NaN/Inf loss must not update the weights. Where reading the loss is free
// (the CPU backend) it is checked before backward and the update is skipped exactly. On a GPU
// that check would be a sync per step, so it happens at read_losses(): the step keeps a device
// copy of the weights and optimizer state as of the previous read (taken only when all losses
// read were finite), and a non-finite loss in the window restores it, discarding that window's
// updates (the iteration counter and the random stream go on).
//
// Banks the device cannot read (ordinary host memory under a CUDA context) are augmented on the
// CPU with the very parameters the device would draw (same seed and offset) and uploaded.
#pragma once
#include <cstdint>
#include <memory>
#include <vector>

#include "engine/augment/augment.h"
#include "engine/core/context.h"
#include "engine/models/saehd_loss.h"
#include "engine/models/saehd_model.h"
#include "engine/optim/optimizer.h"
#include "engine/optim/parameter_buffer.h"

namespace facet::models {

enum class NanCheck {
  Auto,      // EachStep on the CPU, AtRead on a GPU
  EachStep,  // read the loss before every update and skip it exactly (a sync per step on a GPU)
  AtRead,    // check at read_losses() and roll back to the last verified state
};

struct SaehdTrainStepOptions {
  SaehdLossConfig loss;
  AugmentOptions src_augment, dst_augment;
  double face_style_power = 0, bg_style_power = 0;  // DFL's style terms, added to the src loss
  NanCheck nan_check = NanCheck::Auto;
  int64_t loss_window = 10;  // capacity: read_losses() must be called at least this often
};

// The faces a run learns from. src_colour: the dst faces rct recolours src samples toward, where
// the src bank is (null when src_augment.rct is off).
struct SaehdTrainBanks {
  const FaceBank* src = nullptr;
  const FaceBank* dst = nullptr;
  const FaceBank* src_colour = nullptr;
};

class SaehdTrainStep {
 public:
  SaehdTrainStep(Context& ctx, SaehdModel& model, ParameterBuffer& params, Optimizer& optimizer,
                 const SaehdTrainBanks& banks, const SaehdTrainStepOptions& opt);
  ~SaehdTrainStep();

  // A whole iteration: build_batches then update.
  bool step(const std::vector<int32_t>& src_indices, const std::vector<int32_t>& dst_indices) {
    build_batches(src_indices, dst_indices);
    return update();
  }
  // The two halves, so that a caller may look at (or change) the batches in between. Each throws
  // when pending() == the loss window (read_losses() was not called), as does check_window().
  void check_window() const;
  void build_batches(const std::vector<int32_t>& src_indices, const std::vector<int32_t>& dst_indices);
  // Forward, loss, backward and update on the batches built. Returns false when the update was
  // skipped right away for a non-finite loss (NanCheck::EachStep).
  bool update();
  AugmentedBatch& src_batch() { return src_batch_; }
  AugmentedBatch& dst_batch() { return dst_batch_; }

  struct Losses {
    std::vector<float> src, dst;  // batch means of the iterations since the last read, in order
    int64_t skipped = 0;          // updates discarded by this read (rollback) or skipped since the last read
    bool rolled_back = false;
  };
  // Reads the pending losses (a device sync), checks them, snapshots or rolls back.
  Losses read_losses();
  int64_t pending() const { return pending_; }
  // Declares the current weights verified (after loading a checkpoint): the rollback point.
  void mark_verified() {
    if (!each_step_) take_snapshot();
  }
  bool checks_each_step() const { return each_step_; }

 private:
  void build_batch(const FaceBank& bank, Augmenter& aug, const std::vector<int32_t>& idx, AugmentedBatch& host,
                   AugmentedBatch& out, const FaceBank* colour);
  void take_snapshot();
  void restore_snapshot();

  Context& ctx_;
  SaehdModel& model_;
  ParameterBuffer& params_;
  Optimizer& opt_;
  SaehdTrainBanks banks_;
  SaehdLossConfig loss_cfg_;
  double face_style_ = 0, bg_style_ = 0;
  std::unique_ptr<Context> host_ctx_;  // augments host-resident banks on the CPU
  Augmenter src_aug_, dst_aug_;
  AugmentedBatch src_batch_, dst_batch_, src_host_, dst_host_;
  Tensor win_src_, win_dst_;  // [window] batch-mean losses on the device
  int64_t window_ = 10, pending_ = 0, skipped_since_read_ = 0;
  bool each_step_ = true;
  // Last verified-finite weights and optimizer state (lazy checking only).
  Tensor snap_params_;
  std::vector<Tensor> snap_state_;
  int64_t snap_opt_iter_ = 0;
};

}  // namespace facet::models
