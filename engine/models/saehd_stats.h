// Analytic accounting of SAEHD networks from their layer shapes: parameter counts per part and
// forward / training FLOPs per image, without building (or allocating) the model. The layer lists
// mirror encoder.cpp, inter.cpp and decoder.cpp one to one (names included), and the tests check
// them against real modules' parameters, so these numbers are the built model's.
//
// FLOP convention (one multiply-add = 2 FLOPs, as MFU is usually counted): FLOPs = 2 * MACs of convs and denses;
// biases, activations, pixel shuffles, pixel_norm and the loss are left out (< 1%). Training costs
// about 3x the forward (backward = data gradient + weight gradient).
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include "engine/models/saehd_options.h"

namespace facet::models {

struct LayerShape {
  std::string name;          // path inside its part, e.g. "upscale0/conv1" (parameters: name/weight, name/bias)
  int64_t in = 0, out = 0;   // channels (features for a dense)
  int64_t k = 0;             // kernel size; 0 = dense
  int64_t out_h = 1, out_w = 1;  // the conv's output size (1 x 1 for a dense)
  bool mask_branch = false;  // decoder layers of the mask branch
  int64_t params() const { return (k ? k * k * in * out : in * out) + out; }
  double macs() const { return static_cast<double>(k ? k * k : 1) * in * out * out_h * out_w; }
};

// Layers of one part: "encoder", "inter" (DF) / "inter_AB" / "inter_B" (LIAE, identical shapes),
// "decoder" (both DF decoders and the LIAE decoder have this shape). Options are validated.
std::vector<LayerShape> saehd_layer_shapes(const SaehdOptions& opt, const std::string& part);

struct SaehdParamCounts {
  int64_t encoder = 0;
  int64_t inter = 0;    // one Inter
  int64_t decoder = 0;  // one Decoder (image + mask branches)
  int n_inters = 1;     // DF 1, LIAE 2
  int n_decoders = 2;   // DF 2, LIAE 1
  int64_t total = 0;    // encoder + n_inters * inter + n_decoders * decoder
};
SaehdParamCounts saehd_param_counts(const SaehdOptions& opt);

struct SaehdFlops {
  // Forward FLOPs for one image through one copy of each part.
  double encoder = 0, inter = 0, decoder_image = 0, decoder_mask = 0;
  // Inters a training image passes through on average: DF 1; LIAE 1.5 (src uses inter_AB once,
  // dst uses inter_B and inter_AB).
  double inters_per_image = 1;
  double forward_per_image = 0;   // encoder + inters_per_image * inter + decoder_image + decoder_mask
  double training_per_image = 0;  // 3 * forward_per_image
  double swap_per_image = 0;      // the merge forward: encoder + one inter + one decoder
};
SaehdFlops saehd_flops(const SaehdOptions& opt);

}  // namespace facet::models
