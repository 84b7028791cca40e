// Face-like banks for benchmarks (see synthetic_bank.h).
#include "engine/augment/synthetic_bank.h"

#include <cmath>

namespace facet {

FaceBank SyntheticBankPixels::to_bank(Context& ctx, Device device) const {
  return FaceBank::from_u8(ctx, device, bgr.data(), count, resolution, mask.data(), mask.data());
}

SyntheticBankPixels synthetic_bank_pixels(int64_t count, int64_t resolution, int seed) {
  const int64_t n = count, s = resolution;
  SyntheticBankPixels p;
  p.count = n, p.resolution = s;
  p.bgr.assign(static_cast<size_t>(n * s * s * 3), 0);
  p.mask.assign(static_cast<size_t>(n * s * s), 0.f);
  for (int64_t k = 0; k < n; ++k)
    for (int64_t y = 0; y < s; ++y)
      for (int64_t x = 0; x < s; ++x) {
        const double u = (x - 0.5 * s) / (0.32 * s), v = (y - 0.55 * s) / (0.42 * s);
        const bool face = u * u + v * v < 1.0;
        p.mask[static_cast<size_t>((k * s + y) * s + x)] = face ? 1.f : 0.f;
        for (int c = 0; c < 3; ++c) {
          const double f = face ? 0.55 + 0.25 * std::sin(0.11 * x + 0.07 * y * (c + 1) + k + seed)
                                : 0.3 + 0.2 * std::cos(0.05 * x * (c + 1) + seed);
          p.bgr[static_cast<size_t>(((k * s + y) * s + x) * 3 + c)] = static_cast<uint8_t>(std::lround(255 * f));
        }
      }
  return p;
}

FaceBank synthetic_face_bank(Context& ctx, Device device, int64_t count, int64_t resolution, int seed) {
  return synthetic_bank_pixels(count, resolution, seed).to_bank(ctx, device);
}

}  // namespace facet
