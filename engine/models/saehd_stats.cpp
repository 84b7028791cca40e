// Layer lists of the SAEHD parts (mirroring encoder.cpp, inter.cpp, decoder.cpp) and the sums
// over them (see saehd_stats.h).
#include "engine/models/saehd_stats.h"

#include <algorithm>

#include "engine/core/error.h"

namespace facet::models {

namespace {

struct Builder {
  std::vector<LayerShape> layers;
  bool mask = false;
  void conv(const std::string& name, int64_t in, int64_t out, int64_t k, int64_t res) {
    layers.push_back({name, in, out, k, res, res, mask});
  }
  void dense(const std::string& name, int64_t in, int64_t out) { layers.push_back({name, in, out, 0, 1, 1, mask}); }
  // Upscale: conv k3 to 4*out at the input resolution.
  void upscale(const std::string& name, int64_t in, int64_t out, int64_t in_res) {
    conv(name + "/conv1", in, 4 * out, 3, in_res);
  }
  void res_block(const std::string& name, int64_t ch, int64_t res) {
    conv(name + "/conv1", ch, ch, 3, res);
    conv(name + "/conv2", ch, ch, 3, res);
  }
};

std::vector<LayerShape> encoder_layers(const SaehdOptions& o, const Archi& a) {
  Builder b;
  const int64_t e = o.e_dims;
  int64_t r = o.resolution;
  if (a.t) {
    b.conv("down1/conv1", 3, e, 5, r /= 2);
    b.res_block("res1", e, r);
    b.conv("down2/conv1", e, 2 * e, 5, r /= 2);
    b.conv("down3/conv1", 2 * e, 4 * e, 5, r /= 2);
    b.conv("down4/conv1", 4 * e, 8 * e, 5, r /= 2);
    b.conv("down5/conv1", 8 * e, 8 * e, 5, r /= 2);
    b.res_block("res5", 8 * e, r);
  } else {
    int64_t last = 3;
    for (int i = 0; i < 4; ++i) {
      const int64_t cur = e * std::min(1 << i, 8);
      b.conv("down1/downs_" + std::to_string(i) + "/conv1", last, cur, 5, r /= 2);
      last = cur;
    }
  }
  return b.layers;
}

std::vector<LayerShape> inter_layers(const SaehdOptions& o, const Archi& a) {
  Builder b;
  const int64_t er = encoder_out_res(o), L = lowest_dense_res(o);
  const int64_t out = a.is_df() ? o.ae_dims : 2 * o.ae_dims;
  b.dense("dense1", er * er * 8 * o.e_dims, o.ae_dims);
  b.dense("dense2", o.ae_dims, L * L * out);
  if (!a.t) b.upscale("upscale1", out, out, L);
  return b.layers;
}

std::vector<LayerShape> decoder_layers(const SaehdOptions& o, const Archi& a) {
  Builder b;
  const int64_t in = decoder_in_channels(o), d = o.d_dims, m = o.d_mask_dims;
  const int64_t r0 = inter_out_res(o);
  std::vector<std::pair<int64_t, int64_t>> img, msk;
  if (a.t) {
    img = {{in, 8 * d}, {8 * d, 8 * d}, {8 * d, 4 * d}, {4 * d, 2 * d}};
    msk = {{in, 8 * m}, {8 * m, 8 * m}, {8 * m, 4 * m}, {4 * m, 2 * m}};
  } else {
    img = {{in, 8 * d}, {8 * d, 4 * d}, {4 * d, 2 * d}};
    msk = {{in, 8 * m}, {8 * m, 4 * m}, {4 * m, 2 * m}};
  }
  int64_t r = r0;
  for (size_t i = 0; i < img.size(); ++i, r *= 2) b.upscale("upscale" + std::to_string(i), img[i].first, img[i].second, r);
  r = r0;
  for (size_t i = 0; i < img.size(); ++i) b.res_block("res" + std::to_string(i), img[i].second, r *= 2);
  const int64_t img_res = r;  // the last image features: R, or R/2 with `d`
  b.mask = true;
  r = r0;
  for (size_t i = 0; i < msk.size(); ++i, r *= 2) b.upscale("upscalem" + std::to_string(i), msk[i].first, msk[i].second, r);
  b.mask = false;
  b.conv("out_conv", 2 * d, 3, 1, img_res);
  if (a.d) {
    for (int i = 1; i <= 3; ++i) b.conv("out_conv" + std::to_string(i), 2 * d, 3, 3, img_res);
    b.mask = true;
    b.upscale("upscalem" + std::to_string(msk.size()), 2 * m, m, r);
    b.conv("out_convm", m, 1, 1, 2 * r);
  } else {
    b.mask = true;
    b.conv("out_convm", 2 * m, 1, 1, r);
  }
  return b.layers;
}

int64_t sum_params(const std::vector<LayerShape>& ls) {
  int64_t n = 0;
  for (const auto& l : ls) n += l.params();
  return n;
}

}  // namespace

std::vector<LayerShape> saehd_layer_shapes(const SaehdOptions& opt, const std::string& part) {
  const SaehdOptions o = validated(opt);
  const Archi a = parse_archi(o.archi);
  if (part == "encoder") return encoder_layers(o, a);
  if ((a.is_df() && part == "inter") || (a.is_liae() && (part == "inter_AB" || part == "inter_B")))
    return inter_layers(o, a);
  if (part == "decoder" || (a.is_df() && (part == "decoder_src" || part == "decoder_dst"))) return decoder_layers(o, a);
  throw Error(detail::concat("saehd_layer_shapes: SAEHD ", a.str(), " has no part \"", part, "\" (parts: encoder, ",
                             a.is_df() ? "inter, decoder_src, decoder_dst" : "inter_AB, inter_B, decoder", ")"));
}

SaehdParamCounts saehd_param_counts(const SaehdOptions& opt) {
  const SaehdOptions o = validated(opt);
  const Archi a = parse_archi(o.archi);
  SaehdParamCounts c;
  c.encoder = sum_params(encoder_layers(o, a));
  c.inter = sum_params(inter_layers(o, a));
  c.decoder = sum_params(decoder_layers(o, a));
  c.n_inters = a.is_df() ? 1 : 2;
  c.n_decoders = a.is_df() ? 2 : 1;
  c.total = c.encoder + c.n_inters * c.inter + c.n_decoders * c.decoder;
  return c;
}

SaehdFlops saehd_flops(const SaehdOptions& opt) {
  const SaehdOptions o = validated(opt);
  const Archi a = parse_archi(o.archi);
  SaehdFlops f;
  for (const auto& l : encoder_layers(o, a)) f.encoder += 2 * l.macs();
  for (const auto& l : inter_layers(o, a)) f.inter += 2 * l.macs();
  for (const auto& l : decoder_layers(o, a)) (l.mask_branch ? f.decoder_mask : f.decoder_image) += 2 * l.macs();
  f.inters_per_image = a.is_df() ? 1.0 : 1.5;
  f.forward_per_image = f.encoder + f.inters_per_image * f.inter + f.decoder_image + f.decoder_mask;
  f.training_per_image = 3 * f.forward_per_image;
  f.swap_per_image = f.encoder + f.inter + f.decoder_image + f.decoder_mask;
  return f;
}

}  // namespace facet::models
