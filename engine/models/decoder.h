// SAEHD's Decoder (DeepFaceLab core/leras/archis/DeepFakeArchi.py, Decoder): two branches fed by
// the same code z, each ending in a sigmoid.
//   image: upscale_i + res_i, channels 8d, 4d, 2d (with `t`: 8d, 8d, 4d, 2d); head out_conv 1x1
//          2d->3, or with `d` four convs (out_conv 1x1, out_conv1..3 3x3, each 2d->3) concatenated
//          to 12 channels and depth_to_space(2) (DCR), so the last features sit at R/2.
//   mask:  upscalem_i only (no residual blocks), 8m, 4m, 2m (with `t`: 8m, 8m, 4m, 2m), plus one
//          more Upscale 2m->m with `d`; head out_convm 1x1 -> 1.
// Names follow DFL's ("upscale0/conv1/weight", "res0/conv2/bias", "out_convm/weight", ...).
#pragma once
#include <memory>
#include <vector>

#include "engine/models/saehd_options.h"
#include "engine/nn/layers.h"

namespace facet::models {

struct ImageAndMask {
  Tensor image;  // [N, R, R, 3] in (0, 1)
  Tensor mask;   // [N, R, R, 1] in (0, 1)
};

class Decoder : public nn::Module {
 public:
  Decoder(Context& ctx, int64_t in_ch, int64_t d_ch, int64_t d_mask_ch, const Archi& archi,
          const nn::LayerInit& init = {});
  // z [N, r, r, in_ch] (the Inter output, r = inter out res) -> image and mask at R.
  ImageAndMask forward(Context& ctx, const Tensor& z);
  ImageAndMask operator()(Context& ctx, const Tensor& z) { return forward(ctx, z); }

  std::vector<std::shared_ptr<nn::Upscale>> upscales, mask_upscales;
  std::vector<std::shared_ptr<nn::ResidualBlock>> res;
  std::shared_ptr<nn::Conv2d> out_conv, out_convm;
  std::vector<std::shared_ptr<nn::Conv2d>> out_convs_d;  // out_conv1..3, `d` only

 private:
  int64_t in_ch_;
  Archi archi_;
};

}  // namespace facet::models
