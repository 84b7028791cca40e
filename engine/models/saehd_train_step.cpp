// One SAEHD training iteration (see saehd_train_step.h).
#include "engine/models/saehd_train_step.h"

#include <algorithm>
#include <cmath>

#include "engine/autograd/tape.h"
#include "engine/core/error.h"
#include "engine/ops/elementwise.h"

namespace facet::models {

namespace {

// A bank the augmentation kernels of ctx's device cannot read: ordinary host memory under a GPU
// context (device memory and mapped pinned memory both report the context's device).
bool host_resident(const Context& ctx, const FaceBank& bank) { return bank.device() != ctx.device(); }

}  // namespace

SaehdTrainStep::SaehdTrainStep(Context& ctx, SaehdModel& model, ParameterBuffer& params, Optimizer& optimizer,
                               const SaehdTrainBanks& banks, const SaehdTrainStepOptions& opt)
    : ctx_(ctx),
      model_(model),
      params_(params),
      opt_(optimizer),
      banks_(banks),
      loss_cfg_(opt.loss),
      face_style_(opt.face_style_power),
      bg_style_(opt.bg_style_power),
      src_aug_(opt.src_augment),
      dst_aug_(opt.dst_augment) {
  FACET_CHECK(banks.src && banks.dst, "SaehdTrainStep: both face banks are needed");
  FACET_CHECK(!opt.src_augment.rct || banks.src_colour, "SaehdTrainStep: rct needs the dst faces (src_colour)");
  if (host_resident(ctx, *banks.src) || host_resident(ctx, *banks.dst))
    host_ctx_ = std::make_unique<Context>(Device::cpu(), ctx.seed());
  window_ = std::max<int64_t>(1, opt.loss_window);
  win_src_ = Tensor::zeros(ctx, {window_}, DType::F32, ctx.device());
  win_dst_ = Tensor::zeros(ctx, {window_}, DType::F32, ctx.device());
  each_step_ = opt.nan_check == NanCheck::EachStep || (opt.nan_check == NanCheck::Auto && ctx.device().is_cpu());
  if (!each_step_) take_snapshot();
}

SaehdTrainStep::~SaehdTrainStep() = default;

void SaehdTrainStep::check_window() const {
  FACET_CHECK(pending_ < window_, "training step: ", pending_, " losses pending; call read_losses() first");
}

void SaehdTrainStep::build_batch(const FaceBank& bank, Augmenter& aug, const std::vector<int32_t>& idx,
                                 AugmentedBatch& host, AugmentedBatch& out, const FaceBank* colour) {
  if (!host_resident(ctx_, bank)) {
    aug.run(ctx_, bank, idx, out, colour);
    return;
  }
  // Host bank: the same parameters the device path would draw (same seed and offset), computed on
  // the CPU, then uploaded (an asynchronous copy of a few MB; the GPU waits only for this).
  const uint64_t offset = ctx_.reserve_rng(augment_rng_words(static_cast<int64_t>(idx.size())));
  host_ctx_->set_rng_state(ctx_.seed(), offset);
  aug.run(*host_ctx_, bank, idx, host, colour);
  auto upload = [&](const Tensor& h, Tensor& d) {
    if (!h.defined()) return;
    if (!d.defined() || d.shape() != h.shape() || d.device() != ctx_.device())
      d = Tensor::empty(ctx_, h.shape(), h.dtype(), ctx_.device());
    d.copy_from(ctx_, h);
  };
  upload(host.warped, out.warped);
  upload(host.target, out.target);
  upload(host.mask, out.mask);
  upload(host.eyes_mouth, out.eyes_mouth);
}

void SaehdTrainStep::build_batches(const std::vector<int32_t>& src_indices, const std::vector<int32_t>& dst_indices) {
  check_window();
  build_batch(*banks_.src, src_aug_, src_indices, src_host_, src_batch_, banks_.src_colour);
  build_batch(*banks_.dst, dst_aug_, dst_indices, dst_host_, dst_batch_, nullptr);
}

bool SaehdTrainStep::update() {
  check_window();
  params_.zero_grad(ctx_);
  // Under mixed precision the masters are cast once here, not in every layer call. The copy goes
  // stale at opt_.step below, and the scope closes with this function, before any other forward.
  MasterCastScope casts(ctx_, params_);
  SaehdPredictions p =
      model_.train_forward(ctx_, src_batch_.warped, dst_batch_.warped, bg_style_ > 0, face_style_ > 0);
  SaehdSideLoss ls = saehd_side_loss(ctx_, loss_cfg_, src_batch_.target, p.src_src.image, p.src_src.mask,
                                     src_batch_.mask, src_batch_.eyes_mouth);
  SaehdSideLoss ld = saehd_side_loss(ctx_, loss_cfg_, dst_batch_.target, p.dst_dst.image, p.dst_dst.mask,
                                     dst_batch_.mask, dst_batch_.eyes_mouth);
  // DFL adds the style terms to the src side's loss (and so to its logged value).
  if (face_style_ > 0)
    ls.total = add(ctx_, ls.total,
                   saehd_face_style_loss(ctx_, loss_cfg_.resolution, face_style_, p.src_dst_no_code_grad.image,
                                         p.src_dst_no_code_grad.mask, p.dst_dst.image, p.dst_dst.mask));
  if (bg_style_ > 0)
    ls.total = add(ctx_, ls.total,
                   saehd_bg_style_loss(ctx_, loss_cfg_, bg_style_, p.src_dst.image, dst_batch_.target,
                                       src_batch_.mask));
  Tensor objective = saehd_objective(ctx_, ls.total, ld.total);
  {
    // The logged losses (batch means, DFL's printed values) go to the device window: no sync.
    NoGradGuard ng(ctx_);
    win_src_.slice0(pending_, pending_ + 1).copy_from(ctx_, mean(ctx_, ls.total).view({1}));
    win_dst_.slice0(pending_, pending_ + 1).copy_from(ctx_, mean(ctx_, ld.total).view({1}));
  }
  ++pending_;
  if (each_step_) {
    const double o = objective.to_double(ctx_)[0];  // host memory on the CPU: no wait
    if (!std::isfinite(o)) {
      ctx_.tape().clear();  // drop the graph: no backward, no update
      ++skipped_since_read_;
      return false;
    }
  }
  backward(ctx_, objective);
  opt_.step(ctx_);
  return true;
}

SaehdTrainStep::Losses SaehdTrainStep::read_losses() {
  Losses l;
  if (pending_ > 0) {
    l.src = win_src_.slice0(0, pending_).to_float(ctx_);
    l.dst = win_dst_.slice0(0, pending_).to_float(ctx_);
  }
  l.skipped = skipped_since_read_;
  skipped_since_read_ = 0;
  if (!each_step_) {
    bool finite = true;
    for (size_t i = 0; i < l.src.size(); ++i) finite = finite && std::isfinite(l.src[i]) && std::isfinite(l.dst[i]);
    if (finite) {
      take_snapshot();
    } else {
      restore_snapshot();
      l.rolled_back = true;
      l.skipped = pending_;
    }
  }
  pending_ = 0;
  return l;
}

void SaehdTrainStep::take_snapshot() {
  const auto state = opt_.state_tensors();
  if (!snap_params_.defined()) {
    snap_params_ = params_.params().clone(ctx_);
    for (const auto& [name, t] : state)
      if (name != "iterations") snap_state_.push_back(t.clone(ctx_));
  } else {
    snap_params_.copy_from(ctx_, params_.params());
    size_t k = 0;
    for (const auto& [name, t] : state)
      if (name != "iterations") snap_state_[k++].copy_from(ctx_, t);
  }
  snap_opt_iter_ = opt_.iteration();
}

void SaehdTrainStep::restore_snapshot() {
  Tensor flat = params_.params();
  flat.copy_from(ctx_, snap_params_);
  size_t k = 0;
  for (auto& [name, t] : opt_.state_tensors())
    if (name != "iterations") {
      Tensor dst = t;
      dst.copy_from(ctx_, snap_state_[k++]);
    }
  opt_.set_iteration(snap_opt_iter_);
}

}  // namespace facet::models
