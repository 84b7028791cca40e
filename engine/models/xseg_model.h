// The XSeg face segmenter (DeepFaceLab core/leras/models/XSeg.py, facelib/XSegNet.py): a U-Net
// that maps a face image [N,R,R,3] in [0,1] to one-channel mask logits [N,R,R,1].
//   ConvBlock    conv 3x3 (symmetric pad) -> FRN -> TLU
//   encoder      6 stages of 2, 2, 2, 3, 3, 3 ConvBlocks with b, 2b, 4b, 8b, 8b, 8b channels,
//                each followed by a BlurPool of 4, 3, 2, 2, 2, 2 taps (R -> R/64)
//   bottleneck   flatten -> Dense 512 -> Dense (R/64)^2 * 8b -> reshape (no activation, as DFL)
//   decoder      per stage an UpConvBlock (x2) to 4b (stages 5..2), 2b, b channels, concatenated
//                with the encoder stage's output (the skip), then the stage's ConvBlocks
//   out_conv     conv 3x3 to 1 channel: the logits; sigmoid gives the mask
// DFL's defaults: R = 256, b = 32, face type whole face; R must be a multiple of 64 here too.
// One difference: DFL's UpConvBlock is a 3x3 transposed convolution, stride 2; ours is a 3x3
// convolution to 4x the channels and a depth-to-space of 2 (the sub-pixel form of the same
// upsampling, the one DFL's SAEHD decoders use), so DFL's XSeg weights do not load into it.
// Parameter names follow DFL's ("conv01/conv/weight", "conv01/frn/weight", "conv01/tlu/tau",
// "dense1/weight", "up5/conv/weight", "uconv53/frn/bias", "out_conv/weight", ...).
#pragma once
#include <array>
#include <memory>
#include <string>
#include <vector>

#include "engine/nn/layers.h"

namespace facet::models {

struct XSegOptions {
  int resolution = 256;  // multiple of 64
  int base_channels = 32;
};
// Throws facet::Error naming the bad option.
void validate(const XSegOptions& opt);

// conv -> FRN -> TLU; `upsample` makes it DFL's UpConvBlock (x2, sub-pixel).
class XSegConvBlock : public nn::UnaryModule {
 public:
  XSegConvBlock(Context& ctx, int64_t in, int64_t out, bool upsample, const nn::LayerInit& init);
  Tensor forward(Context& ctx, const Tensor& x) override;

 private:
  std::shared_ptr<nn::Conv2d> conv_;
  Tensor frn_gamma_, frn_beta_, frn_eps_, tau_;
  bool upsample_;
};

class XSegModel : public nn::Module {
 public:
  XSegModel(Context& ctx, const XSegOptions& opt, const nn::LayerInit& init = {});
  const XSegOptions& options() const { return opt_; }

  // faces [N,R,R,3] in [0,1] -> logits [N,R,R,1]. pretrain zeroes the skips (DFL's pretrain mode).
  Tensor logits(Context& ctx, const Tensor& faces, bool pretrain = false);
  // sigmoid(logits): the mask in [0,1].
  Tensor mask(Context& ctx, const Tensor& faces);

 private:
  struct Stage {
    std::vector<std::shared_ptr<XSegConvBlock>> down, up;  // encoder blocks, decoder blocks
    std::shared_ptr<XSegConvBlock> upconv;
    Tensor blur;  // the BlurPool filter (a constant)
  };
  XSegOptions opt_;
  std::array<Stage, 6> stages_;
  std::shared_ptr<nn::Dense> dense1_, dense2_;
  std::shared_ptr<nn::Conv2d> out_conv_;
};

}  // namespace facet::models
