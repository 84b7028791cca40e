// The trainer's side of one SAEHD training iteration: the run's model, parameters and optimizer
// built from its model record, the face banks placed from host faces (device memory, pinned or
// ordinary host memory), the shuffled-epoch samplers that pick each batch (Philox), and a test
// seam on the batches. The iteration itself (augmentation, forward, loss, backward, update, the
// device-side loss window and the NaN handling) is engine/models/saehd_train_step.h, the one the
// benchmarks run too. A NaN never reaches the weights that are saved, since the trainer reads the
// losses before every checkpoint.
#pragma once
#include <cstdint>
#include <functional>
#include <memory>
#include <vector>

#include "engine/augment/augment.h"
#include "engine/core/context.h"
#include "engine/models/saehd_model.h"
#include "engine/models/saehd_train_step.h"
#include "engine/optim/optimizer.h"
#include "pipeline/train/face_sampler.h"
#include "pipeline/train/train_options.h"
#include "pipeline/train/training_faces.h"

namespace facet::train {

using models::NanCheck;

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

  using Losses = models::SaehdTrainStep::Losses;
  // Reads the pending losses (a device sync), checks them, snapshots or rolls back.
  Losses read_losses() { return core_->read_losses(); }
  int64_t pending() const { return core_->pending(); }
  // Declares the current weights verified (after loading a checkpoint): the rollback point.
  void mark_verified() { core_->mark_verified(); }

  models::SaehdModel& model() { return *model_; }
  ParameterBuffer& params() { return *params_; }
  Optimizer& optimizer() { return *opt_; }
  FaceSampler& src_sampler() { return src_sampler_; }
  FaceSampler& dst_sampler() { return dst_sampler_; }
  const TrainingBank& src_bank() const { return src_bank_; }
  const TrainingBank& dst_bank() const { return dst_bank_; }
  bool checks_each_step() const { return core_->checks_each_step(); }
  BatchHook on_batch;

 private:
  void setup_colour_transfer(const HostFaces& src, const HostFaces& dst);

  Context& ctx_;
  ModelRecord rec_;
  std::unique_ptr<models::SaehdModel> model_;
  std::unique_ptr<ParameterBuffer> params_;
  std::unique_ptr<Optimizer> opt_;
  TrainingBank src_bank_, dst_bank_;
  FaceBank ct_copy_;                   // dst images where the src bank is, when the two banks are apart (rct)
  const FaceBank* src_ct_ = nullptr;   // the dst faces rct recolours src samples toward; null: ct_mode none
  FaceSampler src_sampler_, dst_sampler_;
  std::vector<int32_t> src_idx_, dst_idx_;
  std::unique_ptr<models::SaehdTrainStep> core_;
};

}  // namespace facet::train
