// Shuffled epochs from the Philox stream (see epoch_sampler.h).
#include "pipeline/train/epoch_sampler.h"

#include <numeric>

#include "engine/core/error.h"
#include "engine/core/random.h"

namespace facet::train {

std::vector<int32_t> philox_permutation(uint64_t seed, uint64_t offset, int64_t n) {
  std::vector<int32_t> p(static_cast<size_t>(n));
  std::iota(p.begin(), p.end(), 0);
  // Walks i = n-1 .. 1 and swaps with j uniform in [0, i] (32-bit multiply-shift, bias < 2^-32 * n).
  for (int64_t i = n - 1; i > 0; --i) {
    const uint64_t w = philox_word(seed, offset + static_cast<uint64_t>(i));
    const int64_t j = static_cast<int64_t>((w * static_cast<uint64_t>(i + 1)) >> 32);
    std::swap(p[static_cast<size_t>(i)], p[static_cast<size_t>(j)]);
  }
  return p;
}

EpochSampler::EpochSampler(int64_t count) : count_(count) {
  FACET_CHECK(count >= 1, "EpochSampler: a face set needs at least one face");
  FACET_CHECK(count < (int64_t{1} << 31), "EpochSampler: too many faces (", count, ")");
}

void EpochSampler::draw_permutation(uint64_t seed, uint64_t offset) {
  st_.perm_offset = offset;
  perm_ = philox_permutation(seed, offset, count_);
}

void EpochSampler::restore(uint64_t seed, const SamplerState& st) {
  FACET_CHECK(st.epoch < 0 || (st.pos >= 0 && st.pos <= count_), "EpochSampler: saved position ", st.pos,
              " outside a face set of ", count_, " (did the face set change?)");
  st_ = st;
  perm_.clear();
  if (st.epoch >= 0) draw_permutation(seed, st.perm_offset);
}

void EpochSampler::next(Context& ctx, int64_t batch, std::vector<int32_t>& out) {
  out.resize(static_cast<size_t>(batch));
  for (int64_t b = 0; b < batch; ++b) {
    if (st_.epoch < 0 || st_.pos >= count_) {
      draw_permutation(ctx.seed(), ctx.reserve_rng(static_cast<uint64_t>(count_)));
      st_.pos = 0;
      ++st_.epoch;
    }
    out[static_cast<size_t>(b)] = perm_[static_cast<size_t>(st_.pos++)];
  }
}

std::vector<int32_t> EpochSampler::next(Context& ctx, int64_t batch) {
  std::vector<int32_t> out;
  next(ctx, batch, out);
  return out;
}

}  // namespace facet::train
