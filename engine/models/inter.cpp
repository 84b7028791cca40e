// SAEHD Inter forward and construction (see inter.h).
#include "engine/models/inter.h"

#include "engine/core/error.h"
#include "engine/ops/layout.h"

namespace facet::models {

Inter::Inter(Context& ctx, int64_t in_ch, int64_t ae_ch, int64_t ae_out_ch, int lowest_dense_res, const Archi& archi,
             const nn::LayerInit& init)
    : in_ch_(in_ch), ae_out_ch_(ae_out_ch), lowest_(lowest_dense_res), archi_(archi) {
  const int64_t L = lowest_dense_res;
  dense1 = register_module("dense1", std::make_shared<nn::Dense>(ctx, in_ch, ae_ch, true, init));
  dense2 = register_module("dense2", std::make_shared<nn::Dense>(ctx, ae_ch, L * L * ae_out_ch, true, init));
  if (!archi.t) upscale1 = register_module("upscale1", std::make_shared<nn::Upscale>(ctx, ae_out_ch, ae_out_ch, 3, init));
}

Tensor Inter::forward(Context& ctx, const Tensor& x) {
  FACET_CHECK(x.rank() == 2 && x.dim(1) == in_ch_, "Inter: expected encoder features [N,", in_ch_, "], got ",
              shape_str(x.shape()), " (does the image resolution match the model's?)");
  Tensor h = dense2->forward(ctx, dense1->forward(ctx, x));
  h = reshape(ctx, h, {x.dim(0), lowest_, lowest_, ae_out_ch_});
  if (upscale1) h = upscale1->forward(ctx, h);
  return h;
}

}  // namespace facet::models
