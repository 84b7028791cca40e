// SAEHD's two wirings of Encoder / Inter / Decoder (DeepFaceLab models/Model_SAEHD/Model.py
// L278-312, L406-427; the blocks from core/leras/archis/DeepFakeArchi.py):
//   DF    encoder, inter (ae_out = A), decoder_src, decoder_dst (in = A)
//           src_code = inter(enc(src)), dst_code = inter(enc(dst))
//           src->src = decoder_src(src_code), dst->dst = decoder_dst(dst_code),
//           swap     = decoder_src(dst_code)
//   LIAE  encoder, inter_AB, inter_B (ae_out = 2A), one decoder (in = 4A); codes are concatenated
//         on the channel axis (last in NHWC, [first, second] as DFL's channel axis):
//           src code  = concat(AB(e_s), AB(e_s))     dst code = concat(B(e_d), AB(e_d))
//           swap code = concat(AB(e_d), AB(e_d))
// Children carry DFL's model-file names ("encoder", "inter", "inter_AB", "decoder_src", ...), so
// state-dict names read "encoder/down1/downs_0/conv1/weight", "decoder_src/res0/conv1/bias", ...
#pragma once
#include <memory>
#include <string>

#include "engine/models/decoder.h"
#include "engine/models/encoder.h"
#include "engine/models/inter.h"
#include "engine/models/saehd_options.h"

namespace facet::models {

struct SaehdPredictions {
  ImageAndMask src_src;  // warped_src reconstructed as src
  ImageAndMask dst_dst;  // warped_dst reconstructed as dst
  ImageAndMask src_dst;  // the swap of warped_dst (only when asked for)
  // The same swap with the dst code cut from the graph (DFL's pred_src_dst_no_code_grad, for
  // face_style_power): its gradient reaches the src decoder only. Only when asked for.
  ImageAndMask src_dst_no_code_grad;
};

class SaehdModel : public nn::Module {
 public:
  // Validates the options and builds DF or LIAE with parameters on init.device / init.dtype.
  static std::unique_ptr<SaehdModel> create(Context& ctx, const SaehdOptions& opt, const nn::LayerInit& init = {});

  const SaehdOptions& options() const { return opt_; }
  const Archi& archi() const { return archi_; }

  // DFL's training forward on two batches [N, R, R, 3] (N may differ between them). with_swap
  // adds the swap of warped_dst, reusing the dst encoding (DFL computes it for previews and the
  // style losses); with_style_swap adds src_dst_no_code_grad.
  // Mixed precision: with ctx.compute_dtype set, the batches are cast to it on entry and every
  // image and mask comes back in its input batch's dtype (f32 on a GPU), so the loss, DSSIM and
  // their reduction stay in the masters' precision; the layers in between run in the compute dtype.
  SaehdPredictions train_forward(Context& ctx, const Tensor& warped_src, const Tensor& warped_dst,
                                 bool with_swap = false, bool with_style_swap = false);
  ImageAndMask reconstruct_src(Context& ctx, const Tensor& x);
  ImageAndMask reconstruct_dst(Context& ctx, const Tensor& x);
  // The merge forward: dst faces rendered with the src identity.
  ImageAndMask swap(Context& ctx, const Tensor& dst);

  // The top-level children (DFL's model files) by name: encoder, inter / inter_AB, inter_B,
  // decoder_src, decoder_dst / decoder. Throws for an unknown name.
  nn::Module& part(const std::string& name) const;

 protected:
  explicit SaehdModel(const SaehdOptions& opt) : opt_(opt), archi_(parse_archi(opt.archi)) {}
  void check_images(const char* what, const Tensor& x) const;

  // The wirings, on inputs already checked and cast to the compute dtype. forward_train takes
  // both sides as one batch: warped = [warped_src (n_src rows); warped_dst].
  virtual SaehdPredictions forward_train(Context& ctx, const Tensor& warped, int64_t n_src, bool with_swap,
                                         bool with_style_swap) = 0;
  virtual ImageAndMask forward_src(Context& ctx, const Tensor& x) = 0;
  virtual ImageAndMask forward_dst(Context& ctx, const Tensor& x) = 0;
  virtual ImageAndMask forward_swap(Context& ctx, const Tensor& dst) = 0;

  SaehdOptions opt_;
  Archi archi_;
};

class DFModel : public SaehdModel {
 public:
  DFModel(Context& ctx, const SaehdOptions& validated_opt, const nn::LayerInit& init);

  std::shared_ptr<Encoder> encoder;
  std::shared_ptr<Inter> inter;
  std::shared_ptr<Decoder> decoder_src, decoder_dst;

 protected:
  SaehdPredictions forward_train(Context& ctx, const Tensor& warped, int64_t n_src, bool with_swap,
                                 bool with_style_swap) override;
  ImageAndMask forward_src(Context& ctx, const Tensor& x) override;
  ImageAndMask forward_dst(Context& ctx, const Tensor& x) override;
  ImageAndMask forward_swap(Context& ctx, const Tensor& dst) override;
};

class LIAEModel : public SaehdModel {
 public:
  LIAEModel(Context& ctx, const SaehdOptions& validated_opt, const nn::LayerInit& init);

  std::shared_ptr<Encoder> encoder;
  std::shared_ptr<Inter> inter_AB, inter_B;
  std::shared_ptr<Decoder> decoder;

 protected:
  SaehdPredictions forward_train(Context& ctx, const Tensor& warped, int64_t n_src, bool with_swap,
                                 bool with_style_swap) override;
  ImageAndMask forward_src(Context& ctx, const Tensor& x) override;
  ImageAndMask forward_dst(Context& ctx, const Tensor& x) override;
  ImageAndMask forward_swap(Context& ctx, const Tensor& dst) override;
};

}  // namespace facet::models
