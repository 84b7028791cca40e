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
  FACET_CHECK(warped_src.dtype() == warped_dst.dtype() && warped_src.device() == warped_dst.device(),
              "SAEHD train_forward: warped_src and warped_dst must share dtype and device, got ",
              dtype_name(warped_src.dtype()), " on ", warped_src.device().str(), " and ", dtype_name(warped_dst.dtype()),
              " on ", warped_dst.device().str());
  // Both sides as one batch [src; dst], cast once.
  SaehdPredictions p = forward_train(ctx, autocast(ctx, concat(ctx, {warped_src, warped_dst}, 0)), warped_src.dim(0),
                                     with_swap, with_style_swap);
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

// src and dst go through the shared encoder and inter as one batch (their rows never mix: every
// layer treats samples apart, and on the CPU the forward is batch-independent, so each side's
// result is bit-identical to running it alone); the gradients of the two halves add up in the
// shared weights as the two separate passes' did. decoder_src takes its src code and the swap
// codes in one batch too.
SaehdPredictions DFModel::forward_train(Context& ctx, const Tensor& warped, int64_t n_src, bool with_swap,
                                        bool with_style_swap) {
  const int64_t n_dst = warped.dim(0) - n_src;
  const Tensor codes = inter->forward(ctx, encoder->forward(ctx, warped));
  const std::vector<Tensor> code = split_rows(ctx, codes, {n_src, n_dst});
  SaehdPredictions p;
  p.dst_dst = decoder_dst->forward(ctx, code[1]);
  if (!with_swap && !with_style_swap) {
    p.src_src = decoder_src->forward(ctx, code[0]);
    return p;
  }
  // decoder_src on [src code; dst code (swap)] (= codes) and/or the dst code cut from the graph.
  std::vector<Tensor> in = {with_swap ? codes : code[0]};
  std::vector<int64_t> rows = {n_src};
  if (with_swap) rows.push_back(n_dst);
  if (with_style_swap) in.push_back(stop_gradient(code[1])), rows.push_back(n_dst);
  const ImageAndMask out = decoder_src->forward(ctx, in.size() == 1 ? in[0] : concat(ctx, in, 0));
  const std::vector<Tensor> image = split_rows(ctx, out.image, rows), mask = split_rows(ctx, out.mask, rows);
  p.src_src = {image[0], mask[0]};
  if (with_swap) p.src_dst = {image[1], mask[1]};
  if (with_style_swap) p.src_dst_no_code_grad = {image.back(), mask.back()};
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

// src and dst share the encoder and inter_AB, so both run them as one batch; inter_B sees dst
// only. The one decoder then renders every code of the step in one batch: src's concat(AB, AB),
// dst's concat(B, AB) and the swaps' concat(AB, AB). The code's second half is AB for every row,
// so it is the inter_AB output itself (plus the swap rows). Rows never mix (see DF above).
SaehdPredictions LIAEModel::forward_train(Context& ctx, const Tensor& warped, int64_t n_src, bool with_swap,
                                          bool with_style_swap) {
  const int64_t n_dst = warped.dim(0) - n_src;
  const Tensor e = encoder->forward(ctx, warped);
  const Tensor ab = inter_AB->forward(ctx, e);  // [src AB; dst AB]
  const std::vector<Tensor> ab_of = split_rows(ctx, ab, {n_src, n_dst});
  const Tensor dst_b = inter_B->forward(ctx, split_rows(ctx, e, {n_src, n_dst})[1]);
  std::vector<Tensor> first = {ab_of[0], dst_b}, second = {ab};
  std::vector<int64_t> rows = {n_src, n_dst};
  if (with_swap) first.push_back(ab_of[1]), second.push_back(ab_of[1]), rows.push_back(n_dst);
  if (with_style_swap) {
    const Tensor code = stop_gradient(ab_of[1]);
    first.push_back(code), second.push_back(code), rows.push_back(n_dst);
  }
  const Tensor codes = concat(ctx, {concat(ctx, first, 0), second.size() == 1 ? ab : concat(ctx, second, 0)}, -1);
  const ImageAndMask out = decoder->forward(ctx, codes);
  const std::vector<Tensor> image = split_rows(ctx, out.image, rows), mask = split_rows(ctx, out.mask, rows);
  SaehdPredictions p;
  p.src_src = {image[0], mask[0]};
  p.dst_dst = {image[1], mask[1]};
  size_t k = 2;
  if (with_swap) p.src_dst = {image[k], mask[k]}, ++k;
  if (with_style_swap) p.src_dst_no_code_grad = {image[k], mask[k]};
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
