// Which faces go into each batch, by either of DFL's two policies:
//   - shuffled epochs over the whole set (DFL IndexHost; epoch_sampler.h), the default;
//   - uniform_yaw (DFL SampleGeneratorFace L52-76, Index2DHost): the faces are put in 128 bins
//     of -yaw over linspace(-1.2, 1.2) rad (the first and last open-ended), empty bins dropped;
//     each sample takes a bin from a shuffled epoch over the bins, then the next face of that
//     bin's own shuffled epoch. Profiles then come up as often as frontal faces, however few
//     there are: what a set shot mostly from the front needs (DFL forces it in pretraining).
// Both draw their shuffles from the context's Philox stream, and the whole state (one
// SamplerState, with one nested state per bin for uniform_yaw) goes into the checkpoint, so a
// resumed run draws the same batches as one that never stopped.
#pragma once
#include <cstdint>
#include <vector>

#include "engine/core/context.h"
#include "pipeline/train/epoch_sampler.h"

namespace facet::train {

// DFL's yaw bins: the indices of the faces in each non-empty bin, ascending, bins by -yaw.
std::vector<std::vector<int32_t>> uniform_yaw_bins(const std::vector<float>& yaw);

class FaceSampler {
 public:
  // `yaw`: each face's yaw in radians (HostFaces::yaw); its size is the face count (>= 1).
  FaceSampler(const std::vector<float>& yaw, bool uniform_yaw);

  void next(Context& ctx, int64_t batch, std::vector<int32_t>& out);
  std::vector<int32_t> next(Context& ctx, int64_t batch);

  int64_t count() const { return count_; }
  bool uniform_yaw() const { return uniform_; }
  const std::vector<std::vector<int32_t>>& bins() const { return bins_; }  // uniform_yaw only
  SamplerState state() const;
  // Restores a saved state. Returns false, leaving the sampler as it was, when the state was
  // saved under the other policy or does not fit these faces' bins (the caller starts new epochs).
  bool restore(uint64_t seed, const SamplerState& st);

 private:
  int64_t count_;
  bool uniform_;
  EpochSampler all_;                       // whole-set epochs (the default policy)
  std::vector<std::vector<int32_t>> bins_;
  EpochSampler bin_picker_;                // uniform_yaw: epochs over the bins
  std::vector<EpochSampler> in_bin_;       // uniform_yaw: epochs over each bin's faces
  std::vector<int32_t> picks_, within_;    // scratch
};

}  // namespace facet::train
