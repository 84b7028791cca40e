// XSeg's U-Net (see xseg_model.h), built stage by stage from one table of DFL's sizes.
#include "engine/models/xseg_model.h"

#include "engine/core/error.h"
#include "engine/ops/cast.h"
#include "engine/ops/elementwise.h"
#include "engine/ops/layout.h"
#include "engine/ops/norm.h"
#include "engine/ops/pool_resize.h"

namespace facet::models {

namespace {
// Per encoder stage: ConvBlocks, channel multiple of b, BlurPool taps; the decoder's upconv
// of the stage below emits kUpMul[s] * b channels (XSeg.py's up5..up0).
constexpr int kBlocks[6] = {2, 2, 2, 3, 3, 3};
constexpr int kChMul[6] = {1, 2, 4, 8, 8, 8};
constexpr int kBlurTaps[6] = {4, 3, 2, 2, 2, 2};
constexpr int kUpMul[6] = {1, 2, 4, 4, 4, 4};
constexpr int kDenseWidth = 512;
}  // namespace

void validate(const XSegOptions& opt) {
  FACET_CHECK(opt.resolution >= 64 && opt.resolution % 64 == 0, "xseg: resolution ", opt.resolution,
              " must be a positive multiple of 64 (six halvings to the bottleneck)");
  FACET_CHECK(opt.base_channels >= 1 && opt.base_channels <= 256, "xseg: base channels ", opt.base_channels,
              " outside 1..256");
}

XSegConvBlock::XSegConvBlock(Context& ctx, int64_t in, int64_t out, bool upsample, const nn::LayerInit& init)
    : upsample_(upsample) {
  conv_ = register_module("conv", std::make_shared<nn::Conv2d>(ctx, in, upsample ? out * 4 : out, 3, 1, true, init));
  // leras FRNorm2D: weight ones, bias zeros, eps 1e-6; TLU: tau zeros.
  frn_gamma_ = Tensor::full(ctx, {out}, 1.0, init.dtype, init.device);
  frn_beta_ = Tensor::zeros(ctx, {out}, init.dtype, init.device);
  frn_eps_ = Tensor::full(ctx, {1}, 1e-6, init.dtype, init.device);
  tau_ = Tensor::zeros(ctx, {out}, init.dtype, init.device);
  // Children named as DFL's: <block>/frn/{weight,bias,eps}, <block>/tlu/tau.
  struct Holder : nn::Module {
    void add(const std::string& n, Tensor& t) { register_parameter(n, t); }
  };
  auto frn = std::make_shared<Holder>();
  frn->add("weight", frn_gamma_);
  frn->add("bias", frn_beta_);
  frn->add("eps", frn_eps_);
  auto tlu_params = std::make_shared<Holder>();
  tlu_params->add("tau", tau_);
  register_module("frn", frn);
  register_module("tlu", tlu_params);
}

Tensor XSegConvBlock::forward(Context& ctx, const Tensor& x) {
  Tensor h = conv_->forward(ctx, x);
  if (upsample_) h = pixel_shuffle(ctx, h, 2);
  h = filter_response_norm(ctx, h, autocast(ctx, frn_gamma_), autocast(ctx, frn_beta_), autocast(ctx, frn_eps_));
  return tlu(ctx, h, autocast(ctx, tau_));
}

XSegModel::XSegModel(Context& ctx, const XSegOptions& opt, const nn::LayerInit& init) : opt_(opt) {
  validate(opt);
  const int64_t b = opt.base_channels;
  int64_t in = 3;
  for (int s = 0; s < 6; ++s) {
    Stage& st = stages_[static_cast<size_t>(s)];
    const int64_t ch = kChMul[s] * b;
    for (int k = 0; k < kBlocks[s]; ++k) {
      const std::string name = "conv" + std::to_string(s) + std::to_string(k + 1);
      st.down.push_back(register_module(name, std::make_shared<XSegConvBlock>(ctx, in, ch, false, init)));
      in = ch;
    }
    st.blur = blur_pool_filter(ctx, kBlurTaps[s], ch, init.dtype, init.device);
  }
  const int64_t side = opt.resolution / 64, flat = side * side * kChMul[5] * b;
  dense1_ = register_module("dense1", std::make_shared<nn::Dense>(ctx, flat, kDenseWidth, true, init));
  dense2_ = register_module("dense2", std::make_shared<nn::Dense>(ctx, kDenseWidth, flat, true, init));
  // Decoder, deepest first (DFL registers up5, uconv53.. before up4): upconv from the stage
  // below (the bottleneck for stage 5) to kUpMul[s] * b, then the stage's blocks over the concat.
  for (int s = 5; s >= 0; --s) {
    Stage& st = stages_[static_cast<size_t>(s)];
    const int64_t below = s == 5 ? kChMul[5] * b : kChMul[s + 1] * b, up = kUpMul[s] * b, ch = kChMul[s] * b;
    st.upconv = register_module("up" + std::to_string(s), std::make_shared<XSegConvBlock>(ctx, below, up, true, init));
    int64_t cin = up + ch;
    for (int k = kBlocks[s]; k >= 1; --k) {
      const std::string name = "uconv" + std::to_string(s) + std::to_string(k);
      st.up.push_back(register_module(name, std::make_shared<XSegConvBlock>(ctx, cin, ch, false, init)));
      cin = ch;
    }
  }
  out_conv_ = register_module("out_conv", std::make_shared<nn::Conv2d>(ctx, b, 1, 3, 1, true, init));
}

Tensor XSegModel::logits(Context& ctx, const Tensor& faces, bool pretrain) {
  const int64_t R = opt_.resolution;
  FACET_CHECK(faces.defined() && faces.rank() == 4 && faces.dim(1) == R && faces.dim(2) == R && faces.dim(3) == 3,
              "xseg: expected faces [N,", R, ",", R, ",3], got ",
              faces.defined() ? shape_str(faces.shape()) : std::string("undefined"));
  std::array<Tensor, 6> skips;
  Tensor x = faces;
  for (size_t s = 0; s < 6; ++s) {
    for (auto& blk : stages_[s].down) x = blk->forward(ctx, x);
    skips[s] = x;
    x = blur_pool2d(ctx, x, autocast(ctx, stages_[s].blur));
  }
  const int64_t n = x.dim(0), side = x.dim(1), ch = x.dim(3);
  x = dense2_->forward(ctx, dense1_->forward(ctx, reshape(ctx, x, {n, side * side * ch})));
  x = reshape(ctx, x, {n, side, side, ch});
  for (int s = 5; s >= 0; --s) {
    Stage& st = stages_[static_cast<size_t>(s)];
    x = st.upconv->forward(ctx, x);
    Tensor skip = skips[static_cast<size_t>(s)];
    if (pretrain) skip = Tensor::zeros(ctx, skip.shape(), skip.dtype(), skip.device());
    x = concat(ctx, {x, skip}, 3);
    for (auto& blk : st.up) x = blk->forward(ctx, x);
  }
  return out_conv_->forward(ctx, x);
}

Tensor XSegModel::mask(Context& ctx, const Tensor& faces) { return sigmoid(ctx, logits(ctx, faces)); }

}  // namespace facet::models
