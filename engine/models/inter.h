// SAEHD's Inter (DeepFaceLab core/leras/archis/DeepFakeArchi.py, Inter): the linear bottleneck
//   dense1 in -> ae_ch, dense2 ae_ch -> L*L*ae_out_ch (no activations), reshape to [L, L, ae_out_ch],
//   then Upscale(ae_out_ch -> ae_out_ch) unless `t`.   L = lowest_dense_res (R/16, or R/32 with `d`).
// DF uses one Inter (ae_out_ch = ae_dims); LIAE two, inter_AB and inter_B (ae_out_ch = 2*ae_dims).
//
// Layout: dense2's outputs are read as [L, L, C] (NHWC) where DFL reads them as (C, L, L), and
// dense1's inputs follow the encoder's (H, W, C) flattening; importing DFL weights permutes the
// rows of dense1/weight and the columns of dense2/weight and dense2/bias (docs/models.md).
#pragma once
#include <memory>

#include "engine/models/saehd_options.h"
#include "engine/nn/layers.h"

namespace facet::models {

class Inter : public nn::UnaryModule {
 public:
  Inter(Context& ctx, int64_t in_ch, int64_t ae_ch, int64_t ae_out_ch, int lowest_dense_res, const Archi& archi,
        const nn::LayerInit& init = {});
  // x [N, in_ch] -> [N, out_res, out_res, ae_out_ch] with out_res = 2L, or L with `t`.
  Tensor forward(Context& ctx, const Tensor& x) override;

  int64_t out_channels() const { return ae_out_ch_; }
  int out_res() const { return archi_.t ? lowest_ : 2 * lowest_; }

  std::shared_ptr<nn::Dense> dense1, dense2;
  std::shared_ptr<nn::Upscale> upscale1;  // null with `t`

 private:
  int64_t in_ch_, ae_out_ch_;
  int lowest_;
  Archi archi_;
};

}  // namespace facet::models
