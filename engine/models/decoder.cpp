// SAEHD Decoder forward and construction (see decoder.h). Layers are registered in DFL's
// on_build order so the state dict lists them as DFL's weight files do.
#include "engine/models/decoder.h"

#include <string>

#include "engine/core/error.h"
#include "engine/ops/elementwise.h"
#include "engine/ops/layout.h"

namespace facet::models {

Decoder::Decoder(Context& ctx, int64_t in_ch, int64_t d, int64_t m, const Archi& archi, const nn::LayerInit& init)
    : in_ch_(in_ch), archi_(archi) {
  // (in, out) channels of the image and mask Upscales.
  std::vector<std::pair<int64_t, int64_t>> img, msk;
  if (archi.t) {
    img = {{in_ch, 8 * d}, {8 * d, 8 * d}, {8 * d, 4 * d}, {4 * d, 2 * d}};
    msk = {{in_ch, 8 * m}, {8 * m, 8 * m}, {8 * m, 4 * m}, {4 * m, 2 * m}};
  } else {
    img = {{in_ch, 8 * d}, {8 * d, 4 * d}, {4 * d, 2 * d}};
    msk = {{in_ch, 8 * m}, {8 * m, 4 * m}, {4 * m, 2 * m}};
  }
  for (size_t i = 0; i < img.size(); ++i)
    upscales.push_back(register_module("upscale" + std::to_string(i),
                                       std::make_shared<nn::Upscale>(ctx, img[i].first, img[i].second, 3, init)));
  for (size_t i = 0; i < img.size(); ++i)
    res.push_back(register_module("res" + std::to_string(i),
                                  std::make_shared<nn::ResidualBlock>(ctx, img[i].second, 3, init)));
  for (size_t i = 0; i < msk.size(); ++i)
    mask_upscales.push_back(register_module("upscalem" + std::to_string(i),
                                            std::make_shared<nn::Upscale>(ctx, msk[i].first, msk[i].second, 3, init)));
  out_conv = register_module("out_conv", std::make_shared<nn::Conv2d>(ctx, 2 * d, 3, 1, 1, true, init));
  if (archi.d) {
    for (int i = 1; i <= 3; ++i)
      out_convs_d.push_back(register_module("out_conv" + std::to_string(i),
                                            std::make_shared<nn::Conv2d>(ctx, 2 * d, 3, 3, 1, true, init)));
    const std::string name = "upscalem" + std::to_string(msk.size());
    mask_upscales.push_back(register_module(name, std::make_shared<nn::Upscale>(ctx, 2 * m, m, 3, init)));
    out_convm = register_module("out_convm", std::make_shared<nn::Conv2d>(ctx, m, 1, 1, 1, true, init));
  } else {
    out_convm = register_module("out_convm", std::make_shared<nn::Conv2d>(ctx, 2 * m, 1, 1, 1, true, init));
  }
}

ImageAndMask Decoder::forward(Context& ctx, const Tensor& z) {
  FACET_CHECK(z.rank() == 4 && z.dim(3) == in_ch_, "Decoder: expected a code [N,r,r,", in_ch_, "], got ",
              shape_str(z.shape()));
  Tensor x = z;
  for (size_t i = 0; i < upscales.size(); ++i) x = res[i]->forward(ctx, upscales[i]->forward(ctx, x));
  Tensor image;
  if (archi_.d) {
    // Sub-pixel (i, j) of the d2s output comes from conv number i*2+j (DCR order).
    std::vector<Tensor> heads = {out_conv->forward(ctx, x)};
    for (auto& c : out_convs_d) heads.push_back(c->forward(ctx, x));
    image = sigmoid(ctx, depth_to_space(ctx, concat(ctx, heads, -1), 2));
  } else {
    image = sigmoid(ctx, out_conv->forward(ctx, x));
  }
  Tensor mk = z;
  for (auto& u : mask_upscales) mk = u->forward(ctx, mk);
  return {image, sigmoid(ctx, out_convm->forward(ctx, mk))};
}

}  // namespace facet::models
