// SAEHD's Encoder (DeepFaceLab core/leras/archis/DeepFakeArchi.py, Encoder): stride-2 k5 convs
// with leaky ReLU 0.1, flattened, then pixel_norm with the `u` option.
//   without `t`: down1 = DownscaleBlock of 4 Downscales: 3->e, e->2e, 2e->4e, 4e->8e  (R -> R/16)
//   with `t`:    down1 3->e, res1(e), down2 e->2e, down3 2e->4e, down4 4e->8e, down5 8e->8e, res5(8e)
//                                                                                 (R -> R/32)
// Parameter names follow DFL's variable names ("down1/downs_0/conv1/weight" without `t`,
// "down1/conv1/weight", "res1/conv1/weight", ... with `t`) so DFL weights can be mapped by name.
//
// Layout: activations are NHWC, so the flattened output is in (H, W, C) order where DFL's is
// (C, H, W). The Inter's first Dense is the only weight that sees this order (docs/models.md).
#pragma once
#include <memory>
#include <vector>

#include "engine/models/saehd_options.h"
#include "engine/nn/layers.h"

namespace facet::models {

// DFL's DownscaleBlock: n Downscales (k5 s2) with channels ch * min(2^i, 8), children downs_<i>.
class DownscaleBlock : public nn::UnaryModule {
 public:
  DownscaleBlock(Context& ctx, int64_t in_ch, int64_t ch, int n_downscales, int64_t k, const nn::LayerInit& init);
  Tensor forward(Context& ctx, const Tensor& x) override;
  std::vector<std::shared_ptr<nn::Downscale>> downs;
};

class Encoder : public nn::UnaryModule {
 public:
  Encoder(Context& ctx, int64_t in_ch, int64_t e_ch, const Archi& archi, const nn::LayerInit& init = {});
  // x [N, R, R, in_ch] -> [N, (R/16 or R/32)^2 * 8e], flattened in (H, W, C) order.
  Tensor forward(Context& ctx, const Tensor& x) override;

  int64_t out_channels() const { return e_ch_ * 8; }
  int out_res(int resolution) const { return resolution / (archi_.t ? 32 : 16); }

 private:
  int64_t in_ch_, e_ch_;
  Archi archi_;
  std::shared_ptr<DownscaleBlock> down_block_;                       // without `t`
  std::shared_ptr<nn::Downscale> down1_, down2_, down3_, down4_, down5_;  // with `t`
  std::shared_ptr<nn::ResidualBlock> res1_, res5_;
};

}  // namespace facet::models
