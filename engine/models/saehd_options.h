// SAEHD model options (DeepFaceLab models/Model_SAEHD/Model.py, on_initialize_options):
// the settings that fix the network's shape and loss, their validation, and named presets.
// Options are plain data; validated() is the one place that checks them, so the models, the loss
// and the stats functions can assume well-formed values (each calls validated() itself).
//
// Differences from DFL's prompts, on purpose: DFL silently rounds or clips bad values (resolution
// down to a multiple of 16/32, dims to their range, odd dims up to even); we reject them with an
// error naming the option and its allowed range, so a config file never means something else
// than it says. The `c` archi option (x*cos(x) activations) is not supported.
#pragma once
#include <string>
#include <vector>

namespace facet::models {

// The parsed archi string: "df" or "liae", optionally "-" and any of u, d, t.
struct Archi {
  enum class Type { DF, LIAE };
  Type type = Type::LIAE;
  bool u = false;  // pixel_norm on the flattened encoder output
  bool d = false;  // decoder works at R/2 and ends in four convs + depth_to_space; Inter at R/32
  bool t = false;  // deeper encoder (5 downscales + 2 residual blocks) and decoder (4 ups)
  bool is_df() const { return type == Type::DF; }
  bool is_liae() const { return type == Type::LIAE; }
  std::string str() const;  // canonical form, e.g. "liae-ud" (options in u, d, t order)
};

// Throws facet::Error for anything but df / liae with an optional "-" and a non-empty set of
// u, d, t (repeats allowed, as DFL allows them).
Archi parse_archi(const std::string& archi);

struct SaehdOptions {
  int resolution = 128;             // 64..512, a multiple of 16 (32 with `d` or `t`)
  std::string face_type = "f";      // h, mf, f, wf, head (does not change the network)
  std::string archi = "liae-ud";
  int ae_dims = 256;                // 32..1024
  int e_dims = 64;                  // 16..256, even
  int d_dims = 64;                  // 16..256, even
  int d_mask_dims = 0;              // 16..256, even; 0 = default_d_mask_dims(d_dims)
  bool masked_training = true;      // DFL only asks for wf/head; it defaults on for every face type
  bool eyes_mouth_prio = false;
  // Not a DFL option: lowers the minimum of ae/e/d/mask dims to 2 so unit tests and the CPU demo
  // can build toy networks. Presets other than `tiny` leave it off.
  bool allow_small_dims = false;
};

// DFL's default mask-decoder width: d_dims / 3 rounded up to even (64 -> 22), raised to the
// smallest allowed value (16, or 2 with allow_small_dims) as DFL clips its prompt to 16..256.
int default_d_mask_dims(int d_dims, bool allow_small_dims = false);

// Checks every option (the error names the option, the value and the allowed range) and returns
// a copy with d_mask_dims resolved.
SaehdOptions validated(const SaehdOptions& opt);

// Presets by name (all validated, d_mask_dims resolved):
//   quick96  df-ud   96 px, ae 128, e 64, d 64, m 16  (DFL's Quick96 network)
//   saehd    liae-ud 128 px, 256/64/64/22             (DFL SAEHD defaults)
//   df128    df-ud   128 px, 256/64/64/22             (the benchmark config)
//   tiny     df-ud   64 px, ae 64, e 16, d 16, m 8    (CPU-friendly: 3.16M parameters, 0.78 GFLOP
//                                                      per training image; tests and the demo)
SaehdOptions saehd_preset(const std::string& name);
std::vector<std::string> saehd_preset_names();

// Geometry implied by validated options (DeepFakeArchi.py):
int encoder_out_res(const SaehdOptions& opt);   // R/16, or R/32 with `t`
int lowest_dense_res(const SaehdOptions& opt);  // R/16, or R/32 with `d`
int inter_out_res(const SaehdOptions& opt);     // 2 * lowest_dense_res, or lowest_dense_res with `t`
int decoder_in_channels(const SaehdOptions& opt);  // ae_dims (DF) or 4 * ae_dims (LIAE)

}  // namespace facet::models
