// One SAEHD training iteration on the device (see train_step.h).
#include "pipeline/train/train_step.h"

#include <cmath>

#include "engine/autograd/tape.h"
#include "engine/core/error.h"
#include "engine/ops/elementwise.h"
#include "engine/optim/parameter_buffer.h"

namespace facet::train {

namespace {

// DFL applies ct_mode (warped and target) and random_hsv_power (warped only) to src samples only
// (samplelib/SampleProcessor.py, SampleGeneratorFace.py). Neither changes how many random words a sample takes, so
// switching them on resume leaves the random stream (indices, geometry) where it was.
AugmentOptions side_augment(const ModelRecord& rec, bool src_side) {
  const TrainSettings s = pretrain_overrides(rec.settings);
  AugmentOptions a;
  a.resolution = rec.spec.net.resolution;
  a.output_dtype = DType::F32;  // targets feed the f32 loss; under bf16 compute the model casts its input
  // Colour transfer recolours input and target alike, so it stays on with --no-augment.
  a.rct = src_side && s.ct_mode == "rct";
  if (!s.augment) {
    // Identity geometry and no HSV jitter: the network input equals the target (the samples still
    // draw their parameters, so the random stream stays where an augmented run would have it).
    a.random_warp = false, a.random_flip = false;
    a.rotation_deg = 0, a.scale = 0, a.translation = 0;
    return a;
  }
  a.random_warp = s.random_warp;
  a.random_flip = src_side ? s.src_flip : s.dst_flip;
  a.hsv_power = src_side ? s.random_hsv_power : 0.0;
  return a;
}

}  // namespace

std::unique_ptr<Optimizer> make_optimizer(Context& ctx, ParameterBuffer& params, const std::string& name,
                                          const TrainSettings& settings) {
  const TrainSettings s = pretrain_overrides(settings);
  const OptimizerOptions base = dfl_options(s.lr, s.lr_dropout, s.clipgrad);
  if (name == "adabelief") {
    AdaBeliefOptions o;
    static_cast<OptimizerOptions&>(o) = base;
    return std::make_unique<AdaBelief>(ctx, params, o);
  }
  if (name == "adam") {
    AdamOptions o;
    static_cast<OptimizerOptions&>(o) = base;
    return std::make_unique<Adam>(ctx, params, o);
  }
  if (name == "rmsprop") {
    RMSpropOptions o;
    static_cast<OptimizerOptions&>(o) = base;
    return std::make_unique<RMSprop>(ctx, params, o);
  }
  check_optimizer_name(name);
  return nullptr;
}

TrainStep::TrainStep(Context& ctx, const ModelRecord& rec, const HostFaces& src, const HostFaces& dst,
                     const TrainStepOptions& opt)
    : ctx_(ctx),
      rec_(rec),
      src_aug_(side_augment(rec, true)),
      dst_aug_(side_augment(rec, false)),
      src_sampler_(src.yaw, pretrain_overrides(rec.settings).uniform_yaw),
      dst_sampler_(dst.yaw, pretrain_overrides(rec.settings).uniform_yaw) {
  const int R = rec.spec.net.resolution;
  FACET_CHECK(src.resolution == R && dst.resolution == R, "training faces are decoded at ", src.resolution, "/",
              dst.resolution, " px but the model trains at ", R);
  loss_cfg_ = models::SaehdLossConfig::from_options(loss_options(rec));
  effective_ = pretrain_overrides(rec.settings);
  model_ = models::SaehdModel::create(ctx, rec.spec.net, nn::LayerInit{ctx.device(), DType::F32});
  params_ = std::make_unique<ParameterBuffer>(ctx, model_->parameters());
  opt_ = make_optimizer(ctx, *params_, rec.spec.optimizer, rec.settings);
  // DFL trains LIAE's inter_AB only with random warp on (its trainable-weights list, SAEHD
  // Model.py L335-338): without it (and so while pretraining) inter_AB keeps its weights.
  if (!effective_.random_warp && !models::parse_archi(rec.spec.net.archi).is_df()) {
    std::vector<Tensor> inter_ab;
    for (auto& [name, t] : model_->named_parameters())
      if (name.rfind("inter_AB/", 0) == 0) inter_ab.push_back(t);
    const auto [begin, end] = params_->range_of(inter_ab);
    opt_->freeze(begin, end);
  }
  src_bank_ = make_training_bank(ctx, src, true, opt.faces_on_host);
  dst_bank_ = make_training_bank(ctx, dst, true, opt.faces_on_host);
  if (!device_readable(src_bank_.placement) || !device_readable(dst_bank_.placement))
    host_ctx_ = std::make_unique<Context>(Device::cpu(), ctx.seed());
  if (src_aug_.options().rct) setup_colour_transfer(src, dst);
  window_ = std::max<int64_t>(1, opt.loss_window);
  win_src_ = Tensor::zeros(ctx, {window_}, DType::F32, ctx.device());
  win_dst_ = Tensor::zeros(ctx, {window_}, DType::F32, ctx.device());
  each_step_ = opt.nan_check == NanCheck::EachStep || (opt.nan_check == NanCheck::Auto && ctx.device().is_cpu());
  if (!each_step_) take_snapshot();
}

TrainStep::~TrainStep() = default;

// rct reads each src sample's partner face from a dst bank where the src batch is built. Both
// banks readable by the device (device or pinned memory: the normal cases) or both on the host:
// the dst bank itself. Otherwise a copy of the dst images (uint8, no masks: 3 of the 11 bytes a
// face pixel takes) goes where the src batch is built: to the host for a host src bank; for a
// device-readable src bank to device memory, else pinned memory, else src moves to the host too.
void TrainStep::setup_colour_transfer(const HostFaces& src, const HostFaces& dst) {
  const int64_t R = dst.resolution;
  if (device_readable(src_bank_.placement) == device_readable(dst_bank_.placement)) {
    src_ct_ = &dst_bank_.bank;
    return;
  }
  if (!device_readable(src_bank_.placement)) {
    ct_copy_ = FaceBank::from_u8(*host_ctx_, Device::cpu(), dst.bgr.data(), dst.size(), R);
    src_ct_ = &ct_copy_;
    return;
  }
  try {
    ct_copy_ = FaceBank::from_u8(ctx_, ctx_.device(), dst.bgr.data(), dst.size(), R);
    src_ct_ = &ct_copy_;
    return;
  } catch (const std::exception&) {
  }
  try {
    ct_copy_ = FaceBank::from_u8_mapped(ctx_, dst.bgr.data(), dst.size(), R);
    src_ct_ = &ct_copy_;
  } catch (const std::exception&) {
    src_bank_ = TrainingBank{};  // free the device copy first
    src_bank_ = make_host_training_bank(ctx_, src);
    src_ct_ = &dst_bank_.bank;
  }
}

void TrainStep::build_batch(const TrainingBank& tb, Augmenter& aug, const std::vector<int32_t>& idx,
                            AugmentedBatch& host, AugmentedBatch& out, const FaceBank* ct) {
  if (device_readable(tb.placement)) {
    aug.run(ctx_, tb.bank, idx, out, ct);
    return;
  }
  // Host bank: the same parameters the device path would draw (same seed and offset), computed on
  // the CPU, then uploaded (an asynchronous copy of a few MB; the GPU waits only for this).
  const uint64_t offset = ctx_.reserve_rng(augment_rng_words(static_cast<int64_t>(idx.size())));
  host_ctx_->set_rng_state(ctx_.seed(), offset);
  aug.run(*host_ctx_, tb.bank, idx, host, ct);
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

bool TrainStep::step(int64_t iteration) {
  FACET_CHECK(pending_ < window_, "TrainStep: ", pending_, " losses pending; call read_losses() first");
  const int64_t B = rec_.settings.batch;
  src_sampler_.next(ctx_, B, src_idx_);
  dst_sampler_.next(ctx_, B, dst_idx_);
  build_batch(src_bank_, src_aug_, src_idx_, src_host_, src_batch_, src_ct_);
  build_batch(dst_bank_, dst_aug_, dst_idx_, dst_host_, dst_batch_, nullptr);
  if (on_batch) on_batch(iteration, src_batch_, dst_batch_);

  params_->zero_grad(ctx_);
  // Under mixed precision the masters are cast once here, not in every layer call. The copy goes
  // stale at opt_->step below, and the scope closes with this function, before any other forward.
  MasterCastScope casts(ctx_, *params_);
  const double face_style = effective_.face_style_power, bg_style = effective_.bg_style_power;
  models::SaehdPredictions p =
      model_->train_forward(ctx_, src_batch_.warped, dst_batch_.warped, bg_style > 0, face_style > 0);
  models::SaehdSideLoss ls = models::saehd_side_loss(ctx_, loss_cfg_, src_batch_.target, p.src_src.image,
                                                     p.src_src.mask, src_batch_.mask, src_batch_.eyes_mouth);
  models::SaehdSideLoss ld = models::saehd_side_loss(ctx_, loss_cfg_, dst_batch_.target, p.dst_dst.image,
                                                     p.dst_dst.mask, dst_batch_.mask, dst_batch_.eyes_mouth);
  // DFL adds the style terms to the src side's loss (and so to its logged value).
  if (face_style > 0)
    ls.total = add(ctx_, ls.total,
                   models::saehd_face_style_loss(ctx_, loss_cfg_.resolution, face_style, p.src_dst_no_code_grad.image,
                                                 p.src_dst_no_code_grad.mask, p.dst_dst.image, p.dst_dst.mask));
  if (bg_style > 0)
    ls.total = add(ctx_, ls.total,
                   models::saehd_bg_style_loss(ctx_, loss_cfg_, bg_style, p.src_dst.image, dst_batch_.target,
                                               src_batch_.mask));
  Tensor objective = models::saehd_objective(ctx_, ls.total, ld.total);
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
  opt_->step(ctx_);
  return true;
}

TrainStep::Losses TrainStep::read_losses() {
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

void TrainStep::take_snapshot() {
  const auto state = opt_->state_tensors();
  if (!snap_params_.defined()) {
    snap_params_ = params_->params().clone(ctx_);
    for (const auto& [name, t] : state)
      if (name != "iterations") snap_state_.push_back(t.clone(ctx_));
  } else {
    snap_params_.copy_from(ctx_, params_->params());
    size_t k = 0;
    for (const auto& [name, t] : state)
      if (name != "iterations") snap_state_[k++].copy_from(ctx_, t);
  }
  snap_opt_iter_ = opt_->iteration();
}

void TrainStep::restore_snapshot() {
  Tensor flat = params_->params();
  flat.copy_from(ctx_, snap_params_);
  size_t k = 0;
  for (auto& [name, t] : opt_->state_tensors())
    if (name != "iterations") {
      Tensor dst = t;
      dst.copy_from(ctx_, snap_state_[k++]);
    }
  opt_->set_iteration(snap_opt_iter_);
}

}  // namespace facet::train
