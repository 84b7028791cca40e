// Face-like banks for the engine's own benchmarks, which build without OpenCV (bench/): per face
// a smooth colour field inside an elliptical face mask over a smoother background, in the layout
// FaceBank::from_u8 takes. Deterministic in (count, resolution, seed). Code that needs real face
// structure (68 landmarks, masks drawn from them, identities to tell apart) uses the pipeline's
// cartoon faces, pipeline/train/synthetic_faces.h.
#pragma once
#include <cstdint>
#include <vector>

#include "engine/augment/augment.h"

namespace facet {

struct SyntheticBankPixels {
  int64_t count = 0, resolution = 0;
  std::vector<uint8_t> bgr;  // count * S * S * 3, row-major BGR
  std::vector<float> mask;   // count * S * S, the face ellipse, 0/1
  // A bank of these faces on `device`; the face mask serves as the eyes-mouth mask too.
  FaceBank to_bank(Context& ctx, Device device) const;
};

SyntheticBankPixels synthetic_bank_pixels(int64_t count, int64_t resolution, int seed);

// synthetic_bank_pixels(...).to_bank(ctx, device).
FaceBank synthetic_face_bank(Context& ctx, Device device, int64_t count, int64_t resolution, int seed);

}  // namespace facet
