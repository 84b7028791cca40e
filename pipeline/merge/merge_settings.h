// Merge settings: every knob of DeepFaceLab's masked merger (merger/MergerConfig.py,
// MergerConfigMasked) with DFL's constructor defaults, their JSON form and their validation.
// Kept free of OpenCV and nlohmann types so bin/ and the frame loop can include it cheaply.
#pragma once
#include <cstdint>
#include <string>

namespace facet::merge {

// DFL mode_dict ids in comments; the JSON names are DFL's strings.
enum class MergeMode {
  Original = 0,           // "original": the frame unchanged
  Overlay = 1,            // "overlay" (default): frame*(1-m) + face*m
  HistMatch = 2,          // "hist-match": per-channel CDF match of the face to the dst face, then overlay
  Seamless = 3,           // "seamless": Poisson clone, then alpha blend again
  SeamlessHistMatch = 4,  // "seamless-hist-match": seamless, then hist-match of the re-extracted face
  RawRgb = 5,             // "raw-rgb": the predicted square pasted with no mask processing
  RawPredict = 6,         // "raw-predict": the R x R predicted face itself
};

// DFL mask_mode_dict ids 0-5 (the XSeg modes 6-9 need the XSeg network and are not offered).
enum class MaskMode {
  Full = 0,                  // "full"
  Dst = 1,                   // "dst": landmark hull of the dst face
  LearnedPrd = 2,            // "learned-prd"
  LearnedDst = 3,            // "learned-dst"
  LearnedPrdTimesDst = 4,    // "learned-prd*learned-dst" (default)
  LearnedPrdPlusDst = 5,     // "learned-prd+learned-dst" (clipped to 1)
  XSegPrd = 6,               // "XSeg-prd": the face segmenter on the predicted face
  XSegDst = 7,               // "XSeg-dst": the face segmenter on the dst face
  XSegPrdTimesDst = 8,       // "XSeg-prd*XSeg-dst"
  LearnedTimesXSeg = 9,      // "learned-prd*learned-dst*XSeg-prd*XSeg-dst"
};

// What a mask mode needs besides the frame: the model's learned masks, the face segmenter.
bool uses_learned_dst_mask(MaskMode m);
bool uses_xseg_prd_mask(MaskMode m);
bool uses_xseg_dst_mask(MaskMode m);

// DFL ctm_dict ids.
enum class ColorTransferMode {
  None = 0,   // "none"
  Rct = 1,    // "rct" (default): Reinhard in L*a*b*, statistics under the binarised face mask
  Lct = 2,    // "lct": linear transfer via covariance square roots ("pca")
  Mkl = 3,    // "mkl": Monge-Kantorovich linear
  MklM = 4,   // "mkl-m": mkl on mask-multiplied images
  Idt = 5,    // "idt": iterative distribution transfer
  IdtM = 6,   // "idt-m"
  SotM = 7,   // "sot-m": sliced optimal transport (10 steps, batch 30) on masked images
  MixM = 8,   // "mix-m": lct on L, sot on chroma, masked
};

enum class SharpenMode { None = 0, Box = 1, Gaussian = 2 };  // "none", "box", "gaussian"

struct MergeSettings {
  MergeMode mode = MergeMode::Overlay;
  MaskMode mask_mode = MaskMode::LearnedPrdTimesDst;
  ColorTransferMode color_transfer = ColorTransferMode::Rct;
  bool masked_hist_match = true;   // hist-match only: statistics inside the mask (outside = white)
  int hist_match_threshold = 238;  // 0..255; source CDF scaled by threshold instead of 255
  int erode_mask_modifier = 0;     // -400..400, in 4R mask pixels; negative dilates
  int blur_mask_modifier = 0;      // 0..400, Gaussian kernel size in 4R mask pixels
  int motion_blur_power = 0;       // 0..100, % of the face's motion (FaceMergeInputs::motion_power)
  int output_face_scale = 0;       // -50..50: face square scaled by 1 + 0.01*value about its centre
  SharpenMode sharpen_mode = SharpenMode::None;
  int blursharpen_amount = 0;      // -100..100; negative = median blur passes
  int image_denoise_power = 0;     // 0..500: median passes on the background frame
  int bicubic_degrade_power = 0;   // 0..100: frame downscaled by 1 - p/101 and back
  int color_degrade_power = 0;     // 0..100: blend with a 256-colour median-cut palette image
  uint64_t random_seed = 0;        // idt's rotations and sot's directions (DFL: unseeded numpy)

  bool operator==(const MergeSettings& o) const;
  bool operator!=(const MergeSettings& o) const { return !(*this == o); }
};

// Throws std::invalid_argument naming the first bad setting and its allowed range.
void validate(const MergeSettings& s);

// JSON object with DFL's names ("mode": "overlay", "mask_mode": "learned-prd*learned-dst",
// "color_transfer_mode": "rct", ...). to_json writes every key.
std::string to_json(const MergeSettings& s, int indent = 2);
// Missing keys keep their defaults; unknown keys, wrong types and out-of-range values throw
// std::invalid_argument with the key's name. Enum keys accept DFL's strings or DFL's integer ids.
MergeSettings merge_settings_from_json(const std::string& text);

std::string to_string(MergeMode m);
std::string to_string(MaskMode m);
std::string to_string(ColorTransferMode m);
std::string to_string(SharpenMode m);

}  // namespace facet::merge
