// The trainer's side of a SAEHD training iteration (see train_step.h).
#include "pipeline/train/train_step.h"

#include "engine/core/error.h"
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
      src_sampler_(src.yaw, pretrain_overrides(rec.settings).uniform_yaw),
      dst_sampler_(dst.yaw, pretrain_overrides(rec.settings).uniform_yaw) {
  const int R = rec.spec.net.resolution;
  FACET_CHECK(src.resolution == R && dst.resolution == R, "training faces are decoded at ", src.resolution, "/",
              dst.resolution, " px but the model trains at ", R);
  const TrainSettings effective = pretrain_overrides(rec.settings);
  model_ = models::SaehdModel::create(ctx, rec.spec.net, nn::LayerInit{ctx.device(), DType::F32});
  params_ = std::make_unique<ParameterBuffer>(ctx, model_->parameters());
  opt_ = make_optimizer(ctx, *params_, rec.spec.optimizer, rec.settings);
  // DFL trains LIAE's inter_AB only with random warp on (its trainable-weights list, SAEHD
  // Model.py L335-338): without it (and so while pretraining) inter_AB keeps its weights.
  if (!effective.random_warp && !models::parse_archi(rec.spec.net.archi).is_df()) {
    std::vector<Tensor> inter_ab;
    for (auto& [name, t] : model_->named_parameters())
      if (name.rfind("inter_AB/", 0) == 0) inter_ab.push_back(t);
    const auto [begin, end] = params_->range_of(inter_ab);
    opt_->freeze(begin, end);
  }
  models::SaehdTrainStepOptions so;
  so.loss = models::SaehdLossConfig::from_options(loss_options(rec));
  so.src_augment = side_augment(rec, true);
  so.dst_augment = side_augment(rec, false);
  so.face_style_power = effective.face_style_power;
  so.bg_style_power = effective.bg_style_power;
  so.nan_check = opt.nan_check;
  so.loss_window = opt.loss_window;
  src_bank_ = make_training_bank(ctx, src, true, opt.faces_on_host);
  dst_bank_ = make_training_bank(ctx, dst, true, opt.faces_on_host);
  if (so.src_augment.rct) setup_colour_transfer(src, dst);
  core_ = std::make_unique<models::SaehdTrainStep>(
      ctx, *model_, *params_, *opt_, models::SaehdTrainBanks{&src_bank_.bank, &dst_bank_.bank, src_ct_}, so);
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
    ct_copy_ = FaceBank::from_u8(ctx_, Device::cpu(), dst.bgr.data(), dst.size(), R);
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

bool TrainStep::step(int64_t iteration) {
  core_->check_window();  // before the samplers draw
  const int64_t B = rec_.settings.batch;
  src_sampler_.next(ctx_, B, src_idx_);
  dst_sampler_.next(ctx_, B, dst_idx_);
  core_->build_batches(src_idx_, dst_idx_);
  if (on_batch) on_batch(iteration, core_->src_batch(), core_->dst_batch());
  return core_->update();
}

}  // namespace facet::train
