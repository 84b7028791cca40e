// DF and LIAE wirings (see saehd_model.h).
#include "engine/models/saehd_model.h"

#include "engine/core/error.h"
#include "engine/ops/cast.h"
#include "engine/ops/elementwise.h"
#include "engine/ops/layout.h"

namespace facet::models {

namespace {

int64_t encoder_features(const SaehdOptions& o) {
  const int64_t r = encoder_out_res(o);
  return r * r * 8 * o.e_dims;
}

// Outputs back in the input batch's dtype (identity without a compute dtype).
ImageAndMask restore(Context& ctx, const ImageAndMask& p, DType dt) {
  if (!p.image.defined()) return p;
  return {cast_to(ctx, p.image, dt), cast_to(ctx, p.mask, dt)};
}

}  // namespace

std::unique_ptr<SaehdModel> SaehdModel::create(Context& ctx, const SaehdOptions& opt, const nn::LayerInit& init) {
  const SaehdOptions o = validated(opt);
  if (parse_archi(o.archi).is_df()) return std::make_unique<DFModel>(ctx, o, init);
  return std::make_unique<LIAEModel>(ctx, o, init);
}

nn::Module& SaehdModel::part(const std::string& name) const {
  std::string known;
  for (const auto& [n, m] : children()) {
    if (n == name) return *m;
    known += (known.empty() ? "" : ", ") + n;
  }
  throw Error(detail::concat("SAEHD ", archi_.str(), " has no part \"", name, "\" (parts: ", known, ")"));
}

void SaehdModel::check_images(const char* what, const Tensor& x) const {
  const int64_t R = opt_.resolution;
  FACET_CHECK(x.defined() && x.rank() == 4 && x.dim(1) == R && x.dim(2) == R && x.dim(3) == 3, "SAEHD ", what,
              ": expected images [N,", R, ",", R, ",3] for resolution ", R, ", got ",
              x.defined() ? shape_str(x.shape()) : std::string("an undefined tensor"));
}

SaehdPredictions SaehdModel::train_forward(Context& ctx, const Tensor& warped_src, const Tensor& warped_dst,
                                           bool with_swap, bool with_style_swap) {
  check_images("warped_src", warped_src);
  check_images("warped_dst", warped_dst);
  SaehdPredictions p =
      forward_train(ctx, autocast(ctx, warped_src), autocast(ctx, warped_dst), with_swap, with_style_swap);
  p.src_src = restore(ctx, p.src_src, warped_src.dtype());
  p.dst_dst = restore(ctx, p.dst_dst, warped_dst.dtype());
  p.src_dst = restore(ctx, p.src_dst, warped_dst.dtype());
  p.src_dst_no_code_grad = restore(ctx, p.src_dst_no_code_grad, warped_dst.dtype());
  return p;
}

ImageAndMask SaehdModel::reconstruct_src(Context& ctx, const Tensor& x) {
  check_images("src", x);
  return restore(ctx, forward_src(ctx, autocast(ctx, x)), x.dtype());
}

ImageAndMask SaehdModel::reconstruct_dst(Context& ctx, const Tensor& x) {
  check_images("dst", x);
  return restore(ctx, forward_dst(ctx, autocast(ctx, x)), x.dtype());
}

ImageAndMask SaehdModel::swap(Context& ctx, const Tensor& dst) {
  check_images("swap input", dst);
  return restore(ctx, forward_swap(ctx, autocast(ctx, dst)), dst.dtype());
}

// ---- DF ----

DFModel::DFModel(Context& ctx, const SaehdOptions& o, const nn::LayerInit& init) : SaehdModel(o) {
  encoder = register_module("encoder", std::make_shared<Encoder>(ctx, 3, o.e_dims, archi_, init));
  inter = register_module("inter", std::make_shared<Inter>(ctx, encoder_features(o), o.ae_dims, o.ae_dims,
                                                           lowest_dense_res(o), archi_, init));
  decoder_src = register_module("decoder_src",
                                std::make_shared<Decoder>(ctx, o.ae_dims, o.d_dims, o.d_mask_dims, archi_, init));
  decoder_dst = register_module("decoder_dst",
                                std::make_shared<Decoder>(ctx, o.ae_dims, o.d_dims, o.d_mask_dims, archi_, init));
}

SaehdPredictions DFModel::forward_train(Context& ctx, const Tensor& warped_src, const Tensor& warped_dst,
                                        bool with_swap, bool with_style_swap) {
  Tensor src_code = inter->forward(ctx, encoder->forward(ctx, warped_src));
  Tensor dst_code = inter->forward(ctx, encoder->forward(ctx, warped_dst));
  SaehdPredictions p;
  p.src_src = decoder_src->forward(ctx, src_code);
  p.dst_dst = decoder_dst->forward(ctx, dst_code);
  if (with_swap) p.src_dst = decoder_src->forward(ctx, dst_code);
  if (with_style_swap) p.src_dst_no_code_grad = decoder_src->forward(ctx, stop_gradient(dst_code));
  return p;
}

ImageAndMask DFModel::forward_src(Context& ctx, const Tensor& x) {
  return decoder_src->forward(ctx, inter->forward(ctx, encoder->forward(ctx, x)));
}

ImageAndMask DFModel::forward_dst(Context& ctx, const Tensor& x) {
  return decoder_dst->forward(ctx, inter->forward(ctx, encoder->forward(ctx, x)));
}

ImageAndMask DFModel::forward_swap(Context& ctx, const Tensor& dst) {
  return decoder_src->forward(ctx, inter->forward(ctx, encoder->forward(ctx, dst)));
}

// ---- LIAE ----

LIAEModel::LIAEModel(Context& ctx, const SaehdOptions& o, const nn::LayerInit& init) : SaehdModel(o) {
  encoder = register_module("encoder", std::make_shared<Encoder>(ctx, 3, o.e_dims, archi_, init));
  inter_AB = register_module("inter_AB", std::make_shared<Inter>(ctx, encoder_features(o), o.ae_dims, 2 * o.ae_dims,
                                                                 lowest_dense_res(o), archi_, init));
  inter_B = register_module("inter_B", std::make_shared<Inter>(ctx, encoder_features(o), o.ae_dims, 2 * o.ae_dims,
                                                               lowest_dense_res(o), archi_, init));
  decoder = register_module("decoder",
                            std::make_shared<Decoder>(ctx, 4 * o.ae_dims, o.d_dims, o.d_mask_dims, archi_, init));
}

SaehdPredictions LIAEModel::forward_train(Context& ctx, const Tensor& warped_src, const Tensor& warped_dst,
                                          bool with_swap, bool with_style_swap) {
  Tensor src_ab = inter_AB->forward(ctx, encoder->forward(ctx, warped_src));
  Tensor e_dst = encoder->forward(ctx, warped_dst);
  Tensor dst_b = inter_B->forward(ctx, e_dst);
  Tensor dst_ab = inter_AB->forward(ctx, e_dst);
  SaehdPredictions p;
  p.src_src = decoder->forward(ctx, concat(ctx, {src_ab, src_ab}, -1));
  p.dst_dst = decoder->forward(ctx, concat(ctx, {dst_b, dst_ab}, -1));
  if (with_swap) p.src_dst = decoder->forward(ctx, concat(ctx, {dst_ab, dst_ab}, -1));
  if (with_style_swap) {
    const Tensor code = stop_gradient(dst_ab);
    p.src_dst_no_code_grad = decoder->forward(ctx, concat(ctx, {code, code}, -1));
  }
  return p;
}

ImageAndMask LIAEModel::forward_src(Context& ctx, const Tensor& x) {
  Tensor ab = inter_AB->forward(ctx, encoder->forward(ctx, x));
  return decoder->forward(ctx, concat(ctx, {ab, ab}, -1));
}

ImageAndMask LIAEModel::forward_dst(Context& ctx, const Tensor& x) {
  Tensor e = encoder->forward(ctx, x);
  return decoder->forward(ctx, concat(ctx, {inter_B->forward(ctx, e), inter_AB->forward(ctx, e)}, -1));
}

ImageAndMask LIAEModel::forward_swap(Context& ctx, const Tensor& dst) {
  Tensor ab = inter_AB->forward(ctx, encoder->forward(ctx, dst));
  return decoder->forward(ctx, concat(ctx, {ab, ab}, -1));
}

}  // namespace facet::models
