// Training samples for the mask model: DeepFaceLab's XSeg sample generator
// (samplelib/SampleGeneratorFaceXSeg.py) on faces held in memory, plus occluder cut-outs.
// Per sample, from a face (BGR uint8 R x R) and its label (f32 R x R in [0,1]):
//   - 50%: a background from another face: that face, rotated up to 180 degrees and scaled and
//     shifted up to 10%, darkened by its own mask, shows through outside both masks, blended
//     with the face's own background at a random weight (DFL's c_mask blend);
//   - an occluder (50%, the issue DFL leaves to hand labels): a random polygon of 5 to 9 points
//     with a flat or striped random colour over part of the face, cut out of the label, so the
//     model learns that what covers the face is not face;
//   - DFL's random warp (a grid of 3, 5 or 9 points a side, interior points moved by up to a
//     quarter cell), then rotation +-10 degrees, scale +-5%, shift +-5%, horizontal flip (50%),
//     the same for image (replicate border) and label (zero border);
//   - colour: an HSV shift (50%) or random per-channel levels;
//   - one of sharpen, motion blur, Gaussian blur (25% each, kernel up to 5);
//   - downscale by up to 25% and back, nearest or linear (25%); JPEG at quality 10..75 (25%);
//   - the label binarised at 0.5.
// Every draw comes from a generator seeded by (seed, iteration, slot), so a sample is the same
// however batches are split across threads and whether the run was resumed.
#pragma once
#include <cstdint>
#include <vector>

#include <opencv2/core/mat.hpp>

namespace facet::mask {

struct MaskSampleSource {
  int resolution = 0;
  const uint8_t* bgr = nullptr;  // N * R * R * 3
  const float* label = nullptr;  // N * R * R
  int64_t count = 0;
};

// The face `index` augmented, as f32 BGR in [0,1] (R x R x 3) and its label (R x R, 0 or 1),
// written to `image` and `label` (each R * R * channels floats).
void augment_mask_sample(const MaskSampleSource& src, int64_t index, uint64_t seed, int64_t iteration, int slot,
                         float* image, float* label);

// The face and label un-augmented (previews, held-out evaluation).
void plain_mask_sample(const MaskSampleSource& src, int64_t index, float* image, float* label);

}  // namespace facet::mask
