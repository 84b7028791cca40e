// Which faces go into each batch: DFL's IndexHost (core/mplib/__init__.py L9-43) — shuffled
// epochs without replacement, so every face is seen once per epoch — with the shuffles drawn
// from the context's counter-based Philox stream instead of numpy's global RNG. A sampler's
// whole state is three integers (where its current permutation's random words start, the
// position in it, the epoch number), so a checkpoint stores them and a resumed run draws exactly
// the batches an uninterrupted one would.
#pragma once
#include <cstdint>
#include <vector>

#include "engine/core/context.h"

namespace facet::train {

struct SamplerState {
  uint64_t perm_offset = 0;  // Philox word offset the current permutation was drawn from
  int64_t pos = 0;           // next position in the permutation
  int64_t epoch = -1;        // -1: no permutation drawn yet
  // uniform_yaw (face_sampler.h): the fields above pick the yaw bin, these walk each bin's faces.
  std::vector<SamplerState> in_bin;
};

class EpochSampler {
 public:
  explicit EpochSampler(int64_t count);  // faces in the set (>= 1)

  // The next `batch` indices. At the end of an epoch a new permutation is drawn from
  // ctx.reserve_rng(count), so a batch may straddle two epochs (as DFL's does).
  std::vector<int32_t> next(Context& ctx, int64_t batch);
  void next(Context& ctx, int64_t batch, std::vector<int32_t>& out);

  int64_t count() const { return count_; }
  const SamplerState& state() const { return st_; }
  // Restores a saved state (the permutation is recomputed from (ctx seed, perm_offset)).
  void restore(uint64_t seed, const SamplerState& st);

 private:
  void draw_permutation(uint64_t seed, uint64_t offset);
  int64_t count_;
  SamplerState st_;
  std::vector<int32_t> perm_;
};

// Fisher-Yates shuffle of 0..n-1 driven by Philox words [offset, offset + n) of `seed`.
std::vector<int32_t> philox_permutation(uint64_t seed, uint64_t offset, int64_t n);

}  // namespace facet::train
