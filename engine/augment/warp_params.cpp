// Host side of the augmentation parameters: options -> generator config, and thin wrappers over
// the shared generator in kernels/cpu/augment.h (the CUDA path runs the same code on the device).
#include "engine/augment/warp_params.h"

#include "engine/core/error.h"

namespace facet {

aug::GenConfig gen_config(const AugmentOptions& o) {
  FACET_CHECK(o.resolution >= 1, "augment: resolution must be positive, got ", o.resolution);
  FACET_CHECK(o.scale > -1.0, "augment: scale range must be > -1 (1/(1+s) is the lower bound), got ", o.scale);
  FACET_CHECK(o.rotation_deg >= 0 && o.translation >= 0 && o.hsv_power >= 0,
              "augment: rotation, translation and hsv_power must be >= 0");
  aug::GenConfig c;
  c.out_res = o.resolution;
  c.random_flip = o.random_flip;
  c.random_warp = o.random_warp;
  c.grid_aliased = o.dfl_grid_aliasing;
  c.remap_zero_border = o.dfl_remap_zero_border;
  c.rotation_deg = o.rotation_deg;
  c.scale_range = o.scale;
  c.translation = o.translation;
  c.hsv_power = o.hsv_power;
  return c;
}

std::vector<aug::SampleParams> gen_warp_params(uint64_t seed, uint64_t offset, int64_t count,
                                               const AugmentOptions& opts) {
  std::vector<aug::SampleParams> p(static_cast<size_t>(count));
  cpu::augment_gen_params(seed, offset, count, gen_config(opts), p.data());
  return p;
}

void draw_rct_partners(uint64_t seed, uint64_t offset, int64_t count, int64_t ct_count, std::vector<int32_t>& out) {
  FACET_CHECK(ct_count >= 1 && ct_count <= INT32_MAX, "augment: rct needs a non-empty dst face set");
  out.resize(static_cast<size_t>(count));
  for (int64_t b = 0; b < count; ++b)
    out[b] = aug::rand_below(seed, offset + static_cast<uint64_t>(b) * aug::kWordsPerSample + 15,
                             static_cast<uint32_t>(ct_count));
}

std::vector<int32_t> draw_rct_partners(uint64_t seed, uint64_t offset, int64_t count, int64_t ct_count) {
  std::vector<int32_t> r;
  draw_rct_partners(seed, offset, count, ct_count, r);
  return r;
}

aug::SampleParams identity_warp_params(int resolution) {
  FACET_CHECK(resolution >= 1, "identity_warp_params: resolution must be positive");
  aug::SampleParams p{};
  const int64_t P = aug::param_res(resolution);
  aug::set_regular_grid(&p, P, static_cast<int32_t>(P / 2));
  p.grid_points = 0;  // no warp
  aug::set_affine(&p, P, 0.0, 1.0, 0.0, 0.0);
  return p;
}

void set_warp_affine(aug::SampleParams& p, int resolution, double rotation_deg, double scale, double tx, double ty) {
  aug::set_affine(&p, aug::param_res(resolution), rotation_deg, scale, tx, ty);
}

}  // namespace facet
