// SAEHD Encoder forward and construction (see encoder.h).
#include "engine/models/encoder.h"

#include <algorithm>
#include <string>

#include "engine/core/error.h"
#include "engine/ops/layout.h"

namespace facet::models {

DownscaleBlock::DownscaleBlock(Context& ctx, int64_t in_ch, int64_t ch, int n_downscales, int64_t k,
                               const nn::LayerInit& init) {
  int64_t last = in_ch;
  for (int i = 0; i < n_downscales; ++i) {
    const int64_t cur = ch * std::min<int64_t>(int64_t{1} << i, 8);
    downs.push_back(register_module("downs_" + std::to_string(i), std::make_shared<nn::Downscale>(ctx, last, cur, k, init)));
    last = cur;
  }
}

Tensor DownscaleBlock::forward(Context& ctx, const Tensor& x) {
  Tensor h = x;
  for (auto& d : downs) h = d->forward(ctx, h);
  return h;
}

Encoder::Encoder(Context& ctx, int64_t in_ch, int64_t e_ch, const Archi& archi, const nn::LayerInit& init)
    : in_ch_(in_ch), e_ch_(e_ch), archi_(archi) {
  if (archi.t) {
    down1_ = register_module("down1", std::make_shared<nn::Downscale>(ctx, in_ch, e_ch, 5, init));
    res1_ = register_module("res1", std::make_shared<nn::ResidualBlock>(ctx, e_ch, 3, init));
    down2_ = register_module("down2", std::make_shared<nn::Downscale>(ctx, e_ch, e_ch * 2, 5, init));
    down3_ = register_module("down3", std::make_shared<nn::Downscale>(ctx, e_ch * 2, e_ch * 4, 5, init));
    down4_ = register_module("down4", std::make_shared<nn::Downscale>(ctx, e_ch * 4, e_ch * 8, 5, init));
    down5_ = register_module("down5", std::make_shared<nn::Downscale>(ctx, e_ch * 8, e_ch * 8, 5, init));
    res5_ = register_module("res5", std::make_shared<nn::ResidualBlock>(ctx, e_ch * 8, 3, init));
  } else {
    down_block_ = register_module("down1", std::make_shared<DownscaleBlock>(ctx, in_ch, e_ch, 4, 5, init));
  }
}

Tensor Encoder::forward(Context& ctx, const Tensor& x) {
  FACET_CHECK(x.rank() == 4 && x.dim(3) == in_ch_, "Encoder: expected NHWC images [N,H,W,", in_ch_, "], got ",
              shape_str(x.shape()));
  Tensor h;
  if (archi_.t) {
    h = res1_->forward(ctx, down1_->forward(ctx, x));
    h = down4_->forward(ctx, down3_->forward(ctx, down2_->forward(ctx, h)));
    h = res5_->forward(ctx, down5_->forward(ctx, h));
  } else {
    h = down_block_->forward(ctx, x);
  }
  h = reshape(ctx, h, {h.dim(0), -1});  // (H, W, C) order: see encoder.h
  if (archi_.u) h = pixel_norm(ctx, h, 1e-6);
  return h;
}

}  // namespace facet::models
