// Per-sample augmentation parameters: DeepFaceLab's gen_warp_params (core/imagelib/warp.py
// L107-160) plus the HSV jitter draws, from the context's counter-based RNG. Sample b of a batch
// whose words start at `offset` is a pure function of (seed, offset + b * aug::kWordsPerSample),
// so a batch is reproducible from (seed, offset) alone, and the CUDA path (which generates the
// same parameters on the device with the same code, kernels/cpu/augment.h) agrees with the CPU.
//
// Drawn per sample, at P = max(w, 64) (DFL computes the parameters at 64 for smaller outputs):
//   rotation U(-r, r) degrees, scale U(1/(1+s), 1+s), tx, ty U(-t, t) * P pixels,
//   flip with p = 0.4 when enabled (randint(10) < 4),
//   warp cell P/2, P/4 or P/8 (3, 5 or 9 grid points per axis), interior grid points displaced
//   by truncnorm * 0.24 * cell (truncnorm: N(0,1) rejecting |x| > 2.5, divided by 2.5),
//   HSV (hsv_power a > 0): hue shift randint in [-h, h], h = max(1, int(180 a)), S and V += (U - 0.5) a.
//
// DFL's grid quirk: warp.py builds `mapy = mapx.T`, a numpy VIEW of mapx, so its in-place
// updates of mapx[1:-1,1:-1] and mapy[1:-1,1:-1] land in one buffer: DFL's x displacement at
// grid point (i,j) is n1[i][j] + n2[j][i] and its y displacement is the x displacement at (j,i)
// (std 0.130 cell, bound 0.48 cell, x and y coupled). The default follows the documented intent
// (independent x and y, std 0.092 cell, bound 0.24 cell); dfl_grid_aliasing = true reproduces
// DFL's actual field.
//
// DFL's other warp quirk: cv2.remap runs with its default BORDER_CONSTANT, so bicubic taps past
// the edge read 0 and the remapped image's last row/column comes out about half dark (the first
// about 9% bright); warpAffine's replicate border then smears those pixels outward. The default
// samples with a replicate border throughout; dfl_remap_zero_border = true multiplies the warped
// input by the in-range share of the remap's bicubic weights, which reproduces DFL's bands for a
// locally flat image (docs/augmentation.md).
#pragma once
#include <cstdint>
#include <vector>

#include "kernels/common/dtype.h"
#include "kernels/cpu/augment.h"

namespace facet {

struct AugmentOptions {
  int resolution = 0;                // w, the training resolution
  bool random_warp = true;           // random-warp grid on the warped input
  bool random_flip = false;          // DFL default: src false, dst true (set per side)
  double rotation_deg = 10, scale = 0.15, translation = 0.05;
  double hsv_power = 0;              // DFL random_hsv_power (src side), 0 = off
  bool rct = false;                  // rct colour transfer toward a dst face (src side)
  bool dfl_grid_aliasing = false;    // reproduce DFL's mapy = mapx.T view aliasing (see above)
  bool dfl_remap_zero_border = false;  // emulate cv2.remap's zero border in DFL's warped input
  DType output_dtype = DType::F32;   // F32 (CPU, CUDA), F64 (CPU), BF16 (CUDA)
};

aug::GenConfig gen_config(const AugmentOptions& opts);

// Philox words one batch of `batch` samples consumes (pass to Context::reserve_rng).
inline uint64_t augment_rng_words(int64_t batch) { return static_cast<uint64_t>(batch) * aug::kWordsPerSample; }

// Parameters of `count` samples drawn from words [offset, offset + augment_rng_words(count)).
std::vector<aug::SampleParams> gen_warp_params(uint64_t seed, uint64_t offset, int64_t count,
                                               const AugmentOptions& opts);

// The rct partner of each sample: uniform over `ct_count` faces from word 15 of its block
// (used when the caller does not pick the dst faces itself).
std::vector<int32_t> draw_rct_partners(uint64_t seed, uint64_t offset, int64_t count, int64_t ct_count);
// The same into `out` (resized; reuses its capacity, so a steady-state batch allocates nothing).
void draw_rct_partners(uint64_t seed, uint64_t offset, int64_t count, int64_t ct_count, std::vector<int32_t>& out);

// Hand-made parameters (tests, tools): the identity (no warp, flip or HSV; rotation 0, scale 1,
// no shift) at output resolution w, and the affine part replaced in place.
aug::SampleParams identity_warp_params(int resolution);
void set_warp_affine(aug::SampleParams& p, int resolution, double rotation_deg, double scale, double tx, double ty);

}  // namespace facet
